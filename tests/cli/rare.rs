//! The rare-event method (SPEC §7) against exact values derived here:
//! the structure function for the shipped quorum, a birth–death chain for
//! a 2-of-4 group with one crew; same report on any thread count.

use std::path::Path;

use serde_json::Value;

use crate::util::*;

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs `file` to `precision` on `threads` threads; the report.
fn run(d: &Dir, file: &Path, precision: &str, threads: &str, out: &str) -> Value {
    let o = d.run(&[
        "run",
        file.to_str().unwrap(),
        "--precision",
        precision,
        "--threads",
        threads,
        "--quiet",
        "--no-plots",
        "--out",
        out,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let name = file.file_stem().unwrap().to_str().unwrap();
    read(&d.path().join(out).join(name).join("report.json"))
}

fn binomial(n: u64, k: u64) -> f64 {
    (1..=k).map(|i| (n - k + i) as f64 / i as f64).product()
}

/// P(more than n − k of n independent units down), each down with
/// probability u.
fn k_of_n_unavailability(n: u64, k: u64, u: f64) -> f64 {
    (n - k + 1..=n)
        .map(|j| binomial(n, j) * u.powi(j as i32) * (1.0 - u).powi((n - j) as i32))
        .sum()
}

/// Steady state of n units with one crew: P(more than n − k failed).
fn birth_death(n: usize, k: usize, lambda: f64, mu: f64) -> f64 {
    let mut p = vec![1.0];
    for j in 1..=n {
        let prev = p[j - 1];
        p.push(prev * (n - j + 1) as f64 * lambda / mu);
    }
    p[n - k + 1..].iter().sum::<f64>() / p.iter().sum::<f64>()
}

/// The unavailability, its 95% interval and relative half-width, from
/// the down hours per year (the report's unavailability block may be
/// absent in rare-event reports of this version).
fn unavailability(r: &Value) -> (f64, [f64; 2], f64) {
    let d = &r["downtime_hours_per_year"];
    let f = |v: &Value| v.as_f64().unwrap() / 8760.0;
    let (mean, ci) = (f(&d["mean"]), [f(&d["ci95"][0]), f(&d["ci95"][1])]);
    (mean, ci, (ci[1] - ci[0]) / (2.0 * mean))
}

#[test]
fn shipped_quorum_at_ten_percent_contains_the_exact_value() {
    let d = Dir::new();
    let r = run(&d, &scenarios().join("quorum.json"), "10%", "2", "out");
    let s = &r["simulation"];
    assert_eq!(s["method"], "importance-sampling");
    assert_eq!(s["stopped_by"], "precision");
    let (mean, ci, rhw) = unavailability(&r);
    // Five nodes, MTBF 4000 h, mean repair 12 h, up while 3 are up.
    let exact = k_of_n_unavailability(5, 3, 12.0 / 4012.0);
    assert!((exact / 2.66e-7 - 1.0).abs() < 0.01, "{exact}");
    assert!(rhw <= 0.1 * (1.0 + 1e-9), "{rhw}");
    assert!(ci[0] <= exact && exact <= ci[1], "{mean} {ci:?} vs {exact}");
    let diag = &s["diagnostics"];
    assert!(diag["effective_sample_size"].as_f64().unwrap() >= 300.0);
    assert!(diag["hit_fraction"].as_f64().unwrap() > 0.0);
    // Figures the method does not estimate are null.
    assert!(r["transient"].is_null() && r["objectives"].is_null());
    assert!(r["downtime_hours_per_year"]["p50"].is_null());
    assert!(r["first_failure"].is_null() && r["components"].is_null());
    assert!(r["outages"]["per_year"].as_f64().unwrap() > 0.0);
}

#[test]
fn two_of_four_with_one_crew_matches_the_chain_on_any_thread_count() {
    let d = Dir::new();
    let file = d.write(
        "quad.json",
        r#"{ "name": "quad", "simulation": { "horizon": "1y", "seed": 21, "method": "rare-event" },
        "components": { "u": { "count": 4, "mtbf": 10000, "mttr": 1, "crew": "c" } },
        "crews": { "c": { "size": 1 } },
        "system": { "k_of_n": { "k": 2, "of": ["u"] } } }"#,
    );
    let one = run(&d, &file, "15%", "1", "one");
    let two = run(&d, &file, "15%", "2", "two");
    assert_eq!(one["availability"], two["availability"]);
    assert_eq!(
        one["downtime_hours_per_year"],
        two["downtime_hours_per_year"]
    );
    assert_eq!(
        one["simulation"]["diagnostics"],
        two["simulation"]["diagnostics"]
    );
    let (mean, ci, _) = unavailability(&one);
    let exact = birth_death(4, 2, 1e-4, 1.0);
    assert!((exact / 2.399280e-11 - 1.0).abs() < 1e-5);
    // 4.5 standard errors: a correct estimator fails this 1 in 150,000.
    let se = (ci[1] - ci[0]) / 3.92;
    assert!((mean - exact).abs() < 4.5 * se, "{mean} ± {se} vs {exact}");
}

/// A report without what may differ between runs of one seed (threads
/// and timing).
fn comparable(mut v: Value) -> Value {
    let sim = v["simulation"].as_object_mut().unwrap();
    for key in ["threads", "wall_seconds", "events_per_second"] {
        sim.remove(key);
    }
    v
}

const QUAD_E3: &str = r#"{ "name": "quad", "simulation": { "horizon": "1y", "seed": 8, "method": "rare-event" },
    "components": { "u": { "count": 4, "mtbf": 1000, "mttr": 1, "crew": "c" } },
    "crews": { "c": { "size": 1 } },
    "system": { "k_of_n": { "k": 2, "of": ["u"] } } }"#;

#[test]
fn a_rare_event_precision_run_is_the_same_on_any_thread_count_and_across_shards() {
    let d = Dir::new();
    let file = d.write("quad.json", QUAD_E3);
    let one = run(&d, &file, "12%", "1", "one");
    let two = run(&d, &file, "12%", "2", "two");
    assert_eq!(one["simulation"]["stopped_by"], "precision");
    assert_eq!(one["simulation"]["method"], "importance-sampling");
    assert_eq!(comparable(one.clone()), comparable(two));
    for i in 0..3 {
        let shard = format!("{i}/3");
        let o = d.run(&[
            "run",
            file.to_str().unwrap(),
            "--precision",
            "12%",
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
        "parts/quad/part-0-of-3.json",
        "parts/quad/part-1-of-3.json",
        "parts/quad/part-2-of-3.json",
        "-o",
        "merged/report.json",
        "--quiet",
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let merged = read(&d.path().join("merged/report.json"));
    assert_eq!(comparable(one.clone()), comparable(merged));
    // And the estimate is right: the chain's exact value within 4.5
    // standard errors (a correct estimator fails this 1 in 150,000).
    let (mean, ci, _) = unavailability(&one);
    let exact = birth_death(4, 2, 1e-3, 1.0);
    assert!((exact / 2.392800e-8 - 1.0).abs() < 1e-5, "{exact}");
    let se = (ci[1] - ci[0]) / 3.92;
    assert!((mean - exact).abs() < 4.5 * se, "{mean} ± {se} vs {exact}");
}

#[test]
fn batch_and_sweep_run_the_rare_event_method_to_a_precision() {
    let d = Dir::new();
    let file = d.write("quad.json", QUAD_E3);
    let o = d.run(&[
        "batch",
        file.to_str().unwrap(),
        "--precision",
        "20%",
        "--method",
        "rare-event",
        "--quiet",
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = read(&d.path().join("output/quad/report.json"));
    assert_eq!(r["simulation"]["method"], "importance-sampling");
    assert_eq!(r["simulation"]["stopped_by"], "precision");
    assert_eq!(r["simulation"]["precision"], 0.2);
    assert!(
        r["availability"]["unavailability"]["relative_half_width"]
            .as_f64()
            .unwrap()
            <= 0.2
    );
    let o = d.run(&[
        "sweep",
        file.to_str().unwrap(),
        "--set",
        "components.u.mttr=1h,2h",
        "--precision",
        "20%",
        "--method",
        "rare-event",
        "--quiet",
        "--no-plots",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reports: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert_eq!(r["simulation"]["method"], "importance-sampling");
        assert_eq!(r["simulation"]["stopped_by"], "precision");
        assert_eq!(r["simulation"]["precision"], 0.2);
    }
    // Twice the repair time, about four times the unavailability (two
    // repairs in a row are needed to fail): the sweep ran each point.
    let u = |r: &Value| {
        r["availability"]["unavailability"]["mean"]
            .as_f64()
            .unwrap()
    };
    let ratio = u(&reports[1]) / u(&reports[0]);
    let exact = birth_death(4, 2, 2e-3, 1.0) / birth_death(4, 2, 1e-3, 1.0);
    assert!((ratio / exact - 1.0).abs() < 0.6, "{ratio} vs {exact}");
}

/// `groups` k-of-n disk groups in series, as scenario JSON; `crew`: one
/// repair crew per group.
fn storage(groups: usize, mttr: f64, crew: bool) -> String {
    let names: Vec<String> = (0..groups).map(|g| format!("g{g}")).collect();
    let components: Vec<String> = names
        .iter()
        .map(|g| {
            let crew = if crew {
                format!(r#", "crew": "c{g}""#)
            } else {
                String::new()
            };
            format!(r#""{g}": {{ "count": 8, "mtbf": "100000h", "mttr": "{mttr}h"{crew} }}"#)
        })
        .collect();
    let crews: Vec<String> = names
        .iter()
        .map(|g| format!(r#""c{g}": {{ "size": 1 }}"#))
        .collect();
    let series: Vec<String> = names
        .iter()
        .map(|g| format!(r#"{{ "k_of_n": {{ "k": 6, "of": ["{g}"] }} }}"#))
        .collect();
    format!(
        r#"{{ "name": "storage", "simulation": {{ "horizon": "1y", "seed": 5 }},
        "components": {{ {} }}, {} "system": {{ "series": [{}] }} }}"#,
        components.join(", "),
        if crew {
            format!(r#""crews": {{ {} }},"#, crews.join(", "))
        } else {
            String::new()
        },
        series.join(", ")
    )
}

/// Asserts the run stopped by precision within `target` with a trusted
/// estimate within 4.5 standard errors of `exact` (a correct estimator
/// fails this 1 in 150,000; the seed is fixed).
fn assert_rare_contains(r: &Value, target: f64, exact: f64) {
    let s = &r["simulation"];
    assert_eq!(s["method"], "importance-sampling");
    assert_eq!(s["stopped_by"], "precision", "{s}");
    let (mean, ci, rhw) = unavailability(r);
    assert!(rhw <= target * (1.0 + 1e-9), "{rhw}");
    let se = (ci[1] - ci[0]) / 3.92;
    assert!((mean - exact).abs() < 4.5 * se, "{mean} ± {se} vs {exact}");
    assert!(
        s["diagnostics"]["warnings"].as_array().unwrap().is_empty(),
        "{s}"
    );
}

#[test]
fn multi_group_storage_at_ten_to_the_minus_nine_reaches_ten_percent() {
    // Ten 6-of-8 groups, own repairs: each group down when 3 of 8 disks
    // are, each disk down with probability 12/100012; series of ten.
    let d = Dir::new();
    let file = d.write("storage.json", &storage(10, 12.0, false));
    let r = run(&d, &file, "10%", "1", "own");
    let group = k_of_n_unavailability(8, 6, 12.0 / 100_012.0);
    let exact = -(10.0 * (-group).ln_1p()).exp_m1();
    assert!((exact / 9.668966e-10 - 1.0).abs() < 1e-6, "{exact}");
    assert_rare_contains(&r, 0.1, exact);

    // Five groups with one crew each: a birth–death chain per group.
    let file = d.write("storage.json", &storage(5, 8.0, true));
    let r = run(&d, &file, "10%", "1", "crews");
    let group = birth_death(8, 6, 1e-5, 1.0 / 8.0);
    let exact = -(5.0 * (-group).ln_1p()).exp_m1();
    assert!((exact / 8.599535e-10 - 1.0).abs() < 1e-6, "{exact}");
    assert_rare_contains(&r, 0.1, exact);
}

#[test]
fn shipped_lb_pool_gives_a_real_number_containing_the_exact_value() {
    // Two balancers in parallel (MTBF 30000 h, MTTR 1 h) in front of six
    // web servers (Weibull lives mean 1500 h, lognormal repairs mean 4 h),
    // up while 3 are up: the structure function of the mean-up fractions.
    let d = Dir::new();
    let r = run(&d, &scenarios().join("lb-pool.json"), "20%", "1", "out");
    let lb = 1.0 / 30_001.0;
    let web = k_of_n_unavailability(6, 3, 4.0 / 1504.0);
    let exact = 1.0 - (1.0 - lb * lb) * (1.0 - web);
    assert!((exact / 1.86e-9 - 1.0).abs() < 0.01, "{exact}");
    assert_rare_contains(&r, 0.2, exact);
}

#[test]
fn rare_event_runs_that_could_not_finish_are_refused_before_running() {
    let d = Dir::new();
    // Two units that are almost never both up (MTBF 1 h, MTTR 1e5 h): the
    // cycles from the all-up state never close (hostile round 3: ran
    // without end).
    let file = d.write(
        "never-all-up.json",
        r#"{ "name": "never-all-up", "simulation": { "horizon": "1y", "seed": 1 },
        "components": { "u": { "count": 2, "mtbf": "1h", "mttr": "100000h" } },
        "system": { "parallel": ["u"] } }"#,
    );
    let e = refused(&d, &file, &["--precision", "0.1", "--method", "rare-event"]);
    assert!(
        e.contains("simulation.method") && e.contains("hardly ever returns"),
        "{e}"
    );

    // A precision no run could reach: the pilot projects ~1e11 cycles.
    let file = d.write(
        "tight.json",
        r#"{ "name": "tight", "simulation": { "horizon": "1y", "seed": 1 },
        "components": { "u": { "count": 6, "mtbf": "10000h", "mttr": "8h", "crew": "c" } },
        "crews": { "c": { "size": 2 } },
        "system": { "k_of_n": { "k": 3, "of": ["u"] } } }"#,
    );
    let e = refused(&d, &file, &["--precision", "1e-4"]);
    assert!(
        e.contains("simulation.precision") && e.contains("CPU time"),
        "{e}"
    );
}

/// Runs `file` on one thread with `args`; asserts exit 2 and gives stderr.
fn refused(d: &Dir, file: &Path, args: &[&str]) -> String {
    let mut all = vec![
        "run",
        file.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
        "--no-plots",
    ];
    all.extend_from_slice(args);
    let o = d.run(&all);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    stderr(&o)
}

#[test]
fn lives_with_little_spread_start_out_of_step() {
    // 1-of-3, Weibull shape 5 lives (mean 1000 h), exponential 5 h
    // repairs, own repair: long-run U = (5/1005)³ by insensitivity. Work
    // units that started all new stayed in step through the burn-in and
    // gave intervals that missed (hostile round 3, z +3.1).
    let d = Dir::new();
    let file = d.write(
        "steep.json",
        r#"{ "name": "steep", "simulation": { "horizon": "1y", "seed": 1 },
        "components": { "u": { "count": 3,
            "failure": { "dist": "weibull", "shape": 5, "mean": "1000h" },
            "repair": { "dist": "exponential", "mean": "5h" } } },
        "system": { "parallel": ["u"] } }"#,
    );
    let r = run(&d, &file, "20%", "1", "out");
    let exact = (5.0f64 / 1005.0).powi(3);
    assert_rare_contains(&r, 0.2, exact);
}
