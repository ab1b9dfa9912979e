//! A generated one-time code, the check applied to a code a person typed, and
//! the grouping used to read a code aloud.

use std::fmt;

use crate::Digits;

/// A one-time code of 6 to 8 digits, leading zeros kept.
///
/// ```
/// use otp::{Code, Digits};
/// let code = Code::new(7_509_192, Digits::SEVEN);
/// assert_eq!(code.as_str(), "7509192");
/// assert_eq!(code.grouped(), "75 091 92");
/// assert_eq!(Code::new(42, Digits::SIX).as_str(), "000042");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Code {
    value: u32,
    text: String,
}

impl Code {
    /// The code whose numeric value is `value mod 10^digits`.
    pub fn new(value: u32, digits: Digits) -> Self {
        let value = value % digits.modulus();
        let text = format!("{value:0width$}", width = usize::from(digits.get()));
        Code { value, text }
    }

    /// The digits, zero-padded: what `oathtool` prints.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The numeric value.
    pub fn value(&self) -> u32 {
        self.value
    }

    /// The display form: `123 456`, `75 091 92` or `1234 5678`.
    pub fn grouped(&self) -> String {
        group_for_display(&self.text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A code is short-lived but still a credential: `Debug` does not show it.
impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({} digits, redacted)", self.text.len())
    }
}

/// Splits a code into groups that are easy to read aloud and to copy by eye:
/// 6 digits as `3 3`, 7 as `2 3 2`, 8 as `4 4`. Other lengths are returned as
/// they are.
///
/// ```
/// use otp::group_for_display;
/// assert_eq!(group_for_display("123456"), "123 456");
/// assert_eq!(group_for_display("7509192"), "75 091 92");
/// assert_eq!(group_for_display("12345678"), "1234 5678");
/// ```
pub fn group_for_display(code: &str) -> String {
    let sizes: &[usize] = match code.chars().count() {
        6 => &[3, 3],
        7 => &[2, 3, 2],
        8 => &[4, 4],
        _ => return code.to_owned(),
    };
    let mut chars = code.chars();
    sizes
        .iter()
        .map(|&n| chars.by_ref().take(n).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a typed code was refused before any comparison was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeFormatError {
    /// The code has more or fewer digits than the enrollment uses.
    #[error("the code must have {expected} digits, this one has {found} characters")]
    WrongLength {
        /// Digits the enrollment uses.
        expected: u8,
        /// Characters received.
        found: usize,
    },
    /// Something other than `0`-`9`.
    #[error("the code must contain only the digits 0-9")]
    NotADigit,
}

/// Parses a typed code strictly: exactly `digits` ASCII digits. Callers that
/// accept `123 456` remove the spaces first.
pub(crate) fn parse_entered(entered: &str, digits: Digits) -> Result<u32, CodeFormatError> {
    let expected = digits.get();
    let found = entered.chars().count();
    if found != usize::from(expected) {
        return Err(CodeFormatError::WrongLength { expected, found });
    }
    entered.bytes().try_fold(0u32, |acc, b| match b {
        b'0'..=b'9' => Ok(acc * 10 + u32::from(b - b'0')),
        _ => Err(CodeFormatError::NotADigit),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_reads_like_the_clinic_app() {
        assert_eq!(Code::new(123_456, Digits::SIX).grouped(), "123 456");
        assert_eq!(Code::new(7_509_192, Digits::SEVEN).grouped(), "75 091 92");
        assert_eq!(Code::new(12_345_678, Digits::EIGHT).grouped(), "1234 5678");
        assert_eq!(Code::new(5, Digits::SEVEN).grouped(), "00 000 05");
        assert_eq!(group_for_display("12345"), "12345");
        assert_eq!(group_for_display(""), "");
    }

    #[test]
    fn debug_hides_the_code() {
        assert_eq!(
            format!("{:?}", Code::new(123_456, Digits::SIX)),
            "Code(6 digits, redacted)"
        );
    }

    #[test]
    fn entered_codes_must_be_exactly_the_right_digits() {
        assert_eq!(parse_entered("012345", Digits::SIX), Ok(12_345));
        assert_eq!(
            parse_entered("12345", Digits::SIX),
            Err(CodeFormatError::WrongLength {
                expected: 6,
                found: 5
            })
        );
        assert_eq!(
            parse_entered("1234567", Digits::SIX),
            Err(CodeFormatError::WrongLength {
                expected: 6,
                found: 7
            })
        );
        for bad in ["12a456", "12 456", "-12345", "+12345", "１２３４５６"] {
            assert!(parse_entered(bad, Digits::SIX).is_err(), "{bad}");
        }
        assert_eq!(
            parse_entered("99999999", Digits::EIGHT),
            Ok(99_999_999),
            "the largest 8-digit code fits in u32"
        );
    }
}
