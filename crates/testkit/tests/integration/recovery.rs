//! Recovery codes: the way in when the phone is lost.

use testkit::{PASSWORD, TestApp};

async fn codes_for(app: &TestApp, username: &str) -> Vec<String> {
    let user = app.app.user(username).await.unwrap();
    app.recovery_codes(&user).await
}

async fn a_recovery_code_logs_in_once_and_says_how_many_are_left(app: &TestApp) {
    app.add_user_with_totp("alice").await;
    let codes = codes_for(app, "alice").await;
    assert_eq!(codes.len(), 10);
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let page = browser.get("/login/2fa").await;
    assert!(
        page.body.contains("/login/recovery"),
        "the 2FA page links to recovery"
    );
    let form = browser.get("/login/recovery").await;
    assert_eq!(form.status, 200);
    let csrf = form.csrf_token().unwrap();
    // Typed in capitals with spaces, as read off paper.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let reply = browser
        .post_form(
            "/login/recovery",
            &[("code", &typed), ("csrf_token", &csrf), ("next", "/")],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let reply = browser.follow(reply).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains("id=\"link-new-phone\""),
        "linking a new phone is offered: {}",
        reply.body
    );
    assert!(
        app.mails()
            .await
            .iter()
            .any(|m| m.to == "alice@clinic.example"
                && m.subject == "Test Clinic: a recovery code was used"),
        "the owner hears of it"
    );
    assert!(
        reply.body.contains("9 recovery codes left"),
        "{}",
        reply.body
    );
    assert_eq!(browser.get("/").await.status, 200);

    let mut again = app.client();
    again.submit_password("alice", PASSWORD).await;
    let csrf = again.get("/login/recovery").await.csrf_token().unwrap();
    let reply = again
        .post_form(
            "/login/recovery",
            &[("code", &codes[0]), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, 401, "a used code never works again");
    assert!(reply.body.contains("4 attempts left"), "{}", reply.body);

    let events = app.store().recent_audit(50).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "recovery_code" && e.outcome == "success")
    );
    assert!(
        events
            .iter()
            .any(|e| e.kind == "recovery_code" && e.outcome == "failure")
    );
}
both!(a_recovery_code_logs_in_once_and_says_how_many_are_left);

async fn recovery_codes_are_hashed_and_a_new_set_voids_the_old(app: &TestApp) {
    let (user, _) = app.add_user_with_totp("alice").await;
    let old = codes_for(app, "alice").await;
    let stored = app
        .store()
        .recovery_code(user.id, &old[0][..4])
        .await
        .unwrap()
        .unwrap();
    assert!(stored.1.starts_with("$argon2id$"));
    assert!(!stored.1.contains(&old[0][5..9]));
    let new = codes_for(app, "alice").await;
    assert_eq!(app.app.login.recovery_codes_left(&user).await.unwrap(), 10);
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let csrf = browser.get("/login/recovery").await.csrf_token().unwrap();
    let reply = browser
        .post_form(
            "/login/recovery",
            &[("code", &old[1]), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, 401);
    let reply = browser
        .post_form(
            "/login/recovery",
            &[("code", &new[1]), ("csrf_token", &csrf)],
        )
        .await;
    let reply = browser.follow(reply).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}
both!(recovery_codes_are_hashed_and_a_new_set_voids_the_old);

async fn wrong_recovery_codes_count_toward_the_token_lock(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    codes_for(app, "alice").await;
    let wrong_token = crate::abuse::wrong_code(&app.code(&phone, 0));
    let mut last = None;
    for _ in 0..2 {
        let mut browser = app.client();
        browser.submit_password("alice", PASSWORD).await;
        let csrf = browser.get("/login/recovery").await.csrf_token().unwrap();
        for i in 0..5 {
            last = Some(if i % 2 == 0 {
                browser
                    .post_form(
                        "/login/recovery",
                        &[("code", "abcd-efgh-jkmn"), ("csrf_token", &csrf)],
                    )
                    .await
            } else {
                browser.submit_token(&wrong_token).await
            });
        }
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429, "{}", last.body);
    assert!(last.body.contains("locked"), "{}", last.body);
    for hostile in [
        "",
        "'; DROP TABLE recovery_codes; --",
        &"x".repeat(10_000),
        "abcd-efgh-jkm\u{0}",
    ] {
        let mut browser = app.client();
        browser.submit_password("alice", PASSWORD).await;
        let csrf = browser
            .get("/login/recovery")
            .await
            .csrf_token()
            .unwrap_or_default();
        let reply = browser
            .post_form(
                "/login/recovery",
                &[("code", hostile), ("csrf_token", &csrf)],
            )
            .await;
        assert!(
            matches!(reply.status, 401 | 429 | 303),
            "{hostile:?}: {}",
            reply.status
        );
    }
}
both!(wrong_recovery_codes_count_toward_the_token_lock);
