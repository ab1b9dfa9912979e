//! Replay, guessing and flooding: every rule of the second factor and the
//! password throttle, seen over HTTP.

use testkit::{PASSWORD, TestApp};

async fn a_code_works_once_and_older_codes_after_it_never(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut first = app.client();
    first.submit_password("alice", PASSWORD).await;
    assert_eq!(first.submit_token(&app.code(&phone, 0)).await.status, 303);

    // Same code, same window, new login: refused as used.
    let mut second = app.client();
    second.submit_password("alice", PASSWORD).await;
    let reply = second.submit_token(&app.code(&phone, 0)).await;
    assert_eq!(reply.status, 401);
    assert!(reply.body.contains("already used"), "{}", reply.body);
    // The previous step's code is older than the one used: refused too.
    let reply = second.submit_token(&app.code(&phone, -1)).await;
    assert_eq!(reply.status, 401);
    // The next step's code (phone slightly ahead) is accepted once.
    assert_eq!(second.submit_token(&app.code(&phone, 1)).await.status, 303);
}
both!(a_code_works_once_and_older_codes_after_it_never);

async fn ten_parallel_submissions_of_one_code_give_one_success(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let code = app.code(&phone, 0);
    let mut browsers = Vec::new();
    for _ in 0..10 {
        let mut browser = app.client();
        assert_eq!(browser.submit_password("alice", PASSWORD).await.status, 303);
        let csrf = browser.get("/login/2fa").await.csrf_token().unwrap();
        browsers.push((browser, csrf));
    }
    let tasks: Vec<_> = browsers
        .into_iter()
        .map(|(mut browser, csrf)| {
            let code = code.clone();
            tokio::spawn(async move {
                browser
                    .post_form("/login/2fa", &[("token", &code), ("csrf_token", &csrf)])
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        9,
        "{statuses:?}"
    );
}
both!(ten_parallel_submissions_of_one_code_give_one_success);

async fn a_code_used_on_one_server_is_refused_on_another(app: &TestApp) {
    let other = app.second_instance().await;
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut a = app.client();
    let mut b = other.client();
    a.submit_password("alice", PASSWORD).await;
    b.submit_password("alice", PASSWORD).await;
    assert_eq!(a.submit_token(&app.code(&phone, 0)).await.status, 303);
    let reply = b.submit_token(&app.code(&phone, 0)).await;
    assert_eq!(reply.status, 401);
    assert!(reply.body.contains("already used"));
    // Sessions live in the database: a login made on one server works on the other.
    let cookie = a.cookie("tf_session").unwrap().to_owned();
    let mut roaming = other.client();
    roaming.set_cookie("tf_session", &cookie);
    assert_eq!(roaming.get("/").await.status, 200);
    other.stop().await;
}
both!(a_code_used_on_one_server_is_refused_on_another);

async fn five_wrong_tokens_end_the_half_login(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let wrong = wrong_code(&app.code(&phone, 0));
    for left in (1..=4).rev() {
        let reply = browser.submit_token(&wrong).await;
        assert_eq!(reply.status, 401);
        assert!(
            reply.body.contains(&if left == 1 {
                "1 attempt left".to_owned()
            } else {
                format!("{left} attempts left")
            }),
            "{}",
            reply.body
        );
        assert!(reply.body.contains("not correct"));
    }
    let reply = browser.submit_token(&wrong).await;
    assert_eq!(reply.status, 401);
    assert!(reply.body.contains("Log In"), "back on the login page");
    assert!(
        reply.body.contains("Too many wrong codes ended this login"),
        "names why: {}",
        reply.body
    );
    // Even the right code does not help now: the half-login is gone.
    let page = browser.get("/login/2fa").await;
    assert_eq!(page.status, 303);
}
both!(five_wrong_tokens_end_the_half_login);

async fn a_missing_token_counts_as_a_failure(app: &TestApp) {
    app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let reply = browser.submit_token("").await;
    assert_eq!(reply.status, 401);
    assert!(reply.body.contains("4 attempts left"), "{}", reply.body);
    let csrf = browser.csrf();
    let reply = browser
        .post_form("/login/2fa", &[("csrf_token", &csrf)])
        .await;
    assert!(reply.body.contains("3 attempts left"), "{}", reply.body);
}
both!(a_missing_token_counts_as_a_failure);

async fn ten_failures_lock_the_second_factor_until_unlock(app: &TestApp) {
    let (user, phone) = app.add_user_with_totp("alice").await;
    let wrong = wrong_code(&app.code(&phone, 0));
    let mut last = None;
    for _ in 0..2 {
        let mut browser = app.client();
        browser.submit_password("alice", PASSWORD).await;
        for _ in 0..5 {
            last = Some(browser.submit_token(&wrong).await);
        }
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429, "{}", last.body);
    assert!(last.body.contains("locked for 15 minutes"), "{}", last.body);

    // While locked even the right code is refused, and tries do not extend it.
    app.clock.advance(14 * 60);
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let reply = browser.submit_token(&app.code(&phone, 0)).await;
    assert_eq!(reply.status, 429);
    assert!(reply.body.contains("locked for 1 minute"), "{}", reply.body);

    // Unlock (what `twofactor user unlock` runs) clears it at once.
    app.app.login.unlock(&user, testkit::START).await.unwrap();
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    assert_eq!(browser.submit_token(&app.code(&phone, 0)).await.status, 303);

    let events = app.store().recent_audit(100).await.unwrap();
    let lock = events.iter().find(|e| e.kind == "lock").unwrap();
    assert_eq!(
        lock.ip, "127.0.0.1",
        "the lock names the request that caused it"
    );
    assert!(lock.user_agent.contains("testkit"));
    assert!(events.iter().any(|e| e.kind == "unlock"));
    assert!(
        events
            .iter()
            .any(|e| e.kind == "totp_token" && e.outcome == "blocked")
    );
}
both!(ten_failures_lock_the_second_factor_until_unlock);

async fn a_repeated_lock_lasts_twice_as_long(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let wrong = wrong_code(&app.code(&phone, 0));
    let lock_once = async |app: &TestApp| {
        let mut last = None;
        for _ in 0..2 {
            let mut browser = app.client();
            browser.submit_password("alice", PASSWORD).await;
            for _ in 0..5 {
                last = Some(browser.submit_token(&wrong).await);
            }
        }
        last.unwrap()
    };
    assert!(lock_once(app).await.body.contains("locked for 15 minutes"));
    app.clock.advance(15 * 60 + 1);
    assert!(lock_once(app).await.body.contains("locked for 30 minutes"));
}
both!(a_repeated_lock_lasts_twice_as_long);

async fn a_success_resets_the_failure_count(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let wrong = wrong_code(&app.code(&phone, 0));
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    for _ in 0..4 {
        browser.submit_token(&wrong).await;
    }
    assert_eq!(browser.submit_token(&app.code(&phone, 0)).await.status, 303);
    app.clock.advance(30);
    // Six more failures would lock only if the four before still counted.
    for _ in 0..2 {
        let mut browser = app.client();
        browser.submit_password("alice", PASSWORD).await;
        for _ in 0..3 {
            assert_eq!(browser.submit_token(&wrong).await.status, 401);
        }
    }
}
both!(a_success_resets_the_failure_count);

async fn a_drifting_phone_clock_is_named(app: &TestApp) {
    let (_, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    // The phone runs 4 minutes slow: its code is 8 steps behind.
    let reply = browser.submit_token(&app.code(&phone, -8)).await;
    assert_eq!(reply.status, 401);
    assert!(
        reply.body.contains("about 4 minutes behind"),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("4 attempts left"),
        "it still counts as a failure"
    );
    // A code of 3 minutes ahead is not named: that would tell a guesser
    // it holds a code that works later. It is used up instead.
    let ahead = app.code(&phone, 6);
    let reply = browser.submit_token(&ahead).await;
    assert_eq!(reply.status, 401);
    assert!(!reply.body.contains("ahead"), "{}", reply.body);
    assert!(!reply.body.contains("behind"), "{}", reply.body);
    let wrong = browser.submit_token(&wrong_code(&ahead)).await;
    assert_eq!(
        crate::page_text(&reply),
        crate::page_text(&wrong).replace("2 attempts", "3 attempts"),
        "a future code reads like any wrong code"
    );
    // Three minutes later that code is the current one, and refused.
    app.clock.advance(6 * 30);
    let mut later = app.client();
    later.submit_password("alice", PASSWORD).await;
    let reply = later.submit_token(&ahead).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert!(reply.body.contains("already used"), "{}", reply.body);
}
both!(a_drifting_phone_clock_is_named);

async fn a_phone_drifting_further_ahead_is_followed_and_the_true_code_still_works(app: &TestApp) {
    let (user, phone) = app.add_user_with_totp("alice").await;
    for ahead in 1..=3 {
        app.clock.advance(60);
        let mut browser = app.client();
        browser.submit_password("alice", PASSWORD).await;
        let reply = browser.submit_token(&app.code(&phone, ahead)).await;
        assert_eq!(reply.status, 303, "+{ahead}: {}", reply.body);
    }
    let factor = app.store().totp(user.id).await.unwrap().unwrap();
    assert_eq!(factor.clock_offset_steps, 2, "learned up to the limit");
    // The phone's clock is corrected: the true time's code works (once the
    // step last used, three ahead, has passed: a code works once, in order).
    app.clock.advance(5 * 60);
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let reply = browser.submit_token(&app.code(&phone, 0)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
}
both!(a_phone_drifting_further_ahead_is_followed_and_the_true_code_still_works);

async fn unknown_users_get_the_same_answer_as_wrong_passwords(app: &TestApp) {
    app.add_user("alice").await;
    let mut browser = app.client();
    let wrong = browser.submit_password("alice", "not the password").await;
    let unknown = browser.submit_password("nobody", "not the password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, wrong.status);
    let strip = |body: &str| body.replace("alice", "").replace("nobody", "");
    let csrf = |r: &testkit::Reply| r.csrf_token().unwrap_or_default();
    assert_eq!(
        strip(&wrong.body).replace(&csrf(&wrong), ""),
        strip(&unknown.body).replace(&csrf(&unknown), "")
    );
}
both!(unknown_users_get_the_same_answer_as_wrong_passwords);

async fn password_guessing_is_throttled_per_account(app: &TestApp) {
    app.add_user("alice").await;
    let mut browser = app.client();
    for _ in 0..10 {
        assert_eq!(browser.submit_password("alice", "guess").await.status, 401);
    }
    // Locked now: even the right password is refused, with a clear message.
    let reply = browser.submit_password("alice", PASSWORD).await;
    assert_eq!(reply.status, 429);
    assert!(reply.body.contains("Too many failed attempts"));
    app.clock.advance(15 * 60 + 1);
    assert_eq!(browser.submit_password("alice", PASSWORD).await.status, 303);
}
both!(password_guessing_is_throttled_per_account);

/// The same number of digits, certainly not the code.
pub fn wrong_code(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c == '9' {
                '0'
            } else {
                char::from(c as u8 + 1)
            }
        })
        .collect()
}

/// Timing: an unknown username takes as long as a wrong password (median of
/// 50 tries each, within 20 %). Medians over many tries and a generous bound,
/// as the one allowed timing assertion: a security property about time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_usernames_take_the_same_time_as_wrong_passwords() {
    let app = TestApp::start(testkit::Backend::Sqlite).await.unwrap();
    app.add_user("alice").await;
    let mut browser = app.client();
    let csrf = browser.get("/login").await.csrf_token().unwrap();
    let mut time = async |username: &str| {
        let started = std::time::Instant::now();
        let reply = browser
            .post_form(
                "/login",
                &[
                    ("username", username),
                    ("password", "wrong"),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(reply.status, 401);
        started.elapsed()
    };
    // Paired design: each try of a known name is measured right next to a
    // try of an unknown one (alternating which goes first), and the median
    // of the per-pair ratios is compared. Bursts of load from tests running
    // in parallel hit both halves of a pair alike and cancel out.
    let (mut known, mut unknown, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..50 {
        // The IP throttle allows 50 failures per window: move the clock on.
        app.clock.advance(60);
        let other = format!("nobody{i}");
        let (k, u) = if i % 2 == 0 {
            let k = time("alice").await;
            (k, time(&other).await)
        } else {
            let u = time(&other).await;
            (time("alice").await, u)
        };
        known.push(k);
        unknown.push(u);
        ratios.push(u.as_secs_f64() / k.as_secs_f64());
        if i % 9 == 8 {
            app.app
                .login
                .unlock(&app.app.user("alice").await.unwrap(), 0)
                .await
                .unwrap();
        }
    }
    known.sort();
    unknown.sort();
    ratios.sort_by(f64::total_cmp);
    let (k, u) = (known[25].as_secs_f64(), unknown[25].as_secs_f64());
    let ratio = (ratios[24] + ratios[25]) / 2.0;
    eprintln!("timing: median known {k:.4}s unknown {u:.4}s, median paired ratio {ratio:.3}");
    assert!(
        (0.8..=1.2).contains(&ratio),
        "median known {k:.4}s unknown {u:.4}s, median paired ratio {ratio:.3}"
    );
    app.stop().await;
}

async fn a_phone_that_runs_ahead_is_learned(app: &TestApp) {
    let (user, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    // One step ahead: inside the ±1 window; the offset is remembered.
    assert_eq!(browser.submit_token(&app.code(&phone, 1)).await.status, 303);
    let factor = app.store().totp(user.id).await.unwrap().unwrap();
    assert_eq!(factor.clock_offset_steps, 1);
    // Next login the phone has drifted to two steps ahead: outside a plain
    // ±1 window, accepted because the window now follows this phone.
    app.clock.advance(60);
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    assert_eq!(browser.submit_token(&app.code(&phone, 2)).await.status, 303);
}
both!(a_phone_that_runs_ahead_is_learned);

/// Checks passwords as the server does, and while it hashes, has another
/// request lock the account or use up the address's failures: what the
/// password step read before the hash is then out of date.
struct MeanwhileHasher {
    store: std::sync::Arc<dyn domain::Store>,
    meanwhile: Meanwhile,
}

#[derive(Clone, Copy)]
enum Meanwhile {
    Nothing,
    Lock(domain::UserId),
    /// Failures from the test's address, at this time.
    Throttle(u64),
}

#[async_trait::async_trait]
impl domain::PasswordHasher for MeanwhileHasher {
    async fn hash(&self, password: String) -> Result<String, domain::DomainError> {
        domain::password::hash(&password)
    }

    async fn verify(&self, phc: Option<String>, password: String) -> bool {
        let ok = phc.is_some_and(|phc| domain::password::verify(&phc, &password));
        match self.meanwhile {
            Meanwhile::Nothing => {}
            Meanwhile::Lock(user) => {
                let lock = domain::LockState {
                    locked_until: u64::MAX / 2,
                    lock_count: 1,
                };
                let key = domain::UserLimit::Password.of(user);
                self.store.set_lock(&key, lock).await.unwrap();
            }
            Meanwhile::Throttle(at) => {
                // The policy's limit is 50 in the window.
                for _ in 0..50 {
                    self.store
                        .record_failure(&domain::LimitKey::from_stored("pw:ip:127.0.0.1"), at)
                        .await
                        .unwrap();
                }
            }
        }
        ok
    }
}

/// A lock that lands while a right password is hashed still stops that
/// login: the half login is written only if they still allow it
/// at its commit (the step read them before the hash).
async fn a_lock_set_during_the_hash_stops_the_login(app: &TestApp) {
    use domain::PasswordOutcome;
    let (user, _) = app.add_user_with_totp("meanwhile").await;
    let store: std::sync::Arc<dyn domain::Store> = std::sync::Arc::new(app.app.store.clone());
    let ctx = domain::RequestContext {
        ip: "127.0.0.1".into(),
        user_agent: "test".into(),
    };
    let now = domain::Clock::now(&*app.clock);
    // A right password, with `meanwhile` during its hash: the login goes on
    // to the second factor, or is throttled.
    let log_in = async |meanwhile| {
        let login = app
            .app
            .login
            .clone()
            .with_hasher(std::sync::Arc::new(MeanwhileHasher {
                store: store.clone(),
                meanwhile,
            }));
        match login
            .submit_password("meanwhile", PASSWORD, None, &ctx, now)
            .await
            .unwrap()
        {
            PasswordOutcome::SecondFactor { .. } => "second factor",
            PasswordOutcome::Throttled { .. } => "throttled",
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(log_in(Meanwhile::Nothing).await, "second factor");
    let trail = store.recent_audit(1).await.unwrap();
    assert_eq!(log_in(Meanwhile::Lock(user.id)).await, "throttled");
    let after = store.recent_audit(2).await.unwrap();
    assert_eq!(after.get(1), trail.first(), "one event: {after:?}");
    assert_eq!(after[0].detail, "password attempts locked");
    store
        .clear_locks(&domain::UserLimit::Password.of(user.id))
        .await
        .unwrap();

    // The address's failures pace it before the hash; once the hash runs
    // they no longer matter (an address is slowed, never refused).
    assert_eq!(log_in(Meanwhile::Throttle(now)).await, "second factor");
}
both!(a_lock_set_during_the_hash_stops_the_login);

/// A login's code step on the instance that did its password step decides
/// on what that step read (kept in memory, no read of its own); whatever
/// changed between the two steps still counts: a lock, a disabled account,
/// an ended session, a replaced authenticator, a code used by another
/// login. Each is what the code step would answer after reading afresh.
async fn what_changes_between_the_steps_counts_for_a_kept_login(app: &TestApp) {
    use domain::{LockState, PasswordOutcome, TokenOutcome};
    let (user, phone) = app.add_user_with_totp("between").await;
    let login = &app.app.login;
    let store = app.store();
    let ctx = domain::RequestContext {
        ip: "127.0.0.1".into(),
        user_agent: "test".into(),
    };
    let now = || domain::Clock::now(&*app.clock);
    let half = async || match login
        .submit_password("between", PASSWORD, None, &ctx, now())
        .await
        .unwrap()
    {
        PasswordOutcome::SecondFactor { session_token } => session_token,
        other => panic!("{other:?}"),
    };
    let submit = async |token: &str, code: &str| {
        login
            .submit_token(token, code, false, &ctx, now())
            .await
            .unwrap()
    };
    let lock_key = domain::UserLimit::SecondFactor.of(user.id);
    // The outcome of `submit` matches `pattern`.
    macro_rules! expect {
        ($submit:expr, $pattern:pat) => {{
            let outcome = $submit;
            assert!(matches!(outcome, $pattern), "{outcome:?}");
        }};
    }

    // Locked between the steps: the right code is refused as locked.
    let token = half().await;
    let lock = LockState {
        locked_until: now() + 60,
        lock_count: 1,
    };
    store.set_lock(&lock_key, lock).await.unwrap();
    expect!(
        submit(&token, &app.code(&phone, 0)).await,
        TokenOutcome::Locked { .. }
    );
    store.clear_locks(&lock_key).await.unwrap();

    // Disabled between the steps: the login is over.
    let token = half().await;
    store.set_user_disabled(user.id, true).await.unwrap();
    expect!(
        submit(&token, &app.code(&phone, 0)).await,
        TokenOutcome::SessionEnded
    );
    store.set_user_disabled(user.id, false).await.unwrap();

    // Its pending session ended between the steps (signed out
    // everywhere): over too.
    let token = half().await;
    store
        .delete_session(&domain::token::digest(&token))
        .await
        .unwrap();
    expect!(
        submit(&token, &app.code(&phone, 0)).await,
        TokenOutcome::SessionEnded
    );

    // The authenticator replaced between the steps: the old phone's code
    // is wrong, the new one's right.
    let token = half().await;
    let seed = otp::Secret::generate(otp::Algorithm::Sha1).unwrap();
    let factor = domain::TotpFactor {
        user_id: user.id,
        key_id: login.key_id().to_owned(),
        sealed_secret: login.seal_totp_seed(user.id, &seed).unwrap(),
        algorithm: otp::Algorithm::Sha1,
        digits: otp::Digits::SIX,
        period: otp::Period::DEFAULT,
        last_step: None,
        clock_offset_steps: 0,
    };
    store.set_totp(&factor, now()).await.unwrap();
    let new_phone = otp::Totp::new(
        seed,
        otp::Algorithm::Sha1,
        otp::Digits::SIX,
        otp::Period::DEFAULT,
    );
    expect!(
        submit(&token, &app.code(&phone, 0)).await,
        TokenOutcome::Wrong { reused: false, .. }
    );
    expect!(
        submit(&token, &app.code(&new_phone, 0)).await,
        TokenOutcome::Accepted { .. }
    );

    // A day later (the clock moved on, a fresh step)...
    app.clock.advance(24 * 3600);
    // The code was used by another login between the steps: refused as
    // used, and the next step's code still works.
    let (first, second) = (half().await, half().await);
    expect!(
        submit(&first, &app.code(&new_phone, 0)).await,
        TokenOutcome::Accepted { .. }
    );
    expect!(
        submit(&second, &app.code(&new_phone, 0)).await,
        TokenOutcome::Wrong { reused: true, .. }
    );
    expect!(
        submit(&second, &app.code(&new_phone, 1)).await,
        TokenOutcome::Accepted { .. }
    );
}
both!(what_changes_between_the_steps_counts_for_a_kept_login);
