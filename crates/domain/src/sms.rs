//! SMS security tokens: random, hashed at rest (argon2: six digits are too
//! few for a fast hash), 10 minutes, single use, 5 tries, a new one voids the
//! previous, 30 s between sends, at most 5 an hour per user and per number.

use crate::DomainError;

/// Sends a text message. Implemented in `delivery` (log, Twilio, webhook);
/// the domain only decides what to send and when, and the outbox retries.
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `text` to `to` (E.164). `key` is unique per message and the
    /// same on every retry: providers that deduplicate get it.
    async fn send(
        &self,
        key: &str,
        to: &str,
        text: &str,
    ) -> Result<crate::outbox::Receipt, crate::outbox::SendError>;
}

/// A stored SMS code.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsCode {
    /// argon2 PHC of the code.
    pub code_hash: String,
    /// The number it went to.
    pub phone: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub expires_at: u64,
    /// Wrong tries so far.
    pub tries: u32,
}

impl std::fmt::Debug for SmsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsCode")
            .field("expires_at", &self.expires_at)
            .field("tries", &self.tries)
            .finish_non_exhaustive()
    }
}

/// A uniformly random code of `digits` digits.
pub fn random_code(digits: u8) -> Result<String, DomainError> {
    let modulus = 10u32.pow(u32::from(digits));
    // Rejection sampling: values at or above the largest multiple of the
    // modulus would make low codes slightly more likely.
    let limit = u32::MAX - (u32::MAX % modulus);
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(|_| DomainError::RandomSource)?;
        let value = u32::from_le_bytes(bytes);
        if value < limit {
            return Ok(format!(
                "{:0width$}",
                value % modulus,
                width = usize::from(digits)
            ));
        }
    }
}

/// `+15555554321` as `•••• •••• 4321`: enough to recognise, not to harvest.
pub fn mask_phone(phone: &str) -> String {
    let tail: String = phone
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("•••• •••• {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_asked_length_and_vary() {
        for digits in 6..=8 {
            let code = random_code(digits).unwrap();
            assert_eq!(code.len(), usize::from(digits));
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
        let many: std::collections::HashSet<_> = (0..50).map(|_| random_code(6).unwrap()).collect();
        assert!(many.len() > 45);
    }

    #[test]
    fn phones_are_masked_to_the_last_four_digits() {
        assert_eq!(mask_phone("+15555554321"), "•••• •••• 4321");
        assert_eq!(mask_phone("12"), "•••• •••• 12");
    }
}
