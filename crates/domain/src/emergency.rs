//! Emergency access: a single-use, one-hour login link for an
//! administrator whose factors are unavailable (HIPAA §164.312(a)(2)(ii)).
//! The link still asks for the password under the login's own lock rule,
//! skips the second factor once, is audited as an emergency and is emailed
//! to every administrator of the practice in the same commit.

use crate::admin::{EMERGENCY, EMERGENCY_SECONDS, MAX_REASON};
use crate::lockout::PasswordVerdict;
use crate::notify::success_event;
use crate::user::normalize_username;
use crate::{
    AuditKind, DomainError, Email, LoginService, Outcome, RequestContext, Role, SessionStage, User,
    Write, token,
};

/// The answer to an emergency link and a password.
#[derive(Debug, PartialEq, Eq)]
pub enum EmergencyOutcome {
    /// Logged in with a full session; the second factor was skipped.
    LoggedIn {
        /// The new session cookie value.
        session_token: String,
    },
    /// The link is unknown, used or expired.
    InvalidLink,
    /// The password is wrong (the link stays usable until it expires).
    WrongPassword,
}

impl LoginService {
    /// Issues a single-use, one-hour login link for an administrator whose
    /// factors are unavailable (HIPAA §164.312(a)(2)(ii)); the link still
    /// asks for the password. `Err` carries the message to print.
    pub async fn issue_emergency_access(
        &self,
        username: &str,
        reason: &str,
        base_url: &str,
        now: u64,
    ) -> Result<Result<String, String>, DomainError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Ok(Err(format!(
                "--reason must say why, in 1 to {MAX_REASON} characters"
            )));
        }
        if reason.chars().any(char::is_control) {
            return Ok(Err("--reason must be one line".into()));
        }
        let user = match normalize_username(username) {
            Some(name) => self.store.user_by_username(&name).await?,
            None => None,
        };
        let Some(user) = user else {
            return Ok(Err(format!("no user named {username:?}")));
        };
        if user.role != Role::Admin {
            return Ok(Err(format!(
                "{} is not an administrator: staff who lost their phone get a 2FA reset from their practice administrator",
                user.username
            )));
        }
        if user.disabled {
            return Ok(Err(format!("{} is disabled", user.username)));
        }
        let value = token::generate()?;
        self.store
            .create_link_token(
                &token::derive(EMERGENCY, &value),
                user.id,
                now,
                now + EMERGENCY_SECONDS,
            )
            .await?;
        self.audit(
            now,
            AuditKind::EmergencyAccessIssued,
            Outcome::Success,
            Some(user.id),
            &user.username,
            &RequestContext::admin_cli(),
            &format!("reason: {reason}"),
        )
        .await?;
        Ok(Ok(format!(
            "{}/emergency/{value}",
            base_url.trim_end_matches('/')
        )))
    }

    /// Whether an emergency link is still usable (for showing the form).
    pub async fn emergency_link_valid(
        &self,
        link_token: &str,
        now: u64,
    ) -> Result<bool, DomainError> {
        Ok(self
            .store
            .password_reset(&token::derive(EMERGENCY, link_token))
            .await?
            .is_some_and(|(_, expires)| expires > now))
    }

    /// Logs in through an emergency link and the password, skipping the
    /// second factor once; audited as an emergency and emailed to every
    /// administrator of the practice.
    pub async fn use_emergency_access(
        &self,
        link_token: &str,
        password: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<EmergencyOutcome, DomainError> {
        let hash = token::derive(EMERGENCY, link_token);
        let Some((user_id, expires)) = self.store.password_reset(&hash).await? else {
            return Ok(EmergencyOutcome::InvalidLink);
        };
        let Some(user) = self
            .store
            .user_by_id(user_id)
            .await?
            .filter(|u| expires > now && !u.disabled && u.role == Role::Admin)
        else {
            return Ok(EmergencyOutcome::InvalidLink);
        };
        let lock = self
            .store
            .lock_state(&crate::lockout::LockKey::Account(user.id).key())
            .await?;
        let password_ok = self
            .hasher
            .verify(user.password_hash.clone(), password.to_owned())
            .await;
        // The login's own rule: under a lock a right and a wrong password
        // get the same answer and nothing is counted.
        let refused = match crate::lockout::password_verdict(lock, password_ok, now) {
            PasswordVerdict::Accepted => None,
            PasswordVerdict::Locked { .. } => Some((Outcome::Blocked, "password attempts locked")),
            PasswordVerdict::Wrong => {
                let since = now.saturating_sub(self.policy.failure_window_seconds);
                self.count_password_failure(&user, ctx, now, since).await?;
                Some((Outcome::Failure, "wrong password"))
            }
        };
        if let Some((outcome, detail)) = refused {
            self.audit_user(&user, AuditKind::EmergencyAccess, outcome, ctx, detail, now)
                .await?;
            return Ok(EmergencyOutcome::WrongPassword);
        }
        // The admins' emails are made first; then the link is used up, the
        // session started, the event audited and the emails committed in one
        // transaction: an emergency login is never without its notice.
        let messages = self.emergency_notices(&user, ctx, now).await?;
        let (session_token, session) =
            crate::login::new_session(user.id, SessionStage::Full, crate::Amr::PWD, now)?;
        let mut writes = vec![
            Write::UseLink {
                token_hash: &hash,
                now,
            },
            Write::Session(&session),
            Write::LastLogin { user: user.id, now },
        ];
        writes.extend(messages.iter().map(Write::Enqueue));
        let event = success_event(
            &user,
            AuditKind::EmergencyAccess,
            ctx,
            "EMERGENCY: second factor skipped by an emergency access link",
            now,
        );
        if !self.commit_audited(&writes, &[event]).await? {
            return Ok(EmergencyOutcome::InvalidLink);
        }
        self.outbox.wake();
        Ok(EmergencyOutcome::LoggedIn { session_token })
    }

    /// The email to every administrator of `user`'s practice that `user`
    /// logged in with an emergency link, ready to commit with the login.
    async fn emergency_notices(
        &self,
        user: &User,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Vec<crate::NewMessage>, DomainError> {
        let mut messages = Vec::new();
        let practice = self.store.practice_locale(user.practice_id).await?;
        let when = practice.zone().readable(now);
        let args = |name: &str, site: &str, when: &str, ip: &str| {
            [
                ("name", i18n::Arg::from(name)),
                ("site", i18n::Arg::from(site)),
                ("when", i18n::Arg::from(when)),
                ("ip", i18n::Arg::from(ip)),
            ]
        };
        let plain = args(&user.username, &self.site_name, &when, &ctx.ip);
        let esc = crate::mail::escape_html;
        let escaped = args(
            &format!("<strong>{}</strong>", esc(&user.username)),
            &esc(&self.site_name),
            &esc(&when),
            &esc(&ctx.ip),
        );
        for admin in self.store.practice_admins(user.practice_id).await? {
            let lang = admin.language.or(practice.language).unwrap_or_default();
            let email = Email {
                to: admin.email.clone(),
                subject: lang.t_with("emergency-email-subject", &plain),
                text: format!(
                    "{}\n\n{}\n",
                    lang.t_with("emergency-email-used", &plain),
                    lang.t("emergency-email-check")
                ),
                html: format!(
                    "<p>{}</p><p>{}</p>",
                    lang.t_with("emergency-email-used", &escaped),
                    esc(&lang.t("emergency-email-check"))
                ),
            };
            messages.push(
                self.outbox
                    .email(Some(admin.id), "emergency-access", &email, now)?,
            );
        }
        Ok(messages)
    }
}
