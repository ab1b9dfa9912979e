//! `authenticator`: the phone's side of the login, in a terminal.
//!
//! Every error is one line on stderr with a non-zero status (2 for bad
//! arguments, 1 for everything else); nothing on disk is changed by a
//! command that fails.
#![forbid(unsafe_code)]

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use authenticator::account::Account;
use authenticator::clipboard::{self, Copied};
use authenticator::code::{lines, pick};
use authenticator::source::accounts_from;
use authenticator::tui::{self, View};
use authenticator::vault::Vault;
use clap::{Parser, Subcommand};

/// Shows the current one-time codes of your accounts, like a phone
/// authenticator app. Accounts live in an encrypted vault file.
#[derive(Debug, Parser)]
#[command(name = "authenticator", version, about)]
struct Cli {
    /// The vault file [default: the user's data directory]. The passphrase
    /// comes from AUTHENTICATOR_PASSPHRASE or a hidden prompt.
    #[arg(long, value_name = "PATH", global = true)]
    vault: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Add accounts from an otpauth:// URI, a Google Authenticator export
    /// (otpauth-migration://), or a PNG/JPEG with a QR code. Without an
    /// argument, asks for issuer, account and secret.
    Add {
        /// URI or image file.
        source: Option<String>,
    },
    /// List the accounts: number, id, name, digits and kind. Commands
    /// take the number or the id where two accounts have the same name.
    List,
    /// Rename an account (its label).
    Rename {
        /// The account: its number in `list`, its id, or its issuer or
        /// label (fuzzy).
        account: String,
        /// The new label.
        new_label: String,
    },
    /// Remove an account (asks to confirm).
    Remove {
        /// The account: its number in `list`, its id, or its issuer or
        /// label (fuzzy).
        account: String,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// Print every account as an otpauth:// URI, or as a QR code.
    Export {
        /// One QR code per account, drawn in the terminal.
        #[arg(long)]
        qr: bool,
    },
    /// Print the current code: `<issuer> token is: 75 091 92`.
    Code {
        /// The account: its number in `list`, its id, or its issuer or
        /// label (fuzzy); optional with one account.
        account: Option<String>,
        /// Just the digits, for scripts.
        #[arg(long)]
        plain: bool,
        /// Also put the code on the clipboard.
        #[arg(long)]
        copy: bool,
        /// The code at this Unix time instead of now.
        #[arg(long, value_name = "UNIX")]
        at: Option<u64>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            use clap::error::ErrorKind;
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) {
                let _ = error.print();
                return ExitCode::SUCCESS;
            }
            let text = error.render().to_string();
            let first: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty())
                .collect();
            eprintln!("{} (try --help)", first.join(" "));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let chain: Vec<String> = error
                .chain()
                .map(|e| e.to_string().replace('\n', " "))
                .collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}

fn vault_path(cli: &Cli) -> anyhow::Result<PathBuf> {
    if let Some(path) = &cli.vault {
        return Ok(path.clone());
    }
    let dirs = directories::ProjectDirs::from("org", "twofactor", "authenticator")
        .context("cannot find your data directory; pass --vault PATH")?;
    Ok(dirs.data_dir().join("vault"))
}

fn passphrase(prompt: &str) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var("AUTHENTICATOR_PASSPHRASE") {
        return Ok(value);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase: set AUTHENTICATOR_PASSPHRASE or run in a terminal");
    }
    rpassword::prompt_password(prompt).context("cannot read the passphrase")
}

fn open(cli: &Cli) -> anyhow::Result<Vault> {
    let path = vault_path(cli)?;
    if !Vault::exists(&path) {
        bail!(
            "no vault at {}; add an account first with `authenticator add`",
            path.display()
        );
    }
    Ok(Vault::open(&path, &passphrase("Vault passphrase: ")?)?)
}

fn open_or_create(cli: &Cli) -> anyhow::Result<Vault> {
    let path = vault_path(cli)?;
    if Vault::exists(&path) {
        return Ok(Vault::open(&path, &passphrase("Vault passphrase: ")?)?);
    }
    let first = passphrase("New vault passphrase: ")?;
    if std::env::var_os("AUTHENTICATOR_PASSPHRASE").is_none() && first != passphrase("Repeat it: ")?
    {
        bail!("the two passphrases differ; nothing was created");
    }
    if first.chars().count() < 8 {
        bail!("the vault passphrase must have at least 8 characters");
    }
    Ok(Vault::create(&path, &first)?)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        None => full_screen(open(&cli)?),
        Some(Command::Add { source }) => add(&cli, source.as_deref()),
        Some(Command::List) => list(&cli),
        Some(Command::Rename { account, new_label }) => rename(&cli, account, new_label),
        Some(Command::Remove { account, yes }) => remove(&cli, account, *yes),
        Some(Command::Export { qr }) => export(&cli, *qr),
        Some(Command::Code {
            account,
            plain,
            copy,
            at,
        }) => code(&cli, account.as_deref(), *plain, *copy, *at),
    }
}

/// `add`: accounts from a URI, a QR image or an export, or typed in.
fn add(cli: &Cli, source: Option<&str>) -> anyhow::Result<()> {
    let uris = match source {
        Some(argument) => accounts_from(argument)?,
        None => vec![ask_for_account()?],
    };
    let mut vault = open_or_create(cli)?;
    let mut added = 0;
    for uri in &uris {
        let mut account = Account::from_uri(uri);
        if vault.accounts.iter().any(|a| a.same_as(&account)) {
            println!("already in the vault: {}", account.display_name());
            continue;
        }
        // Same issuer and name, another secret: most often the practice
        // linked the account again. Both are kept (the old one may still be
        // the one the server knows) under names that tell them apart.
        let twin = vault.accounts.iter().position(|a| a.same_name_as(&account));
        account.label = authenticator::account::distinct_label(&vault.accounts, &account);
        account.id = authenticator::account::new_id(&vault.accounts)
            .map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
        println!("added {}", account.display_name());
        if let Some(twin) = twin {
            let old = vault.accounts.get(twin).map(Account::display_name);
            println!(
                "note: {} (number {}) has the same issuer and name with another secret, so the new one is called {}; once its codes work, remove the old one with `authenticator remove {}`",
                old.unwrap_or_default(),
                twin + 1,
                account.display_name(),
                twin + 1
            );
        }
        vault.accounts.push(account);
        added += 1;
    }
    if added > 0 {
        vault.save()?;
    }
    Ok(())
}

/// `list`.
fn list(cli: &Cli) -> anyhow::Result<()> {
    let vault = open(cli)?;
    for (i, account) in vault.accounts.iter().enumerate() {
        let kind = if account.counter.is_some() {
            "counter"
        } else {
            "time"
        };
        println!(
            "{}  {}  {}  ({} digits, {kind})",
            i + 1,
            account.id,
            account.display_name(),
            account.digits
        );
    }
    Ok(())
}

/// `rename`.
fn rename(cli: &Cli, account: &str, new_label: &str) -> anyhow::Result<()> {
    let new_label = new_label.trim();
    if new_label.is_empty() || new_label.contains(':') || new_label.chars().any(char::is_control) {
        bail!("the new label must be non-empty, without ':' or control characters");
    }
    let mut vault = open(cli)?;
    let index = pick(&vault.accounts, Some(account))?;
    let issuer = vault.accounts.get(index).and_then(|a| a.issuer.clone());
    if let Some(other) = vault
        .accounts
        .iter()
        .position(|a| a.issuer == issuer && a.label == new_label)
        .filter(|&other| other != index)
    {
        bail!(
            "account number {} already has that issuer and name; pick another label so the two can be told apart",
            other + 1
        );
    }
    let entry = vault.accounts.get_mut(index).context("account vanished")?;
    let old = entry.display_name();
    entry.label = new_label.to_owned();
    let new = entry.display_name();
    vault.save()?;
    println!("renamed {old} to {new}");
    Ok(())
}

/// `remove`, after a typed "yes" unless `--yes`.
fn remove(cli: &Cli, account: &str, yes: bool) -> anyhow::Result<()> {
    let mut vault = open(cli)?;
    let index = pick(&vault.accounts, Some(account))?;
    let name = vault
        .accounts
        .get(index)
        .map(Account::display_name)
        .unwrap_or_default();
    if !yes {
        eprint!("Remove {name}? Its codes cannot be recovered from here. Type yes to confirm: ");
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            println!("kept {name}");
            return Ok(());
        }
    }
    vault.accounts.remove(index);
    vault.save()?;
    println!("removed {name}");
    Ok(())
}

/// `export`: URIs, or QR codes.
fn export(cli: &Cli, qr: bool) -> anyhow::Result<()> {
    let vault = open(cli)?;
    for account in &vault.accounts {
        let uri = account.to_uri().map_err(anyhow::Error::msg)?.to_uri();
        if qr {
            let code = qrcode::QrCode::new(uri.as_bytes())?;
            println!("{}", account.display_name());
            println!(
                "{}",
                code.render::<qrcode::render::unicode::Dense1x2>().build()
            );
        } else {
            println!("{uri}");
        }
    }
    Ok(())
}

/// `code`: the current code (and the seconds left), plain or copied.
fn code(
    cli: &Cli,
    account: Option<&str>,
    plain: bool,
    copy: bool,
    at: Option<u64>,
) -> anyhow::Result<()> {
    let mut vault = open(cli)?;
    let index = pick(&vault.accounts, account)?;
    let entry = vault
        .accounts
        .get(index)
        .context("account vanished")?
        .clone();
    let uri = entry.to_uri().map_err(anyhow::Error::msg)?;
    let (code, left) = match (uri.to_totp(), uri.to_hotp(), entry.counter) {
        (Some(totp), _, _) => {
            let time = at.unwrap_or_else(now);
            (totp.generate(time)?, Some(totp.seconds_left(time)))
        }
        (None, Some(hotp), Some(counter)) => {
            // The counter advances and is saved before the code is shown,
            // so a crash never shows the same code twice.
            let next = counter.checked_add(1).context("the counter is exhausted")?;
            if let Some(stored) = vault.accounts.get_mut(index) {
                stored.counter = Some(next);
            }
            vault.save()?;
            (hotp.generate(counter), None)
        }
        _ => bail!("the account {} is damaged", entry.display_name()),
    };
    if plain {
        println!("{}", code.as_str());
    } else {
        println!("{}", lines(&entry, &code.grouped(), left));
    }
    if copy {
        match clipboard::copy(code.as_str()) {
            Copied::System(tool) => eprintln!("copied to the clipboard ({tool})"),
            Copied::Terminal => {
                eprintln!("copied to the clipboard through the terminal (OSC 52)")
            }
        }
    }
    Ok(())
}

fn ask_for_account() -> anyhow::Result<otp::OtpAuthUri> {
    let mut input = std::io::stdin().lock();
    let mut ask = |question: &str| -> anyhow::Result<String> {
        eprint!("{question}");
        std::io::stderr().flush()?;
        let mut line = String::new();
        input.read_line(&mut line)?;
        Ok(line.trim().to_owned())
    };
    let issuer = ask("Issuer (e.g. Main St Clinic, may be empty): ")?;
    let account = ask("Account name (e.g. your username): ")?;
    let secret = ask("Secret key (letters A-Z and digits 2-7, spaces allowed): ")?;
    let secret = otp::Secret::from_base32(&secret).map_err(|e| anyhow::anyhow!("secret: {e}"))?;
    let issuer = Some(issuer).filter(|i| !i.is_empty());
    Ok(otp::OtpAuthUri::totp(issuer.as_deref(), &account, secret)?)
}

fn full_screen(vault: Vault) -> anyhow::Result<()> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind};
    if vault.accounts.is_empty() {
        bail!("the vault has no accounts yet; add one with `authenticator add`");
    }
    let mut view = View {
        accounts: vault.accounts.clone(),
        ..View::default()
    };
    let mut terminal = ratatui::init();
    let result = (|| -> anyhow::Result<()> {
        loop {
            terminal.draw(|frame| tui::draw(frame, &view, now()))?;
            if !event::poll(Duration::from_millis(250))? {
                continue;
            }
            let Event::Key(key) = event::read()? else {
                continue;
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            match key.code {
                KeyCode::Char('q') | KeyCode::Esc if view.filter.is_empty() => return Ok(()),
                KeyCode::Esc => {
                    view.filter.clear();
                    view.refilter();
                }
                KeyCode::Up => view.step(-1),
                KeyCode::Down => view.step(1),
                KeyCode::Char('c') if view.filter.is_empty() => {
                    if let Some(account) = view.accounts.get(view.selected) {
                        let (grouped, _, _) = tui::current(account, now());
                        let digits: String = grouped.chars().filter(char::is_ascii_digit).collect();
                        view.status = match clipboard::copy(&digits) {
                            Copied::System(tool) => format!("Copied to the clipboard ({tool})"),
                            Copied::Terminal => "Copied through the terminal (OSC 52)".into(),
                        };
                    }
                }
                KeyCode::Backspace => {
                    view.filter.pop();
                    view.refilter();
                }
                KeyCode::Char(c) if !c.is_control() => {
                    view.filter.push(c);
                    view.refilter();
                }
                _ => {}
            }
        }
    })();
    ratatui::restore();
    result
}
