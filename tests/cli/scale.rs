//! Sharded runs and merges, batches (killed and resumed), and sweeps.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

/// A report's JSON without the fields that may differ between runs.
fn comparable(path: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let sim = v["simulation"].as_object_mut().unwrap();
    for key in ["threads", "wall_seconds", "events_per_second"] {
        sim.remove(key);
    }
    v
}

fn pool_shards(d: &Dir, count: u64, extra: &[&str]) {
    let pool = scenarios().join("pool.json");
    for i in 0..count {
        let shard = format!("{i}/{count}");
        let mut args = vec![
            "run",
            pool.to_str().unwrap(),
            "--replications",
            "20000",
            "--shard",
            &shard,
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let o = d.run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

#[test]
fn merged_shards_equal_the_unsharded_run_to_the_last_bit() {
    let d = Dir::new();
    pool_shards(&d, 4, &[]);
    let parts: Vec<String> = (0..4)
        .map(|i| format!("output/pool/part-{i}-of-4.json"))
        .collect();
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend(["-o", "merged/report.json", "--quiet"]);
    let o = d.run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = d.run(&[
        "run",
        scenarios().join("pool.json").to_str().unwrap(),
        "--replications",
        "20000",
        "--threads",
        "1",
        "--quiet",
        "--out",
        "whole",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (merged, whole) = (
        comparable(&d.path().join("merged/report.json")),
        comparable(&d.path().join("whole/pool/report.json")),
    );
    assert_eq!(
        merged["availability"], whole["availability"],
        "mean and interval to the last bit"
    );
    assert_eq!(merged, whole, "the whole report");
    assert!(
        d.path().join("merged/summary.csv").is_file()
            && d.path().join("merged/availability.png").is_file()
    );
}

#[test]
fn merge_refuses_gaps_duplicates_and_other_runs() {
    let d = Dir::new();
    pool_shards(&d, 3, &[]);
    let o = d.run(&[
        "run",
        scenarios().join("pool.json").to_str().unwrap(),
        "--replications",
        "20000",
        "--shard",
        "2/3",
        "--seed",
        "9",
        "--quiet",
        "--out",
        "other",
    ]);
    assert!(o.status.success());
    let part = |i: u64| format!("output/pool/part-{i}-of-3.json");
    let cases: [(Vec<String>, &str); 3] = [
        (vec![part(0), part(2)], "shard 1 of 3 is missing"),
        (
            vec![part(0), part(1), "other/pool/part-2-of-3.json".into()],
            "parts of different runs",
        ),
        (
            vec![part(0), part(1), part(1), part(2)],
            "both shard 1 of 3",
        ),
    ];
    for (parts, needle) in cases {
        let mut args = vec!["merge".to_string()];
        args.extend(parts);
        args.extend(["-o".into(), "m/report.json".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = d.run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!d.path().join("m/report.json").exists());
    }
}

#[test]
fn shard_index_comes_from_slurm_or_kubernetes() {
    let d = Dir::new();
    let pool = scenarios().join("pool.json");
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = assert_cmd::Command::cargo_bin("availsim").unwrap();
        cmd.current_dir(d.path())
            .args([
                "run",
                pool.to_str().unwrap(),
                "--replications",
                "5000",
                "--shards",
                "2",
                "--quiet",
            ])
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SLURM_ARRAY_TASK_ID");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    assert!(run(&[("JOB_COMPLETION_INDEX", "0")]).status.success());
    assert!(run(&[
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "2")
    ])
    .status
    .success());
    assert!(d.path().join("output/pool/part-0-of-2.json").is_file());
    assert!(d.path().join("output/pool/part-1-of-2.json").is_file());
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("JOB_COMPLETION_INDEX"),
        "{}",
        stderr(&o)
    );
    let o = d.run(&[
        "merge",
        "output/pool/part-0-of-2.json",
        "output/pool/part-1-of-2.json",
        "-o",
        "m/report.json",
        "--quiet",
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Writes `n` copies of the pool scenario (each takes a fraction of a second)
/// into `dir/scenarios`.
fn batch_inputs(d: &Dir, n: usize, replications: u64) {
    let text = std::fs::read_to_string(scenarios().join("pool.json")).unwrap();
    std::fs::create_dir_all(d.path().join("scenarios")).unwrap();
    for i in 0..n {
        let t = text
            .replace("\"name\": \"pool\"", &format!("\"name\": \"s{i}\""))
            .replace(
                "\"replications\": 10000",
                &format!("\"replications\": {replications}"),
            );
        std::fs::write(d.path().join(format!("scenarios/s{i}.json")), t).unwrap();
    }
}

#[test]
fn a_batch_killed_midway_resumes_to_complete_uncorrupted_reports() {
    let d = Dir::new();
    batch_inputs(&d, 4, 60_000);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("availsim"))
        .current_dir(d.path())
        .args(["batch", "scenarios", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = d.path().join("output/s0/report.json");
    let start = Instant::now();
    while !first.exists() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        first.exists(),
        "the first scenario finished before the kill"
    );
    let mut missing = 0;
    for i in 0..4 {
        let report = d.path().join(format!("output/s{i}/report.json"));
        if report.exists() {
            let r: availsim::Report =
                serde_json::from_str(&std::fs::read_to_string(&report).unwrap())
                    .expect("a complete report");
            assert_eq!(r.simulation.replications, 60_000);
        } else {
            missing += 1;
        }
    }
    assert!(missing > 0, "the kill came too late to test anything");
    let before = std::fs::read(&first).unwrap();
    let o = d.run(&["batch", "scenarios", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("already complete"), "{}", stdout(&o));
    assert_eq!(
        std::fs::read(&first).unwrap(),
        before,
        "a complete report is not run again"
    );
    for i in 0..4 {
        let dir = d.path().join(format!("output/s{i}"));
        let _: availsim::Report =
            serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap())
                .unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(!name.contains(".tmp-"), "leftover temporary {name}");
        }
    }
    // The resumed scenarios give what an uninterrupted run gives.
    let o = d.run(&[
        "run",
        "scenarios/s3.json",
        "--out",
        "fresh",
        "--quiet",
        "--no-plots",
    ]);
    assert!(o.status.success());
    assert_eq!(
        comparable(&d.path().join("output/s3/report.json")),
        comparable(&d.path().join("fresh/s3/report.json"))
    );
    let csv = std::fs::read_to_string(d.path().join("output/batch-summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
}

#[test]
fn batch_exits_1_when_a_check_fails() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path().join("in")).unwrap();
    d.write(
        "in/tiny.json",
        r#"{ "name": "tiny", "simulation": { "horizon": "200h", "replications": 40, "seed": 289 },
             "components": { "a": { "mtbf": "20h", "mttr": "5h" } }, "system": "a" }"#,
    );
    std::fs::copy(
        scenarios().join("quorum.json"),
        d.path().join("in/quorum.json"),
    )
    .unwrap();
    let o = d.run(&["batch", "in", "--no-plots"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("fail"));
    assert!(
        d.path().join("output/quorum/report.json").is_file(),
        "the other scenarios still ran"
    );
}

/// A pool of n exponential servers (MTBF 500 h, MTTR 20 h) in parallel:
/// A(n) = 1 − (20/520)ⁿ; the objective 0.9999 needs n = 3
/// (A(2) = 0.99852, A(3) = 0.999943).
#[test]
fn sweep_of_a_pool_size_names_the_smallest_size_meeting_the_objective() {
    let d = Dir::new();
    d.write(
        "pool.json",
        r#"{ "name": "pool6", "simulation": { "horizon": "2y", "replications": 600, "seed": 5 },
             "components": { "web": { "count": 2, "mtbf": "500h", "mttr": "20h" } },
             "system": { "parallel": ["web"] },
             "objectives": [ { "availability": 0.9999, "window": "30d" } ] }"#,
    );
    let o = d.run(&["sweep", "pool.json", "--set", "components.web.count=1..6"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("first value meeting objective 0.9999 / 30 d: components.web.count = 3"),
        "{out}"
    );
    let dir = d.path().join("output/pool6/sweep-components.web.count");
    assert!(
        dir.join("sweep.png").is_file()
            && dir.join("sweep.svg").is_file()
            && dir.join("sweep.csv").is_file()
    );
    let q: f64 = 20.0 / 520.0;
    for n in 1..=6 {
        let r: availsim::Report = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{n}/report.json"))).unwrap(),
        )
        .unwrap();
        let steady = r.analytic.steady_state.unwrap();
        assert!(
            (steady - (1.0 - q.powi(n))).abs() < 1e-12,
            "n = {n}: analytic {steady}"
        );
        assert_ne!(r.analytic.verdict.as_deref(), Some("fail"), "n = {n}");
    }
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.starts_with("components.web.count,scenario,"));
}

#[test]
fn sweep_errors_name_the_path_and_the_value() {
    let d = Dir::new();
    let pool = scenarios().join("pool.json");
    let o = d.run(&[
        "sweep",
        pool.to_str().unwrap(),
        "--set",
        "components.wbe.count=1,2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`components.wbe` does not exist"),
        "{}",
        stderr(&o)
    );
    let o = d.run(&[
        "sweep",
        pool.to_str().unwrap(),
        "--set",
        "components.web.count=2,5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("with components.web.count = 2"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("k = 3 but `of` has only 2 nodes"),
        "{}",
        stderr(&o)
    );
    let o = d.run(&["sweep", pool.to_str().unwrap(), "--set", "system=1"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `scenario_hash` is FNV-1a of the canonical resolved scenario JSON: key
/// order, whitespace and the file's path do not change it; a value in the
/// file or a command-line override does.
#[test]
fn scenario_hash_is_a_hash_of_the_canonical_resolved_json() {
    use availsim::scenario::{canonical_json, load_str, Overrides};
    let a = r#"{"simulation": {"horizon": 1000, "replications": 10, "seed": 3},
        "components": {"db": {"failure": {"dist": "exponential", "mean": 100},
                              "repair": {"dist": "deterministic", "value": 5},
                              "data": {"loss_on_failure": 1, "restore": {"dist": "deterministic", "value": 2},
                                       "backup": {"interval": 24, "duration": 1}}}},
        "system": "db"}"#;
    let b = r#"{"system":"db","components":{"db":{"data":{"backup":{"duration":1,
        "interval":24},"restore":{"dist":"deterministic","value":2},"loss_on_failure":1},"repair":{"dist":"deterministic","value":5},
        "failure":{"dist":"exponential","mean":100}}},"simulation":{"seed":3,"replications":10,
        "horizon":1000}}"#;
    let o = Overrides::default();
    let ma = load_str(a, Path::new("a.json"), &o).unwrap();
    let mb = load_str(b, Path::new("elsewhere/b.json"), &o).unwrap();
    let hash = availsim::scale::scenario_hash(&ma);
    assert_eq!(hash.len(), 16);
    assert_eq!(hash, availsim::scale::scenario_hash(&mb));
    // FNV-1a of the canonical text, computed here independently.
    let text = canonical_json(&serde_json::from_str(a).unwrap(), &ma.simulation);
    assert!(
        text.starts_with(r#"{"components":{"db":{"data":{"backup":{"duration":1,"interval":24}"#)
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        h = (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    assert_eq!(hash, format!("{h:016x}"));
    // A changed value or override changes it.
    let c = a.replace("\"interval\": 24", "\"interval\": 12");
    let mc = load_str(&c, Path::new("a.json"), &o).unwrap();
    assert_ne!(hash, availsim::scale::scenario_hash(&mc));
    let seeded = Overrides {
        seed: Some(4),
        ..Default::default()
    };
    let md = load_str(a, Path::new("a.json"), &seeded).unwrap();
    assert_ne!(hash, availsim::scale::scenario_hash(&md));
    // The override gives the hash of the file that says the same.
    let me = load_str(
        &a.replace("\"seed\": 3", "\"seed\": 4"),
        Path::new("a.json"),
        &o,
    )
    .unwrap();
    assert_eq!(
        availsim::scale::scenario_hash(&md),
        availsim::scale::scenario_hash(&me)
    );
}
