//! Cross-check against an independent implementation: `oathtool` (OATH
//! Toolkit, Debian package `oathtool`). 256 random secret/time/digits/period/
//! algorithm combinations from a fixed seed, every fourth one with 7 digits
//! and a 10 s period, must give the same code as `oathtool --totp`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use otp::{Algorithm, Digits, Period, Secret, Totp};

const CASES: usize = 256;

/// SplitMix64: a fixed-seed generator so every run checks the same cases.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn oathtool(secret: &str, time: u64, digits: u8, period: u32, algorithm: Algorithm) -> String {
    let mode = match algorithm {
        Algorithm::Sha1 => "--totp=sha1",
        Algorithm::Sha256 => "--totp=sha256",
        Algorithm::Sha512 => "--totp=sha512",
    };
    let output = Command::new("oathtool")
        .args([
            mode,
            "--base32",
            "--digits",
            &digits.to_string(),
            "--time-step-size",
            &format!("{period}s"),
            "--now",
            &format!("@{time}"),
            secret,
        ])
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run oathtool ({error}); install it with `apt-get install oathtool` \
                 (.ci/run does this)"
            )
        });
    assert!(
        output.status.success(),
        "oathtool failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn totp_codes_match_oathtool_for_random_parameters() {
    let mut rng = SplitMix64(0x2FAC_70F0_0D15_EA5E);
    let mut seven_digit_ten_second = 0;
    for case in 0..CASES {
        let algorithm = Algorithm::ALL[rng.below(3) as usize];
        let key: Vec<u8> = (0..1 + rng.below(64)).map(|_| rng.next() as u8).collect();
        let (digits, period) = if case % 4 == 0 {
            seven_digit_ten_second += 1;
            (7, 10)
        } else {
            (6 + rng.below(3), 1 + rng.below(3600))
        };
        // Up to year 2603, beyond 2038 and the 32-bit step boundary.
        let time = rng.below(20_000_000_000);

        let secret = Secret::from_bytes(key).unwrap();
        let base32 = secret.to_base32();
        let totp = Totp::new(
            secret,
            algorithm,
            Digits::new(digits).unwrap(),
            Period::new(period).unwrap(),
        );
        let ours = totp.generate(time).unwrap();
        let theirs = oathtool(&base32, time, digits as u8, period as u32, algorithm);
        assert_eq!(
            ours.as_str(),
            theirs,
            "case {case}: {algorithm}, {digits} digits, {period}s, t={time}, secret {base32}"
        );
    }
    assert!(seven_digit_ten_second >= 64);
}
