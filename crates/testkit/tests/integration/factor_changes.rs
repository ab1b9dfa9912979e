//! Changing how an account is protected (the phone, the recovery codes,
//! the authenticator) asks for the password and a current second factor
//! unless the login is under 5 minutes old, tells the owner, and moving a
//! factor ends every other session and remembered device.

use testkit::{Client, PASSWORD, TestApp};

use crate::account::send_phone;
use crate::enrollment::{code_of, confirm, offered, step_up};

/// Alice, with an authenticator, signed in here and in a second browser
/// that was remembered ("Save token for 30 days").
async fn alice_in_two_browsers(app: &TestApp) -> (otp::Totp, Client, Client) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let (browser, other) = two_browsers(app, &phone).await;
    (phone, browser, other)
}

/// Alice signed in here and in a second, remembered, browser.
async fn two_browsers(app: &TestApp, phone: &otp::Totp) -> (Client, Client) {
    let mut other = app.client();
    other.submit_password("alice", PASSWORD).await;
    assert_eq!(
        other
            .submit_token_remember(&app.code(phone, 0))
            .await
            .status,
        303
    );
    app.clock.advance(30);
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    assert_eq!(browser.submit_token(&app.code(phone, 0)).await.status, 303);
    (browser, other)
}

async fn new_codes(browser: &mut Client, proof: &str) -> testkit::Reply {
    let csrf = browser.csrf();
    browser
        .post_form(
            "/account/recovery-codes",
            &[
                ("password", PASSWORD),
                ("current_token", proof),
                ("csrf_token", &csrf),
            ],
        )
        .await
}

async fn mail_subjects(app: &TestApp) -> Vec<String> {
    app.mails().await.into_iter().map(|m| m.subject).collect()
}

async fn long_after_login_a_change_needs_a_current_second_factor(app: &TestApp) {
    let (phone, mut browser, _) = alice_in_two_browsers(app).await;
    app.clock.advance(6 * 60);
    let reply = new_codes(&mut browser, "").await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.body.contains("code from your authenticator app"),
        "{}",
        reply.body
    );
    let reply = new_codes(&mut browser, "000000").await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("not valid"), "{}", reply.body);
    assert!(
        !mail_subjects(app)
            .await
            .iter()
            .any(|s| s.contains("recovery codes")),
        "nothing made, nothing announced"
    );

    let reply = new_codes(&mut browser, &app.code(&phone, 0)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("old codes no longer work"));
    assert!(
        mail_subjects(app)
            .await
            .iter()
            .any(|s| s.ends_with("new recovery codes were made")),
        "the owner is told"
    );

    // The phone form asks the same.
    app.clock.advance(60);
    let csrf = browser.csrf();
    let reply = send_phone(&mut browser, &csrf, "US", "(201) 555-0199", PASSWORD).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("recovery codes"), "{}", reply.body);
    assert_eq!(app.sms_count(), 0);
}
both!(long_after_login_a_change_needs_a_current_second_factor);

async fn a_new_phone_ends_other_sessions_and_tells_the_old_number(app: &TestApp) {
    // Alice's first number, set by her administrator, and an authenticator.
    let alice = app.add_user_with_phone("alice", Some("+12015550100")).await;
    let uri = app
        .app
        .enroll_totp(
            &alice,
            None,
            otp::Algorithm::Sha1,
            otp::Digits::SIX,
            otp::Period::DEFAULT,
        )
        .await
        .unwrap();
    let phone = uri.to_totp().unwrap();
    let (mut browser, mut other) = two_browsers(app, &phone).await;

    let csrf = browser.csrf();
    let reply = send_phone(&mut browser, &csrf, "US", "(201) 555-0199", PASSWORD).await;
    assert_eq!(
        reply.status, 200,
        "within 5 minutes of the login: {}",
        reply.body
    );
    let text = app.app.sms_outbox.recent().pop().unwrap();
    assert_eq!(text.to, "+12015550199");
    let code = testkit::sms_code_in(&text.text).unwrap();
    let reply = browser
        .post_form(
            "/account/phone/confirm",
            &[("code", &code), ("csrf_token", &csrf)],
        )
        .await;
    let reply = browser.follow(reply).await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    assert_eq!(browser.get("/").await.status, 200, "this browser stays in");
    assert_eq!(
        other.get("/").await.status,
        303,
        "every other session ended"
    );
    let reply = other.submit_password("alice", PASSWORD).await;
    assert_eq!(
        reply.location(),
        Some("/login/2fa?next=/"),
        "the remembered device is forgotten"
    );
    app.flush_outbox().await;
    let told = app
        .app
        .sms_outbox
        .recent()
        .into_iter()
        .any(|m| m.to == "+12015550100" && m.text.contains("another number"));
    assert!(told, "the old number hears of it");
    assert!(
        mail_subjects(app)
            .await
            .iter()
            .any(|s| s.ends_with("your cell phone was changed"))
    );
}
both!(a_new_phone_ends_other_sessions_and_tells_the_old_number);

async fn moving_the_authenticator_ends_other_sessions(app: &TestApp) {
    let (phone, mut browser, mut other) = alice_in_two_browsers(app).await;
    app.clock.advance(30);
    let reply = step_up(&mut browser, PASSWORD, Some(&app.code(&phone, 0))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let uri = offered(&reply);
    let reply = confirm(&mut browser, &code_of(app, &uri)).await;
    assert!(reply.status < 400, "{}", reply.body);
    assert_eq!(browser.get("/").await.status, 200, "this browser stays in");
    assert_eq!(
        other.get("/").await.status,
        303,
        "every other session ended"
    );
    let reply = other.submit_password("alice", PASSWORD).await;
    assert_eq!(
        reply.location(),
        Some("/login/2fa?next=/"),
        "remembered device forgotten"
    );
    assert!(
        mail_subjects(app)
            .await
            .iter()
            .any(|s| s.ends_with("two-factor login is on")),
        "the owner is told"
    );
}
both!(moving_the_authenticator_ends_other_sessions);

/// Whatever is typed as the current code, the answer is a refusal that
/// says so, never an error, and nothing changes.
async fn hostile_proofs_are_refused_plainly(app: &TestApp) {
    let (_, mut browser, _) = alice_in_two_browsers(app).await;
    app.clock.advance(6 * 60);
    let long = "9".repeat(5_000);
    for hostile in [
        "'; DROP TABLE recovery_codes;--",
        "<script>alert(1)</script>",
        "１２３４５６",
        "12345\u{0}6",
        "abcd-efgh-jkmn-pqrs",
        "-",
        long.as_str(),
    ] {
        let reply = new_codes(&mut browser, hostile).await;
        assert_eq!(reply.status, 400, "{hostile:?}: {}", reply.body);
        assert!(
            reply.body.contains("not valid"),
            "{hostile:?}: {}",
            reply.body
        );
        assert!(!reply.body.contains("<script>alert"), "escaped");
    }
    assert_eq!(
        browser.get("/account/security").await.status,
        200,
        "still signed in"
    );
}
both!(hostile_proofs_are_refused_plainly);

/// The confirmation a change asks for is no way around a lock: during the
/// password lock a right password is refused like a wrong one, and wrong
/// codes lock the second factor as they do at login, after which even the
/// right code is refused.
async fn a_change_of_factor_answers_to_the_locks(app: &TestApp) {
    let (phone, mut browser, _) = alice_in_two_browsers(app).await;
    app.clock.advance(6 * 60);
    // Ten wrong codes: the second factor locks, as at login.
    for i in 0..10 {
        let reply = new_codes(&mut browser, &format!("{:06}", 111_111 + i)).await;
        assert_eq!(reply.status, 400, "try {i}");
    }
    let trail = app.store().recent_audit(3).await.unwrap();
    assert!(trail.iter().any(|e| e.kind == "lock"), "{trail:?}");
    let reply = new_codes(&mut browser, &app.code(&phone, 0)).await;
    assert_eq!(reply.status, 400, "locked: the right code is refused too");
    assert!(
        !mail_subjects(app)
            .await
            .iter()
            .any(|s| s.contains("recovery codes were made")),
        "nothing made"
    );

    // A password lock (set by strangers at the login page) holds here too.
    let mut stranger = app.client();
    for _ in 0..10 {
        stranger.submit_password("alice", "not the password").await;
    }
    let alice = app.app.user("alice").await.unwrap();
    let store = app.store();
    store
        .clear_locks(&domain::UserLimit::SecondFactor.of(alice.id))
        .await
        .unwrap();
    app.clock.advance(30);
    let reply = new_codes(&mut browser, &app.code(&phone, 0)).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply.body.contains("password is not correct"),
        "{}",
        reply.body
    );
    let trail = store.recent_audit(1).await.unwrap();
    assert_eq!(
        (trail[0].kind.as_str(), trail[0].outcome.as_str()),
        ("reauthenticated", "blocked")
    );
    // Once the lock is over, the same form goes through.
    app.clock.advance(15 * 60 + 1);
    let reply = new_codes(&mut browser, &app.code(&phone, 0)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}
both!(a_change_of_factor_answers_to_the_locks);
