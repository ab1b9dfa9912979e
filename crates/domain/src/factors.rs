//! Which second factors a user has, and where a right password leads.
//!
//! A user has a second factor when an authenticator is linked, or when a
//! phone is on file and the practice lets codes go by text message. With
//! one, a right password leads to the code step (which a remembered
//! browser may skip); without one, to enrollment if 2FA is required, else
//! straight in. The web pages and the API ask the same two questions.

use crate::Policy;

/// The factors that can finish a login for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Factors {
    /// An authenticator app is linked.
    pub(crate) authenticator: bool,
    /// Codes may go by text message to the phone on file.
    pub(crate) sms: bool,
}

impl Factors {
    /// The factors of a user with (or without) a linked authenticator and a
    /// phone on file, where the user's own policy ([`Policy::for_user`])
    /// does (or does not) allow codes by text message.
    pub(crate) fn of(authenticator: bool, has_phone: bool, allow_sms: bool) -> Self {
        Self {
            authenticator,
            sms: has_phone && allow_sms,
        }
    }

    /// Whether any of them can finish a login.
    pub(crate) fn any(self) -> bool {
        self.authenticator || self.sms
    }
}

/// Where a right password leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterPassword {
    /// To the code step. `try_device`: a remember cookie was sent and the
    /// practice remembers browsers, so a valid one skips the step.
    SecondFactor {
        /// Check the remember cookie first.
        try_device: bool,
    },
    /// To linking an authenticator: 2FA is required and there is none.
    Enroll,
    /// Straight in: no factor, none required.
    SignedIn,
}

/// Where a right password leads for a user with `factors`, under the
/// user's own `policy`, when the browser did (or did not) send a remember
/// cookie.
pub(crate) fn after_password(
    factors: Factors,
    policy: &Policy,
    cookie_sent: bool,
) -> AfterPassword {
    if factors.any() {
        AfterPassword::SecondFactor {
            try_device: cookie_sent && policy.remember_device_seconds > 0,
        }
    } else if policy.require_2fa {
        AfterPassword::Enroll
    } else {
        AfterPassword::SignedIn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow_sms: bool, require_2fa: bool, remember_device_seconds: u64) -> Policy {
        Policy {
            allow_sms,
            require_2fa,
            remember_device_seconds,
            ..Policy::default()
        }
    }

    #[test]
    fn a_phone_is_a_factor_only_where_texts_are_allowed() {
        let open = policy(true, false, 0);
        let closed = policy(false, false, 0);
        assert!(Factors::of(false, true, open.allow_sms).any());
        assert!(!Factors::of(false, true, closed.allow_sms).any());
        assert!(Factors::of(true, true, closed.allow_sms).any());
        assert!(!Factors::of(false, false, open.allow_sms).any());
        assert!(!Factors::of(true, true, closed.allow_sms).sms);
    }

    #[test]
    fn a_user_with_a_factor_is_asked_for_it_whatever_the_policy() {
        for require in [false, true] {
            let p = policy(true, require, 0);
            assert_eq!(
                after_password(Factors::of(true, false, p.allow_sms), &p, false),
                AfterPassword::SecondFactor { try_device: false }
            );
            assert_eq!(
                after_password(Factors::of(false, true, p.allow_sms), &p, false),
                AfterPassword::SecondFactor { try_device: false }
            );
        }
    }

    #[test]
    fn without_a_factor_a_requirement_means_enrolling_else_straight_in() {
        let required = policy(true, true, 0);
        let optional = policy(true, false, 0);
        let none = Factors::of(false, false, required.allow_sms);
        assert_eq!(after_password(none, &required, true), AfterPassword::Enroll);
        assert_eq!(
            after_password(none, &optional, true),
            AfterPassword::SignedIn
        );
        // A phone where texts are not allowed is no way around enrolling.
        let closed = policy(false, true, 0);
        assert_eq!(
            after_password(Factors::of(false, true, closed.allow_sms), &closed, false),
            AfterPassword::Enroll
        );
    }

    #[test]
    fn a_cookie_is_tried_only_where_browsers_are_remembered() {
        let remembers = policy(false, false, 30 * 86_400);
        let forgets = policy(false, false, 0);
        let totp = Factors::of(true, false, remembers.allow_sms);
        assert_eq!(
            after_password(totp, &remembers, true),
            AfterPassword::SecondFactor { try_device: true }
        );
        assert_eq!(
            after_password(totp, &remembers, false),
            AfterPassword::SecondFactor { try_device: false }
        );
        assert_eq!(
            after_password(totp, &forgets, true),
            AfterPassword::SecondFactor { try_device: false }
        );
        // No factor to skip: a cookie changes nothing.
        let none = Factors::of(false, false, remembers.allow_sms);
        assert_eq!(
            after_password(none, &remembers, true),
            AfterPassword::SignedIn
        );
    }
}
