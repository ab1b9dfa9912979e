//! Audit events: who, what, when, from where, and the outcome of every
//! authentication step.

use crate::UserId;

/// Where a request came from, captured once at the edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// Client IP address as text.
    pub ip: String,
    /// The User-Agent header, truncated.
    pub user_agent: String,
}

impl RequestContext {
    /// Actions taken with the admin CLI on the server itself.
    pub fn admin_cli() -> Self {
        RequestContext {
            ip: "local".into(),
            user_agent: "twofactor CLI".into(),
        }
    }

    /// What the server does by its own rules (a session timing out).
    pub fn server() -> Self {
        RequestContext {
            ip: "local".into(),
            user_agent: "twofactor".into(),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A username/password submission.
    PasswordLogin,
    /// A TOTP token submission.
    TotpToken,
    /// The second factor (or password attempts) was locked.
    Lock,
    /// An admin cleared a lock.
    Unlock,
    /// Logout.
    Logout,
    /// 2FA removed by an admin.
    Reset2fa,
    /// An account was created.
    UserCreated,
    /// An authenticator app was enrolled.
    TotpEnrolled,
    /// A user without a factor was stopped because 2FA is required.
    EnrollmentRequired,
    /// A browser was remembered ("Save token for 30 days").
    DeviceRemembered,
    /// A remembered browser skipped the second factor.
    RememberedDeviceUsed,
    /// A rotated remember cookie came back: the device was revoked.
    RememberedDeviceTheft,
    /// The password was changed or reset.
    PasswordChanged,
    /// An SMS code was sent (or refused by a limit).
    SmsSent,
    /// An SMS code completed the second factor.
    SmsToken,
    /// A recovery code was tried (outcome says how it went).
    RecoveryCodeUsed,
    /// A new set of recovery codes replaced the old one.
    RecoveryCodesCreated,
    /// A remembered device was revoked.
    DeviceRevoked,
    /// The password was checked again for a sensitive change.
    Reauthenticated,
    /// The user turned two-factor login off.
    TwoFactorOff,
    /// A new cell phone was confirmed (or a confirmation failed).
    PhoneChanged,
    /// A password reset link was asked for.
    PasswordResetRequested,
    /// A user was deleted (through the API).
    UserDeleted,
    /// Old events were pruned under the retention setting.
    AuditPruned,
    /// An administrator added a user and emailed an invitation.
    UserInvited,
    /// An invited user set a password through the invitation link.
    InvitationAccepted,
    /// An administrator required (or stopped requiring) 2FA for a user.
    Require2fa,
    /// An administrator disabled an account.
    UserDisabled,
    /// An administrator enabled an account again.
    UserEnabled,
    /// An administrator changed the practice policy.
    PolicyChanged,
    /// An emergency login link was issued from the command line.
    EmergencyAccessIssued,
    /// An emergency login link was used (second factor skipped).
    EmergencyAccess,
    /// An API key was created (its scopes in the detail).
    ApiKeyCreated,
    /// A session ended by the idle or the absolute timeout.
    SessionExpired,
    /// A passkey or security key was registered.
    PasskeyAdded,
    /// A passkey or security key was removed.
    PasskeyRemoved,
    /// A passkey or security key answered the second factor.
    Passkey,
    /// A passkey signed in without the password (both factors at once).
    PasskeySignIn,
    /// A passkey's signature counter went backwards: it may be a copy.
    PasskeyPossiblyCloned,
    /// A user signed in to an application (OpenID Connect); the detail
    /// names the client.
    OidcSignIn,
    /// An application refreshed its tokens.
    OidcRefresh,
    /// A code or refresh token was used twice: the sign-in was revoked.
    OidcTokenReuse,
    /// An application logged the user out.
    OidcLogout,
    /// An application was registered.
    OidcClientAdded,
    /// An application was removed.
    OidcClientRemoved,
    /// New signing keys took over.
    OidcKeyRotated,
}

impl AuditKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::PasswordLogin => "password_login",
            AuditKind::TotpToken => "totp_token",
            AuditKind::Lock => "lock",
            AuditKind::Unlock => "unlock",
            AuditKind::Logout => "logout",
            AuditKind::Reset2fa => "reset_2fa",
            AuditKind::UserCreated => "user_created",
            AuditKind::TotpEnrolled => "totp_enrolled",
            AuditKind::EnrollmentRequired => "enrollment_required",
            AuditKind::DeviceRemembered => "device_remembered",
            AuditKind::RememberedDeviceUsed => "remembered_device_used",
            AuditKind::RememberedDeviceTheft => "remembered_device_theft",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::SmsSent => "sms_sent",
            AuditKind::SmsToken => "sms_token",
            AuditKind::RecoveryCodeUsed => "recovery_code",
            AuditKind::RecoveryCodesCreated => "recovery_codes_created",
            AuditKind::DeviceRevoked => "device_revoked",
            AuditKind::Reauthenticated => "reauthenticated",
            AuditKind::TwoFactorOff => "two_factor_off",
            AuditKind::PhoneChanged => "phone_changed",
            AuditKind::PasswordResetRequested => "password_reset_requested",
            AuditKind::UserDeleted => "user_deleted",
            AuditKind::AuditPruned => "audit_pruned",
            AuditKind::UserInvited => "user_invited",
            AuditKind::InvitationAccepted => "invitation_accepted",
            AuditKind::Require2fa => "require_2fa",
            AuditKind::UserDisabled => "user_disabled",
            AuditKind::UserEnabled => "user_enabled",
            AuditKind::PolicyChanged => "policy_changed",
            AuditKind::EmergencyAccessIssued => "emergency_access_issued",
            AuditKind::EmergencyAccess => "emergency_access",
            AuditKind::ApiKeyCreated => "api_key_created",
            AuditKind::SessionExpired => "session_expired",
            AuditKind::PasskeyAdded => "passkey_added",
            AuditKind::PasskeyRemoved => "passkey_removed",
            AuditKind::Passkey => "passkey",
            AuditKind::PasskeySignIn => "passkey_sign_in",
            AuditKind::PasskeyPossiblyCloned => "passkey_possibly_cloned",
            AuditKind::OidcSignIn => "oidc_sign_in",
            AuditKind::OidcRefresh => "oidc_refresh",
            AuditKind::OidcTokenReuse => "oidc_token_reuse",
            AuditKind::OidcLogout => "oidc_logout",
            AuditKind::OidcClientAdded => "oidc_client_added",
            AuditKind::OidcClientRemoved => "oidc_client_removed",
            AuditKind::OidcKeyRotated => "oidc_key_rotated",
        }
    }

    /// Every kind, for the audit page's filter.
    pub const ALL: [AuditKind; 46] = [
        AuditKind::PasswordLogin,
        AuditKind::TotpToken,
        AuditKind::Lock,
        AuditKind::Unlock,
        AuditKind::Logout,
        AuditKind::Reset2fa,
        AuditKind::UserCreated,
        AuditKind::TotpEnrolled,
        AuditKind::EnrollmentRequired,
        AuditKind::DeviceRemembered,
        AuditKind::RememberedDeviceUsed,
        AuditKind::RememberedDeviceTheft,
        AuditKind::PasswordChanged,
        AuditKind::SmsSent,
        AuditKind::SmsToken,
        AuditKind::RecoveryCodeUsed,
        AuditKind::RecoveryCodesCreated,
        AuditKind::DeviceRevoked,
        AuditKind::Reauthenticated,
        AuditKind::TwoFactorOff,
        AuditKind::PhoneChanged,
        AuditKind::PasswordResetRequested,
        AuditKind::UserDeleted,
        AuditKind::AuditPruned,
        AuditKind::UserInvited,
        AuditKind::InvitationAccepted,
        AuditKind::Require2fa,
        AuditKind::UserDisabled,
        AuditKind::UserEnabled,
        AuditKind::PolicyChanged,
        AuditKind::EmergencyAccessIssued,
        AuditKind::EmergencyAccess,
        AuditKind::ApiKeyCreated,
        AuditKind::SessionExpired,
        AuditKind::PasskeyAdded,
        AuditKind::PasskeyRemoved,
        AuditKind::Passkey,
        AuditKind::PasskeySignIn,
        AuditKind::PasskeyPossiblyCloned,
        AuditKind::OidcSignIn,
        AuditKind::OidcRefresh,
        AuditKind::OidcTokenReuse,
        AuditKind::OidcLogout,
        AuditKind::OidcClientAdded,
        AuditKind::OidcClientRemoved,
        AuditKind::OidcKeyRotated,
    ];
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted.
    Success,
    /// Refused.
    Failure,
    /// Refused without checking, because of a lock or throttle.
    Blocked,
}

impl Outcome {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Blocked => "blocked",
        }
    }
}

/// One row of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Unix seconds.
    pub at: u64,
    /// The user, when known.
    pub user_id: Option<UserId>,
    /// The username as typed (truncated), for attempts on unknown names.
    pub username: String,
    /// Event kind, as stored.
    pub kind: String,
    /// Outcome, as stored.
    pub outcome: String,
    /// Client IP.
    pub ip: String,
    /// Client user agent.
    pub user_agent: String,
    /// A short explanation; never a secret.
    pub detail: String,
}

impl AuditEvent {
    /// An event at `at` from `ctx`.
    pub fn new(
        at: u64,
        kind: AuditKind,
        outcome: Outcome,
        user_id: Option<UserId>,
        username: &str,
        ctx: &RequestContext,
        detail: &str,
    ) -> Self {
        AuditEvent {
            at,
            user_id,
            username: username.chars().take(64).collect(),
            kind: kind.as_str().to_owned(),
            outcome: outcome.as_str().to_owned(),
            ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.chars().take(256).collect(),
            detail: detail.to_owned(),
        }
    }
}
