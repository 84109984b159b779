//! Hardening of resources, files, the command line, progress and messages
//! (issue 11, part B): hostile or careless input is a clear error (exit 2),
//! never a huge allocation, a hang, a panic or a write outside the output
//! folder; concurrent writers do not break each other.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

fn availsim() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("availsim"))
}

/// A small scenario that runs in milliseconds.
const TINY: &str = r#"{ "name": "tiny",
  "simulation": { "horizon": "1y", "replications": 64, "seed": 3 },
  "components": { "a": { "count": 2, "mtbf": "500h", "mttr": "5h" } },
  "system": { "parallel": ["a"] } }"#;

#[track_caller]
fn assert_exit_2(o: &std::process::Output, needles: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2, stderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected `{n}` in:\n{err}");
    }
    err
}

/// Waits for `child` at most `limit`; kills it and fails if it hangs.
fn wait_or_kill(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("availsim still ran after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_tiny_objective_window_is_refused_by_the_size_guard() {
    let d = Dir::new();
    // 1 ms windows over 10 y: 3.2e11 numbers per replication (2.5 TB).
    let text = TINY.replace("\"1y\"", "\"10y\"").replace(
        "\"system\"",
        r#""objectives": [ { "availability": 0.999, "window": "1ms" } ], "system""#,
    );
    d.write("s.json", &text);
    for args in [&["check", "s.json"][..], &["run", "s.json", "--no-plots"]] {
        let o = d.run(args);
        let err = assert_exit_2(&o, &["s.json: objectives[0].window: ", "3.1536e11 windows"]);
        assert!(err.contains("hint: lengthen the window"), "{err}");
    }
    // A 1 s window over 10 y (2.4 GB per thread before) is refused too; a
    // 5 min window over 10 y (1.05e6) is fine.
    d.write("s.json", &text.replace("\"1ms\"", "\"1s\""));
    assert_exit_2(&d.run(&["check", "s.json"]), &["3.1536e8 windows"]);
    d.write("s.json", &text.replace("\"1ms\"", "\"5 min\""));
    let o = d.run(&["check", "s.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn threads_beyond_four_per_core_are_capped_with_a_warning() {
    let d = Dir::new();
    d.write("s.json", TINY);
    let o = d.run(&[
        "run",
        "s.json",
        "--threads",
        "10000",
        "--format",
        "json",
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let threads = report["simulation"]["threads"].as_u64().unwrap() as usize;
    assert_eq!(threads, 4 * cores, "threads used");
    let err = stderr(&o);
    assert!(
        err.contains("warning: --threads 10000") && err.contains(&format!("using {}", 4 * cores)),
        "{err}"
    );
}

#[test]
fn devices_fifos_and_huge_files_are_refused_without_reading_them() {
    let d = Dir::new();
    if Path::new("/dev/zero").exists() {
        let child = availsim()
            .args(["run", "/dev/zero"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let o = wait_or_kill(child, Duration::from_secs(30));
        assert_exit_2(&o, &["/dev/zero: ", "not a regular file"]);
    }
    #[cfg(unix)]
    {
        let fifo = d.path().join("fifo.json");
        let made = Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let child = availsim()
                .current_dir(d.path())
                .args(["run", "fifo.json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let o = wait_or_kill(child, Duration::from_secs(30));
            assert_exit_2(&o, &["fifo.json: ", "not a regular file"]);
        }
    }
    // A sparse file of 65 MiB: refused by its size, not parsed.
    let big = std::fs::File::create(d.path().join("big.json")).unwrap();
    big.set_len(65 * 1024 * 1024).unwrap();
    drop(big);
    for cmd in ["check", "plot", "merge"] {
        let mut args = vec![cmd, "big.json"];
        if cmd == "merge" {
            args.extend(["-o", "r.json"]);
        }
        assert_exit_2(&d.run(&args), &["big.json: ", "65.0 MiB", "64 MiB"]);
    }
}

#[test]
fn a_folder_given_to_run_suggests_batch() {
    let d = Dir::new();
    std::fs::create_dir(d.path().join("scenarios")).unwrap();
    let o = d.run(&["run", "scenarios"]);
    assert_exit_2(&o, &["scenarios: ", "folder", "availsim batch scenarios"]);
}

#[test]
fn concurrent_runs_into_one_folder_all_succeed() {
    let d = Dir::new();
    d.write("s.json", TINY);
    for round in 0..3 {
        let children: Vec<_> = (0..4)
            .map(|_| {
                availsim()
                    .current_dir(d.path())
                    .args(["run", "s.json", "--quiet", "--threads", "1"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let o = wait_or_kill(child, Duration::from_secs(120));
            assert!(
                o.status.success(),
                "round {round}: a concurrent writer failed: {}",
                stderr(&o)
            );
        }
    }
    let dir = d.path().join("output/tiny");
    let _: availsim::Report =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap())
            .expect("the last writer's complete report");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.contains(".tmp-"), "leftover temporary {name}");
        if let Some(stem) = name.strip_suffix(".png") {
            let png = std::fs::read(dir.join(&name)).unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{stem}.png is a PNG");
        }
    }
}

#[test]
fn a_closed_stdout_is_a_quiet_success() {
    let d = Dir::new();
    d.write("s.json", TINY);
    let commands: [&[&str]; 4] = [
        &["schema"],
        &["check", "s.json"],
        &["run", "s.json", "--no-plots", "--format", "json"],
        &["run", "s.json", "--no-plots"],
    ];
    for args in commands {
        for _ in 0..3 {
            let mut child = availsim()
                .current_dir(d.path())
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Close our end at once, as `| head -0` would.
            drop(child.stdout.take());
            let o = wait_or_kill(child, Duration::from_secs(60));
            assert_eq!(
                o.status.code(),
                Some(0),
                "availsim {args:?} with a closed stdout: {}",
                stderr(&o)
            );
            assert!(o.stderr.is_empty(), "quiet: {}", stderr(&o));
        }
    }
}

/// Runs TINY into `d` and returns its report.json as JSON.
fn tiny_report(d: &Dir) -> Value {
    d.write("s.json", TINY);
    let o = d.run(&["run", "s.json", "--quiet", "--no-plots"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(d.path().join("output/tiny/report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn plot_refuses_a_report_whose_name_leads_outside_the_folder() {
    let d = Dir::new();
    let report = tiny_report(&d);
    std::fs::create_dir_all(d.path().join("a/b/plots")).unwrap();
    let outside = d.path().join("absolute-target");
    for name in [
        "../../escaped".to_string(),
        outside.display().to_string(),
        ".hidden".to_string(),
        "x/../../../y".to_string(),
    ] {
        let mut r = report.clone();
        r["scenario"] = Value::String(name.clone());
        d.write("evil.json", &r.to_string());
        let o = d.run(&["plot", "evil.json", "--out", "a/b/plots"]);
        assert_exit_2(&o, &["evil.json: scenario: invalid scenario name"]);
        assert!(
            !d.path().join("escaped").exists() && !d.path().join("a/escaped").exists(),
            "{name}: wrote outside --out"
        );
        assert!(!outside.exists(), "{name}: wrote to an absolute path");
    }
    // A good report still plots into DIR/<scenario>.
    d.write("good.json", &report.to_string());
    let o = d.run(&["plot", "good.json", "--out", "a/b/plots"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.path().join("a/b/plots/tiny/availability.png").exists());
}

#[test]
fn plot_on_a_shard_part_says_merge_first() {
    let d = Dir::new();
    d.write("s.json", TINY);
    let o = d.run(&["run", "s.json", "--shard", "0/2", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = d.run(&["plot", "output/tiny/part-0-of-2.json"]);
    assert_exit_2(
        &o,
        &[
            "part-0-of-2.json: this is a partial report",
            "run `availsim merge` first",
        ],
    );
}

#[test]
fn control_characters_in_echoed_names_are_escaped() {
    let d = Dir::new();
    let evil = TINY
        .replace("\"tiny\"", "\"\\u001b[31mred\\nforged line\"")
        .replace("[\"a\"]", "[\"\\u001b]0;title\\u0007\", \"a\"]")
        .replace("\"mtbf\"", "\"\\u001b[2Jmtbf\"");
    d.write("s.json", &evil);
    let o = d.run(&["check", "s.json"]);
    let err = assert_exit_2(
        &o,
        &["\\u{1b}[31mred\\nforged line", "\\u{1b}]0;title\\u{7}"],
    );
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}'),
        "raw control characters reach the terminal:\n{err:?}"
    );
    assert!(
        !err.lines().any(|l| l.starts_with("forged line")),
        "a name forged a line:\n{err}"
    );
    // A file name is user text too.
    let o = d.run(&["check", "missing\u{1b}[1m\n.json"]);
    let err = assert_exit_2(&o, &["missing\\u{1b}[1m\\n.json: cannot read"]);
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// A scenario that takes about a second for 1,000 replications on one
/// thread: one chunk, so the old code reported nothing until the end.
const BUSY: &str = r#"{ "name": "busy",
  "simulation": { "horizon": "4000h", "replications": 1000, "seed": 1 },
  "components": { "u": { "count": 2, "mtbf": "2h", "mttr": "1h" } },
  "system": { "standby": { "units": "u", "mode": "cold", "failover": "1m" } } }"#;

#[test]
fn progress_lines_appear_without_a_terminal_and_move_within_a_chunk() {
    let d = Dir::new();
    d.write("s.json", BUSY);
    let run = |extra: &[&str]| {
        availsim()
            .current_dir(d.path())
            .env("AVAILSIM_PROGRESS_INTERVAL", "0.02")
            .args(["run", "s.json", "--threads", "1", "--no-plots"])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&["--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let done: Vec<u64> = err
        .lines()
        .filter_map(|l| l.strip_prefix("busy: "))
        .filter_map(|l| l.split('/').next()?.parse().ok())
        .collect();
    assert!(
        done.iter().any(|&n| n > 0 && n < 1000),
        "no progress line between 0 and 1000 replications:\n{err}"
    );
    assert!(done.windows(2).all(|w| w[0] <= w[1]), "{err}");
    assert!(err.contains("replications") && err.contains("ETA"), "{err}");
    // --quiet silences it.
    let o = run(&["--quiet"]);
    assert!(o.status.success() && o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let d = Dir::new();
    let mut f = std::fs::File::create(d.path().join("s.json")).unwrap();
    f.write_all(b"\xef\xbb\xbf").unwrap();
    f.write_all(TINY.as_bytes()).unwrap();
    drop(f);
    let o = d.run(&["check", "s.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = d.run(&["run", "s.json", "--shard", "0/1", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn nesting_too_deep_is_said_in_words() {
    let d = Dir::new();
    let deep = format!(
        r#"{{ "simulation": {{ "horizon": 10 }}, "components": {{ "a": {{ "mtbf": 1, "mttr": 1 }} }}, "system": {}"a"{} }}"#,
        r#"{"series": ["#.repeat(200),
        "]}".repeat(200)
    );
    d.write("deep.json", &deep);
    let err = assert_exit_2(
        &d.run(&["check", "deep.json"]),
        &["nesting deeper than 128 levels"],
    );
    assert!(!err.contains("recursion limit"), "{err}");
}

#[test]
fn a_duration_string_without_a_unit_is_an_error() {
    let d = Dir::new();
    d.write("s.json", &TINY.replace("\"500h\"", "\"5\""));
    assert_exit_2(
        &d.run(&["check", "s.json"]),
        &["components.a.mtbf", "duration \"5\" has no unit"],
    );
}

#[test]
fn spelt_out_duration_units_are_accepted() {
    let d = Dir::new();
    for (unit, hours) in [
        ("\"30000 min\"", 500.0),
        ("\"500 hr\"", 500.0),
        ("\"500hours\"", 500.0),
        ("\"1800000 sec\"", 500.0),
        ("\"20.8333333333 days\"", 500.0),
    ] {
        d.write("s.json", &TINY.replace("\"500h\"", unit));
        let o = d.run(&["check", "s.json"]);
        assert!(o.status.success(), "{unit}: {}", stderr(&o));
        let m = model(&TINY.replace("\"500h\"", unit));
        let mean = m.instances[0].failure.mean();
        assert!((mean - hours).abs() < 1e-6, "{unit}: {mean} h");
    }
}

#[test]
fn huge_and_tiny_numbers_in_messages_are_in_scientific_notation() {
    let d = Dir::new();
    d.write(
        "s.json",
        &TINY.replace(
            "\"mtbf\": \"500h\"",
            r#""failure": { "dist": "weibull", "shape": 1e-300, "mean": "500h" }"#,
        ),
    );
    let err = assert_exit_2(&d.run(&["check", "s.json"]), &["shape 1e-300"]);
    assert!(!err.contains("0000000000"), "{err}");
    d.write("s.json", &TINY.replace("\"1y\"", "\"1e300y\""));
    let err = assert_exit_2(&d.run(&["check", "s.json"]), &["would process about"]);
    assert!(err.contains("e2") && !err.contains("0000000000"), "{err}");
}

#[test]
fn plot_survives_an_edited_report_without_hanging_or_panicking() {
    let d = Dir::new();
    let report = tiny_report(&d);
    // A share of 1e308 stretched the axis to infinity (plotters hung); too
    // few histogram edges indexed past the end (a panic).
    let mut huge_share = report.clone();
    huge_share["components"][0]["downtime_share"] = serde_json::json!(1e308);
    let mut few_edges = report.clone();
    few_edges["downtime_hours_per_year"]["histogram"]["edges"] = serde_json::json!([0.0]);
    for (name, r) in [("huge.json", huge_share), ("edges.json", few_edges)] {
        d.write(name, &r.to_string());
        let child = availsim()
            .current_dir(d.path())
            .args(["plot", name, "--out", "plots"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let o = wait_or_kill(child, Duration::from_secs(60));
        assert!(
            matches!(o.status.code(), Some(0..=2)) && !stderr(&o).contains("panicked"),
            "{name}: {:?} {}",
            o.status,
            stderr(&o)
        );
    }
}

#[cfg(unix)]
#[test]
fn outputs_get_the_permissions_of_a_plain_create() {
    use std::os::unix::fs::PermissionsExt;
    let d = Dir::new();
    tiny_report(&d);
    let dir = d.path().join("output/tiny");
    let plain = dir.join("plain");
    std::fs::File::create(&plain).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for f in ["report.json", "summary.csv"] {
        assert_eq!(
            mode(&dir.join(f)),
            mode(&plain),
            "{f}: private like a temporary file"
        );
    }
}
