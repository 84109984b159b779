//! The commands of the binary, and what they share: loading scenarios,
//! progress bars, writing a run's outputs, the analytic-failure exit code.

pub mod batch;
pub mod check;
pub mod run;
pub mod sweep;

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use availsim::driver::RunOptions;
use availsim::error::{escape, shown};
use availsim::report::{plot::draw_all, remove_stale_temporaries, summary_csv, text, write_atomic};
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
        let _ = writeln!(std::io::stderr().lock(), "error: {e}");
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
                escape(other),
                escape(&m.source),
                m.name
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

/// How a run shows its progress on stderr: a bar on a terminal, a plain
/// line every few seconds otherwise (batch-system logs), nothing with
/// `--quiet`.
pub struct Meter {
    bar: ProgressBar,
    lines: Option<Lines>,
}

/// The plain progress lines written when stderr is not a terminal.
struct Lines {
    label: String,
    every: f64,
    last: std::cell::Cell<Instant>,
}

/// Seconds between plain progress lines unless `AVAILSIM_PROGRESS_INTERVAL`
/// says otherwise.
const PROGRESS_LINE_SECONDS: f64 = 5.0;

impl Meter {
    /// Clears the bar (plain lines stay in the log).
    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }

    fn show(&self, p: Progress, rate: f64, elapsed: f64) {
        self.bar.set_length(p.total);
        self.bar.set_position(p.done);
        self.bar.set_message(format!("{rate:.2e} events/s"));
        let Some(lines) = &self.lines else {
            return;
        };
        if lines.last.get().elapsed().as_secs_f64() < lines.every {
            return;
        }
        lines.last.set(Instant::now());
        let share = p.done as f64 / p.total.max(1) as f64;
        let eta = if p.done > 0 {
            clock(elapsed * (1.0 - share) / share)
        } else {
            "unknown".into()
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{}: {}/{} replications ({:.0}%), {rate:.2e} events/s, {} elapsed, ETA {eta}",
            lines.label,
            p.done,
            p.total,
            100.0 * share,
            clock(elapsed)
        );
    }
}

/// Seconds as a progress line shows them: `4.2s`, `38s`, `12m05s`, `3h07m`.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 10.0 {
        format!("{s:.1}s")
    } else if s < 60.0 {
        format!("{s:.0}s")
    } else if s < 3600.0 {
        let s = s.round() as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        let m = (s / 60.0).round() as u64;
        format!("{}h{:02}m", m / 60, m % 60)
    }
}

/// The progress display for a run of `total` replications named `label`:
/// a bar on a terminal (replications, events/s, ETA), plain lines every
/// few seconds when stderr is not a terminal, nothing with --quiet.
pub fn progress_bar(label: &str, total: u64, quiet: bool) -> Meter {
    let terminal =
        std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
    let bar = if quiet || !terminal {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix} [{bar:30}] {pos}/{len} replications · {msg} · ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(escape(label).into_owned());
    let lines = (!quiet && !terminal).then(|| Lines {
        label: escape(label).into_owned(),
        every: line_interval(),
        last: std::cell::Cell::new(Instant::now()),
    });
    Meter { bar, lines }
}

/// Seconds between plain progress lines: `AVAILSIM_PROGRESS_INTERVAL` when
/// it is a positive number, else [`PROGRESS_LINE_SECONDS`].
fn line_interval() -> f64 {
    let Ok(text) = std::env::var("AVAILSIM_PROGRESS_INTERVAL") else {
        return PROGRESS_LINE_SECONDS;
    };
    match text.trim().parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() => s,
        _ => {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                warn(&format!(
                    "AVAILSIM_PROGRESS_INTERVAL=\"{}\" is not a positive number of seconds: using {PROGRESS_LINE_SECONDS}",
                    escape(&text)
                ));
            });
            PROGRESS_LINE_SECONDS
        }
    }
}

/// Refuses an output folder that cannot be one (an existing file), before
/// anything is simulated.
///
/// # Errors
/// A usage error naming the path.
pub fn check_out_dir(out: &Path) -> Result<()> {
    let mut at = Some(out);
    while let Some(p) = at {
        if let Ok(meta) = std::fs::metadata(p) {
            if !meta.is_dir() {
                return Err(Error::Usage(format!(
                    "--out {}: {} is a file, not a folder; give a folder for the outputs (it is created if missing)",
                    shown(out),
                    shown(p)
                ))
                .into());
            }
            return Ok(());
        }
        at = p.parent();
    }
    Ok(())
}

/// Feeds `meter` from simulation progress.
pub fn feed(meter: &Meter) -> impl FnMut(Progress) + '_ {
    let start = Instant::now();
    move |p: Progress| {
        let elapsed = start.elapsed().as_secs_f64();
        let rate = p.events as f64 / elapsed.max(1e-9);
        meter.show(p, rate, elapsed);
    }
}

/// The thread count to use: --threads, at most [`MAX_THREADS_PER_CORE`]
/// times the cores (more only adds overhead: 10,000 threads turned a 5 ms
/// job into minutes), with a warning when capped; 0 (all cores) without
/// --threads.
pub fn threads(common: &Common) -> usize {
    let Some(asked) = common.threads.map(usize::from) else {
        return 0;
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let cap = MAX_THREADS_PER_CORE * cores;
    if asked > cap {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| warn(&format!(
            "--threads {asked} is more than {MAX_THREADS_PER_CORE} per core on this machine's {cores} cores: using {cap}"
        )));
        cap
    } else {
        asked
    }
}

/// Most threads per core `--threads` may ask for.
pub const MAX_THREADS_PER_CORE: usize = 4;

/// Prints a warning on stderr (never fails: a closed stderr loses it).
pub fn warn(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}

/// Writes to stdout. A closed stdout (`availsim schema | head -1`) comes
/// back as an error that `main` turns into a quiet exit 0, as ripgrep does.
pub fn write_stdout(args: std::fmt::Arguments<'_>) -> Result<()> {
    std::io::stdout().lock().write_fmt(args)?;
    Ok(())
}

/// `print!` that returns an error instead of panicking on a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => { $crate::commands::write_stdout(format_args!($($arg)*)) };
}
pub(crate) use out;

/// Simulates `model` with a progress bar and builds its report: a fixed
/// number of replications, or rounds to a precision target.
pub fn simulate(model: &Model, common: &Common) -> Result<Report> {
    let analysis = availsim::analytic::analyze(model);
    let bar = progress_bar(&model.name, model.simulation.replications, common.quiet);
    let options = RunOptions {
        threads: threads(common),
        time_limit: common.time_limit,
    };
    let report = availsim::driver::run(model, options, &analysis, &mut feed(&bar))?;
    bar.finish_and_clear();
    Ok(report)
}

/// Writes a run's outputs into `dir`: summary.csv, the plots, report.html
/// and last report.json (so an existing report.json means a complete run).
pub fn write_outputs(report: &Report, model: &Model, dir: &Path, plots: bool) -> Result<PathBuf> {
    remove_stale_temporaries(dir);
    write_atomic(&dir.join("summary.csv"), &summary_csv(&[report]))?;
    availsim::report::write_tables(report, dir)?;
    if plots {
        draw_all(report, dir)?;
    }
    let page = availsim::report::html::page(report, &availsim::report::html::Context::of(model));
    write_atomic(&dir.join("report.html"), page.as_bytes())?;
    let path = dir.join("report.json");
    write_atomic(&path, report.to_json().as_bytes())?;
    Ok(path)
}

/// Prints a report as the common options ask.
///
/// # Errors
/// When stdout is closed.
pub fn print_report(report: &Report, source: &str, path: &Path, common: &Common) -> Result<()> {
    if common.format == Format::Text && !common.quiet {
        out!("{}", text::summary(report, &escape(source)))?;
        out!("  report written to {}\n\n", shown(path))?;
    }
    Ok(())
}

/// Prints reports as JSON when asked (one object, or an array).
pub fn print_json(reports: &[Report], format: Format) -> Result<()> {
    if format == Format::Json {
        let json = if reports.len() == 1 {
            reports[0].to_json()
        } else {
            serde_json::to_string_pretty(reports)? + "\n"
        };
        out!("{json}")?;
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
    let failed: Vec<String> = reports
        .iter()
        .filter(|r| r.analytic.failed() || r.data_check_failed())
        .map(|r| match (r.analytic.failed(), r.data_check_failed()) {
            (true, true) => format!("{} (availability and data loss)", r.scenario),
            (false, true) => format!("{} (data loss)", r.scenario),
            _ => r.scenario.clone(),
        })
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
