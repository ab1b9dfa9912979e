//! Hostile and malformed input: CSRF, redirects, bodies.

use testkit::{PASSWORD, TestApp};

async fn forms_without_the_csrf_token_change_nothing(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.get("/login").await;
    for fields in [
        vec![("username", "alice"), ("password", PASSWORD)],
        vec![
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", "forged"),
        ],
        vec![
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", ""),
        ],
    ] {
        let reply = browser.post_form("/login", &fields).await;
        assert_eq!(reply.status, 403, "{fields:?}");
        assert!(reply.body.contains("nothing was changed"));
        assert!(browser.cookie("tf_session").is_none());
    }
    // A cross-site request carries no CSRF cookie at all.
    let mut attacker = app.client();
    let reply = attacker
        .post_form(
            "/login",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("csrf_token", "x"),
            ],
        )
        .await;
    assert_eq!(reply.status, 403);

    // The token form and logout are protected the same way.
    browser.submit_password("alice", PASSWORD).await;
    let reply = browser
        .post_form("/login/2fa", &[("token", &app.code(&phone, 0))])
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        browser.submit_token(&app.code(&phone, 0)).await.status,
        303,
        "the code was not spent"
    );
    let reply = browser
        .post_form("/logout", &[("csrf_token", "forged")])
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(browser.get("/").await.status, 200, "still logged in");
    let events = app.store().recent_audit(50).await.unwrap();
    assert_eq!(
        events.iter().filter(|e| e.kind == "password_login").count(),
        1
    );
}
both!(forms_without_the_csrf_token_change_nothing);

async fn open_redirects_land_on_the_start_page(app: &TestApp) {
    app.add_user("bob").await;
    for hostile in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "/login",
    ] {
        let mut browser = app.client();
        let reply = browser.submit_password_next("bob", PASSWORD, hostile).await;
        assert_eq!(reply.location(), Some("/"), "{hostile}");
    }
    let mut browser = app.client();
    let page = browser.get("/login?next=//evil.example").await;
    assert!(page.body.contains("name=\"next\" value=\"/\""));
}
both!(open_redirects_land_on_the_start_page);

async fn malformed_bodies_get_clear_errors_not_500(app: &TestApp) {
    let mut browser = app.client();
    browser.get("/login").await;
    let csrf = browser.csrf();
    // Just over the 16 KiB limit: small enough to sit in the socket buffer
    // whole, so the client reads the 413 instead of a reset mid-upload.
    let big = format!("csrf_token={csrf}&username={}", "a".repeat(20 * 1024));
    let reply = browser
        .post_raw(
            "/login",
            "application/x-www-form-urlencoded",
            big.into_bytes(),
        )
        .await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(reply.body.contains("too large"));

    let reply = browser
        .post_raw(
            "/login",
            "application/json",
            b"{\"username\":\"a\"}".to_vec(),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);

    let mut invalid = format!("csrf_token={csrf}&username=").into_bytes();
    invalid.extend_from_slice(&[0xff, 0xfe, b'%', b'f', b'f']);
    let reply = browser
        .post_raw("/login", "application/x-www-form-urlencoded", invalid)
        .await;
    assert!(
        matches!(reply.status, 400 | 401),
        "{}: {}",
        reply.status,
        reply.body
    );

    for body in ["%%%", "username=%zz&password=x", "=&=&&", "csrf_token"] {
        let reply = browser
            .post_raw(
                "/login",
                "application/x-www-form-urlencoded",
                body.as_bytes().to_vec(),
            )
            .await;
        assert!(
            reply.status < 500 && reply.status != 200,
            "{body}: {}",
            reply.status
        );
    }

    // Hostile usernames are treated as unknown, escaped when shown back.
    for name in [
        "<script>alert(1)</script>",
        "a\u{0}b",
        &"x".repeat(5000),
        "' OR 1=1 --",
    ] {
        let reply = browser
            .post_form(
                "/login",
                &[("username", name), ("password", "x"), ("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(reply.status, 401, "{name:?}");
        assert!(!reply.body.contains("<script>alert"), "escaped");
    }
    let reply = browser.get("/login?next=%ff%fe").await;
    assert_eq!(reply.status, 200);
}
both!(malformed_bodies_get_clear_errors_not_500);
