//! What a batch lane of the second-factor hot path has done, for
//! `/metrics` ([`domain::BatchLane`]): a lane whose busy time nears its
//! workers' wall time is where checks queue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use domain::BatchLane;

/// Counters one lane's workers add to after each batch.
#[derive(Debug)]
pub(crate) struct LaneCounter {
    name: &'static str,
    workers: u32,
    batches: AtomicU64,
    rows: AtomicU64,
    busy_micros: AtomicU64,
}

impl LaneCounter {
    pub(crate) fn new(name: &'static str, workers: usize) -> Self {
        LaneCounter {
            name,
            workers: u32::try_from(workers).unwrap_or(u32::MAX),
            batches: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            busy_micros: AtomicU64::new(0),
        }
    }

    /// One batch of `rows` checks that took `busy`.
    pub(crate) fn record(&self, rows: usize, busy: Duration) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.rows
            .fetch_add(u64::try_from(rows).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.busy_micros.fetch_add(
            u64::try_from(busy.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn read(&self) -> BatchLane {
        BatchLane {
            name: self.name,
            workers: self.workers,
            batches: self.batches.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
            busy_micros: self.busy_micros.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_batches_rows_and_busy_time() {
        let lane = LaneCounter::new("pg_write", 1);
        assert_eq!(
            lane.read(),
            BatchLane {
                name: "pg_write",
                workers: 1,
                ..BatchLane::default()
            }
        );
        lane.record(3, Duration::from_micros(1_500));
        lane.record(5, Duration::from_millis(2));
        let read = lane.read();
        assert_eq!((read.batches, read.rows, read.busy_micros), (2, 8, 3_500));
    }
}
