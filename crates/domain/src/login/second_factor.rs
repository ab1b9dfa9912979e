//! The code step: a pending session, the authenticator code and its lock.

use super::*;
use crate::factors::Factors;
use crate::lockout::CodeVerdict;

impl LoginService {
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
        // Where only a passkey counts, linking an app finishes nothing.
        if self.passkey_only(user).await? && !self.has_passkey(user.id).await? {
            return Ok(None);
        }
        let hash = token::digest(session_token);
        match self.store.session(&hash).await? {
            Some(session) if session.stage == SessionStage::Enrolling => {
                self.store.delete_session(&hash).await?;
                Ok(Some(
                    self.start_session(user.id, SessionStage::Full, Amr::PWD.with(Amr::OTP), now)
                        .await?,
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
            .session_with_state(&token_hash, UserLimit::SecondFactor)
            .await?
        else {
            return Ok(TokenOutcome::SessionEnded);
        };
        if !self.still_pending(&session, now).await? || state.user.disabled {
            return Ok(TokenOutcome::SessionEnded);
        }
        self.code_step(&session, state, typed, remember, ctx, now)
            .await
    }

    /// The code step of a pending `session`, on what was read with it.
    async fn code_step(
        &self,
        session: &Session,
        state: SecondFactorState,
        typed: &str,
        remember: bool,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<TokenOutcome, DomainError> {
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
                        session,
                        reused,
                        clock_behind_minutes,
                        &detail,
                        ctx,
                        now,
                    )
                    .await;
            }
        };
        let amr = if kind == AuditKind::SmsToken {
            Amr::SMS
        } else {
            Amr::OTP
        };
        let done = Completion {
            remember,
            clear_failures: has_failures,
            claim,
            guard: None,
            amr,
        };
        match self.complete(&user, session, done, kind, ctx, now).await? {
            Some(accepted) => Ok(accepted),
            // The authenticator's step, claimed in the finish's own commit,
            // went to a parallel request first: a used code.
            None => {
                self.refuse_token(&user, session, true, None, CODE_USED, ctx, now)
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
            amr: Amr::OTP,
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
        let allow_sms = match user.phone {
            Some(_) => self.policy_for(user).await?.allow_sms,
            None => false,
        };
        let factors = Factors::of(totp.is_some(), user.phone.is_some(), allow_sms);
        let sms = factors.sms;
        if !factors.any() {
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
        self.audit_user(
            user,
            kind,
            Outcome::Blocked,
            ctx,
            "second factor locked",
            now,
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
        let session_failures = match session {
            Some(session) => Some(self.store.add_session_failure(&session.token_hash).await?),
            None => None,
        };
        match lockout::after_code_failure(recent, session_failures, &self.policy) {
            CodeVerdict::Lock => {
                let previous = self.store.lock_state(&lock_key).await?;
                let next = lockout::next_lock(previous, &self.policy, now);
                let (id, name) = (Some(user.id), user.username.as_str());
                self.lock(&lock_key, next, id, name, ctx, "second factor", now)
                    .await?;
                if let Some(session) = session {
                    self.store.delete_session(&session.token_hash).await?;
                }
                Ok(TokenOutcome::Locked {
                    until: next.locked_until,
                })
            }
            CodeVerdict::EndSession => {
                if let Some(session) = session {
                    self.store.delete_session(&session.token_hash).await?;
                }
                Ok(TokenOutcome::TooManyWrong)
            }
            CodeVerdict::TryAgain { attempts_left } => Ok(TokenOutcome::Wrong {
                attempts_left,
                reused: false,
                clock_behind_minutes: None,
            }),
        }
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

    /// The seed of `factor`, unsealed.
    pub(crate) fn open_totp_seed(&self, factor: &TotpFactor) -> Result<otp::Secret, DomainError> {
        let context = format!("totp:{}", factor.user_id);
        let seed = self
            .seal
            .open(&factor.key_id, &factor.sealed_secret, context.as_bytes())?;
        otp::Secret::from_bytes(seed.to_vec())
            .map_err(|e| DomainError::Internal(format!("stored TOTP seed: {e}")))
    }

    /// Whether the user has an authenticator app enrolled, and its digits.
    pub async fn totp_digits(&self, user: &User) -> Result<Option<u8>, DomainError> {
        Ok(self.store.totp(user.id).await?.map(|f| f.digits.get()))
    }

    pub(crate) fn open_totp(&self, factor: &TotpFactor) -> Result<Totp, DomainError> {
        Ok(Totp::new(
            self.open_totp_seed(factor)?,
            factor.algorithm,
            factor.digits,
            factor.period,
        ))
    }
}
