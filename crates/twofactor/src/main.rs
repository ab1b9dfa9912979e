//! `twofactor`: the login server and its admin CLI, in one binary.
//!
//! Errors in the arguments print one line on standard error and exit with
//! status 2, like other command-line tools; `--help` exits 0. Runtime errors
//! (database down, unknown user) print one line and exit with status 1.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod otp_code;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Command, OtpCommand};

/// Exit status for bad arguments (the convention of clap, getopt and oathtool).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_error(&error),
    };
    if let Command::Otp {
        command: OtpCommand::Code(args),
    } = &cli.command
    {
        return match otp_code::run(args) {
            Ok(line) => print_line(&line),
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(USAGE)
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", one_line_chain(&error));
            ExitCode::FAILURE
        }
    }
}

/// "context: cause: cause" on one line.
fn one_line_chain(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(|e| e.to_string().replace('\n', " "))
        .collect::<Vec<_>>()
        .join(": ")
}

/// Help and version go to stdout with status 0; every other clap error is
/// folded into one line on stderr with status 2.
fn clap_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(USAGE)
        }
        _ => {
            eprintln!(
                "{} (try --help)",
                cli::one_line(&error.render().to_string())
            );
            ExitCode::from(USAGE)
        }
    }
}

fn print_line(line: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head -0`) is not worth a panic or a message.
        Err(_) => ExitCode::FAILURE,
    }
}
