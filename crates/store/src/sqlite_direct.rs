//! SQLite's connections: the read connections, the one writer, the
//! checkpointer.
//!
//! A driver that runs every connection on a thread of its own (sqlx does)
//! hands each statement and each result row across a channel: two thread
//! switches per statement at least. Under the verification load that was
//! half of the server's time on 2 cores (docs/benchmarks-log.md), and every
//! connection's writes made the other connections re-read their pages.
//!
//! Here reads run on the calling thread, on a connection taken from a small
//! stack (a read in WAL mode never waits for a writer, and takes tens of
//! microseconds from the page cache). Writes go to one writer thread that
//! takes every write waiting at that moment and commits them in one
//! transaction (group commit), each inside its own savepoint so a failing
//! write is rolled back alone. A caller hears back only after the commit.
//!
//! A transaction that needs its own reads between writes
//! ([`Direct::begin`]) takes the writer's connection for as long as it
//! lasts; the writer thread waits for it, as it would for SQLite's lock.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use domain::StoreError;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::lane::LaneCounter;

/// How long a statement waits for the write lock another process holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read connections kept for reuse; more are opened when needed and closed
/// after use. Reads never await, so at most one per runtime thread is busy.
const READERS_KEPT: usize = 8;

/// Writes committed together at most.
const BATCH_MAX: usize = 128;

/// One caller's write, queued for the writer thread.
trait Job: Send {
    /// Runs the write; `false` if it failed (its savepoint is rolled back).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the batch ended: its own error if it failed,
    /// else the batch's if the batch failed, else its result.
    fn finish(self: Box<Self>, batch: Result<(), StoreError>);
}

struct Pending<T, F> {
    write: Option<F>,
    result: Option<rusqlite::Result<T>>,
    answer: tokio::sync::oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let result = self.write.take().map(|write| write(conn));
        let ok = matches!(result, Some(Ok(_)));
        self.result = result;
        ok
    }

    fn finish(self: Box<Self>, batch: Result<(), StoreError>) {
        let outcome = match (self.result, batch) {
            (Some(Err(e)), _) => Err(sqlite_error(e)),
            (_, Err(e)) => Err(e),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (None, Ok(())) => Err(writer_gone()),
        };
        let _ = self.answer.send(outcome);
    }
}

/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Direct connections to one SQLite file.
pub(crate) struct Direct {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: mpsc::Sender<Box<dyn Job>>,
    /// The writer's connection: the writer thread holds it for a batch, a
    /// [`Tx`] for its whole transaction.
    writer_conn: Arc<AsyncMutex<Connection>>,
    /// Set by [`Direct::close`]: every later statement is refused.
    closed: AtomicBool,
    lane: Arc<LaneCounter>,
    /// Dropped with the store: the checkpointer sees it and ends.
    _checkpointer: mpsc::Sender<()>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").field("path", &self.path).finish()
    }
}

/// Opens a connection: foreign keys on, `synchronous = NORMAL` (the file
/// is already in WAL mode), a busy timeout.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.set_prepared_statement_cache_capacity(32);
    // Checkpoints run on their own thread, not at the end of a commit that
    // callers wait for (see `checkpoint_loop`).
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    // No `journal_size_limit`: cutting a WAL of a few hundred MB back when
    // it starts over stalled the writer for 200-290 ms (p99 224-266 ms
    // against 39 ms without, A/B). The file keeps its largest size (about
    // 300-450 MB under a load that never pauses) until SQLite removes it
    // when the last connection closes.
    Ok(conn)
}

/// A unique violation is a conflict, anything else makes the store unavailable.
pub(crate) fn sqlite_error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict(error.to_string())
        }
        _ => StoreError::Unavailable(error.to_string()),
    }
}

impl Direct {
    fn open_or_refuse(&self) -> Result<(), StoreError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable("the database is closed".into()));
        }
        Ok(())
    }
}

fn writer_gone() -> StoreError {
    StoreError::Unavailable("the SQLite writer thread stopped".into())
}

impl Direct {
    /// What the writer has done so far.
    pub(crate) fn lane(&self) -> domain::BatchLane {
        self.lane.read()
    }

    /// Opens the writer (now, so a file that cannot be written fails here)
    /// and starts its thread; readers are opened on first use.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let writer_conn = Arc::new(AsyncMutex::new(open(path).map_err(sqlite_error)?));
        let conn = writer_conn.clone();
        let (writer, jobs) = mpsc::channel::<Box<dyn Job>>();
        let restart = Arc::new(AtomicBool::new(false));
        let wanted = restart.clone();
        let lane = Arc::new(LaneCounter::new("sqlite_write", 1));
        let counted = lane.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(&conn, &jobs, &wanted, &counted))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite writer: {e}")))?;
        let checkpoints = open(path).map_err(sqlite_error)?;
        let (checkpointer, stop) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpoints, &stop, &restart))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the SQLite checkpointer: {e}"))
            })?;
        Ok(Direct {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            writer,
            writer_conn,
            closed: AtomicBool::new(false),
            lane,
            _checkpointer: checkpointer,
        })
    }

    /// Runs `read` on a read connection, on this thread.
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        self.open_or_refuse()?;
        let kept = self.readers.lock().ok().and_then(|mut kept| kept.pop());
        let conn = match kept {
            Some(conn) => conn,
            None => open(&self.path).map_err(sqlite_error)?,
        };
        let result = read(&conn);
        if let Ok(mut kept) = self.readers.lock() {
            if kept.len() < READERS_KEPT {
                kept.push(conn);
            }
        }
        result.map_err(sqlite_error)
    }

    /// Runs `write` on the writer thread, in a transaction it may share with
    /// other writes; returns once that transaction has committed.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.open_or_refuse()?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Box::new(Pending {
            write: Some(write),
            result: None,
            answer,
        });
        self.writer.send(job).map_err(|_| writer_gone())?;
        answered.await.map_err(|_| writer_gone())?
    }

    /// Begins a transaction on the writer's connection (`BEGIN
    /// IMMEDIATE`: it holds SQLite's write lock from the start, so it never
    /// fails half-way on a lock another connection took meanwhile).
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        self.open_or_refuse()?;
        let conn = self.writer_conn.clone().lock_owned().await;
        statement(&conn, "BEGIN IMMEDIATE").map_err(sqlite_error)?;
        Ok(Tx { conn, open: true })
    }

    /// Refuses every later statement and closes the kept read
    /// connections (the writer and checkpointer end when the store is
    /// dropped, after the writes already sent).
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        if let Ok(mut kept) = self.readers.lock() {
            kept.clear();
        }
    }
}

/// A transaction on the writer's connection: statements run on it through
/// `&mut *tx`; it commits with [`Tx::commit`] and rolls back when dropped
/// without.
pub(crate) struct Tx {
    conn: OwnedMutexGuard<Connection>,
    open: bool,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").field("open", &self.open).finish()
    }
}

impl Tx {
    /// Commits; on failure rolls back and answers the error.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        statement(&self.conn, "COMMIT").map_err(|e| {
            let _ = statement(&self.conn, "ROLLBACK");
            sqlite_error(e)
        })
    }

    /// Rolls back what the transaction wrote.
    pub(crate) async fn rollback(mut self) -> Result<(), StoreError> {
        self.open = false;
        statement(&self.conn, "ROLLBACK").map_err(sqlite_error)
    }
}

impl std::ops::Deref for Tx {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.open {
            let _ = statement(&self.conn, "ROLLBACK");
        }
    }
}

/// The writer thread: waits for a write, takes every other one already
/// waiting (up to [`BATCH_MAX`]), commits them together, answers each.
/// When the checkpointer asks, it first copies what the checkpointer has
/// not (see [`checkpoint_loop`]). Ends when the store is dropped.
fn write_loop(
    conn: &AsyncMutex<Connection>,
    jobs: &mpsc::Receiver<Box<dyn Job>>,
    restart: &AtomicBool,
    lane: &LaneCounter,
) {
    while let Ok(first) = jobs.recv() {
        let conn = conn.blocking_lock();
        if restart.swap(false, Ordering::Relaxed) {
            if let Err(e) = checkpoint(&conn) {
                tracing::warn!(error = %e, "SQLite checkpoint failed; retrying later");
            }
        }
        let mut batch = vec![first];
        while batch.len() < BATCH_MAX {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch, lane);
    }
}

/// WAL frames (4 KiB pages) past which the writer is asked to finish a
/// checkpoint itself, so that the WAL can start over (about 256 MB).
const WAL_FRAMES: i64 = 65_536;

/// Copies committed pages from the WAL into the database file every
/// [`CHECKPOINT_EVERY`] without waiting for readers or writers (`PASSIVE`),
/// so no commit waits for a checkpoint's copying and `fsync`.
///
/// A WAL only starts over from its beginning when a write begins while all
/// of it is copied, which a write load that never pauses does not leave time
/// for: with checkpoints on this thread alone the WAL reached 430-760 MB in
/// 10 s of verification load (and 4 GB while seeding 120,000 users before
/// sqlx's connections got their automatic checkpoint back). Past
/// [`WAL_FRAMES`] this thread asks the writer to checkpoint what was
/// committed since its own pass, right before its next batch; that batch
/// then restarts the WAL. The alternatives measured worse: SQLite's
/// automatic checkpoint in the writer (at 1,000 or 10,000 pages) gave p99
/// 26-75 ms, a `TRUNCATE` checkpoint here p99 110 ms, against 17-21 ms
/// without either. Ends when the store is dropped.
fn checkpoint_loop(conn: &Connection, stop: &mpsc::Receiver<()>, restart: &AtomicBool) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        match checkpoint(conn) {
            Ok(frames) => restart.store(frames > WAL_FRAMES, Ordering::Relaxed),
            Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed; retrying"),
        }
    }
}

/// A `PASSIVE` checkpoint; the WAL's length in frames.
fn checkpoint(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Runs `batch` in one transaction and answers each job; the batch is
/// counted in `lane` before anyone is answered.
fn run_batch(conn: &Connection, mut batch: Vec<Box<dyn Job>>, lane: &LaneCounter) {
    let started = Instant::now();
    let outcomes = run_jobs(conn, &mut batch);
    lane.record(batch.len(), started.elapsed());
    for (job, outcome) in batch.into_iter().zip(outcomes) {
        job.finish(outcome);
    }
}

/// Runs each job under a savepoint of one transaction. One outcome per
/// job: the transaction's error if it could not begin or commit, else the
/// job's own savepoint's.
fn run_jobs(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Vec<Result<(), StoreError>> {
    if let Err(e) = statement(conn, "BEGIN IMMEDIATE") {
        let e = sqlite_error(e);
        return batch.iter().map(|_| Err(e.clone())).collect();
    }
    let mut own = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        let ran = statement(conn, "SAVEPOINT job").map(|()| job.run(conn));
        let closed = match ran {
            Ok(true) => statement(conn, "RELEASE job"),
            Ok(false) => {
                statement(conn, "ROLLBACK TO job").and_then(|()| statement(conn, "RELEASE job"))
            }
            Err(e) => Err(e),
        };
        own.push(closed.map_err(sqlite_error));
    }
    let committed = statement(conn, "COMMIT").map_err(sqlite_error);
    if committed.is_err() {
        let _ = statement(conn, "ROLLBACK");
    }
    own.into_iter()
        .map(|own| committed.clone().and(own))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lite::{Bound, execute_named};

    /// A fresh file with one table `t (k, v, b)`, its connections open.
    pub(crate) fn fresh() -> (tempfile::TempDir, Direct) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch(
                "PRAGMA journal_mode = WAL; \
                 CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL, b BLOB);",
            )
            .unwrap();
        let direct = Direct::open(&path).unwrap();
        (dir, direct)
    }

    fn count(direct: &Direct) -> i64 {
        direct
            .read(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)))
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_commit_and_a_failing_one_is_rolled_back_alone() {
        let (_dir, direct) = fresh();
        let direct = std::sync::Arc::new(direct);
        let mut tasks = Vec::new();
        for i in 0..200_i64 {
            let direct = direct.clone();
            tasks.push(tokio::spawn(async move {
                direct
                    .write(move |c| {
                        // Every tenth write inserts its row, then fails on a
                        // duplicate: neither of its rows may stay.
                        execute_named(
                            c,
                            "INSERT INTO t (k, v) VALUES ($1, $2)",
                            &[&format!("k{i}"), &i],
                        )?;
                        if i % 10 == 0 {
                            execute_named(
                                c,
                                "INSERT INTO t (k, v) VALUES ($1, $2)",
                                &[&format!("k{i}"), &i],
                            )?;
                        }
                        Ok(i)
                    })
                    .await
            }));
        }
        for (i, task) in tasks.into_iter().enumerate() {
            let result = task.await.unwrap();
            if i % 10 == 0 {
                assert!(
                    matches!(result, Err(StoreError::Conflict(_))),
                    "write {i}: {result:?}"
                );
            } else {
                assert_eq!(result.unwrap(), i as i64);
            }
        }
        // Answered means committed: a new read connection sees them all.
        assert_eq!(count(&direct), 180);
        let missing: i64 = direct
            .read(|c| c.query_row("SELECT COUNT(*) FROM t WHERE v % 10 = 0", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(missing, 0);
        // Each write counted once, in fewer batches than writes when they
        // waited together, before its caller was answered.
        let lane = direct.lane();
        assert_eq!(
            (lane.name, lane.workers, lane.rows),
            ("sqlite_write", 1, 200)
        );
        assert!(
            (1..=200).contains(&lane.batches),
            "{} batches",
            lane.batches
        );
    }

    #[tokio::test]
    async fn bound_values_are_owned_and_bind_by_number() {
        let (_dir, direct) = fresh();
        let (key, missing): (String, Option<i64>) = ("b".into(), None);
        // Owned: the values outlive what they were bound from.
        let insert = Bound::default().bind(&key).bind(Some(9_i64));
        let null = Bound::default().bind("c").bind(missing);
        drop(key);
        direct
            .write(move |c| {
                assert_eq!(
                    insert.execute(c, "INSERT INTO t (v, k) VALUES ($2, $1)")?,
                    1
                );
                // A NULL into a NOT NULL column fails like any statement.
                assert!(
                    null.execute(c, "INSERT INTO t (k, v) VALUES ($1, $2)")
                        .is_err()
                );
                let found = Bound::default().bind("b").bind(9_i64);
                assert!(found.exists(c, "SELECT 1 FROM t WHERE v = $2 AND k = $1")?);
                let other = Bound::default().bind("b").bind(8_i64);
                assert!(!other.exists(c, "SELECT 1 FROM t WHERE v = $2 AND k = $1")?);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(count(&direct), 1);
        // More values than names: an error, not a panic.
        let many = (0..1000_i64).fold(Bound::default(), Bound::bind);
        let answer = direct.write(move |c| many.execute(c, "SELECT 1")).await;
        assert!(answer.is_err(), "{answer:?}");
    }

    #[tokio::test]
    async fn named_parameters_bind_by_number_not_by_first_appearance() {
        let (_dir, direct) = fresh();
        direct
            .write(|c| {
                // `$2` appears first: positional binding would swap them.
                execute_named(c, "INSERT INTO t (v, k) VALUES ($2, $1)", &[&"a", &7_i64])
            })
            .await
            .unwrap();
        let v: i64 = direct
            .read(|c| c.query_row("SELECT v FROM t WHERE k = 'a'", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(v, 7);
    }
}
