//! Validated OTP parameters: how many digits a code has and how long a TOTP
//! step lasts. Parsed once at the edge so the rest of the code cannot hold an
//! out-of-range value.

use std::fmt;

/// The bounds a parameter must respect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// Codes have 6, 7 or 8 digits (RFC 4226 requires at least 6; apps show at most 8).
    #[error("digits must be 6, 7 or 8, not {0}")]
    Digits(u64),
    /// A TOTP step lasts 1 to 3600 seconds.
    #[error("period must be 1 to 3600 seconds, not {0}")]
    Period(u64),
}

/// The number of digits in a code: 6, 7 or 8.
///
/// ```
/// use otp::Digits;
/// assert_eq!(Digits::new(7).unwrap().get(), 7);
/// assert!(Digits::new(9).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digits(u8);

impl Digits {
    /// Six digits, the default every app uses.
    pub const SIX: Digits = Digits(6);
    /// Seven digits.
    pub const SEVEN: Digits = Digits(7);
    /// Eight digits.
    pub const EIGHT: Digits = Digits(8);

    /// Checks that `n` is 6, 7 or 8.
    pub fn new(n: u64) -> Result<Self, ParamError> {
        match n {
            6..=8 => Ok(Digits(n as u8)),
            _ => Err(ParamError::Digits(n)),
        }
    }

    /// The number of digits.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// 10^digits: the modulus of the truncated HMAC value.
    pub(crate) const fn modulus(self) -> u32 {
        10u32.pow(self.0 as u32)
    }
}

impl Default for Digits {
    fn default() -> Self {
        Digits::SIX
    }
}

impl fmt::Display for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The length of one TOTP time step, 1 to 3600 seconds.
///
/// ```
/// use otp::Period;
/// assert_eq!(Period::DEFAULT.seconds(), 30);
/// assert!(Period::new(0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period(u32);

impl Period {
    /// Thirty seconds: RFC 6238's recommendation and every app's default.
    pub const DEFAULT: Period = Period(30);

    /// Checks that `seconds` is 1 to 3600.
    pub fn new(seconds: u64) -> Result<Self, ParamError> {
        match seconds {
            1..=3600 => Ok(Period(seconds as u32)),
            _ => Err(ParamError::Period(seconds)),
        }
    }

    /// The period in seconds.
    pub const fn seconds(self) -> u32 {
        self.0
    }
}

impl Default for Period {
    fn default() -> Self {
        Period::DEFAULT
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_accept_exactly_six_to_eight() {
        for n in [0, 1, 5, 9, 10, u64::MAX] {
            assert_eq!(Digits::new(n), Err(ParamError::Digits(n)));
        }
        for n in 6..=8 {
            assert_eq!(Digits::new(n).unwrap().get() as u64, n);
        }
    }

    #[test]
    fn period_accepts_one_second_to_one_hour() {
        for n in [0, 3601, u64::MAX] {
            assert_eq!(Period::new(n), Err(ParamError::Period(n)));
        }
        assert_eq!(Period::new(1).unwrap().seconds(), 1);
        assert_eq!(Period::new(3600).unwrap().seconds(), 3600);
    }
}
