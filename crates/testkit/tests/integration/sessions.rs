//! Session lifetimes, cookies and headers.

use testkit::{PASSWORD, TestApp};

async fn log_in(app: &TestApp) -> testkit::Client {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    assert_eq!(browser.submit_token(&app.code(&phone, 0)).await.status, 303);
    browser
}

async fn cookies_are_http_only_and_same_site(app: &TestApp) {
    app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    let page = browser.get("/login").await;
    let csrf_cookie = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tf_csrf="))
        .unwrap();
    assert!(
        csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"),
        "{csrf_cookie}"
    );
    let reply = browser.submit_password("alice", PASSWORD).await;
    let session = reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tf_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Path=/"),
        "{session}"
    );
    let value = browser.cookie("tf_session").unwrap();
    assert!(value.len() >= 43, "256-bit session id");
    // Only a hash of the id is stored.
    let stored = app.store().session(value).await.unwrap();
    assert!(
        stored.is_none(),
        "the raw cookie value is not a database key"
    );
}
both!(cookies_are_http_only_and_same_site);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_tls_cookies_are_secure_and_host_prefixed() {
    let app = TestApp::start_with(testkit::Backend::Sqlite, |c| {
        c.public_url = Some("https://login.clinic.example".into());
    })
    .await
    .unwrap();
    let mut browser = app.client();
    let page = browser.get("/login").await;
    let cookie = page.set_cookies().join("\n");
    assert!(
        cookie.contains("__Host-tf_csrf=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    app.stop().await;
}

async fn the_half_login_expires_after_five_minutes(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    app.clock.advance(5 * 60);
    let reply = browser.submit_token(&app.code(&phone, 0)).await;
    assert_eq!(reply.status, 401);
    assert!(reply.body.contains("Please log in again"), "{}", reply.body);
}
both!(the_half_login_expires_after_five_minutes);

/// The code step reads the session together with the second factor: only a
/// half login within its time passes, an expired one is deleted, a full
/// session or a disabled account (the half login still stored) gets "log
/// in again".
async fn the_code_step_takes_only_a_live_half_login(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let store = app.store();
    let session_of = |browser: &testkit::Client| {
        domain::token::digest(browser.cookie("tf_session").expect("a session cookie"))
    };

    let mut expired = app.client();
    expired.submit_password("alice", PASSWORD).await;
    let hash = session_of(&expired);
    assert!(store.session(&hash).await.unwrap().is_some());
    app.clock.advance(5 * 60);
    assert_eq!(expired.submit_token(&app.code(&phone, 0)).await.status, 401);
    assert!(store.session(&hash).await.unwrap().is_none(), "deleted");

    let mut full = app.client();
    full.submit_password("alice", PASSWORD).await;
    assert_eq!(full.submit_token(&app.code(&phone, 0)).await.status, 303);
    let hash = session_of(&full);
    let reply = full.submit_token(&app.code(&phone, 1)).await;
    assert_eq!(reply.status, 401, "a full session is not a half login");
    assert!(store.session(&hash).await.unwrap().is_some(), "and stays");

    let mut disabled = app.client();
    disabled.submit_password("alice", PASSWORD).await;
    // Straight in the table: disabling through the store also ends the
    // sessions, which would hide this check.
    app.app
        .store
        .execute_sql("UPDATE users SET disabled = TRUE WHERE username = 'alice'")
        .await
        .unwrap();
    // A right code (the one the full session was refused with is unused).
    let reply = disabled.submit_token(&app.code(&phone, 1)).await;
    assert_eq!(reply.status, 401);
    assert!(reply.body.contains("Please log in again"), "{}", reply.body);
}
both!(the_code_step_takes_only_a_live_half_login);

async fn idle_sessions_end_after_thirty_minutes(app: &TestApp) {
    let mut browser = log_in(app).await;
    app.clock.advance(29 * 60);
    assert_eq!(
        browser.get("/").await.status,
        200,
        "activity keeps it alive"
    );
    app.clock.advance(29 * 60);
    assert_eq!(browser.get("/").await.status, 200);
    app.clock.advance(30 * 60);
    assert_eq!(browser.get("/").await.status, 303, "30 idle minutes end it");
    let trail = app.store().recent_audit(1).await.unwrap();
    assert_eq!(trail[0].kind, "session_expired", "audited");
    assert_eq!(trail[0].detail, "idle timeout (30 min)");
    assert_eq!(trail[0].username, "alice");
}
both!(idle_sessions_end_after_thirty_minutes);

async fn sessions_end_after_twelve_hours_whatever_the_activity(app: &TestApp) {
    let mut browser = log_in(app).await;
    for _ in 0..(12 * 60 / 20 - 1) {
        app.clock.advance(20 * 60);
        assert_eq!(browser.get("/").await.status, 200);
    }
    app.clock.advance(20 * 60);
    assert_eq!(browser.get("/").await.status, 303);
    let trail = app.store().recent_audit(1).await.unwrap();
    assert_eq!(trail[0].kind, "session_expired", "audited");
    assert_eq!(trail[0].detail, "absolute timeout (12 h)");
}
both!(sessions_end_after_twelve_hours_whatever_the_activity);

async fn reset_2fa_ends_every_session(app: &TestApp) {
    let mut browser = log_in(app).await;
    let user = app.app.user("alice").await.unwrap();
    app.app
        .login
        .reset_2fa(&user, testkit::START)
        .await
        .unwrap();
    assert_eq!(browser.get("/").await.status, 303);
    // With no factor left, the next login links one again: a reset never
    // leaves the password alone in charge.
    let mut again = app.client();
    assert_eq!(
        again.submit_password("alice", PASSWORD).await.location(),
        Some("/account/authenticator")
    );
}
both!(reset_2fa_ends_every_session);

async fn every_response_carries_the_security_headers(app: &TestApp) {
    let mut browser = app.client();
    for path in [
        "/login",
        "/login/2fa",
        "/",
        "/healthz",
        "/nope",
        "/auth/verify",
        "/static/style.css",
    ] {
        let reply = browser.get(path).await;
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(
            reply
                .header("content-security-policy")
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(reply.header("referrer-policy").is_some(), "{path}");
        if !path.starts_with("/static") {
            assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}");
        }
    }
    assert_eq!(browser.get("/nope").await.status, 404);
}
both!(every_response_carries_the_security_headers);

async fn the_audit_trail_pages_in_order_within_a_period(app: &testkit::TestApp) {
    let store = app.store();
    for i in 0..2500u64 {
        append_logout(app, 1_000 + i, &format!("u{i}")).await;
    }
    // Pages of 1000 over [1500, 3200): ids ascending, nothing missed or repeated.
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = store
            .audit_search(
                &domain::admin::AuditFilter::between(1_500, 3_200),
                after,
                false,
                1_000,
            )
            .await
            .unwrap();
        assert!(page.len() <= 1_000);
        let Some((last, _)) = page.last() else { break };
        after = *last;
        seen.extend(page.into_iter().map(|(_, e)| e.at));
    }
    let expected: Vec<u64> = (1_500..3_200).collect();
    assert_eq!(seen, expected);
}
both!(the_audit_trail_pages_in_order_within_a_period);

async fn audit_chain_names_the_first_tampered_event(app: &testkit::TestApp) {
    let login = &app.app.login;
    let now = || testkit::NowForTests::now_for_tests(app.clock.as_ref());
    for i in 0..30 {
        append_logout(app, now(), &format!("u{i}")).await;
    }
    // Too young to seal yet; five seconds later all of them are.
    assert_eq!(login.seal_audit(now()).await.unwrap(), 0);
    app.clock.advance(domain::audit_chain::SEAL_AFTER_SECONDS);
    assert_eq!(login.seal_audit(now()).await.unwrap(), 30);
    use domain::audit_chain::ChainReport;
    assert_eq!(
        login.verify_audit().await.unwrap(),
        ChainReport::Intact {
            sealed: 30,
            pending: 0
        }
    );
    let ids: Vec<i64> = app
        .store()
        .audit_chain_page(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    let store = &app.app.store;
    let broken_at = |report: ChainReport| match report {
        ChainReport::Broken { id, .. } => id,
        other => panic!("not detected: {other:?}"),
    };

    // A changed detail.
    store
        .execute_sql(&format!(
            "UPDATE audit_events SET detail = 'nothing to see' WHERE id = {}",
            ids[10]
        ))
        .await
        .unwrap();
    assert_eq!(broken_at(login.verify_audit().await.unwrap()), ids[10]);
    store
        .execute_sql(&format!(
            "UPDATE audit_events SET detail = '' WHERE id = {}",
            ids[10]
        ))
        .await
        .unwrap();
    assert!(matches!(
        login.verify_audit().await.unwrap(),
        ChainReport::Intact { .. }
    ));

    // A removed event breaks the next one.
    store
        .execute_sql(&format!("DELETE FROM audit_events WHERE id = {}", ids[20]))
        .await
        .unwrap();
    assert_eq!(broken_at(login.verify_audit().await.unwrap()), ids[21]);
}
both!(audit_chain_names_the_first_tampered_event);

async fn audit_chain_notices_a_cut_tail_and_an_inserted_row(app: &testkit::TestApp) {
    let login = &app.app.login;
    let now = || testkit::NowForTests::now_for_tests(app.clock.as_ref());
    for i in 0..5 {
        append_logout(app, now(), &format!("u{i}")).await;
    }
    app.clock.advance(10);
    login.seal_audit(now()).await.unwrap();
    let ids: Vec<i64> = app
        .store()
        .audit_chain_page(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    // A pending (unsealed) newer row is fine.
    append_logout(app, now(), "late").await;
    assert_eq!(
        login.verify_audit().await.unwrap(),
        domain::audit_chain::ChainReport::Intact {
            sealed: 5,
            pending: 1
        }
    );
    // Removing the newest sealed rows is noticed.
    app.app
        .store
        .execute_sql(&format!("DELETE FROM audit_events WHERE id >= {}", ids[3]))
        .await
        .unwrap();
    match login.verify_audit().await.unwrap() {
        domain::audit_chain::ChainReport::Broken { id, reason } => {
            assert_eq!(id, ids[2]);
            assert!(reason.contains("removed from the end"), "{reason}");
        }
        other => panic!("not detected: {other:?}"),
    }
    // A row slipped in with an id inside the sealed range has no hash.
    app.app
        .store
        .execute_sql(&format!(
            "INSERT INTO audit_events (id, at, user_id, username, kind, outcome, ip, user_agent, detail) {} \
             VALUES ({}, 1, NULL, 'x', 'logout', 'success', '', '', '')",
            if app.backend() == testkit::Backend::Postgres {
                "OVERRIDING SYSTEM VALUE"
            } else {
                ""
            },
            ids[3]
        ))
        .await
        .unwrap();
    match login.verify_audit().await.unwrap() {
        domain::audit_chain::ChainReport::Broken { id, .. } => assert_eq!(id, ids[3]),
        other => panic!("not detected: {other:?}"),
    }
}
both!(audit_chain_notices_a_cut_tail_and_an_inserted_row);

async fn two_instances_sealing_at_once_keep_one_chain(app: &testkit::TestApp) {
    let other = app.second_instance().await;
    let now = || testkit::NowForTests::now_for_tests(app.clock.as_ref());
    for i in 0..1_200 {
        append_logout(app, now(), &format!("u{i}")).await;
    }
    app.clock.advance(10);
    let (a, b) = tokio::join!(
        app.app.login.seal_audit(now()),
        other.app.login.seal_audit(now())
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1_200, "each event sealed once");
    assert_eq!(
        app.app.login.verify_audit().await.unwrap(),
        domain::audit_chain::ChainReport::Intact {
            sealed: 1_200,
            pending: 0
        }
    );
    other.stop().await;
}
both!(two_instances_sealing_at_once_keep_one_chain);

async fn pruning_leaves_a_checkpoint_the_chain_still_verifies_from(app: &testkit::TestApp) {
    let login = &app.app.login;
    let now = || testkit::NowForTests::now_for_tests(app.clock.as_ref());
    let start = now();
    for i in 0..20u64 {
        append_logout(app, start + i * 86_400, &format!("u{i}")).await;
    }
    app.clock.advance(30 * 86_400);
    let cutoff = start + 10 * 86_400;
    assert_eq!(login.prune_audit(cutoff, now()).await.unwrap(), 10);
    use domain::audit_chain::ChainReport;
    // Ten left plus the audit_pruned event itself (not sealed yet).
    assert_eq!(
        login.verify_audit().await.unwrap(),
        ChainReport::Intact {
            sealed: 10,
            pending: 1
        }
    );
    let events = app.store().recent_audit(1).await.unwrap();
    assert_eq!(events[0].kind, "audit_pruned");
    assert!(events[0].detail.starts_with("10 events before"));
    // Nothing older is left, and pruning again deletes nothing.
    assert_eq!(login.prune_audit(cutoff, now()).await.unwrap(), 0);
    // Tampering after pruning is still found.
    let first = app.store().audit_chain_page(0, 1).await.unwrap()[0].0;
    app.app
        .store
        .execute_sql(&format!(
            "UPDATE audit_events SET username = 'x' WHERE id = {first}"
        ))
        .await
        .unwrap();
    assert!(
        matches!(login.verify_audit().await.unwrap(), ChainReport::Broken { id, .. } if id == first)
    );
}
both!(pruning_leaves_a_checkpoint_the_chain_still_verifies_from);

/// Appends a "logout" event for `username` at `at`, as the admin CLI would.
async fn append_logout(app: &testkit::TestApp, at: u64, username: &str) {
    let event = domain::AuditEvent::new(
        at,
        domain::AuditKind::Logout,
        domain::Outcome::Success,
        None,
        username,
        &domain::RequestContext::admin_cli(),
        "",
    );
    app.store().append_audit(&event).await.unwrap();
}
