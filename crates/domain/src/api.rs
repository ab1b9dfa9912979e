//! The rules behind the verification API (`/api/v1`): keys that see one
//! practice, users created by another application, and the second-factor
//! checks with the same replay, lockout and audit rules as the login pages.

use otp::OtpAuthUri;

use crate::AuditEvent;

use crate::enrollment::Offered;
use crate::login::{Claim, SmsOutcome, TokenCheck, TokenOutcome, key_2fa};
use crate::{
    AuditKind, DomainError, LoginService, NewUser, Outcome, PracticeId, RequestContext, Role,
    StoreError, User, UserId, token,
};

/// Every key starts with this, so a leaked key is recognisable (secret
/// scanners, logs).
pub const API_KEY_PREFIX: &str = "tfk_";
/// How many characters of a key are kept in clear to tell keys apart.
const SHOWN_PREFIX: usize = 12;
/// The longest `external_id` accepted.
pub const EXTERNAL_ID_MAX: usize = 128;
/// The longest token or code accepted.
pub const TOKEN_MAX: usize = 64;
/// The longest email address accepted (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;

/// What a key may do. A key that can manage people who log in on the
/// pages could give itself their second factor and become them, so that
/// takes [`Scopes::manage_all`], granted explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    /// Check tokens and send SMS codes.
    pub verify: bool,
    /// Create, enroll, reset and delete users created through the API.
    pub manage: bool,
    /// Manage any user of the practice (implies `manage`).
    pub manage_all: bool,
}

impl Scopes {
    /// What `api-key create` gives without `--scope`: verify and manage.
    pub const DEFAULT: Scopes = Scopes {
        verify: true,
        manage: true,
        manage_all: false,
    };

    /// Parses a list of scope names (`verify`, `manage`, `manage-all`),
    /// separated by spaces or commas; an unknown or empty list is an error
    /// that names the accepted values.
    pub fn parse(text: &str) -> Result<Scopes, String> {
        let mut scopes = Scopes::default();
        let mut any = false;
        for name in text.split([' ', ',']).filter(|n| !n.is_empty()) {
            any = true;
            match name {
                "verify" => scopes.verify = true,
                "manage" => scopes.manage = true,
                "manage-all" => {
                    scopes.manage = true;
                    scopes.manage_all = true;
                }
                other => {
                    let shown: String = other.chars().take(32).collect();
                    return Err(format!(
                        "unknown scope {shown:?}: use verify, manage or manage-all"
                    ));
                }
            }
        }
        if !any {
            return Err("no scope given: use verify, manage or manage-all".into());
        }
        Ok(scopes)
    }

    /// The stored form: the names, space-separated.
    pub fn names(&self) -> String {
        let mut names = Vec::new();
        if self.verify {
            names.push("verify");
        }
        if self.manage_all {
            names.push("manage-all");
        } else if self.manage {
            names.push("manage");
        }
        names.join(" ")
    }
}

/// Why a key may not act on a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeRefusal {
    /// The key lacks this scope.
    Missing(&'static str),
    /// The user logs in on the pages: only a `manage-all` key manages them.
    NotAnApiUser,
}

impl User {
    /// Created through the API: no password, no administrator role, the
    /// `api.` name the API gives (the pages refuse such names). Nobody who
    /// logs in on the pages is one.
    pub fn is_api_user(&self) -> bool {
        self.password_hash.is_none()
            && self.role == Role::Staff
            && self.username.starts_with(API_USERNAME_PREFIX)
    }
}

/// What every username the API makes starts with.
pub const API_USERNAME_PREFIX: &str = "api.";

/// An API key as stored (its hash stays in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Row id.
    pub id: i64,
    /// The only practice whose users it sees.
    pub practice_id: PracticeId,
    /// The operator's name for it.
    pub name: String,
    /// `tfk_` and the first characters, to recognise it.
    pub prefix: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds, once revoked.
    pub revoked_at: Option<u64>,
    /// What it may do.
    pub scopes: Scopes,
}

impl ApiKey {
    /// Whether this key may verify tokens and send SMS codes.
    pub fn may_verify(&self) -> Result<(), ScopeRefusal> {
        if self.scopes.verify {
            Ok(())
        } else {
            Err(ScopeRefusal::Missing("verify"))
        }
    }

    /// Whether this key may manage `user` (create, enroll, reset, delete,
    /// list or revoke devices).
    pub fn may_manage(&self, user: &User) -> Result<(), ScopeRefusal> {
        if !self.scopes.manage {
            Err(ScopeRefusal::Missing("manage"))
        } else if self.scopes.manage_all || user.is_api_user() {
            Ok(())
        } else {
            Err(ScopeRefusal::NotAnApiUser)
        }
    }

    /// Whether this key may create users (and list or revoke remembered
    /// devices, of anyone in the practice).
    pub fn may_create(&self) -> Result<(), ScopeRefusal> {
        if self.scopes.manage {
            Ok(())
        } else {
            Err(ScopeRefusal::Missing("manage"))
        }
    }
}

/// Why an API request was refused (the web layer maps each to a problem
/// type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRefusal {
    /// A field is missing or malformed: (field, message).
    Invalid(&'static str, String),
    /// The value is taken (an `external_id` used by another user).
    Conflict(String),
    /// The user has no second factor to check or send.
    NoFactor(String),
}

/// The answer to a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiVerify {
    /// It matched this factor (`totp`, `sms` or `recovery_code`) and is now used.
    Valid(&'static str),
    /// Wrong, malformed or already used.
    Invalid,
    /// Too many failures: locked until this Unix time.
    Locked(u64),
}

impl LoginService {
    /// Creates a key for `practice`; returns the key (shown once) and its row.
    /// Audited, with its scopes (an administrator's CLI creates keys).
    pub async fn create_api_key(
        &self,
        practice: PracticeId,
        name: &str,
        scopes: Scopes,
        now: u64,
    ) -> Result<(String, ApiKey), DomainError> {
        let key = format!("{API_KEY_PREFIX}{}", token::generate()?);
        let prefix: String = key.chars().take(SHOWN_PREFIX).collect();
        let name: String = name.trim().chars().take(100).collect();
        let id = self
            .store
            .create_api_key(
                practice,
                &name,
                &prefix,
                &token::digest(&key),
                &scopes.names(),
                now,
            )
            .await?;
        let detail = format!(
            "API key {prefix}… \"{name}\" with scopes {}",
            scopes.names()
        );
        self.audit(
            now,
            AuditKind::ApiKeyCreated,
            Outcome::Success,
            None,
            "",
            &RequestContext::admin_cli(),
            &detail,
        )
        .await?;
        Ok((
            key,
            ApiKey {
                id,
                practice_id: practice,
                name,
                prefix,
                created_at: now,
                revoked_at: None,
                scopes,
            },
        ))
    }

    /// The live key `presented` is, if any. Unknown, malformed and revoked
    /// keys all give `None`.
    ///
    /// A live key is remembered for the rest of the second it was read in
    /// (the verification hot path saves a statement); a revoked key stops
    /// working within a second, on every instance.
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
        now: u64,
    ) -> Result<Option<ApiKey>, DomainError> {
        if !presented.starts_with(API_KEY_PREFIX) || presented.len() > 200 {
            return Ok(None);
        }
        let hash = token::digest(presented);
        if let Ok(cache) = self.api_keys.lock() {
            if let Some((key, read_at)) = cache.get(&hash) {
                if *read_at == now {
                    return Ok(Some(key.clone()));
                }
            }
        }
        let key = self
            .store
            .api_key_by_hash(&hash)
            .await?
            .filter(|key| key.revoked_at.is_none());
        if let (Some(key), Ok(mut cache)) = (&key, self.api_keys.lock()) {
            if cache.len() >= KEY_CACHE_SIZE {
                cache.retain(|_, (_, read_at)| *read_at == now);
            }
            cache.insert(hash, (key.clone(), now));
        }
        Ok(key)
    }

    /// Creates a user for another application: no password (it cannot log
    /// in to these pages), a phone that is trusted as given, the caller's
    /// own id.
    pub async fn api_create_user(
        &self,
        key: &ApiKey,
        email: &str,
        phone: Option<&str>,
        external_id: Option<&str>,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<User, ApiRefusal>, DomainError> {
        // Patterns are checked as JSON Schema tools check them (where `$`
        // also matches before one final newline): one trailing newline is
        // forgiven and dropped, nothing else is trimmed.
        let email = email.strip_suffix('\n').unwrap_or(email);
        if !valid_email(email) {
            return Ok(Err(ApiRefusal::Invalid(
                "email",
                "must be an email address like name@clinic.example".into(),
            )));
        }
        let phone = phone.map(|p| p.strip_suffix('\n').unwrap_or(p));
        if phone.is_some_and(|p| !valid_e164(p)) {
            return Ok(Err(ApiRefusal::Invalid(
                "phone",
                "must be in E.164 form, like +12015550123".into(),
            )));
        }
        let phone = phone.map(str::to_owned);
        let external_id = external_id.map(|id| id.strip_suffix('\n').unwrap_or(id));
        if external_id.is_some_and(|id| !valid_external_id(id)) {
            return Ok(Err(ApiRefusal::Invalid(
                "external_id",
                format!("must be 1 to {EXTERNAL_ID_MAX} printable ASCII characters"),
            )));
        }
        let suffix: String = token::generate()?
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect::<String>()
            .to_ascii_lowercase();
        let new = NewUser {
            practice_id: key.practice_id,
            username: format!("{API_USERNAME_PREFIX}{suffix}"),
            email: email.to_owned(),
            phone,
            role: Role::Staff,
            password_hash: None,
            display_name: String::new(),
        };
        let id = match self.store.create_api_user(&new, external_id, now).await {
            Ok(id) => id,
            Err(StoreError::Conflict(_)) => {
                return Ok(Err(ApiRefusal::Conflict(
                    "a user with this external_id exists in this practice".into(),
                )));
            }
            Err(other) => return Err(other.into()),
        };
        let user = self
            .store
            .user_by_id(id)
            .await?
            .ok_or_else(|| DomainError::Internal("new user not found".into()))?;
        self.audit_success(
            &user,
            AuditKind::UserCreated,
            ctx,
            &format!("by API key {}", key.prefix),
            now,
        )
        .await?;
        Ok(Ok(user))
    }

    /// The user `id` if the key's practice holds it (another practice's
    /// user is indistinguishable from an unknown one).
    pub async fn api_user(&self, key: &ApiKey, id: i64) -> Result<Option<User>, DomainError> {
        Ok(self
            .store
            .user_by_id(UserId(id))
            .await?
            .filter(|u| u.practice_id == key.practice_id))
    }

    /// The caller's own id for `user`.
    pub async fn external_id(&self, user: &User) -> Result<Option<String>, DomainError> {
        Ok(self.store.external_id(user.id).await?)
    }

    /// Deletes a user and everything of theirs (the audit trail keeps the
    /// events).
    pub async fn api_delete_user(
        &self,
        key: &ApiKey,
        user: &User,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        self.audit_success(
            user,
            AuditKind::UserDeleted,
            ctx,
            &format!("by API key {}", key.prefix),
            now,
        )
        .await?;
        Ok(self.store.delete_user(user.id).await?)
    }

    /// Removes passkey `id` of `user` at an API key's request (a lost key
    /// reported to the application): audited under the key, and the owner
    /// is told by email. `false`: the user has no such passkey.
    pub async fn api_remove_passkey(
        &self,
        key: &ApiKey,
        user: &User,
        id: i64,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<bool, DomainError> {
        let stored = self.store.passkeys(user.id).await?;
        let Some(removed) = stored.iter().find(|p| p.id == id) else {
            return Ok(false);
        };
        let detail = format!("{} by API key {}", removed.name, key.prefix);
        self.drop_passkey(user, removed, &detail, ctx, now).await
    }

    /// Offers a new authenticator secret (active once confirmed).
    pub async fn api_begin_totp(&self, user: &User, now: u64) -> Result<OtpAuthUri, DomainError> {
        self.offer_secret(user, now).await
    }

    /// Confirms the offered secret with its current code: `Some(codes)` when
    /// linked (the first link returns recovery codes), `None` for a wrong
    /// code; no offer (or an expired one) is refused.
    pub async fn api_confirm_totp(
        &self,
        user: &User,
        code: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<Option<Option<Vec<String>>>, ApiRefusal>, DomainError> {
        if code.chars().count() > TOKEN_MAX {
            return Ok(Err(ApiRefusal::Invalid(
                "code",
                format!("must be at most {TOKEN_MAX} characters"),
            )));
        }
        Ok(match self.link_offered(user, code, None, ctx, now).await? {
            Offered::Linked { recovery_codes } => Ok(Some(recovery_codes)),
            Offered::WrongCode => Ok(None),
            Offered::Expired => Err(ApiRefusal::NoFactor(
                "no enrollment is waiting (start one with POST /users/{id}/totp; offers last 10 minutes)"
                    .into(),
            )),
        })
    }

    /// Texts a code to the user's phone, within the same limits as the page.
    pub async fn api_send_sms(
        &self,
        user: &User,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<SmsOutcome, DomainError> {
        // The API has no page language: English, as its documentation.
        self.send_sms_code(user, i18n::Lang::En, ctx, now).await
    }

    /// Checks a token: the authenticator's code, the texted code, or a
    /// recovery code. A match is used up; failures count toward the same
    /// lock as the login page's; every check is audited.
    pub async fn api_verify(
        &self,
        key: &ApiKey,
        id: i64,
        typed: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Option<Result<ApiVerify, ApiRefusal>>, DomainError> {
        // One read for the user, the authenticator and the lock.
        let Some(state) = self
            .store
            .second_factor_state(UserId(id), &key_2fa(UserId(id)))
            .await?
            .filter(|s| s.user.practice_id == key.practice_id)
        else {
            return Ok(None);
        };
        let user = &state.user;
        if typed.chars().count() > TOKEN_MAX {
            return Ok(Some(Err(ApiRefusal::Invalid(
                "token",
                format!("must be at most {TOKEN_MAX} characters"),
            ))));
        }
        if let Some(TokenOutcome::Locked { until }) = self
            .refuse_locked(user, state.lock, AuditKind::TotpToken, ctx, now)
            .await?
        {
            return Ok(Some(Ok(ApiVerify::Locked(until))));
        }
        let (kind, factor, detail) = match self.api_check(&state, typed, ctx, now).await? {
            ApiCheck::Answered(answer) => return Ok(Some(answer)),
            ApiCheck::Checked {
                kind,
                factor,
                detail,
            } => (kind, factor, detail),
        };
        if let Some(factor) = factor {
            if state.has_failures {
                self.store.clear_failures(&key_2fa(user.id)).await?;
            }
            self.audit_success(user, kind, ctx, VIA_API, now).await?;
            return Ok(Some(Ok(ApiVerify::Valid(factor))));
        }
        Ok(Some(Ok(
            match self.fail(user, None, kind, &detail, ctx, now).await? {
                TokenOutcome::Locked { until } => ApiVerify::Locked(until),
                _ => ApiVerify::Invalid,
            },
        )))
    }

    /// The check of `typed` behind [`LoginService::api_verify`]: a
    /// recovery code, or the authenticator's or the texted code.
    async fn api_check(
        &self,
        state: &crate::SecondFactorState,
        typed: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<ApiCheck, DomainError> {
        let user = &state.user;
        let digits_only = typed
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .all(|c| c.is_ascii_digit());
        Ok(
            if !digits_only && crate::recovery::RecoveryCode::parse(typed).is_some() {
                if self.check_recovery_code(user, typed, now).await? {
                    ApiCheck::checked(
                        AuditKind::RecoveryCodeUsed,
                        Some("recovery_code"),
                        String::new(),
                    )
                } else {
                    ApiCheck::checked(
                        AuditKind::RecoveryCodeUsed,
                        None,
                        "wrong or used recovery code".to_owned(),
                    )
                }
            } else {
                let lock_key = key_2fa(user.id);
                let success = AuditEvent::new(
                    now,
                    AuditKind::TotpToken,
                    Outcome::Success,
                    Some(user.id),
                    &user.username,
                    ctx,
                    VIA_API,
                );
                let clear = state.has_failures.then_some(&lock_key);
                match self
                    .check_token_with(
                        user,
                        state.totp.clone(),
                        typed,
                        Claim::Recorded(&success, clear),
                        now,
                    )
                    .await?
                {
                    None => ApiCheck::Answered(Err(ApiRefusal::NoFactor(
                        "the user has no authenticator and no phone".into(),
                    ))),
                    // Audited and cleared with the claim already.
                    Some(TokenCheck::Totp) => ApiCheck::Answered(Ok(ApiVerify::Valid("totp"))),
                    Some(TokenCheck::TotpStep { .. }) => {
                        return Err(DomainError::Internal("an unclaimed step".into()));
                    }
                    Some(TokenCheck::Sms) => {
                        ApiCheck::checked(AuditKind::SmsToken, Some("sms"), String::new())
                    }
                    Some(TokenCheck::Wrong { detail, .. }) => {
                        ApiCheck::checked(AuditKind::TotpToken, None, detail)
                    }
                }
            },
        )
    }
}

/// What [`LoginService::api_check`] found.
enum ApiCheck {
    /// The answer, already audited.
    Answered(Result<ApiVerify, ApiRefusal>),
    /// What was checked, and the factor that matched (`None`: wrong), with
    /// the audit detail of a failure.
    Checked {
        kind: AuditKind,
        factor: Option<&'static str>,
        detail: String,
    },
}

impl ApiCheck {
    fn checked(kind: AuditKind, factor: Option<&'static str>, detail: String) -> Self {
        Self::Checked {
            kind,
            factor,
            detail,
        }
    }
}

/// The audit detail of a check made through the API.
const VIA_API: &str = "via API";

/// Live keys by SHA-256, with the second they were read.
pub type KeyCache = std::collections::HashMap<String, (ApiKey, u64)>;

/// Keys remembered at once (more are dropped unless read this second).
const KEY_CACHE_SIZE: usize = 1024;

/// Exactly the API's documented pattern,
/// `^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`, at most 254
/// characters: plain ASCII addresses, checked the same way the OpenAPI
/// document says, so what the contract accepts the code accepts.
pub fn valid_email(email: &str) -> bool {
    let local_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    let label_char = |c: char| c.is_ascii_alphanumeric() || c == '-';
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    email.len() <= EMAIL_MAX
        && (1..=64).contains(&local.len())
        && local.chars().all(local_char)
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(label_char))
}

/// Exactly the documented phone pattern, `^\+[1-9][0-9]{6,14}$`: E.164 as
/// the calling application gives it (it vouches for the number; the SMS
/// provider refuses numbers that do not exist).
pub fn valid_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Exactly the documented `external_id` pattern, `^[ -~]{1,128}$`:
/// printable ASCII.
pub fn valid_external_id(id: &str) -> bool {
    (1..=EXTERNAL_ID_MAX).contains(&id.len()) && id.bytes().all(|b| (b' '..=b'~').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_external_ids_follow_their_patterns() {
        for good in ["+12015550123", "+4930123456", "+1234567"] {
            assert!(valid_e164(good), "{good}");
        }
        for bad in [
            "",
            "12015550123",
            "+0123456789",
            "+123456",
            "+1234567890123456",
            "+1 201 555",
            "+1２3456789",
        ] {
            assert!(!valid_e164(bad), "{bad:?}");
        }
        assert!(valid_external_id("emr-42 / A~"));
        for bad in ["", "tab\there", "ünï", "nul\0"] {
            assert!(!valid_external_id(bad), "{bad:?}");
        }
        assert!(!valid_external_id(&"x".repeat(129)));
    }

    proptest::proptest! {
        // The documented patterns, as generators: everything they produce is
        // accepted, so the code accepts what the contract promises.
        #[test]
        fn pattern_emails_are_accepted(
            email in "[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,20}(\\.[A-Za-z0-9-]{1,20}){1,3}"
        ) {
            proptest::prop_assert!(valid_email(&email), "{}", email);
        }

        #[test]
        fn pattern_phones_and_ids_are_accepted(
            phone in "\\+[1-9][0-9]{6,14}",
            id in "[ -~]{1,128}",
        ) {
            proptest::prop_assert!(valid_e164(&phone));
            proptest::prop_assert!(valid_external_id(&id));
        }

        // Anything accepted has no character the patterns exclude.
        #[test]
        fn accepted_text_stays_inside_the_patterns(text in ".{0,80}") {
            if valid_email(&text) {
                proptest::prop_assert!(text.is_ascii() && !text.contains(char::is_whitespace));
            }
            if valid_e164(&text) {
                proptest::prop_assert!(text.starts_with('+') && text[1..].bytes().all(|b| b.is_ascii_digit()));
            }
            if valid_external_id(&text) {
                proptest::prop_assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)));
            }
        }
    }

    #[test]
    fn emails_follow_the_documented_pattern() {
        for good in [
            "a@b.co",
            "jane.doe+2fa@clinic.example",
            "x@sub.domain.example",
            "a%b@c-d.e",
        ] {
            assert!(valid_email(good), "{good}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a@.co", "a@b.", "a b@c.co", "a@b@c.co", "a\n@b.co",
            "<a@b.co>", "a,b@c.co", "ü@b.co", "a@b..co",
        ] {
            assert!(!valid_email(bad), "{bad:?}");
        }
        assert!(!valid_email(&format!("{}@b.co", "a".repeat(65))));
    }
}
