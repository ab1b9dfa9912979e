//! What the domain needs from storage. Implemented for SQLite and PostgreSQL
//! in the `store` crate; every method is one statement or one transaction.

use crate::{AuditEvent, NewMessage, Session, TotpFactor, User, UserId};

/// A storage failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or failed the statement.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique value already exists.
    #[error("already exists: {0}")]
    Conflict(String),
    /// A stored value cannot be read back (bad enum text, negative counter).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// How much one batch lane of the second-factor hot path has done since
/// the store opened (for `/metrics`): its workers each take every check
/// waiting and run them as one statement or transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchLane {
    /// `pg_read`, `pg_write` or `sqlite_write`.
    pub name: &'static str,
    /// Workers serving the lane (its busy time can reach this many seconds
    /// a second).
    pub workers: u32,
    /// Batches run.
    pub batches: u64,
    /// Checks in those batches.
    pub rows: u64,
    /// Time the workers spent running batches, summed, in microseconds.
    pub busy_micros: u64,
}

/// What a failure count, a lock or a paced queue is kept under. Only the
/// domain's rules make one (`lockout`, the code step, password resets);
/// the store keeps its text and never builds one or takes one apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LimitKey(String);

impl LimitKey {
    /// The key of `kind` (`pw:ip`, `reset:user`, …) for `id`.
    pub(crate) fn of(kind: &str, id: impl std::fmt::Display) -> Self {
        LimitKey(format!("{kind}:{id}"))
    }

    /// The key of an address's password failures.
    pub fn address(ip: &str) -> Self {
        LimitKey::of("pw:ip", ip)
    }

    /// A key as the store keeps it, for tests and tools that read the
    /// store directly; the product makes its keys through the rules.
    pub fn from_stored(text: impl Into<String>) -> Self {
        LimitKey(text.into())
    }

    /// The text the store keeps.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LimitKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user's own limits, which a read that finds the user (by name or by
/// session) names in the same statement: the store asks for the key by
/// kind and builds its text from the user id it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserLimit {
    /// The password's lock (`lockout::LockKey::Account`).
    Password,
    /// The second factor's lock.
    SecondFactor,
}

impl UserLimit {
    /// The key's text before the user id.
    pub fn prefix(self) -> &'static str {
        match self {
            UserLimit::Password => "pw:user:",
            UserLimit::SecondFactor => "2fa:user:",
        }
    }

    /// The key for `user`.
    pub fn of(self, user: UserId) -> LimitKey {
        LimitKey(format!("{}{user}", self.prefix()))
    }
}

/// A throttle or lock, keyed by what it protects (`2fa:user:7`, `pw:ip:…`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockState {
    /// Locked until this Unix time (0: not locked).
    pub locked_until: u64,
    /// How many times this key has been locked (the doubling exponent).
    pub lock_count: u32,
}

/// One write of a change that must land whole or not at all: a password
/// change with its revocations and audit row, an authenticator with its
/// recovery codes. [`Commit::write_all`](ports::Commit::write_all) commits a list of them in one
/// transaction, so a crash between two of them cannot leave half a change.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// Sets the user's password hash.
    PasswordHash {
        /// Whose.
        user: UserId,
        /// The new argon2 hash.
        hash: &'a str,
    },
    /// Ends every session of the user.
    EndSessions(UserId),
    /// Ends every session of the user but the one whose token hashes to
    /// `keep` (the browser making a change keeps its session).
    EndOtherSessions {
        /// Whose.
        user: UserId,
        /// The session that stays.
        keep: &'a str,
    },
    /// Forgets every remembered device of the user.
    ForgetDevices(UserId),
    /// Ends every OpenID Connect grant of the user: the applications'
    /// refresh and access tokens stop working.
    EndGrants(UserId),
    /// Sets (or replaces) the user's authenticator.
    Totp {
        /// The sealed factor.
        factor: &'a TotpFactor,
        /// When it was linked.
        now: u64,
    },
    /// Drops the user's offered, unconfirmed authenticator.
    DropPendingEnrollment(UserId),
    /// Replaces the user's recovery codes: the old set stops working as the
    /// new one starts.
    RecoveryCodes {
        /// Whose.
        user: UserId,
        /// (lookup, argon2 hash) of each new code.
        codes: &'a [(String, String)],
        /// When they were made.
        now: u64,
    },
    /// Marks a single-use link (reset, invitation) used. If it already
    /// was, nothing of the list is written and `write_all` answers
    /// [`StoreError::Conflict`]: a link works once even under concurrency.
    UseLink {
        /// The link token's hash.
        token_hash: &'a str,
        /// When.
        now: u64,
    },
    /// Lifts the lock and forgets the failures under a key (a password
    /// reset clears the password lock).
    ClearLock(&'a LimitKey),
    /// Voids every unused single-use link (reset, invitation) of the user:
    /// a new password or a new link makes the older ones worthless.
    VoidLinks {
        /// Whose.
        user: UserId,
        /// When.
        now: u64,
    },
    /// Starts a session.
    Session(&'a Session),
    /// Ends one session (by its token's hash).
    EndSession(&'a str),
    /// Forgets the failures counted under a key (a finished login).
    ClearFailures(&'a LimitKey),
    /// Drops pending outbox messages held under a cancel key (the "login
    /// did not finish" notice of a login that did).
    CancelHeld(&'a str),
    /// Records the user's last full login.
    LastLogin {
        /// Whose.
        user: UserId,
        /// When.
        now: u64,
    },
    /// Appends to the audit trail.
    Audit(&'a AuditEvent),
    /// Commits a message to the outbox.
    Enqueue(&'a NewMessage),
    /// Claims the authenticator's time step `step`, as
    /// [`Factors::claim_totp_step`](ports::Factors::claim_totp_step) does (a code works once). If a parallel
    /// request claimed it, or a later step, first, nothing of the list is
    /// written and `write_all` answers [`StoreError::Conflict`]: a login's
    /// finish commits with its claim, or not at all.
    ClaimStep {
        /// Whose authenticator.
        user: UserId,
        /// The step the code matched.
        step: u64,
        /// The phone's clock offset to remember, in steps.
        clock_offset_steps: i64,
        /// What else must still hold for the claim to take the step (the
        /// code step decided on what it kept from the password step).
        guard: Option<ClaimGuard<'a>>,
    },
    /// Writes the rest of the list only if, as the list is written, no
    /// lock under `lock_key` is in force at `now` and `user` still has an
    /// authenticator; else nothing is written and `write_all` answers
    /// [`StoreError::Conflict`]. First in its list. The password step read
    /// these before the hash and checks them again here, after it, in the
    /// statement that writes (a lock set during the hash holds).
    PasswordGuard {
        /// The account whose password matched.
        user: UserId,
        /// The account's password lock key.
        lock_key: &'a LimitKey,
        /// Now.
        now: u64,
    },
}

/// A [`Write::ClaimStep`] that also holds only if, as it writes, the
/// authenticator is still the one whose seed is `sealed_secret`, the
/// pending session `session` of the same user still exists, the user is
/// not disabled, and no lock under `lock_key` is in force at `now`: the
/// code step of a login decided on what its password step read, not on a
/// read of its own, and these are what could have changed since.
#[derive(Debug, Clone, Copy)]
pub struct ClaimGuard<'a> {
    /// The authenticator's sealed seed, as read.
    pub sealed_secret: &'a [u8],
    /// The pending session's token hash.
    pub session: &'a str,
    /// The user's second-factor lock key.
    pub lock_key: &'a LimitKey,
    /// Now.
    pub now: u64,
}

/// Where sealed values live (each names the master key that sealed it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    /// TOTP seeds of linked apps (row id: the user id).
    Authenticators,
    /// TOTP seeds offered and not yet confirmed (row id: the user id).
    OfferedAuthenticators,
    /// Bodies of messages not yet sent (row id: the outbox id).
    UnsentMessages,
}

/// One sealed value as stored.
#[derive(Debug, Clone)]
pub struct SealedRow {
    /// The row's id (see [`Sealed`]).
    pub id: i64,
    /// The key that sealed it.
    pub key_id: String,
    /// What it was sealed with as associated data: the user id for seeds,
    /// the idempotency key for messages.
    pub bound_to: String,
    /// Nonce, ciphertext and tag.
    pub sealed: Vec<u8>,
}

/// Everything a second-factor check reads, in one round trip.
#[derive(Debug, Clone)]
pub struct SecondFactorState {
    /// The account.
    pub user: User,
    /// Its authenticator, if linked.
    pub totp: Option<TotpFactor>,
    /// Its second-factor lock.
    pub lock: LockState,
    /// Whether failures are recorded under the lock key (a success clears
    /// them only then).
    pub has_failures: bool,
}

/// What the password step reads once the password matched, in one round
/// trip (five before: a login's largest share of statements).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordStepState {
    /// Failures under the address's key in the window.
    pub ip_failures: u32,
    /// The user's password lock.
    pub lock: LockState,
    /// Whether password failures are counted under the lock's key (a
    /// success clears them only then).
    pub has_failures: bool,
    /// The practice's own settings.
    pub practice: crate::PracticePolicy,
    /// The linked authenticator, if any.
    pub totp: Option<TotpFactor>,
    /// Whether the user has a passkey or security key.
    pub has_passkey: bool,
    /// When a message on the given topic was last queued for the user.
    pub last_message_at: Option<u64>,
    /// The practice's language and time zone (for the held notice).
    pub locale: crate::PracticeLocale,
}

pub mod ports;
pub use ports::Store;
