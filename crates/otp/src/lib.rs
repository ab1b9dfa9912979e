//! One-time passwords as authenticator apps know them: HOTP (RFC 4226), TOTP
//! (RFC 6238), base32 secrets (RFC 4648), `otpauth://` key URIs and the grouped
//! display a person reads aloud.
//!
//! The crate is pure: it does no I/O and never reads the clock. Time is always a
//! parameter (seconds since the Unix epoch), so every window is testable without
//! sleeping. Verification returns the matched time step, so the caller can store
//! it and refuse the same code a second time.
//!
//! ```
//! use otp::{Algorithm, Digits, Period, Secret, Totp, Window};
//!
//! let secret = Secret::from_base32("JBSWY3DPEHPK3PXP")?;
//! let totp = Totp::new(secret, Algorithm::Sha1, Digits::SIX, Period::DEFAULT);
//! let now = 1_700_000_000;
//! let code = totp.generate(now)?;
//!
//! // The first use succeeds and tells which step matched...
//! let step = totp.verify(code.as_str(), now, Window::ONE_STEP, None)?;
//! // ...and the same code is refused once that step is recorded as used.
//! assert!(totp.verify(code.as_str(), now, Window::ONE_STEP, Some(step)).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod algorithm;
pub mod base32;
mod code;
mod hotp;
mod params;
mod secret;
mod totp;
mod uri;

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use code::{Code, CodeFormatError, group_for_display};
pub use hotp::Hotp;
pub use params::{Digits, ParamError, Period};
pub use secret::{RandomSourceError, Secret, SecretError};
pub use totp::{Totp, TotpError, VerifyError, Window};
pub use uri::{OtpAuthUri, OtpKind, UriError};
