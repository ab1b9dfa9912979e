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

impl RememberedDevice {
    /// Whether it skips the second factor for `user` at `now`, under a
    /// practice that remembers browsers `remember_seconds` (0: not at all;
    /// a practice that shortened the period shortens saved devices too).
    pub fn valid_for(&self, user: UserId, remember_seconds: u64, now: u64) -> bool {
        remember_seconds > 0
            && self.user_id == user
            && self
                .expires_at
                .min(self.created_at.saturating_add(remember_seconds))
                > now
    }
}

/// The device to revoke when a browser presents a remember cookie that is
/// no device's current token but `rotated_away`'s previous one: a copy of
/// a cookie that someone else has used since. Only when the password just
/// checked is that device's user's: pairing an old cookie with one's own
/// account must not revoke someone else's browser.
pub(crate) fn stolen_cookie(rotated_away: Option<&RememberedDevice>, user: UserId) -> Option<i64> {
    rotated_away
        .filter(|device| device.user_id == user)
        .map(|device| device.id)
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
    fn a_device_is_valid_for_its_user_within_the_practice_period() {
        let device = RememberedDevice {
            id: 1,
            user_id: UserId(7),
            label: String::new(),
            created_at: 1_000,
            last_used_at: 1_000,
            expires_at: 1_000 + 30 * 86_400,
        };
        let month = 30 * 86_400;
        assert!(device.valid_for(UserId(7), month, 2_000));
        assert!(!device.valid_for(UserId(8), month, 2_000), "another user");
        assert!(
            !device.valid_for(UserId(7), 0, 2_000),
            "the practice forgets browsers"
        );
        assert!(
            !device.valid_for(UserId(7), 500, 2_000),
            "a shortened period"
        );
        assert!(
            !device.valid_for(UserId(7), month, 1_000 + month),
            "expired"
        );
    }

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

    #[test]
    fn a_rotated_cookie_revokes_only_its_own_users_device() {
        let device = RememberedDevice {
            id: 9,
            user_id: UserId(3),
            label: "Firefox on Linux".into(),
            created_at: 0,
            last_used_at: 0,
            expires_at: 100,
        };
        assert_eq!(stolen_cookie(Some(&device), UserId(3)), Some(9));
        assert_eq!(stolen_cookie(Some(&device), UserId(4)), None);
        assert_eq!(stolen_cookie(None, UserId(3)), None);
    }
}
