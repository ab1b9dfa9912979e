//! argon2 off the async runtime: each hash runs on one of a fixed set of
//! hashing threads, one per core, so a login flood queues hashes instead of
//! stalling every other request.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use domain::password::Workspace;
use domain::{DomainError, PasswordHasher, password};

type Job = Box<dyn FnOnce(&mut Workspace) + Send>;

/// What unknown usernames are checked against, so they cost one hash like
/// known ones: an argon2id hash, with the server's parameters, of 32 random
/// bytes that were thrown away (nothing verifies against it). A constant
/// rather than a hash made at start: that took a 19 MiB working set and
/// ~20 ms before the server was ready. A test checks it parses with the
/// current parameters, so a parameter change cannot leave it cheaper.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$984td5LAxW0jxEz0Hctadg$1ffHdjFZPfnAK7/t+UzUiI74sF9LpvtlLdUxd/wC1ZQ";

/// The production [`PasswordHasher`]: a fixed set of hashing threads, one
/// per core, each keeping its argon2 memory for its whole life. A login
/// flood queues on them instead of stalling other requests, and memory
/// stays at one working set per thread (tokio's blocking pool ran each hash
/// on whichever of its many threads was free, and glibc kept a freed 19 MiB
/// working set cached per thread: 476 MB resident after a login load).
#[derive(Debug, Clone)]
pub struct BlockingArgon2 {
    jobs: Sender<Job>,
}

impl BlockingArgon2 {
    /// A hasher with `parallel` hashing threads.
    pub fn new(parallel: usize) -> Result<Self, DomainError> {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..parallel.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || hashing_thread(&receiver))
                .map_err(|e| {
                    DomainError::Internal(format!("cannot start a hashing thread: {e}"))
                })?;
        }
        Ok(BlockingArgon2 { jobs: sender })
    }

    /// One hashing thread per available core.
    pub fn per_core() -> Result<Self, DomainError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Workspace) -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        // A request whose client went away meanwhile (its handler dropped,
        // and with it `answered`) is not hashed: under a flood of clients
        // that give up, the queue would otherwise be worked through for
        // no one while the clients still waiting queue behind it.
        let job: Job = Box::new(move |workspace| {
            if !answer.is_closed() {
                let _ = answer.send(work(workspace));
            }
        });
        self.jobs
            .send(job)
            .map_err(|_| DomainError::Internal("hasher closed".into()))?;
        answered
            .await
            .map_err(|_| DomainError::Internal("password hashing failed".into()))
    }
}

/// Takes jobs one at a time until every sender is gone.
fn hashing_thread(jobs: &Mutex<Receiver<Job>>) {
    let mut workspace = Workspace::default();
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return;
        };
        // A panicking job drops its answer (the caller gets an error); the
        // thread and its memory carry on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut workspace)));
    }
}

#[async_trait::async_trait]
impl PasswordHasher for BlockingArgon2 {
    async fn hash(&self, plain: String) -> Result<String, DomainError> {
        self.run(move |workspace| password::hash_in(workspace, &plain))
            .await?
    }

    async fn verify(&self, phc: Option<String>, plain: String) -> bool {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let matched = self
            .run(move |workspace| password::verify_in(workspace, &phc, &plain))
            .await
            .unwrap_or(false);
        known && matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prefix of a PHC string up to its salt: algorithm, version and
    /// parameters.
    fn parameters(phc: &str) -> &str {
        phc.rsplitn(3, '$').nth(2).unwrap_or_default()
    }

    #[test]
    fn the_dummy_hash_has_the_parameters_of_a_real_one() {
        let real = password::hash("a password of a known user").expect("hash");
        assert_eq!(parameters(DUMMY_HASH), parameters(&real));
        assert_eq!(
            DUMMY_HASH.rsplit('$').next().map(str::len),
            real.rsplit('$').next().map(str::len),
            "a 32-byte hash, as ours"
        );
        assert!(!password::verify(DUMMY_HASH, ""));
        assert!(!password::verify(
            DUMMY_HASH,
            "an unguessable dummy password"
        ));
        // It parses and is really hashed against: the working memory grows
        // only right before the hash runs (an unparsable string returns
        // first, leaving it empty), and to what a real hash takes.
        let (mut dummy, mut known) = (Workspace::default(), Workspace::default());
        assert!(!password::verify_in(&mut dummy, DUMMY_HASH, "anything"));
        assert!(!password::verify_in(&mut known, &real, "anything"));
        assert_eq!(format!("{dummy:?}"), format!("{known:?}"));
        assert_ne!(format!("{dummy:?}"), "Workspace(0 blocks)");
    }

    #[tokio::test]
    async fn a_hash_nobody_waits_for_any_more_is_skipped() {
        let hasher = BlockingArgon2::new(1).expect("hasher");
        // The one hashing thread is held by a first job until released.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let first = hasher.run(move |_| held.recv().is_ok());
        tokio::pin!(first);
        assert!(poll_once(first.as_mut()).await.is_none());
        // A second request is queued, then given up by its caller.
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let mut abandoned =
            Box::pin(hasher.run(move |_| flag.store(true, std::sync::atomic::Ordering::SeqCst)));
        assert!(poll_once(abandoned.as_mut()).await.is_none());
        drop(abandoned);
        // A third is waited for: the thread reaches it after the second.
        release.send(()).expect("release");
        assert!(first.await.expect("first answered"));
        assert_eq!(hasher.run(|_| 7).await.expect("third answered"), 7);
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "the abandoned job ran"
        );
    }

    /// Polls `future` once: its output if it was ready.
    async fn poll_once<F: std::future::Future + Unpin>(future: F) -> Option<F::Output> {
        let mut future = future;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
                std::task::Poll::Ready(output) => Some(output),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }

    #[tokio::test]
    async fn unknown_users_are_checked_and_refused() {
        let hasher = BlockingArgon2::new(1).expect("hasher");
        assert!(!hasher.verify(None, "anything".into()).await);
        let phc = hasher.hash("right".into()).await.expect("hash");
        assert!(hasher.verify(Some(phc.clone()), "right".into()).await);
        assert!(!hasher.verify(Some(phc), "wrong".into()).await);
    }
}
