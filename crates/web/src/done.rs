//! Post/redirect/get: a form post that succeeded answers 303 to the page it
//! leads to, carrying `?done=<code>`; that page says what was done. A reload
//! then shows the page again instead of sending the form again, and the
//! words come from this list only (a crafted link can choose among them,
//! never write its own).

use serde::Deserialize;

/// What a successful form post did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// `/account/password`.
    PasswordChanged,
    /// One remembered device revoked.
    DeviceRevoked,
    /// Every remembered device revoked.
    DevicesRevoked,
    /// Two-factor login turned off by the user.
    TwoFactorOff,
    /// A first authenticator app linked.
    AuthenticatorLinked,
    /// A new authenticator app replaced the old one.
    AuthenticatorRelinked,
    /// A phone number confirmed by its code.
    PhoneConfirmed,
    /// A passkey registered.
    PasskeyAdded,
    /// A passkey removed.
    PasskeyRemoved,
    /// The practice policy saved.
    PolicySaved,
    /// An OpenID Connect application removed.
    ApplicationRemoved,
    /// A staff member added (and invited).
    StaffAdded,
    /// 2FA required for one user.
    Required2fa,
    /// 2FA no longer required for one user.
    Unrequired2fa,
    /// One user's second factors reset.
    Reset2fa,
    /// One user unlocked.
    Unlocked,
    /// One user disabled.
    Disabled,
    /// One user enabled.
    Enabled,
    /// An invitation sent again.
    InvitationResent,
    /// A reset link requested ("Forgot password?").
    ResetRequested,
    /// A password set from a reset link.
    PasswordReset,
    /// Logged out.
    LoggedOut,
    /// A security token sent by text message.
    SmsSent,
}

/// Every code, for parsing and the tests.
const CODES: [(&str, Done); 23] = [
    ("password-changed", Done::PasswordChanged),
    ("device-revoked", Done::DeviceRevoked),
    ("devices-revoked", Done::DevicesRevoked),
    ("two-factor-off", Done::TwoFactorOff),
    ("authenticator-linked", Done::AuthenticatorLinked),
    ("authenticator-relinked", Done::AuthenticatorRelinked),
    ("phone-confirmed", Done::PhoneConfirmed),
    ("passkey-added", Done::PasskeyAdded),
    ("passkey-removed", Done::PasskeyRemoved),
    ("policy-saved", Done::PolicySaved),
    ("application-removed", Done::ApplicationRemoved),
    ("staff-added", Done::StaffAdded),
    ("require-2fa", Done::Required2fa),
    ("unrequire-2fa", Done::Unrequired2fa),
    ("reset-2fa", Done::Reset2fa),
    ("unlock", Done::Unlocked),
    ("disable", Done::Disabled),
    ("enable", Done::Enabled),
    ("resend-invitation", Done::InvitationResent),
    ("reset-requested", Done::ResetRequested),
    ("password-reset", Done::PasswordReset),
    ("logged-out", Done::LoggedOut),
    ("sms-sent", Done::SmsSent),
];

/// The `done` query parameter of the pages a form post redirects to.
#[derive(Debug, Default, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

impl DoneQuery {
    fn done(&self) -> Option<Done> {
        self.done.as_deref().and_then(Done::from_code)
    }
}

/// Extracts what `?done=` names; nothing for a missing, unknown or
/// malformed query (the page is shown either way).
#[derive(Debug, Clone, Copy)]
pub struct DoneParam(pub Option<Done>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for DoneParam {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let parsed: DoneQuery = axum::extract::Query::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or_default();
        Ok(DoneParam(parsed.done()))
    }
}

impl Done {
    /// The code in `?done=`.
    pub fn code(self) -> &'static str {
        CODES
            .iter()
            .find(|(_, done)| *done == self)
            .map_or("", |(code, _)| code)
    }

    /// The `Done` a code names.
    pub fn from_code(code: &str) -> Option<Done> {
        CODES
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(_, done)| *done)
    }

    /// `path` with `?done=<code>` (or `&done=` when it has a query).
    pub fn at(self, path: &str) -> String {
        let join = if path.contains('?') { '&' } else { '?' };
        format!("{path}{join}done={}", self.code())
    }

    /// What the page says, in `lang`. `who` is the subject where one is
    /// named: the staff member acted on, the masked phone number.
    pub fn words(self, lang: i18n::Lang, who: &str) -> String {
        lang.t_with(
            &format!("done-{}", self.code()),
            &[("who", i18n::Arg::from(who))],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_names_one_done_and_back() {
        for (code, done) in CODES {
            assert_eq!(done.code(), code);
            assert_eq!(Done::from_code(code), Some(done));
            for lang in i18n::Lang::ALL {
                let words = done.words(lang, "bob");
                assert!(!words.is_empty() && !words.starts_with("done-"), "{code}");
            }
        }
        let mut codes: Vec<&str> = CODES.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CODES.len());
    }

    #[test]
    fn unknown_or_hostile_codes_say_nothing() {
        for hostile in [
            "",
            "LOGGED-OUT",
            "logged-out ",
            "<script>",
            "logged-out\0",
            "é",
        ] {
            let query = DoneQuery {
                done: Some(hostile.into()),
            };
            assert_eq!(query.done(), None, "{hostile:?}");
        }
        assert_eq!(DoneQuery::default().done(), None);
    }

    #[test]
    fn the_code_joins_the_path_query() {
        assert_eq!(Done::LoggedOut.at("/login"), "/login?done=logged-out");
        assert_eq!(
            Done::Unlocked.at("/admin/staff/3?x=1"),
            "/admin/staff/3?x=1&done=unlock"
        );
    }
}
