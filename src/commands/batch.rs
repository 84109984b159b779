//! `batch`: every scenario of folders and files, one combined table and
//! `OUT/batch-summary.csv`; `--resume` skips scenarios already done.

use std::path::{Path, PathBuf};

use anyhow::Result;

use availsim::error::shown;
use availsim::report::html::{index, Entry};
use availsim::report::{summary_csv, write_atomic};
use availsim::scale::scenario_hash;
use availsim::{Error, Model, Report};

use super::{
    check_verdicts, load_all, out, print_json, simulate, table_header, table_row,
    time_limit_needs_rounds, unique_names, write_outputs,
};
use crate::cli::{BatchArgs, Format};

/// `availsim batch`.
pub fn batch(args: &BatchArgs) -> Result<()> {
    let common = &args.common;
    let files = discover(&args.inputs)?;
    let models = load_all(&files, &common.sim)?;
    unique_names(&models)?;
    no_batch_output_names(&models)?;
    time_limit_needs_rounds(&models, common)?;
    super::check_out_dir(&common.out)?;
    let mut reports = Vec::new();
    let mut skipped = 0;
    for model in &models {
        let dir = common.out.join(&model.name);
        if args.resume {
            if let Some(done) = complete(&dir, model) {
                skipped += 1;
                reports.push(done);
                continue;
            }
        }
        let report = simulate(model, common)?;
        write_outputs(&report, model, &dir, !common.no_plots)?;
        reports.push(report);
    }
    let refs: Vec<&Report> = reports.iter().collect();
    let summary = common.out.join(BATCH_SUMMARY);
    write_atomic(&summary, &summary_csv(&refs))?;
    let entries: Vec<Entry<'_>> = models
        .iter()
        .zip(&reports)
        .map(|(m, r)| Entry {
            label: m.name.clone(),
            link: format!("{}/report.html", m.name),
            report: r,
        })
        .collect();
    write_atomic(
        &common.out.join(BATCH_INDEX),
        index("availsim batch", "scenario", &entries).as_bytes(),
    )?;
    if common.format == Format::Text && !common.quiet {
        out!("{}", table(&models, &reports))?;
        if skipped > 0 {
            out!("  {skipped} scenario(s) already complete, not run again (--resume)\n")?;
        }
        out!("  summary written to {}\n\n", shown(&summary))?;
    }
    print_json(&reports, common.format)?;
    check_verdicts(&reports)
}

/// The file `batch` writes into the output folder beside the scenarios'
/// folders.
const BATCH_SUMMARY: &str = "batch-summary.csv";

/// The index page `batch` writes beside the scenarios' folders.
const BATCH_INDEX: &str = "index.html";

/// Refuses, before anything runs, a scenario whose output folder would be
/// one of the batch's own output files.
fn no_batch_output_names(models: &[Model]) -> Result<()> {
    match models.iter().find(|m| {
        m.name.eq_ignore_ascii_case(BATCH_SUMMARY) || m.name.eq_ignore_ascii_case(BATCH_INDEX)
    }) {
        Some(m) => Err(Error::Usage(format!(
            "{} is named `{}`, a file batch writes its summary or index to: rename the scenario (its \"name\" field, or the file)",
            m.source, m.name
        ))
        .into()),
        None => Ok(()),
    }
}

/// The scenario files: files as given, folders as their *.json entries in
/// name order (a dangling link or a FIFO among them is then refused by the
/// reader, rather than skipped silently).
fn discover(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|cause| Error::Read {
                file: input.clone(),
                cause,
            })?;
            let mut found: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.is_dir())
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: no *.json scenarios in this folder",
                    input.display()
                ))
                .into());
            }
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// The report of an earlier run of this very scenario, if it is complete
/// (report.json is written last and atomically, so it exists only when the
/// run finished).
fn complete(dir: &Path, model: &Model) -> Option<Report> {
    let text = availsim::input::read_text(&dir.join("report.json")).ok()?;
    let report: Report = serde_json::from_str(&text).ok()?;
    (report.scenario_hash == scenario_hash(model)).then_some(report)
}

fn table(models: &[Model], reports: &[Report]) -> String {
    let width = models
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut o = table_header("scenario", width);
    for r in reports {
        o.push_str(&table_row(&r.scenario, width, r));
    }
    o.push('\n');
    o
}
