//! Every security-relevant number in one place, with its default and why.

/// Limits, windows and lifetimes. `Policy::default()` is what DESIGN.md
/// prescribes; a deployment may tighten them in configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Users without a second factor must enroll before anything else.
    /// Default off until enrollment pages exist (issue #4).
    pub require_2fa: bool,
    /// TOTP steps accepted either side of now: ±1 covers network delay and
    /// small clock differences (RFC 6238 section 5.2).
    pub totp_window_steps: u32,
    /// How far a wrong code is searched to tell the user the phone's clock
    /// is off: ±10 minutes, beyond that it is not drift but a wrong code.
    pub drift_hint_seconds: u64,
    /// Wrong tokens that end one half-logged-in session.
    pub max_tokens_per_session: u32,
    /// Failures in `failure_window_seconds` that lock the second factor.
    pub lock_after_failures: u32,
    /// The window failures are counted in: 15 minutes.
    pub failure_window_seconds: u64,
    /// First lock length: 15 minutes, doubling on every repeat.
    pub lock_seconds: u64,
    /// Longest lock: 24 hours, so a locked-out clinician is back next day
    /// even if nobody unlocks them.
    pub max_lock_seconds: u64,
    /// Wrong passwords per account in the window before password attempts
    /// are refused for that account.
    pub password_failures_per_account: u32,
    /// Wrong passwords per IP address in the window.
    pub password_failures_per_ip: u32,
    /// A half-logged-in session (password ok, token pending) lives 5 minutes.
    pub pending_session_seconds: u64,
    /// Idle timeout: 30 minutes (HIPAA automatic logoff).
    pub idle_timeout_seconds: u64,
    /// Absolute session lifetime: 12 hours, one clinic day.
    pub absolute_timeout_seconds: u64,
    /// Remembered device lifetime: 30 days, as the checkbox says.
    pub remember_device_seconds: u64,
    /// An SMS code lives 10 minutes: long enough for a slow network.
    pub sms_code_seconds: u64,
    /// Wrong tries one SMS code survives.
    pub sms_tries: u32,
    /// Seconds between two SMS for one user: stops accidental double taps
    /// and pumping.
    pub sms_resend_cooldown_seconds: u64,
    /// SMS per hour per user and per number (SMS costs money and can be
    /// abused to flood a phone).
    pub sms_per_hour: u32,
    /// Shortest new password: 12 characters (NIST SP 800-63B allows 8; a
    /// clinic's records deserve more). Length is the only composition rule.
    pub password_min_length: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            require_2fa: false,
            totp_window_steps: 1,
            drift_hint_seconds: 600,
            max_tokens_per_session: 5,
            lock_after_failures: 10,
            failure_window_seconds: 15 * 60,
            lock_seconds: 15 * 60,
            max_lock_seconds: 24 * 60 * 60,
            password_failures_per_account: 10,
            password_failures_per_ip: 50,
            pending_session_seconds: 5 * 60,
            idle_timeout_seconds: 30 * 60,
            absolute_timeout_seconds: 12 * 60 * 60,
            remember_device_seconds: 30 * 24 * 60 * 60,
            sms_code_seconds: 10 * 60,
            sms_tries: 5,
            sms_resend_cooldown_seconds: 30,
            sms_per_hour: 5,
            password_min_length: 12,
        }
    }
}

impl Policy {
    /// Lock length after `previous_locks` earlier locks: doubling, capped.
    pub fn lock_length(&self, previous_locks: u32) -> u64 {
        let factor = 1u64.checked_shl(previous_locks.min(32)).unwrap_or(u64::MAX);
        self.lock_seconds
            .saturating_mul(factor)
            .min(self.max_lock_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_and_stop_at_the_cap() {
        let policy = Policy::default();
        assert_eq!(policy.lock_length(0), 900);
        assert_eq!(policy.lock_length(1), 1800);
        assert_eq!(policy.lock_length(2), 3600);
        assert_eq!(policy.lock_length(10), 86_400);
        assert_eq!(policy.lock_length(u32::MAX), 86_400);
    }

    #[test]
    fn never_more_than_100_failures_without_a_lock() {
        // NIST SP 800-63B 5.2.2.
        let policy = Policy::default();
        assert!(policy.lock_after_failures <= 100);
        assert!(policy.password_failures_per_account <= 100);
    }
}
