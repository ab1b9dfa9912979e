//! The hot statements with sample arguments, for `EXPLAIN` checks that
//! they use their indexes.

use super::*;

/// A parameter for [`SqlStore::explain`].
#[derive(Debug, Clone, Copy)]
pub enum ExplainArg {
    /// An integer.
    Int(i64),
    /// Text.
    Text(&'static str),
    /// Bytes.
    Bytes(&'static [u8]),
    /// An array of integers (PostgreSQL only).
    Ints(&'static [i64]),
    /// An array of texts (PostgreSQL only).
    Texts(&'static [&'static str]),
}

/// The statements on the login, verification and administration paths,
/// by name, with sample parameters: the query-plan test checks each uses an
/// index, so the cost does not grow with the number of users.
pub fn hot_queries(backend: Backend) -> Vec<(&'static str, String, Vec<ExplainArg>)> {
    let mut queries = login_queries();
    queries.extend(lookup_queries());
    if backend == Backend::Postgres {
        queries.extend(batch_queries());
    }
    queries
}

/// A sample query: its name, its text and its arguments.
type Sample = (&'static str, String, Vec<ExplainArg>);

/// The login's and the code check's statements.
fn login_queries() -> Vec<Sample> {
    use ExplainArg::{Bytes, Int, Text};
    vec![
        (
            "second factor state",
            SQL_SECOND_FACTOR_STATE.into(),
            vec![Int(1), Text("2fa:user:1")],
        ),
        (
            "password step state",
            SQL_PASSWORD_STEP_STATE.clone(),
            vec![
                Text("pw:ip:127.0.0.1"),
                Int(0),
                Text("pw:user:1"),
                Int(1),
                Text("abandoned-login"),
            ],
        ),
        (
            "user for password step",
            SQL_USER_FOR_PASSWORD_STEP.clone(),
            vec![
                Text("pw:ip:127.0.0.1"),
                Int(0),
                Text("pw:user:"),
                Text("jane"),
                Text("abandoned-login"),
            ],
        ),
        (
            "password step guard",
            SQL_PASSWORD_GUARD.into(),
            vec![Text("pw:user:1"), Int(0), Int(1)],
        ),
        ("session", SQL_SESSION.into(), vec![Text("x")]),
        (
            "audit events after an id (sealer)",
            SQL_AUDIT_AFTER.clone(),
            vec![Int(1), Int(500)],
        ),
        (
            "failures in window",
            SQL_FAILURES_SINCE.into(),
            vec![Text("2fa:user:1"), Int(0)],
        ),
        (
            "claim totp step",
            SQL_CLAIM_TOTP_STEP.into(),
            vec![Int(1), Int(2), Int(0)],
        ),
        (
            "claim totp step, guarded",
            SQL_CLAIM_GUARDED_STEP.into(),
            vec![
                Int(1),
                Int(2),
                Int(0),
                Bytes(b"sealed"),
                Text("x"),
                Text("2fa:user:1"),
                Int(0),
            ],
        ),
    ]
}

/// Lookups by key, and the audit pages.
fn lookup_queries() -> Vec<Sample> {
    use ExplainArg::{Int, Text};
    let practice_filter = AuditFilter {
        practice: Some(domain::PracticeId(1)),
        ..AuditFilter::default()
    };
    vec![
        (
            "user by username",
            sql_user_by_username(),
            vec![Text("jane")],
        ),
        (
            "user by email",
            sql_user_by_email(),
            vec![Text("jane@clinic.example")],
        ),
        ("user by id", sql_user_by_id(), vec![Int(1)]),
        ("api key by hash", sql_api_key_by_hash(), vec![Text("x")]),
        ("device by token", sql_device_by_token(), vec![Text("x")]),
        (
            "audit page of a practice",
            sql_audit_search(true, &practice_filter),
            vec![Int(i64::MAX), Int(0), Int(i64::MAX), Int(1), Int(51)],
        ),
        (
            "audit page of a user",
            sql_audit_search(
                true,
                &AuditFilter {
                    user: Some(UserId(1)),
                    ..practice_filter.clone()
                },
            ),
            vec![
                Int(i64::MAX),
                Int(0),
                Int(i64::MAX),
                Int(1),
                Int(1),
                Int(51),
            ],
        ),
    ]
}

/// PostgreSQL's batched statements of the code check.
fn batch_queries() -> Vec<Sample> {
    use ExplainArg::{Ints, Text, Texts};
    let mut queries = Vec::new();
    const TEXTS: &[&str] = &["2fa:user:1", "2fa:user:2"];
    const INTS: &[i64] = &[1, 2];
    let audit = || {
        vec![
            Ints(INTS),
            Ints(INTS),
            Texts(TEXTS),
            Texts(TEXTS),
            Texts(TEXTS),
            Texts(TEXTS),
            Texts(TEXTS),
            Texts(TEXTS),
        ]
    };
    queries.push((
        "session with second factor state",
        SQL_SESSION_STATE.clone(),
        vec![Text("x"), Text("2fa:user:")],
    ));
    let [read, claims, failures] = crate::pg_batch::batch_statements();
    queries.push((read.0, read.1.to_owned(), vec![Ints(INTS), Texts(TEXTS)]));
    let mut args = vec![Ints(INTS), Ints(INTS), Ints(INTS), Texts(TEXTS)];
    args.extend(audit());
    queries.push((claims.0, claims.1.to_owned(), args));
    let mut args = vec![Texts(TEXTS), Ints(INTS), Ints(INTS)];
    args.extend(audit());
    queries.push((failures.0, failures.1.to_owned(), args));
    queries
}
