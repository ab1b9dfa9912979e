//! The rules of twofactor: users, second factors, the login state machine
//! (password, then second factor, then session), lockout, sessions, policy
//! and audit events.
//!
//! This crate defines the traits it needs from the outside ([`Store`],
//! [`PasswordHasher`]) and never sees a request or writes SQL. "Now" is always
//! a parameter, read once at the edge.
#![forbid(unsafe_code)]

pub mod admin;
pub mod api;
mod audit;
pub mod audit_chain;
mod cell_phone;
mod clock;
pub mod device;
mod drift;
mod emergency;
mod enrollment;
mod error;
mod factors;
mod ids;
mod kept_login;
mod lockout;
mod login;
pub mod mail;
mod notify;
pub mod oidc;
mod operations;
pub mod outbox;
pub mod passkey;
pub mod password;
mod password_reset;
mod pending;
pub mod phone;
pub mod policy;
mod reason;
pub mod recovery;
mod seal;
mod session;
pub mod sms;
#[cfg(any(test, feature = "soft-authenticator"))]
pub mod soft_authenticator;
mod store;
pub mod time;
pub mod token;
pub mod user;

pub use api::{ApiKey, ApiRefusal, ApiVerify};
pub use audit::{AuditEvent, AuditKind, Outcome, RequestContext};
pub use cell_phone::{PhoneConfirm, PhoneStart};
pub use clock::{Clock, ManualClock, SystemClock};
pub use device::RememberedDevice;
pub use enrollment::{LinkConfirm, LinkStart, StepUp};
pub use error::DomainError;
pub use ids::{PracticeId, UserId};
pub use login::{
    LoginService, PasskeyFinish, PasskeyInfo, PasskeyLogin, PasskeyStart, PasswordOutcome,
    SmsOutcome, TokenOutcome,
};
pub use mail::{Email, Mailer};
pub use operations::{AccountByAdmin, IdempotentAnswer};
pub use outbox::{
    Channel, Delivery, NewMessage, Outbox, OutboxCounts, OutboxMessage, OutboxStatus, OutboxUpdate,
    Receipt, SendError,
};
pub use password::PasswordHasher;
pub use password_reset::{ResetOutcome, ResetRequest};
pub use pending::{PendingGuard, PendingWork};
pub use policy::{Policy, PracticeLocale, PracticePolicy};
pub use reason::Reason;
pub use seal::{SealError, SecretBox};
pub use session::{Amr, Session, SessionStage};
pub use sms::{SmsCode, SmsSender};
pub use store::ports;
pub use store::{
    BatchLane, ClaimGuard, LimitKey, LockState, PasswordStepState, Sealed, SealedRow,
    SecondFactorState, Store, StoreError, UserLimit, Write,
};
pub use user::{NewUser, Role, TotpFactor, User};
