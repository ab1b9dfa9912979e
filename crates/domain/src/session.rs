//! Login sessions: a half-logged-in one (password ok, token pending) and a
//! full one. Only the SHA-256 of the cookie value is stored.

use crate::UserId;

/// How far a session has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Password accepted, second factor pending. Grants nothing.
    Pending,
    /// Password accepted, 2FA required but not linked: grants only the
    /// authenticator link flow.
    Enrolling,
    /// Fully logged in.
    Full,
}

impl SessionStage {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::Pending => "pending",
            SessionStage::Enrolling => "enrolling",
            SessionStage::Full => "full",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(SessionStage::Pending),
            "enrolling" => Some(SessionStage::Enrolling),
            "full" => Some(SessionStage::Full),
            _ => None,
        }
    }
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 (hex) of the cookie value.
    pub token_hash: String,
    /// Whose session.
    pub user_id: UserId,
    /// Pending or full.
    pub stage: SessionStage,
    /// Unix seconds at creation (absolute timeout counts from here).
    pub created_at: u64,
    /// Unix seconds of the last request (idle timeout counts from here).
    pub last_seen_at: u64,
    /// Wrong tokens entered in this session.
    pub failures: u32,
    /// How the login was made (empty until it is full).
    pub amr: Amr,
}

/// How a full login was made: the methods of RFC 8176 as an ID token's
/// `amr` claim names them. Stored as their names, space-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amr(u8);

impl Amr {
    /// No method yet (a pending or enrolling session).
    pub const NONE: Amr = Amr(0);
    /// The password.
    pub const PWD: Amr = Amr(1);
    /// A one-time code: the authenticator app or a recovery code.
    pub const OTP: Amr = Amr(2);
    /// A code sent by text message.
    pub const SMS: Amr = Amr(4);
    /// A passkey bound to one device (a security key).
    pub const HWK: Amr = Amr(8);
    /// A synced passkey (its key lives in a password manager's cloud).
    pub const SWK: Amr = Amr(16);

    const NAMES: [(Amr, &'static str); 5] = [
        (Amr::PWD, "pwd"),
        (Amr::OTP, "otp"),
        (Amr::SMS, "sms"),
        (Amr::HWK, "hwk"),
        (Amr::SWK, "swk"),
    ];

    /// Both methods.
    #[must_use]
    pub const fn with(self, other: Amr) -> Amr {
        Amr(self.0 | other.0)
    }

    /// Whether every method of `other` was used.
    pub const fn contains(self, other: Amr) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// The passkey's method: synced or bound to its device.
    pub const fn passkey(backed_up: bool) -> Amr {
        if backed_up { Amr::SWK } else { Amr::HWK }
    }

    /// A passkey was used: the one phishing-resistant method here.
    pub const fn phishing_resistant(self) -> bool {
        self.0 & (Amr::HWK.0 | Amr::SWK.0) != 0
    }

    /// How many methods were used.
    pub const fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// The methods' names, and `mfa` when there were two or more (the
    /// ID token's claim).
    pub fn claim(self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Amr::NAMES
            .iter()
            .filter(|(m, _)| self.contains(*m))
            .map(|(_, name)| *name)
            .collect();
        if self.count() >= 2 {
            names.push("mfa");
        }
        names
    }

    /// The stored text.
    pub fn as_text(self) -> String {
        Amr::NAMES
            .iter()
            .filter(|(m, _)| self.contains(*m))
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Parses the stored text; `None` for a word it does not know.
    pub fn parse(text: &str) -> Option<Amr> {
        text.split_whitespace().try_fold(Amr::NONE, |amr, word| {
            Amr::NAMES
                .iter()
                .find(|(_, name)| *name == word)
                .map(|(m, _)| amr.with(*m))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips_and_mfa_is_only_claimed() {
        let amr = Amr::PWD.with(Amr::OTP);
        assert_eq!(amr.as_text(), "pwd otp");
        assert_eq!(Amr::parse("pwd otp"), Some(amr));
        assert_eq!(amr.claim(), ["pwd", "otp", "mfa"]);
        assert_eq!(Amr::parse(""), Some(Amr::NONE));
        assert_eq!(Amr::parse("pwd mfa"), None);
        assert_eq!(Amr::parse("pwd; DROP"), None);
        assert_eq!(Amr::HWK.claim(), ["hwk"]);
        assert!(Amr::passkey(true).phishing_resistant());
        assert!(!amr.phishing_resistant());
        assert!(!Amr::NONE.contains(Amr::NONE));
    }
}
