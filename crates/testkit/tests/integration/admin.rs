//! Practice administration: `/admin/staff`, `/admin/policy`, `/admin/audit`
//! and its export, invitations and emergency access.

use domain::{AuditEvent, Role, User};
use testkit::{Client, PASSWORD, TestApp};

/// Runs a staff action with the administrator's password.
/// The page the browser shows after: a success redirects to the user's
/// page, which says what was done.
async fn act(browser: &mut Client, user: &User, action: &str, password: &str) -> testkit::Reply {
    browser
        .submit_and_follow(
            &format!("/admin/staff/{}/{action}", user.id.0),
            &[("password", password)],
        )
        .await
}

async fn user(app: &TestApp, username: &str) -> User {
    app.app.user(username).await.unwrap()
}

/// Sets the first practice's policy straight in the store (the page is
/// tested on its own).
async fn set_policy(app: &TestApp, policy: domain::PracticePolicy) {
    app.store()
        .set_practice_policy(domain::PracticeId(1), &policy)
        .await
        .unwrap();
}

/// The kinds of the newest audit events, newest first.
async fn recent_kinds(app: &TestApp, n: u32) -> Vec<(String, String, String)> {
    app.store()
        .recent_audit(n)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.outcome, e.detail))
        .collect()
}

/// Adds `n` staff accounts `bulk0001…` to practice 1 in one statement.
async fn bulk_users(app: &TestApp, n: u32) {
    app.app
        .store
        .execute_sql(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             INSERT INTO users (practice_id, username, email, role, disabled, created_at, display_name) \
             SELECT 1, 'bulk' || SUBSTR(CAST(10000 + i AS TEXT), 2), 'bulk' || CAST(i AS TEXT) || '@clinic.example', \
             'staff', FALSE, 0, 'Bulk Person ' || CAST(i AS TEXT) FROM n"
        ))
        .await
        .unwrap();
}

async fn the_staff_page_marks_pages_and_searches_a_thousand_users(app: &TestApp) {
    let mut anonymous = app.client();
    assert_eq!(
        anonymous.get("/admin/staff").await.location(),
        Some("/login?next=/admin/staff")
    );
    let (_, mut admin) = app.admin("boss").await;
    app.add_user_with_totp("appuser").await;
    app.add_user_with_phone("smsuser", Some("+12015550123"))
        .await;
    let locked = app.add_user("lockeduser").await;
    app.store()
        .set_lock(
            &domain::UserLimit::SecondFactor.of(locked.id),
            domain::LockState {
                locked_until: testkit::START + 900,
                lock_count: 1,
            },
        )
        .await
        .unwrap();
    let off = app.add_user("plainuser").await;
    bulk_users(app, 1_050).await;

    let page = admin.get("/admin/staff").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("1055 accounts"), "{}", page.body);
    assert!(page.body.contains("Page 1 of 22"));
    assert_eq!(page.body.matches("<tr data-username=").count(), 50);
    assert!(page.body.contains("id=\"next-page\""));
    let last = admin.get("/admin/staff?page=22").await;
    assert_eq!(last.body.matches("<tr data-username=").count(), 5);
    assert!(!last.body.contains("id=\"next-page\""));

    let row = |body: &str, name: &str| -> String {
        let start = body
            .find(&format!("data-username=\"{name}\""))
            .unwrap_or_else(|| panic!("{name} listed"));
        body[start..].split("</tr>").next().unwrap().to_owned()
    };
    let found = admin.get("/admin/staff?q=user").await;
    assert!(found.body.contains("4 accounts"), "{}", found.body);
    assert!(row(&found.body, "appuser").contains("On (app)"));
    assert!(row(&found.body, "smsuser").contains("On (SMS)"));
    assert!(row(&found.body, "lockeduser").contains("Locked until"));
    assert!(row(&found.body, "plainuser").contains(">Off<"));
    assert!(row(&found.body, "plainuser").contains(">Active<"));
    let by_name = admin.get("/admin/staff?q=bulk%20person%201049").await;
    assert!(by_name.body.contains("1 account "), "{}", by_name.body);
    assert!(row(&by_name.body, "bulk1049").contains("bulk1049@clinic.example"));
    // LIKE wildcards are literal text here.
    for wildcard in ["%25", "_", "%5C"] {
        let none = admin.get(&format!("/admin/staff?q={wildcard}")).await;
        assert!(
            none.body.contains("0 accounts"),
            "{wildcard}: {}",
            none.body
        );
    }
    // Hostile and malformed paging.
    for bad in ["abc", "0", "-1", "99999999999999999999"] {
        assert_eq!(
            admin.get(&format!("/admin/staff?page={bad}")).await.status,
            400,
            "{bad}"
        );
    }
    let script = admin.get("/admin/staff?q=%3Cscript%3E").await;
    assert!(!script.body.contains("<script>"));

    // Required with no factor is marked as such.
    act(&mut admin, &off, "require-2fa", PASSWORD).await;
    let marked = admin.get("/admin/staff?q=plainuser").await;
    assert!(row(&marked.body, "plainuser").contains("Not set up · required"));

    // Staff may not open any administration page.
    app.add_user("clerk").await;
    let mut staff = app.client();
    staff.submit_password("clerk", PASSWORD).await;
    for path in [
        "/admin/staff",
        "/admin/staff/new",
        "/admin/policy",
        "/admin/audit",
        "/admin/audit/export?format=csv",
    ] {
        assert_eq!(staff.get(path).await.status, 403, "{path}");
    }
    let refused = act(&mut staff, &locked, "unlock", PASSWORD).await;
    assert_eq!(refused.status, 403);
}
both!(the_staff_page_marks_pages_and_searches_a_thousand_users);

async fn another_practices_accounts_are_404_in_every_admin_url(app: &TestApp) {
    let (_, mut admin) = app.admin("boss").await;
    let outsider = app
        .add_user_in("outsider", Some("Other Clinic"), Role::Staff)
        .await;
    app.add_user_in("otherboss", Some("Other Clinic"), Role::Admin)
        .await;
    let mut other = app.client();
    other.submit_password("outsider", PASSWORD).await;

    assert_eq!(
        admin
            .get(&format!("/admin/staff/{}", outsider.id.0))
            .await
            .status,
        404
    );
    for action in [
        "require-2fa",
        "unrequire-2fa",
        "reset-2fa",
        "unlock",
        "disable",
        "enable",
        "resend-invitation",
    ] {
        let reply = act(&mut admin, &outsider, action, PASSWORD).await;
        assert_eq!(reply.status, 404, "{action}");
    }
    for path in ["/admin/staff/999999", "/admin/staff/abc", "/admin/staff/-1"] {
        assert_eq!(admin.get(path).await.status, 404, "{path}");
    }
    let after = user(app, "outsider").await;
    assert!(!after.disabled && !after.require_2fa);
    assert_eq!(
        other.get("/").await.status,
        200,
        "the outsider is still logged in"
    );
    let list = admin.get("/admin/staff?q=outsider").await;
    assert!(list.body.contains("0 accounts") && !list.body.contains("data-username=\"outsider\""));
    let audit = admin.get("/admin/audit?user=outsider").await;
    assert_eq!(audit.status, 400);
    assert!(audit.body.contains("No user named"));
    let all = admin.get("/admin/audit").await;
    assert!(!all.body.contains("outsider"), "{}", all.body);
    let export = admin.get("/admin/audit/export?format=jsonl").await;
    assert!(!export.body.contains("outsider"));
    assert_eq!(
        admin
            .get("/admin/audit/export?format=csv&user=outsider")
            .await
            .status,
        400
    );
}
both!(another_practices_accounts_are_404_in_every_admin_url);

async fn every_action_needs_the_admin_password_and_is_audited(app: &TestApp) {
    let (boss, mut admin) = app.admin("boss").await;
    let (nurse, phone) = app.add_user_with_totp("nurse").await;
    app.app
        .store
        .execute_sql(&format!(
            "UPDATE users SET phone = '+12015550123' WHERE id = {}",
            nurse.id.0
        ))
        .await
        .unwrap();
    let mut nurse_browser = app.client();
    nurse_browser.submit_password("nurse", PASSWORD).await;
    assert_eq!(
        nurse_browser
            .submit_token_remember(&app.code(&phone, 0))
            .await
            .status,
        303
    );
    app.recovery_codes(&nurse).await;

    // A wrong password changes nothing and is counted as a failed re-check.
    for action in ["require-2fa", "reset-2fa", "disable"] {
        let reply = act(&mut admin, &nurse, action, "wrong password").await;
        assert_eq!(reply.status, 400, "{action}");
        assert!(reply.body.contains("Your password is not correct"));
    }
    let unchanged = user(app, "nurse").await;
    assert!(!unchanged.require_2fa && !unchanged.disabled && unchanged.phone.is_some());
    assert!(
        recent_kinds(app, 1).await[0]
            == ("reauthenticated".into(), "failure".into(), String::new())
    );
    // Without the CSRF field: 403, nothing changed.
    let forged = admin
        .post_form(
            &format!("/admin/staff/{}/disable", nurse.id.0),
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(!user(app, "nurse").await.disabled);
    // An unknown action is a 404.
    assert_eq!(
        act(&mut admin, &nurse, "promote", PASSWORD).await.status,
        404
    );

    // Require 2FA.
    let done = act(&mut admin, &nurse, "require-2fa", PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(user(app, "nurse").await.require_2fa);
    assert!(done.body.contains("id=\"action-unrequire-2fa\""));

    // Reset 2FA: app, phone, recovery codes, devices and sessions gone.
    let done = act(&mut admin, &nurse, "reset-2fa", PASSWORD).await;
    assert!(done.body.contains("was reset"), "{}", done.body);
    let reset = user(app, "nurse").await;
    let store = app.store();
    assert!(reset.phone.is_none());
    assert!(store.totp(nurse.id).await.unwrap().is_none());
    assert_eq!(store.unused_recovery_codes(nurse.id).await.unwrap(), 0);
    assert!(store.user_devices(nurse.id).await.unwrap().is_empty());
    assert_eq!(nurse_browser.get("/").await.status, 303, "logged out");
    // …and, 2FA being required, the next login goes straight to enrollment.
    let mut again = app.client();
    let login = again.submit_password("nurse", PASSWORD).await;
    assert_eq!(login.location(), Some("/account/authenticator"));

    // Stop requiring (the practice policy does not require it either).
    let done = act(&mut admin, &nurse, "unrequire-2fa", PASSWORD).await;
    assert_eq!(done.status, 200);
    assert!(!user(app, "nurse").await.require_2fa);
    act(&mut admin, &nurse, "require-2fa", PASSWORD).await;
    assert_eq!(
        act(&mut admin, &boss, "unrequire-2fa", PASSWORD)
            .await
            .status,
        400,
        "not on oneself"
    );

    // A reset alone makes the next login link a factor again, even where
    // 2FA was not required.
    let (tech, _) = app.add_user_with_totp("tech").await;
    assert!(!tech.require_2fa);
    act(&mut admin, &tech, "reset-2fa", PASSWORD).await;
    let login = app.client().submit_password("tech", PASSWORD).await;
    assert_eq!(login.location(), Some("/account/authenticator"));

    // Unlock.
    store
        .set_lock(
            &domain::UserLimit::SecondFactor.of(nurse.id),
            domain::LockState {
                locked_until: testkit::START + 900,
                lock_count: 1,
            },
        )
        .await
        .unwrap();
    let page = admin.get(&format!("/admin/staff/{}", nurse.id.0)).await;
    assert!(page.body.contains("Locked until") && page.body.contains("id=\"action-unlock\""));
    act(&mut admin, &nurse, "unlock", PASSWORD).await;
    assert_eq!(
        store
            .lock_state(&domain::UserLimit::SecondFactor.of(nurse.id))
            .await
            .unwrap()
            .locked_until,
        0
    );

    // Disable ends the session and refuses logins; enable lets them in.
    let mut session = app.client();
    session.submit_password("nurse", PASSWORD).await;
    act(&mut admin, &nurse, "disable", PASSWORD).await;
    assert!(user(app, "nurse").await.disabled);
    assert_eq!(session.get("/account/authenticator").await.status, 303);
    assert_eq!(
        app.client().submit_password("nurse", PASSWORD).await.status,
        401
    );
    act(&mut admin, &nurse, "enable", PASSWORD).await;
    assert_eq!(
        app.client().submit_password("nurse", PASSWORD).await.status,
        303
    );

    // Not on oneself; no invitation for an account with a password.
    let own = act(&mut admin, &boss, "disable", PASSWORD).await;
    assert_eq!(own.status, 400);
    assert!(!user(app, "boss").await.disabled);
    let resend = act(&mut admin, &nurse, "resend-invitation", PASSWORD).await;
    assert_eq!(resend.status, 400);
    assert!(resend.body.contains("already set a password"));

    let kinds: Vec<(String, String)> = recent_kinds(app, 40)
        .await
        .into_iter()
        .filter(|(_, _, detail)| detail.contains("by administrator boss"))
        .map(|(kind, _, detail)| (kind, detail))
        .collect();
    for expected in [
        "require_2fa",
        "reset_2fa",
        "unlock",
        "user_disabled",
        "user_enabled",
    ] {
        assert!(
            kinds.iter().any(|(kind, _)| kind == expected),
            "{expected} audited: {kinds:?}"
        );
    }
}
both!(every_action_needs_the_admin_password_and_is_audited);

/// The invitation link in the newest invitation email to `to`.
async fn invitation_path(app: &TestApp, to: &str) -> String {
    let mail = app
        .mails()
        .await
        .into_iter()
        .rev()
        .find(|m| m.to == to && m.subject.contains("invitation"))
        .expect("invitation sent");
    let start = mail.text.find("/invite/").expect("link");
    mail.text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

async fn an_invited_user_sets_a_password_once_and_enrolls(app: &TestApp) {
    let (_, mut admin) = app.admin("boss").await;
    let form = admin.get("/admin/staff/new").await;
    assert_eq!(form.status, 200);
    let fields = |username: &'static str, email: &'static str, password: &'static str| {
        vec![
            ("username", username),
            ("display_name", "Dana Scully"),
            ("email", email),
            ("role", "staff"),
            ("password", password),
        ]
    };
    for (fields, says) in [
        (
            fields("dana", "dana@clinic.example", "nope"),
            "Your password is not correct",
        ),
        (
            fields("dana", "not-an-email", PASSWORD),
            "email address is not valid",
        ),
        (
            fields("no spaces allowed", "d@clinic.example", PASSWORD),
            "username must be",
        ),
        (fields("boss", "d@clinic.example", PASSWORD), "is taken"),
    ] {
        let reply = admin.submit("/admin/staff", &fields).await;
        assert_eq!(reply.status, 400, "{fields:?}");
        assert!(reply.body.contains(says), "{says}: {}", reply.body);
    }
    let bad_role = admin
        .submit(
            "/admin/staff",
            &[
                ("username", "dana"),
                ("email", "dana@clinic.example"),
                ("role", "root"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(bad_role.status, 400);
    assert!(app.app.user("dana").await.is_err(), "nothing created");

    // The practice requires 2FA: the invitation ends in enrollment.
    let mut policy = app
        .app
        .login
        .practice_policy(domain::PracticeId(1))
        .await
        .unwrap();
    policy.require_2fa = true;
    set_policy(app, policy).await;
    let created = admin
        .submit(
            "/admin/staff",
            &fields("Dana", "dana@clinic.example", PASSWORD),
        )
        .await;
    let created = admin.follow(created).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(created.body.contains("an invitation is on its way"));
    let dana = user(app, "dana").await;
    assert!(dana.password_hash.is_none());
    let page = admin.get(&format!("/admin/staff/{}", dana.id.0)).await;
    assert!(page.body.contains("Invited (no password yet)"));
    assert!(page.body.contains("Dana Scully"));

    let first = invitation_path(app, "dana@clinic.example").await;
    // Sending it again makes a second link; the first one still works
    // until either is used.
    act(&mut admin, &dana, "resend-invitation", PASSWORD).await;
    let second = invitation_path(app, "dana@clinic.example").await;
    assert_ne!(first, second);

    let mut invited = app.client();
    let shown = invited.get(&second).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.header("referrer-policy"), Some("no-referrer"));
    assert!(shown.body.contains("Welcome, dana"));
    for (password, confirm, says) in [
        ("correct horse battery", "different horse battery", "differ"),
        ("short", "short", "at least"),
    ] {
        let reply = invited
            .submit(
                &second,
                &[("password", password), ("password_confirm", confirm)],
            )
            .await;
        assert_eq!(reply.status, 400);
        assert!(reply.body.contains(says), "{}", reply.body);
    }
    let done = invited
        .submit(
            &second,
            &[
                ("password", "correct horse battery staple"),
                ("password_confirm", "correct horse battery staple"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), Some("/account/authenticator"));
    assert_eq!(invited.get("/account/authenticator").await.status, 200);
    // Both links are dead now (one used, the other's account has a password).
    for path in [&first, &second] {
        assert_eq!(app.client().get(path).await.status, 404);
    }
    assert_eq!(app.client().get("/invite/not-a-token").await.status, 404);
    let kinds = recent_kinds(app, 20).await;
    assert!(kinds.iter().any(|(k, _, _)| k == "invitation_accepted"));
    assert!(
        kinds
            .iter()
            .any(|(k, _, d)| k == "user_invited" && d.contains("invitation sent again"))
    );

    // An invitation expires after three days.
    let late = admin
        .submit(
            "/admin/staff",
            &fields("late", "late@clinic.example", PASSWORD),
        )
        .await;
    assert_eq!(late.status, 303);
    let path = invitation_path(app, "late@clinic.example").await;
    app.clock.advance(3 * 86_400);
    assert_eq!(app.client().get(&path).await.status, 404);
}
both!(an_invited_user_sets_a_password_once_and_enrolls);

async fn save_policy(admin: &mut Client, fields: &[(&str, &str)]) -> testkit::Reply {
    let mut all = fields.to_vec();
    all.push(("password", PASSWORD));
    admin.submit_and_follow("/admin/policy", &all).await
}

async fn policy_changes_apply_at_the_next_request_on_every_instance(app: &TestApp) {
    let other = app.second_instance().await;
    let (_, mut admin) = app.admin("boss").await;
    let (_, phone) = app.add_user_with_totp("nurse").await;
    app.add_user("plain").await;
    let texter = app
        .add_user_with_phone("texter", Some("+12015550199"))
        .await;
    let _ = texter;

    let page = admin.get("/admin/policy").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("name=\"allow_sms\" value=\"on\" checked")
    );

    // A remembered device and a texted code from before the change.
    let mut remembered = other.client();
    remembered.submit_password("nurse", PASSWORD).await;
    remembered.submit_token_remember(&app.code(&phone, 0)).await;
    let mut texting = other.client();
    texting.submit_password("texter", PASSWORD).await;
    texting.request_sms().await;
    let code = other.last_sms_code("+12015550199").expect("texted");

    // Bad values and a wrong password change nothing.
    for (field, value) in [
        ("remember_days", "31"),
        ("idle_timeout_minutes", "4"),
        ("idle_timeout_minutes", "241"),
        ("password_min_length", "7"),
        ("password_min_length", "65"),
        ("remember_days", "abc"),
        ("remember_days", "-1"),
    ] {
        let mut fields = vec![
            ("allow_sms", "on"),
            ("remember_days", "30"),
            ("idle_timeout_minutes", "30"),
            ("password_min_length", "12"),
        ];
        fields.retain(|(f, _)| *f != field);
        fields.push((field, value));
        let reply = save_policy(&mut admin, &fields).await;
        assert_eq!(reply.status, 400, "{field}={value}");
    }
    let wrong = admin
        .submit(
            "/admin/policy",
            &[
                ("require_2fa", "on"),
                ("remember_days", "0"),
                ("idle_timeout_minutes", "5"),
                ("password_min_length", "20"),
                ("password", "wrong"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        app.app
            .login
            .practice_policy(domain::PracticeId(1))
            .await
            .unwrap(),
        domain::PracticePolicy::default()
    );

    let saved = save_policy(
        &mut admin,
        &[
            ("require_2fa", "on"),
            ("remember_days", "0"),
            ("idle_timeout_minutes", "5"),
            ("password_min_length", "20"),
        ],
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("The policy was saved"));
    assert!(
        recent_kinds(app, 1).await[0]
            .2
            .contains("SMS forbidden, remember 0 days")
    );

    // On the other instance, at once: 2FA required …
    let login = other.client().submit_password("plain", PASSWORD).await;
    assert_eq!(login.location(), Some("/account/authenticator"));
    // … SMS hidden and refused, the earlier code dead …
    let page = texting.get("/login/2fa").await;
    assert!(!page.body.contains("Request Token via SMS"));
    assert_eq!(texting.request_sms().await.status, 403);
    texting.submit_token(&code).await;
    assert_eq!(
        texting.get("/").await.status,
        303,
        "an SMS code no longer logs in"
    );
    // … "Save token" hidden and saved devices ignored …
    let mut again = other.client();
    let cookie = remembered.cookie("tf_remember").unwrap().to_owned();
    again.set_cookie("tf_remember", &cookie);
    let login = again.submit_password("nurse", PASSWORD).await;
    assert!(login.location().unwrap().starts_with("/login/2fa"));
    let page = again.get("/login/2fa").await;
    assert!(!page.body.contains("Save token for"));
    // … the idle timeout is 5 minutes …
    let mut idle = other.client();
    idle.submit_password("nurse", PASSWORD).await;
    idle.submit_token(&app.code(&phone, 1)).await;
    assert_eq!(idle.get("/").await.status, 200);
    app.clock.advance(6 * 60);
    assert_eq!(idle.get("/").await.status, 303, "idle for 6 > 5 minutes");
    // … and passwords need 20 characters.
    let mut nurse = other.client();
    nurse.submit_password("nurse", PASSWORD).await;
    nurse.submit_token(&app.code(&phone, 0)).await;
    let change = nurse
        .submit(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "sixteen chars ok"),
                ("new_password_confirm", "sixteen chars ok"),
            ],
        )
        .await;
    assert_eq!(change.status, 400);
    assert!(change.body.contains("20"), "{}", change.body);

    // Days other than 30 are shown as chosen. (Set in the store: the
    // administrator's own session went idle and 2FA is now required.)
    set_policy(
        app,
        domain::PracticePolicy {
            remember_days: 7,
            ..domain::PracticePolicy::default()
        },
    )
    .await;
    let mut seven = other.client();
    seven.submit_password("texter", PASSWORD).await;
    let page = seven.get("/login/2fa").await;
    assert!(
        page.body.contains("Save token for 7 days."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Request Token via SMS"));
    other.stop().await;
}
both!(policy_changes_apply_at_the_next_request_on_every_instance);

fn event(at: u64, user: &User, kind: &str, outcome: &str) -> AuditEvent {
    AuditEvent {
        at,
        user_id: Some(user.id),
        username: user.username.clone(),
        kind: kind.into(),
        outcome: outcome.into(),
        ip: "127.0.0.1".into(),
        user_agent: "=HYPERLINK(\"x\")".into(),
        detail: "line one, \"quoted\"".into(),
    }
}

async fn the_audit_page_filters_pages_and_streams_exports(app: &TestApp) {
    let (_, mut admin) = app.admin("boss").await;
    let alice = app.add_user("alice").await;
    let bob = app.add_user("bob").await;
    let store = app.store();
    // 2,600 events over 26 days for alice, alternating outcomes; 30 for bob.
    for i in 0..2_600u64 {
        let outcome = if i % 2 == 0 { "success" } else { "failure" };
        store
            .append_audit(&event(
                testkit::START + i * 864,
                &alice,
                "password_login",
                outcome,
            ))
            .await
            .unwrap();
    }
    for i in 0..30u64 {
        store
            .append_audit(&event(testkit::START + i, &bob, "sms_sent", "blocked"))
            .await
            .unwrap();
    }

    let page = admin.get("/admin/audit").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("<tr data-event=").count(), 50);
    let older = page
        .body
        .split("href=\"")
        .filter(|s| s.contains("before="))
        .map(|s| s.split('"').next().unwrap().replace("&amp;", "&"))
        .next()
        .expect("older link");
    let next = admin.get(&older).await;
    assert_eq!(next.body.matches("<tr data-event=").count(), 50);

    let only_bob = admin.get("/admin/audit?user=bob").await;
    assert_eq!(
        only_bob.body.matches("<tr data-event=\"sms_sent\"").count(),
        30
    );
    assert_eq!(
        only_bob.body.matches("<tr data-event=").count(),
        31,
        "and user_created"
    );
    let failures = admin
        .get("/admin/audit?user=alice&event=password_login&outcome=failure")
        .await;
    assert!(!failures.body.contains("data-outcome=\"success\""));
    assert_eq!(failures.body.matches("<tr data-event=").count(), 50);

    // Export the filtered set: CSV. Dates are the practice's days.
    app.store()
        .set_practice_locale(
            alice.practice_id,
            &domain::PracticeLocale {
                time_zone: "America/Chicago".into(),
                language: None,
            },
        )
        .await
        .unwrap();
    let chicago = domain::time::Zone::named("America/Chicago").unwrap();
    let day = domain::time::rfc3339(testkit::START)[..10].to_owned();
    let csv = admin
        .get(&format!(
            "/admin/audit/export?format=csv&user=alice&outcome=success&from={day}&to={day}"
        ))
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,time,user_id,username,event,outcome,ip,user_agent,detail"
    );
    // One Chicago day of alice's events (every 864 s), half of them
    // successes: not the UTC day, which starts six hours earlier.
    let (start_of_day, end_of_day) = chicago.day(&day).unwrap();
    assert_ne!(
        start_of_day,
        domain::time::parse_rfc3339(&format!("{day}T00:00:00Z")).unwrap()
    );
    let expected = (0..2_600u64)
        .filter(|i| i % 2 == 0)
        .map(|i| testkit::START + i * 864)
        .filter(|at| (start_of_day..end_of_day).contains(at))
        .count();
    assert!(expected > 0);
    let logins = lines
        .iter()
        .filter(|l| l.contains(",password_login,"))
        .count();
    assert_eq!(logins, expected);
    assert_eq!(lines.len() - 1, expected + 1, "and alice's user_created");
    assert!(lines[2].contains(",alice,password_login,success,127.0.0.1,\"'=HYPERLINK(\"\"x\"\")\",\"line one, \"\"quoted\"\"\""), "{}", lines[2]);
    // JSON Lines, everything of the practice: more than one chunk of 1,000.
    let jsonl = admin.get("/admin/audit/export?format=jsonl").await;
    assert_eq!(jsonl.status, 200);
    let rows: Vec<serde_json::Value> = jsonl
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let all_of_practice = rows.len();
    assert!(all_of_practice >= 2_630, "{all_of_practice}");
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first, no repeats"
    );

    // Malformed and hostile filters: a clear 400, never a 500.
    for query in [
        "event=%3Cscript%3E",
        "outcome=maybe",
        "from=2026-13-45",
        "from=yesterday",
        "to=2026-01-01&from=2026-02-01",
        "user=%00",
        "user=nobody",
    ] {
        let reply = admin.get(&format!("/admin/audit?{query}")).await;
        assert_eq!(reply.status, 400, "{query}");
        assert!(!reply.body.contains("<script>"));
        let export = admin
            .get(&format!("/admin/audit/export?format=csv&{query}"))
            .await;
        assert_eq!(export.status, 400, "export {query}");
    }
    for query in ["before=abc", "before=-5", "format=xml"] {
        let path = if query.starts_with("format") {
            format!("/admin/audit/export?{query}")
        } else {
            format!("/admin/audit?{query}")
        };
        assert_eq!(admin.get(&path).await.status, 400, "{query}");
    }
}
both!(the_audit_page_filters_pages_and_streams_exports);

async fn an_emergency_link_logs_an_admin_in_once_and_tells_every_admin(app: &TestApp) {
    let (boss, phone) = {
        let boss = app.add_user_in("boss", None, Role::Admin).await;
        let secret = otp::Secret::generate(otp::Algorithm::Sha1).unwrap();
        let uri = app
            .app
            .enroll_totp(
                &boss,
                Some(secret),
                otp::Algorithm::Sha1,
                otp::Digits::SIX,
                otp::Period::DEFAULT,
            )
            .await
            .unwrap();
        (boss, uri.to_totp().unwrap())
    };
    let _ = phone;
    app.add_user_in("deputy", None, Role::Admin).await;
    app.add_user("nurse").await;
    let login = &app.app.login;
    let now = testkit::START;
    for (who, reason, says) in [
        ("nurse", "lost phone", "not an administrator"),
        ("nobody", "lost phone", "no user named"),
        ("boss", "   ", "--reason"),
        ("boss", "two\nlines", "one line"),
    ] {
        let refused = login
            .issue_emergency_access(who, reason, "http://127.0.0.1:8080", now)
            .await
            .unwrap();
        assert!(refused.unwrap_err().contains(says), "{who} {reason:?}");
    }
    let link = login
        .issue_emergency_access(
            "boss",
            "phone stolen, on call",
            "http://127.0.0.1:8080",
            now,
        )
        .await
        .unwrap()
        .unwrap();
    let path = link.trim_start_matches("http://127.0.0.1:8080").to_owned();
    assert!(path.starts_with("/emergency/"));
    assert!(
        recent_kinds(app, 1).await[0]
            .2
            .contains("reason: phone stolen, on call")
    );

    let mut browser = app.client();
    let form = browser.get(&path).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.header("referrer-policy"), Some("no-referrer"));
    let wrong = browser.submit(&path, &[("password", "not it")]).await;
    assert_eq!(wrong.status, 401);
    let ok = browser.submit(&path, &[("password", PASSWORD)]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), Some("/account/security"));
    assert_eq!(
        browser.get("/admin/staff").await.status,
        200,
        "a full session"
    );
    // Once only.
    assert_eq!(app.client().get(&path).await.status, 404);
    assert_eq!(
        app.client()
            .submit(&path, &[("password", PASSWORD)])
            .await
            .status,
        404
    );
    let kinds = recent_kinds(app, 5).await;
    assert!(
        kinds
            .iter()
            .any(|(k, o, d)| k == "emergency_access" && o == "success" && d.contains("EMERGENCY")),
        "{kinds:?}"
    );
    let mails = app.mails().await;
    for admin in ["boss@clinic.example", "deputy@clinic.example"] {
        assert!(
            mails
                .iter()
                .any(|m| m.to == admin && m.subject.contains("emergency access used by boss")),
            "{admin}"
        );
    }
    assert!(
        !mails
            .iter()
            .any(|m| m.to == "nurse@clinic.example" && m.subject.contains("emergency"))
    );
    let _ = boss;

    // A link expires after an hour.
    let late = login
        .issue_emergency_access("boss", "again", "http://127.0.0.1:8080", now)
        .await
        .unwrap()
        .unwrap();
    app.clock.advance(3_601);
    let late_path = late.trim_start_matches("http://127.0.0.1:8080");
    assert_eq!(app.client().get(late_path).await.status, 404);
}
both!(an_emergency_link_logs_an_admin_in_once_and_tells_every_admin);

async fn the_reset_page_states_the_practices_minimum(app: &TestApp) {
    app.add_user("alice").await;
    set_policy(
        app,
        domain::PracticePolicy {
            password_min_length: 20,
            ..domain::PracticePolicy::default()
        },
    )
    .await;
    let mut browser = app.client();
    browser.request_password_reset("alice").await;
    let mail = app
        .mails()
        .await
        .into_iter()
        .find(|m| m.subject.contains("reset your password"))
        .unwrap();
    let start = mail.text.find("/password/reset/").unwrap();
    let path = mail.text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("At least 20 characters"),
        "{}",
        page.body
    );
    let short = browser
        .submit(
            &path,
            &[
                ("password", "sixteen chars ok"),
                ("password_confirm", "sixteen chars ok"),
            ],
        )
        .await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("At least 20 characters"));
}
both!(the_reset_page_states_the_practices_minimum);

async fn a_failed_password_of_a_known_user_shows_on_the_practice_audit(app: &TestApp) {
    let (_, mut admin) = app.admin("boss").await;
    let alice = app.add_user("alice").await;
    let mut stranger = app.client();
    assert_eq!(
        stranger
            .submit_password("alice", "not her password")
            .await
            .status,
        401
    );
    assert_eq!(
        stranger
            .submit_password("nobody-here", "whatever it is")
            .await
            .status,
        401
    );
    // In the store: the known name under its user, the unknown without one.
    let events = app.store().recent_audit(2).await.unwrap();
    let known = events
        .iter()
        .find(|e| e.username == "alice")
        .expect("alice's failure");
    assert_eq!(
        (known.user_id, known.outcome.as_str(), known.detail.as_str()),
        (Some(alice.id), "failure", "wrong password")
    );
    let unknown = events
        .iter()
        .find(|e| e.username == "nobody-here")
        .expect("the unknown name's failure");
    assert_eq!(
        (unknown.user_id, unknown.detail.as_str()),
        (None, "unknown username")
    );
    // The practice's audit page, its filters and exports show alice's.
    let filtered = admin
        .get("/admin/audit?user=alice&event=password_login&outcome=failure")
        .await;
    assert_eq!(filtered.status, 200);
    assert_eq!(
        filtered
            .body
            .matches("<tr data-event=\"password_login\"")
            .count(),
        1,
        "{}",
        filtered.body
    );
    assert!(filtered.body.contains("wrong password"));
    let all = admin.get("/admin/audit").await;
    assert!(!all.body.contains("nobody-here"), "no user, no practice");
    let csv = admin
        .get("/admin/audit/export?format=csv&event=password_login&outcome=failure")
        .await;
    assert!(
        csv.body.contains(&format!(
            ",{},alice,password_login,failure,127.0.0.1,",
            alice.id.0
        )),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains("nobody-here"));
}
both!(a_failed_password_of_a_known_user_shows_on_the_practice_audit);

/// Times on the practice's pages are in its time zone, with UTC on hover;
/// the export keeps UTC and the stable event codes.
async fn times_show_in_the_practices_zone_and_events_in_words(app: &TestApp) {
    let (_, mut admin) = app.admin("boss").await;
    let saved = save_policy(
        &mut admin,
        &[
            ("allow_sms", "on"),
            ("remember_days", "30"),
            ("idle_timeout_minutes", "30"),
            ("password_min_length", "12"),
            ("time_zone", "America/Chicago"),
        ],
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("value=\"America/Chicago\""));
    let mut stranger = app.client();
    stranger.submit_password("boss", "not the password").await;
    let page = admin.get("/admin/audit").await;
    // testkit::START is 2027-01-15T08:00:10Z: 02:00 in Chicago.
    assert!(
        page.body.contains(
            "<time datetime=\"2027-01-15T08:00:10Z\" title=\"2027-01-15 08:00 UTC\">2027-01-15 02:00 CST</time>"
        ),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<td title=\"password_login\">Password login</td>")
    );
    assert!(page.body.contains(">Practice policy changed</option>"));
    let csv = admin.get("/admin/audit/export?format=csv").await;
    assert!(csv.body.contains("2027-01-15T08:00:10Z"));
    assert!(csv.body.contains(",password_login,failure,"));

    // A name the database does not know is refused, and what was typed stays.
    let refused = save_policy(
        &mut admin,
        &[
            ("allow_sms", "on"),
            ("remember_days", "7"),
            ("idle_timeout_minutes", "30"),
            ("password_min_length", "12"),
            ("time_zone", "Mars/Olympus_Mons"),
        ],
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("no time zone named"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"Mars/Olympus_Mons\""));
    assert!(refused.body.contains(
        "name=\"remember_days\" type=\"number\" min=\"0\" max=\"30\" required value=\"7\""
    ));
    assert_eq!(
        app.app
            .login
            .practice_locale(domain::PracticeId(1))
            .await
            .unwrap()
            .time_zone,
        "America/Chicago",
        "nothing saved"
    );
}
both!(times_show_in_the_practices_zone_and_events_in_words);

/// An administrator who chose Spanish gets every admin page, its Rust-built
/// words (statuses, actions, events) and the domain's refusals in Spanish;
/// the stable codes (paths, `data-event`) stay as they are.
async fn the_admin_pages_and_their_refusals_speak_spanish(app: &TestApp) {
    let (_, mut admin) = app.admin("jefa").await;
    let switched = admin
        .get_with(
            "/language?lang=es",
            &[
                ("referer", &app.url("/admin/staff")),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await;
    assert_eq!(switched.location(), Some("/admin/staff"));
    let staff = admin.get("/admin/staff").await;
    assert!(staff.body.contains("<html lang=\"es\">"), "{}", staff.body);
    for words in [
        "<h1>Personal</h1>",
        "Añadir un usuario",
        "1 cuenta",
        "Gestionar",
        "Activa",
        "Registro de auditoría",
        "Página 1 de 1",
    ] {
        assert!(staff.body.contains(words), "{words}: {}", staff.body);
    }
    assert!(!staff.body.contains("Add a user"));

    // A refusal the domain decides, in her words, and nothing created.
    let taken = admin
        .submit(
            "/admin/staff",
            &[
                ("username", "jefa"),
                ("email", "otra@clinic.example"),
                ("role", "staff"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(taken.status, 400);
    assert!(
        taken
            .body
            .contains("El nombre de usuario jefa ya está en uso."),
        "{}",
        taken.body
    );
    let mixed = admin
        .submit(
            "/admin/staff",
            &[
                ("username", "\u{0430}lice"),
                ("email", "a@clinic.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(mixed.body.contains("mezcla alfabetos"), "{}", mixed.body);

    // The new person chose nothing yet: the invitation speaks the
    // language of the administrator who sent it.
    let added = admin
        .submit(
            "/admin/staff",
            &[
                ("username", "nuevo"),
                ("email", "nuevo@clinic.example"),
                ("role", "staff"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let invitation = app
        .mails()
        .await
        .into_iter()
        .find(|m| m.to == "nuevo@clinic.example")
        .expect("an invitation");
    assert_eq!(invitation.subject, "Test Clinic: su invitación");
    assert!(
        invitation
            .text
            .contains("jefa le invitó a Test Clinic como \"nuevo\".")
    );
    assert!(invitation.html.contains("<strong>nuevo</strong>"));

    // Emergency access: every administrator hears of it in their language.
    let path = app.emergency_path("jefa", "teléfono perdido").await;
    let used = app.client().submit(&path, &[("password", PASSWORD)]).await;
    assert_eq!(used.status, 303, "{}", used.body);
    assert!(
        app.mails()
            .await
            .iter()
            .any(|m| m.to == "jefa@clinic.example"
                && m.subject == "Test Clinic: jefa usó el acceso de emergencia"),
        "{:?}",
        app.mails()
            .await
            .iter()
            .map(|m| &m.subject)
            .collect::<Vec<_>>()
    );

    let nurse = app.add_user("enfermera").await;
    let wrong = act(&mut admin, &nurse, "disable", "not my password").await;
    assert!(
        wrong
            .body
            .contains("Su contraseña no es correcta; no se cambió nada."),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("Desactivar la cuenta"));
    assert!(!user(app, "enfermera").await.disabled);
    let done = act(&mut admin, &nurse, "disable", PASSWORD).await;
    assert!(done.body.contains("Desactivada"), "{}", done.body);

    // The policy's own checks and the domain's ranges.
    for (field, value, said) in [
        (
            "remember_days",
            "treinta",
            "El número de días para recordar el dispositivo debe ser un número entero.",
        ),
        (
            "idle_timeout_minutes",
            "3",
            "El tiempo de inactividad debe ser de 5 a 240 minutos.",
        ),
        (
            "time_zone",
            "Marte/Olimpo",
            "No existe ninguna zona horaria llamada &#34;Marte/Olimpo&#34;",
        ),
    ] {
        let mut fields = vec![
            ("remember_days", "30"),
            ("idle_timeout_minutes", "30"),
            ("password_min_length", "12"),
        ];
        fields.retain(|(name, _)| *name != field);
        fields.push((field, value));
        let refused = save_policy(&mut admin, &fields).await;
        assert_eq!(refused.status, 400, "{field}");
        assert!(refused.body.contains(said), "{field}: {}", refused.body);
        assert!(refused.body.contains("Política de la consulta"));
    }

    // Events and outcomes in words; the codes stay for machines.
    let audit = admin.get("/admin/audit").await;
    assert!(
        audit.body.contains("Inicio de sesión con contraseña"),
        "{}",
        audit.body
    );
    assert!(audit.body.contains("data-event=\"password_login\""));
    assert!(audit.body.contains(">Éxito<"));
    let bad_date = admin.get("/admin/audit?from=ayer").await;
    assert_eq!(bad_date.status, 400);
    assert!(
        bad_date
            .body
            .contains("La fecha de inicio debe tener la forma 2026-01-31.")
    );

    let apps = admin.get("/admin/applications").await;
    assert!(
        apps.body.contains("Registrar una aplicación"),
        "{}",
        apps.body
    );
    let plain_http = admin
        .submit(
            "/admin/applications",
            &[
                ("name", "Historia clínica"),
                ("redirect_uris", "http://ehr.example/cb"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(plain_http.status, 400);
    assert!(
        plain_http.body.contains(
            "&#34;http://ehr.example/cb&#34;: use https (http simple solo hacia localhost)."
        ),
        "{}",
        plain_http.body
    );
}
both!(the_admin_pages_and_their_refusals_speak_spanish);

/// Whether the element with `id` in `body` is marked invalid, tied to the
/// error and focused.
fn marked(body: &str, id: &str) -> bool {
    let Some(start) = body.find(&format!("id=\"{id}\"")) else {
        return false;
    };
    let tag = &body[start..start + body[start..].find('>').unwrap_or(0)];
    tag.contains("aria-invalid=\"true\"")
        && tag.contains("aria-describedby=\"")
        && tag.contains("autofocus")
}

/// A refused form marks the field the refusal is about (and only that
/// one) and keeps what was typed.
async fn a_refusal_marks_the_field_it_is_about(app: &TestApp) {
    let (_, mut admin) = app.admin("jefe").await;
    let wrong_current = admin
        .submit(
            "/account/password",
            &[
                ("current_password", "not it"),
                ("new_password", "a long new passphrase here"),
                ("new_password_confirm", "a long new passphrase here"),
            ],
        )
        .await;
    assert!(
        marked(&wrong_current.body, "current_password"),
        "{}",
        wrong_current.body
    );
    assert!(!marked(&wrong_current.body, "new_password"));
    let differ = admin
        .submit(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a long new passphrase here"),
                ("new_password_confirm", "another long passphrase"),
            ],
        )
        .await;
    assert!(
        marked(&differ.body, "new_password_confirm"),
        "{}",
        differ.body
    );

    let taken = admin
        .submit(
            "/admin/staff",
            &[
                ("username", "jefe"),
                ("email", "x@clinic.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(marked(&taken.body, "username"), "{}", taken.body);
    assert!(!marked(&taken.body, "email"));
    let bad_email = admin
        .submit(
            "/admin/staff",
            &[
                ("username", "nueva"),
                ("email", "nope"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(marked(&bad_email.body, "email"), "{}", bad_email.body);
    assert!(
        bad_email.body.contains("value=\"nueva\""),
        "what was typed stays"
    );

    let zone = save_policy(
        &mut admin,
        &[
            ("remember_days", "30"),
            ("idle_timeout_minutes", "30"),
            ("password_min_length", "12"),
            ("time_zone", "Mars/Olympus"),
        ],
    )
    .await;
    assert!(marked(&zone.body, "time_zone"), "{}", zone.body);
    let idle = save_policy(
        &mut admin,
        &[
            ("remember_days", "30"),
            ("idle_timeout_minutes", "many"),
            ("password_min_length", "12"),
        ],
    )
    .await;
    assert!(marked(&idle.body, "idle_timeout_minutes"), "{}", idle.body);
    // Three wrong numbers and a wrong zone: all marked and named, as
    // typed, the focus on the first; one not a number, two out of range.
    let three = save_policy(
        &mut admin,
        &[
            ("remember_days", "45"),
            ("idle_timeout_minutes", "many"),
            ("password_min_length", "3"),
            ("time_zone", "Mars/Olympus"),
        ],
    )
    .await;
    assert_eq!(three.status, 400);
    assert!(three.body.contains("<li id=\"error-time-zone\">"));
    let start = three.body.find("id=\"time_zone\"").unwrap();
    let tag = &three.body[start..start + three.body[start..].find('>').unwrap()];
    assert!(tag.contains("value=\"Mars/Olympus\""), "{tag}");
    assert!(
        tag.contains("aria-describedby=\"error-time-zone time-zone-help\""),
        "{tag}"
    );
    assert!(marked(&three.body, "remember_days"), "{}", three.body);
    for (id, typed, said) in [
        ("remember_days", "45", "error-remember-days"),
        ("idle_timeout_minutes", "many", "error-idle-minutes"),
        ("password_min_length", "3", "error-min-length"),
    ] {
        let start = three.body.find(&format!("id=\"{id}\"")).unwrap();
        let tag = &three.body[start..start + three.body[start..].find('>').unwrap()];
        assert!(tag.contains(&format!("value=\"{typed}\"")), "{tag}");
        assert!(tag.contains("aria-invalid=\"true\""), "{tag}");
        assert!(
            tag.contains(&format!("aria-describedby=\"{said}\"")),
            "{tag}"
        );
        assert!(three.body.contains(&format!("<li id=\"{said}\">")));
    }
    assert_eq!(three.body.matches(" autofocus").count(), 1);

    let uri = admin
        .submit(
            "/admin/applications",
            &[
                ("name", "Charts"),
                ("redirect_uris", "ftp://charts.example/cb"),
                ("post_logout_redirect_uris", "https://charts.example/bye"),
                ("public", "on"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(uri.status, 400);
    assert!(marked(&uri.body, "redirect-uris"), "{}", uri.body);
    assert!(uri.body.contains("value=\"Charts\""), "{}", uri.body);
    assert!(uri.body.contains(">ftp://charts.example/cb</textarea>"));
    assert!(uri.body.contains(">https://charts.example/bye</textarea>"));
    assert!(uri.body.contains("name=\"public\" value=\"on\" checked"));

    for (number, password, field) in [
        ("12", PASSWORD, "phone"),
        ("(201) 555-0123", "not it", "password"),
    ] {
        let refused = admin
            .submit(
                "/account/phone",
                &[("country", "US"), ("phone", number), ("password", password)],
            )
            .await;
        assert!(marked(&refused.body, field), "{field}: {}", refused.body);
        for other in ["phone", "password", "country"] {
            assert!(other == field || !marked(&refused.body, other), "{other}");
        }
    }

    let from = admin.get("/admin/audit?from=yesterday").await;
    assert!(marked(&from.body, "from"), "{}", from.body);
    assert!(!marked(&from.body, "to"));
}
both!(a_refusal_marks_the_field_it_is_about);
