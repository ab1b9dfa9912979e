//! Email over SMTP with lettre. The URL says how: `smtp://host:port` (plain,
//! for a relay on loopback), `smtp://host:port?tls=required` (STARTTLS,
//! refused if the server does not offer it), `smtps://user:pass@host:port`
//! (TLS from the first byte). Every email has a plain-text and an HTML part.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use domain::{Email, Mailer, Receipt, SendError};

/// One SMTP conversation gives up after this.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Sends through an SMTP server.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `url`, sending as `from` (`Name <address>` or an address).
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("mail_from {from:?} is not an email address: {e}"))?;
        // lettre's own message can quote the URL; ours names only the scheme.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| {
                "smtp_url must look like smtp://host:port, smtp://host:port?tls=required \
                 or smtps://user:password@host:port"
                    .to_owned()
            })?
            .timeout(Some(TIMEOUT))
            .build();
        Ok(SmtpMailer { transport, from })
    }

    /// Whether the URL sends without TLS to a host that is not this machine.
    pub fn is_plaintext_remote(url: &str) -> bool {
        let Some(rest) = url.strip_prefix("smtp://") else {
            return false;
        };
        if rest.contains("tls=required") || rest.contains("tls=opportunistic") {
            return false;
        }
        let host = rest.rsplit('@').next().unwrap_or(rest);
        let host = host.split(['/', '?']).next().unwrap_or(host);
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        !matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, key: &str, email: &Email) -> Result<Receipt, SendError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| SendError::Permanent(format!("recipient is not an email address: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{key}@twofactor>")))
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("cannot build the email: {e}")))?;
        match self.transport.send(message).await {
            Ok(response) => Ok(Receipt {
                provider_id: Some(response.message().collect::<Vec<_>>().join(" "))
                    .filter(|s| !s.is_empty()),
            }),
            Err(error) if error.is_permanent() => {
                Err(SendError::Permanent(format!("SMTP refused: {error}")))
            }
            Err(error) => Err(SendError::Transient(format!("SMTP unavailable: {error}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_and_senders_are_refused_without_echoing_the_url() {
        let error = SmtpMailer::new("ftp://user:hunter2@host", "a@b.test").unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(SmtpMailer::new("smtp://127.0.0.1:25", "not an address").is_err());
        assert!(SmtpMailer::new("smtp://127.0.0.1:2525", "Clinic <a@b.test>").is_ok());
        assert!(SmtpMailer::new("smtps://u:p@mail.example.test:465", "a@b.test").is_ok());
    }

    #[test]
    fn plaintext_to_another_host_is_flagged() {
        assert!(SmtpMailer::is_plaintext_remote(
            "smtp://mail.example.test:25"
        ));
        assert!(SmtpMailer::is_plaintext_remote("smtp://u:p@10.0.0.5:25"));
        assert!(!SmtpMailer::is_plaintext_remote("smtp://127.0.0.1:2525"));
        assert!(!SmtpMailer::is_plaintext_remote("smtp://localhost:25"));
        assert!(!SmtpMailer::is_plaintext_remote(
            "smtp://mail.example.test:587?tls=required"
        ));
        assert!(!SmtpMailer::is_plaintext_remote(
            "smtps://mail.example.test:465"
        ));
    }
}
