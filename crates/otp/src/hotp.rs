//! HOTP (RFC 4226): HMAC over a counter, dynamically truncated to 6-8 digits.
//! TOTP is HOTP with the counter derived from time.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

use crate::{Algorithm, Code, Digits, Secret};

/// An HMAC keyed once with the secret. Cloning it reuses the key schedule, so
/// checking three steps costs three messages, not three key setups.
#[derive(Clone)]
pub(crate) enum KeyedMac {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl KeyedMac {
    pub(crate) fn new(secret: &Secret, algorithm: Algorithm) -> Self {
        let key = secret.expose_bytes();
        // HMAC takes keys of any length, so `new_from_slice` cannot fail here;
        // `Mac::new_from_slice` only errs for fixed-key MACs.
        match algorithm {
            Algorithm::Sha1 => KeyedMac::Sha1(keyed(key)),
            Algorithm::Sha256 => KeyedMac::Sha256(keyed(key)),
            Algorithm::Sha512 => KeyedMac::Sha512(keyed(key)),
        }
    }

    /// The RFC 4226 truncated value for `counter`, before the decimal modulus.
    pub(crate) fn truncated(&self, counter: u64) -> u32 {
        let message = counter.to_be_bytes();
        match self {
            KeyedMac::Sha1(mac) => truncate(&finish(mac.clone(), &message)),
            KeyedMac::Sha256(mac) => truncate(&finish(mac.clone(), &message)),
            KeyedMac::Sha512(mac) => truncate(&finish(mac.clone(), &message)),
        }
    }
}

fn keyed<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> M {
    <M as hmac::digest::KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"))
}

fn finish<M: Mac>(mut mac: M, message: &[u8]) -> hmac::digest::Output<M> {
    mac.update(message);
    mac.finalize().into_bytes()
}

/// RFC 4226 section 5.3 dynamic truncation.
#[allow(clippy::indexing_slicing)]
fn truncate(digest: &[u8]) -> u32 {
    // In bounds: every digest here has at least 20 bytes, so the last byte
    // exists and `offset + 3 <= 15 + 3 < 20`.
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ])
}

/// A counter-based (RFC 4226) generator.
///
/// ```
/// use otp::{Algorithm, Digits, Hotp, Secret};
/// // RFC 4226 Appendix D, counter 0.
/// let secret = Secret::from_bytes(b"12345678901234567890".to_vec())?;
/// let hotp = Hotp::new(secret, Algorithm::Sha1, Digits::SIX);
/// assert_eq!(hotp.generate(0).as_str(), "755224");
/// assert_eq!(hotp.verify("287082", 0, 5)?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Hotp {
    mac: KeyedMac,
    algorithm: Algorithm,
    digits: Digits,
}

impl Hotp {
    /// A generator for `secret`.
    pub fn new(secret: Secret, algorithm: Algorithm, digits: Digits) -> Self {
        Hotp {
            mac: KeyedMac::new(&secret, algorithm),
            algorithm,
            digits,
        }
    }

    /// The code for `counter`.
    pub fn generate(&self, counter: u64) -> Code {
        Code::new(self.mac.truncated(counter), self.digits)
    }

    /// Checks `entered` against counters `next ..= next + look_ahead` (the
    /// resynchronisation window of RFC 4226 section 7.4) and returns the
    /// counter that matched; the caller stores `matched + 1` as the next
    /// counter. Each comparison runs in constant time.
    pub fn verify(
        &self,
        entered: &str,
        next: u64,
        look_ahead: u64,
    ) -> Result<u64, crate::VerifyError> {
        let candidate = crate::code::parse_entered(entered, self.digits)?;
        let last = next.saturating_add(look_ahead);
        crate::totp::find_match(&self.mac, self.digits, candidate, next, last, None)
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Digits per code.
    pub fn digits(&self) -> Digits {
        self.digits
    }
}

impl std::fmt::Debug for Hotp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hotp")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC4226_SECRET: &[u8] = b"12345678901234567890";

    /// RFC 4226 Appendix D: (counter, truncated decimal, HOTP value).
    const APPENDIX_D: [(u64, u32, &str); 10] = [
        (0, 1_284_755_224, "755224"),
        (1, 1_094_287_082, "287082"),
        (2, 137_359_152, "359152"),
        (3, 1_726_969_429, "969429"),
        (4, 1_640_338_314, "338314"),
        (5, 868_254_676, "254676"),
        (6, 1_918_287_922, "287922"),
        (7, 82_162_583, "162583"),
        (8, 673_399_871, "399871"),
        (9, 645_520_489, "520489"),
    ];

    fn rfc_hotp() -> Hotp {
        Hotp::new(
            Secret::from_bytes(RFC4226_SECRET.to_vec()).unwrap(),
            Algorithm::Sha1,
            Digits::SIX,
        )
    }

    #[test]
    fn rfc4226_appendix_d_truncation_and_codes() {
        let hotp = rfc_hotp();
        for (counter, truncated, code) in APPENDIX_D {
            assert_eq!(hotp.mac.truncated(counter), truncated, "counter {counter}");
            assert_eq!(hotp.generate(counter).as_str(), code, "counter {counter}");
        }
    }

    #[test]
    fn verify_finds_the_counter_within_look_ahead_only() {
        let hotp = rfc_hotp();
        assert_eq!(hotp.verify("520489", 5, 4).unwrap(), 9);
        assert!(hotp.verify("520489", 5, 3).is_err());
        assert!(
            hotp.verify("755224", 1, 10).is_err(),
            "counters below next are spent"
        );
    }
}
