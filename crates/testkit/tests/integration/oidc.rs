//! OpenID Connect: an independent client library (`openidconnect`) signs a
//! clinician in through our own pages and uses the tokens; every hostile
//! request gets a clear error and no token.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse as _,
};
use serde_json::Value;
use testkit::{Backend, Client, PASSWORD, TestApp};

const REDIRECT: &str = "https://portal.clinic.example/callback";
const AFTER_LOGOUT: &str = "https://portal.clinic.example/bye";

/// A registered confidential client: (id, secret).
async fn register(app: &TestApp, public: bool, alg: &str) -> (String, Option<String>) {
    app.add_oidc_client(
        "Patient portal",
        &[REDIRECT.to_owned()],
        &[AFTER_LOGOUT.to_owned()],
        public,
        alg,
    )
    .await
}

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The path and query of an absolute URL.
fn path_of(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

fn query_value(url: &str, name: &str) -> Option<String> {
    let base = url::Url::parse("http://x").unwrap();
    let url = base.join(url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Follows an authorization request through our login (password and the
/// app's code) until it is sent back to the client; the final Location.
async fn sign_in(
    browser: &mut Client,
    app: &TestApp,
    auth: &str,
    user: &str,
    totp: &otp::Totp,
) -> String {
    let reply = browser.get(&path_of(auth)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.location().unwrap().to_owned();
    if !location.starts_with("/login") {
        return location;
    }
    let next = query_value(&location, "next").unwrap();
    let login = browser.get(&location).await;
    assert_eq!(login.status, 200, "the form is shown: {}", login.body);
    let csrf = login.csrf_token().unwrap();
    let reply = browser
        .post_form(
            "/login",
            &[
                ("username", user),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("next", &next),
            ],
        )
        .await;
    let to_2fa = reply.location().unwrap().to_owned();
    assert!(to_2fa.starts_with("/login/2fa"), "{to_2fa}");
    let page = browser.get(&to_2fa).await;
    let csrf = page.csrf_token().unwrap();
    let code = app.code(totp, 0);
    let reply = browser
        .post_form(
            "/login/2fa",
            &[("token", &code), ("csrf_token", &csrf), ("next", &next)],
        )
        .await;
    assert_eq!(reply.location(), Some(next.as_str()));
    let back = browser.get(&next).await;
    assert_eq!(back.status, 303, "{}", back.body);
    back.location().unwrap().to_owned()
}

async fn client_for(
    app: &TestApp,
    id: &str,
    secret: Option<String>,
) -> CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
> {
    let issuer = IssuerUrl::new(app.localhost_url("")).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http())
        .await
        .expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(id.into()),
        secret.map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
}

async fn events(app: &TestApp, kind: &str) -> Vec<domain::AuditEvent> {
    app.store()
        .recent_audit(200)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .collect()
}

async fn userinfo(app: &TestApp, access_token: &str) -> testkit::Reply {
    let mut c = Client::new(app.localhost_url(""));
    c.get_with(
        "/oidc/userinfo",
        &[("authorization", &format!("Bearer {access_token}"))],
    )
    .await
}

/// The whole flow with the `openidconnect` crate: discovery, a code with
/// PKCE through our login, the ID token verified against the JWKS, the
/// claims, userinfo, and refresh tokens that rotate, a reused one ending
/// the whole sign-in.
async fn an_independent_client_signs_a_clinician_in(backend: Backend) {
    let Some(app) = TestApp::start_public(backend, |_| {}).await else {
        return;
    };
    let (user, totp) = app.add_user_with_totp("drsmith").await;
    let (id, secret) = register(&app, false, "RS256").await;
    let client = client_for(&app, &id, secret).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut browser = Client::new(app.localhost_url(""));
    let back = sign_in(&mut browser, &app, auth.as_str(), "drsmith", &totp).await;
    assert!(back.starts_with(REDIRECT), "{back}");
    assert_eq!(
        query_value(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(query_value(&back, "iss"), Some(app.localhost_url("")));
    let code = query_value(&back, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .expect("the code is exchanged");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("signature, issuer, audience, expiry and nonce hold");
    assert_ne!(
        claims.subject().as_str(),
        "drsmith",
        "sub is never the username"
    );
    assert_eq!(claims.preferred_username().unwrap().as_str(), "drsmith");
    assert_eq!(claims.email().unwrap().as_str(), user.email);
    assert_eq!(claims.email_verified(), Some(true));
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
    assert_eq!(claims.auth_context_ref().map(|a| a.as_str()), Some("mfa"));
    assert!(claims.auth_time().is_some());
    // The at_hash ties the ID token to this access token.
    let at_hash = claims.access_token_hash().unwrap();
    assert_eq!(
        at_hash.as_str(),
        domain::oidc::at_hash(tokens.access_token().secret())
    );

    let info = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async::<openidconnect::EmptyAdditionalClaims, _, openidconnect::core::CoreGenderClaim>(&http())
        .await
        .expect("userinfo");
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.preferred_username().unwrap().as_str(), "drsmith");
    assert_eq!(events(&app, "oidc_sign_in").await.len(), 1);

    // The same sub at the next sign-in.
    let first_sub = claims.subject().clone();

    // Refresh: rotates; the old token used again ends the sign-in.
    let refresh = tokens
        .refresh_token()
        .expect("offline_access gives one")
        .clone();
    let renewed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http())
        .await
        .expect("refresh");
    let renewed_id = renewed.id_token().unwrap();
    let renewed_claims = renewed_id
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .unwrap();
    assert_eq!(renewed_claims.subject(), &first_sub);
    assert_eq!(
        renewed_claims.auth_time(),
        claims.auth_time(),
        "the original sign-in time"
    );
    let second = renewed.refresh_token().unwrap().clone();
    assert_ne!(second.secret(), refresh.secret());
    assert_eq!(
        userinfo(&app, renewed.access_token().secret()).await.status,
        200
    );
    let reused = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http())
        .await;
    assert!(reused.is_err(), "a used refresh token is refused");
    let after = client
        .exchange_refresh_token(&second)
        .unwrap()
        .request_async(&http())
        .await;
    assert!(after.is_err(), "and its whole family is revoked");
    assert_eq!(
        userinfo(&app, renewed.access_token().secret()).await.status,
        401
    );
    assert_eq!(events(&app, "oidc_token_reuse").await.len(), 1);
    assert_eq!(events(&app, "oidc_refresh").await.len(), 1);

    // The code is single use: a second exchange fails.
    let mut raw = Client::new(app.localhost_url(""));
    let again = raw
        .post_form(
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &id),
            ],
        )
        .await;
    assert!(again.status == 400 || again.status == 401, "{}", again.body);

    // The audit page shows the sign-ins in words an admin can filter on.
    let sub_again = {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth, _, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .url();
        // Still signed in here: straight back with a code.
        let reply = browser.get(&path_of(auth.as_str())).await;
        let code = query_value(reply.location().unwrap(), "code").unwrap();
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http())
            .await
            .unwrap();
        assert!(
            tokens.refresh_token().is_none(),
            "no offline_access, no refresh token"
        );
        tokens
            .id_token()
            .unwrap()
            .claims(&client.id_token_verifier(), &nonce)
            .unwrap()
            .subject()
            .clone()
    };
    assert_eq!(sub_again, first_sub, "sub is stable");
    app.stop().await;
}

both_backends!(an_independent_client_signs_a_clinician_in);

/// Raw token requests (the library refuses to send most of these).
async fn token_post(
    app: &TestApp,
    fields: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    use base64::Engine as _;
    let mut c = Client::new(app.localhost_url(""));
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let header = basic.map(|(id, secret)| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    });
    let headers: Vec<(&str, &str)> = header
        .iter()
        .map(|h| ("authorization", h.as_str()))
        .collect();
    let reply = c
        .post_raw_with(
            "/oidc/token",
            "application/x-www-form-urlencoded",
            body.into_bytes(),
            &headers,
        )
        .await;
    let json = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    (reply.status, json)
}

/// A code for `id` (with this PKCE challenge) after a sign-in in `browser`.
async fn code_for(
    browser: &mut Client,
    app: &TestApp,
    id: &str,
    challenge: Option<&str>,
    (username, totp): (&str, &otp::Totp),
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.extend_pairs([
        ("client_id", id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid offline_access"),
        ("state", "s1"),
    ]);
    if let Some(challenge) = challenge {
        query.extend_pairs([
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]);
    }
    let auth = format!(
        "{}?{}",
        app.localhost_url("/oidc/authorize"),
        query.finish()
    );
    let back = sign_in(browser, app, &auth, username, totp).await;
    assert!(back.starts_with(REDIRECT), "{back}");
    query_value(&back, "code").unwrap()
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Every hostile request is a clear error and issues no token.
async fn hostile_requests_get_clear_errors_and_no_token(backend: Backend) {
    let Some(app) = TestApp::start_public(backend, |_| {}).await else {
        return;
    };
    let (_, totp) = app.add_user_with_totp("drsmith").await;
    let (id, secret) = register(&app, false, "RS256").await;
    let secret = secret.unwrap();
    let (other, other_secret) = register(&app, false, "RS256").await;
    let other_secret = other_secret.unwrap();
    let (public, _) = register(&app, true, "RS256").await;
    let mut browser = Client::new(app.localhost_url(""));

    // Unknown client, wrong or extra redirect URIs: our page, no redirect.
    for query in [
        "client_id=tfc_nobody&redirect_uri=https%3A%2F%2Fportal.clinic.example%2Fcallback&response_type=code&scope=openid".to_owned(),
        format!("client_id={id}&redirect_uri=https%3A%2F%2Fevil.example%2Fcallback&response_type=code&scope=openid"),
        format!("client_id={id}&redirect_uri=https%3A%2F%2Fportal.clinic.example%2Fcallback%2Fmore&response_type=code&scope=openid"),
        format!("client_id={id}&redirect_uri=https%3A%2F%2Fportal.clinic.example%2Fcallback&redirect_uri=https%3A%2F%2Fevil.example&response_type=code&scope=openid"),
        format!("client_id={id}&response_type=code&scope=openid"),
        format!("client_id={}&redirect_uri=x&response_type=code", "a".repeat(5000)),
    ] {
        let reply = browser.get(&format!("/oidc/authorize?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        assert!(reply.location().is_none());
        assert!(reply.body.contains("This sign-in cannot continue"), "{}", reply.body);
    }
    // After the redirect URI is known good, errors go to the client.
    let public_without_pkce = format!(
        "client_id={public}&redirect_uri=https%3A%2F%2Fportal.clinic.example%2Fcallback&response_type=code&scope=openid&state=st"
    );
    let reply = browser
        .get(&format!("/oidc/authorize?{public_without_pkce}"))
        .await;
    let location = reply.location().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_value(location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_value(location, "state").as_deref(), Some("st"));
    let huge_state = format!(
        "client_id={id}&redirect_uri=https%3A%2F%2Fportal.clinic.example%2Fcallback&response_type=code&scope=openid&state={}",
        "s".repeat(600)
    );
    let reply = browser.get(&format!("/oidc/authorize?{huge_state}")).await;
    assert_eq!(
        query_value(reply.location().unwrap(), "error").as_deref(),
        Some("invalid_request")
    );
    // prompt=none without a session.
    let none = format!(
        "client_id={id}&redirect_uri=https%3A%2F%2Fportal.clinic.example%2Fcallback&response_type=code&scope=openid&prompt=none"
    );
    let reply = browser.get(&format!("/oidc/authorize?{none}")).await;
    assert_eq!(
        query_value(reply.location().unwrap(), "error").as_deref(),
        Some("login_required")
    );

    // A code with PKCE.
    let code = code_for(&mut browser, &app, &id, Some(CHALLENGE), ("drsmith", &totp)).await;
    let exchange = |code: String, verifier: Option<&'static str>| {
        let mut fields = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code),
            ("redirect_uri".to_owned(), REDIRECT.to_owned()),
        ];
        if let Some(v) = verifier {
            fields.push(("code_verifier".to_owned(), v.to_owned()));
        }
        fields
    };
    let post = |fields: Vec<(String, String)>, basic: Option<(String, String)>| {
        let app = &app;
        async move {
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            token_post(
                app,
                &refs,
                basic.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            )
            .await
        }
    };
    let basic = Some((id.clone(), secret.clone()));
    // Another client's credentials: refused, and the code is not used up.
    let (status, body) = post(
        exchange(code.clone(), Some(VERIFIER)),
        Some((other.clone(), other_secret.clone())),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // A wrong secret, no authentication, both ways at once.
    let (status, body) = post(
        exchange(code.clone(), Some(VERIFIER)),
        Some((id.clone(), "wrong".into())),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, _) = post(exchange(code.clone(), Some(VERIFIER)), None).await;
    assert_eq!(status, 401);
    let mut both = exchange(code.clone(), Some(VERIFIER));
    both.push(("client_secret".into(), secret.clone()));
    let (status, body) = post(both, basic.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body) = token_post(
        &app,
        &[("grant_type", "authorization_code")],
        Some(("a:b", "c")),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    // Missing or wrong verifier: refused (and the code is used up).
    let (status, body) = post(exchange(code.clone(), None), basic.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert!(body.get("access_token").is_none());
    // Now the right exchange fails too: the code was spent on the refusal,
    // and its reuse ends the grant.
    let (status, _) = post(exchange(code.clone(), Some(VERIFIER)), basic.clone()).await;
    assert_eq!(status, 400);

    // A fresh code, exchanged with a wrong verifier.
    let code = code_for(&mut browser, &app, &id, Some(CHALLENGE), ("drsmith", &totp)).await;
    let (status, body) = post(
        exchange(code, Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK")),
        basic.clone(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A code replayed after a good exchange revokes what it gave.
    let code = code_for(&mut browser, &app, &id, Some(CHALLENGE), ("drsmith", &totp)).await;
    let (status, first) = post(exchange(code.clone(), Some(VERIFIER)), basic.clone()).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap().to_owned();
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&app, &access).await.status, 200);
    let (status, _) = post(exchange(code, Some(VERIFIER)), basic.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(
        userinfo(&app, &access).await.status,
        401,
        "revoked with the replay"
    );
    let (status, _) = token_post(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(status, 400);

    // A code is good for 60 seconds.
    let code = code_for(&mut browser, &app, &id, Some(CHALLENGE), ("drsmith", &totp)).await;
    app.clock.advance(61);
    let (status, body) = post(exchange(code, Some(VERIFIER)), basic.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    // client_secret_post works; the access token lives 10 minutes.
    let code = code_for(&mut browser, &app, &id, Some(CHALLENGE), ("drsmith", &totp)).await;
    let mut fields = exchange(code, Some(VERIFIER));
    fields.push(("client_id".into(), id.clone()));
    fields.push(("client_secret".into(), secret.clone()));
    let (status, ok) = post(fields, None).await;
    assert_eq!(status, 200, "{ok}");
    let access = ok["access_token"].as_str().unwrap().to_owned();
    app.clock.advance(601);
    assert_eq!(userinfo(&app, &access).await.status, 401, "expired");

    // Forged tokens at userinfo; oversized parameters at the token endpoint.
    for forged in [
        "",
        "x",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        &"a".repeat(5000),
    ] {
        assert_eq!(userinfo(&app, forged).await.status, 401, "{forged}");
    }
    let mut c = Client::new(app.localhost_url(""));
    let reply = c.get("/oidc/userinfo").await;
    assert_eq!(reply.status, 401);
    assert!(
        reply
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    let huge = "c".repeat(10_000);
    let (status, body) = token_post(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &huge),
            ("redirect_uri", REDIRECT),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = token_post(
        &app,
        &[("grant_type", "password"), ("username", "drsmith")],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, _) = token_post(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("grant_type", "refresh_token"),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(status, 400, "a repeated parameter");
    app.stop().await;
}

both_backends!(hostile_requests_get_clear_errors_and_no_token);

/// Policy and governance: another practice's users, a 2FA reset, a
/// passkey asked for, a fresh sign-in asked for, the per-client rate
/// limit, rotated keys and RP-initiated logout.
async fn sign_ins_follow_the_practice_rules(backend: Backend) {
    let Some(app) = TestApp::start_public(backend, |config| {
        config.oidc_token_requests_per_minute = 30;
    })
    .await
    else {
        return;
    };
    let (user, totp) = app.add_user_with_totp("drsmith").await;
    let (id, secret) = register(&app, false, "ES256").await;
    let secret = secret.unwrap();
    let mut browser = Client::new(app.localhost_url(""));
    let code = code_for(&mut browser, &app, &id, Some(CHALLENGE), ("drsmith", &totp)).await;
    let tokens = exchange(&app, &id, &secret, &code).await;
    // ES256 for this client, verified by the independent library.
    let client = client_for(&app, &id, Some(secret.clone())).await;
    let id_token: openidconnect::core::CoreIdToken =
        serde_json::from_value(tokens["id_token"].clone()).unwrap();
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    id_token
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .expect("ES256 verifies");

    // A 2FA reset ends the application's refresh tokens.
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    app.app.login.reset_2fa(&user, 0).await.unwrap();
    let (status, body) = token_post(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        userinfo(&app, tokens["access_token"].as_str().unwrap())
            .await
            .status,
        401
    );

    // Another practice's user cannot sign in to this client.
    app.add_user_in("nurse", Some("Other Practice"), domain::Role::Staff)
        .await;
    let mut other = Client::new(app.localhost_url(""));
    let reply = other.submit_password("nurse", PASSWORD).await;
    assert_eq!(reply.location(), Some("/"));
    let auth = format!(
        "/oidc/authorize?client_id={id}&redirect_uri=https%3A%2F%2Fportal.clinic.example%2Fcallback&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let reply = other.get(&auth).await;
    assert_eq!(
        query_value(reply.location().unwrap(), "error").as_deref(),
        Some("access_denied")
    );

    // A passkey asked for: a fresh sign-in, then "unmet" when it was a code.
    let (_, totp2) = app.add_user_with_totp("drjones").await;
    let mut jones = Client::new(app.localhost_url(""));
    let phr = format!("{}&acr_values=phr", app.localhost_url(&auth));
    let back = sign_in(&mut jones, &app, &phr, "drjones", &totp2).await;
    assert_eq!(
        query_value(&back, "error").as_deref(),
        Some("unmet_authentication_requirements"),
        "{back}"
    );
    // prompt=login with a live session shows the form again.
    let login = format!("{}&prompt=login", app.localhost_url(&auth));
    let reply = jones.get(&path_of(&login)).await;
    let to_login = reply.location().unwrap().to_owned();
    assert!(to_login.contains("prompt=login"), "{to_login}");
    let page = jones.get(&to_login).await;
    assert_eq!(page.status, 200, "the form, not a redirect");
    assert!(page.body.contains("Log In"));
    // max_age=0 too; a live session without either goes straight back.
    let reply = jones.get(&format!("{auth}&max_age=0")).await;
    assert!(reply.location().unwrap().starts_with("/login"));
    let reply = jones.get(&auth).await;
    assert!(reply.location().unwrap().starts_with(REDIRECT));

    // The per-client limit: 30 a minute here.
    let mut limited = 0;
    for _ in 0..40 {
        let (status, _) = token_post(
            &app,
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
            Some((&id, &secret)),
        )
        .await;
        if status == 429 {
            limited += 1;
        }
    }
    assert!(limited >= 5, "{limited} of 40 limited");
    app.clock.advance(60);

    // Rotated keys: both generations published; new tokens name the new key.
    let before = jwks(&app).await;
    assert_eq!(before["keys"].as_array().unwrap().len(), 2, "{before}");
    let kids = app
        .app
        .login
        .oidc_rotate_keys(
            &domain::RequestContext::admin_cli(),
            testkit::NowForTests::now_for_tests(&*app.clock),
        )
        .await
        .unwrap();
    let during = jwks(&app).await;
    assert_eq!(during["keys"].as_array().unwrap().len(), 4);
    app.clock.advance(61);
    let code = code_for(&mut jones, &app, &id, Some(CHALLENGE), ("drjones", &totp2)).await;
    let tokens = exchange(&app, &id, &secret, &code).await;
    let header = part(tokens["id_token"].as_str().unwrap(), 0);
    assert!(
        kids.iter().any(|k| header["kid"] == k.as_str()),
        "{header} {kids:?}"
    );
    app.clock.advance(800);
    let after = jwks(&app).await;
    assert_eq!(
        after["keys"].as_array().unwrap().len(),
        2,
        "the old keys are gone once their tokens expired"
    );

    // RP-initiated logout with the ID token as hint: our session ends and
    // the browser returns to the registered address with its state.
    let hint = tokens["id_token"].as_str().unwrap();
    let reply = jones
        .get(&format!(
            "/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fportal.clinic.example%2Fbye&state=xyz"
        ))
        .await;
    assert_eq!(
        reply.location(),
        Some("https://portal.clinic.example/bye?state=xyz")
    );
    assert_eq!(jones.get("/").await.status, 303, "logged out here");
    assert_eq!(events(&app, "oidc_logout").await.len(), 1);
    // Without a hint a signed-in browser is asked; an unregistered address
    // is never followed.
    let reply = other
        .get("/oidc/logout?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("id=\"confirm-logout\""));
    let csrf = reply.csrf_token().unwrap();
    let reply = other
        .post_form(
            "/oidc/logout",
            &[
                ("csrf_token", &csrf),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.location().is_none());
    assert!(reply.body.contains("You are logged out"));
    app.stop().await;
}

both_backends!(sign_ins_follow_the_practice_rules);

/// The discovery document names every endpoint under the issuer.
async fn discovery_names_the_endpoints(app: &TestApp) {
    let mut c = app.client();
    let reply = c.get("/.well-known/openid-configuration").await;
    assert_eq!(reply.status, 200);
    let doc: Value = serde_json::from_str(&reply.body).unwrap();
    let issuer = doc["issuer"].as_str().unwrap();
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ] {
        assert!(
            doc[endpoint].as_str().unwrap().starts_with(issuer),
            "{endpoint}"
        );
    }
    // An application in the browser may call userinfo (CORS preflight).
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, app.url("/oidc/userinfo"))
        .header("origin", "https://spa.clinic.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let allowed = |name: &str| {
        preflight
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(allowed("access-control-allow-origin"), "*");
    assert!(allowed("access-control-allow-headers").contains("Authorization"));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
}

both!(discovery_names_the_endpoints);

/// A port nothing listens on.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The relying party written with Python's Authlib, listening on `port`;
/// `None` (outside CI) when Authlib is not installed.
fn python_rp(issuer: &str, id: &str, secret: &str, port: u16) -> Option<Killed> {
    use std::io::BufRead as _;
    let python = "/usr/bin/python3";
    let ready = std::process::Command::new(python)
        .args(["-c", "import authlib, requests"])
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3-authlib and python3-requests are required under CI"
        );
        eprintln!(
            "SKIPPED: apt-get install python3-authlib python3-requests to run the Authlib relying party"
        );
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc_rp.py");
    let mut child = std::process::Command::new(python)
        .args([script, issuer, id, secret, &port.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python starts");
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the relying party starts");
    Some(child)
}

/// Chromium signs in to an application written with another language's
/// OpenID Connect library: first with the app's code, then, asked for a
/// phishing-resistant sign-in, with a passkey.
async fn a_python_application_signs_in_through_chromium(backend: Backend) {
    use testkit::browser::{Browser, screenshot_dir};
    let Some(app) = TestApp::start_public(backend, |_| {}).await else {
        return;
    };
    let (_, totp) = app.add_user_with_totp("drsmith").await;
    let port = free_port();
    let rp = format!("http://localhost:{port}");
    let (client_id, secret) = app
        .add_oidc_client(
            "Python portal",
            &[format!("{rp}/callback")],
            &[],
            false,
            "RS256",
        )
        .await;
    let issuer = app.localhost_url("");
    let secret = secret.unwrap();
    let Some(_rp) = python_rp(&issuer, &client_id, &secret, port) else {
        app.stop().await;
        return;
    };
    let Some(browser) = Browser::start().await else {
        app.stop().await;
        return;
    };
    let shots = screenshot_dir();

    // With the authenticator app's code.
    browser.goto(&format!("{rp}/login")).await;
    browser
        .wait_for_url(|u| u.starts_with(&format!("{issuer}/login")))
        .await;
    browser.type_into("#username", "drsmith").await;
    browser.type_into("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for_url(|u| u.contains("/login/2fa")).await;
    browser.type_into("#token", &app.code(&totp, 0)).await;
    browser.click("#token-form button[type=submit]").await;
    browser
        .wait_for_url(|u| u.starts_with(&format!("{rp}/callback")))
        .await;
    let shown = browser.wait_for_text("#rp-user").await;
    assert!(shown.contains("Signed in as drsmith"), "{shown}");
    let claims: Value = serde_json::from_str(&browser.wait_for_text("#rp-claims").await).unwrap();
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], "mfa");
    assert_ne!(claims["sub"], "drsmith");
    browser
        .screenshot(&shots.join("oidc-relying-party.png"))
        .await;

    // A passkey registered on the account page, then asked for by the
    // application: the sign-in page's autofill signs in with it.
    let authenticator = browser.add_virtual_authenticator().await;
    browser.goto(&format!("{issuer}/account/passkeys")).await;
    browser.type_into("#passkey-name", "Office key").await;
    browser.type_into("#passkey-password", PASSWORD).await;
    browser.click("#add-passkey").await;
    browser
        .wait_for_url(|u| u.contains("done=passkey-added"))
        .await;
    let key = browser.virtual_credentials(&authenticator).await;
    browser.remove_virtual_authenticator(&authenticator).await;
    browser.goto(&format!("{issuer}/")).await;
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_url(|u| u.contains("/login")).await;
    let plugged = browser.add_virtual_authenticator().await;
    browser.add_virtual_credentials(&plugged, &key).await;
    browser.goto(&format!("{rp}/login?acr=phr")).await;
    browser
        .wait_for_url(|u| u.starts_with(&format!("{rp}/callback")))
        .await;
    let claims: Value = serde_json::from_str(&browser.wait_for_text("#rp-claims").await).unwrap();
    assert_eq!(claims["amr"], serde_json::json!(["hwk"]), "{claims}");
    assert_eq!(claims["acr"], "phr");
    browser.quit().await;
    app.stop().await;
}

both_backends!(a_python_application_signs_in_through_chromium);

/// The practice administrator registers and removes applications on a
/// page; staff cannot see it; the secret is shown once.
async fn administrators_manage_their_applications(app: &TestApp) {
    let (_, mut boss) = app.admin("boss").await;
    let page = boss.get("/admin/applications").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"no-applications\""));
    let csrf = page.csrf_token().unwrap();
    let reply = boss
        .post_form(
            "/admin/applications",
            &[
                ("name", "Forgejo"),
                (
                    "redirect_uris",
                    "https://git.clinic.example/user/oauth2/twofactor/callback\n",
                ),
                ("password", "wrong password"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(reply.status, 400);
    let reply = boss
        .post_form(
            "/admin/applications",
            &[
                ("name", "Forgejo"),
                ("redirect_uris", "http://git.clinic.example/cb"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("https"), "{}", reply.body);
    let reply = boss
        .post_form(
            "/admin/applications",
            &[
                ("name", "Forgejo"),
                (
                    "redirect_uris",
                    "https://git.clinic.example/user/oauth2/twofactor/callback\n",
                ),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("id=\"client-secret\""));
    let clients = app.app.login.oidc_clients(None).await.unwrap();
    assert_eq!(clients.len(), 1);
    let listed = boss.get("/admin/applications").await;
    assert!(listed.body.contains(&clients[0].client_id));
    assert!(!listed.body.contains("id=\"client-secret\""), "shown once");
    // Staff get no such page; a forged form changes nothing.
    let _ = app.add_user("nurse").await;
    let mut nurse = app.client();
    nurse.submit_password("nurse", PASSWORD).await;
    assert_eq!(nurse.get("/admin/applications").await.status, 403);
    let reply = boss
        .post_form(
            &format!("/admin/applications/{}/remove", clients[0].client_id),
            &[("password", PASSWORD), ("csrf_token", "forged")],
        )
        .await;
    assert_ne!(reply.status, 200);
    let csrf = listed.csrf_token().unwrap();
    // A wrong password keeps the client and marks that row's field only.
    let wrong = boss
        .post_form(
            &format!("/admin/applications/{}/remove", clients[0].client_id),
            &[("password", "not it"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_eq!(app.app.login.oidc_clients(None).await.unwrap().len(), 1);
    assert_eq!(wrong.body.matches("aria-invalid=\"true\"").count(), 1);
    let start = wrong.body.find("id=\"remove-password-1\"").unwrap();
    let tag = &wrong.body[start..start + wrong.body[start..].find('>').unwrap()];
    assert!(
        tag.contains("aria-invalid=\"true\"") && tag.contains("autofocus"),
        "{tag}"
    );
    let reply = boss
        .post_form(
            &format!("/admin/applications/{}/remove", clients[0].client_id),
            &[("password", PASSWORD), ("csrf_token", &csrf)],
        )
        .await;
    let reply = boss.follow(reply).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(app.app.login.oidc_clients(None).await.unwrap().is_empty());
    // Both changes are on the practice's audit page (its rows name the
    // client in their detail), under the administrator.
    for event in ["oidc_client_added", "oidc_client_removed"] {
        let audit = boss.get(&format!("/admin/audit?event={event}")).await;
        assert_eq!(audit.status, 200);
        assert!(
            audit.body.contains(&clients[0].client_id),
            "{event}: {}",
            audit.body
        );
    }
    let trail = app.store().recent_audit(50).await.unwrap();
    let changes: Vec<_> = trail
        .iter()
        .filter(|e| e.kind.starts_with("oidc_client_"))
        .collect();
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|e| e.username == "boss"), "{changes:?}");
}

both!(administrators_manage_their_applications);

/// Part `index` (0: the header, 1: the claims) of a signed token, read
/// without checking the signature (the other stories check it with an
/// independent library).
fn part(token: &str, index: usize) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

/// The claims of a signed token (see [`part`]).
fn payload(token: &str) -> Value {
    part(token, 1)
}

/// The published keys.
async fn jwks(app: &TestApp) -> Value {
    let reply = Client::new(app.localhost_url("")).get("/oidc/jwks").await;
    assert_eq!(reply.status, 200);
    serde_json::from_str(&reply.body).unwrap()
}

/// Exchanges `code` for `id` (PKCE with [`VERIFIER`]); the answer's JSON.
async fn exchange(app: &TestApp, id: &str, secret: &str, code: &str) -> Value {
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens) = token_post(app, &fields, Some((id, secret))).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// What happens to the account reaches the applications: a remembered
/// browser signs in with the password alone (and says so), a passkey-only
/// administrator needs a passkey here too, the sign-ins are on the audit
/// page, and a new password or a disabled account ends the tokens.
async fn changes_to_the_account_reach_the_applications(backend: Backend) {
    let Some(app) = TestApp::start_public(backend, |_| {}).await else {
        return;
    };
    let (user, totp) = app.add_user_with_totp("drsmith").await;
    let (id, secret) = register(&app, false, "RS256").await;
    let secret = secret.unwrap();
    let authorize = format!(
        "/oidc/authorize?client_id={id}&redirect_uri=https%3A%2F%2Fportal.clinic.example%2Fcallback&response_type=code&scope=openid%20offline_access&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );

    // "Save token for 30 days" ticked at the first sign-in...
    let mut browser = Client::new(app.localhost_url(""));
    let to_login = browser.get(&authorize).await.location().unwrap().to_owned();
    let next = query_value(&to_login, "next").unwrap();
    let reply = browser
        .submit_password_next("drsmith", PASSWORD, &next)
        .await;
    let to_2fa = reply.location().unwrap().to_owned();
    let csrf = browser.get(&to_2fa).await.csrf_token().unwrap();
    let code = app.code(&totp, 0);
    let reply = browser
        .post_form(
            "/login/2fa",
            &[
                ("token", &code),
                ("remember", "on"),
                ("csrf_token", &csrf),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(reply.location(), Some(next.as_str()));
    let first = browser.get(&next).await.location().unwrap().to_owned();
    let tokens = exchange(&app, &id, &secret, &query_value(&first, "code").unwrap()).await;
    assert_eq!(payload(tokens["id_token"].as_str().unwrap())["acr"], "mfa");
    // ...so the next sign-in asks the password only, and the token says so.
    browser.logout().await;
    let to_login = browser.get(&authorize).await.location().unwrap().to_owned();
    let next = query_value(&to_login, "next").unwrap();
    let reply = browser
        .submit_password_next("drsmith", PASSWORD, &next)
        .await;
    assert_eq!(
        reply.location(),
        Some(next.as_str()),
        "no second factor asked"
    );
    let back = browser.get(&next).await.location().unwrap().to_owned();
    let tokens = exchange(&app, &id, &secret, &query_value(&back, "code").unwrap()).await;
    let claims = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert_eq!(claims["acr"], "pwd");

    // A code by text message says so.
    let phone = "+12015550123";
    app.add_user_with_phone("texted", Some(phone)).await;
    let mut texted = Client::new(app.localhost_url(""));
    let to_login = texted.get(&authorize).await.location().unwrap().to_owned();
    let next = query_value(&to_login, "next").unwrap();
    let reply = texted.submit_password_next("texted", PASSWORD, &next).await;
    let to_2fa = reply.location().unwrap().to_owned();
    assert!(to_2fa.starts_with("/login/2fa"), "{to_2fa}");
    texted.get(&to_2fa).await;
    assert_eq!(texted.request_sms().await.status, 200);
    let sms = app.last_sms_code(phone).unwrap();
    let csrf = texted.csrf();
    let reply = texted
        .post_form(
            "/login/2fa",
            &[("token", &sms), ("csrf_token", &csrf), ("next", &next)],
        )
        .await;
    assert_eq!(reply.location(), Some(next.as_str()));
    let back = texted.get(&next).await.location().unwrap().to_owned();
    let sms_tokens = exchange(&app, &id, &secret, &query_value(&back, "code").unwrap()).await;
    let claims = payload(sms_tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
    assert_eq!(claims["acr"], "mfa");

    // An administrator signed in with a code before the practice asked
    // passkeys of administrators must sign in again, with one.
    let (_, admin_totp) = app.add_admin_with_totp("chief").await;
    let mut chief = Client::new(app.localhost_url(""));
    chief.submit_password("chief", PASSWORD).await;
    chief.submit_token(&app.code(&admin_totp, 0)).await;
    assert_eq!(chief.get("/").await.status, 200);
    let practice = app.app.practice(None).await.unwrap();
    let mut policy = app.store().practice_policy(practice).await.unwrap();
    policy.phishing_resistant_admins = true;
    app.store()
        .set_practice_policy(practice, &policy)
        .await
        .unwrap();
    let reply = chief.get(&authorize).await;
    let location = reply.location().unwrap();
    assert!(
        location.starts_with("/login") && location.contains("prompt=login"),
        "{location}"
    );
    policy.phishing_resistant_admins = false;
    app.store()
        .set_practice_policy(practice, &policy)
        .await
        .unwrap();

    // The sign-ins are on the practice's audit page, under their own event.
    let (_, mut boss) = app.admin("boss").await;
    let audit = boss.get("/admin/audit?event=oidc_sign_in").await;
    assert_eq!(audit.status, 200);
    assert!(
        audit.body.matches("oidc_sign_in").count() >= 2,
        "{}",
        audit.body
    );
    assert!(audit.body.contains("drsmith"));

    // A new password ends the applications' tokens.
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&app, &access).await.status, 200);
    let now = testkit::NowForTests::now_for_tests(&*app.clock);
    app.app
        .login
        .set_password(&user, "a whole new passphrase here", now)
        .await
        .unwrap();
    let (status, body) = token_post(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&app, &access).await.status, 401);

    // So does disabling the account on the staff page.
    let nurse = app.add_user("nurse").await;
    let mut nurse_browser = Client::new(app.localhost_url(""));
    let to_login = nurse_browser
        .get(&authorize)
        .await
        .location()
        .unwrap()
        .to_owned();
    let next = query_value(&to_login, "next").unwrap();
    nurse_browser
        .submit_password_next("nurse", PASSWORD, &next)
        .await;
    let back = nurse_browser
        .get(&next)
        .await
        .location()
        .unwrap()
        .to_owned();
    let tokens = exchange(&app, &id, &secret, &query_value(&back, "code").unwrap()).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&app, &access).await.status, 200);
    let page = boss.get(&format!("/admin/staff/{}", nurse.id.0)).await;
    let csrf = page.csrf_token().unwrap();
    let reply = boss
        .post_form(
            &format!("/admin/staff/{}/disable", nurse.id.0),
            &[("password", PASSWORD), ("csrf_token", &csrf)],
        )
        .await;
    assert!(reply.status == 200 || reply.status == 303, "{}", reply.body);
    assert!(
        app.store()
            .user_by_id(nurse.id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    assert_eq!(userinfo(&app, &access).await.status, 401);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = token_post(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(status, 400);
    app.stop().await;
}

both_backends!(changes_to_the_account_reach_the_applications);

/// A new master key: `master-key reseal` moves the signing keys to it with
/// the seeds, so once the old key is dropped the provider still signs
/// with the same keys (no application sees a new one).
async fn signing_keys_move_to_a_new_master_key(backend: Backend) {
    let Some(app) = TestApp::start_public(backend, |_| {}).await else {
        return;
    };
    let before = jwks(&app).await;
    let old_id = app.app.login.key_id().to_owned();
    let moved = app
        .instance_with(|config| {
            config.previous_master_keys = Some("11".repeat(32).into());
            config.master_key = Some("22".repeat(32).into());
        })
        .await;
    let usage = moved.app.login.sealed_key_usage().await.unwrap();
    assert!(
        usage.contains(&("signing keys".to_owned(), old_id.clone(), 2)),
        "{usage:?}"
    );
    let (resealed, unopenable) = moved.app.login.reseal_all(|_| {}).await.unwrap();
    assert_eq!((resealed, unopenable), (2, 0));
    let usage = moved.app.login.sealed_key_usage().await.unwrap();
    assert!(usage.iter().all(|(_, id, _)| *id != old_id), "{usage:?}");
    // The old key gone: the same keys still open and sign.
    let only_new = app
        .instance_with(|config| {
            config.previous_master_keys = None;
            config.master_key = Some("22".repeat(32).into());
        })
        .await;
    let (_, totp) = only_new.add_user_with_totp("drsmith").await;
    let (id, secret) = register(&only_new, false, "RS256").await;
    let mut browser = Client::new(only_new.localhost_url(""));
    let code = code_for(
        &mut browser,
        &only_new,
        &id,
        Some(CHALLENGE),
        ("drsmith", &totp),
    )
    .await;
    let tokens = exchange(&only_new, &id, &secret.unwrap(), &code).await;
    let kid = part(tokens["id_token"].as_str().unwrap(), 0)["kid"].clone();
    assert!(
        before["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid),
        "signed with a key published before the move"
    );
    assert_eq!(jwks(&only_new).await, before);
    only_new.stop().await;
    moved.stop().await;
    app.stop().await;
}

both_backends!(signing_keys_move_to_a_new_master_key);
