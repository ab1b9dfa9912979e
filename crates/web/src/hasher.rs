//! argon2 off the async runtime: each hash runs on one of a fixed set of
//! hashing threads, one per core, so a login flood queues hashes instead of
//! stalling every other request.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use domain::password::Workspace;
use domain::{DomainError, PasswordHasher, password};

type Job = Box<dyn FnOnce(&mut Workspace) + Send>;

/// The production [`PasswordHasher`]: a fixed set of hashing threads, one
/// per core, each keeping its argon2 memory for its whole life. A login
/// flood queues on them instead of stalling other requests, and memory
/// stays at one working set per thread (tokio's blocking pool ran each hash
/// on whichever of its many threads was free, and glibc kept a freed 19 MiB
/// working set cached per thread: 476 MB resident after a login load).
#[derive(Debug, Clone)]
pub struct BlockingArgon2 {
    jobs: Sender<Job>,
    dummy_hash: Arc<String>,
}

impl BlockingArgon2 {
    /// A hasher with `parallel` hashing threads. Computes the dummy hash
    /// that unknown usernames are checked against, so they cost the same.
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
        Ok(BlockingArgon2 {
            jobs: sender,
            dummy_hash: Arc::new(password::hash("an unguessable dummy password")?),
        })
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
        let job: Job = Box::new(move |workspace| {
            let _ = answer.send(work(workspace));
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
        let phc = phc.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let matched = self
            .run(move |workspace| password::verify_in(workspace, &phc, &plain))
            .await
            .unwrap_or(false);
        known && matched
    }
}
