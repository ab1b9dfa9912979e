//! The morning routine: password, token, dashboard, logout.

use testkit::{PASSWORD, TestApp};

async fn login_page_shows_the_contract(app: &TestApp) {
    let mut browser = app.client();
    let page = browser.get("/login").await;
    assert_eq!(page.status, 200);
    for text in [
        "Log In",
        "Forgot password?",
        "name=\"username\"",
        "name=\"password\"",
        "name=\"csrf_token\"",
    ] {
        assert!(page.body.contains(text), "login page lacks {text}");
    }
    assert!(
        page.body.contains("<label for=\"username\">")
            && page.body.contains("<label for=\"password\">")
    );

    // App and phone: the page clinicians know, word for word.
    let alice = app.add_user_with_phone("alice", Some("+12015550123")).await;
    app.enroll(
        &alice,
        otp::Algorithm::Sha1,
        otp::Digits::SIX,
        otp::Period::DEFAULT,
    )
    .await;
    let reply = browser.submit_password("alice", PASSWORD).await;
    assert_eq!(reply.status, 303);
    let page = browser.get("/login/2fa").await;
    assert_eq!(page.status, 200);
    for text in [
        "Two-Factor Login",
        "Enter your security token from your authenticator app on your mobile phone. You can also request a security token via text message.",
        "name=\"token\"",
        "autocomplete=\"one-time-code\"",
        "inputmode=\"numeric\"",
        "name=\"remember\" value=\"on\"",
        "Save token for 30 days. (Not on public computers!)",
        "Log In",
        "Forgot password?",
        "<label for=\"token\">",
    ] {
        assert!(page.body.contains(text), "2FA page lacks {text}");
    }
    // "Request Token via SMS" sits beside the token box, and pressing
    // Enter in the box still logs in (the button belongs to another form).
    let row = page.body.split("class=\"token-row\"").nth(1).unwrap();
    let row = row.split("</div>").next().unwrap();
    assert!(
        row.contains("id=\"token\"") && row.contains("Request Token via SMS"),
        "{row}"
    );
    assert!(row.contains("form=\"sms-form\""), "{row}");
    let forgot = browser.get("/password/forgot").await;
    assert_eq!(forgot.status, 200);
    assert!(forgot.body.contains("name=\"username_or_email\""));
}
both!(login_page_shows_the_contract);

async fn totp_login_reaches_the_dashboard_and_logout_ends_it(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    let reply = browser
        .submit_password_next("alice", PASSWORD, "/patients/42?tab=notes")
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(
        reply.location(),
        Some("/login/2fa?next=/patients/42%3Ftab%3Dnotes")
    );
    let pending = browser.cookie("tf_session").unwrap().to_owned();

    // The half-logged-in session grants nothing.
    assert_eq!(browser.get("/").await.status, 303);
    assert_eq!(browser.get("/auth/verify").await.status, 401);

    let page = browser
        .get("/login/2fa?next=/patients/42%3Ftab%3Dnotes")
        .await;
    let csrf = page.csrf_token().unwrap();
    let code = app.code(&phone, 0);
    let reply = browser
        .post_form(
            "/login/2fa",
            &[
                ("token", &code),
                ("csrf_token", &csrf),
                ("next", "/patients/42?tab=notes"),
            ],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location(), Some("/patients/42?tab=notes"));
    let full = browser.cookie("tf_session").unwrap().to_owned();
    assert_ne!(
        pending, full,
        "the session id rotates when the second factor is passed"
    );

    let dashboard = browser.get("/").await;
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.body.contains("Logged in as"));
    assert!(dashboard.body.contains("alice"));
    assert_eq!(dashboard.header("cache-control"), Some("no-store"));

    let verify = browser.get("/auth/verify").await;
    assert_eq!(verify.status, 200);
    assert_eq!(verify.header("remote-user"), Some("alice"));
    assert_eq!(verify.header("remote-email"), Some("alice@clinic.example"));

    // The old half-login cookie is dead.
    let mut thief = app.client();
    thief.set_cookie("tf_session", &pending);
    assert_eq!(thief.get("/").await.status, 303);

    let reply = browser.logout().await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), Some("/login?done=logged-out"));
    let said = browser.follow(reply).await;
    assert!(said.body.contains("You have logged out."), "{}", said.body);
    let mut replay = app.client();
    replay.set_cookie("tf_session", &full);
    assert_eq!(
        replay.get("/").await.status,
        303,
        "the session ends at logout"
    );

    let events = app.store().recent_audit(20).await.unwrap();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.outcome.as_str()))
        .collect();
    assert!(kinds.contains(&("password_login", "success")));
    assert!(kinds.contains(&("totp_token", "success")));
    assert!(kinds.contains(&("logout", "success")));
    let token_event = events.iter().find(|e| e.kind == "totp_token").unwrap();
    assert_eq!(token_event.ip, "127.0.0.1");
    assert!(token_event.user_agent.contains("testkit"));
}
both!(totp_login_reaches_the_dashboard_and_logout_ends_it);

async fn each_enrollment_keeps_its_own_parameters(app: &TestApp) {
    use otp::{Algorithm, Digits, Period};
    let (_, phone) = app
        .add_user_with(
            "eve",
            Algorithm::Sha512,
            Digits::EIGHT,
            Period::new(60).unwrap(),
        )
        .await;
    let mut browser = app.client();
    browser.submit_password("eve", PASSWORD).await;
    let page = browser.get("/login/2fa").await;
    assert!(page.body.contains("data-digits=\"8\""));
    let code = app.code(&phone, 0);
    assert_eq!(code.len(), 8);
    // Typed with the grouping the app shows.
    let grouped = format!("{} {}", &code[..4], &code[4..]);
    assert_eq!(browser.submit_token(&grouped).await.status, 303);
    assert_eq!(browser.get("/").await.status, 200);
}
both!(each_enrollment_keeps_its_own_parameters);

async fn a_user_without_a_factor_logs_in_with_the_password(app: &TestApp) {
    app.add_user("bob").await;
    let mut browser = app.client();
    let reply = browser.submit_password("bob", PASSWORD).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), Some("/"));
    assert_eq!(browser.get("/").await.status, 200);
}
both!(a_user_without_a_factor_logs_in_with_the_password);

async fn health_and_readiness_answer(app: &TestApp) {
    let mut client = app.client();
    let health = client.get("/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let ready = client.get("/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));
    app.app.store.close().await;
    let down = client.get("/readyz").await;
    assert_eq!(
        down.status, 503,
        "a closed database is reported, not hidden"
    );
    let login = client.submit_password("x", "y").await;
    assert_eq!(login.status, 503);
    assert!(
        login.body.contains("try again in a minute"),
        "{}",
        login.body
    );
}
both!(health_and_readiness_answer);

async fn forward_auth_redirects_browsers_and_refuses_others(app: &TestApp) {
    let mut anonymous = app.client();
    assert_eq!(anonymous.get("/auth/verify").await.status, 401);
    let browser = anonymous
        .get_with(
            "/auth/verify",
            &[("accept", "text/html"), ("x-original-uri", "/chart/7")],
        )
        .await;
    assert_eq!(browser.status, 302);
    assert_eq!(browser.location(), Some("/login?next=/chart/7"));
    let traefik = anonymous.get("/auth/verify?rd=/chart/9").await;
    assert_eq!(traefik.location(), Some("/login?next=/chart/9"));
    let hostile = anonymous.get("/auth/verify?rd=//evil.example/x").await;
    assert_eq!(hostile.location(), Some("/login?next=/"));
}
both!(forward_auth_redirects_browsers_and_refuses_others);

async fn metrics_count_login_outcomes_and_time_routes(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", "wrong").await;
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token(&app.code(&phone, 0)).await;
    let metrics = app.metrics().await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    for line in [
        "twofactor_login_outcomes_total{step=\"password\",outcome=\"rejected\"} 1",
        "twofactor_login_outcomes_total{step=\"password\",outcome=\"second_factor\"} 1",
        "twofactor_login_outcomes_total{step=\"token\",outcome=\"accepted\"} 1",
        "twofactor_http_request_duration_seconds_count{route=\"/login\",method=\"POST\"} 2",
    ] {
        assert!(
            metrics.body.contains(line),
            "missing {line}\n{}",
            metrics.body
        );
    }
    assert!(!metrics.body.contains("alice"), "no user names in labels");
}
both!(metrics_count_login_outcomes_and_time_routes);

/// The Two-Factor Login page speaks to the factors this user has: no
/// talk of an app to someone with only a phone, no promise of texts
/// without a button, and no recovery link without codes.
async fn the_two_factor_page_fits_the_users_factors(app: &TestApp) {
    let page_of = |username: &'static str| async move {
        let mut browser = app.client();
        browser.submit_password(username, PASSWORD).await;
        browser.get("/login/2fa").await.body
    };
    app.add_user_with_totp("appy").await;
    let app_only = page_of("appy").await;
    assert!(app_only.contains(
        "Enter your security token from your authenticator app on your mobile phone.</p>"
    ));
    assert!(!app_only.contains("text message"), "{app_only}");
    assert!(!app_only.contains("Request Token via SMS"));
    assert!(app_only.contains("6 digits from your app"));
    assert!(
        app_only.contains("id=\"no-recovery\"") && !app_only.contains("/login/recovery"),
        "no codes, no recovery link: {app_only}"
    );

    app.add_user_with_phone("texty", Some("+12015550123")).await;
    let sms_only = page_of("texty").await;
    assert!(!sms_only.contains("authenticator app"), "{sms_only}");
    assert!(sms_only.contains("Request Token via SMS"));
    assert!(sms_only.contains("The 6 digits of the text message"));

    let (user, _) = app.add_user_with_totp("coded").await;
    app.recovery_codes(&user).await;
    let with_codes = page_of("coded").await;
    assert!(
        with_codes.contains("Use a recovery code</a> (10 left)"),
        "{with_codes}"
    );
}
both!(the_two_factor_page_fits_the_users_factors);

/// The login pages speak Spanish to a browser that asks for it, and the
/// switch's choice wins over the browser; English stays word for word.
async fn the_login_pages_speak_the_browsers_language_or_the_chosen_one(app: &TestApp) {
    let mut browser = app.client();
    let spanish = [("accept-language", "es-MX,es;q=0.9,en;q=0.5")];
    let page = browser.get_with("/login", &spanish).await;
    assert!(page.body.contains("<html lang=\"es\">"), "{}", page.body);
    assert!(page.body.contains("<h1>Iniciar sesión</h1>"));
    assert!(page.body.contains("¿Olvidó su contraseña?"));
    assert!(!page.body.contains("Forgot password?"));

    app.add_user_with_phone("enfermera", Some("+12015550123"))
        .await;
    let csrf = page.csrf_token().unwrap();
    let reply = browser
        .post_form(
            "/login",
            &[
                ("username", "enfermera"),
                ("password", "no es la contraseña"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    // The test client sends no Accept-Language on posts: English.
    assert!(
        reply
            .body
            .contains("The username or password is not correct")
    );
    browser.submit_password("enfermera", PASSWORD).await;
    let second = browser.get_with("/login/2fa", &spanish).await;
    assert!(second.body.contains("Inicio de sesión en dos pasos"));
    assert!(second.body.contains("Pedir código por SMS"));

    // The switch: back to the page it was on, the choice kept a year.
    let referer = app.url("/login/2fa");
    let switched = browser
        .get_with("/language?lang=en", &[("referer", &referer)])
        .await;
    assert_eq!(switched.status, 303);
    assert_eq!(switched.location(), Some("/login/2fa"));
    assert!(
        switched
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("tf_lang=en;") && c.contains("Max-Age=31536000"))
    );
    let english = browser.get_with("/login/2fa", &spanish).await;
    assert!(
        english.body.contains("<h1>Two-Factor Login</h1>"),
        "the choice wins"
    );
    assert!(english.body.contains("Request Token via SMS"));

    // Hostile: an unknown language changes nothing; another site's page is
    // never where the switch sends anyone.
    let mut other = app.client();
    let unknown = other
        .get_with(
            "/language?lang=xx",
            &[("referer", "https://evil.example/x")],
        )
        .await;
    assert_eq!(unknown.location(), Some("/login"));
    assert!(
        unknown
            .set_cookies()
            .iter()
            .all(|c| !c.starts_with("tf_lang"))
    );
    let malformed = other.get("/language?lang=%ZZ").await;
    assert_eq!(malformed.status, 303);

    // What a Spanish page asks for is sent in Spanish: the texted code …
    let mut spanish_browser = app.client();
    spanish_browser.set_cookie("tf_lang", "es");
    spanish_browser.submit_password("enfermera", PASSWORD).await;
    let sent = spanish_browser.request_sms().await;
    assert!(
        sent.body.contains("Se envió un código de seguridad"),
        "{}",
        sent.body
    );
    let text = app.app.sms_outbox.recent().pop().unwrap().text;
    assert!(
        text.starts_with("Código de seguridad de Test Clinic: "),
        "{text}"
    );
    assert!(
        app.last_sms_code("+12015550123").is_some(),
        "its code is found"
    );
    // … and the reset link.
    spanish_browser.request_password_reset("enfermera").await;
    let mail = app
        .mails()
        .await
        .into_iter()
        .rev()
        .find(|m| m.to == "enfermera@clinic.example")
        .unwrap();
    assert_eq!(mail.subject, "Test Clinic: restablezca su contraseña");
    assert!(mail.text.contains("Para elegir una contraseña nueva"));
    assert!(mail.html.contains("<strong>enfermera</strong>"));

    // Error pages speak it too; the English ones are unchanged.
    let missing = spanish_browser.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("<html lang=\"es\">"),
        "{}",
        missing.body
    );
    assert!(missing.body.contains("Página no encontrada"));
    let forged = spanish_browser
        .post_form("/login", &[("username", "x"), ("password", "y")])
        .await;
    assert_eq!(forged.status, 403);
    assert!(
        forged.body.contains("Este formulario caducó"),
        "{}",
        forged.body
    );
    let dead = spanish_browser
        .get("/password/reset/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(dead.status, 404);
    assert!(
        dead.body
            .contains("Este enlace de restablecimiento no funciona"),
        "{}",
        dead.body
    );
    let english = app.client().get("/no/such/page").await;
    assert!(english.body.contains("Page not found") && english.body.contains("<html lang=\"en\">"));
}
both!(the_login_pages_speak_the_browsers_language_or_the_chosen_one);

/// The language chosen while signed in is kept on the account and follows
/// the user to another browser; the practice's default speaks to staff
/// whose browser asks for nothing we speak.
async fn the_choice_is_kept_on_the_account_and_the_practice_default_fills_in(app: &TestApp) {
    app.add_user("medica").await;
    let mut first = app.client();
    first.submit_password("medica", PASSWORD).await;
    let start = first.get("/").await;
    assert!(start.body.contains("<html lang=\"en\">"), "{}", start.body);
    let referer = app.url("/");
    let switched = first
        .get_with(
            "/language?lang=es",
            &[("referer", &referer), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(switched.location(), Some("/"));
    assert_eq!(
        app.app.user("medica").await.unwrap().language,
        Some(i18n::Lang::Es)
    );

    // Another browser, no cookie, an English browser: the account's choice.
    let mut second = app.client();
    second.submit_password("medica", PASSWORD).await;
    let page = second
        .get_with("/", &[("accept-language", "en-US,en;q=0.9")])
        .await;
    assert!(page.body.contains("<html lang=\"es\">"), "{}", page.body);
    assert!(page.body.contains("Panel"));
    // The login pages, before anyone is known, speak the browser's.
    let login = app.client().get("/login").await;
    assert!(login.body.contains("<html lang=\"en\">"));
    // A reset asked for from an English page reaches her in her language.
    app.client().request_password_reset("medica").await;
    let mail = app
        .mails()
        .await
        .into_iter()
        .rev()
        .find(|m| m.to == "medica@clinic.example")
        .unwrap();
    assert_eq!(mail.subject, "Test Clinic: restablezca su contraseña");

    // A link from another site changes that browser's cookie, never the
    // account.
    app.add_user("enfermero").await;
    let mut lured = app.client();
    lured.submit_password("enfermero", PASSWORD).await;
    for headers in [
        &[("sec-fetch-site", "cross-site"), ("referer", &referer)][..],
        &[("referer", "https://evil.example/")][..],
        &[][..],
    ] {
        let reply = lured.get_with("/language?lang=es", headers).await;
        assert_eq!(reply.status, 303);
        assert_eq!(app.app.user("enfermero").await.unwrap().language, None);
    }

    // The practice's default: for staff who chose nothing and whose
    // browser asks for nothing we speak, and only then.
    let (_, mut admin) = app.admin("jefa").await;
    let page = admin.get("/admin/policy").await;
    assert!(
        page.body.contains("<option value=\"\" selected>"),
        "{}",
        page.body
    );
    let mut fields = vec![
        ("allow_sms", "on"),
        ("remember_days", "30"),
        ("idle_timeout_minutes", "30"),
        ("password_min_length", "12"),
        ("password", PASSWORD),
    ];
    for hostile in ["xx", "<script>", "es\u{0}", &"e".repeat(5000)] {
        let mut with = fields.clone();
        with.push(("language", hostile));
        let refused = admin.submit("/admin/policy", &with).await;
        assert_eq!(refused.status, 400, "{hostile:?}");
        assert!(
            refused
                .body
                .contains("Choose the default language from the list")
        );
        assert!(!refused.body.contains("<script>"));
    }
    assert_eq!(
        app.app
            .login
            .practice_locale(domain::PracticeId(1))
            .await
            .unwrap()
            .language,
        None
    );
    fields.push(("language", "es"));
    let saved = admin.submit_and_follow("/admin/policy", &fields).await;
    assert_eq!(saved.status, 200);
    assert!(
        saved
            .body
            .contains("<option value=\"es\" lang=\"es\" selected>"),
        "{}",
        saved.body
    );
    let mut plain = app.client();
    plain.submit_password("enfermero", PASSWORD).await;
    let french = plain.get_with("/", &[("accept-language", "fr-FR")]).await;
    assert!(
        french.body.contains("<html lang=\"es\">"),
        "{}",
        french.body
    );
    let bare = plain.get("/").await;
    assert!(bare.body.contains("<html lang=\"es\">"));
    let english = plain.get_with("/", &[("accept-language", "en")]).await;
    assert!(
        english.body.contains("<html lang=\"en\">"),
        "the browser's beats the default"
    );
}
both!(the_choice_is_kept_on_the_account_and_the_practice_default_fills_in);
