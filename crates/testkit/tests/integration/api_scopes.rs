//! What an API key may do: scopes, and never becoming someone who logs in
//! on the pages unless an administrator granted `manage-all`.

use domain::api::Scopes;
use testkit::{PASSWORD, TestApp};
use twofactor_client::{Client, NewUser};

fn client(app: &TestApp, key: &str) -> Client {
    Client::new(&app.url(""), key).unwrap()
}

fn jane() -> NewUser {
    NewUser {
        email: "jane@clinic.example".into(),
        phone: Some("+12015550123".into()),
        external_id: None,
    }
}

async fn a_key_cannot_become_a_person_who_logs_in_on_the_pages(app: &TestApp) {
    let (admin, _) = app.admin("boss").await;
    let (staff, phone) = app.add_user_with_totp("alice").await;
    let api = client(app, &app.api_key(None).await);
    for id in [admin.id.0, staff.id.0] {
        let forbidden = |result: Result<_, twofactor_client::Error>| {
            let error = result.expect_err("refused");
            assert_eq!(error.kind(), Some("forbidden"), "{error}");
            assert!(
                error.to_string().contains("created through the API"),
                "{error}"
            );
        };
        forbidden(api.recovery_codes(id).await.map(drop));
        forbidden(api.start_totp(id).await.map(drop));
        forbidden(api.confirm_totp(id, "123456").await.map(drop));
        forbidden(api.delete_user(id).await);
    }
    // Nothing changed: alice still logs in with her own authenticator, the
    // administrator is still there.
    let mut browser = app.client();
    browser.submit_password("alice", PASSWORD).await;
    assert_eq!(browser.submit_token(&app.code(&phone, 0)).await.status, 303);
    assert!(app.app.user("boss").await.is_ok());
    // Verifying a token needs no management: it still works for anyone.
    app.clock.advance(30);
    let verified = api.verify(staff.id.0, &app.code(&phone, 0)).await.unwrap();
    assert!(verified.valid);

    // Its own users it manages fully.
    let own = api.create_user(&jane()).await.unwrap();
    assert_eq!(api.recovery_codes(own.id).await.unwrap().len(), 10);
    api.start_totp(own.id).await.unwrap();
    api.delete_user(own.id).await.unwrap();
}
both!(a_key_cannot_become_a_person_who_logs_in_on_the_pages);

async fn scopes_limit_what_a_key_does(app: &TestApp) {
    let manager = client(app, &app.api_key(None).await);
    let own = manager.create_user(&jane()).await.unwrap();

    let verify_only = Scopes {
        verify: true,
        ..Scopes::default()
    };
    let verifier = client(app, &app.api_key_with(None, verify_only).await);
    assert_eq!(
        verifier.create_user(&jane()).await.unwrap_err().kind(),
        Some("forbidden")
    );
    assert_eq!(
        verifier.start_totp(own.id).await.unwrap_err().kind(),
        Some("forbidden")
    );
    assert_eq!(
        verifier.devices(own.id).await.unwrap_err().kind(),
        Some("forbidden")
    );
    assert!(!verifier.verify(own.id, "000000").await.unwrap().valid);
    verifier.send_sms(own.id, None).await.unwrap();
    assert_eq!(verifier.user(own.id).await.unwrap().id, own.id);

    let manage_only = Scopes {
        manage: true,
        ..Scopes::default()
    };
    let admin_app = client(app, &app.api_key_with(None, manage_only).await);
    let error = admin_app.verify(own.id, "000000").await.unwrap_err();
    assert_eq!(error.kind(), Some("forbidden"));
    assert!(error.to_string().contains("verify scope"), "{error}");
    assert_eq!(
        admin_app.send_sms(own.id, None).await.unwrap_err().kind(),
        Some("forbidden")
    );
    admin_app.recovery_codes(own.id).await.unwrap();
}
both!(scopes_limit_what_a_key_does);

async fn manage_all_is_explicit_and_audited(app: &TestApp) {
    let (staff, _) = app.add_user_with_totp("alice").await;
    let all = Scopes::parse("verify manage-all").unwrap();
    let api = client(app, &app.api_key_with(None, all).await);
    assert_eq!(api.recovery_codes(staff.id.0).await.unwrap().len(), 10);
    let trail = app.store().recent_audit(20).await.unwrap();
    let created = trail
        .iter()
        .find(|e| e.kind == "api_key_created")
        .expect("the key's creation is audited");
    assert!(created.detail.contains("manage-all"), "{}", created.detail);
}
both!(manage_all_is_explicit_and_audited);

async fn body_errors_name_no_internal_type(app: &TestApp) {
    let key = app.api_key(None).await;
    let http = reqwest::Client::new();
    for body in ["\"x\"", "[1]", "5", "{\"email\": {}}", "{\"code\": 5}"] {
        for path in ["/api/v1/users", "/api/v1/users/1/verify"] {
            let reply = http
                .post(app.url(path))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = reply.status().as_u16();
            let text = reply.text().await.unwrap();
            assert!(
                matches!(status, 400 | 404),
                "{path} {body}: {status} {text}"
            );
            for internal in ["struct", "CreateUser", "Verify", "enum", "target type"] {
                assert!(!text.contains(internal), "{path} {body}: {text}");
            }
        }
    }
}
both!(body_errors_name_no_internal_type);
