//! TOTP seeds at rest: XChaCha20-Poly1305 with a master key and a key id, so
//! a stolen database alone does not give anyone the codes, and the key can be
//! rotated (old rows name the key that sealed them).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// Sealed value layout: 24-byte nonce, then ciphertext and 16-byte tag.
const NONCE_LEN: usize = 24;

/// Why a sealed value could not be opened or made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The row names a key this server does not have.
    #[error("sealed with key {0:?}, which is not configured")]
    UnknownKey(String),
    /// Wrong key or altered ciphertext.
    #[error("the sealed value is damaged or was sealed with another key")]
    Damaged,
    /// The master key is not 32 bytes.
    #[error("the master key must be 32 bytes")]
    BadKey,
    /// The OS random source failed.
    #[error("the operating system's random source failed")]
    RandomSource,
}

/// Encrypts and decrypts small secrets with the deployment's master key.
pub struct SecretBox {
    key_id: String,
    cipher: XChaCha20Poly1305,
    /// Keys of before a rotation: they open what they sealed, never seal.
    previous: Vec<(String, XChaCha20Poly1305)>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox")
            .field("key_id", &self.key_id)
            .field(
                "previous",
                &self.previous.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl SecretBox {
    /// A box for a 32-byte master key named `key_id`.
    pub fn new(key_id: &str, key: &[u8]) -> Result<Self, SealError> {
        let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| SealError::BadKey)?;
        Ok(SecretBox {
            key_id: key_id.to_owned(),
            cipher,
            previous: Vec::new(),
        })
    }

    /// Also opens values sealed under an earlier master key `key_id`, as
    /// during a rotation until `twofactor master-key reseal` has run.
    pub fn with_previous(mut self, key_id: &str, key: &[u8]) -> Result<Self, SealError> {
        let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| SealError::BadKey)?;
        if key_id != self.key_id {
            self.previous.push((key_id.to_owned(), cipher));
        }
        Ok(self)
    }

    /// The ids of the earlier keys this box still opens with.
    pub fn previous_key_ids(&self) -> Vec<&str> {
        self.previous.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// The id stored beside every value this box seals.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts `plain`, binding it to `context` (e.g. the user id) so a
    /// sealed seed copied to another user's row does not open.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::RandomSource)?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .map_err(|_| SealError::Damaged)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts a value sealed under `key_id` with the same `context`.
    pub fn open(
        &self,
        key_id: &str,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let cipher = if key_id == self.key_id {
            &self.cipher
        } else {
            self.previous
                .iter()
                .find(|(id, _)| id == key_id)
                .map(|(_, cipher)| cipher)
                .ok_or_else(|| SealError::UnknownKey(key_id.to_owned()))?
        };
        if sealed.len() < NONCE_LEN {
            return Err(SealError::Damaged);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let a = SecretBox::new("k1", &[7; 32]).unwrap();
        let b = SecretBox::new("k1", &[8; 32]).unwrap();
        let sealed = a.seal(b"seed", b"user:1").unwrap();
        assert_eq!(
            a.open("k1", &sealed, b"user:1").unwrap().as_slice(),
            b"seed"
        );
        assert_eq!(a.open("k1", &sealed, b"user:2"), Err(SealError::Damaged));
        assert_eq!(b.open("k1", &sealed, b"user:1"), Err(SealError::Damaged));
        assert_eq!(
            a.open("k0", &sealed, b"user:1"),
            Err(SealError::UnknownKey("k0".into()))
        );
        assert_eq!(
            a.open("k1", &sealed[..10], b"user:1"),
            Err(SealError::Damaged)
        );
        assert!(SecretBox::new("k", &[0; 31]).is_err());
    }

    #[test]
    fn after_a_rotation_old_values_open_and_new_ones_use_the_new_key() {
        let old = SecretBox::new("old", &[1; 32]).unwrap();
        let sealed_before = old.seal(b"seed", b"totp:1").unwrap();
        let new = SecretBox::new("new", &[2; 32])
            .unwrap()
            .with_previous("old", &[1; 32])
            .unwrap();
        assert_eq!(new.key_id(), "new");
        assert_eq!(new.previous_key_ids(), ["old"]);
        assert_eq!(
            new.open("old", &sealed_before, b"totp:1")
                .unwrap()
                .as_slice(),
            b"seed"
        );
        let sealed_after = new.seal(b"seed", b"totp:1").unwrap();
        assert_eq!(
            old.open("new", &sealed_after, b"totp:1"),
            Err(SealError::UnknownKey("new".into()))
        );
        // A previous key under the wrong id opens nothing.
        let confused = SecretBox::new("new", &[2; 32])
            .unwrap()
            .with_previous("old", &[3; 32])
            .unwrap();
        assert_eq!(
            confused.open("old", &sealed_before, b"totp:1"),
            Err(SealError::Damaged)
        );
        assert!(new.with_previous("x", &[0; 5]).is_err());
    }
}
