//! The part of sqlx's query API the store's shared bodies use, over
//! rusqlite: SQLite's one driver.
//!
//! Every statement of the store is written once, in [`on_pool!`] bodies
//! that say `sql::query(…).bind(…).execute(pool)` (or `fetch_one`,
//! `fetch_optional`, `fetch_all`, and `pool.begin()` for a transaction). On
//! PostgreSQL `sql` is sqlx; on SQLite it is this module, so the same text
//! compiles for both and the dialect differences stay visible as the few
//! `match &self.pool` arms.
//!
//! Where a statement runs on SQLite:
//! - a read (the statement is read-only, as SQLite itself says) runs on
//!   the calling thread, on one of [`Direct`]'s read connections;
//! - a write outside a transaction goes to the writer thread and is
//!   committed with whatever other writes are waiting (group commit);
//! - inside a transaction ([`Direct::begin`]) every statement runs on the
//!   writer's connection, which the transaction holds until it ends.
//!
//! [`on_pool!`]: crate::sql_store
//! [`Direct`]: crate::sqlite_direct::Direct
//! [`Direct::begin`]: crate::sqlite_direct::Direct::begin

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use domain::StoreError;
use rusqlite::types::{FromSql, ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, ToSql};

use crate::sqlite_direct::{Direct, sqlite_error};

pub(crate) use crate::sqlite_direct::Tx;

/// A value that could not be read from a row (as sqlx's `Error` in the
/// bodies' row readers).
pub(crate) type Error = rusqlite::Error;

/// A type read from one result row, column by column in the order the
/// statement selects them (sqlx's `FromRow`, by position).
pub(crate) trait FromRow: Sized + Send + 'static {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FromSql + Send + 'static),+> FromRow for ($($t,)+) {
            fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>($i)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);

/// A row kept as its values, for bodies that read columns one by one
/// (`row.try_get(i)`, as on a sqlx row).
#[derive(Debug, Clone)]
pub(crate) struct LiteRow(Vec<Value>);

impl FromRow for LiteRow {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let columns = row.as_ref().column_count();
        (0..columns)
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<_>>()
            .map(LiteRow)
    }
}

/// A column position (sqlx's `ColumnIndex`; positions only).
pub(crate) trait ColumnIndex {
    fn position(self) -> usize;
}

impl ColumnIndex for usize {
    fn position(self) -> usize {
        self
    }
}

/// `try_get` on a [`LiteRow`], named as sqlx's `Row` trait so a body can
/// import either as `sql::Row`.
pub(crate) trait Row {
    fn try_get<T: FromSql, I: ColumnIndex>(&self, index: I) -> rusqlite::Result<T>;
}

impl Row for LiteRow {
    fn try_get<T: FromSql, I: ColumnIndex>(&self, index: I) -> rusqlite::Result<T> {
        let i = index.position();
        let value = self
            .0
            .get(i)
            .ok_or(rusqlite::Error::InvalidColumnIndex(i))?;
        T::column_result(ValueRef::from(value)).map_err(|e| match e {
            rusqlite::types::FromSqlError::InvalidType => rusqlite::Error::InvalidColumnType(
                i,
                i.to_string(),
                ValueRef::from(value).data_type(),
            ),
            other => rusqlite::Error::FromSqlConversionFailure(
                i,
                ValueRef::from(value).data_type(),
                Box::new(other),
            ),
        })
    }
}

/// A statement's values, bound in order as `$1…$N` (chained `.bind(value)`
/// as on a sqlx query), owned so a write can go to the writer thread; a
/// value that cannot be converted is kept as the error.
#[derive(Debug, Default)]
pub(crate) struct Bound {
    values: Vec<Value>,
    error: Option<rusqlite::Error>,
}

impl Bound {
    /// Appends `value` as the next parameter.
    pub(crate) fn bind<T: ToSql>(mut self, value: T) -> Self {
        match value.to_sql() {
            Ok(ToSqlOutput::Borrowed(value)) => self.values.push(value.into()),
            Ok(ToSqlOutput::Owned(value)) => self.values.push(value),
            Ok(_) => {
                self.error
                    .get_or_insert(rusqlite::Error::ToSqlConversionFailure(
                        "a parameter of an unsupported kind".into(),
                    ));
            }
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Runs `sql` with these values as `$1…$N`; rows changed.
    pub(crate) fn execute(&self, conn: &Connection, sql: &str) -> rusqlite::Result<usize> {
        execute_named(conn, sql, &self.params()?)
    }

    /// Whether the query `sql` with these values as `$1…$N` returns a row.
    pub(crate) fn exists(&self, conn: &Connection, sql: &str) -> rusqlite::Result<bool> {
        query_row_named(conn, sql, &self.params()?, |_| Ok(())).map(|row| row.is_some())
    }

    /// The values as parameters, or the first that could not be converted.
    fn params(&self) -> rusqlite::Result<Vec<&dyn ToSql>> {
        if let Some(e) = &self.error {
            return Err(rusqlite::Error::ToSqlConversionFailure(
                e.to_string().into(),
            ));
        }
        Ok(self.values.iter().map(|v| v as &dyn ToSql).collect())
    }
}

/// The most parameters a statement takes (SQLite's own limit before 3.32).
const MAX_PARAMETERS: usize = 999;

/// Parameter names for [`named`]: the SQL texts number them `$1…$N`.
static NAMES: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| (1..=MAX_PARAMETERS).map(|n| format!("${n}")).collect());

/// Binds `values` to `$1…$N` by name (SQLite numbers named parameters by
/// first appearance, so positions would not match `$N` in every statement).
fn named<'a>(values: &[&'a dyn ToSql]) -> rusqlite::Result<Vec<(&'static str, &'a dyn ToSql)>> {
    if values.len() > MAX_PARAMETERS {
        return Err(rusqlite::Error::InvalidParameterCount(
            values.len(),
            MAX_PARAMETERS,
        ));
    }
    Ok(NAMES
        .iter()
        .map(String::as_str)
        .zip(values.iter().copied())
        .collect())
}

/// Runs one statement with `$1…$N` bound to `values`; rows changed.
pub(crate) fn execute_named(
    conn: &Connection,
    sql: &str,
    values: &[&dyn ToSql],
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(named(values)?.as_slice())
}

/// Runs a query with `$1…$N` bound to `values`; its first row through
/// `row`, or `None`.
pub(crate) fn query_row_named<T>(
    conn: &Connection,
    sql: &str,
    values: &[&dyn ToSql],
    row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(named(values)?.as_slice())?;
    rows.next()?.map(row).transpose()
}

/// A statement and its values, ready to run.
#[derive(Debug)]
pub(crate) struct Statement {
    sql: String,
    values: Bound,
}

/// What to make of a statement's rows, given its connection.
pub(crate) type Collect<R> =
    fn(&Connection, &mut rusqlite::Statement<'_>, &[(&str, &dyn ToSql)]) -> rusqlite::Result<R>;

impl Statement {
    /// Runs the statement on `conn` and collects its rows with `collect`.
    fn run_on<R>(&self, conn: &Connection, collect: Collect<R>) -> rusqlite::Result<R> {
        let values = self.values.params()?;
        let mut statement = conn.prepare_cached(&self.sql)?;
        collect(conn, &mut statement, &named(&values)?)
    }
}

/// Where a statement runs: the store's connections (a read here, a write
/// on the writer thread) or a transaction's connection.
pub(crate) trait Executor: Send {
    fn run<R: Send + 'static>(
        self,
        statement: Statement,
        collect: Collect<R>,
    ) -> impl Future<Output = Result<R, StoreError>> + Send;
}

impl Executor for &Direct {
    async fn run<R: Send + 'static>(
        self,
        statement: Statement,
        collect: Collect<R>,
    ) -> Result<R, StoreError> {
        // SQLite says whether the statement only reads: then it runs here,
        // else on the writer thread, committed before the answer.
        let read = self.read(|conn| {
            let only_reads = conn.prepare_cached(&statement.sql)?.readonly();
            only_reads
                .then(|| statement.run_on(conn, collect))
                .transpose()
        })?;
        match read {
            Some(rows) => Ok(rows),
            None => {
                self.write(move |conn| statement.run_on(conn, collect))
                    .await
            }
        }
    }
}

impl Executor for &Arc<Direct> {
    fn run<R: Send + 'static>(
        self,
        statement: Statement,
        collect: Collect<R>,
    ) -> impl Future<Output = Result<R, StoreError>> + Send {
        Executor::run(&**self, statement, collect)
    }
}

impl Executor for &mut Connection {
    fn run<R: Send + 'static>(
        self,
        statement: Statement,
        collect: Collect<R>,
    ) -> impl Future<Output = Result<R, StoreError>> + Send {
        std::future::ready(statement.run_on(self, collect).map_err(sqlite_error))
    }
}

/// What an `execute` did (sqlx's `QueryResult`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Done(u64);

impl Done {
    pub(crate) fn rows_affected(self) -> u64 {
        self.0
    }
}

/// A statement being put together, whose rows read as `T`.
#[derive(Debug)]
pub(crate) struct Query<T> {
    statement: Statement,
    row: PhantomData<fn() -> T>,
}

/// A statement whose rows, if any, are read column by column.
pub(crate) fn query(sql: &str) -> Query<LiteRow> {
    query_as(sql)
}

/// A statement whose rows read as `T`.
pub(crate) fn query_as<T: FromRow>(sql: &str) -> Query<T> {
    Query {
        statement: Statement {
            sql: sql.to_owned(),
            values: Bound::default(),
        },
        row: PhantomData,
    }
}

fn no_row() -> StoreError {
    StoreError::Unavailable(
        "no rows returned by a query that expected to return at least one row".into(),
    )
}

impl<T: FromRow> Query<T> {
    /// Binds the next `$N`.
    pub(crate) fn bind<V: ToSql>(mut self, value: V) -> Self {
        self.statement.values = self.statement.values.bind(value);
        self
    }

    /// Runs the statement (any rows it returns are read and dropped).
    pub(crate) async fn execute(self, on: impl Executor) -> Result<Done, StoreError> {
        on.run(self.statement, |conn, statement, values| {
            let mut rows = statement.query(values)?;
            while rows.next()?.is_some() {}
            drop(rows);
            let changed = if statement.readonly() {
                0
            } else {
                conn.changes()
            };
            Ok(Done(changed))
        })
        .await
    }

    /// Its first row, which must exist.
    pub(crate) async fn fetch_one(self, on: impl Executor) -> Result<T, StoreError> {
        self.fetch_optional(on).await?.ok_or_else(no_row)
    }

    /// Its first row, if any.
    pub(crate) async fn fetch_optional(self, on: impl Executor) -> Result<Option<T>, StoreError> {
        on.run(self.statement, |_, statement, values| {
            let mut rows = statement.query(values)?;
            let first = rows.next()?.map(T::from_row).transpose()?;
            // The rest are stepped through, so a write's RETURNING ends.
            while rows.next()?.is_some() {}
            Ok(first)
        })
        .await
    }

    /// Every row.
    pub(crate) async fn fetch_all(self, on: impl Executor) -> Result<Vec<T>, StoreError> {
        on.run(self.statement, |_, statement, values| {
            let mut rows = statement.query(values)?;
            let mut all = Vec::new();
            while let Some(row) = rows.next()? {
                all.push(T::from_row(row)?);
            }
            Ok(all)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (tempfile::TempDir, Arc<Direct>) {
        let (dir, direct) = crate::sqlite_direct::tests::fresh();
        (dir, Arc::new(direct))
    }

    #[tokio::test]
    async fn reads_writes_and_returning_go_where_they_belong() {
        let (_dir, pool) = fresh();
        let done = query("INSERT INTO t (k, v) VALUES ($1, $2)")
            .bind("a")
            .bind(1_i64)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
        // A write that returns rows goes to the writer and answers them.
        let (v,): (i64,) = query_as("UPDATE t SET v = v + 1 WHERE k = $1 RETURNING v")
            .bind("a")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(v, 2);
        let rows: Vec<(String, Option<i64>, Option<Vec<u8>>)> =
            query_as("SELECT k, v, b FROM t ORDER BY k")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(rows, vec![("a".to_owned(), Some(2), None)]);
        let none: Option<(i64,)> = query_as("SELECT v FROM t WHERE k = $1")
            .bind("missing")
            .fetch_optional(&pool)
            .await
            .unwrap();
        assert!(none.is_none());
        assert!(matches!(
            query_as::<(i64,)>("SELECT v FROM t WHERE k = 'missing'")
                .fetch_one(&pool)
                .await,
            Err(StoreError::Unavailable(_))
        ));
        // A read changes nothing and says so.
        let read = query("SELECT 1").execute(&pool).await.unwrap();
        assert_eq!(read.rows_affected(), 0);
    }

    #[tokio::test]
    async fn a_duplicate_is_a_conflict_and_a_bad_statement_unavailable() {
        let (_dir, pool) = fresh();
        let insert = || query("INSERT INTO t (k, v) VALUES ($1, 1)").bind("a");
        insert().execute(&pool).await.unwrap();
        assert!(matches!(
            insert().execute(&pool).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            query("SELECT nope FROM t").execute(&pool).await,
            Err(StoreError::Unavailable(_))
        ));
        // More values than `$N` names: an error, not a panic.
        let many = (0..1000_i64).fold(query("SELECT 1"), Query::bind);
        assert!(many.execute(&pool).await.is_err());
    }

    #[tokio::test]
    async fn a_transaction_commits_together_or_not_at_all() {
        let (_dir, pool) = fresh();
        {
            let mut tx = pool.begin().await.unwrap();
            query("INSERT INTO t (k, v) VALUES ('x', 1)")
                .execute(&mut *tx)
                .await
                .unwrap();
            // Its own writes are visible inside it…
            let (n,): (i64,) = query_as("SELECT COUNT(*) FROM t")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            assert_eq!(n, 1);
            // …and dropped with it when it is not committed.
        }
        let (n,): (i64,) = query_as("SELECT COUNT(*) FROM t")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
        let mut tx = pool.begin().await.unwrap();
        query("INSERT INTO t (k, v) VALUES ('y', 2)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // The writer thread still writes after the transaction released
        // its connection.
        query("INSERT INTO t (k, v) VALUES ('z', 3)")
            .execute(&pool)
            .await
            .unwrap();
        let rows: Vec<LiteRow> = query("SELECT k, v FROM t ORDER BY k")
            .fetch_all(&pool)
            .await
            .unwrap();
        let keys: Vec<String> = rows.iter().map(|r| r.try_get(0).unwrap()).collect();
        assert_eq!(keys, ["y", "z"]);
        assert!(
            rows[0].try_get::<String, _>(1).is_err(),
            "an integer is not text"
        );
        assert!(rows[0].try_get::<i64, _>(9).is_err(), "no such column");
    }
}
