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

/// Whether a text message may be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmsAllowance {
    /// Yes.
    Allowed,
    /// Not for this many seconds.
    Cooldown(u64),
    /// The hourly limit for the user or the number is reached.
    TooMany,
}

/// Whether a text may go now: `sent_for_user` texts to the user in the
/// last hour, the latest at `latest`, and `sent_to_phone` to the number
/// (whoever asked). The cooldown comes first, so a second click says how
/// long to wait rather than that the hour is used up. The number's own
/// count stops a phone being flooded from many accounts.
pub(crate) fn allowance(
    sent_for_user: u32,
    latest: Option<u64>,
    sent_to_phone: u32,
    policy: &crate::Policy,
    now: u64,
) -> SmsAllowance {
    let wait = latest.map_or(0, |latest| {
        (latest.saturating_add(policy.sms_resend_cooldown_seconds)).saturating_sub(now)
    });
    if wait > 0 {
        SmsAllowance::Cooldown(wait)
    } else if sent_for_user >= policy.sms_per_hour || sent_to_phone >= policy.sms_per_hour {
        SmsAllowance::TooMany
    } else {
        SmsAllowance::Allowed
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

    #[test]
    fn the_cooldown_is_said_first_then_the_hourly_limits() {
        let policy = crate::Policy::default();
        let (cool, hour) = (policy.sms_resend_cooldown_seconds, policy.sms_per_hour);
        assert_eq!(allowance(0, None, 0, &policy, 1_000), SmsAllowance::Allowed);
        assert_eq!(
            allowance(1, Some(1_000), 1, &policy, 1_000 + 10),
            SmsAllowance::Cooldown(cool - 10)
        );
        assert_eq!(
            allowance(hour, Some(1_000), hour, &policy, 1_000 + 1),
            SmsAllowance::Cooldown(cool - 1)
        );
        assert_eq!(
            allowance(1, Some(1_000), 1, &policy, 1_000 + cool),
            SmsAllowance::Allowed
        );
        let later = 1_000 + cool;
        assert_eq!(
            allowance(hour, Some(1_000), 0, &policy, later),
            SmsAllowance::TooMany
        );
        // The number's count holds whoever asks: many accounts, one phone.
        assert_eq!(
            allowance(0, None, hour, &policy, later),
            SmsAllowance::TooMany
        );
        assert_eq!(
            allowance(hour - 1, None, hour - 1, &policy, later),
            SmsAllowance::Allowed
        );
        // A latest send stamped in the future (clock skew between instances) waits, never wraps.
        assert_eq!(
            allowance(0, Some(u64::MAX), 0, &policy, later),
            SmsAllowance::Cooldown(u64::MAX - later)
        );
    }
}
