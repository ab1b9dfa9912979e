//! Practice administration: the staff list and its actions, the practice
//! policy, the audit page's search and invitations (emergency access is
//! `emergency.rs`).
//!
//! Every action needs an administrator of the same practice who has just
//! typed their own password again; a user of another practice is
//! indistinguishable from one that does not exist. Every action is audited
//! with the administrator's name and request.

use crate::AuditEvent;
pub use crate::emergency::EmergencyOutcome;
use crate::notify::success_event;
use crate::{
    AuditKind, DomainError, Email, LoginService, NewUser, PasswordOutcome, Policy, PracticeId,
    PracticeLocale, PracticePolicy, Reason, RequestContext, Role, StoreError, User, UserId, Write,
    token,
};

/// An invitation link lives three days.
pub const INVITATION_SECONDS: u64 = 3 * 24 * 60 * 60;
/// An emergency login link lives one hour.
pub const EMERGENCY_SECONDS: u64 = 60 * 60;
/// Longest shown name.
pub const MAX_DISPLAY_NAME: usize = 100;
/// Longest emergency reason.
pub const MAX_REASON: usize = 500;

const INVITE: &str = "invite";
pub(crate) const EMERGENCY: &str = "emergency";

/// One line of the staff page.
#[derive(Debug, Clone)]
pub struct StaffRow {
    /// The account.
    pub user: User,
    /// The name shown (may be empty).
    pub display_name: String,
    /// An authenticator app is linked.
    pub has_totp: bool,
    /// The later of the second-factor and password locks (Unix seconds; 0:
    /// never locked).
    pub locked_until: u64,
    /// The last completed login.
    pub last_login_at: Option<u64>,
}

/// Which audit events to show or export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this practice's events (`None`: all, for the command line).
    pub practice: Option<PracticeId>,
    /// Only this user's events.
    pub user: Option<UserId>,
    /// Only this kind (`password_login`, …).
    pub kind: Option<String>,
    /// Only this outcome (`success`, `failure`, `blocked`).
    pub outcome: Option<String>,
    /// From this Unix time (inclusive).
    pub since: u64,
    /// Before this Unix time (exclusive; `u64::MAX`: no end).
    pub until: u64,
}

impl AuditFilter {
    /// Every event with `since <= at < until`.
    pub fn between(since: u64, until: u64) -> Self {
        AuditFilter {
            since,
            until,
            ..AuditFilter::default()
        }
    }
}

/// What an administrator does to one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffAction {
    /// Require (true) or stop requiring 2FA for the user.
    Require2fa(bool),
    /// Remove every factor, recovery code and remembered device.
    Reset2fa,
    /// Clear the second-factor and password locks.
    Unlock,
    /// Disable the account (ends its sessions).
    Disable,
    /// Enable it again.
    Enable,
    /// Send a fresh invitation (the user has not set a password yet).
    ResendInvitation,
}

/// A new account as the administrator types it.
#[derive(Debug, Clone)]
pub struct AddStaff<'a> {
    /// Login name.
    pub username: &'a str,
    /// Name to show.
    pub display_name: &'a str,
    /// Email for the invitation.
    pub email: &'a str,
    /// `staff` or `admin`.
    pub role: &'a str,
}

/// The answer to a password typed through an invitation link.
#[derive(Debug)]
pub enum InviteOutcome {
    /// The password is set; the user is logged in (or must enroll first).
    Done(PasswordOutcome),
    /// The link is unknown, used, expired, or the account already has a
    /// password.
    InvalidLink,
    /// The new password breaks a rule: which.
    Rejected(Reason),
}

impl LoginService {
    /// The policy for `user`: the deployment's with the practice's settings
    /// and the user's own mark applied, read fresh from the database.
    pub async fn policy_for(&self, user: &User) -> Result<Policy, DomainError> {
        let practice = self.store.practice_policy(user.practice_id).await?;
        Ok(self.policy.for_user(&practice, user.require_2fa))
    }

    /// The practice's own settings.
    pub async fn practice_policy(
        &self,
        practice: PracticeId,
    ) -> Result<PracticePolicy, DomainError> {
        Ok(self.store.practice_policy(practice).await?)
    }

    /// The account `id` if it is in the administrator's practice; `None`
    /// for another practice's account exactly as for a missing one.
    pub async fn staff_member(&self, admin: &User, id: i64) -> Result<Option<User>, DomainError> {
        if admin.role != Role::Admin {
            return Ok(None);
        }
        Ok(self
            .store
            .user_by_id(UserId(id))
            .await?
            .filter(|u| u.practice_id == admin.practice_id))
    }

    /// One page of the administrator's practice.
    pub async fn staff(
        &self,
        admin: &User,
        search: &str,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<StaffRow>, u64), DomainError> {
        if admin.role != Role::Admin {
            return Ok((Vec::new(), 0));
        }
        Ok(self
            .store
            .staff_page(admin.practice_id, search.trim(), None, offset, limit)
            .await?)
    }

    /// One account of the administrator's practice as a staff-page line.
    pub async fn staff_row(
        &self,
        admin: &User,
        id: UserId,
    ) -> Result<Option<StaffRow>, DomainError> {
        if admin.role != Role::Admin {
            return Ok(None);
        }
        let (mut rows, _) = self
            .store
            .staff_page(admin.practice_id, "", Some(id), 0, 1)
            .await?;
        Ok(rows.pop())
    }

    /// Checks the administrator's password for an action (counted and
    /// audited like any re-authentication).
    pub(crate) async fn confirm_admin(
        &self,
        session_token: &str,
        admin: &User,
        password: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<(), Reason>, DomainError> {
        if admin.role != Role::Admin {
            return Ok(Err(Reason::NotAdmin));
        }
        if self
            .reauthenticate(session_token, admin, password, ctx, now)
            .await?
        {
            Ok(Ok(()))
        } else {
            Ok(Err(Reason::AdminPasswordWrong))
        }
    }

    /// Adds an account to the administrator's practice and emails it an
    /// invitation to set a password (and enroll, where 2FA is required).
    /// `Err` carries the message to show; nothing is created then.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_staff(
        &self,
        session_token: &str,
        admin: &User,
        admin_password: &str,
        new: &AddStaff<'_>,
        base_url: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<User, Reason>, DomainError> {
        let username = match crate::user::new_username(new.username) {
            Ok(name) => name,
            Err(reason) => return Ok(Err(reason)),
        };
        let email = new.email.trim();
        if !crate::api::valid_email(email) {
            return Ok(Err(Reason::EmailInvalid));
        }
        let Some(role) = Role::parse(new.role) else {
            return Ok(Err(Reason::RoleInvalid));
        };
        let display_name = new.display_name.trim();
        if display_name.chars().count() > MAX_DISPLAY_NAME
            || display_name.chars().any(char::is_control)
        {
            return Ok(Err(Reason::DisplayNameInvalid {
                max: MAX_DISPLAY_NAME,
            }));
        }
        if let Err(message) = self
            .confirm_admin(session_token, admin, admin_password, ctx, now)
            .await?
        {
            return Ok(Err(message));
        }
        let created = self
            .store
            .create_user(
                &NewUser {
                    practice_id: admin.practice_id,
                    username: username.clone(),
                    email: email.to_owned(),
                    phone: None,
                    role,
                    password_hash: None,
                    display_name: display_name.to_owned(),
                },
                now,
            )
            .await;
        let id = match created {
            Ok(id) => id,
            Err(StoreError::Conflict(_)) => {
                return Ok(Err(Reason::UsernameTaken { username }));
            }
            Err(other) => return Err(other.into()),
        };
        let user = self
            .store
            .user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::Unavailable("the new user vanished".into()))?;
        self.send_invitation(admin, &user, base_url, ctx, now, "invited")
            .await?;
        Ok(Ok(user))
    }

    /// Commits the invitation email with a fresh single-use link, audited.
    async fn send_invitation(
        &self,
        admin: &User,
        user: &User,
        base_url: &str,
        ctx: &RequestContext,
        now: u64,
        how: &str,
    ) -> Result<(), DomainError> {
        let value = token::generate()?;
        let link = format!("{}/invite/{value}", base_url.trim_end_matches('/'));
        let days = INVITATION_SECONDS / 86_400;
        // The new person chose nothing yet: the practice's default, else
        // the language of the administrator who invites them.
        let practice = self.store.practice_locale(user.practice_id).await?;
        let lang = user
            .language
            .or(practice.language)
            .or(admin.language)
            .unwrap_or_default();
        let args = |admin: &str, site: &str, name: &str| {
            [
                ("admin", i18n::Arg::from(admin)),
                ("site", i18n::Arg::from(site)),
                ("name", i18n::Arg::from(name)),
                ("days", i18n::Arg::from(days)),
            ]
        };
        let plain = args(&admin.username, &self.site_name, &user.username);
        let text = format!(
            "{}\n\n{}\n{link}\n\n{}\n",
            lang.t_with("invite-email-invited", &plain),
            lang.t_with("invite-email-open", &plain),
            lang.t("invite-email-not-you"),
        );
        // Every argument escaped before it enters the HTML part.
        let escaped = args(
            &crate::mail::escape_html(&admin.username),
            &crate::mail::escape_html(&self.site_name),
            &format!(
                "<strong>{}</strong>",
                crate::mail::escape_html(&user.username)
            ),
        );
        let html = format!(
            "<p>{}</p><p><a href=\"{}\">{}</a> {}</p><p>{}</p>",
            lang.t_with("invite-email-invited-html", &escaped),
            crate::mail::escape_html(&link),
            lang.t("invite-email-choose"),
            lang.t_with("invite-email-once", &escaped),
            lang.t("invite-email-not-you-html"),
        );
        let email = Email {
            to: user.email.clone(),
            subject: lang.t_with("invite-email-subject", &plain),
            text,
            html,
        };
        self.email_link(
            user,
            &token::derive(INVITE, &value),
            now + INVITATION_SECONDS,
            "invitation",
            &email,
            now,
        )
        .await?;
        self.audit_admin_action(admin, user, AuditKind::UserInvited, how, ctx, now)
            .await
    }

    async fn audit_admin_action(
        &self,
        admin: &User,
        user: &User,
        kind: AuditKind,
        what: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        let detail = format!("{what} by administrator {}", admin.username);
        self.audit_success(user, kind, ctx, &detail, now).await
    }

    /// Runs one action on `target` (already checked to be in the
    /// administrator's practice). `Ok(Ok(()))`: done (the page says so in
    /// the reader's words); `Ok(Err(message))` says why nothing was.
    #[allow(clippy::too_many_arguments)]
    pub async fn staff_action(
        &self,
        session_token: &str,
        admin: &User,
        admin_password: &str,
        target: &User,
        action: StaffAction,
        base_url: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<(), Reason>, DomainError> {
        if let Some(refusal) = staff_action_refused(admin, target, action) {
            return Ok(Err(refusal));
        }
        if let Err(message) = self
            .confirm_admin(session_token, admin, admin_password, ctx, now)
            .await?
        {
            return Ok(Err(message));
        }
        self.apply_staff_action(admin, target, action, base_url, ctx, now)
            .await?;
        Ok(Ok(()))
    }

    /// Does `action` to `target` (allowed, and the administrator's password
    /// confirmed).
    async fn apply_staff_action(
        &self,
        admin: &User,
        target: &User,
        action: StaffAction,
        base_url: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        let (kind, what) = match action {
            StaffAction::Require2fa(required) => {
                self.store.set_user_require_2fa(target.id, required).await?;
                let what = if required {
                    "2FA required"
                } else {
                    "2FA no longer required"
                };
                (AuditKind::Require2fa, what)
            }
            StaffAction::Reset2fa => {
                self.store.reset_second_factors(target.id).await?;
                let what = "factors, recovery codes, devices and sessions removed";
                (AuditKind::Reset2fa, what)
            }
            StaffAction::Unlock => {
                self.clear_user_locks(target.id).await?;
                (AuditKind::Unlock, "unlocked")
            }
            StaffAction::Disable => {
                self.store.set_user_disabled(target.id, true).await?;
                (AuditKind::UserDisabled, "disabled; sessions ended")
            }
            StaffAction::Enable => {
                self.store.set_user_disabled(target.id, false).await?;
                (AuditKind::UserEnabled, "enabled")
            }
            StaffAction::ResendInvitation => {
                let base = base_url.to_owned();
                return self
                    .send_invitation(admin, target, &base, ctx, now, "invitation sent again")
                    .await;
            }
        };
        self.audit_admin_action(admin, target, kind, what, ctx, now)
            .await
    }

    /// The time zone of `practice`'s pages.
    pub async fn practice_zone(
        &self,
        practice: PracticeId,
    ) -> Result<crate::time::Zone, DomainError> {
        Ok(self.store.practice_locale(practice).await?.zone())
    }

    /// The practice's time zone (empty: the server's) and default
    /// language, as set.
    pub async fn practice_locale(
        &self,
        practice: PracticeId,
    ) -> Result<PracticeLocale, DomainError> {
        Ok(self.store.practice_locale(practice).await?)
    }

    /// Keeps the language `user` chose (`None`: forget the choice).
    pub async fn set_user_language(
        &self,
        user: &User,
        language: Option<i18n::Lang>,
    ) -> Result<(), DomainError> {
        if user.language != language {
            self.store.set_user_language(user.id, language).await?;
        }
        Ok(())
    }

    /// Every value of `new` and `locale` a practice may not have, in the
    /// policy form's order: the numbers out of range (the password length
    /// against the server's floor), then a time zone no one knows. The form
    /// marks them all; saving refuses with the first.
    pub fn practice_settings_problems(
        &self,
        new: &PracticePolicy,
        locale: &PracticeLocale,
    ) -> Vec<Reason> {
        let mut found = new.problems(self.policy.password_min_length);
        if let Err(reason) = crate::time::Zone::named(&locale.time_zone) {
            found.push(reason);
        }
        found
    }

    /// Replaces the practice policy, its time zone (an IANA name, or empty
    /// for the server's) and default language. `Err` carries the message
    /// to show.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_practice_policy(
        &self,
        session_token: &str,
        admin: &User,
        admin_password: &str,
        new: &PracticePolicy,
        locale: &PracticeLocale,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<(), Reason>, DomainError> {
        if let Some(reason) = self
            .practice_settings_problems(new, locale)
            .into_iter()
            .next()
        {
            return Ok(Err(reason));
        }
        let time_zone = locale.time_zone.trim();
        // Turned on where no passkey can be registered, it would lock every
        // administrator out.
        if new.phishing_resistant_admins && !self.passkeys_on() {
            return Ok(Err(Reason::PasskeysOffForAdmins));
        }
        if let Err(message) = self
            .confirm_admin(session_token, admin, admin_password, ctx, now)
            .await?
        {
            return Ok(Err(message));
        }
        self.store
            .set_practice_policy(admin.practice_id, new)
            .await?;
        let locale = PracticeLocale {
            time_zone: time_zone.to_owned(),
            language: locale.language,
        };
        self.store
            .set_practice_locale(admin.practice_id, &locale)
            .await?;
        let detail = format!(
            "require 2FA {}, SMS {}, remember {} days, idle timeout {} min, password min {}, passkey sign-in {}, passkey-only administrators {}, time zone {}, language {}",
            if new.require_2fa { "on" } else { "off" },
            if new.allow_sms {
                "allowed"
            } else {
                "forbidden"
            },
            new.remember_days,
            new.idle_timeout_minutes,
            new.password_min_length,
            if new.allow_passkey_sign_in {
                "on"
            } else {
                "off"
            },
            if new.phishing_resistant_admins {
                "on"
            } else {
                "off"
            },
            if time_zone.is_empty() {
                "the server's"
            } else {
                time_zone
            },
            locale.language.map_or("none", i18n::Lang::tag),
        );
        self.audit_admin_action(admin, admin, AuditKind::PolicyChanged, &detail, ctx, now)
            .await?;
        Ok(Ok(()))
    }

    /// Up to `limit` events under `filter`: newest first with ids below
    /// `from_id`, or oldest first with ids above it (see
    /// [`crate::ports::AuditTrail::audit_search`]).
    pub async fn audit_search(
        &self,
        filter: &AuditFilter,
        from_id: i64,
        newest_first: bool,
        limit: u32,
    ) -> Result<Vec<(i64, AuditEvent)>, DomainError> {
        Ok(self
            .store
            .audit_search(filter, from_id, newest_first, limit)
            .await?)
    }

    async fn invited_user(&self, link_token: &str, now: u64) -> Result<Option<User>, DomainError> {
        let Some((user_id, expires)) = self
            .store
            .password_reset(&token::derive(INVITE, link_token))
            .await?
        else {
            return Ok(None);
        };
        Ok(self
            .store
            .user_by_id(user_id)
            .await?
            .filter(|u| expires > now && u.password_hash.is_none() && !u.disabled))
    }

    /// The invited account, while its link is usable (for showing the form).
    pub async fn invitation(
        &self,
        link_token: &str,
        now: u64,
    ) -> Result<Option<User>, DomainError> {
        self.invited_user(link_token, now).await
    }

    /// Sets the first password through an invitation link and logs in
    /// (straight into enrollment where 2FA is required).
    pub async fn accept_invitation(
        &self,
        link_token: &str,
        new: &str,
        confirm: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<InviteOutcome, DomainError> {
        let Some(user) = self.invited_user(link_token, now).await? else {
            return Ok(InviteOutcome::InvalidLink);
        };
        if new != confirm {
            return Ok(InviteOutcome::Rejected(Reason::PasswordsDiffer));
        }
        let policy = self.policy_for(&user).await?;
        if let Err(message) =
            crate::password::check_new_for(new, &user.username, policy.password_min_length)
        {
            return Ok(InviteOutcome::Rejected(message));
        }
        // Hashed first (the slow part); then the link is used up, the
        // password set and the acceptance audited in one transaction.
        let hash = self.hasher.hash(new.to_owned()).await?;
        let token_hash = token::derive(INVITE, link_token);
        let committed = self
            .commit_audited(
                &[
                    Write::UseLink {
                        token_hash: &token_hash,
                        now,
                    },
                    Write::PasswordHash {
                        user: user.id,
                        hash: &hash,
                    },
                ],
                &[success_event(
                    &user,
                    AuditKind::InvitationAccepted,
                    ctx,
                    "password set",
                    now,
                )],
            )
            .await?;
        if !committed {
            return Ok(InviteOutcome::InvalidLink);
        }
        let outcome = self
            .submit_password(&user.username, new, None, ctx, now)
            .await?;
        Ok(InviteOutcome::Done(outcome))
    }
}

/// Why `admin` may not do `action` to `target`, if they may not: another
/// practice's account is no account at all, an administrator cannot lock
/// themselves out (disable, or drop their own 2FA requirement), and an
/// account with a password has no invitation to resend.
fn staff_action_refused(admin: &User, target: &User, action: StaffAction) -> Option<Reason> {
    if target.practice_id != admin.practice_id {
        return Some(Reason::NoSuchAccount);
    }
    let own = target.id == admin.id;
    if own
        && matches!(
            action,
            StaffAction::Disable | StaffAction::Require2fa(false)
        )
    {
        return Some(Reason::NotOnYourself);
    }
    if action == StaffAction::ResendInvitation && target.password_hash.is_some() {
        return Some(Reason::AlreadyHasPassword {
            username: target.username.clone(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, practice: i64, password: bool) -> User {
        User {
            id: UserId(id),
            practice_id: PracticeId(practice),
            username: format!("user{id}"),
            email: format!("user{id}@clinic.example"),
            phone: None,
            role: Role::Staff,
            password_hash: password.then(|| "$argon2id$…".to_owned()),
            disabled: false,
            require_2fa: false,
            language: None,
        }
    }

    #[test]
    fn an_administrator_cannot_reach_another_practice_or_lock_themselves_out() {
        let admin = user(1, 1, true);
        let staff = user(2, 1, true);
        let elsewhere = user(3, 2, true);
        let invited = user(4, 1, false);
        let every = [
            StaffAction::Require2fa(true),
            StaffAction::Require2fa(false),
            StaffAction::Reset2fa,
            StaffAction::Unlock,
            StaffAction::Disable,
            StaffAction::Enable,
        ];
        for action in every {
            assert_eq!(
                staff_action_refused(&admin, &staff, action),
                None,
                "{action:?}"
            );
            let refused = staff_action_refused(&admin, &elsewhere, action);
            assert_eq!(refused, Some(Reason::NoSuchAccount));
        }
        for action in [StaffAction::Disable, StaffAction::Require2fa(false)] {
            assert!(staff_action_refused(&admin, &admin, action).is_some());
        }
        for action in [
            StaffAction::Require2fa(true),
            StaffAction::Reset2fa,
            StaffAction::Unlock,
        ] {
            assert_eq!(staff_action_refused(&admin, &admin, action), None);
        }
        assert!(staff_action_refused(&admin, &staff, StaffAction::ResendInvitation).is_some());
        assert_eq!(
            staff_action_refused(&admin, &invited, StaffAction::ResendInvitation),
            None
        );
    }
}
