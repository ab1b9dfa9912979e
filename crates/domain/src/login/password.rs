//! The password step: throttles, locks and what a right password leads to.

use super::*;
use crate::factors::{self, AfterPassword, Factors};

impl LoginService {
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
                    UserLimit::Password,
                    Topic::ABANDONED_LOGIN,
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
        // The same two decisions as the way below, on what was read before
        // the hash; only the authenticator's way is taken here (the guard
        // checks it is still linked as it writes).
        let policy = self.policy.for_user(&early.practice, user.require_2fa);
        let factors = Factors::of_user(user, early, &policy);
        let accepted =
            lockout::password_verdict(early.lock, true, attempt.now) == PasswordVerdict::Accepted;
        let to_code = factors::after_password(factors, &policy, attempt.remember_token.is_some())
            == (AfterPassword::SecondFactor { try_device: false });
        if !(accepted && to_code && factors.authenticator) {
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
                        Topic::ABANDONED_LOGIN,
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
        let factors = Factors::of_user(&user, &state, &policy);
        match factors::after_password(factors, &policy, remember_token.is_some()) {
            AfterPassword::SecondFactor { try_device } => {
                if let Some(presented) = remember_token.filter(|_| try_device)
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
                Ok(PasswordOutcome::SecondFactor { session_token })
            }
            AfterPassword::Enroll => {
                let detail = "2FA required, none enrolled: enrollment started";
                let session_token = self
                    .start_enrolling(&user, &password_key, typed, detail, ctx, now)
                    .await?;
                Ok(PasswordOutcome::MustEnroll { session_token })
            }
            AfterPassword::EnrollPasskey => {
                let detail =
                    "administrators must use a passkey, none registered: registration started";
                let session_token = self
                    .start_enrolling(&user, &password_key, typed, detail, ctx, now)
                    .await?;
                Ok(PasswordOutcome::MustAddPasskey { session_token })
            }
            AfterPassword::SignedIn => {
                self.store.clear_failures(&password_key).await?;
                let detail = "no second factor enrolled";
                let session_token = self.signed_in(&user, typed, detail, ctx, now).await?;
                Ok(PasswordOutcome::Complete {
                    session_token,
                    remember_token: None,
                })
            }
        }
    }

    /// An enrolling session (it grants only adding a factor) after a right
    /// password, audited with `detail`; its cookie value.
    async fn start_enrolling(
        &self,
        user: &User,
        password_key: &LimitKey,
        typed: &str,
        detail: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<String, DomainError> {
        self.store.clear_failures(password_key).await?;
        let (kind, outcome) = (AuditKind::EnrollmentRequired, Outcome::Blocked);
        self.audit(now, kind, outcome, Some(user.id), typed, ctx, detail)
            .await?;
        let session_token = self
            .start_session(user.id, SessionStage::Enrolling, Amr::NONE, now)
            .await?;
        // The password was just checked: the link flow's step-up is fresh.
        self.store
            .set_session_reauth(&token::digest(&session_token), now)
            .await?;
        Ok(session_token)
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
        let session_token = self
            .start_session(user.id, SessionStage::Full, Amr::PWD, now)
            .await?;
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
        // A known account's failure is recorded under it (and so its
        // practice: the office manager's audit page shows who was tried);
        // an unknown name stays with no user, for the server's operators.
        let detail = match user {
            Some(_) => "wrong password",
            None => "unknown username",
        };
        let event = AuditEvent::new(
            now,
            AuditKind::PasswordLogin,
            Outcome::Failure,
            user.map(|u| u.id),
            typed,
            ctx,
            detail,
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
        password_key: &LimitKey,
        state: &crate::PasswordStepState,
        typed: &str,
        ctx: &RequestContext,
        now: u64,
        guard: Option<Write<'_>>,
    ) -> Result<Option<String>, DomainError> {
        let (session_token, session) = new_session(user.id, SessionStage::Pending, Amr::NONE, now)?;
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
            locale: &state.locale,
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
    pub(super) async fn lock(
        &self,
        key: &LimitKey,
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
}
