//! The JSON Schema of the scenario format, printed by `availsim schema`.
//!
//! The blocks with fixed fields come from the serde structs in
//! [`super::raw`] (so a field added there appears here); what the loader
//! parses by hand (nodes, distributions, "a duration or a distribution",
//! replication) is described by the schema-only types below. The schema is
//! as strict as the loader where JSON Schema can say it: unknown fields,
//! node kinds and distribution names are rejected, every distribution
//! needs its own parameters, durations follow the parser's grammar and
//! probabilities lie in [0, 1]. Cross-references (a crew or an instance
//! that must exist, `k` not above the number of children) are the loader's
//! alone. `tests/cli/schema.rs` checks that both agree.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::duration::{Duration, PositiveDuration};
use super::raw::{
    RawBalancer, RawCommonCause, RawComponent, RawCrew, RawDist, RawLoadSharing, RawObjective,
    RawRpoObjective, RawSimulation, RawSparePool, RawStandby,
};

/// A component, crew or spare-pool name: letters, digits, `-` and `_`.
pub const ENTRY_NAME: &str = "^[A-Za-z0-9_-]{1,200}$";

/// A scenario name (it names the output folder): also `.`, not first.
const SCENARIO_NAME: &str = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$";

/// A component name, or one instance of a group: `web` or `web[2]`.
const INSTANCE: &str = r"^[A-Za-z0-9_-]{1,200}(\[[0-9]+\])?$";

/// The JSON Schema of the scenario format, pretty-printed.
pub fn schema_json() -> String {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Scenario>();
    serde_json::to_string_pretty(&schema).expect("a schema always serializes")
}

/// A whole scenario file, for the schema only (the loader reads the
/// sections one by one, to report every problem).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "availsim scenario")]
#[allow(dead_code)]
pub struct Scenario {
    /// Lets editors find this schema; ignored by availsim.
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// Name of the scenario; outputs go to `OUT/<name>/` (default: the file name).
    #[schemars(regex(pattern = SCENARIO_NAME))]
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Horizon, replications, seed, warmup, transient grid, precision, method.
    pub simulation: Option<RawSimulation>,
    /// Components by name (at least one).
    #[schemars(extend("propertyNames" = {"pattern": ENTRY_NAME}, "minProperties" = 1))]
    pub components: Map<RawComponent>,
    /// Repair crews by name.
    #[schemars(extend("propertyNames" = {"pattern": ENTRY_NAME}))]
    pub crews: Option<Map<RawCrew>>,
    /// Independent outage processes that hold several instances down.
    pub common_cause: Option<Vec<RawCommonCause>>,
    /// The system structure: one node.
    pub system: Node,
    /// Availability targets per window, and recovery-point objectives.
    pub objectives: Option<Vec<Objective>>,
    /// Spare-part pools by name.
    #[schemars(extend("propertyNames" = {"pattern": ENTRY_NAME}))]
    pub spares: Option<Map<RawSparePool>>,
}

/// A JSON object with arbitrary keys.
pub type Map<T> = std::collections::BTreeMap<String, T>;

/// An objective: availability per window, or a recovery point.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum Objective {
    /// The fraction of whole windows meeting an availability.
    Availability(RawObjective),
    /// The fraction of data-loss incidents losing no more than `rpo`.
    Rpo(RawRpoObjective),
}

/// One node of the system structure.
pub struct Node;

impl JsonSchema for Node {
    fn schema_name() -> Cow<'static, str> {
        "Node".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let list = g.subschema_for::<NodeList>();
        let share = g.subschema_for::<RawLoadSharing>();
        let k_of_n = g.subschema_for::<KOfN>();
        let standby = g.subschema_for::<RawStandby>();
        let balancer = g.subschema_for::<RawBalancer>();
        let object = |key: &str, body: &Schema, description: &str| {
            let mut properties = serde_json::Map::new();
            properties.insert(key.into(), body.clone().to_value());
            json_schema!({
                "description": description,
                "type": "object",
                "properties": properties,
                "required": [key],
                "additionalProperties": false
            })
        };
        json_schema!({
            "description": "A node: a component instance, or an object with exactly one node kind (series, parallel, k_of_n, standby, balancer)",
            "oneOf": [
                {
                    "description": "A component instance (`db`, `web[2]`); in a list, a group name stands for all its instances",
                    "type": "string",
                    "pattern": INSTANCE
                },
                object("series", &list, "Up when every child is up"),
                {
                    "description": "Up when at least one child is up",
                    "type": "object",
                    "properties": { "parallel": list, "load_sharing": share },
                    "required": ["parallel"],
                    "additionalProperties": false
                },
                {
                    "description": "Up when at least k children are up; `load_sharing` beside or inside `k_of_n`, not both",
                    "type": "object",
                    "properties": { "k_of_n": k_of_n, "load_sharing": share },
                    "required": ["k_of_n"],
                    "additionalProperties": false,
                    "not": {
                        "required": ["load_sharing"],
                        "properties": { "k_of_n": { "required": ["load_sharing"] } }
                    }
                },
                object("standby", &standby, "Primary/backup with failover"),
                object("balancer", &balancer, "A load balancer in front of a pool")
            ]
        })
    }
}

/// A non-empty list of nodes.
pub struct NodeList;

impl JsonSchema for NodeList {
    fn schema_name() -> Cow<'static, str> {
        "NodeList".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A non-empty list of nodes; a group name is spliced in as all its instances",
            "type": "array",
            "items": g.subschema_for::<Node>(),
            "minItems": 1
        })
    }
}

/// Standby units or a balancer pool: a list of nodes, or a group name.
pub struct GroupOrList;

impl JsonSchema for GroupOrList {
    fn schema_name() -> Cow<'static, str> {
        "GroupOrList".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A list of nodes, or the name of a group (a component with count 2 or more) standing for all its instances",
            "oneOf": [
                { "type": "string", "pattern": ENTRY_NAME },
                g.subschema_for::<NodeList>()
            ]
        })
    }
}

/// The body of a `k_of_n` node.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct KOfN {
    /// How many children must be up (1 or more, at most the number of children).
    #[schemars(range(min = 1))]
    pub k: u64,
    /// The children.
    pub of: NodeList,
    /// Survivors age faster while children are down.
    pub load_sharing: Option<RawLoadSharing>,
}

/// A delay or a time: a duration, or a distribution.
pub struct DurationOrDist;

impl JsonSchema for DurationOrDist {
    fn schema_name() -> Cow<'static, str> {
        "DurationOrDist".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A fixed duration (zero means at once), or a distribution",
            "oneOf": [g.subschema_for::<Duration>(), g.subschema_for::<RawDist>()]
        })
    }
}

/// A standby's replication: `"sync"` or `{"async": {"lag": ...}}`.
pub struct Replication;

impl JsonSchema for Replication {
    fn schema_name() -> Cow<'static, str> {
        "Replication".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"sync\" (a failover loses nothing) or {\"async\": {\"lag\": DURATION_OR_DIST}} (each failover loses the lag)",
            "oneOf": [
                { "const": "sync" },
                {
                    "type": "object",
                    "properties": {
                        "async": {
                            "type": "object",
                            "properties": { "lag": g.subschema_for::<DurationOrDist>() },
                            "required": ["lag"],
                            "additionalProperties": false
                        }
                    },
                    "required": ["async"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// A component name or one instance (`web`, `web[2]`).
pub struct InstanceRef;

impl JsonSchema for InstanceRef {
    fn schema_name() -> Cow<'static, str> {
        "InstanceRef".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A component (all its instances) or one instance, e.g. \"web\" or \"web[0]\"",
            "type": "string",
            "pattern": INSTANCE
        })
    }
}

/// A precision target: 0.1 or "10%".
pub struct Precision;

impl JsonSchema for Precision {
    fn schema_name() -> Cow<'static, str> {
        "Precision".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Relative half-width of the 95% interval of the unavailability, strictly between 0 and 1: a fraction (0.1) or a percentage (\"10%\")",
            "oneOf": [
                { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1 },
                { "type": "string", "pattern": r"^\s*\+?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*%?\s*$" }
            ]
        })
    }
}

/// How to estimate.
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum MethodName {
    /// Plain Monte Carlo.
    Plain,
    /// Importance sampling or splitting (SPEC §7).
    RareEvent,
    /// Rare-event estimation when a plain run would not reach the precision (default).
    Auto,
}

/// One variant of a distribution: its name and its parameters (all required).
fn variant(kind: &str, description: &str, params: &[(&str, Schema)]) -> Schema {
    let mut properties = serde_json::Map::new();
    properties.insert("dist".into(), serde_json::json!({ "const": kind }));
    let mut required = vec![serde_json::Value::from("dist")];
    for (name, schema) in params {
        properties.insert((*name).into(), schema.clone().to_value());
        required.push((*name).into());
    }
    json_schema!({
        "title": format!("{kind} ({})", params.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")),
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

impl JsonSchema for RawDist {
    fn schema_name() -> Cow<'static, str> {
        "Dist".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let pos = g.subschema_for::<PositiveDuration>();
        let dur = g.subschema_for::<Duration>();
        let shape = json_schema!({ "type": "number", "exclusiveMinimum": 0 });
        let spread =
            |what: &str| json_schema!({ "type": "number", "minimum": 0, "description": what });
        let cv = spread("coefficient of variation (sd / mean)");
        let sigma = spread("standard deviation of ln(hours)");
        let mu = json_schema!({ "type": "number", "description": "mean of ln(hours)" });
        let samples = json_schema!({ "type": "array", "items": dur.clone(), "minItems": 1 });
        json_schema!({
            "description": "A distribution: {\"dist\": KIND, ...its parameters}; every kind can be given by its mean",
            "oneOf": [
                variant("exponential", "Exponential with this mean", &[("mean", pos.clone())]),
                variant("weibull", "Weibull by shape and scale", &[("shape", shape.clone()), ("scale", pos.clone())]),
                variant("weibull", "Weibull by shape and mean", &[("shape", shape.clone()), ("mean", pos.clone())]),
                variant("lognormal", "Log-normal by mean and coefficient of variation", &[("mean", pos.clone()), ("cv", cv)]),
                variant("lognormal", "Log-normal by mu and sigma of ln(hours)", &[("mu", mu), ("sigma", sigma)]),
                variant("gamma", "Gamma by shape and scale", &[("shape", shape.clone()), ("scale", pos.clone())]),
                variant("gamma", "Gamma by shape and mean", &[("shape", shape), ("mean", pos.clone())]),
                variant("normal", "Normal truncated at zero", &[("mean", pos.clone()), ("sd", dur.clone())]),
                variant("uniform", "Uniform on [min, max]", &[("min", dur), ("max", pos.clone())]),
                variant("deterministic", "Always this value", &[("value", pos)]),
                variant("empirical", "Drawn uniformly with replacement from observed durations", &[("samples", samples)])
            ]
        })
    }
}
