//! The login state machine.
//!
//! ```text
//!  anonymous --password ok, no factor--------------------------> full session
//!      |                                                             ^
//!      +--password ok, TOTP enrolled--> pending session --token ok---+
//!      |                                   |  (5 min, grants nothing)
//!      +--password wrong--> anonymous      +--5 wrong tokens--> anonymous
//!                                          +--10 failures/15 min--> second factor locked
//! ```
//!
//! Every transition writes an audit event. "Now" is a parameter.

use std::sync::Arc;

use otp::{Totp, VerifyError, Window};

use crate::drift;
use crate::kept_login::{KeptLogin, KeptLogins};
use crate::lockout::{self, LockKey, PasswordVerdict};
use crate::notify::{ABANDONED_TOPIC, HeldNotice, success_event};
use crate::user::normalize_username;
use crate::{
    AuditEvent, AuditKind, ClaimGuard, Delivery, DomainError, LockState, Outbox, Outcome,
    PasswordHasher, Policy, RememberedDevice, RequestContext, Sealed, SecondFactorState, SecretBox,
    Session, SessionStage, SmsCode, Store, TotpFactor, User, UserId, Write, token,
};

/// The audit detail of a new set of recovery codes.
pub(crate) const RECOVERY_CODES_DETAIL: &str = "previous set invalidated";

/// The answer to a username and password.
#[derive(Debug)]
pub enum PasswordOutcome {
    /// Wrong password or unknown user: the same answer for both.
    Rejected,
    /// Too many failures from this address or for this account.
    Throttled {
        /// Seconds until trying again makes sense.
        retry_after: u64,
    },
    /// Logged in: no second factor enrolled (and none required), or a
    /// remembered device skipped it.
    Complete {
        /// The new session cookie value.
        session_token: String,
        /// The rotated remember cookie value, when a remembered device was used.
        remember_token: Option<String>,
    },
    /// The password is right; the second factor is next.
    SecondFactor {
        /// The pending session cookie value.
        session_token: String,
    },
    /// The password is right but 2FA is required and none is enrolled: an
    /// enrolling session that grants nothing but linking an app.
    MustEnroll {
        /// The enrolling session cookie value.
        session_token: String,
    },
}

/// The answer to a typed token.
#[derive(Debug)]
pub enum TokenOutcome {
    /// Logged in; the session was rotated.
    Accepted {
        /// The new full session cookie value.
        session_token: String,
        /// The remember cookie value, when "Save token for 30 days" was ticked.
        remember_token: Option<String>,
    },
    /// Wrong, malformed or reused; the user may try again.
    Wrong {
        /// Tries left in this half-logged-in session.
        attempts_left: u32,
        /// The code was already used (wait for the next one).
        reused: bool,
        /// The code was the phone's for this many minutes ago: its clock is
        /// behind (a code ahead is never named, see `drift`).
        clock_behind_minutes: Option<u64>,
    },
    /// The second factor is locked until this Unix time.
    Locked {
        /// Unix seconds.
        until: u64,
    },
    /// The half-logged-in session expired or was ended; start again.
    SessionEnded,
}

/// The answer to "Request Token via SMS".
#[derive(Debug, PartialEq, Eq)]
pub enum SmsOutcome {
    /// Sent to the masked number.
    Sent {
        /// `•••• •••• 4321`.
        masked: String,
    },
    /// Asked again too soon.
    Cooldown {
        /// Seconds to wait.
        seconds: u64,
    },
    /// The hourly limit for this user or number is reached.
    TooMany,
    /// The user has no verified phone.
    NoPhone,
    /// The practice does not allow text messages as a second factor.
    Forbidden,
    /// The provider refused the number (permanently): the code was voided.
    Rejected {
        /// `•••• •••• 4321`.
        masked: String,
    },
    /// The provider is not answering: the text is queued and retried, and
    /// may arrive late; the code stays valid.
    Delayed {
        /// `•••• •••• 4321`.
        masked: String,
    },
    /// The half-logged-in session expired.
    SessionEnded,
}

/// What a typed token matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    /// The authenticator's current code (now used).
    Totp,
    /// The authenticator's current code, its step not yet claimed
    /// ([`Claim::WithFinish`]): the caller's writes claim it
    /// ([`Write::ClaimStep`]) and only land if the claim does.
    TotpStep {
        /// The matched step.
        step: u64,
        /// The phone's clock offset, in steps.
        offset: i64,
    },
    /// The live SMS code (now used).
    Sms,
    /// Neither.
    Wrong {
        /// A right code already used.
        reused: bool,
        /// The phone's clock seems behind by this many minutes.
        clock_behind_minutes: Option<u64>,
        /// For the audit trail.
        detail: String,
    },
}

/// The audit detail of a right code whose step was already used.
const CODE_USED: &str = "code already used";

/// How [`LoginService::check_token_with`] claims a matching
/// authenticator code's step (so the code works once).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Claim<'a> {
    /// Together with appending this success event and clearing the
    /// failures under this key, if the claim takes (the API's hot path).
    Recorded(&'a AuditEvent, Option<&'a str>),
    /// Not at all: the answer is [`TokenCheck::TotpStep`] and the caller
    /// claims the step in the same commit as its own writes (a login's
    /// finish: one round trip and one commit less).
    WithFinish,
}

/// Whether a text message may be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmsAllowance {
    /// Yes.
    Allowed,
    /// Not for this many seconds.
    Cooldown(u64),
    /// The hourly limit for the user or the number is reached.
    TooMany,
}

/// Runs logins against a [`Store`].
#[derive(Clone)]
pub struct LoginService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    pub(crate) seal: Arc<SecretBox>,
    pub(crate) outbox: Outbox,
    pub(crate) policy: Policy,
    pub(crate) site_name: String,
    /// Live API keys by hash, with the second they were read: a key is
    /// looked up at most once a second (a revocation takes up to a second).
    pub(crate) api_keys: Arc<std::sync::Mutex<crate::api::KeyCache>>,
    /// Half logins started here, for their code step.
    kept: Arc<KeptLogins>,
    /// Work started for an answer that did not wait for it.
    pending: Arc<crate::PendingWork>,
}

impl std::fmt::Debug for LoginService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginService")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// What finishing a login does besides the session: for
/// [`LoginService::complete`].
#[derive(Debug, Clone, Copy)]
struct Completion<'a> {
    /// Remember this device (the box was ticked).
    remember: bool,
    /// Clear the second factor's counted failures (skipped when the read
    /// before the check found none: one statement less per login).
    clear_failures: bool,
    /// Claim this authenticator step (and clock offset) in the same
    /// commit ([`Claim::WithFinish`]).
    claim: Option<(u64, i64)>,
    /// The claim's guard, when the step decided on a kept login.
    guard: Option<ClaimGuard<'a>>,
}

/// One password submission, as the password step's parts read it.
struct Attempt<'a> {
    /// The username in its normal form, if it can be one.
    name: Option<&'a str>,
    password: &'a str,
    /// The remembered-device cookie the browser sent.
    remember_token: Option<&'a str>,
    ctx: &'a RequestContext,
    now: u64,
    /// Start of the failure window.
    since: u64,
    /// The address's failure key.
    ip_key: String,
}

impl std::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password nor the cookie.
        f.debug_struct("Attempt")
            .field("name", &self.name)
            .field("ctx", &self.ctx)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl Attempt<'_> {
    /// The name as the audit trail records it.
    fn typed(&self) -> &str {
        self.name.unwrap_or("")
    }
}

/// A typed code without the spaces and dashes people put in.
fn typed_code(typed: &str) -> String {
    typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect()
}

/// What [`key_2fa`] puts before the user id.
const KEY_2FA_PREFIX: &str = "2fa:user:";
pub(crate) fn key_2fa(user: UserId) -> String {
    format!("{KEY_2FA_PREFIX}{user}")
}

impl LoginService {
    /// A service over `store`.
    pub fn new(
        store: Arc<dyn Store>,
        hasher: Arc<dyn PasswordHasher>,
        seal: Arc<SecretBox>,
        outbox: Outbox,
        policy: Policy,
        site_name: &str,
    ) -> Self {
        LoginService {
            store,
            hasher,
            seal,
            outbox,
            policy,
            site_name: site_name.to_owned(),
            api_keys: Arc::default(),
            kept: Arc::default(),
            pending: Arc::default(),
        }
    }

    /// This service with passwords checked by `hasher` instead (tests: a
    /// hasher during whose work something else happens).
    #[must_use]
    pub fn with_hasher(mut self, hasher: Arc<dyn PasswordHasher>) -> Self {
        self.hasher = hasher;
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Work an answer did not wait for (a reset request's lookup and
    /// email): the edge counts what it starts, tests and shutdown wait.
    pub fn pending_work(&self) -> &Arc<crate::PendingWork> {
        &self.pending
    }

    /// The outbox, for the worker and the CLI.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The store, for tests that arrange or inspect rows directly. The
    /// pages, the API and the CLI go through this service's methods.
    #[doc(hidden)]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Checks a username and password. The password hash is computed whether
    /// or not the user exists, so an unknown name costs the same time.
    pub async fn submit_password(
        &self,
        username: &str,
        password: &str,
        remember_token: Option<&str>,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<PasswordOutcome, DomainError> {
        let normalized = normalize_username(username);
        let attempt = Attempt {
            name: normalized.as_deref(),
            password,
            remember_token,
            ctx,
            now,
            since: now.saturating_sub(self.policy.failure_window_seconds),
            ip_key: lockout::address_key(&ctx.ip),
        };
        let typed = attempt.typed();
        let (user, early, ip_failures) = self.read_password_step(&attempt).await?;
        // A disabled account answers as a wrong password.
        let account = user.as_ref().filter(|u| !u.disabled);
        // A browser remembered for this account answers to its own lock,
        // and skips the address's queue: it proved a second factor before,
        // so a flood from the same address (a clinic's NAT) does not keep
        // its owner out. The cookie is looked up whatever the name, so it
        // costs the same read for a name with no account.
        let device = match remember_token {
            Some(presented) => {
                let found = self
                    .store
                    .device_by_token(&token::digest(presented))
                    .await?;
                match (found, account, &early) {
                    (Some(device), Some(user), Some(early)) => {
                        let policy = self.policy.for_user(&early.practice, user.require_2fa);
                        let seconds = policy.remember_device_seconds;
                        Some(device).filter(|d| d.valid_for(user.id, seconds, now))
                    }
                    _ => None,
                }
            }
            None => None,
        };
        // Before the hash, so the answer says nothing about the password.
        if device.is_none()
            && lockout::address_paced(ip_failures, &self.policy)
            && let Err(retry_after) = self.wait_address_turn(&ctx.ip, now).await?
        {
            let detail = "too many failures from this address";
            return self
                .password_blocked(user.as_ref(), typed, detail, retry_after, ctx, now)
                .await;
        }
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let password_ok = self.hasher.verify(hash, password.to_owned()).await;
        let right = account.filter(|_| password_ok);
        if let (Some(user), Some(early)) = (right, &early)
            && let Some(outcome) = self.usual_way(user, early, &attempt).await?
        {
            return Ok(outcome);
        }
        self.decide_password(user.as_ref(), right, device, &attempt)
            .await
    }

    /// The user named in `attempt` and, in the same statement, the state
    /// its step needs, read before the hash; and the address's failures.
    async fn read_password_step(
        &self,
        attempt: &Attempt<'_>,
    ) -> Result<(Option<User>, Option<crate::PasswordStepState>, u32), DomainError> {
        let (user, early) = match attempt.name {
            Some(name) => self
                .store
                .user_for_password_step(
                    name,
                    &attempt.ip_key,
                    attempt.since,
                    lockout::ACCOUNT_PREFIX,
                    ABANDONED_TOPIC,
                )
                .await?
                .unzip(),
            None => (None, None),
        };
        let ip_failures = match &early {
            Some(early) => early.ip_failures,
            None => {
                self.store
                    .failures_since(&attempt.ip_key, attempt.since)
                    .await?
            }
        };
        Ok((user, early, ip_failures))
    }

    /// The usual way on after a right password (to the authenticator's
    /// code), when what was read before the hash allows it: the half login
    /// is written in one statement that checks the lock and the
    /// authenticator again as it writes, so a lock set during the hash
    /// still holds. `None`: decide afresh ([`Self::decide_password`]).
    async fn usual_way(
        &self,
        user: &User,
        early: &crate::PasswordStepState,
        attempt: &Attempt<'_>,
    ) -> Result<Option<PasswordOutcome>, DomainError> {
        let remembering = attempt.remember_token.is_some()
            && self
                .policy
                .for_user(&early.practice, user.require_2fa)
                .remember_device_seconds
                > 0;
        if early.totp.is_none() || early.lock.locked_until > attempt.now || remembering {
            return Ok(None);
        }
        let password_key = LockKey::Account(user.id).key();
        let guard = Write::PasswordGuard {
            user: user.id,
            lock_key: &password_key,
            now: attempt.now,
        };
        // Failures counted during the hash are forgotten too.
        let typed = attempt.typed();
        let Some(session_token) = self
            .hold_pending_login(
                user,
                &password_key,
                early,
                typed,
                attempt.ctx,
                attempt.now,
                Some(guard),
            )
            .await?
        else {
            return Ok(None);
        };
        self.rehash_if_weak(user, attempt.password).await?;
        Ok(Some(PasswordOutcome::SecondFactor { session_token }))
    }

    /// The password step decided on the state read after the hash: the
    /// lock that applies (a remembered browser's own, the account's, or
    /// the name's), then [`lockout::password_verdict`].
    async fn decide_password(
        &self,
        user: Option<&User>,
        right: Option<&User>,
        device: Option<RememberedDevice>,
        attempt: &Attempt<'_>,
    ) -> Result<PasswordOutcome, DomainError> {
        let (typed, ctx, now) = (attempt.typed(), attempt.ctx, attempt.now);
        let lock_key = match (&device, user, attempt.name) {
            (Some(device), _, _) => Some(LockKey::Device(device.id)),
            (None, Some(user), _) => Some(LockKey::Account(user.id)),
            (None, None, Some(name)) => Some(LockKey::Name(name)),
            (None, None, None) => None,
        };
        let state = match right {
            Some(user) => {
                let key = LockKey::Account(user.id).key();
                self.store
                    .password_step_state(
                        user,
                        &attempt.ip_key,
                        attempt.since,
                        &key,
                        ABANDONED_TOPIC,
                    )
                    .await?
            }
            None => None,
        };
        let lock = match (&lock_key, &state) {
            (Some(LockKey::Account(_)), Some(state)) => state.lock,
            (Some(key), _) => self.store.lock_state(&key.key()).await?,
            (None, _) => LockState::default(),
        };
        match lockout::password_verdict(lock, state.is_some(), now) {
            PasswordVerdict::Locked { until } => {
                let detail = "password attempts locked";
                self.password_blocked(user, typed, detail, until - now, ctx, now)
                    .await
            }
            PasswordVerdict::Wrong => {
                self.count_wrong_password(user, lock_key.as_ref(), lock, attempt)
                    .await?;
                Ok(PasswordOutcome::Rejected)
            }
            PasswordVerdict::Accepted => match (right, state) {
                (Some(user), Some(state)) => {
                    self.rehash_if_weak(user, attempt.password).await?;
                    let remember = attempt.remember_token;
                    self.password_accepted(user.clone(), state, device, remember, typed, ctx, now)
                        .await
                }
                _ => Err(DomainError::Internal("accepted without an account".into())),
            },
        }
    }

    /// Hashes a right password again when its stored hash was made with
    /// weaker settings than today's (an older deployment's): the one
    /// moment the password is known. Same password, so no session ends.
    async fn rehash_if_weak(&self, user: &User, password: &str) -> Result<(), DomainError> {
        match &user.password_hash {
            Some(phc) if crate::password::needs_rehash(phc) => {
                let stronger = self.hasher.hash(password.to_owned()).await?;
                self.store.set_password_hash(user.id, &stronger).await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A password attempt refused without its password counting (a lock,
    /// a paced address's full queue): audited as blocked, answered with
    /// when to come back.
    async fn password_blocked(
        &self,
        user: Option<&User>,
        typed: &str,
        detail: &str,
        retry_after: u64,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<PasswordOutcome, DomainError> {
        let user = user.map(|u| u.id);
        self.audit(
            now,
            AuditKind::PasswordLogin,
            Outcome::Blocked,
            user,
            typed,
            ctx,
            detail,
        )
        .await?;
        Ok(PasswordOutcome::Throttled { retry_after })
    }

    /// Waits for this address's next paced password check (a queue kept
    /// in the database, shared by every instance); `Err(seconds)` when the
    /// wait would be too long (come back then), nothing booked.
    async fn wait_address_turn(&self, ip: &str, now: u64) -> Result<Result<(), u64>, DomainError> {
        let pace = self.policy.password_ip_pace_seconds;
        let max_wait = self.policy.password_ip_max_wait_seconds;
        let key = lockout::pace_key(ip);
        match self.store.book_slot(&key, now, pace, max_wait).await? {
            Some(start) => {
                let wait = start.saturating_sub(now);
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                Ok(Ok(()))
            }
            None => Ok(Err(max_wait)),
        }
    }

    /// The right password, no lock in the way: a remembered browser skips
    /// the second factor, else the second factor or enrollment is next,
    /// or (no factor, none required) the user is signed in.
    #[allow(clippy::too_many_arguments)]
    async fn password_accepted(
        &self,
        user: User,
        state: crate::PasswordStepState,
        device: Option<RememberedDevice>,
        remember_token: Option<&str>,
        typed: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<PasswordOutcome, DomainError> {
        // The password's failures are forgotten: with the pending session
        // below in one transaction, on the other ways out on their own.
        let password_key = LockKey::Account(user.id).key();
        let policy = self.policy.for_user(&state.practice, user.require_2fa);
        let sms_factor = user.phone.is_some() && policy.allow_sms;
        if sms_factor || state.totp.is_some() {
            if let Some(presented) = remember_token.filter(|_| policy.remember_device_seconds > 0)
                && let Some(rotated) = self
                    .use_device(&user, device.as_ref(), presented, ctx, now)
                    .await?
            {
                self.store.clear_failures(&password_key).await?;
                if let Some(device) = &device {
                    self.store
                        .clear_failures(&LockKey::Device(device.id).key())
                        .await?;
                }
                let detail = "second factor skipped by a remembered device";
                let session_token = self.signed_in(&user, typed, detail, ctx, now).await?;
                return Ok(PasswordOutcome::Complete {
                    session_token,
                    remember_token: Some(rotated),
                });
            }
            let session_token = self
                .hold_pending_login(&user, &password_key, &state, typed, ctx, now, None)
                .await?
                .ok_or_else(|| DomainError::Internal("unguarded write refused".into()))?;
            return Ok(PasswordOutcome::SecondFactor { session_token });
        }
        self.store.clear_failures(&password_key).await?;
        if policy.require_2fa {
            self.audit(
                now,
                AuditKind::EnrollmentRequired,
                Outcome::Blocked,
                Some(user.id),
                typed,
                ctx,
                "2FA required, none enrolled: enrollment started",
            )
            .await?;
            let session_token = self
                .start_session(user.id, SessionStage::Enrolling, now)
                .await?;
            // The password was just checked: the link flow's step-up is fresh.
            self.store
                .set_session_reauth(&token::digest(&session_token), now)
                .await?;
            return Ok(PasswordOutcome::MustEnroll { session_token });
        }
        let detail = "no second factor enrolled";
        let session_token = self.signed_in(&user, typed, detail, ctx, now).await?;
        Ok(PasswordOutcome::Complete {
            session_token,
            remember_token: None,
        })
    }

    /// A full session from the password step alone, audited with `detail`
    /// (why no second factor was asked); its cookie value.
    async fn signed_in(
        &self,
        user: &User,
        typed: &str,
        detail: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<String, DomainError> {
        let session_token = self.start_session(user.id, SessionStage::Full, now).await?;
        let (kind, outcome) = (AuditKind::PasswordLogin, Outcome::Success);
        self.audit(now, kind, outcome, Some(user.id), typed, ctx, detail)
            .await?;
        Ok(session_token)
    }

    /// A wrong password (or unknown name): counted against the address
    /// and the key that applies, locking it at the limit, and audited.
    async fn count_wrong_password(
        &self,
        user: Option<&User>,
        key: Option<&LockKey<'_>>,
        lock: LockState,
        attempt: &Attempt<'_>,
    ) -> Result<(), DomainError> {
        let (typed, ctx, now, since) = (attempt.typed(), attempt.ctx, attempt.now, attempt.since);
        self.store.record_failure(&attempt.ip_key, now).await?;
        let event = AuditEvent::new(
            now,
            AuditKind::PasswordLogin,
            Outcome::Failure,
            None,
            typed,
            ctx,
            "wrong username or password",
        );
        let Some(key) = key else {
            return self.store.append_audit(&event).await.map_err(Into::into);
        };
        self.count_failure_under(key, lock, user, typed, ctx, Some(&event), now, since)
            .await
    }

    /// Counts a wrong password for `user` outside the login page (a
    /// step-up, emergency access): against the account's lock.
    pub(crate) async fn count_password_failure(
        &self,
        user: &User,
        ctx: &RequestContext,
        now: u64,
        since: u64,
    ) -> Result<(), DomainError> {
        let key = LockKey::Account(user.id);
        let lock = self.store.lock_state(&key.key()).await?;
        if lock.locked_until > now {
            // A lock's tries are not counted: they would prolong it.
            return Ok(());
        }
        self.count_failure_under(
            &key,
            lock,
            Some(user),
            &user.username,
            ctx,
            None,
            now,
            since,
        )
        .await
    }

    /// Records a password failure under `key` (with its audit `event`, if
    /// the caller does not audit it), and locks the key when this failure
    /// reaches the limit.
    #[allow(clippy::too_many_arguments)]
    async fn count_failure_under(
        &self,
        key: &LockKey<'_>,
        lock: LockState,
        user: Option<&User>,
        typed: &str,
        ctx: &RequestContext,
        event: Option<&AuditEvent>,
        now: u64,
        since: u64,
    ) -> Result<(), DomainError> {
        let stored = key.key();
        let failures = match event {
            Some(event) => {
                self.store
                    .record_failure_with_audit(&stored, now, since, event)
                    .await?
            }
            None => {
                self.store.record_failure(&stored, now).await?;
                self.store.failures_since(&stored, since).await?
            }
        };
        let limit = self.policy.password_failures_per_account;
        let Some(next) = lockout::after_failure(failures, limit, lock, &self.policy, now) else {
            return Ok(());
        };
        let what = match key {
            LockKey::Device(_) => "password tries from this remembered browser",
            LockKey::Account(_) | LockKey::Name(_) => "password",
        };
        let user = user.map(|u| u.id);
        self.lock(&stored, next, user, typed, ctx, what, now).await
    }

    /// Writes a half login (pending session, its event, the held notice,
    /// the password failures forgotten) as the password step read `state`;
    /// with a `guard`, only if it holds as the writes commit (`None` if
    /// not: nothing written). Without one, failures are forgotten only if
    /// `state` counted some (one statement less on SQLite's transaction).
    #[allow(clippy::too_many_arguments)]
    async fn hold_pending_login(
        &self,
        user: &User,
        password_key: &str,
        state: &crate::PasswordStepState,
        typed: &str,
        ctx: &RequestContext,
        now: u64,
        guard: Option<Write<'_>>,
    ) -> Result<Option<String>, DomainError> {
        let (session_token, session) = new_session(user.id, SessionStage::Pending, now)?;
        let event = AuditEvent::new(
            now,
            AuditKind::PasswordLogin,
            Outcome::Success,
            Some(user.id),
            typed,
            ctx,
            "second factor pending",
        );
        let held = HeldNotice {
            session: &session,
            password_key: (guard.is_some() || state.has_failures).then_some(password_key),
            event: &event,
            last_sent_at: state.last_message_at,
            guard,
        };
        if !self.hold_abandoned_notice(user, held, ctx, now).await? {
            return Ok(None);
        }
        if let Some(totp) = &state.totp {
            let kept = KeptLogin {
                session,
                // Not the password's hash: the code step has no use for it.
                user: User {
                    password_hash: None,
                    ..user.clone()
                },
                totp: totp.clone(),
            };
            self.kept
                .keep(kept, now, self.policy.pending_session_seconds);
        }
        Ok(Some(session_token))
    }

    /// Sets lock `next` under `key` (the second factor's, a password's),
    /// forgets the failures that led to it, and audits it with the request
    /// that tipped it over (the owner is emailed).
    #[allow(clippy::too_many_arguments)]
    async fn lock(
        &self,
        key: &str,
        next: LockState,
        user: Option<UserId>,
        username: &str,
        ctx: &RequestContext,
        what: &str,
        now: u64,
    ) -> Result<(), DomainError> {
        self.store.set_lock(key, next).await?;
        self.store.clear_failures(key).await?;
        let minutes = next.locked_until.saturating_sub(now) / 60;
        let detail = format!("{what} locked for {minutes} minutes");
        let (kind, outcome) = (AuditKind::Lock, Outcome::Success);
        self.audit(now, kind, outcome, user, username, ctx, &detail)
            .await
    }

    /// The half-logged-in session and its user, if still valid.
    pub async fn pending(
        &self,
        session_token: &str,
        now: u64,
    ) -> Result<Option<(Session, User)>, DomainError> {
        match self.pending_session(session_token, now).await? {
            Some(session) => self.with_user(session).await,
            None => Ok(None),
        }
    }

    /// `session` with its user, unless the account is gone or disabled.
    async fn with_user(&self, session: Session) -> Result<Option<(Session, User)>, DomainError> {
        Ok(self
            .store
            .user_by_id(session.user_id)
            .await?
            .filter(|u| !u.disabled)
            .map(|user| (session, user)))
    }

    /// The half-logged-in session alone, if still within its time; an
    /// expired one is deleted.
    async fn pending_session(
        &self,
        session_token: &str,
        now: u64,
    ) -> Result<Option<Session>, DomainError> {
        let Some(session) = self.store.session(&token::digest(session_token)).await? else {
            return Ok(None);
        };
        Ok(self.still_pending(&session, now).await?.then_some(session))
    }

    /// Whether `session` is half logged in and within its time; an expired
    /// one is deleted.
    async fn still_pending(&self, session: &Session, now: u64) -> Result<bool, DomainError> {
        let expired = now.saturating_sub(session.created_at) >= self.policy.pending_session_seconds;
        if session.stage != SessionStage::Pending || expired {
            if expired && session.stage == SessionStage::Pending {
                self.store.delete_session(&session.token_hash).await?;
            }
            return Ok(false);
        }
        Ok(true)
    }

    /// An enrolling session (2FA required, none linked yet) and its user,
    /// valid for 10 minutes.
    pub async fn enrolling(
        &self,
        session_token: &str,
        now: u64,
    ) -> Result<Option<(Session, User)>, DomainError> {
        let Some(session) = self.store.session(&token::digest(session_token)).await? else {
            return Ok(None);
        };
        if session.stage != SessionStage::Enrolling
            || now.saturating_sub(session.created_at) >= 2 * self.policy.pending_session_seconds
        {
            return Ok(None);
        }
        self.with_user(session).await
    }

    /// Turns an enrolling session into a full one (new id) once a factor
    /// is linked.
    pub(crate) async fn finish_enrolling(
        &self,
        session_token: &str,
        user: &User,
        now: u64,
    ) -> Result<Option<String>, DomainError> {
        let hash = token::digest(session_token);
        match self.store.session(&hash).await? {
            Some(session) if session.stage == SessionStage::Enrolling => {
                self.store.delete_session(&hash).await?;
                Ok(Some(
                    self.start_session(user.id, SessionStage::Full, now).await?,
                ))
            }
            _ => Ok(None),
        }
    }

    /// The fully logged-in session and its user, if within the idle and
    /// absolute timeouts. Refreshes the idle timer.
    pub async fn authenticated(
        &self,
        session_token: &str,
        now: u64,
    ) -> Result<Option<(Session, User)>, DomainError> {
        let Some(session) = self.store.session(&token::digest(session_token)).await? else {
            return Ok(None);
        };
        if session.stage != SessionStage::Full {
            return Ok(None);
        }
        let Some(user) = self
            .store
            .user_by_id(session.user_id)
            .await?
            .filter(|u| !u.disabled)
        else {
            return Ok(None);
        };
        // The practice's idle timeout, read now: a change applies at once.
        let policy = self.policy_for(&user).await?;
        let idle = now.saturating_sub(session.last_seen_at) >= policy.idle_timeout_seconds;
        let old = now.saturating_sub(session.created_at) >= policy.absolute_timeout_seconds;
        if idle || old {
            self.store.delete_session(&session.token_hash).await?;
            let detail = if old {
                format!(
                    "absolute timeout ({} h)",
                    policy.absolute_timeout_seconds / 3600
                )
            } else {
                format!("idle timeout ({} min)", policy.idle_timeout_seconds / 60)
            };
            let ctx = RequestContext::server();
            self.audit_success(&user, AuditKind::SessionExpired, &ctx, &detail, now)
                .await?;
            return Ok(None);
        }
        // Write at most once a minute: the idle timer does not need more.
        if now.saturating_sub(session.last_seen_at) >= 60 {
            self.store.touch_session(&session.token_hash, now).await?;
        }
        Ok(Some((session, user)))
    }

    /// Checks a typed token (authenticator code or SMS code) for a
    /// half-logged-in session.
    pub async fn submit_token(
        &self,
        session_token: &str,
        typed: &str,
        remember: bool,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<TokenOutcome, DomainError> {
        let token_hash = token::digest(session_token);
        if let Some(kept) = self.kept.take(&token_hash) {
            if let Some(accepted) = self.finish_kept(kept, typed, remember, ctx, now).await? {
                return Ok(accepted);
            }
        }
        // One read for the session, the user, the authenticator and the
        // lock (four round trips of a login's code step once).
        let Some((session, state)) = self
            .store
            .session_with_state(&token_hash, KEY_2FA_PREFIX)
            .await?
        else {
            return Ok(TokenOutcome::SessionEnded);
        };
        if !self.still_pending(&session, now).await? || state.user.disabled {
            return Ok(TokenOutcome::SessionEnded);
        }
        let SecondFactorState {
            user,
            totp,
            lock,
            has_failures,
        } = state;
        if let Some(locked) = self
            .refuse_locked(&user, lock, AuditKind::TotpToken, ctx, now)
            .await?
        {
            return Ok(locked);
        }
        let check = match self
            .check_token_with(&user, totp, typed, Claim::WithFinish, now)
            .await?
        {
            Some(check) => check,
            None => {
                self.store.delete_session(&session.token_hash).await?;
                return Ok(TokenOutcome::SessionEnded);
            }
        };
        let (kind, claim) = match check {
            TokenCheck::TotpStep { step, offset } => (AuditKind::TotpToken, Some((step, offset))),
            TokenCheck::Totp => (AuditKind::TotpToken, None),
            TokenCheck::Sms => (AuditKind::SmsToken, None),
            TokenCheck::Wrong {
                reused,
                clock_behind_minutes,
                detail,
            } => {
                return self
                    .refuse_token(
                        &user,
                        &session,
                        reused,
                        clock_behind_minutes,
                        &detail,
                        ctx,
                        now,
                    )
                    .await;
            }
        };
        let done = Completion {
            remember,
            clear_failures: has_failures,
            claim,
            guard: None,
        };
        match self.complete(&user, &session, done, kind, ctx, now).await? {
            Some(accepted) => Ok(accepted),
            // The authenticator's step, claimed in the finish's own commit,
            // went to a parallel request first: a used code.
            None => {
                self.refuse_token(&user, &session, true, None, CODE_USED, ctx, now)
                    .await
            }
        }
    }

    /// The code step of a login kept since its password step, decided on
    /// what that step read: `Some` if the code is the authenticator's and
    /// the finish landed with its guard ([`ClaimGuard`]) holding. `None`
    /// if anything else is the case (another factor's code, a wrong one,
    /// time run out, the guard not holding): nothing written, and the step
    /// is decided again on a fresh read.
    async fn finish_kept(
        &self,
        kept: KeptLogin,
        typed: &str,
        remember: bool,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Option<TokenOutcome>, DomainError> {
        let KeptLogin {
            session,
            user,
            totp,
        } = kept;
        if now.saturating_sub(session.created_at) >= self.policy.pending_session_seconds {
            return Ok(None);
        }
        let generator = self.open_totp(&totp)?;
        let Ok((step, offset)) = self.verify_totp(&generator, &totp, &typed_code(typed), now)
        else {
            return Ok(None);
        };
        let lock_key = key_2fa(user.id);
        let done = Completion {
            remember,
            // Failures counted since the password step (another session's
            // wrong codes) go too: a delete that usually finds none.
            clear_failures: true,
            claim: Some((step, offset)),
            guard: Some(ClaimGuard {
                sealed_secret: &totp.sealed_secret,
                session: &session.token_hash,
                lock_key: &lock_key,
                now,
            }),
        };
        self.complete(&user, &session, done, AuditKind::TotpToken, ctx, now)
            .await
    }

    /// `code` checked against `factor`'s authenticator `generator` at
    /// `now`, shifted by the phone's known clock offset: the step it
    /// matched and the offset to remember.
    fn verify_totp(
        &self,
        generator: &Totp,
        factor: &TotpFactor,
        code: &str,
        now: u64,
    ) -> Result<(u64, i64), VerifyError> {
        let (behind, ahead) =
            drift::accepted_window(factor.clock_offset_steps, self.policy.totp_window_steps);
        let step = generator.verify(code, now, Window::new(behind, ahead), factor.last_step)?;
        let now_step = generator.step_at(now).unwrap_or(step);
        Ok((step, drift::learned_offset(step, now_step)))
    }

    /// A wrong or used token in a half-logged-in session: counted, and
    /// answered with what the page tells the user.
    #[allow(clippy::too_many_arguments)]
    async fn refuse_token(
        &self,
        user: &User,
        session: &Session,
        reused: bool,
        clock_behind_minutes: Option<u64>,
        detail: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<TokenOutcome, DomainError> {
        let outcome = self
            .fail(user, Some(session), AuditKind::TotpToken, detail, ctx, now)
            .await?;
        Ok(match outcome {
            TokenOutcome::Wrong { attempts_left, .. } => TokenOutcome::Wrong {
                attempts_left,
                reused,
                clock_behind_minutes,
            },
            other => other,
        })
    }

    /// Checks a typed token against the user's authenticator `factor`
    /// (claiming its step, so it works once) and then the live SMS code.
    /// `None` when the user has neither factor. Counts nothing: the caller
    /// decides.
    /// `claim` says how a matching authenticator code's step is claimed.
    pub(crate) async fn check_token_with(
        &self,
        user: &User,
        factor: Option<TotpFactor>,
        typed: &str,
        claim: Claim<'_>,
        now: u64,
    ) -> Result<Option<TokenCheck>, DomainError> {
        let totp = match factor {
            Some(factor) => Some((self.open_totp(&factor)?, factor)),
            None => None,
        };
        // Only read the practice policy when it matters: a phone is on file.
        let sms = user.phone.is_some() && self.policy_for(user).await?.allow_sms;
        if totp.is_none() && !sms {
            return Ok(None);
        }
        let code = typed_code(typed);

        let mut result = Err(VerifyError::Mismatch);
        if let Some((generator, factor)) = &totp {
            let verified = self.verify_totp(generator, factor, &code, now);
            result = verified.clone().map(|(step, _)| step);
            if let Ok((step, offset)) = verified {
                let claimed = match claim {
                    Claim::Recorded(event, clear) => {
                        self.store
                            .claim_totp_step_recorded(user.id, step, offset, event, clear)
                            .await?
                    }
                    Claim::WithFinish => return Ok(Some(TokenCheck::TotpStep { step, offset })),
                };
                if claimed {
                    return Ok(Some(TokenCheck::Totp));
                }
            }
        }
        // Codes are only texted to the user's phone: without one there is
        // no code to read (and no statement to spend on it).
        if result.is_err() && sms && self.try_sms_code(user, &code, now).await? {
            return Ok(Some(TokenCheck::Sms));
        }

        // Every other path is a failure: wrong, malformed, missing, reused,
        // or lost the race for this step to a parallel request.
        let reused = matches!(result, Err(VerifyError::AlreadyUsed)) || result.is_ok();
        let clock_behind_minutes = match (&totp, reused) {
            (Some((generator, factor)), false) => {
                self.clock_hint(generator, factor, &code, now).await?
            }
            _ => None,
        };
        let detail = match (&result, clock_behind_minutes) {
            (Err(VerifyError::AlreadyUsed), _) | (Ok(_), _) => CODE_USED.to_owned(),
            (Err(VerifyError::Format(_)), _) => "malformed or missing code".to_owned(),
            (_, Some(minutes)) => {
                format!("wrong code; phone clock behind by about {minutes} min")
            }
            _ => "wrong code".to_owned(),
        };
        Ok(Some(TokenCheck::Wrong {
            reused,
            clock_behind_minutes,
            detail,
        }))
    }

    /// `Locked` if the user's second factor is locked now. Tries while
    /// locked are refused without counting, so they do not extend the lock;
    /// they are audited as blocked under `kind`.
    pub(crate) async fn refuse_if_locked(
        &self,
        user: &User,
        kind: AuditKind,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Option<TokenOutcome>, DomainError> {
        let lock = self.store.lock_state(&key_2fa(user.id)).await?;
        self.refuse_locked(user, lock, kind, ctx, now).await
    }

    /// [`LoginService::refuse_if_locked`] with the lock already read.
    pub(crate) async fn refuse_locked(
        &self,
        user: &User,
        lock: LockState,
        kind: AuditKind,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Option<TokenOutcome>, DomainError> {
        if lock.locked_until <= now {
            return Ok(None);
        }
        self.audit(
            now,
            kind,
            Outcome::Blocked,
            Some(user.id),
            &user.username,
            ctx,
            "second factor locked",
        )
        .await?;
        Ok(Some(TokenOutcome::Locked {
            until: lock.locked_until,
        }))
    }

    /// Counts a failed second-factor attempt (token or recovery code) against
    /// the session (if any: API calls have none) and the user's lock, audits
    /// it, and says what happens next.
    pub(crate) async fn fail(
        &self,
        user: &User,
        session: Option<&Session>,
        kind: AuditKind,
        detail: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<TokenOutcome, DomainError> {
        let lock_key = key_2fa(user.id);
        let since = now.saturating_sub(self.policy.failure_window_seconds);
        // Failures never send a notice, so the audit row can ride with the
        // failure count: one round trip on PostgreSQL, two on SQLite.
        let event = AuditEvent::new(
            now,
            kind,
            Outcome::Failure,
            Some(user.id),
            &user.username,
            ctx,
            detail,
        );
        let recent = self
            .store
            .record_failure_with_audit(&lock_key, now, since, &event)
            .await?;
        let failures = match session {
            Some(session) => self.store.add_session_failure(&session.token_hash).await?,
            None => 0,
        };
        if recent >= self.policy.lock_after_failures {
            let previous = self.store.lock_state(&lock_key).await?;
            let next = lockout::next_lock(previous, &self.policy, now);
            let (id, name) = (Some(user.id), user.username.as_str());
            self.lock(&lock_key, next, id, name, ctx, "second factor", now)
                .await?;
            let until = next.locked_until;
            if let Some(session) = session {
                self.store.delete_session(&session.token_hash).await?;
            }
            return Ok(TokenOutcome::Locked { until });
        }
        if let Some(session) = session.filter(|_| failures >= self.policy.max_tokens_per_session) {
            self.store.delete_session(&session.token_hash).await?;
            return Ok(TokenOutcome::SessionEnded);
        }
        Ok(TokenOutcome::Wrong {
            attempts_left: self.policy.max_tokens_per_session - failures,
            reused: false,
            clock_behind_minutes: None,
        })
    }

    /// Checks a recovery code for a half-logged-in session. Counts toward
    /// the same lock as wrong tokens; a used code never works again.
    pub async fn submit_recovery_code(
        &self,
        session_token: &str,
        typed: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<TokenOutcome, DomainError> {
        let Some((session, user)) = self.pending(session_token, now).await? else {
            return Ok(TokenOutcome::SessionEnded);
        };
        if let Some(locked) = self
            .refuse_if_locked(&user, AuditKind::RecoveryCodeUsed, ctx, now)
            .await?
        {
            return Ok(locked);
        }
        if self.check_recovery_code(&user, typed, now).await?
            && let Some(accepted) = self
                .complete(
                    &user,
                    &session,
                    Completion {
                        remember: false,
                        clear_failures: true,
                        claim: None,
                        guard: None,
                    },
                    AuditKind::RecoveryCodeUsed,
                    ctx,
                    now,
                )
                .await?
        {
            return Ok(accepted);
        }
        self.fail(
            &user,
            Some(&session),
            AuditKind::RecoveryCodeUsed,
            "wrong or used recovery code",
            ctx,
            now,
        )
        .await
    }

    /// Checks a recovery code and uses it up; true for the one request that
    /// used it. Counts nothing: the caller decides.
    pub(crate) async fn check_recovery_code(
        &self,
        user: &User,
        typed: &str,
        now: u64,
    ) -> Result<bool, DomainError> {
        let parsed = crate::recovery::RecoveryCode::parse(typed);
        let stored = match &parsed {
            Some(code) => self.store.recovery_code(user.id, &code.lookup).await?,
            None => None,
        };
        // The hash is checked even when the lookup part matches nothing, so
        // the time taken does not tell which lookup parts exist.
        let secret = parsed
            .as_ref()
            .map(|c| c.secret.clone())
            .unwrap_or_default();
        let matched = self
            .hasher
            .verify(stored.as_ref().map(|(_, hash)| hash.clone()), secret)
            .await;
        Ok(match (matched, stored) {
            (true, Some((id, _))) => self.store.use_recovery_code(id, now).await?,
            _ => false,
        })
    }

    /// A fresh set of recovery codes for the signed-in `user`, once the
    /// change is confirmed ([`LoginService::step_up`]); `Err` says why not.
    pub async fn regenerate_recovery_codes(
        &self,
        session_token: &str,
        user: &User,
        password: &str,
        proof: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<Vec<String>, crate::StepUp>, DomainError> {
        match self
            .step_up(session_token, user, password, proof, ctx, now)
            .await?
        {
            crate::StepUp::Passed => Ok(Ok(self.new_recovery_codes(user, ctx, now).await?)),
            refused => Ok(Err(refused)),
        }
    }

    /// A fresh set of recovery codes for `user`, replacing any old set.
    /// Returns them for showing once; only hashes are stored.
    pub async fn new_recovery_codes(
        &self,
        user: &User,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Vec<String>, DomainError> {
        let (shown, stored) = self.make_recovery_codes().await?;
        self.commit_audited(
            &[Write::RecoveryCodes {
                user: user.id,
                codes: &stored,
                now,
            }],
            &[success_event(
                user,
                AuditKind::RecoveryCodesCreated,
                ctx,
                RECOVERY_CODES_DETAIL,
                now,
            )],
        )
        .await?;
        Ok(shown)
    }

    /// A set of recovery codes: as shown once, and as stored (lookup,
    /// argon2 hash). Nothing is written.
    pub(crate) async fn make_recovery_codes(
        &self,
    ) -> Result<(Vec<String>, Vec<(String, String)>), DomainError> {
        let mut shown = Vec::with_capacity(crate::recovery::SET_SIZE);
        let mut stored: Vec<(String, String)> = Vec::with_capacity(crate::recovery::SET_SIZE);
        while shown.len() < crate::recovery::SET_SIZE {
            let code = crate::recovery::RecoveryCode::generate()?;
            if stored.iter().any(|(lookup, _)| *lookup == code.lookup) {
                continue;
            }
            stored.push((
                code.lookup.clone(),
                self.hasher.hash(code.secret.clone()).await?,
            ));
            shown.push(code.display());
        }
        Ok((shown, stored))
    }

    /// The user's remembered devices that still work, newest first.
    pub async fn devices(
        &self,
        user: &User,
        now: u64,
    ) -> Result<Vec<crate::RememberedDevice>, DomainError> {
        let mut devices = self.store.user_devices(user.id).await?;
        devices.retain(|d| d.expires_at > now);
        Ok(devices)
    }

    /// Revokes one of the user's own remembered devices; false if `id` is
    /// not one of theirs.
    pub async fn revoke_device(
        &self,
        user: &User,
        id: i64,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<bool, DomainError> {
        let done = self.store.delete_user_device(user.id, id).await?;
        if done {
            self.audit_success(user, AuditKind::DeviceRevoked, ctx, "by the user", now)
                .await?;
        }
        Ok(done)
    }

    /// Revokes every remembered device of the user.
    pub async fn revoke_all_devices(
        &self,
        user: &User,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        self.store.delete_user_devices(user.id).await?;
        self.audit_success(user, AuditKind::DeviceRevoked, ctx, "all, by the user", now)
            .await
    }

    /// Changes the password after checking the current one. Every session
    /// and remembered device is revoked; the caller gets a fresh session for
    /// the browser that made the change. `Err` carries the message to show.
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new: &str,
        confirm: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<String, String>, DomainError> {
        if !self
            .hasher
            .verify(user.password_hash.clone(), current.to_owned())
            .await
        {
            self.audit(
                now,
                AuditKind::PasswordChanged,
                Outcome::Failure,
                Some(user.id),
                &user.username,
                ctx,
                "wrong current password",
            )
            .await?;
            return Ok(Err("The current password is not correct.".into()));
        }
        if new != confirm {
            return Ok(Err("The two new passwords differ.".into()));
        }
        let min_length = self.policy_for(user).await?.password_min_length;
        if let Err(message) = crate::password::check_new_for(new, &user.username, min_length) {
            return Ok(Err(message));
        }
        self.replace_password(user, new, ctx, "by the user", now, None)
            .await?;
        Ok(Ok(self
            .start_session(user.id, SessionStage::Full, now)
            .await?))
    }

    /// Whether the user has an authenticator app enrolled, and its digits.
    pub async fn totp_digits(&self, user: &User) -> Result<Option<u8>, DomainError> {
        Ok(self.store.totp(user.id).await?.map(|f| f.digits.get()))
    }

    /// How many unused recovery codes the user has.
    pub async fn recovery_codes_left(&self, user: &User) -> Result<u32, DomainError> {
        Ok(self.store.unused_recovery_codes(user.id).await?)
    }

    /// The second factor passed: rotate to a full session, clear the
    /// failure count, remember the browser if asked. `None` when the step
    /// to claim with it was taken by a parallel request: nothing written.
    async fn complete(
        &self,
        user: &User,
        pending: &Session,
        done: Completion<'_>,
        kind: AuditKind,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Option<TokenOutcome>, DomainError> {
        // One transaction: the step is claimed, the pending session becomes
        // a full one, the counted failures and the held "did not finish"
        // notice go, and the audit row lands, all together (a crash leaves
        // the login pending).
        let (session_token, session) = new_session(user.id, SessionStage::Full, now)?;
        let lock_key = key_2fa(user.id);
        let mut writes = Vec::with_capacity(6);
        if let Some((step, clock_offset_steps)) = done.claim {
            writes.push(Write::ClaimStep {
                user: user.id,
                step,
                clock_offset_steps,
                guard: done.guard,
            });
        }
        if done.clear_failures {
            writes.push(Write::ClearFailures(&lock_key));
        }
        writes.extend([
            Write::EndSession(&pending.token_hash),
            Write::CancelHeld(&pending.token_hash),
            Write::Session(&session),
            Write::LastLogin { user: user.id, now },
        ]);
        if !self
            .commit_audited(&writes, &[success_event(user, kind, ctx, "", now)])
            .await?
        {
            return Ok(None);
        }
        let remember_seconds = if done.remember {
            self.policy_for(user).await?.remember_device_seconds
        } else {
            0
        };
        let remember_token = if remember_seconds > 0 {
            Some(
                self.remember_device(user, remember_seconds, ctx, now)
                    .await?,
            )
        } else {
            None
        };
        Ok(Some(TokenOutcome::Accepted {
            session_token,
            remember_token,
        }))
    }

    pub(crate) fn open_totp(&self, factor: &TotpFactor) -> Result<Totp, DomainError> {
        let context = format!("totp:{}", factor.user_id);
        let seed = self
            .seal
            .open(&factor.key_id, &factor.sealed_secret, context.as_bytes())?;
        let secret = otp::Secret::from_bytes(seed.to_vec())
            .map_err(|e| DomainError::Internal(format!("stored TOTP seed: {e}")))?;
        Ok(Totp::new(
            secret,
            factor.algorithm,
            factor.digits,
            factor.period,
        ))
    }

    /// Checks `code` against the user's live SMS code; true if it matched
    /// and this request consumed it. A wrong code uses up one of its tries.
    async fn try_sms_code(&self, user: &User, code: &str, now: u64) -> Result<bool, DomainError> {
        let Some(sms) = self.store.sms_code(user.id).await? else {
            return Ok(false);
        };
        if sms.expires_at <= now || sms.tries >= self.policy.sms_tries {
            self.store.delete_sms_code(user.id).await?;
            return Ok(false);
        }
        let plausible =
            !code.is_empty() && code.len() <= 8 && code.bytes().all(|b| b.is_ascii_digit());
        if plausible
            && self
                .hasher
                .verify(Some(sms.code_hash.clone()), code.to_owned())
                .await
        {
            return Ok(self.store.consume_sms_code(user.id, &sms.code_hash).await?);
        }
        if self.store.add_sms_try(user.id).await? >= self.policy.sms_tries {
            self.store.delete_sms_code(user.id).await?;
        }
        Ok(false)
    }

    /// Whether one more text may go to `phone` for `user` now: 30 s between
    /// sends, 5 an hour per user and per number.
    pub(crate) async fn sms_allowance(
        &self,
        user: &User,
        phone: &str,
        now: u64,
    ) -> Result<SmsAllowance, DomainError> {
        let hour_ago = now.saturating_sub(3600);
        let (sent, latest) = self.store.sms_sends_for_user(user.id, hour_ago).await?;
        if let Some(latest) = latest {
            let wait = (latest + self.policy.sms_resend_cooldown_seconds).saturating_sub(now);
            if wait > 0 {
                return Ok(SmsAllowance::Cooldown(wait));
            }
        }
        if sent >= self.policy.sms_per_hour
            || self.store.sms_sends_to_phone(phone, hour_ago).await? >= self.policy.sms_per_hour
        {
            return Ok(SmsAllowance::TooMany);
        }
        Ok(SmsAllowance::Allowed)
    }

    /// "Request Token via SMS" for a half-logged-in session.
    pub async fn request_sms(
        &self,
        session_token: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<SmsOutcome, DomainError> {
        let Some((_, user)) = self.pending(session_token, now).await? else {
            return Ok(SmsOutcome::SessionEnded);
        };
        self.send_sms_code(&user, ctx, now).await
    }

    /// Texts a fresh code to the user's phone, within the sending limits.
    pub(crate) async fn send_sms_code(
        &self,
        user: &User,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<SmsOutcome, DomainError> {
        let user = user.clone();
        let Some(phone) = user.phone.clone() else {
            return Ok(SmsOutcome::NoPhone);
        };
        if !self.policy_for(&user).await?.allow_sms {
            self.audit(
                now,
                AuditKind::SmsSent,
                Outcome::Blocked,
                Some(user.id),
                &user.username,
                ctx,
                "the practice does not allow text messages",
            )
            .await?;
            return Ok(SmsOutcome::Forbidden);
        }
        match self.sms_allowance(&user, &phone, now).await? {
            SmsAllowance::Allowed => {}
            SmsAllowance::Cooldown(seconds) => return Ok(SmsOutcome::Cooldown { seconds }),
            SmsAllowance::TooMany => {
                self.audit(
                    now,
                    AuditKind::SmsSent,
                    Outcome::Blocked,
                    Some(user.id),
                    &user.username,
                    ctx,
                    "hourly SMS limit reached",
                )
                .await?;
                return Ok(SmsOutcome::TooMany);
            }
        }
        let digits = match self.store.totp(user.id).await? {
            Some(factor) => factor.digits.get(),
            None => 6,
        };
        let code = crate::sms::random_code(digits)?;
        let code_hash = self.hasher.hash(code.clone()).await?;
        let expires_at = now + self.policy.sms_code_seconds;
        let text = format!(
            "{} security token: {}. It expires in {} minutes. Never share it; staff will not ask for it.",
            self.site_name,
            otp::group_for_display(&code),
            self.policy.sms_code_seconds / 60
        );
        let message = self
            .outbox
            .sms(user.id, "sms-code", &phone, &text, now, expires_at)?;
        let id = self
            .store
            .put_sms_code(
                user.id,
                &SmsCode {
                    code_hash,
                    phone: phone.clone(),
                    created_at: now,
                    expires_at,
                    tries: 0,
                },
                &message,
            )
            .await?;
        let masked = crate::sms::mask_phone(&phone);
        let delivery = self.outbox.send_claimed(id, &message, now).await?;
        let (outcome, detail, answer) = match delivery {
            Delivery::Sent => (
                Outcome::Success,
                masked.clone(),
                SmsOutcome::Sent { masked },
            ),
            Delivery::Retrying => (
                Outcome::Failure,
                format!("{masked}: provider unavailable, retrying"),
                SmsOutcome::Delayed { masked },
            ),
            Delivery::Failed => {
                // The code never reaches the phone: void it.
                self.store.delete_sms_code(user.id).await?;
                (
                    Outcome::Failure,
                    format!("{masked}: refused by the provider"),
                    SmsOutcome::Rejected { masked },
                )
            }
        };
        self.audit(
            now,
            AuditKind::SmsSent,
            outcome,
            Some(user.id),
            &user.username,
            ctx,
            &detail,
        )
        .await?;
        Ok(answer)
    }

    /// Remembers this browser for `user`; returns the cookie value.
    async fn remember_device(
        &self,
        user: &User,
        remember_seconds: u64,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<String, DomainError> {
        let value = token::generate()?;
        let label = crate::device::label_from_user_agent(&ctx.user_agent);
        let expires = now.saturating_add(remember_seconds);
        self.store
            .create_device(user.id, &token::digest(&value), &label, now, expires)
            .await?;
        self.audit_success(user, AuditKind::DeviceRemembered, ctx, &label, now)
            .await?;
        Ok(value)
    }

    /// Uses a remember cookie for `user` after a correct password: the
    /// rotated cookie value if `device` (the password step found it valid
    /// for this user) still holds that cookie. A cookie already rotated away
    /// (stolen and used, or replayed) revokes the device.
    async fn use_device(
        &self,
        user: &User,
        device: Option<&RememberedDevice>,
        presented: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Option<String>, DomainError> {
        let hash = token::digest(presented);
        if let Some(device) = device {
            let rotated = token::generate()?;
            if self
                .store
                .rotate_device(device.id, &hash, &token::digest(&rotated), now)
                .await?
            {
                self.audit_success(
                    user,
                    AuditKind::RememberedDeviceUsed,
                    ctx,
                    &device.label,
                    now,
                )
                .await?;
                return Ok(Some(rotated));
            }
            return Ok(None);
        }
        if let Some(device) = self.store.device_by_previous_token(&hash).await? {
            if device.user_id == user.id {
                self.store.delete_device(device.id).await?;
                self.audit(now, AuditKind::RememberedDeviceTheft, Outcome::Blocked, Some(user.id), &user.username, ctx, "an already-rotated remember cookie was presented; device revoked (possible cookie theft)")
                    .await?;
            }
        }
        Ok(None)
    }

    /// Sets a new password, ending every session and forgetting every
    /// remembered device of the user.
    pub async fn set_password(
        &self,
        user: &User,
        new_password: &str,
        now: u64,
    ) -> Result<(), DomainError> {
        self.replace_password(
            user,
            new_password,
            &RequestContext::admin_cli(),
            "by administrator",
            now,
            None,
        )
        .await
        .map(|_| ())
    }

    /// Stores a new password and revokes every session and remembered device
    /// of the user, audited: the one way a password changes (account page,
    /// reset link, administrator).
    /// With `link` (a reset link's token hash) the link is used up in the
    /// same transaction; `Ok(false)` if it already was, nothing changed.
    pub(crate) async fn replace_password(
        &self,
        user: &User,
        new_password: &str,
        ctx: &RequestContext,
        how: &str,
        now: u64,
        link: Option<&str>,
    ) -> Result<bool, DomainError> {
        let hash = self.hasher.hash(new_password.to_owned()).await?;
        let detail = format!("{how}; sessions and remembered devices revoked");
        // Whoever sets a password proved more than a guesser can (the old
        // password, the mailbox, an administrator): the password lock goes,
        // and so does every other link still out.
        let password_key = LockKey::Account(user.id).key();
        let mut writes = Vec::with_capacity(6);
        if let Some(token_hash) = link {
            writes.push(Write::UseLink { token_hash, now });
        }
        writes.extend([
            Write::PasswordHash {
                user: user.id,
                hash: &hash,
            },
            Write::EndSessions(user.id),
            Write::ForgetDevices(user.id),
            Write::ClearLock(&password_key),
            Write::VoidLinks { user: user.id, now },
        ]);
        self.commit_audited(
            &writes,
            &[success_event(
                user,
                AuditKind::PasswordChanged,
                ctx,
                &detail,
                now,
            )],
        )
        .await
    }

    /// If `code` matches a past step within the drift range, how many
    /// minutes the phone's clock is behind. A match in the
    /// future says nothing and uses that step up (see `drift`).
    async fn clock_hint(
        &self,
        totp: &Totp,
        factor: &TotpFactor,
        code: &str,
        now: u64,
    ) -> Result<Option<u64>, DomainError> {
        let period = u64::from(totp.period().seconds());
        let steps = u32::try_from(self.policy.drift_hint_seconds / period).unwrap_or(u32::MAX);
        let (Ok(step), Ok(now_step)) = (
            totp.verify(code, now, Window::new(steps, steps), None),
            totp.step_at(now),
        ) else {
            return Ok(None);
        };
        match drift::wrong_code(step, now_step, period) {
            drift::WrongCode::Behind { minutes } => Ok(Some(minutes)),
            drift::WrongCode::Future { step } => {
                self.store
                    .claim_totp_step(factor.user_id, step, factor.clock_offset_steps)
                    .await?;
                Ok(None)
            }
        }
    }

    /// Ends a session.
    pub async fn logout(
        &self,
        session_token: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        let hash = token::digest(session_token);
        if let Some(session) = self.store.session(&hash).await? {
            self.store.delete_session(&hash).await?;
            // The name too, so the audit page and exports read on their own.
            let username = self
                .store
                .user_by_id(session.user_id)
                .await?
                .map(|u| u.username)
                .unwrap_or_default();
            self.audit(
                now,
                AuditKind::Logout,
                Outcome::Success,
                Some(session.user_id),
                &username,
                ctx,
                "",
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn start_session(
        &self,
        user: UserId,
        stage: SessionStage,
        now: u64,
    ) -> Result<String, DomainError> {
        let (session_token, session) = new_session(user, stage, now)?;
        self.store.create_session(&session).await?;
        if stage == SessionStage::Full {
            self.store.set_last_login(user, now).await?;
        }
        Ok(session_token)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn audit(
        &self,
        now: u64,
        kind: AuditKind,
        outcome: Outcome,
        user: Option<UserId>,
        username: &str,
        ctx: &RequestContext,
        detail: &str,
    ) -> Result<(), DomainError> {
        let event = AuditEvent::new(now, kind, outcome, user, username, ctx, detail);
        self.append_event(&event, kind, outcome).await
    }

    /// Audits a success by `user` under their own name (most audit rows).
    pub(crate) async fn audit_success(
        &self,
        user: &User,
        kind: AuditKind,
        ctx: &RequestContext,
        detail: &str,
        now: u64,
    ) -> Result<(), DomainError> {
        let (event, kind, outcome) = success_event(user, kind, ctx, detail, now);
        self.append_event(&event, kind, outcome).await
    }

    /// Seals a TOTP seed for `user` with the master key.
    pub fn seal_totp_seed(&self, user: UserId, seed: &otp::Secret) -> Result<Vec<u8>, DomainError> {
        let context = format!("totp:{user}");
        Ok(self.seal.seal(seed.expose_bytes(), context.as_bytes())?)
    }

    /// The id of the master key in use.
    pub fn key_id(&self) -> &str {
        self.seal.key_id()
    }

    /// The ids of earlier master keys still configured for opening.
    pub fn previous_key_ids(&self) -> Vec<&str> {
        self.seal.previous_key_ids()
    }

    /// How many sealed values each master key id holds: (what, id, count).
    pub async fn sealed_key_usage(&self) -> Result<Vec<(String, String, i64)>, DomainError> {
        Ok(self.store.sealed_key_usage().await?)
    }

    /// Re-seals every value sealed under an earlier master key (linked and
    /// offered authenticators, unsent messages) with the current one, a
    /// page at a time; `progress` hears the running count. Returns
    /// (re-sealed, left because no configured key opens them). Safe to run
    /// while serving and to run again.
    pub async fn reseal_all(
        &self,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<(u64, u64), DomainError> {
        let (mut resealed, mut unopenable) = (0, 0);
        for what in [
            Sealed::Authenticators,
            Sealed::OfferedAuthenticators,
            Sealed::UnsentMessages,
        ] {
            let mut after = 0;
            loop {
                let page = self
                    .store
                    .sealed_with_other_key(what, self.key_id(), after, 500)
                    .await?;
                let Some(last) = page.last() else {
                    break;
                };
                after = last.id;
                for row in &page {
                    let context = match what {
                        Sealed::UnsentMessages => row.bound_to.clone(),
                        _ => format!("totp:{}", row.bound_to),
                    };
                    let Ok(plain) = self.seal.open(&row.key_id, &row.sealed, context.as_bytes())
                    else {
                        unopenable += 1;
                        continue;
                    };
                    let sealed = self.seal.seal(&plain, context.as_bytes())?;
                    if self
                        .store
                        .reseal(what, row.id, &row.key_id, self.key_id(), &sealed)
                        .await?
                    {
                        resealed += 1;
                    }
                }
                progress(resealed);
            }
        }
        Ok((resealed, unopenable))
    }

    /// Forgets locks and failures a day past (see `lockout`); the server
    /// runs it hourly. Returns how many rows went.
    pub async fn sweep_locks(&self, now: u64) -> Result<u64, DomainError> {
        let before = now.saturating_sub(lockout::FORGET_AFTER_SECONDS);
        Ok(self.store.sweep_locks(before).await?)
    }

    /// Clears every lock and failure count of a user (admin `unlock`).
    pub async fn unlock(&self, user: &User, now: u64) -> Result<(), DomainError> {
        self.clear_user_locks(user.id).await?;
        self.record(now, AuditKind::Unlock, user, "by administrator")
            .await
    }

    /// Clears the second-factor and password locks (and their failure
    /// counts) of a user.
    pub(crate) async fn clear_user_locks(&self, user: UserId) -> Result<(), DomainError> {
        self.store.clear_locks(&key_2fa(user)).await?;
        self.store
            .clear_locks(&LockKey::Account(user).key())
            .await?;
        Ok(())
    }

    /// Removes every second factor and session of a user (admin reset).
    pub async fn reset_2fa(&self, user: &User, now: u64) -> Result<(), DomainError> {
        self.store.reset_second_factors(user.id).await?;
        self.record(now, AuditKind::Reset2fa, user, "by administrator")
            .await
    }

    /// Records an audit event from an edge (CLI user creation, enrollment).
    pub async fn record(
        &self,
        now: u64,
        kind: AuditKind,
        user: &User,
        detail: &str,
    ) -> Result<(), DomainError> {
        self.audit(
            now,
            kind,
            Outcome::Success,
            Some(user.id),
            &user.username,
            &RequestContext::admin_cli(),
            detail,
        )
        .await
    }
}

/// A fresh session token (for the cookie) and the session row (its hash).
pub(crate) fn new_session(
    user: UserId,
    stage: SessionStage,
    now: u64,
) -> Result<(String, Session), DomainError> {
    let token = token::generate()?;
    let session = Session {
        token_hash: token::digest(&token),
        user_id: user,
        stage,
        created_at: now,
        last_seen_at: now,
        failures: 0,
    };
    Ok((token, session))
}
