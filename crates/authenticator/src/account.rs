//! One account in the vault: what an authenticator app stores per QR code.

use otp::{Algorithm, Digits, OtpAuthUri, OtpKind, Period, Secret};
use serde::{Deserialize, Serialize};

/// An account as stored (inside the encrypted vault only).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// A short random id, stable for the account's life in this vault: the
    /// one name that tells apart two accounts with the same issuer and
    /// label. Vaults written before ids existed get theirs when opened.
    #[serde(default)]
    pub id: String,
    /// Who the account is with ("Main St Clinic").
    pub issuer: Option<String>,
    /// The account name ("drsmith").
    pub label: String,
    /// Base32 secret.
    pub secret: String,
    /// SHA1, SHA256 or SHA512.
    pub algorithm: String,
    /// 6 to 8.
    pub digits: u8,
    /// TOTP period in seconds; absent for HOTP.
    pub period: Option<u32>,
    /// HOTP next counter; absent for TOTP.
    pub counter: Option<u64>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("issuer", &self.issuer)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// From a parsed `otpauth://` URI.
    pub fn from_uri(uri: &OtpAuthUri) -> Self {
        let (period, counter) = match uri.kind {
            OtpKind::Totp { period } => (Some(period.seconds()), None),
            OtpKind::Hotp { counter } => (None, Some(counter)),
        };
        Account {
            id: String::new(),
            issuer: uri.issuer.clone(),
            label: uri.account.clone(),
            secret: uri.secret.to_base32(),
            algorithm: uri.algorithm.uri_name().to_owned(),
            digits: uri.digits.get(),
            period,
            counter,
        }
    }

    /// Back to a URI (for export), or an error if the stored data is damaged.
    pub fn to_uri(&self) -> Result<OtpAuthUri, String> {
        let kind = match (self.period, self.counter) {
            (_, Some(counter)) => OtpKind::Hotp { counter },
            (Some(p), None) => OtpKind::Totp {
                period: Period::new(u64::from(p)).map_err(|e| e.to_string())?,
            },
            (None, None) => OtpKind::Totp {
                period: Period::DEFAULT,
            },
        };
        Ok(OtpAuthUri {
            kind,
            issuer: self.issuer.clone(),
            account: self.label.clone(),
            secret: Secret::from_base32(&self.secret).map_err(|e| e.to_string())?,
            algorithm: self
                .algorithm
                .parse::<Algorithm>()
                .map_err(|e| e.to_string())?,
            digits: Digits::new(u64::from(self.digits)).map_err(|e| e.to_string())?,
        })
    }

    /// "Issuer (label)" or just the label: how lists show the account.
    pub fn display_name(&self) -> String {
        match &self.issuer {
            Some(issuer) => format!("{issuer} ({})", self.label),
            None => self.label.clone(),
        }
    }

    /// The name in "`<name>` token is: …": the issuer, else the label.
    pub fn short_name(&self) -> &str {
        self.issuer.as_deref().unwrap_or(&self.label)
    }

    /// Same issuer, label and secret: the same enrollment added twice.
    pub fn same_as(&self, other: &Account) -> bool {
        self.same_name_as(other) && self.secret == other.secret
    }

    /// Same issuer and label: indistinguishable by name (a re-enrollment
    /// with a new secret, say).
    pub fn same_name_as(&self, other: &Account) -> bool {
        self.issuer == other.issuer && self.label == other.label
    }
}

/// A fresh id that no account in `accounts` has: six lowercase hex digits.
pub fn new_id(accounts: &[Account]) -> Result<String, getrandom::Error> {
    loop {
        let mut bytes = [0u8; 3];
        getrandom::fill(&mut bytes)?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !accounts.iter().any(|a| a.id == id) {
            return Ok(id);
        }
    }
}

/// Gives every account without an id (or with one another account already
/// has) a fresh one. True when something changed.
pub fn fill_ids(accounts: &mut [Account]) -> Result<bool, getrandom::Error> {
    let mut changed = false;
    for i in 0..accounts.len() {
        let earlier = accounts.get(..i).unwrap_or_default();
        let clashes = accounts
            .get(i)
            .is_some_and(|a| a.id.is_empty() || earlier.iter().any(|b| b.id == a.id));
        if clashes {
            let id = new_id(accounts)?;
            if let Some(account) = accounts.get_mut(i) {
                account.id = id;
            }
            changed = true;
        }
    }
    Ok(changed)
}

/// The label to give `account` so that no account in `accounts` has the
/// same issuer and label: `smith`, else `smith 2`, `smith 3`, ...
pub fn distinct_label(accounts: &[Account], account: &Account) -> String {
    let taken = |label: &str| {
        accounts
            .iter()
            .any(|a| a.issuer == account.issuer && a.label == label)
    };
    if !taken(&account.label) {
        return account.label.clone();
    }
    (2u32..)
        .map(|n| format!("{} {n}", account.label))
        .find(|label| !taken(label))
        .unwrap_or_else(|| account.label.clone())
}
