//! The simulation against exact answers derived here, independently of the
//! engine (REFERENCE.md formulas, Simpson integration of point
//! availabilities). Fixed seeds; tolerances of 4.5 standard errors.

use availsim::Report;

use crate::util::*;

/// One exponential unit, MTBF 100 h, MTTR 10 h, over [0, 500 h]: the
/// interval availability μ/(λ+μ) + λ/((λ+μ)²T)·(1 − e^{−(λ+μ)T}).
#[test]
fn single_exponential_component_matches_interval_availability() {
    for r in simulate_both(
        r#"{ "simulation": { "horizon": "500h", "replications": 160000, "seed": 1 },
             "components": { "a": { "mtbf": "100h", "mttr": "10h" } },
             "system": "a" }"#,
    ) {
        single_unit_checks(&r);
    }
}

fn single_unit_checks(r: &Report) {
    let (l, m, t): (f64, f64, f64) = (0.01, 0.1, 500.0);
    let exact = m / (l + m) + l / ((l + m) * (l + m) * t) * (1.0 - (-(l + m) * t).exp());
    let a = &r.availability;
    assert_within("single unit", a.mean, a.std_error, exact, 4.5, 5e-4);
    // The test has the power to tell the interval value from the steady
    // state, which differs by 0.00165: their acceptance bands do not overlap,
    // and the simulation sits well outside the steady state's.
    let steady = m / (l + m);
    assert!((exact - steady).abs() > 2.0 * 4.5 * a.std_error);
    assert!(
        (a.mean - steady).abs() > 4.5 * a.std_error,
        "cannot tell interval from steady state"
    );
    // Ebeling-style consistency: the component's own availability is the system's.
    assert_eq!(r.components.as_ref().unwrap()[0].availability, a.mean);
}

/// Three identical exponential units, 2 of 3 needed: the system's point
/// availability is 3A(t)² − 2A(t)³, integrated over [0, T].
#[test]
fn two_of_three_matches_exact_interval_availability() {
    let [r, events] = simulate_both(
        r#"{ "simulation": { "horizon": "300h", "replications": 20000, "seed": 2 },
             "components": { "n": { "count": 3, "mtbf": "100h", "mttr": "20h" } },
             "system": { "k_of_n": { "k": 2, "of": ["n"] } } }"#,
    );
    let exact = two_of_three_interval(100.0, 20.0, 300.0, 20_000);
    for r in [r, events] {
        let a = &r.availability;
        assert_within("2-of-3", a.mean, a.std_error, exact, 4.5, 1e-3);
    }
}

/// Expected availability over [0, `horizon`] of 2 of 3 identical
/// exponential units from all up: 3A(t)² − 2A(t)³ integrated (Simpson,
/// `steps` intervals).
fn two_of_three_interval(mtbf: f64, mttr: f64, horizon: f64, steps: usize) -> f64 {
    let f = |t| {
        let a = point_availability(mtbf, mttr, t);
        3.0 * a * a - 2.0 * a * a * a
    };
    interval_mean(f, 0.0, horizon, steps)
}

/// Two parallel pairs in series, Weibull (shape 2, mean 800 h) failures and
/// lognormal (mean 12 h, cv 1) repairs: the structure function at
/// a = 800/812 is (1 − (1 − a)²)². A 10,000 h warmup removes the start-up
/// transient (over ten renewal cycles of a shape-2 Weibull).
#[test]
fn series_of_parallel_pairs_with_weibull_and_lognormal_matches_structure_function() {
    for r in simulate_both(
        r#"{ "simulation": { "horizon": "110000h", "warmup": "10000h", "replications": 3000, "seed": 3 },
             "components": {
               "a": { "count": 2,
                      "failure": { "dist": "weibull", "shape": 2, "mean": "800h" },
                      "repair": { "dist": "lognormal", "mean": "12h", "cv": 1 } },
               "b": { "count": 2,
                      "failure": { "dist": "weibull", "shape": 2, "mean": "800h" },
                      "repair": { "dist": "lognormal", "mean": "12h", "cv": 1 } } },
             "system": { "series": [ { "parallel": ["a"] }, { "parallel": ["b"] } ] } }"#,
    ) {
        series_of_pairs_checks(&r);
    }
}

fn series_of_pairs_checks(r: &Report) {
    let unit = 800.0 / 812.0;
    let pair = 1.0 - (1.0 - unit) * (1.0 - unit);
    let exact = pair * pair;
    let a = &r.availability;
    assert_within("series of pairs", a.mean, a.std_error, exact, 4.5, 2e-5);
    for c in r.components.iter().flatten() {
        assert!(
            (c.availability - unit).abs() < 1e-3,
            "{}: {} vs {unit}",
            c.name,
            c.availability
        );
    }
}

/// An instance in two paths: series(parallel(a, b), parallel(a, c)). By
/// conditioning on a, the point availability is
/// A_a + (1 − A_a)·A_b·A_c (exact at every t, since units are independent).
#[test]
fn instance_repeated_in_two_paths_matches_exact_answer() {
    for r in simulate_both(
        r#"{ "simulation": { "horizon": "400h", "replications": 20000, "seed": 4 },
             "components": {
               "a": { "mtbf": "50h", "mttr": "10h" },
               "b": { "mtbf": "80h", "mttr": "20h" },
               "c": { "mtbf": "60h", "mttr": "15h" } },
             "system": { "series": [ { "parallel": ["a", "b"] }, { "parallel": ["a", "c"] } ] } }"#,
    ) {
        repeated_instance_checks(&r);
    }
}

fn repeated_instance_checks(r: &Report) {
    let exact = interval_mean(
        |t| {
            let (pa, pb, pc) = (
                point_availability(50.0, 10.0, t),
                point_availability(80.0, 20.0, t),
                point_availability(60.0, 15.0, t),
            );
            pa + (1.0 - pa) * pb * pc
        },
        0.0,
        400.0,
        20_000,
    );
    let a = &r.availability;
    assert_within("repeated instance", a.mean, a.std_error, exact, 4.5, 1e-3);
    // Counting `a` as two independent units would give a visibly wrong answer.
    let wrong = interval_mean(
        |t| {
            let (pa, pb, pc) = (
                point_availability(50.0, 10.0, t),
                point_availability(80.0, 20.0, t),
                point_availability(60.0, 15.0, t),
            );
            (1.0 - (1.0 - pa) * (1.0 - pb)) * (1.0 - (1.0 - pa) * (1.0 - pc))
        },
        0.0,
        400.0,
        20_000,
    );
    assert!((a.mean - wrong).abs() > 4.5 * a.std_error);
}

/// The A(t) grid of one exponential unit: every point within 4.5 binomial
/// standard errors of μ/(λ+μ) + λ/(λ+μ)e^{−(λ+μ)t}; t = 0 exactly 1.
#[test]
fn transient_grid_matches_point_availability() {
    for r in simulate_both(
        r#"{ "simulation": { "horizon": "60h", "replications": 20000, "seed": 5, "transient_points": 121 },
             "components": { "a": { "mtbf": "10h", "mttr": "5h" } },
             "system": "a" }"#,
    ) {
        grid_checks(&r);
    }
}

fn grid_checks(r: &Report) {
    let reps = 20_000.0;
    let tr = r.transient.as_ref().unwrap();
    assert_eq!(tr.time_hours.len(), 121);
    assert_eq!(tr.time_hours[0], 0.0);
    assert_eq!(tr.time_hours[120], 60.0);
    assert!((tr.time_hours[1] - 0.5).abs() < 1e-12);
    assert_eq!(tr.availability[0], 1.0);
    for (t, a) in tr.time_hours.iter().zip(&tr.availability).skip(1) {
        let p = point_availability(10.0, 5.0, *t);
        let se = (p * (1.0 - p) / reps).sqrt();
        assert!(
            (a - p).abs() <= 4.5 * se,
            "A({t}) = {a}, exact {p}, se {se}"
        );
    }
    // Early points are far from the steady state 2/3: the grid really
    // follows the transient.
    assert!(tr.availability[4] > 0.8);
}

/// The pool benchmark workload through the CLI against REFERENCE.md's exact
/// interval availability.
#[test]
fn pool_workload_matches_reference_through_the_cli() {
    let d = Dir::new();
    let file = scenarios().join("pool.json");
    let o = d.run(&[
        "run",
        file.to_str().unwrap(),
        "--replications",
        "4000",
        "--format",
        "json",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: availsim::Report = serde_json::from_str(&stdout(&o)).expect("report JSON");
    let a = &r.availability;
    assert_within("pool", a.mean, a.std_error, 0.9999536442, 4.5, 2e-6);
    let per_rep = r.simulation.events as f64 / 4000.0;
    assert!(
        (per_rep - 474.7).abs() < 5.0,
        "{per_rep} events per replication"
    );
    assert!(d.path().join("output/pool/report.json").is_file());
}

/// The pool workload on both engines (the CLI picks the independent one):
/// REFERENCE.md's interval availability, and each instance's own
/// availability against its exact interval value.
#[test]
fn pool_workload_matches_reference_on_both_engines() {
    let text = std::fs::read_to_string(scenarios().join("pool.json")).unwrap();
    let text = text.replace("\"replications\": 10000", "\"replications\": 4000");
    for r in simulate_both(&text) {
        let a = &r.availability;
        assert_within("pool", a.mean, a.std_error, 0.9999536442, 4.5, 2e-6);
        for c in r.components.iter().flatten() {
            let (mtbf, mttr) = match &c.name[..2] {
                "lb" => (50_000.0, 2.0),
                "we" => (2_000.0, 8.0),
                _ => (10_000.0, 24.0),
            };
            let exact = interval_mean(|t| point_availability(mtbf, mttr, t), 0.0, 87_600.0, 20_000);
            // Per-instance figures have no standard error in the report:
            // the renewal-reward variance of one unit's down fraction over
            // T is about 2λμ/((λ+μ)³T).
            let (l, m, t) = (1.0 / mtbf, 1.0 / mttr, 87_600.0);
            let se = (2.0 * l * m / ((l + m).powi(3) * t) / 4000.0).sqrt();
            assert!(
                (c.availability - exact).abs() < 5.0 * se,
                "{} {} vs {exact}",
                c.name,
                c.availability
            );
        }
    }
}

/// A run long enough for the independent engine to cut time into many
/// segments (about 18,000 toggles per replication, 2,048 per segment):
/// 2 of 3 units, against the exact interval availability, on both engines.
#[test]
fn many_segments_match_exact_interval_availability() {
    let [r, events] = simulate_both(
        r#"{ "simulation": { "horizon": "100000h", "replications": 400, "seed": 9 },
             "components": { "n": { "count": 3, "mtbf": "30h", "mttr": "3h" } },
             "system": { "k_of_n": { "k": 2, "of": ["n"] } } }"#,
    );
    let exact = two_of_three_interval(30.0, 3.0, 100_000.0, 200_000);
    for r in [r, events] {
        let a = &r.availability;
        assert_within("2-of-3, long", a.mean, a.std_error, exact, 4.5, 1e-4);
        let per_rep = r.simulation.events as f64 / 400.0;
        let expected = 3.0 * 2.0 * 100_000.0 / 33.0;
        assert!(
            (per_rep / expected - 1.0).abs() < 0.01,
            "{per_rep} toggles per replication"
        );
    }
}

/// Down time, outages and first failure of one unit, checked against renewal
/// theory: outages per year = cycles per year, mean outage = MTTR (clipped),
/// and with a 1-of-1 system the first failure is the unit's first failure.
#[test]
fn outages_and_first_failure_of_one_unit() {
    for r in simulate_both(
        r#"{ "simulation": { "horizon": "2000h", "replications": 20000, "seed": 6 },
             "components": { "a": { "mtbf": "100h", "mttr": "10h" } },
             "system": { "series": ["a"] } }"#,
    ) {
        outage_checks(&r);
    }
}

fn outage_checks(r: &Report) {
    // Exponential first failure with mean 100 h, censored at 2000 h
    // (P = e^-20): the estimate is the sample mean, se = 100/√n.
    let f = r.first_failure.as_ref().unwrap().mttff_hours.unwrap();
    assert_within("MTTFF", f, 100.0 / 20000f64.sqrt(), 100.0, 4.5, 1.0);
    assert_eq!(r.first_failure.as_ref().unwrap().censored_fraction, 0.0);
    // Mean outage duration: exponential repairs, mean 10 h (clipping at the
    // horizon shortens it by less than 0.1%).
    let d = r.outages.mean_duration_hours.unwrap();
    assert!((d - 10.0).abs() < 0.15, "mean outage {d}");
    // Expected failures in [0, T] from up: λμT/(λ+μ) + λ²/(λ+μ)²·(1 − e^{−(λ+μ)T}).
    // Renewal theory: var N(T) ≈ T·σ²/m³ = 2000·10100/110³ = 15.2, so the
    // standard error per year is √(15.2/20000)·8760/2000 = 0.121.
    let (l, m, t): (f64, f64, f64) = (0.01, 0.1, 2000.0);
    let failures = l * m * t / (l + m) + (l / (l + m)).powi(2) * (1.0 - (-(l + m) * t).exp());
    let per_year = failures * 8760.0 / t;
    assert_within(
        "outages per year",
        r.outages.per_year.unwrap(),
        0.121,
        per_year,
        4.5,
        0.2,
    );
    assert!((r.downtime_hours_per_year.mean - 8760.0 * (1.0 - r.availability.mean)).abs() < 1e-9);
    assert!((r.components.as_ref().unwrap()[0].downtime_share - 1.0).abs() < 1e-12);
}

/// A group of twelve identical exponential units, 9 needed: the event-queue
/// engine runs it as one superposed process (sim/group.rs); the exact interval
/// availability integrates the binomial tail of A(t).
#[test]
fn large_group_of_identical_units_matches_binomial_interval_availability() {
    let [r, events] = simulate_both(
        r#"{ "simulation": { "horizon": "400h", "replications": 20000, "seed": 7 },
             "components": { "n": { "count": 12, "mtbf": "60h", "mttr": "10h" },
                             "x": { "mtbf": "1000h", "mttr": "2h" } },
             "system": { "series": ["x", { "k_of_n": { "k": 9, "of": ["n"] } }] } }"#,
    );
    let tail = |p: f64| -> f64 {
        let mut c = 1.0; // C(12, j), from j = 0
        let mut sum = 0.0;
        for j in 0..=12 {
            if j >= 9 {
                sum += c * p.powi(j) * (1.0 - p).powi(12 - j);
            }
            c = c * f64::from(12 - j) / f64::from(j + 1);
        }
        sum
    };
    let exact = interval_mean(
        |t| point_availability(1000.0, 2.0, t) * tail(point_availability(60.0, 10.0, t)),
        0.0,
        400.0,
        20_000,
    );
    for r in [r, events] {
        let a = &r.availability;
        assert_within("9 of 12", a.mean, a.std_error, exact, 4.5, 1e-3);
        // Each member's own availability is still tracked: 60/70 in the
        // long run.
        for c in r
            .components
            .iter()
            .flatten()
            .filter(|c| c.name.starts_with("n["))
        {
            assert!(
                (c.availability - 60.0 / 70.0).abs() < 0.01,
                "{}: {}",
                c.name,
                c.availability
            );
        }
    }
}
