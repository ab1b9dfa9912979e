//! The durable outbox: every text message and email is first committed to
//! the `outbox` table, in the same transaction as the event that caused it
//! (the SMS code, the reset link, the audit event of a security notice),
//! then sent by [`Outbox`] with retries.
//!
//! ```text
//!  commit --> pending --claim--> sending --ok--------------> sent (provider id kept)
//!               ^                  |  --4xx / expired-----> failed (error kept)
//!               +---backoff--------+  --5xx / timeout-----> pending, next try later
//! ```
//!
//! A claim is a lease: a worker that dies while sending leaves the row in
//! `sending` until the lease runs out, then any worker takes it again. Rows
//! are claimed with one atomic statement (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), so with several instances each message goes to one worker.
//! Bodies hold codes and links: they are sealed with the master key and
//! opened only to send.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::{DomainError, Email, Mailer, SecretBox, SmsSender, Store, UserId};

/// How long a claim lasts before another worker may take the message again.
pub const LEASE_SECONDS: u64 = 60;
/// First retry delay; doubles each attempt.
const BACKOFF_BASE_SECONDS: u64 = 5;
/// Longest delay between two attempts.
const BACKOFF_CAP_SECONDS: u64 = 10 * 60;
/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: u32 = 12;

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A text message.
    Sms,
    /// An email.
    Email,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sms" => Some(Channel::Sms),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Claimed by a worker until its lease runs out.
    Sending,
    /// Accepted by the provider.
    Sent,
    /// Given up: refused by the provider, expired, or out of attempts.
    Failed,
}

impl OutboxStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(OutboxStatus::Pending),
            "sending" => Some(OutboxStatus::Sending),
            "sent" => Some(OutboxStatus::Sent),
            "failed" => Some(OutboxStatus::Failed),
            _ => None,
        }
    }
}

/// What a message is about, as the store is asked about it: made only by
/// the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topic(&'static str);

impl Topic {
    /// The "a login did not finish" notice.
    pub const ABANDONED_LOGIN: Topic = Topic(crate::notify::ABANDONED_TOPIC);

    /// The text the store keeps.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// A message to commit.
#[derive(Clone)]
pub struct NewMessage {
    /// SMS or email.
    pub channel: Channel,
    /// Whom it concerns, if a user.
    pub user_id: Option<UserId>,
    /// What it is (`sms-code`, `password-reset`, `password-changed`, …).
    pub topic: String,
    /// E.164 number or email address.
    pub recipient: String,
    /// Email subject (empty for SMS); never secret.
    pub subject: String,
    /// The sealing key's id.
    pub key_id: String,
    /// The sealed body.
    pub sealed_body: Vec<u8>,
    /// Random, unique: sent to providers that deduplicate, and the seal's context.
    pub idempotency_key: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Not worth sending after this (an SMS code's expiry).
    pub expires_at: Option<u64>,
    /// Committed already claimed by the request that sends it at once (the
    /// lease still lets a worker take over if that request dies).
    pub claimed: bool,
    /// Not sent before this Unix time (a held notice).
    pub send_at: u64,
    /// Deleted while still pending by [`crate::Write::CancelHeld`] with this key
    /// (the pending session of a held "did not finish" notice).
    pub cancel_key: Option<String>,
}

impl std::fmt::Debug for NewMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMessage")
            .field("channel", &self.channel)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// A stored message.
#[derive(Clone)]
pub struct OutboxMessage {
    /// Row id.
    pub id: i64,
    /// SMS or email.
    pub channel: Channel,
    /// Whom it concerns.
    pub user_id: Option<UserId>,
    /// What it is.
    pub topic: String,
    /// Number or address.
    pub recipient: String,
    /// Email subject.
    pub subject: String,
    /// The sealing key's id.
    pub key_id: String,
    /// The sealed body.
    pub sealed_body: Vec<u8>,
    /// Sent to the provider; the seal's context.
    pub idempotency_key: String,
    /// Where it is.
    pub status: OutboxStatus,
    /// Attempts started so far.
    pub attempts: u32,
    /// Unix seconds.
    pub created_at: u64,
    /// Pending: when the next attempt is due; sending: when the lease ends.
    pub next_attempt_at: u64,
    /// Not worth sending after this.
    pub expires_at: Option<u64>,
    /// The provider's (or our) last error.
    pub last_error: Option<String>,
    /// The provider's message id, once sent.
    pub provider_id: Option<String>,
    /// Unix seconds, once sent.
    pub sent_at: Option<u64>,
}

impl std::fmt::Debug for OutboxMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxMessage")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("topic", &self.topic)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What the worker records after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxUpdate {
    /// Accepted by the provider.
    Sent {
        /// The provider's message id, if it gave one.
        provider_id: Option<String>,
        /// Unix seconds.
        at: u64,
    },
    /// Try again at `at`.
    Retry {
        /// Unix seconds.
        at: u64,
        /// Why this attempt failed.
        error: String,
    },
    /// Given up.
    Failed {
        /// Why.
        error: String,
    },
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Pending or being sent.
    pub pending: u64,
    /// Given up.
    pub failed: u64,
    /// When the oldest pending message was committed.
    pub oldest_pending_at: Option<u64>,
}

/// A provider's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// The provider's id for the message.
    pub provider_id: Option<String>,
}

/// Why a provider did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// It never will (bad number, bad credentials, 4xx): no retry.
    #[error("refused: {0}")]
    Permanent(String),
    /// It may later (5xx, timeout, connection refused): retry with backoff.
    #[error("unavailable: {0}")]
    Transient(String),
}

/// The result of one attempt, for the request that waits on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The provider took it.
    Sent,
    /// Not now; the worker retries.
    Retrying,
    /// Never: refused or expired.
    Failed,
}

/// Sends committed messages: the request's own first attempt, and the
/// worker's retries.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn Store>,
    seal: Arc<SecretBox>,
    sms: Arc<dyn SmsSender>,
    mailer: Arc<dyn Mailer>,
    wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Outbox {
    /// An outbox over `store`, sending through `sms` and `mailer`.
    pub fn new(
        store: Arc<dyn Store>,
        seal: Arc<SecretBox>,
        sms: Arc<dyn SmsSender>,
        mailer: Arc<dyn Mailer>,
    ) -> Self {
        Outbox {
            store,
            seal,
            sms,
            mailer,
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Seals a text message for the outbox, claimed by the caller, who
    /// sends it at once ([`Outbox::send_claimed`]): a code.
    pub fn sms(
        &self,
        user: UserId,
        topic: &str,
        to: &str,
        text: &str,
        now: u64,
        expires_at: u64,
    ) -> Result<NewMessage, DomainError> {
        self.sms_message(user, topic, to, text, (now, expires_at), true)
    }

    /// Seals a text message for the outbox's worker to send (the caller
    /// does not wait for it): a notice, not a code.
    pub fn sms_notice(
        &self,
        user: UserId,
        topic: &str,
        to: &str,
        text: &str,
        now: u64,
        expires_at: u64,
    ) -> Result<NewMessage, DomainError> {
        self.sms_message(user, topic, to, text, (now, expires_at), false)
    }

    /// A text message, `(now, expires_at)`, claimed or not.
    fn sms_message(
        &self,
        user: UserId,
        topic: &str,
        to: &str,
        text: &str,
        (now, expires_at): (u64, u64),
        claimed: bool,
    ) -> Result<NewMessage, DomainError> {
        let body = text.as_bytes();
        let expires = Some(expires_at);
        self.seal_message(
            Channel::Sms,
            Some(user),
            topic,
            to,
            "",
            body,
            now,
            expires,
            claimed,
        )
    }

    /// Seals an email for the outbox.
    pub fn email(
        &self,
        user: Option<UserId>,
        topic: &str,
        email: &Email,
        now: u64,
    ) -> Result<NewMessage, DomainError> {
        self.seal_message(
            Channel::Email,
            user,
            topic,
            &email.to,
            &email.subject,
            &encode_email(&email.text, &email.html),
            now,
            None,
            false,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn seal_message(
        &self,
        channel: Channel,
        user_id: Option<UserId>,
        topic: &str,
        recipient: &str,
        subject: &str,
        body: &[u8],
        now: u64,
        expires_at: Option<u64>,
        claimed: bool,
    ) -> Result<NewMessage, DomainError> {
        let idempotency_key = crate::token::generate()?;
        let sealed_body = self
            .seal
            .seal(body, idempotency_key.as_bytes())
            .map_err(DomainError::Seal)?;
        Ok(NewMessage {
            channel,
            user_id,
            topic: topic.to_owned(),
            recipient: recipient.to_owned(),
            subject: subject.to_owned(),
            key_id: self.seal.key_id().to_owned(),
            sealed_body,
            idempotency_key,
            created_at: now,
            expires_at,
            claimed,
            send_at: now,
            cancel_key: None,
        })
    }

    /// Commits a message on its own (when no other write causes it) and
    /// wakes the worker.
    pub async fn enqueue(&self, message: &NewMessage) -> Result<i64, DomainError> {
        let id = self.store.enqueue(message).await?;
        self.wake();
        Ok(id)
    }

    /// Tells the worker there is something to send.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when [`Outbox::wake`] is called (the worker waits on it
    /// with a timeout).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Sends a message the request committed already claimed (an SMS code:
    /// the person is waiting to hear whether it went).
    pub async fn send_claimed(
        &self,
        id: i64,
        message: &NewMessage,
        now: u64,
    ) -> Result<Delivery, DomainError> {
        let stored = OutboxMessage {
            id,
            channel: message.channel,
            user_id: message.user_id,
            topic: message.topic.clone(),
            recipient: message.recipient.clone(),
            subject: message.subject.clone(),
            key_id: message.key_id.clone(),
            sealed_body: message.sealed_body.clone(),
            idempotency_key: message.idempotency_key.clone(),
            status: OutboxStatus::Sending,
            attempts: 1,
            created_at: message.created_at,
            next_attempt_at: now + LEASE_SECONDS,
            expires_at: message.expires_at,
            last_error: None,
            provider_id: None,
            sent_at: None,
        };
        self.attempt(&stored, now).await
    }

    /// Claims and sends every due message (up to `limit`); returns how many
    /// were attempted.
    pub async fn run_due(&self, now: u64, limit: u32) -> Result<usize, DomainError> {
        let claimed = self
            .store
            .claim_outbox(now, now + LEASE_SECONDS, limit, None)
            .await?;
        for message in &claimed {
            self.attempt(message, now).await?;
        }
        Ok(claimed.len())
    }

    async fn attempt(&self, message: &OutboxMessage, now: u64) -> Result<Delivery, DomainError> {
        let (update, delivery) = if message.expires_at.is_some_and(|at| at <= now) {
            (
                OutboxUpdate::Failed {
                    error: "expired before it could be sent".into(),
                },
                Delivery::Failed,
            )
        } else {
            match self.send(message).await {
                Ok(receipt) => (
                    OutboxUpdate::Sent {
                        provider_id: receipt.provider_id,
                        at: now,
                    },
                    Delivery::Sent,
                ),
                Err(SendError::Permanent(error)) => {
                    (OutboxUpdate::Failed { error }, Delivery::Failed)
                }
                Err(SendError::Transient(error)) if message.attempts >= MAX_ATTEMPTS => (
                    OutboxUpdate::Failed {
                        error: format!("gave up after {} attempts: {error}", message.attempts),
                    },
                    Delivery::Failed,
                ),
                Err(SendError::Transient(error)) => (
                    OutboxUpdate::Retry {
                        at: now + backoff_seconds(message.attempts, jitter()?),
                        error,
                    },
                    Delivery::Retrying,
                ),
            }
        };
        // Ids, topics and the provider's words only: never the body.
        let (id, channel, topic) = (message.id, message.channel.as_str(), &message.topic);
        match &update {
            OutboxUpdate::Sent { provider_id, .. } => {
                tracing::info!(id, channel, topic, provider_id, "outbox: sent");
            }
            OutboxUpdate::Retry { at, error } => {
                tracing::warn!(
                    id,
                    channel,
                    topic,
                    error,
                    retry_at = at,
                    "outbox: not sent, will retry"
                );
            }
            OutboxUpdate::Failed { error } => {
                tracing::warn!(id, channel, topic, error, "outbox: given up");
            }
        }
        self.store.finish_outbox(message.id, &update).await?;
        Ok(delivery)
    }

    async fn send(&self, message: &OutboxMessage) -> Result<Receipt, SendError> {
        let body = self
            .seal
            .open(
                &message.key_id,
                &message.sealed_body,
                message.idempotency_key.as_bytes(),
            )
            .map_err(|e| SendError::Permanent(format!("cannot open the stored message: {e}")))?;
        match message.channel {
            Channel::Sms => {
                let text = Zeroizing::new(String::from_utf8_lossy(&body).into_owned());
                self.sms
                    .send(&message.idempotency_key, &message.recipient, &text)
                    .await
            }
            Channel::Email => {
                let (text, html) = decode_email(&body)
                    .ok_or_else(|| SendError::Permanent("stored email is damaged".into()))?;
                let email = Email {
                    to: message.recipient.clone(),
                    subject: message.subject.clone(),
                    text,
                    html,
                };
                self.mailer.send(&message.idempotency_key, &email).await
            }
        }
    }
}

/// Seconds before attempt `attempts + 1`: exponential from 5 s, capped at
/// 10 minutes, with "equal jitter" (`jitter` in 0..1 spreads the second half)
/// so instances that failed together do not retry together.
pub fn backoff_seconds(attempts: u32, jitter: f64) -> u64 {
    let exponent = attempts.saturating_sub(1).min(20);
    let full = BACKOFF_BASE_SECONDS
        .saturating_mul(1u64 << exponent)
        .min(BACKOFF_CAP_SECONDS);
    let half = full / 2;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let spread = (half as f64 * jitter.clamp(0.0, 1.0)) as u64;
    (full - half + spread).max(1)
}

fn jitter() -> Result<f64, DomainError> {
    let mut bytes = [0u8; 2];
    getrandom::fill(&mut bytes).map_err(|_| DomainError::RandomSource)?;
    Ok(f64::from(u16::from_le_bytes(bytes)) / f64::from(u16::MAX))
}

/// Text and HTML in one sealed body: the text's length, then both.
fn encode_email(text: &str, html: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + text.len() + html.len());
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(html.as_bytes());
    out
}

fn decode_email(body: &[u8]) -> Option<(String, String)> {
    let (length, rest) = body.split_first_chunk::<8>()?;
    let length = usize::try_from(u64::from_le_bytes(*length)).ok()?;
    let text = rest.get(..length)?;
    let html = rest.get(length..)?;
    Some((
        String::from_utf8(text.to_vec()).ok()?,
        String::from_utf8(html.to_vec()).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        assert_eq!(backoff_seconds(1, 1.0), 5);
        assert_eq!(backoff_seconds(1, 0.0), 3);
        assert_eq!(backoff_seconds(2, 1.0), 10);
        assert_eq!(backoff_seconds(3, 1.0), 20);
        assert_eq!(backoff_seconds(3, 0.0), 10);
        assert_eq!(backoff_seconds(30, 1.0), 600);
        assert_eq!(backoff_seconds(30, 0.0), 300);
        assert_eq!(backoff_seconds(u32::MAX, 0.5), 450);
        for attempts in 1..40 {
            let low = backoff_seconds(attempts, 0.0);
            let high = backoff_seconds(attempts, 1.0);
            assert!(low <= high && high <= 600 && low >= 1);
        }
    }

    #[test]
    fn email_bodies_round_trip_and_damage_is_refused() {
        let body = encode_email("plain ünïcode", "<p>html</p>");
        assert_eq!(
            decode_email(&body),
            Some(("plain ünïcode".into(), "<p>html</p>".into()))
        );
        assert_eq!(decode_email(&body[..5]), None);
        let mut long = body.clone();
        long[0] = 0xff;
        assert_eq!(decode_email(&long), None);
        assert_eq!(decode_email(&[]), None);
    }

    proptest::proptest! {
        #[test]
        fn any_email_body_round_trips(text in ".*", html in ".*") {
            let body = encode_email(&text, &html);
            proptest::prop_assert_eq!(decode_email(&body), Some((text, html)));
        }

        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = decode_email(&bytes);
        }

        #[test]
        fn backoff_is_bounded_for_any_input(attempts in proptest::num::u32::ANY, jitter in proptest::num::f64::ANY) {
            let seconds = backoff_seconds(attempts, jitter);
            proptest::prop_assert!((1..=BACKOFF_CAP_SECONDS).contains(&seconds));
        }
    }

    #[test]
    fn names_round_trip() {
        for status in [
            OutboxStatus::Pending,
            OutboxStatus::Sending,
            OutboxStatus::Sent,
            OutboxStatus::Failed,
        ] {
            assert_eq!(OutboxStatus::parse(status.as_str()), Some(status));
        }
        for channel in [Channel::Sms, Channel::Email] {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}
