//! The `availsim` binary: parse arguments, call the library, choose the exit
//! code (0 success, 1 a failed analytic check or unwritable output, 2 bad
//! input).

mod cli;
mod commands;

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
        Command::Schema => {
            println!("{}", availsim::scenario::raw::schema_json());
            Ok(())
        }
        Command::Plot(args) => commands::run::plot(&args),
        Command::Merge(args) => commands::run::merge(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.downcast_ref::<Error>().map_or(1, Error::exit_code);
            eprintln!("error: {e:#}");
            ExitCode::from(code as u8)
        }
    }
}
