//! `sweep`: one scenario, one parameter, many values; the answer to "which
//! value meets my target?".

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::Value;

use availsim::report::plot::draw_sweep;
use availsim::report::{html, text::human_hours, write_atomic};
use availsim::scenario::{load_file, load_str, Overrides};
use availsim::sweep::{
    first_and_break, grid, label, meets_target, met_fraction, numeric, overridden_by_option,
    parse_set, set_path, sweep_csv, Point,
};
use availsim::Error;

use super::{check_verdicts, out, overrides, simulate, table_header, table_row};
use crate::cli::SweepArgs;
use availsim::error::shown;
use std::io::Write as _;

/// `availsim sweep`.
pub fn sweep(args: &SweepArgs) -> Result<()> {
    let common = &args.common;
    let mut axes: Vec<(String, Vec<Value>)> = Vec::new();
    for spec in &args.set {
        let axis = parse_set(spec).map_err(Error::Usage)?;
        if axes.iter().any(|(p, _)| *p == axis.0) {
            return Err(Error::Usage(format!(
                "--set {}: the path is swept twice; give each path once (list all its values in one --set)",
                availsim::error::escape(&axis.0)
            ))
            .into());
        }
        axes.push(axis);
    }
    if !(args.met_fraction > 0.0 && args.met_fraction <= 1.0) {
        return Err(Error::Usage(format!(
            "--met-fraction {}: a fraction of windows in (0, 1], e.g. 0.99",
            args.met_fraction
        ))
        .into());
    }
    let paths: Vec<String> = axes.iter().map(|a| a.0.clone()).collect();
    let path = paths.join(", ");
    let o = overrides(&common.sim);
    for p in &paths {
        refuse_double_setting(p, &o)?;
    }
    let combos = grid(&axes);
    if combos.len() > 10_000 {
        return Err(Error::Usage(format!(
            "the sweep has {} points: at most 10000; give fewer values",
            combos.len()
        ))
        .into());
    }
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
    for combo in &combos {
        let mut d = doc.clone();
        for ((p, _), v) in axes.iter().zip(combo) {
            set_path(&mut d, p, v)
                .map_err(|m| Error::Usage(format!("{}: --set {p}: {m}", args.file.display())))?;
        }
        let settings: Vec<String> = combo.iter().map(label).collect();
        let point_label = if axes.len() == 1 {
            settings[0].clone()
        } else {
            paths
                .iter()
                .zip(&settings)
                .map(|(p, v)| format!("{p}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let model = load_str(&d.to_string(), &args.file, &o).inspect_err(|_| {
            let _ = writeln!(
                std::io::stderr().lock(),
                "the sweep point with {} is not a valid scenario:",
                availsim::error::escape(&if axes.len() == 1 {
                    format!("{path} = {point_label}")
                } else {
                    point_label.clone()
                })
            );
        })?;
        models.push((combo, settings, point_label, model));
    }
    let folder = format!(
        "sweep-{}",
        paths
            .join("+")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "._-+".contains(c) {
                c
            } else {
                '_'
            })
            .collect::<String>()
    );
    let dir = common.out.join(&base.name).join(folder);
    let point_folder = |settings: &[String]| {
        settings
            .iter()
            .map(|v| v.replace(['/', '\\'], "_"))
            .collect::<Vec<_>>()
            .join("_")
    };
    let mut points = Vec::new();
    for (combo, settings, point_label, model) in &models {
        let report = simulate(model, common)?;
        let point_dir = dir.join(point_folder(settings));
        write_atomic(
            &point_dir.join("report.html"),
            html::page(&report, &html::Context::of(model)).as_bytes(),
        )?;
        write_atomic(&point_dir.join("report.json"), report.to_json().as_bytes())?;
        points.push(Point {
            label: point_label.clone(),
            settings: settings.clone(),
            x: numeric(&combo[0]),
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
    write_atomic(
        &dir.join("sweep.csv"),
        &sweep_csv(&points, &paths, base.objectives.len()),
    )?;
    let entries: Vec<html::Entry<'_>> = points
        .iter()
        .map(|p| html::Entry {
            label: p.label.clone(),
            link: format!("{}/report.html", point_folder(&p.settings)),
            report: &p.report,
        })
        .collect();
    write_atomic(
        &dir.join("index.html"),
        html::index(&format!("sweep of {path} — {}", base.name), &path, &entries).as_bytes(),
    )?;
    if !common.no_plots {
        let ts: Vec<f64> = targets.iter().map(|t| t.0).collect();
        if axes.len() == 1 {
            draw_sweep(&points, &path, &ts, &dir)?;
        } else {
            // A grid: one plot against the first field per combination of
            // the others, in plot-<values>/.
            let mut rest: Vec<Vec<String>> =
                points.iter().map(|p| p.settings[1..].to_vec()).collect();
            rest.dedup();
            for r in rest {
                let slice: Vec<Point> = points
                    .iter()
                    .filter(|p| p.settings[1..] == r[..])
                    .cloned()
                    .collect();
                draw_sweep(
                    &slice,
                    &paths[0],
                    &ts,
                    &dir.join(format!("plot-{}", point_folder(&r))),
                )?;
            }
        }
    }
    if !common.quiet {
        out!(
            "{}",
            table(
                &points,
                &path,
                &targets,
                base.objectives.len(),
                args.met_fraction,
                &base.name,
                &shown(&args.file)
            )
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

/// A goal of the sweep: a window objective (index among the availability
/// objectives) or an availability target.
enum Goal {
    Objective(usize),
    Target(f64),
}

fn table(
    points: &[Point],
    path: &str,
    targets: &[(f64, String)],
    objectives: usize,
    required: f64,
    name: &str,
    file: &str,
) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "sweep of {path} — {name} ({file})\n");
    let width = points
        .iter()
        .map(|p| p.label.chars().count())
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
    if objectives > 0 {
        let mut header = format!("  {:<width$}", "value");
        for (_, what) in &targets[..objectives] {
            let _ = write!(
                header,
                "  {:>24}",
                format!("met: {}", what.trim_start_matches("objective "))
            );
        }
        let _ = writeln!(o, "{header}");
        for p in points {
            let mut line = format!("  {:<width$}", p.label);
            for j in 0..objectives {
                let cell = met_fraction(&p.report, j).map_or("—".to_string(), |m| {
                    format!("{:.2}% of windows", 100.0 * m)
                });
                let _ = write!(line, "  {cell:>24}");
            }
            let _ = writeln!(o, "{line}");
        }
        o.push('\n');
    }
    let grid = path.contains(", ");
    for (j, (t, what)) in targets.iter().enumerate() {
        let goal = if j < objectives {
            Goal::Objective(j)
        } else {
            Goal::Target(*t)
        };
        let judged: Vec<(bool, String)> = points
            .iter()
            .map(|p| match goal {
                Goal::Objective(j) => match met_fraction(&p.report, j) {
                    Some(m) => (
                        m >= required,
                        format!(
                            "{:.2}% of windows met it; {:.2}% required",
                            100.0 * m,
                            100.0 * required
                        ),
                    ),
                    None => (false, "no window measured".to_string()),
                },
                Goal::Target(t) => {
                    let (ok, u, how) = meets_target(&p.report, t);
                    (
                        ok,
                        format!("{how} = {u:.3e} against {:.3e} allowed", 1.0 - t),
                    )
                }
            })
            .collect();
        let meets: Vec<bool> = judged.iter().map(|j| j.0).collect();
        if grid {
            let list: Vec<&str> = points
                .iter()
                .zip(&meets)
                .filter(|(_, &m)| m)
                .map(|(p, _)| p.label.as_str())
                .collect();
            if list.is_empty() {
                let _ = writeln!(o, "  no point meets {what}; extend the ranges");
            } else {
                let _ = writeln!(o, "  points meeting {what}:");
                for l in list {
                    let _ = writeln!(o, "    {l}");
                }
            }
            continue;
        }
        let (first, broken) = first_and_break(&meets);
        let line = match first {
            Some(i) => format!(
                "  first value meeting {what}: {path} = {}   ({})",
                points[i].label, judged[i].1
            ),
            None => format!("  no value meets {what}; extend the range"),
        };
        let _ = writeln!(o, "{line}");
        if let Some(b) = broken {
            let _ = writeln!(
                o,
                "  NON-MONOTONE: {path} = {} does not meet {what} again ({}); the first value is not a threshold (noise or a turning effect: add replications or read the table)",
                points[b].label, judged[b].1
            );
        }
    }
    o
}
