//! Issue 11, part A: sweeps that would mislabel what they ran, merges of
//! tampered or inconsistent parts, sharding of dotted names, per-shard size
//! guard, balanced shards, and batch names that collide with batch outputs.

use serde_json::Value;

use crate::util::{scenarios, stderr, stdout, Dir};

fn pool() -> String {
    scenarios().join("pool.json").to_str().unwrap().to_string()
}

#[test]
fn sweep_refuses_a_swept_simulation_field_also_set_by_its_option() {
    let d = Dir::new();
    let p = pool();
    for (set, option, value) in [
        ("simulation.horizon=1y,2y", "--horizon", "5y"),
        ("simulation.seed=1,2", "--seed", "3"),
        ("simulation.replications=100,200", "--replications", "300"),
    ] {
        let o = d.run(&["sweep", &p, "--set", set, option, value, "--no-plots"]);
        assert_eq!(o.status.code(), Some(2), "{set} {option}: {}", stderr(&o));
        assert!(stderr(&o).contains(option), "{}", stderr(&o));
        assert!(!d.path().join("output").exists(), "nothing may run");
    }
}

#[test]
fn sweep_refuses_nan_and_empty_values() {
    let d = Dir::new();
    let p = pool();
    for set in [
        "components.web.count=NaN",
        "components.web.mttr=NaN",
        "components.web.mttr=1,,2",
        "components.web.mttr=inf",
    ] {
        let o = d.run(&["sweep", &p, "--set", set, "--no-plots"]);
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("finite number") || e.contains("empty value"),
            "{set}: {e}"
        );
        assert!(!e.contains("missing"), "{set}: {e}");
    }
}

/// A small scenario with a balancer (request statistics) and an objective
/// (window statistics), so every part of a tally is exercised.
const SMALL: &str = r#"{ "simulation": { "horizon": "1y", "replications": 2000, "seed": 5 },
    "components": { "lb": { "mtbf": "5000h", "mttr": "2h" },
                    "web": { "count": 3, "mtbf": "500h", "mttr": "8h" } },
    "system": { "balancer": { "via": "lb", "pool": "web", "min_healthy": 2,
                              "health_check": { "interval": "1m", "unhealthy_threshold": 2 } } },
    "objectives": [ { "availability": 0.999, "window": "30d" } ] }"#;

/// Runs `file` as `count` shards into `output/<name>/` and returns the
/// part paths (relative to `d`).
fn shards(d: &Dir, file: &str, name: &str, count: u64, extra: &[&str]) -> Vec<String> {
    (0..count)
        .map(|i| {
            let shard = format!("{i}/{count}");
            let mut args = vec!["run", file, "--shard", &shard, "--quiet"];
            args.extend_from_slice(extra);
            let o = d.run(&args);
            assert!(o.status.success(), "{}", stderr(&o));
            format!("output/{name}/part-{i}-of-{count}.json")
        })
        .collect()
}

fn merge(d: &Dir, parts: &[String], output: &str) -> std::process::Output {
    let mut args = vec!["merge", "--no-plots", "-o", output];
    args.extend(parts.iter().map(String::as_str));
    d.run(&args)
}

fn read_json(d: &Dir, path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(d.path().join(path)).unwrap()).unwrap()
}

/// Re-signs piece `k` of a part with the library's checksum, as a careful
/// forger would: only the consistency checks can then catch the edit.
fn resign(part: &mut Value, k: usize) {
    let piece = &part["pieces"][k];
    let tally: availsim::sim::Tally = serde_json::from_value(piece["tally"].clone()).unwrap();
    let sum = availsim::checksum::piece_checksum(
        part["scenario_hash"].as_str().unwrap(),
        5,
        piece["first_block"].as_u64().unwrap(),
        piece["blocks"].as_u64().unwrap(),
        &tally,
    );
    part["pieces"][k]["checksum"] = Value::from(sum);
}

#[test]
fn merge_refuses_tampered_copied_cut_and_inconsistent_pieces() {
    let d = Dir::new();
    d.write("small.json", SMALL);
    let parts = shards(&d, "small.json", "small", 3, &[]);
    let o = merge(&d, &parts, "good/report.json");
    assert!(o.status.success(), "{}", stderr(&o));
    let original = read_json(&d, &parts[1]);
    assert!(original["pieces"].as_array().unwrap().len() >= 3);
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "edited number",
            |p| p["pieces"][0]["tally"]["system_down_hours"] = Value::from(0.0),
            "checksum",
        ),
        (
            "copied piece",
            |p| {
                let other = p["pieces"][1]["tally"].clone();
                p["pieces"][0]["tally"] = other;
            },
            "checksum",
        ),
        (
            "copied piece with its checksum",
            |p| {
                let other = p["pieces"][1].clone();
                p["pieces"][0]["tally"] = other["tally"].clone();
                p["pieces"][0]["checksum"] = other["checksum"].clone();
            },
            "checksum",
        ),
        (
            "cut short",
            |p| {
                p["pieces"].as_array_mut().unwrap().pop();
            },
            "cut short",
        ),
        (
            "down.n against its values",
            |p| {
                let n = p["pieces"][0]["tally"]["down"]["n"].as_u64().unwrap();
                p["pieces"][0]["tally"]["down"]["n"] = Value::from(n + 1);
                resign(p, 0);
            },
            "down.n",
        ),
        (
            "values cut short",
            |p| {
                p["pieces"][0]["tally"]["down_values"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
                p["pieces"][0]["tally"]["down"]["n"] = Value::from(63);
                resign(p, 0);
            },
            "down.n is 63",
        ),
        (
            "inflated array",
            |p| {
                p["pieces"][0]["tally"]["transient_up"]
                    .as_array_mut()
                    .unwrap()
                    .push(Value::from(1));
                resign(p, 0);
            },
            "transient_up has",
        ),
        (
            "transient count above n",
            |p| {
                p["pieces"][0]["tally"]["transient_up"][3] = Value::from(65);
                resign(p, 0);
            },
            "above",
        ),
        (
            "edited mean",
            |p| {
                p["pieces"][0]["tally"]["down"]["mean"] = Value::from(0.5);
                resign(p, 0);
            },
            "does not match down_values",
        ),
        (
            "objective windows",
            |p| {
                p["pieces"][0]["tally"]["objectives"][0]["met"] = Value::from(1_000_000);
                resign(p, 0);
            },
            "objective windows",
        ),
        (
            "requests count",
            |p| {
                p["pieces"][0]["tally"]["requests"]["n"] = Value::from(1);
                resign(p, 0);
            },
            "requests.n",
        ),
        (
            "range of the part",
            |p| p["first_block"] = Value::from(0),
            "not those of shard 1",
        ),
    ];
    for (what, edit, needle) in cases {
        let mut part = original.clone();
        edit(&mut part);
        std::fs::write(d.path().join(&parts[1]), part.to_string()).unwrap();
        let o = merge(&d, &parts, "bad/report.json");
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{what}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("part-1-of-3.json"),
            "{what}: {}",
            stderr(&o)
        );
        assert!(!d.path().join("bad").exists(), "{what}: nothing written");
    }
}

#[test]
fn merge_refuses_impossible_shard_counts_without_panicking_or_hanging() {
    let d = Dir::new();
    d.write("small.json", SMALL);
    let parts = shards(&d, "small.json", "small", 2, &[]);
    let original = read_json(&d, &parts[0]);
    let cases: [(&str, Value, &str); 4] = [
        ("shards", Value::from(0), "does not exist"),
        ("shard", Value::from(7), "does not exist"),
        ("shards", Value::from(u64::MAX), "missing"),
        ("wall_seconds", Value::from(-1.0), "not a time"),
    ];
    for (field, value, needle) in cases {
        let mut part = original.clone();
        part[field] = value;
        d.write("edited.json", &part.to_string());
        let o = merge(&d, &["edited.json".to_string()], "bad/report.json");
        assert_eq!(o.status.code(), Some(2), "{field}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{field}: {}", stderr(&o));
    }
}

#[test]
fn merge_never_overwrites_its_inputs_and_checks_the_destination_first() {
    let d = Dir::new();
    d.write("small.json", SMALL);
    let parts = shards(&d, "small.json", "small", 2, &[]);
    let before = std::fs::read(d.path().join(&parts[0])).unwrap();
    let o = merge(&d, &parts, &parts[0]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("overwrite its own input"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(d.path().join(&parts[0])).unwrap(), before);
    assert!(!d.path().join("output/small/summary.csv").exists());
    // The same file by another spelling.
    let o = merge(&d, &parts, "output/../output/small/part-0-of-2.json");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A folder, and a path through a file: refused before writing anything.
    std::fs::create_dir(d.path().join("taken")).unwrap();
    let o = merge(&d, &parts, "taken");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(std::fs::read_dir(d.path().join("taken"))
        .unwrap()
        .next()
        .is_none());
    d.write("file", "x");
    let o = merge(&d, &parts, "file/report.json");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not a folder"), "{}", stderr(&o));
}

#[test]
fn a_dotted_file_name_shards_and_merges_under_one_name() {
    let d = Dir::new();
    let mut doc: Value = serde_json::from_str(SMALL).unwrap();
    doc.as_object_mut().unwrap().remove("name");
    d.write("prod.v2.json", &doc.to_string());
    let parts = shards(&d, "prod.v2.json", "prod.v2", 2, &[]);
    let o = merge(&d, &parts, "merged/report.json");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_json(&d, "merged/report.json")["scenario"], "prod.v2");
    // The heading names the scenario and its file, not the name twice.
    let first = stdout(&o).lines().next().unwrap_or_default().to_string();
    assert_eq!(first, "prod.v2 — prod.v2.json");
}

#[test]
fn shards_are_balanced_and_small_studies_leave_none_empty() {
    let d = Dir::new();
    let p = pool();
    // 20,000 replications over 4 shards: 313 blocks as 78, 78, 78, 79.
    let parts = shards(
        &d,
        &p,
        "pool",
        4,
        &["--replications", "20000", "--horizon", "1y"],
    );
    let reps: Vec<u64> = parts
        .iter()
        .map(|f| {
            read_json(&d, f)["pieces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|piece| piece["tally"]["down"]["n"].as_u64().unwrap())
                .sum()
        })
        .collect();
    assert_eq!(reps, [4992, 4992, 4992, 5024]);
    // 1,000 replications (16 blocks) over 4 shards: 4 blocks each, and the
    // merge gives the whole run's bits.
    let d = Dir::new();
    d.write("small.json", SMALL);
    let parts = shards(&d, "small.json", "small", 4, &["--replications", "1000"]);
    for f in &parts {
        assert!(
            !read_json(&d, f)["pieces"].as_array().unwrap().is_empty(),
            "{f} is empty"
        );
    }
    let o = merge(&d, &parts, "merged/report.json");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = d.run(&[
        "run",
        "small.json",
        "--replications",
        "1000",
        "--no-plots",
        "--quiet",
        "--out",
        "whole",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let strip = |mut v: Value| {
        for key in ["threads", "wall_seconds", "events_per_second"] {
            v["simulation"].as_object_mut().unwrap().remove(key);
        }
        v
    };
    assert_eq!(
        strip(read_json(&d, "merged/report.json")),
        strip(read_json(&d, "whole/small/report.json"))
    );
}

#[test]
fn size_guard_judges_one_shard_not_the_whole_study() {
    let d = Dir::new();
    let p = pool();
    // About 10¹⁵ events in all: far beyond 30 CPU-days, but 10⁵ shards of
    // 10 replications each are about 10¹⁰ events.
    let big = [
        "--replications",
        "1000000",
        "--horizon",
        "20000000y",
        "--no-plots",
    ];
    let mut args = vec!["run", p.as_str()];
    args.extend_from_slice(&big);
    let o = d.run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--shard"),
        "the hint names --shard: {}",
        stderr(&o)
    );
    // Shard 0 of 100,000 holds no block of this run: it runs at once.
    args.extend_from_slice(&["--shard", "0/100000", "--quiet"]);
    let o = d.run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    // 10 shards of 10⁵ replications each are still far too big.
    let o = d.run(&[
        "run",
        p.as_str(),
        big[0],
        big[1],
        big[2],
        big[3],
        "--shard",
        "0/10",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("each shard"), "{}", stderr(&o));
}

#[test]
fn batch_refuses_a_scenario_named_like_its_summary_before_running() {
    let d = Dir::new();
    std::fs::create_dir(d.path().join("in")).unwrap();
    d.write(
        "in/a.json",
        &SMALL.replace(
            "{ \"simulation\"",
            "{ \"name\": \"batch-summary.csv\", \"simulation\"",
        ),
    );
    d.write("in/b.json", SMALL);
    let o = d.run(&["batch", "in", "--no-plots", "--replications", "64"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("batch-summary.csv"), "{}", stderr(&o));
    assert!(!d.path().join("output").exists(), "nothing may run first");
}

/// The size guard judges a run by its projected events: for every shipped
/// example the projection must be within a factor of what a run processes
/// (three-tier's health checks and failovers once made it 2× low).
#[test]
fn size_guard_projects_the_events_a_run_processes() {
    for entry in std::fs::read_dir(scenarios()).unwrap() {
        let path = entry.unwrap().path();
        let overrides = availsim::scenario::Overrides {
            replications: Some(64),
            ..Default::default()
        };
        let model = availsim::scenario::load_file(&path, &overrides).unwrap();
        if model.expected_events() > 2e6 {
            continue;
        }
        let ran = availsim::run(&model, 1).unwrap().simulation.events as f64;
        let projected = model.expected_events();
        let ratio = projected / ran;
        assert!(
            (0.6..=4.0).contains(&ratio),
            "{}: projected {projected:.3e} events, ran {ran:.3e}",
            path.display()
        );
    }
}
