//! The companion authenticator app: an encrypted vault of accounts and the
//! current code shown large and grouped, for staff without a phone app, for
//! support desks, and as the reference client in tests. The `authenticator`
//! binary (src/main.rs) is the command line and full-screen view over this
//! library.
#![forbid(unsafe_code)]

pub mod account;
pub mod clipboard;
pub mod code;
pub mod migration;
pub mod source;
pub mod tui;
pub mod vault;
