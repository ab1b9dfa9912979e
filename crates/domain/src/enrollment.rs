//! Linking an authenticator app from the account page.
//!
//! ```text
//!  full session --password (+ current token or recovery code if an app is
//!  already linked)--> offered (secret sealed in pending_enrollments, 10 min)
//!  --correct current code within 5 min of the password--> linked
//! ```
//!
//! The offered secret is never a factor: abandoning the page leaves the
//! account as it was. Confirming replaces the old secret in one statement,
//! so the old app's codes stop working at the moment the new one's start.
//! A stolen password alone cannot move the second factor: re-linking also
//! needs a current token or a recovery code.

use otp::{Algorithm, Digits, OtpAuthUri, OtpKind, Period, Secret, Totp, Window};

use crate::lockout::LockKey;
use crate::login::RECOVERY_CODES_DETAIL;
use crate::notify::success_event;
use crate::{
    AuditKind, DomainError, LoginService, Outcome, RequestContext, TotpFactor, User, Write, token,
};

/// How long a password check counts as fresh for sensitive changes.
const REAUTH_SECONDS: u64 = 5 * 60;
/// How long an offered secret waits for its confirming code.
const OFFER_SECONDS: u64 = 10 * 60;

/// The fewest secret bytes an administrator may link: 128 bits (RFC 4226
/// section 4 asks for at least that; 160 is recommended and our default).
pub const MIN_SECRET_BYTES: usize = 16;
/// The longest step an authenticator may have: beyond two minutes a code
/// lives long enough to be phished and replayed at leisure.
pub const MAX_PERIOD_SECONDS: u32 = 120;
/// The shortest step: under ten seconds nobody types a code in time.
pub const MIN_PERIOD_SECONDS: u32 = 10;

/// Whether an authenticator with this secret and step may be linked; the
/// error says which rule it breaks.
pub fn check_totp_parameters(secret: &Secret, period: Period) -> Result<(), String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "the secret has {} bits; at least {} are needed (26 or more base32 characters)",
            secret.len() * 8,
            MIN_SECRET_BYTES * 8
        ));
    }
    if !(MIN_PERIOD_SECONDS..=MAX_PERIOD_SECONDS).contains(&period.seconds()) {
        return Err(format!(
            "the period must be {MIN_PERIOD_SECONDS} to {MAX_PERIOD_SECONDS} seconds, not {}",
            period.seconds()
        ));
    }
    Ok(())
}

/// The answer to the step-up form.
#[derive(Debug)]
pub enum LinkStart {
    /// The secret to show (QR, grouped text, URI).
    Offered(Box<OtpAuthUri>),
    /// The password is wrong.
    WrongPassword,
    /// An app is linked already: a current token or a recovery code is needed.
    ProofNeeded,
    /// The token or recovery code given is wrong.
    WrongProof,
    /// Texted codes guard the account and its last full login is over 5
    /// minutes old: log in again (or give a recovery code) to add an app.
    FreshLoginNeeded,
}

/// The answer to the confirmation a change of factor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUp {
    /// It is the user: go on.
    Passed,
    /// The password is wrong.
    WrongPassword,
    /// A second factor is on file and the login is not recent: a current
    /// code from the app or a recovery code is needed.
    ProofNeeded,
    /// The code or recovery code given is wrong.
    WrongProof,
}

impl StepUp {
    /// Why it did not pass, when it is not [`StepUp::Passed`].
    pub fn reason(self) -> Option<crate::Reason> {
        match self {
            StepUp::Passed => None,
            StepUp::WrongPassword => Some(crate::Reason::PasswordWrong),
            StepUp::ProofNeeded => Some(crate::Reason::ProofNeeded),
            StepUp::WrongProof => Some(crate::Reason::ProofWrong),
        }
    }
}

/// The answer to the confirm form.
#[derive(Debug)]
pub enum LinkConfirm {
    /// Linked. On a first enrollment, the new recovery codes to show once.
    Linked {
        /// Ten codes on first enrollment, else `None`.
        recovery_codes: Option<Vec<String>>,
        /// A new full session when the link ended a required enrollment.
        session_token: Option<String>,
    },
    /// The code does not match the offered secret.
    WrongCode,
    /// The password check or the offer is too old: start again.
    Expired,
}

impl LoginService {
    /// Checks the password again on a full session, for a sensitive change.
    pub async fn reauthenticate(
        &self,
        session_token: &str,
        user: &User,
        password: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<bool, DomainError> {
        let matches = self
            .hasher
            .verify(user.password_hash.clone(), password.to_owned())
            .await;
        // While the password lock holds, the password is hashed (the same
        // time) but its answer unused: the step-up is no way around the
        // lock, and a right password cannot be told from a wrong one.
        let lock = self
            .store
            .lock_state(&LockKey::Account(user.id).key())
            .await?;
        let locked = lock.locked_until > now;
        let ok = matches && !locked;
        if ok {
            self.store
                .set_session_reauth(&token::digest(session_token), now)
                .await?;
        } else if !locked {
            let since = now.saturating_sub(self.policy.failure_window_seconds);
            self.count_password_failure(user, ctx, now, since).await?;
        }
        let outcome = if ok {
            Outcome::Success
        } else if locked {
            Outcome::Blocked
        } else {
            Outcome::Failure
        };
        self.audit_user(user, AuditKind::Reauthenticated, outcome, ctx, "", now)
            .await?;
        Ok(ok)
    }

    /// What changing, moving or removing a second factor asks: the
    /// password, and a current second factor (a code from the app, or a
    /// recovery code, which is used up) unless this session's full login,
    /// which passed the second factor, is under 5 minutes old. A user with
    /// no second factor gives the password only. A stolen session or a
    /// known password alone cannot change how the account is protected.
    pub async fn step_up(
        &self,
        session_token: &str,
        user: &User,
        password: &str,
        proof: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<StepUp, DomainError> {
        if !self
            .reauthenticate(session_token, user, password, ctx, now)
            .await?
        {
            return Ok(StepUp::WrongPassword);
        }
        let factor = self.store.totp(user.id).await?;
        let codes_left = self.recovery_codes_left(user).await?;
        if factor.is_none() && user.phone.is_none() && codes_left == 0 {
            return Ok(StepUp::Passed);
        }
        if self.recent_full_login(session_token, now).await? {
            return Ok(StepUp::Passed);
        }
        let proof = proof.trim();
        if proof.is_empty() {
            return Ok(StepUp::ProofNeeded);
        }
        let detail = "wrong second factor for a change of factor";
        let kind = AuditKind::Reauthenticated;
        if self
            .proof_holds(user, factor.as_ref(), proof, kind, detail, ctx, now)
            .await?
        {
            return Ok(StepUp::Passed);
        }
        Ok(StepUp::WrongProof)
    }

    /// Checks a code or recovery code given to confirm a change, under the
    /// second factor's lock as at login: while it holds, nothing is checked
    /// and the answer is `false` whatever was typed; a wrong one counts
    /// toward it (and locks at the limit, [`LoginService::fail`]), audited
    /// under `kind` with `detail`.
    #[allow(clippy::too_many_arguments)]
    async fn proof_holds(
        &self,
        user: &User,
        factor: Option<&TotpFactor>,
        proof: &str,
        kind: AuditKind,
        detail: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<bool, DomainError> {
        if self.refuse_if_locked(user, kind, ctx, now).await?.is_some() {
            return Ok(false);
        }
        if self.prove_second_factor(user, factor, proof, now).await? {
            return Ok(true);
        }
        self.fail(user, None, kind, detail, ctx, now).await?;
        Ok(false)
    }

    /// Whether this session's full login (password and second factor) is
    /// under 5 minutes old: a change of factor then needs no new proof.
    async fn recent_full_login(&self, session_token: &str, now: u64) -> Result<bool, DomainError> {
        let session = self.store.session(&token::digest(session_token)).await?;
        Ok(session.is_some_and(|s| {
            s.stage == crate::SessionStage::Full
                && now.saturating_sub(s.created_at) < REAUTH_SECONDS
        }))
    }

    /// Whether the session passed a password check in the last 5 minutes.
    pub async fn freshly_authenticated(
        &self,
        session_token: &str,
        now: u64,
    ) -> Result<bool, DomainError> {
        let at = self
            .store
            .session_reauth(&token::digest(session_token))
            .await?;
        Ok(at.is_some_and(|at| now.saturating_sub(at) < REAUTH_SECONDS))
    }

    /// Links an authenticator for `user` on an administrator's word (the
    /// CLI's `user enroll-totp`): a given secret or a new one, audited.
    /// Returns what the authenticator app reads; `Ok(Err(why))` when the
    /// secret or the step breaks a rule.
    pub async fn admin_link_totp(
        &self,
        user: &User,
        secret: Option<Secret>,
        algorithm: Algorithm,
        digits: Digits,
        period: Period,
        now: u64,
    ) -> Result<Result<OtpAuthUri, String>, DomainError> {
        let secret = match secret {
            Some(secret) => secret,
            None => Secret::generate(algorithm)
                .map_err(|e| DomainError::Internal(format!("no randomness: {e}")))?,
        };
        if let Err(why) = check_totp_parameters(&secret, period) {
            return Ok(Err(why));
        }
        let factor = TotpFactor {
            user_id: user.id,
            key_id: self.key_id().to_owned(),
            sealed_secret: self.seal_totp_seed(user.id, &secret)?,
            algorithm,
            digits,
            period,
            last_step: None,
            clock_offset_steps: 0,
        };
        self.store.set_totp(&factor, now).await?;
        self.record(now, AuditKind::TotpEnrolled, user, "by administrator")
            .await?;
        Ok(Ok(OtpAuthUri {
            kind: OtpKind::Totp { period },
            issuer: Some(self.site_name.clone()),
            account: user.username.clone(),
            secret,
            algorithm,
            digits,
        }))
    }

    /// The `otpauth://` URI of `user`'s linked authenticator, read back from
    /// its sealed seed; `None` without one. For `twofactor demo`, which
    /// prints it at every start so that the phone that scanned it keeps
    /// working. No page calls it: the seed never leaves the server once
    /// linked, except to the operator who holds the master key anyway.
    pub async fn linked_totp_uri(&self, user: &User) -> Result<Option<OtpAuthUri>, DomainError> {
        let Some(factor) = self.store.totp(user.id).await? else {
            return Ok(None);
        };
        let secret = self.open_totp_seed(&factor)?;
        Ok(Some(OtpAuthUri {
            kind: OtpKind::Totp {
                period: factor.period,
            },
            issuer: Some(self.site_name.clone()),
            account: user.username.clone(),
            secret,
            algorithm: factor.algorithm,
            digits: factor.digits,
        }))
    }

    /// The step-up form: password, and for re-linking a current token or a
    /// recovery code. On success a new secret is offered (not yet active).
    pub async fn begin_link(
        &self,
        session_token: &str,
        user: &User,
        password: &str,
        proof: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<LinkStart, DomainError> {
        if !self
            .reauthenticate(session_token, user, password, ctx, now)
            .await?
        {
            return Ok(LinkStart::WrongPassword);
        }
        // Re-linking always asks a code of the current app (or a recovery
        // code). A first app where texts guard the account asks what any
        // change of factor asks (a fresh full login, or a recovery code), so
        // a stolen session and the password cannot add the thief's app.
        let factor = self.store.totp(user.id).await?;
        let asked = if factor.is_some() {
            Some((
                LinkStart::ProofNeeded,
                "re-link refused: wrong token or recovery code",
            ))
        } else if user.phone.is_some()
            && self.policy_for(user).await?.allow_sms
            && !self.recent_full_login(session_token, now).await?
        {
            Some((
                LinkStart::FreshLoginNeeded,
                "first app refused: wrong recovery code",
            ))
        } else {
            None
        };
        if let Some((without_proof, detail)) = asked {
            let proof = proof.trim();
            if proof.is_empty() {
                return Ok(without_proof);
            }
            let kind = AuditKind::TotpEnrolled;
            if !self
                .proof_holds(user, factor.as_ref(), proof, kind, detail, ctx, now)
                .await?
            {
                return Ok(LinkStart::WrongProof);
            }
        }
        Ok(LinkStart::Offered(Box::new(
            self.offer_secret(user, now).await?,
        )))
    }

    /// Offers a new secret for `user` (not active until confirmed by
    /// [`LoginService::link_offered`]), replacing any earlier offer.
    pub(crate) async fn offer_secret(
        &self,
        user: &User,
        now: u64,
    ) -> Result<OtpAuthUri, DomainError> {
        let secret = Secret::generate(Algorithm::Sha1).map_err(|_| DomainError::RandomSource)?;
        let sealed = self.seal_totp_seed(user.id, &secret)?;
        self.store
            .put_pending_enrollment(user.id, self.key_id(), &sealed, now)
            .await?;
        Ok(self.offer_uri(user, secret))
    }

    /// Turns two-factor login off, where the deployment does not require
    /// it: needs the password and a current token from the linked app.
    /// Removes the app, the recovery codes and the remembered devices.
    /// `Err` carries the message to show.
    pub async fn turn_off_2fa(
        &self,
        session_token: &str,
        user: &User,
        password: &str,
        token: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<(), crate::Reason>, DomainError> {
        if self.policy_for(user).await?.require_2fa {
            return Ok(Err(crate::Reason::TwoFactorRequired));
        }
        let Some(factor) = self.store.totp(user.id).await? else {
            return Ok(Err(crate::Reason::NoAuthenticator));
        };
        if !self
            .reauthenticate(session_token, user, password, ctx, now)
            .await?
        {
            return Ok(Err(crate::Reason::PasswordWrong));
        }
        let digits_only = !token.trim().is_empty()
            && token
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-'));
        let kind = AuditKind::TwoFactorOff;
        // Only a code from the app turns 2FA off; anything else is
        // checked, and counted, as a wrong code.
        let proof = if digits_only { token } else { "" };
        if !self
            .proof_holds(user, Some(&factor), proof, kind, "wrong token", ctx, now)
            .await?
        {
            return Ok(Err(crate::Reason::AppCodeWrong));
        }
        self.store.remove_second_factors(user.id).await?;
        self.store.replace_recovery_codes(user.id, &[], now).await?;
        self.store.delete_user_devices(user.id).await?;
        self.audit_success(user, AuditKind::TwoFactorOff, ctx, "by the user", now)
            .await?;
        Ok(Ok(()))
    }

    /// A current token (claimed, so it cannot be replayed) or an unused
    /// recovery code (consumed).
    async fn prove_second_factor(
        &self,
        user: &User,
        factor: Option<&TotpFactor>,
        proof: &str,
        now: u64,
    ) -> Result<bool, DomainError> {
        let digits: String = proof.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            let Some(factor) = factor else {
                return Ok(false);
            };
            let totp = self.open_totp(factor)?;
            let window = Window::new(self.policy.totp_window_steps, self.policy.totp_window_steps);
            return Ok(match totp.verify(&digits, now, window, factor.last_step) {
                Ok(step) => {
                    self.store
                        .claim_totp_step(user.id, step, factor.clock_offset_steps)
                        .await?
                }
                Err(_) => false,
            });
        }
        let Some(code) = crate::recovery::RecoveryCode::parse(proof) else {
            return Ok(false);
        };
        let Some((id, hash)) = self.store.recovery_code(user.id, &code.lookup).await? else {
            return Ok(false);
        };
        Ok(self.hasher.verify(Some(hash), code.secret).await
            && self.store.use_recovery_code(id, now).await?)
    }

    /// The offered secret as a URI, if the offer and the password check are
    /// still fresh (for showing the QR page again).
    pub async fn current_offer(
        &self,
        session_token: &str,
        user: &User,
        now: u64,
    ) -> Result<Option<OtpAuthUri>, DomainError> {
        if !self.freshly_authenticated(session_token, now).await? {
            return Ok(None);
        }
        let Some(secret) = self.offered_secret(user, now).await? else {
            return Ok(None);
        };
        Ok(Some(self.offer_uri(user, secret)))
    }

    async fn offered_secret(&self, user: &User, now: u64) -> Result<Option<Secret>, DomainError> {
        let Some((key_id, sealed, created)) = self.store.pending_enrollment(user.id).await? else {
            return Ok(None);
        };
        if now.saturating_sub(created) >= OFFER_SECONDS {
            self.store.delete_pending_enrollment(user.id).await?;
            return Ok(None);
        }
        let context = format!("totp:{}", user.id);
        let seed = self.seal.open(&key_id, &sealed, context.as_bytes())?;
        Ok(Secret::from_bytes(seed.to_vec()).ok())
    }

    fn offer_uri(&self, user: &User, secret: Secret) -> OtpAuthUri {
        OtpAuthUri {
            kind: OtpKind::Totp {
                period: Period::DEFAULT,
            },
            issuer: Some(self.site_name.clone()),
            account: user.username.clone(),
            secret,
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
        }
    }

    /// The confirm form: a correct current code from the new app makes it
    /// the user's authenticator, replacing any old one in one statement.
    pub async fn confirm_link(
        &self,
        session_token: &str,
        user: &User,
        code: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<LinkConfirm, DomainError> {
        if !self.freshly_authenticated(session_token, now).await? {
            return Ok(LinkConfirm::Expired);
        }
        let keep = token::digest(session_token);
        let recovery_codes = match self.link_offered(user, code, Some(&keep), ctx, now).await? {
            Offered::Expired => return Ok(LinkConfirm::Expired),
            Offered::WrongCode => return Ok(LinkConfirm::WrongCode),
            Offered::Linked { recovery_codes } => recovery_codes,
        };
        let session_token = self.finish_enrolling(session_token, user, now).await?;
        Ok(LinkConfirm::Linked {
            recovery_codes,
            session_token,
        })
    }

    /// Makes the offered secret the user's authenticator if `code` is its
    /// current code; the first one also gets recovery codes. Moving to a new
    /// authenticator ends every other session (all but `keep`, the hash of
    /// the session making the change) and forgets remembered devices, as a
    /// password change does: whoever held the old phone is out.
    pub(crate) async fn link_offered(
        &self,
        user: &User,
        code: &str,
        keep: Option<&str>,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Offered, DomainError> {
        let Some(secret) = self.offered_secret(user, now).await? else {
            return Ok(Offered::Expired);
        };
        let totp = Totp::new(
            secret.clone(),
            Algorithm::Sha1,
            Digits::SIX,
            Period::DEFAULT,
        );
        let typed: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let window = Window::new(self.policy.totp_window_steps, self.policy.totp_window_steps);
        let Ok(step) = totp.verify(&typed, now, window, None) else {
            self.audit_user(
                user,
                AuditKind::TotpEnrolled,
                Outcome::Failure,
                ctx,
                "wrong confirmation code",
                now,
            )
            .await?;
            return Ok(Offered::WrongCode);
        };
        let recovery_codes = self.link(user, &secret, step, keep, ctx, now).await?;
        Ok(Offered::Linked { recovery_codes })
    }

    /// Links `secret`, confirmed by its code at `step`, as `user`'s
    /// authenticator (see [`LoginService::link_offered`]); the recovery
    /// codes to show, with the first one.
    async fn link(
        &self,
        user: &User,
        secret: &otp::Secret,
        step: u64,
        keep: Option<&str>,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Option<Vec<String>>, DomainError> {
        let first = self.store.totp(user.id).await?.is_none();
        let sealed = self.seal_totp_seed(user.id, secret)?;
        // The first authenticator comes with recovery codes. They are made
        // (argon2, the slow part) before anything is written, and all of it
        // lands in one transaction: a crash leaves the old state or the new.
        let codes = if first {
            Some(self.make_recovery_codes().await?)
        } else {
            None
        };
        // The confirming code is recorded as used: it cannot log anyone in.
        let factor = TotpFactor {
            user_id: user.id,
            key_id: self.key_id().to_owned(),
            sealed_secret: sealed,
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
            period: Period::DEFAULT,
            last_step: Some(step),
            clock_offset_steps: 0,
        };
        let detail = if first {
            "first authenticator linked"
        } else {
            "authenticator replaced; other sessions and remembered devices revoked"
        };
        let mut events = vec![success_event(
            user,
            AuditKind::TotpEnrolled,
            ctx,
            detail,
            now,
        )];
        let mut writes = vec![
            Write::Totp {
                factor: &factor,
                now,
            },
            Write::DropPendingEnrollment(user.id),
        ];
        if !first {
            writes.push(match keep {
                Some(keep) => Write::EndOtherSessions {
                    user: user.id,
                    keep,
                },
                None => Write::EndSessions(user.id),
            });
            writes.push(Write::ForgetDevices(user.id));
        }
        if let Some((_, stored)) = &codes {
            writes.push(Write::RecoveryCodes {
                user: user.id,
                codes: stored,
                now,
            });
            events.push(success_event(
                user,
                AuditKind::RecoveryCodesCreated,
                ctx,
                RECOVERY_CODES_DETAIL,
                now,
            ));
        }
        self.commit_audited(&writes, &events).await?;
        Ok(codes.map(|(shown, _)| shown))
    }
}

/// The answer to a code for the offered secret.
#[derive(Debug)]
pub(crate) enum Offered {
    /// No offer, or it is older than its time.
    Expired,
    /// Not the offered secret's current code.
    WrongCode,
    /// Linked; the first authenticator comes with recovery codes.
    Linked {
        /// Shown once.
        recovery_codes: Option<Vec<String>>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_and_long_steps_are_refused() {
        let bytes = |n: usize| Secret::from_bytes(vec![7; n]).unwrap();
        let message = check_totp_parameters(&bytes(10), Period::DEFAULT).unwrap_err();
        assert!(message.contains("80 bits"), "{message}");
        assert!(check_totp_parameters(&bytes(15), Period::DEFAULT).is_err());
        assert_eq!(check_totp_parameters(&bytes(16), Period::DEFAULT), Ok(()));
        let two_minutes = Period::new(120).unwrap();
        assert_eq!(check_totp_parameters(&bytes(20), two_minutes), Ok(()));
        for seconds in [1, 9, 121, 3600] {
            let period = Period::new(seconds).unwrap();
            let message = check_totp_parameters(&bytes(20), period).unwrap_err();
            assert!(message.contains("10 to 120"), "{message}");
        }
    }
}
