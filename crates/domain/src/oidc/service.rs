//! The OpenID Connect use cases on [`LoginService`]: clients, keys, the
//! authorization request, the token endpoint, userinfo and logout.

use std::collections::HashMap;

use crate::Reason;
use serde_json::{Value, json};

use super::keys::{self, SigningAlg, SigningKey};
use super::{
    ACCESS_TOKEN_SECONDS, AuthorizeParams, CODE_SECONDS, Checked, Claimed, Grant, MAX_SHORT_BYTES,
    NewClient, NextStep, OidcClient, Refusal, TokenKind, Wants, acr_of, at_hash,
    check_redirect_uri, check_request, next_step, pkce_holds, with_query,
};
use crate::{
    AuditKind, DomainError, LoginService, Outcome, PracticeId, RequestContext, Session, User, token,
};

/// How long a signing key read from the store is used before it is read
/// again (a key rotated by the CLI or another instance takes over then).
const KEY_CACHE_SECONDS: u64 = 60;
/// At most this many redirect URIs per client.
const MAX_REDIRECT_URIS: usize = 10;

/// The provider's own state: the issuer and the signing keys in use.
#[derive(Debug, Default)]
pub(crate) struct Provider {
    /// `public_url`: the `iss` of every token.
    pub(crate) issuer: String,
    keys: tokio::sync::Mutex<Option<KeyCache>>,
}

impl Provider {
    /// A provider whose tokens name `issuer`.
    pub(crate) fn new(issuer: &str) -> Self {
        Provider {
            issuer: issuer.trim_end_matches('/').to_owned(),
            keys: tokio::sync::Mutex::default(),
        }
    }
}

#[derive(Debug)]
struct KeyCache {
    read_at: u64,
    signers: HashMap<SigningAlg, SigningKey>,
}

/// A client just registered: its secret is shown once.
#[derive(Debug)]
pub struct IssuedClient {
    /// The client.
    pub client: OidcClient,
    /// The secret (confidential clients), never stored.
    pub secret: Option<String>,
}

/// What the browser is sent to after `/oidc/authorize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorized {
    /// Our own error page: nothing may go to the client.
    Page(Reason),
    /// To the client (a code, or an error).
    Redirect(String),
    /// Through our login first, then back.
    SignIn {
        /// Show the form even to a signed-in browser.
        fresh: bool,
        /// Sign-ins from this second on answer.
        since: u64,
    },
}

/// The form of `POST /oidc/token`.
#[derive(Default, serde::Deserialize)]
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    pub grant_type: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// The redirect URI the code went to.
    pub redirect_uri: Option<String>,
    /// PKCE.
    pub code_verifier: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// On refresh: at most the scopes granted.
    pub scope: Option<String>,
    /// `client_secret_post` and public clients.
    pub client_id: Option<String>,
    /// `client_secret_post`.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the code, the verifier, the tokens or the secret.
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The client's HTTP Basic credentials (`client_secret_basic`), decoded.
pub struct ClientAuth {
    /// The client id.
    pub id: String,
    /// The secret.
    pub secret: String,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The token endpoint's answer.
#[derive(Debug, serde::Serialize)]
pub struct TokenAnswer {
    /// Bearer token for userinfo.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The signed ID token.
    pub id_token: String,
    /// With `offline_access`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The scopes granted.
    pub scope: String,
}

/// A refusal at the token endpoint (RFC 6749, 5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// 400, or 401 for `invalid_client`.
    pub status: u16,
    /// The OAuth error code.
    pub error: &'static str,
    /// Words for the developer.
    pub description: String,
}

impl TokenError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" { 401 } else { 400 };
        TokenError {
            status,
            error,
            description: description.into(),
        }
    }
}

/// The claims of userinfo for a live access token.
pub type UserInfo = Value;

/// A client id as we make them, or could have: short, printable.
fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_SHORT_BYTES && !id.chars().any(char::is_control)
}

impl LoginService {
    /// The `iss` of every token (`public_url`).
    pub fn oidc_issuer(&self) -> &str {
        &self.oidc.issuer
    }

    /// Registers an application, `by` an administrator of its practice
    /// (`None`: the command line). Errors say what to fix.
    pub async fn oidc_add_client(
        &self,
        new: &NewClient<'_>,
        by: Option<&User>,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<IssuedClient, Reason>, DomainError> {
        let NewClient {
            name,
            practice,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            id_token_alg,
        } = *new;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Ok(Err(Reason::AppName));
        }
        if redirect_uris.is_empty() {
            return Ok(Err(Reason::AppNoRedirect));
        }
        if redirect_uris.len() > MAX_REDIRECT_URIS
            || post_logout_redirect_uris.len() > MAX_REDIRECT_URIS
        {
            return Ok(Err(Reason::AppTooManyUris {
                max: MAX_REDIRECT_URIS,
            }));
        }
        for uri in redirect_uris.iter().chain(post_logout_redirect_uris) {
            if let Err(why) = check_redirect_uri(uri) {
                return Ok(Err(why));
            }
        }
        let id = token::generate()?;
        let client_id = format!("tfc_{}", id.get(..22).unwrap_or(&id));
        let secret = if public {
            None
        } else {
            Some(token::generate()?)
        };
        let client = OidcClient {
            client_id,
            name: name.to_owned(),
            practice,
            secret_hash: secret.as_deref().map(token::digest),
            redirect_uris: redirect_uris.to_vec(),
            post_logout_redirect_uris: post_logout_redirect_uris.to_vec(),
            id_token_alg,
            created_at: now,
        };
        self.store.add_oidc_client(&client).await?;
        let detail = format!("{} ({})", client.name, client.client_id);
        self.audit_provider(AuditKind::OidcClientAdded, by, &detail, ctx, now)
            .await?;
        Ok(Ok(IssuedClient { client, secret }))
    }

    /// An administrator registers an application of their practice (their
    /// password checked as for every administrative change).
    #[allow(clippy::too_many_arguments)]
    pub async fn oidc_admin_add_client(
        &self,
        session_token: &str,
        admin: &User,
        admin_password: &str,
        name: &str,
        redirect_uris: &[String],
        post_logout_redirect_uris: &[String],
        public: bool,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<IssuedClient, Reason>, DomainError> {
        if let Err(reason) = self
            .confirm_admin(session_token, admin, admin_password, ctx, now)
            .await?
        {
            return Ok(Err(reason));
        }
        let new = NewClient {
            name,
            practice: admin.practice_id,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            id_token_alg: SigningAlg::Rs256,
        };
        self.oidc_add_client(&new, Some(admin), ctx, now).await
    }

    /// An administrator removes an application of their practice.
    pub async fn oidc_admin_remove_client(
        &self,
        session_token: &str,
        admin: &User,
        admin_password: &str,
        client_id: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<(), Reason>, DomainError> {
        if let Err(reason) = self
            .confirm_admin(session_token, admin, admin_password, ctx, now)
            .await?
        {
            return Ok(Err(reason));
        }
        if self
            .oidc_remove_client(client_id, Some(admin), ctx, now)
            .await?
        {
            Ok(Ok(()))
        } else {
            Ok(Err(Reason::AppUnknown))
        }
    }

    /// The registered applications (of one practice).
    pub async fn oidc_clients(
        &self,
        practice: Option<PracticeId>,
    ) -> Result<Vec<OidcClient>, DomainError> {
        Ok(self.store.oidc_clients(practice).await?)
    }

    /// Removes an application and every token it holds, `by` an
    /// administrator of its practice (`None`: the command line, any
    /// practice).
    pub async fn oidc_remove_client(
        &self,
        client_id: &str,
        by: Option<&User>,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<bool, DomainError> {
        let removed = plausible_id(client_id)
            && self
                .store
                .remove_oidc_client(client_id, by.map(|u| u.practice_id))
                .await?;
        if removed {
            self.audit_provider(AuditKind::OidcClientRemoved, by, client_id, ctx, now)
                .await?;
        }
        Ok(removed)
    }

    /// Audits a change to the provider itself (a client, the keys), under
    /// the administrator who made it (on their practice's audit page), or
    /// the command line's.
    async fn audit_provider(
        &self,
        kind: AuditKind,
        by: Option<&User>,
        detail: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        match by {
            Some(admin) => self.audit_success(admin, kind, ctx, detail, now).await,
            None => {
                self.audit(now, kind, Outcome::Success, None, "", ctx, detail)
                    .await
            }
        }
    }

    /// Makes the signing keys if there are none (the server's first start).
    pub async fn oidc_keys_ready(&self, now: u64) -> Result<(), DomainError> {
        self.signer(SigningAlg::Rs256, now).await.map(drop)
    }

    /// A new key for each algorithm takes over signing; the old ones stay
    /// in the JWKS until the tokens they signed have expired. Returns the
    /// new keys' ids.
    pub async fn oidc_rotate_keys(
        &self,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Vec<String>, DomainError> {
        let mut kids = Vec::new();
        for alg in SigningAlg::ALL {
            let key = SigningKey::generate(alg)?;
            let stored = key.seal(&self.seal, now)?;
            // Retire only this algorithm's keys: the row's own alg is kept
            // by the store's statement.
            self.store.add_signing_key(&stored, Some(now)).await?;
            kids.push(stored.kid);
        }
        *self.oidc.keys.lock().await = None;
        let detail = format!("new keys {}", kids.join(", "));
        self.audit_provider(AuditKind::OidcKeyRotated, None, &detail, ctx, now)
            .await?;
        Ok(kids)
    }

    /// The key that signs `alg` now: the newest not retired, made if none.
    async fn signer(&self, alg: SigningAlg, now: u64) -> Result<SigningKey, DomainError> {
        let mut cache = self.oidc.keys.lock().await;
        if let Some(cached) = cache.as_ref()
            && now < cached.read_at.saturating_add(KEY_CACHE_SECONDS)
            && let Some(key) = cached.signers.get(&alg)
        {
            return Ok(key.clone());
        }
        let mut stored = self.store.signing_keys().await?;
        for wanted in SigningAlg::ALL {
            if !stored
                .iter()
                .any(|k| k.alg == wanted && k.retired_at.is_none())
            {
                let key = SigningKey::generate(wanted)?.seal(&self.seal, now)?;
                self.store.add_signing_key(&key, None).await?;
                stored.insert(0, key);
            }
        }
        let mut signers = HashMap::new();
        for wanted in SigningAlg::ALL {
            // Newest first: two instances that made a key at once agree.
            if let Some(row) = stored
                .iter()
                .find(|k| k.alg == wanted && k.retired_at.is_none())
            {
                signers.insert(wanted, SigningKey::open(row, &self.seal)?);
            }
        }
        let key = signers
            .get(&alg)
            .cloned()
            .ok_or_else(|| DomainError::Internal("no signing key".into()))?;
        *cache = Some(KeyCache {
            read_at: now,
            signers,
        });
        Ok(key)
    }

    /// The public keys (JWKS): those signing, and retired ones until the
    /// tokens they signed have expired. Read from the store each time, so
    /// a key another instance just made is published at once.
    pub async fn oidc_jwks(&self, now: u64) -> Result<Value, DomainError> {
        // Never an empty set: a client reads it once, before any token.
        self.oidc_keys_ready(now).await?;
        let keep_after_retired = ACCESS_TOKEN_SECONDS + 2 * KEY_CACHE_SECONDS;
        let keys: Vec<Value> = self
            .store
            .signing_keys()
            .await?
            .iter()
            .filter(|k| {
                k.retired_at
                    .is_none_or(|at| now < at.saturating_add(keep_after_retired))
            })
            .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
            .collect();
        Ok(json!({ "keys": keys }))
    }

    /// Answers `/oidc/authorize` for a browser whose full session (if
    /// any) is `session`.
    pub async fn oidc_authorize(
        &self,
        params: &AuthorizeParams,
        session: Option<&(Session, User)>,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Authorized, DomainError> {
        let client = self.client_named(params.client_id.as_deref()).await?;
        let checked = match check_request(client.as_ref(), params) {
            Ok(checked) => checked,
            Err(Refusal::Page(why)) => return Ok(Authorized::Page(why)),
            Err(Refusal::Client {
                redirect_uri,
                state,
                error,
                description,
            }) => {
                return Ok(self.error_redirect(
                    &redirect_uri,
                    state.as_deref(),
                    error,
                    &description,
                ));
            }
        };
        let mut request = checked.clone();
        if let Some((_, user)) = session
            && self.passkey_only(user).await?
        {
            // The practice's rule for administrators holds here too, even
            // for a session made before it was switched on.
            request.wants = request.wants.max(Wants::PhishingResistant);
        }
        let signed_in = session.map(|(s, _)| (s.created_at, s.amr));
        match next_step(&request, signed_in, now) {
            NextStep::SignIn { fresh, since } => Ok(Authorized::SignIn { fresh, since }),
            NextStep::Refuse(error, description) => Ok(self.error_redirect(
                &checked.redirect_uri,
                checked.state.as_deref(),
                error,
                description,
            )),
            NextStep::Issue => {
                let Some((session, user)) = session else {
                    return Ok(Authorized::SignIn {
                        fresh: false,
                        since: now,
                    });
                };
                self.issue_code(&checked, session, user, ctx, now).await
            }
        }
    }

    fn error_redirect(
        &self,
        redirect_uri: &str,
        state: Option<&str>,
        error: &str,
        description: &str,
    ) -> Authorized {
        self.to_client(
            redirect_uri,
            &[("error", error), ("error_description", description)],
            state,
        )
    }

    /// To the client's redirect URI with `params`, its `state` and our
    /// `iss` (RFC 9207).
    fn to_client(
        &self,
        redirect_uri: &str,
        params: &[(&str, &str)],
        state: Option<&str>,
    ) -> Authorized {
        let mut all = params.to_vec();
        if let Some(state) = state {
            all.push(("state", state));
        }
        all.push(("iss", self.oidc_issuer()));
        Authorized::Redirect(with_query(redirect_uri, &all))
    }

    /// The name an administrator gave the client `id`, for the page that
    /// sends a browser back to it; `None` for no such client.
    pub async fn oidc_client_name(&self, id: Option<&str>) -> Result<Option<String>, DomainError> {
        Ok(self.client_named(id).await?.map(|client| client.name))
    }

    /// The client with this id, if the id could be one of ours.
    async fn client_named(&self, id: Option<&str>) -> Result<Option<OidcClient>, DomainError> {
        match id {
            Some(id) if plausible_id(id) => Ok(self.store.oidc_client(id).await?),
            _ => Ok(None),
        }
    }

    async fn issue_code(
        &self,
        checked: &Checked,
        session: &Session,
        user: &User,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Authorized, DomainError> {
        let detail = format!("client {}", checked.client_id);
        if user.practice_id != checked.practice {
            self.audit_user(
                user,
                AuditKind::OidcSignIn,
                Outcome::Blocked,
                ctx,
                &format!("{detail}: another practice's application"),
                now,
            )
            .await?;
            return Ok(self.error_redirect(
                &checked.redirect_uri,
                checked.state.as_deref(),
                "access_denied",
                "this account cannot sign in to this application",
            ));
        }
        let code = token::generate()?;
        let grant = Grant {
            id: 0,
            client_id: checked.client_id.clone(),
            user: user.id,
            redirect_uri: checked.redirect_uri.clone(),
            scope: checked.scope.clone(),
            nonce: checked.nonce.clone(),
            code_challenge: checked.code_challenge.clone(),
            auth_time: session.created_at,
            amr: session.amr,
            created_at: now,
        };
        self.store.add_grant(&grant, &token::digest(&code)).await?;
        self.audit_success(user, AuditKind::OidcSignIn, ctx, &detail, now)
            .await?;
        Ok(self.to_client(
            &checked.redirect_uri,
            &[("code", code.as_str())],
            checked.state.as_deref(),
        ))
    }

    /// The client a token request authenticates as (`POST /oidc/token`'s
    /// first step: the edge limits the rate per authenticated client).
    pub async fn oidc_token_client(
        &self,
        form: &TokenRequest,
        basic: Option<&ClientAuth>,
    ) -> Result<Result<OidcClient, TokenError>, DomainError> {
        let refuse = |why: &str| Ok(Err(TokenError::new("invalid_client", why)));
        if basic.is_some() && form.client_secret.is_some() {
            return Ok(Err(TokenError::new(
                "invalid_request",
                "use one way of client authentication",
            )));
        }
        let id = match (basic, form.client_id.as_deref()) {
            (Some(basic), Some(id)) if id != basic.id => {
                return Ok(Err(TokenError::new(
                    "invalid_request",
                    "client_id differs from the credentials",
                )));
            }
            (Some(basic), _) => basic.id.as_str(),
            (None, Some(id)) => id,
            (None, None) => return refuse("client authentication is missing"),
        };
        let client = self.client_named(Some(id)).await?;
        let secret = basic
            .map(|b| b.secret.as_str())
            .or(form.client_secret.as_deref());
        // The same work for an unknown client as for a wrong secret.
        let presented = secret.map(token::digest).unwrap_or_default();
        let Some(client) = client else {
            return refuse("unknown client or wrong secret");
        };
        match (&client.secret_hash, secret) {
            (Some(stored), Some(_)) if token::equal(stored, &presented) => Ok(Ok(client)),
            (None, None) => Ok(Ok(client)),
            (None, Some(_)) => refuse("a public client has no secret"),
            _ => refuse("unknown client or wrong secret"),
        }
    }

    /// Answers `POST /oidc/token` for the client
    /// [`Self::oidc_token_client`] authenticated.
    pub async fn oidc_token(
        &self,
        client: &OidcClient,
        form: &TokenRequest,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<TokenAnswer, TokenError>, DomainError> {
        match form.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(client, form, ctx, now).await,
            Some("refresh_token") => self.refresh(client, form, ctx, now).await,
            Some(_) => Ok(Err(TokenError::new(
                "unsupported_grant_type",
                "grant_type is authorization_code or refresh_token",
            ))),
            None => Ok(Err(TokenError::new(
                "invalid_request",
                "grant_type is missing",
            ))),
        }
    }

    async fn exchange_code(
        &self,
        client: &OidcClient,
        form: &TokenRequest,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<TokenAnswer, TokenError>, DomainError> {
        let invalid = |why: &str| Ok(Err(TokenError::new("invalid_grant", why)));
        let (Some(code), Some(redirect_uri)) = (form.code.as_deref(), form.redirect_uri.as_deref())
        else {
            return Ok(Err(TokenError::new(
                "invalid_request",
                "code and redirect_uri are required",
            )));
        };
        if code.len() > MAX_SHORT_BYTES {
            return invalid("unknown code");
        }
        let grant = match self
            .store
            .claim_code(&token::digest(code), &client.client_id, now)
            .await?
        {
            Claimed::Fresh(grant) => grant,
            Claimed::Reused(grant) => {
                self.end_reused(&grant, "code used twice", ctx, now).await?;
                return invalid("the code was already used: every token issued from it is revoked");
            }
            Claimed::OtherClient | Claimed::Unknown => return invalid("unknown code"),
        };
        if now >= grant.created_at.saturating_add(CODE_SECONDS) {
            return invalid("the code has expired");
        }
        if grant.redirect_uri != redirect_uri {
            return invalid("redirect_uri differs from the authorization request's");
        }
        match (&grant.code_challenge, form.code_verifier.as_deref()) {
            (Some(challenge), Some(verifier)) if pkce_holds(challenge, verifier) => {}
            (Some(_), Some(_)) => return invalid("the PKCE code_verifier does not match"),
            (Some(_), None) => return invalid("the PKCE code_verifier is missing"),
            (None, Some(_)) => return invalid("no PKCE code_challenge was sent for this code"),
            (None, None) => {}
        }
        let Some(user) = self.live_user(&grant).await? else {
            self.store.end_grant(grant.id).await?;
            return invalid("the account cannot sign in");
        };
        let answer = self.tokens(client, &grant, &user, true, now).await?;
        Ok(Ok(answer))
    }

    async fn refresh(
        &self,
        client: &OidcClient,
        form: &TokenRequest,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Result<TokenAnswer, TokenError>, DomainError> {
        let invalid = |why: &str| Ok(Err(TokenError::new("invalid_grant", why)));
        let Some(refresh_token) = form.refresh_token.as_deref() else {
            return Ok(Err(TokenError::new(
                "invalid_request",
                "refresh_token is required",
            )));
        };
        if refresh_token.len() > MAX_SHORT_BYTES {
            return invalid("unknown refresh token");
        }
        let hash = token::digest(refresh_token);
        let mut grant = match self
            .store
            .claim_refresh_token(&hash, &client.client_id, now)
            .await?
        {
            Claimed::Fresh(grant) => grant,
            Claimed::Reused(grant) => {
                self.end_reused(&grant, "refresh token used twice", ctx, now)
                    .await?;
                return invalid("the refresh token was already used: the sign-in is revoked");
            }
            Claimed::OtherClient | Claimed::Unknown => {
                return invalid("unknown or expired refresh token");
            }
        };
        if let Some(asked) = form.scope.as_deref() {
            if asked
                .split(' ')
                .filter(|s| !s.is_empty())
                .any(|s| !grant.has_scope(s))
            {
                return Ok(Err(TokenError::new(
                    "invalid_scope",
                    "a refresh cannot widen the scopes",
                )));
            }
        }
        let Some(user) = self.live_user(&grant).await? else {
            self.store.end_grant(grant.id).await?;
            return invalid("the account cannot sign in");
        };
        let detail = format!("client {}", client.client_id);
        self.audit_success(&user, AuditKind::OidcRefresh, ctx, &detail, now)
            .await?;
        // A refreshed ID token carries no nonce (there was no request).
        grant.nonce = None;
        Ok(Ok(self.tokens(client, &grant, &user, false, now).await?))
    }

    /// A code or refresh token came back: end the whole grant, audited.
    async fn end_reused(
        &self,
        grant: &Grant,
        what: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        self.store.end_grant(grant.id).await?;
        let detail = format!("client {}: {what}; its tokens are revoked", grant.client_id);
        let username = self
            .store
            .user_by_id(grant.user)
            .await?
            .map(|u| u.username)
            .unwrap_or_default();
        self.audit(
            now,
            AuditKind::OidcTokenReuse,
            Outcome::Failure,
            Some(grant.user),
            &username,
            ctx,
            &detail,
        )
        .await
    }

    /// The grant's user if they may still sign in.
    async fn live_user(&self, grant: &Grant) -> Result<Option<User>, DomainError> {
        Ok(self
            .store
            .user_by_id(grant.user)
            .await?
            .filter(|u| !u.disabled))
    }

    /// New access token, ID token and (with `offline_access`) refresh
    /// token for `grant`.
    async fn tokens(
        &self,
        client: &OidcClient,
        grant: &Grant,
        user: &User,
        first: bool,
        now: u64,
    ) -> Result<TokenAnswer, DomainError> {
        let access_token = token::generate()?;
        let expires_at = now.saturating_add(ACCESS_TOKEN_SECONDS);
        self.store
            .add_oidc_token(
                &token::digest(&access_token),
                grant.id,
                TokenKind::Access,
                expires_at,
            )
            .await?;
        let refresh_token = if grant.has_scope("offline_access") && now < grant.refresh_until() {
            let refresh = token::generate()?;
            self.store
                .add_oidc_token(
                    &token::digest(&refresh),
                    grant.id,
                    TokenKind::Refresh,
                    grant.refresh_until(),
                )
                .await?;
            Some(refresh)
        } else {
            None
        };
        let subject = self.subject(user).await?;
        let mut claims = json!({
            "iss": self.oidc_issuer(),
            "sub": subject,
            "aud": client.client_id,
            "azp": client.client_id,
            "exp": expires_at,
            "iat": now,
            "auth_time": grant.auth_time,
            "amr": grant.amr.claim(),
            "acr": acr_of(grant.amr),
            "at_hash": at_hash(&access_token),
        });
        if let (true, Some(nonce), Some(map)) =
            (first, grant.nonce.as_deref(), claims.as_object_mut())
        {
            map.insert("nonce".into(), json!(nonce));
        }
        self.add_profile(&mut claims, grant, user).await?;
        let id_token = self.signer(client.id_token_alg, now).await?.sign(&claims)?;
        Ok(TokenAnswer {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECONDS,
            id_token,
            refresh_token,
            scope: grant.scope.clone(),
        })
    }

    /// Adds to `claims` what the grant's scopes let the client see.
    async fn add_profile(
        &self,
        claims: &mut Value,
        grant: &Grant,
        user: &User,
    ) -> Result<(), DomainError> {
        let name = self.display_name(grant, user).await?;
        if let (Some(map), Value::Object(profile)) =
            (claims.as_object_mut(), profile_claims(grant, user, &name))
        {
            map.extend(profile);
        }
        Ok(())
    }

    /// The name the administrator gave the user (the login name if none),
    /// read only when the `profile` scope shows it.
    async fn display_name(&self, grant: &Grant, user: &User) -> Result<String, DomainError> {
        if !grant.has_scope("profile") {
            return Ok(String::new());
        }
        let (rows, _) = self
            .store
            .staff_page(user.practice_id, "", Some(user.id), 0, 1)
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .map(|row| row.display_name)
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| user.username.clone()))
    }

    /// The user's stable, opaque `sub`.
    async fn subject(&self, user: &User) -> Result<String, DomainError> {
        Ok(self
            .store
            .oidc_subject(user.id, &token::generate()?)
            .await?)
    }

    /// The claims of userinfo for a live access token; `None`: refused.
    pub async fn oidc_userinfo(
        &self,
        access_token: &str,
        now: u64,
    ) -> Result<Option<UserInfo>, DomainError> {
        if access_token.is_empty() || access_token.len() > MAX_SHORT_BYTES {
            return Ok(None);
        }
        let Some(grant) = self
            .store
            .access_token_grant(&token::digest(access_token), now)
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = self.live_user(&grant).await? else {
            return Ok(None);
        };
        let mut claims = json!({ "sub": self.subject(&user).await? });
        self.add_profile(&mut claims, &grant, &user).await?;
        Ok(Some(claims))
    }

    /// RP-initiated logout: the client the `id_token_hint` was issued to
    /// (or `client_id`), whether the hint names the user of `session`,
    /// and the registered post-logout URI to return to (with `state`).
    pub async fn oidc_logout_plan(
        &self,
        id_token_hint: Option<&str>,
        client_id: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
        session_user: Option<&User>,
    ) -> Result<LogoutPlan, DomainError> {
        let keys = self.store.signing_keys().await?;
        let hint = id_token_hint
            .filter(|t| t.len() <= 8 * 1024)
            .and_then(|t| keys::verify(&keys, t))
            .filter(|claims| claims["iss"] == self.oidc_issuer());
        let hinted_client = hint
            .as_ref()
            .and_then(|c| c["aud"].as_str().map(str::to_owned));
        let client_id = match (hinted_client, client_id) {
            (Some(hinted), Some(named)) if hinted != named => None,
            (Some(hinted), _) => Some(hinted),
            (None, named) => named.map(str::to_owned),
        };
        let client = self.client_named(client_id.as_deref()).await?;
        let hint_is_session = match (&hint, session_user) {
            (Some(claims), Some(user)) => claims["sub"] == self.subject(user).await?.as_str(),
            (Some(_), None) => true,
            _ => false,
        };
        let redirect = match (client.as_ref(), post_logout_redirect_uri) {
            (Some(client), Some(uri))
                if client.post_logout_redirect_uris.iter().any(|r| r == uri) =>
            {
                let mut params = Vec::new();
                if let Some(state) = state.filter(|s| s.len() <= super::MAX_STATE_BYTES) {
                    params.push(("state", state));
                }
                Some(with_query(uri, &params))
            }
            _ => None,
        };
        Ok(LogoutPlan {
            confirmed: hint_is_session,
            redirect,
            client: client.map(|c| c.name),
        })
    }

    /// Ends the session an application asked to end (RP-initiated
    /// logout), audited as that.
    pub async fn oidc_logout(
        &self,
        session_token: &str,
        client: Option<&str>,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        let detail = client.map(|c| format!("asked by {c}")).unwrap_or_default();
        self.end_session(session_token, AuditKind::OidcLogout, &detail, ctx, now)
            .await
    }

    /// Forgets used and expired codes and tokens (the hourly sweep).
    pub async fn oidc_sweep(&self, now: u64) -> Result<u64, DomainError> {
        Ok(self.store.sweep_oidc(now).await?)
    }
}

/// What RP-initiated logout does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutPlan {
    /// The hint proves the application asked for this user: log out
    /// without asking.
    pub confirmed: bool,
    /// The registered post-logout URI (with `state`), if one was asked.
    pub redirect: Option<String>,
    /// The application's name, for the confirmation page.
    pub client: Option<String>,
}

/// The claims the grant's scopes let the client see.
fn profile_claims(grant: &Grant, user: &User, name: &str) -> Value {
    let mut claims = serde_json::Map::new();
    if grant.has_scope("profile") {
        claims.insert("preferred_username".into(), json!(user.username));
        claims.insert("name".into(), json!(name));
    }
    if grant.has_scope("email") && !user.email.is_empty() {
        claims.insert("email".into(), json!(user.email));
        // Addresses are entered by the practice's administrator, never
        // registered by the user.
        claims.insert("email_verified".into(), json!(true));
    }
    Value::Object(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Amr, Role, UserId};

    fn grant(scope: &str) -> Grant {
        Grant {
            id: 1,
            client_id: "tfc_a".into(),
            user: UserId(1),
            redirect_uri: "https://a.example/cb".into(),
            scope: scope.into(),
            nonce: None,
            code_challenge: None,
            auth_time: 0,
            amr: Amr::PWD,
            created_at: 0,
        }
    }

    fn user() -> User {
        User {
            id: UserId(1),
            practice_id: PracticeId(1),
            username: "alice".into(),
            email: "alice@clinic.example".into(),
            phone: None,
            role: Role::Staff,
            password_hash: None,
            disabled: false,
            require_2fa: false,
            language: None,
        }
    }

    #[test]
    fn claims_follow_the_scopes() {
        assert_eq!(
            profile_claims(&grant("openid"), &user(), "Dr Alice"),
            json!({})
        );
        assert_eq!(
            profile_claims(&grant("openid profile email"), &user(), "Dr Alice"),
            json!({"preferred_username": "alice", "name": "Dr Alice", "email": "alice@clinic.example", "email_verified": true})
        );
    }
}
