//! Several areas' writes committed as one: a transaction, or on
//! PostgreSQL one statement when order cannot matter, or on SQLite one
//! job for the direct writer.

use super::*;

/// A statement put together from several: SQL text whose fragments' `$N`
/// parameters are numbered on from the fragments before, with their values.
/// The bind macros ([`bind_audit!`], [`bind_session!`], [`bind_outbox!`])
/// work on it as on a sqlx query.
#[derive(Default)]
pub(crate) struct PgStatement {
    pub(crate) sql: String,
    pub(crate) args: sqlx::postgres::PgArguments,
    pub(crate) error: Option<sqlx::error::BoxDynError>,
    /// What its first write is: after a claim or a guard it answers
    /// whether that held (`SELECT COUNT(*) FROM claimed`).
    pub(crate) head: Head,
}

impl PgStatement {
    /// Appends `sql`, its `$N` renumbered after the values bound so far.
    pub(crate) fn fragment(mut self, sql: &str) -> Self {
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
    pub(crate) fn bind<'q, T>(mut self, value: T) -> Self
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
pub(crate) fn only_if_claimed(part: &str) -> Option<String> {
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
/// group transaction: one hand-over to that thread for the whole list, and
/// the list shares its commit with the other requests' writes (a
/// [`crate::lite::Tx`] holds the writer's connection alone).
/// `None` (a transaction instead) for a kind it does not take, or a
/// claim or guard anywhere but first: the writer rolls a job back only on
/// an error, so a lost claim must come before anything is written.
pub(crate) fn sqlite_direct_writes(
    writes: &[Write<'_>],
) -> Option<(Head, Vec<(&'static str, Bound)>)> {
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
            Write::ClearFailures(key) => (SQL_CLEAR_FAILURES, none.bind(key.as_str())),
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

/// What the first write of a [`Commit::write_all`] list is, for both
/// backends' single-unit writes ([`pg_one_statement`],
/// [`sqlite_direct_writes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Head {
    /// A write like the others.
    #[default]
    None,
    /// [`Write::ClaimStep`]: the rest only if it changed its row.
    Claim,
    /// [`Write::PasswordGuard`]: the rest only if it returns a row.
    Guard,
}

impl Head {
    pub(crate) fn of(writes: &[Write<'_>]) -> Head {
        match writes.first() {
            Some(Write::ClaimStep { .. }) => Head::Claim,
            Some(Write::PasswordGuard { .. }) => Head::Guard,
            _ => Head::None,
        }
    }

    /// The answer when the claim or guard did not hold.
    pub(crate) fn lost(self) -> StoreError {
        match self {
            Head::Guard => guard_failed(),
            Head::Claim | Head::None => step_taken(),
        }
    }
}

/// What a write does to which table, for [`pg_one_statement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Touch {
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
pub(crate) fn pg_one_statement(writes: &[Write<'_>]) -> Option<Result<PgStatement, StoreError>> {
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
        (touch, statement) = pg_part(statement, write)?;
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

/// `write` as the next part of a [`pg_one_statement`], with the table it
/// touches; `None` for a kind that cannot be a part.
fn pg_part(statement: PgStatement, write: &Write<'_>) -> Option<(Touch, PgStatement)> {
    Some(match *write {
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
            statement.fragment(SQL_CLEAR_FAILURES).bind(key.as_str()),
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
    })
}

/// PostgreSQL: a [`pg_one_statement`] run; a claim or guard at its head
/// that did not hold is the list's refusal (nothing was written).
async fn write_one_statement(pool: &PgPool, statement: PgStatement) -> Result<(), StoreError> {
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
    Ok(())
}

/// SQLite: [`sqlite_direct_writes`]' statements as one job of the direct
/// writer; a head that did not hold rolls the job back.
async fn write_direct(
    direct: &Direct,
    head: Head,
    parts: Vec<(&'static str, Bound)>,
) -> Result<(), StoreError> {
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
    if held { Ok(()) } else { Err(head.lost()) }
}

/// One write of a list committed in a transaction (a list neither the
/// single statement nor the direct writer takes), on either backend. A
/// claim or guard that does not hold returns its error, and dropping the
/// transaction rolls back what the list wrote before it.
pub(crate) trait TxWrite {
    /// A change to an account: its password, sessions ended, factors,
    /// links, locks. `false`: not one of these.
    async fn account_write(&mut self, write: &Write<'_>) -> Result<bool, StoreError>;
    /// A login's writes: sessions, failures, notices, audit rows, messages,
    /// the step claim and the password guard.
    async fn login_write(&mut self, write: &Write<'_>) -> Result<(), StoreError>;
}

/// [`TxWrite`] for one backend's transaction (`$tx`, its statements from
/// `$sql`, sqlx or [`crate::lite`]): the same text for both.
macro_rules! tx_write_for {
    ($tx:ty, $($sql:ident)::+) => {
        impl TxWrite for $tx {
            async fn account_write(&mut self, write: &Write<'_>) -> Result<bool, StoreError> {
                use $($sql)::+ as sql;
                match *write {
            Write::PasswordHash { user, hash } => {
                execute_on!(&mut **self, "UPDATE users SET password_hash = $2 WHERE id = $1", user.0, hash);
            }
            Write::EndSessions(user) => {
                execute_on!(&mut **self, "DELETE FROM sessions WHERE user_id = $1", user.0);
            }
            Write::EndOtherSessions { user, keep } => {
                execute_on!(&mut **self, "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", user.0, keep);
            }
            Write::ForgetDevices(user) => {
                execute_on!(&mut **self, "DELETE FROM remembered_devices WHERE user_id = $1", user.0);
            }
            Write::EndGrants(user) => {
                execute_on!(&mut **self, SQL_END_GRANTS, user.0);
            }
            Write::Totp { factor, now } => {
                sql::query(
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
                .execute(&mut **self)
                .await
                .map_err(db)?;
            }
            Write::DropPendingEnrollment(user) => {
                execute_on!(&mut **self, "DELETE FROM pending_enrollments WHERE user_id = $1", user.0);
            }
            Write::RecoveryCodes { user, codes, now } => {
                execute_on!(&mut **self, "DELETE FROM recovery_codes WHERE user_id = $1", user.0);
                for (lookup, hash) in codes {
                    execute_on!(&mut **self, "INSERT INTO recovery_codes (user_id, lookup, code_hash, created_at) VALUES ($1, $2, $3, $4)", user.0, lookup, hash, to_i64(now));
                }
            }
            Write::UseLink { token_hash, now } => {
                let done = execute_on!(&mut **self, "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL", token_hash, to_i64(now));
                if done != 1 {
                    // Dropping the transaction rolls it back.
                    return Err(StoreError::Conflict("link already used".into()));
                }
            }
            Write::ClearLock(key) => {
                execute_on!(&mut **self, "DELETE FROM locks WHERE key = $1", key.as_str());
                execute_on!(&mut **self, SQL_CLEAR_FAILURES, key.as_str());
            }
            Write::VoidLinks { user, now } => {
                execute_on!(&mut **self, SQL_VOID_LINKS, user.0, to_i64(now));
            }
                    _ => return Ok(false),
                }
                Ok(true)
            }

            async fn login_write(&mut self, write: &Write<'_>) -> Result<(), StoreError> {
                use $($sql)::+ as sql;
                match *write {
            Write::Session(session) => insert_session!(&mut **self, session),
            Write::EndSession(token_hash) => {
                execute_on!(&mut **self, SQL_DELETE_SESSION, token_hash);
            }
            Write::ClearFailures(key) => {
                execute_on!(&mut **self, SQL_CLEAR_FAILURES, key.as_str());
            }
            Write::CancelHeld(cancel_key) => {
                execute_on!(&mut **self, SQL_CANCEL_HELD, cancel_key);
            }
            Write::LastLogin { user, now } => {
                execute_on!(&mut **self, SQL_SET_LAST_LOGIN, to_i64(now), user.0);
            }
            Write::Audit(event) => insert_audit!(&mut **self, event),
            Write::Enqueue(message) => {
                insert_outbox!(&mut **self, message);
            }
            Write::PasswordGuard { .. } => {
                let held: Option<(i32,)> = bind_password_guard_with!(sql::query_as(SQL_PASSWORD_GUARD), write)
                    .fetch_optional(&mut **self)
                    .await
                    .map_err(db)?;
                if held.is_none() {
                    // Dropping the transaction rolls it back.
                    return Err(guard_failed());
                }
            }
            Write::ClaimStep { guard, .. } => {
                let done = bind_claim_with!(sql::query(claim_sql(guard.as_ref())), write)
                    .execute(&mut **self)
                    .await
                    .map_err(db)?
                    .rows_affected();
                if done != 1 {
                    // Dropping the transaction rolls it back.
                    return Err(step_taken());
                }
            }
                    // Written by `account_write`; listed so that a new kind
                    // of write is a compile error until it has its place.
                    Write::PasswordHash { .. }
                    | Write::EndSessions(_)
                    | Write::EndOtherSessions { .. }
                    | Write::ForgetDevices(_)
                    | Write::EndGrants(_)
                    | Write::Totp { .. }
                    | Write::DropPendingEnrollment(_)
                    | Write::RecoveryCodes { .. }
                    | Write::UseLink { .. }
                    | Write::ClearLock(_)
                    | Write::VoidLinks { .. } => {}
                }
                Ok(())
            }
        }
    };
}

tx_write_for!(crate::lite::Tx, crate::lite);
tx_write_for!(sqlx::Transaction<'_, sqlx::Postgres>, sqlx);

#[async_trait::async_trait]
impl Commit for SqlStore {
    async fn write_all(&self, writes: &[Write<'_>]) -> Result<(), StoreError> {
        if let Pool::Postgres(pool, _) = &self.pool
            && let Some(statement) = pg_one_statement(writes)
        {
            return write_one_statement(pool, statement?).await;
        }
        if let Pool::Sqlite(direct) = &self.pool
            && let Some((head, parts)) = sqlite_direct_writes(writes)
        {
            return write_direct(direct, head, parts).await;
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            for write in writes {
                if !tx.account_write(write).await? {
                    tx.login_write(write).await?;
                }
            }
            tx.commit().await.map_err(db)?;
        });
        Ok(())
    }
}

#[async_trait::async_trait]
impl Health for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sql::query("SELECT 1").execute(pool).await.map_err(db)?;
        });
        Ok(())
    }

    fn batch_lanes(&self) -> Vec<domain::BatchLane> {
        match &self.pool {
            Pool::Sqlite(direct) => vec![direct.lane()],
            Pool::Postgres(_, hot) => hot.lanes(),
        }
    }
}
