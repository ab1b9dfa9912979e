//! The verification API over HTTP, through the Rust client crate and raw
//! requests: keys, practices, the create → enroll → verify story, SMS with
//! Idempotency-Key, lockout, recovery codes, devices, problems and limits.

use otp::{Algorithm, Digits, Period, Secret, Totp};
use testkit::{Backend, NowForTests as _, PASSWORD, TestApp};
use twofactor_client::{Client, Error, NewUser};

fn client(app: &TestApp, key: &str) -> Client {
    Client::new(&app.url(""), key).unwrap()
}

fn totp_from(secret: &str) -> Totp {
    Totp::new(
        Secret::from_base32(secret).unwrap(),
        Algorithm::Sha1,
        Digits::SIX,
        Period::DEFAULT,
    )
}

fn code_at(totp: &Totp, app: &TestApp, steps: i64) -> String {
    let at = app.clock.now_for_tests().saturating_add_signed(steps * 30);
    totp.generate(at).unwrap().as_str().to_owned()
}

fn new_user(email: &str, phone: Option<&str>, external: Option<&str>) -> NewUser {
    NewUser {
        email: email.into(),
        phone: phone.map(str::to_owned),
        external_id: external.map(str::to_owned),
    }
}

async fn create_enroll_verify_with_replay_and_audit(app: &TestApp) {
    let api = client(app, &app.api_key(None).await);
    let user = api
        .create_user(&new_user("jane@clinic.example", None, Some("emr-1")))
        .await
        .unwrap();
    assert_eq!(user.external_id.as_deref(), Some("emr-1"));
    assert!(!user.totp && !user.sms);
    assert_eq!(api.user(user.id).await.unwrap(), user);

    let offer = api.start_totp(user.id).await.unwrap();
    assert!(
        offer
            .otpauth_uri
            .starts_with("otpauth://totp/Test%20Clinic:api."),
        "{}",
        offer.otpauth_uri
    );
    assert!(offer.qr_svg.contains("<svg"));
    let phone = totp_from(&offer.secret);
    let wrong = api.confirm_totp(user.id, "000000").await.unwrap();
    assert!(!wrong.enrolled);
    let linked = api
        .confirm_totp(user.id, &code_at(&phone, app, 0))
        .await
        .unwrap();
    assert!(linked.enrolled);
    assert_eq!(linked.recovery_codes.as_ref().unwrap().len(), 10);
    assert!(api.user(user.id).await.unwrap().totp);

    // The confirming code is used; the next one verifies once.
    assert!(
        !api.verify(user.id, &code_at(&phone, app, 0))
            .await
            .unwrap()
            .valid
    );
    app.clock.advance(30);
    let next = code_at(&phone, app, 0);
    let check = api.verify(user.id, &next).await.unwrap();
    assert!(check.valid);
    assert_eq!(check.factor.as_deref(), Some("totp"));
    assert!(
        !api.verify(user.id, &next).await.unwrap().valid,
        "replay refused"
    );

    // A recovery code works once, and says so.
    let code = &linked.recovery_codes.unwrap()[0];
    let check = api.verify(user.id, code).await.unwrap();
    assert_eq!(check.factor.as_deref(), Some("recovery_code"));
    assert!(!api.verify(user.id, code).await.unwrap().valid);
    assert_eq!(api.user(user.id).await.unwrap().recovery_codes_left, 9);
    let fresh = api.recovery_codes(user.id).await.unwrap();
    assert_eq!(fresh.len(), 10);
    assert!(
        !api.verify(user.id, &linked_code_again(code))
            .await
            .unwrap()
            .valid
    );

    let events = app.store().recent_audit(50).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "totp_token" && e.outcome == "success" && e.detail == "via API")
    );
    assert!(events.iter().any(|e| e.kind == "totp_token"
        && e.outcome == "failure"
        && e.detail == "code already used"));
    assert!(
        events
            .iter()
            .any(|e| e.kind == "user_created" && e.detail.starts_with("by API key tfk_"))
    );

    // The caller's id is unique in the practice.
    let taken = api
        .create_user(&new_user("other@clinic.example", None, Some("emr-1")))
        .await
        .unwrap_err();
    assert_eq!(taken.kind(), Some("conflict"));

    api.delete_user(user.id).await.unwrap();
    assert_eq!(
        api.user(user.id).await.unwrap_err().kind(),
        Some("not-found")
    );
    assert_eq!(
        api.delete_user(user.id).await.unwrap_err().kind(),
        Some("not-found")
    );
}
both!(create_enroll_verify_with_replay_and_audit);

fn linked_code_again(code: &str) -> String {
    code.to_uppercase()
}

async fn keys_see_only_their_practice_and_bad_keys_get_one_answer(app: &TestApp) {
    let ours = client(app, &app.api_key(Some("North Clinic")).await);
    let theirs = client(app, &app.api_key(Some("South Clinic")).await);
    let user = ours
        .create_user(&new_user("a@north.example", Some("+12015550123"), None))
        .await
        .unwrap();
    let id = user.id;
    // Every operation on another practice's user is a 404, not data.
    let attempts: Vec<Result<(), Error>> = vec![
        theirs.user(id).await.map(drop),
        theirs.delete_user(id).await,
        theirs.start_totp(id).await.map(drop),
        theirs.confirm_totp(id, "123456").await.map(drop),
        theirs.send_sms(id, None).await.map(drop),
        theirs.verify(id, "123456").await.map(drop),
        theirs.recovery_codes(id).await.map(drop),
        theirs.devices(id).await.map(drop),
        theirs.revoke_device(id, 1).await,
    ];
    for (i, attempt) in attempts.into_iter().enumerate() {
        assert_eq!(
            attempt.unwrap_err().kind(),
            Some("not-found"),
            "operation {i}"
        );
    }
    assert!(ours.user(id).await.is_ok(), "still there");
    assert_eq!(
        app.sms_count(),
        0,
        "nothing was sent for the other practice"
    );

    // Missing, malformed, unknown and revoked keys: the same 401.
    let key = app.api_key(Some("North Clinic")).await;
    let prefix: String = key.chars().take(12).collect();
    assert!(app.store().revoke_api_key(&prefix, 0).await.unwrap());
    let mut answers = Vec::new();
    for header in [
        None,
        Some("Bearer".to_owned()),
        Some("Basic dXNlcjpwYXNz".to_owned()),
        Some("Bearer tfk_wrong".to_owned()),
        Some(format!("Bearer {key}")),
        Some(format!("Bearer {key}\u{0}")),
    ] {
        let mut request = reqwest::Client::new().get(app.url(&format!("/api/v1/users/{id}")));
        if let Some(value) = &header {
            request = request.header("authorization", value.replace('\u{0}', ""));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{header:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        answers.push(response.text().await.unwrap());
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "no hint which: {answers:?}");
}
both!(keys_see_only_their_practice_and_bad_keys_get_one_answer);

async fn sms_tokens_honour_idempotency_and_the_limits(app: &TestApp) {
    let api = client(app, &app.api_key(None).await);
    let user = api
        .create_user(&new_user("n@clinic.example", Some("+12015550123"), None))
        .await
        .unwrap();
    let first = api.send_sms(user.id, Some("order-1")).await.unwrap();
    assert_eq!(first.status, "sent");
    assert_eq!(first.sent_to, "•••• •••• 0123");
    let again = api.send_sms(user.id, Some("order-1")).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(
        app.sms_count(),
        1,
        "a retry with the same key sends nothing"
    );
    let code = app.last_sms_code("+12015550123").unwrap();

    // Another text within 30 s: 429 with Retry-After.
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/users/{}/sms", user.id)))
        .bearer_auth(app.api_key(None).await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(
        response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            <= 30
    );

    let check = api.verify(user.id, &code).await.unwrap();
    assert_eq!(check.factor.as_deref(), Some("sms"));
    assert!(
        !api.verify(user.id, &code).await.unwrap().valid,
        "single use"
    );

    // The key of another request is refused; a user without a phone has no SMS.
    let other = api
        .create_user(&new_user("o@clinic.example", None, None))
        .await
        .unwrap();
    assert_eq!(
        api.send_sms(other.id, Some("order-1"))
            .await
            .unwrap_err()
            .kind(),
        Some("conflict")
    );
    assert_eq!(
        api.send_sms(other.id, None).await.unwrap_err().kind(),
        Some("no-factor")
    );
    assert_eq!(
        api.verify(other.id, "123456").await.unwrap_err().kind(),
        Some("no-factor")
    );
}
both!(sms_tokens_honour_idempotency_and_the_limits);

async fn wrong_tokens_lock_like_the_login_page(app: &TestApp) {
    let (user, phone) = app.add_user_with_totp("alice").await;
    let api = client(app, &app.api_key(None).await);
    for _ in 0..9 {
        assert!(!api.verify(user.id.0, "000000").await.unwrap().valid);
    }
    let locked = api.verify(user.id.0, "000000").await.unwrap();
    assert!(locked.locked_until.is_some(), "{locked:?}");
    let right = app.code(&phone, 0);
    let refused = api.verify(user.id.0, &right).await.unwrap();
    assert!(
        !refused.valid && refused.locked_until.is_some(),
        "locked means locked"
    );
    // The same lock holds on the login page.
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    let page = browser.submit_token(&right).await;
    assert_eq!(page.status, 429, "{}", page.body);
}
both!(wrong_tokens_lock_like_the_login_page);

async fn devices_are_listed_and_revoked(app: &TestApp) {
    let (user, phone) = app.add_user_with_totp("alice").await;
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    browser.submit_token_remember(&app.code(&phone, 0)).await;
    let api = client(app, &app.api_key(None).await);
    let devices = api.devices(user.id.0).await.unwrap();
    assert_eq!(devices.len(), 1);
    api.revoke_device(user.id.0, devices[0].id).await.unwrap();
    assert!(api.devices(user.id.0).await.unwrap().is_empty());
    assert_eq!(
        api.revoke_device(user.id.0, devices[0].id)
            .await
            .unwrap_err()
            .kind(),
        Some("not-found")
    );
}
both!(devices_are_listed_and_revoked);

async fn hostile_and_malformed_requests_get_problems(app: &TestApp) {
    let key = app.api_key(None).await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: &'static str, content_type: &'static str| {
        http.post(app.url(path))
            .bearer_auth(&key)
            .header("content-type", content_type)
            .body(body)
    };
    for (path, body, content_type, status, kind) in [
        ("/api/v1/users", "{", "application/json", 400, "bad-request"),
        (
            "/api/v1/users",
            "{\"email\": 5}",
            "application/json",
            400,
            "bad-request",
        ),
        (
            "/api/v1/users",
            "{\"email\":\"a@b.co\",\"admin\":true}",
            "application/json",
            400,
            "bad-request",
        ),
        (
            "/api/v1/users",
            "email=a@b.co",
            "application/x-www-form-urlencoded",
            400,
            "bad-request",
        ),
        (
            "/api/v1/users",
            "{\"email\":\"a@b.co'; DROP TABLE users;--\"}",
            "application/json",
            422,
            "invalid-field",
        ),
        (
            "/api/v1/users",
            "{\"email\":\"<script>@x.co\"}",
            "application/json",
            422,
            "invalid-field",
        ),
        (
            "/api/v1/users",
            "{\"email\":\"a@b.co\",\"phone\":\"555-0123\"}",
            "application/json",
            422,
            "invalid-field",
        ),
        (
            "/api/v1/users",
            "{\"email\":\"a@b.co\",\"external_id\":\"a\\u0000b\"}",
            "application/json",
            422,
            "invalid-field",
        ),
        ("/api/v1/users/abc", "", "application/json", 405, ""),
        (
            "/api/v1/users/-1/verify",
            "{\"token\":\"1\"}",
            "application/json",
            404,
            "not-found",
        ),
        (
            "/api/v1/users/99999999999999999999/verify",
            "{\"token\":\"1\"}",
            "application/json",
            404,
            "not-found",
        ),
        ("/api/v1/nowhere", "", "application/json", 404, "not-found"),
    ] {
        let response = post(path, body, content_type).send().await.unwrap();
        assert_eq!(response.status(), status, "{path} {body}");
        if !kind.is_empty() {
            let problem: serde_json::Value = response.json().await.unwrap();
            assert_eq!(
                problem["type"],
                format!("urn:twofactor:problem:{kind}"),
                "{path} {body}"
            );
            assert_eq!(problem["status"], status);
        }
    }
    let long = format!("{{\"token\":\"{}\"}}", "9".repeat(65));
    let user = client(app, &key)
        .create_user(&new_user("z@clinic.example", None, None))
        .await
        .unwrap();
    let response = http
        .post(app.url(&format!("/api/v1/users/{}/verify", user.id)))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(long)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let big = "x".repeat(64 * 1024);
    let response = http
        .post(app.url("/api/v1/users"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
}
both!(hostile_and_malformed_requests_get_problems);

async fn the_rate_limit_answers_429_with_retry_after(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |config| config.api_requests_per_minute = 3).await
    else {
        return;
    };
    let key = app.api_key(None).await;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = http
            .get(app.url("/api/v1/users/1"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let wait: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait));
            let problem: serde_json::Value = response.json().await.unwrap();
            assert_eq!(problem["type"], "urn:twofactor:problem:rate-limited");
        }
    }
    assert_eq!(statuses, vec![404, 404, 404, 429]);
    app.clock.advance(60);
    let response = http
        .get(app.url("/api/v1/users/1"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "a new minute");
    app.stop().await;
}
both_backends!(the_rate_limit_answers_429_with_retry_after);

async fn the_openapi_document_describes_every_path(app: &TestApp) {
    let spec: serde_json::Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/users/{id}/totp",
        "/api/v1/users/{id}/totp/confirm",
        "/api/v1/users/{id}/sms",
        "/api/v1/users/{id}/verify",
        "/api/v1/users/{id}/recovery-codes",
        "/api/v1/users/{id}/devices",
        "/api/v1/users/{id}/devices/{device}",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(spec["components"]["schemas"]["CreateUser"]["example"].is_object());
}
both!(the_openapi_document_describes_every_path);

/// The verification hot path writes in as few round trips as the backend
/// allows; what it writes must stay exact: one audit row per check (with
/// its practice), failures counted, cleared on success, one winner among
/// parallel uses of a code.
async fn the_hot_path_audits_counts_and_clears_exactly(app: &TestApp) {
    let (user, phone) = app.add_user_with_totp("alice").await;
    let api_key = app.api_key(None).await;
    let api = client(app, &api_key);
    let store = app.store();
    let key = domain::UserLimit::SecondFactor.of(user.id);
    let events = |kind: &'static str, outcome: &'static str| async move {
        let filter = domain::admin::AuditFilter {
            practice: Some(domain::PracticeId(1)),
            user: Some(user.id),
            kind: Some(kind.into()),
            outcome: Some(outcome.into()),
            since: 0,
            until: u64::MAX,
        };
        store
            .audit_search(&filter, 0, false, 1_000)
            .await
            .unwrap()
            .len()
    };
    for _ in 0..3 {
        assert!(!api.verify(user.id.0, "000000").await.unwrap().valid);
    }
    assert_eq!(store.failures_since(&key, 0).await.unwrap(), 3);
    assert_eq!(events("totp_token", "failure").await, 3);

    let right = app.code(&phone, 0);
    assert!(api.verify(user.id.0, &right).await.unwrap().valid);
    assert_eq!(store.failures_since(&key, 0).await.unwrap(), 0, "cleared");
    assert_eq!(events("totp_token", "success").await, 1);
    assert!(
        !api.verify(user.id.0, &right).await.unwrap().valid,
        "replay"
    );
    assert_eq!(events("totp_token", "success").await, 1);
    assert_eq!(events("totp_token", "failure").await, 4);
    assert_eq!(store.failures_since(&key, 0).await.unwrap(), 1);

    // Eight parallel uses of the next code: one wins, one success row.
    app.clock.advance(30);
    let next = app.code(&phone, 0);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let api = client(app, &api_key);
        let next = next.clone();
        let id = user.id.0;
        tasks.push(tokio::spawn(async move {
            api.verify(id, &next).await.unwrap().valid
        }));
    }
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert_eq!(events("totp_token", "success").await, 2);
    assert_eq!(events("totp_token", "failure").await, 11);
    // The winner cleared what was there before; the seven losers count.
    let left = store.failures_since(&key, 0).await.unwrap();
    assert!(left <= 7, "{left}");

    // `/metrics` shows what the hot path's batch lanes did: all 13 checks
    // went through each lane of this backend, in at most 13 batches each.
    let metrics = app.metrics().await.body;
    let value = |family: &str, lane: &str| -> f64 {
        let prefix = format!("{family}{{lane=\"{lane}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {prefix} in\n{metrics}"))
            .parse()
            .unwrap()
    };
    let lanes: &[&str] = match app.backend() {
        Backend::Sqlite => &["sqlite_write"],
        Backend::Postgres => &["pg_read", "pg_write"],
    };
    for lane in lanes {
        let (batches, rows) = (
            value("twofactor_batches_total", lane),
            value("twofactor_batch_rows_total", lane),
        );
        assert!(rows >= 13.0, "{lane}: {rows} rows");
        assert!((1.0..=rows).contains(&batches), "{lane}: {batches} batches");
        assert!(value("twofactor_batch_busy_seconds_total", lane) > 0.0);
        assert!(value("twofactor_batch_workers", lane) >= 1.0);
    }
    let other = if app.backend() == Backend::Sqlite {
        "pg_write"
    } else {
        "sqlite_write"
    };
    assert!(!metrics.contains(&format!("lane=\"{other}\"")), "{metrics}");
}
both!(the_hot_path_audits_counts_and_clears_exactly);

/// A passkey as stored: the API reads and removes rows, it never checks a
/// signature, so the record need not be a real credential here (the
/// browser suite registers real ones).
async fn store_passkey(app: &TestApp, user: domain::UserId, name: &str) {
    let stored = domain::passkey::StoredPasskey {
        id: 0,
        user_id: user,
        credential_id: format!("cred-{name}"),
        name: name.into(),
        record: "{}".into(),
        backed_up: true,
        created_at: app.clock.now_for_tests(),
        last_used_at: None,
    };
    app.store().add_passkey(&stored, 10).await.unwrap().unwrap();
}

async fn passkeys_are_counted_listed_and_removed(app: &TestApp) {
    let api = client(app, &app.api_key(None).await);
    let created = api
        .create_user(&new_user("kim@clinic.example", None, Some("emr-7")))
        .await
        .unwrap();
    assert_eq!(created.passkeys, 0);
    let id = domain::UserId(created.id);
    store_passkey(app, id, "Office key").await;
    assert_eq!(api.user(created.id).await.unwrap().passkeys, 1);
    let listed = api.passkeys(created.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "Office key");
    assert!(listed[0].backed_up && listed[0].last_used_at.is_none());
    api.remove_passkey(created.id, listed[0].id).await.unwrap();
    assert_eq!(api.user(created.id).await.unwrap().passkeys, 0);
    assert!(api.passkeys(created.id).await.unwrap().is_empty());
    let again = api
        .remove_passkey(created.id, listed[0].id)
        .await
        .unwrap_err();
    assert_eq!(again.kind(), Some("not-found"));
    let trail = app.store().recent_audit(5).await.unwrap();
    let removed = trail
        .iter()
        .find(|e| e.kind == "passkey_removed")
        .expect("audited");
    assert!(removed.detail.contains("by API key"), "{}", removed.detail);

    // Hostile ids: a clear 404, nothing removed.
    store_passkey(app, id, "Spare").await;
    let key = app.api_key(None).await;
    let http = reqwest::Client::new();
    for bad in [
        "x",
        "0",
        "-1",
        "1.5",
        "99999999999999999999",
        "1%20OR%201=1",
    ] {
        let reply = http
            .delete(app.url(&format!("/api/v1/users/{}/passkeys/{bad}", created.id)))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 404, "{bad}");
    }
    assert_eq!(api.passkeys(created.id).await.unwrap().len(), 1);
    // Another user's passkey id under this user: not found.
    let other = api
        .create_user(&new_user("lee@clinic.example", None, None))
        .await
        .unwrap();
    let spare = api.passkeys(created.id).await.unwrap()[0].id;
    let foreign = api.remove_passkey(other.id, spare).await.unwrap_err();
    assert_eq!(foreign.kind(), Some("not-found"));
    assert_eq!(api.passkeys(created.id).await.unwrap().len(), 1);
    // A staff member who logs in with a password is not the key's to touch.
    let staff = app.add_user("nurse").await;
    store_passkey(app, staff.id, "Nurse key").await;
    let refused = api.passkeys(staff.id.0).await.unwrap_err();
    assert_eq!(refused.kind(), Some("forbidden"), "{refused:?}");
}
both!(passkeys_are_counted_listed_and_removed);
