//! Which second factors a user has, and where a right password leads.
//!
//! A user has a second factor when an authenticator is linked, or when a
//! phone is on file and the practice lets codes go by text message. With
//! one, a right password leads to the code step (which a remembered
//! browser may skip); without one, to enrollment if 2FA is required, else
//! straight in. The web pages and the API ask the same two questions.
//!
//! Where the practice requires a phishing-resistant factor of its
//! administrators ([`Policy::passkey_only`]), only a passkey counts for
//! them: codes do not finish their logins, a remembered browser does not
//! skip the step, and one without a passkey is taken to register one.

use crate::{PasswordStepState, Policy, User};

/// The factors that can finish a login for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Factors {
    /// An authenticator app is linked.
    pub(crate) authenticator: bool,
    /// Codes may go by text message to the phone on file.
    pub(crate) sms: bool,
    /// A passkey or security key is registered.
    pub(crate) passkey: bool,
    /// Only a passkey may finish the login ([`Policy::passkey_only`]).
    pub(crate) passkey_only: bool,
}

impl Factors {
    /// The factors of a user with (or without) a linked authenticator and a
    /// phone on file, where the user's own policy ([`Policy::for_user`])
    /// does (or does not) allow codes by text message.
    pub(crate) fn of(authenticator: bool, has_phone: bool, allow_sms: bool) -> Self {
        Self {
            authenticator,
            sms: has_phone && allow_sms,
            passkey: false,
            passkey_only: false,
        }
    }

    /// The factors of `user` as the password step read them (`state`),
    /// under the user's own `policy`.
    pub(crate) fn of_user(user: &User, state: &PasswordStepState, policy: &Policy) -> Self {
        Self::of(state.totp.is_some(), user.phone.is_some(), policy.allow_sms)
            .with_passkey(state.has_passkey)
            .only_passkey(policy.passkey_only(user.role))
    }

    /// These factors where (`required`) only a passkey may finish a login:
    /// the code factors drop out.
    pub(crate) fn only_passkey(self, required: bool) -> Self {
        if !required {
            return self;
        }
        Self {
            authenticator: false,
            sms: false,
            passkey_only: true,
            ..self
        }
    }

    /// These factors, with (or without) a registered passkey.
    pub(crate) fn with_passkey(self, passkey: bool) -> Self {
        Self { passkey, ..self }
    }

    /// Whether any of them can finish a login.
    pub(crate) fn any(self) -> bool {
        self.authenticator || self.sms || self.passkey
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
    /// To registering a passkey: only one may finish this login and there
    /// is none. Nothing else is granted until it is registered.
    EnrollPasskey,
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
            try_device: cookie_sent && policy.remember_device_seconds > 0 && !factors.passkey_only,
        }
    } else if factors.passkey_only {
        AfterPassword::EnrollPasskey
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

    #[test]
    fn a_passkey_alone_is_a_second_factor() {
        let required = policy(true, true, 0);
        let passkey = Factors::of(false, false, required.allow_sms).with_passkey(true);
        assert!(passkey.any());
        assert_eq!(
            after_password(passkey, &required, false),
            AfterPassword::SecondFactor { try_device: false }
        );
        assert!(!Factors::of(false, false, true).with_passkey(false).any());
    }

    #[test]
    fn where_only_a_passkey_counts_codes_drop_out_and_none_means_registering_one() {
        let remembers = policy(true, false, 30 * 86_400);
        let everything = Factors::of(true, true, true);
        assert_eq!(everything.only_passkey(false), everything);
        let codes_only = everything.only_passkey(true);
        assert!(!codes_only.any(), "an app and a phone are no way in");
        assert_eq!(
            after_password(codes_only, &remembers, true),
            AfterPassword::EnrollPasskey
        );
        let with_key = everything.with_passkey(true).only_passkey(true);
        assert!(with_key.passkey && !with_key.authenticator && !with_key.sms);
        // A remembered browser does not skip the key.
        assert_eq!(
            after_password(with_key, &remembers, true),
            AfterPassword::SecondFactor { try_device: false }
        );
    }

    #[test]
    fn only_administrators_are_held_to_the_phishing_resistant_rule() {
        use crate::Role;
        let mut p = Policy::default();
        assert!(!p.passkey_only(Role::Admin) && !p.passkey_only(Role::Staff));
        p.phishing_resistant_admins = true;
        assert!(p.passkey_only(Role::Admin));
        assert!(!p.passkey_only(Role::Staff));
    }
}
