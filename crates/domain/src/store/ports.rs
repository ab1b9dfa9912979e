//! The storage port, area by area: each trait is what the domain needs of
//! one part of the database. [`Store`] is all of them, as the one SQL
//! implementation gives them; a service names the areas it uses.

use super::{
    BatchLane, LimitKey, LockState, PasswordStepState, Sealed, SealedRow, SecondFactorState,
    StoreError, UserLimit, Write,
};
use crate::admin::{AuditFilter, StaffRow};
use crate::oidc::{Claimed, Grant, OidcClient, StoredKey, TokenKind};
use crate::passkey::StoredPasskey;
use crate::{
    AuditEvent, NewMessage, NewUser, OutboxCounts, OutboxMessage, OutboxUpdate, PracticeId,
    PracticePolicy, RememberedDevice, Session, SmsCode, TotpFactor, User, UserId,
};

/// A practice, its policy and its staff list.
#[async_trait::async_trait]
pub trait Practices: Send + Sync {
    /// The practice with this name, created if missing.
    async fn ensure_practice(&self, name: &str, now: u64) -> Result<PracticeId, StoreError>;
    /// The first practice created, if any.
    async fn first_practice(&self) -> Result<Option<PracticeId>, StoreError>;
    /// The practice's policy (defaults for an unknown practice).
    async fn practice_policy(&self, practice: PracticeId) -> Result<PracticePolicy, StoreError>;
    /// Replaces the practice's policy.
    async fn set_practice_policy(
        &self,
        practice: PracticeId,
        policy: &PracticePolicy,
    ) -> Result<(), StoreError>;
    /// The practice's time zone and default language (defaults for an
    /// unknown practice).
    async fn practice_locale(
        &self,
        practice: PracticeId,
    ) -> Result<crate::policy::PracticeLocale, StoreError>;
    /// Sets the practice's time zone and default language.
    async fn set_practice_locale(
        &self,
        practice: PracticeId,
        locale: &crate::policy::PracticeLocale,
    ) -> Result<(), StoreError>;
    /// One page of the practice's users ordered by username, whose
    /// username, name or email contains `search` (case-insensitive), and
    /// how many match in all (with `only`, just that user, if in the
    /// practice). Lock times are as stored; the caller compares them with now.
    async fn staff_page(
        &self,
        practice: PracticeId,
        search: &str,
        only: Option<UserId>,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<StaffRow>, u64), StoreError>;
    /// The practice's enabled administrators.
    async fn practice_admins(&self, practice: PracticeId) -> Result<Vec<User>, StoreError>;
}

/// Accounts: who they are, their password and their standing.
#[async_trait::async_trait]
pub trait Users: Send + Sync {
    /// Creates a user; `Conflict` if the username is taken.
    async fn create_user(&self, user: &NewUser, now: u64) -> Result<UserId, StoreError>;
    /// Creates a user of the API with the caller's own id, unique in the
    /// practice; `Conflict` if taken.
    async fn create_api_user(
        &self,
        user: &NewUser,
        external_id: Option<&str>,
        now: u64,
    ) -> Result<UserId, StoreError>;
    /// The caller's own id for a user of the API.
    async fn external_id(&self, user: UserId) -> Result<Option<String>, StoreError>;
    /// Deletes a user and everything that hangs on them.
    async fn delete_user(&self, user: UserId) -> Result<(), StoreError>;
    /// Looks a user up by normalized username.
    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// The first user with this email address (case-insensitive).
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// Looks a user up by id.
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// Marks whether an administrator requires 2FA for the user.
    async fn set_user_require_2fa(&self, user: UserId, required: bool) -> Result<(), StoreError>;
    /// Keeps the language the user chose (`None`: forget the choice).
    async fn set_user_language(
        &self,
        user: UserId,
        language: Option<i18n::Lang>,
    ) -> Result<(), StoreError>;
    /// Disables (ending every session and remembered device, in one
    /// transaction) or enables an account.
    async fn set_user_disabled(&self, user: UserId, disabled: bool) -> Result<(), StoreError>;
    /// Records a completed login.
    async fn set_last_login(&self, user: UserId, now: u64) -> Result<(), StoreError>;
    /// Sets a new password hash.
    async fn set_password_hash(&self, user: UserId, hash: &str) -> Result<(), StoreError>;
}

/// API keys and the answers kept for idempotent API requests.
#[async_trait::async_trait]
pub trait ApiKeys: Send + Sync {
    /// Stores a new API key (its SHA-256); returns its id.
    async fn create_api_key(
        &self,
        practice: PracticeId,
        name: &str,
        prefix: &str,
        key_hash: &str,
        scopes: &str,
        now: u64,
    ) -> Result<i64, StoreError>;
    /// The key with this hash, revoked or not.
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<crate::ApiKey>, StoreError>;
    /// Every key, oldest first.
    async fn api_keys(&self) -> Result<Vec<crate::ApiKey>, StoreError>;
    /// Revokes the live key with this id or shown prefix; false if none.
    async fn revoke_api_key(&self, id_or_prefix: &str, now: u64) -> Result<bool, StoreError>;
    /// A stored answer for (key, Idempotency-Key): (request fingerprint,
    /// status, body).
    async fn idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
    ) -> Result<Option<(String, u16, String)>, StoreError>;
    /// Replaces the placeholder answer (status 0) stored when the request began.
    async fn finish_idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError>;
    /// Stores an answer for (key, Idempotency-Key); false if one exists.
    async fn store_idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
        request: &str,
        status: u16,
        body: &str,
        now: u64,
    ) -> Result<bool, StoreError>;
}

/// Second factors: the authenticator, its offer, recovery codes and the phone.
#[async_trait::async_trait]
pub trait Factors: Send + Sync {
    /// Creates or atomically replaces the user's TOTP enrollment.
    async fn set_totp(&self, factor: &TotpFactor, now: u64) -> Result<(), StoreError>;
    /// The user's TOTP enrollment.
    async fn totp(&self, user: UserId) -> Result<Option<TotpFactor>, StoreError>;
    /// Records `step` as used if it is newer than the stored last step, in
    /// one atomic statement. Returns false if another request got there
    /// first (or a newer step was already used): the code must be refused.
    async fn claim_totp_step(
        &self,
        user: UserId,
        step: u64,
        clock_offset_steps: i64,
    ) -> Result<bool, StoreError>;
    /// Like [`Self::claim_totp_step`]; when the claim succeeds, also
    /// appends `event` and (with `clear`) forgets the failures under that
    /// key, in the same call (one round trip on each backend).
    async fn claim_totp_step_recorded(
        &self,
        user: UserId,
        step: u64,
        clock_offset_steps: i64,
        event: &AuditEvent,
        clear: Option<&LimitKey>,
    ) -> Result<bool, StoreError>;
    /// Unlinks the user's authenticator app (a phone on file and passkeys
    /// stay: each has its own page to remove it).
    async fn remove_second_factors(&self, user: UserId) -> Result<(), StoreError>;
    /// Removes every second factor of the user (app, phone, recovery codes,
    /// offered app, waiting number, live SMS code), every remembered device
    /// and every session, and marks 2FA required for the user (so the next
    /// login links a factor again), in one transaction.
    async fn reset_second_factors(&self, user: UserId) -> Result<(), StoreError>;
    /// Stores (replacing) the user's offered, unconfirmed authenticator:
    /// (key id, sealed seed).
    async fn put_pending_enrollment(
        &self,
        user: UserId,
        key_id: &str,
        sealed: &[u8],
        now: u64,
    ) -> Result<(), StoreError>;
    /// The offered authenticator: (key id, sealed seed, created at).
    async fn pending_enrollment(
        &self,
        user: UserId,
    ) -> Result<Option<(String, Vec<u8>, u64)>, StoreError>;
    /// Forgets the offered authenticator.
    async fn delete_pending_enrollment(&self, user: UserId) -> Result<(), StoreError>;
    /// Stores (replacing) a phone number waiting for its code, counts the
    /// send and commits the text with the code, in one transaction; returns
    /// the outbox id.
    async fn put_pending_phone(
        &self,
        user: UserId,
        phone: &str,
        code_hash: &str,
        now: u64,
        message: &NewMessage,
    ) -> Result<i64, StoreError>;
    /// The number waiting for its code: (phone, code hash, created at, tries).
    async fn pending_phone(
        &self,
        user: UserId,
    ) -> Result<Option<(String, String, u64, u32)>, StoreError>;
    /// Counts a wrong code against the waiting number.
    async fn add_pending_phone_try(&self, user: UserId) -> Result<(), StoreError>;
    /// Makes the waiting number the user's phone and forgets it as pending,
    /// in one transaction; false if it was no longer waiting.
    async fn activate_pending_phone(&self, user: UserId, phone: &str) -> Result<bool, StoreError>;
    /// Replaces the user's recovery codes with `codes` (lookup, argon2 hash)
    /// in one transaction: the old set stops working as the new one starts.
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[(String, String)],
        now: u64,
    ) -> Result<(), StoreError>;
    /// The unused recovery code with this lookup part: (row id, hash).
    async fn recovery_code(
        &self,
        user: UserId,
        lookup: &str,
    ) -> Result<Option<(i64, String)>, StoreError>;
    /// Marks a recovery code used; false if it already was (single use
    /// under concurrency).
    async fn use_recovery_code(&self, id: i64, now: u64) -> Result<bool, StoreError>;
    /// How many unused recovery codes the user has.
    async fn unused_recovery_codes(&self, user: UserId) -> Result<u32, StoreError>;
}

/// Codes sent by SMS and the count of texts sent.
#[async_trait::async_trait]
pub trait SmsCodes: Send + Sync {
    /// Stores the user's SMS code, replacing (voiding) any previous one,
    /// counts the send and commits the text, in one transaction; returns the
    /// outbox id.
    async fn put_sms_code(
        &self,
        user: UserId,
        code: &SmsCode,
        message: &NewMessage,
    ) -> Result<i64, StoreError>;
    /// The user's live SMS code.
    async fn sms_code(&self, user: UserId) -> Result<Option<SmsCode>, StoreError>;
    /// Counts a wrong try against the user's SMS code; returns the new count.
    async fn add_sms_try(&self, user: UserId) -> Result<u32, StoreError>;
    /// Deletes the SMS code if it is still `code_hash`; true for the one
    /// request that consumed it (single use under concurrency).
    async fn consume_sms_code(&self, user: UserId, code_hash: &str) -> Result<bool, StoreError>;
    /// Deletes the user's SMS code.
    async fn delete_sms_code(&self, user: UserId) -> Result<(), StoreError>;
    /// SMS sent for `user` since `since`, and the time of the latest.
    async fn sms_sends_for_user(
        &self,
        user: UserId,
        since: u64,
    ) -> Result<(u32, Option<u64>), StoreError>;
    /// SMS sent to `phone` since `since`.
    async fn sms_sends_to_phone(&self, phone: &str, since: u64) -> Result<u32, StoreError>;
}

/// Browser sessions, pending and signed in, and what a code step reads with one.
#[async_trait::async_trait]
pub trait Sessions: Send + Sync {
    /// Stores a new session.
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;
    /// Looks a session up by token hash.
    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError>;
    /// Marks a session as used now.
    async fn touch_session(&self, token_hash: &str, now: u64) -> Result<(), StoreError>;
    /// Records a fresh password check on a session.
    async fn set_session_reauth(&self, token_hash: &str, now: u64) -> Result<(), StoreError>;
    /// When the session last passed a password check, if ever.
    async fn session_reauth(&self, token_hash: &str) -> Result<Option<u64>, StoreError>;
    /// Adds a wrong-token failure to a session and returns the new count.
    async fn add_session_failure(&self, token_hash: &str) -> Result<u32, StoreError>;
    /// Deletes one session.
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Deletes every session of a user.
    async fn delete_user_sessions(&self, user: UserId) -> Result<(), StoreError>;
    /// The user, authenticator, lock under `lock_key` and whether failures
    /// are recorded, in one statement (the verification hot path).
    async fn second_factor_state(
        &self,
        user: UserId,
        lock_key: &LimitKey,
    ) -> Result<Option<SecondFactorState>, StoreError>;
    /// The session under `token_hash` with [`Sessions::second_factor_state`]
    /// of its user, with its `lock` key
    /// (the code step's reads: one round trip on PostgreSQL). `None` if
    /// there is no such session or its user is gone.
    async fn session_with_state(
        &self,
        token_hash: &str,
        lock: UserLimit,
    ) -> Result<Option<(Session, SecondFactorState)>, StoreError>;
}

/// Failures counted, locks and paced queues, and what a password step reads with them.
#[async_trait::async_trait]
pub trait Limits: Send + Sync {
    /// Records one failure under `key`, appends `event`, and returns the
    /// failures at or after `since` including this one (in as few round
    /// trips as the backend allows: one on PostgreSQL).
    async fn record_failure_with_audit(
        &self,
        key: &LimitKey,
        now: u64,
        since: u64,
        event: &AuditEvent,
    ) -> Result<u32, StoreError>;
    /// Records one failure under `key`.
    async fn record_failure(&self, key: &LimitKey, now: u64) -> Result<(), StoreError>;
    /// Failures under `key` at or after `since`.
    async fn failures_since(&self, key: &LimitKey, since: u64) -> Result<u32, StoreError>;
    /// In one statement: the failures under `ip_key` at or after `since`,
    /// the lock under `lock_key` and whether failures are counted under
    /// it, `user`'s practice settings, whether it has an authenticator and
    /// when `topic` was last queued for it; `None` if the user is gone.
    async fn password_step_state(
        &self,
        user: &User,
        ip_key: &LimitKey,
        since: u64,
        lock_key: &LimitKey,
        topic: crate::outbox::Topic,
    ) -> Result<Option<PasswordStepState>, StoreError>;
    /// The user named `username` and, in the same statement, what
    /// [`Self::password_step_state`] reads for it, with its `lock` key; `None` if there is no such user.
    async fn user_for_password_step(
        &self,
        username: &str,
        ip_key: &LimitKey,
        since: u64,
        lock: UserLimit,
        topic: crate::outbox::Topic,
    ) -> Result<Option<(User, PasswordStepState)>, StoreError>;
    /// Forgets the failures under `key` (after a success).
    async fn clear_failures(&self, key: &LimitKey) -> Result<(), StoreError>;
    /// The lock under `key`.
    async fn lock_state(&self, key: &LimitKey) -> Result<LockState, StoreError>;
    /// Sets the lock under `key`.
    async fn set_lock(&self, key: &LimitKey, state: LockState) -> Result<(), StoreError>;
    /// Removes the lock and the failures under `key`.
    async fn clear_locks(&self, key: &LimitKey) -> Result<(), StoreError>;
    /// Forgets locks that ended before `before` (and with them the count
    /// that doubles the next one) and failures counted before it: rows of
    /// names, addresses and queues that are never seen again would stay
    /// for ever. Returns how many rows went.
    async fn sweep_locks(&self, before: u64) -> Result<u64, StoreError>;
    /// Books the next slot of a paced queue under `key` (a row of `locks`,
    /// `locked_until` the end of the last slot booked): `pace` seconds
    /// starting when the last one ends, or `now` if it has; refused (`None`,
    /// nothing booked) if it would start more than `max_wait` seconds after
    /// `now`. Returns when the slot starts. One statement, so every
    /// instance books from the same queue.
    async fn book_slot(
        &self,
        key: &LimitKey,
        now: u64,
        pace: u64,
        max_wait: u64,
    ) -> Result<Option<u64>, StoreError>;
}

/// Remembered devices ("save token for 30 days").
#[async_trait::async_trait]
pub trait Devices: Send + Sync {
    /// Stores a new remembered device under `token_hash`.
    async fn create_device(
        &self,
        user: UserId,
        token_hash: &str,
        label: &str,
        now: u64,
        expires_at: u64,
    ) -> Result<(), StoreError>;
    /// The device whose current token hashes to `token_hash`.
    async fn device_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RememberedDevice>, StoreError>;
    /// The device whose previous (already rotated) token hashes to `token_hash`.
    async fn device_by_previous_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RememberedDevice>, StoreError>;
    /// Replaces the device's token if it is still `old_hash` (compare-and-set);
    /// false if another request rotated it first.
    async fn rotate_device(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
        now: u64,
    ) -> Result<bool, StoreError>;
    /// Deletes one device.
    async fn delete_device(&self, id: i64) -> Result<(), StoreError>;
    /// The user's remembered devices, newest first.
    async fn user_devices(&self, user: UserId) -> Result<Vec<RememberedDevice>, StoreError>;
    /// Deletes device `id` if it belongs to `user`; false otherwise (another
    /// user's id is indistinguishable from an unknown one).
    async fn delete_user_device(&self, user: UserId, id: i64) -> Result<bool, StoreError>;
    /// Deletes every device of a user.
    async fn delete_user_devices(&self, user: UserId) -> Result<(), StoreError>;
}

/// Single-use links: password resets and invitations.
#[async_trait::async_trait]
pub trait Links: Send + Sync {
    /// Stores a single-use link token (hash) for `user` without a message
    /// (the emergency link is printed, not sent).
    async fn create_link_token(
        &self,
        token_hash: &str,
        user: UserId,
        now: u64,
        expires_at: u64,
    ) -> Result<(), StoreError>;
    /// Stores a password reset token (hash) for `user` and commits the email
    /// with the link, in one transaction; returns the outbox id.
    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        now: u64,
        expires_at: u64,
        message: &NewMessage,
    ) -> Result<i64, StoreError>;
    /// The unused reset with this hash: (user, expires at).
    async fn password_reset(&self, token_hash: &str) -> Result<Option<(UserId, u64)>, StoreError>;
}

/// Sealed values and the master key that sealed each.
#[async_trait::async_trait]
pub trait Sealing: Send + Sync {
    /// How many sealed values each master key id holds, as (what, key id,
    /// count): authenticators, offered authenticators, unsent messages,
    /// OpenID Connect signing keys.
    async fn sealed_key_usage(&self) -> Result<Vec<(String, String, i64)>, StoreError>;
    /// Up to `limit` values of `what` sealed under a key other than
    /// `key_id`, with row ids above `after`, by id.
    async fn sealed_with_other_key(
        &self,
        what: Sealed,
        key_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SealedRow>, StoreError>;
    /// Replaces a sealed value if it is still sealed under `old_key_id`;
    /// false if it changed meanwhile (re-linked, sent, reset).
    async fn reseal(
        &self,
        what: Sealed,
        id: i64,
        old_key_id: &str,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<bool, StoreError>;
}

/// The audit trail, its seal and its pruning.
#[async_trait::async_trait]
pub trait AuditTrail: Send + Sync {
    /// Appends to the audit trail.
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Appends to the audit trail and commits the message the event calls
    /// for, in one transaction; returns the outbox id.
    async fn append_audit_and_enqueue(
        &self,
        event: &AuditEvent,
        message: &NewMessage,
    ) -> Result<i64, StoreError>;
    /// Up to `limit` events matching `filter`, with their ids. Oldest first
    /// with ids above `from_id`, or newest first with ids below it: exports
    /// and pages walk the whole trail by id with constant memory.
    async fn audit_search(
        &self,
        filter: &AuditFilter,
        from_id: i64,
        newest_first: bool,
        limit: u32,
    ) -> Result<Vec<(i64, AuditEvent)>, StoreError>;
    /// Seals up to `limit` unsealed events older than `cutoff` in id order,
    /// each with `hash(previous, id, event)`: reads and hashes first, then
    /// in one short transaction moves the seal and writes the hashes, unless
    /// another sealer moved the seal meanwhile (then nothing is written and
    /// 0 is returned; the next pass continues from the new seal). Returns
    /// how many were sealed.
    async fn seal_audit(
        &self,
        cutoff: u64,
        limit: u32,
        hash: &(dyn for<'a, 'b> Fn(&'a str, i64, &'b AuditEvent) -> String + Sync),
    ) -> Result<usize, StoreError>;
    /// The chain's ends: (checkpoint id, its hash) left by pruning, and
    /// (last sealed id, its hash).
    async fn audit_seal_state(&self) -> Result<((i64, String), (i64, String)), StoreError>;
    /// Deletes the sealed events before `before` (a prefix of the chain, in
    /// id order) and moves the checkpoint to the last one deleted, in one
    /// transaction. Returns how many were deleted.
    async fn prune_audit(&self, before: u64) -> Result<u64, StoreError>;
    /// Up to `limit` events with an id above `after_id`, in id order, with
    /// their chain hashes.
    async fn audit_chain_page(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<(i64, AuditEvent, Option<String>)>, StoreError>;
    /// The newest `limit` events, newest first.
    async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError>;
}

/// Messages waiting to be sent, and their outcomes.
#[async_trait::async_trait]
pub trait OutboxQueue: Send + Sync {
    /// Commits a message on its own; returns its id.
    async fn enqueue(&self, message: &NewMessage) -> Result<i64, StoreError>;
    /// Atomically claims up to `limit` due messages (pending and due, or
    /// sending with an expired lease) until `lease_until`, counting an
    /// attempt for each; with `only`, just that message. Concurrent callers
    /// never get the same message.
    async fn claim_outbox(
        &self,
        now: u64,
        lease_until: u64,
        limit: u32,
        only: Option<i64>,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Records the outcome of an attempt on a claimed message.
    async fn finish_outbox(&self, id: i64, update: &OutboxUpdate) -> Result<(), StoreError>;
    /// The newest `limit` messages, newest first, optionally of one status.
    async fn outbox_messages(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// One message by id.
    async fn outbox_message(&self, id: i64) -> Result<Option<OutboxMessage>, StoreError>;
    /// Makes a failed (or pending) message due now, with a fresh attempt
    /// budget; false if there is no such message or it was sent.
    async fn retry_outbox(&self, id: i64, now: u64) -> Result<bool, StoreError>;
    /// Pending and failed counts and the oldest pending message's time.
    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError>;
}

/// Writes of several areas committed as one.
#[async_trait::async_trait]
pub trait Commit: Send + Sync {
    /// Commits `writes` in one transaction, as if in order: all or none.
    /// (On PostgreSQL a list whose order cannot matter may be one
    /// statement: one round trip and one commit.)
    async fn write_all(&self, writes: &[Write<'_>]) -> Result<(), StoreError>;
}

/// Whether the database answers, and what the store reports of its own work.
#[async_trait::async_trait]
pub trait Health: Send + Sync {
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// The hot path's batch lanes, if the store has any.
    fn batch_lanes(&self) -> Vec<BatchLane> {
        Vec::new()
    }
}

/// Passkeys and security keys, the users' WebAuthn handles, and the
/// ceremonies under way.
#[async_trait::async_trait]
pub trait Passkeys: Send + Sync {
    /// The user's passkeys, oldest first.
    async fn passkeys(&self, user: UserId) -> Result<Vec<StoredPasskey>, StoreError>;
    /// The passkey with this credential id, whoever's it is.
    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredPasskey>, StoreError>;
    /// Stores a new passkey unless the user has `limit` already (`None`
    /// then); a credential id stored before is a conflict.
    async fn add_passkey(
        &self,
        passkey: &StoredPasskey,
        limit: usize,
    ) -> Result<Option<i64>, StoreError>;
    /// Records a sign-in with passkey `id`: its updated record, when.
    async fn passkey_used(
        &self,
        id: i64,
        record: &str,
        backed_up: bool,
        now: u64,
    ) -> Result<(), StoreError>;
    /// Deletes passkey `id` if it is `user`'s; false otherwise.
    async fn delete_passkey(&self, user: UserId, id: i64) -> Result<bool, StoreError>;
    /// The user's WebAuthn handle, made `candidate` if it had none.
    async fn webauthn_handle(&self, user: UserId, candidate: &str) -> Result<String, StoreError>;
    /// The user whose WebAuthn handle this is.
    async fn user_by_webauthn_handle(&self, handle: &str) -> Result<Option<User>, StoreError>;
    /// Keeps a ceremony's state under `key` until `expires_at` (a new one
    /// under the same key replaces it).
    async fn put_ceremony(
        &self,
        key: &str,
        user: Option<UserId>,
        state: &str,
        expires_at: u64,
    ) -> Result<(), StoreError>;
    /// Takes the ceremony under `key` (once: it is deleted), if not
    /// expired at `now`.
    async fn take_ceremony(
        &self,
        key: &str,
        now: u64,
    ) -> Result<Option<(Option<UserId>, String)>, StoreError>;
}

/// Every area: what the domain holds. One implementation (the `store`
/// crate) gives them all; [`Commit::write_all`] commits writes of several
/// areas as one.
/// OpenID Connect: registered applications, signing keys, and what each
/// sign-in granted (its single-use code, access and refresh tokens).
#[async_trait::async_trait]
pub trait Oidc: Send + Sync {
    /// Registers a client; `Conflict` if the id is taken.
    async fn add_oidc_client(&self, client: &OidcClient) -> Result<(), StoreError>;
    /// Every client (of one practice), oldest first.
    async fn oidc_clients(
        &self,
        practice: Option<PracticeId>,
    ) -> Result<Vec<OidcClient>, StoreError>;
    /// The client with this id.
    async fn oidc_client(&self, client_id: &str) -> Result<Option<OidcClient>, StoreError>;
    /// Removes a client (of this practice) and everything it was granted;
    /// false if none.
    async fn remove_oidc_client(
        &self,
        client_id: &str,
        practice: Option<PracticeId>,
    ) -> Result<bool, StoreError>;
    /// Stores a signing key; with `retire_at`, the keys signing until now
    /// stop signing then (one transaction).
    async fn add_signing_key(
        &self,
        key: &StoredKey,
        retire_at: Option<u64>,
    ) -> Result<(), StoreError>;
    /// Every signing key, newest first.
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Replaces a signing key's sealed private half if it is still sealed
    /// under `old_key_id`; false if not.
    async fn reseal_signing_key(
        &self,
        kid: &str,
        old_key_id: &str,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<bool, StoreError>;
    /// The user's `sub`: the stored one, else `candidate`, stored now.
    async fn oidc_subject(&self, user: UserId, candidate: &str) -> Result<String, StoreError>;
    /// Stores a grant with the hash of its code; returns its id.
    async fn add_grant(&self, grant: &Grant, code_hash: &str) -> Result<i64, StoreError>;
    /// Uses up the code with this hash if it is `client_id`'s and unused,
    /// in one statement.
    async fn claim_code(
        &self,
        code_hash: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Claimed, StoreError>;
    /// Stores an access or refresh token's hash.
    async fn add_oidc_token(
        &self,
        token_hash: &str,
        grant: i64,
        kind: TokenKind,
        expires_at: u64,
    ) -> Result<(), StoreError>;
    /// Uses up a live refresh token of `client_id`, in one statement.
    async fn claim_refresh_token(
        &self,
        token_hash: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Claimed, StoreError>;
    /// The grant of a live access token.
    async fn access_token_grant(
        &self,
        token_hash: &str,
        now: u64,
    ) -> Result<Option<Grant>, StoreError>;
    /// Ends a grant and every token issued from it.
    async fn end_grant(&self, grant: i64) -> Result<(), StoreError>;
    /// Forgets codes, tokens and grants past their use; returns how many
    /// grants went.
    async fn sweep_oidc(&self, now: u64) -> Result<u64, StoreError>;
}

pub trait Store:
    Practices
    + Users
    + ApiKeys
    + Factors
    + SmsCodes
    + Sessions
    + Limits
    + Devices
    + Passkeys
    + Oidc
    + Links
    + Sealing
    + AuditTrail
    + OutboxQueue
    + Commit
    + Health
{
}

impl<
    T: Practices
        + Users
        + ApiKeys
        + Factors
        + SmsCodes
        + Sessions
        + Limits
        + Devices
        + Passkeys
        + Oidc
        + Links
        + Sealing
        + AuditTrail
        + OutboxQueue
        + Commit
        + Health,
> Store for T
{
}
