//! Parsing the `system` tree by hand, so that every wrong node gets a precise
//! message and path (serde's untagged enums only say "no variant matched").

use serde_json::{Map, Value};

use super::{closest, kind_of, Loader};
use crate::error::Issue;
use crate::model::Node;

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
    if map.len() != 1 {
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        l.push(
            Issue::new(
                path,
                format!(
                    "a node object has exactly one key, found {}: {}",
                    keys.len(),
                    keys.join(", ")
                ),
            )
            .hint(format!(
                "use one of {}; nest nodes to combine them",
                KINDS.join(", ")
            )),
        );
        return None;
    }
    let (key, body) = map.iter().next()?;
    let here = format!("{path}.{key}");
    match key.as_str() {
        "series" => list(l, body, &here).map(Node::Series),
        "parallel" => list(l, body, &here).map(Node::Parallel),
        "k_of_n" => k_of_n(l, body, &here),
        "standby" | "balancer" => {
            l.push(
                Issue::new(
                    &here,
                    format!("`{key}` nodes are not supported by this version of availsim yet"),
                )
                .hint("model the units with series, parallel or k_of_n for now"),
            );
            None
        }
        other => {
            let issue = Issue::new(&here, format!("unknown node kind `{other}`"));
            l.push(match closest(other, KINDS.iter().copied()) {
                Some(s) => issue.hint(format!("did you mean `{s}`?")),
                None => issue.hint(format!("a node kind is one of {}", KINDS.join(", "))),
            });
            None
        }
    }
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
    for key in map.keys().filter(|k| *k != "k" && *k != "of") {
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
