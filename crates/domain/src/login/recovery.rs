//! Recovery codes: signing in with one, and making a new set.

use super::*;

impl LoginService {
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
                        amr: Amr::OTP,
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

    /// How many unused recovery codes the user has.
    pub async fn recovery_codes_left(&self, user: &User) -> Result<u32, DomainError> {
        Ok(self.store.unused_recovery_codes(user.id).await?)
    }
}
