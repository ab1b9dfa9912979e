//! Recovery codes: ten single-use codes for the day the phone is lost.
//!
//! A code reads `abcd-efgh-jkmn`: twelve characters from an alphabet without
//! look-alikes (no 0/o, 1/i). The first four are a lookup key stored in
//! clear, so a login checks one argon2 hash, not ten; the other eight
//! (40 bits) are stored only as an argon2 hash.

use crate::DomainError;

/// No 0, 1, i, o: codes are read off paper and typed (and shown in lower
/// case, where l cannot be mistaken for a digit that is not there).
const ALPHABET: &[u8; 32] = b"abcdefghjklmnpqrstuvwxyz23456789";

/// How many codes a set holds.
pub const SET_SIZE: usize = 10;

/// A code split into its lookup part and its secret part.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode {
    /// The first four characters, stored in clear.
    pub lookup: String,
    /// The last eight, stored hashed.
    pub secret: String,
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCode({}-…)", self.lookup)
    }
}

impl RecoveryCode {
    /// A fresh random code.
    pub fn generate() -> Result<Self, DomainError> {
        let mut bytes = [0u8; 12];
        getrandom::fill(&mut bytes).map_err(|_| DomainError::RandomSource)?;
        // 256 is a multiple of 32, so `% 32` is uniform.
        let text: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET.get(usize::from(*b) % 32).copied().unwrap_or(b'a')))
            .collect();
        let (lookup, secret) = text.split_at(4);
        Ok(RecoveryCode {
            lookup: lookup.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// Reads a typed code: case, spaces and dashes do not matter.
    pub fn parse(typed: &str) -> Option<Self> {
        let clean: String = typed
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .flat_map(char::to_lowercase)
            .collect();
        if clean.len() != 12 || !clean.bytes().all(|b| ALPHABET.contains(&b)) {
            return None;
        }
        let (lookup, secret) = clean.split_at(4);
        Some(RecoveryCode {
            lookup: lookup.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// `abcd-efgh-jkmn`, as shown and printed.
    pub fn display(&self) -> String {
        let (a, b) = self.secret.split_at(4.min(self.secret.len()));
        format!("{}-{a}-{b}", self.lookup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_what_people_type() {
        let code = RecoveryCode::generate().unwrap();
        let shown = code.display();
        assert_eq!(shown.len(), 14);
        assert_eq!(RecoveryCode::parse(&shown), Some(code.clone()));
        assert_eq!(
            RecoveryCode::parse(&shown.to_uppercase().replace('-', " ")),
            Some(code)
        );
        for bad in [
            "",
            "abcd-efgh",
            "abcd-efgh-jkm0",
            "abcd-efgh-jkmi",
            "abcd-efgh-jkmnp",
            "ABCD-EFGH-JKM!",
        ] {
            assert_eq!(RecoveryCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn codes_differ() {
        let a = RecoveryCode::generate().unwrap();
        let b = RecoveryCode::generate().unwrap();
        assert_ne!(a.display(), b.display());
    }
}
