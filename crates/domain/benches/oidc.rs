//! What signing one ID token costs (`SigningKey::sign`, the work each code
//! exchange and refresh adds to its reads and writes): RS256 with a
//! 2048-bit key and ES256, on the RustCrypto backend `compact_jwt` uses.
//!
//! Run: `cargo bench -p domain --bench oidc`

// A bench that cannot build its fixture has nothing to measure: stopping
// with the reason is the right answer.
#![allow(clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use domain::oidc::{SigningAlg, SigningKey};

fn sign(c: &mut Criterion) {
    let claims = serde_json::json!({
        "iss": "https://login.clinic.example",
        "sub": "y0RkS5m1FZQ4bQ1K2xN7uAq8Zr3Wc6Vt9Ep0Ld2Hs4M",
        "aud": "tfc_OdnLeYnOmGK--ciz7Y4eO0",
        "exp": 1_800_000_600,
        "iat": 1_800_000_000,
        "auth_time": 1_800_000_000,
        "amr": ["pwd", "otp", "mfa"],
        "acr": "mfa",
        "nonce": "8uU3coPe_kQ3r1wpsDq-_Q",
        "preferred_username": "drsmith",
        "email": "drsmith@clinic.example",
    });
    for alg in SigningAlg::ALL {
        let key = SigningKey::generate(alg).expect("key");
        c.bench_function(&format!("id token {}", alg.as_str()), |b| {
            b.iter(|| key.sign(&claims).expect("signed"))
        });
    }
}

criterion_group!(benches, sign);
criterion_main!(benches);
