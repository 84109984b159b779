//! Every mistake is a clear error: exit 2, the file, the JSON path, a
//! message (and a hint where obvious); never a panic. One test per kind.

use crate::util::*;

/// Runs `check` on `json` and asserts exit 2 with `path` and `needle` in
/// the message.
#[track_caller]
fn expect_invalid(json: &str, path: &str, needle: &str) -> String {
    let d = Dir::new();
    d.write("s.json", json);
    let o = d.run(&["check", "s.json"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2, stderr:\n{err}");
    assert!(o.stdout.is_empty(), "nothing on stdout for invalid input");
    let at = if path.is_empty() {
        "s.json: ".to_string()
    } else {
        format!("s.json: {path}: ")
    };
    assert!(err.contains(&at), "expected `{at}` in:\n{err}");
    assert!(err.contains(needle), "expected `{needle}` in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

macro_rules! invalid {
    ($($name:ident: $json:expr, $path:expr, $needle:expr;)*) => {
        $(
            #[test]
            fn $name() {
                expect_invalid($json, $path, $needle);
            }
        )*
    };
}

const SIM: &str = r#""simulation": { "horizon": "1y" }"#;

fn scenario(components: &str, system: &str) -> String {
    format!(r#"{{ {SIM}, "components": {{ {components} }}, "system": {system} }}"#)
}

fn with_a(system: &str) -> String {
    scenario(
        r#""a": { "mtbf": "100h", "mttr": "1h" }, "web": { "count": 3, "mtbf": "100h", "mttr": "1h" }"#,
        system,
    )
}

fn with_failure(failure: &str) -> String {
    scenario(
        &format!(r#""a": {{ "failure": {failure}, "mttr": "1h" }}"#),
        r#""a""#,
    )
}

invalid! {
    unknown_component_reference: &with_a(r#"{ "series": ["a", "b", "web"] }"#), "system.series[1]", "unknown component `b`";
    duplicate_component_name: &scenario(r#""a": { "mtbf": 1, "mttr": 1 }, "a": { "mtbf": 2, "mttr": 1 }"#, r#""a""#), "components.a", "defined twice";
    invalid_component_name: &scenario(r#""a[1]": { "mtbf": 1, "mttr": 1 }"#, r#""a""#), "components.a[1]", "invalid component name";
    unknown_field_in_component: &scenario(r#""a": { "mtbff": 1, "mttr": 1 }"#, r#""a""#), "components.a.mtbff", "unknown field `mtbff`";
    unknown_top_level_field: &format!(r#"{{ {SIM}, "components": {{ "a": {{ "mtbf": 1, "mttr": 1 }} }}, "system": "a", "sytem": 1 }}"#), "sytem", "unknown field `sytem`";
    unknown_field_in_simulation: r#"{ "simulation": { "horizon": "1y", "replicatons": 5 }, "components": { "a": { "mtbf": 1, "mttr": 1 } }, "system": "a" }"#, "simulation.replicatons", "unknown field";
    unknown_field_in_distribution: &with_failure(r#"{ "dist": "weibull", "shape": 1.5, "mean": 10, "scal": 2 }"#), "components.a.failure.scal", "unknown field `scal`";
    unknown_distribution_kind: &with_failure(r#"{ "dist": "weibul", "shape": 1.5, "mean": 10 }"#), "components.a.failure.dist", "unknown variant `weibul`";
    parameter_of_another_kind: &with_failure(r#"{ "dist": "weibull", "shape": 1.5, "mean": 10, "sd": 2 }"#), "components.a.failure.sd", "does not apply to a weibull";
    missing_distribution_parameter: &with_failure(r#"{ "dist": "weibull", "mean": 10 }"#), "components.a.failure", "needs `shape`";
    scale_and_mean_together: &with_failure(r#"{ "dist": "gamma", "shape": 2, "mean": 10, "scale": 5 }"#), "components.a.failure", "not both";
    negative_shape: &with_failure(r#"{ "dist": "weibull", "shape": -1, "mean": 10 }"#), "components.a.failure", "shape must be a positive";
    lognormal_mixed_parameters: &with_failure(r#"{ "dist": "lognormal", "mean": 10, "sigma": 1 }"#), "components.a.failure", "either `mean` and `cv`";
    negative_cv: &with_failure(r#"{ "dist": "lognormal", "mean": 10, "cv": -1 }"#), "components.a.failure", "cv must be zero or more";
    normal_with_nonpositive_mean: &with_failure(r#"{ "dist": "normal", "mean": 0, "sd": 1 }"#), "components.a.failure", "mean must be a positive";
    uniform_min_above_max: &with_failure(r#"{ "dist": "uniform", "min": 5, "max": 2 }"#), "components.a.failure", "must not exceed max";
    empirical_without_samples: &with_failure(r#"{ "dist": "empirical", "samples": [] }"#), "components.a.failure", "must not be empty";
    empirical_bad_sample: &with_failure(r#"{ "dist": "empirical", "samples": [1, "2q"] }"#), "components.a.failure.samples[1]", "unknown unit";
    deterministic_zero: &with_failure(r#"{ "dist": "deterministic", "value": 0 }"#), "components.a.failure", "value must be a positive";
    mtbf_and_failure_together: &scenario(r#""a": { "mtbf": 1, "failure": { "dist": "exponential", "mean": 1 }, "mttr": 1 }"#, r#""a""#), "components.a.failure", "both `mtbf` and `failure`";
    missing_failure: &scenario(r#""a": { "mttr": 1 }"#, r#""a""#), "components.a", "missing `mtbf` or `failure`";
    missing_repair: &scenario(r#""a": { "mtbf": 1 }"#, r#""a""#), "components.a", "missing `mttr` or `repair`";
    bad_duration_unit: &scenario(r#""a": { "mtbf": 100, "mttr": "8x" }"#, r#""a""#), "components.a.mttr", "unknown unit `x`";
    negative_duration: &scenario(r#""a": { "mtbf": -5, "mttr": 1 }"#, r#""a""#), "components.a.mtbf", "negative";
    zero_mtbf: &scenario(r#""a": { "mtbf": 0, "mttr": 1 }"#, r#""a""#), "components.a.mtbf", "positive";
    wrong_type: &scenario(r#""a": { "count": "three", "mtbf": 1, "mttr": 1 }"#, r#""a""#), "components.a.count", "invalid type";
    count_zero: &scenario(r#""a": { "count": 0, "mtbf": 1, "mttr": 1 }"#, r#""a""#), "components.a.count", "count must be between 1";
    count_too_large: &scenario(r#""a": { "count": 5000000, "mtbf": 1, "mttr": 1 }"#, r#"{ "parallel": ["a"] }"#), "components.a.count", "count must be between 1";
    k_greater_than_n: &with_a(r#"{ "series": ["a", { "k_of_n": { "k": 4, "of": ["web"] } }] }"#), "system.series[1].k_of_n.k", "k = 4 but `of` has only 3 nodes";
    k_zero: &with_a(r#"{ "series": ["a", { "k_of_n": { "k": 0, "of": ["web"] } }] }"#), "system.series[1].k_of_n.k", "k must be at least 1";
    k_of_n_unknown_field: &with_a(r#"{ "series": ["a", { "k_of_n": { "k": 1, "off": ["web"] } }] }"#), "system.series[1].k_of_n.off", "unknown field `off`";
    empty_list: &with_a(r#"{ "series": ["a", "web", { "parallel": [] }] }"#), "system.series[2].parallel", "empty list";
    group_where_one_node_is_expected: &scenario(r#""web": { "count": 3, "mtbf": 1, "mttr": 1 }"#, r#""web""#), "system", "group of 3 instances (web[0] … web[2])";
    instance_index_out_of_range: &with_a(r#"{ "series": ["a", "web[0]", "web[1]", "web[2]", "web[3]"] }"#), "system.series[4]", "`web[3]` does not exist";
    index_on_single_component: &with_a(r#"{ "series": ["a[0]", "web"] }"#), "system.series[0]", "`a` has count 1";
    unused_component: &with_a(r#"{ "series": ["a"] }"#), "components.web", "not used in `system`";
    unknown_node_kind: &with_a(r#"{ "paralel": ["a", "web"] }"#), "system.paralel", "unknown node kind `paralel`";
    node_with_two_kinds: &with_a(r#"{ "series": ["a"], "parallel": ["web"] }"#), "system", "exactly one key";
    node_of_wrong_type: &with_a(r#"{ "series": ["a", "web", 5] }"#), "system.series[2]", "expected a component name or a node object";
    missing_system: &format!(r#"{{ {SIM}, "components": {{ "a": {{ "mtbf": 1, "mttr": 1 }} }} }}"#), "system", "missing field `system`";
    missing_components: &format!(r#"{{ {SIM}, "system": "a" }}"#), "components", "missing field `components`";
    missing_horizon: r#"{ "components": { "a": { "mtbf": 1, "mttr": 1 } }, "system": "a" }"#, "simulation.horizon", "missing horizon";
    warmup_not_before_horizon: r#"{ "simulation": { "horizon": "10h", "warmup": "10h" }, "components": { "a": { "mtbf": 1, "mttr": 1 } }, "system": "a" }"#, "simulation.warmup", "must be shorter than the horizon";
    too_few_replications: r#"{ "simulation": { "horizon": "10h", "replications": 1 }, "components": { "a": { "mtbf": 1, "mttr": 1 } }, "system": "a" }"#, "simulation.replications", "at least 2";
    too_few_transient_points: r#"{ "simulation": { "horizon": "10h", "transient_points": 1 }, "components": { "a": { "mtbf": 1, "mttr": 1 } }, "system": "a" }"#, "simulation.transient_points", "between 2 and";
    run_too_large_to_finish: r#"{ "simulation": { "horizon": "1000y", "replications": 100000000 }, "components": { "a": { "count": 100, "mtbf": "1h", "mttr": "1h" } }, "system": { "parallel": ["a"] } }"#, "simulation", "would process about";
    invalid_scenario_name: &format!(r#"{{ "name": "../x", {SIM}, "components": {{ "a": {{ "mtbf": 1, "mttr": 1 }} }}, "system": "a" }}"#), "name", "invalid scenario name";
    not_an_object: "[1, 2]", "", "a scenario is a JSON object";
    unknown_crew: &scenario(r#""a": { "mtbf": 1, "mttr": 1, "crew": "opz" }"#, r#""a""#).replace("\"system\"", "\"crews\": { \"ops\": { \"size\": 1 } }, \"system\""), "components.a.crew", "unknown crew `opz`";
    crew_size_zero: &scenario(r#""a": { "mtbf": 1, "mttr": 1, "crew": "ops" }"#, r#""a""#).replace("\"system\"", "\"crews\": { \"ops\": { \"size\": 0 } }, \"system\""), "crews.ops.size", "size must be between 1";
    unused_crew: &scenario(r#""a": { "mtbf": 1, "mttr": 1 }"#, r#""a""#).replace("\"system\"", "\"crews\": { \"ops\": { \"size\": 1 } }, \"system\""), "crews.ops", "not used by any component";
    common_cause_unknown_instance: &with_a(r#"{ "series": ["a", "web"] }"#).replace("\"system\"", "\"common_cause\": [ { \"name\": \"rack\", \"affects\": [\"web[0]\", \"wbe[1]\"], \"mtbf\": 100, \"mttr\": 1 } ], \"system\""), "common_cause[0].affects[1]", "unknown component";
    common_cause_empty_affects: &with_a(r#"{ "series": ["a", "web"] }"#).replace("\"system\"", "\"common_cause\": [ { \"name\": \"rack\", \"affects\": [], \"mtbf\": 100, \"mttr\": 1 } ], \"system\""), "common_cause[0].affects", "empty list";
    common_cause_name_taken: &with_a(r#"{ "series": ["a", "web"] }"#).replace("\"system\"", "\"common_cause\": [ { \"name\": \"web\", \"affects\": [\"a\"], \"mtbf\": 100, \"mttr\": 1 } ], \"system\""), "common_cause[0].name", "already used";
    common_cause_without_repair: &with_a(r#"{ "series": ["a", "web"] }"#).replace("\"system\"", "\"common_cause\": [ { \"name\": \"rack\", \"affects\": [\"a\"], \"mtbf\": 100 } ], \"system\""), "common_cause[0]", "missing `mttr` or `repair`";
    objective_availability_above_one: &scenario(r#""a": { "mtbf": 1, "mttr": 1 }"#, r#""a""#).replace("\"system\"", "\"objectives\": [ { \"availability\": 99.95, \"window\": \"30d\" } ], \"system\""), "objectives[0].availability", "between 0 and 1";
    objective_window_longer_than_run: &scenario(r#""a": { "mtbf": 1, "mttr": 1 }"#, r#""a""#).replace("\"system\"", "\"objectives\": [ { \"availability\": 0.99, \"window\": \"2y\" } ], \"system\""), "objectives[0].window", "must be positive and fit";
    standby_with_one_unit: &with_a(r#"{ "series": ["web", { "standby": { "units": ["a"] } }] }"#), "system.series[1].standby.units", "at least two units";
    standby_unit_group_of_one: &with_a(r#"{ "series": ["web", { "standby": { "units": "a" } }] }"#), "system.series[1].standby.units", "single instance";
    standby_unknown_field: &with_a(r#"{ "series": ["a", { "standby": { "units": "web", "failvoer": "1m" } }] }"#), "system.series[1].standby.failvoer", "unknown field `failvoer`";
    standby_unknown_mode: &with_a(r#"{ "series": ["a", { "standby": { "units": "web", "mode": "lukewarm" } }] }"#), "system.series[1].standby.mode", "unknown variant `lukewarm`";
    dormant_factor_outside_warm: &with_a(r#"{ "series": ["a", { "standby": { "units": "web", "mode": "cold", "dormant_factor": 0.5 } }] }"#), "system.series[1].standby.dormant_factor", "applies to warm mode only";
    dormant_factor_above_one: &with_a(r#"{ "series": ["a", { "standby": { "units": "web", "mode": "warm", "dormant_factor": 1.5 } }] }"#), "system.series[1].standby.dormant_factor", "between 0 and 1";
    detection_and_heartbeat: &with_a(r#"{ "series": ["a", { "standby": { "units": "web", "detection": "10s", "heartbeat": { "interval": "5s", "misses": 3 } } }] }"#), "system.series[1].standby.heartbeat", "both `detection` and `heartbeat`";
    heartbeat_without_misses: &with_a(r#"{ "series": ["a", { "standby": { "units": "web", "heartbeat": { "interval": "5s", "misses": 0 } } }] }"#), "system.series[1].standby.heartbeat", "misses of 1 or more";
    switch_success_outside_unit_interval: &with_a(r#"{ "series": ["a", { "standby": { "units": "web", "switch_success": 1.2 } }] }"#), "system.series[1].standby.switch_success", "probability between 0 and 1";
    failover_of_wrong_type: &with_a(r#"{ "series": ["a", { "standby": { "units": "web", "failover": [1] } }] }"#), "system.series[1].standby.failover", "duration or a distribution";
    failover_bad_distribution: &with_a(r#"{ "series": ["a", { "standby": { "units": "web", "failover": { "dist": "uniform", "min": "2m" } } }] }"#), "system.series[1].standby.failover", "needs `min` and `max`";
    component_shared_between_standby_units: &with_a(r#"{ "series": ["a", { "standby": { "units": [{ "series": ["web[0]", "web[1]"] }, { "series": ["web[1]", "web[2]"] }] } }] }"#), "system.series[1].standby", "`web[1]` is in a standby unit";
    balancer_min_healthy_above_pool: &with_a(r#"{ "balancer": { "via": "a", "pool": "web", "min_healthy": 4 } }"#), "system.balancer.min_healthy", "between 1 and the pool size (3)";
    balancer_zero_interval: &with_a(r#"{ "balancer": { "via": "a", "pool": "web", "health_check": { "interval": 0 } } }"#), "system.balancer.health_check", "positive interval";
    balancer_via_group: &with_a(r#"{ "series": ["a", { "balancer": { "via": "web", "pool": ["web[0]"] } }] }"#), "system.series[1].balancer.via", "group of 3 instances";
    balancer_missing_pool: &with_a(r#"{ "series": ["web", { "balancer": { "via": "a" } }] }"#), "system.series[1].balancer", "missing field `pool`";
}

#[test]
fn typo_in_a_crew_gets_a_suggestion() {
    let json = scenario(r#""a": { "mtbf": 1, "mttr": 1, "crew": "opz" }"#, r#""a""#).replace(
        "\"system\"",
        "\"crews\": { \"ops\": { \"size\": 1 } }, \"system\"",
    );
    let err = expect_invalid(&json, "components.a.crew", "unknown crew");
    assert!(err.contains("did you mean `ops`?"), "{err}");
}

#[test]
fn typo_in_a_reference_gets_a_suggestion() {
    let err = expect_invalid(
        &with_a(r#"{ "series": ["a", "wbe"] }"#),
        "system.series[1]",
        "unknown component `wbe`",
    );
    assert!(err.contains("did you mean `web`?"), "{err}");
}

#[test]
fn typo_in_a_field_gets_a_suggestion() {
    let err = expect_invalid(
        &scenario(r#""a": { "mtbff": 1, "mttr": 1 }"#, r#""a""#),
        "components.a.mtbff",
        "unknown field",
    );
    assert!(err.contains("did you mean `mtbf`?"), "{err}");
}

#[test]
fn json_syntax_error_gives_line_and_column() {
    let d = Dir::new();
    d.write(
        "s.json",
        "{\n  \"components\": {},\n  \"system\": \"a\",,\n}",
    );
    let o = d.run(&["run", "s.json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("s.json:3:17: invalid JSON"), "{err}");
}

#[test]
fn bytes_that_are_not_utf8_are_an_error() {
    let d = Dir::new();
    std::fs::write(d.path().join("s.json"), b"{\"name\": \"\xff\xfe\"}").unwrap();
    let o = d.run(&["check", "s.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("s.json:1:11: invalid JSON: the file is not UTF-8 text"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_problem_of_a_file_is_reported_together() {
    let json = r#"{ "simulation": { "horizon": "1y", "replications": 1 },
      "components": { "a": { "mtbf": -1, "mttr": 1 }, "b": { "mtbf": 1, "mttr": "2q" },
                      "c": { "count": 2, "mtbf": 1, "mttr": 1 } },
      "system": { "series": ["a", "b", "c", "d", { "k_of_n": { "k": 3, "of": ["c"] } }] } }"#;
    let err = expect_invalid(json, "simulation.replications", "at least 2");
    for path in [
        "components.a.mtbf",
        "components.b.mttr",
        "system.series[3]",
        "system.series[4].k_of_n.k",
    ] {
        assert!(
            err.contains(&format!("s.json: {path}: ")),
            "missing {path} in:\n{err}"
        );
    }
    assert!(err.contains("5 problems found"), "{err}");
    // A broken definition is reported once, not again at each reference.
    assert!(!err.contains("unknown component `a`"), "{err}");
}

#[test]
fn missing_file_is_named() {
    let d = Dir::new();
    let o = d.run(&["run", "nope.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nope.json: cannot read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_command_line_values_exit_2() {
    let d = Dir::new();
    let pool = scenarios().join("pool.json");
    for args in [
        vec!["run", pool.to_str().unwrap(), "--threads", "0"],
        vec!["run", pool.to_str().unwrap(), "--horizon", "-5h"],
        vec!["run", pool.to_str().unwrap(), "--horizon", "5x"],
        vec!["run", pool.to_str().unwrap(), "--replications", "many"],
        vec!["run", pool.to_str().unwrap(), "--replications", "1"],
        vec!["frobnicate"],
    ] {
        let o = d.run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn check_prints_the_resolved_topology() {
    let d = Dir::new();
    let o = d.run(&["check", scenarios().join("pool.json").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "pool",
        "valid",
        "k_of_n (3 up of 5)",
        "web[4]",
        "db[1]",
        "parallel (1 up of 2)",
        "exponential(mean 50000 h)",
    ] {
        assert!(out.contains(needle), "missing {needle} in:\n{out}");
    }
}

#[test]
fn schema_is_json_describing_the_format() {
    let d = Dir::new();
    let o = d.run(&["schema"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("schema is JSON");
    let props = &v["properties"];
    for key in [
        "name",
        "simulation",
        "components",
        "crews",
        "common_cause",
        "system",
        "objectives",
    ] {
        assert!(props.get(key).is_some(), "schema lacks {key}");
    }
}

#[test]
fn a_common_cause_too_fast_to_simulate_is_refused() {
    expect_invalid(
        &with_a(r#"{ "series": ["a", "web"] }"#)
            .replace("\"1y\"", "\"100y\"")
            .replace(
                "\"system\"",
                "\"common_cause\": [ { \"name\": \"flaky\", \"affects\": [\"a\"], \"mtbf\": \"1ms\", \"mttr\": \"1ms\" } ], \"system\"",
            ),
        "simulation",
        "would process about",
    );
}
