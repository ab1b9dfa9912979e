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
