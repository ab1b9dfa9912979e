//! The keys that sign ID tokens: made here, sealed under the master key at
//! rest (like the authenticators' seeds), published as a JWK set. The JOSE
//! work is kanidm's `compact_jwt` on the RustCrypto backend.

use std::str::FromStr as _;

use compact_jwt::crypto::{JwsRs256Signer, JwsRs256Verifier};
use compact_jwt::jws::JwsBuilder;
use compact_jwt::traits::{JwsSigner as _, JwsVerifier as _};
use compact_jwt::{Jwk, JwsCompact, JwsEs256Signer, JwsEs256Verifier};

use crate::{DomainError, SecretBox};

/// How a client's ID tokens are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what every client supports.
    Rs256,
    /// ECDSA P-256 with SHA-256.
    Es256,
}

impl SigningAlg {
    /// Every algorithm, the default first.
    pub const ALL: [SigningAlg; 2] = [SigningAlg::Rs256, SigningAlg::Es256];

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
        }
    }

    /// Parses the JOSE name.
    pub fn parse(text: &str) -> Option<SigningAlg> {
        SigningAlg::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// A signing key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Its JWK key id (a hash of the public key).
    pub kid: String,
    /// Its algorithm.
    pub alg: SigningAlg,
    /// The master key id that sealed it.
    pub key_id: String,
    /// The sealed private key (PKCS#8 DER).
    pub sealed: Vec<u8>,
    /// The public key as a JWK (JSON).
    pub public_jwk: String,
    /// Unix seconds.
    pub created_at: u64,
    /// When a newer key took over signing; `None`: it signs.
    pub retired_at: Option<u64>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// An opened private key.
#[derive(Clone)]
pub enum SigningKey {
    /// RS256.
    Rs256(JwsRs256Signer),
    /// ES256.
    Es256(JwsEs256Signer),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

fn jose(error: compact_jwt::JwtError) -> DomainError {
    DomainError::Internal(format!("signing key: {error:?}"))
}

/// What a key's sealing is bound to: a sealed key cannot be passed off as
/// another row.
fn context(kid: &str) -> Vec<u8> {
    format!("oidc-key:{kid}").into_bytes()
}

impl SigningKey {
    /// A new random key (RSA 2048 takes a fraction of a second).
    pub fn generate(alg: SigningAlg) -> Result<SigningKey, DomainError> {
        Ok(match alg {
            SigningAlg::Rs256 => SigningKey::Rs256(JwsRs256Signer::generate_rs256().map_err(jose)?),
            SigningAlg::Es256 => SigningKey::Es256(JwsEs256Signer::generate_es256().map_err(jose)?),
        })
    }

    /// Its algorithm.
    pub fn alg(&self) -> SigningAlg {
        match self {
            SigningKey::Rs256(_) => SigningAlg::Rs256,
            SigningKey::Es256(_) => SigningAlg::Es256,
        }
    }

    /// Its key id.
    pub fn kid(&self) -> &str {
        match self {
            SigningKey::Rs256(k) => k.get_kid(),
            SigningKey::Es256(k) => k.get_kid(),
        }
    }

    /// The public half as a JWK.
    pub fn public_jwk(&self) -> Result<Jwk, DomainError> {
        match self {
            SigningKey::Rs256(k) => k.public_key_as_jwk().map_err(jose),
            SigningKey::Es256(k) => k.public_key_as_jwk().map_err(jose),
        }
    }

    /// The key sealed for the store.
    pub fn seal(&self, seal: &SecretBox, now: u64) -> Result<StoredKey, DomainError> {
        let der = match self {
            SigningKey::Rs256(k) => k.private_key_to_der().map_err(jose)?,
            SigningKey::Es256(k) => k.private_key_to_der().map_err(jose)?,
        };
        let kid = self.kid().to_owned();
        let public_jwk = serde_json::to_string(&self.public_jwk()?)
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        Ok(StoredKey {
            sealed: seal.seal(&der, &context(&kid))?,
            key_id: seal.key_id().to_owned(),
            alg: self.alg(),
            kid,
            public_jwk,
            created_at: now,
            retired_at: None,
        })
    }

    /// Opens a stored key.
    pub fn open(stored: &StoredKey, seal: &SecretBox) -> Result<SigningKey, DomainError> {
        let der = seal.open(&stored.key_id, &stored.sealed, &context(&stored.kid))?;
        let key = match stored.alg {
            SigningAlg::Rs256 => {
                SigningKey::Rs256(JwsRs256Signer::from_rs256_der(&der).map_err(jose)?)
            }
            SigningAlg::Es256 => {
                SigningKey::Es256(JwsEs256Signer::from_es256_der(&der).map_err(jose)?)
            }
        };
        if key.kid() != stored.kid {
            return Err(DomainError::Internal(
                "a stored signing key does not match its id".into(),
            ));
        }
        Ok(key)
    }

    /// `claims` as a signed JWT (compact form), its header naming this key.
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String, DomainError> {
        let jws = JwsBuilder::into_json(claims)
            .map_err(|e| DomainError::Internal(e.to_string()))?
            .set_typ(Some("JWT"))
            .build();
        let signed = match self {
            SigningKey::Rs256(k) => k.sign(&jws).map_err(jose)?,
            SigningKey::Es256(k) => k.sign(&jws).map_err(jose)?,
        };
        Ok(signed.to_string())
    }
}

/// `stored`'s private half sealed again under `seal`'s current master key
/// (for `master-key reseal`).
pub(crate) fn resealed(stored: &StoredKey, seal: &SecretBox) -> Result<Vec<u8>, crate::SealError> {
    let context = context(&stored.kid);
    let der = seal.open(&stored.key_id, &stored.sealed, &context)?;
    seal.seal(&der, &context)
}

/// The claims of `token` if one of `keys` signed it (expiry not checked:
/// an ID token given back as a logout hint may have expired).
pub fn verify(keys: &[StoredKey], token: &str) -> Option<serde_json::Value> {
    let compact = JwsCompact::from_str(token).ok()?;
    let kid = compact.header().kid.as_deref()?;
    let stored = keys.iter().find(|k| k.kid == kid)?;
    let jwk: Jwk = serde_json::from_str(&stored.public_jwk).ok()?;
    let jws = match stored.alg {
        SigningAlg::Rs256 => JwsRs256Verifier::try_from(&jwk)
            .ok()?
            .verify(&compact)
            .ok()?,
        SigningAlg::Es256 => JwsEs256Verifier::try_from(&jwk)
            .ok()?
            .verify(&compact)
            .ok()?,
    };
    jws.from_json().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal() -> SecretBox {
        SecretBox::new("k1", &[7; 32]).unwrap()
    }

    #[test]
    fn a_sealed_key_opens_signs_and_verifies_and_nothing_else_does() {
        for alg in SigningAlg::ALL {
            let key = SigningKey::generate(alg).unwrap();
            let stored = key.seal(&seal(), 5).unwrap();
            assert_eq!(stored.alg, alg);
            let opened = SigningKey::open(&stored, &seal()).unwrap();
            let claims = serde_json::json!({"sub": "abc", "aud": "tfc_x"});
            let token = opened.sign(&claims).unwrap();
            assert_eq!(verify(std::slice::from_ref(&stored), &token), Some(claims));
            // Another key's set, a changed payload, junk: nothing.
            let other = SigningKey::generate(alg).unwrap().seal(&seal(), 5).unwrap();
            assert_eq!(verify(&[other], &token), None);
            let mut parts: Vec<&str> = token.split('.').collect();
            parts[1] = "eyJzdWIiOiJldmlsIn0";
            assert_eq!(
                verify(std::slice::from_ref(&stored), &parts.join(".")),
                None
            );
            assert_eq!(verify(std::slice::from_ref(&stored), "a.b.c"), None);
            assert_eq!(verify(std::slice::from_ref(&stored), ""), None);
            // The sealed bytes under another row's id do not open.
            let mut moved = stored.clone();
            moved.kid = "other".into();
            assert!(SigningKey::open(&moved, &seal()).is_err());
            assert!(SigningKey::open(&stored, &SecretBox::new("k1", &[8; 32]).unwrap()).is_err());
        }
    }

    #[test]
    fn the_header_names_the_key_and_alg() {
        use base64::Engine as _;
        let key = SigningKey::generate(SigningAlg::Rs256).unwrap();
        let token = key.sign(&serde_json::json!({})).unwrap();
        let header = token.split('.').next().unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(header)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], key.kid());
        let jwk = serde_json::to_value(key.public_jwk().unwrap()).unwrap();
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk["alg"], "RS256");
        assert!(jwk.get("d").is_none(), "never the private part");
    }
}
