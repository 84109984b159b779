//! Checks of the rare-event estimator against exact values computed here
//! (birth–death chains, the structure function).

use std::path::Path as FsPath;

use super::*;
use crate::precision::{RoundRunner, Schedule};
use crate::scenario::{load_str, Overrides};

fn model(json: &str) -> Model {
    load_str(json, FsPath::new("test.json"), &Overrides::default()).expect("valid scenario")
}

fn pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
}

/// Runs `rounds` rounds and returns the tally.
fn run(rare: &RareEvent, rounds: u64) -> RareTally {
    let pool = pool();
    let s = Schedule {
        pilot: rare.pilot_units(),
        cap: None,
    };
    let mut t = rare.empty();
    for r in 0..rounds {
        let u = s.units(r);
        let round = rare.run_round(r, u.end - u.start, &pool);
        rare.merge(&mut t, &round);
    }
    t
}

/// Steady-state probability that `n` units sharing one crew (failure
/// rate `lambda` each, repair rate `mu`) have more than `n − k` failed.
fn birth_death_unavailability(n: usize, k: usize, lambda: f64, mu: f64) -> f64 {
    // p_j ∝ Π_{i<j} (n − i)λ/μ, summed without subtraction.
    let mut p = vec![1.0];
    for j in 1..=n {
        let prev = p[j - 1];
        p.push(prev * (n - j + 1) as f64 * lambda / mu);
    }
    let total: f64 = p.iter().sum();
    p[n - k + 1..].iter().sum::<f64>() / total
}

fn quad(eps: f64) -> String {
    format!(
        r#"{{ "name": "quad", "simulation": {{ "horizon": "1y", "seed": 5 }},
        "components": {{ "u": {{ "count": 4, "mtbf": {}, "mttr": 1, "crew": "c" }} }},
        "crews": {{ "c": {{ "size": 1 }} }},
        "system": {{ "k_of_n": {{ "k": 2, "of": ["u"] }} }} }}"#,
        1.0 / eps
    )
}

#[test]
fn birth_death_formula_matches_reference() {
    let u = birth_death_unavailability(4, 2, 1e-3, 1.0);
    assert!((u / 2.392800e-8 - 1.0).abs() < 1e-5, "{u}");
    let u = birth_death_unavailability(4, 2, 1e-5, 1.0);
    assert!((u / 2.399928e-14 - 1.0).abs() < 1e-5, "{u}");
}

#[test]
fn two_of_four_with_one_crew_matches_the_birth_death_chain() {
    for eps in [1e-3, 1e-5] {
        let rare = RareEvent::new(&model(&quad(eps))).unwrap();
        let t = run(&rare, 10);
        let e = rare.estimate(&t);
        let exact = birth_death_unavailability(4, 2, eps, 1.0);
        let se = (e.ci95[1] - e.ci95[0]) / 3.92;
        assert!(
            (e.mean - exact).abs() < 4.5 * se,
            "eps {eps}: {} ± {se} vs {exact}",
            e.mean
        );
        assert!(e.relative_half_width < 0.2, "{:?}", e);
    }
}

#[test]
fn one_of_three_weibull_lives_match_insensitivity() {
    let json = r#"{ "name": "w", "simulation": { "horizon": "1y", "seed": 9 },
        "components": { "u": { "count": 3,
            "failure": { "dist": "weibull", "shape": 1.5, "mean": 2000 },
            "repair": { "dist": "lognormal", "mean": 4, "cv": 1 } } },
        "system": { "parallel": ["u"] } }"#;
    let rare = RareEvent::new(&model(json)).unwrap();
    let t = run(&rare, 5);
    let e = rare.estimate(&t);
    let u: f64 = 4.0 / 2004.0;
    let exact = u.powi(3);
    let se = (e.ci95[1] - e.ci95[0]) / 3.92;
    assert!(
        (e.mean - exact).abs() < 4.5 * se,
        "{} ± {se} vs {exact}",
        e.mean
    );
}

#[test]
fn too_many_instances_are_refused_before_running() {
    let json = r#"{ "name": "big", "simulation": { "horizon": "1y" },
        "components": { "u": { "count": 600, "mtbf": 1000, "mttr": 1 } },
        "system": { "k_of_n": { "k": 2, "of": ["u"] } } }"#;
    let err = RareEvent::new(&model(json)).unwrap_err();
    assert!(err.contains("600 instances"), "{err}");
}
