//! Small helpers for the words pages say.

/// `n` with its noun in the right number: "1 attempt", "4 attempts".
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(count(1u32, "attempt", "attempts"), "1 attempt");
        assert_eq!(count(0u32, "attempt", "attempts"), "0 attempts");
        assert_eq!(count(4u64, "minute", "minutes"), "4 minutes");
    }
}

/// A time as the pages show it: in the practice's zone, with UTC on hover
/// (`title`) and for machines (`datetime`).
#[derive(Debug, Clone)]
pub struct When {
    /// `2026-12-07 08:15 CST`.
    pub local: String,
    /// `2026-12-07 14:15 UTC`.
    pub utc: String,
    /// `2026-12-07T14:15:00Z`.
    pub iso: String,
}

impl When {
    /// `unix` in `zone`.
    pub fn at(zone: &domain::time::Zone, unix: u64) -> When {
        When {
            local: zone.readable(unix),
            utc: domain::time::readable(unix),
            iso: domain::time::rfc3339(unix),
        }
    }
}

/// What an audit event's stable code means, in words (exports keep the
/// code). Unknown codes (from a newer version) are shown as they are.
pub fn event_words(code: &str) -> &str {
    domain::AuditKind::ALL
        .iter()
        .find(|kind| kind.as_str() == code)
        .map_or(code, |kind| words_of(*kind))
}

/// Exhaustive, so a new kind cannot be added without its words.
fn words_of(kind: domain::AuditKind) -> &'static str {
    use domain::AuditKind as K;
    match kind {
        K::PasswordLogin => "Password login",
        K::TotpToken => "Code from the authenticator app",
        K::Lock => "Locked after too many failures",
        K::Unlock => "Unlocked",
        K::Logout => "Logged out",
        K::Reset2fa => "Two-factor login reset",
        K::UserCreated => "Account created",
        K::TotpEnrolled => "Authenticator app linked",
        K::EnrollmentRequired => "Had to set up two-factor login",
        K::DeviceRemembered => "Browser remembered (Save token)",
        K::RememberedDeviceUsed => "Remembered browser used",
        K::RememberedDeviceTheft => "Copied remembered-browser cookie refused",
        K::PasswordChanged => "Password changed",
        K::SmsSent => "Code sent by text message",
        K::SmsToken => "Code from a text message",
        K::RecoveryCodeUsed => "Recovery code used",
        K::RecoveryCodesCreated => "New recovery codes made",
        K::DeviceRevoked => "Remembered browser revoked",
        K::Reauthenticated => "Password confirmed again",
        K::TwoFactorOff => "Two-factor login turned off",
        K::PhoneChanged => "Phone number changed",
        K::PasswordResetRequested => "Password reset requested",
        K::UserDeleted => "Account deleted",
        K::AuditPruned => "Old audit events removed",
        K::UserInvited => "Invitation sent",
        K::InvitationAccepted => "Invitation accepted",
        K::Require2fa => "Two-factor requirement changed",
        K::UserDisabled => "Account disabled",
        K::UserEnabled => "Account enabled",
        K::PolicyChanged => "Practice policy changed",
        K::EmergencyAccessIssued => "Emergency access link sent",
        K::EmergencyAccess => "Emergency access used",
        K::ApiKeyCreated => "API key created",
        K::SessionExpired => "Session expired",
        K::PasskeyAdded => "Passkey added",
        K::PasskeyRemoved => "Passkey removed",
        K::Passkey => "Passkey as second factor",
        K::PasskeySignIn => "Signed in with a passkey",
        K::PasskeyPossiblyCloned => "Passkey possibly copied",
        K::OidcSignIn => "Signed in to an application",
        K::OidcRefresh => "Application renewed its tokens",
        K::OidcTokenReuse => "Application token reused (refused)",
        K::OidcLogout => "Logged out by an application",
        K::OidcClientAdded => "Application registered",
        K::OidcClientRemoved => "Application removed",
        K::OidcKeyRotated => "Signing keys rotated",
    }
}

/// An audit outcome's code in words.
pub fn outcome_words(code: &str) -> &str {
    match code {
        "success" => "Success",
        "failure" => "Failure",
        "blocked" => "Blocked",
        other => other,
    }
}

#[cfg(test)]
mod event_tests {
    use super::*;

    #[test]
    fn every_event_has_words_and_unknown_codes_pass_through() {
        for kind in domain::AuditKind::ALL {
            let words = event_words(kind.as_str());
            assert_ne!(words, kind.as_str(), "{kind:?}");
            assert!(words.chars().next().is_some_and(char::is_uppercase));
        }
        assert_eq!(event_words("from_the_future"), "from_the_future");
        assert_eq!(outcome_words("failure"), "Failure");
    }

    #[test]
    fn a_time_is_local_with_utc_beside_it() {
        let zone = domain::time::Zone::named("America/Chicago").unwrap();
        let when = When::at(&zone, 1_796_652_900);
        assert_eq!(when.local, "2026-12-07 08:15 CST");
        assert_eq!(when.utc, "2026-12-07 14:15 UTC");
        assert_eq!(when.iso, "2026-12-07T14:15:00Z");
    }
}
