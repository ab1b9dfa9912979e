//! Opaque random tokens (session ids, CSRF tokens, remember cookies): 256
//! bits from the OS, URL-safe base64 in the cookie, SHA-256 at rest.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::DomainError;

/// A fresh 256-bit token as 43 URL-safe characters.
pub fn generate() -> Result<String, DomainError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| DomainError::RandomSource)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored for a token: SHA-256 of its text, hex. A 256-bit random
/// value needs no slow hash: it cannot be guessed, only stolen.
pub fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Bytes as lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Constant-time equality for secrets held as text.
pub fn equal(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A token derived from another one for a different purpose, such as the
/// CSRF token of a session: knowing it does not reveal the session id.
pub fn derive(purpose: &str, token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update([0]);
    hasher.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// The CSRF token a form carries: derived from the browser's CSRF cookie
/// and its session cookie (empty before login), so a token works only with
/// the session it was issued under, and every login (a new session id)
/// brings new tokens. Another site can read neither cookie.
pub fn csrf_form_token(csrf_cookie: &str, session_cookie: Option<&str>) -> String {
    derive(
        "csrf",
        &format!("{csrf_cookie}\0{}", session_cookie.unwrap_or("")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn digest_is_stable_hex_and_hides_the_token() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(derive("csrf", "abc"), derive("other", "abc"));
        assert!(equal("same", "same") && !equal("same", "samE") && !equal("a", "ab"));
    }
}
