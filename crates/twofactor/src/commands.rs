//! The commands that need the database: serve, demo, migrate, user, audit.

use std::io::{BufRead as _, IsTerminal as _};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use domain::{Role, SystemClock};
use otp::{Digits, Period, Secret as OtpSecret};
use twofactor::app::{self, AddUser, App, Mode};
use twofactor::config::{Config, Secret, SmsProvider};

use crate::cli::{
    ApiKeyCommand, AuditCommand, Command, MasterKeyCommand, OidcClientCommand, OidcCommand,
    OutboxCommand, PracticeCommand, UserCommand,
};

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { config } => {
            init_logging();
            let config = Config::load(config.as_deref())?;
            let app = build(&config).await?;
            serve(&app, &config).await?;
        }
        Command::Demo { listen } => {
            init_logging();
            let mut config = Config::load(None)?;
            config.listen = listen;
            // Browsers accept passkeys on http://localhost, never on an IP
            // address: the demo is opened there unless told otherwise.
            if config.public_url.is_none() {
                if let Ok(addr) = config.listen.parse::<std::net::SocketAddr>() {
                    if addr.ip().is_loopback() {
                        config.public_url = Some(format!("http://localhost:{}", addr.port()));
                    }
                }
            }
            let app = app::build(&config, Mode::Demo, Arc::new(SystemClock), None).await?;
            seed_demo(&app, &config).await?;
            serve(&app, &config).await?;
        }
        Command::Migrate { config } => {
            let app = open(config).await?;
            let database = redact_url(app.settings.database_url.expose());
            println!("database is up to date: {database}");
        }
        Command::User { config, command } => user(&open(config).await?, command).await?,
        Command::Audit { config, command } => audit(&open(config).await?, command).await?,
        Command::Practice { config, command } => {
            let PracticeCommand::Add { name } = command;
            practice_add(&open(config).await?, &name).await?;
        }
        Command::EmergencyAccess {
            config,
            username,
            reason,
        } => return emergency_access(&open(config).await?, &username, &reason).await,
        Command::ApiKey { config, command } => return api_key(&open(config).await?, command).await,
        Command::Outbox { config, command } => return outbox(&open(config).await?, command).await,
        Command::Oidc { config, command } => return oidc(&open(config).await?, command).await,
        Command::MasterKey { config, command } => {
            if matches!(command, MasterKeyCommand::Generate) {
                println!("{}", generate_master_key()?);
                return Ok(ExitCode::SUCCESS);
            }
            return master_key(&open(config).await?, command).await;
        }
        Command::Otp { .. } => unreachable!("handled before the runtime starts"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn build(config: &Config) -> anyhow::Result<App> {
    app::build(config, Mode::Serve, Arc::new(SystemClock), None).await
}

/// The app of the configuration in `file` (and the environment).
async fn open(file: Option<std::path::PathBuf>) -> anyhow::Result<App> {
    build(&Config::load(file.as_deref())?).await
}

/// `practice add`.
async fn practice_add(app: &App, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        name.trim().chars().count() <= 200 && !name.chars().any(char::is_control),
        "the practice name must be at most 200 characters without control characters"
    );
    let id = app.practice(Some(name)).await?;
    println!("practice {} (id {})", name.trim(), id.0);
    Ok(())
}

/// `emergency-access`: prints the link, or the reason there is none (exit 2).
async fn emergency_access(app: &App, username: &str, reason: &str) -> anyhow::Result<ExitCode> {
    let base = app.settings.public_url.clone();
    match app
        .login
        .issue_emergency_access(username, reason, &base, app.clock.now())
        .await?
    {
        Ok(link) => {
            eprintln!(
                "emergency link for {} (one use, expires in 1 hour; give it only to that person):",
                username.trim()
            );
            println!("{link}");
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(2))
        }
    }
}

/// `master-key generate`: 32 random bytes as 64 hex digits.
fn generate_master_key() -> anyhow::Result<String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|_| anyhow::anyhow!("the operating system's random source failed"))?;
    Ok(key.iter().map(|b| format!("{b:02x}")).collect())
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TWOFACTOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

async fn serve(app: &App, config: &Config) -> anyhow::Result<()> {
    let addr = app.settings.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let database = redact_url(app.settings.database_url.expose());
    // The first start makes the OpenID Connect signing keys.
    app.login
        .oidc_keys_ready(app.clock.now())
        .await
        .context("cannot make or read the OpenID Connect signing keys")?;
    tracing::info!(%addr, %database, "twofactor listening");
    if app.mode != Mode::Demo {
        if app.settings.sms_provider == SmsProvider::Log {
            tracing::warn!(
                "sms_provider is \"log\": text messages, security codes included, are printed to \
                 standard output and not sent. Set sms_provider to twilio or webhook for real use."
            );
        }
        if config.smtp_url.is_none() {
            tracing::warn!(
                "smtp_url is not set: emails (password resets, security notices) are not sent; \
                 only their recipient and subject are printed."
            );
        }
    }
    if let Some(url) = config.smtp_url.as_ref().map(Secret::expose) {
        if delivery::SmtpMailer::is_plaintext_remote(url) {
            tracing::warn!(
                "smtp_url sends mail without TLS to another machine; add ?tls=required or use smtps://"
            );
        }
    }
    let worker = app.start_outbox_worker();
    let sealer = app.start_audit_sealer();
    let served = app::serve(app, listener, shutdown_signal()).await;
    worker.abort();
    sealer.abort();
    served?;
    app.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// A database URL without its password, for logs.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

const DEMO_PRACTICE: &str = "Demo Clinic";
const DEMO_TOTP_USER: (&str, &str) = ("drsmith", "demo-password-smith");
const DEMO_SMS_USER: (&str, &str) = ("nurse.jones", "demo-password-jones");

async fn seed_demo(app: &App, config: &Config) -> anyhow::Result<()> {
    for (username, password, phone) in [
        (DEMO_TOTP_USER.0, DEMO_TOTP_USER.1, None),
        (DEMO_SMS_USER.0, DEMO_SMS_USER.1, Some("+12015550123")),
    ] {
        if app.user(username).await.is_err() {
            app.add_user(&AddUser {
                username: username.into(),
                email: format!("{username}@demo-clinic.example"),
                phone: phone.map(str::to_owned),
                role: if phone.is_none() {
                    Role::Admin
                } else {
                    Role::Staff
                },
                practice: Some(DEMO_PRACTICE.into()),
                password: password.into(),
            })
            .await?;
        }
    }
    // The secret linked at the first run is printed again, so the phone
    // that scanned it keeps working; a new one only when there is none
    // (the first run, or after a 2FA reset), and then the start says so.
    let smith = app.user(DEMO_TOTP_USER.0).await?;
    let (uri, fresh) = match app.login.linked_totp_uri(&smith).await? {
        Some(uri) => (uri, false),
        None => (
            app.enroll_totp(
                &smith,
                None,
                otp::Algorithm::Sha1,
                Digits::SIX,
                Period::DEFAULT,
            )
            .await?,
            true,
        ),
    };
    let secret_note = if fresh {
        "A NEW secret (an entry from an earlier demo run no longer works)"
    } else {
        "The same secret as the last run (a phone that scanned it keeps working)"
    };
    let uri_text = uri.to_uri();
    let qr = qrcode::QrCode::new(uri_text.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    let url = app.settings.public_url.clone();
    println!(
        "\ntwofactor demo — {DEMO_PRACTICE}\n\
         \n  Open {url}/login\n\
         \n  1. {user1} / {pw1}  (authenticator app enrolled)\
         \n     {secret_note}: scan this QR code\
         \n     with any authenticator app, or add the URI by hand:\
         \n     {uri_text}\
         \n     No phone at hand? `cargo run -q -p twofactor -- otp code --secret {secret}` prints the code.\n\
         \n{qr}\n\
         \n  2. {user2} / {pw2}  (phone +12015550123, no app)\
         \n     Press \"Request Token via SMS\": the message is printed on this terminal\
         \n     (a line starting \"SMS to\") and listed at {url}/dev/outbox.\n\
         \n  Emails (\"Forgot password?\", invitations, emergency access) are not sent either:\
         \n  {url}/dev/outbox shows each one with its link.\n\
         \n  3. A passkey: log in as {user1}, open Account security, then \"Passkeys and\
         \n     security keys\", and add one (your browser or phone keeps it). Log out and\
         \n     press \"Sign in with a passkey\" on {url}/login: no password, no code.\n\
         \n  Data: {data}   Stop: Ctrl-C\n",
        user1 = DEMO_TOTP_USER.0,
        pw1 = DEMO_TOTP_USER.1,
        user2 = DEMO_SMS_USER.0,
        pw2 = DEMO_SMS_USER.1,
        secret = uri.secret.to_base32(),
        data = config.data_dir.display(),
    );
    Ok(())
}

async fn user(app: &App, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            username,
            email,
            phone,
            role,
            practice,
            password_stdin,
        } => {
            add_user(app, username, email, phone, &role, practice, password_stdin).await?;
        }
        UserCommand::EnrollTotp {
            username,
            secret,
            digits,
            period,
            algorithm,
        } => {
            let user = app.user(&username).await?;
            let secret = secret
                .map(|s| OtpSecret::from_base32(&s).map_err(|e| anyhow::anyhow!("--secret: {e}")))
                .transpose()?;
            let uri = app
                .enroll_totp(
                    &user,
                    secret,
                    algorithm,
                    Digits::new(digits)?,
                    Period::new(period)?,
                )
                .await?;
            println!("{}", uri.to_uri());
            if std::io::stderr().is_terminal() {
                if let Ok(code) = qrcode::QrCode::new(uri.to_uri().as_bytes()) {
                    eprintln!(
                        "{}",
                        code.render::<qrcode::render::unicode::Dense1x2>().build()
                    );
                }
            }
        }
        UserCommand::Reset2fa { username } => {
            let user = app.user(&username).await?;
            app.login.reset_2fa(&user, app.clock.now()).await?;
            println!(
                "removed every second factor and session of {}; they link a new one at the next login",
                user.username
            );
        }
        UserCommand::RecoveryCodes { username } => {
            let user = app.user(&username).await?;
            let codes = app
                .login
                .new_recovery_codes(&user, &domain::RequestContext::admin_cli(), app.clock.now())
                .await?;
            println!(
                "recovery codes for {} (each works once; the previous set no longer works):",
                user.username
            );
            for code in codes {
                println!("{code}");
            }
        }
        UserCommand::Unlock { username } => {
            let user = app.user(&username).await?;
            app.login.unlock(&user, app.clock.now()).await?;
            println!("unlocked {}", user.username);
        }
    }
    Ok(())
}

/// `user add`: the account through the same use case as the admin page,
/// with the password from standard input or a generated one shown once.
async fn add_user(
    app: &App,
    username: String,
    email: String,
    phone: Option<String>,
    role: &str,
    practice: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        (line.trim_end_matches(['\n', '\r']).to_owned(), false)
    } else {
        (domain::token::generate()?.chars().take(20).collect(), true)
    };
    let role = Role::parse(role).context("role must be staff or admin")?;
    let user = app
        .add_user(&AddUser {
            username,
            email,
            phone,
            role,
            practice,
            password: password.clone(),
        })
        .await?;
    println!("created user {} ({})", user.username, user.role.as_str());
    if generated {
        println!("password: {password}");
        println!("(shown once; give it to the user in person)");
    }
    Ok(())
}

async fn audit(app: &App, command: AuditCommand) -> anyhow::Result<()> {
    let (lines, json) = match command {
        AuditCommand::Tail { lines, json } => (lines, json),
        AuditCommand::Export {
            since,
            until,
            format,
        } => return export_audit(app, since, until, format == "csv").await,
        AuditCommand::Prune { before } => {
            let now = app.clock.now();
            anyhow::ensure!(before <= now, "--before is in the future");
            let deleted = app.login.prune_audit(before, now).await?;
            println!(
                "pruned {deleted} events before {}",
                domain::time::rfc3339(before)
            );
            return Ok(());
        }
        AuditCommand::Verify => {
            // Seal what is old enough first, so the check covers it.
            app.login.seal_audit(app.clock.now()).await?;
            return match app.login.verify_audit().await? {
                domain::audit_chain::ChainReport::Intact { sealed, pending } => {
                    println!(
                        "audit chain intact: {sealed} events verified, {pending} newer ones not sealed yet"
                    );
                    Ok(())
                }
                domain::audit_chain::ChainReport::Broken { id, reason } => {
                    anyhow::bail!("audit chain broken at event {id}: {reason}")
                }
            };
        }
    };
    let mut events = app.login.recent_audit(lines).await?;
    events.reverse();
    for event in events {
        if json {
            let value = serde_json::json!({
                "at": event.at,
                "time": domain::time::rfc3339(event.at),
                "user_id": event.user_id.map(|u| u.0),
                "username": event.username,
                "event": event.kind,
                "outcome": event.outcome,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "detail": event.detail,
            });
            println!("{value}");
        } else {
            println!(
                "{}  {:<20} {:<8} user={} ip={} {}",
                domain::time::rfc3339(event.at),
                event.kind,
                event.outcome,
                if event.username.is_empty() {
                    "-"
                } else {
                    &event.username
                },
                event.ip,
                event.detail
            );
        }
    }
    Ok(())
}

async fn master_key(app: &App, command: MasterKeyCommand) -> anyhow::Result<ExitCode> {
    let current = app.login.key_id().to_owned();
    match command {
        MasterKeyCommand::Generate => unreachable!("needs no database"),
        MasterKeyCommand::Status => {
            println!("current key: {current}");
            let previous = app.login.previous_key_ids();
            println!(
                "previous keys: {}",
                if previous.is_empty() {
                    "none".to_owned()
                } else {
                    previous.join(", ")
                }
            );
            for (what, key_id, count) in app.login.sealed_key_usage().await? {
                let role = if key_id == current {
                    "current"
                } else if previous.contains(&key_id.as_str()) {
                    "previous"
                } else {
                    "NOT CONFIGURED"
                };
                println!("{count:>8}  {what} sealed with {key_id} ({role})");
            }
        }
        MasterKeyCommand::Reseal => {
            let (resealed, unopenable) = app
                .login
                .reseal_all(|n| eprintln!("re-sealed {n} values…"))
                .await?;
            println!(
                "re-sealed {resealed} values (authenticators, offered authenticators, unsent messages) with key {current}"
            );
            if unopenable > 0 {
                eprintln!(
                    "error: {unopenable} values are sealed with a key that is not configured; add it to TWOFACTOR_PREVIOUS_MASTER_KEYS and run again"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `oidc client add | list | remove` and `oidc rotate-key`.
async fn oidc(app: &App, command: OidcCommand) -> anyhow::Result<ExitCode> {
    let now = app.clock.now();
    let ctx = domain::RequestContext::admin_cli();
    match command {
        OidcCommand::Client {
            command:
                OidcClientCommand::Add {
                    name,
                    redirect_uris,
                    post_logout_redirect_uris,
                    public,
                    practice,
                    id_token_alg,
                },
        } => {
            let practice = app.practice(practice.as_deref()).await?;
            let alg = domain::oidc::SigningAlg::parse(&id_token_alg)
                .context("--id-token-alg is RS256 or ES256")?;
            let issued = app
                .login
                .oidc_add_client(
                    &domain::oidc::NewClient {
                        name: &name,
                        practice,
                        redirect_uris: &redirect_uris,
                        post_logout_redirect_uris: &post_logout_redirect_uris,
                        public,
                        id_token_alg: alg,
                    },
                    None,
                    &ctx,
                    now,
                )
                .await?;
            let issued = match issued {
                Ok(issued) => issued,
                Err(why) => {
                    eprintln!("error: {why}");
                    return Ok(ExitCode::from(2));
                }
            };
            println!("client_id: {}", issued.client.client_id);
            if let Some(secret) = &issued.secret {
                println!("client_secret: {secret}");
            }
            eprintln!(
                "registered {} for practice {}; issuer (discovery): {}{}",
                issued.client.name,
                practice.0,
                app.login.oidc_issuer(),
                if issued.secret.is_some() {
                    "; the secret is shown once: put it in the application's settings now"
                } else {
                    "; a public client: the application must use PKCE (S256)"
                }
            );
        }
        OidcCommand::Client {
            command: OidcClientCommand::List,
        } => {
            for client in app.login.oidc_clients(None).await? {
                println!(
                    "{}  practice={}  {}  {}  created={}  redirect={}",
                    client.client_id,
                    client.practice.0,
                    if client.is_public() {
                        "public"
                    } else {
                        "confidential"
                    },
                    client.id_token_alg.as_str(),
                    domain::time::rfc3339(client.created_at),
                    client.redirect_uris.join(","),
                );
                println!("    name: {}", client.name.replace(['\n', '\r'], " "));
            }
        }
        OidcCommand::Client {
            command: OidcClientCommand::Remove { client_id },
        } => {
            if app
                .login
                .oidc_remove_client(client_id.trim(), None, &ctx, now)
                .await?
            {
                println!("removed {}", client_id.trim());
            } else {
                eprintln!(
                    "error: no application has client id {client_id:?} (see `twofactor oidc client list`)"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        OidcCommand::RotateKey => {
            let kids = app.login.oidc_rotate_keys(&ctx, now).await?;
            println!("new signing keys: {}", kids.join(", "));
            eprintln!(
                "every instance signs with them within a minute; the old keys stay in the JWKS until their tokens expire"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn api_key(app: &App, command: ApiKeyCommand) -> anyhow::Result<ExitCode> {
    let now = app.clock.now();
    match command {
        ApiKeyCommand::Create {
            name,
            practice,
            scopes,
        } => {
            let scopes = if scopes.is_empty() {
                domain::api::Scopes::DEFAULT
            } else {
                domain::api::Scopes::parse(&scopes.join(" ")).map_err(anyhow::Error::msg)?
            };
            let practice = app.practice(practice.as_deref()).await?;
            let (key, row) = app
                .login
                .create_api_key(practice, &name, scopes, now)
                .await?;
            println!("{key}");
            eprintln!(
                "created API key {} ({}) for practice {} with scopes {}; it is shown once: store it in the calling application's secrets",
                row.id,
                row.prefix,
                practice.0,
                scopes.names()
            );
            if scopes.manage_all {
                eprintln!(
                    "warning: this key can manage everyone in the practice, administrators included, and so log in as them"
                );
            }
        }
        ApiKeyCommand::List => {
            for key in app.login.api_keys().await? {
                println!(
                    "{:>4}  {}…  practice={}  scopes={}  created={}  {}  {}",
                    key.id,
                    key.prefix,
                    key.practice_id.0,
                    key.scopes.names().replace(' ', ","),
                    domain::time::rfc3339(key.created_at),
                    key.revoked_at.map_or_else(
                        || "live".to_owned(),
                        |t| format!("revoked={}", domain::time::rfc3339(t))
                    ),
                    key.name.replace(['\n', '\r'], " ")
                );
            }
        }
        ApiKeyCommand::Revoke { key } => {
            if app.login.revoke_api_key(key.trim(), now).await? {
                println!("revoked {key}");
            } else {
                eprintln!("error: no live key has id or prefix {key:?}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn outbox(app: &App, command: OutboxCommand) -> anyhow::Result<ExitCode> {
    let login = &app.login;
    match command {
        OutboxCommand::List {
            status,
            lines,
            json,
        } => {
            let now = app.clock.now();
            for message in login.outbox_messages(status.as_deref(), lines).await? {
                let recipient = mask_recipient(&message.recipient);
                let note = message
                    .provider_id
                    .as_deref()
                    .or(message.last_error.as_deref())
                    .unwrap_or("");
                if json {
                    let value = serde_json::json!({
                        "id": message.id,
                        "status": message.status.as_str(),
                        "channel": message.channel.as_str(),
                        "topic": message.topic,
                        "recipient": recipient,
                        "attempts": message.attempts,
                        "created_at": domain::time::rfc3339(message.created_at),
                        "next_attempt_at": domain::time::rfc3339(message.next_attempt_at),
                        "sent_at": message.sent_at.map(domain::time::rfc3339),
                        "provider_id": message.provider_id,
                        "last_error": message.last_error,
                    });
                    println!("{value}");
                } else {
                    let when = match message.status {
                        domain::OutboxStatus::Pending => {
                            format!("next in {}s", message.next_attempt_at.saturating_sub(now))
                        }
                        _ => domain::time::rfc3339(message.sent_at.unwrap_or(message.created_at)),
                    };
                    println!(
                        "{:>6}  {:<7} {:<5} {:<18} {:<28} tries={:<2} {:<20} {}",
                        message.id,
                        message.status.as_str(),
                        message.channel.as_str(),
                        message.topic,
                        recipient,
                        message.attempts,
                        when,
                        note.replace(['\n', '\r'], " ")
                    );
                }
            }
        }
        OutboxCommand::Retry { id } => {
            if login.retry_outbox(id, app.clock.now()).await? {
                let sent = app.login.outbox().run_due(app.clock.now(), 50).await?;
                match login.outbox_message(id).await? {
                    Some(m) if m.status == domain::OutboxStatus::Sent => {
                        println!("message {id} sent ({sent} attempted)");
                    }
                    Some(m) => println!(
                        "message {id} is {}: {}",
                        m.status.as_str(),
                        m.last_error.unwrap_or_default()
                    ),
                    None => println!("message {id} queued"),
                }
            } else {
                eprintln!("error: no failed or pending message has id {id}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Rows per page of `audit export`.
const EXPORT_PAGE: u32 = 1000;

async fn export_audit(app: &App, since: u64, until: Option<u64>, csv: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let until = until.unwrap_or_else(|| app.clock.now() + 1);
    anyhow::ensure!(since < until, "--since must be before --until");
    let format = if csv {
        web::audit_export::Format::Csv
    } else {
        web::audit_export::Format::JsonLines
    };
    let filter = domain::admin::AuditFilter::between(since, until);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    out.write_all(format.header().as_bytes())?;
    let mut after = 0;
    let mut total: u64 = 0;
    loop {
        let page = app
            .login
            .audit_search(&filter, after, false, EXPORT_PAGE)
            .await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (id, event) in &page {
            out.write_all(format.line(*id, event).as_bytes())?;
        }
        total += page.len() as u64;
        if page.len() < EXPORT_PAGE as usize {
            break;
        }
    }
    out.flush()?;
    eprintln!("exported {total} events");
    Ok(())
}

/// `+12015550123` → `•••• •••• 0123`; `jane.doe@clinic.example` →
/// `j•••@clinic.example`: enough for support to recognise, not to harvest.
fn mask_recipient(recipient: &str) -> String {
    match recipient.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => domain::sms::mask_phone(recipient),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_masked() {
        assert_eq!(mask_recipient("+12015550123"), "•••• •••• 0123");
        assert_eq!(mask_recipient("jane@clinic.example"), "j•••@clinic.example");
        assert_eq!(mask_recipient("@x"), "•••@x");
    }

    #[test]
    fn database_passwords_are_not_logged() {
        assert_eq!(
            redact_url("postgres://root:hunter2@127.0.0.1/test"),
            "postgres://…@127.0.0.1/test"
        );
        assert_eq!(
            redact_url("sqlite://data/twofactor.db"),
            "sqlite://data/twofactor.db"
        );
    }
}
