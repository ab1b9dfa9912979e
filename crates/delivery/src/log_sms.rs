//! The `log` SMS sender: one line per message on standard output,
//! `SMS to +15555550123: <text>`, and the last messages kept in memory for
//! the demo's outbox page and for tests. It sends nothing anywhere.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use domain::{Receipt, SendError, SmsSender};

/// How many messages the in-memory outbox keeps.
const KEEP: usize = 100;

/// One message as "sent".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    /// E.164 number.
    pub to: String,
    /// The text.
    pub text: String,
}

/// Writes messages to stdout and keeps the latest in memory.
#[derive(Debug, Clone, Default)]
pub struct LogSms {
    recent: Arc<Mutex<VecDeque<SentSms>>>,
    quiet: bool,
}

impl LogSms {
    /// A sender that prints every message.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sender that only keeps messages in memory (tests).
    pub fn quiet() -> Self {
        LogSms {
            quiet: true,
            ..Self::default()
        }
    }

    /// The kept messages, newest last.
    pub fn recent(&self) -> Vec<SentSms> {
        self.recent
            .lock()
            .map(|queue| queue.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl SmsSender for LogSms {
    async fn send(&self, _key: &str, to: &str, text: &str) -> Result<Receipt, SendError> {
        if !self.quiet {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", line(to, text)).map_err(|e| SendError::Transient(e.to_string()))?;
        }
        let mut queue = self
            .recent
            .lock()
            .map_err(|_| SendError::Transient("outbox lock poisoned".to_owned()))?;
        if queue.len() == KEEP {
            queue.pop_front();
        }
        queue.push_back(SentSms {
            to: to.to_owned(),
            text: text.to_owned(),
        });
        Ok(Receipt::default())
    }
}

/// The line printed for one message.
fn line(to: &str, text: &str) -> String {
    // One message, one line: a newline in the text must not forge a second.
    format!("SMS to {to}: {}", text.replace(['\n', '\r'], " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_message_in_the_documented_form() {
        assert_eq!(
            line("+15555550123", "Clinic security token: 123 456."),
            "SMS to +15555550123: Clinic security token: 123 456."
        );
        assert_eq!(
            line("+1", "a\nSMS to +2: forged"),
            "SMS to +1: a SMS to +2: forged"
        );
    }

    #[tokio::test]
    async fn keeps_the_latest_hundred_messages() {
        let sender = LogSms::quiet();
        for i in 0..105 {
            sender
                .send("k", "+15555550123", &format!("m{i}"))
                .await
                .unwrap();
        }
        let recent = sender.recent();
        assert_eq!(recent.len(), 100);
        assert_eq!(recent.first().unwrap().text, "m5");
        assert_eq!(recent.last().unwrap().text, "m104");
    }
}
