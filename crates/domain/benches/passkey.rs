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
#![allow(clippy::expect_used)]

// The same file the integration suite reaches through the
// `soft-authenticator` feature, included here so the bench runs without it.
#[allow(dead_code)]
#[path = "../src/soft_authenticator.rs"]
mod soft_authenticator;

use criterion::{Criterion, criterion_group, criterion_main};
use domain::passkey::RelyingParty;
use soft_authenticator::{Answer, SoftKey};

fn assertion(c: &mut Criterion) {
    let rp =
        RelyingParty::for_public_url("https://clinic.example", "twofactor").expect("relying party");
    let key = SoftKey::new(7).expect("soft key");
    let (options, state) = rp
        .start_authentication(std::slice::from_ref(&key.passkey))
        .expect("options");
    let options = serde_json::to_value(&options).expect("options json");
    let how = Answer {
        origin: "https://clinic.example",
        rp_id: "clinic.example",
        counter: 0,
        user_handle: None,
    };
    let answer = key.answer(&options, &how);
    let mut held = vec![key.passkey];
    // The bench would time a refusal if the answer were wrong.
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
