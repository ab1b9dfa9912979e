//! Passkeys and security keys: registered, used as the second factor,
//! signing in alone and removed in a real Chromium (its virtual
//! authenticator), and every hostile answer refused over plain HTTP.

use domain::soft_authenticator::{Answer, SoftKey};
use testkit::browser::{BACKSPACE, Browser, END, ENTER, axe_source, screenshot_dir};
use testkit::{Backend, NowForTests as _, PASSWORD, TestApp};

/// An app whose public URL is `http://localhost` (any port there), where
/// browsers accept passkeys.
async fn passkey_app(backend: Backend) -> Option<TestApp> {
    TestApp::start_with(backend, |config| {
        config.public_url = Some("http://localhost".into());
    })
    .await
}

async fn the_whole_passkey_life_in_a_browser(backend: Backend) {
    let Some(app) = passkey_app(backend).await else {
        return;
    };
    let (user, phone) = app.add_user_with_totp("drsmith").await;
    let Some(browser) = Browser::start().await else {
        app.stop().await;
        return;
    };
    let shots = screenshot_dir();
    let at = |path: &str| app.localhost_url(path);
    let home = at("/");
    let at_home = |u: &str| u == home;

    // Logged in with the app's code, as every morning.
    browser.goto(&at("/login")).await;
    assert!(browser.source().await.contains("id=\"passkey-login\""));
    assert_eq!(
        browser.property("#username", "autocomplete").await,
        "username webauthn"
    );
    browser.type_into("#username", "drsmith").await;
    browser.type_into("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
    assert!(
        !browser.source().await.contains("id=\"use-passkey\""),
        "no passkey yet"
    );
    browser.type_into("#token", &app.code(&phone, 0)).await;
    browser.click("#token-form button[type=submit]").await;
    browser.wait_for_url(at_home).await;

    app.flush_outbox().await; // the new-device notice of this login

    // Registered from the account pages, the password asked first.
    let authenticator = browser.add_virtual_authenticator().await;
    browser.goto(&at("/account/security")).await;
    browser.click("a[href='/account/passkeys']").await;
    browser
        .wait_for_url(|u| u.contains("/account/passkeys"))
        .await;
    assert!(browser.source().await.contains("id=\"no-passkeys\""));
    browser.type_into("#passkey-name", "Office key").await;
    browser
        .type_into("#passkey-password", "not the password")
        .await;
    browser.click("#add-passkey").await;
    let refused = browser.wait_for_text("#passkey-status").await;
    assert!(refused.contains("password"), "{refused}");
    assert_eq!(
        browser.focused_id().await,
        "passkey-password",
        "focus on the field in error"
    );
    assert_eq!(
        browser.property("#passkey-password", "ariaInvalid").await,
        "true"
    );
    assert!(browser.virtual_credentials(&authenticator).await.is_empty());
    // Corrected from the keyboard where the focus is, and the button
    // pressed with Enter.
    browser
        .keys(&format!(
            "{END}{}{PASSWORD}",
            BACKSPACE.repeat("not the password".len())
        ))
        .await;
    browser.tab_to("#add-passkey").await;
    browser.keys(ENTER).await;
    browser
        .wait_for_url(|u| u.contains("done=passkey-added"))
        .await;
    let page = browser.source().await;
    assert!(
        page.contains("Office key") && page.contains("The passkey was added."),
        "{page}"
    );
    browser.screenshot(&shots.join("passkeys.png")).await;
    let held = browser.virtual_credentials(&authenticator).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["isResidentCredential"], true);
    let stored = app.store().passkeys(user.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    // The handle the browser keeps is random, never the username.
    let handle = held[0]["userHandle"].as_str().unwrap_or_default();
    assert!(!handle.is_empty() && !handle.contains("drsmith"));
    assert_eq!(app.flush_outbox().await, 1, "the owner is told");
    let mails = app.mails().await;
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains("a passkey was added"))
    );

    // Autofill: on /login the browser offers the passkey at once (the
    // virtual authenticator picks it as a person would from the list), and
    // that alone signs in: no password, no code.
    browser.goto(&at("/")).await;
    browser.click("form[action='/logout'] button").await;
    // Home before and after: the audit tells when the sign-in happened.
    for _ in 0..100 {
        if passkey_sign_ins(&app).await > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(passkey_sign_ins(&app).await, 1);
    browser.wait_for_url(at_home).await;
    assert!(browser.source().await.contains("Logged in as"));

    // The second factor. The key is unplugged while the password is typed
    // (or autofill would sign in again), then plugged back in.
    let key = browser.virtual_credentials(&authenticator).await;
    browser.remove_virtual_authenticator(&authenticator).await;
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_url(|u| u.contains("/login")).await;
    browser.type_into("#username", "drsmith").await;
    browser.type_into("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
    let page = browser.source().await;
    let (button, token_box) = (page.find("id=\"use-passkey\""), page.find("id=\"token\""));
    assert!(
        button.is_some() && button < token_box,
        "offered above the token box"
    );
    browser
        .screenshot(&shots.join("two-factor-passkey.png"))
        .await;
    let authenticator = browser.add_virtual_authenticator().await;
    browser.add_virtual_credentials(&authenticator, &key).await;
    browser.click("#use-passkey").await;
    let landed = browser.wait_for_url(at_home).await;
    let page = browser.source().await;
    assert!(page.contains("Logged in as"), "{landed}: {page}");

    // The button on /login: pressed while autofill still waits.
    let key = browser.virtual_credentials(&authenticator).await;
    browser.remove_virtual_authenticator(&authenticator).await;
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_url(|u| u.contains("/login")).await;
    let authenticator = browser.add_virtual_authenticator().await;
    browser.add_virtual_credentials(&authenticator, &key).await;
    browser.click("#passkey-login").await;
    browser.wait_for_url(at_home).await;
    assert!(browser.source().await.contains("Logged in as"));
    assert_eq!(passkey_sign_ins(&app).await, 2);
    let used = app.store().passkeys(user.id).await.unwrap();
    assert!(used[0].last_used_at.is_some());
    for kind in ["passkey_added", "passkey", "passkey_sign_in"] {
        let found = audited(&app, 30, kind, Some("success")).await;
        assert!(found > 0, "{kind} audited");
    }

    // The only factor left, where the practice requires one: kept.
    app.flush_outbox().await;
    let required = domain::PracticePolicy {
        require_2fa: true,
        ..domain::PracticePolicy::default()
    };
    app.store()
        .set_practice_policy(user.practice_id, &required)
        .await
        .unwrap();
    app.store().remove_second_factors(user.id).await.unwrap();
    browser.goto(&at("/account/passkeys")).await;
    browser.click("table.passkeys summary").await;
    browser
        .type_into("input[id^='remove-password-']", PASSWORD)
        .await;
    browser.click(".remove-passkey button[type=submit]").await;
    let kept = browser.wait_for_text("#passkey-error").await;
    assert!(kept.contains("only second factor"), "{kept}");
    assert_eq!(app.store().passkeys(user.id).await.unwrap().len(), 1);
    app.store()
        .set_practice_policy(user.practice_id, &domain::PracticePolicy::default())
        .await
        .unwrap();

    // A wrong password: the form stays open, its field marked and focused.
    browser.goto(&at("/account/passkeys")).await;
    browser.click("table.passkeys summary").await;
    browser
        .type_into("input[id^='remove-password-']", "not the password")
        .await;
    browser.click(".remove-passkey button[type=submit]").await;
    browser.wait_for_text("#passkey-error").await;
    assert_eq!(
        browser.property("table.passkeys details", "open").await,
        "true"
    );
    assert!(browser.focused_id().await.starts_with("remove-password-"));
    assert_eq!(
        browser
            .property("input[id^='remove-password-']", "ariaInvalid")
            .await,
        "true"
    );
    assert_eq!(app.store().passkeys(user.id).await.unwrap().len(), 1);
    if let Some(axe) = axe_source() {
        let found = browser.axe(&axe).await;
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
    assert!(browser.form_hint_problems().await.is_empty());

    // Removed (the password again): the key the browser still holds no
    // longer signs in.
    browser.goto(&at("/account/passkeys")).await;
    browser.click("table.passkeys summary").await;
    browser
        .type_into("input[id^='remove-password-']", PASSWORD)
        .await;
    browser.click(".remove-passkey button[type=submit]").await;
    browser
        .wait_for_url(|u| u.contains("done=passkey-removed"))
        .await;
    assert!(browser.source().await.contains("id=\"no-passkeys\""));
    assert!(app.store().passkeys(user.id).await.unwrap().is_empty());
    assert_eq!(app.flush_outbox().await, 1, "the owner is told");
    let mails = app.mails().await;
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains("a passkey was removed"))
    );
    browser.click("a[href='/account/security']").await;
    browser
        .wait_for_url(|u| u.contains("/account/security"))
        .await;
    browser.goto(&at("/")).await;
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_url(|u| u.contains("/login")).await;
    assert_eq!(browser.virtual_credentials(&authenticator).await.len(), 1);
    browser.click("#passkey-login").await;
    let refused = browser.wait_for_text("#passkey-status").await;
    assert!(refused.contains("not one registered here"), "{refused}");
    assert!(browser.url().await.contains("/login"));
    browser.screenshot(&shots.join("passkey-refused.png")).await;
    browser.remove_virtual_authenticator(&authenticator).await;
    browser.quit().await;
    app.stop().await;
}

both_backends!(the_whole_passkey_life_in_a_browser);

/// How many passkey sign-ins the audit holds.
async fn passkey_sign_ins(app: &TestApp) -> usize {
    audited(app, 100, "passkey_sign_in", Some("success")).await
}

/// How many of the newest `last` audit events are of `kind` (with
/// `outcome`, when given).
async fn audited(app: &TestApp, last: u32, kind: &str, outcome: Option<&str>) -> usize {
    let trail = app.store().recent_audit(last).await.unwrap();
    trail
        .iter()
        .filter(|e| e.kind == kind && outcome.is_none_or(|o| e.outcome == o))
        .count()
}

/// The sentence of a JSON refusal.
fn error_of(reply: &testkit::Reply) -> String {
    json_field(reply, "error")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The JSON field `name` of a reply.
fn json_field(reply: &testkit::Reply, name: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(&reply.body).unwrap_or_default()[name].clone()
}

/// Every ceremony answer that is not one is a clear 400 and changes
/// nothing: no session, no passkey, and a ceremony is taken once.
async fn hostile_answers_are_refused_and_change_nothing(backend: Backend) {
    let Some(app) = passkey_app(backend).await else {
        return;
    };
    let (user, phone) = app.add_user_with_totp("drsmith").await;
    let huge = "A".repeat(12 * 1024);
    let hostile = [
        "",
        "null",
        "{",
        "[]",
        "{\"id\":\"x\",\"rawId\":\"x\",\"type\":\"public-key\",\"response\":{}}",
        "<script>alert(1)</script>",
        huge.as_str(),
    ];

    // Sign-in without a ceremony, and with one that each answer spends.
    let mut anonymous = app.client();
    let reply = anonymous
        .submit("/login/passkey", &[("credential", "{}")])
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(error_of(&reply).contains("took too long"));
    for answer in hostile {
        let options = anonymous.submit("/login/passkey/options", &[]).await;
        assert_eq!(options.status, 200, "{}", options.body);
        assert!(json_field(&options, "publicKey")["challenge"].is_string());
        assert!(anonymous.cookie("tf_passkey").is_some());
        let reply = anonymous
            .submit("/login/passkey", &[("credential", answer)])
            .await;
        assert_eq!(reply.status, 400, "{answer:.40}: {}", reply.body);
        assert!(anonymous.cookie("tf_session").is_none());
        // Spent: the same cookie again is an expired ceremony.
        anonymous.set_cookie(
            "tf_passkey",
            options.set_cookies()[0].split(['=', ';']).nth(1).unwrap(),
        );
        let again = anonymous
            .submit("/login/passkey", &[("credential", answer)])
            .await;
        assert!(error_of(&again).contains("took too long"));
    }
    // Without the CSRF token: refused before anything is read.
    let no_csrf = anonymous
        .post_form("/login/passkey/options", &[("csrf_token", "forged")])
        .await;
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);

    // The second step: no passkey, nothing offered.
    let mut browser = app.client();
    browser.submit_password("drsmith", PASSWORD).await;
    let options = browser.submit("/login/2fa/passkey/options", &[]).await;
    assert_eq!(options.status, 400, "{}", options.body);
    let reply = browser
        .submit("/login/2fa/passkey", &[("credential", "{}")])
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    // The half login is intact: the token still finishes it.
    let done = browser.submit_token(&app.code(&phone, 0)).await;
    assert_eq!(done.status, 303, "{}", done.body);

    // Adding one: the password first, then only an answer to these options.
    let wrong = browser
        .submit(
            "/account/passkeys/options",
            &[("password", "not it"), ("current_token", "")],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(json_field(&wrong, "error").is_string());
    // The field it is about, for the script to mark: a fixed name.
    assert_eq!(json_field(&wrong, "field"), "own-password");
    for answer in hostile {
        let options = browser
            .submit(
                "/account/passkeys/options",
                &[("password", PASSWORD), ("current_token", "")],
            )
            .await;
        assert_eq!(options.status, 200, "{}", options.body);
        let user_id = json_field(&options, "publicKey")["user"]["name"].clone();
        assert_eq!(user_id, "drsmith");
        let reply = browser
            .submit(
                "/account/passkeys",
                &[("name", "mine"), ("credential", answer)],
            )
            .await;
        assert_eq!(reply.status, 400, "{answer:.40}: {}", reply.body);
    }
    let reply = browser
        .submit(
            "/account/passkeys",
            &[("name", "late"), ("credential", "{}")],
        )
        .await;
    assert!(error_of(&reply).contains("took too long"));
    let bad_name = browser
        .submit(
            "/account/passkeys",
            &[("name", "a\u{7}b"), ("credential", "{}")],
        )
        .await;
    assert!(error_of(&bad_name).contains("control characters"));
    assert!(app.store().passkeys(user.id).await.unwrap().is_empty());
    // Removing someone else's id (or nonsense) is refused.
    for id in ["1", "999999", "-1", "x", "1%20OR%201=1"] {
        let reply = browser
            .submit(
                &format!("/account/passkeys/{id}/remove"),
                &[("password", PASSWORD), ("current_token", "")],
            )
            .await;
        assert!(matches!(reply.status, 400 | 404), "{id}: {}", reply.status);
    }
    // Signed out, the account pages are not reachable.
    let mut stranger = app.client();
    let reply = stranger
        .submit(
            "/account/passkeys/options",
            &[("password", PASSWORD), ("current_token", "")],
        )
        .await;
    assert_eq!(reply.status, 303);
    app.stop().await;
}

both_backends!(hostile_answers_are_refused_and_change_nothing);

/// "Require a phishing-resistant factor for administrators": set on the
/// policy page, it takes an administrator without a passkey to register
/// one (the password and the app's code first) and nowhere else; with one,
/// codes no longer finish the administrator's login. Staff are untouched.
async fn administrators_can_be_held_to_passkeys(backend: Backend) {
    let Some(app) = passkey_app(backend).await else {
        return;
    };
    let (_, boss_phone) = app.add_admin_with_totp("boss").await;
    let (_, nurse_phone) = app.add_user_with_totp("nurse").await;
    let mut admin = app.client();
    admin.submit_password("boss", PASSWORD).await;
    assert_eq!(
        admin.submit_token(&app.code(&boss_phone, 0)).await.status,
        303
    );
    let page = admin.get("/admin/policy").await;
    assert!(
        page.body.contains("name=\"phishing_resistant_admins\""),
        "{}",
        page.body
    );
    let mut fields = vec![
        ("allow_sms", "on"),
        ("allow_passkey_sign_in", "on"),
        ("remember_days", "30"),
        ("idle_timeout_minutes", "30"),
        ("password_min_length", "12"),
        ("password", PASSWORD),
    ];
    fields.push(("phishing_resistant_admins", "on"));
    let saved = admin.submit("/admin/policy", &fields).await;
    let saved = admin.follow(saved).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let policy = app
        .store()
        .practice_policy(domain::PracticeId(1))
        .await
        .unwrap();
    assert!(policy.phishing_resistant_admins && policy.allow_sms);

    // The next login: the password leads to registering a passkey, and
    // the half login opens nothing else.
    let mut next = app.client();
    let reply = next.submit_password("boss", PASSWORD).await;
    assert_eq!(
        reply.location(),
        Some("/account/passkeys"),
        "{}",
        reply.body
    );
    assert!(
        next.get("/account/passkeys")
            .await
            .body
            .contains("id=\"passkey-required\"")
    );
    let app_page = next.get("/account/authenticator").await;
    assert_eq!(
        app_page.location(),
        Some("/account/passkeys"),
        "an app would not do"
    );
    for path in ["/", "/account/security", "/admin/staff"] {
        let reply = next.get(path).await;
        assert_eq!(reply.status, 303, "{path}");
        assert!(
            reply.location().unwrap_or("").starts_with("/login"),
            "{path}"
        );
    }
    // The app's code is asked before a passkey can be added: the password
    // alone (perhaps a thief's) is not enough.
    let options = next
        .submit(
            "/account/passkeys/options",
            &[("password", PASSWORD), ("current_token", "")],
        )
        .await;
    assert_eq!(options.status, 400, "{}", options.body);
    let code = next.submit_token(&app.code(&boss_phone, 0)).await;
    assert!(
        next.get("/").await.status == 303,
        "a code opens nothing: {}",
        code.status
    );

    // Registered in a browser: the login that waited is finished.
    let Some(browser) = Browser::start().await else {
        app.stop().await;
        return;
    };
    let home = app.localhost_url("/");
    let authenticator = browser.add_virtual_authenticator().await;
    browser.goto(&app.localhost_url("/login")).await;
    browser.type_into("#username", "boss").await;
    browser.type_into("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser
        .wait_for_url(|u| u.contains("/account/passkeys"))
        .await;
    assert!(browser.source().await.contains("id=\"passkey-required\""));
    browser.type_into("#passkey-name", "Admin key").await;
    browser.type_into("#passkey-password", PASSWORD).await;
    browser
        .type_into("#passkey-token", &app.code(&boss_phone, 1))
        .await;
    browser.click("#add-passkey").await;
    browser.wait_for_url(|u| u == home).await;
    assert!(browser.source().await.contains("Logged in as"));
    // The last one cannot be removed while the rule holds.
    browser.goto(&app.localhost_url("/account/passkeys")).await;
    browser.click("table.passkeys summary").await;
    browser
        .type_into("input[id^='remove-password-']", PASSWORD)
        .await;
    browser.click(".remove-passkey button[type=submit]").await;
    let refused = browser.wait_for_text("#passkey-error").await;
    assert!(refused.contains("add another"), "{refused}");
    browser.remove_virtual_authenticator(&authenticator).await;
    browser.quit().await;

    // With a passkey: the code step offers only it, and codes are refused.
    let mut later = app.client();
    assert_eq!(
        later.submit_password("boss", PASSWORD).await.location(),
        Some("/login/2fa?next=/")
    );
    let page = later.get("/login/2fa").await;
    assert!(page.body.contains("id=\"passkey-only\"") && page.body.contains("id=\"use-passkey\""));
    assert!(!page.body.contains("id=\"token-form\""), "{}", page.body);
    app.clock.advance(60);
    let code = later.submit_token(&app.code(&boss_phone, 0)).await;
    assert_eq!(code.status, 403, "{}", code.body);
    assert!(code.body.contains("Only a passkey"), "{}", code.body);
    assert_eq!(later.get("/").await.status, 303, "still not signed in");
    // Nor is a text sent that could not finish it.
    later.request_sms().await;
    assert!(
        app.last_sms_code(testkit::ADMIN_PHONE).is_none(),
        "no text for a passkey-only login"
    );
    assert!(audited(&app, 20, "totp_token", Some("blocked")).await > 0);

    // Staff log in with their codes as before.
    let mut nurse = app.client();
    nurse.submit_password("nurse", PASSWORD).await;
    let done = nurse.submit_token(&app.code(&nurse_phone, 0)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(nurse.get("/").await.status, 200);
    app.stop().await;
}

both_backends!(administrators_can_be_held_to_passkeys);

/// A software key registered for `user` straight in the store (as a
/// registration would leave it), and the user's WebAuthn handle.
async fn soft_key(app: &TestApp, user: &domain::User, id_byte: u8) -> (SoftKey, String) {
    let key = SoftKey::new(id_byte).unwrap();
    let candidate = domain::passkey::new_user_handle().unwrap();
    let handle = app
        .store()
        .webauthn_handle(user.id, &candidate)
        .await
        .unwrap();
    let stored = domain::passkey::StoredPasskey {
        id: 0,
        user_id: user.id,
        credential_id: key.credential_id(),
        name: format!("Soft key {id_byte}"),
        record: domain::passkey::to_record(&key.passkey).unwrap(),
        backed_up: false,
        created_at: app.clock.now_for_tests(),
        last_used_at: None,
    };
    app.store().add_passkey(&stored, 10).await.unwrap().unwrap();
    (key, handle)
}

/// Options JSON from `path` (a ceremony's first post).
async fn options(client: &mut testkit::Client, path: &str) -> serde_json::Value {
    let reply = client.submit(path, &[]).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

/// A passkey at the second step does what a right code does: a new
/// session (the half login's cookie is dead), "Save token for 30 days",
/// `next`, the audit and forward auth. Answers signed for another origin,
/// replayed, or from a key whose counter went back are a 400 that leaves
/// the half login as it was. Signing in alone goes through the same locks,
/// the disabled flag and the practice's switch.
async fn a_passkey_finishes_a_login_as_a_code_does(backend: Backend) {
    let Some(app) = passkey_app(backend).await else {
        return;
    };
    let (user, _) = app.add_user_with_totp("drsmith").await;
    let (key, handle) = soft_key(&app, &user, 9).await;
    let origin = app.localhost_url("");
    let here = Answer {
        origin: &origin,
        rp_id: "localhost",
        counter: 10,
        user_handle: None,
    };

    let mut browser = app.client();
    browser
        .submit_password_next("drsmith", PASSWORD, "/account/security")
        .await;
    let pending = browser.cookie("tf_session").unwrap().to_owned();
    let offered = options(&mut browser, "/login/2fa/passkey/options").await;
    for forged in [
        Answer {
            origin: "https://clinic-login.example",
            ..here
        },
        Answer {
            rp_id: "clinic-login.example",
            ..here
        },
    ] {
        let reply = browser
            .submit(
                "/login/2fa/passkey",
                &[
                    ("credential", &key.answer(&offered, &forged)),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(reply.status, 400, "{}: {}", forged.origin, reply.body);
        assert_eq!(browser.cookie("tf_session"), Some(pending.as_str()));
    }
    // Each refusal spent the ceremony: new options, then the right answer.
    let offered = options(&mut browser, "/login/2fa/passkey/options").await;
    let answer = key.answer(&offered, &here);
    let done = browser
        .submit(
            "/login/2fa/passkey",
            &[
                ("credential", &answer),
                ("remember", "on"),
                ("next", "/account/security"),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(json_field(&done, "redirect"), "/account/security");
    let session = browser.cookie("tf_session").unwrap().to_owned();
    assert_ne!(session, pending, "the session was rotated");
    assert!(
        browser.cookie("tf_remember").is_some(),
        "the browser is remembered"
    );
    let gate = browser.get("/auth/verify").await;
    assert_eq!(gate.status, 200);
    assert_eq!(gate.header("remote-user"), Some("drsmith"));
    assert!(audited(&app, 10, "passkey", Some("success")).await > 0);
    // The same answer again, on a new half login: another challenge.
    let mut again = app.client();
    again.submit_password("drsmith", PASSWORD).await;
    options(&mut again, "/login/2fa/passkey/options").await;
    let replay = again
        .submit(
            "/login/2fa/passkey",
            &[("credential", &answer), ("next", "/")],
        )
        .await;
    assert_eq!(replay.status, 400, "{}", replay.body);
    // A key whose counter went back (10, now 4): a copy, refused, audited.
    let offered = options(&mut again, "/login/2fa/passkey/options").await;
    let copied = key.answer(&offered, &Answer { counter: 4, ..here });
    let reply = again
        .submit(
            "/login/2fa/passkey",
            &[("credential", &copied), ("next", "/")],
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(error_of(&reply).contains("copied"));
    assert!(audited(&app, 10, "passkey_possibly_cloned", None).await > 0);
    assert_eq!(again.get("/").await.status, 303, "not signed in");

    // Alone, with the handle a discoverable key returns.
    let alone = |counter| Answer {
        counter,
        user_handle: Some(&handle),
        ..here
    };
    let (reply, mut fresh) = sign_in_alone(&app, &key, &alone(20)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(fresh.get("/").await.status, 200, "signed in");
    // Another user's handle with this key: not theirs.
    let (other, _) = app.add_user_with_totp("nurse").await;
    let other_handle = app
        .store()
        .webauthn_handle(other.id, &domain::passkey::new_user_handle().unwrap())
        .await
        .unwrap();
    let wrong_owner = Answer {
        user_handle: Some(&other_handle),
        ..alone(21)
    };
    let (reply, thief) = sign_in_alone(&app, &key, &wrong_owner).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(thief.cookie("tf_session").is_none());
    // The practice turns sign-in alone off: refused at the next request.
    let off = domain::PracticePolicy {
        allow_passkey_sign_in: false,
        ..domain::PracticePolicy::default()
    };
    let store = app.store();
    store
        .set_practice_policy(user.practice_id, &off)
        .await
        .unwrap();
    let (reply, later) = sign_in_alone(&app, &key, &alone(30)).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(later.cookie("tf_session").is_none());
    let on = domain::PracticePolicy::default();
    store
        .set_practice_policy(user.practice_id, &on)
        .await
        .unwrap();
    // The second factor's lock holds for sign-in alone too.
    let lock = domain::LockState {
        locked_until: app.clock.now_for_tests() + 600,
        lock_count: 1,
    };
    let key_2fa = domain::UserLimit::SecondFactor.of(user.id);
    store.set_lock(&key_2fa, lock).await.unwrap();
    let (reply, locked) = sign_in_alone(&app, &key, &alone(35)).await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert!(locked.cookie("tf_session").is_none());
    store.clear_locks(&key_2fa).await.unwrap();
    // A disabled user: refused too; a forged answer is not told why.
    store.set_user_disabled(user.id, true).await.unwrap();
    let forged = Answer {
        origin: "https://clinic-login.example",
        ..alone(36)
    };
    let (reply, _) = sign_in_alone(&app, &key, &forged).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let said = error_of(&reply);
    assert!(
        !said.contains("cannot sign in") && !said.contains("locked"),
        "{said}"
    );
    let (reply, disabled) = sign_in_alone(&app, &key, &alone(40)).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(error_of(&reply).contains("cannot sign in"));
    assert!(disabled.cookie("tf_session").is_none());
    store.set_user_disabled(user.id, false).await.unwrap();

    // A ceremony lives 5 minutes: a right answer after that is refused.
    let mut slow = app.client();
    let offered = options(&mut slow, "/login/passkey/options").await;
    app.clock.advance(301);
    let late = key.answer(&offered, &alone(50));
    let reply = slow
        .submit("/login/passkey", &[("credential", &late), ("next", "/")])
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(error_of(&reply).contains("took too long"), "{}", reply.body);
    assert!(slow.cookie("tf_session").is_none());

    // "Reset 2FA" (the CLI's `user reset-2fa`; the administrator's button
    // ends in the same reset of every factor) removes passkeys too.
    assert_eq!(store.passkeys(user.id).await.unwrap().len(), 1);
    app.app
        .login
        .reset_2fa(&user, app.clock.now_for_tests())
        .await
        .unwrap();
    assert!(store.passkeys(user.id).await.unwrap().is_empty());
    let (reply, _) = sign_in_alone(&app, &key, &alone(60)).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    app.stop().await;
}

/// "Sign in with a passkey" from a fresh browser, `key` answering `how`:
/// the reply to the answer, and the browser.
async fn sign_in_alone(
    app: &TestApp,
    key: &SoftKey,
    how: &Answer<'_>,
) -> (testkit::Reply, testkit::Client) {
    let mut browser = app.client();
    let offered = options(&mut browser, "/login/passkey/options").await;
    let answer = key.answer(&offered, how);
    let reply = browser
        .submit("/login/passkey", &[("credential", &answer), ("next", "/")])
        .await;
    (reply, browser)
}

both_backends!(a_passkey_finishes_a_login_as_a_code_does);

/// Where browsers would refuse passkeys (an IP address as here), they are
/// off and the pages say so; the other factors are untouched.
async fn on_an_ip_address_passkeys_are_off(app: &TestApp) {
    app.add_user_with_totp("drsmith").await;
    let mut client = app.client();
    let login = client.get("/login").await;
    assert!(!login.body.contains("passkey-login"));
    let options = client.submit("/login/passkey/options", &[]).await;
    assert_eq!(options.status, 400);
    assert!(error_of(&options).contains("not available"));
}

both!(on_an_ip_address_passkeys_are_off);
