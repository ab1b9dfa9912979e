//! Passkeys and security keys (WebAuthn): where they work, the ceremonies'
//! server half, and the rules around them. The protocol itself (CBOR,
//! attestation, signatures, the signature counter) is webauthn-rs's.
//!
//! - The relying party comes from `public_url` ([`RelyingParty::for_public_url`]):
//!   browsers accept passkeys only on https origins and on
//!   `http://localhost`, and never with an IP address as the relying-party
//!   id; anywhere else passkeys are off and the start says why.
//! - A ceremony's state is stored under a key made of what it is for and
//!   the hash of the session (or of the sign-in cookie) it belongs to, and
//!   taken once ([`CeremonyKey`]); it lives [`CEREMONY_SECONDS`].
//! - User handles are random ([`new_user_handle`]), never the username.
//! - A signature counter that goes backwards refuses the login
//!   ([`Refusal::PossiblyCloned`]).

use webauthn_rs::prelude::DiscoverableAuthentication;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid,
    Webauthn, WebauthnBuilder, WebauthnError,
};

use crate::UserId;

/// A passkey or security key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    /// Row id.
    pub id: i64,
    /// Whose it is.
    pub user_id: UserId,
    /// The credential id, base64url ([`credential_id_text`]).
    pub credential_id: String,
    /// What the user called it.
    pub name: String,
    /// webauthn-rs's record ([`to_record`]): public key, counter, backup state.
    pub record: String,
    /// Backed up (synced) by its provider.
    pub backed_up: bool,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last sign-in with it.
    pub last_used_at: Option<u64>,
}

impl std::fmt::Debug for StoredPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPasskey")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How long a ceremony may take, from its options to its answer.
pub const CEREMONY_SECONDS: u64 = 300;

/// Passkeys and security keys a user may have at most.
pub const MAX_PER_USER: usize = 10;

/// Longest name a user may give one.
pub const MAX_NAME_CHARS: usize = 64;

/// Largest answer from the browser read (an attestation is a few KiB).
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// The relying party: the site passkeys are bound to.
pub struct RelyingParty {
    /// The relying-party id (the host name).
    pub id: String,
    webauthn: Webauthn,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What a browser's answer to a ceremony came to, when it is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Unreadable, oversized, or not an answer to this ceremony (another
    /// origin's, another user's, a replay, an unknown credential).
    Invalid(String),
    /// The signature counter went backwards: the key may have been copied.
    PossiblyCloned,
}

impl RelyingParty {
    /// The relying party for the site at `public_url`, or why passkeys
    /// cannot work there (one line, for the start's log and the pages).
    pub fn for_public_url(public_url: &str, site_name: &str) -> Result<Self, String> {
        let url = Url::parse(public_url).map_err(|e| {
            format!("passkeys are off: public_url {public_url:?} is not a URL ({e})")
        })?;
        let host = match url.host() {
            Some(url::Host::Domain(host)) => host.to_ascii_lowercase(),
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => {
                return Err(format!(
                    "passkeys are off: public_url {public_url} names an IP address, and browsers \
                     accept passkeys only for a domain name (https://…) or http://localhost"
                ));
            }
            None => {
                return Err(format!(
                    "passkeys are off: public_url {public_url} has no host"
                ));
            }
        };
        let localhost = host == "localhost";
        match url.scheme() {
            "https" => {}
            "http" if localhost => {}
            _ => {
                return Err(format!(
                    "passkeys are off: public_url {public_url} is not https, and browsers \
                     accept passkeys only over https or on http://localhost"
                ));
            }
        }
        let mut origin = url.clone();
        origin.set_path("");
        origin.set_query(None);
        origin.set_fragment(None);
        let webauthn = WebauthnBuilder::new(&host, &origin)
            .map(|b| b.rp_name(site_name))
            // On localhost (the demo, tests, a machine's own browser) the
            // port is whatever the server was given; nothing but this
            // machine answers there.
            .map(|b| b.allow_any_port(localhost))
            .and_then(WebauthnBuilder::build)
            .map_err(|e| format!("passkeys are off: {e}"))?;
        Ok(RelyingParty { id: host, webauthn })
    }

    /// Options for registering a new credential for a user (handle, name),
    /// excluding the ones they have; and the state to keep until the answer.
    pub fn start_registration(
        &self,
        handle: &str,
        username: &str,
        display_name: &str,
        existing: &[Passkey],
    ) -> Result<(serde_json::Value, String), String> {
        let handle = Uuid::parse_str(handle).map_err(|e| format!("user handle: {e}"))?;
        let exclude = existing.iter().map(|p| p.cred_id().clone()).collect();
        let (options, state): (CreationChallengeResponse, _) = self
            .webauthn
            .start_passkey_registration(handle, username, display_name, Some(exclude))
            .map_err(|e| e.to_string())?;
        let mut options = serde_json::to_value(&options).map_err(|e| e.to_string())?;
        // A discoverable credential where the authenticator can keep one,
        // so the same passkey can later sign in without the password.
        if let Some(selection) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(serde_json::Value::as_object_mut)
        {
            selection.insert("residentKey".into(), "preferred".into());
        }
        Ok((options, to_state(&state)?))
    }

    /// The registered credential, if `answer` (the browser's JSON) answers
    /// the ceremony kept as `state`.
    pub fn finish_registration(&self, answer: &str, state: &str) -> Result<Passkey, Refusal> {
        let answer: RegisterPublicKeyCredential = from_answer(answer)?;
        let state: PasskeyRegistration = from_state(state)?;
        self.webauthn
            .finish_passkey_registration(&answer, &state)
            .map_err(refusal)
    }

    /// Options for proving one of `passkeys` (the second factor); the state
    /// to keep until the answer.
    pub fn start_authentication(
        &self,
        passkeys: &[Passkey],
    ) -> Result<(RequestChallengeResponse, String), String> {
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(passkeys)
            .map_err(|e| e.to_string())?;
        Ok((options, to_state(&state)?))
    }

    /// Which credential `answer` used, if it answers the ceremony kept as
    /// `state`: its id, and the stored record updated (counter, backup).
    pub fn finish_authentication(
        &self,
        answer: &str,
        state: &str,
        passkeys: &mut [Passkey],
    ) -> Result<usize, Refusal> {
        let answer: PublicKeyCredential = from_answer(answer)?;
        let state: PasskeyAuthentication = from_state(state)?;
        let result = self
            .webauthn
            .finish_passkey_authentication(&answer, &state)
            .map_err(refusal)?;
        let used = passkeys
            .iter()
            .position(|p| p.cred_id() == result.cred_id())
            .ok_or_else(|| Refusal::Invalid("not one of this user's passkeys".into()))?;
        if let Some(passkey) = passkeys.get_mut(used) {
            passkey.update_credential(&result);
        }
        Ok(used)
    }

    /// Options for signing in with a discoverable passkey (no username);
    /// the state to keep until the answer.
    pub fn start_sign_in(&self) -> Result<(RequestChallengeResponse, String), String> {
        let (options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| e.to_string())?;
        Ok((options, to_state(&state)?))
    }

    /// The user handle and credential id a sign-in answer names (not yet
    /// checked: look the credential up, then [`RelyingParty::finish_sign_in`]).
    pub fn identify(&self, answer: &str) -> Result<(String, String), Refusal> {
        let answer: PublicKeyCredential = from_answer(answer)?;
        let (handle, credential) = self
            .webauthn
            .identify_discoverable_authentication(&answer)
            .map_err(refusal)?;
        Ok((handle.to_string(), credential_id_text(credential)))
    }

    /// Whether a sign-in `answer` is `passkey`'s answer to the ceremony
    /// kept as `state`; the record updated when it is.
    pub fn finish_sign_in(
        &self,
        answer: &str,
        state: &str,
        passkey: &mut Passkey,
    ) -> Result<(), Refusal> {
        let answer: PublicKeyCredential = from_answer(answer)?;
        let state: DiscoverableAuthentication = from_state(state)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(&answer, state, &*passkey)
            .map_err(refusal)?;
        if !result.user_verified() {
            return Err(Refusal::Invalid(
                "the authenticator did not verify the user".into(),
            ));
        }
        passkey.update_credential(&result);
        Ok(())
    }
}

/// A credential id as stored: base64url without padding.
pub fn credential_id_text(id: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// The stored id of `passkey`'s credential.
pub fn credential_id(passkey: &Passkey) -> String {
    credential_id_text(passkey.cred_id().as_ref())
}

/// Whether the credential is backed up (synced between devices).
pub fn backed_up(passkey: &Passkey) -> bool {
    webauthn_rs::prelude::Credential::from(passkey.clone()).backup_state
}

/// A passkey's stored record.
pub fn to_record(passkey: &Passkey) -> Result<String, String> {
    serde_json::to_string(passkey).map_err(|e| e.to_string())
}

/// A stored record as a passkey.
pub fn from_record(record: &str) -> Result<Passkey, String> {
    serde_json::from_str(record).map_err(|e| format!("stored passkey: {e}"))
}

/// A random user handle (a UUID's text): never derived from the username.
pub fn new_user_handle() -> Result<String, getrandom::Error> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string())
}

/// A passkey's name as the user typed it: trimmed, control characters
/// refused, at most [`MAX_NAME_CHARS`]; empty becomes "Passkey".
pub fn clean_name(typed: &str) -> Result<String, crate::Reason> {
    let name = typed.trim();
    if name.chars().any(char::is_control) {
        return Err(crate::Reason::PasskeyNameControl);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(crate::Reason::PasskeyNameLong {
            max: MAX_NAME_CHARS,
        });
    }
    Ok(if name.is_empty() {
        "Passkey".to_owned()
    } else {
        name.to_owned()
    })
}

/// What a ceremony is for; with the hash it is bound to, its storage key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKey {
    /// Adding a passkey, for a signed-in session.
    Register,
    /// The second factor, for a half-logged-in session.
    SecondFactor,
    /// Signing in without a password, for a sign-in cookie.
    SignIn,
}

impl CeremonyKey {
    /// The storage key for the session (or cookie) whose hash is `bound_to`.
    pub fn of(self, bound_to: &str) -> String {
        let purpose = match self {
            CeremonyKey::Register => "register",
            CeremonyKey::SecondFactor => "2fa",
            CeremonyKey::SignIn => "signin",
        };
        format!("{purpose}:{bound_to}")
    }
}

fn to_state<T: serde::Serialize>(state: &T) -> Result<String, String> {
    serde_json::to_string(state).map_err(|e| e.to_string())
}

fn from_state<T: serde::de::DeserializeOwned>(state: &str) -> Result<T, Refusal> {
    serde_json::from_str(state)
        .map_err(|_| Refusal::Invalid("the ceremony is not this kind".into()))
}

fn from_answer<T: serde::de::DeserializeOwned>(answer: &str) -> Result<T, Refusal> {
    if answer.len() > MAX_ANSWER_BYTES {
        return Err(Refusal::Invalid("the answer is too large".into()));
    }
    serde_json::from_str(answer)
        .map_err(|_| Refusal::Invalid("the answer is not a WebAuthn credential".into()))
}

fn refusal(error: WebauthnError) -> Refusal {
    match error {
        WebauthnError::CredentialPossibleCompromise => Refusal::PossiblyCloned,
        other => Refusal::Invalid(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soft_authenticator::{Answer, SoftKey};

    const SITE: &str = "https://clinic.example";
    const HERE: Answer<'static> = Answer {
        origin: SITE,
        rp_id: "clinic.example",
        counter: 1,
        user_handle: None,
    };

    /// Options for `keys` at the clinic, as the page gets them, and the state.
    fn ceremony(rp: &RelyingParty, keys: &[Passkey]) -> (serde_json::Value, String) {
        let (options, state) = rp.start_authentication(keys).unwrap();
        (serde_json::to_value(&options).unwrap(), state)
    }

    #[test]
    fn a_signed_answer_from_our_origin_is_accepted_and_updates_the_counter() {
        let rp = RelyingParty::for_public_url(SITE, "Clinic").unwrap();
        let key = SoftKey::new(1).unwrap();
        let mut held = vec![key.passkey.clone()];
        let (options, state) = ceremony(&rp, &held);
        let answer = key.answer(&options, &Answer { counter: 5, ..HERE });
        assert_eq!(rp.finish_authentication(&answer, &state, &mut held), Ok(0));
        assert_eq!(held[0].cred_id(), key.passkey.cred_id());
        // A later login with a counter below 5: a copied key.
        let (options, state) = ceremony(&rp, &held);
        let copied = key.answer(&options, &Answer { counter: 3, ..HERE });
        assert_eq!(
            rp.finish_authentication(&copied, &state, &mut held),
            Err(Refusal::PossiblyCloned)
        );
    }

    #[test]
    fn answers_made_for_another_site_or_ceremony_are_refused() {
        let rp = RelyingParty::for_public_url(SITE, "Clinic").unwrap();
        let key = SoftKey::new(2).unwrap();
        let mut held = vec![key.passkey.clone()];
        let (options, state) = ceremony(&rp, &held);
        let phishing = Answer {
            origin: "https://clinic-login.example",
            ..HERE
        };
        let other_rp = Answer {
            rp_id: "clinic-login.example",
            ..HERE
        };
        let other_port = Answer {
            origin: "https://clinic.example:8443",
            ..HERE
        };
        for how in [&phishing, &other_rp, &other_port] {
            let answer = key.answer(&options, how);
            assert!(
                matches!(
                    rp.finish_authentication(&answer, &state, &mut held),
                    Err(Refusal::Invalid(_))
                ),
                "{}",
                how.origin
            );
        }
        // Another ceremony's challenge, signed correctly: not this one.
        let (other_options, _) = ceremony(&rp, &held);
        let stale = key.answer(&other_options, &HERE);
        assert!(matches!(
            rp.finish_authentication(&stale, &state, &mut held),
            Err(Refusal::Invalid(_))
        ));
        // A key the user does not have: refused, even with a good signature.
        let stranger = SoftKey::new(3).unwrap();
        let foreign = stranger.answer(&options, &HERE);
        assert!(
            rp.finish_authentication(&foreign, &state, &mut held)
                .is_err()
        );
        // The right answer still works: the refusals changed nothing.
        let right = key.answer(&options, &HERE);
        assert_eq!(rp.finish_authentication(&right, &state, &mut held), Ok(0));
    }

    #[test]
    fn passkeys_work_only_where_browsers_allow_them() {
        for (url, id) in [
            ("https://login.clinic.example", "login.clinic.example"),
            ("https://Login.Clinic.Example:8443/", "login.clinic.example"),
            ("http://localhost:8080", "localhost"),
            ("http://localhost", "localhost"),
        ] {
            let rp = RelyingParty::for_public_url(url, "Clinic").unwrap();
            assert_eq!(rp.id, id, "{url}");
        }
        for (url, why) in [
            ("http://127.0.0.1:8080", "IP address"),
            ("https://10.0.0.7", "IP address"),
            ("https://[::1]:8443", "IP address"),
            ("http://login.clinic.example", "not https"),
            ("ftp://localhost", "not https"),
            ("not a url", "not a URL"),
        ] {
            let error = RelyingParty::for_public_url(url, "Clinic").unwrap_err();
            assert!(error.starts_with("passkeys are off"), "{url}: {error}");
            assert!(error.contains(why), "{url}: {error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn registration_options_exclude_nothing_new_and_keep_a_state() {
        let rp = RelyingParty::for_public_url("https://login.clinic.example", "Clinic").unwrap();
        let handle = new_user_handle().unwrap();
        let (options, state) = rp
            .start_registration(&handle, "drsmith", "Dr Smith", &[])
            .unwrap();
        let json = options;
        assert_eq!(
            json["publicKey"]["authenticatorSelection"]["residentKey"],
            "preferred"
        );
        assert_eq!(json["publicKey"]["rp"]["id"], "login.clinic.example");
        assert_eq!(json["publicKey"]["user"]["name"], "drsmith");
        // The handle sent is the random one, not the username.
        let sent = json["publicKey"]["user"]["id"].as_str().unwrap();
        assert!(!sent.contains("drsmith"));
        assert!(!state.is_empty());
        // A state of one kind is not an answer's state of another.
        assert!(matches!(
            rp.finish_authentication("{}", &state, &mut []),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn hostile_answers_are_refused_plainly() {
        let rp = RelyingParty::for_public_url("http://localhost:8080", "Clinic").unwrap();
        let (_, state) = rp
            .start_registration(&new_user_handle().unwrap(), "a", "a", &[])
            .unwrap();
        let huge = format!("{{\"id\":\"{}\"}}", "A".repeat(MAX_ANSWER_BYTES));
        for answer in ["", "null", "{", "[]", "{\"id\":1}", huge.as_str(), "\u{0}"] {
            assert!(
                matches!(
                    rp.finish_registration(answer, &state),
                    Err(Refusal::Invalid(_))
                ),
                "{answer:.40}"
            );
            assert!(
                matches!(rp.identify(answer), Err(Refusal::Invalid(_))),
                "{answer:.40}"
            );
        }
        assert!(matches!(
            rp.finish_registration("{}", "not a state"),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn handles_are_random_and_names_are_checked() {
        let (a, b) = (new_user_handle().unwrap(), new_user_handle().unwrap());
        assert_ne!(a, b);
        assert!(Uuid::parse_str(&a).is_ok());
        assert_eq!(clean_name("  Office key ").unwrap(), "Office key");
        assert_eq!(clean_name("").unwrap(), "Passkey");
        assert!(clean_name("a\u{7}b").is_err());
        assert!(clean_name(&"x".repeat(65)).is_err());
        assert_eq!(clean_name(&"é".repeat(64)).unwrap().chars().count(), 64);
    }

    #[test]
    fn ceremonies_are_keyed_by_purpose_and_binding() {
        let h = "ab".repeat(32);
        let keys = [
            CeremonyKey::Register,
            CeremonyKey::SecondFactor,
            CeremonyKey::SignIn,
        ]
        .map(|k| k.of(&h));
        assert_eq!(
            keys.iter().collect::<std::collections::HashSet<_>>().len(),
            3
        );
        assert!(keys.iter().all(|k| k.ends_with(&h)));
        assert_eq!(credential_id_text(&[0xfb, 0xff]), "-_8");
    }
}
