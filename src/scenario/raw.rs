//! Serde structs that mirror the scenario JSON as written (SPEC §2).
//!
//! Nothing here is checked beyond types and field names; `validate` turns
//! these into the [`crate::model::Model`]. The JSON Schema printed by
//! `availsim schema` ([`super::schema`]) is derived from the same structs;
//! the `schemars` attributes say what the loader checks later (ranges,
//! positive durations, which fields exclude each other).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::duration::{Duration, PositiveDuration};
use super::entries::Entries;
use super::schema::{
    DurationOrDist, GroupOrList, InstanceRef, MethodName, Node, Precision, Replication, ENTRY_NAME,
};

/// The top level of a scenario file. Sections are kept as raw JSON so that
/// each one is checked on its own and every problem is reported.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    /// Lets editors find the schema; ignored.
    #[serde(rename = "$schema")]
    #[allow(dead_code)]
    pub schema: Option<Value>,
    pub name: Option<Value>,
    pub description: Option<Value>,
    pub simulation: Option<Value>,
    pub components: Option<Entries>,
    pub crews: Option<Entries>,
    pub common_cause: Option<Value>,
    pub system: Option<Value>,
    pub objectives: Option<Value>,
    pub spares: Option<Entries>,
}

/// The `simulation` block.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    /// Simulated time per replication, e.g. "10y". Required here or as --horizon.
    #[schemars(with = "Option<PositiveDuration>")]
    pub horizon: Option<Duration>,
    /// Number of independent histories (default 1000, at least 2).
    #[schemars(range(min = 2))]
    pub replications: Option<u64>,
    /// Seed of the random streams (default 0).
    pub seed: Option<u64>,
    /// Statistics count from `warmup` to `horizon` (default 0).
    pub warmup: Option<Duration>,
    /// Points of the A(t) grid from warmup to horizon, both included (default 200).
    #[schemars(range(min = 2, max = 100_000))]
    pub transient_points: Option<u64>,
    /// Run until the 95% interval of the unavailability has this relative
    /// half-width: a number in (0, 1) or a percentage such as "10%".
    #[schemars(with = "Option<Precision>")]
    pub precision: Option<RawPrecision>,
    /// How to estimate: "plain", "rare-event" or "auto" (default).
    #[schemars(with = "Option<MethodName>")]
    pub method: Option<String>,
}

/// A precision target as written: 0.1 or "10%".
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawPrecision {
    /// A fraction in (0, 1).
    Fraction(f64),
    /// A fraction or a percentage, e.g. "10%".
    Text(String),
}

/// One entry of `components`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("allOf" = [
    {"oneOf": [{"required": ["mtbf"]}, {"required": ["failure"]}]},
    {"oneOf": [{"required": ["mttr"]}, {"required": ["repair"]}]}
]))]
pub struct RawComponent {
    /// Number of identical, independent instances (default 1).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub count: Option<u64>,
    /// Mean time between failures: exponential failures with this mean.
    #[schemars(with = "Option<PositiveDuration>")]
    pub mtbf: Option<Duration>,
    /// Mean time to repair: exponential repairs with this mean.
    #[schemars(with = "Option<PositiveDuration>")]
    pub mttr: Option<Duration>,
    /// Time-to-failure distribution, instead of `mtbf`.
    pub failure: Option<RawDist>,
    /// Repair-time distribution, instead of `mttr`.
    pub repair: Option<RawDist>,
    /// Repair crew; without it every repair starts at once.
    #[schemars(regex(pattern = ENTRY_NAME))]
    pub crew: Option<String>,
    /// Planned maintenance windows.
    pub maintenance: Option<RawMaintenance>,
    /// Hidden failures, found by periodic tests or a demand.
    pub latent: Option<RawLatent>,
    /// Spare pool a repair needs a part from.
    #[schemars(regex(pattern = ENTRY_NAME))]
    pub spare: Option<String>,
    /// The data the instances hold: what destroys it, backups, restore
    /// (SPEC §8).
    pub data: Option<RawData>,
}

/// How maintenance windows are spread over a group's instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawOrder {
    /// One instance at a time, spread evenly over the interval (default).
    #[default]
    Rolling,
    /// Every instance at once.
    Together,
}

/// Planned maintenance of a component.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMaintenance {
    /// Time between two windows of an instance.
    #[schemars(with = "PositiveDuration")]
    pub interval: Duration,
    /// Length of a window (the instance is down meanwhile).
    #[schemars(with = "PositiveDuration")]
    pub duration: Duration,
    /// As good as new afterwards (default false).
    pub renew: Option<bool>,
    /// "rolling" (default) or "together".
    pub order: Option<RawOrder>,
    /// Start of the first window (default: one interval).
    pub offset: Option<Duration>,
}

/// Hidden failures of a component.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLatent {
    /// Fraction of failures that are hidden, in [0, 1].
    #[schemars(range(min = 0.0, max = 1.0))]
    pub fraction: f64,
    /// Periodic tests that reveal hidden failures.
    pub test: RawTest,
}

/// Periodic tests.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    /// Time between tests.
    #[schemars(with = "PositiveDuration")]
    pub interval: Duration,
    /// Time a test takes a working instance out of service (default 0).
    pub duration: Option<Duration>,
}

/// One entry of `spares`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSparePool {
    /// Parts in stock at the start.
    #[schemars(range(min = 0, max = 1_000_000))]
    pub stock: i64,
    /// Time a failed part takes to come back: a duration or a distribution.
    #[schemars(with = "DurationOrDist")]
    pub lead_time: Value,
}

/// Load sharing on a parallel or k-of-n node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLoadSharing {
    /// With m of n children up, each ages (n/m)^exponent times faster (default 1).
    #[schemars(range(min = 0.0, max = 20.0))]
    pub exponent: Option<f64>,
}

/// The `data` block of a component (SPEC §8).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "dependentRequired" = {"loss": ["restore"]},
    "if" = {"properties": {"loss_on_failure": {"exclusiveMinimum": 0}}, "required": ["loss_on_failure"]},
    "then" = {"required": ["restore"]}
))]
pub struct RawData {
    /// Fraction of the instance's own failures that destroy its data (default 0).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub loss_on_failure: Option<f64>,
    /// A separate process that destroys the data: `{"mtbf": DURATION}` or
    /// `{"failure": DIST}`.
    pub loss: Option<RawLoss>,
    /// Periodic backups or checkpoints.
    pub backup: Option<RawBackup>,
    /// Time to restore the data: a duration or a distribution (required
    /// when the data can be destroyed).
    #[schemars(with = "Option<DurationOrDist>")]
    pub restore: Option<Value>,
}

/// A data-loss process: exponential with `mtbf`, or any distribution.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["mtbf"]}, {"required": ["failure"]}]))]
pub struct RawLoss {
    /// Mean time between losses (exponential).
    #[schemars(with = "Option<PositiveDuration>")]
    pub mtbf: Option<Duration>,
    /// Time-between-losses distribution, instead of `mtbf`.
    pub failure: Option<RawDist>,
}

/// Periodic backups.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBackup {
    /// Time between the starts of two backups.
    #[schemars(with = "PositiveDuration")]
    pub interval: Duration,
    /// Time a backup takes (default 0); usable from its end.
    pub duration: Option<Duration>,
    /// Probability that a backup is usable (default 1; 0 would make every
    /// backup useless).
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    pub success: Option<f64>,
    /// Start of the first backup (default 0).
    pub offset: Option<Duration>,
}

/// Kinds of distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DistKind {
    /// `mean`.
    Exponential,
    /// `shape` and one of `scale`, `mean`.
    Weibull,
    /// `mean` and `cv`, or `mu` and `sigma` of ln(hours).
    Lognormal,
    /// `shape` and one of `scale`, `mean`.
    Gamma,
    /// `mean`, `sd`; truncated at zero.
    Normal,
    /// `min`, `max`.
    Uniform,
    /// `value`.
    Deterministic,
    /// `samples`, drawn uniformly with replacement.
    Empirical,
}

impl DistKind {
    /// The name as written in JSON.
    pub fn name(self) -> &'static str {
        match self {
            DistKind::Exponential => "exponential",
            DistKind::Weibull => "weibull",
            DistKind::Lognormal => "lognormal",
            DistKind::Gamma => "gamma",
            DistKind::Normal => "normal",
            DistKind::Uniform => "uniform",
            DistKind::Deterministic => "deterministic",
            DistKind::Empirical => "empirical",
        }
    }
}

/// A distribution as written: `{"dist": KIND, ...parameters}`. Its schema
/// (one variant per kind, each with its own parameters) is in
/// [`super::schema`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    /// The kind of distribution.
    pub dist: DistKind,
    /// Mean (exponential, weibull, lognormal, gamma; the untruncated mean for normal).
    pub mean: Option<Duration>,
    /// Shape (weibull, gamma).
    pub shape: Option<f64>,
    /// Scale (weibull, gamma).
    pub scale: Option<Duration>,
    /// Coefficient of variation (lognormal, with `mean`).
    pub cv: Option<f64>,
    /// Mean of ln(hours) (lognormal, with `sigma`).
    pub mu: Option<f64>,
    /// Standard deviation of ln(hours) (lognormal, with `mu`).
    pub sigma: Option<f64>,
    /// Standard deviation (normal).
    pub sd: Option<Duration>,
    /// Lower bound (uniform).
    pub min: Option<Duration>,
    /// Upper bound (uniform).
    pub max: Option<Duration>,
    /// The fixed duration (deterministic).
    pub value: Option<Duration>,
    /// Observed durations (empirical).
    pub samples: Option<Vec<Duration>>,
}

/// One entry of `crews`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCrew {
    /// At most this many repairs of the crew's components run at once.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub size: u64,
}

/// One entry of `common_cause`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("allOf" = [
    {"oneOf": [{"required": ["mtbf"]}, {"required": ["failure"]}]},
    {"oneOf": [{"required": ["mttr"]}, {"required": ["repair"]}]}
]))]
pub struct RawCommonCause {
    /// Name of the outage process (distinct from component names).
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$"))]
    pub name: String,
    /// Instances held down while the outage lasts.
    #[schemars(with = "Vec<InstanceRef>", length(min = 1))]
    pub affects: Vec<String>,
    /// Mean time between outages (exponential).
    #[schemars(with = "Option<PositiveDuration>")]
    pub mtbf: Option<Duration>,
    /// Mean outage duration (exponential).
    #[schemars(with = "Option<PositiveDuration>")]
    pub mttr: Option<Duration>,
    /// Time-between-outages distribution, instead of `mtbf`.
    pub failure: Option<RawDist>,
    /// Outage-duration distribution, instead of `mttr`.
    pub repair: Option<RawDist>,
    /// Whether an outage destroys the data of the affected instances (default false).
    pub destroys_data: Option<bool>,
}

/// A recovery-point objective (SPEC §8).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRpoObjective {
    /// The most data a loss incident may lose, e.g. "1h".
    #[schemars(with = "PositiveDuration")]
    pub rpo: Duration,
}

/// One entry of `objectives`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawObjective {
    /// Target availability in each window, e.g. 0.9995.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub availability: f64,
    /// Window length, e.g. "30d".
    #[schemars(with = "PositiveDuration")]
    pub window: Duration,
}

/// Standby modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawMode {
    /// Idle units age as if active.
    Hot,
    /// Idle units age at `dormant_factor` times the normal speed.
    Warm,
    /// Idle units do not age.
    Cold,
}

/// The body of a `standby` node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "not" = {"required": ["detection", "heartbeat"]},
    "dependentSchemas" = {"dormant_factor": {"required": ["mode"], "properties": {"mode": {"const": "warm"}}}}
))]
pub struct RawStandby {
    /// The units (list of nodes, or a group); the first is the initial primary.
    #[schemars(with = "GroupOrList")]
    pub units: Value,
    /// hot (default), warm or cold.
    pub mode: Option<RawMode>,
    /// Ageing speed of idle units in warm mode (default 0.1).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub dormant_factor: Option<f64>,
    /// Delay until the active unit's failure is noticed: a duration or a distribution.
    #[schemars(with = "Option<DurationOrDist>")]
    pub detection: Option<Value>,
    /// Detection by missed heartbeats, instead of `detection`.
    pub heartbeat: Option<RawHeartbeat>,
    /// Duration of a switchover: a duration or a distribution (default 0).
    #[schemars(with = "Option<DurationOrDist>")]
    pub failover: Option<Value>,
    /// Probability that a switchover works (default 1).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub switch_success: Option<f64>,
    /// Delay after a failed switchover until an up unit is made active (default: never).
    #[schemars(with = "Option<DurationOrDist>")]
    pub manual_recovery: Option<Value>,
    /// "sync" (default: a failover loses nothing) or
    /// `{"async": {"lag": DURATION_OR_DIST}}` (each failover loses the lag).
    #[schemars(with = "Option<Replication>")]
    pub replication: Option<Value>,
}

/// Heartbeat detection.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHeartbeat {
    /// Time between heartbeats.
    #[schemars(with = "PositiveDuration")]
    pub interval: Duration,
    /// Consecutive missed heartbeats that declare the active unit failed.
    #[schemars(range(min = 1))]
    pub misses: u32,
}

/// The body of a `balancer` node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBalancer {
    /// The node that carries the traffic.
    #[schemars(with = "Node")]
    pub via: Value,
    /// The pool (list of nodes, or a group).
    #[schemars(with = "GroupOrList")]
    pub pool: Value,
    /// Members that must be up (default 1, at most the pool size).
    #[schemars(range(min = 1))]
    pub min_healthy: Option<u64>,
    /// Health checks (default: failures noticed at once, repaired members back at once).
    pub health_check: Option<RawHealthCheck>,
}

/// Health checks of a balancer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    /// Time between checks of a member.
    #[schemars(with = "PositiveDuration")]
    pub interval: Duration,
    /// Consecutive failed checks that take a member out of rotation (default 1).
    #[schemars(range(min = 1))]
    pub unhealthy_threshold: Option<u32>,
    /// Consecutive passing checks that bring a repaired member back (default 1).
    #[schemars(range(min = 1))]
    pub healthy_threshold: Option<u32>,
}
