//! The `availsim` binary: parse arguments, call the library, choose the exit
//! code (0 success, 1 a failed check or unwritable output, 2 bad input).

mod cli;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use availsim::report::{plot::draw_all, summary_csv, text, write_atomic};
use availsim::scenario::{load_file, Overrides};
use availsim::sim::{simulate, Progress};
use availsim::{Error, Model, Report};
use cli::{CheckArgs, Cli, Command, Format, PlotArgs, RunArgs, SimArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check(args) => check(&args),
        Command::Schema => {
            println!("{}", availsim::scenario::raw::schema_json());
            Ok(())
        }
        Command::Plot(args) => plot(&args),
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

fn overrides(sim: &SimArgs) -> Overrides {
    Overrides {
        horizon: sim.horizon,
        replications: sim.replications,
        seed: sim.seed,
    }
}

/// Loads every file; reports the problems of all of them before failing.
fn load_all(files: &[PathBuf], sim: &SimArgs) -> Result<Vec<Model>> {
    let o = overrides(sim);
    let mut models = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match load_file(file, &o) {
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

fn run(args: &RunArgs) -> Result<()> {
    let models = load_all(&args.files, &args.sim)?;
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for m in &models {
        if let Some(other) = seen.insert(&m.name, &m.source) {
            return Err(Error::Usage(format!(
                "{} and {} are both named `{}`: their outputs would overwrite each other; rename one",
                other, m.source, m.name
            ))
            .into());
        }
    }
    let threads = args.threads.map_or(0, usize::from);
    let mut reports = Vec::new();
    for model in &models {
        let report = simulate_with_progress(model, threads, args.quiet)?;
        let dir = args.out.join(&model.name);
        let path = dir.join("report.json");
        write_atomic(&dir.join("summary.csv"), &summary_csv(&[&report]))?;
        if !args.no_plots {
            draw_all(&report, &dir)?;
        }
        write_atomic(&path, report.to_json().as_bytes())?;
        if args.format == Format::Text && !args.quiet {
            print!("{}", text::summary(&report, &model.source));
            println!("  report written to {}\n", path.display());
        }
        reports.push(report);
    }
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| r.analytic.failed())
        .map(|r| r.scenario.as_str())
        .collect();
    if args.format == Format::Json {
        let json = if reports.len() == 1 {
            reports[0].to_json()
        } else {
            serde_json::to_string_pretty(&reports)? + "\n"
        };
        print!("{json}");
    }
    if !failed.is_empty() {
        return Err(CheckFailed(failed.join(", ")).into());
    }
    Ok(())
}

/// The analytic check of one or more scenarios failed (exit code 1).
#[derive(Debug)]
struct CheckFailed(String);

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

fn simulate_with_progress(model: &Model, threads: usize, quiet: bool) -> Result<Report> {
    let sim = &model.simulation;
    let bar = if quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(sim.replications)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} replications · {msg} · ETA {eta}",
        )?
        .progress_chars("=> "),
    );
    bar.set_prefix(model.name.clone());
    let start = std::time::Instant::now();
    let mut on_progress = |p: Progress| {
        bar.set_position(p.done);
        let rate = p.events as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{rate:.2e} events/s"));
    };
    let analysis = availsim::analytic::analyze(model);
    let outcome = simulate(model, threads, &mut on_progress)?;
    bar.finish_and_clear();
    Ok(Report::new(model, &outcome, &analysis))
}

fn plot(args: &PlotArgs) -> Result<()> {
    let file = &args.report;
    let text = std::fs::read_to_string(file).map_err(|cause| Error::Read {
        file: file.clone(),
        cause,
    })?;
    let report: Report = serde_json::from_str(&text).map_err(|e| Error::Syntax {
        file: file.clone(),
        line: e.line(),
        column: e.column(),
        message: format!("not an availsim report: {e}"),
    })?;
    let dir = match &args.out {
        Some(out) => out.join(&report.scenario),
        None => file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), PathBuf::from),
    };
    for f in draw_all(&report, &dir)? {
        println!("{}", f.display());
    }
    Ok(())
}

fn check(args: &CheckArgs) -> Result<()> {
    let models = load_all(&args.files, &args.sim)?;
    for m in &models {
        print!("{}", describe(m));
    }
    Ok(())
}

/// The resolved scenario as `check` prints it.
fn describe(m: &Model) -> String {
    use std::fmt::Write as _;
    let s = &m.simulation;
    let mut o = String::new();
    let _ = writeln!(o, "{} — {}: valid", m.name, m.source);
    if let Some(d) = &m.description {
        let _ = writeln!(o, "  {d}");
    }
    let _ = writeln!(
        o,
        "  simulation: horizon {}, warmup {}, {} replications, seed {}, {} A(t) points",
        text::human_hours(s.horizon),
        text::human_hours(s.warmup),
        s.replications,
        s.seed,
        s.transient_points
    );
    let _ = writeln!(o, "\ncomponents ({} instances):", m.instances.len());
    for c in &m.components {
        let inst = &m.instances[c.first];
        let _ = writeln!(
            o,
            "  {} ×{}\n    failure  {}\n    repair   {}\n    steady-state availability of one instance {:.9}",
            c.name,
            c.count,
            inst.failure,
            inst.repair,
            inst.steady_availability()
        );
    }
    for c in &m.crews {
        let members: Vec<&str> = m
            .instances
            .iter()
            .filter(|i| i.crew.is_some_and(|k| m.crews[k].name == c.name))
            .map(|i| i.name.as_str())
            .collect();
        let _ = writeln!(
            o,
            "  crew {}: {} repair{} at once, for {}",
            c.name,
            c.size,
            if c.size == 1 { "" } else { "s" },
            members.join(", ")
        );
    }
    for c in &m.common_causes {
        let affects: Vec<&str> = c
            .affects
            .iter()
            .map(|&i| m.instances[i].name.as_str())
            .collect();
        let _ = writeln!(
            o,
            "  common cause {}: holds down {}\n    between outages  {}\n    outage           {}",
            c.name,
            affects.join(", "),
            c.failure,
            c.repair
        );
    }
    for ob in &m.objectives {
        let _ = writeln!(
            o,
            "  objective: availability {} in every window of {}",
            ob.availability,
            text::human_hours(ob.window)
        );
    }
    let _ = writeln!(o, "\nsystem:");
    for line in m.topology().lines() {
        let _ = writeln!(o, "  {line}");
    }
    let a = availsim::analytic::analyze(m);
    let _ = writeln!(o, "\nanalytic check:");
    match a.method {
        Some(method) => {
            let kind = if a.exact { "exact" } else { "approximate" };
            let _ = writeln!(o, "  method          {} ({kind})", method.name());
            if let Some(v) = a.steady_state {
                let _ = writeln!(o, "  steady state    {v:.10}");
            }
            if let Some(v) = a.interval {
                let _ = writeln!(
                    o,
                    "  interval        {v:.10}   expected over [{}, {}] from all up",
                    text::human_hours(s.warmup),
                    text::human_hours(s.horizon)
                );
            }
            if let Some(h) = a.mttf_hours {
                let _ = writeln!(o, "  MTTF            {} ({h:.6} h)", text::human_hours(h));
            }
        }
        None => {
            let _ = writeln!(o, "  none");
        }
    }
    let _ = writeln!(o, "  {}", a.note);
    o.push('\n');
    o
}
