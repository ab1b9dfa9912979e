//! The login: a state machine from an anonymous browser to a signed-in
//! session, and the service that runs it.
//!
//! ```text
//! anonymous
//!   | username + password
//!   v
//! lockout::password_verdict -- locked/paced ---------------------> Throttled
//!   | wrong (or unknown name: same answer, same cost)             (same answer
//!   |   -> count it; lockout::after_failure may lock -> anonymous  for right and
//!   | right                                                        wrong)
//!   v
//! factors::after_password
//!   |-- SignedIn (no factor, none required) ------------------------> signed in
//!   |-- Enroll (2FA required, none linked) --> enrolling --link app--> signed in
//!   '-- SecondFactor
//!         |-- remember cookie valid (RememberedDevice::valid_for):
//!         |     rotate it --------------------------------------------> signed in
//!         |   a rotated one (device::stolen_cookie): revoke, audit
//!         v
//!       pending (5 min; grants nothing)
//!         |-- right code: authenticator (drift, step used once),
//!         |   text (sms::allowance to send), or recovery code ------> signed in
//!         '-- wrong code: lockout::after_code_failure
//!               TryAgain -> pending | EndSession -> anonymous
//!               Lock (doubling) -> second factor locked, pending ends
//! ```
//!
//! The decisions in brackets are pure functions with their own tests:
//! [`crate::lockout`] (password and code throttles and locks),
//! [`crate::factors`] (which factors a user has, where a right password
//! leads), [`crate::drift`] (the accepted window and clock drift),
//! [`crate::sms`] (the text allowance) and [`crate::device`] (remembered
//! browsers). The service around them reads, asks them, and writes; each
//! capability is a file of this module:
//!
//! - `password`: the password step, its throttles and locks;
//! - `second_factor`: pending sessions and the authenticator code;
//! - `sms`, `recovery`, `devices`: the other ways to finish a login;
//! - `password_change`, `locks`, `keys`: changing a password, lifting locks,
//!   moving sealed seeds to a new master key.
//!
//! Every transition writes an audit event. "Now" is a parameter.

use std::sync::Arc;

use otp::{Totp, VerifyError, Window};

use crate::drift;
use crate::kept_login::{KeptLogin, KeptLogins};
use crate::lockout::{self, LockKey, PasswordVerdict};
use crate::notify::{HeldNotice, success_event};
use crate::outbox::Topic;
pub(crate) use crate::sms::SmsAllowance;
use crate::user::normalize_username;
use crate::{
    Amr, AuditEvent, AuditKind, ClaimGuard, Delivery, DomainError, LockState, Outbox, Outcome,
    PasswordHasher, Policy, RememberedDevice, RequestContext, Sealed, SecondFactorState, SecretBox,
    Session, SessionStage, SmsCode, StepUp, Store, StoreError, TotpFactor, User, UserId, Write,
    token,
};
use crate::{LimitKey, UserLimit};
pub use passkeys::{PasskeyFinish, PasskeyInfo, PasskeyLogin, PasskeyStart};

mod devices;
mod keys;
mod locks;
mod passkeys;
mod password;
mod password_change;
mod recovery;
mod second_factor;
mod sms;

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
    /// The password is right but only a passkey may finish this login
    /// ([`Policy::passkey_only`]) and none is registered: an enrolling
    /// session that grants nothing but registering one.
    MustAddPasskey {
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
    /// This wrong code was one too many for the half-logged-in session,
    /// which ended; start again (the account's lock counts on).
    TooManyWrong,
    /// The code was not checked: only a passkey or security key may
    /// finish this user's login ([`Policy::passkey_only`]).
    PasskeyRequired,
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
    Recorded(&'a AuditEvent, Option<&'a LimitKey>),
    /// Not at all: the answer is [`TokenCheck::TotpStep`] and the caller
    /// claims the step in the same commit as its own writes (a login's
    /// finish: one round trip and one commit less).
    WithFinish,
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
    /// The relying party passkeys are bound to; `None`: passkeys are off.
    pub(crate) passkeys: Option<Arc<crate::passkey::RelyingParty>>,
    /// The OpenID Connect provider's issuer and signing keys.
    pub(crate) oidc: Arc<crate::oidc::service::Provider>,
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
    /// The second factor's method (the password's is added).
    amr: Amr,
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
    ip_key: LimitKey,
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

/// The key of `user`'s second-factor failures and lock.
pub(crate) fn key_2fa(user: UserId) -> LimitKey {
    UserLimit::SecondFactor.of(user)
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
            passkeys: None,
            oidc: Arc::default(),
        }
    }

    /// This service as the OpenID Connect provider `issuer` (`public_url`).
    #[must_use]
    pub fn with_issuer(mut self, issuer: &str) -> Self {
        self.oidc = Arc::new(crate::oidc::service::Provider::new(issuer));
        self
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
        if kind != AuditKind::Passkey && self.passkey_only(user).await? {
            let detail = "only a passkey may finish an administrator's login";
            self.audit_user(user, kind, Outcome::Blocked, ctx, detail, now)
                .await?;
            return Ok(Some(TokenOutcome::PasskeyRequired));
        }
        // One transaction: the step is claimed, the pending session becomes
        // a full one, the counted failures and the held "did not finish"
        // notice go, and the audit row lands, all together (a crash leaves
        // the login pending).
        let (session_token, session) =
            new_session(user.id, SessionStage::Full, Amr::PWD.with(done.amr), now)?;
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

    /// Whether only a passkey may finish `user`'s logins, under the
    /// practice's policy as it is now (a change applies at the next
    /// request). Only administrators can be held to it, so only their
    /// logins pay the read.
    pub async fn passkey_only(&self, user: &User) -> Result<bool, DomainError> {
        if user.role != crate::Role::Admin {
            return Ok(false);
        }
        Ok(self.policy_for(user).await?.passkey_only(user.role))
    }

    /// Ends a session.
    pub async fn logout(
        &self,
        session_token: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        self.end_session(session_token, AuditKind::Logout, "", ctx, now)
            .await
    }

    /// Ends a session, audited as `kind` with `detail` (a logout on our
    /// page, or one an application asked for).
    pub(crate) async fn end_session(
        &self,
        session_token: &str,
        kind: AuditKind,
        detail: &str,
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
                kind,
                Outcome::Success,
                Some(session.user_id),
                &username,
                ctx,
                detail,
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn start_session(
        &self,
        user: UserId,
        stage: SessionStage,
        amr: Amr,
        now: u64,
    ) -> Result<String, DomainError> {
        let (session_token, session) = new_session(user, stage, amr, now)?;
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

    /// Appends an event about `user`, with its outcome.
    pub(crate) async fn audit_user(
        &self,
        user: &User,
        kind: AuditKind,
        outcome: Outcome,
        ctx: &RequestContext,
        detail: &str,
        now: u64,
    ) -> Result<(), DomainError> {
        let (id, name) = (Some(user.id), user.username.as_str());
        self.audit(now, kind, outcome, id, name, ctx, detail).await
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
    amr: Amr,
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
        amr,
    };
    Ok((token, session))
}
