//! Defaults the outside audit found weak: what the public may read, what
//! the app says about TLS itself.

use testkit::{Backend, METRICS_TOKEN, PASSWORD, TestApp};

async fn metrics_are_not_served_to_the_public(app: &TestApp) {
    app.add_user("alice").await;
    let mut stranger = app.client();
    stranger.request_password_reset("alice").await;
    app.app.login.pending_work().settled().await;
    let bare = stranger.get("/metrics").await;
    assert_eq!(bare.status, 401);
    assert!(!bare.body.contains("twofactor_outbox"), "{}", bare.body);
    assert!(bare.header("www-authenticate").is_some());
    for wrong in [
        "Bearer nope".to_owned(),
        format!("Bearer {METRICS_TOKEN}x"),
        format!("Basic {METRICS_TOKEN}"),
        format!("bearer  {METRICS_TOKEN}"),
    ] {
        let reply = stranger
            .get_with("/metrics", &[("authorization", &wrong)])
            .await;
        assert_eq!(reply.status, 401, "{wrong}");
    }
    let scrape = app.metrics().await;
    assert_eq!(scrape.status, 200);
    assert!(
        scrape.body.contains("twofactor_outbox_pending 1"),
        "{}",
        scrape.body
    );
}
both!(metrics_are_not_served_to_the_public);

async fn without_a_token_metrics_are_not_served_at_all(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |config| config.metrics_token = None).await else {
        return;
    };
    let reply = app.client().get("/metrics").await;
    assert_eq!(reply.status, 404);
    assert!(
        reply.body.contains("TWOFACTOR_METRICS_TOKEN"),
        "{}",
        reply.body
    );
    app.stop().await;
}
both_backends!(without_a_token_metrics_are_not_served_at_all);

async fn an_https_public_url_sends_strict_transport_security(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |config| {
        config.public_url = Some("https://login.clinic.example".into());
    })
    .await
    else {
        return;
    };
    let reply = app.client().get("/login").await;
    assert_eq!(
        reply.header("strict-transport-security"),
        Some("max-age=63072000; includeSubDomains")
    );
    app.stop().await;
    let Some(plain) = TestApp::start(backend).await else {
        return;
    };
    let reply = plain.client().get("/login").await;
    assert_eq!(
        reply.header("strict-transport-security"),
        None,
        "not over plain http"
    );
    plain.stop().await;
}
both_backends!(an_https_public_url_sends_strict_transport_security);

/// The login form posted with `csrf_token` and extra headers.
async fn post_login(
    browser: &mut testkit::Client,
    csrf: &str,
    headers: &[(&str, &str)],
) -> testkit::Reply {
    let body = format!("username=alice&password=x&csrf_token={csrf}");
    browser
        .post_raw_with(
            "/login",
            "application/x-www-form-urlencoded",
            body.into_bytes(),
            headers,
        )
        .await
}

async fn csrf_tokens_are_bound_to_the_session_and_the_site(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;

    // A pair planted by someone who can set a cookie (a sibling subdomain
    // without __Host-) is not a token: equal values are not enough.
    let mut victim = app.client();
    victim.set_cookie("tf_csrf", "planted-by-the-attacker");
    let reply = post_login(&mut victim, "planted-by-the-attacker", &[]).await;
    assert_eq!(reply.status, 403, "{}", reply.body);

    // A token is good for the session it was issued under: the login page's
    // token stops working once the login made a new session.
    let mut browser = app.client();
    browser.get("/login").await;
    let before = browser.csrf();
    assert_eq!(post_login(&mut browser, &before, &[]).await.status, 401);
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token(&app.code(&phone, 0)).await;
    assert_ne!(browser.csrf(), before, "rotated at login");
    let stale = browser
        .post_form("/logout", &[("csrf_token", &before)])
        .await;
    assert_eq!(stale.status, 403, "{}", stale.body);
    assert_eq!(
        browser.get("/account/security").await.status,
        200,
        "still signed in"
    );

    // A right token from another site is refused all the same.
    let mut anonymous = app.client();
    anonymous.get("/login").await;
    let csrf = anonymous.csrf();
    let host = app.url("").trim_start_matches("http://").to_owned();
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
    ] {
        let reply = post_login(&mut anonymous, &csrf, &headers).await;
        assert_eq!(reply.status, 403, "{headers:?}: {}", reply.body);
    }
    let origin = format!("http://{host}");
    let same = [
        ("sec-fetch-site", "same-origin"),
        ("origin", origin.as_str()),
    ];
    assert_eq!(post_login(&mut anonymous, &csrf, &same).await.status, 401);
}
both!(csrf_tokens_are_bound_to_the_session_and_the_site);

async fn weaker_password_hashes_are_upgraded_at_the_next_login(app: &TestApp) {
    let store = app.store();
    for (name, totp) in [("alice", false), ("bob", true)] {
        let user = if totp {
            app.add_user_with_totp(name).await.0
        } else {
            app.add_user(name).await
        };
        let weak = domain::password::hash_with_cost(PASSWORD, 4096, 1).unwrap();
        store.set_password_hash(user.id, &weak).await.unwrap();
        let mut browser = app.client();
        let reply = browser.submit_password(name, "not the password").await;
        assert_eq!(reply.status, 401);
        let stored = store.user_by_id(user.id).await.unwrap().unwrap();
        assert_eq!(
            stored.password_hash.as_deref(),
            Some(weak.as_str()),
            "a wrong password changes nothing"
        );
        let reply = browser.submit_password(name, PASSWORD).await;
        assert_eq!(reply.status, 303, "{}", reply.body);
        let stored = store.user_by_id(user.id).await.unwrap().unwrap();
        let phc = stored.password_hash.unwrap();
        assert!(
            phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{name}: {phc}"
        );
        assert!(!domain::password::needs_rehash(&phc));
        let mut again = app.client();
        assert_eq!(again.submit_password(name, PASSWORD).await.status, 303);
    }
}
both!(weaker_password_hashes_are_upgraded_at_the_next_login);

async fn look_alike_usernames_cannot_stand_beside_each_other(app: &TestApp) {
    app.add_user("alice").await;
    let add = async |name: &str| {
        app.app
            .add_user(&twofactor::app::AddUser {
                username: name.into(),
                email: "someone@clinic.example".into(),
                phone: None,
                role: domain::Role::Staff,
                practice: None,
                password: PASSWORD.into(),
            })
            .await
            .map(|user| user.username)
            .map_err(|e| e.to_string())
    };
    // Full-width letters are the same name: taken.
    let full_width = add("ａｌｉｃｅ").await.unwrap_err();
    assert!(full_width.contains("already exists"), "{full_width}");
    // A Cyrillic а among Latin letters, a whole-Cyrillic imitation.
    let mixed = add("\u{430}lice").await.unwrap_err();
    assert!(mixed.contains("mixes scripts"), "{mixed}");
    let imitation = add("\u{430}\u{440}\u{435}").await.unwrap_err();
    assert!(imitation.contains("look-alike"), "{imitation}");
    let invisible = add("al\u{200b}ice2").await.unwrap_err();
    assert!(invisible.contains("must be"), "{invisible}");
    assert_eq!(add("Müller").await.unwrap(), "müller");

    // Typed in any width or case, the login finds the one account, and
    // forward auth names it in its normal form.
    let mut browser = app.client();
    let reply = browser.submit_password("ＡＬＩＣＥ", PASSWORD).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let verify = browser.get("/auth/verify").await;
    assert_eq!(verify.header("remote-user"), Some("alice"));
}
both!(look_alike_usernames_cannot_stand_beside_each_other);

async fn an_administrator_links_only_strong_authenticators(app: &TestApp) {
    use otp::{Algorithm, Digits, Period, Secret};
    let user = app.add_user("alice").await;
    let link = async |bytes: usize, seconds: u64| {
        app.app
            .enroll_totp(
                &user,
                Some(Secret::from_bytes(vec![9; bytes]).unwrap()),
                Algorithm::Sha1,
                Digits::SIX,
                Period::new(seconds).unwrap(),
            )
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    };
    assert!(link(10, 30).await.unwrap_err().contains("at least 128"));
    assert!(link(20, 121).await.unwrap_err().contains("10 to 120"));
    assert!(link(20, 5).await.unwrap_err().contains("10 to 120"));
    assert!(app.store().totp(user.id).await.unwrap().is_none());
    link(16, 120).await.unwrap();
    assert!(app.store().totp(user.id).await.unwrap().is_some());
}
both!(an_administrator_links_only_strong_authenticators);

async fn guessable_passwords_are_refused_with_a_reason(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token(&app.code(&phone, 0)).await;
    for weak in [
        "Password123!",
        "Welcome12345",
        "iloveyou1234",
        "qwertyuiopas",
    ] {
        let csrf = browser.csrf();
        let reply = browser
            .post_form(
                "/account/password",
                &[
                    ("current_password", PASSWORD),
                    ("new_password", weak),
                    ("new_password_confirm", weak),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(reply.status, 400, "{weak}: {}", reply.body);
        assert!(
            reply.body.contains("too easy to guess") || reply.body.contains("most common"),
            "{weak}: {}",
            reply.body
        );
    }
}
both!(guessable_passwords_are_refused_with_a_reason);
