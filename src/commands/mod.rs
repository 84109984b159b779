//! The commands of the binary, and what they share: loading scenarios,
//! progress bars, writing a run's outputs, the analytic-failure exit code.

pub mod batch;
pub mod check;
pub mod run;
pub mod sweep;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use availsim::driver::RunOptions;
use availsim::report::{plot::draw_all, summary_csv, text, write_atomic};
use availsim::scenario::{load_file, Overrides};
use availsim::sim::Progress;
use availsim::{Error, Method, Model, Report};

use crate::cli::{Common, Format, SimArgs};

/// The command-line overrides.
pub fn overrides(sim: &SimArgs) -> Overrides {
    Overrides {
        horizon: sim.horizon,
        replications: sim.replications,
        seed: sim.seed,
        shards: None,
        precision: sim.precision,
        method: sim.method,
        max_replications: sim.max_replications,
    }
}

/// Loads every file; reports the problems of all of them before failing.
pub fn load_all(files: &[PathBuf], sim: &SimArgs) -> Result<Vec<Model>> {
    load_all_with(files, &overrides(sim))
}

/// Loads every file with overrides `o`; reports the problems of all of them
/// before failing.
pub fn load_all_with(files: &[PathBuf], o: &Overrides) -> Result<Vec<Model>> {
    let mut models = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match load_file(file, o) {
            Ok(m) => models.push(m),
            Err(e) => errors.push(e),
        }
    }
    let Some(last) = errors.pop() else {
        return Ok(models);
    };
    for e in errors {
        eprintln!("error: {e}");
    }
    Err(last.into())
}

/// Refuses two scenarios with one name: their outputs would collide.
pub fn unique_names(models: &[Model]) -> Result<()> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for m in models {
        if let Some(other) = seen.insert(&m.name, &m.source) {
            return Err(Error::Usage(format!(
                "{} and {} are both named `{}`: their outputs would overwrite each other; rename one",
                other, m.source, m.name
            ))
            .into());
        }
    }
    Ok(())
}

/// Refuses `--time-limit` for scenarios that do not run in rounds (no
/// precision target): they run their replications, as without the limit.
pub fn time_limit_needs_rounds(models: &[Model], common: &Common) -> Result<()> {
    if common.time_limit.is_none() {
        return Ok(());
    }
    let fixed: Vec<&str> = models
        .iter()
        .filter(|m| m.simulation.precision.is_none() && m.simulation.method != Method::RareEvent)
        .map(|m| m.source.as_str())
        .collect();
    if fixed.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "--time-limit stops runs that proceed in rounds to a precision target, and {} has none: add --precision R (e.g. --precision 10%)",
        fixed.join(", ")
    ))
    .into())
}

/// A progress bar on a terminal (replications, events/s, ETA); hidden when
/// stderr is not a terminal or with --quiet. Returns the bar and the
/// callback that feeds it.
pub fn progress_bar(label: &str, total: u64, quiet: bool) -> ProgressBar {
    let bar = if quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix} [{bar:30}] {pos}/{len} replications · {msg} · ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_string());
    bar
}

/// Feeds `bar` from simulation progress.
pub fn feed(bar: &ProgressBar) -> impl FnMut(Progress) + '_ {
    let start = std::time::Instant::now();
    move |p: Progress| {
        bar.set_length(p.total);
        bar.set_position(p.done);
        let rate = p.events as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{rate:.2e} events/s"));
    }
}

/// Simulates `model` with a progress bar and builds its report: a fixed
/// number of replications, or rounds to a precision target.
pub fn simulate(model: &Model, common: &Common) -> Result<Report> {
    let analysis = availsim::analytic::analyze(model);
    let bar = progress_bar(&model.name, model.simulation.replications, common.quiet);
    let options = RunOptions {
        threads: common.threads.map_or(0, usize::from),
        time_limit: common.time_limit,
    };
    let report = availsim::driver::run(model, options, &analysis, &mut feed(&bar))?;
    bar.finish_and_clear();
    Ok(report)
}

/// Writes a run's outputs into `dir`: summary.csv, the plots, and last
/// report.json (so an existing report.json means a complete run).
pub fn write_outputs(report: &Report, dir: &Path, plots: bool) -> Result<PathBuf> {
    remove_stale_temporaries(dir);
    write_atomic(&dir.join("summary.csv"), &summary_csv(&[report]))?;
    if plots {
        draw_all(report, dir)?;
    }
    let path = dir.join("report.json");
    write_atomic(&path, report.to_json().as_bytes())?;
    Ok(path)
}

/// Removes temporary files left by an interrupted earlier run.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Prints a report as the common options ask.
pub fn print_report(report: &Report, source: &str, path: &Path, common: &Common) {
    if common.format == Format::Text && !common.quiet {
        print!("{}", text::summary(report, source));
        println!("  report written to {}\n", path.display());
    }
}

/// Prints reports as JSON when asked (one object, or an array).
pub fn print_json(reports: &[Report], format: Format) -> Result<()> {
    if format == Format::Json {
        let json = if reports.len() == 1 {
            reports[0].to_json()
        } else {
            serde_json::to_string_pretty(reports)? + "\n"
        };
        print!("{json}");
    }
    Ok(())
}

/// The header of a table of reports (batch, sweep), its first column
/// `first` wide.
pub fn table_header(first: &str, width: usize) -> String {
    format!(
        "  {first:<width$}  {:<12}  {:<27}  {:>6}  {:>10}  {:<19}  verdict\n",
        "availability", "95% CI", "nines", "down/year", "analytic"
    )
}

/// One report as a table row: availability, interval, nines, down time,
/// the analytic value (≈ for approximations) and the verdict.
pub fn table_row(label: &str, width: usize, r: &Report) -> String {
    let a = &r.availability;
    let analytic = match (
        &r.analytic.method,
        r.analytic.interval.or(r.analytic.steady_state),
    ) {
        (Some(_), Some(v)) if r.analytic.exact => format!("{v:.8}"),
        (Some(_), Some(v)) => format!("{v:.8} ≈"),
        _ => "—".to_string(),
    };
    let ci = format!("[{:.8}, {:.8}]", a.ci95[0], a.ci95[1]);
    format!(
        "  {label:<width$}  {:<12.8}  {ci:<27}  {:>6}  {:>10}  {analytic:<19}  {}\n",
        a.mean,
        a.nines.map_or("—".into(), |n| format!("{n:.2}")),
        text::human_hours(r.downtime_hours_per_year.mean),
        r.analytic.verdict.as_deref().unwrap_or("—"),
    )
}

/// Fails with exit code 1 when any analytic check failed.
pub fn check_verdicts(reports: &[Report]) -> Result<()> {
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| r.analytic.failed())
        .map(|r| r.scenario.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CheckFailed(failed.join(", ")).into())
    }
}

/// The analytic check of one or more scenarios failed (exit code 1).
#[derive(Debug)]
pub struct CheckFailed(String);

impl std::fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the analytic check failed for {}: the exact value lies outside the simulation's 99.9% confidence interval",
            self.0
        )
    }
}

impl std::error::Error for CheckFailed {}
