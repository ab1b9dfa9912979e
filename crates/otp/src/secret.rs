//! The shared secret of an OTP enrollment: zeroed on drop, never printed,
//! compared in constant time.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::Algorithm;
use crate::base32::{self, Base32Error};

/// Longest secret accepted, in bytes. Far above any app's (SHA512 uses 64);
/// the bound keeps hostile input from costing memory.
const MAX_LEN: usize = 256;

/// Why bytes or text could not become a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The text was not base32.
    #[error("secret is not valid base32: {0}")]
    Base32(#[from] Base32Error),
    /// An empty secret would make every code predictable.
    #[error("secret is empty")]
    Empty,
    /// More than 256 bytes.
    #[error("secret is too long ({0} bytes, at most 256)")]
    TooLong(usize),
}

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomSourceError(getrandom::Error);

/// An HOTP/TOTP shared secret.
///
/// Its `Debug` output shows only the length, its memory is zeroed when it is
/// dropped, and `==` runs in constant time.
///
/// ```
/// use otp::{Algorithm, Secret};
/// let secret = Secret::generate(Algorithm::Sha256)?;
/// assert_eq!(secret.len(), 32);
/// assert_eq!(format!("{secret:?}"), "Secret(32 bytes, redacted)");
/// assert_eq!(Secret::from_base32(&secret.to_base32())?, secret);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps raw bytes (1 to 256 of them).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        let bytes = Zeroizing::new(bytes);
        match bytes.len() {
            0 => Err(SecretError::Empty),
            n if n > MAX_LEN => Err(SecretError::TooLong(n)),
            _ => Ok(Secret(bytes)),
        }
    }

    /// Decodes a base32 secret as people type it (see [`base32::decode`]).
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        Self::from_bytes(base32::decode(text)?)
    }

    /// A fresh secret from the operating system's random source, as long as
    /// the algorithm's output (20, 32 or 64 bytes).
    pub fn generate(algorithm: Algorithm) -> Result<Self, RandomSourceError> {
        let mut bytes = Zeroizing::new(vec![0u8; algorithm.default_secret_len()]);
        getrandom::fill(&mut bytes).map_err(RandomSourceError)?;
        Ok(Secret(bytes))
    }

    /// The raw bytes, for the HMAC key or for encryption at rest.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Upper-case base32 without padding, as apps expect.
    pub fn to_base32(&self) -> String {
        base32::encode(&self.0)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a secret holds at least one byte.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes, redacted)", self.0.len())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_slice().ct_eq(other.0.as_slice()))
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_bytes() {
        let secret = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("12345"), "{shown}");
        assert!(!shown.contains("GEZDGNBV"), "{shown}");
    }

    #[test]
    fn empty_and_oversized_secrets_are_refused() {
        assert_eq!(Secret::from_bytes(vec![]).unwrap_err(), SecretError::Empty);
        assert_eq!(Secret::from_base32("").unwrap_err(), SecretError::Empty);
        assert_eq!(
            Secret::from_bytes(vec![1; 257]).unwrap_err(),
            SecretError::TooLong(257)
        );
    }

    #[test]
    fn generated_secrets_have_the_algorithms_length_and_differ() {
        for algorithm in Algorithm::ALL {
            let a = Secret::generate(algorithm).unwrap();
            let b = Secret::generate(algorithm).unwrap();
            assert_eq!(a.len(), algorithm.default_secret_len());
            assert_ne!(a, b);
        }
    }
}
