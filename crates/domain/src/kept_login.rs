//! Half logins this instance started, kept in memory until their code
//! step: the step that follows on the same instance decides on what the
//! password step read (session, user, authenticator) instead of reading
//! them again — one statement less per login — and its write checks in the
//! same statement that what could have changed since has not
//! ([`crate::ClaimGuard`]: the authenticator, the session, the account,
//! the lock). A code step on another instance, after a restart, or after
//! a wrong code reads the database as before; a kept login that no longer
//! holds only costs that read.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::{Session, TotpFactor, User};

/// Half logins kept at once. Past it, expired ones are dropped and, if
/// none are, a new one is not kept (its code step reads the database).
/// Each is a few hundred bytes: at most about 2 MB.
const KEPT_MAX: usize = 4096;

/// What the password step read and wrote for one half login.
#[derive(Debug, Clone)]
pub(crate) struct KeptLogin {
    /// The pending session it wrote.
    pub session: Session,
    /// The account as read (without its password hash).
    pub user: User,
    /// Its authenticator as read (seed still sealed).
    pub totp: TotpFactor,
}

/// Kept half logins by their session's token hash.
#[derive(Debug, Default)]
pub(crate) struct KeptLogins(Mutex<HashMap<String, KeptLogin>>);

impl KeptLogins {
    /// Keeps `login`; when full, first drops those older than `max_age`
    /// seconds at `now`.
    pub(crate) fn keep(&self, login: KeptLogin, now: u64, max_age: u64) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= KEPT_MAX {
            kept.retain(|_, l| now.saturating_sub(l.session.created_at) < max_age);
        }
        if kept.len() < KEPT_MAX {
            kept.insert(login.session.token_hash.clone(), login);
        }
    }

    /// Takes the login kept under `token_hash` out (a code step uses it
    /// once: a wrong code's next try reads the database).
    pub(crate) fn take(&self, token_hash: &str) -> Option<KeptLogin> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token_hash)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PracticeId, Role, SessionStage, UserId};

    fn login(hash: &str, created_at: u64) -> KeptLogin {
        KeptLogin {
            session: Session {
                token_hash: hash.to_owned(),
                user_id: UserId(1),
                stage: SessionStage::Pending,
                created_at,
                last_seen_at: created_at,
                failures: 0,
                amr: crate::Amr::NONE,
            },
            user: User {
                id: UserId(1),
                practice_id: PracticeId(1),
                username: "a".into(),
                email: String::new(),
                phone: None,
                role: Role::Staff,
                password_hash: None,
                disabled: false,
                require_2fa: false,
                language: None,
            },
            totp: TotpFactor {
                user_id: UserId(1),
                key_id: "k".into(),
                sealed_secret: vec![1, 2, 3],
                algorithm: otp::Algorithm::Sha1,
                digits: otp::Digits::SIX,
                period: otp::Period::DEFAULT,
                last_step: None,
                clock_offset_steps: 0,
            },
        }
    }

    #[test]
    fn a_kept_login_is_taken_once() {
        let kept = KeptLogins::default();
        kept.keep(login("a", 100), 100, 300);
        assert!(kept.take("b").is_none());
        assert_eq!(kept.take("a").map(|l| l.session.created_at), Some(100));
        assert!(kept.take("a").is_none(), "a second try reads the database");
    }

    #[test]
    fn a_full_store_drops_expired_logins_and_never_grows_past_its_size() {
        let kept = KeptLogins::default();
        for i in 0..KEPT_MAX {
            kept.keep(login(&format!("old{i}"), 100), 100, 300);
        }
        assert_eq!(kept.len(), KEPT_MAX);
        // Still in their time: the new one is not kept.
        kept.keep(login("new", 200), 200, 300);
        assert_eq!(kept.len(), KEPT_MAX);
        assert!(kept.take("new").is_none());
        // Once they are past it, they make room.
        kept.keep(login("later", 400), 400, 300);
        assert_eq!(kept.len(), 1);
        assert!(kept.take("later").is_some());
    }
}
