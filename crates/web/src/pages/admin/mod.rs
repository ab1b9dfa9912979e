//! The practice administrator's pages: `/admin/staff` (the staff list, one
//! page per account with its actions, adding a user), `/admin/policy` and
//! `/admin/audit` with its streamed export.
//!
//! Every page needs a full session of an administrator; staff get 403. An
//! account id of another practice is a 404 exactly like a missing one. Every
//! action re-checks the administrator's password (in the domain).

use askama::Template;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::admin::{AddStaff, AuditFilter, StaffAction, StaffRow};
use domain::{AuditKind, PracticeLocale, PracticePolicy, User, UserId};
use serde::Deserialize;

use super::{Client, encode_next, page};
use crate::audit_export::Format;
use crate::done::{Done, DoneParam};
use crate::extract::{Admin, AdminForm, page_forms};
use crate::{AppError, AppState, csrf};

/// The query string, or a clear 400 page for a malformed one.
fn query<T>(result: Result<Query<T>, QueryRejection>) -> Result<T, AppError> {
    result
        .map(|Query(value)| value)
        .map_err(|rejection| AppError::BadRequest(rejection.body_text()))
}

mod audit;
mod oidc;
mod policy;
mod staff;

pub use audit::{audit, export};
pub use oidc::{add_application, applications, remove_application};
pub use policy::{policy, set_policy};
pub use staff::{act, add_user, new_user_form, show_user, staff};
