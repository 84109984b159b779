//! Command-line types (clap derive). Nothing below `main` sees these.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Monte-Carlo availability simulator with exact analytic cross-checks.
#[derive(Debug, Parser)]
#[command(name = "availsim", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate each scenario, print a summary, write OUT/<name>/report.json, summary.csv and plots.
    Run(RunArgs),
    /// Validate scenarios and print their resolved topology; no simulation.
    Check(CheckArgs),
    /// Print the JSON Schema of the scenario format.
    Schema,
    /// Redraw the plots of an earlier run from its report.json.
    Plot(PlotArgs),
}

/// Options of `plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A report.json written by `availsim run`.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// Output folder (plots go to DIR/<scenario>/; default: the report's folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Overrides of the scenario's simulation block.
    #[command(flatten)]
    pub sim: SimArgs,
    /// Threads to use (default: all cores).
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub out: PathBuf,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Do not draw plots.
    #[arg(long)]
    pub no_plots: bool,
    /// Print nothing but errors (and the report with --format json).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Options of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Overrides of the scenario's simulation block.
    #[command(flatten)]
    pub sim: SimArgs,
}

/// Values that override the scenario's `simulation` block.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Replications to run.
    #[arg(long, value_name = "N")]
    pub replications: Option<u64>,
    /// Simulated time per replication, e.g. 10y, 87600h, 90d.
    #[arg(long, value_name = "DUR", value_parser = parse_horizon)]
    pub horizon: Option<f64>,
    /// Seed of the random streams.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
}

/// Output formats of `run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable summary table.
    Text,
    /// The report JSON (an array of reports for several files).
    Json,
}

fn parse_horizon(s: &str) -> Result<f64, String> {
    let h = availsim::scenario::parse_duration(s)?;
    if h > 0.0 {
        Ok(h)
    } else {
        Err("the horizon must be positive".into())
    }
}
