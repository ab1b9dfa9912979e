//! `twofactor`: the login server and its admin CLI, in one binary.
//!
//! Errors in the arguments print one line on standard error and exit with
//! status 2, like other command-line tools; `--help` exits 0.
#![forbid(unsafe_code)]

mod cli;
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
    match cli.command {
        Command::Otp {
            command: OtpCommand::Code(args),
        } => match otp_code::run(&args) {
            Ok(line) => print_line(&line),
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(USAGE)
            }
        },
        Command::Demo => {
            eprintln!(
                "twofactor demo: not yet. The login server arrives with the two-factor login flow (issue #3).\n\
                 What works today: `twofactor otp code --secret JBSWY3DPEHPK3PXP` prints the current code for a secret."
            );
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout with status 0; every other clap error is
/// folded into one line on stderr with status 2.
fn clap_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(USAGE)
            } else {
                ExitCode::SUCCESS
            }
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
