//! The analytic engine against published values and closed forms, the
//! structure function against the Markov chain, and the verdict against the
//! simulation over random topologies.

use availsim::analytic::{self, ctmc::Chain, Method, Structure};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::util::*;

#[track_caller]
fn assert_rel(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: {got} vs {want}"
    );
}

fn five_digits(x: f64) -> String {
    format!("{:.5}", x)
}

/// Ebeling, Example 11.3: λ = 0.1/h, μ = 0.2/h (REFERENCE.md).
#[test]
fn ebeling_example_11_3() {
    let scenario = |system: &str| {
        model(&format!(
            r#"{{ "simulation": {{ "horizon": "10h" }},
                 "components": {{ "u": {{ "count": 2, "mtbf": "10h", "mttr": "5h" }}, "v": {{ "mtbf": "10h", "mttr": "5h" }} }},
                 "system": {system} }}"#
        ))
    };
    // Every instance must be used: `one` is up exactly when v is
    // (v ∨ (v ∧ u[0] ∧ u[1])), `parallel` exactly when u[0] or u[1] is.
    let one = scenario(r#"{ "parallel": ["v", { "series": ["v", "u"] }] }"#);
    let parallel = scenario(r#"{ "parallel": ["u", { "series": ["v", "u[0]"] }] }"#);
    let single = analytic::analyze(&one);
    assert_eq!(single.method, Some(Method::StructureFunction));
    assert_eq!(five_digits(single.steady_state.unwrap()), "0.66667");
    let sf = Structure::new(&one).unwrap();
    assert_eq!(
        five_digits(analytic::point_availability(&one, &sf, 10.0)),
        "0.68326"
    );
    assert_eq!(five_digits(single.interval.unwrap()), "0.77225");
    let two = model(
        r#"{ "simulation": { "horizon": "10h" },
             "components": { "u": { "count": 2, "mtbf": "10h", "mttr": "5h" } },
             "system": { "series": ["u"] } }"#,
    );
    let sf2 = Structure::new(&two).unwrap();
    assert_eq!(
        five_digits(analytic::analyze(&two).steady_state.unwrap()),
        "0.44444"
    );
    assert_eq!(
        five_digits(analytic::point_availability(&two, &sf2, 10.0)),
        "0.46685"
    );
    let sfp = Structure::new(&parallel).unwrap();
    assert_eq!(
        five_digits(analytic::analyze(&parallel).steady_state.unwrap()),
        "0.88889"
    );
    assert_eq!(
        five_digits(analytic::point_availability(&parallel, &sfp, 10.0)),
        "0.89968"
    );
}

/// 1+1 cold standby with one crew: A = (1+ρ)/(1+ρ+ρ²), by the chain.
#[test]
fn markov_cold_standby_matches_closed_form() {
    let m = model(
        r#"{ "simulation": { "horizon": "1000h" },
             "components": { "u": { "count": 2, "mtbf": "100h", "mttr": "10h", "crew": "fix" } },
             "crews": { "fix": { "size": 1 } },
             "system": { "standby": { "units": "u", "mode": "cold" } } }"#,
    );
    let a = analytic::analyze(&m);
    assert_eq!(a.method, Some(Method::Ctmc));
    let rho: f64 = 0.1;
    assert_rel(
        "cold standby",
        a.steady_state.unwrap(),
        (1.0 + rho) / (1.0 + rho + rho * rho),
        1e-9,
    );
}

/// Matloff's two machines and one repairer: 0.8 for at least one up, 0.6
/// for each machine (a system up exactly when m[0] is).
#[test]
fn markov_matloff_two_machines() {
    let scenario = |system: &str| {
        model(&format!(
            r#"{{ "simulation": {{ "horizon": "100h" }},
                 "components": {{ "m": {{ "count": 2, "mtbf": "1h", "mttr": "30m", "crew": "r" }} }},
                 "crews": {{ "r": {{ "size": 1 }} }},
                 "system": {system} }}"#
        ))
    };
    let both = analytic::analyze(&scenario(r#"{ "parallel": ["m"] }"#));
    assert_rel("at least one up", both.steady_state.unwrap(), 0.8, 1e-9);
    let one = analytic::analyze(&scenario(
        r#"{ "parallel": ["m[0]", { "series": ["m[0]", "m[1]"] }] }"#,
    ));
    assert_rel("one machine", one.steady_state.unwrap(), 0.6, 1e-9);
}

/// 1-of-2 parallel with repair, dedicated or one crew: MTTF = (3λ+μ)/(2λ²).
#[test]
fn markov_one_of_two_mttf() {
    let (l, mu) = (0.01, 0.1);
    let exact = (3.0 * l + mu) / (2.0 * l * l);
    for crew in ["", r#", "crew": "r""#] {
        let crews = if crew.is_empty() {
            ""
        } else {
            r#""crews": { "r": { "size": 1 } },"#
        };
        let m = model(&format!(
            r#"{{ "simulation": {{ "horizon": "1000h" }},
                 "components": {{ "u": {{ "count": 2, "mtbf": "100h", "mttr": "10h"{crew} }} }},
                 {crews}
                 "system": {{ "parallel": ["u"] }} }}"#
        ));
        let a = analytic::analyze(&m);
        assert_rel(&format!("MTTF{crew}"), a.mttf_hours.unwrap(), exact, 1e-9);
    }
}

/// Closed forms as cross-checks of the general solvers: k-of-n identical
/// units (binomial), parallel units, and the structure function against the
/// chain, steady and interval.
#[test]
fn closed_forms_cross_check_the_solvers() {
    let m = model(
        r#"{ "simulation": { "horizon": "50h", "warmup": "5h" },
             "components": { "n": { "count": 5, "mtbf": "30h", "mttr": "6h" } },
             "system": { "k_of_n": { "k": 3, "of": ["n"] } } }"#,
    );
    let a: f64 = 30.0 / 36.0;
    let binomial = |p: f64| -> f64 {
        (3..=5)
            .map(|j| {
                let c = [1.0, 5.0, 10.0, 10.0, 5.0, 1.0][j];
                c * p.powi(j as i32) * (1.0 - p).powi(5 - j as i32)
            })
            .sum()
    };
    let sf = analytic::analyze(&m);
    assert_rel(
        "3-of-5 steady",
        sf.steady_state.unwrap(),
        binomial(a),
        1e-12,
    );
    let chain = Chain::build(&m).unwrap();
    // Lumped: interchangeable units are counted, not named (6 = 0..=5 failed).
    assert_eq!(chain.states(), 6);
    assert_rel("3-of-5 chain", chain.steady_state(), binomial(a), 1e-9);
    let exact_interval = interval_mean(
        |t| binomial(point_availability(30.0, 6.0, t)),
        5.0,
        50.0,
        20_000,
    );
    assert_rel(
        "3-of-5 interval",
        sf.interval.unwrap(),
        exact_interval,
        1e-10,
    );
    assert_rel(
        "3-of-5 chain interval",
        chain.interval(5.0, 50.0),
        exact_interval,
        1e-9,
    );
}

/// A short horizon: the interval value is far from the steady state, and
/// the verdict compares like with like.
#[test]
fn short_horizon_run_passes_against_the_interval_value() {
    let d = Dir::new();
    d.write(
        "short.json",
        r#"{ "simulation": { "horizon": "5h", "replications": 20000, "seed": 40 },
             "components": { "a": { "count": 2, "mtbf": "10h", "mttr": "5h" } },
             "system": { "series": ["a"] } }"#,
    );
    let o = d.run(&["run", "short.json", "--format", "json", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: availsim::Report = serde_json::from_str(&stdout(&o)).unwrap();
    let a = &r.analytic;
    assert_eq!(a.verdict.as_deref(), Some("pass"), "{a:?}");
    assert_eq!(a.compared_with.as_deref(), Some("interval"));
    let (steady, interval) = (a.steady_state.unwrap(), a.interval.unwrap());
    assert!(
        interval - steady > 0.1,
        "the horizon is short: {interval} vs {steady}"
    );
    assert!((r.availability.mean - steady).abs() > 10.0 * r.availability.std_error);
}

/// A failed check exits with 1. A 99.9% interval misses the exact value one
/// time in a thousand: seed 289 of this tiny scenario is such a miss (found
/// by searching seeds 0–20000 with the gamma interval, which gave 21).
#[test]
fn failed_check_exits_1() {
    let d = Dir::new();
    d.write(
        "tiny.json",
        r#"{ "name": "tiny", "simulation": { "horizon": "200h", "replications": 40, "seed": 289 },
             "components": { "a": { "mtbf": "20h", "mttr": "5h" } }, "system": "a" }"#,
    );
    let o = d.run(&["run", "tiny.json", "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("analytic check failed for tiny"),
        "{}",
        stderr(&o)
    );
    assert!(
        d.path().join("output/tiny/report.json").is_file(),
        "the report is written anyway"
    );
    let o = d.run(&["run", "tiny.json", "--quiet", "--seed", "704"]);
    assert_eq!(o.status.code(), Some(0));
}

/// `check` prints every analytic figure without simulating.
#[test]
fn check_prints_the_analytic_figures() {
    let d = Dir::new();
    let o = d.run(&["check", scenarios().join("pool.json").to_str().unwrap()]);
    let out = stdout(&o);
    for needle in [
        "structure-function (exact)",
        "steady state    0.9999536408",
        "interval        0.9999536442",
        "MTTF",
    ] {
        assert!(out.contains(needle), "missing {needle} in:\n{out}");
    }
    let o = d.run(&["check", scenarios().join("on-call.json").to_str().unwrap()]);
    assert!(stdout(&o).contains("ctmc (exact)"), "{}", stdout(&o));
}

/// REFERENCE.md's exact values of the benchmark workloads.
#[test]
fn benchmark_workloads_match_reference_values() {
    for (file, steady, interval) in [
        ("pool.json", 0.9999536408, 0.9999536442),
        ("large.json", 0.8188125757, 0.8188322229),
    ] {
        let text = std::fs::read_to_string(scenarios().join(file)).unwrap();
        let a = analytic::analyze(&model(&text));
        assert!(
            (a.steady_state.unwrap() - steady).abs() < 5e-11,
            "{file}: {:?}",
            a.steady_state
        );
        assert!(
            (a.interval.unwrap() - interval).abs() < 5e-11,
            "{file}: {:?}",
            a.interval
        );
    }
}

/// A random small scenario: components with random distributions, a random
/// series/parallel/k-of-n tree with a repeated instance, sometimes a common
/// cause.
fn random_scenario(rng: &mut ChaCha8Rng, exponential: bool, seed: u64) -> String {
    let comps = rng.random_range(2..=4);
    let mut components = Vec::new();
    let mut names = Vec::new();
    let mut max_cycle: f64 = 0.0;
    for c in 0..comps {
        let count = rng.random_range(1..=3);
        let up: f64 = rng.random_range(20.0..200.0);
        let down: f64 = rng.random_range(1.0..20.0);
        max_cycle = max_cycle.max(up + down);
        let failure = if exponential {
            format!(r#"{{ "dist": "exponential", "mean": {up} }}"#)
        } else {
            match rng.random_range(0..3) {
                0 => format!(
                    r#"{{ "dist": "weibull", "shape": {}, "mean": {up} }}"#,
                    rng.random_range(0.7..3.0)
                ),
                1 => format!(
                    r#"{{ "dist": "gamma", "shape": {}, "mean": {up} }}"#,
                    rng.random_range(0.5..3.0)
                ),
                _ => format!(
                    r#"{{ "dist": "uniform", "min": {}, "max": {} }}"#,
                    up * 0.5,
                    up * 1.5
                ),
            }
        };
        let repair = if exponential {
            format!(r#"{{ "dist": "exponential", "mean": {down} }}"#)
        } else {
            format!(
                r#"{{ "dist": "lognormal", "mean": {down}, "cv": {} }}"#,
                rng.random_range(0.3..1.5)
            )
        };
        components.push(format!(
            r#""c{c}": {{ "count": {count}, "failure": {failure}, "repair": {repair} }}"#
        ));
        for i in 0..count {
            names.push(if count == 1 {
                format!("c{c}")
            } else {
                format!("c{c}[{i}]")
            });
        }
    }
    // Every instance once, plus one repeated, shuffled into 2–3 groups.
    let mut leaves: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    leaves.push(format!("\"{}\"", names[rng.random_range(0..names.len())]));
    for i in (1..leaves.len()).rev() {
        leaves.swap(i, rng.random_range(0..=i));
    }
    let groups = rng.random_range(2..=3).min(leaves.len());
    let mut nodes = Vec::new();
    for g in 0..groups {
        let part: Vec<String> = leaves.iter().skip(g).step_by(groups).cloned().collect();
        let node = match rng.random_range(0..3) {
            0 => format!(r#"{{ "series": [{}] }}"#, part.join(", ")),
            1 => format!(r#"{{ "parallel": [{}] }}"#, part.join(", ")),
            _ => format!(
                r#"{{ "k_of_n": {{ "k": {}, "of": [{}] }} }}"#,
                rng.random_range(1..=part.len()),
                part.join(", ")
            ),
        };
        nodes.push(node);
    }
    let top = if rng.random::<bool>() {
        "series"
    } else {
        "parallel"
    };
    let mut common = String::new();
    if rng.random::<bool>() {
        let a = &names[rng.random_range(0..names.len())];
        let b = &names[rng.random_range(0..names.len())];
        let affects = if a == b {
            format!("\"{a}\"")
        } else {
            format!("\"{a}\", \"{b}\"")
        };
        common = format!(
            r#""common_cause": [ {{ "name": "cc", "affects": [{affects}], "failure": {{ "dist": "exponential", "mean": {} }}, "repair": {{ "dist": "exponential", "mean": {} }} }} ],"#,
            rng.random_range(300.0..2000.0),
            rng.random_range(2.0..30.0)
        );
        max_cycle = max_cycle.max(2030.0);
    }
    let sim = if exponential {
        format!(
            r#""horizon": {}, "replications": 300"#,
            rng.random_range(20.0..2000.0)
        )
    } else {
        format!(
            r#""warmup": {}, "horizon": {}, "replications": 200"#,
            12.0 * max_cycle,
            212.0 * max_cycle
        )
    };
    format!(
        r#"{{ "simulation": {{ {sim}, "seed": {seed} }}, "components": {{ {} }}, {common}
             "system": {{ "{top}": [{}] }} }}"#,
        components.join(", "),
        nodes.join(", ")
    )
}

/// Over random small topologies the simulation's 99.9% interval covers the
/// exact value as often as it should (60 scenarios: P(3 or more misses) ≈
/// 3·10⁻⁵), and on every exponential one the structure function and the
/// Markov chain agree to 1e-9.
#[test]
fn random_topologies_agree_with_the_exact_answer() {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let (mut verdicts, mut fails, mut chains) = (0, 0, 0);
    for case in 0..60u64 {
        let exponential = case % 2 == 0;
        let text = random_scenario(&mut rng, exponential, case);
        let m = model(&text);
        let a = analytic::analyze(&m);
        assert_eq!(a.method, Some(Method::StructureFunction), "{text}");
        let r = availsim::run(&m, 2).unwrap();
        match r.analytic.verdict.as_deref() {
            Some("pass") => verdicts += 1,
            Some(_) => {
                verdicts += 1;
                fails += 1;
                eprintln!("miss (z = {:?}) in {text}", r.analytic.z);
            }
            None => {}
        }
        if exponential {
            if let Ok(chain) = Chain::build(&m) {
                chains += 1;
                assert_rel(
                    "SF vs chain, steady",
                    chain.steady_state(),
                    a.steady_state.unwrap(),
                    1e-9,
                );
                let (w, h) = (m.simulation.warmup, m.simulation.horizon);
                assert_rel(
                    "SF vs chain, interval",
                    chain.interval(w, h),
                    a.interval.unwrap(),
                    1e-9,
                );
            }
        }
    }
    eprintln!("{verdicts} verdicts, {fails} misses, {chains} chains");
    // 53 get one: the others saw no down time or fewer than 10 outages,
    // where the interval's coverage cannot be trusted (issue 12).
    assert!(
        verdicts >= 50,
        "only {verdicts} of 60 scenarios got a verdict"
    );
    assert!(
        fails <= 2,
        "{fails} of {verdicts} exact values outside the 99.9% interval"
    );
    assert!(chains >= 20, "only {chains} chains built");
}

/// The chain builder reproduces the hand-written chain of a hot standby with
/// switch failures and manual recovery (see constructs.rs for the chain).
#[test]
fn markov_hot_standby_with_switch_failures_matches_hand_chain() {
    let m = model(
        r#"{ "simulation": { "horizon": "1000h" },
             "components": { "u": { "count": 2, "mtbf": "100h", "mttr": "10h" } },
             "system": { "standby": { "units": "u", "mode": "hot", "switch_success": 0.9,
                                      "manual_recovery": { "dist": "exponential", "mean": "2h" } } } }"#,
    );
    let (l, mu, p, r) = (0.01, 0.1, 0.9, 0.5);
    let pi = stationary(&[
        vec![0.0, l + p * l, 0.0, (1.0 - p) * l],
        vec![mu, 0.0, l, 0.0],
        vec![0.0, 2.0 * mu, 0.0, 0.0],
        vec![mu, r, l, 0.0],
    ]);
    let a = analytic::analyze(&m);
    assert_eq!(a.method, Some(Method::Ctmc));
    assert_rel(
        "hot standby chain",
        a.steady_state.unwrap(),
        pi[0] + pi[1],
        1e-9,
    );
}

/// Exponential detection and failover, switch failures, a crew and a common
/// cause: the chain's interval value and the simulation agree.
#[test]
fn markov_verdict_passes_on_a_rich_exponential_scenario() {
    let d = Dir::new();
    d.write(
        "rich.json",
        r#"{ "simulation": { "horizon": "2000h", "replications": 4000, "seed": 41 },
             "components": {
               "db": { "count": 2, "mtbf": "300h", "mttr": "20h", "crew": "ops" },
               "app": { "count": 2, "mtbf": "200h", "mttr": "5h", "crew": "ops" } },
             "crews": { "ops": { "size": 1 } },
             "common_cause": [ { "name": "power", "affects": ["app[0]", "db[0]"], "mtbf": "1000h", "mttr": "8h" } ],
             "system": { "series": [
               { "parallel": ["app"] },
               { "standby": { "units": "db", "mode": "warm", "dormant_factor": 0.3,
                              "detection": { "dist": "exponential", "mean": "30m" },
                              "failover": { "dist": "exponential", "mean": "15m" },
                              "switch_success": 0.8,
                              "manual_recovery": { "dist": "exponential", "mean": "3h" } } } ] } }"#,
    );
    let o = d.run(&["run", "rich.json", "--format", "json", "--quiet"]);
    let r: availsim::Report = serde_json::from_str(&stdout(&o)).unwrap();
    let a = &r.analytic;
    assert_eq!(a.method.as_deref(), Some("ctmc"), "{a:?}");
    assert_eq!(
        a.verdict.as_deref(),
        Some("pass"),
        "{a:?}, simulated {}",
        r.availability.mean
    );
    assert!(o.status.success());
    let mttf = a.mttf_hours.unwrap();
    let sim = r.first_failure.as_ref().unwrap().mttff_hours.unwrap();
    assert!(r.first_failure.as_ref().unwrap().censored_fraction < 0.01);
    // The first failure of a repairable system is close to exponential, so
    // its standard deviation is about its mean: se ≈ MTTF/√n.
    assert_within("MTTF", sim, mttf / 4000f64.sqrt(), mttf, 4.5, 0.02 * mttf);
}
