//! PostgreSQL's second-factor hot path, coalesced.
//!
//! On PostgreSQL most of a verification's cost is per statement, not per
//! row: executor start-up, plan-cache and catalog lookups, a round trip and
//! sqlx's own work for each of the two statements a check needs (about
//! 560 µs of server CPU per check on a 2-core VM, docs/benchmarks-log.md). Here every
//! check waiting at the same moment shares one statement: the reads of all
//! of them as one `unnest` join, their step claims as one `UPDATE … FROM`,
//! their failures as one `INSERT … SELECT`, each with its audit rows in the
//! same statement. A statement is atomic, as the single ones were, and the
//! compare-and-set of the step and the lock reads stay in SQL, so several
//! instances on one database stay correct.
//!
//! Writes are coalesced by one worker per store (batches never wait on each
//! other's row locks, so they cannot deadlock); a batch holds at most one
//! write per user or failure key, later ones go in the next round, so two
//! checks of one user behave as if run one after the other. If a batch
//! statement fails with a database error, its checks are run again one by
//! one, so one bad row cannot fail its neighbours.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Instant;

use domain::{AuditEvent, BatchLane, StoreError};
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::lane::LaneCounter;
use crate::sql_store::{AUDIT_INSERT_COLUMNS, SecondFactorRow, db, sql_second_factor_state_of};

/// Checks sharing one statement at most.
const BATCH_MAX: usize = 128;

type Answer<A> = oneshot::Sender<Result<A, StoreError>>;
type Waiting<Q, A> = Arc<Mutex<mpsc::UnboundedReceiver<(Q, Answer<A>)>>>;
type Run<Q, A> = Arc<
    dyn Fn(Vec<Q>) -> Pin<Box<dyn Future<Output = Vec<Result<A, StoreError>>> + Send>>
        + Send
        + Sync,
>;

/// A queue whose workers each take everything waiting and run it as one
/// batch. The workers start on the runtime of the first request.
pub(crate) struct Coalesce<Q, A> {
    workers: usize,
    lane: Arc<LaneCounter>,
    run: Run<Q, A>,
    queue: OnceLock<mpsc::UnboundedSender<(Q, Answer<A>)>>,
}

impl<Q: Send + 'static, A: Send + 'static> Coalesce<Q, A> {
    /// A queue served by `workers` tasks, each running batches with `run`,
    /// which answers every request of a batch, in order; `name` is the
    /// lane's in `/metrics`.
    pub(crate) fn new<F, Fut>(name: &'static str, workers: usize, run: F) -> Self
    where
        F: Fn(Vec<Q>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Result<A, StoreError>>> + Send + 'static,
    {
        let workers = workers.max(1);
        Coalesce {
            workers,
            lane: Arc::new(LaneCounter::new(name, workers)),
            run: Arc::new(move |batch| Box::pin(run(batch))),
            queue: OnceLock::new(),
        }
    }

    /// Queues `request` and waits for its answer. If the workers are gone
    /// (the runtime they started on has ended) the request comes back, so
    /// the caller can run it alone.
    pub(crate) async fn ask(&self, request: Q) -> Result<Result<A, StoreError>, Q> {
        let queue = self.queue.get_or_init(|| {
            let (queue, waiting) = mpsc::unbounded_channel();
            let waiting = Arc::new(Mutex::new(waiting));
            for _ in 0..self.workers {
                tokio::spawn(work(waiting.clone(), self.run.clone(), self.lane.clone()));
            }
            queue
        });
        let (answer, answered) = oneshot::channel();
        if let Err(mpsc::error::SendError((request, _))) = queue.send((request, answer)) {
            return Err(request);
        }
        // A worker that took the request always answers, unless its
        // runtime ended under it.
        Ok(answered.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the PostgreSQL batch worker stopped".into(),
            ))
        }))
    }

    /// What the lane has done so far.
    pub(crate) fn lane(&self) -> BatchLane {
        self.lane.read()
    }
}

impl<Q, A> std::fmt::Debug for Coalesce<Q, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalesce").finish_non_exhaustive()
    }
}

async fn work<Q, A>(waiting: Waiting<Q, A>, run: Run<Q, A>, lane: Arc<LaneCounter>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut waiting = waiting.lock().await;
            match waiting.recv().await {
                Some(first) => batch.push(first),
                None => return,
            }
            while batch.len() < BATCH_MAX {
                match waiting.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        let (requests, answers): (Vec<Q>, Vec<Answer<A>>) = batch.into_iter().unzip();
        let (rows, started) = (requests.len(), Instant::now());
        let results = run(requests).await;
        lane.record(rows, started.elapsed());
        for (answer, result) in answers.into_iter().zip(results) {
            let _ = answer.send(result);
        }
    }
}

/// Splits `items` into rounds in which no two share a key, keeping each
/// key's items in order: the n-th item of a key goes in round n.
pub(crate) fn rounds<T, K: Eq + std::hash::Hash>(
    items: Vec<(usize, T)>,
    key: impl Fn(&T) -> K,
) -> Vec<Vec<(usize, T)>> {
    let mut seen: std::collections::HashMap<K, usize> = std::collections::HashMap::new();
    let mut rounds: Vec<Vec<(usize, T)>> = Vec::new();
    for (index, item) in items {
        let n = seen.entry(key(&item)).or_insert(0);
        match rounds.get_mut(*n) {
            Some(round) => round.push((index, item)),
            None => rounds.push(vec![(index, item)]),
        }
        *n += 1;
    }
    rounds
}

/// Audit rows as column arrays, for `unnest`.
#[derive(Default)]
pub(crate) struct AuditColumns {
    at: Vec<i64>,
    user_id: Vec<Option<i64>>,
    username: Vec<String>,
    kind: Vec<String>,
    outcome: Vec<String>,
    ip: Vec<String>,
    user_agent: Vec<String>,
    detail: Vec<String>,
}

/// The names the audit input columns take in a batch statement, in
/// [`AuditColumns::bind`]'s order.
const AUDIT_INPUT_NAMES: &str =
    "a_at, a_user, a_username, a_kind, a_outcome, a_ip, a_user_agent, a_detail";

/// The `unnest` arguments for [`AuditColumns`] from `$first`, and their
/// column names.
pub(crate) fn audit_unnest(first: usize) -> (String, &'static str) {
    let types = [
        "bigint", "bigint", "text", "text", "text", "text", "text", "text",
    ];
    let args: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, ty)| format!("${}::{ty}[]", first + i))
        .collect();
    (args.join(", "), AUDIT_INPUT_NAMES)
}

/// The audit insert of a batch: `rows` names the input rows to record.
pub(crate) fn audit_insert(rows: &str) -> String {
    format!(
        "INSERT INTO audit_events ({AUDIT_INSERT_COLUMNS}) \
         SELECT {AUDIT_INPUT_NAMES}, \
         (SELECT practice_id FROM users WHERE id = a_user) FROM {rows} ORDER BY ord"
    )
}

impl AuditColumns {
    pub(crate) fn push(&mut self, event: &AuditEvent) {
        self.at.push(crate::sql_store::to_i64(event.at));
        self.user_id.push(event.user_id.map(|u| u.0));
        self.username.push(event.username.clone());
        self.kind.push(event.kind.clone());
        self.outcome.push(event.outcome.clone());
        self.ip.push(event.ip.clone());
        self.user_agent.push(event.user_agent.clone());
        self.detail.push(event.detail.clone());
    }

    /// Binds the arrays in [`audit_unnest`]'s order.
    pub(crate) fn bind<'q, O>(
        self,
        query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        query
            .bind(self.at)
            .bind(self.user_id)
            .bind(self.username)
            .bind(self.kind)
            .bind(self.outcome)
            .bind(self.ip)
            .bind(self.user_agent)
            .bind(self.detail)
    }
}

/// A verification's write, for [`PgHot`].
enum HotWrite {
    /// Takes `step` for `user` if it is newer than the last one taken; if
    /// it did, records `event` and clears the failures under `clear`.
    Claim {
        user: i64,
        step: i64,
        offset: i64,
        event: AuditEvent,
        clear: Option<String>,
    },
    /// Records a failure under `key` at `now` and `event`; answers the
    /// failures under `key` since `since`, this one included.
    Failure {
        key: String,
        now: i64,
        since: i64,
        event: AuditEvent,
    },
}

/// What a round holds at most one write of.
#[derive(PartialEq, Eq, Hash)]
enum WriteKey {
    /// A claim of this user's step.
    User(i64),
    /// A failure under this key.
    Failures(String),
}

/// The reads of a batch: [`SQL_SECOND_FACTOR_STATE`](crate::sql_store::SQL_SECOND_FACTOR_STATE) once per input row.
static SQL_READ_BATCH: LazyLock<String> = LazyLock::new(|| {
    let per_row = sql_second_factor_state_of("i.user_id", "i.lock_key");
    format!(
        "SELECT i.ord, s.* FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS i(user_id, lock_key, ord) \
         CROSS JOIN LATERAL ({per_row}) s"
    )
});

/// The claims of a batch ([`crate::sql_store`]'s compare-and-set, per row),
/// answering the input rows that took their step.
static SQL_CLAIM_BATCH: LazyLock<String> = LazyLock::new(|| {
    let (audit_args, audit_names) = audit_unnest(5);
    format!(
        "WITH input AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], {audit_args}) \
         WITH ORDINALITY AS i(user_id, step, clock_offset, clear_key, {audit_names}, ord)), \
         claimed AS (UPDATE totp_factors t SET last_step = input.step, clock_offset_steps = input.clock_offset \
         FROM input WHERE t.user_id = ANY($1) AND t.user_id = input.user_id \
         AND (t.last_step IS NULL OR t.last_step < input.step) RETURNING input.ord), \
         audit AS ({}), \
         cleared AS (DELETE FROM failures f WHERE f.key = ANY($4) AND f.key IN \
         (SELECT clear_key FROM input WHERE ord IN (SELECT ord FROM claimed))) \
         SELECT ord FROM claimed",
        audit_insert("input WHERE ord IN (SELECT ord FROM claimed)")
    )
});

/// The failures of a batch (one per key), answering each key's count in
/// its window. The count runs on the snapshot before the insert, hence + 1.
static SQL_FAILURE_BATCH: LazyLock<String> = LazyLock::new(|| {
    let (audit_args, audit_names) = audit_unnest(4);
    format!(
        "WITH input AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], {audit_args}) \
         WITH ORDINALITY AS i(key, failed_at, since, {audit_names}, ord)), \
         failure AS (INSERT INTO failures (key, at) SELECT key, failed_at FROM input), \
         audit AS ({}) \
         SELECT ord, (SELECT COUNT(*) FROM failures f WHERE f.key = input.key AND f.at >= input.since) + 1 \
         FROM input",
        audit_insert("input")
    )
});

/// The batch statements with sample parameters, for the query-plan test.
pub(crate) fn batch_statements() -> [(&'static str, &'static str); 3] {
    [
        ("batched second factor state", SQL_READ_BATCH.as_str()),
        ("batched claims", SQL_CLAIM_BATCH.as_str()),
        ("batched failures", SQL_FAILURE_BATCH.as_str()),
    ]
}

#[derive(sqlx::FromRow)]
struct NumberedState {
    ord: i64,
    #[sqlx(flatten)]
    state: SecondFactorRow,
}

/// Coalesced reads and writes of the second-factor check on one pool.
pub(crate) struct PgHot {
    pool: PgPool,
    reads: Coalesce<(i64, String), Option<SecondFactorRow>>,
    writes: Coalesce<HotWrite, u32>,
}

impl std::fmt::Debug for PgHot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgHot").finish_non_exhaustive()
    }
}

/// Reads run two batches at a time; writes one, so batches never wait on
/// each other's row locks.
const READ_WORKERS: usize = 2;

impl PgHot {
    pub(crate) fn new(pool: PgPool) -> Self {
        let (for_reads, for_writes) = (pool.clone(), pool.clone());
        PgHot {
            pool,
            reads: Coalesce::new("pg_read", READ_WORKERS, move |batch| {
                let pool = for_reads.clone();
                async move { per_request(batch.len(), read_batch(&pool, &batch).await) }
            }),
            writes: Coalesce::new("pg_write", 1, move |batch| {
                let pool = for_writes.clone();
                async move { write_batch(&pool, batch).await }
            }),
        }
    }

    /// What the read and write lanes have done so far.
    pub(crate) fn lanes(&self) -> Vec<BatchLane> {
        vec![self.reads.lane(), self.writes.lane()]
    }

    /// [`SQL_SECOND_FACTOR_STATE`](crate::sql_store::SQL_SECOND_FACTOR_STATE) for `user` and `lock_key`.
    pub(crate) async fn second_factor_state(
        &self,
        user: i64,
        lock_key: &str,
    ) -> Result<Option<SecondFactorRow>, StoreError> {
        match self.reads.ask((user, lock_key.to_owned())).await {
            Ok(answer) => answer,
            Err(alone) => Ok(read_batch(&self.pool, &[alone])
                .await
                .map_err(db)?
                .pop()
                .flatten()),
        }
    }

    /// Takes `step` for `user` with its audit row; `true` if it was new.
    pub(crate) async fn claim(
        &self,
        user: i64,
        step: i64,
        offset: i64,
        event: &AuditEvent,
        clear: Option<&str>,
    ) -> Result<bool, StoreError> {
        let write = HotWrite::Claim {
            user,
            step,
            offset,
            event: event.clone(),
            clear: clear.map(str::to_owned),
        };
        Ok(self.write(write).await? == 1)
    }

    /// Records a failure with its audit row; the failures in the window.
    pub(crate) async fn failure(
        &self,
        key: &str,
        now: i64,
        since: i64,
        event: &AuditEvent,
    ) -> Result<u32, StoreError> {
        let write = HotWrite::Failure {
            key: key.to_owned(),
            now,
            since,
            event: event.clone(),
        };
        self.write(write).await
    }

    async fn write(&self, write: HotWrite) -> Result<u32, StoreError> {
        match self.writes.ask(write).await {
            Ok(answer) => answer,
            Err(alone) => write_batch(&self.pool, vec![alone])
                .await
                .pop()
                .unwrap_or_else(|| Err(StoreError::Unavailable("write not run".into()))),
        }
    }
}

/// One answer per request from a batch's rows, or the batch's error for all.
fn per_request<T>(
    n: usize,
    rows: Result<Vec<Option<T>>, sqlx::Error>,
) -> Vec<Result<Option<T>, StoreError>> {
    match rows {
        Ok(rows) => rows.into_iter().map(Ok).collect(),
        Err(e) => {
            let error = db(e);
            (0..n).map(|_| Err(error.clone())).collect()
        }
    }
}

/// The state of each `(user, lock key)`, in order; `None` for no such user.
async fn read_batch(
    pool: &PgPool,
    batch: &[(i64, String)],
) -> Result<Vec<Option<SecondFactorRow>>, sqlx::Error> {
    let (users, keys): (Vec<i64>, Vec<String>) = batch.iter().cloned().unzip();
    let rows: Vec<NumberedState> = sqlx::query_as(SQL_READ_BATCH.as_str())
        .bind(users)
        .bind(keys)
        .fetch_all(pool)
        .await?;
    let mut out: Vec<Option<SecondFactorRow>> = batch.iter().map(|_| None).collect();
    for row in rows {
        if let Some(slot) = usize::try_from(row.ord - 1)
            .ok()
            .and_then(|i| out.get_mut(i))
        {
            *slot = Some(row.state);
        }
    }
    Ok(out)
}

/// Runs a batch of writes: claims and failures each in rounds of distinct
/// keys, one statement per round.
async fn write_batch(pool: &PgPool, batch: Vec<HotWrite>) -> Vec<Result<u32, StoreError>> {
    let mut out: Vec<Option<Result<u32, StoreError>>> = batch.iter().map(|_| None).collect();
    let (claims, failures): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .enumerate()
        .partition(|(_, w)| matches!(w, HotWrite::Claim { .. }));
    let by_key = |w: &HotWrite| match w {
        HotWrite::Claim { user, .. } => WriteKey::User(*user),
        HotWrite::Failure { key, .. } => WriteKey::Failures(key.clone()),
    };
    for round in rounds(claims, by_key)
        .into_iter()
        .chain(rounds(failures, by_key))
    {
        let (indexes, writes): (Vec<usize>, Vec<HotWrite>) = round.into_iter().unzip();
        let results = match run_round(pool, &writes).await {
            Ok(results) => results.into_iter().map(Ok).collect(),
            // One bad row must not fail the others: each alone.
            Err(sqlx::Error::Database(_)) if writes.len() > 1 => {
                let mut alone = Vec::with_capacity(writes.len());
                for write in &writes {
                    let result = run_round(pool, std::slice::from_ref(write)).await;
                    alone.push(result.map_err(db).map(|mut r| r.pop().unwrap_or(0)));
                }
                alone
            }
            Err(e) => vec![Err(db(e)); writes.len()],
        };
        for (index, result) in indexes.into_iter().zip(results) {
            if let Some(slot) = out.get_mut(index) {
                *slot = Some(result);
            }
        }
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(StoreError::Unavailable("write not run".into()))))
        .collect()
}

/// One statement for `writes`, all claims or all failures, distinct keys.
async fn run_round(pool: &PgPool, writes: &[HotWrite]) -> Result<Vec<u32>, sqlx::Error> {
    let mut audit = AuditColumns::default();
    let mut out = vec![0u32; writes.len()];
    let answered: Vec<(i64, i64)> = if let Some(HotWrite::Claim { .. }) = writes.first() {
        let (mut users, mut steps, mut offsets, mut clears) = (vec![], vec![], vec![], vec![]);
        for write in writes {
            if let HotWrite::Claim {
                user,
                step,
                offset,
                event,
                clear,
            } = write
            {
                users.push(*user);
                steps.push(*step);
                offsets.push(*offset);
                clears.push(clear.clone());
                audit.push(event);
            }
        }
        let query = sqlx::query_as(SQL_CLAIM_BATCH.as_str())
            .bind(users)
            .bind(steps)
            .bind(offsets)
            .bind(clears);
        let claimed: Vec<(i64,)> = audit.bind(query).fetch_all(pool).await?;
        claimed.into_iter().map(|(ord,)| (ord, 1)).collect()
    } else {
        let (mut keys, mut nows, mut sinces) = (vec![], vec![], vec![]);
        for write in writes {
            if let HotWrite::Failure {
                key,
                now,
                since,
                event,
            } = write
            {
                keys.push(key.clone());
                nows.push(*now);
                sinces.push(*since);
                audit.push(event);
            }
        }
        let query = sqlx::query_as(SQL_FAILURE_BATCH.as_str())
            .bind(keys)
            .bind(nows)
            .bind(sinces);
        audit.bind(query).fetch_all(pool).await?
    };
    for (ord, value) in answered {
        if let Some(slot) = usize::try_from(ord - 1).ok().and_then(|i| out.get_mut(i)) {
            *slot = u32::try_from(value).unwrap_or(u32::MAX);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_keep_each_key_once_per_round_and_in_order() {
        let items = vec![(0, "a"), (1, "b"), (2, "a"), (3, "a"), (4, "c"), (5, "b")];
        let rounds = rounds(items, |k| *k);
        assert_eq!(
            rounds,
            vec![
                vec![(0, "a"), (1, "b"), (4, "c")],
                vec![(2, "a"), (5, "b")],
                vec![(3, "a")],
            ]
        );
    }

    #[test]
    fn rounds_of_nothing_is_nothing() {
        assert!(rounds(Vec::<(usize, u8)>::new(), |k| *k).is_empty());
    }

    #[test]
    fn audit_unnest_numbers_from_first() {
        let (args, names) = audit_unnest(5);
        assert!(args.starts_with("$5::bigint[], $6::bigint[], $7::text[]"));
        assert!(args.ends_with("$12::text[]"));
        assert_eq!(names.split(", ").count(), 8);
    }

    #[tokio::test]
    async fn coalesce_answers_each_request_and_shares_batches() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let largest = Arc::new(AtomicUsize::new(0));
        let seen = largest.clone();
        let queue = Arc::new(Coalesce::new("test", 2, move |batch: Vec<u32>| {
            seen.fetch_max(batch.len(), Ordering::Relaxed);
            async move { batch.into_iter().map(|n| Ok(n * 2)).collect() }
        }));
        let asks: Vec<_> = (0..50u32)
            .map(|n| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.ask(n).await })
            })
            .collect();
        for (n, ask) in (0..50u32).zip(asks) {
            let answer = ask
                .await
                .expect("task")
                .expect("workers alive")
                .expect("answered");
            assert_eq!(answer, n * 2);
        }
        assert!(
            largest.load(Ordering::Relaxed) > 1,
            "requests waiting together share a batch"
        );
        let lane = queue.lane();
        assert_eq!((lane.name, lane.workers, lane.rows), ("test", 2, 50));
        assert!(
            (1..50).contains(&lane.batches),
            "{} batches for 50 requests",
            lane.batches
        );
    }

    #[test]
    fn coalesce_without_its_runtime_says_so() {
        let queue = Coalesce::new("test", 1, |batch: Vec<u32>| async move {
            batch.into_iter().map(Ok).collect()
        });
        let first = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        assert_eq!(
            first.block_on(queue.ask(1)).ok().and_then(|r| r.ok()),
            Some(1)
        );
        drop(first);
        let second = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        assert_eq!(
            second.block_on(queue.ask(2)).err(),
            Some(2),
            "workers gone: the request comes back"
        );
    }
}
