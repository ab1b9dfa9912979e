//! Faults, each against real processes: PostgreSQL
//! restarted while requests flow; `twofactor` killed with SIGKILL in the
//! middle of enrollments and password changes, on SQLite and PostgreSQL; an
//! unwritable or full data directory at start. (The SMS provider down for a
//! minute is an integration story: `delivery::an_sms_provider_down_for_a_minute…`.)
//!
//! PostgreSQL comes from `TEST_DATABASE_URL` (a fresh database per test) or,
//! for the restart, a private server started with `initdb`/`pg_ctl`; without
//! them a test says SKIPPED, except under `CI=true`, where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::{Duration, Instant};

use support::{Database, PgCluster, Site, free_port};
use testkit::{Client, PASSWORD};

/// What one request during the restart got.
#[derive(Debug)]
struct Probe {
    took: Duration,
    status: u16,
    problem_json: bool,
    page_says_unavailable: bool,
}

async fn probe(client: &mut Client, path: &str, key: &str) -> Probe {
    let started = Instant::now();
    let reply = tokio::time::timeout(
        Duration::from_secs(10),
        client.get_with(path, &[("authorization", &format!("Bearer {key}"))]),
    )
    .await
    .expect("a request hung for 10 s");
    let took = started.elapsed();
    Probe {
        took,
        status: reply.status,
        problem_json: reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/problem+json")),
        page_says_unavailable: reply.body.contains("Temporarily unavailable"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_gives_quick_503s_and_the_service_recovers_by_itself() {
    let Some(cluster) = PgCluster::start_new() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let site = Site {
        dir: dir.path().to_owned(),
        database_url: Some(cluster.url()),
        smtp_port: 1,
    };
    site.run(&["migrate"], "");
    site.add_user("drsmith", "staff");
    let key = site.run(&["api-key", "create", "restart test"], "");
    let key = key.trim().to_owned();
    let port = free_port();
    let server = site.serve(port);

    // One API user and one logged-in browser, both needing the database
    // at every request.
    let mut api = Client::new(server.base());
    let made = api
        .post_raw_with(
            "/api/v1/users",
            "application/json",
            br#"{"email":"pat@clinic.example","external_id":"pat-1"}"#.to_vec(),
            &[("authorization", &format!("Bearer {key}"))],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id: serde_json::Value = serde_json::from_str(&made.body).unwrap();
    let user_path = format!("/api/v1/users/{}", id["id"]);
    let mut browser = Client::new(server.base());
    assert_eq!(
        browser
            .submit_password("drsmith", PASSWORD)
            .await
            .location(),
        Some("/")
    );

    let mut probes = Vec::new();
    for _ in 0..5 {
        probes.push(probe(&mut api, &user_path, &key).await);
        probes.push(probe(&mut browser, "/", "").await);
    }
    assert!(
        probes.iter().all(|p| p.status == 200),
        "before the restart: {probes:?}"
    );

    // Down for three seconds while requests keep coming.
    cluster.stop();
    let stopped = Instant::now();
    let mut outage = Vec::new();
    while stopped.elapsed() < Duration::from_secs(3) {
        outage.push(probe(&mut api, &user_path, &key).await);
        outage.push(probe(&mut browser, "/", "").await);
        outage.push(probe(&mut api, "/readyz", "").await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for p in &outage {
        assert!(
            p.took < Duration::from_secs(2),
            "answered within 2 s: {p:?}"
        );
        assert_eq!(p.status, 503, "{p:?}");
    }
    let api_replies: Vec<_> = outage.iter().step_by(3).collect();
    assert!(
        api_replies.iter().all(|p| p.problem_json),
        "{api_replies:?}"
    );
    let pages: Vec<_> = outage.iter().skip(1).step_by(3).collect();
    assert!(pages.iter().all(|p| p.page_says_unavailable), "{pages:?}");

    // Back: every request succeeds again within 5 s, without a restart of
    // twofactor, and keeps succeeding.
    cluster.start();
    let back = Instant::now();
    let mut recovered_at = None;
    let mut after = Vec::new();
    while back.elapsed() < Duration::from_secs(8) {
        let a = probe(&mut api, &user_path, &key).await;
        let b = probe(&mut browser, "/", "").await;
        let ok = a.status == 200 && b.status == 200;
        match (ok, recovered_at) {
            (true, None) => recovered_at = Some(back.elapsed()),
            (false, Some(_)) => panic!("failed again after recovering: {a:?} {b:?}"),
            _ => {}
        }
        after.push((a, b));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered_at = recovered_at.unwrap_or_else(|| panic!("never recovered: {after:?}"));
    assert!(
        recovered_at < Duration::from_secs(5),
        "recovered {recovered_at:?} after the database came back"
    );
    eprintln!(
        "outage: {} requests, slowest {:?}; recovered {recovered_at:?} after the restart",
        outage.len(),
        outage.iter().map(|p| p.took).max().unwrap()
    );
    drop(server);
}

/// Runs `sql` on the site's database with the command-line client; its
/// output, `|`-separated.
fn query(site: &Site, sql: &str) -> String {
    let out = match &site.database_url {
        Some(url) => std::process::Command::new("psql")
            .args(["-X", "-A", "-t", "-d", url, "-c", sql])
            .output(),
        None => std::process::Command::new("sqlite3")
            .arg(site.dir.join("twofactor.db"))
            .arg(sql)
            .output(),
    }
    .expect("psql or sqlite3 is installed");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code of `secret` for `offset` steps from now.
fn code(secret: &str, offset: i64) -> String {
    otp::Totp::new(
        otp::Secret::from_base32(secret).unwrap(),
        otp::Algorithm::Sha1,
        otp::Digits::SIX,
        otp::Period::DEFAULT,
    )
    .generate(now().saturating_add_signed(offset * 30))
    .unwrap()
    .as_str()
    .to_owned()
}

/// What the workers saw answered before the crash.
#[derive(Default)]
struct Answered {
    /// username → the secret of the app whose link was answered 200.
    enrolled: std::collections::HashMap<String, String>,
    /// Users whose password change was answered 200.
    changed: std::collections::HashSet<String>,
    /// username → the session cookie held before the change was sent.
    old_sessions: std::collections::HashMap<String, String>,
    /// API users whose creation was answered 201.
    created: Vec<i64>,
}

type Shared = std::sync::Arc<std::sync::Mutex<Answered>>;

fn new_password(name: &str) -> String {
    let n: String = name.chars().filter(char::is_ascii_digit).collect();
    format!("a completely new passphrase number {n}")
}

/// `Some(reply)` if the server answered; workers stop quietly at the first
/// request the dead server does not answer.
fn answered(reply: testkit::Reply) -> Option<testkit::Reply> {
    (reply.status != 0).then_some(reply)
}

/// Logs in and links an authenticator app from the account page.
async fn enroll(base: String, name: String, seen: Shared) -> Option<()> {
    let mut browser = Client::new(base);
    answered(browser.submit_password(&name, PASSWORD).await)?;
    let csrf = answered(browser.get("/account/authenticator").await)?.csrf_token()?;
    let offer = answered(
        browser
            .post_form(
                "/account/authenticator",
                &[("password", PASSWORD), ("csrf_token", &csrf)],
            )
            .await,
    )?;
    assert_eq!(offer.status, 200, "{}", offer.body);
    let secret = offer
        .body
        .split("secret=")
        .nth(1)
        .and_then(|rest| rest.split(['&', '"', '<']).next())
        .unwrap()
        .to_owned();
    let csrf = browser.csrf();
    let linked = answered(
        browser
            .post_form(
                "/account/authenticator/confirm",
                &[("code", &code(&secret, 0)), ("csrf_token", &csrf)],
            )
            .await,
    )?;
    assert_eq!(linked.status, 200, "{}", linked.body);
    let mut seen = seen.lock().unwrap();
    seen.enrolled.insert(name, secret);
    Some(())
}

/// Logs in and changes the password from the account page.
async fn change_password(base: String, name: String, seen: Shared) -> Option<()> {
    let mut browser = Client::new(base);
    answered(browser.submit_password(&name, PASSWORD).await)?;
    let csrf = answered(browser.get("/account/password").await)?.csrf_token()?;
    let session = browser.cookie("tf_session").unwrap().to_owned();
    seen.lock()
        .unwrap()
        .old_sessions
        .insert(name.clone(), session);
    let new = new_password(&name);
    let reply = answered(
        browser
            .post_form(
                "/account/password",
                &[
                    ("current_password", PASSWORD),
                    ("new_password", &new),
                    ("new_password_confirm", &new),
                    ("csrf_token", &csrf),
                ],
            )
            .await,
    )?;
    // Changed: on to the security page (post/redirect/get).
    assert_eq!(reply.status, 303, "{}", reply.body);
    let mut seen = seen.lock().unwrap();
    seen.changed.insert(name);
    Some(())
}

/// Creates API users as fast as answers come, until the server dies.
async fn create_users(base: String, key: String, seen: Shared) -> Option<()> {
    let mut api = Client::new(base);
    for n in 0.. {
        let body = format!(r#"{{"email":"p{n}@clinic.example","external_id":"load-{n}"}}"#);
        let reply = answered(
            api.post_raw_with(
                "/api/v1/users",
                "application/json",
                body.into_bytes(),
                &[("authorization", &format!("Bearer {key}"))],
            )
            .await,
        )?;
        if reply.status == 201 {
            let made: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
            seen.lock()
                .unwrap()
                .created
                .push(made["id"].as_i64().unwrap());
        }
    }
    Some(())
}

/// Which of `passwords` logs `name` in (trying each on a fresh browser).
async fn working_passwords(base: &str, name: &str, passwords: &[&str]) -> Vec<bool> {
    let mut works = Vec::new();
    for password in passwords {
        let mut browser = Client::new(base.to_owned());
        let reply = browser.submit_password(name, password).await;
        works.push(reply.status == 303 && !reply.body.contains("Invalid"));
    }
    works
}

async fn sigkill_mid_enrollments_and_password_changes(site: Site) {
    site.run(&["migrate"], "");
    const USERS: usize = 10;
    for i in 0..USERS {
        site.add_user(&format!("enroll{i}"), "staff");
        site.add_user(&format!("change{i}"), "staff");
    }
    let key = site.run(&["api-key", "create", "crash test"], "");
    let key = key.trim().to_owned();
    let port = free_port();
    let mut server = site.serve(port);
    let base = server.base();
    let seen = Shared::default();
    let mut tasks = Vec::new();
    // Started one after another, so that when the kill comes some flows
    // are done, some mid-way and some not started. Password changes are
    // quicker (3 argon2 hashes against 12), so they start once two links
    // are done.
    for i in 0..USERS {
        let (to, log) = (base.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200 * i as u64)).await;
            enroll(to, format!("enroll{i}"), log).await;
        }));
        let (base, seen) = (base.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            while seen.lock().unwrap().enrolled.len() < 2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(100 * i as u64)).await;
            change_password(base, format!("change{i}"), seen).await;
        }));
    }
    for _ in 0..2 {
        let (base, key, seen) = (base.clone(), key.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            create_users(base, key, seen).await;
        }));
    }
    // Killed when a few of each flow are done: the rest are somewhere
    // between their first request and their last write, or not started.
    let deadline = Instant::now() + Duration::from_secs(60);
    while {
        let seen = seen.lock().unwrap();
        seen.enrolled.len() < 3 || seen.changed.len() < 3
    } {
        assert!(Instant::now() < deadline, "the flows did not progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for task in tasks {
        task.await.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    eprintln!(
        "answered before the kill: {} links, {} password changes, {} API users",
        seen.enrolled.len(),
        seen.changed.len(),
        seen.created.len()
    );
    assert!(
        seen.enrolled.len() < USERS && seen.changed.len() < USERS,
        "the kill came after every flow of a kind ended"
    );
    if site.database_url.is_none() {
        assert_eq!(query(&site, "PRAGMA integrity_check"), "ok");
    }

    let server = site.serve(port);
    let base = server.base();
    // Every API user answered 201 is there.
    let mut api = Client::new(base.clone());
    for id in &seen.created {
        let reply = api
            .get_with(
                &format!("/api/v1/users/{id}"),
                &[("authorization", &format!("Bearer {key}"))],
            )
            .await;
        assert_eq!(reply.status, 200, "API user {id} was answered 201");
    }
    for i in 0..USERS {
        // An app link is all there (factor, ten codes, both audit rows) or
        // not at all; answered 200, it is there and logs in.
        let name = format!("enroll{i}");
        let state = query(
            &site,
            &format!(
                "SELECT (SELECT COUNT(*) FROM totp_factors t JOIN users u ON u.id = t.user_id WHERE u.username = '{name}'), \
                 (SELECT COUNT(*) FROM recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.username = '{name}'), \
                 (SELECT COUNT(*) FROM audit_events WHERE username = '{name}' AND kind = 'totp_enrolled' AND outcome = 'success'), \
                 (SELECT COUNT(*) FROM audit_events WHERE username = '{name}' AND kind = 'recovery_codes_created')"
            ),
        );
        assert!(
            state == "0|0|0|0" || state == "1|10|1|1",
            "{name}: half a link (factor|codes|linked|codes audited) = {state}"
        );
        if let Some(secret) = seen.enrolled.get(&name) {
            assert_eq!(state, "1|10|1|1", "{name} was answered 200");
            let mut browser = Client::new(base.clone());
            let reply = browser.submit_password(&name, PASSWORD).await;
            assert!(reply.location().unwrap().starts_with("/login/2fa"));
            assert_eq!(
                browser.submit_token(&code(secret, 1)).await.status,
                303,
                "{name} logs in with the linked app"
            );
        }

        // A password change is all there (new hash, sessions ended, audit
        // row) or not at all; answered 200, it is there.
        let name = format!("change{i}");
        let new = new_password(&name);
        let works = working_passwords(&base, &name, &[&new, PASSWORD]).await;
        let audited = query(
            &site,
            &format!(
                "SELECT COUNT(*) FROM audit_events WHERE username = '{name}' AND kind = 'password_changed' AND outcome = 'success'"
            ),
        );
        assert!(
            works == [true, false] || works == [false, true],
            "{name}: exactly one password works: {works:?}"
        );
        let changed = works[0];
        assert_eq!(audited, if changed { "1" } else { "0" }, "{name}");
        if seen.changed.contains(&name) {
            assert!(changed, "{name} was answered 200");
        }
        if let (true, Some(old)) = (changed, seen.old_sessions.get(&name)) {
            let mut stale = Client::new(base.clone());
            stale.set_cookie("tf_session", old);
            assert_eq!(
                stale.get("/").await.status,
                303,
                "{name}: the session from before the change is over"
            );
        }
    }
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_on_sqlite_loses_no_answered_write_and_half_applies_none() {
    let dir = tempfile::tempdir().unwrap();
    sigkill_mid_enrollments_and_password_changes(Site {
        dir: dir.path().to_owned(),
        database_url: None,
        smtp_port: 1,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_on_postgresql_loses_no_answered_write_and_half_applies_none() {
    let Some(db) = Database::create("crash") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    sigkill_mid_enrollments_and_password_changes(Site {
        dir: dir.path().to_owned(),
        database_url: Some(db.url.clone()),
        smtp_port: 1,
    })
    .await;
}

/// `twofactor serve` started in a mount namespace of its own whose data
/// directory sits on a 256 KiB tmpfs that `setup` (shell) has spoiled;
/// `None` (after a skip) where namespaces cannot be made (not root).
fn serve_on_spoiled_disk(setup: &str) -> Option<std::process::Output> {
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        support::skip("root, to mount a small or read-only file system in a namespace");
        return None;
    }
    let mount = tempfile::tempdir().unwrap();
    let m = mount.path().display();
    let script = format!(
        "mount -t tmpfs -o size=256k tmpfs {m} && mkdir {m}/data && {setup} && exec timeout 20 \"$0\" serve"
    );
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script, env!("CARGO_BIN_EXE_twofactor")])
        .env("TWOFACTOR_DATA_DIR", mount.path().join("data"))
        .env("TWOFACTOR_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env_remove("TWOFACTOR_DATABASE_URL")
        .env_remove("TWOFACTOR_MASTER_KEY")
        .output()
        .unwrap();
    Some(out)
}

#[test]
fn a_read_only_or_full_data_directory_stops_the_start_with_one_clear_line() {
    for (setup, says) in [
        ("mount -o remount,ro {m}", "is on a read-only file system"),
        (
            "(dd if=/dev/zero of={m}/fill bs=1k count=512 2>/dev/null || true)",
            "is full",
        ),
        (
            "chmod 755 {m}/data && chown root {m}/data && exec runuser -u nobody -- sh -c 'exec timeout 20 \"$0\" serve' \"$0\" && false",
            "is not writable by this user",
        ),
    ] {
        let Some(out) =
            serve_on_spoiled_disk(&setup.replace("{m}", "$(dirname $TWOFACTOR_DATA_DIR)"))
        else {
            return;
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{setup}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(
            lines[0].starts_with("error: data_dir ") && lines[0].contains(says),
            "{setup}: {stderr}"
        );
    }
}
