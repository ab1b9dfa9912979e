use super::commit::*;
use super::*;

#[test]
fn audit_placeholders_follow_the_columns() {
    assert_eq!(
        audit_values(1),
        "$1, $2, $3, $4, $5, $6, $7, $8, (SELECT practice_id FROM users WHERE id = $2)"
    );
    assert_eq!(
        audit_values(4),
        "$4, $5, $6, $7, $8, $9, $10, $11, (SELECT practice_id FROM users WHERE id = $5)"
    );
    assert_eq!(AUDIT_INSERT_COLUMNS.split(", ").count(), 9);
}

#[test]
fn the_user_columns_are_counted_and_prefixed() {
    assert_eq!(USER_COLUMNS.split(", ").count(), USER_COLUMN_COUNT);
    let prefixed = user_columns_of("u");
    assert!(prefixed.starts_with("u.id, u.practice_id, "), "{prefixed}");
    assert!(prefixed.ends_with(", u.language"), "{prefixed}");
    // The password step's read has the user's columns first, then its own.
    assert!(
        SQL_USER_FOR_PASSWORD_STEP.starts_with(&format!("SELECT {prefixed}, (SELECT COUNT(*)")),
        "{}",
        *SQL_USER_FOR_PASSWORD_STEP
    );
}

fn event() -> AuditEvent {
    AuditEvent {
        at: 1,
        user_id: Some(UserId(7)),
        username: "u".into(),
        kind: "totp_token".into(),
        outcome: "success".into(),
        ip: "127.0.0.1".into(),
        user_agent: "test".into(),
        detail: String::new(),
    }
}

fn statement(writes: &[Write<'_>]) -> Option<(String, usize)> {
    use sqlx::Arguments as _;
    pg_one_statement(writes).map(|s| {
        let s = s.expect("binds");
        (s.sql, s.args.len())
    })
}

#[test]
fn a_login_finish_is_one_statement_numbered_through() {
    let pending = "p".repeat(64);
    let session = Session {
        token_hash: "f".repeat(64),
        user_id: UserId(7),
        stage: SessionStage::Full,
        created_at: 1,
        last_seen_at: 1,
        failures: 0,
        amr: domain::Amr::PWD.with(domain::Amr::OTP),
    };
    let event = event();
    let (sql, values) = statement(&[
        Write::ClearFailures(&UserLimit::SecondFactor.of(UserId(7))),
        Write::EndSession(&pending),
        Write::CancelHeld(&pending),
        Write::Session(&session),
        Write::LastLogin {
            user: UserId(7),
            now: 5,
        },
        Write::Audit(&event),
    ])
    .expect("one statement");
    assert_eq!(
        sql,
        format!(
            "WITH w0 AS (DELETE FROM failures WHERE key = $1), \
             w1 AS (DELETE FROM sessions WHERE token_hash = $2), \
             w2 AS (DELETE FROM outbox WHERE cancel_key = $3 AND status = 'pending'), \
             w3 AS (INSERT INTO sessions (token_hash, user_id, stage, created_at, last_seen_at, failures, amr) \
             VALUES ($4, $5, $6, $7, $8, $9, $10)), \
             w4 AS (UPDATE users SET last_login_at = $11 WHERE id = $12) \
             INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) VALUES ({})",
            audit_values(13)
        )
    );
    assert_eq!(values, 20, "every placeholder has its value");
    // One write alone is that statement as it is.
    assert_eq!(
        statement(&[Write::EndSession(&pending)]),
        Some((SQL_DELETE_SESSION.to_owned(), 1))
    );
}

#[test]
fn a_guarded_claim_names_the_stored_pending_stage_and_binds_seven_values() {
    assert!(SQL_CLAIM_GUARDED_STEP.contains(&format!(
        "stage = '{}'",
        domain::SessionStage::Pending.as_str()
    )));
    assert!(SQL_CLAIM_GUARDED_STEP.starts_with(SQL_CLAIM_TOTP_STEP));
    let pending = "p".repeat(64);
    let claim = |guard| {
        statement(&[
            Write::ClaimStep {
                user: UserId(7),
                step: 100,
                clock_offset_steps: 0,
                guard,
            },
            Write::EndSession(&pending),
        ])
        .expect("one statement")
    };
    let guard = ClaimGuard {
        sealed_secret: b"sealed",
        session: &pending,
        lock_key: &UserLimit::SecondFactor.of(UserId(7)),
        now: 5,
    };
    let (sql, values) = claim(Some(guard));
    assert!(sql.starts_with(&*SQL_CLAIM_GUARDED_PART), "{sql}");
    assert!(
        sql.contains("DELETE FROM sessions WHERE token_hash = $8 AND "),
        "{sql}"
    );
    assert_eq!(values, 8);
    assert_eq!(claim(None).1, 4, "unguarded: three values and the session");
}

#[test]
fn a_claim_first_makes_every_write_wait_for_it() {
    let pending = "p".repeat(64);
    let event = event();
    let (sql, values) = statement(&[
        Write::ClaimStep {
            user: UserId(7),
            step: 100,
            clock_offset_steps: 0,
            guard: None,
        },
        Write::EndSession(&pending),
        Write::LastLogin {
            user: UserId(7),
            now: 5,
        },
        Write::Audit(&event),
    ])
    .expect("one statement");
    let claimed = "EXISTS (SELECT 1 FROM claimed)";
    assert_eq!(
        sql,
        format!(
            "WITH claimed AS ({SQL_CLAIM_TOTP_STEP} RETURNING 1), \
             w0 AS (DELETE FROM sessions WHERE token_hash = $4 AND {claimed}), \
             w1 AS (UPDATE users SET last_login_at = $5 WHERE id = $6 AND {claimed}), \
             w2 AS (INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) SELECT {} WHERE {claimed}) \
             SELECT COUNT(*) FROM claimed",
            audit_values(7)
        )
    );
    assert_eq!(values, 14);
    // A claim anywhere but first: a transaction, in order.
    assert!(
        statement(&[
            Write::EndSession(&pending),
            Write::ClaimStep {
                user: UserId(7),
                step: 100,
                clock_offset_steps: 0,
                guard: None,
            },
        ])
        .is_none()
    );
    // Parts that cannot be made conditional safely.
    assert_eq!(
        only_if_claimed("DELETE FROM t WHERE a = $1 OR b = $2"),
        None
    );
    assert_eq!(only_if_claimed("DELETE FROM t"), None);
}

#[test]
fn order_dependent_or_conditional_lists_stay_transactions() {
    let event = event();
    let message = NewMessage {
        channel: Channel::Email,
        user_id: None,
        topic: String::new(),
        recipient: String::new(),
        subject: String::new(),
        key_id: String::new(),
        sealed_body: Vec::new(),
        idempotency_key: String::new(),
        created_at: 0,
        expires_at: None,
        claimed: false,
        send_at: 0,
        cancel_key: Some("k".into()),
    };
    // A cancel after the insert it would see; two rows of one table.
    assert!(statement(&[Write::Enqueue(&message), Write::CancelHeld("k")]).is_none());
    assert!(statement(&[Write::Audit(&event), Write::Audit(&event)]).is_none());
    // The cancel first is what running them in order does.
    assert!(statement(&[Write::CancelHeld("k"), Write::Enqueue(&message)]).is_some());
    // Conditional or many-row writes, and nothing at all.
    let link = Write::UseLink {
        token_hash: "t",
        now: 1,
    };
    assert!(statement(&[link, Write::Audit(&event)]).is_none());
    assert!(statement(&[Write::EndSessions(UserId(1))]).is_none());
    assert!(statement(&[]).is_none());
}

#[test]
fn fragments_renumber_only_placeholders() {
    let statement = PgStatement::default()
        .bind(1_i64)
        .bind(2_i64)
        .fragment("SELECT $1, '$', $2x, $10");
    assert_eq!(statement.sql, "SELECT $3, '$', $4x, $12");
}

#[test]
fn audit_search_numbers_the_filters_given_in_order() {
    let filter = AuditFilter {
        user: Some(UserId(7)),
        outcome: Some("failure".into()),
        ..AuditFilter::default()
    };
    let sql = sql_audit_search(false, &filter);
    assert!(
        sql.contains("WHERE e.id > $1 AND at >= $2 AND at < $3 AND user_id = $4 AND outcome = $5 ORDER BY e.id ASC LIMIT $6"),
        "{sql}"
    );
    let sql = sql_audit_search(true, &AuditFilter::default());
    assert!(
        sql.ends_with("WHERE e.id < $1 AND at >= $2 AND at < $3 ORDER BY e.id DESC LIMIT $4"),
        "{sql}"
    );
}
