//! Codes by text message: the allowance, sending one, and checking it.

use super::*;

impl LoginService {
    /// Checks `code` against the user's live SMS code; true if it matched
    /// and this request consumed it. A wrong code uses up one of its tries.
    pub(super) async fn try_sms_code(
        &self,
        user: &User,
        code: &str,
        now: u64,
    ) -> Result<bool, DomainError> {
        let Some(sms) = self.store.sms_code(user.id).await? else {
            return Ok(false);
        };
        if sms.expires_at <= now || sms.tries >= self.policy.sms_tries {
            self.store.delete_sms_code(user.id).await?;
            return Ok(false);
        }
        let plausible =
            !code.is_empty() && code.len() <= 8 && code.bytes().all(|b| b.is_ascii_digit());
        if plausible
            && self
                .hasher
                .verify(Some(sms.code_hash.clone()), code.to_owned())
                .await
        {
            return Ok(self.store.consume_sms_code(user.id, &sms.code_hash).await?);
        }
        if self.store.add_sms_try(user.id).await? >= self.policy.sms_tries {
            self.store.delete_sms_code(user.id).await?;
        }
        Ok(false)
    }

    /// Whether one more text may go to `phone` for `user` now: 30 s between
    /// sends, 5 an hour per user and per number.
    pub(crate) async fn sms_allowance(
        &self,
        user: &User,
        phone: &str,
        now: u64,
    ) -> Result<SmsAllowance, DomainError> {
        let hour_ago = now.saturating_sub(3600);
        let (sent, latest) = self.store.sms_sends_for_user(user.id, hour_ago).await?;
        let to_phone = self.store.sms_sends_to_phone(phone, hour_ago).await?;
        Ok(crate::sms::allowance(
            sent,
            latest,
            to_phone,
            &self.policy,
            now,
        ))
    }

    /// "Request Token via SMS" for a half-logged-in session.
    pub async fn request_sms(
        &self,
        session_token: &str,
        lang: i18n::Lang,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<SmsOutcome, DomainError> {
        let Some((_, user)) = self.pending(session_token, now).await? else {
            return Ok(SmsOutcome::SessionEnded);
        };
        // A code that could not finish the login is not sent.
        if self.passkey_only(&user).await? {
            let detail = "only a passkey may finish an administrator's login";
            self.audit_user(
                &user,
                AuditKind::SmsSent,
                Outcome::Blocked,
                ctx,
                detail,
                now,
            )
            .await?;
            return Ok(SmsOutcome::Forbidden);
        }
        self.send_sms_code(&user, lang, ctx, now).await
    }

    /// Texts a fresh code to the user's phone, within the sending limits,
    /// in `lang` (the language of the page that asked).
    pub(crate) async fn send_sms_code(
        &self,
        user: &User,
        lang: i18n::Lang,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<SmsOutcome, DomainError> {
        let Some(phone) = user.phone.as_deref() else {
            return Ok(SmsOutcome::NoPhone);
        };
        let refused = if !self.policy_for(user).await?.allow_sms {
            Some((
                "the practice does not allow text messages",
                SmsOutcome::Forbidden,
            ))
        } else {
            match self.sms_allowance(user, phone, now).await? {
                SmsAllowance::Allowed => None,
                SmsAllowance::Cooldown(seconds) => return Ok(SmsOutcome::Cooldown { seconds }),
                SmsAllowance::TooMany => Some(("hourly SMS limit reached", SmsOutcome::TooMany)),
            }
        };
        if let Some((detail, answer)) = refused {
            self.audit_user(user, AuditKind::SmsSent, Outcome::Blocked, ctx, detail, now)
                .await?;
            return Ok(answer);
        }
        let lang = user.language.unwrap_or(lang);
        let (id, message) = self.store_sms_code(user, phone, lang, now).await?;
        let masked = crate::sms::mask_phone(phone);
        let (outcome, detail, answer) = match self.outbox.send_claimed(id, &message, now).await? {
            Delivery::Sent => (
                Outcome::Success,
                masked.clone(),
                SmsOutcome::Sent { masked },
            ),
            Delivery::Retrying => (
                Outcome::Failure,
                format!("{masked}: provider unavailable, retrying"),
                SmsOutcome::Delayed { masked },
            ),
            Delivery::Failed => {
                // The code never reaches the phone: void it.
                self.store.delete_sms_code(user.id).await?;
                (
                    Outcome::Failure,
                    format!("{masked}: refused by the provider"),
                    SmsOutcome::Rejected { masked },
                )
            }
        };
        self.audit_user(user, AuditKind::SmsSent, outcome, ctx, &detail, now)
            .await?;
        Ok(answer)
    }

    /// A fresh code for `user`, hashed and stored (voiding the last one)
    /// with its text to `phone` committed to the outbox, claimed for
    /// sending at once: the outbox id and the message.
    async fn store_sms_code(
        &self,
        user: &User,
        phone: &str,
        lang: i18n::Lang,
        now: u64,
    ) -> Result<(i64, crate::NewMessage), DomainError> {
        // The text code has the authenticator's length, so one field fits both.
        let digits = match self.store.totp(user.id).await? {
            Some(factor) => factor.digits.get(),
            None => 6,
        };
        let code = crate::sms::random_code(digits)?;
        let code_hash = self.hasher.hash(code.clone()).await?;
        let expires_at = now + self.policy.sms_code_seconds;
        let text = lang.t_with(
            "sms-code",
            &[
                ("site", self.site_name.as_str().into()),
                ("code", otp::group_for_display(&code).into()),
                ("minutes", (self.policy.sms_code_seconds / 60).into()),
            ],
        );
        let message = self
            .outbox
            .sms(user.id, "sms-code", phone, &text, now, expires_at)?;
        let stored = SmsCode {
            code_hash,
            phone: phone.to_owned(),
            created_at: now,
            expires_at,
            tries: 0,
        };
        let id = self.store.put_sms_code(user.id, &stored, &message).await?;
        Ok((id, message))
    }
}
