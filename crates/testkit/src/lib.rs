//! Test support: boots the real app (the same wiring as `twofactor serve`)
//! on `127.0.0.1:0` against a temporary SQLite database or a fresh schema in
//! the PostgreSQL named by `TEST_DATABASE_URL` (default
//! `postgres://root@127.0.0.1:5432/test`), with a clock the test moves by
//! hand, and hands out a cookie-keeping HTTP client.
//!
//! PostgreSQL that cannot be reached fails the test when `CI` is set, and is
//! skipped with a loud message otherwise, so a newcomer without a server can
//! still run the SQLite half.
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod browser;
mod client;
pub mod gateway;
pub mod smtp_sink;

use std::net::SocketAddr;
use std::sync::Arc;

use domain::{ManualClock, User};
use otp::{Algorithm, Digits, Period, Secret, Totp};
use tokio::sync::oneshot;
use twofactor::app::{self, AddUser, App};
use twofactor::config::Config;

pub use client::{Client, Reply};

/// Which database a test app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh schema in the test PostgreSQL.
    Postgres,
}

/// A moment well inside a TOTP step, so tests are not near a boundary.
pub const START: u64 = 1_800_000_010;

/// The bearer token the test apps' `/metrics` asks for.
pub const METRICS_TOKEN: &str = "testkit-metrics-token";

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// The phone of [`TestApp::add_admin_with_totp`]'s administrator.
pub const ADMIN_PHONE: &str = "+12015550199";

/// The test PostgreSQL URL.
pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// Where a test app's data lives; shared by a second server on the same database.
#[derive(Debug, Clone)]
struct Database {
    config: Config,
    schema: Option<String>,
    /// `public_url` is `http://localhost:PORT` of the server's own port
    /// (an OpenID Connect issuer clients can reach).
    public_at_port: bool,
    /// `twofactor demo`'s mode: `/dev/outbox` lists what was sent.
    demo: bool,
}

/// A running app.
#[derive(Debug)]
pub struct TestApp {
    /// Its address.
    pub addr: SocketAddr,
    /// The app (store, login service) for setup and inspection.
    pub app: App,
    /// The clock every request reads.
    pub clock: Arc<ManualClock>,
    database: Database,
    backend: Backend,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<Arc<tempfile::TempDir>>,
}

impl TestApp {
    /// The database under the app, for a test to set up or inspect what
    /// no page shows (the product reaches it only through the domain).
    pub fn store(&self) -> &dyn domain::Store {
        &self.app.store
    }

    /// Starts an app on `backend`, or `None` when PostgreSQL is unreachable
    /// outside CI.
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts an app after `configure` adjusted its configuration.
    pub async fn start_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        Self::start_as(backend, configure, false, false).await
    }

    /// Starts an app in demo mode: `/dev/outbox` lists the texts and emails
    /// sent (also printed, as `twofactor demo` does).
    pub async fn start_demo(backend: Backend) -> Option<TestApp> {
        Self::start_as(backend, |_| {}, false, true).await
    }

    async fn start_as(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
        public_at_port: bool,
        demo: bool,
    ) -> Option<TestApp> {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            master_key: Some("11".repeat(32).into()),
            issuer: "Test Clinic".into(),
            metrics_token: Some(METRICS_TOKEN.into()),
            ..Config::default()
        };
        let schema = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let schema = create_schema().await?;
                config.database_url = Some(postgres_url().into());
                Some(schema)
            }
        };
        configure(&mut config);
        let database = Database {
            config,
            schema,
            public_at_port,
            demo,
        };
        Some(
            Self::boot(
                database,
                backend,
                Some(dir),
                Arc::new(ManualClock::new(START)),
            )
            .await,
        )
    }

    /// Starts an app whose `public_url` (the OpenID Connect issuer) is
    /// `http://localhost:PORT` of its own port.
    pub async fn start_public(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        Self::start_as(backend, configure, true, false).await
    }

    /// Another server process on the same database and clock, its
    /// configuration changed by `configure` (a new master key, say).
    pub async fn instance_with(&self, configure: impl FnOnce(&mut Config)) -> TestApp {
        let mut database = self.database.clone();
        configure(&mut database.config);
        Self::boot(
            database,
            self.backend,
            self._dir.clone(),
            self.clock.clone(),
        )
        .await
    }

    /// A second server process on the same database and clock, as behind a
    /// load balancer.
    pub async fn second_instance(&self) -> TestApp {
        Self::boot(
            self.database.clone(),
            self.backend,
            self._dir.clone(),
            self.clock.clone(),
        )
        .await
    }

    async fn boot(
        database: Database,
        backend: Backend,
        dir: Option<Arc<tempfile::TempDir>>,
        clock: Arc<ManualClock>,
    ) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = database.config.clone();
        if database.public_at_port {
            config.public_url = Some(format!("http://localhost:{}", addr.port()));
        }
        let mode = if database.demo {
            app::Mode::Demo
        } else {
            app::Mode::Quiet
        };
        let app = app::build(&config, mode, clock.clone(), database.schema.as_deref())
            .await
            .expect("app builds");
        let (tx, rx) = oneshot::channel::<()>();
        let served = app.clone();
        let server = tokio::spawn(async move {
            app::serve(&served, listener, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        TestApp {
            addr,
            app,
            clock,
            database,
            backend,
            shutdown: Some(tx),
            server: Some(server),
            _dir: dir,
        }
    }

    /// Which backend this app uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `http://localhost:PORT{path}`: where browsers accept passkeys.
    pub fn localhost_url(&self, path: &str) -> String {
        format!("http://localhost:{}{}", self.addr.port(), path)
    }

    /// A fresh browser-like client (own cookie jar, no redirects followed).
    pub fn client(&self) -> Client {
        Client::new(self.url(""))
    }

    /// Creates a user with [`PASSWORD`].
    pub async fn add_user(&self, username: &str) -> User {
        self.add_user_with_phone(username, None).await
    }

    /// A fresh set of ten recovery codes for `user`, made now.
    pub async fn recovery_codes(&self, user: &User) -> Vec<String> {
        self.app
            .login
            .new_recovery_codes(
                user,
                &domain::RequestContext::admin_cli(),
                self.clock.now_for_tests(),
            )
            .await
            .expect("recovery codes")
    }

    /// Registers an OIDC client in the first practice; returns its id and,
    /// for a confidential one, its secret.
    pub async fn add_oidc_client(
        &self,
        name: &str,
        redirect_uris: &[String],
        post_logout_redirect_uris: &[String],
        public: bool,
        alg: &str,
    ) -> (String, Option<String>) {
        let practice = self.app.practice(None).await.unwrap();
        let issued = self
            .app
            .login
            .oidc_add_client(
                &domain::oidc::NewClient {
                    name,
                    practice,
                    redirect_uris,
                    post_logout_redirect_uris,
                    public,
                    id_token_alg: domain::oidc::SigningAlg::parse(alg).expect("a signing alg"),
                },
                None,
                &domain::RequestContext::admin_cli(),
                self.clock.now_for_tests(),
            )
            .await
            .unwrap()
            .expect("the client is registered");
        (issued.client.client_id, issued.secret)
    }

    /// Creates a user with [`PASSWORD`] and a verified phone.
    pub async fn add_user_with_phone(&self, username: &str, phone: Option<&str>) -> User {
        self.app
            .add_user(&AddUser {
                username: username.into(),
                email: format!("{username}@clinic.example"),
                phone: phone.map(str::to_owned),
                role: domain::Role::Staff,
                practice: None,
                password: PASSWORD.into(),
            })
            .await
            .expect("user created")
    }

    /// Creates a user with [`PASSWORD`] in `practice` (created if missing;
    /// `None`: the first practice) with `role`.
    pub async fn add_user_in(
        &self,
        username: &str,
        practice: Option<&str>,
        role: domain::Role,
    ) -> User {
        self.app
            .add_user(&AddUser {
                username: username.into(),
                email: format!("{username}@clinic.example"),
                phone: None,
                role,
                practice: practice.map(str::to_owned),
                password: PASSWORD.into(),
            })
            .await
            .expect("user created")
    }

    /// Issues an emergency access link for the administrator `username`
    /// (as `twofactor emergency-access` does) and returns its path.
    pub async fn emergency_path(&self, username: &str, reason: &str) -> String {
        const BASE: &str = "http://127.0.0.1:8080";
        let link = self
            .app
            .login
            .issue_emergency_access(username, reason, BASE, START)
            .await
            .expect("the database answers")
            .expect("an administrator");
        link.trim_start_matches(BASE).to_owned()
    }

    /// Creates an administrator of the first practice, logged in (no
    /// second factor enrolled); returns the user and the browser.
    pub async fn admin(&self, username: &str) -> (User, Client) {
        let admin = self.add_user_in(username, None, domain::Role::Admin).await;
        let mut browser = self.client();
        let reply = browser.submit_password(username, PASSWORD).await;
        assert_eq!(reply.status, 303, "admin logs in: {}", reply.body);
        (admin, browser)
    }

    /// Creates a user with an authenticator enrolled; returns the phone's side.
    pub async fn add_user_with_totp(&self, username: &str) -> (User, Totp) {
        self.add_user_with(username, Algorithm::Sha1, Digits::SIX, Period::DEFAULT)
            .await
    }

    /// Like [`TestApp::add_user_with_totp`] with chosen parameters.
    pub async fn add_user_with(
        &self,
        username: &str,
        algorithm: Algorithm,
        digits: Digits,
        period: Period,
    ) -> (User, Totp) {
        let user = self.add_user(username).await;
        let totp = self.enroll(&user, algorithm, digits, period).await;
        (user, totp)
    }

    /// Creates an administrator of the first practice with an
    /// authenticator enrolled and [`ADMIN_PHONE`] on file; returns the
    /// phone's side.
    pub async fn add_admin_with_totp(&self, username: &str) -> (User, Totp) {
        let user = self
            .app
            .add_user(&AddUser {
                username: username.into(),
                email: format!("{username}@clinic.example"),
                phone: Some(ADMIN_PHONE.into()),
                role: domain::Role::Admin,
                practice: None,
                password: PASSWORD.into(),
            })
            .await
            .expect("administrator created");
        let totp = self
            .enroll(&user, Algorithm::Sha1, Digits::SIX, Period::DEFAULT)
            .await;
        (user, totp)
    }

    /// Links an authenticator for `user`; returns the phone's side.
    pub async fn enroll(
        &self,
        user: &User,
        algorithm: Algorithm,
        digits: Digits,
        period: Period,
    ) -> Totp {
        let secret = Secret::generate(algorithm).expect("random");
        let uri = self
            .app
            .enroll_totp(user, Some(secret), algorithm, digits, period)
            .await
            .expect("enrolled");
        uri.to_totp().expect("totp")
    }

    /// The code the user's phone shows now (by the test clock), offset by
    /// `steps` periods.
    pub fn code(&self, totp: &Totp, steps: i64) -> String {
        let period = i64::from(totp.period().seconds());
        let at = self
            .clock
            .now_for_tests()
            .saturating_add_signed(steps * period);
        totp.generate(at).expect("code").as_str().to_owned()
    }

    /// The code in the latest SMS sent to `phone`, digits only.
    pub fn last_sms_code(&self, phone: &str) -> Option<String> {
        let message = self
            .app
            .sms_outbox
            .recent()
            .into_iter()
            .rev()
            .find(|m| m.to == phone)?;
        sms_code_in(&message.text)
    }

    /// A new API key for the practice named `practice` (created if
    /// missing; `None`: the first practice).
    /// It has the scopes `api-key create` gives without `--scope`.
    pub async fn api_key(&self, practice: Option<&str>) -> String {
        self.api_key_with(practice, domain::api::Scopes::DEFAULT)
            .await
    }

    /// Like [`TestApp::api_key`], with these scopes.
    pub async fn api_key_with(
        &self,
        practice: Option<&str>,
        scopes: domain::api::Scopes,
    ) -> String {
        let practice = self.app.practice(practice).await.expect("practice");
        self.app
            .login
            .create_api_key(practice, "tests", scopes, self.clock.now_for_tests())
            .await
            .expect("api key")
            .0
    }

    /// Sends every message that is due by the test clock, as the worker of
    /// `twofactor serve` would (tests run no background worker, so what is
    /// sent, and when, is up to the test). Returns how many were attempted.
    pub async fn flush_outbox(&self) -> usize {
        // What the pages started after answering (a reset link) first.
        self.app.login.pending_work().settled().await;
        let mut total = 0;
        loop {
            let n = self
                .app
                .login
                .outbox()
                .run_due(self.clock.now_for_tests(), 100)
                .await
                .expect("outbox run");
            total += n;
            if n == 0 {
                return total;
            }
        }
    }

    /// Every email "sent" so far, after flushing the outbox.
    pub async fn mails(&self) -> Vec<domain::Email> {
        self.flush_outbox().await;
        self.app.mail_outbox.recent()
    }

    /// The `/metrics` page, scraped with the bearer token.
    pub async fn metrics(&self) -> Reply {
        self.client()
            .get_with(
                "/metrics",
                &[("authorization", &format!("Bearer {METRICS_TOKEN}"))],
            )
            .await
    }

    /// How many SMS were sent so far.
    pub fn sms_count(&self) -> usize {
        self.app.sms_outbox.recent().len()
    }

    /// Stops the server and removes its PostgreSQL schema.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.app.store.close().await;
        if let Some(schema) = &self.database.schema {
            if let Ok(pool) = sqlx::PgPool::connect(&postgres_url()).await {
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        }
    }
}

/// The code in a token text message (`… security token: 123 456. …`),
/// digits only.
pub fn sms_code_in(text: &str) -> Option<String> {
    // "<site> security token: 123 456. …", "Código de seguridad de <site>:
    // 123 456. …", "… confirm this phone: 123456. …": the digits after
    // the first colon.
    let after = text.split_once(": ")?.1;
    Some(
        after
            .split('.')
            .next()?
            .chars()
            .filter(char::is_ascii_digit)
            .collect(),
    )
}

/// Reads the manual clock without importing the `Clock` trait in every test.
pub trait NowForTests {
    /// The clock's time.
    fn now_for_tests(&self) -> u64;
}

impl NowForTests for ManualClock {
    fn now_for_tests(&self) -> u64 {
        domain::Clock::now(self)
    }
}

async fn create_schema() -> Option<String> {
    let url = postgres_url();
    let pool = match sqlx::PgPool::connect(&url).await {
        Ok(pool) => pool,
        Err(error) if std::env::var_os("CI").is_some() => {
            panic!("PostgreSQL at {url} is unreachable under CI: {error}")
        }
        Err(error) => {
            eprintln!(
                "SKIPPED: PostgreSQL at {url} is unreachable ({error}); set TEST_DATABASE_URL \
                 or start it. Under CI=true this is a failure."
            );
            return None;
        }
    };
    let token = domain::token::generate().expect("random");
    let suffix: String = token
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_ascii_lowercase();
    let schema = format!("tf_test_{suffix}");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
    Some(schema)
}
