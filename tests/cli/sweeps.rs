//! Issue 14 item 5: sweeps judge window objectives by the fraction of
//! windows met, targets on exact unavailability, flag non-monotone answers,
//! sweep grids and fields inside `system`.

use crate::util::{stderr, stdout, Dir};

/// One component, MTBF 50 000 h, MTTR 20 h (exponential): U = 20/50 020 =
/// 4.0e-4, so the long-run availability meets 0.999. But a 30-day window
/// fails the 0.999 objective whenever an outage longer than 0.72 h falls in
/// it: P ≥ (1 − e^{−719.28/50 000})·e^{−0.72/20} = 0.0138, so at most 98.6%
/// of windows meet it, below the 99% required. Two in parallel:
/// U = (20/50 020)² = 1.6e-7 and a window fails only if both are down at
/// once (P < 720 · 2/50 000 · 4e-4 ≈ 1.2e-5), so it meets both.
#[test]
fn window_objectives_are_judged_by_met_fraction_and_targets_by_exact_unavailability() {
    let d = Dir::new();
    d.write(
        "one.json",
        r#"{ "name": "one", "simulation": { "horizon": "10y", "replications": 200, "seed": 3 },
             "components": { "db": { "count": 1, "mtbf": "50000h", "mttr": "20h" } },
             "system": { "parallel": ["db"] },
             "objectives": [ { "availability": 0.999, "window": "30d" } ] }"#,
    );
    let o = d.run(&[
        "sweep",
        "one.json",
        "--set",
        "components.db.count=1,2",
        "--target",
        "0.999",
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("first value meeting objective 0.999 / 30 d: components.db.count = 2"),
        "{out}"
    );
    assert!(
        out.contains("first value meeting target 0.999: components.db.count = 1   (exact U = 3.99"),
        "{out}"
    );
    assert!(!out.contains("NON-MONOTONE"), "{out}");
    let csv = std::fs::read_to_string(
        d.path()
            .join("output/one/sweep-components.db.count/sweep.csv"),
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = header
        .iter()
        .position(|h| h == "met_fraction")
        .expect("met_fraction column");
    let met: Vec<f64> = reader
        .records()
        .map(|r| r.unwrap()[col].parse().unwrap())
        .collect();
    assert!(met[0] < 0.99 && met[0] > 0.97, "{met:?}");
    assert!(met[1] > 0.999, "{met:?}");
}

/// Values listed out of order: 3 meets the target (exact U = (20/520)³ =
/// 5.7e-5 ≤ 1e-4), 1 does not (U = 0.038): the answer is flagged.
#[test]
fn a_value_failing_after_the_first_meeting_one_is_flagged_non_monotone() {
    let d = Dir::new();
    d.write(
        "pool.json",
        r#"{ "name": "pool", "simulation": { "horizon": "1y", "replications": 50, "seed": 1 },
             "components": { "web": { "count": 2, "mtbf": "500h", "mttr": "20h" } },
             "system": { "parallel": ["web"] } }"#,
    );
    let o = d.run(&[
        "sweep",
        "pool.json",
        "--set",
        "components.web.count=3,1,4",
        "--target",
        "0.9999",
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("first value meeting target 0.9999: components.web.count = 3"),
        "{out}"
    );
    assert!(
        out.contains("NON-MONOTONE: components.web.count = 1 does not meet target 0.9999"),
        "{out}"
    );
}

/// A grid over a count and a field inside `system` (k of a k_of_n): every
/// combination runs, each with the exact k-of-n availability
/// Σ_{j≥k} C(n,j) a^j (1−a)^{n−j}, a = 500/520.
#[test]
fn a_grid_sweeps_every_combination_including_paths_into_system() {
    let d = Dir::new();
    d.write(
        "kn.json",
        r#"{ "name": "kn", "simulation": { "horizon": "1y", "replications": 40, "seed": 2 },
             "components": { "web": { "count": 3, "mtbf": "500h", "mttr": "20h" } },
             "system": { "k_of_n": { "k": 1, "of": ["web"] } } }"#,
    );
    let o = d.run(&[
        "sweep",
        "kn.json",
        "--set",
        "components.web.count=3,4",
        "--set",
        "system.k_of_n.k=1..3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = d
        .path()
        .join("output/kn/sweep-components.web.count+system.k_of_n.k");
    let a: f64 = 500.0 / 520.0;
    let choose = |n: u64, j: u64| (0..j).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64);
    for n in 3..=4u64 {
        for k in 1..=3u64 {
            let r: availsim::Report = serde_json::from_str(
                &std::fs::read_to_string(dir.join(format!("{n}_{k}/report.json"))).unwrap(),
            )
            .unwrap();
            let exact: f64 = (k..=n)
                .map(|j| choose(n, j) * a.powi(j as i32) * (1.0 - a).powi((n - j) as i32))
                .sum();
            let got = r.analytic.steady_state.unwrap();
            assert!((got - exact).abs() < 1e-12, "n={n} k={k}: {got} vs {exact}");
        }
    }
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.starts_with("components.web.count,system.k_of_n.k,scenario,"));
    assert!(csv.lines().nth(1).unwrap().starts_with("3,1,kn,"));
    for k in 1..=3 {
        assert!(
            dir.join(format!("plot-{k}/sweep.png")).is_file(),
            "plot for k = {k}"
        );
    }
    assert!(stdout(&o).contains("components.web.count=4, system.k_of_n.k=2"));
    let o = d.run(&[
        "sweep",
        "kn.json",
        "--set",
        "system.k_of_n.k=1,2",
        "--set",
        "system.k_of_n.k=3",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("swept twice"), "{}", stderr(&o));
}
