//! A sweep's JSON (`--format json`, `sweep.json`): per point whether it
//! meets each goal, and `availsim plot` redrawing the sweep from it.

use serde_json::Value;

use crate::util::{stderr, stdout, Dir};

const PAIR: &str = r#"{
  "name": "pair",
  "simulation": { "horizon": "2y", "replications": 200, "seed": 5 },
  "components": { "a": { "count": 2, "mtbf": "1000h", "mttr": "10h" } },
  "system": { "parallel": ["a"] },
  "objectives": [ { "availability": 0.999, "window": "30d" } ]
}"#;

fn sweep(d: &Dir) -> Vec<Value> {
    let o = d.run(&[
        "sweep",
        "pair.json",
        "--set",
        "components.a.mttr=5h,50h,200h",
        "--target",
        "0.999",
        "--format",
        "json",
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("stdout is one JSON document")
}

#[test]
fn sweep_json_says_per_point_whether_each_goal_is_met() {
    let d = Dir::new();
    d.write("pair.json", PAIR);
    let points = sweep(&d);
    assert_eq!(points.len(), 3);
    let mut verdicts = Vec::new();
    for p in &points {
        let s = &p["sweep"];
        assert_eq!(s["paths"][0], "components.a.mttr");
        let goals = s["goals"].as_array().expect("goals");
        assert_eq!(goals.len(), 2, "{s}");
        // The objective: judged on the fraction of windows.
        let met = p["objectives"][0]["met_fraction"].as_f64().expect("met");
        assert_eq!(s["met_fraction"].as_f64(), Some(met));
        assert_eq!(goals[0]["met_fraction"].as_f64(), Some(met));
        assert_eq!(goals[0]["meets"].as_bool(), Some(met >= 0.99));
        assert_eq!(goals[0]["window_hours"].as_f64(), Some(720.0));
        // The target: on the exact unavailability (structure function).
        let u = p["analytic"]["unavailability"].as_f64().expect("exact U");
        assert_eq!(p["analytic"]["exact"], true);
        assert_eq!(goals[1]["meets"].as_bool(), Some(u <= 1.0 - 0.999));
        // All goals met, or not.
        let all = goals.iter().all(|g| g["meets"] == true);
        assert_eq!(s["meets"].as_bool(), Some(all));
        verdicts.push(all);
    }
    // Exact U of 1-of-2 with ρ = mttr/mtbf: (ρ/(1+ρ))²: 2.5e-5, 2.3e-3, 0.028.
    assert_eq!(points[0]["sweep"]["goals"][1]["meets"], true);
    assert_eq!(points[1]["sweep"]["goals"][1]["meets"], false);
    assert!(!verdicts[2]);
    // sweep.json holds the same document.
    let file = d
        .path()
        .join("output/pair/sweep-components.a.mttr/sweep.json");
    let saved: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(file).expect("sweep.json")).expect("json");
    assert_eq!(saved, points);
}

#[test]
fn plot_redraws_a_sweep_and_says_what_it_wrote() {
    let d = Dir::new();
    d.write("pair.json", PAIR);
    sweep(&d);
    let folder = d.path().join("output/pair/sweep-components.a.mttr");
    let png = folder.join("sweep.png");
    let original = std::fs::read(&png).expect("sweep.png");
    std::fs::remove_file(&png).expect("remove");
    // The folder, the file, and --out.
    let o = d.run(&["plot", "output/pair/sweep-components.a.mttr"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stdout(&o);
    assert!(
        said.contains("sweep.png") && said.contains("sweep.svg"),
        "{said}"
    );
    assert_eq!(std::fs::read(&png).expect("redrawn"), original);
    let o = d.run(&[
        "plot",
        "output/pair/sweep-components.a.mttr/sweep.json",
        "--out",
        "again",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = d
        .path()
        .join("again/pair/sweep-components.a.mttr/sweep.png");
    assert!(stdout(&o).contains("sweep.png"), "{}", stdout(&o));
    assert_eq!(std::fs::read(again).expect("redrawn in --out"), original);
    // A run's folder still redraws the run.
    let o = d.run(&["plot", "output/pair/sweep-components.a.mttr/5h"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("availability.png"), "{}", stdout(&o));
}

#[test]
fn plot_refuses_a_list_that_is_not_a_sweep() {
    let d = Dir::new();
    d.write("list.json", "[{\"scenario\": \"x\"}]");
    let o = d.run(&["plot", "list.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a sweep's JSON"), "{}", stderr(&o));
}
