//! One argon2id verification with the production parameters (m=19456 KiB,
//! t=2, p=1): the unit of work every login costs, and so the machine's login
//! ceiling is cores / this time. Run: `cargo bench -p domain --bench argon2`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn argon2_verify(c: &mut Criterion) {
    let phc = domain::password::hash("correct horse battery staple").unwrap_or_default();
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(20);
    group.bench_function("verify_m19456_t2_p1", |b| {
        b.iter(|| domain::password::verify(black_box(&phc), black_box("wrong password")))
    });
    group.finish();
}

criterion_group!(benches, argon2_verify);
criterion_main!(benches);
