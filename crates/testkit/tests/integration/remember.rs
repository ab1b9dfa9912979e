//! "Save token for 30 days. (Not on public computers!)"

use testkit::{Client, PASSWORD, TestApp};

const THIRTY_DAYS: u64 = 30 * 24 * 60 * 60;

/// Logs alice in with "remember" ticked and logs out again; returns the browser.
async fn remembered_browser(app: &TestApp, phone: &otp::Totp) -> Client {
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let reply = browser.submit_token_remember(&app.code(phone, 0)).await;
    assert_eq!(reply.status, 303);
    let cookie = reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tf_remember="))
        .expect("remember cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        cookie.contains(&format!("Max-Age={THIRTY_DAYS}")),
        "{cookie}"
    );
    browser.logout().await;
    browser
}

async fn remembered_device_skips_only_the_second_factor(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = remembered_browser(app, &phone).await;
    // The password is still needed...
    assert_eq!(
        browser
            .submit_password("alice", "wrong password")
            .await
            .status,
        401
    );
    // ...but with it, the token page is skipped.
    let reply = browser.submit_password("alice", PASSWORD).await;
    assert_eq!(reply.location(), Some("/"), "{}", reply.body);
    assert_eq!(browser.get("/").await.status, 200);
    let events = app.store().recent_audit(30).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "remembered_device_used"));
    assert!(events.iter().any(|e| e.kind == "device_remembered"));
}
both!(remembered_device_skips_only_the_second_factor);

async fn another_users_login_in_that_browser_is_not_skipped(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    app.add_user_with_totp("bob").await;
    let mut browser = remembered_browser(app, &phone).await;
    let reply = browser.submit_password("bob", PASSWORD).await;
    assert_eq!(reply.location(), Some("/login/2fa?next=/"));
    // Alice's device still works for alice.
    let mut browser = app.client();
    browser.set_cookie("tf_remember", "not-a-real-token");
    assert_eq!(
        browser.submit_password("alice", PASSWORD).await.location(),
        Some("/login/2fa?next=/")
    );
}
both!(another_users_login_in_that_browser_is_not_skipped);

async fn a_rotated_token_presented_again_revokes_the_device(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = remembered_browser(app, &phone).await;
    let first = browser.cookie("tf_remember").unwrap().to_owned();
    assert_eq!(
        browser.submit_password("alice", PASSWORD).await.location(),
        Some("/")
    );
    let second = browser.cookie("tf_remember").unwrap().to_owned();
    assert_ne!(first, second, "the token rotates on every use");

    // A copy of the first cookie (stolen earlier) comes back.
    let mut thief = app.client();
    thief.set_cookie("tf_remember", &first);
    assert_eq!(
        thief.submit_password("alice", PASSWORD).await.location(),
        Some("/login/2fa?next=/")
    );
    // The device is revoked for everyone, the real browser included.
    browser.logout().await;
    assert_eq!(
        browser.submit_password("alice", PASSWORD).await.location(),
        Some("/login/2fa?next=/")
    );
    let events = app.store().recent_audit(50).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "remembered_device_theft" && e.detail.contains("cookie theft"))
    );
}
both!(a_rotated_token_presented_again_revokes_the_device);

async fn the_remember_cookie_stops_working_after_30_days(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = remembered_browser(app, &phone).await;
    app.clock.advance(THIRTY_DAYS - 60);
    assert_eq!(
        browser.submit_password("alice", PASSWORD).await.location(),
        Some("/")
    );
    browser.logout().await;
    app.clock.advance(61);
    assert_eq!(
        browser.submit_password("alice", PASSWORD).await.location(),
        Some("/login/2fa?next=/")
    );
}
both!(the_remember_cookie_stops_working_after_30_days);

async fn reset_2fa_and_password_change_forget_remembered_devices(app: &TestApp) {
    let (user, phone) = app.add_user_with_totp("alice").await;
    let mut browser = remembered_browser(app, &phone).await;
    app.app
        .login
        .reset_2fa(&user, testkit::START)
        .await
        .unwrap();
    let phone = app
        .app
        .enroll_totp(
            &user,
            None,
            otp::Algorithm::Sha1,
            otp::Digits::SIX,
            otp::Period::DEFAULT,
        )
        .await
        .unwrap()
        .to_totp()
        .unwrap();
    assert_eq!(
        browser.submit_password("alice", PASSWORD).await.location(),
        Some("/login/2fa?next=/")
    );

    app.clock.advance(30);
    let mut browser = remembered_browser(app, &phone).await;
    app.app
        .login
        .set_password(&user, "a brand new passphrase", testkit::START)
        .await
        .unwrap();
    let reply = browser
        .submit_password("alice", "a brand new passphrase")
        .await;
    assert_eq!(reply.location(), Some("/login/2fa?next=/"));
}
both!(reset_2fa_and_password_change_forget_remembered_devices);
