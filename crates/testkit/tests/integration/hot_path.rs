//! The second-factor hot path's writes under concurrency: on PostgreSQL they
//! are coalesced into shared statements (`store::pg_batch`), on SQLite
//! group-committed by one writer. Each caller must still get its own answer,
//! two failures of one key must count as if one after the other, and one
//! row the database refuses must not fail the others.

use domain::AuditEvent;
use domain::ports::*;
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
                let key = domain::LimitKey::from_stored(format!("hot:{key}"));
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
                .record_failure_with_audit(
                    &domain::LimitKey::from_stored("hot:bad"),
                    1_000,
                    0,
                    &event("nul \0 byte"),
                )
                .await
        })
    };
    let mut counts: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for task in tasks {
        let (key, answer) = task.await.expect("task");
        counts
            .entry(key.to_string())
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
        let stored = domain::LimitKey::from_stored(key.as_str());
        assert_eq!(store.failures_since(&stored, 0).await.unwrap(), 3, "{key}");
    }
    // SQLite stores the NUL byte; PostgreSQL refuses that row alone.
    let bad = bad.await.expect("task");
    if app.app.store.backend() == store::Backend::Postgres {
        assert!(bad.is_err(), "PostgreSQL refuses NUL in text: {bad:?}");
        assert_eq!(
            store
                .failures_since(&domain::LimitKey::from_stored("hot:bad"), 0)
                .await
                .unwrap(),
            0
        );
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
                        Some(&domain::LimitKey::from_stored("hot:claim")),
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
    let topic = domain::outbox::Topic::ABANDONED_LOGIN;
    let bare = app.add_user("stepbare").await;
    let bare_key = domain::UserLimit::Password.of(bare.id);
    let empty = store
        .password_step_state(
            &bare,
            &domain::LimitKey::from_stored("pw:ip:192.0.2.7"),
            0,
            &bare_key,
            topic,
        )
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
    let (ip, lock_key) = (
        &domain::LimitKey::from_stored("pw:ip:192.0.2.7"),
        domain::UserLimit::Password.of(user.id),
    );
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
    assert_eq!(
        state.totp,
        store.totp(user.id).await.unwrap(),
        "the authenticator as stored"
    );
    assert!(state.totp.is_some());
    assert!(state.last_message_at.is_some(), "the held notice is queued");
    // The bare user sees none of the other's rows.
    let still = store
        .password_step_state(
            &bare,
            &domain::LimitKey::from_stored("pw:ip:192.0.2.8"),
            0,
            &bare_key,
            topic,
        )
        .await
        .expect("read")
        .expect("the user exists");
    assert!(still.totp.is_none() && !still.has_failures && still.last_message_at.is_none());
    assert_eq!(still.ip_failures, 0);
    // A user deleted meanwhile reads as none.
    store.delete_user(bare.id).await.unwrap();
    let gone = store
        .password_step_state(
            &bare,
            &domain::LimitKey::from_stored("pw:ip:192.0.2.8"),
            0,
            &bare_key,
            topic,
        )
        .await
        .expect("read");
    assert_eq!(gone, None);
}
both!(password_step_state_matches_the_separate_reads);

fn held_notice(
    user: domain::UserId,
    cancel_key: &str,
    idempotency_key: &str,
) -> domain::NewMessage {
    domain::NewMessage {
        channel: domain::Channel::Email,
        user_id: Some(user),
        topic: "abandoned-login".into(),
        recipient: "someone@clinic.example".into(),
        subject: "held".into(),
        key_id: "k1".into(),
        sealed_body: vec![1, 2, 3],
        idempotency_key: idempotency_key.into(),
        created_at: 1_000,
        expires_at: None,
        claimed: false,
        send_at: 1_900,
        cancel_key: Some(cancel_key.into()),
    }
}

async fn last_login(store: &impl Store, user: &domain::User) -> Option<u64> {
    let (rows, _) = store
        .staff_page(user.practice_id, "", Some(user.id), 0, 1)
        .await
        .unwrap();
    rows[0].last_login_at
}

fn session(user: domain::UserId, token_hash: &str, stage: domain::SessionStage) -> domain::Session {
    domain::Session {
        token_hash: token_hash.into(),
        user_id: user,
        stage,
        created_at: 1_000,
        last_seen_at: 1_000,
        failures: 0,
        amr: domain::Amr::NONE,
    }
}

/// A login's finishing writes land together and as if one after the other
/// — on PostgreSQL as one statement (`write_all` puts such lists together),
/// on SQLite as a transaction: the pending session goes, the full one
/// starts, counted failures and the held notice go, the last login is set
/// and the audit row carries the user's practice. A list whose result
/// depends on its order (a notice queued, then cancelled) still runs in
/// order, and a list with one refused write writes none of the others.
async fn one_unit_writes_as_in_order(app: &TestApp) {
    use domain::{SessionStage, Write};
    let store = app.app.store.clone();
    let user = app.add_user("unitwrites").await;
    let key = domain::UserLimit::SecondFactor.of(user.id);
    store.record_failure(&key, 1_000).await.unwrap();
    store
        .create_session(&session(user.id, "pending-unit", SessionStage::Pending))
        .await
        .unwrap();
    store
        .enqueue(&held_notice(user.id, "pending-unit", "idem-unit-1"))
        .await
        .unwrap();
    let pending_before = store.outbox_counts().await.unwrap().pending;
    let full = session(user.id, "full-unit", SessionStage::Full);
    let mut audit = event("unit finish");
    audit.user_id = Some(user.id);
    audit.username = "unitwrites".into();
    store
        .write_all(&[
            Write::ClearFailures(&key),
            Write::EndSession("pending-unit"),
            Write::CancelHeld("pending-unit"),
            Write::Session(&full),
            Write::LastLogin {
                user: user.id,
                now: 1_234,
            },
            Write::Audit(&audit),
        ])
        .await
        .expect("the login's writes");
    assert_eq!(store.failures_since(&key, 0).await.unwrap(), 0);
    assert!(store.session("pending-unit").await.unwrap().is_none());
    assert_eq!(
        store.session("full-unit").await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        store.outbox_counts().await.unwrap().pending,
        pending_before - 1,
        "the held notice is cancelled"
    );
    assert_eq!(last_login(&store, &user).await, Some(1_234));
    let filter = domain::admin::AuditFilter {
        practice: Some(user.practice_id),
        user: Some(user.id),
        ..domain::admin::AuditFilter::between(1_000, 1_001)
    };
    let rows = store
        .audit_search(&filter, i64::MAX, true, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one audit row, in the user's practice");
    assert_eq!(rows[0].1, audit);

    // Queued, then cancelled in the same list: cancelled, as in order.
    let before = store.outbox_counts().await.unwrap().pending;
    let notice = held_notice(user.id, "later-unit", "idem-unit-2");
    store
        .write_all(&[Write::Enqueue(&notice), Write::CancelHeld("later-unit")])
        .await
        .unwrap();
    assert_eq!(store.outbox_counts().await.unwrap().pending, before);
    // Two audit rows keep their order.
    let (first, second) = (event("unit one"), event("unit two"));
    store
        .write_all(&[Write::Audit(&first), Write::Audit(&second)])
        .await
        .unwrap();
    let recent = store.recent_audit(2).await.unwrap();
    assert_eq!(recent, vec![second.clone(), first.clone()]);

    // A refused write (a session token already in use) writes nothing.
    let again = event("unit refused");
    let answer = store
        .write_all(&[
            Write::Audit(&again),
            Write::LastLogin {
                user: user.id,
                now: 9_999,
            },
            Write::Session(&full),
        ])
        .await;
    assert!(
        matches!(answer, Err(domain::StoreError::Conflict(_))),
        "{answer:?}"
    );
    assert_eq!(store.recent_audit(1).await.unwrap(), vec![second]);
    assert_eq!(last_login(&store, &user).await, Some(1_234));
}
both!(one_unit_writes_as_in_order);

/// A login's finish claims the authenticator step in its own commit: the
/// first list with a step takes it and writes; a list with the same (or an
/// older) step writes nothing and answers a conflict, as two parallel
/// logins with one code must.
async fn a_finish_lands_only_with_its_claim(app: &TestApp) {
    use domain::{SessionStage, Write};
    let store = app.app.store.clone();
    let (user, _) = app.add_user_with_totp("claimfinish").await;
    let first = session(user.id, "claim-first", SessionStage::Full);
    let second = session(user.id, "claim-second", SessionStage::Full);
    let mut audit = event("claimed finish");
    audit.user_id = Some(user.id);
    let finish = |step, full| {
        [
            Write::ClaimStep {
                user: user.id,
                step,
                clock_offset_steps: 1,
                guard: None,
            },
            Write::Session(full),
            Write::Audit(&audit),
        ]
    };
    store
        .write_all(&finish(1_000, &first))
        .await
        .expect("the first claim takes the step");
    let factor = store.totp(user.id).await.unwrap().unwrap();
    assert_eq!(
        (factor.last_step, factor.clock_offset_steps),
        (Some(1_000), 1)
    );
    assert!(store.session("claim-first").await.unwrap().is_some());
    let trail = store.recent_audit(1).await.unwrap();
    for step in [1_000, 999] {
        let answer = store.write_all(&finish(step, &second)).await;
        assert!(
            matches!(answer, Err(domain::StoreError::Conflict(_))),
            "step {step}: {answer:?}"
        );
        assert!(store.session("claim-second").await.unwrap().is_none());
        assert_eq!(store.recent_audit(1).await.unwrap(), trail);
    }
    store
        .write_all(&finish(1_001, &second))
        .await
        .expect("a later step is free");
    assert!(store.session("claim-second").await.unwrap().is_some());
}
both!(a_finish_lands_only_with_its_claim);

/// The password step's half login checks the lock and the authenticator
/// again in the commit that writes it (they were read
/// before the hash): any of them changed meanwhile, and nothing is written
/// and the answer is a conflict. Both ways a list is written are checked:
/// as one statement (PostgreSQL) or on the direct writer (SQLite), and in a
/// transaction (a write of another kind in the list).
async fn a_half_login_lands_only_if_its_guard_holds(app: &TestApp) {
    use domain::{LockState, SessionStage, Write};
    let store = app.app.store.clone();
    let (user, _) = app.add_user_with_totp("guarded").await;
    let bare = app.add_user("guardedbare").await;
    let lock_key = domain::UserLimit::Password.of(user.id);
    let ip_key = &domain::LimitKey::from_stored("pw:ip:127.0.0.9");
    let mut audit = event("guarded half login");
    audit.user_id = Some(user.id);
    let mut n = 0;
    // Writes a half login for `who` with the guard; whether it
    // landed (and, if not, checks nothing of it was written).
    let mut attempt = async |who: domain::UserId, in_transaction: bool| {
        n += 1;
        let token = format!("guarded-{n}");
        let pending = session(who, &token, SessionStage::Pending);
        let trail = store.recent_audit(1).await.unwrap();
        let mut writes = vec![
            Write::PasswordGuard {
                user: who,
                lock_key: &lock_key,
                now: 2_000,
            },
            Write::ClearFailures(&lock_key),
            Write::Session(&pending),
            Write::Audit(&audit),
        ];
        if in_transaction {
            writes.push(Write::ForgetDevices(who));
        }
        match store.write_all(&writes).await {
            Ok(()) => {
                assert!(store.session(&token).await.unwrap().is_some());
                true
            }
            Err(domain::StoreError::Conflict(_)) => {
                assert!(store.session(&token).await.unwrap().is_none());
                assert_eq!(store.recent_audit(1).await.unwrap(), trail);
                false
            }
            Err(e) => panic!("{e}"),
        }
    };
    for in_transaction in [false, true] {
        let way = if in_transaction {
            "transaction"
        } else {
            "one unit"
        };
        store.record_failure(&lock_key, 1_500).await.unwrap();
        assert!(attempt(user.id, in_transaction).await, "{way}: clear");
        assert_eq!(
            store.failures_since(&lock_key, 0).await.unwrap(),
            0,
            "{way}: the password's failures are forgotten with it"
        );
        // A lock set after the read: refused while in force, not after.
        let lock = |until| LockState {
            locked_until: until,
            lock_count: 1,
        };
        store.set_lock(&lock_key, lock(2_001)).await.unwrap();
        assert!(!attempt(user.id, in_transaction).await, "{way}: locked");
        store.set_lock(&lock_key, lock(2_000)).await.unwrap();
        assert!(attempt(user.id, in_transaction).await, "{way}: lock over");
        store.clear_locks(&lock_key).await.unwrap();
        // An address past its failures is paced before the hash, never
        // refused: its failures do not stop the write.
        for at in [1_600, 1_601, 1_602] {
            store.record_failure(ip_key, at).await.unwrap();
        }
        assert!(
            attempt(user.id, in_transaction).await,
            "{way}: the address's failures do not count here"
        );
        store.clear_failures(ip_key).await.unwrap();
        // No authenticator (unlinked meanwhile).
        assert!(
            !attempt(bare.id, in_transaction).await,
            "{way}: no authenticator"
        );
    }
}
both!(a_half_login_lands_only_if_its_guard_holds);

/// The code step of a login kept since its password step writes with a
/// guarded claim: it lands only if the authenticator is still the one read,
/// the pending session is still there, the account is not disabled and no
/// second-factor lock is in force — each checked as the finish writes, on
/// the one-unit write and in the transaction; a lost guard writes nothing.
async fn a_kept_login_finishes_only_if_its_guard_holds(app: &TestApp) {
    use domain::{ClaimGuard, LockState, SessionStage, Write};
    let store = app.app.store.clone();
    let (user, _) = app.add_user_with_totp("keptguard").await;
    let (other, _) = app.add_user_with_totp("keptother").await;
    let lock_key = domain::UserLimit::SecondFactor.of(user.id);
    let mut audit = event("kept login finished");
    audit.user_id = Some(user.id);
    let factor = store.totp(user.id).await.unwrap().unwrap();
    let sealed = factor.sealed_secret;
    let mut step = factor.last_step.unwrap_or(0);
    let mut n = 0;
    // Finishes the pending session `pending` with the guard's seed
    // `seed`; whether it landed (if not, checks nothing was written).
    let mut finish = async |pending: &str, seed: &[u8], in_transaction: bool| {
        n += 1;
        step += 1;
        let full = session(user.id, &format!("kept-full-{n}"), SessionStage::Full);
        let trail = store.recent_audit(1).await.unwrap();
        let mut writes = vec![
            Write::ClaimStep {
                user: user.id,
                step,
                clock_offset_steps: 0,
                guard: Some(ClaimGuard {
                    sealed_secret: seed,
                    session: pending,
                    lock_key: &lock_key,
                    now: 2_000,
                }),
            },
            Write::ClearFailures(&lock_key),
            Write::EndSession(pending),
            Write::Session(&full),
            Write::Audit(&audit),
        ];
        if in_transaction {
            writes.push(Write::ForgetDevices(user.id));
        }
        let last_step = store.totp(user.id).await.unwrap().unwrap().last_step;
        match store.write_all(&writes).await {
            Ok(()) => {
                assert!(store.session(&full.token_hash).await.unwrap().is_some());
                assert!(store.session(pending).await.unwrap().is_none());
                let factor = store.totp(user.id).await.unwrap().unwrap();
                assert_eq!(factor.last_step, Some(step), "the step is claimed");
                true
            }
            Err(domain::StoreError::Conflict(_)) => {
                assert!(store.session(&full.token_hash).await.unwrap().is_none());
                assert_eq!(store.recent_audit(1).await.unwrap(), trail);
                let factor = store.totp(user.id).await.unwrap().unwrap();
                assert_eq!(factor.last_step, last_step, "no step claimed");
                false
            }
            Err(e) => panic!("{e}"),
        }
    };
    let pending = |token: &str, who| session(who, token, SessionStage::Pending);
    for in_transaction in [false, true] {
        let way = if in_transaction {
            "transaction"
        } else {
            "one unit"
        };
        let token = format!("kept-{way}");
        let start = |token: &str, who| {
            let store = store.clone();
            let s = pending(token, who);
            async move { store.create_session(&s).await.unwrap() }
        };
        start(&token, user.id).await;
        // Another seed: the authenticator was replaced since the read.
        assert!(
            !finish(&token, b"another seed", in_transaction).await,
            "{way}: replaced authenticator"
        );
        // A lock set since: refused while in force, not after.
        let lock = |until| LockState {
            locked_until: until,
            lock_count: 1,
        };
        store.set_lock(&lock_key, lock(2_001)).await.unwrap();
        assert!(
            !finish(&token, &sealed, in_transaction).await,
            "{way}: locked"
        );
        store.set_lock(&lock_key, lock(2_000)).await.unwrap();
        // Disabled since (which ends the user's sessions: the pending one
        // is put back, so only the account's state is in the way).
        store.set_user_disabled(user.id, true).await.unwrap();
        start(&token, user.id).await;
        assert!(
            !finish(&token, &sealed, in_transaction).await,
            "{way}: disabled"
        );
        store.set_user_disabled(user.id, false).await.unwrap();
        if store.session(&token).await.unwrap().is_none() {
            start(&token, user.id).await;
        }
        // Another user's pending session is not this login's.
        let foreign = format!("kept-foreign-{way}");
        start(&foreign, other.id).await;
        assert!(
            !finish(&foreign, &sealed, in_transaction).await,
            "{way}: another user's session"
        );
        // All holds: it lands, and the failures counted go with it.
        store.record_failure(&lock_key, 1_500).await.unwrap();
        assert!(
            finish(&token, &sealed, in_transaction).await,
            "{way}: all holds"
        );
        assert_eq!(store.failures_since(&lock_key, 0).await.unwrap(), 0);
        // The session ended meanwhile (here: by the finish above).
        assert!(
            !finish(&token, &sealed, in_transaction).await,
            "{way}: session gone"
        );
        store.clear_locks(&lock_key).await.unwrap();
    }
}
both!(a_kept_login_finishes_only_if_its_guard_holds);
