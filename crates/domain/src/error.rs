//! The domain's errors. Web maps them to responses in one place.

use crate::{SealError, StoreError};

/// What can go wrong below the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The database failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A sealed secret could not be opened.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The OS random source failed.
    #[error("the operating system's random source failed")]
    RandomSource,
    /// A bug or an impossible state; logged, shown as a generic error.
    #[error("internal error: {0}")]
    Internal(String),
}
