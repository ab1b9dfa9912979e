//! The `log` mailer: one line per email on standard output (recipient and
//! subject; the body can hold a reset link, so it is kept only in memory for
//! the demo outbox and tests, never printed).

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use domain::{Email, Mailer, Receipt, SendError};

/// How many emails the in-memory outbox keeps.
const KEEP: usize = 100;

/// Prints a line per email and keeps the latest in memory.
#[derive(Debug, Clone, Default)]
pub struct LogMail {
    recent: Arc<Mutex<VecDeque<Email>>>,
    quiet: bool,
}

impl LogMail {
    /// A mailer that prints a line per email.
    pub fn new() -> Self {
        Self::default()
    }

    /// A mailer that only keeps emails in memory (tests).
    pub fn quiet() -> Self {
        LogMail {
            quiet: true,
            ..Self::default()
        }
    }

    /// The kept emails, newest last.
    pub fn recent(&self) -> Vec<Email> {
        self.recent
            .lock()
            .map(|queue| queue.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Mailer for LogMail {
    async fn send(&self, _key: &str, email: &Email) -> Result<Receipt, SendError> {
        if !self.quiet {
            let mut out = std::io::stdout().lock();
            let subject = email.subject.replace(['\n', '\r'], " ");
            writeln!(out, "Email to {}: {subject}", email.to)
                .map_err(|e| SendError::Transient(e.to_string()))?;
        }
        let mut queue = self
            .recent
            .lock()
            .map_err(|_| SendError::Transient("outbox lock poisoned".to_owned()))?;
        if queue.len() == KEEP {
            queue.pop_front();
        }
        queue.push_back(email.clone());
        Ok(Receipt::default())
    }
}
