//! Every security-relevant number in one place, with its default and why.

/// Limits, windows and lifetimes. `Policy::default()` is what docs/design.md
/// prescribes; a deployment may tighten them in configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Users without a second factor must enroll before anything else.
    /// Off by default: a practice turns it on for all (its policy page) or
    /// per person, and the deployment can force it (`require_2fa`).
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
    /// Wrong passwords per IP address in the window before that address's
    /// password checks are paced (never refused: see `lockout`).
    pub password_failures_per_ip: u32,
    /// Past `password_failures_per_ip`, one password check per this many
    /// seconds from the address.
    pub password_ip_pace_seconds: u64,
    /// A paced check that would wait longer is told to come back later.
    pub password_ip_max_wait_seconds: u64,
    /// A half-logged-in session (password ok, token pending) lives 5 minutes.
    pub pending_session_seconds: u64,
    /// Idle timeout: 30 minutes (HIPAA automatic logoff).
    pub idle_timeout_seconds: u64,
    /// Absolute session lifetime: 12 hours, one clinic day.
    pub absolute_timeout_seconds: u64,
    /// Remembered device lifetime: 30 days, as the checkbox says.
    pub remember_device_seconds: u64,
    /// A passkey alone may sign in (the practice's setting).
    pub allow_passkey_sign_in: bool,
    /// Administrators must finish logins with a passkey or security key.
    pub phishing_resistant_admins: bool,
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
    /// Text messages may be a second factor (a practice may forbid them:
    /// SMS is a restricted authenticator in NIST SP 800-63B).
    pub allow_sms: bool,
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
            password_ip_pace_seconds: 2,
            password_ip_max_wait_seconds: 30,
            pending_session_seconds: 5 * 60,
            idle_timeout_seconds: 30 * 60,
            absolute_timeout_seconds: 12 * 60 * 60,
            remember_device_seconds: 30 * 24 * 60 * 60,
            sms_code_seconds: 10 * 60,
            sms_tries: 5,
            sms_resend_cooldown_seconds: 30,
            sms_per_hour: 5,
            password_min_length: 12,
            allow_sms: true,
            allow_passkey_sign_in: true,
            phishing_resistant_admins: false,
        }
    }
}

/// What a practice's administrators set on `/admin/policy`. Stored with the
/// practice and read at every request, so a change applies at the next
/// request on every instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PracticePolicy {
    /// Everyone in the practice must use a second factor.
    pub require_2fa: bool,
    /// Text messages may be used as a second factor.
    pub allow_sms: bool,
    /// "Save token for N days": 0 hides the checkbox and ignores saved devices.
    pub remember_days: u32,
    /// Logged out after this many idle minutes (5 to 240).
    pub idle_timeout_minutes: u32,
    /// Shortest new password (from the deployment's floor to 64).
    pub password_min_length: u32,
    /// A passkey alone (discoverable, user-verified) may sign in.
    pub allow_passkey_sign_in: bool,
    /// Administrators must use a passkey or security key: codes no longer
    /// finish their logins.
    pub phishing_resistant_admins: bool,
}

impl Default for PracticePolicy {
    fn default() -> Self {
        PracticePolicy {
            require_2fa: false,
            allow_sms: true,
            remember_days: 30,
            idle_timeout_minutes: 30,
            password_min_length: 12,
            allow_passkey_sign_in: true,
            phishing_resistant_admins: false,
        }
    }
}

/// How a practice's pages speak, set on `/admin/policy` beside the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PracticeLocale {
    /// An IANA time zone name; empty: the server's.
    pub time_zone: String,
    /// The language for its staff whose browser asks for none we speak,
    /// and for messages to those who chose none; `None`: English.
    pub language: Option<i18n::Lang>,
}

impl PracticeLocale {
    /// The practice's time zone. A name the bundled database no longer
    /// knows falls back to the server's zone rather than failing every
    /// page and email.
    pub fn zone(&self) -> crate::time::Zone {
        crate::time::Zone::named(&self.time_zone).unwrap_or_else(|_| crate::time::Zone::server())
    }
}

/// Longest remembered-device period a practice may choose.
pub const MAX_REMEMBER_DAYS: u32 = 30;
/// Idle timeout range in minutes a practice may choose.
pub const IDLE_MINUTES: std::ops::RangeInclusive<u32> = 5..=240;
/// Longest minimum password length a practice may choose.
pub const MAX_PASSWORD_MIN_LENGTH: u32 = 64;

impl PracticePolicy {
    /// Every value out of its range, in the form's order, so a form can
    /// mark them all at once; `floor` is the deployment's shortest allowed
    /// password.
    pub fn problems(&self, floor: usize) -> Vec<crate::Reason> {
        use crate::Reason;
        let mut found = Vec::new();
        if self.remember_days > MAX_REMEMBER_DAYS {
            found.push(Reason::RememberDaysRange {
                max: MAX_REMEMBER_DAYS,
            });
        }
        if !IDLE_MINUTES.contains(&self.idle_timeout_minutes) {
            found.push(Reason::IdleTimeoutRange {
                min: *IDLE_MINUTES.start(),
                max: *IDLE_MINUTES.end(),
            });
        }
        let floor = u32::try_from(floor).unwrap_or(MAX_PASSWORD_MIN_LENGTH);
        if !(floor..=MAX_PASSWORD_MIN_LENGTH).contains(&self.password_min_length) {
            found.push(Reason::MinLengthRange {
                min: floor,
                max: MAX_PASSWORD_MIN_LENGTH,
            });
        }
        found
    }
}

impl Policy {
    /// The policy for one user: the deployment's, with the practice's
    /// settings and the user's own "2FA required" mark applied. The
    /// deployment's `require_2fa` and password floor cannot be lowered.
    pub fn for_user(&self, practice: &PracticePolicy, user_requires_2fa: bool) -> Policy {
        Policy {
            require_2fa: self.require_2fa || practice.require_2fa || user_requires_2fa,
            allow_sms: self.allow_sms && practice.allow_sms,
            allow_passkey_sign_in: practice.allow_passkey_sign_in,
            phishing_resistant_admins: practice.phishing_resistant_admins,
            remember_device_seconds: u64::from(practice.remember_days.min(MAX_REMEMBER_DAYS))
                * 24
                * 60
                * 60,
            idle_timeout_seconds: u64::from(
                practice
                    .idle_timeout_minutes
                    .clamp(*IDLE_MINUTES.start(), *IDLE_MINUTES.end()),
            ) * 60,
            password_min_length: self
                .password_min_length
                .max(practice.password_min_length as usize),
            ..self.clone()
        }
    }

    /// Whether only a passkey or security key may finish the logins of a
    /// user with `role`: the practice requires a phishing-resistant factor
    /// of its administrators (codes typed from an app, a text or a sheet
    /// can be relayed by a fake login page; a WebAuthn answer cannot).
    pub fn passkey_only(&self, role: crate::Role) -> bool {
        self.phishing_resistant_admins && role == crate::Role::Admin
    }

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
    fn a_practice_tightens_and_chooses_but_never_lowers_the_floor() {
        let deployment = Policy::default();
        let mut practice = PracticePolicy::default();
        let plain = deployment.for_user(&practice, false);
        assert!(!plain.require_2fa);
        assert!(plain.allow_sms);
        assert_eq!(plain.remember_device_seconds, 30 * 86_400);
        assert_eq!(plain.idle_timeout_seconds, 30 * 60);
        assert!(deployment.for_user(&practice, true).require_2fa);
        practice.require_2fa = true;
        practice.allow_sms = false;
        practice.remember_days = 0;
        practice.idle_timeout_minutes = 240;
        practice.password_min_length = 8;
        let strict = deployment.for_user(&practice, false);
        assert!(strict.require_2fa);
        assert!(!strict.allow_sms);
        assert_eq!(strict.remember_device_seconds, 0);
        assert_eq!(strict.idle_timeout_seconds, 240 * 60);
        assert_eq!(strict.password_min_length, 12, "the deployment floor holds");
        let forced = Policy {
            require_2fa: true,
            ..Policy::default()
        };
        assert!(
            forced
                .for_user(&PracticePolicy::default(), false)
                .require_2fa
        );
    }

    #[test]
    fn practice_values_outside_their_ranges_are_refused() {
        let ok = PracticePolicy::default();
        assert!(ok.problems(12).is_empty());
        for bad in [
            PracticePolicy {
                remember_days: 31,
                ..ok
            },
            PracticePolicy {
                idle_timeout_minutes: 4,
                ..ok
            },
            PracticePolicy {
                idle_timeout_minutes: 241,
                ..ok
            },
            PracticePolicy {
                password_min_length: 11,
                ..ok
            },
            PracticePolicy {
                password_min_length: 65,
                ..ok
            },
        ] {
            assert!(!bad.problems(12).is_empty(), "{bad:?}");
        }
        assert!(
            PracticePolicy {
                password_min_length: 8,
                ..ok
            }
            .problems(8)
            .is_empty()
        );
        // All three wrong: all three named, in the form's order.
        let fields: Vec<_> = PracticePolicy {
            remember_days: 99,
            idle_timeout_minutes: 0,
            password_min_length: 0,
            ..ok
        }
        .problems(12)
        .iter()
        .map(|r| r.field())
        .collect();
        assert_eq!(
            fields,
            [
                Some("remember-days"),
                Some("idle-minutes"),
                Some("min-length")
            ]
        );
    }

    #[test]
    fn never_more_than_100_failures_without_a_lock() {
        // NIST SP 800-63B 5.2.2.
        let policy = Policy::default();
        assert!(policy.lock_after_failures <= 100);
        assert!(policy.password_failures_per_account <= 100);
    }
}
