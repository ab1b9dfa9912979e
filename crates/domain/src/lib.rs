//! The rules of twofactor: users, second factors, the login state machine
//! (password, then second factor, then session), lockout, remembered devices,
//! recovery codes, reset tokens, policy and audit events.
//!
//! This crate defines the traits it needs from the outside (repositories,
//! `SmsSender`, `Mailer`, `Clock`) and never sees a request or writes SQL.
//! "Now" is always a parameter. It is filled in by the login-flow issue (#3).
#![forbid(unsafe_code)]
