//! Users and their second factors as the domain sees them.

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

/// Lower-cases and trims a typed username; `None` if it cannot be one.
pub fn normalize_username(text: &str) -> Option<String> {
    let name = text.trim().to_lowercase();
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'));
    ok.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

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
