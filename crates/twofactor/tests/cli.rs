//! The `twofactor` binary as an operator uses it: real processes, real exit
//! codes, `oathtool` as the reference for `otp code`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const SECRET: &str = "JBSWY3DPEHPK3PXP";

fn twofactor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twofactor"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn oathtool(args: &[&str]) -> String {
    let output = Command::new("oathtool")
        .args(args)
        .output()
        .expect("oathtool is installed (apt-get install oathtool; .ci/run does this)");
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn otp_code_prints_what_oathtool_prints() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // (secret, time, digits, period, algorithm)
        (SECRET, "0", "6", "30", "sha1"),
        (SECRET, "1700000000", "6", "30", "sha1"),
        (
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "59",
            "8",
            "30",
            "sha256",
        ),
        ("MZXW6YTBOI", "1234567890", "7", "10", "sha512"),
        ("MZXW6YTBOI", "4102444800", "7", "10", "sha1"),
        (SECRET, "20000000000", "8", "3600", "sha512"),
        (SECRET, "99", "6", "1", "sha256"),
    ];
    for &(secret, time, digits, period, algorithm) in cases {
        let ours = twofactor(&[
            "otp",
            "code",
            "--secret",
            secret,
            "--time",
            time,
            "--digits",
            digits,
            "--period",
            period,
            "--algorithm",
            algorithm,
        ]);
        assert!(ours.status.success(), "{}", stderr(&ours));
        let theirs = oathtool(&[
            &format!("--totp={algorithm}"),
            "-b",
            "-d",
            digits,
            "-s",
            &format!("{period}s"),
            "-N",
            &format!("@{time}"),
            secret,
        ]);
        assert_eq!(
            stdout(&ours),
            theirs,
            "{secret} {time} {digits} {period} {algorithm}"
        );
    }
}

#[test]
fn otp_code_defaults_to_now_like_oathtool() {
    // Both read the clock; retry once in the rare case a step boundary falls
    // between the two calls.
    for attempt in 0..2 {
        let ours = stdout(&twofactor(&["otp", "code", "--secret", SECRET]));
        let theirs = oathtool(&["--totp", "-b", SECRET]);
        if ours == theirs {
            return;
        }
        assert_eq!(attempt, 0, "ours {ours:?} theirs {theirs:?}");
    }
}

#[test]
fn grouped_prints_the_form_read_aloud() {
    let out = twofactor(&[
        "otp",
        "code",
        "--secret",
        SECRET,
        "--time",
        "59",
        "--digits",
        "7",
        "--grouped",
    ]);
    let plain = twofactor(&[
        "otp", "code", "--secret", SECRET, "--time", "59", "--digits", "7",
    ]);
    let plain = stdout(&plain).trim().to_owned();
    let expected = format!("{} {} {}\n", &plain[..2], &plain[2..5], &plain[5..]);
    assert_eq!(stdout(&out), expected);
}

#[test]
fn secret_can_come_from_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twofactor"))
        .args(["otp", "code", "--secret", "-", "--time", "1700000000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"jbsw y3dp ehpk 3pxp\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let expected = stdout(&twofactor(&[
        "otp",
        "code",
        "--secret",
        SECRET,
        "--time",
        "1700000000",
    ]));
    assert_eq!(stdout(&out), expected);
}

/// Every bad argument: status 2, nothing on stdout, exactly one line on
/// stderr that says what is wrong, and never the secret.
#[test]
fn bad_arguments_give_one_clear_line_and_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["otp", "code"], "--secret"),
        (&["otp", "code", "--secret", "JBSWY3DPEHPK3PX1"], "'1'"),
        (&["otp", "code", "--secret", ""], "empty"),
        (
            &["otp", "code", "--secret", "ABC"],
            "cannot encode whole bytes",
        ),
        (
            &["otp", "code", "--secret", SECRET, "--digits", "9"],
            "6, 7 or 8",
        ),
        (
            &["otp", "code", "--secret", SECRET, "--digits", "six"],
            "6, 7 or 8",
        ),
        (
            &["otp", "code", "--secret", SECRET, "--period", "0"],
            "1 to 3600",
        ),
        (
            &["otp", "code", "--secret", SECRET, "--period", "3601"],
            "1 to 3600",
        ),
        (
            &["otp", "code", "--secret", SECRET, "--algorithm", "md5"],
            "sha1, sha256 or sha512",
        ),
        (
            &["otp", "code", "--secret", SECRET, "--time", "-5"],
            "--time",
        ),
        (
            &["otp", "code", "--secret", SECRET, "--time", "soon"],
            "--time",
        ),
        (
            &[
                "otp",
                "code",
                "--secret",
                SECRET,
                "--time",
                "99999999999999999999999",
            ],
            "--time",
        ),
        (&["otp", "code", "--secret", SECRET, "--bogus"], "--bogus"),
        (
            &["otp", "code", "--secret", SECRET, "--secret", SECRET],
            "--secret",
        ),
        (&["otp", "frobnicate"], "frobnicate"),
        (&["frobnicate"], "frobnicate"),
    ];
    for (args, needle) in cases {
        let out = twofactor(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err} lacks {needle}");
        assert!(
            !err.contains("JBSWY3DPEHPK3PX"),
            "{args:?} echoed the secret: {err}"
        );
    }
}

#[test]
fn hostile_secret_text_is_refused_without_echo() {
    for hostile in [
        "\u{1b}[31mRED",
        "AAAA\nBBBB",
        "ÀÉÎ",
        "JBSW%00",
        &"A".repeat(100_000),
    ] {
        let out = twofactor(&["otp", "code", "--secret", hostile]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{hostile:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err:?}");
        assert!(!err.contains('\u{1b}'), "terminal escape echoed: {err:?}");
    }
}

#[test]
fn help_answers_questions_and_exits_0() {
    let out = twofactor(&["otp", "code", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for flag in [
        "--secret",
        "--time",
        "--digits",
        "--period",
        "--algorithm",
        "--grouped",
        "oathtool",
    ] {
        assert!(help.contains(flag), "help lacks {flag}:\n{help}");
    }
    assert_eq!(twofactor(&["--version"]).status.code(), Some(0));
}
