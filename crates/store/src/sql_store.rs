//! [`SqlStore`]: the domain's `Store` over a concrete SQLite or PostgreSQL pool.

use domain::admin::{AuditFilter, StaffRow};
use domain::{
    ApiKey, AuditEvent, Channel, ClaimGuard, LockState, NewMessage, NewUser, OutboxCounts,
    OutboxMessage, OutboxStatus, OutboxUpdate, PasswordStepState, PracticeId, PracticePolicy,
    RememberedDevice, Role, Sealed, SealedRow, SecondFactorState, Session, SessionStage, SmsCode,
    Store, StoreError, TotpFactor, User, UserId, Write,
};
use sqlx::{PgPool, SqlitePool};

use std::sync::Arc;

use crate::pg_batch::PgHot;
use crate::sqlite_direct::{Bound, Direct, execute_named, insert_audit, query_row_named};
use crate::{Backend, ConnectError};

#[derive(Debug, Clone)]
enum Pool {
    /// sqlx's pool for most statements, direct connections for the
    /// second-factor hot path (see [`crate::sqlite_direct`]).
    Sqlite(SqlitePool, Arc<Direct>),
    /// sqlx's pool, with the second-factor hot path coalesced (see
    /// [`crate::pg_batch`]).
    Postgres(PgPool, Arc<PgHot>),
}

/// The domain's store on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: Pool,
}

/// Runs `$body` with `$pool` bound to whichever concrete pool is in use. The
/// body is written once and compiled for each backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool, _) => $body,
            Pool::Postgres($pool, _) => $body,
        }
    };
}

/// Runs one statement with its parameters on whichever pool is in use and
/// evaluates to the number of rows it changed.
macro_rules! execute {
    ($store:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        on_pool!($store, pool => execute_on!(pool, $sql $(, $arg)*))
    };
}

/// Runs one statement with its arguments on `$conn` (a pool or a
/// transaction) and evaluates to the number of rows it changed.
macro_rules! execute_on {
    ($conn:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        sqlx::query($sql)
            $(.bind($arg))*
            .execute($conn)
            .await
            .map_err(db)?
            .rows_affected()
    };
}

/// Inserts a message into the outbox: [`bind_outbox!`] binds its values.
const SQL_INSERT_OUTBOX: &str = "INSERT INTO outbox (channel, user_id, topic, recipient, subject, key_id, sealed_body, \
     idempotency_key, status, attempts, created_at, next_attempt_at, expires_at, cancel_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

/// Binds `$message`'s values to `$query` ([`SQL_INSERT_OUTBOX`]'s order).
macro_rules! bind_outbox {
    ($query:expr, $message:expr) => {{
        let message: &NewMessage = $message;
        let (status, next_attempt_at, attempts) = if message.claimed {
            (
                "sending",
                message.send_at + domain::outbox::LEASE_SECONDS,
                1_i64,
            )
        } else {
            ("pending", message.send_at, 0_i64)
        };
        $query
            .bind(message.channel.as_str())
            .bind(message.user_id.map(|u| u.0))
            .bind(&message.topic)
            .bind(&message.recipient)
            .bind(&message.subject)
            .bind(&message.key_id)
            .bind(&message.sealed_body)
            .bind(&message.idempotency_key)
            .bind(status)
            .bind(attempts)
            .bind(to_i64(message.created_at))
            .bind(to_i64(next_attempt_at))
            .bind(message.expires_at.map(to_i64))
            .bind(&message.cancel_key)
    }};
}

/// Inserts `$message` into the outbox on `$conn` (a pool or a transaction)
/// and evaluates to its id.
macro_rules! insert_outbox {
    ($conn:expr, $message:expr) => {{
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| format!("{SQL_INSERT_OUTBOX} RETURNING id"));
        let (id,): (i64,) = bind_outbox!(sqlx::query_as(SQL.as_str()), $message)
            .fetch_one($conn)
            .await
            .map_err(db)?;
        id
    }};
}

/// Statements run alone and inside [`Store::write_all`] lists.
const SQL_SET_LAST_LOGIN: &str = "UPDATE users SET last_login_at = $1 WHERE id = $2";
const SQL_DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";
const SQL_CLEAR_FAILURES: &str = "DELETE FROM failures WHERE key = $1";
const SQL_CANCEL_HELD: &str = "DELETE FROM outbox WHERE cancel_key = $1 AND status = 'pending'";

/// The columns of a new audit row; [`audit_values`] gives their
/// placeholders and [`bind_audit!`] their values, in this order.
pub(crate) const AUDIT_INSERT_COLUMNS: &str =
    "at, user_id, username, kind, outcome, ip, user_agent, detail, practice_id";

/// Placeholders `$first…$first+7` for an audit row's fields, then its
/// practice, read from the user (`$first+1`) by the insert itself.
fn audit_values(first: usize) -> String {
    let fields: Vec<String> = (first..first + 8).map(|n| format!("${n}")).collect();
    format!(
        "{}, (SELECT practice_id FROM users WHERE id = ${})",
        fields.join(", "),
        first + 1
    )
}

/// Binds `$event`'s fields to `$query` in [`AUDIT_INSERT_COLUMNS`] order.
macro_rules! bind_audit {
    ($query:expr, $event:expr) => {{
        let event: &AuditEvent = $event;
        $query
            .bind(to_i64(event.at))
            .bind(event.user_id.map(|u| u.0))
            .bind(&event.username)
            .bind(&event.kind)
            .bind(&event.outcome)
            .bind(&event.ip)
            .bind(&event.user_agent)
            .bind(&event.detail)
    }};
}

/// Appends one audit row, its practice read from the user.
pub(crate) static SQL_INSERT_AUDIT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) VALUES ({})",
        audit_values(1)
    )
});

/// Appends `$event` to the audit trail on `$conn`.
macro_rules! insert_audit {
    ($conn:expr, $event:expr) => {{
        bind_audit!(sqlx::query(SQL_INSERT_AUDIT.as_str()), $event)
            .execute($conn)
            .await
            .map_err(db)?;
    }};
}

/// Starts a session: [`bind_session!`] binds its values.
const SQL_INSERT_SESSION: &str = "INSERT INTO sessions (token_hash, user_id, stage, created_at, last_seen_at, failures) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Binds `$session`'s values to `$query` ([`SQL_INSERT_SESSION`]'s order).
macro_rules! bind_session {
    ($query:expr, $session:expr) => {{
        let session: &Session = $session;
        $query
            .bind(&session.token_hash)
            .bind(session.user_id.0)
            .bind(session.stage.as_str())
            .bind(to_i64(session.created_at))
            .bind(to_i64(session.last_seen_at))
            .bind(i64::from(session.failures))
    }};
}

/// Binds a [`Write::PasswordGuard`]'s values ([`SQL_PASSWORD_GUARD`]'s
/// order) with `bind` (a sqlx query, a [`PgStatement`] or a [`Bound`]);
/// any other write binds nothing.
macro_rules! bind_password_guard_with {
    ($query:expr, $write:expr) => {{
        match *$write {
            Write::PasswordGuard {
                user,
                lock_key,
                now,
            } => $query.bind(lock_key).bind(to_i64(now)).bind(user.0),
            _ => $query,
        }
    }};
}

/// Binds a [`Write::ClaimStep`]'s values ([`claim_sql`]'s order) with
/// `bind` (a sqlx query, a [`PgStatement`] or a [`Bound`]); any other
/// write binds nothing.
macro_rules! bind_claim_with {
    ($query:expr, $write:expr) => {{
        match *$write {
            Write::ClaimStep {
                user,
                step,
                clock_offset_steps,
                guard,
            } => {
                let query = $query
                    .bind(user.0)
                    .bind(to_i64(step))
                    .bind(clock_offset_steps);
                match guard {
                    Some(guard) => query
                        .bind(guard.sealed_secret)
                        .bind(guard.session)
                        .bind(guard.lock_key)
                        .bind(to_i64(guard.now)),
                    None => query,
                }
            }
            _ => $query,
        }
    }};
}

/// Inserts `$session` on `$conn` (a pool or a transaction).
macro_rules! insert_session {
    ($conn:expr, $session:expr) => {{
        bind_session!(sqlx::query(SQL_INSERT_SESSION), $session)
            .execute($conn)
            .await
            .map_err(db)?;
    }};
}

/// Counts one text to `$phone` for `$user` at `$at`, on `$conn`.
macro_rules! insert_sms_send {
    ($conn:expr, $user:expr, $phone:expr, $at:expr) => {
        sqlx::query("INSERT INTO sms_sends (user_id, phone, at) VALUES ($1, $2, $3)")
            .bind($user.0)
            .bind($phone)
            .bind(to_i64($at))
            .execute($conn)
            .await
            .map_err(db)?
    };
}

/// Takes the audit seal inside a transaction and reads where the chain
/// ends: the write takes SQLite's write lock and the row lock on
/// PostgreSQL, so sealers and pruners run one at a time.
macro_rules! take_seal {
    ($conn:expr) => {{
        let seal: (i64, String) = sqlx::query_as(
            "UPDATE audit_seal SET last_id = last_id WHERE id = 1 RETURNING last_id, last_hash",
        )
        .fetch_one($conn)
        .await
        .map_err(db)?;
        seal
    }};
}

const OUTBOX_COLUMNS: &str = "id, channel, user_id, topic, recipient, subject, key_id, sealed_body, \
     idempotency_key, status, attempts, created_at, next_attempt_at, expires_at, last_error, \
     provider_id, sent_at";

/// Reads an outbox row (selected with [`OUTBOX_COLUMNS`]) of either backend.
macro_rules! outbox_from_row {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        let get_err = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
        let channel: String = row.try_get(1).map_err(get_err)?;
        let status: String = row.try_get(9).map_err(get_err)?;
        let attempts: i64 = row.try_get(10).map_err(get_err)?;
        let opt_time = |value: Option<i64>| value.map(|t| to_u64(t, "time")).transpose();
        OutboxMessage {
            id: row.try_get(0).map_err(get_err)?,
            channel: Channel::parse(&channel)
                .ok_or_else(|| StoreError::Corrupt(format!("channel {channel:?}")))?,
            user_id: row
                .try_get::<Option<i64>, _>(2)
                .map_err(get_err)?
                .map(UserId),
            topic: row.try_get(3).map_err(get_err)?,
            recipient: row.try_get(4).map_err(get_err)?,
            subject: row.try_get(5).map_err(get_err)?,
            key_id: row.try_get(6).map_err(get_err)?,
            sealed_body: row.try_get(7).map_err(get_err)?,
            idempotency_key: row.try_get(8).map_err(get_err)?,
            status: OutboxStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            created_at: to_u64(row.try_get(11).map_err(get_err)?, "time")?,
            next_attempt_at: to_u64(row.try_get(12).map_err(get_err)?, "time")?,
            expires_at: opt_time(row.try_get(13).map_err(get_err)?)?,
            last_error: row.try_get(14).map_err(get_err)?,
            provider_id: row.try_get(15).map_err(get_err)?,
            sent_at: opt_time(row.try_get(16).map_err(get_err)?)?,
        }
    }};
}

pub(crate) fn db(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            StoreError::Conflict(e.message().to_owned())
        }
        _ => StoreError::Unavailable(error.to_string()),
    }
}

/// A statement put together from several: SQL text whose fragments' `$N`
/// parameters are numbered on from the fragments before, with their values.
/// The bind macros ([`bind_audit!`], [`bind_session!`], [`bind_outbox!`])
/// work on it as on a sqlx query.
#[derive(Default)]
struct PgStatement {
    sql: String,
    args: sqlx::postgres::PgArguments,
    error: Option<sqlx::error::BoxDynError>,
    /// What its first write is: after a claim or a guard it answers
    /// whether that held (`SELECT COUNT(*) FROM claimed`).
    head: Head,
}

impl PgStatement {
    /// Appends `sql`, its `$N` renumbered after the values bound so far.
    fn fragment(mut self, sql: &str) -> Self {
        use sqlx::Arguments as _;
        let offset = self.args.len();
        let mut rest = sql;
        while let Some(at) = rest.find('$') {
            self.sql.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if let Ok(n) = rest[..digits].parse::<usize>() {
                self.sql.push_str(&(n + offset).to_string());
            } else {
                self.sql.push_str(&rest[..digits]);
            }
            rest = &rest[digits..];
        }
        self.sql.push_str(rest);
        self
    }

    /// Binds the next value (the first encoding error is kept for later).
    fn bind<'q, T>(mut self, value: T) -> Self
    where
        T: sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + 'q,
    {
        use sqlx::Arguments as _;
        if let Err(error) = self.args.add(value) {
            self.error.get_or_insert(error);
        }
        self
    }
}

/// `part` (one write of [`pg_one_statement`]) made to write only if the
/// statement's `claimed` part took the step: a `WHERE` clause gains the
/// condition, an `INSERT … VALUES (…)` becomes `INSERT … SELECT … WHERE`.
fn only_if_claimed(part: &str) -> Option<String> {
    const CLAIMED: &str = "EXISTS (SELECT 1 FROM claimed)";
    if part.starts_with("INSERT ") {
        let (head, values) = part.split_once(" VALUES (")?;
        let values = values.strip_suffix(')')?;
        Some(format!("{head} SELECT {values} WHERE {CLAIMED}"))
    } else if part.contains(" WHERE ") && !part.contains(" OR ") {
        Some(format!("{part} AND {CLAIMED}"))
    } else {
        None
    }
}

/// SQLite: `writes` as statements for the direct writer thread
/// ([`crate::sqlite_direct`]), which commits them in one savepoint of its
/// group transaction: one hand-over to that thread instead of sqlx's two
/// per statement (a login's writes were 13 statements, 26 thread switches).
/// `None` (sqlx's transaction instead) for a kind it does not take, or a
/// claim or guard anywhere but first: the writer rolls a job back only on
/// an error, so a lost claim must come before anything is written.
fn sqlite_direct_writes(writes: &[Write<'_>]) -> Option<(Head, Vec<(&'static str, Bound)>)> {
    let mut parts = Vec::with_capacity(writes.len());
    for (i, write) in writes.iter().enumerate() {
        let none = Bound::default();
        parts.push(match *write {
            Write::ClaimStep { guard, .. } if i == 0 => {
                (claim_sql(guard.as_ref()), bind_claim_with!(none, write))
            }
            Write::PasswordGuard { .. } if i == 0 => {
                (SQL_PASSWORD_GUARD, bind_password_guard_with!(none, write))
            }
            Write::Session(session) => (SQL_INSERT_SESSION, bind_session!(none, session)),
            Write::EndSession(token_hash) => (SQL_DELETE_SESSION, none.bind(token_hash)),
            Write::ClearFailures(key) => (SQL_CLEAR_FAILURES, none.bind(key)),
            Write::CancelHeld(cancel_key) => (SQL_CANCEL_HELD, none.bind(cancel_key)),
            Write::Enqueue(message) => (SQL_INSERT_OUTBOX, bind_outbox!(none, message)),
            Write::LastLogin { user, now } => {
                (SQL_SET_LAST_LOGIN, none.bind(to_i64(now)).bind(user.0))
            }
            Write::Audit(event) => (SQL_INSERT_AUDIT.as_str(), bind_audit!(none, event)),
            _ => return None,
        });
    }
    Some((Head::of(writes), parts))
}

/// What the first write of a [`Store::write_all`] list is, for both
/// backends' single-unit writes ([`pg_one_statement`],
/// [`sqlite_direct_writes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Head {
    /// A write like the others.
    #[default]
    None,
    /// [`Write::ClaimStep`]: the rest only if it changed its row.
    Claim,
    /// [`Write::PasswordGuard`]: the rest only if it returns a row.
    Guard,
}

impl Head {
    fn of(writes: &[Write<'_>]) -> Head {
        match writes.first() {
            Some(Write::ClaimStep { .. }) => Head::Claim,
            Some(Write::PasswordGuard { .. }) => Head::Guard,
            _ => Head::None,
        }
    }

    /// The answer when the claim or guard did not hold.
    fn lost(self) -> StoreError {
        match self {
            Head::Guard => guard_failed(),
            Head::Claim | Head::None => step_taken(),
        }
    }
}

/// What a write does to which table, for [`pg_one_statement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Touch {
    Insert(&'static str),
    Delete(&'static str),
    Update(&'static str),
}

/// PostgreSQL: `writes` as one statement (data-modifying `WITH` parts), so
/// the change costs one round trip and one commit where `BEGIN`, each write
/// and `COMMIT` took one each — a login's password step went from 5 round
/// trips to 1 and its code step from 7 to 1. A single statement is atomic
/// on its own, as the transaction was.
///
/// The parts of one statement all see the database as it was before it and
/// run in no set order, so `None` (run the transaction instead) when that
/// could differ from running the writes one after the other: a write that
/// is not a plain single-row kind, two writes of the same kind to one table
/// (two audit rows would get their ids in no set order), or a delete after
/// an insert into the same table (it would not see the inserted row). The
/// writes accepted read no row another of them changes (the audit row's
/// practice comes from `users`, whose `last_login_at` alone may change).
fn pg_one_statement(writes: &[Write<'_>]) -> Option<Result<PgStatement, StoreError>> {
    // A claim or a guard first: every other part writes only if it held,
    // and the statement answers whether it did.
    let mut statement = PgStatement {
        head: Head::of(writes),
        ..PgStatement::default()
    };
    let writes = match writes.split_first() {
        Some((claim @ &Write::ClaimStep { guard, .. }, rest)) => {
            let part = match guard {
                Some(_) => &SQL_CLAIM_GUARDED_PART,
                None => &SQL_CLAIM_STEP_PART,
            };
            statement = bind_claim_with!(statement.fragment(part), claim);
            rest
        }
        Some((guard @ &Write::PasswordGuard { .. }, rest)) => {
            statement =
                bind_password_guard_with!(statement.fragment(&SQL_PASSWORD_GUARD_PART), guard);
            rest
        }
        _ => writes,
    };
    let claim = statement.head != Head::None;
    let last = if claim {
        // Every write is a part of its own; the main query answers.
        writes.len()
    } else {
        writes.len().checked_sub(1)?
    };
    let mut seen = Vec::with_capacity(writes.len());
    for (i, write) in writes.iter().enumerate() {
        if i < last {
            statement.sql.push_str(&format!(
                "{}w{i} AS (",
                if i == 0 && !claim { "WITH " } else { ", " }
            ));
        }
        let start = statement.sql.len();
        let touch;
        (touch, statement) = match *write {
            Write::Session(session) => (
                Touch::Insert("sessions"),
                bind_session!(statement.fragment(SQL_INSERT_SESSION), session),
            ),
            Write::EndSession(token_hash) => (
                Touch::Delete("sessions"),
                statement.fragment(SQL_DELETE_SESSION).bind(token_hash),
            ),
            Write::ClearFailures(key) => (
                Touch::Delete("failures"),
                statement.fragment(SQL_CLEAR_FAILURES).bind(key),
            ),
            Write::CancelHeld(cancel_key) => (
                Touch::Delete("outbox"),
                statement.fragment(SQL_CANCEL_HELD).bind(cancel_key),
            ),
            Write::Enqueue(message) => (
                Touch::Insert("outbox"),
                bind_outbox!(statement.fragment(SQL_INSERT_OUTBOX), message),
            ),
            Write::LastLogin { user, now } => (
                Touch::Update("users"),
                statement
                    .fragment(SQL_SET_LAST_LOGIN)
                    .bind(to_i64(now))
                    .bind(user.0),
            ),
            Write::Audit(event) => (
                Touch::Insert("audit_events"),
                bind_audit!(statement.fragment(&SQL_INSERT_AUDIT), event),
            ),
            _ => return None,
        };
        if seen.contains(&touch)
            || matches!(touch, Touch::Delete(table) if seen.contains(&Touch::Insert(table)))
        {
            return None;
        }
        seen.push(touch);
        if claim {
            let part = only_if_claimed(&statement.sql[start..])?;
            statement.sql.truncate(start);
            statement.sql.push_str(&part);
        }
        if i < last {
            statement.sql.push(')');
            if i + 1 == last && !claim {
                statement.sql.push(' ');
            }
        }
    }
    if claim {
        statement.sql.push_str(" SELECT COUNT(*) FROM claimed");
    }
    Some(match statement.error.take() {
        Some(error) => Err(db(sqlx::Error::Encode(error))),
        None => Ok(statement),
    })
}

pub(crate) fn to_i64(value: u64) -> i64 {
    // Times and steps are far below i64::MAX; saturate rather than wrap.
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}")))
}

type UserRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    bool,
    bool,
);

const USER_COLUMNS: &str =
    "id, practice_id, username, email, phone, role, password_hash, disabled, require_2fa";

/// How many [`USER_COLUMNS`] there are ([`UserRow`]'s fields): where a
/// row's columns after them start.
const USER_COLUMN_COUNT: usize = 9;

/// [`USER_COLUMNS`] of the table aliased `alias`.
fn user_columns_of(alias: &str) -> String {
    USER_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn user_from(row: UserRow) -> Result<User, StoreError> {
    let (id, practice_id, username, email, phone, role, password_hash, disabled, require_2fa) = row;
    Ok(User {
        id: UserId(id),
        practice_id: PracticeId(practice_id),
        username,
        email,
        phone,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        password_hash,
        disabled,
        require_2fa,
    })
}

type ApiKeyRow = (i64, i64, String, String, i64, Option<i64>, String);

const API_KEY_COLUMNS: &str = "id, practice_id, name, prefix, created_at, revoked_at, scopes";

fn api_key_from(row: ApiKeyRow) -> Result<ApiKey, StoreError> {
    let (id, practice_id, name, prefix, created_at, revoked_at, scopes) = row;
    Ok(ApiKey {
        scopes: domain::api::Scopes::parse(&scopes)
            .map_err(|e| StoreError::Corrupt(format!("api key scopes: {e}")))?,
        id,
        practice_id: PracticeId(practice_id),
        name,
        prefix,
        created_at: to_u64(created_at, "time")?,
        revoked_at: revoked_at.map(|t| to_u64(t, "time")).transpose()?,
    })
}

/// The hot path's read: user, authenticator, lock and whether failures
/// exist, in one statement.
pub(crate) const SQL_SECOND_FACTOR_STATE: &str = "SELECT u.id, u.practice_id, u.username, u.email, u.phone, u.role, u.password_hash, \
                   u.disabled, u.require_2fa, t.key_id, t.sealed_secret, t.algorithm, t.digits, t.period, \
                   t.last_step, t.clock_offset_steps, l.locked_until, l.lock_count, \
                   EXISTS (SELECT 1 FROM failures f WHERE f.key = $2) AS has_failures \
                   FROM users u LEFT JOIN totp_factors t ON t.user_id = u.id \
                   LEFT JOIN locks l ON l.key = $2 WHERE u.id = $1";
const SQL_SESSION: &str = "SELECT token_hash, user_id, stage, created_at, last_seen_at, failures \
                           FROM sessions WHERE token_hash = $1";
/// [`SQL_SECOND_FACTOR_STATE`] for the user and lock key given as SQL
/// expressions instead of its two parameters (it has no others, so `$1`
/// and `$2` are never part of a longer placeholder).
pub(crate) fn sql_second_factor_state_of(user: &str, lock_key: &str) -> String {
    SQL_SECOND_FACTOR_STATE
        .replace("$2", lock_key)
        .replace("$1", user)
}
/// [`SQL_SESSION`] and [`SQL_SECOND_FACTOR_STATE`] of the session's user in
/// one statement (PostgreSQL): the lock key is `$2` followed by the user id.
static SQL_SESSION_STATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let state = sql_second_factor_state_of("s.user_id", "k.lock_key");
    format!(
        "SELECT s.token_hash, s.user_id, s.stage, s.created_at, s.last_seen_at, s.failures, st.* \
         FROM sessions s CROSS JOIN LATERAL (SELECT $2 || s.user_id::text AS lock_key) k \
         CROSS JOIN LATERAL ({state}) st WHERE s.token_hash = $1"
    )
});
const SQL_INSERT_FAILURE: &str = "INSERT INTO failures (key, at) VALUES ($1, $2)";
const SQL_FAILURES_SINCE: &str = "SELECT COUNT(*) FROM failures WHERE key = $1 AND at >= $2";
/// [`SQL_CLAIM_TOTP_STEP`]'s text, shared with [`SQL_CLAIM_GUARDED_STEP`].
macro_rules! claim_totp_step {
    () => {
        "UPDATE totp_factors SET last_step = $2, clock_offset_steps = $3 \
         WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)"
    };
}

/// Compare-and-set of the last used step: the WHERE clause is the compare.
const SQL_CLAIM_TOTP_STEP: &str = claim_totp_step!();

/// [`SQL_CLAIM_TOTP_STEP`] with a [`ClaimGuard`]: the seed still `$4`, the
/// pending session `$5` of the user still there, the user not disabled, no
/// lock under `$6` in force at `$7`.
const SQL_CLAIM_GUARDED_STEP: &str = concat!(
    claim_totp_step!(),
    " AND sealed_secret = $4 \
     AND EXISTS (SELECT 1 FROM sessions WHERE token_hash = $5 AND user_id = $1 AND stage = 'pending') \
     AND EXISTS (SELECT 1 FROM users WHERE id = $1 AND NOT disabled) \
     AND NOT EXISTS (SELECT 1 FROM locks WHERE key = $6 AND locked_until > $7)"
);

/// A [`Write::ClaimStep`]'s statement: guarded or not.
fn claim_sql(guard: Option<&ClaimGuard<'_>>) -> &'static str {
    if guard.is_some() {
        SQL_CLAIM_GUARDED_STEP
    } else {
        SQL_CLAIM_TOTP_STEP
    }
}

/// [`SQL_CLAIM_TOTP_STEP`] as the first part of a [`pg_one_statement`].
static SQL_CLAIM_STEP_PART: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("WITH claimed AS ({SQL_CLAIM_TOTP_STEP} RETURNING 1)"));

/// [`SQL_CLAIM_GUARDED_STEP`] as the first part of a [`pg_one_statement`].
static SQL_CLAIM_GUARDED_PART: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("WITH claimed AS ({SQL_CLAIM_GUARDED_STEP} RETURNING 1)"));

/// [`SQL_PASSWORD_GUARD`] as the first part of a [`pg_one_statement`].
static SQL_PASSWORD_GUARD_PART: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("WITH claimed AS ({SQL_PASSWORD_GUARD})"));

/// [`Write::ClaimStep`] lost: another request took the step (or a later one).
fn step_taken() -> StoreError {
    StoreError::Conflict("authenticator step already used".into())
}

/// The columns of [`PasswordStepRow`] for the user `user` and the lock key
/// `lock` (SQL expressions), over `users u`, `practices p` and the user's
/// `totp_factors t` (the lock's columns are subqueries: as a join on a key
/// computed from `u.id`, PostgreSQL planned a filter over every lock; and
/// whether failures exist a scalar subquery, not `EXISTS`, which
/// PostgreSQL may run as a hashed scan of every failure when it expects
/// more than one row);
/// `$1` is the address's failure key, `$2` the window's start, `$5` the
/// notice topic.
fn sql_password_step_columns(user: &str, lock: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM failures WHERE key = $1 AND at >= $2) AS ip_failures, \
         (SELECT locked_until FROM locks WHERE key = {lock}) AS locked_until, \
         (SELECT lock_count FROM locks WHERE key = {lock}) AS lock_count, \
         (SELECT true FROM failures WHERE key = {lock} LIMIT 1) IS NOT NULL AS has_failures, \
         p.require_2fa AS practice_require_2fa, p.allow_sms, p.remember_days, p.idle_timeout_minutes, p.password_min_length, \
         (SELECT MAX(created_at) FROM outbox WHERE user_id = {user} AND topic = $5) AS last_message_at, \
         t.key_id, t.sealed_secret, t.algorithm, t.digits, t.period, t.last_step, \
         t.clock_offset_steps \
         FROM users u LEFT JOIN practices p ON p.id = u.practice_id \
         LEFT JOIN totp_factors t ON t.user_id = {user}"
    )
}

/// The password step's reads ([`Store::password_step_state`]) as one
/// statement, anchored on the user's row (`$4`, lock key `$3`); the
/// practice and lock may be missing (defaults then).
static SQL_PASSWORD_STEP_STATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} WHERE u.id = $4",
        sql_password_step_columns("$4", "$3")
    )
});

/// [`Store::user_for_password_step`]: the user named `$4` ([`USER_COLUMNS`])
/// and then [`PasswordStepRow`]'s columns, its lock key `$3` and its id.
static SQL_USER_FOR_PASSWORD_STEP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {}, {} WHERE u.username = $4",
        user_columns_of("u"),
        sql_password_step_columns("u.id", "$3 || CAST(u.id AS TEXT)")
    )
});

/// [`Write::PasswordGuard`]: one row if the step may still write (lock key
/// `$1`, now `$2`, user `$3`), none if not.
const SQL_PASSWORD_GUARD: &str = "SELECT 1 FROM totp_factors WHERE user_id = $3 \
     AND NOT EXISTS (SELECT 1 FROM locks WHERE key = $1 AND locked_until > $2)";

/// [`Store::book_slot`]: key `$1`, now `$2`, pace `$3`, longest wait `$4`.
/// `CASE` rather than `MAX`/`GREATEST`, which the two dialects spell apart.
const SQL_BOOK_SLOT: &str = "INSERT INTO locks (key, locked_until, lock_count) VALUES ($1, $2 + $3, 0) \
     ON CONFLICT (key) DO UPDATE SET locked_until = \
     CASE WHEN locks.locked_until > $2 THEN locks.locked_until ELSE $2 END + $3 \
     WHERE locks.locked_until - $2 <= $4 \
     RETURNING locked_until - $3";

/// Voids user `$1`'s unused single-use links at `$2`.
const SQL_VOID_LINKS: &str =
    "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL";

/// [`Write::PasswordGuard`] failed: a lock, throttle or unlinked
/// authenticator came between the step's read and its write.
fn guard_failed() -> StoreError {
    StoreError::Conflict("the password step is no longer allowed".into())
}

/// [`SQL_PASSWORD_STEP_STATE`]'s row.
#[derive(sqlx::FromRow)]
struct PasswordStepRow {
    ip_failures: i64,
    locked_until: Option<i64>,
    lock_count: Option<i64>,
    has_failures: bool,
    /// The practice's (named apart from the user's own, read beside it).
    #[sqlx(rename = "practice_require_2fa")]
    require_2fa: Option<bool>,
    allow_sms: Option<bool>,
    remember_days: Option<i64>,
    idle_timeout_minutes: Option<i64>,
    password_min_length: Option<i64>,
    last_message_at: Option<i64>,
    #[sqlx(flatten)]
    totp: TotpColumns,
}

impl PasswordStepRow {
    /// Reads the row in [`sql_password_step_columns`]' order, its first
    /// column at `first`.
    fn from_sqlite_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(PasswordStepRow {
            ip_failures: row.get(first)?,
            locked_until: row.get(first + 1)?,
            lock_count: row.get(first + 2)?,
            has_failures: row.get(first + 3)?,
            require_2fa: row.get(first + 4)?,
            allow_sms: row.get(first + 5)?,
            remember_days: row.get(first + 6)?,
            idle_timeout_minutes: row.get(first + 7)?,
            password_min_length: row.get(first + 8)?,
            last_message_at: row.get(first + 9)?,
            totp: TotpColumns::from_sqlite_at(row, first + 10)?,
        })
    }
}

/// [`PasswordStepState`] of user `user` from its row.
fn password_step_from(user: i64, row: PasswordStepRow) -> Result<PasswordStepState, StoreError> {
    let practice = match (
        row.require_2fa,
        row.allow_sms,
        row.remember_days,
        row.idle_timeout_minutes,
        row.password_min_length,
    ) {
        (Some(a), Some(b), Some(c), Some(d), Some(e)) => Some((a, b, c, d, e)),
        _ => None,
    };
    Ok(PasswordStepState {
        ip_failures: u32::try_from(row.ip_failures).unwrap_or(u32::MAX),
        lock: lock_from_row(row.locked_until.zip(row.lock_count))?,
        has_failures: row.has_failures,
        practice: practice_from_row(practice)?,
        totp: row.totp.of(user)?,
        last_message_at: row.last_message_at.map(|t| to_u64(t, "time")).transpose()?,
    })
}

/// A practice's settings as stored: require_2fa, allow_sms, remember_days,
/// idle_timeout_minutes, password_min_length.
type PracticeRow = (bool, bool, i64, i64, i64);

/// The settings in `row`, or the defaults when the practice has no row.
fn practice_from_row(row: Option<PracticeRow>) -> Result<PracticePolicy, StoreError> {
    let Some((require_2fa, allow_sms, remember, idle, min_length)) = row else {
        return Ok(PracticePolicy::default());
    };
    let number = |value: i64, what: &str| {
        u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value}")))
    };
    Ok(PracticePolicy {
        require_2fa,
        allow_sms,
        remember_days: number(remember, "remember_days")?,
        idle_timeout_minutes: number(idle, "idle_timeout_minutes")?,
        password_min_length: number(min_length, "password_min_length")?,
    })
}

/// A lock as stored, or none.
fn lock_from_row(row: Option<(i64, i64)>) -> Result<LockState, StoreError> {
    Ok(match row {
        Some((until, count)) => LockState {
            locked_until: to_u64(until, "lock time")?,
            lock_count: u32::try_from(count).unwrap_or(u32::MAX),
        },
        None => LockState::default(),
    })
}

fn sql_user_by_username() -> String {
    format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1")
}
fn sql_user_by_email() -> String {
    format!("SELECT {USER_COLUMNS} FROM users WHERE LOWER(email) = LOWER($1) ORDER BY id LIMIT 1")
}
fn sql_user_by_id() -> String {
    format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")
}
fn sql_api_key_by_hash() -> String {
    format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1")
}
fn sql_device_by_token() -> String {
    format!("SELECT {DEVICE_COLUMNS} FROM remembered_devices WHERE token_hash = $1")
}

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
/// index (issue #9: cost must not grow with the number of users).
pub fn hot_queries(backend: Backend) -> Vec<(&'static str, String, Vec<ExplainArg>)> {
    use ExplainArg::{Bytes, Int, Ints, Text, Texts};
    let practice_filter = AuditFilter {
        practice: Some(domain::PracticeId(1)),
        ..AuditFilter::default()
    };
    let mut queries = vec![
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
    ];
    if backend == Backend::Postgres {
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
    }
    queries
}

/// Rows sealed per UPDATE statement on SQLite (two parameters each).
const SEAL_CHUNK: usize = 250;

/// Writes the sealer's chain hashes, `(id, hash)`, in a transaction.
trait WriteChainHashes {
    async fn write_chain_hashes(&mut self, hashes: &[(i64, String)]) -> Result<(), sqlx::Error>;
}

impl WriteChainHashes for sqlx::Transaction<'_, sqlx::Sqlite> {
    /// One statement per chunk of `VALUES` rather than one per row.
    async fn write_chain_hashes(&mut self, hashes: &[(i64, String)]) -> Result<(), sqlx::Error> {
        for chunk in hashes.chunks(SEAL_CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql =
                format!("INSERT INTO audit_chain (id, chain_hash) VALUES {values} {CHAIN_UPSERT}");
            let mut query = sqlx::query(&sql);
            for (id, next) in chunk {
                query = query.bind(*id).bind(next);
            }
            query.execute(&mut **self).await?;
        }
        Ok(())
    }
}

impl WriteChainHashes for sqlx::Transaction<'_, sqlx::Postgres> {
    /// One statement, one prepared text: the hashes as two arrays.
    async fn write_chain_hashes(&mut self, hashes: &[(i64, String)]) -> Result<(), sqlx::Error> {
        let (ids, values): (Vec<i64>, Vec<&str>) =
            hashes.iter().map(|(id, hash)| (*id, hash.as_str())).unzip();
        let sql = format!(
            "INSERT INTO audit_chain (id, chain_hash) \
             SELECT * FROM unnest($1::bigint[], $2::text[]) {CHAIN_UPSERT}"
        );
        sqlx::query(&sql)
            .bind(ids)
            .bind(values)
            .execute(&mut **self)
            .await?;
        Ok(())
    }
}

/// One row of [`Store::second_factor_state`].
#[derive(sqlx::FromRow)]
pub(crate) struct SecondFactorRow {
    id: i64,
    practice_id: i64,
    username: String,
    email: String,
    phone: Option<String>,
    role: String,
    password_hash: Option<String>,
    disabled: bool,
    require_2fa: bool,
    #[sqlx(flatten)]
    totp: TotpColumns,
    locked_until: Option<i64>,
    lock_count: Option<i64>,
    has_failures: bool,
}

/// One row of [`SQL_SESSION_STATE`].
#[derive(sqlx::FromRow)]
struct SessionStateRow {
    token_hash: String,
    user_id: i64,
    stage: String,
    created_at: i64,
    last_seen_at: i64,
    failures: i64,
    #[sqlx(flatten)]
    state: SecondFactorRow,
}

impl SecondFactorRow {
    /// Reads the row in [`SQL_SECOND_FACTOR_STATE`]'s column order.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(SecondFactorRow {
            id: row.get(0)?,
            practice_id: row.get(1)?,
            username: row.get(2)?,
            email: row.get(3)?,
            phone: row.get(4)?,
            role: row.get(5)?,
            password_hash: row.get(6)?,
            disabled: row.get(7)?,
            require_2fa: row.get(8)?,
            totp: TotpColumns::from_sqlite_at(row, 9)?,
            locked_until: row.get(16)?,
            lock_count: row.get(17)?,
            has_failures: row.get(18)?,
        })
    }
}

/// [`SecondFactorState`] from its row.
fn state_from(r: SecondFactorRow) -> Result<SecondFactorState, StoreError> {
    let totp = r.totp.of(r.id)?;
    let user = user_from((
        r.id,
        r.practice_id,
        r.username,
        r.email,
        r.phone,
        r.role,
        r.password_hash,
        r.disabled,
        r.require_2fa,
    ))?;
    Ok(SecondFactorState {
        user,
        totp,
        lock: LockState {
            locked_until: to_u64(r.locked_until.unwrap_or(0), "lock time")?,
            lock_count: u32::try_from(r.lock_count.unwrap_or(0)).unwrap_or(u32::MAX),
        },
        has_failures: r.has_failures,
    })
}

type TotpRow = (i64, String, Vec<u8>, String, i64, i64, Option<i64>, i64);

/// An authenticator's columns from a left join (`t.key_id, t.sealed_secret,
/// t.algorithm, t.digits, t.period, t.last_step, t.clock_offset_steps`), all
/// `None` if none is linked.
#[derive(sqlx::FromRow)]
pub(crate) struct TotpColumns {
    key_id: Option<String>,
    sealed_secret: Option<Vec<u8>>,
    algorithm: Option<String>,
    digits: Option<i64>,
    period: Option<i64>,
    last_step: Option<i64>,
    clock_offset_steps: Option<i64>,
}

impl TotpColumns {
    /// Reads the columns in their order, the first at `first`.
    fn from_sqlite_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(TotpColumns {
            key_id: row.get(first)?,
            sealed_secret: row.get(first + 1)?,
            algorithm: row.get(first + 2)?,
            digits: row.get(first + 3)?,
            period: row.get(first + 4)?,
            last_step: row.get(first + 5)?,
            clock_offset_steps: row.get(first + 6)?,
        })
    }

    /// User `user`'s authenticator, if one is linked.
    fn of(self, user: i64) -> Result<Option<TotpFactor>, StoreError> {
        match (
            self.key_id,
            self.sealed_secret,
            self.algorithm,
            self.digits,
            self.period,
        ) {
            (Some(key_id), Some(sealed), Some(algorithm), Some(digits), Some(period)) => {
                Ok(Some(totp_from((
                    user,
                    key_id,
                    sealed,
                    algorithm,
                    digits,
                    period,
                    self.last_step,
                    self.clock_offset_steps.unwrap_or(0),
                ))?))
            }
            _ => Ok(None),
        }
    }
}

fn totp_from(row: TotpRow) -> Result<TotpFactor, StoreError> {
    let (user_id, key_id, sealed_secret, algorithm, digits, period, last_step, offset) = row;
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(e.to_string());
    Ok(TotpFactor {
        user_id: UserId(user_id),
        key_id,
        sealed_secret,
        algorithm: algorithm.parse().map_err(|e| corrupt(&e))?,
        digits: otp::Digits::new(to_u64(digits, "digits")?).map_err(|e| corrupt(&e))?,
        period: otp::Period::new(to_u64(period, "period")?).map_err(|e| corrupt(&e))?,
        last_step: last_step.map(|s| to_u64(s, "step")).transpose()?,
        clock_offset_steps: offset,
    })
}

type SessionRow = (String, i64, String, i64, i64, i64);

fn session_from(row: SessionRow) -> Result<Session, StoreError> {
    let (token_hash, user_id, stage, created_at, last_seen_at, failures) = row;
    Ok(Session {
        token_hash,
        user_id: UserId(user_id),
        stage: SessionStage::parse(&stage)
            .ok_or_else(|| StoreError::Corrupt(format!("stage {stage:?}")))?,
        created_at: to_u64(created_at, "time")?,
        last_seen_at: to_u64(last_seen_at, "time")?,
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
    })
}

type DeviceRow = (i64, i64, String, i64, i64, i64);

const DEVICE_COLUMNS: &str = "id, user_id, label, created_at, last_used_at, expires_at";

fn device_from(row: DeviceRow) -> Result<RememberedDevice, StoreError> {
    let (id, user_id, label, created_at, last_used_at, expires_at) = row;
    Ok(RememberedDevice {
        id,
        user_id: UserId(user_id),
        label,
        created_at: to_u64(created_at, "time")?,
        last_used_at: to_u64(last_used_at, "time")?,
        expires_at: to_u64(expires_at, "time")?,
    })
}

type AuditRow = (
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn audit_from(row: AuditRow) -> Result<AuditEvent, StoreError> {
    let (at, user_id, username, kind, outcome, ip, user_agent, detail) = row;
    Ok(AuditEvent {
        at: to_u64(at, "time")?,
        user_id: user_id.map(UserId),
        username,
        kind,
        outcome,
        ip,
        user_agent,
        detail,
    })
}

/// An audit row with its id and chain hash.
type ChainedAuditRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

/// The chain hash of audit event `e` (`NULL` until sealed), looked up per
/// row returned: as a join, PostgreSQL's plan was a merge join that read
/// the whole of `audit_chain` for every page of 500 — the sealer did that
/// every 2 s, costing more the longer the trail (46,098 hashes read for a
/// page of 500 at 7.9 ms, against 0.7 ms this way). A macro, so `concat!`
/// can put it into constants.
macro_rules! chain_hash_of_e {
    () => {
        "(SELECT c.chain_hash FROM audit_chain c WHERE c.id = e.id)"
    };
}

/// An audit row with its chain hash, read from [`CHAINED_AUDIT_FROM`]
/// (`e` is the event).
const CHAINED_AUDIT_COLUMNS: &str = concat!(
    "e.id, e.at, e.user_id, e.username, e.kind, e.outcome, e.ip, e.user_agent, e.detail, ",
    chain_hash_of_e!(),
    " AS chain_hash"
);
const CHAINED_AUDIT_FROM: &str = "audit_events e";

/// A page of the audit search: `$1` the id to start after (or before,
/// newest first), `$2`/`$3` the time range, then one placeholder for each
/// filter given (practice, user, kind, outcome, in that order), then the
/// limit.
fn sql_audit_search(newest_first: bool, filter: &AuditFilter) -> String {
    let mut sql = format!(
        "SELECT {CHAINED_AUDIT_COLUMNS} FROM {CHAINED_AUDIT_FROM} WHERE e.id {} $1 AND at >= $2 AND at < $3",
        if newest_first { "<" } else { ">" }
    );
    let mut n = 3;
    for (given, column) in [
        (filter.practice.is_some(), "practice_id"),
        (filter.user.is_some(), "user_id"),
        (filter.kind.is_some(), "kind"),
        (filter.outcome.is_some(), "outcome"),
    ] {
        if given {
            n += 1;
            sql.push_str(&format!(" AND {column} = ${n}"));
        }
    }
    sql.push_str(&format!(
        " ORDER BY e.id {} LIMIT ${}",
        if newest_first { "DESC" } else { "ASC" },
        n + 1
    ));
    sql
}

/// The events after an id, oldest first, with their hashes: the sealer's
/// read (every 2 s, in service) and `audit verify`'s pages.
static SQL_AUDIT_AFTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {CHAINED_AUDIT_COLUMNS} FROM {CHAINED_AUDIT_FROM} WHERE e.id > $1 ORDER BY e.id LIMIT $2"
    )
});

/// The sealer's hashes are inserted; an id already there takes the new
/// hash. Ids are never handed out twice (identity, AUTOINCREMENT), so that
/// happens only after tampering — rows deleted and the seal moved back over
/// their leftover hashes — which `verify` reports; it must not also stop
/// the sealer.
const CHAIN_UPSERT: &str = "ON CONFLICT (id) DO UPDATE SET chain_hash = excluded.chain_hash";

fn chained_audit_from(
    row: ChainedAuditRow,
) -> Result<(i64, AuditEvent, Option<String>), StoreError> {
    let (id, at, user_id, username, kind, outcome, ip, user_agent, detail, hash) = row;
    let event = audit_from((at, user_id, username, kind, outcome, ip, user_agent, detail))?;
    Ok((id, event, hash))
}

impl SqlStore {
    /// Runs one SQL statement without parameters and returns the rows it
    /// changed. For tests that play the attacker with database access (and
    /// for maintenance); the application never calls it.
    pub async fn execute_sql(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(execute!(self, sql))
    }

    /// The plan of `sql` with `args`: SQLite's `EXPLAIN QUERY PLAN` details,
    /// or PostgreSQL's `EXPLAIN` with sequential scans discouraged (so a
    /// missing index shows as `Seq Scan` even on a small table).
    pub async fn explain(&self, sql: &str, args: &[ExplainArg]) -> Result<Vec<String>, StoreError> {
        // Scalars bind alike on both backends; each says what to do with
        // an array (`$v`: its values) given the query so far (`$q`).
        macro_rules! bound {
            ($query:expr, |$q:ident, $v:ident| ints: $ints:expr, texts: $texts:expr) => {{
                let mut query = $query;
                for arg in args {
                    query = match arg {
                        ExplainArg::Int(value) => query.bind(*value),
                        ExplainArg::Text(value) => query.bind(*value),
                        ExplainArg::Bytes(value) => query.bind(*value),
                        ExplainArg::Ints($v) => {
                            let $q = query;
                            $ints
                        }
                        ExplainArg::Texts($v) => {
                            let $q = query;
                            $texts
                        }
                    };
                }
                query
            }};
        }
        let no_arrays = || StoreError::Unavailable("SQLite has no array parameters".into());
        match &self.pool {
            Pool::Sqlite(pool, _) => {
                let text = format!("EXPLAIN QUERY PLAN {sql}");
                let rows: Vec<(i64, i64, i64, String)> = bound!(sqlx::query_as(&text), |_q, _v|
                    ints: return Err(no_arrays()),
                    texts: return Err(no_arrays()))
                .fetch_all(pool)
                .await
                .map_err(db)?;
                Ok(rows.into_iter().map(|(_, _, _, detail)| detail).collect())
            }
            Pool::Postgres(pool, _) => {
                // On a pool connection: the settings the server plans with.
                let mut tx = pool.begin().await.map_err(db)?;
                let text = format!("EXPLAIN {sql}");
                let rows: Vec<(String,)> = bound!(sqlx::query_as(&text), |query, values|
                    ints: query.bind(values.to_vec()),
                    texts: query.bind(values.to_vec()))
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
                tx.rollback().await.map_err(db)?;
                Ok(rows.into_iter().map(|(line,)| line).collect())
            }
        }
    }

    /// A store over a SQLite pool.
    pub(crate) fn sqlite(pool: SqlitePool, direct: Direct) -> Self {
        SqlStore {
            pool: Pool::Sqlite(pool, Arc::new(direct)),
        }
    }

    /// A store over a PostgreSQL pool.
    pub fn postgres(pool: PgPool) -> Self {
        SqlStore {
            pool: Pool::Postgres(pool.clone(), Arc::new(PgHot::new(pool))),
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(..) => Backend::Sqlite,
            Pool::Postgres(..) => Backend::Postgres,
        }
    }

    /// Brings the schema up to date with the migrations embedded in the binary.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        let result = match &self.pool {
            Pool::Sqlite(pool, _) => sqlx::migrate!("migrations/sqlite").run(pool).await,
            Pool::Postgres(pool, _) => sqlx::migrate!("migrations/postgres").run(pool).await,
        };
        result.map_err(|e| ConnectError::Migrate(e.to_string()))
    }

    /// Closes every connection (graceful shutdown, tests).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await.map_err(db)?;
        });
        Ok(())
    }

    async fn ensure_practice(&self, name: &str, now: u64) -> Result<PracticeId, StoreError> {
        let id: (i64,) = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO practices (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(to_i64(now))
            .execute(pool)
            .await
            .map_err(db)?;
            sqlx::query_as("SELECT id FROM practices WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(PracticeId(id.0))
    }

    async fn first_practice(&self) -> Result<Option<PracticeId>, StoreError> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id FROM practices ORDER BY id LIMIT 1")
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        Ok(row.map(|(id,)| PracticeId(id)))
    }

    async fn practice_policy(&self, practice: PracticeId) -> Result<PracticePolicy, StoreError> {
        let row: Option<PracticeRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT require_2fa, allow_sms, remember_days, idle_timeout_minutes, password_min_length \
                 FROM practices WHERE id = $1",
            )
            .bind(practice.0)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        practice_from_row(row)
    }

    async fn set_practice_policy(
        &self,
        practice: PracticeId,
        policy: &PracticePolicy,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE practices SET require_2fa = $1, allow_sms = $2, remember_days = $3, \
             idle_timeout_minutes = $4, password_min_length = $5 WHERE id = $6",
            policy.require_2fa,
            policy.allow_sms,
            i64::from(policy.remember_days),
            i64::from(policy.idle_timeout_minutes),
            i64::from(policy.password_min_length),
            practice.0,
        );
        Ok(())
    }

    async fn staff_page(
        &self,
        practice: PracticeId,
        search: &str,
        only: Option<UserId>,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<StaffRow>, u64), StoreError> {
        let mut pattern = String::from("%");
        for c in search.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let matches = "u.practice_id = $1 AND (LOWER(u.username) LIKE $2 ESCAPE '\\' \
                       OR LOWER(u.email) LIKE $2 ESCAPE '\\' OR LOWER(u.display_name) LIKE $2 ESCAPE '\\') \
                       AND ($5 < 0 OR u.id = $5)";
        let columns = user_columns_of("u");
        let sql = format!(
            "SELECT {columns}, u.display_name, u.last_login_at, \
             EXISTS (SELECT 1 FROM totp_factors t WHERE t.user_id = u.id), \
             COALESCE((SELECT MAX(l.locked_until) FROM locks l \
                       WHERE l.key IN ('2fa:user:' || CAST(u.id AS TEXT), 'pw:user:' || CAST(u.id AS TEXT))), 0) \
             FROM users u WHERE {matches} ORDER BY u.username LIMIT $3 OFFSET $4"
        );
        let count_sql = format!(
            "SELECT COUNT(*) FROM users u WHERE {}",
            matches.replace("$5", "$3")
        );
        type StaffSql = (
            i64,
            i64,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            bool,
            bool,
            String,
            Option<i64>,
            bool,
            i64,
        );
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, (total,)): (Vec<StaffSql>, (i64,)) = on_pool!(self, pool => {
            let rows = sqlx::query_as(&sql)
                .bind(practice.0)
                .bind(&pattern)
                .bind(i64::from(limit))
                .bind(offset)
                .bind(only.map_or(-1, |u| u.0))
                .fetch_all(pool)
                .await
                .map_err(db)?;
            let total = sqlx::query_as(&count_sql)
                .bind(practice.0)
                .bind(&pattern)
                .bind(only.map_or(-1, |u| u.0))
                .fetch_one(pool)
                .await
                .map_err(db)?;
            (rows, total)
        });
        let staff = rows
            .into_iter()
            .map(|r| {
                let user = user_from((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8))?;
                Ok(StaffRow {
                    user,
                    display_name: r.9,
                    last_login_at: r.10.map(|t| to_u64(t, "time")).transpose()?,
                    has_totp: r.11,
                    locked_until: to_u64(r.12, "time")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((staff, to_u64(total, "count")?))
    }

    async fn practice_admins(&self, practice: PracticeId) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE practice_id = $1 AND role = 'admin' \
             AND disabled = FALSE ORDER BY id"
        );
        let rows: Vec<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(practice.0).fetch_all(pool).await.map_err(db)?
        });
        rows.into_iter().map(user_from).collect()
    }

    async fn set_user_require_2fa(&self, user: UserId, required: bool) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE users SET require_2fa = $1 WHERE id = $2",
            required,
            user.0
        );
        Ok(())
    }

    async fn set_user_disabled(&self, user: UserId, disabled: bool) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(disabled)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if disabled {
                for sql in [
                    "DELETE FROM sessions WHERE user_id = $1",
                    "DELETE FROM remembered_devices WHERE user_id = $1",
                ] {
                    sqlx::query(sql).bind(user.0).execute(&mut *tx).await.map_err(db)?;
                }
            }
            tx.commit().await.map_err(db)?;
        });
        Ok(())
    }

    async fn set_last_login(&self, user: UserId, now: u64) -> Result<(), StoreError> {
        execute!(self, SQL_SET_LAST_LOGIN, to_i64(now), user.0);
        Ok(())
    }

    async fn reset_second_factors(&self, user: UserId) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            for sql in [
                "DELETE FROM totp_factors WHERE user_id = $1",
                "DELETE FROM recovery_codes WHERE user_id = $1",
                "DELETE FROM pending_enrollments WHERE user_id = $1",
                "DELETE FROM pending_phones WHERE user_id = $1",
                "DELETE FROM sms_codes WHERE user_id = $1",
                "DELETE FROM remembered_devices WHERE user_id = $1",
                "DELETE FROM sessions WHERE user_id = $1",
                // The user links a factor again at the next login.
                "UPDATE users SET phone = NULL, require_2fa = TRUE WHERE id = $1",
            ] {
                sqlx::query(sql).bind(user.0).execute(&mut *tx).await.map_err(db)?;
            }
            tx.commit().await.map_err(db)?;
        });
        Ok(())
    }

    async fn create_link_token(
        &self,
        token_hash: &str,
        user: UserId,
        now: u64,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            token_hash,
            user.0,
            to_i64(now),
            to_i64(expires_at),
        );
        Ok(())
    }

    async fn create_user(&self, user: &NewUser, now: u64) -> Result<UserId, StoreError> {
        let id: (i64,) = on_pool!(self, pool => {
            sqlx::query_as(
                "INSERT INTO users (practice_id, username, email, phone, role, password_hash, disabled, created_at, display_name) \
                 VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8) RETURNING id",
            )
            .bind(user.practice_id.0)
            .bind(&user.username)
            .bind(&user.email)
            .bind(&user.phone)
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(to_i64(now))
            .bind(&user.display_name)
            .fetch_one(pool)
            .await
            .map_err(db)?
        });
        Ok(UserId(id.0))
    }

    async fn create_api_user(
        &self,
        user: &NewUser,
        external_id: Option<&str>,
        now: u64,
    ) -> Result<UserId, StoreError> {
        let id: (i64,) = on_pool!(self, pool => {
            sqlx::query_as(
                "INSERT INTO users (practice_id, username, email, phone, role, password_hash, disabled, created_at, external_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8) RETURNING id",
            )
            .bind(user.practice_id.0)
            .bind(&user.username)
            .bind(&user.email)
            .bind(&user.phone)
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(to_i64(now))
            .bind(external_id)
            .fetch_one(pool)
            .await
            .map_err(db)?
        });
        Ok(UserId(id.0))
    }

    async fn external_id(&self, user: UserId) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT external_id FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        Ok(row.and_then(|(id,)| id))
    }

    async fn delete_user(&self, user: UserId) -> Result<(), StoreError> {
        execute!(self, "DELETE FROM users WHERE id = $1", user.0);
        Ok(())
    }

    async fn create_api_key(
        &self,
        practice: PracticeId,
        name: &str,
        prefix: &str,
        key_hash: &str,
        scopes: &str,
        now: u64,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as(
                "INSERT INTO api_keys (practice_id, name, prefix, key_hash, created_at, scopes) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(practice.0)
            .bind(name)
            .bind(prefix)
            .bind(key_hash)
            .bind(to_i64(now))
            .bind(scopes)
            .fetch_one(pool)
            .await
            .map_err(db)?
        });
        Ok(id)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<ApiKeyRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql_api_key_by_hash())
                .bind(key_hash)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.map(api_key_from).transpose()
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<ApiKeyRow> = on_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY id"))
                .fetch_all(pool)
                .await
                .map_err(db)?
        });
        rows.into_iter().map(api_key_from).collect()
    }

    async fn revoke_api_key(&self, id_or_prefix: &str, now: u64) -> Result<bool, StoreError> {
        let id: i64 = id_or_prefix.parse().unwrap_or(0);
        let changed = execute!(
            self,
            "UPDATE api_keys SET revoked_at = $3 WHERE (id = $1 OR prefix = $2) AND revoked_at IS NULL",
            id,
            id_or_prefix,
            to_i64(now)
        );
        Ok(changed > 0)
    }

    async fn idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
    ) -> Result<Option<(String, u16, String)>, StoreError> {
        let row: Option<(String, i64, String)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT request, status, body FROM api_idempotency WHERE api_key_id = $1 AND idem_key = $2",
            )
            .bind(api_key)
            .bind(idem_key)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        Ok(
            row.map(|(request, status, body)| {
                (request, u16::try_from(status).unwrap_or(500), body)
            }),
        )
    }

    async fn finish_idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE api_idempotency SET status = $3, body = $4 WHERE api_key_id = $1 AND idem_key = $2",
            api_key,
            idem_key,
            i64::from(status),
            body
        );
        Ok(())
    }

    async fn store_idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
        request: &str,
        status: u16,
        body: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let changed = execute!(
            self,
            "INSERT INTO api_idempotency (api_key_id, idem_key, request, status, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (api_key_id, idem_key) DO NOTHING",
            api_key,
            idem_key,
            request,
            i64::from(status),
            body,
            to_i64(now)
        );
        Ok(changed == 1)
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(sql_user_by_username);
        let row: Option<UserRow> = match &self.pool {
            // The password step's first read: on this thread, no hand-over.
            Pool::Sqlite(_, direct) => direct
                .read(|conn| query_row_named(conn, &SQL, &[&username], |r| UserRow::try_from(r)))?,
            Pool::Postgres(pool, _) => sqlx::query_as(&SQL)
                .bind(username)
                .fetch_optional(pool)
                .await
                .map_err(db)?,
        };
        row.map(user_from).transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let sql = sql_user_by_email();
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(email).fetch_optional(pool).await.map_err(db)?
        });
        row.map(user_from).transpose()
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = sql_user_by_id();
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await.map_err(db)?
        });
        row.map(user_from).transpose()
    }

    async fn set_totp(&self, factor: &TotpFactor, now: u64) -> Result<(), StoreError> {
        self.write_all(&[Write::Totp { factor, now }]).await
    }

    async fn totp(&self, user: UserId) -> Result<Option<TotpFactor>, StoreError> {
        let row: Option<TotpRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_id, key_id, sealed_secret, algorithm, digits, period, last_step, clock_offset_steps \
                 FROM totp_factors WHERE user_id = $1",
            )
            .bind(user.0)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        row.map(totp_from).transpose()
    }

    async fn sealed_key_usage(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT 'authenticators', key_id, COUNT(*) FROM totp_factors GROUP BY key_id \
                 UNION ALL SELECT 'offered authenticators', key_id, COUNT(*) FROM pending_enrollments GROUP BY key_id \
                 UNION ALL SELECT 'unsent messages', key_id, COUNT(*) FROM outbox WHERE status IN ('pending', 'sending') GROUP BY key_id \
                 ORDER BY 1, 2",
            )
            .fetch_all(pool)
            .await
            .map_err(db)?
        }))
    }

    async fn sealed_with_other_key(
        &self,
        what: Sealed,
        key_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SealedRow>, StoreError> {
        let sql = match what {
            Sealed::Authenticators => {
                "SELECT user_id, key_id, CAST(user_id AS TEXT), sealed_secret FROM totp_factors \
                 WHERE key_id <> $1 AND user_id > $2 ORDER BY 1 LIMIT $3"
            }
            Sealed::OfferedAuthenticators => {
                "SELECT user_id, key_id, CAST(user_id AS TEXT), sealed_secret FROM pending_enrollments \
                 WHERE key_id <> $1 AND user_id > $2 ORDER BY 1 LIMIT $3"
            }
            Sealed::UnsentMessages => {
                "SELECT id, key_id, idempotency_key, sealed_body FROM outbox \
                 WHERE key_id <> $1 AND id > $2 AND status IN ('pending', 'sending') ORDER BY 1 LIMIT $3"
            }
        };
        let rows: Vec<(i64, String, String, Vec<u8>)> = on_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(key_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db)?
        });
        Ok(rows
            .into_iter()
            .map(|(id, key_id, bound_to, sealed)| SealedRow {
                id,
                key_id,
                bound_to,
                sealed,
            })
            .collect())
    }

    async fn reseal(
        &self,
        what: Sealed,
        id: i64,
        old_key_id: &str,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let sql = match what {
            Sealed::Authenticators => {
                "UPDATE totp_factors SET key_id = $3, sealed_secret = $4 WHERE user_id = $1 AND key_id = $2"
            }
            Sealed::OfferedAuthenticators => {
                "UPDATE pending_enrollments SET key_id = $3, sealed_secret = $4 WHERE user_id = $1 AND key_id = $2"
            }
            Sealed::UnsentMessages => {
                "UPDATE outbox SET key_id = $3, sealed_body = $4 WHERE id = $1 AND key_id = $2"
            }
        };
        Ok(execute!(self, sql, id, old_key_id, key_id, sealed) == 1)
    }

    async fn claim_totp_step(
        &self,
        user: UserId,
        step: u64,
        clock_offset_steps: i64,
    ) -> Result<bool, StoreError> {
        // One statement: the WHERE clause is the compare, the SET the swap.
        // Of N parallel requests with the same step exactly one changes a row.
        let done = on_pool!(self, pool => {
            sqlx::query(SQL_CLAIM_TOTP_STEP)
            .bind(user.0)
            .bind(to_i64(step))
            .bind(clock_offset_steps)
            .execute(pool)
            .await
            .map_err(db)?
            .rows_affected()
        });
        Ok(done == 1)
    }

    async fn claim_totp_step_recorded(
        &self,
        user: UserId,
        step: u64,
        clock_offset_steps: i64,
        event: &AuditEvent,
        clear: Option<&str>,
    ) -> Result<bool, StoreError> {
        let hot = match &self.pool {
            // In the writer's transaction: the audit row and the cleared
            // failures only if the compare-and-set took the step.
            Pool::Sqlite(_, direct) => {
                let (user, step, event) = (user.0, to_i64(step), event.clone());
                let clear = clear.map(str::to_owned);
                return direct
                    .write(move |conn| {
                        let claimed = execute_named(
                            conn,
                            SQL_CLAIM_TOTP_STEP,
                            &[&user, &step, &clock_offset_steps],
                        )? == 1;
                        if claimed {
                            insert_audit(conn, &event)?;
                            if let Some(key) = &clear {
                                execute_named(conn, SQL_CLEAR_FAILURES, &[key])?;
                            }
                        }
                        Ok(claimed)
                    })
                    .await;
            }
            Pool::Postgres(_, hot) => hot,
        };
        hot.claim(user.0, to_i64(step), clock_offset_steps, event, clear)
            .await
    }

    async fn remove_second_factors(&self, user: UserId) -> Result<(), StoreError> {
        execute!(self, "DELETE FROM totp_factors WHERE user_id = $1", user.0);
        Ok(())
    }

    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            insert_session!(pool, session);
        });
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let row: Option<SessionRow> = match &self.pool {
            // Every page's first read: on this thread, no hand-over.
            Pool::Sqlite(_, direct) => direct.read(|conn| {
                query_row_named(conn, SQL_SESSION, &[&token_hash], |r| {
                    SessionRow::try_from(r)
                })
            })?,
            Pool::Postgres(pool, _) => sqlx::query_as(SQL_SESSION)
                .bind(token_hash)
                .fetch_optional(pool)
                .await
                .map_err(db)?,
        };
        row.map(session_from).transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: u64) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
            token_hash,
            to_i64(now)
        );
        Ok(())
    }

    async fn set_session_reauth(&self, token_hash: &str, now: u64) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE sessions SET reauth_at = $2 WHERE token_hash = $1",
            token_hash,
            to_i64(now)
        );
        Ok(())
    }

    async fn session_reauth(&self, token_hash: &str) -> Result<Option<u64>, StoreError> {
        let row: Option<(Option<i64>,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT reauth_at FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.and_then(|(at,)| at)
            .map(|t| to_u64(t, "time"))
            .transpose()
    }

    async fn put_pending_enrollment(
        &self,
        user: UserId,
        key_id: &str,
        sealed: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO pending_enrollments (user_id, key_id, sealed_secret, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET key_id = excluded.key_id, sealed_secret = excluded.sealed_secret, \
             created_at = excluded.created_at",
            user.0,
            key_id,
            sealed,
            to_i64(now)
        );
        Ok(())
    }

    async fn pending_enrollment(
        &self,
        user: UserId,
    ) -> Result<Option<(String, Vec<u8>, u64)>, StoreError> {
        let row: Option<(String, Vec<u8>, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT key_id, sealed_secret, created_at FROM pending_enrollments WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.map(|(key_id, sealed, at)| Ok((key_id, sealed, to_u64(at, "time")?)))
            .transpose()
    }

    async fn delete_pending_enrollment(&self, user: UserId) -> Result<(), StoreError> {
        self.write_all(&[Write::DropPendingEnrollment(user)]).await
    }

    async fn add_session_failure(&self, token_hash: &str) -> Result<u32, StoreError> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as(
                "UPDATE sessions SET failures = failures + 1 WHERE token_hash = $1 RETURNING failures",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        // A session deleted meanwhile counts as used up.
        Ok(row.map_or(u32::MAX, |(n,)| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        execute!(self, SQL_DELETE_SESSION, token_hash);
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<(), StoreError> {
        self.write_all(&[Write::EndSessions(user)]).await
    }

    async fn second_factor_state(
        &self,
        user: UserId,
        lock_key: &str,
    ) -> Result<Option<SecondFactorState>, StoreError> {
        let row: Option<SecondFactorRow> = match &self.pool {
            Pool::Sqlite(_, direct) => direct.read(|conn| {
                query_row_named(
                    conn,
                    SQL_SECOND_FACTOR_STATE,
                    &[&user.0, &lock_key],
                    SecondFactorRow::from_sqlite,
                )
            })?,
            Pool::Postgres(_, hot) => hot.second_factor_state(user.0, lock_key).await?,
        };
        row.map(state_from).transpose()
    }

    async fn session_with_state(
        &self,
        token_hash: &str,
        lock_prefix: &str,
    ) -> Result<Option<(Session, SecondFactorState)>, StoreError> {
        let pool = match &self.pool {
            Pool::Postgres(pool, _) => pool,
            // In-process: two reads cost no round trip.
            Pool::Sqlite(..) => {
                let Some(session) = self.session(token_hash).await? else {
                    return Ok(None);
                };
                let lock_key = format!("{lock_prefix}{}", session.user_id);
                let state = self.second_factor_state(session.user_id, &lock_key).await?;
                return Ok(state.map(|state| (session, state)));
            }
        };
        let row: Option<SessionStateRow> = sqlx::query_as(&SQL_SESSION_STATE)
            .bind(token_hash)
            .bind(lock_prefix)
            .fetch_optional(pool)
            .await
            .map_err(db)?;
        let Some(r) = row else { return Ok(None) };
        let session = session_from((
            r.token_hash,
            r.user_id,
            r.stage,
            r.created_at,
            r.last_seen_at,
            r.failures,
        ))?;
        Ok(Some((session, state_from(r.state)?)))
    }

    async fn record_failure_with_audit(
        &self,
        key: &str,
        now: u64,
        since: u64,
        event: &AuditEvent,
    ) -> Result<u32, StoreError> {
        let hot = match &self.pool {
            Pool::Sqlite(_, direct) => {
                let (key, event) = (key.to_owned(), event.clone());
                let (now, since) = (to_i64(now), to_i64(since));
                let count = direct
                    .write(move |conn| {
                        insert_audit(conn, &event)?;
                        execute_named(conn, SQL_INSERT_FAILURE, &[&key, &now])?;
                        query_row_named(conn, SQL_FAILURES_SINCE, &[&key, &since], |row| {
                            row.get::<_, i64>(0)
                        })
                    })
                    .await?
                    .unwrap_or(0);
                return Ok(u32::try_from(count).unwrap_or(u32::MAX));
            }
            Pool::Postgres(_, hot) => hot,
        };
        hot.failure(key, to_i64(now), to_i64(since), event).await
    }

    async fn record_failure(&self, key: &str, now: u64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            // Rows older than a day no longer count toward any window.
            sqlx::query("DELETE FROM failures WHERE key = $1 AND at < $2")
                .bind(key)
                .bind(to_i64(now.saturating_sub(86_400)))
                .execute(pool)
                .await
                .map_err(db)?;
            sqlx::query(SQL_INSERT_FAILURE)
                .bind(key)
                .bind(to_i64(now))
                .execute(pool)
                .await
                .map_err(db)?;
        });
        Ok(())
    }

    async fn failures_since(&self, key: &str, since: u64) -> Result<u32, StoreError> {
        let (n,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as(SQL_FAILURES_SINCE)
                .bind(key)
                .bind(to_i64(since))
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn password_step_state(
        &self,
        user: &User,
        ip_key: &str,
        since: u64,
        lock_key: &str,
        topic: &str,
    ) -> Result<Option<PasswordStepState>, StoreError> {
        let row: Option<PasswordStepRow> = match &self.pool {
            // On this thread, no hand-over.
            Pool::Sqlite(_, direct) => direct.read(|conn| {
                query_row_named(
                    conn,
                    &SQL_PASSWORD_STEP_STATE,
                    &[&ip_key, &to_i64(since), &lock_key, &user.id.0, &topic],
                    |r| PasswordStepRow::from_sqlite_at(r, 0),
                )
            })?,
            Pool::Postgres(pool, _) => sqlx::query_as(SQL_PASSWORD_STEP_STATE.as_str())
                .bind(ip_key)
                .bind(to_i64(since))
                .bind(lock_key)
                .bind(user.id.0)
                .bind(topic)
                .fetch_optional(pool)
                .await
                .map_err(db)?,
        };
        row.map(|row| password_step_from(user.id.0, row))
            .transpose()
    }

    async fn user_for_password_step(
        &self,
        username: &str,
        ip_key: &str,
        since: u64,
        lock_prefix: &str,
        topic: &str,
    ) -> Result<Option<(User, PasswordStepState)>, StoreError> {
        let row: Option<(UserRow, PasswordStepRow)> = match &self.pool {
            // On this thread, no hand-over.
            Pool::Sqlite(_, direct) => direct.read(|conn| {
                query_row_named(
                    conn,
                    &SQL_USER_FOR_PASSWORD_STEP,
                    &[&ip_key, &to_i64(since), &lock_prefix, &username, &topic],
                    |r| {
                        Ok((
                            UserRow::try_from(r)?,
                            PasswordStepRow::from_sqlite_at(r, USER_COLUMN_COUNT)?,
                        ))
                    },
                )
            })?,
            Pool::Postgres(pool, _) => {
                let row = sqlx::query(SQL_USER_FOR_PASSWORD_STEP.as_str())
                    .bind(ip_key)
                    .bind(to_i64(since))
                    .bind(lock_prefix)
                    .bind(username)
                    .bind(topic)
                    .fetch_optional(pool)
                    .await
                    .map_err(db)?;
                row.map(|row| {
                    use sqlx::FromRow as _;
                    Ok::<_, sqlx::Error>((
                        UserRow::from_row(&row)?,
                        PasswordStepRow::from_row(&row)?,
                    ))
                })
                .transpose()
                .map_err(db)?
            }
        };
        let Some((user, state)) = row else {
            return Ok(None);
        };
        let id = user.0;
        Ok(Some((user_from(user)?, password_step_from(id, state)?)))
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        execute!(self, SQL_CLEAR_FAILURES, key);
        Ok(())
    }

    async fn lock_state(&self, key: &str) -> Result<LockState, StoreError> {
        let row: Option<(i64, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT locked_until, lock_count FROM locks WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        lock_from_row(row)
    }

    async fn set_lock(&self, key: &str, state: LockState) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO locks (key, locked_until, lock_count) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET locked_until = excluded.locked_until, lock_count = excluded.lock_count",
            )
            .bind(key)
            .bind(to_i64(state.locked_until))
            .bind(i64::from(state.lock_count))
            .execute(pool)
            .await
            .map_err(db)?;
        });
        Ok(())
    }

    async fn sweep_locks(&self, before: u64) -> Result<u64, StoreError> {
        let before = to_i64(before);
        let locks = execute!(self, "DELETE FROM locks WHERE locked_until < $1", before);
        let failures = execute!(self, "DELETE FROM failures WHERE at < $1", before);
        Ok(locks + failures)
    }

    async fn book_slot(
        &self,
        key: &str,
        now: u64,
        pace: u64,
        max_wait: u64,
    ) -> Result<Option<u64>, StoreError> {
        let start: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as(SQL_BOOK_SLOT)
                .bind(key)
                .bind(to_i64(now))
                .bind(to_i64(pace))
                .bind(to_i64(max_wait))
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        start.map(|(start,)| to_u64(start, "slot")).transpose()
    }

    async fn clear_locks(&self, key: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM locks WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await
                .map_err(db)?;
            sqlx::query("DELETE FROM failures WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await
                .map_err(db)?;
        });
        Ok(())
    }

    async fn create_device(
        &self,
        user: UserId,
        token_hash: &str,
        label: &str,
        now: u64,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO remembered_devices (user_id, token_hash, label, created_at, last_used_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(user.0)
            .bind(token_hash)
            .bind(label)
            .bind(to_i64(now))
            .bind(to_i64(expires_at))
            .execute(pool)
            .await
            .map_err(db)?;
        });
        Ok(())
    }

    async fn device_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RememberedDevice>, StoreError> {
        let sql = sql_device_by_token();
        let row: Option<DeviceRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(token_hash).fetch_optional(pool).await.map_err(db)?
        });
        row.map(device_from).transpose()
    }

    async fn device_by_previous_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RememberedDevice>, StoreError> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM remembered_devices WHERE previous_token_hash = $1"
        );
        let row: Option<DeviceRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(token_hash).fetch_optional(pool).await.map_err(db)?
        });
        row.map(device_from).transpose()
    }

    async fn rotate_device(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE remembered_devices SET previous_token_hash = token_hash, token_hash = $3, last_used_at = $4 \
                 WHERE id = $1 AND token_hash = $2",
            )
            .bind(id)
            .bind(old_hash)
            .bind(new_hash)
            .bind(to_i64(now))
            .execute(pool)
            .await
            .map_err(db)?
            .rows_affected()
        });
        Ok(done == 1)
    }

    async fn delete_device(&self, id: i64) -> Result<(), StoreError> {
        execute!(self, "DELETE FROM remembered_devices WHERE id = $1", id);
        Ok(())
    }

    async fn user_devices(&self, user: UserId) -> Result<Vec<RememberedDevice>, StoreError> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM remembered_devices WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        );
        let rows: Vec<DeviceRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user.0).fetch_all(pool).await.map_err(db)?
        });
        rows.into_iter().map(device_from).collect()
    }

    async fn delete_user_device(&self, user: UserId, id: i64) -> Result<bool, StoreError> {
        let done = execute!(
            self,
            "DELETE FROM remembered_devices WHERE id = $1 AND user_id = $2",
            id,
            user.0
        );
        Ok(done == 1)
    }

    async fn delete_user_devices(&self, user: UserId) -> Result<(), StoreError> {
        self.write_all(&[Write::ForgetDevices(user)]).await
    }

    async fn put_pending_phone(
        &self,
        user: UserId,
        phone: &str,
        code_hash: &str,
        now: u64,
        message: &NewMessage,
    ) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            sqlx::query(
                "INSERT INTO pending_phones (user_id, phone, code_hash, created_at, tries) VALUES ($1, $2, $3, $4, 0) \
                 ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, code_hash = excluded.code_hash, \
                 created_at = excluded.created_at, tries = 0",
            )
            .bind(user.0)
            .bind(phone)
            .bind(code_hash)
            .bind(to_i64(now))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            insert_sms_send!(&mut *tx, user, phone, now);
            let id = insert_outbox!(&mut *tx, message);
            tx.commit().await.map_err(db)?;
            id
        }))
    }

    async fn pending_phone(
        &self,
        user: UserId,
    ) -> Result<Option<(String, String, u64, u32)>, StoreError> {
        let row: Option<(String, String, i64, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT phone, code_hash, created_at, tries FROM pending_phones WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.map(|(phone, hash, at, tries)| {
            Ok((
                phone,
                hash,
                to_u64(at, "time")?,
                u32::try_from(tries).unwrap_or(u32::MAX),
            ))
        })
        .transpose()
    }

    async fn add_pending_phone_try(&self, user: UserId) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE pending_phones SET tries = tries + 1 WHERE user_id = $1",
            user.0
        );
        Ok(())
    }

    async fn activate_pending_phone(&self, user: UserId, phone: &str) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            let removed = sqlx::query("DELETE FROM pending_phones WHERE user_id = $1 AND phone = $2")
                .bind(user.0)
                .bind(phone)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            if removed == 1 {
                sqlx::query("UPDATE users SET phone = $2 WHERE id = $1")
                    .bind(user.0)
                    .bind(phone)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            tx.commit().await.map_err(db)?;
            removed == 1
        });
        Ok(done)
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        now: u64,
        expires_at: u64,
        message: &NewMessage,
    ) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            // One live link at a time: the new one voids the older ones.
            execute_on!(&mut *tx, SQL_VOID_LINKS, user.0, to_i64(now));
            sqlx::query(
                "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(user.0)
            .bind(to_i64(now))
            .bind(to_i64(expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            let id = insert_outbox!(&mut *tx, message);
            tx.commit().await.map_err(db)?;
            id
        }))
    }

    async fn password_reset(&self, token_hash: &str) -> Result<Option<(UserId, u64)>, StoreError> {
        let row: Option<(i64, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT user_id, expires_at FROM password_resets WHERE token_hash = $1 AND used_at IS NULL")
                .bind(token_hash)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.map(|(user, expires)| Ok((UserId(user), to_u64(expires, "time")?)))
            .transpose()
    }

    async fn set_password_hash(&self, user: UserId, hash: &str) -> Result<(), StoreError> {
        self.write_all(&[Write::PasswordHash { user, hash }]).await
    }

    async fn write_all(&self, writes: &[Write<'_>]) -> Result<(), StoreError> {
        if let Pool::Postgres(pool, _) = &self.pool
            && let Some(statement) = pg_one_statement(writes)
        {
            let statement = statement?;
            if statement.head != Head::None {
                let (claimed,): (i64,) = sqlx::query_as_with(&statement.sql, statement.args)
                    .fetch_one(pool)
                    .await
                    .map_err(db)?;
                if claimed != 1 {
                    return Err(statement.head.lost());
                }
            } else {
                sqlx::query_with(&statement.sql, statement.args)
                    .execute(pool)
                    .await
                    .map_err(db)?;
            }
            return Ok(());
        }
        if let Pool::Sqlite(_, direct) = &self.pool
            && let Some((head, parts)) = sqlite_direct_writes(writes)
        {
            let held = direct
                .write(move |conn| {
                    for (i, (sql, values)) in parts.iter().enumerate() {
                        let held = match head {
                            Head::Guard if i == 0 => values.exists(conn, sql)?,
                            Head::Claim if i == 0 => values.execute(conn, sql)? == 1,
                            _ => values.execute(conn, sql).map(|_| true)?,
                        };
                        if !held {
                            // The head did not hold: nothing was written.
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })
                .await?;
            return if held { Ok(()) } else { Err(head.lost()) };
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            for write in writes {
                match *write {
                    Write::PasswordHash { user, hash } => {
                        execute_on!(&mut *tx, "UPDATE users SET password_hash = $2 WHERE id = $1", user.0, hash);
                    }
                    Write::EndSessions(user) => {
                        execute_on!(&mut *tx, "DELETE FROM sessions WHERE user_id = $1", user.0);
                    }
                    Write::EndOtherSessions { user, keep } => {
                        execute_on!(&mut *tx, "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", user.0, keep);
                    }
                    Write::ForgetDevices(user) => {
                        execute_on!(&mut *tx, "DELETE FROM remembered_devices WHERE user_id = $1", user.0);
                    }
                    Write::Totp { factor, now } => {
                        sqlx::query(
                            "INSERT INTO totp_factors (user_id, key_id, sealed_secret, algorithm, digits, period, last_step, clock_offset_steps, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                             ON CONFLICT (user_id) DO UPDATE SET key_id = excluded.key_id, sealed_secret = excluded.sealed_secret, \
                             algorithm = excluded.algorithm, digits = excluded.digits, period = excluded.period, \
                             last_step = excluded.last_step, clock_offset_steps = excluded.clock_offset_steps, created_at = excluded.created_at",
                        )
                        .bind(factor.user_id.0)
                        .bind(&factor.key_id)
                        .bind(&factor.sealed_secret)
                        .bind(factor.algorithm.uri_name())
                        .bind(i64::from(factor.digits.get()))
                        .bind(i64::from(factor.period.seconds()))
                        .bind(factor.last_step.map(to_i64))
                        .bind(factor.clock_offset_steps)
                        .bind(to_i64(now))
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    }
                    Write::DropPendingEnrollment(user) => {
                        execute_on!(&mut *tx, "DELETE FROM pending_enrollments WHERE user_id = $1", user.0);
                    }
                    Write::RecoveryCodes { user, codes, now } => {
                        execute_on!(&mut *tx, "DELETE FROM recovery_codes WHERE user_id = $1", user.0);
                        for (lookup, hash) in codes {
                            execute_on!(&mut *tx, "INSERT INTO recovery_codes (user_id, lookup, code_hash, created_at) VALUES ($1, $2, $3, $4)", user.0, lookup, hash, to_i64(now));
                        }
                    }
                    Write::UseLink { token_hash, now } => {
                        let done = execute_on!(&mut *tx, "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL", token_hash, to_i64(now));
                        if done != 1 {
                            // Dropping the transaction rolls it back.
                            return Err(StoreError::Conflict("link already used".into()));
                        }
                    }
                    Write::ClearLock(key) => {
                        execute_on!(&mut *tx, "DELETE FROM locks WHERE key = $1", key);
                        execute_on!(&mut *tx, SQL_CLEAR_FAILURES, key);
                    }
                    Write::VoidLinks { user, now } => {
                        execute_on!(&mut *tx, SQL_VOID_LINKS, user.0, to_i64(now));
                    }
                    Write::Session(session) => insert_session!(&mut *tx, session),
                    Write::EndSession(token_hash) => {
                        execute_on!(&mut *tx, SQL_DELETE_SESSION, token_hash);
                    }
                    Write::ClearFailures(key) => {
                        execute_on!(&mut *tx, SQL_CLEAR_FAILURES, key);
                    }
                    Write::CancelHeld(cancel_key) => {
                        execute_on!(&mut *tx, SQL_CANCEL_HELD, cancel_key);
                    }
                    Write::LastLogin { user, now } => {
                        execute_on!(&mut *tx, SQL_SET_LAST_LOGIN, to_i64(now), user.0);
                    }
                    Write::Audit(event) => insert_audit!(&mut *tx, event),
                    Write::Enqueue(message) => {
                        insert_outbox!(&mut *tx, message);
                    }
                    Write::PasswordGuard { .. } => {
                        let held: Option<(i32,)> = bind_password_guard_with!(sqlx::query_as(SQL_PASSWORD_GUARD), write)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db)?;
                        if held.is_none() {
                            // Dropping the transaction rolls it back.
                            return Err(guard_failed());
                        }
                    }
                    Write::ClaimStep { guard, .. } => {
                        let done = bind_claim_with!(sqlx::query(claim_sql(guard.as_ref())), write)
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?
                            .rows_affected();
                        if done != 1 {
                            // Dropping the transaction rolls it back.
                            return Err(step_taken());
                        }
                    }
                }
            }
            tx.commit().await.map_err(db)?;
        });
        Ok(())
    }

    async fn put_sms_code(
        &self,
        user: UserId,
        code: &SmsCode,
        message: &NewMessage,
    ) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            sqlx::query(
                "INSERT INTO sms_codes (user_id, code_hash, phone, created_at, expires_at, tries) \
                 VALUES ($1, $2, $3, $4, $5, 0) \
                 ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, phone = excluded.phone, \
                 created_at = excluded.created_at, expires_at = excluded.expires_at, tries = 0",
            )
            .bind(user.0)
            .bind(&code.code_hash)
            .bind(&code.phone)
            .bind(to_i64(code.created_at))
            .bind(to_i64(code.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            insert_sms_send!(&mut *tx, user, &code.phone, code.created_at);
            let id = insert_outbox!(&mut *tx, message);
            tx.commit().await.map_err(db)?;
            id
        }))
    }

    async fn sms_code(&self, user: UserId) -> Result<Option<SmsCode>, StoreError> {
        let row: Option<(String, String, i64, i64, i64)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT code_hash, phone, created_at, expires_at, tries FROM sms_codes WHERE user_id = $1",
            )
            .bind(user.0)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        row.map(|(code_hash, phone, created_at, expires_at, tries)| {
            Ok(SmsCode {
                code_hash,
                phone,
                created_at: to_u64(created_at, "time")?,
                expires_at: to_u64(expires_at, "time")?,
                tries: u32::try_from(tries).unwrap_or(u32::MAX),
            })
        })
        .transpose()
    }

    async fn add_sms_try(&self, user: UserId) -> Result<u32, StoreError> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as("UPDATE sms_codes SET tries = tries + 1 WHERE user_id = $1 RETURNING tries")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        Ok(row.map_or(u32::MAX, |(n,)| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    async fn consume_sms_code(&self, user: UserId, code_hash: &str) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            sqlx::query("DELETE FROM sms_codes WHERE user_id = $1 AND code_hash = $2")
                .bind(user.0)
                .bind(code_hash)
                .execute(pool)
                .await
                .map_err(db)?
                .rows_affected()
        });
        Ok(done == 1)
    }

    async fn delete_sms_code(&self, user: UserId) -> Result<(), StoreError> {
        execute!(self, "DELETE FROM sms_codes WHERE user_id = $1", user.0);
        Ok(())
    }

    async fn sms_sends_for_user(
        &self,
        user: UserId,
        since: u64,
    ) -> Result<(u32, Option<u64>), StoreError> {
        let (count, latest): (i64, Option<i64>) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*), MAX(at) FROM sms_sends WHERE user_id = $1 AND at >= $2")
                .bind(user.0)
                .bind(to_i64(since))
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok((
            u32::try_from(count).unwrap_or(u32::MAX),
            latest.map(|t| to_u64(t, "time")).transpose()?,
        ))
    }

    async fn sms_sends_to_phone(&self, phone: &str, since: u64) -> Result<u32, StoreError> {
        let (count,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM sms_sends WHERE phone = $1 AND at >= $2")
                .bind(phone)
                .bind(to_i64(since))
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[(String, String)],
        now: u64,
    ) -> Result<(), StoreError> {
        self.write_all(&[Write::RecoveryCodes { user, codes, now }])
            .await
    }

    async fn recovery_code(
        &self,
        user: UserId,
        lookup: &str,
    ) -> Result<Option<(i64, String)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, code_hash FROM recovery_codes WHERE user_id = $1 AND lookup = $2 AND used_at IS NULL",
            )
            .bind(user.0)
            .bind(lookup)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        }))
    }

    async fn use_recovery_code(&self, id: i64, now: u64) -> Result<bool, StoreError> {
        let done = execute!(
            self,
            "UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
            id,
            to_i64(now)
        );
        Ok(done == 1)
    }

    async fn unused_recovery_codes(&self, user: UserId) -> Result<u32, StoreError> {
        let (n,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                .bind(user.0)
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            insert_audit!(pool, event);
        });
        Ok(())
    }

    async fn append_audit_and_enqueue(
        &self,
        event: &AuditEvent,
        message: &NewMessage,
    ) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            insert_audit!(&mut *tx, event);
            let id = insert_outbox!(&mut *tx, message);
            tx.commit().await.map_err(db)?;
            id
        }))
    }

    async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        let rows: Vec<AuditRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT at, user_id, username, kind, outcome, ip, user_agent, detail \
                 FROM audit_events ORDER BY id DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db)?
        });
        rows.into_iter().map(audit_from).collect()
    }

    async fn audit_search(
        &self,
        filter: &AuditFilter,
        from_id: i64,
        newest_first: bool,
        limit: u32,
    ) -> Result<Vec<(i64, AuditEvent)>, StoreError> {
        enum Param<'a> {
            Int(i64),
            Text(&'a str),
        }
        let mut params = vec![
            Param::Int(from_id),
            Param::Int(to_i64(filter.since)),
            Param::Int(to_i64(filter.until)),
        ];
        let sql = sql_audit_search(newest_first, filter);
        // In the order of sql_audit_search's placeholders.
        if let Some(practice) = filter.practice {
            params.push(Param::Int(practice.0));
        }
        if let Some(user) = filter.user {
            params.push(Param::Int(user.0));
        }
        if let Some(kind) = &filter.kind {
            params.push(Param::Text(kind));
        }
        if let Some(outcome) = &filter.outcome {
            params.push(Param::Text(outcome));
        }
        params.push(Param::Int(i64::from(limit)));
        let rows: Vec<ChainedAuditRow> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql);
            for param in &params {
                query = match param {
                    Param::Int(value) => query.bind(*value),
                    Param::Text(value) => query.bind(*value),
                };
            }
            query.fetch_all(pool).await.map_err(db)?
        });
        rows.into_iter()
            .map(|row| chained_audit_from(row).map(|(id, event, _)| (id, event)))
            .collect()
    }

    async fn seal_audit(
        &self,
        cutoff: u64,
        limit: u32,
        hash: &(dyn for<'a, 'b> Fn(&'a str, i64, &'b AuditEvent) -> String + Sync),
    ) -> Result<usize, StoreError> {
        on_pool!(self, pool => {
            // Read and hash outside the write transaction (on SQLite the
            // write lock stops every request's writes); then take the seal
            // and write only if no other sealer moved it meanwhile.
            let (start_id, start_hash): (i64, String) =
                sqlx::query_as("SELECT last_id, last_hash FROM audit_seal WHERE id = 1")
                    .fetch_one(pool)
                    .await
                    .map_err(db)?;
            let rows: Vec<ChainedAuditRow> = sqlx::query_as(&SQL_AUDIT_AFTER)
            .bind(start_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db)?;
            let (mut last_id, mut last_hash) = (start_id, start_hash.clone());
            let mut hashes: Vec<(i64, String)> = Vec::with_capacity(rows.len());
            for row in rows {
                let (id, event, _) = chained_audit_from(row)?;
                // Stop at the first row that is too young: sealing past it
                // would leave it behind the chain.
                if event.at > cutoff {
                    break;
                }
                let next = hash(&last_hash, id, &event);
                last_id = id;
                last_hash = next.clone();
                hashes.push((id, next));
            }
            if hashes.is_empty() {
                return Ok(0);
            }
            let mut tx = pool.begin().await.map_err(db)?;
            let taken = take_seal!(&mut *tx);
            if taken != (start_id, start_hash) {
                // Another sealer went first; the next pass continues from it.
                tx.rollback().await.map_err(db)?;
                return Ok(0);
            }
            tx.write_chain_hashes(&hashes).await.map_err(db)?;
            sqlx::query("UPDATE audit_seal SET last_id = $1, last_hash = $2 WHERE id = 1")
                .bind(last_id)
                .bind(&last_hash)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            Ok(hashes.len())
        })
    }

    async fn audit_seal_state(&self) -> Result<((i64, String), (i64, String)), StoreError> {
        let (base_id, base_hash, last_id, last_hash): (i64, String, i64, String) = on_pool!(self, pool => {
            sqlx::query_as("SELECT base_id, base_hash, last_id, last_hash FROM audit_seal WHERE id = 1")
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(((base_id, base_hash), (last_id, last_hash)))
    }

    async fn prune_audit(&self, before: u64) -> Result<u64, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            let (last_id, _) = take_seal!(&mut *tx);
            // The prefix ends before the first sealed event that is young
            // enough to keep (or at the end of the sealed range).
            let (keep_from,): (Option<i64>,) = sqlx::query_as(
                "SELECT MIN(id) FROM audit_events WHERE id <= $1 AND at >= $2",
            )
            .bind(last_id)
            .bind(to_i64(before))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            let cut = keep_from.map_or(last_id, |id| id - 1);
            let row: Option<(i64, Option<String>)> = sqlx::query_as(
                concat!(
                    "SELECT e.id, ",
                    chain_hash_of_e!(),
                    " FROM audit_events e WHERE e.id <= $1 ORDER BY e.id DESC LIMIT 1"
                ),
            )
            .bind(cut)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            let deleted = match row {
                Some((cut_id, Some(hash))) => {
                    let deleted = sqlx::query("DELETE FROM audit_events WHERE id <= $1")
                        .bind(cut_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected();
                    sqlx::query("DELETE FROM audit_chain WHERE id <= $1")
                        .bind(cut_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query("UPDATE audit_seal SET base_id = $1, base_hash = $2 WHERE id = 1")
                        .bind(cut_id)
                        .bind(&hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    deleted
                }
                _ => 0,
            };
            tx.commit().await.map_err(db)?;
            Ok(deleted)
        })
    }

    async fn audit_chain_page(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<(i64, AuditEvent, Option<String>)>, StoreError> {
        let rows: Vec<ChainedAuditRow> = on_pool!(self, pool => {
            sqlx::query_as(&SQL_AUDIT_AFTER)
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db)?
        });
        rows.into_iter().map(chained_audit_from).collect()
    }

    async fn enqueue(&self, message: &NewMessage) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => insert_outbox!(pool, message)))
    }

    async fn claim_outbox(
        &self,
        now: u64,
        lease_until: u64,
        limit: u32,
        only: Option<i64>,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        // One statement: the rows are chosen and marked together, and on
        // PostgreSQL rows another worker is claiming are skipped, not waited on.
        let lock = match self.pool {
            Pool::Sqlite(..) => "",
            Pool::Postgres(..) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id IN (SELECT id FROM outbox WHERE status IN ('pending', 'sending') \
             AND next_attempt_at <= $1 AND ($4 = 0 OR id = $4) ORDER BY next_attempt_at, id LIMIT $3{lock}) \
             RETURNING {OUTBOX_COLUMNS}"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql)
                .bind(to_i64(now))
                .bind(to_i64(lease_until))
                .bind(i64::from(limit))
                .bind(only.unwrap_or(0))
                .fetch_all(pool)
                .await
                .map_err(db)?;
            rows.iter().map(|row| Ok(outbox_from_row!(row))).collect()
        })
    }

    async fn finish_outbox(&self, id: i64, update: &OutboxUpdate) -> Result<(), StoreError> {
        match update {
            OutboxUpdate::Sent { provider_id, at } => execute!(
                self,
                "UPDATE outbox SET status = 'sent', provider_id = $2, sent_at = $3, last_error = NULL \
                 WHERE id = $1 AND status = 'sending'",
                id,
                provider_id.as_deref(),
                to_i64(*at)
            ),
            OutboxUpdate::Retry { at, error } => execute!(
                self,
                "UPDATE outbox SET status = 'pending', next_attempt_at = $2, last_error = $3 \
                 WHERE id = $1 AND status = 'sending'",
                id,
                to_i64(*at),
                error.as_str()
            ),
            OutboxUpdate::Failed { error } => execute!(
                self,
                "UPDATE outbox SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'sending'",
                id,
                error.as_str()
            ),
        };
        Ok(())
    }

    async fn outbox_messages(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ($1 = '' OR status = $1) ORDER BY id DESC LIMIT $2"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql)
                .bind(status.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db)?;
            rows.iter().map(|row| Ok(outbox_from_row!(row))).collect()
        })
    }

    async fn outbox_message(&self, id: i64) -> Result<Option<OutboxMessage>, StoreError> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await.map_err(db)?;
            row.as_ref().map(|row| Ok(outbox_from_row!(row))).transpose()
        })
    }

    async fn retry_outbox(&self, id: i64, now: u64) -> Result<bool, StoreError> {
        let changed = execute!(
            self,
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2 \
             WHERE id = $1 AND status IN ('failed', 'pending')",
            id,
            to_i64(now)
        );
        Ok(changed == 1)
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let (pending, failed, oldest): (i64, i64, Option<i64>) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT \
                 COUNT(*) FILTER (WHERE status IN ('pending', 'sending')), \
                 COUNT(*) FILTER (WHERE status = 'failed'), \
                 MIN(created_at) FILTER (WHERE status IN ('pending', 'sending')) \
                 FROM outbox WHERE status <> 'sent'",
            )
            .fetch_one(pool)
            .await
            .map_err(db)?
        });
        Ok(OutboxCounts {
            pending: to_u64(pending, "count")?,
            failed: to_u64(failed, "count")?,
            oldest_pending_at: oldest.map(|t| to_u64(t, "time")).transpose()?,
        })
    }

    fn batch_lanes(&self) -> Vec<domain::BatchLane> {
        match &self.pool {
            Pool::Sqlite(_, direct) => vec![direct.lane()],
            Pool::Postgres(_, hot) => hot.lanes(),
        }
    }
}

#[cfg(test)]
mod tests {
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
        assert!(prefixed.ends_with(", u.require_2fa"), "{prefixed}");
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
        };
        let event = event();
        let (sql, values) = statement(&[
            Write::ClearFailures("2fa:user:7"),
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
                 w3 AS (INSERT INTO sessions (token_hash, user_id, stage, created_at, last_seen_at, failures) \
                 VALUES ($4, $5, $6, $7, $8, $9)), \
                 w4 AS (UPDATE users SET last_login_at = $10 WHERE id = $11) \
                 INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) VALUES ({})",
                audit_values(12)
            )
        );
        assert_eq!(values, 19, "every placeholder has its value");
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
            lock_key: "2fa:user:7",
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
}
