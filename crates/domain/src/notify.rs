//! Security notices by email: the account's owner hears of every change to
//! how the account is protected, and of a password typed by someone who did
//! not finish the second step.
//!
//! A notice is committed to the outbox in the same transaction as the audit
//! event that records what happened, so neither exists without the other.

use crate::{
    AuditEvent, AuditKind, DomainError, Email, LoginService, NewMessage, Outcome, RequestContext,
    Session, StoreError, User, Write,
};

/// A successful event about `user`, ready for
/// [`LoginService::commit_audited`].
pub(crate) fn success_event(
    user: &User,
    kind: AuditKind,
    ctx: &RequestContext,
    detail: &str,
    now: u64,
) -> (AuditEvent, AuditKind, Outcome) {
    let event = AuditEvent::new(
        now,
        kind,
        Outcome::Success,
        Some(user.id),
        &user.username,
        ctx,
        detail,
    );
    (event, kind, Outcome::Success)
}

/// A half-login left this long is reported.
pub const ABANDONED_AFTER_SECONDS: u64 = 10 * 60;
/// At most one "did not finish" notice per user in this time.
const ABANDONED_EVERY_SECONDS: u64 = 60 * 60;
/// The outbox topic of the "did not finish" notice.
pub const ABANDONED_TOPIC: &str = "abandoned-login";

/// A half-login's writes for [`LoginService::hold_abandoned_notice`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeldNotice<'a> {
    /// The pending session.
    pub(crate) session: &'a Session,
    /// The key of the password failures to forget, if any are counted.
    pub(crate) password_key: Option<&'a crate::LimitKey>,
    /// The password step's audit event.
    pub(crate) event: &'a AuditEvent,
    /// When the notice was last queued for this user (at most one per
    /// `ABANDONED_EVERY_SECONDS`), as the password step read it.
    pub(crate) last_sent_at: Option<u64>,
    /// Checks made again as the writes commit ([`Write::PasswordGuard`]),
    /// if the step read its state before the hash.
    pub(crate) guard: Option<Write<'a>>,
}

/// What the owner is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    PasswordChanged,
    TwoFactorOn,
    TwoFactorOff,
    TwoFactorReset,
    DeviceRemembered,
    RecoveryCodeUsed,
    RecoveryCodesCreated,
    PhoneChanged,
    PasskeyAdded,
    PasskeyRemoved,
    Locked,
    AbandonedLogin,
}

impl Notice {
    /// The notice an audit event calls for, if any.
    pub(crate) fn for_event(kind: AuditKind, outcome: Outcome) -> Option<Self> {
        if outcome != Outcome::Success {
            return None;
        }
        Some(match kind {
            AuditKind::PasswordChanged => Notice::PasswordChanged,
            AuditKind::TotpEnrolled => Notice::TwoFactorOn,
            AuditKind::TwoFactorOff => Notice::TwoFactorOff,
            AuditKind::Reset2fa => Notice::TwoFactorReset,
            AuditKind::DeviceRemembered => Notice::DeviceRemembered,
            AuditKind::RecoveryCodeUsed => Notice::RecoveryCodeUsed,
            AuditKind::RecoveryCodesCreated => Notice::RecoveryCodesCreated,
            AuditKind::PhoneChanged => Notice::PhoneChanged,
            AuditKind::PasskeyAdded => Notice::PasskeyAdded,
            AuditKind::PasskeyRemoved => Notice::PasskeyRemoved,
            AuditKind::Lock => Notice::Locked,
            _ => return None,
        })
    }

    /// The outbox topic.
    pub(crate) fn topic(self) -> &'static str {
        match self {
            Notice::PasswordChanged => "password-changed",
            Notice::TwoFactorOn => "two-factor-on",
            Notice::TwoFactorOff => "two-factor-off",
            Notice::TwoFactorReset => "two-factor-reset",
            Notice::DeviceRemembered => "device-remembered",
            Notice::RecoveryCodeUsed => "recovery-code-used",
            Notice::RecoveryCodesCreated => "recovery-codes-created",
            Notice::PhoneChanged => "phone-changed",
            Notice::PasskeyAdded => "passkey-added",
            Notice::PasskeyRemoved => "passkey-removed",
            Notice::Locked => "account-locked",
            Notice::AbandonedLogin => ABANDONED_TOPIC,
        }
    }

    /// (subject, what happened, what to do if it was not you).
    fn words(self) -> (&'static str, &'static str, &'static str) {
        const TELL_ADMIN: &str = "If this was not you, tell your practice administrator now.";
        match self {
            Notice::PasswordChanged => (
                "your password was changed",
                "The password of your account was changed. Every session and remembered device was logged out.",
                TELL_ADMIN,
            ),
            Notice::TwoFactorOn => (
                "two-factor login is on",
                "An authenticator app was linked to your account; logins now ask for its token.",
                TELL_ADMIN,
            ),
            Notice::TwoFactorOff => (
                "two-factor login was turned off",
                "Two-factor login was turned off for your account: a password alone now logs in.",
                "If this was not you, change your password and tell your practice administrator now.",
            ),
            Notice::TwoFactorReset => (
                "two-factor login was reset",
                "An administrator removed your second factors (authenticator, recovery codes and remembered devices). You will link an authenticator again at your next login.",
                TELL_ADMIN,
            ),
            Notice::DeviceRemembered => (
                "a device was remembered",
                "A browser was saved to skip the token for 30 days. You can forget it on the Security page.",
                "If this was not you, forget the device on the Security page, change your password and tell your practice administrator.",
            ),
            Notice::RecoveryCodeUsed => (
                "a recovery code was used",
                "One of your recovery codes was used to log in. Each code works once.",
                "If this was not you, change your password, create new recovery codes and tell your practice administrator.",
            ),
            Notice::RecoveryCodesCreated => (
                "new recovery codes were made",
                "A new set of recovery codes was made for your account; the old codes no longer work.",
                "If this was not you, change your password and tell your practice administrator now.",
            ),
            Notice::PhoneChanged => (
                "your cell phone was changed",
                "A new cell phone number now receives your text-message codes. Every other session and remembered device was logged out.",
                "If this was not you, change your password and tell your practice administrator now.",
            ),
            Notice::PasskeyAdded => (
                "a passkey was added",
                "A passkey or security key was added to your account; it can now finish your logins.",
                "If this was not you, remove it on the Security page, change your password and tell your practice administrator now.",
            ),
            Notice::PasskeyRemoved => (
                "a passkey was removed",
                "A passkey or security key was removed from your account; it no longer logs in.",
                TELL_ADMIN,
            ),
            Notice::Locked => (
                "your account was locked",
                "Too many wrong passwords or tokens were entered, so logins are paused for a while.",
                "If this was not you, someone may be guessing: tell your practice administrator.",
            ),
            Notice::AbandonedLogin => (
                "someone entered your password",
                "Someone entered your correct password but did not finish the second step (the token) within 10 minutes.",
                "If this was not you, your password is known to someone else: change it now and tell your practice administrator. Your token kept them out.",
            ),
        }
    }

    /// The email for `user`.
    pub(crate) fn email(
        self,
        site_name: &str,
        user: &User,
        ctx: &RequestContext,
        when: &str,
    ) -> Email {
        use crate::mail::escape_html as esc;
        let (subject, what, advice) = self.words();
        let place = if ctx.ip.is_empty() {
            String::new()
        } else {
            format!(" (from {})", ctx.ip)
        };
        Email {
            to: user.email.clone(),
            subject: format!("{site_name}: {subject}"),
            text: format!(
                "Account \"{name}\" at {site_name}, {when}{place}:\n\n{what}\n\n{advice}\n",
                name = user.username,
            ),
            html: format!(
                "<p>Account <strong>{name}</strong> at {site}, {when}{place}:</p><p>{what}</p><p>{advice}</p>",
                name = esc(&user.username),
                site = esc(site_name),
                when = esc(when),
                place = esc(&place),
            ),
        }
    }
}

impl LoginService {
    /// The owner's notice that `event` calls for, ready for the outbox.
    async fn notice_message(
        &self,
        event: &AuditEvent,
        kind: AuditKind,
        outcome: Outcome,
    ) -> Result<Option<NewMessage>, DomainError> {
        let Some(notice) = Notice::for_event(kind, outcome) else {
            return Ok(None);
        };
        let Some(id) = event.user_id else {
            return Ok(None);
        };
        let Some(user) = self.store.user_by_id(id).await? else {
            return Ok(None);
        };
        if user.email.is_empty() {
            return Ok(None);
        }
        let ctx = RequestContext {
            ip: event.ip.clone(),
            user_agent: event.user_agent.clone(),
        };
        let email = notice.email(
            &self.site_name,
            &user,
            &ctx,
            &crate::time::readable(event.at),
        );
        Ok(Some(self.outbox.email(
            Some(user.id),
            notice.topic(),
            &email,
            event.at,
        )?))
    }

    /// Appends an audit event, with the owner's notice in the same
    /// transaction when the event calls for one.
    pub(crate) async fn append_event(
        &self,
        event: &AuditEvent,
        kind: AuditKind,
        outcome: Outcome,
    ) -> Result<(), DomainError> {
        match self.notice_message(event, kind, outcome).await? {
            Some(message) => {
                self.store.append_audit_and_enqueue(event, &message).await?;
                self.outbox.wake();
            }
            None => self.store.append_audit(event).await?,
        }
        Ok(())
    }

    /// Commits `writes`, the audit rows of `events` and the notices they
    /// call for in one transaction: a crash leaves all of it or none.
    /// `Ok(false)`: the list uses a single-use link ([`Write::UseLink`])
    /// that was already used, or claims an authenticator step
    /// ([`Write::ClaimStep`]) another request took, and nothing was written.
    pub(crate) async fn commit_audited(
        &self,
        writes: &[Write<'_>],
        events: &[(AuditEvent, AuditKind, Outcome)],
    ) -> Result<bool, DomainError> {
        // One change, one email: the first event that calls for a notice
        // (a first authenticator comes with recovery codes; the owner hears
        // that two-factor login is on, not twice).
        let mut notices = Vec::new();
        for (event, kind, outcome) in events {
            if let Some(message) = self.notice_message(event, *kind, *outcome).await? {
                notices.push(message);
                break;
            }
        }
        let all: Vec<Write<'_>> = writes
            .iter()
            .copied()
            .chain(events.iter().map(|(event, _, _)| Write::Audit(event)))
            .chain(notices.iter().map(Write::Enqueue))
            .collect();
        match self.store.write_all(&all).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_))
                if writes
                    .iter()
                    .any(|w| matches!(w, Write::UseLink { .. } | Write::ClaimStep { .. })) =>
            {
                return Ok(false);
            }
            Err(other) => return Err(other.into()),
        }
        if !notices.is_empty() {
            self.outbox.wake();
        }
        Ok(true)
    }

    /// Commits the pending session of a half-login with its event, the
    /// password failures forgotten and, held for 10 minutes, the "someone
    /// entered your password" notice (finishing the second step cancels
    /// it), in one transaction. `false` if its guard did not hold: nothing
    /// was written.
    pub(crate) async fn hold_abandoned_notice(
        &self,
        user: &User,
        held: HeldNotice<'_>,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<bool, DomainError> {
        let HeldNotice {
            session: pending,
            password_key,
            event,
            last_sent_at,
            guard,
        } = held;
        let guarded = guard.is_some();
        let mut all = Vec::with_capacity(5);
        all.extend(guard);
        if let Some(key) = password_key {
            all.push(Write::ClearFailures(key));
        }
        all.extend([Write::Session(pending), Write::Audit(event)]);
        let recent = last_sent_at.is_some_and(|at| at + ABANDONED_EVERY_SECONDS > now);
        let message = if recent || user.email.is_empty() {
            None
        } else {
            let email = Notice::AbandonedLogin.email(
                &self.site_name,
                user,
                ctx,
                &crate::time::readable(now),
            );
            let mut message = self
                .outbox
                .email(Some(user.id), ABANDONED_TOPIC, &email, now)?;
            message.send_at = now + ABANDONED_AFTER_SECONDS;
            message.cancel_key = Some(pending.token_hash.clone());
            Some(message)
        };
        if let Some(message) = &message {
            all.push(Write::Enqueue(message));
        }
        match self.store.write_all(&all).await {
            Ok(()) => Ok(true),
            Err(crate::StoreError::Conflict(_)) if guarded => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_successful_protection_changes_call_for_a_notice() {
        assert_eq!(
            Notice::for_event(AuditKind::PasswordChanged, Outcome::Success),
            Some(Notice::PasswordChanged)
        );
        assert_eq!(
            Notice::for_event(AuditKind::PasswordChanged, Outcome::Failure),
            None
        );
        assert_eq!(
            Notice::for_event(AuditKind::Lock, Outcome::Success),
            Some(Notice::Locked)
        );
        assert_eq!(
            Notice::for_event(AuditKind::PasswordLogin, Outcome::Success),
            None
        );
    }

    #[test]
    fn notices_escape_names_in_html_and_say_where() {
        let user = User {
            id: crate::UserId(1),
            practice_id: crate::PracticeId(1),
            username: "<b>x</b>".into(),
            email: "x@example.test".into(),
            phone: None,
            role: crate::Role::Staff,
            password_hash: None,
            disabled: false,
            require_2fa: false,
            language: None,
        };
        let ctx = RequestContext {
            ip: "127.0.0.1".into(),
            user_agent: String::new(),
        };
        let email = Notice::Locked.email("Clinic", &user, &ctx, "today");
        assert!(email.subject.starts_with("Clinic: "));
        assert!(email.text.contains("<b>x</b>") && email.text.contains("127.0.0.1"));
        assert!(email.html.contains("&lt;b&gt;x&lt;/b&gt;") && !email.html.contains("<b>x"));
    }
}
