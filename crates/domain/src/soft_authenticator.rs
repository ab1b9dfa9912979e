//! A software authenticator: a P-256 key that answers assertion options as
//! a phone or a security key would (authenticatorData, clientDataJSON and
//! the signature over both), with the origin, relying-party id and counter
//! chosen by the caller so tests can forge the answers an attacker would
//! send. Shared by the unit tests and `benches/passkey.rs` (included there
//! by path); never part of the service.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use crypto_glue::ecdsa_p256::{EcdsaP256DerSignature, EcdsaP256SigningKey, new_key};
use crypto_glue::traits::Signer;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{AttestationFormat, COSEKey, Credential, ParsedAttestation, Passkey};

/// A key and the passkey record the server keeps for it.
#[allow(missing_debug_implementations)] // holds a private key
pub struct SoftKey {
    key: EcdsaP256SigningKey,
    cred_id: Vec<u8>,
    /// What registration would have stored (counter 0, user verified).
    pub passkey: Passkey,
}

/// Where and how an answer is made.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The origin the "browser" reports.
    pub origin: &'a str,
    /// The relying-party id whose hash starts authenticatorData.
    pub rp_id: &'a str,
    /// The signature counter.
    pub counter: u32,
    /// The user handle a discoverable credential returns (the UUID text
    /// the server gave at registration), or none at the second step.
    pub user_handle: Option<&'a str>,
}

impl SoftKey {
    /// The credential id as stored (base64url).
    pub fn credential_id(&self) -> String {
        B64.encode(&self.cred_id)
    }

    /// A fresh key with credential id `id_byte` × 32.
    pub fn new(id_byte: u8) -> Result<Self, String> {
        let secret = new_key();
        let cose = COSEKey::try_from(&secret.public_key()).map_err(|e| e.to_string())?;
        let cred_id = vec![id_byte; 32];
        // Built through its serialised form: the fields registration fills.
        let credential: Credential = serde_json::from_value(serde_json::json!({
            "cred_id": B64.encode(&cred_id),
            "cred": cose,
            "counter": 0,
            "transports": null,
            "user_verified": true,
            "backup_eligible": false,
            "backup_state": false,
            "registration_policy": "required",
            "extensions": {},
            "attestation": ParsedAttestation::default(),
            "attestation_format": AttestationFormat::None,
        }))
        .map_err(|e| e.to_string())?;
        Ok(SoftKey {
            key: EcdsaP256SigningKey::from(&secret),
            cred_id,
            passkey: Passkey::from(credential),
        })
    }

    /// The browser's JSON answer to assertion `options` (as serialised for
    /// the page), user present and verified.
    pub fn answer(&self, options: &serde_json::Value, how: &Answer<'_>) -> String {
        let challenge = options
            .pointer("/publicKey/challenge")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let client_data = serde_json::json!({
            "type": "webauthn.get",
            "challenge": challenge,
            "origin": how.origin,
            "crossOrigin": false,
        })
        .to_string();
        let mut auth_data = Sha256::digest(how.rp_id.as_bytes()).to_vec();
        auth_data.push(0x05); // user present, user verified
        auth_data.extend_from_slice(&how.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
        let signature: EcdsaP256DerSignature = self.key.sign(&signed);
        serde_json::json!({
            "id": B64.encode(&self.cred_id),
            "rawId": B64.encode(&self.cred_id),
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(&auth_data),
                "clientDataJSON": B64.encode(client_data.as_bytes()),
                "signature": B64.encode(signature.as_bytes()),
                "userHandle": how.user_handle.map(|h| {
                    let id = uuid::Uuid::parse_str(h).map(|u| u.as_bytes().to_vec());
                    B64.encode(id.unwrap_or_default())
                }),
            },
            "extensions": {},
        })
        .to_string()
    }
}
