//! Log scanning in a test binary of its own: the subscriber is global, so
//! every task of the server logs into it, and no other test shares it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use testkit::gateway::{answer, texts, webhook_app};
use testkit::sms_code_in;
use testkit::{Backend, PASSWORD};
use wiremock::MockServer;

const PHONE: &str = "+12015550123";

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
/// a reset link and an invitation are mailed and an emergency link is used:
/// the codes and the links' tokens are in none of them.
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
            .map(|(_, text)| sms_code_in(text).unwrap())
            .collect();
        browser.submit_token(&secrets[0]).await;

        let mut other = app.client();
        other.request_password_reset("nurse").await;
        let link = app
            .mails()
            .await
            .into_iter()
            .find(|m| m.subject.contains("reset"))
            .unwrap()
            .text;
        let token = link.split("/password/reset/").nth(1).unwrap();
        secrets.push(token.split_whitespace().next().unwrap().to_owned());

        // An invitation, opened and accepted; an emergency link, used.
        let (_, mut admin) = app.admin("boss").await;
        admin
            .submit(
                "/admin/staff",
                &[
                    ("username", "newbie"),
                    ("email", "newbie@clinic.example"),
                    ("role", "staff"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        let invite = app
            .mails()
            .await
            .into_iter()
            .find(|m| m.subject.contains("invitation"))
            .unwrap()
            .text;
        let start = invite.find("/invite/").unwrap();
        let path = invite[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        let mut invited = app.client();
        invited.get(&path).await;
        invited
            .submit(
                &path,
                &[
                    ("password", "correct horse battery staple"),
                    ("password_confirm", "correct horse battery staple"),
                ],
            )
            .await;
        secrets.push(path.trim_start_matches("/invite/").to_owned());
        let path = app.emergency_path("boss", "phone lost").await;
        let mut emergency = app.client();
        emergency.get(&path).await;
        let used = emergency.submit(&path, &[("password", PASSWORD)]).await;
        assert_eq!(used.status, 303);
        secrets.push(path.trim_start_matches("/emergency/").to_owned());
        app.stop().await;
        secrets
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("outbox: not sent, will retry") && logs.contains("outbox: sent"),
        "the capture sees the server's logs:\n{logs}"
    );
    assert_eq!(secrets.len(), 4);
    for secret in &secrets {
        assert!(secret.len() >= 6);
        let grouped = format!("{} {}", &secret[..3], &secret[3..]);
        assert!(
            !logs.contains(secret.as_str()) && !logs.contains(&grouped),
            "{secret} is in the logs"
        );
    }
}
