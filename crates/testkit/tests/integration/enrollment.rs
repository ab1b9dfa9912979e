//! Linking an authenticator app from the account page, and re-linking it
//! to a new phone.

use otp::OtpAuthUri;
use testkit::{Client, PASSWORD, Reply, TestApp};

pub(crate) fn offered(reply: &Reply) -> OtpAuthUri {
    let start = reply
        .body
        .find("id=\"otpauth-uri\">")
        .expect("the URI is shown")
        + 17;
    let end = reply.body[start..].find("</p>").unwrap() + start;
    OtpAuthUri::parse(
        &reply.body[start..end]
            .replace("&amp;", "&")
            .replace("&#x3a;", ":"),
    )
    .unwrap()
}

pub(crate) async fn step_up(browser: &mut Client, password: &str, proof: Option<&str>) -> Reply {
    let csrf = browser
        .get("/account/authenticator")
        .await
        .csrf_token()
        .unwrap();
    let mut fields = vec![("password", password), ("csrf_token", csrf.as_str())];
    if let Some(proof) = proof {
        fields.push(("current_token", proof));
    }
    browser.post_form("/account/authenticator", &fields).await
}

/// Confirms a new authenticator with `code`: the page the browser then
/// shows.
pub(crate) async fn confirm(browser: &mut Client, code: &str) -> Reply {
    let csrf = browser.csrf();
    let reply = browser
        .post_form(
            "/account/authenticator/confirm",
            &[("code", code), ("csrf_token", &csrf)],
        )
        .await;
    browser.follow(reply).await
}

pub(crate) fn code_of(app: &TestApp, uri: &OtpAuthUri) -> String {
    app.code(&uri.to_totp().unwrap(), 0)
}

async fn a_user_links_an_app_and_gets_recovery_codes(app: &TestApp) {
    app.add_user("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let page = browser.get("/account/authenticator").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"password\"") && !page.body.contains("current_token"));
    assert_eq!(step_up(&mut browser, "wrong", None).await.status, 400);

    let reply = step_up(&mut browser, PASSWORD, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("<svg"), "a server-rendered QR code");
    let uri = offered(&reply);
    assert_eq!(uri.issuer.as_deref(), Some("Test Clinic"));
    assert_eq!(uri.account, "alice");
    let grouped: String = uri
        .secret
        .to_base32()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        reply.body.contains(&grouped),
        "the secret grouped for typing"
    );

    // Abandoning the page leaves no factor: the password alone still logs in.
    let mut other = app.client();
    assert_eq!(
        other.submit_password("alice", PASSWORD).await.location(),
        Some("/")
    );

    let wrong = crate::abuse::wrong_code(&code_of(app, &uri));
    let reply = confirm(&mut browser, &wrong).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("does not match"));
    let reply = confirm(&mut browser, &code_of(app, &uri)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body.matches("class=\"recovery-code\"").count(), 10);

    // The download echoes the codes shown, as a text file.
    let csrf = reply.csrf_token().unwrap();
    let codes: Vec<String> = reply
        .body
        .split("class=\"recovery-code\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect();
    let mut fields: Vec<(&str, &str)> = codes.iter().map(|c| ("code", c.as_str())).collect();
    fields.push(("csrf_token", &csrf));
    let download = browser
        .post_form("/account/recovery-codes/download", &fields)
        .await;
    assert_eq!(
        download.header("content-disposition"),
        Some("attachment; filename=\"recovery-codes.txt\"")
    );
    assert!(download.body.contains(&codes[9]));
    assert_eq!(
        browser
            .post_form("/account/recovery-codes/download", &fields[..10])
            .await
            .status,
        403
    );

    // From now on the token is asked, and the confirming code is spent.
    let mut next = app.client();
    assert_eq!(
        next.submit_password("alice", PASSWORD).await.location(),
        Some("/login/2fa?next=/")
    );
    assert_eq!(next.submit_token(&code_of(app, &uri)).await.status, 401);
    app.clock.advance(30);
    assert_eq!(next.submit_token(&code_of(app, &uri)).await.status, 303);
}
both!(a_user_links_an_app_and_gets_recovery_codes);

async fn a_new_phone_needs_the_old_token_or_a_recovery_code(app: &TestApp) {
    let (user, old_phone) = app.add_user_with_totp("alice").await;
    let codes = app.recovery_codes(&user).await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token(&app.code(&old_phone, 0)).await;
    let page = browser.get("/account/authenticator").await;
    assert!(page.body.contains("name=\"current_token\""));

    // A stolen password alone cannot move the second factor.
    let reply = step_up(&mut browser, PASSWORD, None).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("already linked"));
    let reply = step_up(&mut browser, PASSWORD, Some("000000")).await;
    assert_eq!(reply.status, 400);
    // The token used to log in was spent; the next step's works.
    app.clock.advance(30);
    let reply = step_up(&mut browser, PASSWORD, Some(&app.code(&old_phone, 0))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let new_phone = offered(&reply);
    // The old app still works until the new one is confirmed.
    assert!(
        confirm(&mut browser, &code_of(app, &new_phone))
            .await
            .body
            .contains("Codes from the old one no longer work")
    );

    app.clock.advance(30);
    let mut login = app.client();
    login.submit_password("alice", PASSWORD).await;
    assert_eq!(
        login.submit_token(&app.code(&old_phone, 0)).await.status,
        401,
        "the old app stopped"
    );
    assert_eq!(
        login.submit_token(&code_of(app, &new_phone)).await.status,
        303,
        "the new one works"
    );

    // A recovery code is the other way to prove it.
    let mut again = app.client();
    again.submit_password("alice", PASSWORD).await;
    app.clock.advance(30);
    again.submit_token(&code_of(app, &new_phone)).await;
    let reply = step_up(&mut again, PASSWORD, Some(&codes[3])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        app.app.login.recovery_codes_left(&user).await.unwrap(),
        9,
        "the code was used up"
    );
}
both!(a_new_phone_needs_the_old_token_or_a_recovery_code);

/// A user guarded by texted codes adds an app only under a fresh login, as
/// any change of factor: a stolen session and the password are not enough.
async fn texts_guard_adding_an_app_as_any_change_of_factor(app: &TestApp) {
    const PHONE: &str = "+12015550123";
    app.add_user_with_phone("nurse", Some(PHONE)).await;
    let mut browser = app.client();
    browser.submit_password("nurse", PASSWORD).await;
    assert_eq!(browser.request_sms().await.status, 200);
    let code = app.last_sms_code(PHONE).unwrap();
    assert_eq!(browser.submit_token(&code).await.status, 303);

    // Minutes later (a session someone else may hold), the password alone
    // does not add an app.
    app.clock.advance(6 * 60);
    let reply = step_up(&mut browser, PASSWORD, None).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("log in again"), "{}", reply.body);
    assert!(!reply.body.contains("id=\"otpauth-uri\""));

    // A fresh login with a texted code does.
    let mut fresh = app.client();
    fresh.submit_password("nurse", PASSWORD).await;
    app.clock.advance(30);
    assert_eq!(fresh.request_sms().await.status, 200);
    let code = app.last_sms_code(PHONE).unwrap();
    assert_eq!(fresh.submit_token(&code).await.status, 303);
    let reply = step_up(&mut fresh, PASSWORD, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    offered(&reply);
}
both!(texts_guard_adding_an_app_as_any_change_of_factor);

async fn the_confirm_code_may_post_to_the_link_path_and_works_once(app: &TestApp) {
    app.add_user("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let uri = offered(&step_up(&mut browser, PASSWORD, None).await);
    let csrf = browser.csrf();
    let code = code_of(app, &uri);
    let reply = browser
        .post_form(
            "/account/authenticator",
            &[("code", &code), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body.matches("class=\"recovery-code\"").count(), 10);
    // Replaying the confirmation changes nothing: there is no offer left.
    let again = confirm(&mut browser, &code).await;
    assert_eq!(again.status, 400);
    assert_eq!(
        app.app
            .login
            .recovery_codes_left(&app.app.user("alice").await.unwrap())
            .await
            .unwrap(),
        10
    );
}
both!(the_confirm_code_may_post_to_the_link_path_and_works_once);

async fn a_stale_password_check_is_refused(app: &TestApp) {
    app.add_user("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let uri = offered(&step_up(&mut browser, PASSWORD, None).await);
    app.clock.advance(5 * 60);
    let reply = confirm(&mut browser, &code_of(app, &uri)).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("More than 5 minutes"), "{}", reply.body);
    let mut check = app.client();
    assert_eq!(
        check.submit_password("alice", PASSWORD).await.location(),
        Some("/"),
        "nothing was linked"
    );
    let reply = browser
        .post_form("/account/authenticator/confirm", &[("code", "123456")])
        .await;
    assert_eq!(reply.status, 403, "CSRF");
}
both!(a_stale_password_check_is_refused);

async fn a_new_set_of_recovery_codes_needs_the_password(app: &TestApp) {
    let (user, phone) = app.add_user_with_totp("alice").await;
    let old = app.recovery_codes(&user).await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token(&app.code(&phone, 0)).await;
    let page = browser.get("/account/recovery-codes").await;
    assert!(page.body.contains("id=\"recovery-left\" data-left=\"10\""));
    let csrf = page.csrf_token().unwrap();
    let reply = browser
        .post_form(
            "/account/recovery-codes",
            &[("password", "wrong"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.status, 400);
    let reply = browser
        .post_form(
            "/account/recovery-codes",
            &[("password", PASSWORD), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(reply.body.matches("class=\"recovery-code\"").count(), 10);
    assert!(!reply.body.contains(&old[0]));
    let mut login = app.client();
    login.submit_password("alice", PASSWORD).await;
    let csrf = login.get("/login/recovery").await.csrf_token().unwrap();
    let used_old = login
        .post_form(
            "/login/recovery",
            &[("code", &old[0]), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(used_old.status, 401, "the old set no longer works");
}
both!(a_new_set_of_recovery_codes_needs_the_password);

/// With 2FA required, a user without a factor who passes the password goes
/// straight into linking an app and gets nothing else until it is confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_2fa_takes_a_user_without_a_factor_into_enrollment() {
    let app = TestApp::start_with(testkit::Backend::Sqlite, |c| c.require_2fa = true)
        .await
        .unwrap();
    app.add_user("bob").await;
    let mut browser = app.client();
    let reply = browser.submit_password("bob", PASSWORD).await;
    assert_eq!(reply.location(), Some("/account/authenticator"));
    for path in [
        "/",
        "/account/security",
        "/account/recovery-codes",
        "/auth/verify",
    ] {
        let reply = browser.get(path).await;
        assert!(
            matches!(reply.status, 303 | 401),
            "{path} must grant nothing: {}",
            reply.status
        );
    }
    let page = browser.get("/account/authenticator").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("requires two-factor login"),
        "a clear explanation: {}",
        page.body
    );
    let uri = offered(&step_up(&mut browser, PASSWORD, None).await);
    let reply = confirm(&mut browser, &code_of(&app, &uri)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body.matches("class=\"recovery-code\"").count(), 10);
    assert_eq!(
        browser.get("/").await.status,
        200,
        "enrolled: now fully logged in"
    );
    let events = app.store().recent_audit(30).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "enrollment_required"));

    // Ten minutes without confirming and the enrolling session is gone.
    app.add_user("carol").await;
    let mut late = app.client();
    late.submit_password("carol", PASSWORD).await;
    app.clock.advance(10 * 60);
    assert_eq!(late.get("/account/authenticator").await.status, 303);
    app.stop().await;
}
