//! Down time of standby and balancer nodes by mechanism, and crew work
//! (issue 14 item 3): exact on deterministic histories worked out by hand,
//! parts that add up to the node's down time, a machine-repairman crew
//! against its birth–death solution, and determinism across threads and
//! shards.

use availsim::report::failover::{Part, StandbyMechanisms};
use availsim::report::Report;
use serde_json::Value;

use crate::util::*;

const HOURS_PER_YEAR: f64 = 8760.0;

/// Length of [a, b] ∩ [lo, hi].
fn clip(a: f64, b: f64, lo: f64, hi: f64) -> f64 {
    (b.min(hi) - a.max(lo)).max(0.0)
}

#[track_caller]
fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

/// The five parts in report order.
fn parts(m: &StandbyMechanisms) -> [Part; 5] {
    [
        m.units_down,
        m.detection,
        m.switchover,
        m.stuck,
        m.manual_recovery,
    ]
}

/// A hot standby pair of deterministic units.
fn pair(a: (f64, f64), b: (f64, f64), standby: &str, horizon: f64, warmup: f64) -> String {
    format!(
        r#"{{ "name": "pair",
  "simulation": {{ "horizon": {horizon}, "warmup": {warmup}, "replications": 3, "seed": 1 }},
  "components": {{
    "a": {{ "failure": {{ "dist": "deterministic", "value": {} }},
           "repair": {{ "dist": "deterministic", "value": {} }} }},
    "b": {{ "failure": {{ "dist": "deterministic", "value": {} }},
           "repair": {{ "dist": "deterministic", "value": {} }} }} }},
  "system": {{ "standby": {{ "units": ["a", "b"], "mode": "hot", {standby} }} }} }}"#,
        a.0, a.1, b.0, b.1
    )
}

/// Checks the report's standby parts (hours per replication over the
/// window) against `want` = [units down, detection, switchover, stuck,
/// manual recovery], and that they add up to the node's and the system's
/// down time.
#[track_caller]
fn assert_parts(r: &Report, want: [f64; 5], window: f64) {
    let f = r.failover.as_ref().expect("failover block");
    assert_eq!(f.standby.len(), 1);
    let s = &f.standby[0];
    assert_eq!(s.node, "system.standby");
    assert_eq!(s.units, ["a", "b"]);
    let per_year = HOURS_PER_YEAR / window;
    let total: f64 = want.iter().sum();
    for ((name, got), w) in [
        "units_down",
        "detection",
        "switchover",
        "stuck",
        "manual_recovery",
    ]
    .iter()
    .zip(parts(&s.mechanisms))
    .zip(want)
    {
        close(name, got.hours_per_year, w * per_year);
        close(&format!("{name} share"), got.share.unwrap(), w / total);
    }
    close(
        "node down time",
        s.downtime_hours_per_year,
        total * per_year,
    );
    close(
        "system down time",
        r.downtime_hours_per_year.mean,
        total * per_year,
    );
}

/// Primary A lives 1000 h and is repaired in 10 h; backup B lives 500 h
/// (hot: it ages while idle) and is repaired in 5000 h; detection takes
/// 1 h, failover nothing. B is up only in [0, 500) + k·5500, and no failure
/// of A (at 1000 + k·1010) falls there before the horizon, so every
/// failure of A costs 1 h of detection and then 9 h with nothing to switch
/// to.
#[test]
fn detection_and_units_down_follow_a_history_worked_out_by_hand() {
    let (life_a, repair_a, life_b, repair_b, det, horizon) =
        (1000.0, 10.0, 500.0, 5000.0, 1.0, 10_000.0);
    let mut want = [0.0; 5];
    let mut f = life_a;
    let mut cycles = 0;
    while f < horizon {
        let b_up = f % (life_b + repair_b) < life_b;
        assert!(!b_up, "the worked example assumes B is down at {f}");
        want[1] += clip(f, f + det, 0.0, horizon);
        want[0] += clip(f + det, f + repair_a, 0.0, horizon);
        f += repair_a + life_a;
        cycles += 1;
    }
    assert_eq!(cycles, 9);
    assert_eq!(want[..2], [81.0, 9.0]);
    let r = simulate(&pair(
        (life_a, repair_a),
        (life_b, repair_b),
        r#""detection": { "dist": "deterministic", "value": 1 }"#,
        horizon,
        0.0,
    ));
    assert_parts(&r, want, horizon);
}

/// A fails at 1000 h; detection 1 h, failover 2 h, and the switch always
/// fails (switch_success 0): stuck until manual recovery 3 h later, which
/// makes B (up) active. A is back at 1100 h as a backup; its next failure
/// is after the horizon.
#[test]
fn a_failed_switch_ended_by_manual_recovery_is_attributed_to_it() {
    let standby = r#""detection": 1, "failover": 2, "switch_success": 0, "manual_recovery": 3"#;
    for warmup in [0.0, 1002.0, 1004.5] {
        let (lo, hi) = (warmup, 1500.0);
        let want = [
            0.0,
            clip(1000.0, 1001.0, lo, hi),
            clip(1001.0, 1003.0, lo, hi),
            0.0,
            clip(1003.0, 1006.0, lo, hi),
        ];
        let r = simulate(&pair((1000.0, 100.0), (1e6, 1.0), standby, hi, lo));
        assert_parts(&r, want, hi - lo);
    }
}

/// The same with manual recovery slower than A's repair: the repair ends
/// the stuck period at 1100 h and A is active again.
#[test]
fn a_failed_switch_ended_by_a_repair_is_stuck() {
    let standby = r#""detection": 1, "failover": 2, "switch_success": 0, "manual_recovery": 200"#;
    let want = [0.0, 1.0, 2.0, 97.0, 0.0];
    let r = simulate(&pair((1000.0, 100.0), (1e6, 1.0), standby, 1500.0, 0.0));
    assert_parts(&r, want, 1500.0);
}

/// A balancer whose `via` (life 110 h, repair 9 h) and pool (two members
/// failing together every 1010 h for 10 h, one needed) are deterministic:
/// the expected split is the interval arithmetic of the two down sets.
#[test]
fn balancer_down_time_splits_into_via_members_and_both_by_hand() {
    let horizon = 3000.0;
    let down = |life: f64, repair: f64| {
        let mut v = Vec::new();
        let mut t = life;
        while t < horizon {
            v.push((t, (t + repair).min(horizon)));
            t += repair + life;
        }
        v
    };
    let (via, pool) = (down(110.0, 9.0), down(1000.0, 10.0));
    let length = |v: &[(f64, f64)]| v.iter().map(|(a, b)| b - a).sum::<f64>();
    let both: f64 = via
        .iter()
        .flat_map(|&(a, b)| pool.iter().map(move |&(c, d)| clip(a, b, c, d)))
        .sum();
    let want = [length(&via) - both, length(&pool) - both, both];
    assert!(both > 0.0 && want[1] > 0.0, "the example covers every part");
    let r = simulate(&format!(
        r#"{{ "name": "bal",
  "simulation": {{ "horizon": {horizon}, "replications": 2, "seed": 1 }},
  "components": {{
    "lb": {{ "failure": {{ "dist": "deterministic", "value": 110 }},
            "repair": {{ "dist": "deterministic", "value": 9 }} }},
    "web": {{ "count": 2, "failure": {{ "dist": "deterministic", "value": 1000 }},
            "repair": {{ "dist": "deterministic", "value": 10 }} }} }},
  "system": {{ "balancer": {{ "via": "lb", "pool": "web", "min_healthy": 1 }} }} }}"#
    ));
    let b = &r.failover.as_ref().unwrap().balancers[0];
    assert_eq!((b.node.as_str(), b.via.as_str()), ("system.balancer", "lb"));
    let per_year = HOURS_PER_YEAR / horizon;
    let m = &b.mechanisms;
    for (name, got, w) in [
        ("via_down", m.via_down, want[0]),
        ("members_down", m.members_down, want[1]),
        ("both", m.both, want[2]),
    ] {
        close(name, got.hours_per_year, w * per_year);
    }
    close(
        "system down time",
        r.downtime_hours_per_year.mean,
        want.iter().sum::<f64>() * per_year,
    );
    assert_eq!(b.health_check_lag_hours_per_year, 0.0, "no health checks");
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(scenarios().join(name)).unwrap()
}

/// On shipped scenarios (random durations, standby as the whole system or
/// inside a series, balancers with health checks), every node's parts add
/// up to its down time; where the node is the whole system, to the
/// system's down time, which the engine measures independently.
#[test]
fn mechanisms_add_up_to_the_node_down_time() {
    for (file, node_is_system) in [
        ("db-failover.json", true),
        ("dr-site.json", true),
        ("lb-pool.json", true),
        ("three-tier.json", false),
    ] {
        // lb-pool needs all six web servers here, so that it is down at
        // all in a short run.
        let text = shipped(file)
            .replace("\"replications\": 2000", "\"replications\": 400")
            .replace(
                "\"min_healthy\": 3,\n    \"health_check\"",
                "\"min_healthy\": 6,\n    \"health_check\"",
            );
        let r = simulate(&text);
        let f = r.failover.as_ref().expect("failover block");
        let system = r.downtime_hours_per_year.mean;
        let mut total = 0.0;
        for s in &f.standby {
            let sum: f64 = parts(&s.mechanisms).iter().map(|p| p.hours_per_year).sum();
            assert!(s.downtime_hours_per_year > 0.0, "{file}: no down time");
            close(file, sum, s.downtime_hours_per_year);
            let shares: f64 = parts(&s.mechanisms).iter().map(|p| p.share.unwrap()).sum();
            close(file, shares, 1.0);
            total += sum;
        }
        for b in &f.balancers {
            let m = &b.mechanisms;
            let sum =
                m.via_down.hours_per_year + m.members_down.hours_per_year + m.both.hours_per_year;
            assert!(sum > 0.0, "{file}: no balancer down time");
            close(file, sum, b.downtime_hours_per_year);
            total += sum;
        }
        if node_is_system {
            close(&format!("{file} against the system"), total, system);
        } else {
            // A series of the two: their down times overlap only when both
            // are down at once, so they cover the system's.
            assert!(total >= system * (1.0 - 1e-9) && total < 1.05 * system);
        }
    }
}

/// With one balancer, the requests lost are exactly its down time plus its
/// health-check lag: 1 − success ratio = (down + lag) / window.
#[test]
fn health_check_lag_and_down_time_are_the_requests_lost() {
    let r = simulate(
        &shipped("lb-pool.json").replace("\"replications\": 2000", "\"replications\": 300"),
    );
    let b = &r.failover.as_ref().unwrap().balancers[0];
    assert!(b.health_check_lag_hours_per_year > 0.0);
    let lost = (1.0 - r.requests.as_ref().unwrap().success_ratio) * HOURS_PER_YEAR;
    let want = r.downtime_hours_per_year.mean + b.health_check_lag_hours_per_year;
    assert!(
        (lost - want).abs() <= 1e-6 * want,
        "lost {lost} h/y, down + lag {want} h/y"
    );
}

/// The machine-repairman model: n units with exponential lives of rate λ,
/// one crew member repairing at rate μ. With j units down, the
/// stationary probabilities are p_j ∝ n!/(n−j)! (λ/μ)^j; the crew is busy
/// with probability 1 − p₀, and by Little's law the mean wait in the queue
/// is L_q / (μ (1 − p₀)) with L_q = Σ (j − 1) p_j.
#[test]
fn a_single_crew_matches_the_machine_repairman_model() {
    let (n, life, repair) = (4usize, 100.0, 20.0);
    let rho = repair / life;
    let mut p = vec![1.0];
    for j in 1..=n {
        p.push(p[j - 1] * (n - j + 1) as f64 * rho);
    }
    let sum: f64 = p.iter().sum();
    p.iter_mut().for_each(|x| *x /= sum);
    let busy = 1.0 - p[0];
    let lq: f64 = (1..=n).map(|j| (j - 1) as f64 * p[j]).sum();
    let wait = lq / (busy / repair);
    let text = |seed: u64| {
        format!(
            r#"{{ "name": "repairman",
  "simulation": {{ "horizon": "20000h", "warmup": "500h", "replications": 64, "seed": {seed} }},
  "components": {{ "m": {{ "count": {n}, "mtbf": "{life}h", "mttr": "{repair}h", "crew": "one" }} }},
  "crews": {{ "one": {{ "size": 1 }} }},
  "system": {{ "parallel": ["m"] }} }}"#
        )
    };
    let r = simulate(&text(5));
    let c = &r.crews.as_ref().expect("crews block")[0];
    assert_eq!((c.name.as_str(), c.size), ("one", 1));
    // 64 replications: t(0.975, 63) = 1.998.
    let se = (c.utilisation_ci95[1] - c.utilisation_ci95[0]) / (2.0 * 1.998);
    assert_within("utilisation", c.utilisation, se, busy, 5.0, 0.01);
    let repairs = HOURS_PER_YEAR * busy / repair;
    assert!((c.repairs_per_year / repairs - 1.0).abs() < 0.02);
    // The mean wait is a ratio over the whole run: its standard error from
    // independent runs (batch means over seeds).
    let waits: Vec<f64> = (0..8)
        .map(|seed| {
            simulate(&text(100 + seed)).crews.unwrap()[0]
                .mean_wait_hours
                .unwrap()
        })
        .collect();
    let mean = waits.iter().sum::<f64>() / 8.0;
    let var = waits.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / 7.0;
    assert_within(
        "mean wait",
        mean,
        (var / 8.0).sqrt(),
        wait,
        5.0,
        0.05 * wait,
    );
}

/// Crews without contention: a crew as large as its units never makes a
/// repair wait.
#[test]
fn a_crew_as_large_as_its_units_never_waits() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "5000h", "replications": 20, "seed": 1 },
             "components": { "m": { "count": 3, "mtbf": "100h", "mttr": "20h", "crew": "all" } },
             "crews": { "all": { "size": 3 } },
             "system": { "parallel": ["m"] } }"#,
    );
    let c = &r.crews.unwrap()[0];
    assert_eq!(c.mean_wait_hours, Some(0.0));
    // Each member busy 20 / 120 of the time.
    assert!(
        (c.utilisation - 1.0 / 6.0).abs() < 0.01,
        "{}",
        c.utilisation
    );
}

fn comparable(json: &str) -> (Value, Value) {
    let v: Value = serde_json::from_str(json).unwrap();
    (v["failover"].clone(), v["crews"].clone())
}

/// The new tallies merge like every other statistic: shards merged equal
/// the whole run to the last bit.
#[test]
fn shards_merge_to_the_same_failover_and_crew_figures() {
    let d = Dir::new();
    let file = scenarios().join("three-tier.json");
    let file = file.to_str().unwrap();
    for i in 0..3 {
        let shard = format!("{i}/3");
        let o = d.run(&[
            "run",
            file,
            "--replications",
            "300",
            "--shard",
            &shard,
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = d.run(&[
        "merge",
        "output/three-tier/part-0-of-3.json",
        "output/three-tier/part-1-of-3.json",
        "output/three-tier/part-2-of-3.json",
        "-o",
        "merged/report.json",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = d.run(&[
        "run",
        file,
        "--replications",
        "300",
        "--threads",
        "1",
        "--format",
        "json",
        "--quiet",
        "--out",
        "whole",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let merged = std::fs::read_to_string(d.path().join("merged/report.json")).unwrap();
    let (f, c) = comparable(&merged);
    assert!(
        f["standby"][0]["mechanisms"]["stuck"]["hours_per_year"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(c[0]["utilisation"].as_f64().unwrap() > 0.0);
    assert_eq!((f, c), comparable(&stdout(&o)));
}

/// Rare-event runs do not estimate the mechanisms or the crews: null, not
/// guessed.
#[test]
fn rare_event_runs_leave_failover_and_crews_null() {
    let d = Dir::new();
    let crew = d.write(
        "quad.json",
        r#"{ "name": "quad", "simulation": { "horizon": "1y", "seed": 21 },
        "components": { "u": { "count": 4, "mtbf": 10000, "mttr": 1, "crew": "c" } },
        "crews": { "c": { "size": 1 } },
        "system": { "k_of_n": { "k": 2, "of": ["u"] } } }"#,
    );
    let standby = scenarios().join("db-failover.json");
    for file in [crew.as_path(), standby.as_path()] {
        let o = d.run(&[
            "run",
            file.to_str().unwrap(),
            "--method",
            "rare-event",
            "--precision",
            "30%",
            "--format",
            "json",
            "--out",
            "-",
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_ne!(v["simulation"]["method"], "plain");
        assert!(v["failover"].is_null() && v["crews"].is_null(), "{file:?}");
    }
}

/// The text summary's failover and crews blocks on the SPEC's three-tier
/// example (a balancer, a standby without manual recovery, one crew).
#[test]
fn text_summary_has_failover_and_crews_blocks() {
    let d = Dir::new();
    let o = d.run(&[
        "run",
        scenarios().join("three-tier.json").to_str().unwrap(),
        "--replications",
        "200",
        "--seed",
        "3",
        "--no-plots",
        "--out",
        "out",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let start = text.find("\n  failover (").expect("failover block");
    let end = text.find(" events in ").expect("events line");
    let end = text[..end].rfind('\n').unwrap();
    insta::assert_snapshot!("three_tier_failover_text", &text[start..end]);
    // Without standby, balancer or crew: neither block.
    let o = d.run(&[
        "run",
        scenarios().join("quorum.json").to_str().unwrap(),
        "--replications",
        "50",
        "--no-plots",
        "--out",
        "out",
    ]);
    assert!(!stdout(&o).contains("failover (") && !stdout(&o).contains("crews ("));
}

/// The oracle's `machrep2` (Matloff: two machines, MTBF 1 h, one repairer,
/// MTTR 0.5 h; /work/oracle, written from SPEC alone) gives system
/// availability 0.8 = 1 − p₂ and machine availability 0.6 = p₀ + p₁/2.
/// From those two values alone: p₀ = 0.4, so the repairer is busy
/// 1 − p₀ = 0.6 of the time, and a repair waits L_q / throughput =
/// p₂ / (μ (1 − p₀)) = 1/6 h on average.
#[test]
fn crew_figures_agree_with_the_oracle_machine_repairman() {
    let (system, machine, mu): (f64, f64, f64) = (0.8, 0.6, 2.0);
    let p2 = 1.0 - system;
    let p1 = 2.0 * (1.0 - machine) - 2.0 * p2;
    let p0 = 1.0 - p1 - p2;
    let (busy, wait) = (1.0 - p0, p2 / (mu * (1.0 - p0)));
    assert!((busy - 0.6).abs() < 1e-12 && (wait - 1.0 / 6.0).abs() < 1e-12);
    let text = |seed: u64| {
        format!(
            r#"{{ "name": "machrep2",
  "simulation": {{ "horizon": "2000h", "warmup": "10h", "replications": 20, "seed": {seed} }},
  "components": {{ "m": {{ "count": 2, "mtbf": "1h", "mttr": "0.5h", "crew": "r" }} }},
  "crews": {{ "r": {{ "size": 1 }} }},
  "system": {{ "parallel": ["m"] }} }}"#
        )
    };
    let crews: Vec<_> = (0..6)
        .map(|seed| simulate(&text(seed)).crews.unwrap().remove(0))
        .collect();
    let c = &crews[0];
    // 20 replications: t(0.975, 19) = 2.093.
    let se = (c.utilisation_ci95[1] - c.utilisation_ci95[0]) / (2.0 * 2.093);
    assert_within("utilisation", c.utilisation, se, busy, 5.0, 0.01);
    let waits: Vec<f64> = crews.iter().map(|c| c.mean_wait_hours.unwrap()).collect();
    let mean = waits.iter().sum::<f64>() / 6.0;
    let var = waits.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / 5.0;
    assert_within(
        "mean wait",
        mean,
        (var / 6.0).sqrt(),
        wait,
        5.0,
        0.02 * wait,
    );
}
