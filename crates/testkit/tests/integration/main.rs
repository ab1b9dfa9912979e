//! Every integration test, in one binary (link time on 2 cores). Each story
//! runs against the embedded SQLite and against PostgreSQL: `both!` makes a
//! `_sqlite` and a `_postgres` test from one async function.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// Declares `$story::sqlite` and `$story::postgres` tests running the
/// async function `$story(&app)` of the same module.
macro_rules! both {
    ($story:ident) => {
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = testkit::TestApp::start(testkit::Backend::Sqlite)
                    .await
                    .expect("sqlite always starts");
                super::$story(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = testkit::TestApp::start(testkit::Backend::Postgres).await else {
                    return;
                };
                super::$story(&app).await;
                app.stop().await;
            }
        }
    };
}

/// Like `both!` for stories that build their own app (their configuration
/// depends on a mock started inside the test): `story(Backend)`.
macro_rules! both_backends {
    ($story:ident) => {
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$story(testkit::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$story(testkit::Backend::Postgres).await;
            }
        }
    };
}

/// A page's body without its CSRF token (which differs on every page).
fn page_text(reply: &testkit::Reply) -> String {
    reply
        .body
        .replace(&reply.csrf_token().unwrap_or_default(), "")
}

mod abuse;
mod account;
mod admin;
mod api;
mod api_scopes;
mod browser;
mod delivery;
mod enrollment;
mod factor_changes;
mod flow;
mod forms;
mod hardening;
mod hot_path;
mod lockout;
mod nginx;
mod oidc;
mod pages;
mod passkeys;
mod plans;
mod recovery;
mod remember;
mod reset;
mod sessions;
mod sms;
