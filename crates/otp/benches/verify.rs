//! What a login pays for the second factor: one ±1-step TOTP verification,
//! measured against three raw HMAC-SHA1 computations of an 8-byte message in
//! the same run. Goal: verification at most 1.5x the raw HMACs.
//!
//! Run: `cargo bench -p otp --bench verify`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use otp::{Algorithm, Digits, Period, Secret, Totp, Window};
use sha1::Sha1;

const KEY: &[u8] = b"12345678901234567890";
const NOW: u64 = 1_700_000_000;

fn verify_against_raw_hmac(c: &mut Criterion) {
    let totp = Totp::new(
        Secret::from_bytes(KEY.to_vec()).unwrap_or_else(|_| unreachable!()),
        Algorithm::Sha1,
        Digits::SIX,
        Period::DEFAULT,
    );
    let step = NOW / 30;
    // Every step in the window is computed whatever the code, so a correct
    // and a wrong code cost the same; bench both to show it.
    let correct = totp.generate_at_step(step).as_str().to_owned();
    let wrong = format!(
        "{:06}",
        (totp.generate_at_step(step).value() + 1) % 1_000_000
    );

    let mut group = c.benchmark_group("totp_verify_vs_hmac");
    group.bench_function("three_raw_hmac_sha1_8_bytes", |b| {
        b.iter(|| {
            for counter in [step - 1, step, step + 1] {
                let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(black_box(KEY))
                    .unwrap_or_else(|_| unreachable!());
                mac.update(&black_box(counter).to_be_bytes());
                black_box(mac.finalize().into_bytes());
            }
        })
    });
    group.bench_function("verify_one_step_window_correct_code", |b| {
        b.iter(|| totp.verify(black_box(&correct), black_box(NOW), Window::ONE_STEP, None))
    });
    group.bench_function("verify_one_step_window_wrong_code", |b| {
        b.iter(|| totp.verify(black_box(&wrong), black_box(NOW), Window::ONE_STEP, None))
    });
    group.finish();
}

criterion_group!(benches, verify_against_raw_hmac);
criterion_main!(benches);
