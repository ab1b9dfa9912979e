//! Why the domain refused what a person asked, as a code with its values;
//! the words live in the catalogs (`locales/*/reasons.ftl`), so a page says
//! it in its reader's language and the CLI, the API and the logs in
//! English ([`Reason`]'s `Display`).

use i18n::{Arg, Lang};

/// Why something asked was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A new password is shorter than the policy's minimum.
    PasswordTooShort {
        /// The minimum, in characters.
        min: usize,
    },
    /// A new password is longer than 128 characters.
    PasswordTooLong,
    /// A new password is among the most common ones.
    PasswordCommon,
    /// A new password contains the username.
    PasswordHasUsername,
    /// A new password is easy to guess (zxcvbn); the hint is the catalog
    /// id of what makes it so, when known.
    PasswordGuessable {
        /// `guess-…`: the pattern zxcvbn found.
        hint: Option<&'static str>,
    },
    /// The password and its confirmation differ.
    PasswordsDiffer,
    /// The two new passwords (change of password) differ.
    NewPasswordsDiffer,
    /// The current password (change of password) is wrong.
    CurrentPasswordWrong,
    /// The person's own password, asked again, is wrong.
    PasswordWrong,
    /// A second factor is on file and the login is not recent.
    ProofNeeded,
    /// The code from the app or the recovery code is wrong.
    ProofWrong,
    /// The practice requires two-factor login; it stays on.
    TwoFactorRequired,
    /// Turning 2FA off needs a linked app.
    NoAuthenticator,
    /// The code from the app is wrong.
    AppCodeWrong,

    /// A username outside the allowed characters or length.
    UsernameForm,
    /// A username with the prefix kept for the API's users.
    UsernameApiPrefix,
    /// A username with a character names do not use.
    UsernameCharacter,
    /// A username that mixes scripts.
    UsernameMixedScripts,
    /// A username imitating a plain Latin one.
    UsernameLookAlike,
    /// The username is in use.
    UsernameTaken {
        /// The name asked for.
        username: String,
    },

    /// The action needs a practice administrator.
    NotAdmin,
    /// The administrator's own password, asked again, is wrong.
    AdminPasswordWrong,
    /// An email address that cannot be one.
    EmailInvalid,
    /// A role other than staff or admin.
    RoleInvalid,
    /// A display name too long or on several lines.
    DisplayNameInvalid {
        /// The longest allowed, in characters.
        max: usize,
    },
    /// No such account (or another practice's).
    NoSuchAccount,
    /// Disabling oneself or dropping one's own 2FA requirement.
    NotOnYourself,
    /// The account has a password: no invitation to resend.
    AlreadyHasPassword {
        /// Whose.
        username: String,
    },
    /// Administrators cannot be required to use passkeys this server
    /// cannot offer.
    PasskeysOffForAdmins,

    /// The remember-device days are out of range.
    RememberDaysRange {
        /// The most allowed.
        max: u32,
    },
    /// The idle timeout is out of range.
    IdleTimeoutRange {
        /// The fewest minutes allowed.
        min: u32,
        /// The most.
        max: u32,
    },
    /// The minimum password length is out of range.
    MinLengthRange {
        /// The deployment's floor.
        min: u32,
        /// The most allowed.
        max: u32,
    },
    /// A time zone name that cannot be one.
    ZoneForm,
    /// A time zone name the database does not know.
    ZoneUnknown {
        /// The name given.
        name: String,
    },

    /// No known country chosen for a phone number.
    PhoneCountry,
    /// No phone number typed (or far too long).
    PhoneEmpty,
    /// Not readable as a phone number of the country.
    PhoneUnreadable {
        /// The country's ISO code.
        country: String,
    },
    /// Readable, but no valid number of the country.
    PhoneInvalid {
        /// The country's ISO code.
        country: String,
    },

    /// This server cannot offer passkeys.
    PasskeysOff,
    /// The ceremony expired or was used already.
    CeremonyExpired,
    /// A passkey not registered for this account.
    PasskeyNotYours,
    /// A passkey whose counter went backwards.
    PasskeyCloned,
    /// A passkey that cannot sign in alone.
    PasskeyCannotSignIn,
    /// The most passkeys an account may have.
    PasskeyLimit {
        /// How many.
        max: usize,
    },
    /// The passkey is registered already.
    PasskeyDuplicate,
    /// An administrator's last passkey, where the practice requires one.
    PasskeyLastForAdmin,
    /// The only second factor, where the practice requires one.
    PasskeyOnlyFactor,
    /// The browser's answer was not accepted (the detail is audited).
    PasskeyAnswerRefused,
    /// A passkey name with control characters.
    PasskeyNameControl,
    /// A passkey name too long.
    PasskeyNameLong {
        /// The longest allowed, in characters.
        max: usize,
    },

    /// An application name empty, too long or unprintable.
    AppName,
    /// An application without a redirect URI.
    AppNoRedirect,
    /// Too many redirect URIs.
    AppTooManyUris {
        /// The most of each kind.
        max: usize,
    },
    /// No such application in the practice.
    AppUnknown,
    /// A redirect URI too long.
    UriTooLong {
        /// The most bytes.
        max: usize,
    },
    /// A redirect URI with spaces or control characters.
    UriSpaces {
        /// The URI given.
        uri: String,
    },
    /// A redirect URI that is not an absolute URL.
    UriNotAbsolute {
        /// The URI given.
        uri: String,
    },
    /// A redirect URI with a fragment.
    UriFragment {
        /// The URI given.
        uri: String,
    },
    /// A redirect URI with a user name or password.
    UriCredentials {
        /// The URI given.
        uri: String,
    },
    /// A plain-http redirect URI to another host than loopback.
    UriPlainHttp {
        /// The URI given.
        uri: String,
    },
    /// A redirect URI with another scheme than http(s).
    UriScheme {
        /// The URI given.
        uri: String,
        /// Its scheme.
        scheme: String,
    },

    /// A sign-in request without `client_id`.
    OidcNoClientId,
    /// A sign-in request from an unregistered client.
    OidcUnknownClient,
    /// A sign-in request without `redirect_uri`.
    OidcNoRedirectUri,
    /// A sign-in request to an unregistered redirect URI.
    OidcRedirectMismatch,
}

impl Reason {
    /// The catalog id of its words.
    pub fn id(&self) -> &'static str {
        use Reason as R;
        match self {
            R::PasswordTooShort { .. } => "reason-password-too-short",
            R::PasswordTooLong => "reason-password-too-long",
            R::PasswordCommon => "reason-password-common",
            R::PasswordHasUsername => "reason-password-has-username",
            R::PasswordGuessable { hint: None } => "reason-password-guessable",
            R::PasswordGuessable { hint: Some(_) } => "reason-password-guessable-because",
            R::PasswordsDiffer => "reason-passwords-differ",
            R::NewPasswordsDiffer => "reason-new-passwords-differ",
            R::CurrentPasswordWrong => "reason-current-password-wrong",
            R::PasswordWrong => "reason-password-wrong",
            R::ProofNeeded => "reason-proof-needed",
            R::ProofWrong => "reason-proof-wrong",
            R::TwoFactorRequired => "reason-two-factor-required",
            R::NoAuthenticator => "reason-no-authenticator",
            R::AppCodeWrong => "reason-app-code-wrong",
            R::UsernameForm => "reason-username-form",
            R::UsernameApiPrefix => "reason-username-api-prefix",
            R::UsernameCharacter => "reason-username-character",
            R::UsernameMixedScripts => "reason-username-mixed-scripts",
            R::UsernameLookAlike => "reason-username-look-alike",
            R::UsernameTaken { .. } => "reason-username-taken",
            R::NotAdmin => "reason-not-admin",
            R::AdminPasswordWrong => "reason-admin-password-wrong",
            R::EmailInvalid => "reason-email-invalid",
            R::RoleInvalid => "reason-role-invalid",
            R::DisplayNameInvalid { .. } => "reason-display-name-invalid",
            R::NoSuchAccount => "reason-no-such-account",
            R::NotOnYourself => "reason-not-on-yourself",
            R::AlreadyHasPassword { .. } => "reason-already-has-password",
            R::PasskeysOffForAdmins => "reason-passkeys-off-for-admins",
            R::RememberDaysRange { .. } => "reason-remember-days-range",
            R::IdleTimeoutRange { .. } => "reason-idle-timeout-range",
            R::MinLengthRange { .. } => "reason-min-length-range",
            R::ZoneForm => "reason-zone-form",
            R::ZoneUnknown { .. } => "reason-zone-unknown",
            R::PhoneCountry => "reason-phone-country",
            R::PhoneEmpty => "reason-phone-empty",
            R::PhoneUnreadable { .. } => "reason-phone-unreadable",
            R::PhoneInvalid { .. } => "reason-phone-invalid",
            R::PasskeysOff => "reason-passkeys-off",
            R::CeremonyExpired => "reason-ceremony-expired",
            R::PasskeyNotYours => "reason-passkey-not-yours",
            R::PasskeyCloned => "reason-passkey-cloned",
            R::PasskeyCannotSignIn => "reason-passkey-cannot-sign-in",
            R::PasskeyLimit { .. } => "reason-passkey-limit",
            R::PasskeyDuplicate => "reason-passkey-duplicate",
            R::PasskeyLastForAdmin => "reason-passkey-last-for-admin",
            R::PasskeyOnlyFactor => "reason-passkey-only-factor",
            R::PasskeyAnswerRefused => "reason-passkey-answer-refused",
            R::PasskeyNameControl => "reason-passkey-name-control",
            R::PasskeyNameLong { .. } => "reason-passkey-name-long",
            R::AppName => "reason-app-name",
            R::AppNoRedirect => "reason-app-no-redirect",
            R::AppTooManyUris { .. } => "reason-app-too-many-uris",
            R::AppUnknown => "reason-app-unknown",
            R::UriTooLong { .. } => "reason-uri-too-long",
            R::UriSpaces { .. } => "reason-uri-spaces",
            R::UriNotAbsolute { .. } => "reason-uri-not-absolute",
            R::UriFragment { .. } => "reason-uri-fragment",
            R::UriCredentials { .. } => "reason-uri-credentials",
            R::UriPlainHttp { .. } => "reason-uri-plain-http",
            R::UriScheme { .. } => "reason-uri-scheme",
            R::OidcNoClientId => "reason-oidc-no-client-id",
            R::OidcUnknownClient => "reason-oidc-unknown-client",
            R::OidcNoRedirectUri => "reason-oidc-no-redirect-uri",
            R::OidcRedirectMismatch => "reason-oidc-redirect-mismatch",
        }
    }

    /// The values its words name.
    fn args(&self, lang: Lang) -> Vec<(&'static str, Arg)> {
        use Reason as R;
        let count = |n: usize| Arg::Number(u64::try_from(n).unwrap_or(u64::MAX));
        match self {
            R::PasswordTooShort { min } => vec![("count", count(*min))],
            R::PasswordGuessable { hint: Some(hint) } => vec![("why", Arg::from(lang.t(hint)))],
            R::UsernameTaken { username } | R::AlreadyHasPassword { username } => {
                vec![("name", Arg::from(username))]
            }
            R::DisplayNameInvalid { max }
            | R::PasskeyLimit { max }
            | R::PasskeyNameLong { max }
            | R::AppTooManyUris { max }
            | R::UriTooLong { max } => vec![("count", count(*max))],
            R::RememberDaysRange { max } => vec![("max", Arg::from(*max))],
            R::IdleTimeoutRange { min, max } | R::MinLengthRange { min, max } => {
                vec![("min", Arg::from(*min)), ("max", Arg::from(*max))]
            }
            R::ZoneUnknown { name } => vec![("name", Arg::from(name))],
            R::PhoneUnreadable { country } | R::PhoneInvalid { country } => {
                vec![("country", Arg::from(country))]
            }
            R::UriSpaces { uri }
            | R::UriNotAbsolute { uri }
            | R::UriFragment { uri }
            | R::UriCredentials { uri }
            | R::UriPlainHttp { uri } => vec![("uri", Arg::from(uri))],
            R::UriScheme { uri, scheme } => {
                vec![("uri", Arg::from(uri)), ("scheme", Arg::from(scheme))]
            }
            _ => Vec::new(),
        }
    }

    /// The form field it is about, by a name every form shares
    /// (`new-password`, `username`, …), so a page can mark that field and
    /// put the focus on it; `None` when it is about no one field.
    pub fn field(&self) -> Option<&'static str> {
        use Reason as R;
        Some(match self {
            R::PasswordTooShort { .. }
            | R::PasswordTooLong
            | R::PasswordCommon
            | R::PasswordHasUsername
            | R::PasswordGuessable { .. } => "new-password",
            R::PasswordsDiffer | R::NewPasswordsDiffer => "new-password-confirm",
            R::CurrentPasswordWrong | R::PasswordWrong | R::AdminPasswordWrong => "own-password",
            R::ProofNeeded | R::ProofWrong | R::AppCodeWrong => "proof",
            R::UsernameForm
            | R::UsernameApiPrefix
            | R::UsernameCharacter
            | R::UsernameMixedScripts
            | R::UsernameLookAlike
            | R::UsernameTaken { .. } => "username",
            R::EmailInvalid => "email",
            R::RoleInvalid => "role",
            R::DisplayNameInvalid { .. } => "display-name",
            R::RememberDaysRange { .. } => "remember-days",
            R::IdleTimeoutRange { .. } => "idle-minutes",
            R::MinLengthRange { .. } => "min-length",
            R::ZoneForm | R::ZoneUnknown { .. } => "time-zone",
            R::PhoneCountry => "country",
            R::PhoneEmpty | R::PhoneUnreadable { .. } | R::PhoneInvalid { .. } => "phone",
            R::PasskeyNameControl | R::PasskeyNameLong { .. } => "passkey-name",
            R::AppName => "app-name",
            R::AppNoRedirect
            | R::AppTooManyUris { .. }
            | R::UriTooLong { .. }
            | R::UriSpaces { .. }
            | R::UriNotAbsolute { .. }
            | R::UriFragment { .. }
            | R::UriCredentials { .. }
            | R::UriPlainHttp { .. }
            | R::UriScheme { .. } => "redirect-uris",
            R::TwoFactorRequired
            | R::NoAuthenticator
            | R::NotAdmin
            | R::NoSuchAccount
            | R::NotOnYourself
            | R::AlreadyHasPassword { .. }
            | R::PasskeysOffForAdmins
            | R::PasskeysOff
            | R::CeremonyExpired
            | R::PasskeyNotYours
            | R::PasskeyCloned
            | R::PasskeyCannotSignIn
            | R::PasskeyLimit { .. }
            | R::PasskeyDuplicate
            | R::PasskeyLastForAdmin
            | R::PasskeyOnlyFactor
            | R::PasskeyAnswerRefused
            | R::AppUnknown
            | R::OidcNoClientId
            | R::OidcUnknownClient
            | R::OidcNoRedirectUri
            | R::OidcRedirectMismatch => return None,
        })
    }

    /// In `lang`'s words.
    pub fn words(&self, lang: Lang) -> String {
        lang.t_with(self.id(), &self.args(lang))
    }
}

impl std::fmt::Display for Reason {
    /// In English, for the CLI, the API and the logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words(Lang::En))
    }
}

/// The catalog id of what zxcvbn found weak in a password.
pub(crate) fn guess_hint(warning: zxcvbn::feedback::Warning) -> &'static str {
    use zxcvbn::feedback::Warning as W;
    match warning {
        W::StraightRowsOfKeysAreEasyToGuess => "guess-straight-rows",
        W::ShortKeyboardPatternsAreEasyToGuess => "guess-keyboard-patterns",
        W::RepeatsLikeAaaAreEasyToGuess => "guess-repeats",
        W::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => "guess-repeated-groups",
        W::ThisIsATop10Password => "guess-top-10",
        W::ThisIsATop100Password => "guess-top-100",
        W::ThisIsACommonPassword => "guess-common",
        W::ThisIsSimilarToACommonlyUsedPassword => "guess-similar-to-common",
        W::SequencesLikeAbcAreEasyToGuess => "guess-sequences",
        W::RecentYearsAreEasyToGuess => "guess-recent-years",
        W::AWordByItselfIsEasyToGuess => "guess-single-word",
        W::DatesAreOftenEasyToGuess => "guess-dates",
        W::NamesAndSurnamesByThemselvesAreEasyToGuess => "guess-names",
        W::CommonNamesAndSurnamesAreEasyToGuess => "guess-common-names",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every reason, with values; the match makes a new variant
    /// fail to compile here until it is listed.
    fn every_reason() -> Vec<Reason> {
        use Reason as R;
        let uri = || "http://x.example/cb".to_owned();
        let all = vec![
            R::PasswordTooShort { min: 12 },
            R::PasswordTooLong,
            R::PasswordCommon,
            R::PasswordHasUsername,
            R::PasswordGuessable { hint: None },
            R::PasswordGuessable {
                hint: Some("guess-dates"),
            },
            R::PasswordsDiffer,
            R::NewPasswordsDiffer,
            R::CurrentPasswordWrong,
            R::PasswordWrong,
            R::ProofNeeded,
            R::ProofWrong,
            R::TwoFactorRequired,
            R::NoAuthenticator,
            R::AppCodeWrong,
            R::UsernameForm,
            R::UsernameApiPrefix,
            R::UsernameCharacter,
            R::UsernameMixedScripts,
            R::UsernameLookAlike,
            R::UsernameTaken {
                username: "alice".into(),
            },
            R::NotAdmin,
            R::AdminPasswordWrong,
            R::EmailInvalid,
            R::RoleInvalid,
            R::DisplayNameInvalid { max: 100 },
            R::NoSuchAccount,
            R::NotOnYourself,
            R::AlreadyHasPassword {
                username: "alice".into(),
            },
            R::PasskeysOffForAdmins,
            R::RememberDaysRange { max: 30 },
            R::IdleTimeoutRange { min: 5, max: 240 },
            R::MinLengthRange { min: 8, max: 64 },
            R::ZoneForm,
            R::ZoneUnknown {
                name: "Mars/Olympus".into(),
            },
            R::PhoneCountry,
            R::PhoneEmpty,
            R::PhoneUnreadable {
                country: "US".into(),
            },
            R::PhoneInvalid {
                country: "US".into(),
            },
            R::PasskeysOff,
            R::CeremonyExpired,
            R::PasskeyNotYours,
            R::PasskeyCloned,
            R::PasskeyCannotSignIn,
            R::PasskeyLimit { max: 10 },
            R::PasskeyDuplicate,
            R::PasskeyLastForAdmin,
            R::PasskeyOnlyFactor,
            R::PasskeyAnswerRefused,
            R::PasskeyNameControl,
            R::PasskeyNameLong { max: 64 },
            R::AppName,
            R::AppNoRedirect,
            R::AppTooManyUris { max: 10 },
            R::AppUnknown,
            R::UriTooLong { max: 2000 },
            R::UriSpaces { uri: uri() },
            R::UriNotAbsolute { uri: uri() },
            R::UriFragment { uri: uri() },
            R::UriCredentials { uri: uri() },
            R::UriPlainHttp { uri: uri() },
            R::UriScheme {
                uri: uri(),
                scheme: "ftp".into(),
            },
            R::OidcNoClientId,
            R::OidcUnknownClient,
            R::OidcNoRedirectUri,
            R::OidcRedirectMismatch,
        ];
        for reason in &all {
            match reason {
                R::PasswordTooShort { .. }
                | R::PasswordTooLong
                | R::PasswordCommon
                | R::PasswordHasUsername
                | R::PasswordGuessable { .. }
                | R::PasswordsDiffer
                | R::NewPasswordsDiffer
                | R::CurrentPasswordWrong
                | R::PasswordWrong
                | R::ProofNeeded
                | R::ProofWrong
                | R::TwoFactorRequired
                | R::NoAuthenticator
                | R::AppCodeWrong
                | R::UsernameForm
                | R::UsernameApiPrefix
                | R::UsernameCharacter
                | R::UsernameMixedScripts
                | R::UsernameLookAlike
                | R::UsernameTaken { .. }
                | R::NotAdmin
                | R::AdminPasswordWrong
                | R::EmailInvalid
                | R::RoleInvalid
                | R::DisplayNameInvalid { .. }
                | R::NoSuchAccount
                | R::NotOnYourself
                | R::AlreadyHasPassword { .. }
                | R::PasskeysOffForAdmins
                | R::RememberDaysRange { .. }
                | R::IdleTimeoutRange { .. }
                | R::MinLengthRange { .. }
                | R::ZoneForm
                | R::ZoneUnknown { .. }
                | R::PhoneCountry
                | R::PhoneEmpty
                | R::PhoneUnreadable { .. }
                | R::PhoneInvalid { .. }
                | R::PasskeysOff
                | R::CeremonyExpired
                | R::PasskeyNotYours
                | R::PasskeyCloned
                | R::PasskeyCannotSignIn
                | R::PasskeyLimit { .. }
                | R::PasskeyDuplicate
                | R::PasskeyLastForAdmin
                | R::PasskeyOnlyFactor
                | R::PasskeyAnswerRefused
                | R::PasskeyNameControl
                | R::PasskeyNameLong { .. }
                | R::AppName
                | R::AppNoRedirect
                | R::AppTooManyUris { .. }
                | R::AppUnknown
                | R::UriTooLong { .. }
                | R::UriSpaces { .. }
                | R::UriNotAbsolute { .. }
                | R::UriFragment { .. }
                | R::UriCredentials { .. }
                | R::UriPlainHttp { .. }
                | R::UriScheme { .. }
                | R::OidcNoClientId
                | R::OidcUnknownClient
                | R::OidcNoRedirectUri
                | R::OidcRedirectMismatch => {}
            }
        }
        all
    }

    #[test]
    fn every_reason_has_words_with_its_values_in_every_language() {
        for lang in Lang::ALL {
            let ids = i18n::catalog_ids(lang);
            for reason in every_reason() {
                assert!(ids.iter().any(|id| id == reason.id()), "{reason:?}");
                let words = reason.words(lang);
                assert!(
                    !words.contains('{') && !words.starts_with("reason-"),
                    "{}: {reason:?} renders as {words:?}",
                    lang.tag()
                );
                for (_, arg) in reason.args(lang) {
                    if let Arg::Text(text) = arg {
                        assert!(words.contains(&text), "{}: {words:?}", lang.tag());
                    }
                }
            }
        }
    }

    #[test]
    fn every_guess_hint_has_words() {
        use zxcvbn::feedback::Warning as W;
        for warning in [
            W::StraightRowsOfKeysAreEasyToGuess,
            W::ShortKeyboardPatternsAreEasyToGuess,
            W::RepeatsLikeAaaAreEasyToGuess,
            W::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess,
            W::ThisIsATop10Password,
            W::ThisIsATop100Password,
            W::ThisIsACommonPassword,
            W::ThisIsSimilarToACommonlyUsedPassword,
            W::SequencesLikeAbcAreEasyToGuess,
            W::RecentYearsAreEasyToGuess,
            W::AWordByItselfIsEasyToGuess,
            W::DatesAreOftenEasyToGuess,
            W::NamesAndSurnamesByThemselvesAreEasyToGuess,
            W::CommonNamesAndSurnamesAreEasyToGuess,
        ] {
            for lang in Lang::ALL {
                assert!(
                    i18n::catalog_ids(lang)
                        .iter()
                        .any(|id| id == guess_hint(warning)),
                    "{warning:?}"
                );
            }
        }
    }

    #[test]
    fn english_is_what_the_cli_and_the_logs_say() {
        assert_eq!(
            Reason::UsernameTaken {
                username: "alice".into()
            }
            .to_string(),
            "The username alice is taken."
        );
        assert_eq!(
            Reason::PasswordTooShort { min: 12 }.words(Lang::Es),
            "La contraseña debe tener al menos 12 caracteres."
        );
    }
}
