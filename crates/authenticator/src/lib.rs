//! The companion authenticator app: an encrypted vault of accounts and the
//! current code shown large and grouped, for staff without a phone app and as
//! the reference client in tests. The `authenticator` binary is built by the
//! authenticator issue (#6) on top of the `otp` crate.
#![forbid(unsafe_code)]
