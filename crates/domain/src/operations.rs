//! What the edges read for operators and for the API's retries: health,
//! the outbox's gauges, the hot path's lanes, an `Idempotency-Key`'s
//! answer, users by id or name. Thin on purpose: the edges go through the
//! login service, never around it to the store.

use crate::{
    ApiKey, AuditEvent, AuditKind, BatchLane, DomainError, LoginService, NewUser, OutboxCounts,
    OutboxMessage, PracticeId, Role, StoreError, User, UserId,
};

/// An account an administrator creates from the command line, with its
/// password: what `twofactor user add` takes.
#[derive(Debug, Clone, Copy)]
pub struct AccountByAdmin<'a> {
    /// Login name, as typed.
    pub username: &'a str,
    /// Email.
    pub email: &'a str,
    /// A phone the administrator vouches for, international form.
    pub phone: Option<&'a str>,
    /// Role.
    pub role: Role,
    /// The practice.
    pub practice: PracticeId,
    /// The password, checked like every new password.
    pub password: &'a str,
}

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

    /// The newest `limit` audit events, newest first (`audit tail`).
    pub async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEvent>, DomainError> {
        Ok(self.store.recent_audit(limit).await?)
    }

    /// Every API key, revoked ones included (`api-key list`).
    pub async fn api_keys(&self) -> Result<Vec<ApiKey>, DomainError> {
        Ok(self.store.api_keys().await?)
    }

    /// Revokes the live key with this id or shown prefix; false if none.
    pub async fn revoke_api_key(&self, id_or_prefix: &str, now: u64) -> Result<bool, DomainError> {
        Ok(self.store.revoke_api_key(id_or_prefix, now).await?)
    }

    /// Up to `limit` outbox messages, with `status` if given (`outbox list`).
    pub async fn outbox_messages(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, DomainError> {
        Ok(self.store.outbox_messages(status, limit).await?)
    }

    /// One outbox message by id.
    pub async fn outbox_message(&self, id: i64) -> Result<Option<OutboxMessage>, DomainError> {
        Ok(self.store.outbox_message(id).await?)
    }

    /// Sends a failed message again (`outbox retry`); false if none.
    pub async fn retry_outbox(&self, id: i64, now: u64) -> Result<bool, DomainError> {
        Ok(self.store.retry_outbox(id, now).await?)
    }

    /// The practice named `name` (created if missing), or by default the
    /// first practice (or "Default Practice" on an empty database).
    /// `Ok(Err(why))` for an empty name.
    pub async fn practice_named(
        &self,
        name: Option<&str>,
        now: u64,
    ) -> Result<Result<PracticeId, &'static str>, DomainError> {
        Ok(Ok(
            match (name.map(str::trim), self.store.first_practice().await?) {
                (Some(""), _) => return Ok(Err("the practice name is empty")),
                (Some(name), _) => self.store.ensure_practice(name, now).await?,
                (None, Some(id)) => id,
                (None, None) => self.store.ensure_practice("Default Practice", now).await?,
            },
        ))
    }

    /// Creates an account with a password on an administrator's word, by
    /// the rules the pages apply (name, email, phone, password), audited.
    /// A phone given here is a verified factor at once. `Ok(Err(why))`
    /// says which rule the input breaks.
    pub async fn add_account(
        &self,
        new: AccountByAdmin<'_>,
        now: u64,
    ) -> Result<Result<User, String>, DomainError> {
        let username = match crate::user::new_username(new.username) {
            Ok(name) => name,
            Err(why) => return Ok(Err(why.to_string())),
        };
        if !crate::api::valid_email(new.email) {
            return Ok(Err(
                "email must be an address like name@clinic.example".into()
            ));
        }
        let phone = match new
            .phone
            .map(crate::phone::international_to_e164)
            .transpose()
        {
            Ok(phone) => phone,
            Err(why) => return Ok(Err(why)),
        };
        let min_length = self.policy.password_min_length;
        if let Err(why) = crate::password::check_new_for(new.password, &username, min_length) {
            return Ok(Err(why.to_string()));
        }
        let hash = self.hasher.hash(new.password.to_owned()).await?;
        let account = NewUser {
            practice_id: new.practice,
            username: username.clone(),
            email: new.email.to_owned(),
            phone,
            role: new.role,
            password_hash: Some(hash),
            display_name: String::new(),
        };
        let id = match self.store.create_user(&account, now).await {
            Ok(id) => id,
            Err(StoreError::Conflict(_)) => {
                return Ok(Err(format!("user {username} already exists")));
            }
            Err(other) => return Err(other.into()),
        };
        let user =
            self.store.user_by_id(id).await?.ok_or_else(|| {
                DomainError::Internal("the new user could not be read back".into())
            })?;
        self.record(now, AuditKind::UserCreated, &user, "by administrator")
            .await?;
        Ok(Ok(user))
    }
}
