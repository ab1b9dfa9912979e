//! "Forgot password?": a single-use link by email, valid for one hour.
//!
//! The request gets the same answer whether or not the account exists. A
//! reset never logs anyone in, never turns off or skips the second factor,
//! revokes every session and remembered device, and is announced by email
//! (the password-changed notice, see `notify`).

use crate::{AuditKind, DomainError, Email, LoginService, Outcome, RequestContext, User, token};

/// A reset link lives one hour.
const RESET_SECONDS: u64 = 60 * 60;
/// Reset emails per account per hour.
const PER_ACCOUNT_PER_HOUR: u32 = 3;
/// Reset requests per address per hour.
const PER_IP_PER_HOUR: u32 = 20;

/// The answer to a reset request (the page says the same for every case
/// except throttling, which depends only on the requester's own behaviour).
#[derive(Debug, PartialEq, Eq)]
pub enum ResetRequest {
    /// "If the account exists, an email is on its way."
    Accepted,
    /// Too many requests from this address.
    Throttled,
}

/// The answer to a new password on the reset page.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetOutcome {
    /// The password was changed; the user logs in (with the second factor).
    Done,
    /// The link is unknown, used or expired.
    InvalidLink,
    /// The new password breaks a rule: which.
    Rejected(crate::Reason),
}

impl LoginService {
    /// Sends a reset link to the account named by `username_or_email`, if
    /// there is one. `base_url` is the configured public URL, never the
    /// request's Host header. The same as [`Self::reset_request_allowed`]
    /// then [`Self::send_reset_link`], waiting for both.
    pub async fn request_password_reset(
        &self,
        username_or_email: &str,
        base_url: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<ResetRequest, DomainError> {
        if !self.reset_request_allowed(ctx, now).await? {
            return Ok(ResetRequest::Throttled);
        }
        self.send_reset_link(username_or_email, base_url, i18n::Lang::En, ctx, now)
            .await?;
        Ok(ResetRequest::Accepted)
    }

    /// Counts a reset request from the requester's address; `false` when
    /// the address has asked too often this hour. Depends only on the
    /// requester's own behaviour, never on the account, so the page may
    /// answer from it at once and leave [`Self::send_reset_link`] to run
    /// after the answer (the same time for every name).
    pub async fn reset_request_allowed(
        &self,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<bool, DomainError> {
        let hour_ago = now.saturating_sub(3600);
        let ip_key = crate::LimitKey::of("reset:ip", &ctx.ip);
        if self.store.failures_since(&ip_key, hour_ago).await? >= PER_IP_PER_HOUR {
            return Ok(false);
        }
        self.store.record_failure(&ip_key, now).await?;
        Ok(true)
    }

    /// Looks the account up and, if there is one, emails it a new reset
    /// link (voiding any older one); audited either way.
    pub async fn send_reset_link(
        &self,
        username_or_email: &str,
        base_url: &str,
        lang: i18n::Lang,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        let hour_ago = now.saturating_sub(3600);
        let typed = username_or_email.trim();
        let user = if typed.contains('@') {
            match self.store.user_by_email(typed).await? {
                Some(user) => Some(user),
                None => self.user_by_name(typed).await?,
            }
        } else {
            self.user_by_name(typed).await?
        };
        let Some(user) = user.filter(|u| !u.disabled) else {
            self.audit(
                now,
                AuditKind::PasswordResetRequested,
                Outcome::Failure,
                None,
                typed,
                ctx,
                "no such account",
            )
            .await?;
            return Ok(());
        };
        let account_key = crate::LimitKey::of("reset:user", user.id);
        if self.store.failures_since(&account_key, hour_ago).await? >= PER_ACCOUNT_PER_HOUR {
            self.audit_user(
                &user,
                AuditKind::PasswordResetRequested,
                Outcome::Blocked,
                ctx,
                "hourly limit",
                now,
            )
            .await?;
            return Ok(());
        }
        self.store.record_failure(&account_key, now).await?;
        let value = token::generate()?;
        // The owner's own choice beats the language of whoever asked.
        let email = self.reset_email(&user, base_url, &value, user.language.unwrap_or(lang));
        self.email_link(
            &user,
            &token::digest(&value),
            now + RESET_SECONDS,
            "password-reset",
            &email,
            now,
        )
        .await?;
        self.audit_success(
            &user,
            AuditKind::PasswordResetRequested,
            ctx,
            "reset link emailed",
            now,
        )
        .await?;
        Ok(())
    }

    /// The email carrying the reset link `value` for `user`, in `lang`
    /// (the language of the page that asked for it).
    fn reset_email(&self, user: &User, base_url: &str, value: &str, lang: i18n::Lang) -> Email {
        let link = format!("{}/password/reset/{value}", base_url.trim_end_matches('/'));
        let args = |site: &str, name: &str, link: &str| -> Vec<(&'static str, i18n::Arg)> {
            vec![
                ("site", site.into()),
                ("name", name.into()),
                ("link", link.into()),
            ]
        };
        let plain = args(&self.site_name, &user.username, &link);
        let text = format!(
            "{}\n\n{}\n{link}\n\n{}\n",
            lang.t_with("reset-email-asked", &plain),
            lang.t_with("reset-email-open", &plain),
            lang.t("reset-email-not-you"),
        );
        // Every argument escaped before it enters the HTML part.
        let escaped = args(
            &crate::mail::escape_html(&self.site_name),
            &format!(
                "<strong>{}</strong>",
                crate::mail::escape_html(&user.username)
            ),
            &crate::mail::escape_html(&link),
        );
        let html = format!(
            "<p>{}</p><p><a href=\"{}\">{}</a> {}</p><p>{}</p>",
            lang.t_with("reset-email-asked-html", &escaped),
            crate::mail::escape_html(&link),
            lang.t("reset-email-choose"),
            lang.t("reset-email-once"),
            lang.t("reset-email-not-you"),
        );
        Email {
            to: user.email.clone(),
            subject: lang.t_with("reset-email-subject", &plain),
            text,
            html,
        }
    }

    /// Stores a single-use link (its token's hash, valid until
    /// `expires_at`) for `user` and commits the email carrying it, in one
    /// transaction, then wakes the outbox: reset links, invitations.
    pub(crate) async fn email_link(
        &self,
        user: &User,
        token_hash: &str,
        expires_at: u64,
        topic: &str,
        email: &Email,
        now: u64,
    ) -> Result<(), DomainError> {
        let message = self.outbox.email(Some(user.id), topic, email, now)?;
        self.store
            .create_password_reset(token_hash, user.id, now, expires_at, &message)
            .await?;
        self.outbox.wake();
        Ok(())
    }

    /// The shortest password the account's practice accepts, while the
    /// reset link is usable (for showing the form); `None` for a dead link.
    pub async fn reset_link_min_length(
        &self,
        link_token: &str,
        now: u64,
    ) -> Result<Option<usize>, DomainError> {
        let Some((user_id, _)) = self
            .store
            .password_reset(&token::digest(link_token))
            .await?
            .filter(|(_, expires)| *expires > now)
        else {
            return Ok(None);
        };
        match self.store.user_by_id(user_id).await? {
            Some(user) => Ok(Some(self.policy_for(&user).await?.password_min_length)),
            None => Ok(None),
        }
    }

    /// Sets a new password through a reset link.
    pub async fn reset_password(
        &self,
        link_token: &str,
        new: &str,
        confirm: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<ResetOutcome, DomainError> {
        let hash = token::digest(link_token);
        let Some((user_id, expires)) = self.store.password_reset(&hash).await? else {
            return Ok(ResetOutcome::InvalidLink);
        };
        let Some(user) = self
            .store
            .user_by_id(user_id)
            .await?
            .filter(|_| expires > now)
        else {
            return Ok(ResetOutcome::InvalidLink);
        };
        if new != confirm {
            return Ok(ResetOutcome::Rejected(crate::Reason::PasswordsDiffer));
        }
        let min_length = self.policy_for(&user).await?.password_min_length;
        if let Err(message) = crate::password::check_new_for(new, &user.username, min_length) {
            return Ok(ResetOutcome::Rejected(message));
        }
        // The link is used up with the new password in one transaction.
        if !self
            .replace_password(&user, new, ctx, "by reset link", now, Some(&hash))
            .await?
        {
            return Ok(ResetOutcome::InvalidLink);
        }
        Ok(ResetOutcome::Done)
    }
}
