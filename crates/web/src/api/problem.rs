//! RFC 9457 problem details: every API error is `application/problem+json`
//! with a stable `type` per error, so clients branch on it, not on wording.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answer: the wire's [`twofactor_wire::Problem`], which this
/// crate turns into a response.
#[derive(Debug, Clone)]
pub struct Problem(pub twofactor_wire::Problem);

impl std::ops::Deref for Problem {
    type Target = twofactor_wire::Problem;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Problem {
    fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem(twofactor_wire::Problem {
            kind: format!("urn:twofactor:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            retry_after: None,
        })
    }

    /// 401: the key is missing, wrong or revoked (no hint which).
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or invalid API key",
            "send Authorization: Bearer <key> with a live key",
        )
    }

    /// 403: the key lacks the scope, or may not manage this user.
    pub fn forbidden(refusal: domain::api::ScopeRefusal) -> Self {
        use domain::api::ScopeRefusal;
        let detail = match refusal {
            ScopeRefusal::Missing(scope) => format!("this key lacks the {scope} scope"),
            ScopeRefusal::NotAnApiUser => "this key manages only users created through the API; \
                 this user logs in on the pages (an administrator can grant manage-all)"
                .to_owned(),
        };
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed for this key",
            detail,
        )
    }

    /// 404: no such user (or device) for this key.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "No such resource",
            format!("no such {what}"),
        )
    }

    /// 400: the body or a parameter cannot be read.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request cannot be read",
            detail,
        )
    }

    /// 422: a field breaks its rule.
    pub fn invalid(field: &str, message: &str) -> Self {
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "A field is missing or malformed",
            format!("{field}: {message}"),
        );
        problem.field = Some(field.to_owned());
        problem
    }

    /// 409: the value is taken, or the key was used for another request.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    /// 409: the user has no factor for this operation.
    pub fn no_factor(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "no-factor",
            "The user has no such second factor",
            detail,
        )
    }

    /// 429: too many requests (per key) or texts (per user).
    pub fn rate_limited(seconds: u64, detail: impl Into<String>) -> Self {
        let mut problem = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            detail,
        );
        problem.retry_after = Some(seconds.max(1));
        problem
    }

    /// 502: the SMS provider refused the number.
    pub fn sms_refused(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "sms-refused",
            "The SMS provider refused the number",
            detail,
        )
    }

    /// 503: the database (or another dependency) is down.
    pub fn unavailable() -> Self {
        Self::of(crate::error::Fault::Unavailable, "try again shortly")
    }

    /// 500: a bug; details are in the server log only.
    pub fn internal() -> Self {
        Self::of(crate::error::Fault::Internal, "the error was logged")
    }

    /// A fault of the HTTP layer's one table, with `detail`.
    fn of(fault: crate::error::Fault, detail: &str) -> Self {
        let answer = fault.answer();
        Self::new(answer.status, answer.problem, answer.title, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after;
        let body = serde_json::to_vec(&self.0).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = retry {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                headers.insert(header::RETRY_AFTER, value);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<domain::DomainError> for Problem {
    fn from(error: domain::DomainError) -> Self {
        let fault = crate::error::Fault::of(&error);
        match fault {
            crate::error::Fault::Unavailable => {
                tracing::warn!(%error, "api: database unavailable");
                Problem::unavailable()
            }
            _ => {
                tracing::error!(%error, "api: internal error");
                Problem::internal()
            }
        }
    }
}
