//! Log scanning in a test binary of its own: the subscriber is global, so
//! every task of the server logs into it, and no other test shares it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use testkit::{Backend, PASSWORD, TestApp};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE: &str = "+12015550123";
const SECRET: &str = "webhook-secret-for-tests";

async fn webhook_app(backend: Backend, gateway: &MockServer) -> Option<TestApp> {
    let url = format!("{}/sms", gateway.uri());
    TestApp::start_with(backend, move |config| {
        config.sms_provider = "webhook".into();
        config.sms_webhook_url = Some(url);
        config.sms_webhook_secret = Some(SECRET.into());
    })
    .await
}

async fn answer(gateway: &MockServer, status: u16) {
    gateway.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(status).set_body_json(serde_json::json!({"id": "gw-1"})),
        )
        .mount(gateway)
        .await;
}

/// The texts the gateway received: (idempotency key, text).
async fn texts(gateway: &MockServer) -> Vec<(String, String)> {
    gateway
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            (
                r.headers["idempotency-key"].to_str().unwrap().to_owned(),
                body["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn code_in(text: &str) -> String {
    text.split_once("token: ")
        .unwrap()
        .1
        .split('.')
        .next()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

/// The outbox rows, newest first; `sms_only` leaves out the emails (such as
/// the held "did not finish the second step" notice every half-login commits).
/// Captured log output (a `tracing` writer that appends to a buffer).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line at every level while codes go out, fail and are retried,
/// and a reset link is mailed: the codes and the link are in none of them.
#[test]
fn codes_and_links_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let secrets = runtime.block_on(async {
        let gateway = MockServer::start().await;
        answer(&gateway, 503).await;
        let app = webhook_app(Backend::Sqlite, &gateway).await.unwrap();
        app.add_user_with_phone("nurse", Some(PHONE)).await;
        let mut browser = app.client();
        browser.submit_password("nurse", PASSWORD).await;
        browser.request_sms().await;
        answer(&gateway, 200).await;
        app.clock.advance(5);
        app.flush_outbox().await;
        let mut secrets: Vec<String> = texts(&gateway)
            .await
            .iter()
            .map(|(_, text)| code_in(text))
            .collect();
        browser.submit_token(&secrets[0]).await;

        let mut other = app.client();
        let csrf = other.get("/password/forgot").await.csrf_token().unwrap();
        other
            .post_form(
                "/password/forgot",
                &[("username_or_email", "nurse"), ("csrf_token", &csrf)],
            )
            .await;
        let link = app
            .mails()
            .await
            .into_iter()
            .find(|m| m.subject.contains("reset"))
            .unwrap()
            .text;
        let token = link.split("/password/reset/").nth(1).unwrap();
        secrets.push(token.split_whitespace().next().unwrap().to_owned());
        app.stop().await;
        secrets
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("outbox: not sent, will retry") && logs.contains("outbox: sent"),
        "the capture sees the server's logs:\n{logs}"
    );
    assert_eq!(secrets.len(), 2);
    for secret in &secrets {
        assert!(secret.len() >= 6);
        let grouped = format!("{} {}", &secret[..3], &secret[3..]);
        assert!(
            !logs.contains(secret.as_str()) && !logs.contains(&grouped),
            "{secret} is in the logs"
        );
    }
}
