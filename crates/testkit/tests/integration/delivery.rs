//! Delivery through real providers' protocols on loopback (a mock HTTP
//! gateway, a local SMTP server), through outages and restarts.

use testkit::gateway::{answer, texts, texts_to, webhook_app};
use testkit::sms_code_in;
use testkit::smtp_sink::SmtpSink;
use testkit::{Backend, NowForTests as _, PASSWORD, TestApp};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE: &str = "+12015550123";

/// The outbox rows, newest first; `sms_only` leaves out the emails (such as
/// the held "did not finish the second step" notice every half-login commits).
async fn outbox_of(app: &TestApp, sms_only: bool) -> Vec<domain::OutboxMessage> {
    app.store()
        .outbox_messages(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| !sms_only || m.channel == domain::Channel::Sms)
        .collect()
}

async fn outbox(app: &TestApp) -> Vec<domain::OutboxMessage> {
    outbox_of(app, false).await
}

async fn texts_out(app: &TestApp) -> Vec<domain::OutboxMessage> {
    outbox_of(app, true).await
}

async fn an_sms_outage_is_told_and_the_text_goes_out_once_it_is_over(backend: Backend) {
    let gateway = MockServer::start().await;
    answer(&gateway, 503).await;
    let Some(app) = webhook_app(backend, &gateway).await else {
        return;
    };
    app.add_user_with_phone("nurse", Some(PHONE)).await;
    let mut browser = app.client();
    browser.submit_password("nurse", PASSWORD).await;
    let reply = browser.request_sms().await;
    assert_eq!(reply.status, 200, "an outage is not a server error");
    assert!(
        reply.body.contains("not answering right now"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("authenticator"), "{}", reply.body);
    assert!(
        reply.body.contains("Request Token via SMS"),
        "a retry is offered"
    );
    let rows = texts_out(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, domain::OutboxStatus::Pending);
    assert!(rows[0].last_error.as_deref().unwrap().contains("503"));

    // Back before the backoff is over: nothing is sent early.
    answer(&gateway, 200).await;
    assert_eq!(app.flush_outbox().await, 0);
    app.clock.advance(5);
    assert_eq!(app.flush_outbox().await, 1);
    let received = texts(&gateway).await;
    assert_eq!(received.len(), 1);
    let row = &texts_out(&app).await[0];
    assert_eq!(row.status, domain::OutboxStatus::Sent);
    assert_eq!(row.provider_id.as_deref(), Some("gw-1"));
    assert_eq!(
        row.idempotency_key, received[0].0,
        "the key is stable across retries"
    );

    // The late text still logs in.
    let code = sms_code_in(&received[0].1).unwrap();
    assert_eq!(browser.submit_token(&code).await.status, 303);
    app.clock.advance(3600);
    app.flush_outbox().await;
    assert_eq!(texts(&gateway).await.len(), 1, "sent once");
    app.stop().await;
}
both_backends!(an_sms_outage_is_told_and_the_text_goes_out_once_it_is_over);

/// Issue #9: the SMS provider down for a minute while three clinicians ask
/// for codes. The worker keeps retrying with backoff, nothing is lost or
/// given up; when the provider returns, each text goes out once and still
/// logs its reader in.
async fn an_sms_provider_down_for_a_minute_delays_each_text_and_sends_it_once(backend: Backend) {
    let gateway = MockServer::start().await;
    answer(&gateway, 503).await;
    let Some(app) = webhook_app(backend, &gateway).await else {
        return;
    };
    let phones = ["+12015550101", "+12015550102", "+12015550103"];
    let mut browsers = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        let name = format!("nurse{i}");
        app.add_user_with_phone(&name, Some(phone)).await;
        let mut browser = app.client();
        browser.submit_password(&name, PASSWORD).await;
        assert_eq!(browser.request_sms().await.status, 200);
        browsers.push(browser);
    }
    // One minute of outage, the worker waking every 5 s.
    for _ in 0..12 {
        app.clock.advance(5);
        app.flush_outbox().await;
    }
    let tries = texts_to(&gateway).await.len();
    assert!(
        tries >= 3 * 3,
        "each text retried during the outage: {tries}"
    );
    let rows = texts_out(&app).await;
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.status, domain::OutboxStatus::Pending, "{row:?}");
        assert!(row.last_error.as_deref().unwrap().contains("503"));
    }

    // Back: within the backoff every text goes out, once each.
    answer(&gateway, 200).await;
    for _ in 0..24 {
        app.clock.advance(5);
        app.flush_outbox().await;
    }
    let sent = texts_to(&gateway).await;
    let mut to: Vec<&str> = sent.iter().map(|(to, _)| to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, phones, "each phone got one text: {sent:?}");
    assert!(
        texts_out(&app)
            .await
            .iter()
            .all(|r| r.status == domain::OutboxStatus::Sent)
    );
    for (browser, phone) in browsers.iter_mut().zip(phones) {
        let text = &sent.iter().find(|(to, _)| to == phone).unwrap().1;
        let code = sms_code_in(text).unwrap();
        assert_eq!(browser.submit_token(&code).await.status, 303, "{phone}");
    }
    app.clock.advance(3600);
    app.flush_outbox().await;
    assert_eq!(texts_to(&gateway).await.len(), 3, "nothing sent twice");
    app.stop().await;
}
both_backends!(an_sms_provider_down_for_a_minute_delays_each_text_and_sends_it_once);

async fn a_refused_number_is_told_plainly_and_never_retried(backend: Backend) {
    let gateway = MockServer::start().await;
    answer(&gateway, 400).await;
    let Some(app) = webhook_app(backend, &gateway).await else {
        return;
    };
    app.add_user_with_phone("nurse", Some(PHONE)).await;
    let mut browser = app.client();
    browser.submit_password("nurse", PASSWORD).await;
    let reply = browser.request_sms().await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.body.contains("refused to send to •••• •••• 0123"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("authenticator") && reply.body.contains("recovery code"));
    let row = &texts_out(&app).await[0];
    assert_eq!(row.status, domain::OutboxStatus::Failed);
    let metrics = app.metrics().await.body;
    assert!(metrics.contains("twofactor_outbox_failed 1\n"), "{metrics}");
    app.clock.advance(3600);
    app.flush_outbox().await;
    assert_eq!(texts_out(&app).await[0].attempts, 1, "4xx is not retried");
    assert_eq!(texts(&gateway).await.len(), 1);
    let events = app.store().recent_audit(10).await.unwrap();
    assert!(
        events.iter().any(|e| e.kind == "sms_sent"
            && e.outcome == "failure"
            && e.detail.contains("refused"))
    );
    app.stop().await;
}
both_backends!(a_refused_number_is_told_plainly_and_never_retried);

async fn twilio_carries_the_code_and_keeps_the_message_sid(backend: Backend) {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path(
            "/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "SM42"})))
        .mount(&twilio)
        .await;
    let base = twilio.uri();
    let Some(app) = TestApp::start_with(backend, move |config| {
        config.sms_provider = "twilio".into();
        config.twilio_api_base = base;
        config.twilio_account_sid = Some("AC00000000000000000000000000000001".into());
        config.twilio_auth_token = Some("token-for-tests".into());
        config.twilio_from = Some("+12015550100".into());
    })
    .await
    else {
        return;
    };
    app.add_user_with_phone("nurse", Some(PHONE)).await;
    let mut browser = app.client();
    browser.submit_password("nurse", PASSWORD).await;
    let reply = browser.request_sms().await;
    assert!(
        reply.body.contains("was sent by text message"),
        "{}",
        reply.body
    );
    let request = &twilio.received_requests().await.unwrap()[0];
    let body = String::from_utf8(request.body.clone()).unwrap();
    assert!(
        body.starts_with("To=%2B12015550123&From=%2B12015550100&Body="),
        "{body}"
    );
    let text = body.split_once("Body=").unwrap().1.replace('+', " ");
    let code: String = text
        .split_once("token%3A ")
        .unwrap()
        .1
        .split('.')
        .next()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(
        texts_out(&app).await[0].provider_id.as_deref(),
        Some("SM42")
    );
    assert_eq!(browser.submit_token(&code).await.status, 303);
    app.stop().await;
}
both_backends!(twilio_carries_the_code_and_keeps_the_message_sid);

async fn a_message_committed_by_a_server_that_died_goes_out_after_restart(app: &TestApp) {
    let user = app.add_user_with_phone("nurse", Some(PHONE)).await;
    let outbox = app.app.login.outbox();
    let now = app.clock.now_for_tests();
    // What request_sms commits before it sends: claimed by the request.
    let claimed = outbox
        .sms(
            user.id,
            "sms-code",
            PHONE,
            "Test Clinic security token: 111 222.",
            now,
            now + 600,
        )
        .unwrap();
    app.store().enqueue(&claimed).await.unwrap();
    // An email committed with its event, not yet picked up by a worker.
    let email = domain::Email {
        to: "nurse@clinic.example".into(),
        subject: "committed before the crash".into(),
        text: "t".into(),
        html: "<p>h</p>".into(),
    };
    let pending = outbox.email(Some(user.id), "test", &email, now).unwrap();
    app.store().enqueue(&pending).await.unwrap();

    // The process is gone; another one starts on the same database.
    let restarted = app.second_instance().await;
    assert_eq!(restarted.flush_outbox().await, 1, "the email goes at once");
    assert_eq!(restarted.app.mail_outbox.recent().len(), 1);
    assert_eq!(
        restarted.app.sms_outbox.recent().len(),
        0,
        "the claimed text waits for its lease to run out"
    );
    app.clock.advance(domain::outbox::LEASE_SECONDS);
    assert_eq!(restarted.flush_outbox().await, 1);
    assert_eq!(restarted.app.sms_outbox.recent().len(), 1);
    app.clock.advance(3600);
    assert_eq!(restarted.flush_outbox().await, 0, "and only once");
    assert_eq!(app.flush_outbox().await, 0);
    restarted.stop().await;
}
both!(a_message_committed_by_a_server_that_died_goes_out_after_restart);

async fn two_instances_send_each_message_once(app: &TestApp) {
    let other = app.second_instance().await;
    let outbox = app.app.login.outbox();
    let now = app.clock.now_for_tests();
    for i in 0..60 {
        let email = domain::Email {
            to: format!("user{i}@clinic.example"),
            subject: format!("message {i}"),
            text: "t".into(),
            html: "h".into(),
        };
        let message = outbox.email(None, "test", &email, now).unwrap();
        app.store().enqueue(&message).await.unwrap();
    }
    let (a, b) = tokio::join!(app.flush_outbox(), other.flush_outbox());
    assert_eq!(a + b, 60, "every message attempted once in all");
    let mut subjects: Vec<String> = app
        .app
        .mail_outbox
        .recent()
        .into_iter()
        .chain(other.app.mail_outbox.recent())
        .map(|e| e.subject)
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 60, "no message sent twice");
    let counts = app.store().outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 0));
    other.stop().await;
}
both!(two_instances_send_each_message_once);

async fn smtp_delivers_text_and_html_with_the_site_name(backend: Backend) {
    let sink = SmtpSink::start();
    let url = sink.url();
    let Some(app) = TestApp::start_with(backend, move |config| {
        config.smtp_url = Some(url.into());
        config.mail_from = "Test Clinic <login@clinic.example>".into();
    })
    .await
    else {
        return;
    };
    app.add_user("alice").await;
    let mut browser = app.client();
    browser.request_password_reset("alice").await;
    assert_eq!(app.flush_outbox().await, 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.from, "login@clinic.example");
    assert_eq!(message.to, vec!["alice@clinic.example".to_owned()]);
    let data = &message.data;
    assert!(
        data.contains("Subject: Test Clinic: reset your password"),
        "{data}"
    );
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("Content-Type: text/plain"), "{data}");
    assert!(data.contains("Content-Type: text/html"), "{data}");
    let row = &outbox(&app).await[0];
    assert_eq!(row.status, domain::OutboxStatus::Sent);
    assert!(row.provider_id.as_deref().unwrap().contains("SINK1"));
    app.stop().await;

    // A mailbox the server refuses (550) fails for good, with the reason.
    let refusing = SmtpSink::refusing();
    let url = refusing.url();
    let Some(app) = TestApp::start_with(backend, move |config| {
        config.smtp_url = Some(url.into());
    })
    .await
    else {
        return;
    };
    app.add_user("bob").await;
    let mut browser = app.client();
    browser.request_password_reset("bob").await;
    app.flush_outbox().await;
    let row = &outbox(&app).await[0];
    assert_eq!(row.status, domain::OutboxStatus::Failed);
    assert!(
        row.last_error.as_deref().unwrap().contains("550"),
        "{row:?} {:?}",
        row.last_error
    );
    app.stop().await;
}
both_backends!(smtp_delivers_text_and_html_with_the_site_name);

async fn protection_changes_are_announced_by_email(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let subjects = |mails: Vec<domain::Email>| -> Vec<String> {
        mails
            .into_iter()
            .filter(|m| m.to == "alice@clinic.example")
            .map(|m| m.subject)
            .collect()
    };
    assert!(
        subjects(app.mails().await).contains(&"Test Clinic: two-factor login is on".to_owned())
    );

    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token_remember(&app.code(&phone, 0)).await;
    let got = subjects(app.mails().await);
    assert!(
        got.contains(&"Test Clinic: a device was remembered".to_owned()),
        "{got:?}"
    );

    // Ten wrong tokens lock the second factor: the owner hears of it.
    let mut attacker = app.client();
    for _ in 0..3 {
        attacker.submit_password("alice", PASSWORD).await;
        for _ in 0..5 {
            attacker.submit_token("000000").await;
        }
    }
    let got = subjects(app.mails().await);
    assert!(
        got.contains(&"Test Clinic: your account was locked".to_owned()),
        "{got:?}"
    );
}
both!(protection_changes_are_announced_by_email);

async fn an_abandoned_half_login_is_reported_once_an_hour(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let abandoned = |mails: Vec<domain::Email>| {
        mails
            .iter()
            .filter(|m| m.subject == "Test Clinic: someone entered your password")
            .count()
    };
    // Finished within the time: no notice, ever.
    let mut owner = app.client();
    owner.submit_password("alice", PASSWORD).await;
    owner.submit_token(&app.code(&phone, 0)).await;
    app.clock.advance(11 * 60);
    assert_eq!(abandoned(app.mails().await), 0);

    // Password typed, token never: a notice after ten minutes, not before.
    let mut stranger = app.client();
    stranger.submit_password("alice", PASSWORD).await;
    app.clock.advance(9 * 60);
    assert_eq!(abandoned(app.mails().await), 0);
    app.clock.advance(60);
    assert_eq!(abandoned(app.mails().await), 1);
    let notice = app
        .mails()
        .await
        .into_iter()
        .find(|m| m.subject.ends_with("someone entered your password"))
        .unwrap();
    assert!(notice.text.contains("did not finish the second step"));

    // Again within the hour: no second mail.
    stranger.submit_password("alice", PASSWORD).await;
    app.clock.advance(11 * 60);
    assert_eq!(abandoned(app.mails().await), 1);
    // After the hour, a new one.
    app.clock.advance(40 * 60);
    stranger.submit_password("alice", PASSWORD).await;
    app.clock.advance(11 * 60);
    assert_eq!(abandoned(app.mails().await), 2);
}
both!(an_abandoned_half_login_is_reported_once_an_hour);

/// Notices speak the owner's language, else the practice's default, and
/// give the time in the practice's zone: the held "did not finish" notice
/// (read on the password step's hot path) and one queued with its event.
async fn notices_speak_the_owners_language_in_the_practices_zone(app: &TestApp) {
    // The users first: the first one brings the practice into being.
    let (lucia, phone) = app.add_user_with_totp("lucia").await;
    let (english, _) = app.add_user_with_totp("laura").await;
    app.store()
        .set_practice_locale(
            lucia.practice_id,
            &domain::PracticeLocale {
                time_zone: "America/Chicago".into(),
                language: Some(i18n::Lang::Es),
            },
        )
        .await
        .unwrap();
    app.store()
        .set_user_language(english.id, Some(i18n::Lang::En))
        .await
        .unwrap();
    for username in ["lucia", "laura"] {
        app.client().submit_password(username, PASSWORD).await;
    }
    app.clock.advance(10 * 60);
    let mails = app.mails().await;
    // The held notice to `who`, whichever order the sink kept.
    let held = |who: &str, subject: &str| {
        mails
            .iter()
            .find(|m| m.to == format!("{who}@clinic.example") && m.subject == subject)
            .unwrap_or_else(|| panic!("no {subject:?} to {who}: {mails:?}"))
            .clone()
    };
    let spanish = held("lucia", "Test Clinic: alguien escribió su contraseña");
    assert!(
        spanish.text.contains("no completó el segundo paso"),
        "{}",
        spanish.text
    );
    assert!(
        spanish.text.contains(" CST") || spanish.text.contains(" CDT"),
        "{}",
        spanish.text
    );
    held("laura", "Test Clinic: someone entered your password");

    // A notice queued with its event: the same rules.
    let mut browser = app.client();
    browser.submit_password("lucia", PASSWORD).await;
    browser.submit_token_remember(&app.code(&phone, 0)).await;
    let mails = app.mails().await;
    assert!(
        mails
            .iter()
            .any(|m| m.subject == "Test Clinic: se recordó un dispositivo"),
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
}
both!(notices_speak_the_owners_language_in_the_practices_zone);
