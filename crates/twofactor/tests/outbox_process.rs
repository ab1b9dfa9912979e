//! The outbox across a real crash: `twofactor serve` commits a reset email,
//! is killed with SIGKILL before the mail server is reachable, and the next
//! start sends it, once. Its logs and `outbox list` never show the link.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use support::{free_port, http, output_with};
use testkit::smtp_sink::SmtpSink;

fn command(dir: &Path, port: u16, smtp_port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_twofactor"));
    command
        .env("TWOFACTOR_DATA_DIR", dir)
        .env_remove("TWOFACTOR_DATABASE_URL")
        .env("TWOFACTOR_LISTEN", format!("127.0.0.1:{port}"))
        .env("TWOFACTOR_PUBLIC_URL", "http://login.clinic.test")
        .env(
            "TWOFACTOR_SMTP_URL",
            format!("smtp://127.0.0.1:{smtp_port}"),
        )
        .env("TWOFACTOR_MAIL_FROM", "Clinic <login@clinic.test>")
        .env("TWOFACTOR_ISSUER", "Riverside Clinic");
    command
}

fn run(dir: &Path, port: u16, smtp_port: u16, args: &[&str], stdin: &str) -> Output {
    output_with(command(dir, port, smtp_port).args(args), Some(stdin))
}

fn serve(dir: &Path, port: u16, smtp_port: u16, log: &str) -> Child {
    let out = std::fs::File::create(dir.join(format!("{log}.out"))).unwrap();
    let err = std::fs::File::create(dir.join(format!("{log}.err"))).unwrap();
    let child = command(dir, port, smtp_port)
        .arg("serve")
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !http(port, "GET /healthz HTTP/1.1\r\n", "").starts_with("HTTP/1.1 200") {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Asks for a reset link for `who` like a browser: the form, its CSRF
/// cookie and field, then the POST.
fn ask_reset(port: u16, who: &str) -> String {
    let page = http(port, "GET /password/forgot HTTP/1.1\r\n", "");
    let cookie = page
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .expect("csrf cookie")
        .to_owned();
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf field")
        .to_owned();
    http(
        port,
        &format!(
            "POST /password/forgot HTTP/1.1\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        ),
        &format!("username_or_email={who}&csrf_token={token}"),
    )
}

/// Undoes quoted-printable soft breaks and escapes, enough to read a link.
fn unquote(data: &str) -> String {
    let joined = data.replace("=\r\n", "").replace("=\n", "");
    let mut out = String::new();
    let mut rest = joined.as_str();
    while let Some(at) = rest.find('=') {
        out.push_str(&rest[..at]);
        let hex = rest.get(at + 1..at + 3).unwrap_or("");
        match u8::from_str_radix(hex, 16) {
            Ok(byte) if hex.len() == 2 => {
                out.push(char::from(byte));
                rest = &rest[at + 3..];
            }
            _ => {
                out.push('=');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn a_reset_email_committed_before_a_sigkill_is_sent_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = free_port();
    // The mail server is down at first: nothing listens on this port.
    let smtp_port = free_port();
    let added = run(
        d,
        port,
        smtp_port,
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@clinic.test",
            "--password-stdin",
        ],
        "correct horse battery staple\n",
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let mut first = serve(d, port, smtp_port, "first");
    let reply = ask_reset(port, "alice");
    // Accepted: on to the page that says a link may be on its way.
    assert!(
        reply.starts_with("HTTP/1.1 303") && reply.contains("done=reset-requested"),
        "{reply}"
    );
    // Its first attempt finds no mail server; then it is killed. (Killed in
    // the middle of an attempt, the message would wait for its claim's
    // lease to run out: that path is tested with the test clock in the
    // integration suite.)
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = run(d, port, smtp_port, &["outbox", "list", "--json"], "");
        if String::from_utf8_lossy(&listed.stdout).contains("\"status\":\"pending\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first attempt never finished"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();

    let listed = run(d, port, smtp_port, &["outbox", "list"], "");
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("pending") && listed.contains("password-reset"),
        "{listed}"
    );
    assert!(
        listed.contains("a•••@clinic.test"),
        "recipients are masked: {listed}"
    );

    let sink = SmtpSink::start_on(
        std::net::TcpListener::bind(("127.0.0.1", smtp_port)).unwrap(),
        false,
    );
    let mut second = serve(d, port, smtp_port, "second");
    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.messages().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the committed email never went out"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Two more worker passes: nothing is sent twice.
    std::thread::sleep(Duration::from_millis(2500));
    second.kill().unwrap();
    second.wait().unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "sent exactly once");
    let text = unquote(&messages[0].data);
    assert!(
        text.contains("Subject: Riverside Clinic: reset your password"),
        "{text}"
    );
    let start = text
        .find("http://login.clinic.test/password/reset/")
        .expect("the link is built from the configured public URL");
    let link = text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .next()
        .unwrap();
    let token = link.rsplit('/').next().unwrap();
    assert!(token.len() >= 40, "{link}");

    // The link's token is in no log line and in no support listing.
    let listed = run(d, port, smtp_port, &["outbox", "list"], "");
    let listed_json = run(d, port, smtp_port, &["outbox", "list", "--json"], "");
    let mut everything = String::new();
    for log in ["first.out", "first.err", "second.out", "second.err"] {
        everything.push_str(&std::fs::read_to_string(d.join(log)).unwrap());
    }
    for output in [&listed, &listed_json] {
        everything.push_str(&String::from_utf8_lossy(&output.stdout));
        everything.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    assert!(
        !everything.contains(token),
        "the reset token leaked:\n{everything}"
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("sent"));
    let json = String::from_utf8(listed_json.stdout).unwrap();
    let row: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(row["status"], "sent");
    assert!(row["provider_id"].as_str().unwrap().contains("SINK1"));

    // Outside the demo, the log SMS provider is announced once at start.
    let first_err = std::fs::read_to_string(d.join("first.err")).unwrap();
    assert_eq!(
        first_err
            .matches("text messages, security codes included, are printed")
            .count(),
        1,
        "{first_err}"
    );

    // Support can retry a message only when it failed; unknown ids are refused.
    let retry = run(d, port, smtp_port, &["outbox", "retry", "999"], "");
    assert_eq!(retry.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&retry.stderr).contains("no failed or pending message"));
    let bad = run(
        d,
        port,
        smtp_port,
        &["outbox", "retry", "x'; DROP TABLE outbox"],
        "",
    );
    assert_eq!(bad.status.code(), Some(2));
}

/// The provider settings are read from the documented `TWOFACTOR_*`
/// variables; a missing or bad one stops the start with one line naming it,
/// and never echoes a secret.
#[test]
fn provider_settings_come_from_the_documented_variables() {
    let dir = tempfile::tempdir().unwrap();
    let start = |vars: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_twofactor"));
        command
            .arg("migrate")
            .env("TWOFACTOR_DATA_DIR", dir.path())
            .env_remove("TWOFACTOR_DATABASE_URL");
        for (key, value) in vars {
            command.env(key, value);
        }
        let out = command.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let twilio = [
        ("TWOFACTOR_SMS_PROVIDER", "twilio"),
        (
            "TWOFACTOR_TWILIO_ACCOUNT_SID",
            "AC00000000000000000000000000000001",
        ),
        ("TWOFACTOR_TWILIO_AUTH_TOKEN", "hunter2-token"),
        ("TWOFACTOR_TWILIO_FROM", "+12015550100"),
        ("TWOFACTOR_TWILIO_API_BASE", "http://127.0.0.1:9"),
    ];
    assert_eq!(start(&twilio).0, Some(0));
    let (code, err) = start(&twilio[..2]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("twilio_auth_token (TWOFACTOR_TWILIO_AUTH_TOKEN)"),
        "{err}"
    );
    let mut bad_base = twilio.to_vec();
    bad_base[4] = ("TWOFACTOR_TWILIO_API_BASE", "javascript:alert(1)");
    let (code, err) = start(&bad_base);
    assert_eq!(code, Some(1));
    assert!(!err.contains("hunter2"), "{err}");

    let webhook = [
        ("TWOFACTOR_SMS_PROVIDER", "webhook"),
        ("TWOFACTOR_SMS_WEBHOOK_URL", "http://127.0.0.1:9/sms"),
        ("TWOFACTOR_SMS_WEBHOOK_SECRET", "a-secret-of-24-characters"),
    ];
    assert_eq!(start(&webhook).0, Some(0));
    let (code, err) = start(&[
        webhook[0],
        webhook[1],
        ("TWOFACTOR_SMS_WEBHOOK_SECRET", "tiny"),
    ]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("at least 16") && !err.contains("tiny"),
        "{err}"
    );

    let (code, err) = start(&[(
        "TWOFACTOR_SMTP_URL",
        "smtps://user:hunter2@mail.clinic.test:465",
    )]);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = start(&[("TWOFACTOR_SMTP_URL", "imap://user:hunter2@mail.clinic.test")]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("TWOFACTOR_SMTP_URL") && !err.contains("hunter2"),
        "{err}"
    );
    let (code, err) = start(&[("TWOFACTOR_SMS_PROVIDER", "pigeon")]);
    assert_eq!(code, Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("log, twilio or webhook"), "{err}");
}
