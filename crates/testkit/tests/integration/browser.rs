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
