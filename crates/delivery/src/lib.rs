//! Delivery of messages through the domain's `SmsSender` trait. Today: the
//! `log` sender for demos and tests. Real providers (Twilio, webhook) and the
//! durable outbox arrive with the delivery issue (#5).
#![forbid(unsafe_code)]

mod log_mail;
mod log_sms;

pub use log_mail::LogMail;
pub use log_sms::{LogSms, SentSms};
