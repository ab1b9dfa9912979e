//! Delivery of SMS and email through the domain's `SmsSender` and `Mailer`
//! traits (log, Twilio, webhook, SMTP) and the durable outbox worker. Filled
//! in by the login-flow (#3) and delivery (#5) issues.
#![forbid(unsafe_code)]
