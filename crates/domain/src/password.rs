//! Passwords: argon2id (m=19456 KiB, t=2, p=1, OWASP's first choice) in PHC
//! strings. The CPU work is synchronous here; the edge runs it off the async
//! runtime through [`PasswordHasher`].

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::{DomainError, Reason};

/// Runs password hashing where it cannot stall request handling.
#[async_trait::async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A PHC string for `password`.
    async fn hash(&self, password: String) -> Result<String, DomainError>;
    /// Whether `password` matches `phc`; with `None` (unknown user) the same
    /// work is done against a dummy hash and the answer is false.
    async fn verify(&self, phc: Option<String>, password: String) -> bool;
}

/// The argon2id configuration. `Params` are the defaults of docs/design.md.
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

/// Whether a PHC string was made with weaker settings than [`argon2id`]'s
/// (another argon2 variant or version, less memory or fewer passes), so
/// the password should be hashed again at its next successful check.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let current = argon2id();
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
    Algorithm::try_from(parsed.algorithm) != Ok(Algorithm::Argon2id)
        || version != Ok(Version::V0x13)
        || params.m_cost() < current.params().m_cost()
        || params.t_cost() < current.params().t_cost()
}

/// An argon2id PHC string for `password` with the given cost: older
/// deployments' hashes in tests of the upgrade, and nothing else.
pub fn hash_with_cost(password: &str, m_cost: u32, t_cost: u32) -> Result<String, DomainError> {
    let params = Params::new(m_cost, t_cost, 1, None)
        .map_err(|_| DomainError::Internal("bad argon2 parameters".into()))?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| DomainError::RandomSource)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| DomainError::RandomSource)?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| DomainError::Internal("password hashing failed".into()))
}

/// Working memory for argon2 (19 MiB at the default parameters), kept by a
/// hashing thread and reused: a fresh allocation per hash ends up cached in
/// one glibc arena per thread that ever hashed (measured: 476 MB resident
/// after a login load, docs/benchmarks-log.md).
#[derive(Default)]
pub struct Workspace(Vec<argon2::Block>);

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Workspace({} blocks)", self.0.len())
    }
}

impl Workspace {
    /// `blocks` blocks of memory, grown on first use only.
    fn blocks(&mut self, blocks: usize) -> &mut [argon2::Block] {
        if self.0.len() < blocks {
            self.0.resize(blocks, argon2::Block::default());
        }
        self.0.get_mut(..blocks).unwrap_or_default()
    }
}

/// [`hash`] in the caller's reusable memory.
pub fn hash_in(workspace: &mut Workspace, password: &str) -> Result<String, DomainError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| DomainError::RandomSource)?;
    let argon2 = argon2id();
    let mut out = [0u8; 32];
    let blocks = workspace.blocks(argon2.params().block_count());
    argon2
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        .map_err(|_| DomainError::Internal("password hashing failed".into()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| DomainError::RandomSource)?;
    let out = argon2::password_hash::Output::new(&out)
        .map_err(|_| DomainError::Internal("password hashing failed".into()))?;
    let params = argon2.params();
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${out}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str()
    ))
}

/// [`verify`] in the caller's reusable memory: any argon2 PHC string our
/// own `hash` could have written (its parameters are read from the string).
pub fn verify_in(workspace: &mut Workspace, phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Some(expected), Some(salt)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed.hash,
        parsed.salt,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let blocks = workspace.blocks(argon2.params().block_count());
    if argon2
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
        .is_err()
    {
        return false;
    }
    // Constant time: every byte is compared whatever the first difference.
    let difference = out
        .iter()
        .zip(expected.as_bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    difference == 0
}

/// Rules for a new password. Length is what matters (NIST SP 800-63B); no
/// composition rules. `Err` says what a person can do about it.
pub fn check_new(password: &str, min_len: usize) -> Result<(), Reason> {
    let n = password.chars().count();
    if n < min_len {
        return Err(Reason::PasswordTooShort { min: min_len });
    }
    if n > 128 {
        return Err(Reason::PasswordTooLong);
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
pub fn check_new_for(password: &str, username: &str, min_len: usize) -> Result<(), Reason> {
    check_new(password, min_len)?;
    if is_common(password) {
        return Err(Reason::PasswordCommon);
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(Reason::PasswordHasUsername);
    }
    check_strength(password, &[username])
}

/// The lowest zxcvbn score accepted: 3, "safely unguessable" (about 10^10
/// guesses), which words, dates, keyboard walks and l33t substitutions
/// with a digit or a sign appended ("Password123!") do not reach.
const MIN_STRENGTH: u8 = 3;

/// Refuses passwords an attacker's guessing would find early, by estimated
/// strength (zxcvbn, which knows common words, names, keyboard patterns,
/// dates and substitutions); the message says why and what helps.
/// `related`: words of the account (its username) that make a guess easy.
pub fn check_strength(password: &str, related: &[&str]) -> Result<(), Reason> {
    let related: Vec<&str> = related.iter().copied().filter(|w| !w.is_empty()).collect();
    let estimate = zxcvbn::zxcvbn(password, &related);
    if u8::from(estimate.score()) >= MIN_STRENGTH {
        return Ok(());
    }
    let hint = estimate
        .feedback()
        .and_then(|feedback| feedback.warning())
        .map(crate::reason::guess_hint);
    Err(Reason::PasswordGuessable { hint })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weaker_hashes_are_marked_for_rehashing() {
        let current = hash("correct horse battery staple").unwrap();
        assert!(!needs_rehash(&current));
        let weak = hash_with_cost("correct horse battery staple", 4096, 1).unwrap();
        assert!(needs_rehash(&weak), "{weak}");
        assert!(
            verify(&weak, "correct horse battery staple")
                || verify_in(
                    &mut Workspace::default(),
                    &weak,
                    "correct horse battery staple"
                )
        );
        assert!(needs_rehash(&hash_with_cost("x", 19_456, 1).unwrap()));
        assert!(
            !needs_rehash(&hash_with_cost("x", 65_536, 3).unwrap()),
            "stronger stays"
        );
        let argon2i = current.replacen("$argon2id$", "$argon2i$", 1);
        assert!(needs_rehash(&argon2i));
        for garbage in [
            "",
            "$argon2id$",
            "not a hash",
            "$2b$12$abcdefghijklmnopqrstuv",
        ] {
            assert!(!needs_rehash(garbage), "{garbage}");
        }
    }

    #[test]
    fn guessable_passwords_are_refused_by_strength_with_a_reason() {
        for weak in [
            "Password123!",
            "Welcome12345",
            "iloveyou1234",
            "qwertyuiopas",
            "drsmith-2026!",
        ] {
            let message = check_new_for(weak, "drsmith", 12).unwrap_err().to_string();
            assert!(
                message.contains("guess")
                    || message.contains("common")
                    || message.contains("username"),
                "{weak}: {message}"
            );
        }
        let message = check_strength("Password123!", &[]).unwrap_err();
        assert!(
            matches!(message, Reason::PasswordGuessable { hint: Some(_) }),
            "{message}"
        );
        assert!(
            message.to_string().contains("too easy to guess: "),
            "{message}"
        );
        for strong in [
            "correct horse battery staple",
            "a brand new passphrase, clinic door",
            "set by the administrator",
            "violet tractor under seven lamps",
        ] {
            assert_eq!(check_new_for(strong, "drsmith", 12), Ok(()), "{strong}");
        }
    }

    #[test]
    fn reused_memory_hashes_read_and_write_the_same_phc_strings() {
        let mut workspace = Workspace::default();
        let ours = hash_in(&mut workspace, "correct horse battery staple").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(verify(&ours, "correct horse battery staple"));
        assert!(!verify(&ours, "correct horse battery stapler"));
        let theirs = hash("correct horse battery staple").unwrap();
        assert!(verify_in(
            &mut workspace,
            &theirs,
            "correct horse battery staple"
        ));
        assert!(verify_in(
            &mut workspace,
            &ours,
            "correct horse battery staple"
        ));
        assert!(!verify_in(
            &mut workspace,
            &theirs,
            "Correct horse battery staple"
        ));
        for hostile in [
            "",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$",
            "$argon2id$v=99$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$bcrypt$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            &theirs.replace("t=2", "t=0"),
        ] {
            assert!(!verify_in(&mut workspace, hostile, ""), "{hostile}");
        }
    }

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
        assert_eq!(
            check_new_for("1234567890123", "drsmith", 12),
            Err(Reason::PasswordCommon)
        );
        assert!(common_passwords().len() > 90_000);
    }
}
