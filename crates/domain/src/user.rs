//! Users and their second factors as the domain sees them.

use unicode_normalization::UnicodeNormalization as _;
use unicode_security::{GeneralSecurityProfile as _, MixedScript as _};

use crate::{PracticeId, UserId};

/// What a user may do: staff log in; admins also manage the practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A clinician or office worker.
    Staff,
    /// May manage the practice's accounts.
    Admin,
}

impl Role {
    /// The stored and CLI name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    /// Parses `staff` or `admin`.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "staff" => Some(Role::Staff),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A user account.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Database id.
    pub id: UserId,
    /// The practice the user belongs to.
    pub practice_id: PracticeId,
    /// Login name, unique, lower case.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Verified SMS number in E.164, if any.
    pub phone: Option<String>,
    /// Staff or admin.
    pub role: Role,
    /// argon2id PHC string; `None` until the user sets a password.
    pub password_hash: Option<String>,
    /// A disabled account cannot log in.
    pub disabled: bool,
    /// An administrator requires a second factor for this user.
    pub require_2fa: bool,
    /// The language the user chose for pages and messages; `None`: the
    /// browser's, else the practice's default.
    pub language: Option<i18n::Lang>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// What an admin gives to create a user.
#[derive(Clone)]
pub struct NewUser {
    /// The practice.
    pub practice_id: PracticeId,
    /// Login name (normalized to lower case by the caller).
    pub username: String,
    /// Email.
    pub email: String,
    /// Verified phone, E.164.
    pub phone: Option<String>,
    /// Role.
    pub role: Role,
    /// PHC hash.
    pub password_hash: Option<String>,
    /// The name shown to administrators (may be empty).
    pub display_name: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A user's authenticator-app enrollment, seed sealed at rest.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpFactor {
    /// Owner.
    pub user_id: UserId,
    /// Id of the master key that sealed the seed.
    pub key_id: String,
    /// The sealed seed (nonce, ciphertext, tag).
    pub sealed_secret: Vec<u8>,
    /// HMAC algorithm of this enrollment.
    pub algorithm: otp::Algorithm,
    /// Digits of this enrollment.
    pub digits: otp::Digits,
    /// Period of this enrollment.
    pub period: otp::Period,
    /// The last step accepted; codes at or before it are refused.
    pub last_step: Option<u64>,
    /// Learned phone clock offset in steps (capped), from successful logins.
    pub clock_offset_steps: i64,
}

impl std::fmt::Debug for TotpFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFactor")
            .field("user_id", &self.user_id)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// Trims a typed username and brings it to one form (Unicode NFKC, lower
/// case), so `ＡＬＩＣＥ` and `Alice` are `alice`; `None` if it cannot be
/// one. Login and every lookup use this form, and so does `Remote-User`.
pub fn normalize_username(text: &str) -> Option<String> {
    let name: String = text.trim().nfkc().collect::<String>().to_lowercase();
    // Lower-casing can leave a sequence NFKC would write otherwise.
    let name: String = name.nfkc().collect();
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'));
    ok.then_some(name)
}

/// A name for a new account, normalised ([`normalize_username`]), or why
/// it is refused: characters outside names, scripts mixed (`аlice` with a
/// Cyrillic `а`), a name that only imitates a plain Latin one, or the
/// prefix kept for the API's own users. Two names that look alike cannot
/// stand side by side, so the audit trail and `Remote-User` name one
/// person unambiguously.
pub fn new_username(text: &str) -> Result<String, crate::Reason> {
    use crate::Reason;
    let Some(name) = normalize_username(text) else {
        return Err(Reason::UsernameForm);
    };
    if name.starts_with(crate::api::API_USERNAME_PREFIX) {
        return Err(Reason::UsernameApiPrefix);
    }
    let punctuation = |c: char| matches!(c, '.' | '_' | '-' | '@' | '+');
    if !name
        .chars()
        .all(|c| punctuation(c) || c.identifier_allowed())
    {
        return Err(Reason::UsernameCharacter);
    }
    if !name.as_str().is_single_script() {
        return Err(Reason::UsernameMixedScripts);
    }
    if !name.is_ascii() && unicode_security::skeleton(&name).all(|c| c.is_ascii()) {
        return Err(Reason::UsernameLookAlike);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_one_form_whatever_the_keyboard() {
        assert_eq!(normalize_username("ａｌｉｃｅ"), Some("alice".into()));
        assert_eq!(normalize_username("ＡＬＩＣＥ"), Some("alice".into()));
        assert_eq!(normalize_username("Müller"), Some("müller".into()));
        // "u" followed by a combining diaeresis is the same name.
        assert_eq!(normalize_username("Mu\u{308}ller"), Some("müller".into()));
        assert_eq!(
            normalize_username("a\u{200b}lice"),
            None,
            "zero-width space"
        );
        assert_eq!(
            normalize_username("a\u{200d}lice"),
            None,
            "zero-width joiner"
        );
        assert_eq!(normalize_username("alice\u{202e}"), None, "bidi override");
    }

    #[test]
    fn new_usernames_refuse_look_alikes_and_mixed_scripts() {
        assert_eq!(new_username(" Dr.Smith "), Ok("dr.smith".into()));
        assert_eq!(new_username("müller"), Ok("müller".into()));
        assert_eq!(new_username("ａｌｉｃｅ"), Ok("alice".into()));
        assert_eq!(new_username("ανδρέας"), Ok("ανδρέας".into()));
        for (hostile, why) in [
            ("\u{0430}lice", "mixes"), // Cyrillic а, Latin lice
            ("p\u{0430}ypal", "mixes"),
            ("\u{0430}\u{0440}\u{0435}", "imitates"), // Cyrillic "аре" looks like "ape"
            ("api.someone", "kept"),
            ("a lice", "must be"),
            ("", "must be"),
        ] {
            let message = new_username(hostile).unwrap_err().to_string();
            assert!(message.contains(why), "{hostile:?}: {message}");
        }
    }

    #[test]
    fn usernames_are_trimmed_lower_case_and_plain() {
        assert_eq!(normalize_username("  Alice "), Some("alice".into()));
        assert_eq!(
            normalize_username("dr.bob@clinic"),
            Some("dr.bob@clinic".into())
        );
        for bad in ["", "   ", "a b", "a\u{0}b", "<script>", &"a".repeat(65)] {
            assert_eq!(normalize_username(bad), None, "{bad:?}");
        }
    }
}
