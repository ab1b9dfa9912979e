//! A mock SMS gateway (wiremock on loopback) and an app that texts through
//! it with the `webhook` provider.

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{Backend, TestApp};

/// The webhook's signing secret in these tests.
pub const WEBHOOK_SECRET: &str = "webhook-secret-for-tests";

/// An app whose `webhook` SMS provider posts to `gateway` (`None` when
/// PostgreSQL is unreachable outside CI).
pub async fn webhook_app(backend: Backend, gateway: &MockServer) -> Option<TestApp> {
    let url = format!("{}/sms", gateway.uri());
    TestApp::start_with(backend, move |config| {
        config.sms_provider = "webhook".into();
        config.sms_webhook_url = Some(url);
        config.sms_webhook_secret = Some(WEBHOOK_SECRET.into());
    })
    .await
}

/// Makes the gateway answer every POST with `status` (and a JSON id),
/// forgetting what it received so far.
pub async fn answer(gateway: &MockServer, status: u16) {
    gateway.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(status).set_body_json(serde_json::json!({"id": "gw-1"})),
        )
        .mount(gateway)
        .await;
}

/// The texts the gateway received: (idempotency key, text).
pub async fn texts(gateway: &MockServer) -> Vec<(String, String)> {
    received(gateway, |request, _| {
        request.headers["idempotency-key"]
            .to_str()
            .expect("ASCII key")
            .to_owned()
    })
    .await
}

/// The texts the gateway received: (number sent to, text).
pub async fn texts_to(gateway: &MockServer) -> Vec<(String, String)> {
    received(gateway, |_, body| {
        body["to"].as_str().expect("to").to_owned()
    })
    .await
}

/// Each received text as (`label` of its request and JSON body, text).
async fn received(
    gateway: &MockServer,
    label: impl Fn(&wiremock::Request, &serde_json::Value) -> String,
) -> Vec<(String, String)> {
    gateway
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON body");
            (
                label(r, &body),
                body["text"].as_str().expect("text").to_owned(),
            )
        })
        .collect()
}
