//! What the edges read for operators and for the API's retries: health,
//! the outbox's gauges, the hot path's lanes, an `Idempotency-Key`'s
//! answer, users by id or name. Thin on purpose: the edges go through the
//! login service, never around it to the store.

use crate::{BatchLane, DomainError, LoginService, OutboxCounts, User, UserId};

/// The first answer given under an `Idempotency-Key`: the request it
/// answered, its status (0 while it is still being answered) and body.
pub type IdempotentAnswer = (String, u16, String);

impl LoginService {
    /// Whether the database answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), DomainError> {
        Ok(self.store.ping().await?)
    }

    /// The outbox's gauges (`/metrics`).
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, DomainError> {
        Ok(self.store.outbox_counts().await?)
    }

    /// The hot path's batch lanes (`/metrics`).
    pub fn batch_lanes(&self) -> Vec<BatchLane> {
        self.store.batch_lanes()
    }

    /// The user with this id, if any.
    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>, DomainError> {
        Ok(self.store.user_by_id(id).await?)
    }

    /// The user named `typed` (in any width or case), if any.
    pub async fn user_by_name(&self, typed: &str) -> Result<Option<User>, DomainError> {
        match crate::user::normalize_username(typed) {
            Some(name) => Ok(self.store.user_by_username(&name).await?),
            None => Ok(None),
        }
    }

    /// Claims an `Idempotency-Key` of API key `api_key` for `request` at
    /// `now`; false if it was used before (replay its answer).
    pub async fn claim_idempotency_key(
        &self,
        api_key: i64,
        idem_key: &str,
        request: &str,
        now: u64,
    ) -> Result<bool, DomainError> {
        Ok(self
            .store
            .store_idempotent_answer(api_key, idem_key, request, 0, "", now)
            .await?)
    }

    /// Records the answer to a claimed `Idempotency-Key`.
    pub async fn finish_idempotency_key(
        &self,
        api_key: i64,
        idem_key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), DomainError> {
        Ok(self
            .store
            .finish_idempotent_answer(api_key, idem_key, status, body)
            .await?)
    }

    /// The answer recorded under an `Idempotency-Key`, if any.
    pub async fn idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
    ) -> Result<Option<IdempotentAnswer>, DomainError> {
        Ok(self.store.idempotent_answer(api_key, idem_key).await?)
    }
}
