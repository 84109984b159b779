//! The Markov engine (issue 12 items 3–5): exact values that cancellation
//! used to destroy, lumped and closed-form chains of identical units, the
//! phase-type expansion's bound against an exact semi-Markov answer, and
//! sizes that must stay fast.

use availsim::analytic::{self, ctmc::Chain, Method};

use crate::util::*;

#[track_caller]
fn assert_rel(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: {got:e} vs {want:e}"
    );
}

fn group(count: usize, mtbf: &str, mttr: &str, system: &str, extra: &str) -> String {
    format!(
        r#"{{ "simulation": {{ "horizon": "1000h" }},
             "components": {{ "u": {{ "count": {count}, "mtbf": "{mtbf}", "mttr": "{mttr}"{extra} }} }},
             "system": {system} }}"#
    )
}

/// Issue 12: 4 units in parallel, MTBF 10⁶ h, MTTR 1 h printed MTTF
/// −1.38e21 h; exact 2.500011×10²³ h (birth–death passage sums, computed
/// independently in exact rationals).
#[test]
fn mttf_of_four_reliable_units_in_parallel_is_exact() {
    let m = model(&group(4, "1000000h", "1h", r#"{ "parallel": ["u"] }"#, ""));
    let a = analytic::analyze(&m);
    assert_rel(
        "analyze",
        a.mttf_hours.unwrap(),
        2.500_010_833_352_5e23,
        1e-9,
    );
    let chain = Chain::build(&m).unwrap();
    assert_rel("chain", chain.mttf().unwrap(), 2.500_010_833_352_5e23, 1e-9);
}

/// Issue 12: 5-of-9 at 10⁵/1 h printed 8.0×10¹⁹ h; exact 1.587464×10²² h.
#[test]
fn mttf_of_five_of_nine_is_exact() {
    let m = model(&group(
        9,
        "100000h",
        "1h",
        r#"{ "k_of_n": { "k": 5, "of": ["u"] } }"#,
        "",
    ));
    let a = analytic::analyze(&m);
    assert_rel(
        "analyze",
        a.mttf_hours.unwrap(),
        1.587_464_293_611_365_6e22,
        1e-9,
    );
    let chain = Chain::build(&m).unwrap();
    assert_rel(
        "chain",
        chain.mttf().unwrap(),
        1.587_464_293_611_365_6e22,
        1e-9,
    );
}

/// REFERENCE.md: four units, up while at least 2 are up, one crew, failure
/// rate ε, repair rate 1: the chain's unavailability to 6 digits down to
/// 10⁻¹⁴ (where 1 − A has no digits left).
#[test]
fn two_of_four_with_one_crew_keeps_rare_unavailability() {
    for (mtbf, want) in [
        ("100h", 2.328029e-5),
        ("1000h", 2.392800e-8),
        ("10000h", 2.399280e-11),
        ("100000h", 2.399928e-14),
    ] {
        let m = model(&format!(
            r#"{{ "simulation": {{ "horizon": "1000h" }},
                 "components": {{ "u": {{ "count": 4, "mtbf": "{mtbf}", "mttr": "1h", "crew": "c" }} }},
                 "crews": {{ "c": {{ "size": 1 }} }},
                 "system": {{ "k_of_n": {{ "k": 2, "of": ["u"] }} }} }}"#
        ));
        let a = analytic::analyze(&m);
        assert_eq!(a.method, Some(Method::Ctmc));
        assert_eq!(a.error_bound, Some(0.0));
        assert_eq!(a.states, Some(5), "lumped birth–death chain");
        assert_rel(mtbf, a.steady_unavailability.unwrap(), want, 1e-6);
        let iu = a.interval_unavailability.unwrap();
        assert!(
            iu > 0.0 && iu < want,
            "{mtbf}: interval U {iu:e} from all up"
        );
    }
}

/// REFERENCE.md: three units, MTTF 2000 h, MTTR 4 h, own repair: 2-of-3
/// and 1-of-3 unavailabilities, directly (no 1 − A).
#[test]
fn structure_function_unavailability_is_direct() {
    for (k, want) in [(2, 1.193624e-5), (1, 7.952191e-9)] {
        let m = model(&group(
            3,
            "2000h",
            "4h",
            &format!(r#"{{ "k_of_n": {{ "k": {k}, "of": ["u"] }} }}"#),
            "",
        ));
        let a = analytic::analyze(&m);
        assert_eq!(a.error_bound, Some(0.0));
        assert_rel("U", a.steady_unavailability.unwrap(), want, 1e-6);
        let o = a.outage_rate.unwrap();
        assert!(o > 0.0 && o.is_finite());
    }
    // 2-of-3 outages per year: REFERENCE.md 5.2246e-2.
    let m = model(&group(
        3,
        "2000h",
        "4h",
        r#"{ "k_of_n": { "k": 2, "of": ["u"] } }"#,
        "",
    ));
    let a = analytic::analyze(&m);
    assert_rel(
        "outages/yr",
        a.outage_rate.unwrap() * 8760.0,
        5.2246e-2,
        1e-4,
    );
}

/// A 1-of-2 pair sharing one crew with fixed 4 h repairs (MTTF 2000 h).
/// Exact by a regenerative argument at each repair start with the other
/// unit up: the other fails during the repair at S ~ Exp(λ) with
/// probability 1 − e^{−λD}, leaving the system down for D − S; otherwise
/// both run for Exp(2λ). U = E[(D − S)⁺] / (D + e^{−λD}/(2λ)).
fn deterministic_pair_unavailability() -> f64 {
    let (lambda, d): (f64, f64) = (1.0 / 2000.0, 4.0);
    let down = d - (-(-lambda * d).exp_m1()) / lambda;
    down / (d + (-lambda * d).exp() / (2.0 * lambda))
}

fn deterministic_pair() -> availsim::Model {
    model(
        r#"{ "simulation": { "horizon": "100000h" },
             "components": { "u": { "count": 2, "mtbf": "2000h",
                                    "repair": { "dist": "deterministic", "value": "4h" }, "crew": "c" } },
             "crews": { "c": { "size": 1 } },
             "system": { "parallel": ["u"] } }"#,
    )
}

/// REFERENCE.md: Erlang-k is off by about +50% (k = 2) and +10% (k = 10);
/// the extrapolated figure's bound contains the exact value and is tight.
#[test]
fn phase_type_bound_contains_the_exact_deterministic_answer() {
    let exact = deterministic_pair_unavailability();
    let m = deterministic_pair();
    for (k, off) in [(2, 0.5), (10, 0.1), (100, 0.01)] {
        let (_, u) = Chain::expanded(&m, k).unwrap().steady().unwrap();
        let rel = u / exact - 1.0;
        assert!((rel - off).abs() < 0.15 * off, "k = {k}: {rel:+.4}");
    }
    assert!(Chain::build(&m).is_err(), "a fixed delay is not exact");
    let a = analytic::analyze(&m);
    assert_eq!(a.method, Some(Method::CtmcPhaseType));
    assert!(!a.exact);
    let u = a.steady_unavailability.unwrap();
    let bound = a.error_bound.unwrap();
    assert!((u - exact).abs() <= bound, "{u:e} ± {bound:e} vs {exact:e}");
    assert!(
        bound < 1e-3 * exact,
        "bound {bound:e} too loose for {exact:e}"
    );
    assert!((a.steady_state.unwrap() + u - 1.0).abs() < 1e-12);
}

/// Non-finite inputs never become figures: an MTTR of 5e-324 h.
#[test]
fn subnormal_repair_time_prints_no_nan() {
    let d = Dir::new();
    let path = d.write(
        "s.json",
        &group(2, "1000h", "5e-324h", r#"{ "parallel": ["u"] }"#, ""),
    );
    let o = d.run(&["check", path.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(!out.to_lowercase().contains("nan"), "{out}");
    assert!(!out.contains("inf"), "{out}");
}

/// The shipped failover designs get a bounded figure (dr-site: uniform
/// failover, gamma manual recovery, cold standby).
#[test]
fn shipped_dr_site_gets_a_bounded_figure() {
    let d = Dir::new();
    let o = d.run(&[
        "check",
        "--format",
        "json",
        scenarios().join("dr-site.json").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let f = &v[0];
    assert_eq!(f["method"], "ctmc-phase-type", "{f}");
    let u = f["unavailability"].as_f64().unwrap();
    let b = f["error_bound"].as_f64().unwrap();
    assert!(u > 0.0 && b < 1e-3 * u, "{u:e} ± {b:e}");
    assert!(f["states"].as_u64().unwrap() > 0);
}

/// Issue 11 item 7: 10⁵ instances must not need gigabytes or minutes. A
/// generous sanity bound only; the timings are in benches/.
#[test]
fn large_groups_are_analysed_quickly() {
    let started = std::time::Instant::now();
    // 10,000-of-20,000 exponential, dedicated repair: binomial in log space.
    let m = model(&group(
        20_000,
        "1000h",
        "10h",
        r#"{ "k_of_n": { "k": 10000, "of": ["u"] } }"#,
        "",
    ));
    let a = analytic::analyze(&m);
    assert_eq!(a.method, Some(Method::StructureFunction));
    assert!(a.steady_unavailability.unwrap() < 1e-100);
    // 100,000 units under 100 crews: the birth–death closed form.
    let m = model(
        r#"{ "simulation": { "horizon": "1000h" },
             "components": { "u": { "count": 100000, "mtbf": "10000h", "mttr": "10h", "crew": "c" } },
             "crews": { "c": { "size": 200 } },
             "system": { "k_of_n": { "k": 99700, "of": ["u"] } } }"#,
    );
    let a = analytic::analyze(&m);
    assert_eq!(a.method, Some(Method::Ctmc));
    let u = a.steady_unavailability.unwrap();
    assert!(u > 0.0 && u < 1.0, "{u}");
    assert!(a.mttf_hours.unwrap() > 0.0);
    // 40,000 Weibull units in parallel (importances in one pass).
    let m = model(
        r#"{ "simulation": { "horizon": "1000h" },
             "components": { "u": { "count": 40000, "failure": { "dist": "weibull", "shape": 1.5, "mean": "1000h" }, "mttr": "10h" } },
             "system": { "parallel": ["u"] } }"#,
    );
    let a = analytic::analyze(&m);
    assert_eq!(a.method, Some(Method::StructureFunction));
    assert!(a.startup_bias.unwrap().is_finite());
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}
