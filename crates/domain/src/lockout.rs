//! The password lock and the address pacing: the rules, with no I/O.
//!
//! # The policy, and why
//!
//! Online guessing is throttled, not answered (NIST SP 800-63B §5.2.2:
//! "no more than 100 consecutive failed attempts"; OWASP Authentication
//! and Credential Stuffing cheat sheets). Three limits, each keyed so that
//! it cannot be turned against someone who does not trip it:
//!
//! * **The account lock.** [`Policy::password_failures_per_account`] wrong
//!   passwords in [`Policy::failure_window_seconds`] lock the name for
//!   [`Policy::lock_length`] (15 minutes, doubling, capped at 24 hours). It
//!   is kept under the name even when no account has it, so a lock does not
//!   tell a stranger that an account exists.
//! * **A lock never answers.** While it holds, a right and a wrong password
//!   get the same answer, status and writes ([`PasswordVerdict::Locked`]):
//!   the password is still hashed (same time) but its result is not used,
//!   so spreading guesses over many addresses learns nothing until the lock
//!   ends. A guess during a lock is not counted, so it neither prolongs the
//!   lock nor brings the next, doubled one closer.
//! * **A lock is not a weapon.** Knowing a username must not be enough to
//!   keep its owner out (OWASP: "account lockout can be abused for denial
//!   of service"). A browser holding a valid remembered-device cookie for
//!   the user (proof that it passed the second factor before) is judged by
//!   its own lock instead of the account's: its own tries are limited the
//!   same way, and an attacker without the cookie cannot touch them. A
//!   completed password reset (proof of the mailbox) clears the lock.
//! * **The address is slowed, not shut.** Behind one clinic's NAT many
//!   people share an address, so [`Policy::password_failures_per_ip`] does
//!   not refuse anyone. Past it, the address's password checks are paced:
//!   one every [`Policy::password_ip_pace_seconds`], the rest waiting their
//!   turn in a queue kept in the database (every instance books from it),
//!   and one that would wait longer than
//!   [`Policy::password_ip_max_wait_seconds`] is told to come back (before
//!   its password is looked at, so that answer says nothing about it). A
//!   correct password is therefore slowed, while spraying one password
//!   over many accounts from one address drops to one guess per pace. A
//!   flood that keeps the queue full would turn everyone behind the
//!   address away, so a browser with a valid remembered-device cookie for
//!   the named account skips the queue, as it skips the account's lock.

use crate::{LimitKey, LockState, Policy, UserId, UserLimit};

/// A lock over for a day is forgotten, with the repeat count that doubles
/// the next one, and so are failures a day old (no window is longer): an
/// account that went quiet starts again at 15 minutes, and rows of names,
/// addresses and queues never seen again do not stay for ever.
pub(crate) const FORGET_AFTER_SECONDS: u64 = 24 * 60 * 60;

/// Whose password failures a key counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LockKey<'a> {
    /// An account.
    Account(UserId),
    /// A name no account has (locked like one, so a lock does not reveal
    /// which names exist).
    Name(&'a str),
    /// One remembered browser of an account.
    Device(i64),
}

impl LockKey<'_> {
    /// The key under which failures and the lock are stored.
    pub(crate) fn key(&self) -> LimitKey {
        match self {
            LockKey::Account(user) => UserLimit::Password.of(*user),
            LockKey::Name(name) => LimitKey::of("pw:name", name),
            LockKey::Device(id) => LimitKey::of("pw:device", id),
        }
    }
}

/// The key under which an address's password failures are counted.
pub(crate) fn address_key(ip: &str) -> LimitKey {
    LimitKey::address(ip)
}

/// The password step's decision once the password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordVerdict {
    /// A lock holds: the same answer for a right and a wrong password, and
    /// nothing counted.
    Locked {
        /// Unix seconds.
        until: u64,
    },
    /// The password is right: go on, forget the key's failures.
    Accepted,
    /// The password is wrong (or the name unknown): count the failure,
    /// then [`after_failure`] tells whether it locks.
    Wrong,
}

/// Decides the password step from the lock that applies and whether the
/// password matched.
pub(crate) fn password_verdict(lock: LockState, password_ok: bool, now: u64) -> PasswordVerdict {
    if lock.locked_until > now {
        PasswordVerdict::Locked {
            until: lock.locked_until,
        }
    } else if password_ok {
        PasswordVerdict::Accepted
    } else {
        PasswordVerdict::Wrong
    }
}

/// After a failure was counted (`failures` in the window, this one
/// included): the lock to set, if this one reaches the limit. `previous`
/// is the key's lock as it stands (its count doubles the length).
pub(crate) fn after_failure(
    failures: u32,
    limit: u32,
    previous: LockState,
    policy: &Policy,
    now: u64,
) -> Option<LockState> {
    (failures >= limit).then(|| next_lock(previous, policy, now))
}

/// The lock that follows `previous` (the second factor's and the
/// password's alike): 15 minutes, doubling on every repeat, capped.
pub(crate) fn next_lock(previous: LockState, policy: &Policy, now: u64) -> LockState {
    LockState {
        locked_until: now.saturating_add(policy.lock_length(previous.lock_count)),
        lock_count: previous.lock_count.saturating_add(1),
    }
}

/// What a wrong second-factor attempt (an authenticator, text or recovery
/// code) leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeVerdict {
    /// The user's failures in the window reached the limit: the second
    /// factor locks ([`next_lock`]) and the pending session, if any, ends.
    Lock,
    /// This pending session has had its tries: it ends, and the next try
    /// starts again from the password (which has its own throttle).
    EndSession,
    /// Another try; this many are left in the session.
    TryAgain {
        /// Tries left before the session ends.
        attempts_left: u32,
    },
}

/// After a wrong second-factor attempt was counted: `recent` failures of
/// the user in the window (this one included) and, for a login, the
/// pending session's failures (`None` for an API check, which has no
/// session). The user's lock comes first: it holds across sessions, so
/// starting over with the password buys an attacker nothing.
pub(crate) fn after_code_failure(
    recent: u32,
    session_failures: Option<u32>,
    policy: &Policy,
) -> CodeVerdict {
    let tries = policy.max_tokens_per_session;
    match session_failures {
        _ if recent >= policy.lock_after_failures => CodeVerdict::Lock,
        Some(failures) if failures >= tries => CodeVerdict::EndSession,
        Some(failures) => CodeVerdict::TryAgain {
            attempts_left: tries - failures,
        },
        None => CodeVerdict::TryAgain {
            attempts_left: tries,
        },
    }
}

/// Whether an address's password checks are paced (it has used up its
/// failures in the window).
pub(crate) fn address_paced(ip_failures: u32, policy: &Policy) -> bool {
    ip_failures >= policy.password_failures_per_ip
}

/// The key of an address's paced queue of password checks (a `locks` row
/// whose `locked_until` is the end of the last slot booked).
pub(crate) fn pace_key(ip: &str) -> LimitKey {
    LimitKey::of("pace:ip", ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_000_000;

    fn lock(until: u64, count: u32) -> LockState {
        LockState {
            locked_until: until,
            lock_count: count,
        }
    }

    #[test]
    fn a_lock_answers_the_same_whatever_the_password() {
        let held = lock(NOW + 60, 1);
        assert_eq!(
            password_verdict(held, true, NOW),
            password_verdict(held, false, NOW)
        );
        assert_eq!(
            password_verdict(held, true, NOW),
            PasswordVerdict::Locked { until: NOW + 60 }
        );
    }

    #[test]
    fn an_ended_lock_checks_the_password_again() {
        let ended = lock(NOW, 3);
        assert_eq!(
            password_verdict(ended, true, NOW),
            PasswordVerdict::Accepted
        );
        assert_eq!(password_verdict(ended, false, NOW), PasswordVerdict::Wrong);
        assert_eq!(
            password_verdict(LockState::default(), false, NOW),
            PasswordVerdict::Wrong
        );
    }

    #[test]
    fn the_limit_th_failure_locks_and_each_lock_doubles_to_the_cap() {
        let policy = Policy::default();
        let limit = policy.password_failures_per_account;
        assert_eq!(
            after_failure(limit - 1, limit, LockState::default(), &policy, NOW),
            None
        );
        assert_eq!(
            after_failure(limit, limit, LockState::default(), &policy, NOW),
            Some(lock(NOW + 15 * 60, 1))
        );
        assert_eq!(
            after_failure(limit, limit, lock(NOW - 1, 1), &policy, NOW),
            Some(lock(NOW + 30 * 60, 2))
        );
        assert_eq!(
            after_failure(limit, limit, lock(0, u32::MAX), &policy, NOW),
            Some(lock(NOW + 24 * 60 * 60, u32::MAX))
        );
    }

    #[test]
    fn keys_never_collide_between_kinds() {
        let keys = [
            LockKey::Account(UserId(7)).key(),
            LockKey::Name("7").key(),
            LockKey::Device(7).key(),
            address_key("7"),
            pace_key("7"),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in keys.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
        assert_eq!(LockKey::Account(UserId(7)).key().as_str(), "pw:user:7");
    }

    #[test]
    fn an_address_is_paced_only_past_its_failures() {
        let policy = Policy::default();
        assert!(!address_paced(policy.password_failures_per_ip - 1, &policy));
        assert!(address_paced(policy.password_failures_per_ip, &policy));
    }

    #[test]
    fn code_failures_lock_the_user_before_they_end_the_session() {
        let policy = Policy::default();
        let (limit, tries) = (policy.lock_after_failures, policy.max_tokens_per_session);
        assert_eq!(
            after_code_failure(1, Some(1), &policy),
            CodeVerdict::TryAgain {
                attempts_left: tries - 1
            }
        );
        assert_eq!(
            after_code_failure(tries, Some(tries), &policy),
            if tries >= limit {
                CodeVerdict::Lock
            } else {
                CodeVerdict::EndSession
            }
        );
        // The user's count holds across sessions: a fresh session at the
        // limit is locked on its first wrong code.
        assert_eq!(
            after_code_failure(limit, Some(1), &policy),
            CodeVerdict::Lock
        );
        assert_eq!(
            after_code_failure(limit + 5, None, &policy),
            CodeVerdict::Lock
        );
        // An API check has no session to end.
        assert_eq!(
            after_code_failure(limit - 1, None, &policy),
            CodeVerdict::TryAgain {
                attempts_left: tries
            }
        );
        // Past the session's tries (a race of parallel codes) it ends, never underflows.
        assert_eq!(
            after_code_failure(1, Some(tries + 3), &policy),
            CodeVerdict::EndSession
        );
    }
}
