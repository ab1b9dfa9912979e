//! argon2 off the async runtime: each hash runs on the blocking pool, at most
//! one per core at a time, so a login flood queues hashes instead of stalling
//! every other request.

use std::sync::Arc;

use domain::{DomainError, PasswordHasher, password};
use tokio::sync::Semaphore;

/// The production [`PasswordHasher`].
#[derive(Debug, Clone)]
pub struct BlockingArgon2 {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

impl BlockingArgon2 {
    /// A hasher allowing `parallel` hashes at once. Computes the dummy hash
    /// that unknown usernames are checked against, so they cost the same.
    pub fn new(parallel: usize) -> Result<Self, DomainError> {
        Ok(BlockingArgon2 {
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            dummy_hash: Arc::new(password::hash("an unguessable dummy password")?),
        })
    }

    /// One permit per available core.
    pub fn per_core() -> Result<Self, DomainError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| DomainError::Internal("hasher closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| DomainError::Internal("password hashing task failed".into()))
    }
}

#[async_trait::async_trait]
impl PasswordHasher for BlockingArgon2 {
    async fn hash(&self, plain: String) -> Result<String, DomainError> {
        self.run(move || password::hash(&plain)).await?
    }

    async fn verify(&self, phc: Option<String>, plain: String) -> bool {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let matched = self
            .run(move || password::verify(&phc, &plain))
            .await
            .unwrap_or(false);
        known && matched
    }
}
