//! `run` (whole or one shard), `plot` and `merge`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use availsim::error::{escape, shown};
use availsim::report::{plot::draw_all, write_atomic};
use availsim::scale::{merge as merge_parts, read_part, run_shard, Shard, PARTIAL_KIND};
use availsim::scenario::{valid_name, NAME_HINT};
use availsim::{Error, Issue, Model, Report};

use super::{
    check_verdicts, feed, load_all_with, out, overrides, print_json, print_report, progress_bar,
    simulate, time_limit_needs_rounds, unique_names, write_outputs,
};
use crate::cli::{Format, MergeArgs, PlotArgs, RunArgs};

/// `availsim run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let common = &args.common;
    let shard = shard(args)?;
    let mut o = overrides(&common.sim);
    o.shards = shard.map(|s| s.count);
    let models = load_all_with(&args.files, &o)?;
    unique_names(&models)?;
    // `--out -` with `--format json`: the report goes to stdout only.
    let no_files = common.out.as_os_str() == "-";
    if no_files && (common.format != Format::Json || args.shard.is_some() || args.shards.is_some())
    {
        return Err(Error::Usage(
            "--out - writes no files and prints the report on stdout: it needs --format json and cannot be combined with --shard or --shards (give a folder instead)".into(),
        )
        .into());
    }
    if !no_files {
        super::check_out_dir(&common.out)?;
    }
    time_limit_needs_rounds(&models, common)?;
    let threads = super::threads(common);
    if let Some(shard) = shard {
        if common.time_limit.is_some() {
            return Err(Error::Usage(
                "--time-limit cannot be combined with --shard or --shards: every shard must run its planned rounds for the merge to give the whole run's result".into(),
            )
            .into());
        }
        for model in &models {
            write_shard(model, shard, threads, args)?;
        }
        return Ok(());
    }
    let mut reports = Vec::new();
    for model in &models {
        let report = simulate(model, common)?;
        if no_files {
            reports.push(report);
            continue;
        }
        let path = write_outputs(
            &report,
            model,
            &common.out.join(&model.name),
            !common.no_plots,
        )?;
        print_report(&report, &model.source, &path, common)?;
        reports.push(report);
    }
    print_json(&reports, common.format)?;
    check_verdicts(&reports)
}

/// The shard this run is, from --shard or --shards and the environment.
fn shard(args: &RunArgs) -> Result<Option<Shard>> {
    let shard = match (&args.shard, args.shards) {
        (Some(text), _) => Some(Shard::parse(text)),
        (None, Some(n)) => Some(Shard::from_env(n, |k| std::env::var(k).ok())),
        (None, None) => None,
    };
    Ok(shard.transpose().map_err(Error::Usage)?)
}

fn write_shard(model: &Model, shard: Shard, threads: usize, args: &RunArgs) -> Result<()> {
    let common = &args.common;
    let text = availsim::input::read_text(std::path::Path::new(&model.source))?;
    let label = format!("{} {}/{}", model.name, shard.index, shard.count);
    let bar = progress_bar(&label, model.simulation.replications, common.quiet);
    let part = run_shard(
        model,
        &text,
        &overrides(&common.sim),
        shard,
        threads,
        &mut feed(&bar),
    )?;
    bar.finish_and_clear();
    let path = common
        .out
        .join(&model.name)
        .join(format!("part-{}-of-{}.json", shard.index, shard.count));
    write_atomic(&path, serde_json::to_string(&part)?.as_bytes())?;
    if !common.quiet {
        let work = match &part.rounds {
            Some(r) => format!(
                "rounds {}..{} of {} planned",
                r.first_round,
                r.first_round + r.tallies.len() as u64,
                r.plan.rounds
            ),
            None => {
                let reps = part.replications();
                format!("{reps} replications")
            }
        };
        out!(
            "{}: shard {} of {}, {work}, written to {}\n",
            model.name,
            shard.index,
            shard.count,
            shown(&path)
        )?;
    }
    Ok(())
}

/// `availsim merge`.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let dir = args
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    check_destination(&args.output, &dir, &args.parts)?;
    let mut parts = Vec::new();
    for path in &args.parts {
        parts.push((path.clone(), read_part(path)?));
    }
    let scenario_text = parts.first().map(|(_, p)| p.scenario_text.clone());
    let (model, report) = merge_parts(parts)?;
    write_atomic(
        &dir.join("summary.csv"),
        &availsim::report::summary_csv(&[&report]),
    )?;
    availsim::report::write_tables(&report, &dir)?;
    if !args.no_plots {
        draw_all(&report, &dir)?;
    }
    let mut context = availsim::report::html::Context::of(&model);
    context.scenario_text = scenario_text;
    write_atomic(
        &dir.join("report.html"),
        availsim::report::html::page(&report, &context).as_bytes(),
    )?;
    write_atomic(&args.output, report.to_json().as_bytes())?;
    if !args.quiet {
        out!(
            "{}",
            availsim::report::text::summary(&report, &escape(&model.source))
        )?;
        out!(
            "  merged {} parts into {}\n\n",
            args.parts.len(),
            shown(&args.output)
        )?;
    }
    check_verdicts(&[report])
}

/// Refuses, before anything is read or written, a destination that is one
/// of the parts (or whose summary.csv would be), a folder, or inside a
/// path that is not a folder.
fn check_destination(output: &Path, dir: &Path, parts: &[PathBuf]) -> Result<()> {
    let usage = |m: String| -> anyhow::Error { Error::Usage(m).into() };
    if output.is_dir() {
        return Err(usage(format!(
            "-o {}: is a folder; give the file to write, e.g. {}",
            output.display(),
            output.join("report.json").display()
        )));
    }
    if let Some(blocker) = dir.ancestors().find(|a| a.exists()).filter(|a| !a.is_dir()) {
        return Err(usage(format!(
            "-o {}: {} is not a folder",
            output.display(),
            blocker.display()
        )));
    }
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    };
    for part in parts {
        for written in [output.to_path_buf(), dir.join("summary.csv")] {
            if same(&written, part) {
                return Err(usage(format!(
                    "merging would overwrite its own input {}: write the merged report elsewhere with -o",
                    part.display()
                )));
            }
        }
    }
    Ok(())
}

/// `availsim plot`.
pub fn plot(args: &PlotArgs) -> Result<()> {
    let file = plotted_file(&args.report);
    let text = availsim::input::read_text(&file)?;
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        if value.is_array() || value.get("sweep").is_some() {
            for f in super::sweep::redraw(value, &file, args.out.as_deref())? {
                out!("{}\n", shown(&f))?;
            }
            return Ok(());
        }
    }
    let report = read_report(&file)?;
    let dir = match &args.out {
        Some(out) => out.join(&report.scenario),
        None => file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), PathBuf::from),
    };
    for f in draw_all(&report, &dir)? {
        out!("{}\n", shown(&f))?;
    }
    Ok(())
}

/// The file `plot` reads: the path itself, or for a folder its
/// `report.json` (a run) or `sweep.json` (a sweep).
fn plotted_file(path: &Path) -> PathBuf {
    if !path.is_dir() {
        return path.to_path_buf();
    }
    ["report.json", "sweep.json"]
        .iter()
        .map(|f| path.join(f))
        .find(|f| f.is_file())
        .unwrap_or_else(|| path.join("report.json"))
}

/// Reads a report written by `run` or `merge`; refuses a shard's partial
/// report and a scenario name that `run` would refuse (it names the output
/// folder: `../../x` must not lead outside it).
fn read_report(file: &Path) -> Result<Report> {
    let text = availsim::input::read_text(file)?;
    let syntax = |e: serde_json::Error| Error::Syntax {
        file: file.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: format!(
            "not an availsim report: {}",
            availsim::input::json_message(&e)
        ),
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(syntax)?;
    if value.get("kind").and_then(|k| k.as_str()) == Some(PARTIAL_KIND) {
        return Err(Error::Usage(format!(
            "{}: this is a partial report (one shard of a run), run `availsim merge` first\n  hint: availsim merge PART.json... -o REPORT.json, then plot REPORT.json",
            shown(file)
        ))
        .into());
    }
    if let Some(name) = value.get("scenario").and_then(|n| n.as_str()) {
        if !valid_name(name) {
            return Err(Error::Invalid {
                file: file.to_path_buf(),
                issues: vec![
                    Issue::new("scenario", format!("invalid scenario name \"{name}\""))
                        .hint(NAME_HINT),
                ],
            }
            .into());
        }
    }
    Ok(serde_json::from_str(&text).map_err(syntax)?)
}
