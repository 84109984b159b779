//! What users read: the text summary and report.json (snapshots for a fixed
//! seed), summary.csv, and the plots (valid files, redrawn identically from
//! report.json).

use std::path::Path;

use crate::util::*;

/// Runs the quorum example with a fixed seed and thread count (seed 2: a
/// few replications with outages, so every section of the report shows).
fn run_quorum(d: &Dir, extra: &[&str]) -> std::process::Output {
    let file = scenarios().join("quorum.json");
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--replications",
        "500",
        "--threads",
        "2",
        "--seed",
        "2",
    ];
    args.extend_from_slice(extra);
    let o = d.run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

/// The timing line differs from run to run, and the checkout's path from
/// machine to machine; everything else is pinned.
fn without_timing(text: &str) -> String {
    let root = format!("{}/", env!("CARGO_MANIFEST_DIR"));
    text.replace(&root, "")
        .lines()
        .map(|l| {
            if l.contains(" events in ") {
                "  [events and timing]"
            } else {
                l
            }
        })
        .map(|l| {
            if l.contains("report written to") {
                "  report written to [path]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn text_summary_snapshot() {
    let d = Dir::new();
    let o = run_quorum(&d, &[]);
    insta::assert_snapshot!("quorum_summary", without_timing(&stdout(&o)));
}

#[test]
fn report_json_snapshot() {
    let d = Dir::new();
    run_quorum(&d, &["--quiet"]);
    let text = std::fs::read_to_string(d.path().join("output/quorum/report.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["wall_seconds", "events_per_second"] {
        v["simulation"][key] = serde_json::Value::from(0);
    }
    // The transient, bin, convergence and reliability arrays are long; their
    // values are pinned by a digest, their shape by the lengths.
    let digest = |a: &serde_json::Value| {
        format!(
            "{} values, sum {}",
            a.as_array().unwrap().len(),
            a.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .sum::<f64>()
        )
    };
    for pointer in [
        "/transient/time_hours",
        "/transient/availability",
        "/transient/bins/start_hours",
        "/transient/bins/end_hours",
        "/transient/bins/availability",
        "/transient/bins/ci95_low",
        "/transient/bins/ci95_high",
        "/transient/bins/exact",
        "/convergence/replications",
        "/convergence/mean",
        "/convergence/ci95_low",
        "/convergence/ci95_high",
        "/reliability/time_hours",
        "/reliability/survival",
        "/reliability/ci95_low",
        "/reliability/ci95_high",
        "/reliability/exact",
    ] {
        let a = v
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer} missing"));
        // null (no exact curve) stays as it is, so its appearance shows.
        if a.is_array() {
            *a = serde_json::Value::from(digest(a));
        }
    }
    insta::assert_snapshot!("quorum_report", serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn summary_csv_has_stable_columns_and_one_row() {
    let d = Dir::new();
    run_quorum(&d, &["--quiet", "--no-plots"]);
    let csv = std::fs::read_to_string(d.path().join("output/quorum/summary.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert_eq!(lines[0], availsim::report::CSV_COLUMNS.join(","));
    // Fields may hold quoted commas (the reason for no verdict).
    let record = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .next()
        .expect("a row")
        .expect("a valid row");
    let row: Vec<&str> = record.iter().collect();
    assert_eq!(row.len(), availsim::report::CSV_COLUMNS.len());
    let u = report_column(&row, "unavailability");
    assert!(u.parse::<f64>().unwrap() > 0.0);
    assert!(report_column(&row, "no_verdict_reason").contains("outages"));
    assert_eq!(row[0], "quorum");
    assert_eq!(row[20], "structure-function");
    let report: availsim::Report = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("output/quorum/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(row[5].parse::<f64>().unwrap(), report.availability.mean);
    assert!(
        !d.path().join("output/quorum/availability.png").exists(),
        "--no-plots draws nothing"
    );
}

fn assert_valid_plots(dir: &Path) {
    for name in availsim::report::plot::PLOTS {
        let png = std::fs::read(dir.join(format!("{name}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{name}.png is not a PNG"
        );
        assert!(png.len() > 10_000, "{name}.png is suspiciously small");
        let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}.svg is not an SVG"
        );
        assert!(svg.contains("<text"), "{name}.svg has no text");
    }
}

#[test]
fn every_plot_is_written_and_redrawn_identically_from_the_report() {
    let d = Dir::new();
    run_quorum(&d, &["--quiet"]);
    let first = d.path().join("output/quorum");
    assert_valid_plots(&first);
    let o = d.run(&["plot", "output/quorum/report.json", "--out", "again"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let second = d.path().join("again/quorum");
    for name in availsim::report::plot::PLOTS {
        for ext in ["png", "svg"] {
            let file = format!("{name}.{ext}");
            let same = std::fs::read(first.join(&file)).unwrap()
                == std::fs::read(second.join(&file)).unwrap();
            assert!(same, "{file} differs when redrawn from report.json");
        }
    }
    // No temporary files are left behind.
    for entry in std::fs::read_dir(&first).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.starts_with('.'), "leftover {name}");
    }
}

#[test]
fn plots_of_every_example_are_valid() {
    let d = Dir::new();
    for name in ["web-service", "lb-pool", "dr-site", "tiers"] {
        let file = scenarios().join(format!("{name}.json"));
        let o = d.run(&[
            "run",
            file.to_str().unwrap(),
            "--replications",
            "100",
            "--quiet",
        ]);
        assert!(
            o.status.success() || o.status.code() == Some(1),
            "{}",
            stderr(&o)
        );
        assert_valid_plots(&d.path().join("output").join(name));
    }
}

#[test]
fn plot_rejects_a_file_that_is_not_a_report() {
    let d = Dir::new();
    d.write("bad.json", r#"{ "scenario": "x" }"#);
    let o = d.run(&["plot", "bad.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.json:1:"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not an availsim report"),
        "{}",
        stderr(&o)
    );
}

fn report_column<'a>(row: &[&'a str], name: &str) -> &'a str {
    let i = availsim::report::CSV_COLUMNS
        .iter()
        .position(|c| *c == name)
        .expect("column");
    row[i]
}

#[test]
fn every_plot_carries_a_footer_and_downtime_has_an_exceedance_curve() {
    let d = Dir::new();
    run_quorum(&d, &["--quiet"]);
    let dir = d.path().join("output/quorum");
    let footer = format!(
        "scenario quorum  ·  horizon 5 y  ·  500 replications  ·  seed 2  ·  availsim {}",
        env!("CARGO_PKG_VERSION")
    );
    for name in availsim::report::plot::PLOTS {
        let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
        assert!(svg.contains(&footer), "{name}.svg has no footer {footer:?}");
    }
    let downtime = std::fs::read_to_string(dir.join("downtime.svg")).unwrap();
    assert!(downtime.contains("replications with at least x (log scale)"));
    assert!(downtime.contains("log scale)"));
    let components = std::fs::read_to_string(dir.join("components.svg")).unwrap();
    assert!(components.contains("shares add up to more than 100%"));
}

#[test]
fn format_json_with_out_dash_prints_the_report_and_writes_no_files() {
    let d = Dir::new();
    let file = scenarios().join("quorum.json");
    let file = file.to_str().unwrap();
    let args = ["run", file, "--replications", "50", "--quiet"];
    let o = d.run(&[&args[..], &["--format", "json", "--out", "-"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["scenario"], "quorum");
    let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
    assert!(left.is_empty(), "files were written: {left:?}");
    let o = d.run(&[&args[..], &["--out", "-"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--format json"), "{}", stderr(&o));
}

/// Issue 14 item 7: per-component and A(t) tables as CSV files, equal to
/// what report.json holds.
#[test]
fn components_and_availability_csv_match_the_report() {
    let d = Dir::new();
    let out = d.path().join("out");
    let file = scenarios().join("quorum.json");
    let o = d.run(&[
        "run",
        file.to_str().unwrap(),
        "--replications",
        "200",
        "--no-plots",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.code() != Some(2), "{}", stderr(&o));
    let dir = out.join("quorum");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let rows = |name: &str| -> Vec<csv::StringRecord> {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .collect()
    };
    let comps = report["components"].as_array().unwrap();
    let c = rows("components.csv");
    assert_eq!(c.len(), comps.len());
    for (row, comp) in c.iter().zip(comps) {
        assert_eq!(&row[0], comp["name"].as_str().unwrap());
        assert_eq!(
            row[1].parse::<f64>().unwrap(),
            comp["availability"].as_f64().unwrap()
        );
    }
    let bins = &report["transient"]["bins"];
    let a = rows("availability.csv");
    let avail = bins["availability"].as_array().unwrap();
    assert_eq!(a.len(), avail.len());
    for (row, v) in a.iter().zip(avail) {
        assert_eq!(row[2].parse::<f64>().unwrap(), v.as_f64().unwrap());
    }
    if let Some(exact) = bins["exact"].as_array() {
        assert_eq!(a[0][5].parse::<f64>().unwrap(), exact[0].as_f64().unwrap());
    }
}
