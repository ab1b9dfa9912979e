//! OpenID Connect: the clinic's other applications sign their users in
//! here. This module holds the rules as pure functions (what a request may
//! ask, when a sign-in must be fresh, what a token says); `service` runs
//! them against the store and `keys` signs.
//!
//! ```text
//! client -> /oidc/authorize  (check_request: client, exact redirect_uri, PKCE, scope)
//!   | refused before the redirect_uri is known good -> our error page
//!   | refused after                                  -> redirect_uri?error=…&state=…
//!   v
//! next_step(session, max_age, prompt, acr_values)
//!   |-- SignIn { fresh }: our own /login (password, second factor or passkey),
//!   |                     then back here with `login_since`
//!   '-- Issue: a single-use code (60 s) -> redirect_uri?code=…&state=…&iss=…
//! client -> /oidc/token (client secret or PKCE verifier)
//!   code -> access token (10 min), ID token, refresh token (offline_access)
//!   a code or refresh token used twice -> the whole grant is revoked
//! ```

use sha2::{Digest, Sha256};

use crate::{Amr, PracticeId, UserId};

pub mod keys;
pub(crate) mod service;

pub use keys::{SigningAlg, SigningKey, StoredKey};
pub use service::{
    Authorized, ClientAuth, IssuedClient, LogoutPlan, TokenAnswer, TokenError, TokenRequest,
    UserInfo,
};

/// How long an authorization code can be exchanged.
pub const CODE_SECONDS: u64 = 60;
/// How long an access token (and an ID token) is good for.
pub const ACCESS_TOKEN_SECONDS: u64 = 600;
/// How long a grant's refresh tokens can be used after the sign-in: then
/// the user signs in again.
pub const REFRESH_SECONDS: u64 = 30 * 86_400;
/// The longest `state` or `nonce` accepted (they travel in the login
/// page's `next`).
pub const MAX_STATE_BYTES: usize = 512;
/// The longest redirect URI registered or asked for.
pub const MAX_URI_BYTES: usize = 1024;
/// The longest client id, scope or other short parameter.
pub const MAX_SHORT_BYTES: usize = 256;

/// The scopes a client may ask for.
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The `acr` values: a passkey was used, two factors, a password only.
pub const ACR_PHISHING_RESISTANT: &str = "phr";
/// Two factors, at least one not phishing-resistant.
pub const ACR_MFA: &str = "mfa";
/// The password alone (no factor linked, a remembered browser, emergency access).
pub const ACR_PASSWORD: &str = "pwd";

/// A registered application.
#[derive(Clone, PartialEq, Eq)]
pub struct OidcClient {
    /// Its public id (random, `tfc_…`).
    pub client_id: String,
    /// What the administrators call it.
    pub name: String,
    /// Only this practice's users may sign in to it.
    pub practice: PracticeId,
    /// SHA-256 (hex) of its secret; `None`: a public client (PKCE only).
    pub secret_hash: Option<String>,
    /// Where codes may be sent, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return to, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// How its ID tokens are signed.
    pub id_token_alg: SigningAlg,
    /// Unix seconds.
    pub created_at: u64,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("public", &self.secret_hash.is_none())
            .finish_non_exhaustive()
    }
}

impl OidcClient {
    /// A public client has no secret: PKCE proves the code's requester.
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }
}

/// An application to register.
#[derive(Debug, Clone, Copy)]
pub struct NewClient<'a> {
    /// What the administrators call it.
    pub name: &'a str,
    /// Whose users may sign in to it.
    pub practice: PracticeId,
    /// Where codes may be sent.
    pub redirect_uris: &'a [String],
    /// Where RP-initiated logout may return to.
    pub post_logout_redirect_uris: &'a [String],
    /// No secret: PKCE only.
    pub public: bool,
    /// How its ID tokens are signed.
    pub id_token_alg: SigningAlg,
}

/// One sign-in to one client and what its tokens may say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// The client it was made for.
    pub client_id: String,
    /// Who signed in.
    pub user: UserId,
    /// The redirect URI the code went to (the exchange must name it).
    pub redirect_uri: String,
    /// The scopes granted, space-separated.
    pub scope: String,
    /// The client's nonce, echoed in the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge (S256), if one was sent.
    pub code_challenge: Option<String>,
    /// When the user signed in (the session's full login).
    pub auth_time: u64,
    /// How.
    pub amr: Amr,
    /// When the code was made.
    pub created_at: u64,
}

impl Grant {
    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }

    /// The last second its refresh tokens work.
    pub fn refresh_until(&self) -> u64 {
        self.auth_time.saturating_add(REFRESH_SECONDS)
    }
}

/// What claiming a single-use code or refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// Unused until now: it is used up, the grant is this.
    Fresh(Grant),
    /// Used before: the grant it belongs to (still there to be ended).
    Reused(Grant),
    /// Another client's code (left unused).
    OtherClient,
    /// No such code or token.
    Unknown,
}

/// Access or refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Bearer for the userinfo endpoint.
    Access,
    /// Exchanged once for new tokens.
    Refresh,
}

impl TokenKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }
}

/// The query (or form) of `/oidc/authorize`, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    /// The application.
    pub client_id: Option<String>,
    /// Where the answer goes.
    pub redirect_uri: Option<String>,
    /// Only `code`.
    pub response_type: Option<String>,
    /// `openid`, and `profile`, `email`, `offline_access`.
    pub scope: Option<String>,
    /// Echoed to the client.
    pub state: Option<String>,
    /// Echoed in the ID token.
    pub nonce: Option<String>,
    /// PKCE (S256).
    pub code_challenge: Option<String>,
    /// Only `S256`.
    pub code_challenge_method: Option<String>,
    /// `none`, `login` (others are accepted and change nothing).
    pub prompt: Option<String>,
    /// Seconds since the sign-in beyond which it must be made again.
    pub max_age: Option<String>,
    /// `phr` (or `phrh`) asks for a passkey; `mfa` for two factors.
    pub acr_values: Option<String>,
    /// Only `query`.
    pub response_mode: Option<String>,
    /// Not supported: a request object.
    pub request: Option<String>,
    /// Not supported: a request object by reference.
    pub request_uri: Option<String>,
    /// Ours: the sign-in must be at least this recent (set when we send
    /// the browser to log in, so the way back does not ask again).
    pub login_since: Option<String>,
}

impl AuthorizeParams {
    /// The request as a query string, with `login_since` set: the way
    /// back from our login page.
    pub fn query_since(&self, since: u64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let fields = [
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("response_type", &self.response_type),
            ("scope", &self.scope),
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("prompt", &self.prompt),
            ("max_age", &self.max_age),
            ("acr_values", &self.acr_values),
            ("response_mode", &self.response_mode),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        query.append_pair("login_since", &since.to_string());
        query.finish()
    }
}

/// A refused authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Shown on our own page: the client or its redirect URI is not known
    /// good, so nothing may be sent to it.
    Page(crate::Reason),
    /// Sent to the client's redirect URI.
    Client {
        /// The registered redirect URI.
        redirect_uri: String,
        /// The client's `state`.
        state: Option<String>,
        /// The OAuth error code.
        error: &'static str,
        /// Words for the developer.
        description: String,
    },
}

/// An authorization request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The client's id.
    pub client_id: String,
    /// The practice whose users may sign in.
    pub practice: PracticeId,
    /// The exact registered redirect URI.
    pub redirect_uri: String,
    /// Granted scopes, in our order, space-separated.
    pub scope: String,
    /// Echoed to the client.
    pub state: Option<String>,
    /// Echoed in the ID token.
    pub nonce: Option<String>,
    /// S256 challenge.
    pub code_challenge: Option<String>,
    /// `prompt=none`: never show a page.
    pub prompt_none: bool,
    /// `prompt=login`: sign in again.
    pub prompt_login: bool,
    /// `max_age`.
    pub max_age: Option<u64>,
    /// What `acr_values` asks for, strongest first.
    pub wants: Wants,
    /// Our `login_since`.
    pub login_since: Option<u64>,
}

/// The strength `acr_values` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Wants {
    /// Whatever the policy asks.
    Any,
    /// Two factors.
    Mfa,
    /// A passkey.
    PhishingResistant,
}

impl Wants {
    /// Whether a sign-in made with `amr` is strong enough.
    pub fn met_by(self, amr: Amr) -> bool {
        match self {
            Wants::Any => true,
            Wants::Mfa => amr.count() >= 2 || amr.phishing_resistant(),
            Wants::PhishingResistant => amr.phishing_resistant(),
        }
    }
}

fn too_long(value: &Option<String>, max: usize) -> bool {
    value.as_ref().is_some_and(|v| v.len() > max)
}

fn has_control(value: &Option<String>) -> bool {
    value
        .as_ref()
        .is_some_and(|v| v.chars().any(char::is_control))
}

/// Checks an authorization request against its client (`None`: no client
/// with that id). The client and the redirect URI are checked first;
/// until both hold, nothing is sent anywhere.
pub fn check_request(client: Option<&OidcClient>, p: &AuthorizeParams) -> Result<Checked, Refusal> {
    if p.client_id.as_deref().unwrap_or("").is_empty() {
        return Err(Refusal::Page(crate::Reason::OidcNoClientId));
    }
    let Some(client) = client else {
        return Err(Refusal::Page(crate::Reason::OidcUnknownClient));
    };
    let Some(redirect_uri) = p.redirect_uri.as_deref() else {
        return Err(Refusal::Page(crate::Reason::OidcNoRedirectUri));
    };
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Refusal::Page(crate::Reason::OidcRedirectMismatch));
    }
    let state = p.state.clone().filter(|s| s.len() <= MAX_STATE_BYTES);
    let to_client = |error: &'static str, description: &str| Refusal::Client {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error,
        description: description.to_owned(),
    };
    if too_long(&p.state, MAX_STATE_BYTES) || too_long(&p.nonce, MAX_STATE_BYTES) {
        return Err(to_client(
            "invalid_request",
            "state and nonce are at most 512 bytes",
        ));
    }
    let short = [
        &p.response_type,
        &p.scope,
        &p.code_challenge,
        &p.code_challenge_method,
        &p.prompt,
        &p.max_age,
        &p.acr_values,
        &p.response_mode,
        &p.login_since,
    ];
    if short
        .iter()
        .any(|v| too_long(v, MAX_SHORT_BYTES) || has_control(v))
        || has_control(&p.state)
        || has_control(&p.nonce)
    {
        return Err(to_client(
            "invalid_request",
            "a parameter is too long or holds control characters",
        ));
    }
    if p.request.is_some() {
        return Err(to_client(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if p.request_uri.is_some() {
        return Err(to_client(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    if p.response_type.as_deref() != Some("code") {
        return Err(to_client(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if p.response_mode.as_deref().is_some_and(|m| m != "query") {
        return Err(to_client(
            "invalid_request",
            "only response_mode=query is supported",
        ));
    }
    let asked: Vec<&str> = p
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !asked.contains(&"openid") {
        return Err(to_client("invalid_scope", "the openid scope is required"));
    }
    if let Some(unknown) = asked.iter().find(|s| !SCOPES.contains(s)) {
        return Err(to_client(
            "invalid_scope",
            &format!("unknown scope {unknown}"),
        ));
    }
    let scope = SCOPES
        .iter()
        .filter(|s| asked.contains(s))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let code_challenge = match (
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    ) {
        (None, None) if client.is_public() => {
            return Err(to_client(
                "invalid_request",
                "a public client must send a PKCE code_challenge (S256)",
            ));
        }
        (None, None) => None,
        (Some(challenge), Some("S256")) if is_challenge(challenge) => Some(challenge.to_owned()),
        (Some(_), Some("S256")) => {
            return Err(to_client(
                "invalid_request",
                "code_challenge must be 43 base64url characters",
            ));
        }
        (Some(_), None | Some("plain")) => {
            return Err(to_client(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        _ => {
            return Err(to_client(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
    };
    let prompts: Vec<&str> = p
        .prompt
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(to_client(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ));
    }
    let max_age = match p.max_age.as_deref() {
        None | Some("") => None,
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) => Some(seconds),
            Err(_) => {
                return Err(to_client(
                    "invalid_request",
                    "max_age must be a number of seconds",
                ));
            }
        },
    };
    let acr: Vec<&str> = p.acr_values.as_deref().unwrap_or("").split(' ').collect();
    let wants = if acr.iter().any(|a| *a == "phr" || *a == "phrh") {
        Wants::PhishingResistant
    } else if acr.contains(&ACR_MFA) {
        Wants::Mfa
    } else {
        Wants::Any
    };
    Ok(Checked {
        client_id: client.client_id.clone(),
        practice: client.practice,
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state,
        nonce: p.nonce.clone(),
        code_challenge,
        prompt_none,
        prompt_login: prompts.contains(&"login"),
        max_age,
        wants,
        login_since: p.login_since.as_deref().and_then(|t| t.parse().ok()),
    })
}

/// A PKCE S256 challenge: 43 base64url characters (a SHA-256).
fn is_challenge(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A PKCE verifier as RFC 7636 allows it: 43 to 128 unreserved characters.
pub fn is_verifier(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `verifier` answers `challenge` (S256), in constant time.
pub fn pkce_holds(challenge: &str, verifier: &str) -> bool {
    use base64::Engine as _;
    if !is_verifier(verifier) {
        return false;
    }
    let digest = Sha256::digest(verifier.as_bytes());
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    crate::token::equal(&computed, challenge)
}

/// What an authorization request leads to, given the browser's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Make the code.
    Issue,
    /// Send the browser through our login, then back; `fresh`: even with
    /// a live session (the login page shows its form). Sign-ins from
    /// `since` on count.
    SignIn {
        /// Show the form even to a signed-in browser.
        fresh: bool,
        /// The earliest sign-in that answers.
        since: u64,
    },
    /// Tell the client no (`login_required`, `unmet_authentication_requirements`).
    Refuse(&'static str, &'static str),
}

/// Whether the browser's sign-in (`(auth_time, amr)` of its full session)
/// answers the request, or it must sign in (again).
pub fn next_step(request: &Checked, session: Option<(u64, Amr)>, now: u64) -> NextStep {
    // A `login_since` from a link cannot ask for a sign-in in the future.
    let since = request.login_since.map(|t| t.min(now));
    let sign_in = |fresh| match request.prompt_none {
        true => NextStep::Refuse("login_required", "the user must sign in"),
        false => NextStep::SignIn { fresh, since: now },
    };
    let Some((auth_time, amr)) = session else {
        return sign_in(false);
    };
    let after_redirect = since.is_some_and(|since| auth_time >= since);
    if !after_redirect {
        // max_age=0 asks for a sign-in now, as prompt=login does.
        let too_old = request
            .max_age
            .is_some_and(|max_age| max_age == 0 || now.saturating_sub(auth_time) > max_age);
        if request.prompt_login || too_old {
            return sign_in(true);
        }
    }
    if !request.wants.met_by(amr) {
        if after_redirect {
            return NextStep::Refuse(
                "unmet_authentication_requirements",
                "the sign-in did not use the factor the application asked for",
            );
        }
        return sign_in(true);
    }
    NextStep::Issue
}

/// The `acr` of a sign-in made with `amr`.
pub fn acr_of(amr: Amr) -> &'static str {
    if amr.phishing_resistant() {
        ACR_PHISHING_RESISTANT
    } else if amr.count() >= 2 {
        ACR_MFA
    } else {
        ACR_PASSWORD
    }
}

/// Checks a redirect URI given at registration: absolute, http(s), no
/// fragment, no credentials, not too long; plain http only to loopback
/// (a native app or a developer's machine).
pub fn check_redirect_uri(text: &str) -> Result<(), crate::Reason> {
    use crate::Reason;
    if text.len() > MAX_URI_BYTES {
        return Err(Reason::UriTooLong { max: MAX_URI_BYTES });
    }
    // Shown back on the page and in the CLI: control characters escaped.
    let shown = || text.escape_debug().to_string();
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Reason::UriSpaces { uri: shown() });
    }
    let uri = url::Url::parse(text).map_err(|_| Reason::UriNotAbsolute { uri: shown() })?;
    if uri.fragment().is_some() {
        return Err(Reason::UriFragment { uri: shown() });
    }
    if !uri.username().is_empty() || uri.password().is_some() {
        return Err(Reason::UriCredentials { uri: shown() });
    }
    let loopback = matches!(uri.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match uri.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(Reason::UriPlainHttp { uri: shown() }),
        other => Err(Reason::UriScheme {
            uri: shown(),
            scheme: other.to_owned(),
        }),
    }
}

/// `uri` with `params` added to its query (percent-encoded).
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

/// The hash of an access token in an ID token (`at_hash`): the left half
/// of its SHA-256, base64url.
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine as _;
    let digest = Sha256::digest(access_token.as_bytes());
    let left = digest.get(..16).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(public: bool) -> OidcClient {
        OidcClient {
            client_id: "tfc_app".into(),
            name: "Portal".into(),
            practice: PracticeId(1),
            secret_hash: (!public).then(|| "h".repeat(64)),
            redirect_uris: vec!["https://portal.example/cb".into()],
            post_logout_redirect_uris: vec![],
            id_token_alg: SigningAlg::Rs256,
            created_at: 0,
        }
    }

    fn params() -> AuthorizeParams {
        AuthorizeParams {
            client_id: Some("tfc_app".into()),
            redirect_uri: Some("https://portal.example/cb".into()),
            response_type: Some("code".into()),
            scope: Some("email openid".into()),
            state: Some("st".into()),
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            code_challenge_method: Some("S256".into()),
            ..AuthorizeParams::default()
        }
    }

    #[test]
    fn the_client_and_its_exact_redirect_uri_come_before_any_redirect() {
        let c = client(false);
        assert!(matches!(
            check_request(None, &params()),
            Err(Refusal::Page(_))
        ));
        for wrong in [
            "https://portal.example/cb/",
            "https://portal.example/cb?x=1",
            "https://portal.example/CB",
            "https://evil.example/cb",
            "https://portal.example/cb#",
            "",
        ] {
            let p = AuthorizeParams {
                redirect_uri: Some(wrong.into()),
                ..params()
            };
            assert!(
                matches!(check_request(Some(&c), &p), Err(Refusal::Page(_))),
                "{wrong}"
            );
        }
        let p = AuthorizeParams {
            response_type: Some("token".into()),
            ..params()
        };
        match check_request(Some(&c), &p) {
            Err(Refusal::Client { error, state, .. }) => {
                assert_eq!(error, "unsupported_response_type");
                assert_eq!(state.as_deref(), Some("st"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scopes_pkce_and_sizes_are_checked() {
        let checked = check_request(Some(&client(false)), &params()).unwrap();
        assert_eq!(checked.scope, "openid email");
        let refused =
            |p: AuthorizeParams, public: bool| match check_request(Some(&client(public)), &p) {
                Err(Refusal::Client { error, .. }) => error,
                other => panic!("{other:?}"),
            };
        let no_pkce = AuthorizeParams {
            code_challenge: None,
            code_challenge_method: None,
            ..params()
        };
        assert_eq!(refused(no_pkce.clone(), true), "invalid_request");
        assert!(check_request(Some(&client(false)), &no_pkce).is_ok());
        let plain = AuthorizeParams {
            code_challenge_method: Some("plain".into()),
            ..params()
        };
        assert_eq!(refused(plain, false), "invalid_request");
        let short = AuthorizeParams {
            code_challenge: Some("abc".into()),
            ..params()
        };
        assert_eq!(refused(short, false), "invalid_request");
        let no_openid = AuthorizeParams {
            scope: Some("email".into()),
            ..params()
        };
        assert_eq!(refused(no_openid, false), "invalid_scope");
        let admin = AuthorizeParams {
            scope: Some("openid admin".into()),
            ..params()
        };
        assert_eq!(refused(admin, false), "invalid_scope");
        let huge = AuthorizeParams {
            nonce: Some("n".repeat(MAX_STATE_BYTES + 1)),
            ..params()
        };
        assert_eq!(refused(huge, false), "invalid_request");
        let huge_state = AuthorizeParams {
            state: Some("s".repeat(MAX_STATE_BYTES + 1)),
            ..params()
        };
        match check_request(Some(&client(false)), &huge_state) {
            Err(Refusal::Client { state, .. }) => {
                assert_eq!(state, None, "an oversized state is not echoed")
            }
            other => panic!("{other:?}"),
        }
        let control = AuthorizeParams {
            state: Some("a\r\nb".into()),
            ..params()
        };
        assert_eq!(refused(control, false), "invalid_request");
        let object = AuthorizeParams {
            request: Some("eyJ".into()),
            ..params()
        };
        assert_eq!(refused(object, false), "request_not_supported");
        let none_and_login = AuthorizeParams {
            prompt: Some("none login".into()),
            ..params()
        };
        assert_eq!(refused(none_and_login, false), "invalid_request");
        let bad_age = AuthorizeParams {
            max_age: Some("-1".into()),
            ..params()
        };
        assert_eq!(refused(bad_age, false), "invalid_request");
    }

    #[test]
    fn pkce_s256_matches_the_rfc_example_only() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_holds(challenge, verifier));
        assert!(!pkce_holds(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"
        ));
        assert!(!pkce_holds(challenge, "short"));
        assert!(!pkce_holds(challenge, &"a".repeat(129)));
        assert!(!pkce_holds(challenge, challenge));
    }

    fn request(f: impl FnOnce(&mut Checked)) -> Checked {
        let mut checked = check_request(Some(&client(false)), &params()).unwrap();
        f(&mut checked);
        checked
    }

    #[test]
    fn a_sign_in_is_asked_when_missing_stale_or_too_weak_and_never_twice() {
        let mfa = Amr::PWD.with(Amr::OTP);
        let now = 10_000;
        assert_eq!(
            next_step(&request(|_| {}), None, now),
            NextStep::SignIn {
                fresh: false,
                since: now
            }
        );
        assert_eq!(
            next_step(&request(|_| {}), Some((now - 50, mfa)), now),
            NextStep::Issue
        );
        let none = request(|r| r.prompt_none = true);
        assert!(matches!(
            next_step(&none, None, now),
            NextStep::Refuse("login_required", _)
        ));
        // prompt=login, then back with login_since: the new sign-in answers.
        let login = request(|r| r.prompt_login = true);
        assert_eq!(
            next_step(&login, Some((now - 5, mfa)), now),
            NextStep::SignIn {
                fresh: true,
                since: now
            }
        );
        let back = request(|r| {
            r.prompt_login = true;
            r.login_since = Some(now);
        });
        assert_eq!(
            next_step(&back, Some((now + 3, mfa)), now + 3),
            NextStep::Issue
        );
        assert_eq!(
            next_step(&back, Some((now - 1, mfa)), now + 3),
            NextStep::SignIn {
                fresh: true,
                since: now + 3
            }
        );
        // A login_since in the future asks no more than now.
        let future = request(|r| {
            r.prompt_login = true;
            r.login_since = Some(now * 2);
        });
        assert_eq!(next_step(&future, Some((now, mfa)), now), NextStep::Issue);
        let aged = request(|r| r.max_age = Some(60));
        assert_eq!(
            next_step(&aged, Some((now - 61, mfa)), now),
            NextStep::SignIn {
                fresh: true,
                since: now
            }
        );
        assert_eq!(
            next_step(&aged, Some((now - 60, mfa)), now),
            NextStep::Issue
        );
        let zero = request(|r| r.max_age = Some(0));
        assert_eq!(
            next_step(&zero, Some((now, mfa)), now),
            NextStep::SignIn {
                fresh: true,
                since: now
            }
        );
        // A passkey asked for: a fresh sign-in, then no if it was not one.
        let phr = request(|r| r.wants = Wants::PhishingResistant);
        assert_eq!(
            next_step(&phr, Some((now, mfa)), now),
            NextStep::SignIn {
                fresh: true,
                since: now
            }
        );
        let phr_back = request(|r| {
            r.wants = Wants::PhishingResistant;
            r.login_since = Some(now);
        });
        assert!(matches!(
            next_step(&phr_back, Some((now + 1, mfa)), now + 1),
            NextStep::Refuse("unmet_authentication_requirements", _)
        ));
        assert_eq!(
            next_step(&phr_back, Some((now + 1, Amr::HWK)), now + 1),
            NextStep::Issue
        );
        let wants_mfa = request(|r| r.wants = Wants::Mfa);
        assert_eq!(
            next_step(&wants_mfa, Some((now, Amr::PWD)), now),
            NextStep::SignIn {
                fresh: true,
                since: now
            }
        );
    }

    #[test]
    fn acr_names_the_strongest_method() {
        assert_eq!(acr_of(Amr::PWD.with(Amr::HWK)), "phr");
        assert_eq!(acr_of(Amr::SWK), "phr");
        assert_eq!(acr_of(Amr::PWD.with(Amr::SMS)), "mfa");
        assert_eq!(acr_of(Amr::PWD), "pwd");
    }

    #[test]
    fn redirect_uris_must_be_https_or_loopback_without_fragment_or_credentials() {
        assert!(check_redirect_uri("https://grafana.clinic.example/login/generic_oauth").is_ok());
        assert!(check_redirect_uri("http://localhost:3000/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:3000/cb").is_ok());
        for bad in [
            "http://grafana.clinic.example/cb",
            "https://a.example/cb#frag",
            "https://user:pw@a.example/cb",
            "javascript:alert(1)",
            "/relative",
            "ftp://a.example/",
            "https://a.example/c\nb",
            "https://a.example/c b",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
        assert!(
            check_redirect_uri(&format!("https://a.example/{}", "x".repeat(MAX_URI_BYTES)))
                .is_err()
        );
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256() {
        // OpenID Connect Core, A.3 (the example access token's at_hash).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn the_way_back_keeps_the_request_and_replaces_login_since() {
        let p = AuthorizeParams {
            login_since: Some("1".into()),
            state: Some("a&b".into()),
            ..params()
        };
        let query = p.query_since(99);
        assert!(query.contains("state=a%26b"), "{query}");
        assert!(query.ends_with("&login_since=99"), "{query}");
        assert_eq!(query.matches("login_since").count(), 1);
    }

    #[test]
    fn query_parameters_are_appended_encoded() {
        assert_eq!(
            with_query(
                "https://a.example/cb?x=1",
                &[("code", "a b"), ("state", "&=")]
            ),
            "https://a.example/cb?x=1&code=a+b&state=%26%3D"
        );
    }
}
