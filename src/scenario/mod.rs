//! Loading a scenario: JSON text → raw serde structs → validated [`Model`].
//!
//! Each section (`simulation`, every component, the `system` tree) is checked
//! on its own, so a file with several mistakes gets all of them reported at
//! once, each with its JSON path and, where obvious, the fix.

mod data;
pub mod duration;
mod entries;
use entries::Entries;
pub mod raw;
pub mod schema;
mod system;
mod upkeep;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Issue};
use crate::model::dist::{hours, number};
use crate::model::{
    CommonCause, Component, Crew, Dist, Engine, Instance, LoadShare, Method, Model, ObjectiveDef,
    Simulation, SparePool,
};
pub use duration::{parse_duration, Duration, HOURS_PER_YEAR};
use raw::{
    DistKind, RawCommonCause, RawComponent, RawCrew, RawDist, RawFile, RawPrecision, RawSimulation,
};

/// Values given on the command line; they override the `simulation` block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// `--horizon`, in hours.
    pub horizon: Option<f64>,
    /// `--replications`.
    pub replications: Option<u64>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--shard I/N` or `--shards N`: the run is one of N shards, and the
    /// size guard judges one shard's work.
    pub shards: Option<u64>,
    /// `--precision`, as a fraction.
    pub precision: Option<f64>,
    /// `--method`.
    pub method: Option<Method>,
    /// `--max-replications`: the cap of a precision run.
    pub max_replications: Option<u64>,
}

/// Most instances a scenario may define.
pub const MAX_INSTANCES: u64 = 1_000_000;
/// Most points of the A(t) grid.
pub const MAX_TRANSIENT_POINTS: u64 = 100_000;
/// Most objective windows per replication, over all objectives: each is a
/// number kept in memory by every thread while it runs a replication.
pub const MAX_OBJECTIVE_WINDOWS: u64 = 2_000_000;
/// Events per second per core assumed when refusing runs that cannot finish.
pub(crate) const PLANNING_EVENTS_PER_SECOND: f64 = 2e7;
/// Longest single-core run accepted, in seconds (30 days).
pub(crate) const MAX_CPU_SECONDS: f64 = 30.0 * 86_400.0;
/// Largest memory for per-replication results, in bytes.
pub(crate) const MAX_RESULT_BYTES: f64 = 4.0 * 1024.0 * 1024.0 * 1024.0;

/// Reads and validates a scenario file.
///
/// # Errors
/// [`Error::Read`] when the file cannot be read, [`Error::Syntax`] for
/// invalid JSON (with line and column), [`Error::Invalid`] with every
/// problem found otherwise.
pub fn load_file(path: &Path, overrides: &Overrides) -> Result<Model, Error> {
    let text = crate::input::read_text(path)?;
    load_str(&text, path, overrides)
}

/// Validates a scenario given as bytes; `path` names it in messages and
/// gives the default scenario name.
///
/// # Errors
/// As [`load_file`].
pub fn load_bytes(bytes: &[u8], path: &Path, overrides: &Overrides) -> Result<Model, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = crate::input::line_column(bytes, e.valid_up_to());
        Error::Syntax {
            file: path.to_path_buf(),
            line,
            column,
            message: "the file is not UTF-8 text".into(),
        }
    })?;
    load_str(text, path, overrides)
}

/// The canonical resolved scenario JSON: the file's JSON with its
/// `simulation` block replaced by the settings after command-line overrides,
/// object keys sorted at every level, no whitespace, numbers as written by
/// `serde_json` (shortest round-trip form).
pub fn canonical_json(value: &Value, sim: &crate::model::Simulation) -> String {
    let mut v = value.clone();
    if let Value::Object(map) = &mut v {
        map.insert(
            "simulation".into(),
            serde_json::json!({
                "horizon": sim.horizon,
                "replications": sim.replications,
                "seed": sim.seed,
                "warmup": sim.warmup,
                "transient_points": sim.transient_points,
                "engine": format!("{:?}", sim.engine),
                "precision": sim.precision,
                "method": format!("{:?}", sim.method),
                "cap": sim.cap,
                "rare_cap": sim.rare_cap,
            }),
        );
    }
    fn sorted(v: Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
            other => other,
        }
    }
    sorted(v).to_string()
}

/// FNV-1a (64 bits, hex) of [`canonical_json`]: the same scenario gives the
/// same hash whatever its key order, whitespace or file path, and adding a
/// field to the in-memory model changes no hash.
fn canonical_hash(value: &Value, sim: &crate::model::Simulation) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in canonical_json(value, sim).bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Validates a scenario given as text.
///
/// # Errors
/// As [`load_file`].
pub fn load_str(text: &str, path: &Path, overrides: &Overrides) -> Result<Model, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file = path.to_path_buf();
    let value: Value = serde_json::from_str(text).map_err(|e| Error::Syntax {
        file: file.clone(),
        line: e.line(),
        column: e.column(),
        message: crate::input::json_message(&e),
    })?;
    if !value.is_object() {
        return Err(invalid(
            path,
            Issue::new(
                "",
                format!("a scenario is a JSON object, got {}", kind_of(&value)),
            )
            .hint("start from one of the files in scenarios/, or run `availsim schema`"),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawFile = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| invalid(path, serde_issue("", &e)))?;
    let mut loader = Loader::default();
    let model = loader.load(raw, path, overrides);
    match model {
        Some(mut model) if loader.issues.is_empty() => {
            model.hash = canonical_hash(&value, &model.simulation);
            Ok(model)
        }
        _ => Err(Error::Invalid {
            file,
            issues: loader.issues,
        }),
    }
}

fn invalid(path: &Path, issue: Issue) -> Error {
    Error::Invalid {
        file: path.to_path_buf(),
        issues: vec![issue],
    }
}

/// The JSON type of a value, for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Joins a JSON path prefix and a suffix from serde (`a.b`, `[3]`).
pub(crate) fn join_path(prefix: &str, suffix: &str) -> String {
    match (prefix.is_empty(), suffix.is_empty() || suffix == ".") {
        (_, true) => prefix.to_string(),
        (true, false) => suffix.to_string(),
        (false, false) if suffix.starts_with('[') => format!("{prefix}{suffix}"),
        (false, false) => format!("{prefix}.{suffix}"),
    }
}

/// Turns a serde error at `prefix` into an issue, with a did-you-mean hint
/// for unknown fields and variants.
fn serde_issue<E: std::fmt::Display>(prefix: &str, e: &serde_path_to_error::Error<E>) -> Issue {
    let message = crate::input::strip_position(&e.inner().to_string());
    let issue = Issue::new(join_path(prefix, &e.path().to_string()), message.clone());
    match suggest_from_message(&message) {
        Some(s) => issue.hint(format!("did you mean `{s}`?")),
        None => issue,
    }
}

/// For "unknown field `x`, expected one of `a`, `b`": the closest of a, b.
fn suggest_from_message(message: &str) -> Option<String> {
    if !message.starts_with("unknown field") && !message.starts_with("unknown variant") {
        return None;
    }
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let (given, options) = quoted.split_first()?;
    closest(given, options.iter().copied())
}

/// The candidate closest to `given`, when it is close enough to be a typo.
pub(crate) fn closest<'a>(
    given: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .map(|c| (strsim::osa_distance(given, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len().max(given.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

/// Deserializes one section, recording an issue on failure.
fn section<T: DeserializeOwned>(value: Value, path: &str, issues: &mut Vec<Issue>) -> Option<T> {
    match serde_path_to_error::deserialize(value) {
        Ok(t) => Some(t),
        Err(e) => {
            issues.push(serde_issue(path, &e));
            None
        }
    }
}

/// Builds the model, collecting every issue found.
#[derive(Default)]
struct Loader {
    issues: Vec<Issue>,
    components: Vec<Component>,
    instances: Vec<Instance>,
    by_name: HashMap<String, usize>,
    crews: Vec<Crew>,
    /// Instances inside standby units, with the standby's path.
    standby_members: Vec<(usize, String)>,
    /// Per crew: whether a component uses it.
    crew_used: Vec<bool>,
    /// Every component name defined, valid or not, in file order (for
    /// did-you-mean hints).
    names: Vec<String>,
    /// Components defined with errors: references to them are not reported
    /// again as unknown.
    broken: HashSet<String>,
    /// Spare pools (SPEC §9), read before the components.
    spares: Vec<SparePool>,
    /// Load-sharing nodes found in `system`.
    load_shares: Vec<LoadShare>,
    /// Series, parallel and k-of-n nodes completed so far (post-order).
    gates_done: usize,
}

impl Loader {
    fn push(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    fn load(&mut self, raw: RawFile, path: &Path, overrides: &Overrides) -> Option<Model> {
        let name = self.name(raw.name, path);
        let description = match raw.description {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(v) => {
                self.push(Issue::new(
                    "description",
                    format!("expected a string, got {}", kind_of(&v)),
                ));
                None
            }
        };
        let simulation = self.simulation(raw.simulation, overrides);
        if let Some(entries) = raw.crews {
            self.crews(entries);
        }
        if let Some(entries) = raw.spares {
            self.spares(entries);
        }
        match raw.components {
            Some(entries) if !entries.0.is_empty() => {
                for (name, value) in entries.0 {
                    self.component(name, value);
                }
            }
            Some(_) => {
                self.push(Issue::new("components", "no components defined").hint(
                    "add at least one, e.g. \"web\": {\"mtbf\": \"2000h\", \"mttr\": \"8h\"}",
                ))
            }
            None => self.push(Issue::new("components", "missing field `components`").hint(
                "add e.g. \"components\": {\"web\": {\"mtbf\": \"2000h\", \"mttr\": \"8h\"}}",
            )),
        }
        let common_causes = raw
            .common_cause
            .map(|v| self.common_causes(v))
            .unwrap_or_default();
        let (objectives, rpo_objectives) = match (raw.objectives, &simulation) {
            (Some(v), Some(sim)) => self.objectives(v, sim),
            _ => (Vec::new(), Vec::new()),
        };
        let system = match raw.system {
            Some(v) => system::parse(self, &v),
            None => {
                self.push(
                    Issue::new("system", "missing field `system`")
                        .hint("add the structure, e.g. \"system\": {\"parallel\": [\"web\"]}"),
                );
                None
            }
        };
        self.spare_users();
        let system = system?;
        self.unused(&system);
        self.unused_crews();
        system::check_standby_sharing(self, &system);
        let simulation = simulation?;
        if !self.issues.is_empty() {
            return None;
        }
        let model = Model {
            name,
            description,
            source: path.display().to_string(),
            simulation,
            components: std::mem::take(&mut self.components),
            instances: std::mem::take(&mut self.instances),
            system,
            crews: std::mem::take(&mut self.crews),
            common_causes,
            objectives,
            spares: std::mem::take(&mut self.spares),
            load_sharing: std::mem::take(&mut self.load_shares),
            rpo_objectives,
            hash: String::new(),
        };
        if !model.rpo_objectives.is_empty() && !crate::analytic::data::has_data(&model) {
            self.push(
                Issue::new(
                    "objectives",
                    "an `rpo` objective, but nothing in the scenario holds data, so no incident could ever be judged against it",
                )
                .hint("add a `data` block to the components that hold data (SPEC §8), or an asynchronous `replication` to a standby, or remove the `rpo` objective"),
            );
            return None;
        }
        self.size(&model, overrides.shards);
        Some(model)
    }

    fn name(&mut self, raw: Option<Value>, path: &Path) -> String {
        let fallback = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        match raw {
            None => sanitize(&fallback),
            Some(Value::String(s)) if valid_name(&s) => s,
            Some(Value::String(s)) => {
                self.push(
                    Issue::new("name", format!("invalid scenario name \"{s}\"")).hint(NAME_HINT),
                );
                s
            }
            Some(v) => {
                self.push(Issue::new(
                    "name",
                    format!("expected a string, got {}", kind_of(&v)),
                ));
                fallback
            }
        }
    }

    fn simulation(&mut self, raw: Option<Value>, o: &Overrides) -> Option<Simulation> {
        let raw: RawSimulation = match raw {
            None => RawSimulation::default(),
            Some(v) => section(v, "simulation", &mut self.issues)?,
        };
        let horizon = o.horizon.or(raw.horizon.map(Duration::hours));
        let Some(horizon) = horizon else {
            self.push(
                Issue::new("simulation.horizon", "missing horizon")
                    .hint("add \"simulation\": {\"horizon\": \"10y\"} or pass --horizon 10y"),
            );
            return None;
        };
        let mut ok = true;
        if horizon <= 0.0 {
            self.push(Issue::new(
                "simulation.horizon",
                "the horizon must be positive",
            ));
            ok = false;
        }
        let warmup = raw.warmup.map_or(0.0, Duration::hours);
        if ok && warmup >= horizon {
            self.push(
                Issue::new(
                    "simulation.warmup",
                    format!(
                        "warmup ({}) must be shorter than the horizon ({})",
                        hours(warmup),
                        hours(horizon)
                    ),
                )
                .hint("statistics count from warmup to horizon"),
            );
            ok = false;
        }
        let cap = o.max_replications.or(o.replications).or(raw.replications);
        let replications = cap.unwrap_or(1000);
        if replications < 2 {
            self.push(
                Issue::new(
                    "simulation.replications",
                    format!("replications must be at least 2, got {replications}"),
                )
                .hint("a confidence interval needs two or more replications"),
            );
            ok = false;
        }
        let points = raw.transient_points.unwrap_or(200);
        if !(2..=MAX_TRANSIENT_POINTS).contains(&points) {
            self.push(Issue::new(
                "simulation.transient_points",
                format!(
                    "transient_points must be between 2 and {MAX_TRANSIENT_POINTS}, got {points}"
                ),
            ));
            ok = false;
        }
        let precision = self.precision(raw.precision, o);
        let method = match (o.method, raw.method) {
            (Some(m), _) => Some(m),
            (None, None) => Some(Method::Auto),
            (None, Some(text)) => Method::parse(&text)
                .map_err(|m| {
                    self.push(
                        Issue::new("simulation.method", m)
                            .hint("\"auto\" (the default) picks rare-event estimation when a plain run would not reach the precision"),
                    )
                })
                .ok(),
        };
        let (Ok(precision), Some(method)) = (precision, method) else {
            return None;
        };
        ok.then_some(Simulation {
            horizon,
            replications,
            seed: o.seed.or(raw.seed).unwrap_or(0),
            warmup,
            transient_points: points as usize,
            engine: Engine::Auto,
            precision,
            method,
            cap,
            rare_cap: o.max_replications,
        })
    }

    /// The precision target: the command line's, else the scenario's.
    fn precision(&mut self, raw: Option<RawPrecision>, o: &Overrides) -> Result<Option<f64>, ()> {
        if o.precision.is_some() {
            return Ok(o.precision);
        }
        let checked = match raw {
            None => return Ok(None),
            Some(RawPrecision::Fraction(r)) => crate::precision::check_precision(r),
            Some(RawPrecision::Text(t)) => crate::precision::parse_precision(&t),
        };
        checked.map(Some).map_err(|m| {
            self.push(
                Issue::new("simulation.precision", m)
                    .hint("write a fraction such as 0.1 or a percentage such as \"10%\""),
            )
        })
    }

    fn component(&mut self, name: String, value: Value) {
        let path = format!("components.{name}");
        if !valid_name(&name) || name.contains('.') {
            self.push(
                Issue::new(&path, format!("invalid component name \"{name}\"")).hint(
                    "use letters, digits, '-' and '_'; instances are named name[i] by availsim",
                ),
            );
            return;
        }
        if self.names.contains(&name) {
            self.push(
                Issue::new(&path, format!("component `{name}` is defined twice"))
                    .hint("give each component a unique name"),
            );
            return;
        }
        self.broken.insert(name.clone());
        self.names.push(name.clone());
        let mut value = value;
        self.misplaced_data_keys(&mut value, &path);
        let Some(raw) = section::<RawComponent>(value, &path, &mut self.issues) else {
            return;
        };
        // Checked before `data` moves out of `raw`; a bad count is reported
        // below (the clamp keeps this small meanwhile).
        let upkeep_count = raw.count.unwrap_or(1).clamp(1, MAX_INSTANCES) as usize;
        let upkeep = self.upkeep(&raw, &path, upkeep_count);
        let data = match raw.data {
            None => Some(None),
            Some(d) => self
                .data(d, &format!("{path}.data"))
                .map(|d| Some(Box::new(d))),
        };
        let count = raw.count.unwrap_or(1);
        let total = self.instances.len() as u64 + count;
        if count == 0 || total > MAX_INSTANCES {
            self.push(Issue::new(
                format!("{path}.count"),
                format!("count must be between 1 and {MAX_INSTANCES} (all components together), got {count}"),
            ));
            return;
        }
        let crew = raw
            .crew
            .as_deref()
            .and_then(|c| self.crew_ref(c, &format!("{path}.crew")));
        let failure = self.dist_pair(&path, ("mtbf", raw.mtbf), ("failure", raw.failure));
        let repair = self.dist_pair(&path, ("mttr", raw.mttr), ("repair", raw.repair));
        let (Some(failure), Some(repair), Some(upkeep), Some(data)) =
            (failure, repair, upkeep, data)
        else {
            return;
        };
        let index = self.components.len();
        let first = self.instances.len();
        self.broken.remove(&name);
        self.by_name.insert(name.clone(), index);
        for (i, upkeep) in upkeep.into_iter().enumerate() {
            self.instances.push(Instance {
                name: if count == 1 {
                    name.clone()
                } else {
                    format!("{name}[{i}]")
                },
                component: index,
                failure: failure.clone(),
                repair: repair.clone(),
                crew,
                upkeep,
                data: data.clone(),
            });
        }
        self.components.push(Component {
            name,
            count: count as usize,
            first,
        });
    }

    /// One of the shorthand mean (`mtbf`/`mttr`) or a distribution.
    fn dist_pair(
        &mut self,
        path: &str,
        (short, mean): (&str, Option<Duration>),
        (long, dist): (&str, Option<RawDist>),
    ) -> Option<Dist> {
        match (mean, dist) {
            (Some(_), Some(_)) => {
                self.push(
                    Issue::new(
                        format!("{path}.{long}"),
                        format!("both `{short}` and `{long}` are given"),
                    )
                    .hint(format!(
                        "keep one: `{short}` is an exponential with that mean"
                    )),
                );
                None
            }
            (Some(m), None) => {
                self.checked(&format!("{path}.{short}"), Dist::exponential(m.hours()))
            }
            (None, Some(d)) => build_dist(&d, &format!("{path}.{long}"), &mut self.issues),
            (None, None) => {
                let example = if short == "mtbf" { "2000h" } else { "8h" };
                self.push(
                    Issue::new(path, format!("missing `{short}` or `{long}`"))
                        .hint(format!("add e.g. \"{short}\": \"{example}\", or \"{long}\": {{\"dist\": \"weibull\", \"shape\": 1.5, \"mean\": \"{example}\"}}")),
                );
                None
            }
        }
    }

    fn crews(&mut self, entries: Entries) {
        for (name, value) in entries.0 {
            let path = format!("crews.{name}");
            if !valid_name(&name) || name.contains('.') {
                self.push(
                    Issue::new(&path, format!("invalid crew name \"{name}\""))
                        .hint("use letters, digits, '-' and '_'"),
                );
                continue;
            }
            if self.crews.iter().any(|c| c.name == name) {
                self.push(Issue::new(&path, format!("crew `{name}` is defined twice")));
                continue;
            }
            let Some(raw) = section::<RawCrew>(value, &path, &mut self.issues) else {
                continue;
            };
            if raw.size == 0 || raw.size > MAX_INSTANCES {
                self.push(
                    Issue::new(
                        format!("{path}.size"),
                        format!(
                            "size must be between 1 and {MAX_INSTANCES}, got {}",
                            raw.size
                        ),
                    )
                    .hint("the number of repairs the crew can run at once"),
                );
                continue;
            }
            self.crews.push(Crew {
                name,
                size: raw.size as usize,
            });
            self.crew_used.push(false);
        }
    }

    fn crew_ref(&mut self, name: &str, path: &str) -> Option<usize> {
        if let Some(i) = self.crews.iter().position(|c| c.name == name) {
            self.crew_used[i] = true;
            return Some(i);
        }
        let issue = Issue::new(path, format!("unknown crew `{name}`"));
        let issue = match closest(name, self.crews.iter().map(|c| c.name.as_str())) {
            Some(s) => issue.hint(format!("did you mean `{s}`?")),
            None => issue.hint("define it under `crews`, e.g. \"crews\": {\"ops\": {\"size\": 1}}"),
        };
        self.push(issue);
        None
    }

    fn unused_crews(&mut self) {
        for (c, used) in self.crews.iter().zip(&self.crew_used) {
            if !used {
                self.issues.push(
                    Issue::new(
                        format!("crews.{}", c.name),
                        format!("crew `{}` is not used by any component", c.name),
                    )
                    .hint("add \"crew\": \"NAME\" to the components it repairs, or remove it"),
                );
            }
        }
    }

    fn common_causes(&mut self, value: Value) -> Vec<CommonCause> {
        let Value::Array(items) = value else {
            self.push(Issue::new(
                "common_cause",
                format!(
                    "expected a list of outage processes, got {}",
                    kind_of(&value)
                ),
            ));
            return Vec::new();
        };
        let mut out: Vec<CommonCause> = Vec::new();
        for (j, item) in items.into_iter().enumerate() {
            let path = format!("common_cause[{j}]");
            let Some(raw) = section::<RawCommonCause>(item, &path, &mut self.issues) else {
                continue;
            };
            if !valid_name(&raw.name) {
                self.push(Issue::new(
                    format!("{path}.name"),
                    format!("invalid name \"{}\"", raw.name),
                ));
            } else if out.iter().any(|c| c.name == raw.name) || self.names.contains(&raw.name) {
                self.push(
                    Issue::new(
                        format!("{path}.name"),
                        format!("the name `{}` is already used", raw.name),
                    )
                    .hint(
                        "give each outage process a name of its own, distinct from component names",
                    ),
                );
            }
            let affects = self.affects(&raw.affects, &format!("{path}.affects"));
            let failure = self.dist_pair(&path, ("mtbf", raw.mtbf), ("failure", raw.failure));
            let repair = self.dist_pair(&path, ("mttr", raw.mttr), ("repair", raw.repair));
            let destroys_data = raw.destroys_data.unwrap_or(false);
            if let (Some(affects), Some(failure), Some(repair)) = (affects, failure, repair) {
                let unrestorable = affects.iter().find(|&&i| {
                    self.instances[i]
                        .data
                        .as_ref()
                        .is_some_and(|d| d.restore.is_none())
                });
                if let (true, Some(&i)) = (destroys_data, unrestorable) {
                    self.push(
                        Issue::new(
                            format!("{path}.destroys_data"),
                            format!("`{}` destroys the data of `{}`, whose `data` block has no `restore`", raw.name, self.instances[i].name),
                        )
                        .hint("add \"restore\": DURATION_OR_DIST to that component's `data` block"),
                    );
                    continue;
                }
                if destroys_data && !affects.iter().any(|&i| self.instances[i].data.is_some()) {
                    self.push(
                        Issue::new(
                            format!("{path}.destroys_data"),
                            format!("`{}` destroys data, but none of the instances it affects holds data", raw.name),
                        )
                        .hint("add a `data` block (with `restore`) to the affected components, or remove destroys_data"),
                    );
                    continue;
                }
                out.push(CommonCause {
                    name: raw.name,
                    affects,
                    failure,
                    repair,
                    destroys_data,
                });
            }
        }
        out
    }

    fn affects(&mut self, names: &[String], path: &str) -> Option<Vec<usize>> {
        if names.is_empty() {
            self.push(
                Issue::new(path, "empty list").hint("list the instances the outage holds down"),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (j, name) in names.iter().enumerate() {
            let here = format!("{path}[{j}]");
            match system::resolve_instances(self, name, &here) {
                Some(list) => {
                    for i in list {
                        if out.contains(&i) {
                            self.push(Issue::new(
                                &here,
                                format!("`{}` is listed twice", self.instances[i].name),
                            ));
                            ok = false;
                        }
                        out.push(i);
                    }
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn objectives(&mut self, value: Value, sim: &Simulation) -> (Vec<ObjectiveDef>, Vec<f64>) {
        let Some(items) = section::<Vec<Value>>(value, "objectives", &mut self.issues) else {
            return (Vec::new(), Vec::new());
        };
        let mut out = Vec::new();
        let mut rpo = Vec::new();
        let mut windows = 0.0;
        for (j, item) in items.into_iter().enumerate() {
            let path = format!("objectives[{j}]");
            let o = match self.any_objective(item, &path) {
                None => continue,
                Some(data::AnyObjective::Rpo(r)) => {
                    rpo.extend(self.rpo(r, &path));
                    continue;
                }
                Some(data::AnyObjective::Availability(o)) => o,
            };
            if !(0.0..=1.0).contains(&o.availability) {
                self.push(
                    Issue::new(
                        format!("{path}.availability"),
                        format!(
                            "availability must be between 0 and 1, got {}",
                            number(o.availability)
                        ),
                    )
                    .hint("write 99.95% as 0.9995"),
                );
                continue;
            }
            let w = o.window.hours();
            if w <= 0.0 || w > sim.window() {
                self.push(
                    Issue::new(
                        format!("{path}.window"),
                        format!(
                            "the window ({}) must be positive and fit in [warmup, horizon] ({})",
                            hours(w),
                            hours(sim.window())
                        ),
                    )
                    .hint("lengthen the horizon or shorten the window"),
                );
                continue;
            }
            let n = whole_windows(sim.window(), w);
            windows += n;
            if windows > MAX_OBJECTIVE_WINDOWS as f64 {
                windows -= n;
                self.push(
                    Issue::new(
                        format!("{path}.window"),
                        format!(
                            "{} windows over {} make {} windows per replication; availsim tracks at most {} (8 bytes each, per thread)",
                            hours(w),
                            hours(sim.window()),
                            number(n),
                            number(MAX_OBJECTIVE_WINDOWS as f64)
                        ),
                    )
                    .hint("lengthen the window (availability objectives are usually over 1d to 30d) or shorten the horizon"),
                );
                continue;
            }
            out.push(ObjectiveDef {
                availability: o.availability,
                window: w,
            });
        }
        (out, rpo)
    }

    /// A delay written as a duration or a distribution; zero durations are
    /// kept (callers decide what zero means).
    fn delay(&mut self, value: Value, path: &str) -> Option<Dist> {
        match value {
            Value::Object(_) => {
                let raw: RawDist = section(value, path, &mut self.issues)?;
                build_dist(&raw, path, &mut self.issues)
            }
            v @ (Value::Number(_) | Value::String(_)) => {
                let d: Duration = section(v, path, &mut self.issues)?;
                self.checked(path, Dist::fixed(d.hours()))
            }
            other => {
                self.push(
                    Issue::new(
                        path,
                        format!(
                            "expected a duration or a distribution, got {}",
                            kind_of(&other)
                        ),
                    )
                    .hint("e.g. \"30s\" or {\"dist\": \"exponential\", \"mean\": \"2m\"}"),
                );
                None
            }
        }
    }

    fn checked(&mut self, path: &str, d: Result<Dist, String>) -> Option<Dist> {
        d.map_err(|m| self.push(Issue::new(path, m))).ok()
    }

    /// Every instance must appear in the system: an unused one is almost
    /// always a typo or a forgotten edit.
    fn unused(&mut self, system: &crate::model::Node) {
        let mut used = vec![false; self.instances.len()];
        system.for_each_instance(&mut |i| used[i] = true);
        for c in &self.components {
            let unused: Vec<&str> = (c.first..c.first + c.count)
                .filter(|&i| !used[i])
                .map(|i| self.instances[i].name.as_str())
                .collect();
            if unused.is_empty() {
                continue;
            }
            let what = if c.count == 1 {
                format!("component `{}` is not used in `system`", c.name)
            } else {
                format!(
                    "instances {} of `{}` are not used in `system`",
                    unused.join(", "),
                    c.name
                )
            };
            self.issues.push(
                Issue::new(format!("components.{}", c.name), what)
                    .hint("use it in `system`, or remove it (or lower its count)"),
            );
        }
    }

    /// Refuses runs that could not finish, saying how long they would take.
    /// A shard of a sharded run is judged by its own share of the work; the
    /// per-replication results of the whole run are held by the merge, so
    /// their memory is judged for the whole run.
    fn size(&mut self, model: &Model, shards: Option<u64>) {
        let sim = &model.simulation;
        if sim.precision.is_some() {
            // A precision run's size is judged from its pilot round: the
            // replication count is a cap there, not the work.
            return;
        }
        let share = match shards {
            Some(n) if n > 1 && sim.replications > 0 => {
                sim.replications.div_ceil(n) as f64 / sim.replications as f64
            }
            _ => 1.0,
        };
        let events = model.expected_events() * share;
        let seconds = events / PLANNING_EVENTS_PER_SECOND;
        if seconds > MAX_CPU_SECONDS {
            let what = if share < 1.0 {
                "each shard of this run"
            } else {
                "this run"
            };
            self.push(
                Issue::new(
                    "simulation",
                    format!(
                        "{what} would process about {events:.1e} events: about {} of CPU time at {PLANNING_EVENTS_PER_SECOND:.0e} events per second",
                        human_seconds(seconds)
                    ),
                )
                .hint("lower simulation.replications or simulation.horizon (or --replications, --horizon), or split the run across machines with --shard I/N or --shards N (the limit applies to each shard)"),
            );
        }
        let bytes = 8.0 * sim.replications as f64;
        if bytes > MAX_RESULT_BYTES {
            self.push(
                Issue::new(
                    "simulation.replications",
                    format!(
                        "{} replications need {:.1} GiB for per-replication results",
                        sim.replications,
                        bytes / 1024f64.powi(3)
                    ),
                )
                .hint("use fewer replications per run, or split the study into several runs with different seeds (--shard does not help here: the merge holds every replication's result)"),
            );
        }
    }
}

/// Whole windows of `window` hours in `span` hours, counted as the engine
/// counts them (a span of exactly k windows holds k despite rounding).
fn whole_windows(span: f64, window: f64) -> f64 {
    (span / window * (1.0 + 1e-12)).floor()
}

pub(crate) fn human_seconds(s: f64) -> String {
    let days = s / 86_400.0;
    if days >= 1e6 * 365.0 {
        format!("{:.1e} years", days / 365.0)
    } else if days >= 365.0 {
        format!("{:.1} years", days / 365.0)
    } else {
        format!("{days:.0} days")
    }
}

/// How to write a scenario name, for messages.
pub const NAME_HINT: &str =
    "use letters, digits, '-', '_' and '.', not starting with '.': it names the output folder";

/// Whether `s` may name a scenario (and so its output folder): letters,
/// digits, `-`, `_` and `.`, not starting with `.`, at most 200 bytes. The
/// one rule for names given in a scenario and names read back from reports.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.len() <= 200
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn sanitize(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "scenario".into()
    } else {
        cleaned
    }
}

/// Builds a distribution from its raw form, checking that exactly the
/// parameters of its kind are given.
fn build_dist(raw: &RawDist, path: &str, issues: &mut Vec<Issue>) -> Option<Dist> {
    let kind = raw.dist;
    let given: [(&str, bool); 11] = [
        ("mean", raw.mean.is_some()),
        ("shape", raw.shape.is_some()),
        ("scale", raw.scale.is_some()),
        ("cv", raw.cv.is_some()),
        ("mu", raw.mu.is_some()),
        ("sigma", raw.sigma.is_some()),
        ("sd", raw.sd.is_some()),
        ("min", raw.min.is_some()),
        ("max", raw.max.is_some()),
        ("value", raw.value.is_some()),
        ("samples", raw.samples.is_some()),
    ];
    let (allowed, takes): (&[&str], &str) = match kind {
        DistKind::Exponential => (&["mean"], "mean"),
        DistKind::Weibull => (&["shape", "scale", "mean"], "shape and one of scale, mean"),
        DistKind::Lognormal => (
            &["mean", "cv", "mu", "sigma"],
            "mean and cv, or mu and sigma",
        ),
        DistKind::Gamma => (&["shape", "scale", "mean"], "shape and one of scale, mean"),
        DistKind::Normal => (&["mean", "sd"], "mean and sd"),
        DistKind::Uniform => (&["min", "max"], "min and max"),
        DistKind::Deterministic => (&["value"], "value"),
        DistKind::Empirical => (&["samples"], "samples"),
    };
    let name = kind.name();
    let before = issues.len();
    for (field, present) in given {
        if present && !allowed.contains(&field) {
            issues.push(
                Issue::new(
                    format!("{path}.{field}"),
                    format!("`{field}` does not apply to a {name} distribution"),
                )
                .hint(format!("{name} takes {takes}")),
            );
        }
    }
    let h = |d: Option<Duration>| d.map(Duration::hours);
    let missing = |what: &str| {
        Issue::new(path, format!("a {name} distribution needs {what}"))
            .hint(format!("{name} takes {takes}"))
    };
    let built = match kind {
        DistKind::Exponential => match h(raw.mean) {
            Some(m) => Dist::exponential(m),
            None => return push_none(issues, missing("`mean`")),
        },
        DistKind::Weibull | DistKind::Gamma => {
            let Some(shape) = raw.shape else {
                return push_none(issues, missing("`shape`"));
            };
            match (h(raw.scale), h(raw.mean), kind) {
                (Some(_), Some(_), _) => {
                    return push_none(
                        issues,
                        Issue::new(path, "give one of `scale` and `mean`, not both"),
                    )
                }
                (None, None, _) => return push_none(issues, missing("`scale` or `mean`")),
                (Some(s), None, DistKind::Weibull) => Dist::weibull(shape, s),
                (None, Some(m), DistKind::Weibull) => Dist::weibull_mean(shape, m),
                (Some(s), None, _) => Dist::gamma(shape, s),
                (None, Some(m), _) => {
                    if shape > 0.0 {
                        Dist::gamma(shape, m / shape)
                    } else {
                        Dist::gamma(shape, m)
                    }
                }
            }
        }
        DistKind::Lognormal => match (h(raw.mean), raw.cv, raw.mu, raw.sigma) {
            (Some(m), Some(cv), None, None) => Dist::lognormal_mean_cv(m, cv),
            (None, None, Some(mu), Some(sigma)) => Dist::lognormal(mu, sigma),
            _ => {
                if issues.len() == before {
                    issues.push(missing("either `mean` and `cv`, or `mu` and `sigma`"));
                }
                return None;
            }
        },
        DistKind::Normal => match (h(raw.mean), h(raw.sd)) {
            (Some(m), Some(sd)) => Dist::normal(m, sd),
            _ => return push_none(issues, missing("`mean` and `sd`")),
        },
        DistKind::Uniform => match (h(raw.min), h(raw.max)) {
            (Some(lo), Some(hi)) => Dist::uniform(lo, hi),
            _ => return push_none(issues, missing("`min` and `max`")),
        },
        DistKind::Deterministic => match h(raw.value) {
            Some(v) => Dist::deterministic(v),
            None => return push_none(issues, missing("`value`")),
        },
        DistKind::Empirical => match &raw.samples {
            Some(s) => Dist::empirical(s.iter().map(|d| d.hours()).collect()),
            None => return push_none(issues, missing("`samples`")),
        },
    };
    match built {
        Ok(d) if issues.len() == before => Some(d),
        Ok(_) => None,
        Err(m) => push_none(
            issues,
            Issue::new(path, format!("invalid {name} distribution: {m}")),
        ),
    }
}

fn push_none<T>(issues: &mut Vec<Issue>, issue: Issue) -> Option<T> {
    issues.push(issue);
    None
}
