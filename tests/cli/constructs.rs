//! Standby, balancers, crews, common causes and objectives against exact
//! values derived here (Markov chains, renewal arguments, structure
//! functions). Fixed seeds; tolerances of 4.5 standard errors.

use crate::util::*;

/// 1+1 cold standby, one repair crew, instant perfect switching, ρ = λ/μ:
/// A = (1+ρ)/(1+ρ+ρ²) (REFERENCE.md). λ = 1/100 h, μ = 1/10 h.
#[test]
fn cold_standby_with_one_crew_matches_closed_form() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "100500h", "warmup": "500h", "replications": 1000, "seed": 21 },
             "components": { "u": { "count": 2, "mtbf": "100h", "mttr": "10h", "crew": "fix" } },
             "crews": { "fix": { "size": 1 } },
             "system": { "standby": { "units": "u", "mode": "cold" } } }"#,
    );
    let rho: f64 = 0.1;
    let exact = (1.0 + rho) / (1.0 + rho + rho * rho);
    let a = &r.availability;
    assert_within("cold standby", a.mean, a.std_error, exact, 4.5, 2e-4);
    // Hot standby with dedicated repair would be 1 − (1/11)² = 0.99174: the
    // test tells them apart.
    assert!((a.mean - (1.0 - (1.0f64 / 11.0).powi(2))).abs() > 4.5 * a.std_error);
}

/// Warm standby, one crew, idle units failing at φλ: birth–death chain on
/// the number failed with rates (1+φ)λ, λ up and μ, μ down.
#[test]
fn warm_standby_matches_birth_death_chain() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "100500h", "warmup": "500h", "replications": 1000, "seed": 22 },
             "components": { "u": { "count": 2, "mtbf": "100h", "mttr": "10h", "crew": "fix" } },
             "crews": { "fix": { "size": 1 } },
             "system": { "standby": { "units": "u", "mode": "warm", "dormant_factor": 0.5 } } }"#,
    );
    let (l, m, phi) = (0.01, 0.1, 0.5);
    let pi = stationary(&[
        vec![0.0, (1.0 + phi) * l, 0.0],
        vec![m, 0.0, l],
        vec![0.0, m, 0.0],
    ]);
    let a = &r.availability;
    assert_within("warm standby", a.mean, a.std_error, 1.0 - pi[2], 4.5, 2e-4);
}

/// Warm with dormant_factor 0 is cold, with 1 is hot: same seed, same result
/// (the engine takes the same path, so the equality is exact).
#[test]
fn warm_standby_limits_are_cold_and_hot() {
    let scenario = |mode: &str| {
        format!(
            r#"{{ "simulation": {{ "horizon": "20000h", "replications": 500, "seed": 23 }},
                 "components": {{ "u": {{ "count": 2,
                     "failure": {{ "dist": "weibull", "shape": 1.5, "mean": "100h" }},
                     "mttr": "10h", "crew": "fix" }} }},
                 "crews": {{ "fix": {{ "size": 1 }} }},
                 "system": {{ "standby": {{ "units": "u", {mode} }} }} }}"#
        )
    };
    let cold = simulate(&scenario(r#""mode": "cold""#));
    let warm0 = simulate(&scenario(r#""mode": "warm", "dormant_factor": 0"#));
    let hot = simulate(&scenario(r#""mode": "hot""#));
    let warm1 = simulate(&scenario(r#""mode": "warm", "dormant_factor": 1"#));
    let half = simulate(&scenario(r#""mode": "warm", "dormant_factor": 0.5"#));
    assert_eq!(cold.availability.mean, warm0.availability.mean);
    assert_eq!(cold.simulation.events, warm0.simulation.events);
    assert_eq!(hot.availability.mean, warm1.availability.mean);
    assert_eq!(hot.simulation.events, warm1.simulation.events);
    // A Weibull unit that rests ages less: cold > warm(0.5) > hot.
    assert!(cold.availability.mean > half.availability.mean + 4.5 * half.availability.std_error);
    assert!(half.availability.mean > hot.availability.mean + 4.5 * hot.availability.std_error);
}

/// n = 3 parallel units sharing one crew: birth–death chain on the number
/// failed j with rates (n − j)λ up and μ down; the system is down only in
/// state 3.
#[test]
fn parallel_units_sharing_one_crew_match_birth_death_chain() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "20200h", "warmup": "200h", "replications": 2000, "seed": 24 },
             "components": { "u": { "count": 3, "mtbf": "20h", "mttr": "5h", "crew": "fix" } },
             "crews": { "fix": { "size": 1 } },
             "system": { "parallel": ["u"] } }"#,
    );
    let (l, m) = (1.0 / 20.0, 1.0 / 5.0);
    let mut weights = vec![1.0];
    for j in 0..3 {
        weights.push(weights[j] * (3 - j) as f64 * l / m);
    }
    let exact = 1.0 - weights[3] / weights.iter().sum::<f64>();
    let a = &r.availability;
    assert_within("3 units, one crew", a.mean, a.std_error, exact, 4.5, 1e-3);
}

/// Matloff's MachRep2: two machines, one repairer, up ~ Exp(mean 1), repair
/// ~ Exp(mean 0.5): at least one up 0.8 of the time, each machine 0.6. The
/// second figure is measured as the availability of a system that is up
/// exactly when m[0] is: m[0] ∨ (m[0] ∧ m[1]).
#[test]
fn matloff_two_machines_one_repairer() {
    let base = |system: &str| {
        format!(
            r#"{{ "simulation": {{ "horizon": "10010h", "warmup": "10h", "replications": 1000, "seed": 25 }},
                 "components": {{ "m": {{ "count": 2, "mtbf": "1h", "mttr": "30m", "crew": "repairer" }} }},
                 "crews": {{ "repairer": {{ "size": 1 }} }},
                 "system": {system} }}"#
        )
    };
    let both = simulate(&base(r#"{ "parallel": ["m"] }"#));
    let a = &both.availability;
    assert_within("at least one up", a.mean, a.std_error, 0.8, 4.5, 1e-3);
    let one = simulate(&base(
        r#"{ "parallel": ["m[0]", { "series": ["m[0]", "m[1]"] }] }"#,
    ));
    let a = &one.availability;
    assert_within("one machine", a.mean, a.std_error, 0.6, 4.5, 1e-3);
}

/// Hot 1+1 standby, dedicated exponential repair (λ = 1/100, μ = 1/10),
/// instant detection and failover, switch_success p = 0.9, exponential
/// manual recovery (rate m = 1/2). SPEC's semantics give this chain:
///
/// ```text
/// S0 both up, one active      → S1 at λ + pλ (backup fails, or active fails and the switch works)
///                             → K1 at (1−p)λ (active fails, the switch fails: stuck)
/// S1 active up, other down    → S0 at μ;  → W at λ (active fails, nothing to switch to)
/// W  both down, none active   → S1 at 2μ (the first repaired unit becomes active)
/// K1 stuck, one up one down   → S1 at m (manual recovery activates the up unit)
///                             → S0 at μ (the repaired unit becomes active at once)
///                             → W  at λ (hot: the idle up unit fails too; stuck with
///                                        both down behaves exactly as W)
/// ```
/// The node is up in S0 and S1.
#[test]
fn hot_standby_with_switch_failures_matches_markov_chain() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "100500h", "warmup": "500h", "replications": 1000, "seed": 26 },
             "components": { "u": { "count": 2, "mtbf": "100h", "mttr": "10h" } },
             "system": { "standby": { "units": "u", "mode": "hot", "switch_success": 0.9,
                                      "manual_recovery": { "dist": "exponential", "mean": "2h" } } } }"#,
    );
    let (l, mu, p, m) = (0.01, 0.1, 0.9, 0.5);
    // States: 0 = S0, 1 = S1, 2 = W, 3 = K1.
    let pi = stationary(&[
        vec![0.0, l + p * l, 0.0, (1.0 - p) * l],
        vec![mu, 0.0, l, 0.0],
        vec![0.0, 2.0 * mu, 0.0, 0.0],
        vec![mu, m, l, 0.0],
    ]);
    let exact = pi[0] + pi[1];
    let a = &r.availability;
    assert_within(
        "hot standby, switch failures",
        a.mean,
        a.std_error,
        exact,
        4.5,
        2e-4,
    );
    // Perfect switching collapses the chain to two independent units:
    // 1 − (λ/(λ+μ))².
    let perfect = 1.0 - (l / (l + mu)).powi(2);
    assert!(
        (a.mean - perfect).abs() > 4.5 * a.std_error,
        "switch failures must show"
    );
}

/// Three replicas in parallel; a common cause holds replica[0] and
/// replica[1] down. Factoring on the outage (an independent unit that starts
/// inactive): P(t) = C(t)·(1 − (1 − a(t))³) + (1 − C(t))·a(t).
#[test]
fn common_cause_matches_structure_function_with_outage_as_a_unit() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "500h", "replications": 20000, "seed": 27 },
             "components": { "r": { "count": 3, "mtbf": "50h", "mttr": "10h" } },
             "common_cause": [ { "name": "zone", "affects": ["r[0]", "r[1]"], "mtbf": "200h", "mttr": "20h" } ],
             "system": { "parallel": ["r"] } }"#,
    );
    let pt = |t: f64| {
        let (c, a) = (
            point_availability(200.0, 20.0, t),
            point_availability(50.0, 10.0, t),
        );
        c * (1.0 - (1.0 - a).powi(3)) + (1.0 - c) * a
    };
    let exact = interval_mean(pt, 0.0, 500.0, 20_000);
    let a = &r.availability;
    assert_within("common cause", a.mean, a.std_error, exact, 4.5, 1e-3);
    // Held instances count as down; the outage itself is a row of its own.
    let zone = r
        .components
        .iter()
        .flatten()
        .find(|c| c.name == "zone")
        .expect("zone row");
    let zone_exact = interval_mean(|t| point_availability(200.0, 20.0, t), 0.0, 500.0, 20_000);
    assert!(
        (zone.availability - zone_exact).abs() < 0.005,
        "{} vs {zone_exact}",
        zone.availability
    );
    let r0 = &r.components.as_ref().unwrap()[0];
    assert!(r0.availability < r.components.as_ref().unwrap()[2].availability - 0.02);
}

/// Heartbeat detection (interval 5 s, 3 misses: D ~ U[10 s, 15 s]) and a
/// 30 s failover on a hot pair with MTBF 10⁵ h and exponential repairs of
/// mean r = 6 min. An outage starts when the active unit fails and lasts
///   R        if the unit is repaired before detection (R < D),
///   D + f    otherwise (the backup takes over after detection and failover).
/// Given D = d: E[X] = r − e^{−d/r}(d + r) + e^{−d/r}(d + f), and
/// E[X²] = 2r² − e^{−d/r}(d² + 2rd + 2r²) + e^{−d/r}(d + f)²; both are
/// averaged over d. Neglected: the backup being down when the active fails
/// (probability r/MTBF = 10⁻⁶) and failing during the 30 s failover (10⁻⁷).
#[test]
fn heartbeat_detection_and_failover_set_the_outage_duration() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "1000000h", "replications": 3000, "seed": 28 },
             "components": { "db": { "count": 2, "mtbf": "100000h", "mttr": "6m" } },
             "system": { "standby": { "units": "db", "mode": "hot",
                                      "heartbeat": { "interval": "5s", "misses": 3 },
                                      "failover": "30s" } } }"#,
    );
    let (rr, f) = (0.1, 30.0 / 3600.0);
    let (lo, hi) = (10.0 / 3600.0, 15.0 / 3600.0);
    let m1 = interval_mean(
        |d| {
            let e = (-d / rr).exp();
            rr - e * (d + rr) + e * (d + f)
        },
        lo,
        hi,
        2000,
    );
    let m2 = interval_mean(
        |d| {
            let e = (-d / rr).exp();
            2.0 * rr * rr - e * (d * d + 2.0 * rr * d + 2.0 * rr * rr) + e * (d + f).powi(2)
        },
        lo,
        hi,
        2000,
    );
    let outages = r.outages.per_year.unwrap() * 1e6 / 8760.0 * 3000.0;
    let se = ((m2 - m1 * m1) / outages).sqrt();
    let measured = r.outages.mean_duration_hours.unwrap();
    assert_within("down time per active failure", measured, se, m1, 4.5, 2e-5);
    // Each outage costs about 12.5 s of detection and 30 s of failover, less
    // the 3.4% of outages that a 6-minute repair ends before detection.
    assert!((m1 * 3600.0 - 41.3).abs() < 0.2, "{} s", m1 * 3600.0);
}

/// A balancer over two members (exponential, MTBF F = 100 h, MTTR R = 2 h)
/// behind a via that never fails; health checks every 30 s, out after 3
/// failures (D ~ U[60, 90] s after a failure), back after 2 passes
/// (W ~ U[30, 60] s after a repair). Each member is independently up in
/// rotation, down in rotation (undetected), down out, or up out (repaired,
/// not yet back), with steady-state probabilities
///   down-in = E[min(D, R)]/(F+R), down = R/(F+R),
///   up-out  = P(R > D)·E[min(W, X)]/(F+R), X ~ Exp(F)
/// (to first order: a failure during W, probability W/F ≈ 10⁻⁴, changes
/// these by about 10⁻⁸). Requests succeed in the share of the rotation that
/// is up while the system is up; time availability is 1 − down².
#[test]
fn balancer_requests_fail_on_undetected_dead_members() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "10200h", "warmup": "200h", "replications": 2000, "seed": 29 },
             "components": { "lb": { "mtbf": "1e12h", "mttr": "1h" },
                             "web": { "count": 2, "mtbf": "100h", "mttr": "2h" } },
             "system": { "balancer": { "via": "lb", "pool": "web", "min_healthy": 1,
                 "health_check": { "interval": "30s", "unhealthy_threshold": 3, "healthy_threshold": 2 } } } }"#,
    );
    let (f, rr) = (100.0, 2.0);
    let c = f + rr;
    let (d_lo, d_hi) = (60.0 / 3600.0, 90.0 / 3600.0);
    let (w_lo, w_hi) = (30.0 / 3600.0, 60.0 / 3600.0);
    let min_dr = interval_mean(|d| rr * (1.0 - (-d / rr).exp()), d_lo, d_hi, 2000);
    let p_r_gt_d = interval_mean(|d| (-d / rr).exp(), d_lo, d_hi, 2000);
    let min_wx = interval_mean(|w| f * (1.0 - (-w / f).exp()), w_lo, w_hi, 2000);
    let down_in = min_dr / c;
    let down_out = rr / c - down_in;
    let up_out = p_r_gt_d * min_wx / c;
    let up_in = 1.0 - down_in - down_out - up_out;
    // Per member: (probability, up, in rotation).
    let states = [
        (up_in, true, true),
        (down_in, false, true),
        (down_out, false, false),
        (up_out, true, false),
    ];
    let mut ratio = 0.0;
    for &(pa, ua, ia) in &states {
        for &(pb, ub, ib) in &states {
            let in_rotation = ia as u32 + ib as u32;
            let up_in_rotation = (ua && ia) as u32 + (ub && ib) as u32;
            if (ua || ub) && in_rotation > 0 {
                ratio += pa * pb * up_in_rotation as f64 / in_rotation as f64;
            }
        }
    }
    let time = 1.0 - (rr / c).powi(2);
    let a = &r.availability;
    assert_within("time availability", a.mean, a.std_error, time, 4.5, 1e-4);
    let req = r.requests.as_ref().expect("a balancer reports requests");
    let se = (req.ci95[1] - req.ci95[0]) / (2.0 * 1.96);
    assert_within(
        "request success ratio",
        req.success_ratio,
        se,
        ratio,
        4.5,
        1e-5,
    );
    // The gap is the traffic sent to undetected dead members (≈ 2·10⁻⁴).
    assert!(
        time - req.success_ratio > 1.5e-4,
        "gap {}",
        time - req.success_ratio
    );
}

/// Without health checks, dead members leave at once: requests succeed
/// exactly while the system is up.
#[test]
fn balancer_without_health_checks_serves_whenever_up() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "2000h", "replications": 200, "seed": 30 },
             "components": { "lb": { "mtbf": "500h", "mttr": "1h" }, "web": { "count": 3, "mtbf": "100h", "mttr": "5h" } },
             "system": { "balancer": { "via": "lb", "pool": "web", "min_healthy": 2 } } }"#,
    );
    let req = r.requests.unwrap();
    assert!((req.success_ratio - r.availability.mean).abs() < 1e-12);
}

/// One exponential unit observed in a single 10 h window after a 300 h
/// warmup: the window is perfect when the unit is up at its start and does
/// not fail in it, P = A(300)·e^{−10/100}; windows of different replications
/// are independent, so the met fraction is binomial.
#[test]
fn objective_met_fraction_matches_exact_probability() {
    let reps = 40_000.0;
    let r = simulate(
        r#"{ "simulation": { "horizon": "310h", "warmup": "300h", "replications": 40000, "seed": 31 },
             "components": { "a": { "mtbf": "100h", "mttr": "10h" } },
             "system": "a",
             "objectives": [ { "availability": 1.0, "window": "10h" } ] }"#,
    );
    let o = &r.objectives.as_ref().unwrap()[0];
    assert_eq!(o.windows, Some(40_000));
    let p = point_availability(100.0, 10.0, 300.0) * (-0.1f64).exp();
    let se = (p * (1.0 - p) / reps).sqrt();
    assert_within("perfect windows", o.met_fraction, se, p, 4.5, 5e-3);
    // The mean window availability is the availability (same window).
    let w = o.window_availability.as_ref().unwrap();
    assert!((w.mean - r.availability.mean).abs() < 1e-12);
    assert!(w.p1 < w.p50);
}

/// Every example scenario runs and reports what its constructs measure.
#[test]
fn example_scenarios_run() {
    for name in [
        "db-failover",
        "lb-pool",
        "dr-site",
        "zones",
        "on-call",
        "three-tier",
    ] {
        let text = std::fs::read_to_string(scenarios().join(format!("{name}.json"))).unwrap();
        let r = availsim::run(
            &{
                let mut m = model(&text);
                m.simulation.replications = 50;
                m
            },
            2,
        )
        .unwrap();
        assert!(
            r.availability.mean > 0.99,
            "{name}: {}",
            r.availability.mean
        );
        let has_balancer = text.contains("\"balancer\"");
        assert_eq!(r.requests.is_some(), has_balancer, "{name}");
        assert_eq!(
            r.objectives.as_ref().map_or(0, Vec::len),
            text.matches("\"window\"").count(),
            "{name}"
        );
    }
}

/// Units may be subtrees: hot standby with instant, perfect switching over
/// units series(a[i], b[i]) is up exactly when some unit is up, so its
/// point availability is 1 − (1 − A_a(t)·A_b(t))².
#[test]
fn hot_standby_of_composite_units_matches_structure_function() {
    let r = simulate(
        r#"{ "simulation": { "horizon": "300h", "replications": 20000, "seed": 32 },
             "components": { "a": { "count": 2, "mtbf": "40h", "mttr": "8h" },
                             "b": { "count": 2, "mtbf": "60h", "mttr": "5h" } },
             "system": { "standby": { "units": [ { "series": ["a[0]", "b[0]"] },
                                                 { "series": ["a[1]", "b[1]"] } ] } } }"#,
    );
    let exact = interval_mean(
        |t| {
            let unit = point_availability(40.0, 8.0, t) * point_availability(60.0, 5.0, t);
            1.0 - (1.0 - unit).powi(2)
        },
        0.0,
        300.0,
        20_000,
    );
    let a = &r.availability;
    assert_within(
        "hot standby of subtrees",
        a.mean,
        a.std_error,
        exact,
        4.5,
        1e-3,
    );
}
