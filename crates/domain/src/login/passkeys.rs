//! Passkeys and security keys: adding and removing them on the account
//! pages, finishing a login with one, and signing in with one alone.
//!
//! Every ceremony is two requests: options (a challenge, kept server-side
//! under [`CeremonyKey`] for [`CEREMONY_SECONDS`]) and the browser's answer,
//! which takes the kept state once. A refused answer (malformed, foreign,
//! replayed, expired) changes nothing but the audit trail: a signature
//! cannot be guessed, so it is not counted toward a lock; a lock already in
//! force refuses the ceremony as it refuses a code.

use webauthn_rs::prelude::Passkey;

use super::*;
use crate::Reason;
use crate::factors::Factors;
use crate::passkey::{
    self, CEREMONY_SECONDS, CeremonyKey, MAX_PER_USER, Refusal, RelyingParty, StoredPasskey,
};

/// The answer to "add a passkey" (its options step).
#[derive(Debug)]
pub enum PasskeyStart {
    /// The options for `navigator.credentials.create`, as JSON.
    Options(serde_json::Value),
    /// The password (or a code) did not confirm the change.
    Refused(StepUp),
    /// The user has [`MAX_PER_USER`] already.
    TooMany,
    /// Passkeys cannot work on this server (see [`RelyingParty`]).
    Off,
}

/// The answer to a ceremony's last step.
#[derive(Debug)]
pub enum PasskeyFinish {
    /// Done (registered, removed).
    Done,
    /// Registered from an enrolling session, which it finished: the new
    /// full session's cookie value.
    SignedIn {
        /// The full session cookie value.
        session_token: String,
    },
    /// Refused, and why; nothing changed.
    Refused(Reason),
}

/// The answer to a passkey at the second step or at sign-in.
#[derive(Debug)]
pub enum PasskeyLogin {
    /// Signed in.
    Accepted {
        /// The new full session cookie value.
        session_token: String,
        /// The remember cookie value, when asked for.
        remember_token: Option<String>,
    },
    /// Refused, and why; nothing changed.
    Refused(Reason),
    /// The second factor (or the account) is locked until this Unix time.
    Locked {
        /// Unix seconds.
        until: u64,
    },
    /// The half-logged-in session expired or was ended; start again.
    SessionEnded,
}

/// A passkey as the account page lists it.
#[derive(Debug, Clone)]
pub struct PasskeyInfo {
    /// Row id (for removing it).
    pub id: i64,
    /// What the user called it.
    pub name: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last sign-in with it.
    pub last_used_at: Option<u64>,
    /// Synced between devices by its provider.
    pub backed_up: bool,
}

impl LoginService {
    /// This service with passkeys on, bound to `relying_party`.
    #[must_use]
    pub fn with_passkeys(mut self, relying_party: RelyingParty) -> Self {
        self.passkeys = Some(Arc::new(relying_party));
        self
    }

    /// Whether passkeys work on this server.
    pub fn passkeys_on(&self) -> bool {
        self.passkeys.is_some()
    }

    /// The user's passkeys, for the account page.
    pub async fn passkey_list(&self, user: &User) -> Result<Vec<PasskeyInfo>, DomainError> {
        Ok(self
            .store
            .passkeys(user.id)
            .await?
            .into_iter()
            .map(|p| PasskeyInfo {
                id: p.id,
                name: p.name,
                created_at: p.created_at,
                last_used_at: p.last_used_at,
                backed_up: p.backed_up,
            })
            .collect())
    }

    /// Whether the user has a passkey (the second step offers it first).
    pub async fn has_passkey(&self, user: UserId) -> Result<bool, DomainError> {
        Ok(!self.store.passkeys(user).await?.is_empty())
    }

    /// The first step of adding a passkey: the change is confirmed as any
    /// change of factor is ([`LoginService::step_up`]), then options are
    /// made that exclude the user's own credentials.
    pub async fn begin_passkey(
        &self,
        session_token: &str,
        user: &User,
        password: &str,
        proof: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<PasskeyStart, DomainError> {
        let Some(rp) = self.passkeys.clone() else {
            return Ok(PasskeyStart::Off);
        };
        match self
            .step_up(session_token, user, password, proof, ctx, now)
            .await?
        {
            StepUp::Passed => {}
            refused => return Ok(PasskeyStart::Refused(refused)),
        }
        let stored = self.store.passkeys(user.id).await?;
        if stored.len() >= MAX_PER_USER {
            return Ok(PasskeyStart::TooMany);
        }
        let existing = records(&stored)?;
        let candidate =
            passkey::new_user_handle().map_err(|e| DomainError::Internal(e.to_string()))?;
        let handle = self.store.webauthn_handle(user.id, &candidate).await?;
        let (options, state) = rp
            .start_registration(&handle, &user.username, &user.username, &existing)
            .map_err(DomainError::Internal)?;
        self.store
            .put_ceremony(
                &CeremonyKey::Register.of(&token::digest(session_token)),
                Some(user.id),
                &state,
                now + CEREMONY_SECONDS,
            )
            .await?;
        Ok(PasskeyStart::Options(options))
    }

    /// The last step of adding a passkey: the browser's `answer` to the
    /// options of [`LoginService::begin_passkey`], for the same session.
    pub async fn finish_passkey(
        &self,
        session_token: &str,
        user: &User,
        name: &str,
        answer: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<PasskeyFinish, DomainError> {
        let Some(rp) = self.passkeys.clone() else {
            return Ok(PasskeyFinish::Refused(Reason::PasskeysOff));
        };
        let name = match passkey::clean_name(name) {
            Ok(name) => name,
            Err(why) => return Ok(PasskeyFinish::Refused(why)),
        };
        let key = CeremonyKey::Register.of(&token::digest(session_token));
        let state = match self.store.take_ceremony(&key, now).await? {
            Some((Some(owner), state)) if owner == user.id => state,
            _ => return Ok(PasskeyFinish::Refused(Reason::CeremonyExpired)),
        };
        let registered = match rp.finish_registration(answer, &state) {
            Ok(registered) => registered,
            Err(refusal) => {
                let why = self
                    .audit_refusal(user, AuditKind::PasskeyAdded, &refusal, ctx, now)
                    .await?;
                return Ok(PasskeyFinish::Refused(why));
            }
        };
        let stored = StoredPasskey {
            id: 0,
            user_id: user.id,
            credential_id: passkey::credential_id(&registered),
            name: name.clone(),
            record: passkey::to_record(&registered).map_err(DomainError::Internal)?,
            backed_up: passkey::backed_up(&registered),
            created_at: now,
            last_used_at: None,
        };
        match self.store.add_passkey(&stored, MAX_PER_USER).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Ok(PasskeyFinish::Refused(Reason::PasskeyLimit {
                    max: MAX_PER_USER,
                }));
            }
            Err(StoreError::Conflict(_)) => {
                return Ok(PasskeyFinish::Refused(Reason::PasskeyDuplicate));
            }
            Err(other) => return Err(other.into()),
        }
        self.audit_success(user, AuditKind::PasskeyAdded, ctx, &name, now)
            .await?;
        // The passkey a login was waiting for (an administrator's first):
        // the enrolling session becomes a full one.
        Ok(
            match self.finish_enrolling(session_token, user, now).await? {
                Some(session_token) => PasskeyFinish::SignedIn { session_token },
                None => PasskeyFinish::Done,
            },
        )
    }

    /// Removes passkey `id` of `user` once the change is confirmed; refused
    /// when it is the last factor of a user who must have one.
    #[allow(clippy::too_many_arguments)]
    pub async fn remove_passkey(
        &self,
        session_token: &str,
        user: &User,
        id: i64,
        password: &str,
        proof: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<PasskeyFinish, StepUp>, DomainError> {
        let stored = self.store.passkeys(user.id).await?;
        let Some(removed) = stored.iter().find(|p| p.id == id) else {
            return Ok(Ok(PasskeyFinish::Refused(Reason::PasskeyNotYours)));
        };
        match self
            .step_up(session_token, user, password, proof, ctx, now)
            .await?
        {
            StepUp::Passed => {}
            refused => return Ok(Err(refused)),
        }
        let policy = self.policy_for(user).await?;
        let last_passkey = stored.len() == 1;
        if policy.passkey_only(user.role) && last_passkey {
            return Ok(Ok(PasskeyFinish::Refused(Reason::PasskeyLastForAdmin)));
        }
        // The factors left without it, by the rule the login uses.
        let others = !last_passkey || {
            let app = self.store.totp(user.id).await?.is_some();
            Factors::of(app, user.phone.is_some(), policy.allow_sms).any()
        };
        if policy.require_2fa && !others {
            return Ok(Ok(PasskeyFinish::Refused(Reason::PasskeyOnlyFactor)));
        }
        if !self
            .drop_passkey(user, removed, &removed.name, ctx, now)
            .await?
        {
            return Ok(Ok(PasskeyFinish::Refused(Reason::PasskeyNotYours)));
        }
        Ok(Ok(PasskeyFinish::Done))
    }

    /// Deletes `removed` and, if it was still there, audits the removal
    /// with `detail` (the owner is emailed from the audit). Whoever asks
    /// (the owner, an API key) checked their right to first.
    pub(crate) async fn drop_passkey(
        &self,
        user: &User,
        removed: &StoredPasskey,
        detail: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<bool, DomainError> {
        if !self.store.delete_passkey(user.id, removed.id).await? {
            return Ok(false);
        }
        self.audit_success(user, AuditKind::PasskeyRemoved, ctx, detail, now)
            .await?;
        Ok(true)
    }

    /// Options for finishing a half login with one of the user's passkeys;
    /// `None` when the session is not half logged in or has none.
    pub async fn second_factor_passkey_options(
        &self,
        session_token: &str,
        now: u64,
    ) -> Result<Option<serde_json::Value>, DomainError> {
        let Some(rp) = self.passkeys.clone() else {
            return Ok(None);
        };
        let Some((_, user)) = self.pending(session_token, now).await? else {
            return Ok(None);
        };
        let stored = self.store.passkeys(user.id).await?;
        if stored.is_empty() {
            return Ok(None);
        }
        let (options, state) = rp
            .start_authentication(&records(&stored)?)
            .map_err(DomainError::Internal)?;
        self.store
            .put_ceremony(
                &CeremonyKey::SecondFactor.of(&token::digest(session_token)),
                Some(user.id),
                &state,
                now + CEREMONY_SECONDS,
            )
            .await?;
        Ok(Some(to_json(&options)?))
    }

    /// A passkey's answer at the second step: a right one finishes the
    /// login exactly as a right token does.
    pub async fn submit_passkey(
        &self,
        session_token: &str,
        answer: &str,
        remember: bool,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<PasskeyLogin, DomainError> {
        let Some(rp) = self.passkeys.clone() else {
            return Ok(PasskeyLogin::Refused(Reason::PasskeysOff));
        };
        let Some((session, user)) = self.pending(session_token, now).await? else {
            return Ok(PasskeyLogin::SessionEnded);
        };
        if let Some(locked) = self
            .refuse_if_locked(&user, AuditKind::Passkey, ctx, now)
            .await?
        {
            return Ok(login_answer(locked));
        }
        let key = CeremonyKey::SecondFactor.of(&session.token_hash);
        let state = match self.store.take_ceremony(&key, now).await? {
            Some((Some(owner), state)) if owner == user.id => state,
            _ => return Ok(PasskeyLogin::Refused(Reason::CeremonyExpired)),
        };
        let stored = self.store.passkeys(user.id).await?;
        let mut keys = records(&stored)?;
        let used = match rp.finish_authentication(answer, &state, &mut keys) {
            Ok(used) => used,
            Err(refusal) => {
                let why = self
                    .audit_refusal(&user, AuditKind::Passkey, &refusal, ctx, now)
                    .await?;
                return Ok(PasskeyLogin::Refused(why));
            }
        };
        let amr = Amr::passkey(stored.get(used).is_some_and(|p| p.backed_up));
        self.record_use(&stored, &keys, used, now).await?;
        let done = Completion {
            remember,
            clear_failures: true,
            claim: None,
            guard: None,
            amr,
        };
        Ok(
            match self
                .complete(&user, &session, done, AuditKind::Passkey, ctx, now)
                .await?
            {
                Some(accepted) => login_answer(accepted),
                None => PasskeyLogin::SessionEnded,
            },
        )
    }

    /// Options for signing in with a passkey alone, and the sign-in cookie
    /// value they are bound to; `None` when passkeys are off.
    pub async fn sign_in_passkey_options(
        &self,
        now: u64,
    ) -> Result<Option<(String, serde_json::Value)>, DomainError> {
        let Some(rp) = self.passkeys.clone() else {
            return Ok(None);
        };
        let (options, state) = rp.start_sign_in().map_err(DomainError::Internal)?;
        let cookie = token::generate()?;
        self.store
            .put_ceremony(
                &CeremonyKey::SignIn.of(&token::digest(&cookie)),
                None,
                &state,
                now + CEREMONY_SECONDS,
            )
            .await?;
        Ok(Some((cookie, to_json(&options)?)))
    }

    /// A discoverable passkey's answer with user verification: both
    /// factors at once. Refused for a disabled or locked account, and
    /// where the practice turned passkey sign-in off; the same audit as a
    /// login.
    pub async fn sign_in_with_passkey(
        &self,
        cookie: &str,
        answer: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<PasskeyLogin, DomainError> {
        let Some(rp) = self.passkeys.clone() else {
            return Ok(PasskeyLogin::Refused(Reason::PasskeysOff));
        };
        let key = CeremonyKey::SignIn.of(&token::digest(cookie));
        let Some((_, state)) = self.store.take_ceremony(&key, now).await? else {
            return Ok(PasskeyLogin::Refused(Reason::CeremonyExpired));
        };
        let Ok((handle, credential_id)) = rp.identify(answer) else {
            return Ok(PasskeyLogin::Refused(Reason::PasskeyNotYours));
        };
        let (Some(user), Some(found)) = (
            self.store.user_by_webauthn_handle(&handle).await?,
            self.store.passkey_by_credential(&credential_id).await?,
        ) else {
            return Ok(PasskeyLogin::Refused(Reason::PasskeyNotYours));
        };
        if found.user_id != user.id {
            return Ok(PasskeyLogin::Refused(Reason::PasskeyNotYours));
        }
        // The signature first: whether the account is disabled, locked or
        // barred from this way in is told only to whoever holds the key.
        let stored = [found];
        let mut keys = records(&stored)?;
        let Some(passkey) = keys.first_mut() else {
            return Ok(PasskeyLogin::Refused(Reason::PasskeyNotYours));
        };
        if let Err(refusal) = rp.finish_sign_in(answer, &state, passkey) {
            let why = self
                .audit_refusal(&user, AuditKind::PasskeySignIn, &refusal, ctx, now)
                .await?;
            return Ok(PasskeyLogin::Refused(why));
        }
        if user.disabled || !self.policy_for(&user).await?.allow_passkey_sign_in {
            self.audit_user(
                &user,
                AuditKind::PasskeySignIn,
                Outcome::Blocked,
                ctx,
                "not allowed",
                now,
            )
            .await?;
            return Ok(PasskeyLogin::Refused(Reason::PasskeyCannotSignIn));
        }
        let locks = [
            self.store
                .lock_state(&LockKey::Account(user.id).key())
                .await?,
            self.store.lock_state(&key_2fa(user.id)).await?,
        ];
        if let Some(until) = locks
            .iter()
            .map(|l| l.locked_until)
            .filter(|&u| u > now)
            .max()
        {
            self.audit_user(
                &user,
                AuditKind::PasskeySignIn,
                Outcome::Blocked,
                ctx,
                "locked",
                now,
            )
            .await?;
            return Ok(PasskeyLogin::Locked { until });
        }
        let amr = Amr::passkey(stored.first().is_some_and(|p| p.backed_up));
        self.record_use(&stored, &keys, 0, now).await?;
        let session_token = self
            .start_session(user.id, SessionStage::Full, amr, now)
            .await?;
        self.audit_success(&user, AuditKind::PasskeySignIn, ctx, "", now)
            .await?;
        Ok(PasskeyLogin::Accepted {
            session_token,
            remember_token: None,
        })
    }

    /// Audits a refused answer (a copied key under its own kind) and says
    /// what the page shows.
    async fn audit_refusal(
        &self,
        user: &User,
        kind: AuditKind,
        refusal: &Refusal,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Reason, DomainError> {
        Ok(match refusal {
            Refusal::PossiblyCloned => {
                self.audit_user(
                    user,
                    AuditKind::PasskeyPossiblyCloned,
                    Outcome::Failure,
                    ctx,
                    "signature counter went backwards",
                    now,
                )
                .await?;
                Reason::PasskeyCloned
            }
            Refusal::Invalid(detail) => {
                let detail: String = detail.chars().take(200).collect();
                self.audit_user(user, kind, Outcome::Failure, ctx, &detail, now)
                    .await?;
                Reason::PasskeyAnswerRefused
            }
        })
    }

    /// Stores the updated record (counter, backup state) of `keys[used]`.
    async fn record_use(
        &self,
        stored: &[StoredPasskey],
        keys: &[Passkey],
        used: usize,
        now: u64,
    ) -> Result<(), DomainError> {
        if let (Some(row), Some(key)) = (stored.get(used), keys.get(used)) {
            let record = passkey::to_record(key).map_err(DomainError::Internal)?;
            self.store
                .passkey_used(row.id, &record, passkey::backed_up(key), now)
                .await?;
        }
        Ok(())
    }
}

/// The stored records as passkeys.
fn records(stored: &[StoredPasskey]) -> Result<Vec<Passkey>, DomainError> {
    stored
        .iter()
        .map(|p| passkey::from_record(&p.record).map_err(DomainError::Internal))
        .collect()
}

fn to_json<T: serde::Serialize>(options: &T) -> Result<serde_json::Value, DomainError> {
    serde_json::to_value(options).map_err(|e| DomainError::Internal(e.to_string()))
}

/// A token outcome as a passkey's.
fn login_answer(outcome: TokenOutcome) -> PasskeyLogin {
    match outcome {
        TokenOutcome::Accepted {
            session_token,
            remember_token,
        } => PasskeyLogin::Accepted {
            session_token,
            remember_token,
        },
        TokenOutcome::Locked { until } => PasskeyLogin::Locked { until },
        TokenOutcome::SessionEnded | TokenOutcome::TooManyWrong => PasskeyLogin::SessionEnded,
        TokenOutcome::PasskeyRequired => PasskeyLogin::Refused(Reason::PasskeyNotYours),
        TokenOutcome::Wrong { .. } => PasskeyLogin::Refused(Reason::PasskeyNotYours),
    }
}
