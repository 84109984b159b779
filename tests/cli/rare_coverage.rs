//! Coverage study of the rare-event method (issue 13, SPEC §7): at a low
//! precision target (30%), over 100 seeds, the 95% interval of the
//! unavailability must contain the exact value 90–98% of the time, on
//! cases whose exact values are derived here independently (structure
//! function, birth–death chain, insensitivity). Runs in-process through
//! the library, one thread per run, two runs at a time.
//!
//! The rare-event method asks for an effective sample size of 300 before
//! it trusts an interval, so a 30% target stops where that holds, near
//! 10%: the study measures the intervals users get.

use rayon::prelude::*;

use crate::util::model;

/// Seeds per case.
const SEEDS: u64 = 100;

/// 1-of-3, MTTF 2,000 h, MTTR 4 h, own repair: U = u³, u = 4/2004; by
/// insensitivity the same for any laws with those means.
fn one_of_three_exact() -> f64 {
    (4.0f64 / 2004.0).powi(3)
}

/// Four units, up while 2 are up, one crew, failure rate ε, repair rate 1:
/// the birth–death chain's P(3 or 4 failed).
fn two_of_four_exact(eps: f64) -> f64 {
    let mut p = vec![1.0f64];
    for j in 1..=4usize {
        let prev = p[j - 1];
        p.push(prev * (4 - j + 1) as f64 * eps);
    }
    (p[3] + p[4]) / p.iter().sum::<f64>()
}

const SIM: &str =
    r#""simulation": { "horizon": "1y", "seed": 1, "precision": 0.3, "method": "rare-event" }"#;

fn one_of_three(lives: &str, repairs: &str) -> String {
    format!(
        r#"{{ {SIM}, "components": {{ "u": {{ "count": 3, "failure": {lives}, "repair": {repairs} }} }},
           "system": {{ "k_of_n": {{ "k": 1, "of": ["u"] }} }} }}"#
    )
}

/// Runs `text` over [`SEEDS`] seeds: how many 95% intervals contain
/// `exact`, how many lie below it, and how many runs stopped by precision.
fn study(name: &str, text: &str, exact: f64) -> (u64, u64, u64) {
    let base = model(text);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let runs: Vec<(bool, bool, bool)> = pool.install(|| {
        (1..=SEEDS)
            .into_par_iter()
            .map(|seed| {
                let mut m = base.clone();
                m.simulation.seed = seed * 7919 + 17;
                let r = availsim::run(&m, 1).expect("run");
                let ci = r.availability.unavailability.ci95;
                (
                    ci[0] <= exact && exact <= ci[1],
                    ci[1] < exact,
                    r.simulation.stopped_by == "precision",
                )
            })
            .collect()
    });
    let count = |f: fn(&(bool, bool, bool)) -> bool| runs.iter().filter(|r| f(r)).count() as u64;
    let (covered, below, stopped) = (count(|r| r.0), count(|r| r.1), count(|r| r.2));
    println!("{name:<28} covered {covered:>3} of {SEEDS} (interval below the exact value {below}), stopped by precision {stopped}");
    (covered, below, stopped)
}

fn assert_covers(name: &str, text: &str, exact: f64) {
    let (covered, _, stopped) = study(name, text, exact);
    assert_eq!(stopped, SEEDS, "{name}: every run reaches the target");
    assert!(
        (90..=98).contains(&covered),
        "{name}: the 95% interval held the exact value in {covered} of {SEEDS} runs"
    );
}

#[test]
fn rare_event_intervals_cover_one_of_three() {
    assert_covers(
        "1-of-3 exponential",
        &one_of_three(
            r#"{ "dist": "exponential", "mean": "2000h" }"#,
            r#"{ "dist": "exponential", "mean": "4h" }"#,
        ),
        one_of_three_exact(),
    );
}

#[test]
fn rare_event_intervals_cover_two_of_four_with_one_crew() {
    assert_covers(
        "2-of-4 one crew eps 1e-4",
        &format!(
            r#"{{ {SIM}, "components": {{ "u": {{ "count": 4, "mtbf": "10000h", "mttr": "1h", "crew": "c" }} }},
               "crews": {{ "c": {{ "size": 1 }} }},
               "system": {{ "k_of_n": {{ "k": 2, "of": ["u"] }} }} }}"#
        ),
        two_of_four_exact(1e-4),
    );
}

/// Weibull(1.5) lives and lognormal(cv 1) repairs (not regenerative at the
/// all-fine state). Measured 89 of 100 (all 11 misses below the exact
/// value) with first-round stopping and work units that started all new;
/// 90 of 100 (9 below) with the two-round rule, equilibrium starting ages
/// and the distance-to-cut pick. The pooled estimate is unbiased; the
/// misses are runs short of large weights, whose estimate and interval are
/// both low. At the lower edge of the band: a change to the biasing that
/// widens the weights fails here.
#[test]
fn rare_event_intervals_cover_one_of_three_weibull_lognormal() {
    assert_covers(
        "1-of-3 Weibull/lognormal",
        &one_of_three(
            r#"{ "dist": "weibull", "shape": 1.5, "mean": "2000h" }"#,
            r#"{ "dist": "lognormal", "mean": "4h", "cv": 1 }"#,
        ),
        one_of_three_exact(),
    );
}
