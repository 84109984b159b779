//! `sweep`: one scenario, one parameter, many values; the answer to "which
//! value meets my target?".

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::{json, Value};

use availsim::report::plot::draw_sweep;
use availsim::report::{html, text::human_hours, write_atomic};
use availsim::scenario::{load_file, load_str, Overrides};
use availsim::sweep::{
    first_and_break, grid, label, meets_target, met_fraction, numeric, overridden_by_option,
    parse_set, set_path, sweep_csv, Point,
};
use availsim::Error;

use super::{check_verdicts, out, overrides, simulate, table_header, table_row};
use crate::cli::{Format, SweepArgs};
use availsim::error::{escape, shown};
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
    let dir = common.out.join(&base.name).join(sweep_folder(&paths));
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
    let goals = goals(&points, &targets, base.objectives.len(), args.met_fraction);
    let json = sweep_json(&points, &models, &paths, &goals)?;
    write_atomic(
        &dir.join("sweep.json"),
        (serde_json::to_string_pretty(&json)? + "\n").as_bytes(),
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
        draw_plots(&points, &paths, &ts, &dir)?;
    }
    if !common.quiet && common.format == Format::Text {
        out!(
            "{}",
            table(
                &points,
                &path,
                &targets,
                &goals,
                &base.name,
                &shown(&args.file)
            )
        )?;
        out!("  written to {}\n\n", shown(&dir))?;
    }
    if common.format == Format::Json {
        let printed = match &json[..] {
            [one] => serde_json::to_string_pretty(one)?,
            all => serde_json::to_string_pretty(all)?,
        };
        out!("{printed}\n")?;
    }
    let reports: Vec<_> = points.into_iter().map(|p| p.report).collect();
    check_verdicts(&reports)
}

/// The folder of a sweep inside `OUT/<scenario>/`: `sweep-` and the swept
/// paths joined by `+`.
fn sweep_folder(paths: &[String]) -> String {
    format!(
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
    )
}

/// The folder of one point: its settings joined by `_`.
fn point_folder(settings: &[String]) -> String {
    settings
        .iter()
        .map(|v| v.replace(['/', '\\'], "_"))
        .collect::<Vec<_>>()
        .join("_")
}

/// Draws the sweep plot (for a grid, one plot against the first field per
/// combination of the others, in `plot-<values>/`); returns the files.
fn draw_plots(
    points: &[Point],
    paths: &[String],
    targets: &[f64],
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    if paths.len() == 1 {
        return Ok(draw_sweep(points, &paths[0], targets, dir)?);
    }
    let mut rest: Vec<Vec<String>> = points.iter().map(|p| p.settings[1..].to_vec()).collect();
    rest.dedup();
    let mut files = Vec::new();
    for r in rest {
        let slice: Vec<Point> = points
            .iter()
            .filter(|p| p.settings[1..] == r[..])
            .cloned()
            .collect();
        files.extend(draw_sweep(
            &slice,
            &paths[0],
            targets,
            &dir.join(format!("plot-{}", point_folder(&r))),
        )?);
    }
    Ok(files)
}

/// How one point fares against one goal.
struct Judged {
    meets: bool,
    /// The window fraction (objectives only).
    met_fraction: Option<f64>,
    /// What the verdict rests on, for the text.
    why: String,
}

/// One goal of the sweep (an objective of the scenario or `--target`) and
/// every point's verdict on it.
struct GoalRow {
    what: String,
    availability: f64,
    /// Whether this is a window objective of the scenario.
    objective: bool,
    /// The window, in hours (objectives only).
    window_hours: Option<f64>,
    /// The fraction of windows that must meet it (objectives only).
    required: Option<f64>,
    points: Vec<Judged>,
}

/// Judges every point against every goal: a window objective on the
/// fraction of windows that met it, a target on unavailability (exact
/// where there is an exact value).
fn goals(
    points: &[Point],
    targets: &[(f64, String)],
    objectives: usize,
    required: f64,
) -> Vec<GoalRow> {
    targets
        .iter()
        .enumerate()
        .map(|(j, (t, what))| {
            let judged = points.iter().map(|p| {
                if j < objectives {
                    let m = met_fraction(&p.report, j);
                    Judged {
                        meets: m.is_some_and(|m| m >= required),
                        met_fraction: m,
                        why: m.map_or("no window measured".to_string(), |m| {
                            format!(
                                "{:.2}% of windows met it; {:.2}% required",
                                100.0 * m,
                                100.0 * required
                            )
                        }),
                    }
                } else {
                    let (ok, u, how) = meets_target(&p.report, *t);
                    Judged {
                        meets: ok,
                        met_fraction: None,
                        why: format!("{how} = {u:.3e} against {:.3e} allowed", 1.0 - t),
                    }
                }
            });
            GoalRow {
                what: what.clone(),
                availability: *t,
                objective: j < objectives,
                window_hours: window_hours(&points[0].report, j).filter(|_| j < objectives),
                required: (j < objectives).then_some(required),
                points: judged.collect(),
            }
        })
        .collect()
}

/// The window of the `j`-th availability objective, in hours.
fn window_hours(r: &availsim::report::Report, j: usize) -> Option<f64> {
    r.objectives
        .as_ref()?
        .iter()
        .filter(|o| o.availability.is_some())
        .nth(j)?
        .window_hours
}

/// Each point's report with a `sweep` block: the swept values, and per
/// goal whether the point meets it (`meets`, `met_fraction` for window
/// objectives); `meets` at the top is true when every goal is met (null
/// without goals), `met_fraction` that of the first objective. This is
/// what `--format json` prints and `sweep.json` holds; `availsim plot
/// sweep.json` redraws the sweep plot from it.
fn sweep_json(
    points: &[Point],
    models: &[(&Vec<Value>, Vec<String>, String, availsim::Model)],
    paths: &[String],
    goals: &[GoalRow],
) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (i, (p, m)) in points.iter().zip(models).enumerate() {
        let settings: serde_json::Map<String, Value> =
            paths.iter().cloned().zip(m.0.iter().cloned()).collect();
        let per_goal: Vec<Value> = goals
            .iter()
            .map(|g| {
                let j = &g.points[i];
                json!({
                    "goal": g.what,
                    "availability": g.availability,
                    "window_hours": g.window_hours,
                    "required_met_fraction": g.required,
                    "met_fraction": j.met_fraction,
                    "meets": j.meets,
                    "judged_on": j.why,
                })
            })
            .collect();
        let all = (!goals.is_empty()).then(|| goals.iter().all(|g| g.points[i].meets));
        let first_window = goals
            .iter()
            .find(|g| g.objective)
            .and_then(|g| g.points[i].met_fraction);
        let mut value = serde_json::to_value(&p.report)?;
        if let Value::Object(map) = &mut value {
            map.insert(
                "sweep".into(),
                json!({
                    "paths": paths,
                    "settings": settings,
                    "label": p.label,
                    "x": p.x,
                    "meets": all,
                    "met_fraction": first_window,
                    "goals": per_goal,
                }),
            );
        }
        out.push(value);
    }
    Ok(out)
}

/// `availsim plot` on a sweep's JSON (`sweep.json`, or what `sweep
/// --format json` printed): redraws the sweep plot, with the same goals,
/// into the JSON's folder or `OUT/<scenario>/sweep-<paths>/`.
pub fn redraw(value: Value, file: &Path, out_dir: Option<&Path>) -> Result<Vec<PathBuf>> {
    let bad = |m: String| -> anyhow::Error {
        Error::Usage(format!("{}: not a sweep's JSON: {m}", shown(file))).into()
    };
    let items = match value {
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => return Err(bad("expected a list of reports".into())),
    };
    if items.is_empty() {
        return Err(bad("no points".into()));
    }
    let mut points = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    let mut targets: Vec<f64> = Vec::new();
    for (i, mut item) in items.into_iter().enumerate() {
        let block = item
            .as_object_mut()
            .and_then(|m| m.remove("sweep"))
            .ok_or_else(|| bad(format!("point {i} has no `sweep` block")))?;
        let report: availsim::report::Report =
            serde_json::from_value(item).map_err(|e| bad(format!("point {i}: {e}")))?;
        let these: Vec<String> = serde_json::from_value(block["paths"].clone())
            .map_err(|e| bad(format!("point {i}: sweep.paths: {e}")))?;
        if i == 0 {
            paths = these;
            for g in block["goals"].as_array().into_iter().flatten() {
                targets.extend(g["availability"].as_f64());
            }
        } else if these != paths {
            return Err(bad(format!("point {i} sweeps other paths")));
        }
        if paths.is_empty() {
            return Err(bad("sweep.paths is empty".into()));
        }
        let settings: Vec<String> = paths
            .iter()
            .map(|p| block["settings"].get(p).map_or(String::new(), label))
            .collect();
        points.push(Point {
            label: block["label"].as_str().unwrap_or_default().to_string(),
            settings,
            x: block["x"].as_f64(),
            report,
        });
    }
    let name = points[0].report.scenario.clone();
    if !availsim::scenario::valid_name(&name) {
        return Err(bad(format!("invalid scenario name \"{}\"", escape(&name))));
    }
    let dir = match out_dir {
        Some(out) => out.join(&name).join(sweep_folder(&paths)),
        None => file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), PathBuf::from),
    };
    draw_plots(&points, &paths, &targets, &dir)
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
    goals: &[GoalRow],
    name: &str,
    file: &str,
) -> String {
    let objectives = goals.iter().filter(|g| g.objective).count();
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
    for goal in goals {
        let what = &goal.what;
        let judged = &goal.points;
        let meets: Vec<bool> = judged.iter().map(|j| j.meets).collect();
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
                points[i].label, judged[i].why
            ),
            None => format!("  no value meets {what}; extend the range"),
        };
        let _ = writeln!(o, "{line}");
        if let Some(b) = broken {
            let _ = writeln!(
                o,
                "  NON-MONOTONE: {path} = {} does not meet {what} again ({}); the first value is not a threshold (noise or a turning effect: add replications or read the table)",
                points[b].label, judged[b].why
            );
        }
    }
    o
}
