//! TOTP (RFC 6238): HOTP whose counter is the number of whole periods since
//! T0. Verification looks at a window of steps around "now" and skips every
//! step at or before the last one used, so a code works at most once.

use subtle::ConstantTimeEq;

use crate::hotp::KeyedMac;
use crate::{Algorithm, Code, CodeFormatError, Digits, Period, Secret};

/// How many steps before and after the current one a code may come from.
///
/// ```
/// use otp::Window;
/// assert_eq!(Window::ONE_STEP, Window::new(1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Steps accepted before the current one (the phone runs slow, or the
    /// user typed slowly).
    pub behind: u32,
    /// Steps accepted after the current one (the phone runs fast).
    pub ahead: u32,
}

impl Window {
    /// Only the current step.
    pub const EXACT: Window = Window::new(0, 0);
    /// The current step plus or minus one: the usual allowance for network
    /// delay and small clock differences.
    pub const ONE_STEP: Window = Window::new(1, 1);

    /// A window of `behind` earlier and `ahead` later steps. Verification
    /// costs one HMAC per step in the window.
    pub const fn new(behind: u32, ahead: u32) -> Self {
        Window { behind, ahead }
    }
}

/// A time that TOTP cannot map to a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// The time is before the enrollment's T0.
    #[error("time {time} is before T0 ({t0})")]
    BeforeT0 {
        /// The time asked about, in Unix seconds.
        time: u64,
        /// The enrollment's T0.
        t0: u64,
    },
}

/// Why a code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a well-formed code for this enrollment; no comparison was made.
    #[error(transparent)]
    Format(#[from] CodeFormatError),
    /// The code matches no step in the window.
    #[error("the code is not correct")]
    Mismatch,
    /// The code matches only steps at or before the last one used: a replay,
    /// or an older code after a newer one was accepted.
    #[error("the code has already been used")]
    AlreadyUsed,
    /// "Now" cannot be mapped to a step.
    #[error(transparent)]
    Time(#[from] TotpError),
}

/// A time-based (RFC 6238) generator and verifier for one enrollment.
///
/// ```
/// use otp::{Algorithm, Digits, Period, Secret, Totp, Window};
/// // RFC 6238 Appendix B, SHA1 at T = 59.
/// let secret = Secret::from_bytes(b"12345678901234567890".to_vec())?;
/// let totp = Totp::new(secret, Algorithm::Sha1, Digits::EIGHT, Period::DEFAULT);
/// assert_eq!(totp.generate(59)?.as_str(), "94287082");
/// assert_eq!(totp.step_at(59)?, 1);
/// // A code from the previous step is accepted within a one-step window.
/// assert_eq!(totp.verify("94287082", 75, Window::ONE_STEP, None)?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Totp {
    mac: KeyedMac,
    algorithm: Algorithm,
    digits: Digits,
    period: Period,
    t0: u64,
}

impl Totp {
    /// A TOTP for `secret` counting from the Unix epoch (T0 = 0).
    pub fn new(secret: Secret, algorithm: Algorithm, digits: Digits, period: Period) -> Self {
        Totp {
            mac: KeyedMac::new(&secret, algorithm),
            algorithm,
            digits,
            period,
            t0: 0,
        }
    }

    /// The same TOTP counting from `t0` (Unix seconds) instead of the epoch.
    pub fn with_t0(mut self, t0: u64) -> Self {
        self.t0 = t0;
        self
    }

    /// The step number at `unix_time`: whole periods since T0.
    pub fn step_at(&self, unix_time: u64) -> Result<u64, TotpError> {
        let elapsed = unix_time.checked_sub(self.t0).ok_or(TotpError::BeforeT0 {
            time: unix_time,
            t0: self.t0,
        })?;
        Ok(elapsed / u64::from(self.period.seconds()))
    }

    /// The code shown by an app at `unix_time`.
    pub fn generate(&self, unix_time: u64) -> Result<Code, TotpError> {
        Ok(self.generate_at_step(self.step_at(unix_time)?))
    }

    /// The code of a given step.
    pub fn generate_at_step(&self, step: u64) -> Code {
        Code::new(self.mac.truncated(step), self.digits)
    }

    /// Seconds until the code shown at `unix_time` changes (1 to period).
    ///
    /// ```
    /// # use otp::{Algorithm, Digits, Period, Secret, Totp};
    /// # let totp = Totp::new(Secret::from_base32("GEZDGNBV")?, Algorithm::Sha1, Digits::SIX, Period::DEFAULT);
    /// assert_eq!(totp.seconds_left(60), 30);
    /// assert_eq!(totp.seconds_left(89), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seconds_left(&self, unix_time: u64) -> u32 {
        let period = u64::from(self.period.seconds());
        let into = unix_time.saturating_sub(self.t0) % period;
        // `into < period <= 3600`, so the difference fits in u32.
        (period - into) as u32
    }

    /// Checks a typed code against the steps of `window` around `unix_time`,
    /// skipping every step at or before `last_used`. Returns the matched step,
    /// which the caller must store (with a compare-and-set) as the new
    /// `last_used` before accepting the login.
    ///
    /// Every step in the window is computed and compared in constant time,
    /// whether or not an earlier one matched.
    pub fn verify(
        &self,
        entered: &str,
        unix_time: u64,
        window: Window,
        last_used: Option<u64>,
    ) -> Result<u64, VerifyError> {
        let candidate = crate::code::parse_entered(entered, self.digits)?;
        let now = self.step_at(unix_time)?;
        let first = now.saturating_sub(u64::from(window.behind));
        let last = now.saturating_add(u64::from(window.ahead));
        find_match(&self.mac, self.digits, candidate, first, last, last_used)
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Digits per code.
    pub fn digits(&self) -> Digits {
        self.digits
    }

    /// Seconds per step.
    pub fn period(&self) -> Period {
        self.period
    }

    /// The time steps count from, in Unix seconds.
    pub fn t0(&self) -> u64 {
        self.t0
    }
}

impl std::fmt::Debug for Totp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Totp")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .field("t0", &self.t0)
            .finish_non_exhaustive()
    }
}

/// Compares `candidate` with the code of every counter in `first..=last` and
/// returns the latest unused match. Shared by HOTP and TOTP.
pub(crate) fn find_match(
    mac: &KeyedMac,
    digits: Digits,
    candidate: u32,
    first: u64,
    last: u64,
    last_used: Option<u64>,
) -> Result<u64, VerifyError> {
    let modulus = digits.modulus();
    let mut fresh: Option<u64> = None;
    let mut spent = false;
    for counter in first..=last {
        let expected = mac.truncated(counter) % modulus;
        if bool::from(expected.ct_eq(&candidate)) {
            if last_used.is_some_and(|used| counter <= used) {
                spent = true;
            } else {
                fresh = Some(counter);
            }
        }
    }
    match (fresh, spent) {
        (Some(step), _) => Ok(step),
        (None, true) => Err(VerifyError::AlreadyUsed),
        (None, false) => Err(VerifyError::Mismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    /// RFC 6238 Appendix B: all 18 rows (time, algorithm, 8-digit TOTP).
    const APPENDIX_B: [(u64, Algorithm, &str); 18] = [
        (59, Algorithm::Sha1, "94287082"),
        (59, Algorithm::Sha256, "46119246"),
        (59, Algorithm::Sha512, "90693936"),
        (1_111_111_109, Algorithm::Sha1, "07081804"),
        (1_111_111_109, Algorithm::Sha256, "68084774"),
        (1_111_111_109, Algorithm::Sha512, "25091201"),
        (1_111_111_111, Algorithm::Sha1, "14050471"),
        (1_111_111_111, Algorithm::Sha256, "67062674"),
        (1_111_111_111, Algorithm::Sha512, "99943326"),
        (1_234_567_890, Algorithm::Sha1, "89005924"),
        (1_234_567_890, Algorithm::Sha256, "91819424"),
        (1_234_567_890, Algorithm::Sha512, "93441116"),
        (2_000_000_000, Algorithm::Sha1, "69279037"),
        (2_000_000_000, Algorithm::Sha256, "90698825"),
        (2_000_000_000, Algorithm::Sha512, "38618901"),
        (20_000_000_000, Algorithm::Sha1, "65353130"),
        (20_000_000_000, Algorithm::Sha256, "77737706"),
        (20_000_000_000, Algorithm::Sha512, "47863826"),
    ];

    fn rfc_totp(algorithm: Algorithm) -> Totp {
        let seed = match algorithm {
            Algorithm::Sha1 => SEED_SHA1,
            Algorithm::Sha256 => SEED_SHA256,
            Algorithm::Sha512 => SEED_SHA512,
        };
        Totp::new(
            Secret::from_bytes(seed.to_vec()).unwrap(),
            algorithm,
            Digits::EIGHT,
            Period::DEFAULT,
        )
    }

    #[test]
    fn rfc6238_appendix_b_all_rows() {
        for (time, algorithm, expected) in APPENDIX_B {
            let totp = rfc_totp(algorithm);
            assert_eq!(
                totp.generate(time).unwrap().as_str(),
                expected,
                "{algorithm} at {time}"
            );
            assert_eq!(
                totp.verify(expected, time, Window::EXACT, None),
                Ok(time / 30)
            );
        }
    }

    #[test]
    fn rfc6238_step_values() {
        let totp = rfc_totp(Algorithm::Sha1);
        assert_eq!(totp.step_at(59).unwrap(), 0x1);
        assert_eq!(totp.step_at(1_111_111_109).unwrap(), 0x023523EC);
        assert_eq!(totp.step_at(20_000_000_000).unwrap(), 0x27BC86AA);
    }

    #[test]
    fn a_used_step_and_every_older_one_are_refused() {
        let totp = rfc_totp(Algorithm::Sha1);
        let now = 1_234_567_890;
        let step = totp.step_at(now).unwrap();
        let current = totp.generate(now).unwrap();
        let previous = totp.generate_at_step(step - 1);
        assert_eq!(
            totp.verify(current.as_str(), now, Window::ONE_STEP, None),
            Ok(step)
        );
        assert_eq!(
            totp.verify(current.as_str(), now, Window::ONE_STEP, Some(step)),
            Err(VerifyError::AlreadyUsed)
        );
        assert_eq!(
            totp.verify(previous.as_str(), now, Window::ONE_STEP, Some(step)),
            Err(VerifyError::AlreadyUsed),
            "an older code after a newer one was accepted"
        );
        let next = totp.generate_at_step(step + 1);
        assert_eq!(
            totp.verify(next.as_str(), now, Window::ONE_STEP, Some(step)),
            Ok(step + 1)
        );
    }

    #[test]
    fn t0_shifts_the_steps_and_times_before_it_are_errors() {
        let totp = rfc_totp(Algorithm::Sha1).with_t0(1_000);
        assert_eq!(totp.step_at(1_000).unwrap(), 0);
        assert_eq!(totp.step_at(1_059).unwrap(), 1);
        assert_eq!(
            totp.generate(999),
            Err(TotpError::BeforeT0 {
                time: 999,
                t0: 1_000
            })
        );
        assert_eq!(totp.generate(1_059).unwrap().as_str(), "94287082");
        assert!(matches!(
            totp.verify("94287082", 5, Window::ONE_STEP, None),
            Err(VerifyError::Time(_))
        ));
    }

    #[test]
    fn malformed_input_is_refused_before_any_comparison() {
        let totp = rfc_totp(Algorithm::Sha1);
        for bad in [
            "",
            "1234567",
            "123456789",
            "9428708x",
            "9428 7082",
            "９４２８７０８２",
        ] {
            assert!(
                matches!(
                    totp.verify(bad, 59, Window::ONE_STEP, None),
                    Err(VerifyError::Format(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_window_saturates_at_the_first_and_last_step() {
        let totp = rfc_totp(Algorithm::Sha1);
        assert_eq!(
            totp.verify("94287082", 0, Window::new(5, 5), None),
            Ok(1),
            "step 0 minus 5 does not underflow"
        );
        let big = Window::new(u32::MAX, 0);
        assert!(totp.verify("00000000", 10, big, None).is_err());
        // At the very last step the window's upper end does not overflow.
        let end = rfc_totp(Algorithm::Sha1);
        let _ = end.verify("00000000", u64::MAX, Window::new(0, 3), None);
    }

    fn any_algorithm() -> impl Strategy<Value = Algorithm> {
        prop_oneof![
            Just(Algorithm::Sha1),
            Just(Algorithm::Sha256),
            Just(Algorithm::Sha512)
        ]
    }

    proptest! {
        /// verify(generate(t)) succeeds exactly when t's step is inside the
        /// window around the verifying time. The only way a code from outside
        /// can pass is a genuine collision: a step inside the window whose
        /// code happens to be the same digits, which is then the step returned.
        #[test]
        fn verify_of_generate_succeeds_exactly_inside_the_window(
            key in proptest::collection::vec(any::<u8>(), 1..64),
            algorithm in any_algorithm(),
            digits in 6u64..=8,
            period in 1u64..=3600,
            generated_at in 0u64..4_000_000_000,
            offset_steps in -4i64..=4,
            behind in 0u32..=2,
            ahead in 0u32..=2,
        ) {
            let totp = Totp::new(
                Secret::from_bytes(key).unwrap(),
                algorithm,
                Digits::new(digits).unwrap(),
                Period::new(period).unwrap(),
            );
            let code = totp.generate(generated_at).unwrap();
            let generated_step = totp.step_at(generated_at).unwrap();
            let verify_at = generated_at.saturating_add_signed(offset_steps * period as i64);
            let now = totp.step_at(verify_at).unwrap();
            let inside = generated_step >= now.saturating_sub(u64::from(behind))
                && generated_step <= now + u64::from(ahead);
            let result = totp.verify(code.as_str(), verify_at, Window::new(behind, ahead), None);
            match result {
                Ok(step) => {
                    prop_assert!(step >= now.saturating_sub(u64::from(behind)) && step <= now + u64::from(ahead));
                    prop_assert_eq!(totp.generate_at_step(step), code.clone());
                    if !inside {
                        prop_assert_ne!(step, generated_step, "accepted from outside the window");
                    }
                }
                Err(error) => {
                    prop_assert_eq!(error, VerifyError::Mismatch);
                    prop_assert!(!inside, "refused a code from inside the window");
                }
            }
        }
    }
}
