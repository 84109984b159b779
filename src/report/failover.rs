//! The report's `failover` and `crews` blocks (SPEC §5 additions): the down
//! time of every standby and balancer node attributed to its mechanisms,
//! and the utilisation and mean wait of every repair crew.
//!
//! A standby node's down time goes to the phase it is in (`sim/standby.rs`):
//! `units_down` (no unit up to switch to, waiting for a repair),
//! `detection` (the active unit failed, not yet noticed — whatever the
//! other units' state), `switchover` (the failover delay), `stuck` (after a
//! failed switch, ended by a repair, or still stuck at the horizon) and
//! `manual_recovery` (after a failed switch, ended by manual recovery). A
//! balancer's goes to `via_down`, `members_down` (fewer than `min_healthy`
//! up) or `both`. The parts add up to the node's down time.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::text::human_hours;
use crate::model::{Model, Node};
use crate::scenario::HOURS_PER_YEAR;
use crate::sim::{Tally, BALANCER_MECHANISMS, STANDBY_MECHANISMS};
use crate::stats::Moments;

/// Down time by mechanism of every standby and balancer node; null for
/// rare-event runs and scenarios without such nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failover {
    /// Standby nodes, in the order of the resolved topology.
    pub standby: Vec<StandbyNode>,
    /// Balancer nodes, in the order of the resolved topology.
    pub balancers: Vec<BalancerNode>,
}

/// One mechanism's part of a node's down time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Down hours per simulated year (long-run mean over the window).
    pub hours_per_year: f64,
    /// Its share of the node's down time, in [0, 1]; null when the node was
    /// never down.
    pub share: Option<f64>,
}

/// A standby node's down time by mechanism.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StandbyNode {
    /// Where the node sits in the resolved topology (list indices count
    /// spliced group instances), e.g. `system.series[1].standby`.
    pub node: String,
    /// Its units in order of preference.
    pub units: Vec<String>,
    /// The node's down hours per year (measured on its output).
    pub downtime_hours_per_year: f64,
    /// The parts, which add up to `downtime_hours_per_year`.
    pub mechanisms: StandbyMechanisms,
}

/// The mechanisms of a standby node's down time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StandbyMechanisms {
    /// No unit up to switch to: waiting for a repair.
    pub units_down: Part,
    /// The active unit failed and the failure is not noticed yet.
    pub detection: Part,
    /// Switching over (the failover delay).
    pub switchover: Part,
    /// Stuck after a failed switch until a repair completed (or the
    /// horizon came).
    pub stuck: Part,
    /// Stuck after a failed switch until manual recovery.
    pub manual_recovery: Part,
}

/// A balancer's down time by mechanism and its health-check lag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalancerNode {
    /// Where the node sits in the resolved topology.
    pub node: String,
    /// Its `via` node.
    pub via: String,
    /// Pool members.
    pub pool_size: usize,
    /// Members that must be up.
    pub min_healthy: usize,
    /// The node's down hours per year.
    pub downtime_hours_per_year: f64,
    /// The parts, which add up to `downtime_hours_per_year`.
    pub mechanisms: BalancerMechanisms,
    /// Requests lost while the system was up to failed members still in
    /// rotation (or repaired ones not yet back), in hours of full loss per
    /// year; 0 without health checks.
    pub health_check_lag_hours_per_year: f64,
}

/// The mechanisms of a balancer's down time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalancerMechanisms {
    /// `via` down with enough members up.
    pub via_down: Part,
    /// Fewer than `min_healthy` members up with `via` up.
    pub members_down: Part,
    /// Both at once.
    pub both: Part,
}

/// A repair crew's work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrewStat {
    /// Crew name.
    pub name: String,
    /// Repairs it runs at once.
    pub size: usize,
    /// Busy fraction of its members (busy member-hours over size × window),
    /// mean over replications.
    pub utilisation: f64,
    /// 95% confidence interval of the utilisation (Student t over
    /// replications).
    pub utilisation_ci95: [f64; 2],
    /// Repairs started per year.
    pub repairs_per_year: f64,
    /// Mean hours a repair waited for a free member (0 for those that
    /// started at once); null when no repair started.
    pub mean_wait_hours: Option<f64>,
}

/// The resolved-topology paths and nodes of every standby and balancer, in
/// the engine's (pre-)order.
fn special_nodes<'a>(node: &'a Node, path: &str, out: &mut Vec<(String, &'a Node)>) {
    let children: Vec<(String, &Node)> = match node {
        Node::Instance(_) => Vec::new(),
        Node::Series(c) => indexed(&format!("{path}.series"), c),
        Node::Parallel(c) => indexed(&format!("{path}.parallel"), c),
        Node::KOfN { of, .. } => indexed(&format!("{path}.k_of_n.of"), of),
        Node::Standby(s) => {
            let here = format!("{path}.standby");
            out.push((here.clone(), node));
            indexed(&format!("{here}.units"), &s.units)
        }
        Node::Balancer(b) => {
            let here = format!("{path}.balancer");
            out.push((here.clone(), node));
            let mut c = vec![(format!("{here}.via"), &b.via)];
            c.extend(indexed(&format!("{here}.pool"), &b.pool));
            c
        }
    };
    for (p, child) in children {
        special_nodes(child, &p, out);
    }
}

fn indexed<'a>(prefix: &str, nodes: &'a [Node]) -> Vec<(String, &'a Node)> {
    nodes
        .iter()
        .enumerate()
        .map(|(j, n)| (format!("{prefix}[{j}]"), n))
        .collect()
}

/// A short name of a node: an instance's name, or its kind and members.
fn label(model: &Model, node: &Node) -> String {
    let kind = match node {
        Node::Instance(i) => return model.instances[*i].name.clone(),
        Node::Series(_) => "series",
        Node::Parallel(_) => "parallel",
        Node::KOfN { .. } => "k_of_n",
        Node::Standby(_) => "standby",
        Node::Balancer(_) => "balancer",
    };
    let inner: Vec<String> = node.children().iter().map(|c| label(model, c)).collect();
    format!("{kind}({})", inner.join(", "))
}

/// `hours` summed over the run's replications as parts of `total`.
fn parts(hours: &[f64], total: f64, per_year: f64) -> Vec<Part> {
    hours
        .iter()
        .map(|&h| Part {
            hours_per_year: h * per_year,
            share: (total > 0.0).then(|| (h / total).clamp(0.0, 1.0)),
        })
        .collect()
}

impl Failover {
    /// The block for `model` from `t` over `reps` replications; `None`
    /// without standby and balancer nodes.
    pub fn new(model: &Model, t: &Tally, reps: u64) -> Option<Failover> {
        let mut nodes = Vec::new();
        special_nodes(&model.system, "system", &mut nodes);
        if nodes.is_empty() || reps == 0 {
            return None;
        }
        let m = &t.mechanisms;
        let per_year = HOURS_PER_YEAR / (reps as f64 * model.simulation.window());
        let mut out = Failover {
            standby: Vec::new(),
            balancers: Vec::new(),
        };
        for (path, node) in nodes {
            match node {
                Node::Standby(s) => {
                    let k = out.standby.len();
                    let n = STANDBY_MECHANISMS.len();
                    let hours = slice(&m.standby_hours, k * n, n);
                    let down = m.standby_down_hours.get(k).copied().unwrap_or(0.0);
                    let p = parts(&hours, down, per_year);
                    out.standby.push(StandbyNode {
                        node: path,
                        units: s.units.iter().map(|u| label(model, u)).collect(),
                        downtime_hours_per_year: down * per_year,
                        mechanisms: StandbyMechanisms {
                            units_down: p[0],
                            detection: p[1],
                            switchover: p[2],
                            stuck: p[3],
                            manual_recovery: p[4],
                        },
                    });
                }
                Node::Balancer(b) => {
                    let k = out.balancers.len();
                    let n = BALANCER_MECHANISMS.len();
                    let hours = slice(&m.balancer_hours, k * n, n);
                    let down: f64 = hours.iter().sum();
                    let p = parts(&hours, down, per_year);
                    out.balancers.push(BalancerNode {
                        node: path,
                        via: label(model, &b.via),
                        pool_size: b.pool.len(),
                        min_healthy: b.min_healthy,
                        downtime_hours_per_year: down * per_year,
                        mechanisms: BalancerMechanisms {
                            via_down: p[0],
                            members_down: p[1],
                            both: p[2],
                        },
                        health_check_lag_hours_per_year: m
                            .balancer_lag_hours
                            .get(k)
                            .copied()
                            .unwrap_or(0.0)
                            * per_year,
                    });
                }
                _ => {}
            }
        }
        Some(out)
    }
}

/// `n` values of `v` from `start`, zeros where `v` is shorter.
fn slice(v: &[f64], start: usize, n: usize) -> Vec<f64> {
    (start..start + n)
        .map(|j| v.get(j).copied().unwrap_or(0.0))
        .collect()
}

/// The `crews` block: one entry per crew; `None` without crews.
pub fn crews(model: &Model, t: &Tally, reps: u64) -> Option<Vec<CrewStat>> {
    if model.crews.is_empty() || reps == 0 {
        return None;
    }
    let m = &t.mechanisms;
    let years = reps as f64 * model.simulation.window() / HOURS_PER_YEAR;
    Some(
        model
            .crews
            .iter()
            .enumerate()
            .map(|(c, crew)| {
                let u = m.crew_utilisation.get(c).copied().unwrap_or_default();
                let started = m.crew_started.get(c).copied().unwrap_or(0);
                let wait = m.crew_wait_hours.get(c).copied().unwrap_or(0.0);
                CrewStat {
                    name: crew.name.clone(),
                    size: crew.size,
                    utilisation: u.mean.clamp(0.0, 1.0),
                    utilisation_ci95: ci95(&u),
                    repairs_per_year: started as f64 / years,
                    mean_wait_hours: (started > 0).then(|| wait / started as f64),
                }
            })
            .collect(),
    )
}

fn ci95(u: &Moments) -> [f64; 2] {
    if u.n < 2 {
        return [u.mean, u.mean];
    }
    let [lo, hi] = u.ci(0.95);
    [lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0)]
}

/// A table row: what, value, detail.
type Row = (String, String, String);

/// "1.2 h (40.0%)" for each mechanism with down time, in report order.
fn part_list(names: &[&str], parts: &[Part]) -> String {
    let listed: Vec<String> = names
        .iter()
        .zip(parts)
        .filter(|(_, p)| p.hours_per_year > 0.0)
        .map(|(name, p)| {
            format!(
                "{} {} ({:.1}%)",
                name.replace('_', " "),
                human_hours(p.hours_per_year),
                100.0 * p.share.unwrap_or(0.0)
            )
        })
        .collect();
    if listed.is_empty() {
        "no down time".to_string()
    } else {
        listed.join("   ")
    }
}

impl StandbyNode {
    fn parts(&self) -> [Part; 5] {
        let m = &self.mechanisms;
        [
            m.units_down,
            m.detection,
            m.switchover,
            m.stuck,
            m.manual_recovery,
        ]
    }
}

impl BalancerNode {
    fn parts(&self) -> [Part; 3] {
        let m = &self.mechanisms;
        [m.via_down, m.members_down, m.both]
    }
}

/// Rows (what, down time per year, detail) of the failover block, shared by
/// the text summary and report.html.
fn node_rows(f: &Failover) -> Vec<Row> {
    let mut rows = Vec::new();
    for s in &f.standby {
        rows.push((
            format!("{} ({})", s.node, s.units.join(", ")),
            format!("{} /year", human_hours(s.downtime_hours_per_year)),
            part_list(&STANDBY_MECHANISMS, &s.parts()),
        ));
    }
    for b in &f.balancers {
        let mut detail = part_list(&BALANCER_MECHANISMS, &b.parts());
        if b.health_check_lag_hours_per_year > 0.0 {
            let _ = write!(
                detail,
                "; while up, health-check lag lost requests worth {} /year",
                human_hours(b.health_check_lag_hours_per_year)
            );
        }
        rows.push((
            format!(
                "{} (via {}, needs {} of {} members)",
                b.node, b.via, b.min_healthy, b.pool_size
            ),
            format!("{} /year", human_hours(b.downtime_hours_per_year)),
            detail,
        ));
    }
    rows
}

/// Rows (crew, utilisation, detail) of the crews block.
fn crew_rows(crews: &[CrewStat]) -> Vec<Row> {
    crews
        .iter()
        .map(|c| {
            (
                format!("{} (size {})", c.name, c.size),
                format!("{:.2}% busy", 100.0 * c.utilisation),
                format!(
                    "95% CI [{:.2}%, {:.2}%]   mean wait for a free member {}   {:.3} repairs/year",
                    100.0 * c.utilisation_ci95[0],
                    100.0 * c.utilisation_ci95[1],
                    c.mean_wait_hours.map_or("—".to_string(), human_hours),
                    c.repairs_per_year
                ),
            )
        })
        .collect()
}

/// The "failover" and "crews" blocks of the text summary, each only when
/// present.
pub fn summary_blocks(o: &mut String, r: &super::Report) {
    if let Some(f) = &r.failover {
        let _ = writeln!(
            o,
            "\n  failover (each node's down time per year by mechanism; the parts add up to it)"
        );
        for (what, value, detail) in node_rows(f) {
            let _ = writeln!(o, "    {what}   {value}\n      {detail}");
        }
    }
    if let Some(crews) = &r.crews {
        let _ = writeln!(
            o,
            "\n  crews (busy share of the members; wait of a repair for a free member)"
        );
        for (what, value, detail) in crew_rows(crews) {
            let _ = writeln!(o, "    {what}   {value}   {detail}");
        }
    }
}

/// A titled HTML table of (what, value, detail) rows.
fn html_table(o: &mut String, title: &str, note: &str, head: [&str; 3], rows: &[Row]) {
    use super::html::escape;
    let _ = writeln!(
        o,
        "<h2>{title}</h2>\n<p class=\"muted\">{}</p>\n<table>\n<tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        escape(note),
        escape(head[0]),
        escape(head[1]),
        escape(head[2])
    );
    for (what, value, detail) in rows {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(what),
            escape(value),
            escape(detail)
        );
    }
    o.push_str("</table>\n");
}

/// The "Failover mechanisms" and "Repair crews" sections of report.html.
pub fn html_section(o: &mut String, r: &super::Report) {
    if let Some(f) = &r.failover {
        html_table(
            o,
            "Failover mechanisms",
            "Each standby and balancer node's down time per year, attributed to the phase it was in: units down (no unit up to switch to), detection (the active unit's failure not yet noticed), switchover (the failover delay), stuck (after a failed switch, until a repair) and manual recovery (after a failed switch, until manual recovery); for balancers, via down, too few members up, or both. The parts add up to the node's down time.",
            ["node", "down time", "by mechanism"],
            &node_rows(f),
        );
    }
    if let Some(crews) = &r.crews {
        html_table(
            o,
            "Repair crews",
            "Utilisation = busy member-hours over (size × simulated time); the wait is from a repair's request until a member starts it (0 for repairs that start at once).",
            ["crew", "utilisation", "detail"],
            &crew_rows(crews),
        );
    }
}
