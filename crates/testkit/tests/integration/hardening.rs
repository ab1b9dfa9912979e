//! Defaults the outside audit found weak: what the public may read, what
//! the app says about TLS itself.

use testkit::{Backend, METRICS_TOKEN, TestApp};

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
