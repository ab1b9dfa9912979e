//! Delivery of messages through the domain's `SmsSender` and `Mailer`
//! traits: `log` for demos and development, Twilio and a signed webhook for
//! SMS, SMTP for email. The outbox (in `domain`) decides when to send and
//! retries; a sender only says sent, refused (permanent) or unavailable.
#![forbid(unsafe_code)]

mod http;
mod log_mail;
mod log_sms;
mod smtp;
mod twilio;
pub mod webhook;

pub use log_mail::LogMail;
pub use log_sms::{LogSms, SentSms};
pub use smtp::SmtpMailer;
pub use twilio::{DEFAULT_API_BASE as TWILIO_API_BASE, TwilioFrom, TwilioSms};
pub use webhook::WebhookSms;
