//! Wiring: configuration in, a running application out. The CLI and the
//! test kit both build the app here, so tests run exactly what ships.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::hasher::BlockingArgon2;
use anyhow::Context as _;
use domain::{
    Clock, LoginService, Outbox, Policy, Role, SecretBox, User, user::normalize_username,
};
use otp::{Algorithm, Digits, OtpAuthUri, Period, Secret};
use store::SqlStore;
use web::{AppState, WebConfig};

use crate::config::Config;
use crate::master_key::MasterKey;

/// A built application: the router and what admin commands need.
#[derive(Debug, Clone)]
pub struct App {
    /// The HTTP application.
    pub router: axum::Router,
    /// The login service (also used by the admin CLI).
    pub login: LoginService,
    /// The concrete store.
    pub store: SqlStore,
    /// The clock requests read.
    pub clock: Arc<dyn ClockDebug>,
    /// Audit events older than this many days are pruned (0: never).
    pub audit_retention_days: u32,
    /// Issuer shown in authenticator apps.
    pub issuer: String,
    /// Every SMS "sent" (the log provider keeps the latest).
    pub sms_outbox: delivery::LogSms,
    /// Every email "sent" (the log mailer keeps the latest).
    pub mail_outbox: delivery::LogMail,
    /// The configuration it was built from, parsed.
    pub settings: Arc<crate::config::Settings>,
    /// How it runs.
    pub mode: Mode,
}

/// A clock that can be printed in `Debug` output.
pub trait ClockDebug: Clock + std::fmt::Debug {}
impl<T: Clock + std::fmt::Debug> ClockDebug for T {}

struct ClockRef(Arc<dyn ClockDebug>);
impl Clock for ClockRef {
    fn now(&self) -> u64 {
        self.0.now()
    }
}

/// Room the data directory must have at start: a few pages of database and
/// write-ahead log.
const DATA_DIR_PROBE_BYTES: usize = 64 * 1024;

/// Creates the data directory if missing and proves it takes a write of
/// `DATA_DIR_PROBE_BYTES`, so a read-only or full disk stops the start
/// with one line naming the directory and the cause, rather than a SQLite
/// code later.
pub fn check_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    let probe = dir.join(".twofactor-write-check");
    let written = create_private_dir(dir).and_then(|()| {
        let mut file = std::fs::File::create(&probe)?;
        file.write_all(&[0; DATA_DIR_PROBE_BYTES])?;
        file.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    written.map_err(|error| {
        use std::io::ErrorKind;
        let shown = dir.display();
        let what = match error.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => format!(
                "data_dir {shown} is full: free some space (the database and its log need room to grow)"
            ),
            ErrorKind::ReadOnlyFilesystem => format!(
                "data_dir {shown} is on a read-only file system: mount it read-write or set TWOFACTOR_DATA_DIR"
            ),
            ErrorKind::PermissionDenied => format!(
                "data_dir {shown} is not writable by this user: give it to the service's user or set TWOFACTOR_DATA_DIR"
            ),
            _ => format!("data_dir {shown} cannot be written"),
        };
        anyhow::anyhow!("{what} ({error})")
    })
}

/// Creates `dir` (and missing parents) readable by this user only: it
/// holds the database and the master key.
pub(crate) fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// How the app runs, beside its configuration: chosen by the command or
/// the test kit, never by a file or a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `twofactor serve` and the other commands.
    #[default]
    Serve,
    /// `twofactor demo`: the texts sent are shown at `/dev/outbox`.
    Demo,
    /// Tests: logged texts and emails are kept in memory, not printed.
    Quiet,
}

/// `login` with passkeys bound to `public_url`; where browsers would
/// refuse them there (an IP address, plain http other than localhost) they
/// are off, and the start says why in one line.
fn passkeys_at(login: LoginService, public_url: &str, site_name: &str) -> LoginService {
    match domain::passkey::RelyingParty::for_public_url(public_url, site_name) {
        Ok(relying_party) => login.with_passkeys(relying_party),
        Err(why) => {
            tracing::warn!("{why}");
            login
        }
    }
}

/// Connects to the database (migrating it), loads the master key and builds
/// the router. `search_path` puts a PostgreSQL app in its own schema (tests).
pub async fn build(
    config: &Config,
    mode: Mode,
    clock: Arc<dyn ClockDebug>,
    search_path: Option<&str>,
) -> anyhow::Result<App> {
    let settings = config.settings()?;
    if config.database_url.is_none() || config.master_key.is_none() {
        check_data_dir(&config.data_dir)?;
    }
    let store = store::connect(settings.database_url.expose(), true, search_path).await?;
    let master_key = config
        .master_key
        .as_ref()
        .map(crate::config::Secret::expose);
    let key = MasterKey::load(master_key, &config.data_dir)?;
    let mut seal = SecretBox::new(&key.id, &key.bytes)?;
    for previous in &settings.previous_keys {
        seal = seal.with_previous(&previous.id, &previous.bytes)?;
    }
    let hasher = BlockingArgon2::per_core()?;
    let policy = Policy {
        require_2fa: config.require_2fa,
        password_min_length: config.password_min_length,
        ..Policy::default()
    };
    let (sms_outbox, mail_outbox) = if mode == Mode::Quiet {
        (delivery::LogSms::quiet(), delivery::LogMail::quiet())
    } else {
        (delivery::LogSms::new(), delivery::LogMail::new())
    };
    let sms: Arc<dyn domain::SmsSender> = match settings.sms_sender.clone() {
        Some(sender) => sender,
        None => Arc::new(sms_outbox.clone()),
    };
    let mailer: Arc<dyn domain::Mailer> = match settings.mailer.clone() {
        Some(mailer) => mailer,
        None => Arc::new(mail_outbox.clone()),
    };
    let store_arc: Arc<dyn domain::Store> = Arc::new(store.clone());
    let seal = Arc::new(seal);
    let outbox = Outbox::new(store_arc.clone(), seal.clone(), sms, mailer);
    let login = LoginService::new(
        store_arc,
        Arc::new(hasher),
        seal,
        outbox,
        policy,
        &config.issuer,
    );
    let login =
        passkeys_at(login, &settings.public_url, &config.issuer).with_issuer(&settings.public_url);
    let state = AppState {
        login: Arc::new(login.clone()),
        clock: Arc::new(ClockRef(clock.clone())),
        config: Arc::new(WebConfig {
            secure_cookies: settings.secure_cookies,
            site_name: config.issuer.clone(),
            demo_outbox: (mode == Mode::Demo).then(|| web::DemoOutbox {
                sms: sms_outbox.clone(),
                mail: mail_outbox.clone(),
            }),
            trusted_proxies: settings.trusted_proxies.clone(),
            public_url: settings.public_url.clone(),
            metrics_token: config
                .metrics_token
                .as_ref()
                .map(|token| token.expose().to_owned()),
        }),
        metrics: Arc::default(),
        api_rate: Arc::new(web::api::RateLimiter::new(config.api_requests_per_minute)),
        oidc_rate: Arc::new(web::api::RateLimiter::new(
            config.oidc_token_requests_per_minute,
        )),
    };
    Ok(App {
        router: web::router(state),
        login,
        store,
        clock,
        audit_retention_days: config.audit_retention_days,
        issuer: config.issuer.clone(),
        sms_outbox,
        mail_outbox,
        settings: Arc::new(settings),
        mode,
    })
}

/// Messages claimed per pass of the outbox worker.
const OUTBOX_BATCH: u32 = 50;

impl App {
    /// Starts the outbox worker: it sends what is due, then waits for a new
    /// message or one second, until the task is aborted. Several instances
    /// may run one each; the store's claim keeps each message to one.
    pub fn start_outbox_worker(&self) -> tokio::task::JoinHandle<()> {
        let outbox = self.login.outbox().clone();
        let clock = self.clock.clone();
        tokio::spawn(async move {
            loop {
                match outbox.run_due(clock.now(), OUTBOX_BATCH).await {
                    // A full batch: more may be due at once.
                    Ok(n) if n == OUTBOX_BATCH as usize => continue,
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "outbox: cannot send due messages"),
                }
                let _ =
                    tokio::time::timeout(std::time::Duration::from_secs(1), outbox.woken()).await;
            }
        })
    }
}

impl App {
    /// Starts the audit sealer: every two seconds it chains the rows that
    /// are at least a few seconds old (see `domain::audit_chain`), and once
    /// an hour prunes what the retention setting lets go and forgets locks
    /// and failures a day past.
    pub fn start_audit_sealer(&self) -> tokio::task::JoinHandle<()> {
        let login = self.login.clone();
        let clock = self.clock.clone();
        let retention = u64::from(self.audit_retention_days) * 86_400;
        tokio::spawn(async move {
            let mut last_prune = 0;
            loop {
                let now = clock.now();
                if let Err(error) = login.seal_audit(now).await {
                    tracing::warn!(%error, "audit: cannot seal the newest events");
                }
                if now >= last_prune + 3600 {
                    last_prune = now;
                    if let Err(error) = login.sweep_locks(now).await {
                        tracing::warn!(%error, "cannot forget old locks");
                    }
                    if let Err(error) = login.oidc_sweep(now).await {
                        tracing::warn!(%error, "cannot forget used sign-in codes and tokens");
                    }
                }
                if retention > 0 && now == last_prune {
                    match login.prune_audit(now.saturating_sub(retention), now).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(events = n, "audit: pruned under the retention setting")
                        }
                        Err(error) => tracing::warn!(%error, "audit: cannot prune"),
                    }
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        })
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes the
/// requests in flight and the work they left running.
pub async fn serve(
    app: &App,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::serve::ListenerExt as _;
    let service = app
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    // No Nagle: a response written in two segments must not wait for the
    // client's delayed ACK (up to 40 ms).
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
        .context("server failed")?;
    // A reset link whose page already answered is still committed.
    app.login.pending_work().settled().await;
    Ok(())
}

/// What `user add` needs.
#[derive(Debug, Clone)]
pub struct AddUser {
    /// Login name.
    pub username: String,
    /// Email.
    pub email: String,
    /// A phone the admin vouches for, E.164.
    pub phone: Option<String>,
    /// Role.
    pub role: Role,
    /// Practice name; default the first practice (or "Default Practice").
    pub practice: Option<String>,
    /// The password.
    pub password: String,
}

impl App {
    /// Creates a user. Errors say what to fix.
    pub async fn add_user(&self, new: &AddUser) -> anyhow::Result<User> {
        let practice = self.practice(new.practice.as_deref()).await?;
        let account = domain::AccountByAdmin {
            username: &new.username,
            email: &new.email,
            phone: new.phone.as_deref(),
            role: new.role,
            practice,
            password: &new.password,
        };
        self.login
            .add_account(account, self.clock.now())
            .await?
            .map_err(anyhow::Error::msg)
    }

    /// The practice named `name` (created if missing), or by default the
    /// first practice (or "Default Practice" on an empty database).
    pub async fn practice(&self, name: Option<&str>) -> anyhow::Result<domain::PracticeId> {
        self.login
            .practice_named(name, self.clock.now())
            .await?
            .map_err(anyhow::Error::msg)
    }

    /// The user named `username`, or a clear error.
    pub async fn user(&self, username: &str) -> anyhow::Result<User> {
        let shown = normalize_username(username).context("no such user")?;
        self.login
            .user_by_name(username)
            .await?
            .with_context(|| format!("no user named {shown}"))
    }

    /// Enrolls (or replaces) the user's authenticator and returns its URI.
    pub async fn enroll_totp(
        &self,
        user: &User,
        secret: Option<Secret>,
        algorithm: Algorithm,
        digits: Digits,
        period: Period,
    ) -> anyhow::Result<OtpAuthUri> {
        self.login
            .admin_link_totp(user, secret, algorithm, digits, period, self.clock.now())
            .await?
            .map_err(|why| anyhow::anyhow!("enroll-totp: {why}"))
    }
}
