//! The `availsim` binary: parse arguments, call the library, choose the exit
//! code (0 success, 1 a failed analytic check or unwritable output, 2 bad
//! input).

mod cli;
mod commands;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

use availsim::Error;
use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => commands::run::run(&args),
        Command::Batch(args) => commands::batch::batch(&args),
        Command::Sweep(args) => commands::sweep::sweep(&args),
        Command::Check(args) => commands::check::check(&args),
        Command::Schema => commands::write_stdout(format_args!(
            "{}\n",
            availsim::scenario::schema::schema_json()
        )),
        Command::Plot(args) => commands::run::plot(&args),
        Command::Merge(args) => commands::run::merge(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output quit (`availsim schema | head -1`):
        // nothing left to say, and nothing went wrong.
        Err(e) if closed_stdout(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.downcast_ref::<Error>().map_or(1, Error::exit_code);
            // Messages may quote user text: no control character reaches
            // the terminal raw (library errors escape their own fields;
            // this catches the rest, keeping the line structure).
            let text = format!("{e:#}");
            let text: String = text
                .split('\n')
                .map(|line| availsim::error::escape(line).into_owned())
                .collect::<Vec<_>>()
                .join("\n");
            let _ = writeln!(std::io::stderr().lock(), "error: {text}");
            ExitCode::from(code as u8)
        }
    }
}

/// Whether `e` is a write to a closed stdout (a broken pipe).
fn closed_stdout(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
