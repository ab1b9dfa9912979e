//! The one mapping from errors to responses. Internal details are logged and
//! never shown: the page says what happened and what to do next.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use domain::DomainError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A form's CSRF token is missing or wrong.
    #[error("csrf token missing or wrong")]
    Csrf,
    /// The request body could not be read as the expected form.
    #[error("malformed request: {0}")]
    BadRequest(String),
    /// The body is larger than the limit.
    #[error("request body too large")]
    TooLarge,
    /// The database is down or failed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("internal: {0}")]
    Internal(String),
}

/// What went wrong, in the terms both faces of the HTTP layer answer in:
/// the pages with a message page, the API with a problem document. One
/// table ([`Fault::answer`]) gives each its status, so a page and an API
/// call that fail the same way answer the same status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A form's CSRF token is missing or wrong.
    Csrf,
    /// The request cannot be read.
    BadRequest,
    /// The body is larger than the limit.
    TooLarge,
    /// The database cannot be reached: worth retrying.
    Unavailable,
    /// A bug or a broken invariant: not worth retrying.
    Internal,
}

/// How a [`Fault`] is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The problem type's last part (`urn:twofactor:problem:…`).
    pub problem: &'static str,
    /// A page's heading.
    pub title: &'static str,
    /// What a page says happened and what to do next.
    pub message: &'static str,
}

impl Fault {
    /// The fault a domain error is. Only an unreachable database is worth
    /// a retry (503); a refused or corrupt row, a seal that does not open
    /// or a failed random source is a fault of this server (500).
    pub fn of(error: &DomainError) -> Self {
        match error {
            DomainError::Store(domain::StoreError::Unavailable(_)) => Fault::Unavailable,
            DomainError::Store(
                domain::StoreError::Conflict(_) | domain::StoreError::Corrupt(_),
            )
            | DomainError::Seal(_)
            | DomainError::RandomSource
            | DomainError::Internal(_) => Fault::Internal,
        }
    }

    /// The one table from faults to answers.
    pub fn answer(self) -> Answer {
        let (status, problem, title, message) = match self {
            Fault::Csrf => (
                StatusCode::FORBIDDEN,
                "csrf",
                "This form has expired",
                "The form was too old or did not come from this site, so nothing was changed. Go back, reload the page and try again.",
            ),
            Fault::BadRequest => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "That request could not be read",
                "The form arrived incomplete or malformed, so nothing was changed. Reload the page and try again.",
            ),
            Fault::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "That request was too large",
                "The form sent more data than a login needs, so nothing was changed. Reload the page and try again.",
            ),
            Fault::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
                "The login service cannot reach its database right now. Nothing was changed. Please try again in a minute; if it persists, tell your practice administrator.",
            ),
            Fault::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong",
                "The login service hit an unexpected error. Nothing was changed. Please try again; if it persists, tell your practice administrator.",
            ),
        };
        Answer {
            status,
            problem,
            title,
            message,
        }
    }
}

impl From<DomainError> for AppError {
    fn from(error: DomainError) -> Self {
        match Fault::of(&error) {
            Fault::Unavailable => AppError::Unavailable(error.to_string()),
            _ => AppError::Internal(error.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Internal(format!("template: {error}"))
    }
}

/// A page that explains an error or a state and offers one way on.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    /// Heading and title.
    pub title: &'a str,
    /// What happened and what to do.
    pub message: &'a str,
    /// Where the one link goes.
    pub link: &'a str,
    /// The link's text.
    pub link_text: &'a str,
}

impl MessagePage<'_> {
    /// Renders with `status`; falls back to plain text if rendering fails.
    pub fn respond(&self, status: StatusCode) -> Response {
        match self.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, self.message.to_owned()).into_response(),
        }
    }
}

impl AppError {
    /// The fault this is.
    pub fn fault(&self) -> Fault {
        match self {
            AppError::Csrf => Fault::Csrf,
            AppError::BadRequest(_) => Fault::BadRequest,
            AppError::TooLarge => Fault::TooLarge,
            AppError::Unavailable(_) => Fault::Unavailable,
            AppError::Internal(_) => Fault::Internal,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let Answer {
            status,
            title,
            message,
            ..
        } = self.fault().answer();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(error = %self, "request refused");
        }
        let lang = crate::lang::current();
        let problem = self.fault().answer().problem;
        let (title, message) = match lang {
            // The English words are the table's own.
            i18n::Lang::En => (title.to_owned(), message.to_owned()),
            _ => (
                lang.t(&format!("error-{problem}-title")),
                lang.t(&format!("error-{problem}-message")),
            ),
        };
        MessagePage {
            title: &title,
            message: &message,
            link: "/login",
            link_text: &lang.t("back-to-login"),
        }
        .respond(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogs' English for each error is the table's own, so pages
    /// and API problem documents say the same.
    #[test]
    fn the_catalogs_say_what_the_table_says() {
        for fault in [
            Fault::Csrf,
            Fault::BadRequest,
            Fault::TooLarge,
            Fault::Unavailable,
            Fault::Internal,
        ] {
            let answer = fault.answer();
            for (part, words) in [("title", answer.title), ("message", answer.message)] {
                let id = format!("error-{}-{part}", answer.problem);
                assert_eq!(i18n::Lang::En.t(&id), words, "{id}");
                assert_ne!(i18n::Lang::Es.t(&id), words, "{id} in Spanish");
            }
        }
    }

    #[test]
    fn every_error_has_its_status_and_hides_internals() {
        let cases = [
            (AppError::Csrf, StatusCode::FORBIDDEN),
            (AppError::BadRequest("x".into()), StatusCode::BAD_REQUEST),
            (AppError::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
            (
                AppError::Unavailable("pool timed out: secret detail".into()),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                AppError::Internal("secret detail".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            let answer = error.fault().answer();
            assert_eq!(answer.status, status);
            assert!(!answer.message.contains("secret detail"));
            assert_eq!(error.into_response().status(), status);
        }
    }

    /// Every domain error, as the pages and the API answer it: the same
    /// status from both, and nothing of the error's text in either.
    #[test]
    fn every_domain_error_answers_the_same_on_pages_and_api() {
        use domain::StoreError;
        let secret = "secret detail";
        let cases: [(fn() -> DomainError, Fault); 6] = [
            (
                || DomainError::Store(StoreError::Unavailable("secret detail".into())),
                Fault::Unavailable,
            ),
            (
                || DomainError::Store(StoreError::Conflict("secret detail".into())),
                Fault::Internal,
            ),
            (
                || DomainError::Store(StoreError::Corrupt("secret detail".into())),
                Fault::Internal,
            ),
            (
                || DomainError::Seal(domain::SealError::Damaged),
                Fault::Internal,
            ),
            (|| DomainError::RandomSource, Fault::Internal),
            (
                || DomainError::Internal("secret detail".into()),
                Fault::Internal,
            ),
        ];
        for (make, fault) in cases {
            let error = make();
            assert_eq!(Fault::of(&error), fault, "{error}");
            let page = AppError::from(make()).into_response();
            let api = crate::api::Problem::from(make());
            assert_eq!(page.status(), fault.answer().status, "{error}");
            assert_eq!(api.status, fault.answer().status.as_u16(), "{error}");
            assert_eq!(
                api.kind,
                format!("urn:twofactor:problem:{}", fault.answer().problem)
            );
            assert!(!api.detail.contains(secret) && !api.title.contains(secret));
        }
    }
}
