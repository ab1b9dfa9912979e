//! What one passkey assertion costs the server: the browser's answer and
//! the kept ceremony state parsed, the origin, challenge, flags and P-256
//! signature checked by webauthn-rs, the record's counter updated
//! (`RelyingParty::finish_authentication`, the work of a passkey at the
//! second step). A software authenticator signs the answer, as a phone or
//! a security key would.
//!
//! Run: `cargo bench -p domain --bench passkey`

// A bench that cannot build its fixture has nothing to measure: stopping
// with the reason is the right answer.
#![allow(clippy::expect_used, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use criterion::{Criterion, criterion_group, criterion_main};
use crypto_glue::ecdsa_p256::{EcdsaP256DerSignature, EcdsaP256SigningKey, new_key};
use crypto_glue::traits::Signer;
use domain::passkey::RelyingParty;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{AttestationFormat, COSEKey, Credential, ParsedAttestation, Passkey};

const SITE: &str = "https://clinic.example";

/// A passkey whose private key the bench holds.
fn soft_passkey() -> (Passkey, EcdsaP256SigningKey, Vec<u8>) {
    let secret = new_key();
    let cose = COSEKey::try_from(&secret.public_key()).expect("cose key");
    let cred_id = vec![7u8; 32];
    // Built through its serialised form: the fields a registration fills.
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
    .expect("credential");
    (
        Passkey::from(credential),
        EcdsaP256SigningKey::from(&secret),
        cred_id,
    )
}

/// The authenticator's answer to `options`: user present and verified,
/// counter 0 (a passkey that keeps none), signed over authenticatorData
/// and the hash of clientDataJSON.
fn answer(options: &serde_json::Value, key: &EcdsaP256SigningKey, cred_id: &[u8]) -> String {
    let challenge = options["publicKey"]["challenge"]
        .as_str()
        .expect("challenge");
    let client_data = serde_json::json!({
        "type": "webauthn.get",
        "challenge": challenge,
        "origin": SITE,
        "crossOrigin": false,
    })
    .to_string();
    let mut auth_data = Sha256::digest(b"clinic.example").to_vec();
    auth_data.push(0x05); // user present, user verified
    auth_data.extend_from_slice(&0u32.to_be_bytes());
    let mut signed = auth_data.clone();
    signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
    let signature: EcdsaP256DerSignature = key.sign(&signed);
    serde_json::json!({
        "id": B64.encode(cred_id),
        "rawId": B64.encode(cred_id),
        "type": "public-key",
        "response": {
            "authenticatorData": B64.encode(&auth_data),
            "clientDataJSON": B64.encode(client_data.as_bytes()),
            "signature": B64.encode(signature.to_bytes()),
            "userHandle": null,
        },
        "extensions": {},
    })
    .to_string()
}

fn assertion(c: &mut Criterion) {
    let rp = RelyingParty::for_public_url(SITE, "twofactor").expect("relying party");
    let (passkey, key, cred_id) = soft_passkey();
    let (options, state) = rp
        .start_authentication(std::slice::from_ref(&passkey))
        .expect("options");
    let options = serde_json::to_value(&options).expect("options json");
    let answer = answer(&options, &key, &cred_id);
    let mut held = vec![passkey];
    // The bench would measure a refusal if the answer were wrong.
    assert_eq!(rp.finish_authentication(&answer, &state, &mut held), Ok(0));
    c.bench_function("passkey assertion verified (finish_authentication)", |b| {
        b.iter(|| rp.finish_authentication(&answer, &state, &mut held))
    });
    c.bench_function("passkey options made (start_authentication)", |b| {
        b.iter(|| rp.start_authentication(&held))
    });
}

criterion_group!(benches, assertion);
criterion_main!(benches);
