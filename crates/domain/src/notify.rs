//! Security notices by email: the account's owner hears of every change to
//! how the account is protected, and of a password typed by someone who did
//! not finish the second step.
//!
//! A notice is committed to the outbox in the same transaction as the audit
//! event that records what happened, so neither exists without the other.

use i18n::Arg;

use crate::{
    AuditEvent, AuditKind, DomainError, Email, LoginService, NewMessage, Outcome, PracticeLocale,
    RequestContext, Session, StoreError, User, Write,
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
    /// The practice's language and zone, for the notice's words.
    pub(crate) locale: &'a PracticeLocale,
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

    /// The catalog ids of (subject, what happened, what to do if it was
    /// not you).
    fn words(self) -> (String, String, String) {
        let topic = self.topic();
        let advice = match self {
            Notice::PasswordChanged
            | Notice::TwoFactorOn
            | Notice::TwoFactorReset
            | Notice::PasskeyRemoved => "notice-tell-admin".to_owned(),
            Notice::TwoFactorOff | Notice::RecoveryCodesCreated | Notice::PhoneChanged => {
                "notice-change-and-tell".to_owned()
            }
            Notice::DeviceRemembered
            | Notice::RecoveryCodeUsed
            | Notice::PasskeyAdded
            | Notice::Locked
            | Notice::AbandonedLogin => format!("notice-{topic}-advice"),
        };
        (
            format!("notice-{topic}-subject"),
            format!("notice-{topic}-what"),
            advice,
        )
    }

    /// The email for `user`, in their language (else the practice's
    /// default, else English), the time `at` in the practice's zone.
    pub(crate) fn email(
        self,
        site_name: &str,
        user: &User,
        ctx: &RequestContext,
        at: u64,
        locale: &PracticeLocale,
    ) -> Email {
        use crate::mail::escape_html as esc;
        let lang = user.language.or(locale.language).unwrap_or_default();
        let zone = locale.zone();
        let (subject, what, advice) = self.words();
        let (what, advice) = (lang.t(&what), lang.t(&advice));
        let mut args = vec![
            ("name", Arg::from(&user.username)),
            ("site", Arg::from(site_name)),
            ("when", Arg::from(zone.readable(at))),
        ];
        let intro = if ctx.ip.is_empty() {
            "notice-intro"
        } else {
            args.push(("ip", Arg::from(&ctx.ip)));
            "notice-intro-from"
        };
        let intro = lang.t_with(intro, &args);
        Email {
            to: user.email.clone(),
            subject: lang.t_with(
                "notice-subject",
                &[
                    ("site", Arg::from(site_name)),
                    ("subject", Arg::from(lang.t(&subject))),
                ],
            ),
            text: format!("{intro}\n\n{what}\n\n{advice}\n"),
            html: format!(
                "<p>{}</p><p>{}</p><p>{}</p>",
                esc(&intro),
                esc(&what),
                esc(&advice)
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
        // A notice is rare (a change of protection): one more read for
        // the practice's language and zone costs nothing that matters.
        let locale = self.store.practice_locale(user.practice_id).await?;
        let email = notice.email(&self.site_name, &user, &ctx, event.at, &locale);
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
            locale,
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
            let email = Notice::AbandonedLogin.email(&self.site_name, user, ctx, now, locale);
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
        let utc = PracticeLocale {
            time_zone: "UTC".into(),
            language: None,
        };
        let email = Notice::Locked.email("Clinic", &user, &ctx, 1_796_652_900, &utc);
        assert_eq!(email.subject, "Clinic: your account was locked");
        assert!(email.text.contains("<b>x</b>") && email.text.contains("127.0.0.1"));
        assert!(
            email.text.contains("2026-12-07 14:15 UTC"),
            "{}",
            email.text
        );
        assert!(email.html.contains("&lt;b&gt;x&lt;/b&gt;") && !email.html.contains("<b>x"));

        // The practice's default language and zone, unless the owner chose.
        let madrid = PracticeLocale {
            time_zone: "Europe/Madrid".into(),
            language: Some(i18n::Lang::Es),
        };
        let email = Notice::Locked.email("Clinic", &user, &ctx, 1_796_652_900, &madrid);
        assert_eq!(email.subject, "Clinic: se bloqueó su cuenta");
        assert!(
            email.text.contains("2026-12-07 15:15 CET"),
            "{}",
            email.text
        );
        let chose_english = User {
            language: Some(i18n::Lang::En),
            ..user
        };
        let email = Notice::Locked.email("Clinic", &chose_english, &ctx, 0, &madrid);
        assert_eq!(email.subject, "Clinic: your account was locked");
    }

    #[test]
    fn every_notice_has_words_in_every_language() {
        use Notice as N;
        for notice in [
            N::PasswordChanged,
            N::TwoFactorOn,
            N::TwoFactorOff,
            N::TwoFactorReset,
            N::DeviceRemembered,
            N::RecoveryCodeUsed,
            N::RecoveryCodesCreated,
            N::PhoneChanged,
            N::PasskeyAdded,
            N::PasskeyRemoved,
            N::Locked,
            N::AbandonedLogin,
        ] {
            let (subject, what, advice) = notice.words();
            for lang in i18n::Lang::ALL {
                let ids = i18n::catalog_ids(lang);
                for id in [&subject, &what, &advice] {
                    assert!(ids.contains(id), "{}: {notice:?} {id}", lang.tag());
                }
            }
        }
    }
}
