//! Parsing the `system` tree by hand, so that every wrong node gets a precise
//! message and path (serde's untagged enums only say "no variant matched").

use serde_json::{Map, Value};

use super::raw::{RawBalancer, RawMode, RawStandby};
use super::{closest, kind_of, section, Loader};
use crate::error::Issue;
use crate::model::{Balancer, Dist, HealthCheck, Mode, Node, Standby};

const KINDS: [&str; 5] = ["series", "parallel", "k_of_n", "standby", "balancer"];

/// Parses the `system` value into a node.
pub(super) fn parse(loader: &mut Loader, value: &Value) -> Option<Node> {
    node(loader, value, "system")
}

/// A place where exactly one node is expected.
fn node(l: &mut Loader, v: &Value, path: &str) -> Option<Node> {
    match v {
        Value::String(name) => match resolve(l, name, path)? {
            Resolved::One(i) => Some(Node::Instance(i)),
            Resolved::Group(c) => {
                let comp = &l.components[c];
                let last = comp.first + comp.count - 1;
                l.push(
                    Issue::new(
                        path,
                        format!(
                            "`{name}` is a group of {} instances ({} … {}) where one node is expected",
                            comp.count, l.instances[comp.first].name, l.instances[last].name
                        ),
                    )
                    .hint(format!(
                        "put it in a list, e.g. {{\"parallel\": [\"{name}\"]}}, or name one instance such as \"{}\"",
                        l.instances[comp.first].name
                    )),
                );
                None
            }
        },
        Value::Object(map) => object(l, map, path),
        other => {
            l.push(
                Issue::new(path, format!("expected a component name or a node object, got {}", kind_of(other)))
                    .hint("a node is \"name\", {\"series\": [...]}, {\"parallel\": [...]} or {\"k_of_n\": {\"k\": 2, \"of\": [...]}}"),
            );
            None
        }
    }
}

fn object(l: &mut Loader, map: &Map<String, Value>, path: &str) -> Option<Node> {
    let shared = map.get("load_sharing");
    let kinds = map.len() - usize::from(shared.is_some());
    if kinds != 1 {
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        l.push(
            Issue::new(
                path,
                format!(
                    "a node object has exactly one key besides `load_sharing`, found {}: {}",
                    kinds,
                    keys.join(", ")
                ),
            )
            .hint(format!(
                "use one of {} (parallel and k_of_n may add `load_sharing`); nest nodes to combine them",
                KINDS.join(", ")
            )),
        );
        return None;
    }
    let (key, body) = map.iter().find(|(k, _)| *k != "load_sharing")?;
    let here = format!("{path}.{key}");
    let node = match key.as_str() {
        "series" => list(l, body, &here).map(Node::Series),
        "parallel" => list(l, body, &here).map(Node::Parallel),
        "k_of_n" => k_of_n(l, body, &here),
        "standby" => standby(l, body, &here),
        "balancer" => balancer(l, body, &here),
        other => {
            let issue = Issue::new(&here, format!("unknown node kind `{other}`"));
            l.push(match closest(other, KINDS.iter().copied()) {
                Some(s) => issue.hint(format!("did you mean `{s}`?")),
                None => issue.hint(format!("a node kind is one of {}", KINDS.join(", "))),
            });
            return None;
        }
    };
    let inner = match body {
        Value::Object(m) if key == "k_of_n" => m.get("load_sharing"),
        _ => None,
    };
    let gate = matches!(key.as_str(), "series" | "parallel" | "k_of_n");
    if gate && node.is_some() {
        l.gates_done += 1;
    }
    let share = match (shared, inner) {
        (Some(_), Some(_)) => {
            l.push(
                Issue::new(
                    format!("{path}.load_sharing"),
                    "`load_sharing` is given twice (beside and inside `k_of_n`)",
                )
                .hint("keep one"),
            );
            return None;
        }
        (Some(v), None) => Some((v, format!("{path}.load_sharing"))),
        (None, Some(v)) => Some((v, format!("{here}.load_sharing"))),
        (None, None) => None,
    };
    if let Some((v, at)) = share {
        if key != "parallel" && key != "k_of_n" {
            l.push(
                Issue::new(
                    at,
                    format!("`load_sharing` does not apply to a `{key}` node"),
                )
                .hint("put it on the parallel or k_of_n node whose children share the load"),
            );
            return None;
        }
        node.as_ref()?;
        l.load_sharing(v, &at, l.gates_done - 1);
    }
    node
}

fn k_of_n(l: &mut Loader, body: &Value, path: &str) -> Option<Node> {
    let Value::Object(map) = body else {
        l.push(Issue::new(
            path,
            format!(
                "expected an object {{\"k\": k, \"of\": [nodes]}}, got {}",
                kind_of(body)
            ),
        ));
        return None;
    };
    let mut ok = true;
    for key in map
        .keys()
        .filter(|k| *k != "k" && *k != "of" && *k != "load_sharing")
    {
        let issue = Issue::new(
            format!("{path}.{key}"),
            format!("unknown field `{key}`, expected `k` or `of`"),
        );
        l.push(match closest(key, ["k", "of"].into_iter()) {
            Some(s) => issue.hint(format!("did you mean `{s}`?")),
            None => issue,
        });
        ok = false;
    }
    let k = match map.get("k") {
        Some(v) => match v.as_u64() {
            Some(k) if k >= 1 => Some(k),
            Some(_) => {
                l.push(
                    Issue::new(format!("{path}.k"), "k must be at least 1")
                        .hint("k = 1 is a parallel group"),
                );
                None
            }
            None => {
                l.push(Issue::new(
                    format!("{path}.k"),
                    format!("k must be a whole number, got {v}"),
                ));
                None
            }
        },
        None => {
            l.push(
                Issue::new(path, "missing field `k`")
                    .hint("add \"k\": the number of children that must be up"),
            );
            None
        }
    };
    let of = match map.get("of") {
        Some(v) => list(l, v, &format!("{path}.of")),
        None => {
            l.push(Issue::new(path, "missing field `of`").hint("add \"of\": [nodes]"));
            None
        }
    };
    let (k, of) = (k?, of?);
    if k as usize > of.len() {
        l.push(
            Issue::new(
                format!("{path}.k"),
                format!("k = {k} but `of` has only {} nodes", of.len()),
            )
            .hint(
                "k must be between 1 and the number of nodes (groups count as all their instances)",
            ),
        );
        return None;
    }
    ok.then_some(Node::KOfN { k: k as usize, of })
}

/// A list of nodes; a group name in it is spliced in as its instances.
fn list(l: &mut Loader, v: &Value, path: &str) -> Option<Vec<Node>> {
    let Value::Array(items) = v else {
        l.push(Issue::new(
            path,
            format!("expected a list of nodes, got {}", kind_of(v)),
        ));
        return None;
    };
    if items.is_empty() {
        l.push(Issue::new(path, "empty list").hint("a list needs at least one node"));
        return None;
    }
    let mut nodes = Vec::with_capacity(items.len());
    let mut ok = true;
    for (j, item) in items.iter().enumerate() {
        let here = format!("{path}[{j}]");
        let parsed = match item {
            Value::String(name) => match resolve(l, name, &here) {
                Some(Resolved::One(i)) => {
                    nodes.push(Node::Instance(i));
                    continue;
                }
                Some(Resolved::Group(c)) => {
                    let comp = &l.components[c];
                    nodes.extend((comp.first..comp.first + comp.count).map(Node::Instance));
                    continue;
                }
                None => None,
            },
            _ => node(l, item, &here),
        };
        match parsed {
            Some(n) => nodes.push(n),
            None => ok = false,
        }
    }
    ok.then_some(nodes)
}

enum Resolved {
    One(usize),
    Group(usize),
}

/// Resolves `name` (a component) or `name[i]` (an instance of a group).
fn resolve(l: &mut Loader, text: &str, path: &str) -> Option<Resolved> {
    let (base, index) = match text.strip_suffix(']').and_then(|t| t.split_once('[')) {
        Some((base, idx)) => (base, Some(idx)),
        None => (text, None),
    };
    let Some(&c) = l.by_name.get(base) else {
        if !l.broken.contains(base) {
            unknown(l, base, text, path);
        }
        return None;
    };
    let comp = &l.components[c];
    match index {
        None if comp.count == 1 => Some(Resolved::One(comp.first)),
        None => Some(Resolved::Group(c)),
        Some(idx) => match idx.parse::<usize>() {
            Ok(i) if comp.count > 1 && i < comp.count => Some(Resolved::One(comp.first + i)),
            _ if comp.count == 1 => {
                l.push(
                    Issue::new(
                        path,
                        format!("`{text}` does not exist: `{base}` has count 1"),
                    )
                    .hint(format!("write \"{base}\"")),
                );
                None
            }
            _ => {
                let n = comp.count;
                l.push(
                    Issue::new(
                        path,
                        format!("`{text}` does not exist: `{base}` has {n} instances"),
                    )
                    .hint(format!("use {base}[0] … {base}[{}]", n - 1)),
                );
                None
            }
        },
    }
}

fn unknown(l: &mut Loader, base: &str, text: &str, path: &str) {
    let issue = Issue::new(path, format!("unknown component `{text}`"));
    let suggestion = closest(base, l.names.iter().map(String::as_str));
    let issue = match suggestion {
        Some(s) => issue.hint(format!("did you mean `{s}`?")),
        None if l.components.is_empty() => issue.hint("define it under `components`"),
        None => {
            let names: Vec<&str> = l
                .components
                .iter()
                .map(|c| c.name.as_str())
                .take(12)
                .collect();
            issue.hint(format!("defined components: {}", names.join(", ")))
        }
    };
    l.push(issue);
}

/// A list of nodes, or a group name standing for all its instances.
fn group_or_list(l: &mut Loader, v: &Value, path: &str, what: &str) -> Option<Vec<Node>> {
    match v {
        Value::String(name) => match resolve(l, name, path)? {
            Resolved::Group(c) => {
                let comp = &l.components[c];
                Some(
                    (comp.first..comp.first + comp.count)
                        .map(Node::Instance)
                        .collect(),
                )
            }
            Resolved::One(_) => {
                l.push(
                    Issue::new(
                        path,
                        format!("`{name}` is a single instance, but {what} needs several"),
                    )
                    .hint("give a list of nodes, or a component with \"count\": 2 or more"),
                );
                None
            }
        },
        _ => list(l, v, path),
    }
}

fn standby(l: &mut Loader, body: &Value, path: &str) -> Option<Node> {
    let raw: RawStandby = section(body.clone(), path, &mut l.issues)?;
    let units = group_or_list(l, &raw.units, &format!("{path}.units"), "a standby");
    let mut ok = true;
    if let Some(u) = &units {
        if u.len() < 2 {
            l.push(
                Issue::new(
                    format!("{path}.units"),
                    "a standby needs at least two units",
                )
                .hint("the first unit is the primary, the others its backups"),
            );
            ok = false;
        }
    }
    let mode = match (raw.mode.unwrap_or(RawMode::Hot), raw.dormant_factor) {
        (RawMode::Warm, f) => {
            let f = f.unwrap_or(0.1);
            if !(0.0..=1.0).contains(&f) {
                l.push(
                    Issue::new(
                        format!("{path}.dormant_factor"),
                        format!("dormant_factor must be between 0 and 1, got {f}"),
                    )
                    .hint("0 ages idle units not at all (cold), 1 as fast as active ones (hot)"),
                );
                ok = false;
            }
            Mode::Warm(f)
        }
        (mode, Some(_)) => {
            l.push(
                Issue::new(
                    format!("{path}.dormant_factor"),
                    "dormant_factor applies to warm mode only",
                )
                .hint("add \"mode\": \"warm\", or remove dormant_factor"),
            );
            ok = false;
            if mode == RawMode::Cold {
                Mode::Cold
            } else {
                Mode::Hot
            }
        }
        (RawMode::Cold, None) => Mode::Cold,
        (RawMode::Hot, None) => Mode::Hot,
    };
    let detection = match (raw.detection, raw.heartbeat) {
        (Some(_), Some(_)) => {
            l.push(
                Issue::new(format!("{path}.heartbeat"), "both `detection` and `heartbeat` are given")
                    .hint("keep one: heartbeat {interval, misses} is detection uniform on [(misses-1)·interval, misses·interval]"),
            );
            ok = false;
            None
        }
        (Some(v), None) => l.delay(v, &format!("{path}.detection")).map(nonzero),
        (None, Some(h)) => {
            let (i, m) = (h.interval.hours(), h.misses);
            if i > 0.0 && m >= 1 {
                Some(Some(Dist::Uniform {
                    min: (m - 1) as f64 * i,
                    max: m as f64 * i,
                }))
            } else {
                l.push(
                    Issue::new(
                        format!("{path}.heartbeat"),
                        "heartbeat needs a positive interval and misses of 1 or more",
                    )
                    .hint("e.g. \"heartbeat\": {\"interval\": \"5s\", \"misses\": 3}"),
                );
                ok = false;
                None
            }
        }
        (None, None) => Some(None),
    };
    let failover = match raw.failover {
        Some(v) => l.delay(v, &format!("{path}.failover")).map(nonzero),
        None => Some(None),
    };
    let switch_success = raw.switch_success.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&switch_success) {
        l.push(
            Issue::new(
                format!("{path}.switch_success"),
                format!("switch_success is a probability between 0 and 1, got {switch_success}"),
            )
            .hint("write 99% as 0.99"),
        );
        ok = false;
    }
    let manual_recovery = match raw.manual_recovery {
        Some(v) => l.delay(v, &format!("{path}.manual_recovery")).map(Some),
        None => Some(None),
    };
    let replication_lag = match raw.replication {
        Some(v) => l.replication(v, &format!("{path}.replication")),
        None => Some(None),
    };
    let (units, detection, failover, manual_recovery, replication_lag) = (
        units?,
        detection?,
        failover?,
        manual_recovery?,
        replication_lag?,
    );
    if !ok {
        return None;
    }
    for unit in &units {
        unit.for_each_instance(&mut |i| l.standby_members.push((i, path.to_string())));
    }
    Some(Node::Standby(Box::new(Standby {
        units,
        mode,
        detection,
        failover,
        switch_success,
        manual_recovery,
        replication_lag,
    })))
}

/// A zero delay means "at once": no delay at all.
fn nonzero(d: Dist) -> Option<Dist> {
    match d {
        Dist::Deterministic { value: 0.0 } => None,
        d => Some(d),
    }
}

fn balancer(l: &mut Loader, body: &Value, path: &str) -> Option<Node> {
    let raw: RawBalancer = section(body.clone(), path, &mut l.issues)?;
    let via = node(l, &raw.via, &format!("{path}.via"));
    let pool = group_or_list(l, &raw.pool, &format!("{path}.pool"), "a pool");
    let mut ok = true;
    let min_healthy = raw.min_healthy.unwrap_or(1);
    if let Some(p) = &pool {
        if min_healthy == 0 || min_healthy as usize > p.len() {
            l.push(
                Issue::new(
                    format!("{path}.min_healthy"),
                    format!(
                        "min_healthy must be between 1 and the pool size ({}), got {min_healthy}",
                        p.len()
                    ),
                )
                .hint("the number of members that must be up for the service to be up"),
            );
            ok = false;
        }
    }
    let health_check = match raw.health_check {
        None => None,
        Some(h) => {
            let (u, hh) = (
                h.unhealthy_threshold.unwrap_or(1),
                h.healthy_threshold.unwrap_or(1),
            );
            if h.interval.hours() <= 0.0 || u == 0 || hh == 0 {
                l.push(
                    Issue::new(format!("{path}.health_check"), "health checks need a positive interval and thresholds of 1 or more")
                        .hint("e.g. {\"interval\": \"10s\", \"unhealthy_threshold\": 3, \"healthy_threshold\": 2}"),
                );
                ok = false;
            }
            Some(HealthCheck {
                interval: h.interval.hours(),
                unhealthy_threshold: u,
                healthy_threshold: hh,
            })
        }
    };
    let (via, pool) = (via?, pool?);
    ok.then(|| {
        Node::Balancer(Box::new(Balancer {
            via,
            pool,
            min_healthy: min_healthy as usize,
            health_check,
        }))
    })
}

/// An instance inside a standby unit belongs to that unit alone: shared
/// with another unit or used elsewhere, its dormancy and its role in
/// failover would be ambiguous (SPEC §2 "Validation").
pub(super) fn check_standby_sharing(l: &mut Loader, system: &Node) {
    let mut uses = vec![0usize; l.instances.len()];
    system.for_each_instance(&mut |i| uses[i] += 1);
    let mut reported = vec![false; l.instances.len()];
    for (i, path) in std::mem::take(&mut l.standby_members) {
        if uses[i] > 1 && !reported[i] {
            reported[i] = true;
            let name = l.instances[i].name.clone();
            l.push(
                Issue::new(&path, format!("`{name}` is in a standby unit and is used elsewhere too (or in two units)"))
                    .hint("a standby unit's components belong to it alone: define a separate component for each unit"),
            );
        }
    }
}

/// The instances a name stands for: one instance, or all of a group's.
pub(super) fn resolve_instances(l: &mut Loader, name: &str, path: &str) -> Option<Vec<usize>> {
    match resolve(l, name, path)? {
        Resolved::One(i) => Some(vec![i]),
        Resolved::Group(c) => {
            let comp = &l.components[c];
            Some((comp.first..comp.first + comp.count).collect())
        }
    }
}
