//! `run` (whole or one shard), `plot` and `merge`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use availsim::error::{escape, shown};
use availsim::report::{plot::draw_all, write_atomic};
use availsim::scale::{merge as merge_parts, read_part, run_shard, Shard, PARTIAL_KIND};
use availsim::scenario::{valid_name, NAME_HINT};
use availsim::{Error, Issue, Model, Report};

use super::{
    check_verdicts, feed, load_all, out, overrides, print_json, print_report, progress_bar,
    simulate, unique_names, write_outputs,
};
use crate::cli::{MergeArgs, PlotArgs, RunArgs};

/// `availsim run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let common = &args.common;
    let models = load_all(&args.files, &common.sim)?;
    unique_names(&models)?;
    let threads = super::threads(common);
    if let Some(shard) = shard(args)? {
        for model in &models {
            write_shard(model, shard, threads, args)?;
        }
        return Ok(());
    }
    let mut reports = Vec::new();
    for model in &models {
        let report = simulate(model, threads, common.quiet)?;
        let path = write_outputs(&report, &common.out.join(&model.name), !common.no_plots)?;
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
        let reps: u64 = part.chunks.iter().map(|c| c.replications()).sum();
        out!(
            "{}: shard {} of {}, {reps} replications, written to {}\n",
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
    let mut parts = Vec::new();
    for path in &args.parts {
        parts.push((path.clone(), read_part(path)?));
    }
    let (model, outcome) = merge_parts(parts)?;
    let analysis = availsim::analytic::analyze(&model);
    let report = Report::new(&model, outcome, &analysis);
    let dir = args
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    write_atomic(
        &dir.join("summary.csv"),
        &availsim::report::summary_csv(&[&report]),
    )?;
    if !args.no_plots {
        draw_all(&report, &dir)?;
    }
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

/// `availsim plot`.
pub fn plot(args: &PlotArgs) -> Result<()> {
    let file = &args.report;
    let report = read_report(file)?;
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
