//! What the HTTP providers share: one client with bounded timeouts and no
//! redirects, and one reading of a provider's answer as sent, refused
//! (permanent) or unavailable (retry).

use std::time::Duration;

use domain::SendError;

/// The whole request, connect included, gives up after this.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Connecting gives up sooner: a dead host should not hold a worker long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// At most this much of a provider's error body goes into the outbox row.
const ERROR_BODY_LIMIT: usize = 300;

/// A client for provider APIs.
pub(crate) fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("twofactor/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// A failed request (no answer at all): always worth retrying.
pub(crate) fn unreachable(provider: &str, error: &reqwest::Error) -> SendError {
    let what = if error.is_timeout() {
        "did not answer in time".to_owned()
    } else if error.is_connect() {
        "cannot be reached".to_owned()
    } else {
        // Without the URL: webhook URLs can carry tokens.
        error.without_url_ref_string()
    };
    SendError::Transient(format!("{provider} {what}"))
}

/// An answer that is not 2xx: 408, 425, 429 and 5xx are worth retrying,
/// every other 4xx never will be.
pub(crate) fn refused(provider: &str, status: reqwest::StatusCode, detail: &str) -> SendError {
    let detail = scrub_digits(
        &detail
            .chars()
            .filter(|c| !c.is_control())
            .take(ERROR_BODY_LIMIT)
            .collect::<String>(),
    );
    let text = format!("{provider} answered {}: {detail}", status.as_u16());
    if status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429) {
        SendError::Transient(text)
    } else {
        SendError::Permanent(text)
    }
}

/// A gateway may echo the message it refused, code included: runs of
/// three or more digits (spaces inside allowed, as codes are shown
/// `123 456`) become `#`, before anything reaches the outbox row or a log.
pub(crate) fn scrub_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if digits >= 3 {
            out.push('#');
            if run.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || (c == ' ' && !run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

trait WithoutUrl {
    fn without_url_ref_string(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref_string(&self) -> String {
        let mut copy = String::new();
        let mut source: Option<&dyn std::error::Error> = Some(self);
        // The chain's innermost message says what went wrong; reqwest's own
        // top-level message names the URL, which is left out.
        while let Some(error) = source {
            copy = error.to_string();
            source = error.source();
        }
        if copy.is_empty() {
            "request failed".to_owned()
        } else {
            copy
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_and_throttling_are_retried_other_4xx_are_not() {
        for code in [500, 502, 503, 408, 429] {
            let status = reqwest::StatusCode::from_u16(code).unwrap();
            assert!(matches!(refused("x", status, ""), SendError::Transient(_)));
        }
        for code in [400, 401, 403, 404, 422] {
            let status = reqwest::StatusCode::from_u16(code).unwrap();
            assert!(matches!(refused("x", status, ""), SendError::Permanent(_)));
        }
    }

    proptest::proptest! {
        // Whatever a gateway echoes, no three digits in a row (spaces
        // allowed between them) survive into the stored error.
        #[test]
        fn no_code_survives_scrubbing(text in "[0-9 a-z.:'-]{0,80}") {
            let scrubbed = scrub_digits(&text);
            let squeezed: String = scrubbed.chars().filter(|c| *c != ' ').collect();
            proptest::prop_assert!(
                !squeezed.as_bytes().windows(3).any(|w| w.iter().all(u8::is_ascii_digit)),
                "{:?} -> {:?}", text, scrubbed
            );
        }
    }

    #[test]
    fn echoed_codes_are_scrubbed() {
        assert_eq!(
            scrub_digits("bad text 'Clinic token: 123 456.' for 12"),
            "bad text 'Clinic token: #.' for 12"
        );
        assert_eq!(scrub_digits("code 12345678"), "code #");
        assert_eq!(scrub_digits("HTTP 4 xx"), "HTTP 4 xx");
    }

    #[test]
    fn error_bodies_are_cut_and_cleaned() {
        let long = "a\nb".repeat(500);
        let SendError::Permanent(text) = refused("x", reqwest::StatusCode::BAD_REQUEST, &long)
        else {
            panic!("a 400 is permanent");
        };
        assert!(!text.contains('\n'));
        assert!(text.len() < 400);
    }
}
