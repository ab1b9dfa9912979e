//! Email the domain sends (password reset, "your password was changed"),
//! through a [`Mailer`] the edge provides.

/// One email, plain text and HTML.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Bodies can hold reset links: never in debug output.
        f.debug_struct("Email")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Sends email. Implemented in `delivery` (log, SMTP).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `email`; `key` is unique per message and the same on retries.
    async fn send(
        &self,
        key: &str,
        email: &Email,
    ) -> Result<crate::outbox::Receipt, crate::outbox::SendError>;
}

/// Escapes text for the HTML part.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
