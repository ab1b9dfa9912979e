//! Every page in a real Chromium: axe-core (WCAG 2.2 A and AA) finds no
//! violation, in the normal and the error states, at desktop and phone
//! widths, and every field takes a paste and carries the autocomplete hint
//! a password manager needs; a screenshot of each is kept under
//! `target/screenshots/pages/`.
//! And the morning login works with the keyboard alone.

use testkit::browser::{BACKSPACE, Browser, END, ENTER, TAB, axe_source, screenshot_dir};
use testkit::{Backend, PASSWORD, TestApp};

/// Visits pages, checks each with axe and photographs it.
struct Tour<'a> {
    browser: &'a Browser,
    axe: &'a str,
    found: Vec<String>,
    shots: std::path::PathBuf,
    pages: usize,
}

impl Tour<'_> {
    /// Checks the page now in the browser, under `name`.
    async fn check(&mut self, name: &str) {
        for problem in self.browser.form_hint_problems().await {
            self.found.push(format!("{name}: {problem}"));
        }
        // A refused field looks refused, not only to a screen reader.
        let unmarked = self
            .browser
            .execute_async(
                "var done = arguments[arguments.length - 1];\n\
                 done(Array.from(document.querySelectorAll('[aria-invalid=true]'))\n\
                   .filter(e => getComputedStyle(e).borderTopColor !== 'rgb(180, 35, 24)')\n\
                   .map(e => e.id));",
            )
            .await;
        for id in unmarked.as_array().into_iter().flatten() {
            self.found.push(format!(
                "{name}: #{} is aria-invalid without the red border",
                id.as_str().unwrap_or("?")
            ));
        }
        for (width, height, suffix) in [(1000, 900, ""), (390, 844, "-phone")] {
            self.browser.resize(width, height).await;
            for violation in self.browser.axe(self.axe).await {
                self.found.push(format!("{name}{suffix}: {violation}"));
            }
            self.browser
                .screenshot(&self.shots.join(format!("{name}{suffix}.png")))
                .await;
        }
        self.browser.resize(1000, 900).await;
        self.pages += 1;
    }

    /// Opens `url`, then checks it.
    async fn visit(&mut self, name: &str, url: &str) {
        self.browser.goto(url).await;
        self.check(name).await;
    }
}

/// The page that hands a just-signed-in browser back to the application.
/// It moves on at once (a meta refresh, since `form-action 'self'` would
/// block a redirect right after our login form), so it is fetched the way
/// the browser fetches it, from this origin with the session, and written
/// into the current tab without its refresh, for axe to read.
async fn oidc_continue(tour: &mut Tour<'_>, app: &TestApp) {
    let (client_id, _) = app
        .add_oidc_client(
            "Charts",
            &["https://charts.example/callback".to_owned()],
            &[],
            true,
            "RS256",
        )
        .await;
    let authorize = format!(
        "/oidc/authorize?client_id={client_id}&redirect_uri=https%3A%2F%2Fcharts.example%2Fcallback\
         &response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
         &code_challenge_method=S256"
    );
    let script = format!(
        "var done = arguments[arguments.length - 1];\n\
         fetch({authorize:?}, {{credentials: 'same-origin', redirect: 'manual'}})\n\
           .then(r => r.text().then(t => done([r.status, t])));"
    );
    let reply = tour.browser.execute_async(&script).await;
    assert_eq!(reply[0], 200, "{reply}");
    let html = reply[1].as_str().unwrap();
    assert!(
        html.contains("<meta http-equiv=\"refresh\" content=\"0;url=")
            && html.contains("charts.example"),
        "{html}"
    );
    // It names the application as its administrator registered it.
    assert!(html.contains("Returning to Charts"), "{html}");
    let still = html.replacen("http-equiv=\"refresh\"", "name=\"was-refresh\"", 1);
    tour.browser
        .execute_async(&format!(
            "var done = arguments[arguments.length - 1];\n\
             document.open(); document.write({still:?}); document.close(); done(true);"
        ))
        .await;
    tour.check("oidc-continue").await;
}

/// Types `username` and the test password on the login page at `url` and
/// waits for the two-factor page.
async fn password_step(browser: &Browser, url: &str, username: &str) {
    browser.goto(url).await;
    browser.type_into("#username", username).await;
    browser.type_into("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
}

async fn wait_for(browser: &Browser, text: &str) {
    for _ in 0..50 {
        if browser.source().await.contains(text) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the page at {} never showed {text}: {}",
        browser.url().await,
        browser.source().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_every_state_at_both_widths() {
    let app = TestApp::start_demo(Backend::Sqlite).await.unwrap();
    let Some(axe) = axe_source() else { return };
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (_, phone) = app.add_admin_with_totp("boss").await;
    let nurse = app.add_user("nurse").await;
    let mut tour = Tour {
        browser: &browser,
        axe: &axe,
        found: Vec::new(),
        shots: screenshot_dir().join("pages"),
        pages: 0,
    };
    let url = |path: &str| app.url(path);

    // Logged out.
    tour.visit("login", &url("/login")).await;
    browser.type_into("#username", "boss").await;
    browser.type_into("#password", "not the password").await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    wait_for(&browser, "class=\"error\"").await;
    tour.check("login-error").await;
    tour.visit("forgot", &url("/password/forgot")).await;
    browser.type_into("#username_or_email", "nurse").await;
    browser
        .click("form[action='/password/forgot'] button")
        .await;
    wait_for(&browser, "If that is an account here").await;
    tour.check("forgot-sent").await;
    app.mails().await;
    tour.visit("outbox", &url("/dev/outbox")).await;
    let reset = app
        .mails()
        .await
        .into_iter()
        .find(|m| m.subject.contains("reset"))
        .map(|m| {
            let start = m.text.find("/password/reset/").unwrap();
            m.text[start..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned()
        })
        .unwrap();
    tour.visit("reset", &url(&reset)).await;
    browser
        .type_into("#password", "a long new passphrase")
        .await;
    browser
        .type_into("#password_confirm", "a different one")
        .await;
    browser.click("form button[type=submit]").await;
    wait_for(&browser, "class=\"error\"").await;
    tour.check("reset-error").await;
    tour.visit("not-found", &url("/no/such/page")).await;

    // The two steps of the login, with their error states.
    password_step(&browser, &url("/login"), "boss").await;
    tour.check("two-factor").await;
    browser.type_into("#token", "000000").await;
    browser.click("#token-form button:not([form])").await;
    wait_for(&browser, "id=\"token-error\"").await;
    tour.check("two-factor-error").await;
    browser.click("#request-sms").await;
    wait_for(&browser, "id=\"token-notice\"").await;
    tour.check("two-factor-sms-sent").await;
    tour.visit("recovery", &url("/login/recovery")).await;
    browser.type_into("#code", "aaaa-bbbb").await;
    browser.click("form button[type=submit]").await;
    wait_for(&browser, "class=\"error\"").await;
    tour.check("recovery-error").await;
    browser.goto(&url("/login/2fa")).await;
    app.clock.advance(30);
    browser.type_into("#token", &app.code(&phone, 0)).await;
    browser.click("#token-form button:not([form])").await;
    browser.wait_for_url(|u| !u.contains("/login")).await;

    // Signed in: the start page asks for recovery codes.
    tour.check("dashboard-nudge").await;
    tour.visit("security", &url("/account/security")).await;
    tour.visit("password", &url("/account/password")).await;
    browser.type_into("#current_password", "wrong").await;
    browser
        .type_into("#new_password", "a long new passphrase")
        .await;
    browser
        .type_into("#new_password_confirm", "another long one")
        .await;
    browser
        .click("form[action='/account/password'] button")
        .await;
    wait_for(&browser, "class=\"error\"").await;
    tour.check("password-error").await;
    tour.visit("phone", &url("/account/phone")).await;
    browser.type_into("#phone", "12").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form[action='/account/phone'] button").await;
    wait_for(&browser, "id=\"phone-error\"").await;
    tour.check("phone-error").await;
    browser.clear("#phone").await;
    browser.type_into("#phone", "(201) 555-0147").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form[action='/account/phone'] button").await;
    wait_for(&browser, "id=\"phone-notice\"").await;
    tour.check("phone-code").await;
    browser.type_into("#code", "000000").await;
    browser
        .click("form[action='/account/phone/confirm'] button")
        .await;
    wait_for(&browser, "id=\"phone-error\"").await;
    assert_eq!(
        browser.focused_id().await,
        "code",
        "focus on the code in error"
    );
    tour.check("phone-code-error").await;
    tour.visit("authenticator", &url("/account/authenticator"))
        .await;
    browser.type_into("#password", PASSWORD).await;
    app.clock.advance(30);
    browser
        .type_into("#current_token", &app.code(&phone, 0))
        .await;
    browser.click("form button[type=submit]").await;
    wait_for(&browser, "<svg").await;
    tour.check("authenticator-qr").await;
    tour.visit("recovery-codes", &url("/account/recovery-codes"))
        .await;
    tour.visit("passkeys", &url("/account/passkeys")).await;

    // The administrator's pages.
    tour.visit("staff", &url("/admin/staff")).await;
    tour.visit("staff-user", &url(&format!("/admin/staff/{}", nurse.id.0)))
        .await;
    browser
        .type_into("#password-reset-2fa", "not the password")
        .await;
    browser.click("#action-reset-2fa button").await;
    wait_for(&browser, "class=\"error\"").await;
    tour.check("staff-user-error").await;
    tour.visit("staff-new", &url("/admin/staff/new")).await;
    browser.type_into("#username", "x y").await;
    browser.type_into("#email", "not-an-email@x").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form[action='/admin/staff'] button").await;
    wait_for(&browser, "class=\"error\"").await;
    tour.check("staff-new-error").await;
    tour.visit("policy", &url("/admin/policy")).await;
    browser.clear("#time_zone").await;
    browser.type_into("#time_zone", "Mars/Olympus").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form[action='/admin/policy'] button").await;
    wait_for(&browser, "class=\"error\"").await;
    tour.check("policy-error").await;
    // Several wrong numbers at once (the browser's own checks set aside,
    // as an older browser would): each marked, listed at the top.
    browser.goto(&url("/admin/policy")).await;
    browser
        .execute_async(
            "var done = arguments[arguments.length - 1];\n\
             document.querySelector(\"form[action='/admin/policy']\").noValidate = true;\n\
             done(true);",
        )
        .await;
    for (field, typed) in [("#remember_days", "45"), ("#password_min_length", "3")] {
        browser.clear(field).await;
        browser.type_into(field, typed).await;
    }
    browser.type_into("#password", PASSWORD).await;
    browser.click("form[action='/admin/policy'] button").await;
    wait_for(&browser, "<li id=\"error-min-length\">").await;
    assert_eq!(browser.focused_id().await, "remember_days");
    tour.check("policy-errors").await;
    tour.visit("audit", &url("/admin/audit")).await;
    tour.visit("audit-error", &url("/admin/audit?from=yesterday"))
        .await;
    tour.visit("applications", &url("/admin/applications"))
        .await;
    browser.type_into("#app-name", "Charts").await;
    browser
        .type_into("#redirect-uris", "ftp://charts.example/cb")
        .await;
    browser.type_into("#app-password", PASSWORD).await;
    browser.click("#add-application button[type=submit]").await;
    wait_for(&browser, "class=\"error\"").await;
    tour.check("applications-error").await;
    tour.visit(
        "oidc-refused",
        &url("/oidc/authorize?client_id=tfc_unknown&response_type=code"),
    )
    .await;
    oidc_continue(&mut tour, &app).await;
    tour.visit("oidc-logout", &url("/oidc/logout")).await;

    // An invitation, opened by the new person.
    let mut admin = app.client();
    admin.submit_password("boss", PASSWORD).await;
    app.clock.advance(30);
    admin.submit_token(&app.code(&phone, 0)).await;
    admin
        .submit(
            "/admin/staff",
            &[
                ("username", "newbie"),
                ("display_name", "New Person"),
                ("email", "newbie@clinic.example"),
                ("role", "staff"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let invitation = app
        .mails()
        .await
        .into_iter()
        .find(|m| m.to == "newbie@clinic.example")
        .map(|m| {
            let start = m.text.find("/invite/").unwrap();
            m.text[start..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned()
        })
        .expect("invitation sent");
    browser.goto(&url("/")).await;
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for_url(|u| u.contains("done=logged-out"))
        .await;
    tour.check("logged-out").await;
    tour.visit("invitation", &url(&invitation)).await;

    // The phone is lost: a recovery code, then the offer to link a new one.
    let boss = app.app.user("boss").await.unwrap();
    let codes = app.recovery_codes(&boss).await;
    password_step(&browser, &url("/login"), "boss").await;
    browser.click("#use-recovery").await;
    browser
        .wait_for_url(|u| u.contains("/login/recovery"))
        .await;
    browser.type_into("#code", &codes[0]).await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_for_url(|u| u.contains("/login/recovery/used"))
        .await;
    tour.check("recovery-used").await;

    // Emergency access, issued by whoever runs the server.
    let emergency = app
        .app
        .login
        .issue_emergency_access(
            "boss",
            "phone and codes lost",
            &url(""),
            app.app.clock.now(),
        )
        .await
        .unwrap()
        .unwrap();
    browser.goto(&url("/")).await;
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for_url(|u| u.contains("done=logged-out"))
        .await;
    tour.visit("emergency", &emergency).await;
    browser.type_into("#password", "not the password").await;
    browser.click("form button[type=submit]").await;
    wait_for(&browser, "id=\"emergency-error\"").await;
    tour.check("emergency-error").await;

    // The same pages in Spanish, chosen with the switch.
    browser.goto(&url("/login")).await;
    browser.click(".lang-switch a[lang=es]").await;
    wait_for(&browser, "<html lang=\"es\">").await;
    tour.check("login-es").await;
    password_step(&browser, &url("/login"), "boss").await;
    wait_for(&browser, "Inicio de sesión en dos pasos").await;
    tour.check("two-factor-es").await;
    app.clock.advance(30);
    browser.type_into("#token", &app.code(&phone, 0)).await;
    browser.click("#token-form button:not([form])").await;
    browser.wait_for_url(|u| !u.contains("/login")).await;
    tour.visit("security-es", &url("/account/security")).await;
    tour.visit("passkeys-es", &url("/account/passkeys")).await;
    // The script's own sentences come with the page, in its language.
    wait_for(&browser, "data-cancelled=\"La solicitud de la llave").await;
    tour.visit("staff-es", &url("/admin/staff")).await;
    tour.visit("policy-es", &url("/admin/policy")).await;
    tour.visit("audit-es", &url("/admin/audit")).await;
    tour.visit("applications-es", &url("/admin/applications"))
        .await;
    tour.visit("outbox-es", &url("/dev/outbox")).await;
    tour.visit(
        "oidc-refused-es",
        &url("/oidc/authorize?client_id=tfc_unknown&response_type=code"),
    )
    .await;
    wait_for(&browser, "Esta aplicación no está registrada aquí").await;
    tour.visit("oidc-logout-es", &url("/oidc/logout")).await;
    wait_for(&browser, "¿Cerrar sesión?").await;
    browser.click("#confirm-logout").await;
    wait_for(&browser, "Ha cerrado sesión").await;
    tour.check("oidc-logged-out-es").await;

    let Tour { pages, found, .. } = tour;
    browser.quit().await;
    eprintln!("axe checked {pages} pages at two widths");
    assert!(pages >= 45, "{pages} pages");
    assert!(
        found.is_empty(),
        "axe-core found {} violation(s):\n{}",
        found.len(),
        found.join("\n")
    );
    app.stop().await;
}

/// Password, Tab, Enter; code, Enter: the whole login without a mouse, the
/// focus where the next keystroke belongs, and on the field in error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_works_with_the_keyboard_alone() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let (_, phone) = app.add_user_with_totp("drsmith").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.goto(&app.url("/login")).await;
    assert_eq!(browser.focused_id().await, "username");
    browser
        .keys(&format!("drsmith{TAB}{PASSWORD}{ENTER}"))
        .await;
    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
    assert_eq!(browser.focused_id().await, "token");
    browser.keys(&format!("000000{ENTER}")).await;
    wait_for(&browser, "id=\"token-error\"").await;
    assert_eq!(
        browser.focused_id().await,
        "token",
        "focus on the field in error"
    );
    assert_eq!(browser.property("#token", "ariaInvalid").await, "true");
    // Tab from the token box reaches "Save token", then Log In.
    browser.keys(TAB).await;
    assert_eq!(browser.property(":focus", "name").await, "remember");
    browser.keys(" ").await;
    assert_eq!(
        browser.property("input[name=remember]", "checked").await,
        "true"
    );
    let code = app.code(&phone, 0);
    browser.click("#token").await;
    browser.keys(&format!("{code}{ENTER}")).await;
    browser.wait_for_url(|u| !u.contains("/login")).await;
    assert!(browser.source().await.contains("Logged in as"));
    browser.quit().await;
    app.stop().await;
}

/// Linking an app, from the start page to the linked factor: Tab, typing
/// and Enter only; the secret is there as text for whoever cannot scan,
/// and a wrong code puts the focus back on its field, marked invalid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_an_app_works_with_the_keyboard_alone() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    app.add_user("drjones").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    keyboard_login(&browser, &app, "drjones").await;
    browser.tab_to("a[href='/account/security']").await;
    browser.keys(ENTER).await;
    browser
        .wait_for_url(|u| u.ends_with("/account/security"))
        .await;
    browser.tab_to("a[href='/account/authenticator']").await;
    browser.keys(ENTER).await;
    browser
        .wait_for_url(|u| u.ends_with("/account/authenticator"))
        .await;
    browser.tab_to("#password").await;
    browser.keys(&format!("{PASSWORD}{ENTER}")).await;
    wait_for(&browser, "id=\"otpauth-uri\"").await;
    let secret = browser.property("#secret", "textContent").await;
    assert!(secret.len() >= 16, "the secret as text: {secret:?}");
    let uri = browser.property("#otpauth-uri", "textContent").await;
    let phone = otp::OtpAuthUri::parse(uri.trim())
        .unwrap()
        .to_totp()
        .unwrap();
    browser.tab_to("#code").await;
    browser.keys(&format!("000000{ENTER}")).await;
    wait_for(&browser, "id=\"confirm-error\"").await;
    assert_eq!(
        browser.focused_id().await,
        "code",
        "focus on the field in error"
    );
    assert_eq!(browser.property("#code", "ariaInvalid").await, "true");
    browser
        .keys(&format!("{}{ENTER}", app.code(&phone, 0)))
        .await;
    // A first app comes with its recovery codes, shown at once.
    wait_for(&browser, "recovery-codes/download").await;
    let user = app.app.user("drjones").await.unwrap();
    assert!(
        app.store().totp(user.id).await.unwrap().is_some(),
        "the app is linked"
    );
    browser.quit().await;
    app.stop().await;
}

/// Types `username`, Tab, the test password and Enter on the login page,
/// and waits for the two-factor step.
async fn keyboard_password_step(browser: &Browser, app: &TestApp, username: &str) {
    browser.goto(&app.url("/login")).await;
    browser
        .keys(&format!("{username}{TAB}{PASSWORD}{ENTER}"))
        .await;
    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
}

/// The same for a user without a second factor: waits to be logged in.
async fn keyboard_login(browser: &Browser, app: &TestApp, username: &str) {
    browser.goto(&app.url("/login")).await;
    browser
        .keys(&format!("{username}{TAB}{PASSWORD}{ENTER}"))
        .await;
    browser.wait_for_url(|u| !u.contains("/login")).await;
}

/// Follows the link `href` with the keyboard and waits for its page.
async fn follow(browser: &Browser, href: &str) {
    browser.tab_to(&format!("a[href='{href}']")).await;
    browser.keys(ENTER).await;
    browser.wait_for_url(|u| u.contains(href)).await;
}

/// Asserts that the focus is on `id`, marked invalid, after a refusal.
async fn focus_is_on_refused(browser: &Browser, id: &str) {
    assert_eq!(
        browser.focused_id().await,
        id,
        "focus on the field in error at {}",
        browser.url().await
    );
    assert_eq!(
        browser.property(&format!("#{id}"), "ariaInvalid").await,
        "true"
    );
}

/// Changing one's password, a wrong current password first: Tab, typing
/// and Enter only, and the new password works at the next login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_works_with_the_keyboard_alone() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    app.add_user("drlee").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    keyboard_login(&browser, &app, "drlee").await;
    follow(&browser, "/account/security").await;
    follow(&browser, "/account/password").await;
    let new = "a quiet harbour at dawn 1987";
    browser.tab_to("#current_password").await;
    browser
        .keys(&format!("not my password{TAB}{new}{TAB}{new}{ENTER}"))
        .await;
    wait_for(&browser, "id=\"password-error\"").await;
    focus_is_on_refused(&browser, "current_password").await;
    // The new password fields come back empty: type all three again.
    browser
        .keys(&format!("{PASSWORD}{TAB}{new}{TAB}{new}{ENTER}"))
        .await;
    browser
        .wait_for_url(|u| u.contains("/account/security?done="))
        .await;
    assert!(browser.source().await.contains("role=\"status\""));
    let reply = app.client().submit_password("drlee", new).await;
    assert_eq!(reply.status, 303, "the new password works: {}", reply.body);
    browser.quit().await;
    app.stop().await;
}

/// An administrator's morning without a mouse: add a user (a refused
/// username first), act on that user, change the practice policy (a wrong
/// password first). The focus lands on each field in error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administering_works_with_the_keyboard_alone() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let (boss, phone) = app.add_admin_with_totp("boss").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    keyboard_password_step(&browser, &app, "boss").await;
    browser
        .keys(&format!("{}{ENTER}", app.code(&phone, 0)))
        .await;
    browser.wait_for_url(|u| !u.contains("/login")).await;

    follow(&browser, "/admin/staff").await;
    follow(&browser, "/admin/staff/new").await;
    browser.tab_to("#display_name").await;
    browser
        .keys(&format!(
            "Nurse Ratched{TAB}bad name{TAB}ratched@example.test{TAB}{TAB}{PASSWORD}{ENTER}"
        ))
        .await;
    wait_for(&browser, "id=\"error\"").await;
    focus_is_on_refused(&browser, "username").await;
    assert_eq!(browser.property("#username", "value").await, "bad name");
    browser
        .keys(&format!("{END}{}ratched", BACKSPACE.repeat(8)))
        .await;
    browser.tab_to("#password").await;
    browser.keys(&format!("{PASSWORD}{ENTER}")).await;
    browser
        .wait_for_url(|u| u.contains("/admin/staff/") && u.contains("done="))
        .await;
    let ratched = app.app.user("ratched").await.expect("the user was added");
    assert_eq!(ratched.email, "ratched@example.test");

    // The first action on the user's page, by its own password field.
    browser
        .tab_to("form.admin-action input[type=password]")
        .await;
    browser.keys(&format!("{PASSWORD}{ENTER}")).await;
    wait_for(&browser, "id=\"notice\"").await;

    follow(&browser, "/admin/policy").await;
    browser.tab_to("#remember_days").await;
    browser
        .keys(&format!("{END}{}7", BACKSPACE.repeat(3)))
        .await;
    browser.tab_to("#password").await;
    browser.keys(&format!("not my password{ENTER}")).await;
    wait_for(&browser, "id=\"error\"").await;
    focus_is_on_refused(&browser, "password").await;
    assert_eq!(browser.property("#remember_days", "value").await, "7");
    browser.keys(&format!("{PASSWORD}{ENTER}")).await;
    browser
        .wait_for_url(|u| u.contains("/admin/policy?done="))
        .await;
    let policy = app.store().practice_policy(boss.practice_id).await.unwrap();
    assert_eq!(policy.remember_days, 7);

    // The audit trail, filtered to the new user by typing a name.
    follow(&browser, "/admin/audit").await;
    browser.tab_to("#user").await;
    browser.keys(&format!("ratched{ENTER}")).await;
    browser.wait_for_url(|u| u.contains("user=ratched")).await;
    assert!(
        browser
            .source()
            .await
            .contains("data-event=\"user_invited\""),
        "the invitation is listed"
    );

    // An application registered: Enter in the address box is a new line,
    // so the password field's Enter sends the form.
    follow(&browser, "/admin/applications").await;
    browser.tab_to("#app-name").await;
    browser
        .keys(&format!("Charts{TAB}https://charts.example/callback"))
        .await;
    browser.tab_to("#app-password").await;
    browser.keys(&format!("{PASSWORD}{ENTER}")).await;
    wait_for(&browser, "id=\"client-id\"").await;
    assert_eq!(app.app.login.oidc_clients(None).await.unwrap().len(), 1);

    // The new user opens the invitation and chooses a password.
    browser.tab_to("nav a[href='/']").await;
    browser.keys(ENTER).await;
    browser.wait_for_url(|u| !u.contains("/admin/")).await;
    browser.tab_to("form[action='/logout'] button").await;
    browser.keys(ENTER).await;
    browser
        .wait_for_url(|u| u.contains("done=logged-out"))
        .await;
    let invitation = app
        .mails()
        .await
        .into_iter()
        .filter(|m| m.to == "ratched@example.test")
        .find_map(|m| {
            let start = m.text.find("/invite/")?;
            Some(m.text[start..].split_whitespace().next()?.to_owned())
        })
        .expect("the invitation");
    browser.goto(&app.url(&invitation)).await;
    let chosen = "a ward of one's own, quiet";
    browser.tab_to("#password").await;
    browser.keys(&format!("{chosen}{TAB}{chosen}{ENTER}")).await;
    browser.wait_for_url(|u| !u.contains("/invite/")).await;
    assert!(
        app.app
            .user("ratched")
            .await
            .unwrap()
            .password_hash
            .is_some()
    );
    browser.quit().await;
    app.stop().await;
}

/// A texted code, then (another morning) a recovery code, and logging out
/// in between: Tab, typing, Space and Enter only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texting_and_recovery_codes_work_with_the_keyboard_alone() {
    const PHONE: &str = "+12015550123";
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let user = app.add_user_with_phone("drpatel", Some(PHONE)).await;
    let codes = app.recovery_codes(&user).await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    keyboard_password_step(&browser, &app, "drpatel").await;
    // "Request Token via SMS" is the next stop after the token box.
    assert_eq!(browser.focused_id().await, "token");
    browser.keys(TAB).await;
    assert_eq!(browser.focused_id().await, "request-sms");
    browser.keys(ENTER).await;
    wait_for(&browser, "id=\"token-notice\"").await;
    let code = app.last_sms_code(PHONE).expect("a text was sent");
    browser.tab_to("#token").await;
    browser.keys(&format!("{code}{ENTER}")).await;
    browser.wait_for_url(|u| !u.contains("/login")).await;
    assert!(browser.source().await.contains("Logged in as"));

    // Logging out says so.
    browser.tab_to("form[action='/logout'] button").await;
    browser.keys(ENTER).await;
    browser
        .wait_for_url(|u| u.contains("done=logged-out"))
        .await;
    assert!(browser.source().await.contains("role=\"status\""));

    // No phone today: a recovery code, a wrong one first.
    browser
        .keys(&format!("drpatel{TAB}{PASSWORD}{ENTER}"))
        .await;
    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
    browser.tab_to("#use-recovery").await;
    browser.keys(ENTER).await;
    browser
        .wait_for_url(|u| u.contains("/login/recovery"))
        .await;
    browser.tab_to("#code").await;
    browser.keys(&format!("aaaa-bbbb-cccc{ENTER}")).await;
    wait_for(&browser, "id=\"recovery-error\"").await;
    focus_is_on_refused(&browser, "code").await;
    browser.keys(&format!("{}{ENTER}", codes[0])).await;
    // The next page offers to link a new phone, first in the Tab order
    // of its actions.
    wait_for(&browser, "id=\"link-new-phone\"").await;
    browser.tab_to("#link-new-phone").await;
    browser.keys(ENTER).await;
    browser
        .wait_for_url(|u| u.contains("/account/authenticator"))
        .await;
    browser.quit().await;
    app.stop().await;
}

/// A forgotten password, from the login page to the next login, then
/// emergency access: the links come by email, the rest is Tab, typing and
/// Enter, a mistyped confirmation and a wrong password first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_with_the_keyboard_alone() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    app.add_user("drwu").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.goto(&app.url("/login")).await;
    follow(&browser, "/password/forgot").await;
    browser.tab_to("#username_or_email").await;
    browser.keys(&format!("drwu{ENTER}")).await;
    wait_for(&browser, "If that is an account here").await;
    let link = app
        .mails()
        .await
        .into_iter()
        .find_map(|m| {
            let start = m.text.find("/password/reset/")?;
            Some(m.text[start..].split_whitespace().next()?.to_owned())
        })
        .expect("the reset email");
    browser.goto(&app.url(&link)).await;
    let new = "seven lanterns over the river";
    browser.tab_to("#password").await;
    browser.keys(&format!("{new}{TAB}{new}x{ENTER}")).await;
    wait_for(&browser, "class=\"error\"").await;
    focus_is_on_refused(&browser, "password_confirm").await;
    browser.tab_to("#password").await;
    browser.keys(&format!("{new}{TAB}{new}{ENTER}")).await;
    browser
        .wait_for_url(|u| !u.contains("/password/reset"))
        .await;
    let reply = app.client().submit_password("drwu", new).await;
    assert_eq!(reply.status, 303, "the new password works: {}", reply.body);

    // Emergency access for an administrator whose phone is lost (the
    // server's operator sent the link): the password, a wrong one first.
    app.add_user_in("boss", None, domain::Role::Admin).await;
    let emergency = app
        .emergency_path("boss", "phone lost on a night shift")
        .await;
    browser.goto(&app.url(&emergency)).await;
    browser.tab_to("#password").await;
    browser.keys(&format!("not my password{ENTER}")).await;
    wait_for(&browser, "id=\"emergency-error\"").await;
    focus_is_on_refused(&browser, "password").await;
    browser.keys(&format!("{PASSWORD}{ENTER}")).await;
    // Signed in, on the page where a new factor is linked.
    browser
        .wait_for_url(|u| u.ends_with("/account/security"))
        .await;
    browser.quit().await;
    app.stop().await;
}

/// Adding a phone for texted codes: the number (a wrong one first), the
/// password, then the texted code (a wrong one first), keyboard only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_phone_works_with_the_keyboard_alone() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let user = app.add_user("drkim").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    keyboard_login(&browser, &app, "drkim").await;
    follow(&browser, "/account/security").await;
    follow(&browser, "/account/phone").await;
    browser.tab_to("#phone").await;
    browser.keys(&format!("555{TAB}{PASSWORD}{ENTER}")).await;
    wait_for(&browser, "id=\"phone-error\"").await;
    focus_is_on_refused(&browser, "phone").await;
    assert_eq!(browser.property("#phone", "value").await, "555");
    browser
        .keys(&format!("{END}{}(201) 555-0147", BACKSPACE.repeat(3)))
        .await;
    browser.tab_to("#password").await;
    browser.keys(&format!("{PASSWORD}{ENTER}")).await;
    wait_for(&browser, "id=\"phone-notice\"").await;
    browser.tab_to("#code").await;
    browser.keys(&format!("000000{ENTER}")).await;
    wait_for(&browser, "id=\"phone-error\"").await;
    focus_is_on_refused(&browser, "code").await;
    let code = app.last_sms_code("+12015550147").expect("a text was sent");
    browser.keys(&format!("{code}{ENTER}")).await;
    browser
        .wait_for_url(|u| u.contains("/account/security?done="))
        .await;
    let saved = app.app.user("drkim").await.unwrap();
    assert_eq!(saved.phone.as_deref(), Some("+12015550147"));
    assert_eq!(saved.id, user.id);
    browser.quit().await;
    app.stop().await;
}
