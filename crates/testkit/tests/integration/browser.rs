//! The whole morning routine in a real headless Chromium.

use testkit::browser::{Browser, screenshot_dir};
use testkit::{Backend, PASSWORD, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinician_logs_in_with_2fa_and_is_remembered_next_time() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let (_, phone) = app.add_user_with_totp("drsmith").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let shots = screenshot_dir();

    browser.goto(&app.url("/login")).await;
    let page = browser.source().await;
    assert!(page.contains("Log In") && page.contains("Forgot password?"));
    browser.screenshot(&shots.join("login.png")).await;
    browser.type_into("#username", "drsmith").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;

    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
    let page = browser.source().await;
    assert!(page.contains("Two-Factor Login"));
    assert!(page.contains("Save token for 30 days. (Not on public computers!)"));
    // With JavaScript on, the token box has focus and shows the expected form.
    assert_eq!(browser.focused_id().await, "token");
    assert_eq!(browser.property("#token", "placeholder").await, "000 000");
    browser.screenshot(&shots.join("two-factor.png")).await;
    browser.resize(390, 844).await;
    browser
        .screenshot(&shots.join("two-factor-phone.png"))
        .await;
    browser.resize(1000, 900).await;

    let code = app.code(&phone, 0);
    browser
        .type_into("#token", &format!("{} {}", &code[..3], &code[3..]))
        .await;
    browser.click("input[name=remember]").await;
    browser.click("#token-form button[type=submit]").await;
    browser
        .wait_for_url(|u| u.ends_with('/') && !u.contains("/login"))
        .await;
    assert!(browser.source().await.contains("Logged in as"));
    browser.screenshot(&shots.join("dashboard.png")).await;

    browser.click("form[action='/logout'] button").await;
    browser.wait_for_url(|u| u.contains("/login")).await;

    // Next morning, same computer: the password only.
    app.clock.advance(8 * 3600);
    browser.type_into("#username", "drsmith").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| !u.contains("/login")).await;
    assert!(browser.source().await.contains("Logged in as"));

    browser.quit().await;
    for name in ["login.png", "two-factor.png"] {
        let bytes = std::fs::read(shots.join(name)).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000,
            "{name}"
        );
    }
    app.stop().await;
}

/// A fresh user links an app by reading the secret off the QR page,
/// confirms, saves the recovery codes, logs out, logs in with a token, then
/// with a recovery code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_links_an_app_and_later_uses_a_recovery_code() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    app.add_user("nurse").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let shots = screenshot_dir();
    browser.goto(&app.url("/login")).await;
    browser.type_into("#username", "nurse").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| !u.contains("/login")).await;

    browser.goto(&app.url("/account/security")).await;
    assert!(browser.source().await.contains("Off: only your password"));
    browser.click("a[href='/account/authenticator']").await;
    browser
        .wait_for_url(|u| u.contains("/account/authenticator"))
        .await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    for _ in 0..50 {
        if browser.source().await.contains("id=\"secret\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        browser.source().await.contains("<svg"),
        "the QR code is on the page"
    );
    browser
        .screenshot(&shots.join("link-authenticator.png"))
        .await;
    // Read the secret the way a person types it from the page.
    let grouped = browser.property("#secret", "textContent").await;
    let secret = otp::Secret::from_base32(grouped.trim()).unwrap();
    let phone = otp::Totp::new(
        secret,
        otp::Algorithm::Sha1,
        otp::Digits::SIX,
        otp::Period::DEFAULT,
    );
    browser.type_into("#code", &app.code(&phone, 0)).await;
    browser
        .click("form[action='/account/authenticator/confirm'] button")
        .await;
    for _ in 0..50 {
        if browser.source().await.contains("recovery-code") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let page = browser.source().await;
    let codes: Vec<String> = page
        .split("class=\"recovery-code\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    browser.screenshot(&shots.join("recovery-codes.png")).await;
    // The forms that change a factor ask for a current code as well.
    browser.goto(&app.url("/account/phone")).await;
    assert!(browser.source().await.contains("id=\"current_token\""));
    browser.screenshot(&shots.join("cell-phone.png")).await;

    // Log out and back in with a token.
    browser.goto(&app.url("/")).await;
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_url(|u| u.contains("/login")).await;
    app.clock.advance(30);
    browser.type_into("#username", "nurse").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
    browser.type_into("#token", &app.code(&phone, 0)).await;
    browser.click("#token-form button[type=submit]").await;
    browser.wait_for_url(|u| !u.contains("/login")).await;
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_url(|u| u.contains("/login")).await;

    // The phone is lost: a recovery code instead.
    browser.type_into("#username", "nurse").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
    browser.click("a[href^='/login/recovery']").await;
    browser
        .wait_for_url(|u| u.contains("/login/recovery"))
        .await;
    browser.type_into("#code", &codes[4]).await;
    browser.click("button[type=submit]").await;
    for _ in 0..50 {
        if browser.source().await.contains("recovery codes left") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(browser.source().await.contains("9 recovery codes left"));
    // The phone is likely lost: linking a new one is offered first.
    assert!(browser.url().await.contains("/login/recovery/used"));
    browser.click("#link-new-phone").await;
    browser
        .wait_for_url(|u| u.contains("/account/authenticator"))
        .await;
    browser.quit().await;
    app.stop().await;
}

/// Waits (up to 5 s) until the page source contains `text`.
async fn wait_for_text(browser: &Browser, text: &str) -> String {
    for _ in 0..50 {
        let page = browser.source().await;
        if page.contains(text) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{text:?} never appeared: {}", browser.source().await);
}

async fn log_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.goto(&app.url("/login")).await;
    browser.type_into("#username", username).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| !u.ends_with("/login")).await;
}

async fn log_out(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url("/")).await;
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_url(|u| u.contains("/login")).await;
}

/// An administrator requires 2FA for a staff member, who is made to link
/// an app at the next login; the administrator resets it after the phone is
/// lost, and the audit page shows all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_requires_and_resets_2fa_and_the_audit_page_shows_it() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    app.add_user_in("boss", None, domain::Role::Admin).await;
    let nurse = app.add_user("nurse").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let shots = screenshot_dir();

    // The administrator requires 2FA for the nurse.
    log_in(&browser, &app, "boss").await;
    browser.click("#admin-links a[href='/admin/staff']").await;
    browser.wait_for_url(|u| u.contains("/admin/staff")).await;
    let page = wait_for_text(&browser, "data-username=\"nurse\"").await;
    assert!(page.contains("2 accounts"));
    browser.screenshot(&shots.join("admin-staff.png")).await;
    browser
        .click(&format!("a[href='/admin/staff/{}']", nurse.id.0))
        .await;
    wait_for_text(&browser, "id=\"action-require-2fa\"").await;
    browser.type_into("#password-require-2fa", PASSWORD).await;
    browser.click("#action-require-2fa button").await;
    let page = wait_for_text(&browser, "must use two-factor login").await;
    assert!(page.contains("Not set up · required"));
    browser.screenshot(&shots.join("admin-user.png")).await;
    log_out(&browser, &app).await;

    // The nurse's next login goes straight to linking an app.
    log_in(&browser, &app, "nurse").await;
    let url = browser
        .wait_for_url(|u| u.contains("/account/authenticator"))
        .await;
    assert!(url.contains("/account/authenticator"), "{url}");
    if !browser.source().await.contains("id=\"secret\"") {
        browser.type_into("#password", PASSWORD).await;
        browser.click("button[type=submit]").await;
    }
    wait_for_text(&browser, "id=\"secret\"").await;
    let grouped = browser.property("#secret", "textContent").await;
    let phone = otp::Totp::new(
        otp::Secret::from_base32(grouped.trim()).unwrap(),
        otp::Algorithm::Sha1,
        otp::Digits::SIX,
        otp::Period::DEFAULT,
    );
    browser.type_into("#code", &app.code(&phone, 0)).await;
    browser
        .click("form[action='/account/authenticator/confirm'] button")
        .await;
    wait_for_text(&browser, "recovery-code").await;
    log_out(&browser, &app).await;

    // The phone is lost: the administrator resets the nurse's 2FA.
    log_in(&browser, &app, "boss").await;
    browser
        .goto(&app.url(&format!("/admin/staff/{}", nurse.id.0)))
        .await;
    let page = wait_for_text(&browser, "id=\"action-reset-2fa\"").await;
    assert!(page.contains("On (app) · required"), "{page}");
    browser.type_into("#password-reset-2fa", PASSWORD).await;
    browser.click("#action-reset-2fa button").await;
    let page = wait_for_text(&browser, "was reset").await;
    assert!(page.contains("Not set up · required"));

    // The audit page shows every step, newest first.
    browser.goto(&app.url("/admin/audit?user=nurse")).await;
    let page = wait_for_text(&browser, "id=\"audit\"").await;
    browser.screenshot(&shots.join("admin-audit.png")).await;
    let order: Vec<usize> = [
        "reset_2fa",
        "totp_enrolled",
        "enrollment_required",
        "require_2fa",
    ]
    .iter()
    .map(|kind| {
        page.find(&format!("data-event=\"{kind}\""))
            .unwrap_or_else(|| panic!("{kind} on the audit page"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "newest first: {order:?}"
    );
    log_out(&browser, &app).await;

    // And the nurse links an app again at the next login.
    log_in(&browser, &app, "nurse").await;
    browser
        .wait_for_url(|u| u.contains("/account/authenticator"))
        .await;
    browser.quit().await;
    app.stop().await;
}
