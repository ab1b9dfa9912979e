//! Passwords: argon2id (m=19456 KiB, t=2, p=1, OWASP's first choice) in PHC
//! strings. The CPU work is synchronous here; the edge runs it off the async
//! runtime through [`PasswordHasher`].

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::DomainError;

/// Runs password hashing where it cannot stall request handling.
#[async_trait::async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A PHC string for `password`.
    async fn hash(&self, password: String) -> Result<String, DomainError>;
    /// Whether `password` matches `phc`; with `None` (unknown user) the same
    /// work is done against a dummy hash and the answer is false.
    async fn verify(&self, phc: Option<String>, password: String) -> bool;
}

/// The argon2id configuration. `Params` are the defaults of DESIGN.md.
pub fn argon2id() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes with a fresh random salt.
pub fn hash(password: &str) -> Result<String, DomainError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| DomainError::RandomSource)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| DomainError::RandomSource)?;
    argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| DomainError::Internal("password hashing failed".into()))
}

/// Checks `password` against a PHC string; an unparsable hash is a mismatch.
pub fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            argon2id()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Rules for a new password. Length is what matters (NIST SP 800-63B); no
/// composition rules. Returns a message a person can act on.
pub fn check_new(password: &str, min_len: usize) -> Result<(), String> {
    let n = password.chars().count();
    if n < min_len {
        return Err(format!(
            "The password must have at least {min_len} characters."
        ));
    }
    if n > 128 {
        return Err("The password must have at most 128 characters.".into());
    }
    Ok(())
}

/// The 100,000 most common passwords (see data/README.md), lower case.
fn common_passwords() -> &'static std::collections::HashSet<String> {
    static LIST: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .map(str::to_lowercase)
            .collect()
    })
}

/// Whether `password` is one of the 100,000 most common (any case).
pub fn is_common(password: &str) -> bool {
    common_passwords().contains(&password.to_lowercase())
}

/// [`check_new`], and the password must not be a common one nor contain
/// the username.
pub fn check_new_for(password: &str, username: &str, min_len: usize) -> Result<(), String> {
    check_new(password, min_len)?;
    if is_common(password) {
        return Err("That password is one of the most common ones, which attackers try first. Choose another (a few unrelated words work well).".into());
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err("The password must not contain your username.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_argon2id_with_the_design_parameters() {
        let phc = hash("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(&phc, "correct horse"));
        assert!(!verify(&phc, "correct horsE"));
        assert!(!verify("not a hash", "x"));
    }

    #[test]
    fn new_passwords_need_length_not_symbols() {
        assert!(check_new("short", 12).is_err());
        assert!(check_new("long enough passphrase", 12).is_ok());
        assert!(check_new(&"x".repeat(129), 12).is_err());
        assert!(check_new_for("drsmith-is-my-password", "DrSmith", 12).is_err());
        assert!(check_new_for("a long enough passphrase", "drsmith", 12).is_ok());
        // In the bundled list, and long enough to pass the length rule.
        assert!(is_common("1234567890123"));
        assert!(is_common("PASSWORD"), "compared case-insensitively");
        assert!(!is_common("a long enough passphrase"));
        assert!(
            check_new_for("1234567890123", "drsmith", 12)
                .unwrap_err()
                .contains("most common")
        );
        assert!(common_passwords().len() > 90_000);
    }
}
