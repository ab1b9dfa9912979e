//! "Forgot password?": a reset link by email that never bypasses 2FA.

use testkit::{PASSWORD, TestApp};

async fn reset_emails(app: &TestApp) -> Vec<domain::Email> {
    app.mails()
        .await
        .into_iter()
        .filter(|e| e.subject.contains("reset your password"))
        .collect()
}

pub(crate) async fn reset_path(app: &TestApp) -> String {
    let email = app
        .mails()
        .await
        .into_iter()
        .rev()
        .find(|e| e.subject.contains("reset"))
        .unwrap();
    let start = email
        .text
        .find("http://127.0.0.1:8080/password/reset/")
        .expect("link from the configured URL");
    let link = email.text[start..].split_whitespace().next().unwrap();
    link.trim_start_matches("http://127.0.0.1:8080").to_owned()
}

async fn a_reset_link_changes_the_password_but_not_the_second_factor(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut old_session = app.client();
    old_session.submit_password("alice", PASSWORD).await;
    old_session
        .submit_token_remember(&app.code(&phone, 0))
        .await;

    let mut browser = app.client();
    let known = browser.request_password_reset("alice@clinic.example").await;
    let unknown = browser
        .request_password_reset("nobody@clinic.example")
        .await;

    assert_eq!(known.status, 200);
    assert_eq!(unknown.status, 200);
    let notice = |body: &str| body.contains("If that is an account here");
    assert!(
        notice(&known.body) && notice(&unknown.body),
        "the same answer either way"
    );
    assert_eq!(
        reset_emails(app).await.len(),
        1,
        "only the real account gets mail"
    );
    let email = reset_emails(app).await.pop().unwrap();
    assert_eq!(email.to, "alice@clinic.example");
    assert!(
        email
            .html
            .contains("<a href=\"http://127.0.0.1:8080/password/reset/"),
        "HTML part"
    );

    let path = reset_path(app).await;
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    let csrf = page.csrf_token().unwrap();
    let new = "a fresh clinic passphrase";
    for (password, confirm, message) in [
        (new, "different", "differ"),
        ("short", "short", "at least 12"),
        ("1qaz2wsx3edc", "1qaz2wsx3edc", "most common"),
    ] {
        let reply = browser
            .post_form(
                &path,
                &[
                    ("password", password),
                    ("password_confirm", confirm),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(reply.status, 400, "{message}");
        assert!(reply.body.contains(message), "{message}: {}", reply.body);
    }
    let reply = set_new_password(&mut browser, &path, new).await;
    let reply = browser.follow(reply).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("still be asked for the code"));
    assert!(
        browser.cookie("tf_session").is_none(),
        "a reset does not log in"
    );
    assert_eq!(browser.get(&path).await.status, 404, "single use");
    assert_eq!(
        old_session.get("/").await.status,
        303,
        "every session was revoked"
    );
    assert!(
        app.mails()
            .await
            .iter()
            .any(|e| e.subject.contains("your password was changed"))
    );

    old_session.clear_cookies();
    assert_eq!(
        old_session.submit_password("alice", PASSWORD).await.status,
        401
    );
    let reply = old_session.submit_password("alice", new).await;
    assert_eq!(
        reply.location(),
        Some("/login/2fa?next=/"),
        "2FA still asked; remembered devices revoked"
    );
}
both!(a_reset_link_changes_the_password_but_not_the_second_factor);

async fn reset_links_expire_and_requests_are_throttled(app: &TestApp) {
    app.add_user("alice").await;
    let mut browser = app.client();
    browser.request_password_reset("alice").await;
    let path = reset_path(app).await;
    app.clock.advance(60 * 60);
    assert_eq!(browser.get(&path).await.status, 404, "an hour old");
    app.clock.advance(1);
    for hostile in [
        "/password/reset/short",
        "/password/reset/..%2F..%2Fetc",
        "/password/reset/%00",
    ] {
        let reply = browser.get(hostile).await;
        assert_eq!(reply.status, 404, "{hostile}");
    }
    // Three emails an hour per account; the answer stays the same.
    for _ in 0..5 {
        assert_eq!(browser.request_password_reset("alice").await.status, 200);
    }
    assert_eq!(
        reset_emails(app).await.len(),
        4,
        "1 earlier + 3 in this hour"
    );
    // 20 requests an hour per address.
    let mut last = None;
    for _ in 0..20 {
        last = Some(browser.request_password_reset("nobody").await.status);
    }
    assert_eq!(last, Some(429));
}
both!(reset_links_expire_and_requests_are_throttled);

/// Two browsers submit the same link at once with different passwords: the
/// link is used up in the same transaction as the password, so exactly one
/// wins, and the loser's password was not written either.
async fn one_reset_link_sent_twice_at_once_sets_one_password(app: &TestApp) {
    app.add_user("alice").await;
    app.client().request_password_reset("alice").await;
    let path = reset_path(app).await;
    let mut first = app.client();
    let mut second = app.client();
    let csrf_first = first.get(&path).await.csrf_token().unwrap();
    let csrf_second = second.get(&path).await.csrf_token().unwrap();
    let (a, b) = (
        "first browser's new passphrase",
        "second browser's new passphrase",
    );
    let fields_a = [
        ("password", a),
        ("password_confirm", a),
        ("csrf_token", csrf_first.as_str()),
    ];
    let fields_b = [
        ("password", b),
        ("password_confirm", b),
        ("csrf_token", csrf_second.as_str()),
    ];
    let (reply_a, reply_b) = tokio::join!(
        first.post_form(&path, &fields_a),
        second.post_form(&path, &fields_b)
    );
    let won: Vec<bool> = [&reply_a, &reply_b]
        .iter()
        .map(|r| r.status == 303 && r.location() == Some("/login?done=password-reset"))
        .collect();
    assert_eq!(
        won.iter().filter(|w| **w).count(),
        1,
        "{} {}",
        reply_a.status,
        reply_b.status
    );
    let (winner, loser) = if won[0] { (a, b) } else { (b, a) };
    let loser_reply = if won[0] { &reply_b } else { &reply_a };
    assert_eq!(loser_reply.status, 404, "{}", loser_reply.body);
    assert_eq!(
        app.client().submit_password("alice", loser).await.status,
        401,
        "the losing password was not written"
    );
    assert_eq!(
        app.client()
            .submit_password("alice", winner)
            .await
            .location(),
        Some("/")
    );
    assert_eq!(
        app.client().submit_password("alice", PASSWORD).await.status,
        401
    );
}
both!(one_reset_link_sent_twice_at_once_sets_one_password);

/// Every reset link in the mail, oldest first.
async fn reset_paths(app: &TestApp) -> Vec<String> {
    reset_emails(app)
        .await
        .iter()
        .map(|email| {
            let start = email.text.find("/password/reset/").unwrap();
            let link = email.text[start..].split_whitespace().next().unwrap();
            link.to_owned()
        })
        .collect()
}

async fn one_reset_link_at_a_time(app: &TestApp) {
    let user = app.add_user("alice").await;
    let mut browser = app.client();
    browser.request_password_reset("alice").await;
    browser.request_password_reset("alice").await;
    let paths = reset_paths(app).await;
    assert_eq!(paths.len(), 2);
    assert_eq!(
        browser.get(&paths[0]).await.status,
        404,
        "a new link voids the older one"
    );
    assert_eq!(browser.get(&paths[1]).await.status, 200);

    // A password changed another way voids the link still out.
    app.app
        .login
        .set_password(&user, "set by the administrator", testkit::START)
        .await
        .unwrap();
    assert_eq!(browser.get(&paths[1]).await.status, 404);

    // Completing a reset voids the others too (asked for from two tabs,
    // the second's mail read first).
    app.clock.advance(3600);
    browser.request_password_reset("alice").await;
    let third = reset_paths(app).await.pop().unwrap();
    let reply = set_new_password(&mut browser, &third, NEW_PASSWORD).await;
    assert!(reply.status < 400, "{}", reply.body);
    assert_eq!(browser.get(&third).await.status, 404);
}

/// A strong password no test user has.
pub(crate) const NEW_PASSWORD: &str = "a brand new passphrase, clinic door";

/// Opens the reset link at `path` and sets `new` through its form.
pub(crate) async fn set_new_password(
    browser: &mut testkit::Client,
    path: &str,
    new: &str,
) -> testkit::Reply {
    let form = browser.get(path).await;
    let csrf = form.csrf_token().unwrap_or_default();
    browser
        .post_form(
            path,
            &[
                ("password", new),
                ("password_confirm", new),
                ("csrf_token", &csrf),
            ],
        )
        .await
}
both!(one_reset_link_at_a_time);

/// Timing: "Forgot password?" answers as fast for an unknown name as for a
/// real account (median of paired tries within 20 %): the lookup and the
/// email run after the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_request_takes_the_same_time_for_any_name() {
    let app = TestApp::start(testkit::Backend::Sqlite).await.unwrap();
    app.add_user("alice").await;
    let mut browser = app.client();
    let csrf = browser.get("/password/forgot").await.csrf_token().unwrap();
    let mut ratios = Vec::new();
    for i in 0..40 {
        // The address may ask 20 times an hour, the account 3 times.
        app.clock.advance(3600);
        let mut time = async |who: &str| {
            app.app.login.pending_work().settled().await;
            let started = std::time::Instant::now();
            let reply = browser
                .post_form(
                    "/password/forgot",
                    &[("username_or_email", who), ("csrf_token", &csrf)],
                )
                .await;
            assert_eq!(reply.status, 303, "the answer: on to the notice");
            started.elapsed()
        };
        let (known, unknown) = if i % 2 == 0 {
            let k = time("alice").await;
            (k, time(&format!("nobody{i}")).await)
        } else {
            let u = time(&format!("nobody{i}")).await;
            (time("alice").await, u)
        };
        ratios.push(unknown.as_secs_f64() / known.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let ratio = (ratios[19] + ratios[20]) / 2.0;
    eprintln!("reset request timing: median paired ratio unknown/known {ratio:.3}");
    assert!(
        (0.8..=1.2).contains(&ratio),
        "median paired ratio {ratio:.3}"
    );
    assert_eq!(
        reset_emails(&app).await.len(),
        40,
        "every real request mailed"
    );
    app.stop().await;
}

/// In demo mode the outbox page lists the reset email with its link, and
/// the link finishes the reset: nothing in the demo needs a mail server.
async fn the_demo_outbox_lists_emails_whose_links_finish_the_flow(backend: testkit::Backend) {
    let Some(app) = TestApp::start_demo(backend).await else {
        return;
    };
    app.add_user("alice").await;
    let mut browser = app.client();
    let empty = browser.get("/dev/outbox").await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("No emails yet"), "{}", empty.body);
    browser.request_password_reset("alice").await;
    app.mails().await;
    let outbox = browser.get("/dev/outbox").await;
    assert!(
        outbox.body.contains("To alice@clinic.example"),
        "{}",
        outbox.body
    );
    let link = outbox
        .body
        .split("<a href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|href| href.contains("/password/reset/"))
        .expect("the reset link is clickable")
        .to_owned();
    let path = link.trim_start_matches("http://127.0.0.1:8080").to_owned();
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200, "{link}");
    let new = "a fresh clinic passphrase";
    let done = set_new_password(&mut browser, &path, new).await;
    assert_eq!(
        done.location(),
        Some("/login?done=password-reset"),
        "{}",
        done.body
    );
    let mut again = app.client();
    assert_ne!(again.submit_password("alice", new).await.status, 401);
    app.stop().await;
}
both_backends!(the_demo_outbox_lists_emails_whose_links_finish_the_flow);
