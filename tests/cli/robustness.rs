//! Whatever the bytes, the loader answers with a model or an error, never a
//! panic; and whatever it accepts, the engine runs.

use std::path::Path;

use availsim::scenario::{load_bytes, load_str, Overrides};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use crate::util::scenarios;

const VOCABULARY: &[&str] = &[
    "name",
    "simulation",
    "horizon",
    "replications",
    "seed",
    "warmup",
    "transient_points",
    "components",
    "count",
    "mtbf",
    "mttr",
    "failure",
    "repair",
    "crew",
    "dist",
    "mean",
    "shape",
    "scale",
    "cv",
    "mu",
    "sigma",
    "sd",
    "min",
    "max",
    "value",
    "samples",
    "system",
    "series",
    "parallel",
    "k_of_n",
    "k",
    "of",
    "standby",
    "crews",
    "size",
    "web",
    "db",
    "lb",
    "web[0]",
    "db[1]",
    "exponential",
    "weibull",
    "lognormal",
    "gamma",
    "normal",
    "uniform",
    "deterministic",
    "empirical",
    "objectives",
    "common_cause",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..10).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        select(VOCABULARY).prop_map(Value::from),
        "[0-9]{1,4}(\\.[0-9])?(ms|s|m|h|d|w|y|x|)".prop_map(Value::from),
        ".{0,6}".prop_map(Value::from),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((select(VOCABULARY).prop_map(String::from), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Replaces the `target`-th value (depth-first) of `v` by `new`.
fn replace_nth(v: &mut Value, target: usize, new: &Value, seen: &mut usize) -> bool {
    if *seen == target {
        *v = new.clone();
        return true;
    }
    *seen += 1;
    match v {
        Value::Array(items) => items.iter_mut().any(|x| replace_nth(x, target, new, seen)),
        Value::Object(map) => map.values_mut().any(|x| replace_nth(x, target, new, seen)),
        _ => false,
    }
}

fn example_scenarios() -> Vec<Value> {
    [
        "web-service.json",
        "tiers.json",
        "quorum.json",
        "three-tier.json",
        "dr-site.json",
        "lb-pool.json",
        "zones.json",
        "on-call.json",
    ]
    .iter()
    .map(|f| serde_json::from_str(&std::fs::read_to_string(scenarios().join(f)).unwrap()).unwrap())
    .collect()
}

/// Runs a model that loaded, if it is small enough to run in a test.
fn run_if_small(model: &availsim::Model) {
    if model.expected_events() > 4e5 {
        return;
    }
    let r = availsim::run(model, 1).expect("runs");
    assert!(
        (0.0..=1.0).contains(&r.availability.mean),
        "{}",
        r.availability.mean
    );
    assert!(r
        .transient
        .as_ref()
        .unwrap()
        .availability
        .iter()
        .all(|a| (0.0..=1.0).contains(a)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = load_bytes(&bytes, Path::new("fuzz.json"), &Overrides::default());
    }

    #[test]
    fn arbitrary_json_never_panics(v in json()) {
        let text = v.to_string();
        if let Ok(model) = load_str(&text, Path::new("fuzz.json"), &Overrides::default()) {
            run_if_small(&model);
        }
    }

    #[test]
    fn mutated_scenarios_never_panic(which in 0usize..8, target in 0usize..150, new in json()) {
        let mut v = example_scenarios().swap_remove(which);
        replace_nth(&mut v, target, &new, &mut 0);
        let overrides = Overrides { horizon: Some(200.0), replications: Some(3), seed: Some(1), ..Overrides::default() };
        match load_str(&v.to_string(), Path::new("fuzz.json"), &overrides) {
            Ok(model) => run_if_small(&model),
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("fuzz.json"), "error does not name the file: {msg}");
            }
        }
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
    let text = "[".repeat(100_000);
    assert!(load_str(&text, Path::new("deep.json"), &Overrides::default()).is_err());
    let nested = format!(
        r#"{{ "simulation": {{ "horizon": 10 }}, "components": {{ "a": {{ "mtbf": 1, "mttr": 1 }} }}, "system": {}"a"{} }}"#,
        r#"{"series": ["#.repeat(200),
        "]}".repeat(200)
    );
    assert!(load_str(&nested, Path::new("deep.json"), &Overrides::default()).is_err());
}
