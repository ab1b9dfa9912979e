//! `/account/security`: what protects the account, remembered devices, and
//! changing the password.

use testkit::{Client, PASSWORD, TestApp};

/// Logs `username` in with "remember" ticked; returns the browser.
async fn remembered(app: &TestApp, username: &str, phone: &otp::Totp) -> Client {
    let mut browser = app.client();
    browser.submit_password(username, PASSWORD).await;
    assert_eq!(
        browser
            .submit_token_remember(&app.code(phone, 0))
            .await
            .status,
        303
    );
    browser
}

fn device_ids(body: &str) -> Vec<String> {
    body.split("action=\"/account/devices/")
        .skip(1)
        .filter_map(|rest| rest.split_once("/revoke").map(|(id, _)| id.to_owned()))
        .collect()
}

async fn the_security_page_shows_factors_phone_devices_and_codes(app: &TestApp) {
    let mut anonymous = app.client();
    let reply = anonymous.get("/account/security").await;
    assert_eq!(reply.location(), Some("/login?next=/account/security"));

    let (user, phone) = app.add_user_with_totp("alice").await;
    let _ = user;
    let mut browser = remembered(app, "alice", &phone).await;
    let page = browser.get("/account/security").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(
        page.body.contains("On: authenticator app (6-digit codes)."),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"phone\">none"), "{}", page.body);
    assert!(
        page.body.contains("id=\"recovery-left\">0"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Browser on unknown system"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Revoke all") && page.body.contains("Change password"));
    assert_eq!(device_ids(&page.body).len(), 1);

    app.add_user_with_phone("nurse", Some("+12015550123")).await;
    let mut nurse = app.client();
    nurse.submit_password("nurse", PASSWORD).await;
    nurse.request_sms().await;
    nurse
        .submit_token(&app.last_sms_code("+12015550123").unwrap())
        .await;
    let page = nurse.get("/account/security").await;
    assert!(
        page.body.contains("text message to •••• •••• 0123"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("+12015550123"));
}
both!(the_security_page_shows_factors_phone_devices_and_codes);

async fn devices_are_revoked_one_by_one_and_only_by_their_owner(app: &TestApp) {
    let (_, alice_phone) = app.add_user_with_totp("alice").await;
    let (_, bob_phone) = app.add_user_with_totp("bob").await;
    let mut alice = remembered(app, "alice", &alice_phone).await;
    app.clock.advance(30);
    let mut bob = remembered(app, "bob", &bob_phone).await;
    let alice_device = device_ids(&alice.get("/account/security").await.body)
        .pop()
        .unwrap();
    let bob_device = device_ids(&bob.get("/account/security").await.body)
        .pop()
        .unwrap();
    let csrf = bob.csrf();

    // Bob tries Alice's device id, a nonsense id, and no CSRF token.
    let reply = bob
        .post_form(
            &format!("/account/devices/{alice_device}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, 404);
    let reply = bob
        .post_form(
            "/account/devices/not-a-number/revoke",
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, 404);
    let reply = bob
        .post_form(&format!("/account/devices/{bob_device}/revoke"), &[])
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        device_ids(&alice.get("/account/security").await.body),
        vec![alice_device.clone()],
        "untouched"
    );

    let reply = bob
        .post_form(
            &format!("/account/devices/{bob_device}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    let reply = bob.follow(reply).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("The device was revoked"));
    assert!(device_ids(&reply.body).is_empty());
    bob.logout().await;
    assert_eq!(
        bob.submit_password("bob", PASSWORD).await.location(),
        Some("/login/2fa?next=/")
    );

    let csrf = alice.csrf();
    let reply = alice
        .post_form("/account/devices/revoke-all", &[("csrf_token", &csrf)])
        .await;
    let reply = alice.follow(reply).await;
    assert!(reply.body.contains("Every remembered device was revoked"));
    let events = app.store().recent_audit(50).await.unwrap();
    assert_eq!(
        events.iter().filter(|e| e.kind == "device_revoked").count(),
        2
    );
}
both!(devices_are_revoked_one_by_one_and_only_by_their_owner);

async fn changing_the_password_logs_out_everything_else(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut here = remembered(app, "alice", &phone).await;
    app.clock.advance(30);
    let mut elsewhere = app.client();
    elsewhere.submit_password("alice", PASSWORD).await;
    assert_eq!(
        elsewhere.submit_token(&app.code(&phone, 0)).await.status,
        303
    );
    assert_eq!(elsewhere.get("/").await.status, 200);
    let csrf = here.get("/account/password").await.csrf_token().unwrap();
    let new = "a completely new passphrase";
    for (current, password, confirm, message) in [
        ("wrong", new, new, "current password is not correct"),
        (PASSWORD, new, "something else entirely", "differ"),
        (PASSWORD, "short", "short", "at least 12 characters"),
        (
            PASSWORD,
            "alice-and-her-cat",
            "alice-and-her-cat",
            "must not contain your username",
        ),
        (PASSWORD, &"x".repeat(129), &"x".repeat(129), "at most 128"),
    ] {
        let reply = here
            .post_form(
                "/account/password",
                &[
                    ("current_password", current),
                    ("new_password", password),
                    ("new_password_confirm", confirm),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(reply.status, 400, "{message}");
        assert!(reply.body.contains(message), "{message}: {}", reply.body);
    }
    let reply = here
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_confirm", new),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    let reply = here.follow(reply).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("Your password was changed"));
    assert_eq!(
        here.get("/").await.status,
        200,
        "this browser stays logged in"
    );
    assert_eq!(
        elsewhere.get("/").await.status,
        303,
        "every other session ends"
    );
    here.logout().await;
    assert_eq!(
        here.submit_password("alice", PASSWORD).await.status,
        401,
        "the old password is gone"
    );
    let reply = here.submit_password("alice", new).await;
    assert_eq!(
        reply.location(),
        Some("/login/2fa?next=/"),
        "the remembered device was revoked too"
    );
}
both!(changing_the_password_logs_out_everything_else);

async fn two_factor_login_is_turned_off_with_password_and_token(app: &TestApp) {
    let (user, phone) = app.add_user_with_totp("alice").await;
    app.recovery_codes(&user).await;
    let mut browser = remembered(app, "alice", &phone).await;
    let page = browser.get("/account/security").await;
    assert!(page.body.contains("Turn two-factor login off"));
    let csrf = page.csrf_token().unwrap();
    app.clock.advance(30);
    for (password, token, message) in [
        (
            "wrong".to_owned(),
            app.code(&phone, 0),
            "password is not correct",
        ),
        (PASSWORD.to_owned(), "000000".to_owned(), "not correct"),
        (PASSWORD.to_owned(), String::new(), "not correct"),
    ] {
        let reply = browser
            .post_form(
                "/account/two-factor/off",
                &[
                    ("password", &password),
                    ("token", &token),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(reply.status, 400, "{message}");
        assert!(reply.body.contains(message), "{message}: {}", reply.body);
    }
    let reply = browser
        .post_form(
            "/account/two-factor/off",
            &[("password", PASSWORD), ("token", &app.code(&phone, 0))],
        )
        .await;
    assert_eq!(reply.status, 403, "CSRF");
    let reply = browser
        .post_form(
            "/account/two-factor/off",
            &[
                ("password", PASSWORD),
                ("token", &app.code(&phone, 0)),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    let reply = browser.follow(reply).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("Two-factor login is off"));
    assert!(reply.body.contains("id=\"recovery-left\">0"));
    browser.logout().await;
    assert_eq!(
        browser.submit_password("alice", PASSWORD).await.location(),
        Some("/")
    );
    let events = app.store().recent_audit(60).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "two_factor_off" && e.outcome == "success")
    );
}
both!(two_factor_login_is_turned_off_with_password_and_token);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_login_cannot_be_turned_off_where_required() {
    let app = TestApp::start_with(testkit::Backend::Sqlite, |c| c.require_2fa = true)
        .await
        .unwrap();
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token(&app.code(&phone, 0)).await;
    let page = browser.get("/account/security").await;
    assert!(!page.body.contains("Turn two-factor login off"));
    let csrf = browser.csrf();
    app.clock.advance(30);
    let reply = browser
        .post_form(
            "/account/two-factor/off",
            &[
                ("password", PASSWORD),
                ("token", &app.code(&phone, 0)),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("requires two-factor login"));
    app.stop().await;
}

pub(crate) async fn send_phone(
    browser: &mut Client,
    csrf: &str,
    country: &str,
    number: &str,
    password: &str,
) -> testkit::Reply {
    browser
        .post_form(
            "/account/phone",
            &[
                ("country", country),
                ("phone", number),
                ("password", password),
                ("csrf_token", csrf),
            ],
        )
        .await
}

async fn a_new_phone_is_active_only_after_its_code(app: &TestApp) {
    let (_, totp) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token(&app.code(&totp, 0)).await;
    let page = browser.get("/account/phone").await;
    assert_eq!(page.status, 200);
    let csrf = page.csrf_token().unwrap();
    for (country, number, needle) in [
        ("US", "12", "for US"),
        ("US", "not a number", "for US"),
        ("ZZ", "2015550123", "Choose the country"),
        ("US", "", "Enter the phone number"),
    ] {
        let reply = send_phone(&mut browser, &csrf, country, number, PASSWORD).await;
        assert_eq!(reply.status, 400, "{country} {number}");
        assert!(
            reply.body.contains(needle),
            "{country} {number}: {}",
            reply.body
        );
    }
    let reply = send_phone(&mut browser, &csrf, "US", "(201) 555-0123", "wrong").await;
    assert!(reply.body.contains("password is not correct"));
    assert_eq!(app.sms_count(), 0, "nothing sent for a bad request");

    let reply = send_phone(&mut browser, &csrf, "US", "(201) 555-0123", PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("•••• •••• 0123"));
    let code = app.app.sms_outbox.recent().pop().unwrap();
    assert_eq!(code.to, "+12015550123", "stored and sent as E.164");
    let code: String = code
        .text
        .split(':')
        .nth(1)
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    assert!(
        browser
            .get("/account/security")
            .await
            .body
            .contains("id=\"phone\">none"),
        "not active before the code"
    );

    let reply = browser
        .post_form(
            "/account/phone/confirm",
            &[("code", "000000"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("4 attempts left"), "{}", reply.body);
    let reply = browser
        .post_form(
            "/account/phone/confirm",
            &[("code", &code), ("csrf_token", &csrf)],
        )
        .await;
    let reply = browser.follow(reply).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("Text messages now go to •••• •••• 0123")
    );
    let reply = browser
        .post_form(
            "/account/phone/confirm",
            &[("code", &code), ("csrf_token", &csrf)],
        )
        .await;
    assert!(reply.body.contains("expired"), "single use");

    let mut next = app.client();
    next.submit_password("alice", PASSWORD).await;
    assert!(
        next.get("/login/2fa")
            .await
            .body
            .contains("Request Token via SMS")
    );
}
both!(a_new_phone_is_active_only_after_its_code);

async fn a_common_password_is_refused(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token(&app.code(&phone, 0)).await;
    let csrf = browser.get("/account/password").await.csrf_token().unwrap();
    let reply = browser
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "1qaz2wsx3edc"),
                ("new_password_confirm", "1qaz2wsx3edc"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("most common"), "{}", reply.body);
}
both!(a_common_password_is_refused);
