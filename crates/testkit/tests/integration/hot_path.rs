//! The second-factor hot path's writes under concurrency: on PostgreSQL they
//! are coalesced into shared statements (`store::pg_batch`), on SQLite
//! group-committed by one writer. Each caller must still get its own answer,
//! two failures of one key must count as if one after the other, and one
//! row the database refuses must not fail the others.

use domain::{AuditEvent, Store};
use testkit::TestApp;

fn event(detail: &str) -> AuditEvent {
    AuditEvent {
        at: 1_000,
        user_id: None,
        username: "nobody".into(),
        kind: "totp_token".into(),
        outcome: "failure".into(),
        ip: "127.0.0.1".into(),
        user_agent: "hot-path-test".into(),
        detail: detail.into(),
    }
}

async fn concurrent_failures_answer_each_caller(app: &TestApp) {
    let store = app.app.store.clone();
    let mut tasks = Vec::new();
    // Ten keys, three failures each, all at once; and one row PostgreSQL
    // refuses (a NUL byte in text) among them.
    for round in 0..3 {
        for key in 0..10 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("hot:{key}");
                let answer = store
                    .record_failure_with_audit(&key, 1_000, 0, &event(&format!("round {round}")))
                    .await;
                (key, answer)
            }));
        }
    }
    let bad = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .record_failure_with_audit("hot:bad", 1_000, 0, &event("nul \0 byte"))
                .await
        })
    };
    let mut counts: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for task in tasks {
        let (key, answer) = task.await.expect("task");
        counts
            .entry(key)
            .or_default()
            .push(answer.expect("a good row is written"));
    }
    for (key, mut seen) in counts {
        seen.sort_unstable();
        assert_eq!(
            seen,
            vec![1, 2, 3],
            "{key}: each failure counted once, in turn"
        );
        assert_eq!(store.failures_since(&key, 0).await.unwrap(), 3, "{key}");
    }
    // SQLite stores the NUL byte; PostgreSQL refuses that row alone.
    let bad = bad.await.expect("task");
    if app.app.store.backend() == store::Backend::Postgres {
        assert!(bad.is_err(), "PostgreSQL refuses NUL in text: {bad:?}");
        assert_eq!(store.failures_since("hot:bad", 0).await.unwrap(), 0);
    } else {
        assert_eq!(bad.unwrap(), 1);
    }
}
both!(concurrent_failures_answer_each_caller);

/// Claims of a step for a user without an authenticator take nothing, and
/// concurrent claims do not disturb each other's answers.
async fn claims_without_an_authenticator_take_nothing(app: &TestApp) {
    let store = app.app.store.clone();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_totp_step_recorded(
                        domain::UserId(1_000_000 + i),
                        5,
                        0,
                        &event("claim"),
                        Some("hot:claim"),
                    )
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert!(
            !task.await.expect("task").expect("no error"),
            "no row to claim"
        );
    }
}
both!(claims_without_an_authenticator_take_nothing);

/// The password step's one read (`password_step_state`) answers what its
/// separate reads do: for a user with nothing recorded, and for one with
/// address failures, a lock, counted failures, changed practice settings,
/// an authenticator and a held notice.
async fn password_step_state_matches_the_separate_reads(app: &TestApp) {
    let store = app.app.store.clone();
    let topic = "abandoned-login";
    let bare = app.add_user("stepbare").await;
    let bare_key = format!("pw:user:{}", bare.id);
    let empty = store
        .password_step_state(&bare, "pw:ip:192.0.2.7", 0, &bare_key, topic)
        .await
        .expect("read")
        .expect("the user exists");
    assert_eq!(
        empty,
        domain::PasswordStepState {
            practice: store.practice_policy(bare.practice_id).await.unwrap(),
            ..Default::default()
        }
    );

    // A password step queues the held "did not finish" notice.
    let (user, _) = app.add_user_with_totp("stepreads").await;
    let reply = app
        .client()
        .submit_password("stepreads", testkit::PASSWORD)
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let (ip, lock_key) = ("pw:ip:192.0.2.7", format!("pw:user:{}", user.id));
    for at in [100, 900, 950] {
        store.record_failure(ip, at).await.unwrap();
    }
    store.record_failure(&lock_key, 950).await.unwrap();
    let lock = domain::LockState {
        locked_until: 5_000,
        lock_count: 2,
    };
    store.set_lock(&lock_key, lock).await.unwrap();
    let mut practice = store.practice_policy(user.practice_id).await.unwrap();
    practice.allow_sms = !practice.allow_sms;
    practice.remember_days = 7;
    store
        .set_practice_policy(user.practice_id, &practice)
        .await
        .unwrap();

    let state = store
        .password_step_state(&user, ip, 500, &lock_key, topic)
        .await
        .expect("read")
        .expect("the user exists");
    assert_eq!(
        state.ip_failures,
        store.failures_since(ip, 500).await.unwrap()
    );
    assert_eq!(
        state.ip_failures, 2,
        "failures before the window do not count"
    );
    assert_eq!(state.lock, store.lock_state(&lock_key).await.unwrap());
    assert_eq!(state.lock, lock);
    assert!(state.has_failures);
    assert_eq!(state.practice, practice);
    assert_eq!(
        state.practice,
        store.practice_policy(user.practice_id).await.unwrap()
    );
    assert!(state.has_totp);
    assert!(store.totp(user.id).await.unwrap().is_some());
    assert!(state.last_message_at.is_some(), "the held notice is queued");
    // The bare user sees none of the other's rows.
    let still = store
        .password_step_state(&bare, "pw:ip:192.0.2.8", 0, &bare_key, topic)
        .await
        .expect("read")
        .expect("the user exists");
    assert!(!still.has_totp && !still.has_failures && still.last_message_at.is_none());
    assert_eq!(still.ip_failures, 0);
    // A user deleted meanwhile reads as none.
    store.delete_user(bare.id).await.unwrap();
    let gone = store
        .password_step_state(&bare, "pw:ip:192.0.2.8", 0, &bare_key, topic)
        .await
        .expect("read");
    assert_eq!(gone, None);
}
both!(password_step_state_matches_the_separate_reads);
