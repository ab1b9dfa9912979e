//! Work an answer does not wait for, run one piece at a time in the order
//! it was started, and counted so that whoever must see its effects (tests,
//! a shutdown) can wait until it is done.
//!
//! A reset request answers before it looks the account up: the lookup and
//! the queued email take time only for real accounts, and the answer's
//! timing must not tell a stranger which names exist. Run in order, the
//! requests count against the hourly limits as they did when the answer
//! waited for them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// Work started and not yet finished.
#[derive(Debug, Default)]
pub struct PendingWork {
    /// Tickets handed out.
    started: AtomicU64,
    /// Tickets finished (or given up).
    finished: AtomicU64,
    changed: Notify,
}

/// One piece of [`PendingWork`]; finished when dropped.
#[derive(Debug)]
pub struct PendingGuard {
    work: Arc<PendingWork>,
    ticket: u64,
}

impl PendingWork {
    /// A ticket for one more piece of work, finished when the guard drops.
    pub fn begin(self: &Arc<Self>) -> PendingGuard {
        PendingGuard {
            work: Arc::clone(self),
            ticket: self.started.fetch_add(1, Ordering::SeqCst),
        }
    }

    /// Waits until `done` holds of the finished count.
    async fn wait_for(&self, done: impl Fn(u64) -> bool) {
        loop {
            let changed = self.changed.notified();
            if done(self.finished.load(Ordering::SeqCst)) {
                return;
            }
            changed.await;
        }
    }

    /// Returns once every piece started so far is finished.
    pub async fn settled(&self) {
        let started = self.started.load(Ordering::SeqCst);
        self.wait_for(|finished| finished >= started).await;
    }
}

impl PendingGuard {
    /// Waits until every piece started before this one is finished.
    pub async fn turn(&self) {
        let ticket = self.ticket;
        self.work.wait_for(|finished| finished >= ticket).await;
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.work.finished.fetch_add(1, Ordering::SeqCst);
        self.work.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settles_when_the_last_guard_goes() {
        let work = Arc::new(PendingWork::default());
        work.settled().await;
        let first = work.begin();
        let second = work.begin();
        let waiter = {
            let work = Arc::clone(&work);
            tokio::spawn(async move { work.settled().await })
        };
        drop(first);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(second);
        waiter.await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pieces_take_their_turns_in_order() {
        let work = Arc::new(PendingWork::default());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let guards: Vec<_> = (0..20).map(|_| work.begin()).collect();
        // Started in reverse, run in ticket order.
        let mut tasks = Vec::new();
        for (i, guard) in guards.into_iter().enumerate().rev() {
            let order = Arc::clone(&order);
            tasks.push(tokio::spawn(async move {
                guard.turn().await;
                order.lock().unwrap().push(i);
                tokio::task::yield_now().await;
            }));
        }
        work.settled().await;
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
    }
}
