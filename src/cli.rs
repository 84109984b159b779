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
    /// Run every scenario of folders and files; one combined table and OUT/batch-summary.csv.
    Batch(BatchArgs),
    /// Run a scenario once per value of a parameter, e.g. --set components.web.count=1..6.
    Sweep(SweepArgs),
    /// Validate scenarios and print their topology and analytic figures; no simulation.
    Check(CheckArgs),
    /// Print the JSON Schema of the scenario format.
    Schema,
    /// Redraw the plots of an earlier run from its report.json.
    Plot(PlotArgs),
    /// Merge the partial reports of a sharded run into its report.
    Merge(MergeArgs),
}

/// Options shared by the commands that simulate.
#[derive(Debug, Args)]
pub struct Common {
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
    /// Stop a precision run at the first round end after this wall time,
    /// e.g. 90s, 10m (the result then depends on the machine's speed).
    #[arg(long, value_name = "DUR", value_parser = parse_time_limit)]
    pub time_limit: Option<f64>,
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
    /// Run only shard I (0-based) of N and write a partial report (see `merge`).
    #[arg(long, value_name = "I/N", conflicts_with = "shards")]
    pub shard: Option<String>,
    /// Run one shard of N, its index taken from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub shards: Option<u64>,
}

/// Options of `batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Scenario files, or folders whose *.json files are all run.
    #[arg(required = true, value_name = "DIR_OR_FILE")]
    pub inputs: Vec<PathBuf>,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
    /// Skip scenarios whose report.json is complete and of the same scenario.
    #[arg(long)]
    pub resume: bool,
}

/// Options of `sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// PATH=VALUES: a numeric or duration field and its values, as a list
    /// (1,2,4 or 8h,24h) or a range (1..6, or 0.5..2:0.5). The path may lead
    /// into `system` (system.k_of_n.k, system.series[1].standby.failover).
    /// Repeat --set to sweep a grid (every combination).
    #[arg(long, value_name = "PATH=VALUES", required = true)]
    pub set: Vec<String>,
    /// The fraction of whole windows that must meet a window objective for
    /// a point to meet it.
    #[arg(long, value_name = "F", default_value_t = 0.99)]
    pub met_fraction: f64,
    /// An availability target to find the first value meeting (besides the
    /// scenario's objectives).
    #[arg(long, value_name = "A")]
    pub target: Option<f64>,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
}

/// Options of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The partial reports written by `run --shard`.
    #[arg(required = true, value_name = "PART.json")]
    pub parts: Vec<PathBuf>,
    /// Where to write the merged report (summary.csv and plots go beside it).
    #[arg(short, long, value_name = "REPORT.json")]
    pub output: PathBuf,
    /// Do not draw plots.
    #[arg(long)]
    pub no_plots: bool,
    /// Print nothing but errors.
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
    /// Output format: the readable description, or the analytic figures of
    /// every file as a JSON array.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Options of `plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A report.json written by `availsim run` or `merge`, a sweep.json
    /// written by `availsim sweep` (or its `--format json` output), or a
    /// folder holding one of them.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// Output folder (plots go to DIR/<scenario>/; default: the report's folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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
    /// Run until the 95% interval of the unavailability has this relative
    /// half-width, e.g. 0.1 or 10% (SPEC §7).
    #[arg(long, value_name = "R", value_parser = availsim::precision::parse_precision)]
    pub precision: Option<f64>,
    /// How to estimate: plain, rare-event, or auto (rare-event when a pilot
    /// round shows plain replications would not reach the precision).
    #[arg(long, value_name = "METHOD", value_parser = availsim::Method::parse)]
    pub method: Option<availsim::Method>,
    /// Most replications (rare-event runs: cycles or trials) of a precision run.
    #[arg(long, value_name = "N")]
    pub max_replications: Option<u64>,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable summary table.
    Text,
    /// The report JSON (an array of reports for several files).
    Json,
}

/// A duration on the command line in hours: with a unit, or a bare number
/// of hours (as a JSON number is in a scenario).
fn cli_hours(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(hours) if hours.is_finite() => Ok(hours),
        Ok(_) => Err("a duration must be a finite number of hours".into()),
        Err(_) => availsim::scenario::parse_duration(s),
    }
}

/// A wall-time limit in seconds.
fn parse_time_limit(s: &str) -> Result<f64, String> {
    let h = cli_hours(s)?;
    if h > 0.0 {
        Ok(h * 3600.0)
    } else {
        Err("the time limit must be positive, e.g. 90s or 10m".into())
    }
}

/// A duration on the command line: with a unit, or a bare number of hours
/// (as a JSON number is in a scenario).
fn parse_horizon(s: &str) -> Result<f64, String> {
    let h = cli_hours(s)?;
    if h > 0.0 {
        Ok(h)
    } else {
        Err("the horizon must be positive".into())
    }
}
