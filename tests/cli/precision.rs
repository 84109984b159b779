//! Precision targets (SPEC §7): runs stop at a round end once the interval
//! of the unavailability is narrow enough, the same way on any thread count
//! and across shards, and bad targets are refused.

use std::path::Path;

use serde_json::Value;

use crate::util::*;

/// 1-of-2 with dedicated repair, MTBF 2,000 h, MTTR 4 h: U = u², u = 4/2004
/// (structure function; about 0.017 outages per year, so a 10% target
/// takes tens of thousands of replication-years: several rounds).
const PAIR: &str = r#"{
  "name": "pair",
  "simulation": { "horizon": "1y", "seed": 5 },
  "components": { "unit": { "count": 2, "mtbf": "2000h", "mttr": "4h" } },
  "system": { "parallel": ["unit"] }
}"#;

fn pair_exact() -> f64 {
    let u = 4.0 / 2004.0;
    u * u
}

fn report(d: &Dir, name: &str, args: &[&str]) -> Value {
    let file = d.path().join(format!("{name}.json"));
    if !file.exists() {
        std::fs::write(&file, PAIR).unwrap();
    }
    let mut all = vec!["run", file.to_str().unwrap(), "--quiet", "--no-plots"];
    all.extend_from_slice(args);
    let o = d.run(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    read(&d.path().join("output/pair/report.json"))
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A report without what may differ between runs of one seed.
fn comparable(mut v: Value) -> Value {
    let sim = v["simulation"].as_object_mut().unwrap();
    for key in ["threads", "wall_seconds", "events_per_second"] {
        sim.remove(key);
    }
    v
}

/// Unavailability, its 95% half-width relative to it, and its standard
/// error, from the availability block.
fn unavailability(r: &Value) -> (f64, f64, f64) {
    let a = &r["availability"];
    let u = 1.0 - a["mean"].as_f64().unwrap();
    let lo = a["ci95"][0].as_f64().unwrap();
    let hi = a["ci95"][1].as_f64().unwrap();
    (u, (hi - lo) / 2.0 / u, a["std_error"].as_f64().unwrap())
}

#[test]
fn a_plain_precision_run_reaches_the_target_and_covers_the_exact_value() {
    let d = Dir::new();
    let r = report(&d, "pair", &["--precision", "10%", "--method", "plain"]);
    let s = &r["simulation"];
    assert_eq!(s["method"], "plain");
    assert_eq!(s["stopped_by"], "precision");
    assert_eq!(s["precision"], 0.1);
    assert!(s["rounds"].as_u64().unwrap() >= 3, "{s}");
    assert!(s["diagnostics"].is_null());
    let (u, rhw, se) = unavailability(&r);
    assert!(rhw <= 0.1, "relative half-width {rhw}");
    let exact = pair_exact();
    assert!(
        (u - exact).abs() < 4.5 * se,
        "U = {u:e} ± {se:e} vs exact {exact:e}"
    );
    // The replications run end a round: 4,096 × (1, 3, 6, 11, 19, 31, ...).
    let n = s["replications"].as_u64().unwrap();
    let ends: Vec<u64> = [1, 3, 6, 11, 19, 31, 49, 76, 117]
        .iter()
        .map(|k| k * 4096)
        .collect();
    assert!(ends.contains(&n), "{n} replications is not a round end");
    let rounds = s["rounds"].as_u64().unwrap() as usize;
    assert_eq!(n, ends[rounds - 1]);
    // Not far past the target either: the rule must hold on two rounds in
    // a row, so past the minimum of three rounds and one more, the round
    // two before the last did not reach it, and the work grew since by
    // ends[r]/ends[r-2] (with some slack for the noise of the estimate).
    if rounds > 4 {
        let grown = ends[rounds - 1] as f64 / ends[rounds - 3] as f64;
        assert!(
            rhw > 0.8 * 0.1 / grown.sqrt(),
            "overshot: {rhw} after {rounds} rounds"
        );
    }
}

#[test]
fn a_precision_run_reports_what_the_same_replications_report() {
    let d = Dir::new();
    let r = report(&d, "pair", &["--precision", "0.2", "--method", "plain"]);
    assert_eq!(r["simulation"]["stopped_by"], "precision");
    let n = r["simulation"]["replications"]
        .as_u64()
        .unwrap()
        .to_string();
    let plain = report(&d, "pair", &["--replications", &n]);
    let (mut a, mut b) = (comparable(r), comparable(plain));
    for v in [&mut a, &mut b] {
        let sim = v["simulation"].as_object_mut().unwrap();
        for key in ["stopped_by", "precision", "rounds", "notes"] {
            sim.remove(key);
        }
        // The cap given on the command line is part of the scenario hash.
        v.as_object_mut().unwrap().remove("scenario_hash");
    }
    assert_eq!(a, b);
}

#[test]
fn precision_runs_give_the_same_report_on_any_thread_count() {
    let d = Dir::new();
    let one = report(&d, "pair", &["--precision", "20%", "--threads", "1"]);
    let two = report(&d, "pair", &["--precision", "20%", "--threads", "2"]);
    assert_eq!(one["simulation"]["stopped_by"], "precision");
    assert_eq!(comparable(one), comparable(two));
}

#[test]
fn sharded_precision_runs_merge_into_the_whole_run() {
    let d = Dir::new();
    let whole = report(&d, "pair", &["--precision", "15%", "--threads", "1"]);
    assert_eq!(whole["simulation"]["stopped_by"], "precision");
    let file = d.path().join("pair.json");
    for i in 0..3 {
        let shard = format!("{i}/3");
        let o = d.run(&[
            "run",
            file.to_str().unwrap(),
            "--precision",
            "15%",
            "--shard",
            &shard,
            "--quiet",
            "--out",
            "parts",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = d.run(&[
        "merge",
        "parts/pair/part-0-of-3.json",
        "parts/pair/part-1-of-3.json",
        "parts/pair/part-2-of-3.json",
        "-o",
        "merged/report.json",
        "--quiet",
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let merged = read(&d.path().join("merged/report.json"));
    assert_eq!(comparable(whole), comparable(merged));
    // A part missing is refused.
    let o = d.run(&[
        "merge",
        "parts/pair/part-0-of-3.json",
        "parts/pair/part-2-of-3.json",
        "-o",
        "merged/report.json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_time_limit_stops_at_a_round_end_and_says_so() {
    let d = Dir::new();
    let r = report(
        &d,
        "pair",
        &[
            "--precision",
            "0.1%",
            "--method",
            "plain",
            "--time-limit",
            "1ms",
        ],
    );
    let s = &r["simulation"];
    assert_eq!(s["stopped_by"], "time-limit");
    let notes = s["notes"].to_string();
    assert!(notes.contains("speed of the machine"), "{notes}");
    assert_eq!(s["replications"].as_u64().unwrap() % 4096, 0);
}

#[test]
fn a_cap_stops_a_precision_run() {
    let d = Dir::new();
    let r = report(
        &d,
        "pair",
        &["--precision", "1%", "--max-replications", "5000"],
    );
    let s = &r["simulation"];
    assert_eq!(s["stopped_by"], "replications");
    assert_eq!(s["replications"], 5000);
    assert!(s["notes"]
        .to_string()
        .contains("before the precision target"));
}

#[test]
fn without_a_precision_target_runs_are_as_before() {
    let d = Dir::new();
    let r = report(&d, "pair", &["--replications", "300"]);
    let s = &r["simulation"];
    assert_eq!(s["method"], "plain");
    assert_eq!(s["stopped_by"], "replications");
    assert!(s["precision"].is_null() && s["rounds"].is_null());
    assert_eq!(s["replications"], 300);
}

#[test]
fn bad_precision_targets_and_methods_are_clear_errors() {
    let d = Dir::new();
    let file = d.write("pair.json", PAIR);
    let file = file.to_str().unwrap();
    for (args, expect) in [
        (vec!["--precision", "0"], "--precision"),
        (vec!["--precision", "1.5"], "between 0 and 1"),
        (vec!["--precision", "abc"], "10%"),
        (vec!["--precision=-5%"], "between 0 and 1"),
        (vec!["--method", "fast"], "plain, rare-event or auto"),
        (vec!["--time-limit", "0"], "positive"),
        (vec!["--time-limit", "soon"], "--time-limit"),
        (vec!["--time-limit", "10s"], "add --precision"),
    ] {
        let mut all = vec!["run", file, "--quiet"];
        all.extend_from_slice(&args);
        let o = d.run(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
    }
    for (field, value, expect) in [
        ("precision", "1.5", "between 0 and 1"),
        ("precision", "\"ten\"", "10%"),
        ("precision", "0", "between 0 and 1"),
        ("method", "\"fast\"", "plain, rare-event or auto"),
    ] {
        let text = PAIR.replace(
            r#""seed": 5 }"#,
            &format!(r#""seed": 5, "{field}": {value} }}"#),
        );
        let bad = d.write("bad.json", &text);
        let o = d.run(&["run", bad.to_str().unwrap(), "--quiet"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{field}={value}: {err}");
        assert!(err.contains("bad.json"), "{err}");
        assert!(err.contains(&format!("simulation.{field}")), "{err}");
        assert!(err.contains(expect), "{err}");
    }
    // In the scenario, a percentage is fine too.
    let text = PAIR.replace(r#""seed": 5 }"#, r#""seed": 5, "precision": "25%" }"#);
    let good = d.write("good.json", &text);
    let o = d.run(&["run", good.to_str().unwrap(), "--quiet", "--no-plots"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_pilot_without_outages_refuses_an_unbounded_plain_run() {
    // U ≈ 1.6e-11: the pilot sees nothing, so a plain run cannot project
    // its work; without a cap or a time limit it is refused up front.
    let d = Dir::new();
    let rare = PAIR.replace("2000h", "2000000h");
    let file = d.write("rare.json", &rare);
    let o = d.run(&[
        "run",
        file.to_str().unwrap(),
        "--precision",
        "10%",
        "--method",
        "plain",
        "--quiet",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("simulation.precision"), "{err}");
    assert!(err.contains("no system outage"), "{err}");
    // Nor can such a pilot plan the rounds of a sharded run.
    let o = d.run(&[
        "run",
        file.to_str().unwrap(),
        "--precision",
        "10%",
        "--method",
        "plain",
        "--shard",
        "0/2",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("rare.json"), "{}", stderr(&o));
}

#[test]
fn the_rare_event_method_is_used_or_refused_before_running() {
    let d = Dir::new();
    let file = d.write("pair.json", PAIR);
    let o = d.run(&[
        "run",
        file.to_str().unwrap(),
        "--precision",
        "30%",
        "--method",
        "rare-event",
        "--quiet",
        "--no-plots",
    ]);
    if o.status.success() {
        let r = read(&d.path().join("output/pair/report.json"));
        let s = &r["simulation"];
        assert!(["importance-sampling", "splitting"].contains(&s["method"].as_str().unwrap()));
        assert!(s["diagnostics"].is_object());
        assert!(r["transient"].is_null() && r["objectives"].is_null());
        assert!(r["downtime_hours_per_year"]["p99"].is_null());
        assert!(r["components"].is_null() && r["first_failure"].is_null());
        // Rounds are the unit: the same report on another thread count.
        let o = d.run(&[
            "run",
            file.to_str().unwrap(),
            "--precision",
            "30%",
            "--method",
            "rare-event",
            "--threads",
            "1",
            "--quiet",
            "--no-plots",
            "--out",
            "one",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let one = read(&d.path().join("one/pair/report.json"));
        assert_eq!(comparable(r), comparable(one));
    } else {
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("simulation.method"), "{}", stderr(&o));
    }
}

#[test]
fn batch_and_sweep_take_a_precision_target() {
    let d = Dir::new();
    let file = d.write("pair.json", PAIR);
    let o = d.run(&[
        "batch",
        file.to_str().unwrap(),
        "--precision",
        "30%",
        "--method",
        "plain",
        "--quiet",
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = read(&d.path().join("output/pair/report.json"));
    assert_eq!(r["simulation"]["stopped_by"], "precision");
    assert_eq!(r["simulation"]["precision"], 0.3);
    let o = d.run(&[
        "sweep",
        file.to_str().unwrap(),
        "--set",
        "components.unit.mttr=4h,8h",
        "--precision",
        "30%",
        "--quiet",
        "--no-plots",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reports: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert_eq!(r["simulation"]["precision"], 0.3);
        assert_ne!(r["simulation"]["stopped_by"], "time-limit");
    }
}
