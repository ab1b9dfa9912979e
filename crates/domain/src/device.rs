//! "Save token for 30 days": a remembered browser that may skip the second
//! factor (never the password) for one user.
//!
//! The cookie holds a 256-bit random token; the database holds its SHA-256.
//! Every use rotates the token, and the previous hash is kept: a browser that
//! presents an already-rotated token is holding a copy of a cookie someone
//! else has since used, so the device is revoked and the event audited as
//! possible cookie theft.

use crate::UserId;

/// A remembered device as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedDevice {
    /// Row id.
    pub id: i64,
    /// The one user it may skip the second factor for.
    pub user_id: UserId,
    /// Browser and OS, from the user agent at creation.
    pub label: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last use.
    pub last_used_at: u64,
    /// Unix seconds after which it no longer works.
    pub expires_at: u64,
}

/// A short "Browser on OS" label from a user agent, for the security page.
pub fn label_from_user_agent(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map_or("Browser", |(_, name)| name);
    let os = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map_or("unknown system", |(_, name)| name);
    format!("{browser} on {os}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_browser_and_system() {
        assert_eq!(
            label_from_user_agent(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
            ),
            "Chrome on Windows"
        );
        assert_eq!(
            label_from_user_agent(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1"
            ),
            "Safari on iOS"
        );
        assert_eq!(label_from_user_agent(""), "Browser on unknown system");
    }
}
