//! `sweep`: one scenario, one parameter, many values; the answer to "which
//! value meets my target?".

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::Value;

use availsim::report::plot::draw_sweep;
use availsim::report::{html, text::human_hours, write_atomic};
use availsim::scenario::{load_file, load_str, Overrides};
use availsim::sweep::{
    first_meeting, label, numeric, overridden_by_option, parse_set, set_path, sweep_csv, Point,
};
use availsim::Error;

use super::{check_verdicts, out, overrides, simulate, table_header, table_row};
use crate::cli::SweepArgs;
use availsim::error::shown;
use std::io::Write as _;

/// `availsim sweep`.
pub fn sweep(args: &SweepArgs) -> Result<()> {
    let common = &args.common;
    let (path, values) = parse_set(&args.set).map_err(Error::Usage)?;
    let o = overrides(&common.sim);
    refuse_double_setting(&path, &o)?;
    let base = load_file(&args.file, &o)?;
    super::time_limit_needs_rounds(std::slice::from_ref(&base), common)?;
    super::check_out_dir(&common.out)?;
    let text = availsim::input::read_text(&args.file)?;
    let doc: Value = serde_json::from_str(&text)?;
    if let Some(t) = args.target {
        if !(0.0..=1.0).contains(&t) {
            return Err(Error::Usage(format!(
                "--target {t}: an availability between 0 and 1, e.g. 0.9999"
            ))
            .into());
        }
    }
    let mut models = Vec::new();
    for v in &values {
        let mut d = doc.clone();
        set_path(&mut d, &path, v)
            .map_err(|m| Error::Usage(format!("{}: --set {path}: {m}", args.file.display())))?;
        let model = load_str(&d.to_string(), &args.file, &o).inspect_err(|_| {
            let _ = writeln!(
                std::io::stderr().lock(),
                "the sweep point with {path} = {} is not a valid scenario:",
                availsim::error::escape(&label(v))
            );
        })?;
        models.push((v, model));
    }
    let folder = format!(
        "sweep-{}",
        path.chars()
            .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            })
            .collect::<String>()
    );
    let dir = common.out.join(&base.name).join(folder);
    let mut points = Vec::new();
    for (v, model) in &models {
        let report = simulate(model, common)?;
        let point_dir = dir.join(label(v).replace(['/', '\\'], "_"));
        write_atomic(
            &point_dir.join("report.html"),
            html::page(&report, &html::Context::of(model)).as_bytes(),
        )?;
        write_atomic(&point_dir.join("report.json"), report.to_json().as_bytes())?;
        points.push(Point {
            label: label(v),
            x: numeric(v),
            report,
        });
    }
    let mut targets: Vec<(f64, String)> = base
        .objectives
        .iter()
        .map(|ob| {
            (
                ob.availability,
                format!("objective {} / {}", ob.availability, human_hours(ob.window)),
            )
        })
        .collect();
    if let Some(t) = args.target {
        targets.push((t, format!("target {t}")));
    }
    write_atomic(&dir.join("sweep.csv"), &sweep_csv(&points, &path))?;
    let entries: Vec<html::Entry<'_>> = points
        .iter()
        .map(|p| html::Entry {
            label: p.label.clone(),
            link: format!("{}/report.html", p.label.replace(['/', '\\'], "_")),
            report: &p.report,
        })
        .collect();
    write_atomic(
        &dir.join("index.html"),
        html::index(&format!("sweep of {path} — {}", base.name), &path, &entries).as_bytes(),
    )?;
    if !common.no_plots {
        let ts: Vec<f64> = targets.iter().map(|t| t.0).collect();
        draw_sweep(&points, &path, &ts, &dir)?;
    }
    if !common.quiet {
        out!(
            "{}",
            table(&points, &path, &targets, &base.name, &shown(&args.file))
        )?;
        out!("  written to {}\n\n", shown(&dir))?;
    }
    let reports: Vec<_> = points.into_iter().map(|p| p.report).collect();
    super::print_json(&reports, common.format)?;
    check_verdicts(&reports)
}

/// Refuses `--set simulation.horizon=…` together with `--horizon` (and the
/// same for the seed and the replications): the option would win and every
/// point would run with one value under the sweep's labels.
fn refuse_double_setting(path: &str, o: &Overrides) -> Result<()> {
    let Some(option) = overridden_by_option(path) else {
        return Ok(());
    };
    let given = match option {
        "--horizon" => o.horizon.is_some(),
        "--replications" => o.replications.is_some(),
        _ => o.seed.is_some(),
    };
    if given {
        return Err(Error::Usage(format!(
            "--set {path}=… and {option} both set {path}: {option} would override every point of the sweep; drop {option}"
        ))
        .into());
    }
    Ok(())
}

fn table(
    points: &[Point],
    path: &str,
    targets: &[(f64, String)],
    name: &str,
    file: &str,
) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "sweep of {path} — {name} ({file})\n");
    let width = points
        .iter()
        .map(|p| p.label.len())
        .max()
        .unwrap_or(5)
        .max(5);
    o.push_str(&table_header("value", width));
    for p in points {
        o.push_str(&table_row(&p.label, width, &p.report));
    }
    o.push('\n');
    let reports: Vec<(&str, &availsim::report::Report)> = points
        .iter()
        .map(|p| (p.label.as_str(), &p.report))
        .collect();
    o.push_str(&availsim::report::data::sweep_table(&reports, width));
    for (t, what) in targets {
        let line = match first_meeting(points, *t) {
            Some(i) => format!(
                "  first value meeting {what}: {path} = {}   (95% CI lower end {:.8})",
                points[i].label, points[i].report.availability.ci95[0]
            ),
            None => format!("  no value meets {what} with 95% confidence; extend the range"),
        };
        let _ = writeln!(o, "{line}");
    }
    o
}
