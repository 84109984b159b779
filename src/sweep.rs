//! Parameter sweeps: one scenario, one or several fields each set to each of
//! several values (several fields make a grid: every combination).
//!
//! A field is addressed by a JSON path (`components.web.count`,
//! `components.db.mttr`, `crews.ops.size`, `simulation.horizon`,
//! `common_cause[0].mttr`, and inside the system:
//! `system.series[1].standby.failover`, `system.k_of_n.k`); every modified
//! scenario is validated like a file, so a value that makes it invalid is
//! reported with its path.
//!
//! Whether a point meets a goal: an availability target is judged on the
//! exact unavailability where the analytic engine has one, otherwise on the
//! upper end of the simulated unavailability's 95% interval; a window
//! objective on the fraction of whole windows that met it (`met_fraction`),
//! against a required fraction.

use serde_json::Value;

use crate::report::Report;
use crate::scenario::parse_duration;

/// Splits `PATH=VALUES` and parses the values.
///
/// # Errors
/// A message when the text is not of that form.
pub fn parse_set(spec: &str) -> Result<(String, Vec<Value>), String> {
    let (path, values) = spec.split_once('=').ok_or_else(|| {
        format!("invalid --set \"{spec}\": write PATH=VALUES, e.g. components.web.count=1..6")
    })?;
    let path = path.trim();
    if path.is_empty() {
        return Err(format!("invalid --set \"{spec}\": the path is empty"));
    }
    if path == "system" {
        return Err(format!(
            "invalid --set \"{}\": a sweep sets one field, e.g. system.k_of_n.k or system.series[1].standby.failover, not the whole system",
            crate::error::escape(spec)
        ));
    }
    if matches!(path, "name" | "description" | "$schema") {
        return Err(format!(
            "a sweep cannot set `{path}`: it sets a numeric or duration field, e.g. components.web.count=1..6"
        ));
    }
    let values = parse_values(values)?;
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(format!(
                "invalid --set \"{}\": the value {v} is listed twice; give each value once",
                crate::error::escape(spec)
            ));
        }
    }
    Ok((path.to_string(), values))
}

/// Parses `1,2,4`, `8h,24h`, `1..6` (step 1) or `0.5..2:0.5`; whole numbers
/// stay whole so that counts and sizes accept them.
///
/// # Errors
/// A message for an empty list, a bad number or a range that never ends.
pub fn parse_values(text: &str) -> Result<Vec<Value>, String> {
    let text = text.trim();
    if let Some((start, rest)) = text.split_once("..") {
        let (end, step) = match rest.split_once(':') {
            Some((e, s)) => (e, Some(s)),
            None => (rest, None),
        };
        let num = |s: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| format!("invalid number \"{s}\" in range \"{text}\""))
        };
        let (a, b) = (num(start)?, num(end)?);
        let step = step.map(num).transpose()?.unwrap_or(1.0);
        let valid =
            a.is_finite() && b.is_finite() && step > 0.0 && a <= b && (b - a) / step <= 10_000.0;
        if !valid {
            return Err(format!("invalid range \"{text}\": write START..END or START..END:STEP with START ≤ END and a positive step (at most 10000 values)"));
        }
        let whole = [start, end].iter().all(|s| !s.contains('.')) && step.fract() == 0.0;
        let n = ((b - a) / step + 1e-9).floor() as usize;
        return Ok((0..=n)
            .map(|i| a + step * i as f64)
            .map(|x| {
                if whole {
                    Value::from(x as i64)
                } else {
                    Value::from(x)
                }
            })
            .collect());
    }
    if text.is_empty() {
        return Err(format!("no values in \"{text}\""));
    }
    text.split(',').map(|s| value(s.trim(), text)).collect()
}

/// One item of a list: a whole number, a finite number, or text (a
/// duration, validated with the scenario).
fn value(s: &str, list: &str) -> Result<Value, String> {
    if s.is_empty() {
        return Err(format!(
            "empty value in \"{list}\": separate the values with single commas, e.g. 1,2,4"
        ));
    }
    match (s.parse::<i64>(), s.parse::<f64>()) {
        (Ok(i), _) => Ok(Value::from(i)),
        (_, Ok(f)) if f.is_finite() => Ok(Value::from(f)),
        (_, Ok(_)) => Err(format!(
            "invalid value \"{s}\" in \"{list}\": a sweep value must be a finite number or a duration"
        )),
        _ => Ok(Value::from(s)),
    }
}

/// The command-line option that also sets the `simulation` field at
/// `path`, if any: a sweep over that field and the option together would
/// run every point with the option's value under the sweep's labels.
pub fn overridden_by_option(path: &str) -> Option<&'static str> {
    match path {
        "simulation.horizon" => Some("--horizon"),
        "simulation.replications" => Some("--replications"),
        "simulation.seed" => Some("--seed"),
        _ => None,
    }
}

/// Sets the field at `path` (dots between keys, `[i]` for list items) to
/// `value`. Every part of the path but the last must exist.
///
/// # Errors
/// A message naming the first part of the path that does not exist.
pub fn set_path(doc: &mut Value, path: &str, value: &Value) -> Result<(), String> {
    let mut steps: Vec<(String, Option<usize>)> = Vec::new();
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => {
                let i = rest
                    .strip_suffix(']')
                    .and_then(|i| i.parse::<usize>().ok())
                    .ok_or_else(|| format!("invalid index in \"{part}\""))?;
                (k.to_string(), Some(i))
            }
            None => (part.to_string(), None),
        };
        steps.push((key, index));
    }
    let mut here = doc;
    let mut walked = String::new();
    let last = steps.len() - 1;
    for (n, (key, index)) in steps.iter().enumerate() {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(key);
        let Value::Object(map) = here else {
            return Err(format!(
                "`{walked}` is inside a value that is not an object"
            ));
        };
        if n == last && index.is_none() {
            map.insert(key.clone(), value.clone());
            return Ok(());
        }
        if n == 0 && key == "simulation" && !map.contains_key(key) {
            map.insert(key.clone(), Value::Object(serde_json::Map::new()));
        }
        here = map
            .get_mut(key)
            .ok_or_else(|| format!("`{walked}` does not exist in the scenario"))?;
        if let Some(i) = index {
            walked.push_str(&format!("[{i}]"));
            here = here
                .get_mut(i)
                .ok_or_else(|| format!("`{walked}` does not exist in the scenario"))?;
            if n == last {
                *here = value.clone();
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The value as a number on the plot's x axis: numbers as they are,
/// durations in hours.
pub fn numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_duration(s).ok(),
        _ => None,
    }
}

/// The value as written.
pub fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One point of a sweep.
#[derive(Clone, Debug)]
pub struct Point {
    /// The value as written (for a grid, `path=value` of every swept
    /// field, joined by `, `).
    pub label: String,
    /// Each swept field's value as written, in `--set` order.
    pub settings: Vec<String>,
    /// The value on the x axis.
    pub x: Option<f64>,
    /// The run's report.
    pub report: Report,
}

/// Every combination of the swept values, the first field varying slowest.
pub fn grid(axes: &[(String, Vec<Value>)]) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    for (_, values) in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(v.clone());
                    p
                })
            })
            .collect();
    }
    out
}

/// Whether a point meets an availability target, compared on
/// unavailability: the exact analytic U where there is one (exact method),
/// otherwise the upper end of the simulated U's 95% interval (or its
/// one-sided bound when no replication saw down time). Returns the verdict
/// and the unavailability it was judged on, with what that figure is.
pub fn meets_target(r: &Report, target: f64) -> (bool, f64, &'static str) {
    let allowed = 1.0 - target;
    if r.analytic.exact {
        if let Some(u) = r.analytic.unavailability.filter(|u| u.is_finite()) {
            return (u <= allowed, u, "exact U");
        }
    }
    let u = &r.availability.unavailability;
    let upper = u.upper_bound95.unwrap_or(u.ci95[1]);
    (upper <= allowed, upper, "95% upper end of U")
}

/// The fraction of whole windows that met the `j`-th availability
/// objective of the point (RPO objectives are not counted), if reported.
pub fn met_fraction(r: &Report, j: usize) -> Option<f64> {
    r.objectives
        .as_ref()?
        .iter()
        .filter(|o| o.availability.is_some())
        .nth(j)
        .map(|o| o.met_fraction)
}

/// The first point meeting (index into `meets`), and, when a later point
/// does not meet, the first such point: the answer then is not a
/// threshold (noise, or a parameter whose effect turns around).
pub fn first_and_break(meets: &[bool]) -> (Option<usize>, Option<usize>) {
    let first = meets.iter().position(|&m| m);
    let broken = first.and_then(|f| meets[f..].iter().position(|&m| !m).map(|k| f + k));
    (first, broken)
}

/// `sweep.csv`: the swept fields' values, then the report's summary
/// columns, then per availability objective the fraction of whole windows
/// that met it (`met_fraction`, or `met_fraction_1`, `met_fraction_2`, …
/// with several objectives).
pub fn sweep_csv(points: &[Point], paths: &[String], objectives: usize) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = paths.to_vec();
    header.extend(crate::report::CSV_COLUMNS.iter().map(|s| s.to_string()));
    for j in 0..objectives {
        header.push(if objectives == 1 {
            "met_fraction".to_string()
        } else {
            format!("met_fraction_{}", j + 1)
        });
    }
    let _ = w.write_record(&header);
    for p in points {
        let mut row = p.settings.clone();
        row.extend(p.report.csv_row());
        for j in 0..objectives {
            row.push(met_fraction(&p.report, j).map_or(String::new(), |m| m.to_string()));
        }
        let _ = w.write_record(&row);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_parse_as_lists_and_ranges() {
        assert_eq!(
            parse_values("1..4").unwrap(),
            vec![json!(1), json!(2), json!(3), json!(4)]
        );
        assert_eq!(
            parse_values("0.5..1.5:0.5").unwrap(),
            vec![json!(0.5), json!(1.0), json!(1.5)]
        );
        assert_eq!(
            parse_values("8h, 24h").unwrap(),
            vec![json!("8h"), json!("24h")]
        );
        assert_eq!(parse_values("2,4.5").unwrap(), vec![json!(2), json!(4.5)]);
        assert!(parse_values("5..1").is_err());
        assert!(parse_values("1..5:0").is_err());
        assert!(parse_values("").is_err());
    }

    #[test]
    fn sweep_values_refuse_nan_infinity_and_empty_items() {
        for bad in [
            "NaN", "nan", "inf", "-inf", "1e400", "1,,2", "1,", ",1", "1,NaN",
        ] {
            let e = parse_values(bad).expect_err(bad);
            assert!(e.contains('"'), "{bad}: {e}");
        }
        assert!(parse_values("1,,2").unwrap_err().contains("empty value"));
        assert!(parse_values("NaN").unwrap_err().contains("finite"));
        assert!(parse_values("NaN..2").is_err());
        assert_eq!(overridden_by_option("simulation.seed"), Some("--seed"));
        assert_eq!(overridden_by_option("components.a.mttr"), None);
    }

    #[test]
    fn grids_take_every_combination_first_field_slowest() {
        let axes = vec![
            ("a".to_string(), vec![json!(1), json!(2)]),
            ("b".to_string(), vec![json!("x"), json!("y"), json!("z")]),
        ];
        let g = grid(&axes);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], vec![json!(1), json!("x")]);
        assert_eq!(g[2], vec![json!(1), json!("z")]);
        assert_eq!(g[3], vec![json!(2), json!("x")]);
    }

    #[test]
    fn non_monotone_answers_are_flagged() {
        assert_eq!(first_and_break(&[false, true, true]), (Some(1), None));
        assert_eq!(
            first_and_break(&[false, true, false, true]),
            (Some(1), Some(2))
        );
        assert_eq!(first_and_break(&[false, false]), (None, None));
    }

    #[test]
    fn paths_set_fields_outside_system() {
        let mut doc =
            json!({ "components": { "web": { "count": 2 } }, "common_cause": [ { "mttr": 1 } ] });
        set_path(&mut doc, "components.web.count", &json!(5)).unwrap();
        set_path(&mut doc, "simulation.horizon", &json!("1y")).unwrap();
        assert_eq!(doc["simulation"]["horizon"], json!("1y"));
        set_path(&mut doc, "common_cause[0].mttr", &json!("2h")).unwrap();
        assert_eq!(doc["components"]["web"]["count"], json!(5));
        assert_eq!(doc["common_cause"][0]["mttr"], json!("2h"));
        assert!(set_path(&mut doc, "components.wbe.count", &json!(1))
            .unwrap_err()
            .contains("components.wbe"));
        assert!(parse_set("system=1").is_err());
        assert!(parse_set("system.k_of_n.k=1,2").is_ok());
        let mut sys =
            json!({ "system": { "series": ["a", { "standby": { "units": ["b", "c"] } }] } });
        set_path(&mut sys, "system.series[1].standby.failover", &json!("5m")).unwrap();
        assert_eq!(
            sys["system"]["series"][1]["standby"]["failover"],
            json!("5m")
        );
        assert_eq!(parse_set("crews.ops.size=1,2").unwrap().1.len(), 2);
    }
}
