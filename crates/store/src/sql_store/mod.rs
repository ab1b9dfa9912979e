//! [`SqlStore`]: the domain's `Store` over a concrete SQLite or PostgreSQL pool.

use domain::admin::{AuditFilter, StaffRow};
use domain::outbox::Topic;
use domain::ports::*;
use domain::{
    Amr, ApiKey, AuditEvent, Channel, ClaimGuard, LimitKey, LockState, NewMessage, NewUser,
    OutboxCounts, OutboxMessage, OutboxStatus, OutboxUpdate, PasswordStepState, PracticeId,
    PracticeLocale, PracticePolicy, RememberedDevice, Role, Sealed, SealedRow, SecondFactorState,
    Session, SessionStage, SmsCode, StoreError, TotpFactor, User, UserId, UserLimit, Write,
};
use sqlx::PgPool;

use std::sync::Arc;

use crate::lite::{Bound, execute_named};
use crate::pg_batch::PgHot;
use crate::sqlite_direct::Direct;
use crate::{Backend, ConnectError};

/// `sql::` in a statement is sqlx's API; inside an [`on_pool!`] body on
/// SQLite it is [`crate::lite`], which has the same shape over rusqlite.
use sqlx as sql;

#[derive(Debug, Clone)]
enum Pool {
    /// rusqlite connections: reads on the calling thread, writes on one
    /// writer thread (see [`crate::sqlite_direct`] and [`crate::lite`]).
    Sqlite(Arc<Direct>),
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
/// body is written once and compiled for each backend: `sql::query(…)` in
/// it is sqlx's on PostgreSQL and [`crate::lite`]'s on SQLite.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => {
                #[allow(unused_imports)]
                use $crate::lite as sql;
                $body
            }
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
        sql::query($sql)
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
        let (id,): (i64,) = bind_outbox!(sql::query_as(SQL.as_str()), $message)
            .fetch_one($conn)
            .await
            .map_err(db)?;
        id
    }};
}

/// Statements run alone and inside [`Commit::write_all`] lists.
const SQL_SET_LAST_LOGIN: &str = "UPDATE users SET last_login_at = $1 WHERE id = $2";
const SQL_DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";
/// Ends every OpenID Connect grant of a user (their tokens go with them).
const SQL_END_GRANTS: &str = "DELETE FROM oidc_grants WHERE user_id = $1";
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

/// Appends `event` to the audit trail inside a SQLite writer job.
pub(crate) fn insert_audit(
    conn: &rusqlite::Connection,
    event: &AuditEvent,
) -> rusqlite::Result<()> {
    bind_audit!(Bound::default(), event)
        .execute(conn, &SQL_INSERT_AUDIT)
        .map(drop)
}

/// Appends `$event` to the audit trail on `$conn`.
macro_rules! insert_audit {
    ($conn:expr, $event:expr) => {{
        bind_audit!(sql::query(SQL_INSERT_AUDIT.as_str()), $event)
            .execute($conn)
            .await
            .map_err(db)?;
    }};
}

/// Starts a session: [`bind_session!`] binds its values.
const SQL_INSERT_SESSION: &str = "INSERT INTO sessions (token_hash, user_id, stage, created_at, last_seen_at, failures, amr) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

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
            .bind(session.amr.as_text())
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
            } => $query
                .bind(lock_key.as_str())
                .bind(to_i64(now))
                .bind(user.0),
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
                        .bind(guard.lock_key.as_str())
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
        bind_session!(sql::query(SQL_INSERT_SESSION), $session)
            .execute($conn)
            .await
            .map_err(db)?;
    }};
}

/// Counts one text to `$phone` for `$user` at `$at`, on `$conn`.
macro_rules! insert_sms_send {
    ($conn:expr, $user:expr, $phone:expr, $at:expr) => {
        sql::query("INSERT INTO sms_sends (user_id, phone, at) VALUES ($1, $2, $3)")
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
        let seal: (i64, String) = sql::query_as(
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
        use sql::Row as _;
        let row = $row;
        let get_err = |e: sql::Error| StoreError::Corrupt(e.to_string());
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

/// A driver's error as the domain's: a unique violation is a conflict,
/// anything else makes the store unavailable.
pub(crate) fn db(error: impl Into<DbError>) -> StoreError {
    error.into().0
}

/// Either driver's error, made a [`StoreError`] (see [`db`]).
pub(crate) struct DbError(StoreError);

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        DbError(match &error {
            sqlx::Error::Database(e) if e.is_unique_violation() => {
                StoreError::Conflict(e.message().to_owned())
            }
            _ => StoreError::Unavailable(error.to_string()),
        })
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(error: rusqlite::Error) -> Self {
        DbError(crate::sqlite_direct::sqlite_error(error))
    }
}

/// [`crate::lite`] answers the domain's errors already.
impl From<StoreError> for DbError {
    fn from(error: StoreError) -> Self {
        DbError(error)
    }
}

/// [`SQL_CLAIM_TOTP_STEP`]'s text, shared with [`SQL_CLAIM_GUARDED_STEP`].
macro_rules! claim_totp_step {
    () => {
        "UPDATE totp_factors SET last_step = $2, clock_offset_steps = $3 \
         WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)"
    };
}

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

mod audit;
mod commit;
mod explain;
mod factors;
mod limits;
mod oidc;
mod outbox;
mod passkeys;
mod people;
mod rows;
mod sessions;
#[cfg(test)]
mod tests;

pub use explain::{ExplainArg, hot_queries};
pub(crate) use rows::*;

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
            Pool::Sqlite(pool) => {
                let text = format!("EXPLAIN QUERY PLAN {sql}");
                let rows: Vec<(i64, i64, i64, String)> =
                    bound!(crate::lite::query_as(&text), |_q, _v|
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

    /// A store over a SQLite file's connections.
    pub(crate) fn sqlite(direct: Direct) -> Self {
        SqlStore {
            pool: Pool::Sqlite(Arc::new(direct)),
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
        match &self.pool {
            Pool::Sqlite(direct) => crate::lite_migrate::run(direct).await,
            Pool::Postgres(pool, _) => sqlx::migrate!("migrations/postgres")
                .run(pool)
                .await
                .map_err(|e| ConnectError::Migrate(e.to_string())),
        }
    }

    /// Closes every connection (graceful shutdown, tests).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}
