//! Changing and setting a password, and what a new password ends.

use super::*;

impl LoginService {
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
    ) -> Result<Result<String, crate::Reason>, DomainError> {
        if !self
            .hasher
            .verify(user.password_hash.clone(), current.to_owned())
            .await
        {
            self.audit_user(
                user,
                AuditKind::PasswordChanged,
                Outcome::Failure,
                ctx,
                "wrong current password",
                now,
            )
            .await?;
            return Ok(Err(crate::Reason::CurrentPasswordWrong));
        }
        if new != confirm {
            return Ok(Err(crate::Reason::NewPasswordsDiffer));
        }
        let min_length = self.policy_for(user).await?.password_min_length;
        if let Err(message) = crate::password::check_new_for(new, &user.username, min_length) {
            return Ok(Err(message));
        }
        self.replace_password(user, new, ctx, "by the user", now, None)
            .await?;
        Ok(Ok(self
            .start_session(user.id, SessionStage::Full, Amr::PWD, now)
            .await?))
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
            Write::EndGrants(user.id),
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
}
