//! Adding or changing the cell phone for text messages. The number becomes
//! the user's SMS factor only after the code sent to it is typed back, so a
//! mistyped number never locks the user out and nobody can register a phone
//! they do not hold.

use crate::login::SmsAllowance;
use crate::notify::success_event;
use crate::{AuditKind, DomainError, LoginService, Outcome, RequestContext, User, Write};

/// How long the code sent to a new number is valid.
const CODE_SECONDS: u64 = 10 * 60;

/// The answer to "use this number".
#[derive(Debug, PartialEq, Eq)]
pub enum PhoneStart {
    /// A code went to the number (masked).
    CodeSent(String),
    /// The password, or the second factor a change of phone asks for, was
    /// not given right (see [`crate::StepUp`]).
    Refused(crate::StepUp),
    /// The number is not valid for the country: why.
    Invalid(crate::Reason),
    /// A text went out moments ago: wait this many seconds.
    Cooldown(u64),
    /// The hourly text limit for this user or number is reached.
    TooMany,
    /// The provider refused the number.
    Failed,
    /// The provider is not answering: the text is queued and may arrive
    /// late (masked number).
    Delayed(String),
}

/// The answer to the code typed back.
#[derive(Debug, PartialEq, Eq)]
pub enum PhoneConfirm {
    /// The number is now the user's phone (masked).
    Active(String),
    /// Wrong code; this many tries left.
    WrongCode(u32),
    /// No number is waiting, or its code expired or ran out of tries.
    Expired,
}

impl LoginService {
    /// Checks the number, the password and (for a user with a second
    /// factor and no recent login) a current second factor, then texts a
    /// code to the number.
    #[allow(clippy::too_many_arguments)]
    pub async fn begin_phone_change(
        &self,
        session_token: &str,
        user: &User,
        password: &str,
        proof: &str,
        country: &str,
        number: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<PhoneStart, DomainError> {
        let phone = match crate::phone::to_e164(country, number) {
            Ok(phone) => phone,
            Err(reason) => return Ok(PhoneStart::Invalid(reason)),
        };
        match self
            .step_up(session_token, user, password, proof, ctx, now)
            .await?
        {
            crate::StepUp::Passed => {}
            refused => return Ok(PhoneStart::Refused(refused)),
        }
        match self.sms_allowance(user, &phone, now).await? {
            SmsAllowance::Allowed => {}
            SmsAllowance::Cooldown(seconds) => return Ok(PhoneStart::Cooldown(seconds)),
            SmsAllowance::TooMany => return Ok(PhoneStart::TooMany),
        }
        let code = crate::sms::random_code(6)?;
        let hash = self.hasher.hash(code.clone()).await?;
        let text = format!(
            "{} code to confirm this phone: {}. If you did not ask for it, ignore this message.",
            self.site_name,
            otp::group_for_display(&code)
        );
        let message = self.outbox.sms(
            user.id,
            "phone-confirm",
            &phone,
            &text,
            now,
            now + CODE_SECONDS,
        )?;
        let id = self
            .store
            .put_pending_phone(user.id, &phone, &hash, now, &message)
            .await?;
        let masked = crate::sms::mask_phone(&phone);
        match self.outbox.send_claimed(id, &message, now).await? {
            crate::Delivery::Sent => {}
            crate::Delivery::Retrying => return Ok(PhoneStart::Delayed(masked)),
            crate::Delivery::Failed => return Ok(PhoneStart::Failed),
        }
        self.audit_success(
            user,
            AuditKind::SmsSent,
            ctx,
            &format!("phone confirmation to {masked}"),
            now,
        )
        .await?;
        Ok(PhoneStart::CodeSent(masked))
    }

    /// The number waiting for its code, masked, while its code still
    /// works: the phone page shows the code box again after the user left it.
    pub async fn waiting_phone(
        &self,
        user: &User,
        now: u64,
    ) -> Result<Option<String>, DomainError> {
        Ok(match self.store.pending_phone(user.id).await? {
            Some((phone, _, created, tries))
                if now.saturating_sub(created) < CODE_SECONDS && tries < self.policy.sms_tries =>
            {
                Some(crate::sms::mask_phone(&phone))
            }
            _ => None,
        })
    }

    /// Makes the waiting number active if `code` is the one sent to it.
    /// A number that replaces another ends every other session (all but
    /// the one whose token is `session_token`) and forgets remembered
    /// devices; the owner is emailed, and the old number is told by text.
    pub async fn confirm_phone(
        &self,
        session_token: &str,
        user: &User,
        code: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<PhoneConfirm, DomainError> {
        let Some((phone, hash, created, tries)) = self.store.pending_phone(user.id).await? else {
            return Ok(PhoneConfirm::Expired);
        };
        if now.saturating_sub(created) >= CODE_SECONDS || tries >= self.policy.sms_tries {
            return Ok(PhoneConfirm::Expired);
        }
        let typed: String = code.chars().filter(char::is_ascii_digit).take(8).collect();
        if self.hasher.verify(Some(hash), typed).await
            && self.store.activate_pending_phone(user.id, &phone).await?
        {
            let masked = crate::sms::mask_phone(&phone);
            self.phone_changed(session_token, user, &phone, ctx, now)
                .await?;
            return Ok(PhoneConfirm::Active(masked));
        }
        self.store.add_pending_phone_try(user.id).await?;
        self.audit_user(
            user,
            AuditKind::PhoneChanged,
            Outcome::Failure,
            ctx,
            "wrong confirmation code",
            now,
        )
        .await?;
        Ok(PhoneConfirm::WrongCode(
            self.policy.sms_tries.saturating_sub(tries + 1),
        ))
    }

    /// Records a confirmed number: audited (the event emails the owner),
    /// and when it replaced another, the other sessions and remembered
    /// devices end and the old number gets a text, all in one commit.
    async fn phone_changed(
        &self,
        session_token: &str,
        user: &User,
        phone: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        let masked = crate::sms::mask_phone(phone);
        let old = user.phone.as_deref().filter(|old| *old != phone);
        let Some(old) = old else {
            return self
                .audit_success(user, AuditKind::PhoneChanged, ctx, &masked, now)
                .await;
        };
        let keep = crate::token::digest(session_token);
        let text = format!(
            "{}: text-message codes for your account now go to another number ({masked}). If this was not you, tell your practice administrator now.",
            self.site_name
        );
        let notice = self.outbox.sms_notice(
            user.id,
            "phone-changed",
            old,
            &text,
            now,
            now + 24 * 60 * 60,
        )?;
        let detail = format!("{masked}; other sessions and remembered devices revoked");
        self.commit_audited(
            &[
                Write::EndOtherSessions {
                    user: user.id,
                    keep: &keep,
                },
                Write::ForgetDevices(user.id),
                Write::Enqueue(&notice),
            ],
            &[success_event(
                user,
                AuditKind::PhoneChanged,
                ctx,
                &detail,
                now,
            )],
        )
        .await?;
        Ok(())
    }
}
