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
}
