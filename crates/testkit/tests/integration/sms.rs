//! "Request Token via SMS": codes by text message.

use testkit::{PASSWORD, TestApp};

const PHONE: &str = "+12015550123";

async fn a_user_with_only_a_phone_logs_in_with_a_texted_code(app: &TestApp) {
    app.add_user_with_phone("nurse", Some(PHONE)).await;
    let mut browser = app.client();
    assert_eq!(
        browser.submit_password("nurse", PASSWORD).await.location(),
        Some("/login/2fa?next=/")
    );
    let page = browser.get("/login/2fa").await;
    assert!(page.body.contains("Request Token via SMS"));
    let reply = browser.request_sms().await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("•••• •••• 0123"), "{}", reply.body);
    assert!(
        !reply.body.contains(PHONE),
        "the full number is never shown"
    );
    let code = app.last_sms_code(PHONE).unwrap();
    assert_eq!(code.len(), 6);
    let message = app.app.sms_outbox.recent().pop().unwrap();
    assert!(
        message.text.starts_with("Test Clinic security token: "),
        "{}",
        message.text
    );

    assert_eq!(browser.submit_token(&code).await.status, 303);
    assert_eq!(browser.get("/").await.status, 200);

    // Single use: the same code does not work for a second login.
    let mut again = app.client();
    again.submit_password("nurse", PASSWORD).await;
    assert_eq!(again.submit_token(&code).await.status, 401);
    let events = app.store().recent_audit(30).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "sms_sent" && e.outcome == "success" && e.detail.contains("0123"))
    );
    assert!(
        events
            .iter()
            .any(|e| e.kind == "sms_token" && e.outcome == "success")
    );
}
both!(a_user_with_only_a_phone_logs_in_with_a_texted_code);

async fn sms_codes_are_hashed_at_rest(app: &TestApp) {
    let user = app.add_user_with_phone("nurse", Some(PHONE)).await;
    let mut browser = app.client();
    browser.submit_password("nurse", PASSWORD).await;
    browser.request_sms().await;
    let code = app.last_sms_code(PHONE).unwrap();
    let stored = app.store().sms_code(user.id).await.unwrap().unwrap();
    assert!(stored.code_hash.starts_with("$argon2id$"));
    assert!(!stored.code_hash.contains(&code));
}
both!(sms_codes_are_hashed_at_rest);

async fn resending_waits_30_seconds_and_voids_the_previous_code(app: &TestApp) {
    app.add_user_with_phone("nurse", Some(PHONE)).await;
    let mut browser = app.client();
    browser.submit_password("nurse", PASSWORD).await;
    browser.request_sms().await;
    let first = app.last_sms_code(PHONE).unwrap();
    let reply = browser.request_sms().await;
    assert_eq!(reply.status, 429);
    assert!(reply.body.contains("Wait 30 seconds"), "{}", reply.body);
    assert_eq!(app.sms_count(), 1);
    app.clock.advance(30);
    assert_eq!(browser.request_sms().await.status, 200);
    let second = app.last_sms_code(PHONE).unwrap();
    if first != second {
        assert_eq!(
            browser.submit_token(&first).await.status,
            401,
            "the old code is void"
        );
    }
    assert_eq!(browser.submit_token(&second).await.status, 303);
}
both!(resending_waits_30_seconds_and_voids_the_previous_code);

async fn at_most_five_texts_an_hour_per_user_and_per_number(app: &TestApp) {
    app.add_user_with_phone("nurse", Some(PHONE)).await;
    app.add_user_with_phone("nurse2", Some(PHONE)).await;
    let mut browser = app.client();
    browser.submit_password("nurse", PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(browser.request_sms().await.status, 200);
        app.clock.advance(31);
        // Keep the half-login alive (5 minutes).
        browser.submit_password("nurse", PASSWORD).await;
    }
    let reply = browser.request_sms().await;
    assert_eq!(reply.status, 429);
    assert!(
        reply.body.contains("Too many text messages"),
        "{}",
        reply.body
    );
    // Another account with the same number is limited too: the phone is protected.
    let mut other = app.client();
    other.submit_password("nurse2", PASSWORD).await;
    assert_eq!(other.request_sms().await.status, 429);
    assert_eq!(app.sms_count(), 5);
    // An hour later it works again.
    app.clock.advance(3600);
    browser.submit_password("nurse", PASSWORD).await;
    assert_eq!(browser.request_sms().await.status, 200);
}
both!(at_most_five_texts_an_hour_per_user_and_per_number);

async fn sms_codes_expire_after_ten_minutes(app: &TestApp) {
    app.add_user_with_phone("nurse", Some(PHONE)).await;
    let mut browser = app.client();
    browser.submit_password("nurse", PASSWORD).await;
    browser.request_sms().await;
    let code = app.last_sms_code(PHONE).unwrap();
    // The half-login lasts 5 minutes; log in again at 10 minutes.
    app.clock.advance(10 * 60);
    browser.submit_password("nurse", PASSWORD).await;
    assert_eq!(browser.submit_token(&code).await.status, 401);
}
both!(sms_codes_expire_after_ten_minutes);

async fn an_sms_code_survives_five_wrong_tries_only(app: &TestApp) {
    app.add_user_with_phone("nurse", Some(PHONE)).await;
    let mut browser = app.client();
    browser.submit_password("nurse", PASSWORD).await;
    browser.request_sms().await;
    let code = app.last_sms_code(PHONE).unwrap();
    let wrong = crate::abuse::wrong_code(&code);
    for _ in 0..3 {
        browser.submit_token(&wrong).await;
    }
    let mut second = app.client();
    second.submit_password("nurse", PASSWORD).await;
    for _ in 0..2 {
        second.submit_token(&wrong).await;
    }
    assert_eq!(
        second.submit_token(&code).await.status,
        401,
        "voided after 5 tries"
    );
}
both!(an_sms_code_survives_five_wrong_tries_only);

async fn an_authenticator_user_without_a_phone_gets_no_sms_button(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    assert!(
        !browser
            .get("/login/2fa")
            .await
            .body
            .contains("Request Token via SMS"),
        "no phone, no button"
    );
    assert_eq!(browser.request_sms().await.status, 400);
    assert_eq!(browser.submit_token(&app.code(&phone, 0)).await.status, 303);
}
both!(an_authenticator_user_without_a_phone_gets_no_sms_button);
