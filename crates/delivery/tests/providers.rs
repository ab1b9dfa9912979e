//! The HTTP SMS providers against a local mock server: the exact request,
//! and how 2xx, 4xx, 5xx and silence are read.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use delivery::{TwilioFrom, TwilioSms, WebhookSms, webhook};
use domain::{SendError, SmsSender};
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token-for-tests";
const SECRET: &str = "webhook-secret-for-tests";

fn twilio(server: &MockServer, from: &str) -> TwilioSms {
    TwilioSms::new(&server.uri(), SID, TOKEN, TwilioFrom::parse(from)).unwrap()
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    url_pairs(std::str::from_utf8(body).unwrap())
}

fn url_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn twilio_posts_the_documented_form_with_basic_auth_and_keeps_the_sid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Messages.json")))
        .and(header_exists("authorization"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"sid": "SM123", "status": "queued"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let receipt = twilio(&server, "+12015550100")
        .send("key-1", "+12015550123", "Clinic security token: 123 456.")
        .await
        .unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("SM123"));

    let request = &server.received_requests().await.unwrap()[0];
    let auth = request
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    assert_eq!(auth, format!("Basic {expected}"));
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        form(&request.body),
        vec![
            ("To".into(), "+12015550123".into()),
            ("From".into(), "+12015550100".into()),
            ("Body".into(), "Clinic security token: 123 456.".into()),
        ]
    );
}

#[tokio::test]
async fn twilio_messaging_service_goes_in_its_own_field() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "SM9"})))
        .mount(&server)
        .await;
    twilio(&server, "MG0123456789abcdef")
        .send("k", "+12015550123", "x")
        .await
        .unwrap();
    let request = &server.received_requests().await.unwrap()[0];
    assert!(
        form(&request.body).contains(&("MessagingServiceSid".into(), "MG0123456789abcdef".into()))
    );
}

#[tokio::test]
async fn twilio_4xx_is_permanent_with_its_error_and_5xx_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let sender = twilio(&server, "+12015550100");
    let error = sender
        .send("k", "+1", "Clinic security token: 654 321.")
        .await
        .unwrap_err();
    let SendError::Permanent(text) = &error else {
        panic!("{error:?}")
    };
    assert!(
        text.contains("21211") && text.contains("not a valid phone number"),
        "{text}"
    );
    assert!(!text.contains("654") && !text.contains(TOKEN));
    let error = sender.send("k", "+12015550123", "x").await.unwrap_err();
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
}

#[tokio::test]
async fn a_silent_or_absent_provider_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let error = twilio(&server, "+12015550100")
        .send("k", "+12015550123", "x")
        .await
        .unwrap_err();
    assert!(
        matches!(error, SendError::Transient(ref t) if t.contains("in time")),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));

    // Nothing listens on this port any more.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let sender =
        WebhookSms::new(&format!("http://127.0.0.1:{closed}/sms?token=abc"), SECRET).unwrap();
    let error = sender.send("k", "+12015550123", "x").await.unwrap_err();
    let SendError::Transient(text) = &error else {
        panic!("{error:?}")
    };
    assert!(
        !text.contains("token=abc"),
        "the URL may hold a token: {text}"
    );
}

#[tokio::test]
async fn webhook_posts_signed_json_with_the_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .and(header("content-type", "application/json"))
        .and(header("idempotency-key", "key-42"))
        .respond_with(ResponseTemplate::new(202).set_body_json(serde_json::json!({"id": "gw-7"})))
        .expect(1)
        .mount(&server)
        .await;
    let sender = WebhookSms::new(&format!("{}/sms", server.uri()), SECRET).unwrap();
    let receipt = sender
        .send("key-42", "+12015550123", "Clinic security token: 123 456.")
        .await
        .unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("gw-7"));

    let request = &server.received_requests().await.unwrap()[0];
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"id": "key-42", "to": "+12015550123", "text": "Clinic security token: 123 456."})
    );
    let timestamp: u64 = request.headers[webhook::TIMESTAMP_HEADER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(timestamp.abs_diff(now) < 60);
    assert_eq!(
        request.headers[webhook::SIGNATURE_HEADER].to_str().unwrap(),
        webhook::signature(SECRET.as_bytes(), timestamp, &request.body)
    );
}

#[tokio::test]
async fn webhook_4xx_is_permanent_5xx_and_429_are_transient() {
    for (status, permanent) in [
        (400, true),
        (404, true),
        (422, true),
        (429, false),
        (500, false),
        (502, false),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_string("no such route"))
            .mount(&server)
            .await;
        let sender = WebhookSms::new(&server.uri(), SECRET).unwrap();
        let error = sender.send("k", "+12015550123", "x").await.unwrap_err();
        assert_eq!(
            matches!(error, SendError::Permanent(_)),
            permanent,
            "{status}: {error:?}"
        );
    }
}
