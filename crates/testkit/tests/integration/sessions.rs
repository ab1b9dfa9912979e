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
    let stored = app.app.login.store().session(value).await.unwrap();
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
    // With no factor left, the password alone logs in (2FA not required here).
    let mut again = app.client();
    assert_eq!(
        again.submit_password("alice", PASSWORD).await.location(),
        Some("/")
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
    let store = app.app.login.store();
    let ctx = domain::RequestContext::admin_cli();
    for i in 0..2500u64 {
        let event = domain::AuditEvent::new(
            1_000 + i,
            domain::AuditKind::Logout,
            domain::Outcome::Success,
            None,
            &format!("u{i}"),
            &ctx,
            "",
        );
        store.append_audit(&event).await.unwrap();
    }
    // Pages of 1000 over [1500, 3200): ids ascending, nothing missed or repeated.
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = store.audit_page(1_500, 3_200, after, 1_000).await.unwrap();
        assert!(page.len() <= 1_000);
        let Some((last, _)) = page.last() else { break };
        after = *last;
        seen.extend(page.into_iter().map(|(_, e)| e.at));
    }
    let expected: Vec<u64> = (1_500..3_200).collect();
    assert_eq!(seen, expected);
}
both!(the_audit_trail_pages_in_order_within_a_period);
