//! The `twofactor` binary as an operator uses it: real processes, real exit
//! codes, `oathtool` as the reference for `otp code`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use support::output_with;

const SECRET: &str = "JBSWY3DPEHPK3PXP";
/// 160 bits: what an enrolled authenticator needs at least 128 of.
const LONG_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

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
    let out = output_with(
        Command::new(env!("CARGO_BIN_EXE_twofactor")).args([
            "otp",
            "code",
            "--secret",
            "-",
            "--time",
            "1700000000",
        ]),
        Some("jbsw y3dp ehpk 3pxp\n"),
    );
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

/// A data directory with its own SQLite database and master key.
fn admin(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    output_with(
        Command::new(env!("CARGO_BIN_EXE_twofactor"))
            .args(args)
            .env("TWOFACTOR_DATA_DIR", dir)
            .env_remove("TWOFACTOR_DATABASE_URL"),
        stdin,
    )
}

#[test]
fn admin_commands_manage_users_and_read_the_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = admin(d, &["migrate"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("database is up to date"));
    let help = stdout(&admin(d, &["user", "--help"], None));
    for command in ["add", "enroll-totp", "reset-2fa", "unlock"] {
        assert!(
            help.contains(command),
            "user --help lacks {command}:\n{help}"
        );
    }

    let out = admin(
        d,
        &[
            "user",
            "add",
            "Dr.Smith",
            "--email",
            "smith@clinic.example",
            "--role",
            "admin",
            "--practice",
            "Main St Clinic",
            "--password-stdin",
        ],
        Some("a long enough passphrase\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "created user dr.smith (admin)\n");

    // Without --password-stdin a password is generated and shown once.
    let out = admin(
        d,
        &[
            "user",
            "add",
            "nurse",
            "--email",
            "nurse@clinic.example",
            "--phone",
            "+12015550123",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("password: "));

    let out = admin(
        d,
        &[
            "user",
            "enroll-totp",
            "dr.smith",
            "--secret",
            LONG_SECRET,
            "--digits",
            "7",
            "--period",
            "10",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "otpauth://totp/twofactor:dr.smith?secret={LONG_SECRET}&issuer=twofactor&algorithm=SHA1&digits=7&period=10\n"
        )
    );

    for (args, needle) in [
        (
            vec!["user", "add", "dr.smith", "--email", "x@clinic.example"],
            "already exists",
        ),
        (
            vec!["user", "add", "bad name", "--email", "x@clinic.example"],
            "username must be",
        ),
        (
            vec!["user", "add", "bob", "--email", "not-an-email"],
            "email must be",
        ),
        // The pages' and the API's rule: an ASCII address with a domain.
        (
            vec!["user", "add", "bob", "--email", "<script>@x.co"],
            "email must be",
        ),
        (
            vec!["user", "add", "bob", "--email", "bob@localhost"],
            "email must be",
        ),
        (
            vec![
                "user",
                "add",
                "bob",
                "--email",
                "b@c.example",
                "--phone",
                "555-1234",
            ],
            "internationally",
        ),
        (
            vec![
                "user",
                "add",
                "bob",
                "--email",
                "b@c.example",
                "--phone",
                "+1 555 555 0123",
            ],
            "not a valid number",
        ),
        (
            vec!["user", "enroll-totp", "nobody"],
            "no user named nobody",
        ),
        (
            vec!["user", "enroll-totp", "dr.smith", "--secret", "JBSW1"],
            "'1'",
        ),
        (vec!["user", "unlock", "nobody"], "no user named nobody"),
        // 80 bits: under the 128 an authenticator's secret needs.
        (
            vec![
                "user",
                "enroll-totp",
                "dr.smith",
                "--secret",
                "JBSWY3DPEHPK3PXP",
            ],
            "at least 128",
        ),
        (
            vec!["user", "enroll-totp", "dr.smith", "--period", "121"],
            "10 to 120 seconds",
        ),
        (
            vec!["user", "enroll-totp", "dr.smith", "--period", "3600"],
            "10 to 120 seconds",
        ),
        // A Cyrillic "а" in front of a Latin "lice".
        (
            vec!["user", "add", "\u{430}lice", "--email", "a@c.example"],
            "mixes scripts",
        ),
        (
            vec!["user", "add", "api.boss", "--email", "a@c.example"],
            "kept for users created through the API",
        ),
    ] {
        let out = admin(d, &args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).lines().count(),
            1,
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    let out = admin(
        d,
        &[
            "user",
            "add",
            "bob",
            "--email",
            "b@c.example",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("at least 12 characters"));

    assert!(
        admin(d, &["user", "unlock", "dr.smith"], None)
            .status
            .success()
    );
    let out = admin(d, &["user", "reset-2fa", "dr.smith"], None);
    assert!(stdout(&out).contains("removed every second factor"));

    let out = admin(d, &["audit", "tail", "-n", "3"], None);
    let lines: Vec<_> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[2].contains("reset_2fa") && lines[2].contains("user=dr.smith"),
        "{lines:?}"
    );
    assert!(lines[1].contains("unlock"), "{lines:?}");
    let out = admin(d, &["audit", "tail", "-n", "1", "--json"], None);
    let line = stdout(&out);
    assert!(
        line.starts_with('{') && line.contains("\"event\":\"reset_2fa\""),
        "{line}"
    );
    assert!(line.contains("\"outcome\":\"success\""), "{line}");

    let out = admin(d, &["audit", "tail", "-n", "0"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_configuration_stops_the_start_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value, needle) in [
        ("TWOFACTOR_LISTEN", "nowhere", "listen (TWOFACTOR_LISTEN)"),
        (
            "TWOFACTOR_REQUIRE_2FA",
            "maybe",
            "require_2fa (TWOFACTOR_REQUIRE_2FA)",
        ),
        (
            "TWOFACTOR_DATABASE_URL",
            "mysql://x",
            "database_url (TWOFACTOR_DATABASE_URL)",
        ),
        (
            "TWOFACTOR_MASTER_KEY",
            "short",
            "master_key (TWOFACTOR_MASTER_KEY)",
        ),
        (
            "TWOFACTOR_SMS_PROVIDER",
            "carrier-pigeon",
            "sms_provider (TWOFACTOR_SMS_PROVIDER)",
        ),
        ("TWOFACTOR_LISTN", "127.0.0.1:1", "listn"),
        (
            "TWOFACTOR_TRUSTED_PROXIES",
            "127.0.0.1, proxy.local",
            "trusted_proxies (TWOFACTOR_TRUSTED_PROXIES)",
        ),
        (
            "TWOFACTOR_PREVIOUS_MASTER_KEYS",
            "2222222222222222222222222222222222222222222222222222222222222222,short",
            "previous_master_keys (TWOFACTOR_PREVIOUS_MASTER_KEYS)",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_twofactor"))
            .args(["serve"])
            .env("TWOFACTOR_DATA_DIR", dir.path())
            .env(key, value)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{key}: {err}");
        let error_lines: Vec<_> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(error_lines.len(), 1, "{key}: {err}");
        assert!(err.contains(needle), "{key}: {err}");
        assert!(!err.contains("short"), "the key's value is not echoed");
        assert!(!err.contains("22222222"), "no key is echoed");
    }
    let toml = dir.path().join("bad.toml");
    std::fs::write(&toml, "listen = [1, 2\nissuer = 'x'\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_twofactor"))
        .args(["serve", "--config", toml.to_str().unwrap()])
        .env("TWOFACTOR_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: configuration"),
        "{}",
        stderr(&out)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_twofactor"))
        .args(["serve", "--config", "/nonexistent/twofactor.toml"])
        .output()
        .unwrap();
    assert!(stderr(&out).contains("does not exist"));
}

fn http_get(port: u16, path: &str) -> String {
    use std::io::Read as _;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

/// Starts `twofactor demo` in `dir` on a free port: the child, its port
/// and what it printed up to "Stop: Ctrl-C".
fn start_demo(dir: &std::path::Path) -> (std::process::Child, u16, String) {
    use std::io::BufRead as _;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_twofactor"))
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env_remove("TWOFACTOR_DATA_DIR")
        .env_remove("TWOFACTOR_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("Stop: Ctrl-C") {
            break;
        }
    }
    (child, port, printed)
}

fn demo_secret(printed: &str) -> String {
    printed
        .split("secret=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .expect("the demo prints the otpauth URI")
        .to_owned()
}

#[test]
fn demo_prints_logins_uri_and_qr_and_serves_the_login_page() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port, printed) = start_demo(dir.path());
    // localhost, not the loopback address: browsers take passkeys there.
    let open = format!("Open http://localhost:{port}/login");
    for needle in [
        open.as_str(),
        "passkey",
        "drsmith / demo-password-smith",
        "nurse.jones / demo-password-jones",
        "otpauth://totp/twofactor:drsmith?secret=",
        "A NEW secret",
        "▀",
        "/dev/outbox",
    ] {
        assert!(
            printed.contains(needle),
            "demo output lacks {needle}:\n{printed}"
        );
    }
    let mut page = String::new();
    for _ in 0..50 {
        page = http_get(port, "/login");
        if page.starts_with("HTTP/1.1 200") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(page.contains("Log In"), "{page}");
    assert!(
        http_get(port, "/dev/outbox").starts_with("HTTP/1.1 200"),
        "demo mode has the outbox page"
    );
    assert!(
        dir.path().join("data/twofactor.db").exists(),
        "the embedded default database"
    );
    let _ = child.kill();
    let _ = child.wait();

    // A second run keeps the secret the phone scanned, and says so.
    let (mut again, _, printed_again) = start_demo(dir.path());
    let _ = again.kill();
    let _ = again.wait();
    assert_eq!(demo_secret(&printed_again), demo_secret(&printed));
    assert!(
        printed_again.contains("The same secret as the last run"),
        "{printed_again}"
    );
}

#[test]
fn api_keys_are_printed_once_listed_by_prefix_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = admin(
        d,
        &[
            "api-key",
            "create",
            "EHR bridge",
            "--practice",
            "North Clinic",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out).trim().to_owned();
    assert!(key.starts_with("tfk_") && key.len() > 40, "{key}");
    assert!(stderr(&out).contains("shown once"));
    let prefix: String = key.chars().take(12).collect();

    let list = stdout(&admin(d, &["api-key", "list"], None));
    assert!(
        list.contains(&prefix) && list.contains("EHR bridge") && list.contains("live"),
        "{list}"
    );
    assert!(
        list.contains("scopes=verify,manage "),
        "the default: {list}"
    );

    // Scopes are chosen explicitly; manage-all is warned about.
    let out = admin(
        d,
        &["api-key", "create", "checker", "--scope", "verify"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("with scopes verify;"),
        "{}",
        stderr(&out)
    );
    let out = admin(
        d,
        &[
            "api-key",
            "create",
            "directory",
            "--scope",
            "manage-all",
            "--scope",
            "verify",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("verify manage-all"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("warning: this key can manage everyone"),
        "{}",
        stderr(&out)
    );
    let audit = stdout(&admin(d, &["audit", "tail", "-n", "5"], None));
    assert!(
        audit.contains("api_key_created") && audit.contains("manage-all"),
        "{audit}"
    );
    for hostile in ["admin", "", "verify,manage", "MANAGE", "manage-all\n", "*"] {
        let out = admin(d, &["api-key", "create", "x", "--scope", hostile], None);
        assert_eq!(out.status.code(), Some(2), "{hostile:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("verify, manage, manage-all"),
            "{}",
            stderr(&out)
        );
    }
    assert!(!list.contains(&key), "the key itself is never listed");

    let revoked = admin(d, &["api-key", "revoke", &prefix], None);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(stdout(&admin(d, &["api-key", "list"], None)).contains("revoked="));
    let again = admin(d, &["api-key", "revoke", &prefix], None);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("no live key"));

    for bad in [
        vec!["api-key", "create", ""],
        vec!["api-key", "create"],
        vec!["api-key", "revoke"],
        vec!["api-key", "frobnicate"],
    ] {
        let out = admin(d, &bad, None);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).trim().lines().count(), 1, "{bad:?}");
    }
    let out = admin(d, &["api-key", "create", "x", "--practice", "  "], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("practice name is empty"),
        "{}",
        stderr(&out)
    );
    let help = stdout(&admin(d, &["api-key", "--help"], None));
    for command in ["create", "list", "revoke"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn audit_export_writes_csv_and_json_lines_for_a_period() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = admin(
        d,
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@clinic.example",
            "--password-stdin",
        ],
        Some("correct horse battery staple\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        admin(d, &["user", "unlock", "alice"], None)
            .status
            .success()
    );

    let csv = admin(d, &["audit", "export", "--since", "2000-01-01"], None);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let text = stdout(&csv);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,time,user_id,username,event,outcome,ip,user_agent,detail"
    );
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].contains(",alice,user_created,success,local,twofactor CLI,by administrator"),
        "{text}"
    );
    assert!(lines[2].contains(",unlock,"), "{text}");
    assert!(stderr(&csv).contains("exported 2 events"));

    let jsonl = stdout(&admin(
        d,
        &[
            "audit",
            "export",
            "--since",
            "2000-01-01",
            "--format",
            "jsonl",
        ],
        None,
    ));
    let rows: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["event"], "user_created");
    assert!(
        rows[0]["id"].as_i64().unwrap() < rows[1]["id"].as_i64().unwrap(),
        "oldest first"
    );

    let future = admin(
        d,
        &[
            "audit",
            "export",
            "--since",
            "2999-01-01",
            "--until",
            "2999-02-01",
        ],
        None,
    );
    assert!(future.status.success());
    assert_eq!(stdout(&future).lines().count(), 1, "header only");
    let before = admin(
        d,
        &[
            "audit",
            "export",
            "--since",
            "2000-01-01",
            "--until",
            "2000-01-02",
        ],
        None,
    );
    assert_eq!(stdout(&before).lines().count(), 1);

    for bad in [
        vec!["audit", "export"],
        vec!["audit", "export", "--since", "yesterday"],
        vec!["audit", "export", "--since", "2026-02-30"],
        vec![
            "audit",
            "export",
            "--since",
            "2026-01-01",
            "--format",
            "xlsx",
        ],
        vec!["audit", "export", "--since", "1969-12-31"],
    ] {
        let out = admin(d, &bad, None);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
    let backwards = admin(
        d,
        &[
            "audit",
            "export",
            "--since",
            "2026-01-02",
            "--until",
            "2026-01-01",
        ],
        None,
    );
    assert_eq!(backwards.status.code(), Some(1));
    assert!(stderr(&backwards).contains("--since must be before --until"));
}

#[test]
fn practice_add_creates_a_practice_for_its_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = admin(d, &["practice", "add", "Riverside Family Clinic"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("practice Riverside Family Clinic (id "),
        "{}",
        stdout(&out)
    );
    let again = admin(d, &["practice", "add", "Riverside Family Clinic"], None);
    assert_eq!(stdout(&again), stdout(&out), "adding twice is harmless");
    let user = admin(
        d,
        &[
            "user",
            "add",
            "office.manager",
            "--email",
            "om@riverside.example",
            "--practice",
            "Riverside Family Clinic",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("correct horse battery staple\n"),
    );
    assert!(user.status.success(), "{}", stderr(&user));
    assert!(stdout(&user).contains("(admin)"));
    for bad in [
        vec!["practice", "add", ""],
        vec!["practice", "add"],
        vec!["practice", "remove", "x"],
    ] {
        assert_eq!(admin(d, &bad, None).status.code(), Some(2), "{bad:?}");
    }
    let control = admin(d, &["practice", "add", "bad\u{7}name"], None);
    assert_eq!(control.status.code(), Some(1));
    assert!(stderr(&control).contains("control characters"));
}

#[test]
fn emergency_access_prints_a_one_hour_link_for_an_admin_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, role) in [("office.manager", "admin"), ("nurse", "staff")] {
        let out = admin(
            d,
            &[
                "user",
                "add",
                name,
                "--email",
                &format!("{name}@clinic.example"),
                "--role",
                role,
                "--password-stdin",
            ],
            Some("correct horse battery staple\n"),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let help = stdout(&admin(d, &["emergency-access", "--help"], None));
    assert!(
        help.contains("--reason") && help.contains("one hour"),
        "{help}"
    );

    let out = admin(
        d,
        &[
            "emergency-access",
            "office.manager",
            "--reason",
            "phone stolen",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let link = stdout(&out);
    assert!(
        link.trim().starts_with("http://127.0.0.1:8080/emergency/") && link.lines().count() == 1,
        "{link}"
    );
    assert!(stderr(&out).contains("expires in 1 hour"));
    let token = link.trim().rsplit('/').next().unwrap();
    let trail = admin(
        d,
        &[
            "audit",
            "export",
            "--since",
            "2000-01-01",
            "--format",
            "jsonl",
        ],
        None,
    );
    let trail = stdout(&trail);
    assert!(trail.contains("emergency_access_issued") && trail.contains("reason: phone stolen"));
    assert!(!trail.contains(token), "the link is never in the trail");

    for (args, says) in [
        (
            vec!["emergency-access", "nurse", "--reason", "x"],
            "not an administrator",
        ),
        (
            vec!["emergency-access", "ghost", "--reason", "x"],
            "no user named",
        ),
        (
            vec!["emergency-access", "office.manager", "--reason", " "],
            "--reason",
        ),
        (
            vec!["emergency-access", "office.manager", "--reason", "a\nb"],
            "one line",
        ),
    ] {
        let out = admin(d, &args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "one line");
        assert!(stdout(&out).is_empty());
    }
    let missing = admin(d, &["emergency-access", "office.manager"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("--reason"));
}

/// The data directory and the database files are this user's alone: a
/// new directory is 0700, the database 0600, and files an older version
/// left readable by others are tightened at the next start.
#[test]
fn the_data_directory_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("nested").join("data");
    let out = admin(&data, &["migrate"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&data), 0o700, "data dir");
    let db = data.join("twofactor.db");
    assert_eq!(mode(&db), 0o600, "database");
    let out = admin(
        &data,
        &["user", "add", "boss", "--email", "b@c.example"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&data.join("master.key")), 0o600, "master key");

    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = admin(&data, &["migrate"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&db), 0o600, "tightened at start");
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path) & 0o077, 0, "{} is private", path.display());
    }
}

/// Secret settings can come from files (`TWOFACTOR_<KEY>_FILE`), as
/// systemd credentials and container secrets deliver them; a missing file
/// stops the command with one line naming the key.
#[test]
fn secret_settings_are_read_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url_file = d.join("database-url");
    let db = d.join("elsewhere.db");
    std::fs::write(&url_file, format!("sqlite://{}\n", db.display())).unwrap();
    let out = output_with(
        Command::new(env!("CARGO_BIN_EXE_twofactor"))
            .args(["migrate"])
            .env("TWOFACTOR_DATA_DIR", d)
            .env_remove("TWOFACTOR_DATABASE_URL")
            .env("TWOFACTOR_DATABASE_URL_FILE", &url_file),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(db.exists(), "the database named in the file");

    let out = output_with(
        Command::new(env!("CARGO_BIN_EXE_twofactor"))
            .args(["migrate"])
            .env("TWOFACTOR_DATA_DIR", d)
            .env_remove("TWOFACTOR_DATABASE_URL")
            .env("TWOFACTOR_MASTER_KEY_FILE", d.join("no-such-file")),
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("master_key (TWOFACTOR_MASTER_KEY_FILE): cannot read"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn oidc_clients_are_registered_listed_and_removed_and_keys_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = admin(
        d,
        &[
            "oidc",
            "client",
            "add",
            "Grafana",
            "--redirect-uri",
            "https://grafana.clinic.example/login/generic_oauth",
            "--practice",
            "North Clinic",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let id = printed
        .lines()
        .find_map(|l| l.strip_prefix("client_id: "))
        .expect("client_id printed")
        .to_owned();
    let secret = printed
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .expect("client_secret printed");
    assert!(id.starts_with("tfc_") && secret.len() >= 43, "{printed}");
    let out = admin(
        d,
        &[
            "oidc",
            "client",
            "add",
            "SPA",
            "--public",
            "--redirect-uri",
            "http://localhost:3000/cb",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("client_secret"),
        "a public client has no secret"
    );
    let list = stdout(&admin(d, &["oidc", "client", "list"], None));
    assert!(
        list.contains(&id) && list.contains("confidential") && list.contains("public"),
        "{list}"
    );
    assert!(!list.contains(secret), "the secret is never listed");
    // Hostile and malformed redirect URIs and names: a clear error, nothing registered.
    for bad in [
        "http://grafana.clinic.example/cb",
        "https://a.example/cb#x",
        "javascript:alert(1)",
        "https://a.example/c b",
        "",
    ] {
        let out = admin(
            d,
            &["oidc", "client", "add", "X", "--redirect-uri", bad],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("error:"), "{}", stderr(&out));
    }
    let out = admin(d, &["oidc", "client", "add", "X"], None);
    assert_eq!(out.status.code(), Some(2), "a redirect URI is required");
    let out = admin(
        d,
        &[
            "oidc",
            "client",
            "add",
            "X",
            "--redirect-uri",
            "https://a.example/cb",
            "--id-token-alg",
            "none",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stdout(&admin(d, &["oidc", "client", "list"], None))
            .matches("tfc_")
            .count(),
        2
    );
    let out = admin(d, &["oidc", "rotate-key"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("new signing keys:"));
    let out = admin(d, &["oidc", "client", "remove", &id], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = admin(d, &["oidc", "client", "remove", &id], None);
    assert_eq!(out.status.code(), Some(1));
    let audit = stdout(&admin(d, &["audit", "tail", "-n", "50"], None));
    assert!(
        audit.contains("oidc_client_added")
            && audit.contains("oidc_client_removed")
            && audit.contains("oidc_key_rotated"),
        "{audit}"
    );
}
