//! The JSON Schema (`availsim schema`) against the loader: every scenario
//! the loader accepts validates, typos are rejected by both, and both agree
//! on the edge cases of durations, distributions and nodes.

use std::path::Path;

use availsim::scenario::{load_str, Overrides};
use serde_json::{json, Value};

use crate::util::{scenarios, stdout, Dir};

/// The schema compiled with an independent validator (boon).
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Validator {
        let schema: Value =
            serde_json::from_str(&availsim::scenario::schema::schema_json()).expect("schema JSON");
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource("urn:availsim:scenario", schema)
            .expect("add schema");
        let index = compiler
            .compile("urn:availsim:scenario", &mut schemas)
            .unwrap_or_else(|e| panic!("the schema does not compile: {e:#}"));
        Validator { schemas, index }
    }

    fn errors(&self, doc: &Value) -> Option<String> {
        self.schemas
            .validate(doc, self.index)
            .err()
            .map(|e| format!("{e}"))
    }
}

fn loads(doc: &Value) -> Result<(), String> {
    load_str(
        &doc.to_string(),
        Path::new("schema-test.json"),
        &Overrides::default(),
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Every `.json` file of a folder, parsed.
fn json_files(dir: &Path) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            (
                p.display().to_string(),
                serde_json::from_str(&text).expect("json"),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The scenarios written inline in the tests (raw strings holding a JSON
/// object with `components`) that the loader accepts.
fn inline_fixtures() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut out = Vec::new();
    for (file, _) in std::fs::read_dir(&dir)
        .expect("tests/cli")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| (p.clone(), ()))
    {
        let text = std::fs::read_to_string(&file).expect("read test");
        for (k, chunk) in text.split("r#\"").skip(1).enumerate() {
            let Some(end) = chunk.find("\"#") else {
                continue;
            };
            let Ok(doc) = serde_json::from_str::<Value>(&chunk[..end]) else {
                continue;
            };
            if doc.get("components").is_some() && loads(&doc).is_ok() {
                out.push((format!("{}#{k}", file.display()), doc));
            }
        }
    }
    out
}

#[test]
fn every_shipped_scenario_and_accepted_fixture_validates() {
    let v = Validator::new();
    let mut docs = json_files(&scenarios());
    docs.extend(json_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/oracle"),
    ));
    let shipped = docs.len();
    docs.extend(inline_fixtures());
    assert!(shipped >= 15, "found only {shipped} scenario files");
    assert!(
        docs.len() > shipped + 20,
        "found only {} inline fixtures",
        docs.len() - shipped
    );
    for (name, doc) in &docs {
        assert_eq!(loads(doc), Ok(()), "{name} does not load");
        if let Some(e) = v.errors(doc) {
            panic!("{name} is accepted by the loader but not by the schema:\n{e}");
        }
    }
}

#[test]
fn the_readme_scenario_validates() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let v = Validator::new();
    let mut seen = 0;
    for block in readme.split("```json\n").skip(1) {
        let body = &block[..block.find("```").expect("closed block")];
        let Ok(doc) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        if doc.get("components").is_some() && doc.get("system").is_some() {
            seen += 1;
            assert_eq!(loads(&doc), Ok(()), "README scenario:\n{body}");
            assert_eq!(v.errors(&doc), None, "README scenario:\n{body}");
        }
    }
    assert!(seen >= 1, "no complete scenario in the README");
}

#[test]
fn the_schema_command_prints_the_schema_and_allows_dollar_schema() {
    let out = Dir::new().run(&["schema"]);
    assert!(out.status.success());
    let printed: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let lib: Value =
        serde_json::from_str(&availsim::scenario::schema::schema_json()).expect("json");
    assert_eq!(printed, lib);
    assert_eq!(printed["properties"]["$schema"]["type"][0], "string");
    assert_eq!(printed["additionalProperties"], false);
}

/// A small valid scenario every case below edits.
fn base() -> Value {
    json!({
        "$schema": "./availsim.schema.json",
        "name": "edge",
        "simulation": { "horizon": "1y", "replications": 10 },
        "components": {
            "lb":  { "mtbf": "5000h", "mttr": "2h" },
            "web": { "count": 3,
                     "failure": { "dist": "weibull", "shape": 1.3, "mean": "2000h" },
                     "repair": { "dist": "lognormal", "mean": "8h", "cv": 0.6 } },
            "db":  { "count": 2, "mtbf": "10000h", "mttr": "24h" }
        },
        "system": { "series": [
            { "balancer": { "via": "lb", "pool": "web", "min_healthy": 2,
                            "health_check": { "interval": "10s", "unhealthy_threshold": 3 } } },
            { "standby": { "units": "db", "heartbeat": { "interval": "5s", "misses": 3 },
                           "failover": "30s", "switch_success": 0.99 } }
        ] }
    })
}

/// Applies `edit` to the base scenario (a JSON pointer and a value; a
/// `null` value removes the key).
fn edited(edits: &[(&str, Value)]) -> Value {
    let mut doc = base();
    for (pointer, value) in edits {
        let (parent, key) = pointer.rsplit_once('/').expect("pointer");
        let slot = doc.pointer_mut(parent).expect("parent exists");
        match (slot, value) {
            (Value::Object(m), Value::Null) => {
                m.remove(key);
            }
            (Value::Object(m), v) => {
                m.insert(key.to_string(), v.clone());
            }
            (Value::Array(a), v) => a[key.parse::<usize>().expect("index")] = v.clone(),
            _ => panic!("{pointer}: not a container"),
        }
    }
    doc
}

const DB: &str = "/system/series/1/standby";
const WEB: &str = "/components/web";

/// Typos and mistakes the schema must catch (the loader does too).
#[test]
fn typos_are_rejected_by_schema_and_loader() {
    let v = Validator::new();
    assert_eq!(v.errors(&base()), None);
    assert_eq!(loads(&base()), Ok(()));
    let cases: Vec<(&str, Value)> = vec![
        (
            "field typo in a component",
            edited(&[
                ("/components/lb/mtfb", json!("5000h")),
                ("/components/lb/mtbf", Value::Null),
            ]),
        ),
        (
            "unknown top-level field",
            edited(&[("/objective", json!([]))]),
        ),
        (
            "node kind typo",
            edited(&[("/system", json!({ "serie": ["lb", "db[0]"] }))]),
        ),
        (
            "two node kinds in one object",
            edited(&[("/system", json!({ "series": ["lb"], "parallel": ["web"] }))]),
        ),
        (
            "field typo in a standby",
            edited(&[(&format!("{DB}/failvoer"), json!("30s"))]),
        ),
        (
            "field typo in a balancer",
            edited(&[("/system/series/0/balancer/min_healty", json!(2))]),
        ),
        (
            "dist name typo",
            edited(&[(
                &format!("{WEB}/failure"),
                json!({ "dist": "weibul", "shape": 1.3, "mean": "2000h" }),
            )]),
        ),
        (
            "missing dist parameter (weibull without shape)",
            edited(&[(
                &format!("{WEB}/failure"),
                json!({ "dist": "weibull", "mean": "2000h" }),
            )]),
        ),
        (
            "missing dist parameter (lognormal without cv)",
            edited(&[(
                &format!("{WEB}/repair"),
                json!({ "dist": "lognormal", "mean": "8h" }),
            )]),
        ),
        (
            "parameter of another kind",
            edited(&[(
                &format!("{WEB}/repair"),
                json!({ "dist": "exponential", "mean": "8h", "cv": 1 }),
            )]),
        ),
        (
            "bad duration unit",
            edited(&[("/components/lb/mttr", json!("2 mon"))]),
        ),
        (
            "duration without unit in a string",
            edited(&[("/components/lb/mttr", json!("2"))]),
        ),
        (
            "malformed number",
            edited(&[("/components/lb/mttr", json!("1..2h"))]),
        ),
        (
            "negative duration",
            edited(&[("/components/lb/mttr", json!(-2))]),
        ),
        ("zero mean", edited(&[("/components/lb/mtbf", json!("0h"))])),
        (
            "both mtbf and failure",
            edited(&[(
                "/components/lb/failure",
                json!({ "dist": "exponential", "mean": "5000h" }),
            )]),
        ),
        (
            "neither mttr nor repair",
            edited(&[("/components/lb/mttr", Value::Null)]),
        ),
        (
            "probability above 1",
            edited(&[(&format!("{DB}/switch_success"), json!(1.5))]),
        ),
        (
            "unknown standby mode",
            edited(&[(&format!("{DB}/mode"), json!("lukewarm"))]),
        ),
        ("count 0", edited(&[("/components/db/count", json!(0))])),
        (
            "empty series",
            edited(&[("/system", json!({ "series": [] }))]),
        ),
        (
            "k of 0",
            edited(&[("/system", json!({ "k_of_n": { "k": 0, "of": ["web"] } }))]),
        ),
        (
            "replications 1",
            edited(&[("/simulation/replications", json!(1))]),
        ),
        (
            "unknown method",
            edited(&[("/simulation/method", json!("rare_event"))]),
        ),
    ];
    for (what, doc) in cases {
        assert!(v.errors(&doc).is_some(), "the schema accepts: {what}");
        assert!(loads(&doc).is_err(), "the loader accepts: {what}");
    }
}

/// Edge cases where the schema and the loader must give the same answer.
#[test]
fn schema_and_loader_agree_on_edge_cases() {
    let v = Validator::new();
    let lb = "/components/lb";
    let cases: Vec<(&str, Value)> = vec![
        (
            "duration with spaces and a long unit",
            edited(&[(&format!("{lb}/mttr"), json!(" 30 minutes "))]),
        ),
        (
            "duration with an exponent",
            edited(&[(&format!("{lb}/mtbf"), json!("5e3h"))]),
        ),
        (
            "duration starting with a dot",
            edited(&[(&format!("{lb}/mttr"), json!(".5d"))]),
        ),
        (
            "duration ending with a dot",
            edited(&[(&format!("{lb}/mttr"), json!("2.h"))]),
        ),
        (
            "duration in milliseconds",
            edited(&[(&format!("{lb}/mttr"), json!("7200000ms"))]),
        ),
        (
            "unit in capitals",
            edited(&[(&format!("{lb}/mttr"), json!("2H"))]),
        ),
        (
            "two units",
            edited(&[(&format!("{lb}/mttr"), json!("1h30m"))]),
        ),
        (
            "infinite duration",
            edited(&[(&format!("{lb}/mttr"), json!("infh"))]),
        ),
        (
            "zero failover (at once)",
            edited(&[(&format!("{DB}/failover"), json!("0s"))]),
        ),
        (
            "failover as a distribution",
            edited(&[(
                &format!("{DB}/failover"),
                json!({ "dist": "uniform", "min": "10s", "max": "50s" }),
            )]),
        ),
        (
            "failover as a bad distribution",
            edited(&[(
                &format!("{DB}/failover"),
                json!({ "dist": "uniform", "min": "10s" }),
            )]),
        ),
        (
            "zero heartbeat interval",
            edited(&[(&format!("{DB}/heartbeat/interval"), json!(0))]),
        ),
        (
            "zero misses",
            edited(&[(&format!("{DB}/heartbeat/misses"), json!(0))]),
        ),
        (
            "detection and heartbeat",
            edited(&[(&format!("{DB}/detection"), json!("10s"))]),
        ),
        (
            "detection instead of heartbeat",
            edited(&[
                (&format!("{DB}/detection"), json!("10s")),
                (&format!("{DB}/heartbeat"), Value::Null),
            ]),
        ),
        (
            "dormant factor in hot mode",
            edited(&[(&format!("{DB}/dormant_factor"), json!(0.2))]),
        ),
        (
            "dormant factor in warm mode",
            edited(&[
                (&format!("{DB}/dormant_factor"), json!(0.2)),
                (&format!("{DB}/mode"), json!("warm")),
            ]),
        ),
        (
            "manual recovery",
            edited(&[(
                &format!("{DB}/manual_recovery"),
                json!({ "dist": "exponential", "mean": "1h" }),
            )]),
        ),
        (
            "sync replication",
            edited(&[(&format!("{DB}/replication"), json!("sync"))]),
        ),
        (
            "async replication with lag",
            edited(&[(
                &format!("{DB}/replication"),
                json!({ "async": { "lag": "5s" } }),
            )]),
        ),
        (
            "async without lag",
            edited(&[(&format!("{DB}/replication"), json!("async"))]),
        ),
        (
            "async with a typo",
            edited(&[(
                &format!("{DB}/replication"),
                json!({ "async": { "lag": "5s", "lagg": 1 } }),
            )]),
        ),
        (
            "units as a list",
            edited(&[(&format!("{DB}/units"), json!(["db[0]", "db[1]"]))]),
        ),
        (
            "units as a number",
            edited(&[(&format!("{DB}/units"), json!(2))]),
        ),
        (
            "weibull by scale",
            edited(&[(
                &format!("{WEB}/failure"),
                json!({ "dist": "weibull", "shape": 1.3, "scale": "2000h" }),
            )]),
        ),
        (
            "weibull with scale and mean",
            edited(&[(
                &format!("{WEB}/failure"),
                json!({ "dist": "weibull", "shape": 1.3, "scale": "2000h", "mean": "2000h" }),
            )]),
        ),
        (
            "weibull with zero shape",
            edited(&[(
                &format!("{WEB}/failure"),
                json!({ "dist": "weibull", "shape": 0, "mean": "2000h" }),
            )]),
        ),
        (
            "lognormal by mu and sigma",
            edited(&[(
                &format!("{WEB}/repair"),
                json!({ "dist": "lognormal", "mu": 2.0, "sigma": 0.5 }),
            )]),
        ),
        (
            "lognormal mixing both forms",
            edited(&[(
                &format!("{WEB}/repair"),
                json!({ "dist": "lognormal", "mean": "8h", "cv": 0.5, "mu": 2.0 }),
            )]),
        ),
        (
            "gamma by mean",
            edited(&[(
                &format!("{WEB}/repair"),
                json!({ "dist": "gamma", "shape": 2, "mean": "8h" }),
            )]),
        ),
        (
            "normal",
            edited(&[(
                &format!("{WEB}/repair"),
                json!({ "dist": "normal", "mean": "8h", "sd": "2h" }),
            )]),
        ),
        (
            "deterministic",
            edited(&[(
                &format!("{WEB}/repair"),
                json!({ "dist": "deterministic", "value": "8h" }),
            )]),
        ),
        (
            "empirical",
            edited(&[(
                &format!("{WEB}/repair"),
                json!({ "dist": "empirical", "samples": ["2h", 3, "90 min"] }),
            )]),
        ),
        (
            "empirical without samples",
            edited(&[(
                &format!("{WEB}/repair"),
                json!({ "dist": "empirical", "samples": [] }),
            )]),
        ),
        (
            "load sharing on a parallel",
            edited(&[
                (
                    "/system",
                    json!({ "parallel": ["web"], "load_sharing": { "exponent": 1.5 } }),
                ),
                ("/components/lb", Value::Null),
                ("/components/db", Value::Null),
            ]),
        ),
        (
            "load sharing inside k_of_n",
            edited(&[
                (
                    "/system",
                    json!({ "k_of_n": { "k": 2, "of": ["web"], "load_sharing": {} } }),
                ),
                ("/components/lb", Value::Null),
                ("/components/db", Value::Null),
            ]),
        ),
        (
            "load sharing beside and inside k_of_n",
            edited(&[
                (
                    "/system",
                    json!({ "k_of_n": { "k": 2, "of": ["web"], "load_sharing": {} }, "load_sharing": {} }),
                ),
                ("/components/lb", Value::Null),
                ("/components/db", Value::Null),
            ]),
        ),
        (
            "load sharing on a series",
            edited(&[
                ("/system", json!({ "series": ["web"], "load_sharing": {} })),
                ("/components/lb", Value::Null),
                ("/components/db", Value::Null),
            ]),
        ),
        (
            "load sharing exponent above 20",
            edited(&[
                (
                    "/system",
                    json!({ "parallel": ["web"], "load_sharing": { "exponent": 25 } }),
                ),
                ("/components/lb", Value::Null),
                ("/components/db", Value::Null),
            ]),
        ),
        (
            "maintenance",
            edited(&[(
                &format!("{WEB}/maintenance"),
                json!({ "interval": "30d", "duration": "1h", "renew": true, "order": "rolling" }),
            )]),
        ),
        (
            "maintenance with an unknown order",
            edited(&[(
                &format!("{WEB}/maintenance"),
                json!({ "interval": "30d", "duration": "1h", "order": "random" }),
            )]),
        ),
        (
            "latent failures",
            edited(&[(
                &format!("{WEB}/latent"),
                json!({ "fraction": 0.3, "test": { "interval": "30d", "duration": "1h" } }),
            )]),
        ),
        (
            "latent fraction above 1",
            edited(&[(
                &format!("{WEB}/latent"),
                json!({ "fraction": 1.3, "test": { "interval": "30d" } }),
            )]),
        ),
        (
            "spares",
            edited(&[
                (&format!("{WEB}/spare"), json!("parts")),
                (
                    "/spares",
                    json!({ "parts": { "stock": 2, "lead_time": { "dist": "exponential", "mean": "72h" } } }),
                ),
            ]),
        ),
        (
            "negative stock",
            edited(&[
                (&format!("{WEB}/spare"), json!("parts")),
                (
                    "/spares",
                    json!({ "parts": { "stock": -1, "lead_time": "72h" } }),
                ),
            ]),
        ),
        (
            "data with backups",
            edited(&[(
                "/components/db/data",
                json!({ "loss_on_failure": 0.1, "backup": { "interval": "24h", "duration": "1h", "success": 0.98 }, "restore": "4h" }),
            )]),
        ),
        (
            "data loss without restore",
            edited(&[("/components/db/data", json!({ "loss": { "mtbf": "3y" } }))]),
        ),
        (
            "loss_on_failure without restore",
            edited(&[("/components/db/data", json!({ "loss_on_failure": 0.1 }))]),
        ),
        (
            "backup success 0",
            edited(&[(
                "/components/db/data",
                json!({ "loss_on_failure": 0.1, "backup": { "interval": "24h", "success": 0 }, "restore": "4h" }),
            )]),
        ),
        (
            "restore misplaced outside data",
            edited(&[("/components/db/restore", json!("4h"))]),
        ),
        (
            "common cause",
            edited(&[(
                "/common_cause",
                json!([{ "name": "rack", "affects": ["web[0]", "db[0]"], "mtbf": "5y", "mttr": "6h" }]),
            )]),
        ),
        (
            "common cause with nothing affected",
            edited(&[(
                "/common_cause",
                json!([{ "name": "rack", "affects": [], "mtbf": "5y", "mttr": "6h" }]),
            )]),
        ),
        (
            "availability objective",
            edited(&[(
                "/objectives",
                json!([{ "availability": 0.9995, "window": "30d" }]),
            )]),
        ),
        (
            "objective above 1",
            edited(&[(
                "/objectives",
                json!([{ "availability": 99.95, "window": "30d" }]),
            )]),
        ),
        (
            "objective with a typo",
            edited(&[(
                "/objectives",
                json!([{ "availabilty": 0.9995, "window": "30d" }]),
            )]),
        ),
        (
            "precision as a percentage",
            edited(&[("/simulation/precision", json!("10%"))]),
        ),
        (
            "precision as a fraction",
            edited(&[("/simulation/precision", json!(0.1))]),
        ),
        (
            "precision of 1",
            edited(&[("/simulation/precision", json!(1))]),
        ),
        (
            "rare-event method",
            edited(&[("/simulation/method", json!("rare-event"))]),
        ),
        (
            "scenario name starting with a dot",
            edited(&[("/name", json!(".hidden"))]),
        ),
        (
            "scenario name with a dot",
            edited(&[("/name", json!("web.v2"))]),
        ),
        (
            "component name with a dot",
            edited(&[("/components/l.b", json!({ "mtbf": "5y", "mttr": "1h" }))]),
        ),
        (
            "crew of size 0",
            edited(&[
                (&format!("{WEB}/crew"), json!("ops")),
                ("/crews", json!({ "ops": { "size": 0 } })),
            ]),
        ),
        (
            "crew of size 2",
            edited(&[
                (&format!("{WEB}/crew"), json!("ops")),
                ("/crews", json!({ "ops": { "size": 2 } })),
            ]),
        ),
        (
            "transient points 1",
            edited(&[("/simulation/transient_points", json!(1))]),
        ),
    ];
    let mut disagree = Vec::new();
    for (what, doc) in &cases {
        let schema = v.errors(doc).is_none();
        let loader = loads(doc);
        if schema != loader.is_ok() {
            disagree.push(format!(
                "{what}: schema {}, loader {}",
                if schema { "accepts" } else { "rejects" },
                match &loader {
                    Ok(()) => "accepts".to_string(),
                    Err(e) => format!("rejects ({e})"),
                }
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}
