//! Two `twofactor serve` processes on different ports, one PostgreSQL
//! database, as behind a load balancer: a login started
//! on one finishes on the other; a code used on one is a replay on the
//! other; locks, remembered devices, policy changes and revocations are seen
//! by both at the next request; each outbox message is sent once.
//!
//! Needs PostgreSQL (`TEST_DATABASE_URL`, default the CI server) and the
//! `createdb`/`dropdb` clients; without them it says SKIPPED, except under
//! `CI=true`, where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::{Duration, Instant};

use support::{Database, Site, free_port};
use testkit::smtp_sink::SmtpSink;
use testkit::{Client, PASSWORD};

const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn phone() -> otp::Totp {
    otp::Totp::new(
        otp::Secret::from_base32(SECRET).unwrap(),
        otp::Algorithm::Sha1,
        otp::Digits::SIX,
        otp::Period::DEFAULT,
    )
}

/// The code for `offset` steps from now.
fn code(offset: i64) -> String {
    let at = now().saturating_add_signed(offset * 30);
    phone().generate(at).unwrap().as_str().to_owned()
}

/// A browser's cookie jar moved from one server to another, as a load
/// balancer without sticky sessions would.
fn moved(from: &Client, to_port: u16) -> Client {
    let mut client = Client::new(format!("http://127.0.0.1:{to_port}"));
    for name in ["tf_session", "tf_csrf", "tf_remember"] {
        if let Some(value) = from.cookie(name) {
            client.set_cookie(name, value);
        }
    }
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_act_as_one_service() {
    let Some(db) = Database::create("scale") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start();
    let site = Site {
        dir: dir.path().to_owned(),
        database_url: Some(db.url.clone()),
        smtp_port: sink.port,
    };
    site.run(&["migrate"], "");
    for (name, role) in [("boss", "admin"), ("drsmith", "staff"), ("nurse", "staff")] {
        site.add_user(name, role);
    }
    for name in ["drsmith", "nurse"] {
        site.run(&["user", "enroll-totp", name, "--secret", SECRET], "");
    }
    let (port_a, port_b) = (free_port(), free_port());
    let _a = site.serve(port_a);
    let _b = site.serve(port_b);
    let on_a = || Client::new(format!("http://127.0.0.1:{port_a}"));

    // Password on A, code on B, logged in on A.
    let mut browser = on_a();
    let reply = browser.submit_password("drsmith", PASSWORD).await;
    assert!(reply.location().unwrap().starts_with("/login/2fa"));
    let mut on_b = moved(&browser, port_b);
    let first = code(0);
    let reply = on_b.submit_token_remember(&first).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let mut browser = moved(&on_b, port_a);
    assert!(browser.get("/").await.body.contains("drsmith"));

    // The same code is a replay on the other process.
    let mut second = Client::new(format!("http://127.0.0.1:{port_b}"));
    second.submit_password("nurse", PASSWORD).await;
    let nurse_code = code(0);
    assert_eq!(second.submit_token(&nurse_code).await.status, 303);
    let mut replay = on_a();
    replay.submit_password("nurse", PASSWORD).await;
    let refused = replay.submit_token(&nurse_code).await;
    assert_eq!(refused.status, 401, "a replay on the other process");

    // The remembered device from B skips the code on A; revoked on A, B
    // asks for it again.
    let mut remembered = on_a();
    remembered.set_cookie("tf_remember", on_b.cookie("tf_remember").unwrap());
    let reply = remembered.submit_password("drsmith", PASSWORD).await;
    assert_eq!(reply.location(), Some("/"), "skipped on A");
    let revoked = remembered.submit("/account/devices/revoke-all", &[]).await;
    assert_eq!(revoked.status, 303);
    let mut after = Client::new(format!("http://127.0.0.1:{port_b}"));
    after.set_cookie(
        "tf_remember",
        remembered.cookie("tf_remember").unwrap_or("x"),
    );
    let reply = after.submit_password("drsmith", PASSWORD).await;
    assert!(
        reply.location().unwrap().starts_with("/login/2fa"),
        "revoked on B too"
    );

    // Wrong codes on both processes add up to one lock, seen by both.
    for round in 0..2 {
        let port = if round == 0 { port_a } else { port_b };
        let mut client = Client::new(format!("http://127.0.0.1:{port}"));
        client.submit_password("nurse", PASSWORD).await;
        for _ in 0..5 {
            client.submit_token("000000").await;
        }
    }
    for port in [port_a, port_b] {
        let mut client = Client::new(format!("http://127.0.0.1:{port}"));
        client.submit_password("nurse", PASSWORD).await;
        let locked = client.submit_token(&code(1)).await;
        assert_eq!(locked.status, 429, "locked on {port}: {}", locked.body);
    }

    // A policy change on A applies at B's next request.
    let mut boss = on_a();
    boss.submit_password("boss", PASSWORD).await;
    let saved = boss
        .submit(
            "/admin/policy",
            &[
                ("allow_sms", "on"),
                ("remember_days", "0"),
                ("idle_timeout_minutes", "30"),
                ("password_min_length", "12"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let mut page = Client::new(format!("http://127.0.0.1:{port_b}"));
    page.submit_password("drsmith", PASSWORD).await;
    let two_factor = page.get("/login/2fa").await;
    assert!(two_factor.body.contains("Two-Factor Login"));
    assert!(
        !two_factor.body.contains("Save token for"),
        "{}",
        two_factor.body
    );

    // Each outbox message goes out once though both workers run.
    let before = sink.messages().len();
    for i in 0..10 {
        let port = if i % 2 == 0 { port_a } else { port_b };
        let mut client = Client::new(format!("http://127.0.0.1:{port}"));
        for who in ["boss", "drsmith", "nurse"] {
            client.request_password_reset(who).await;
        }
        if i == 2 {
            break; // three per account per hour: nine emails in all
        }
    }
    let resets = || {
        sink.messages()[before..]
            .iter()
            .filter(|m| m.data.contains("reset your password"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while resets() < 9 {
        assert!(Instant::now() < deadline, "the emails did not all arrive");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Three more passes of both workers: nothing goes out twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(resets(), 9, "each committed email sent once");
}
