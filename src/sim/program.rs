//! The compiled, immutable form of a model that every worker shares.
//!
//! Series, parallel and k-of-n nodes become k-of-n gates with a count of up
//! children. A balancer becomes two gates (its pool: min_healthy-of-n; its
//! top: via and pool) plus member bookkeeping for requests. A standby node
//! keeps its own state machine. Every node's output goes to a [`Link`].
//!
//! Event slots: instance i is slot i (its next failure or repair), then one
//! slot per common-cause process, one timer per standby node (detection,
//! failover or manual recovery: never two at once), and one health-check
//! timer per balancer member.

use super::data::DataPlan;
use super::upkeep::UpkeepProgram;
use crate::model::{Dist, Engine, HealthCheck, Model, Node, ObjectiveDef};

/// Where a node's up/down output goes, packed in a `u32` so that the common
/// case, a gate, is one comparison away: below `UNIT` a gate index; from
/// `UNIT` an index into [`Program::units`]; from `MEMBER` a flat balancer
/// member index; `ROOT` the system itself.
pub(super) type Link = u32;
/// First unit link.
pub(super) const UNIT: Link = 1 << 30;
/// First member link.
pub(super) const MEMBER: Link = 2 << 30;
/// The system.
pub(super) const ROOT: Link = u32::MAX;

/// A k-of-n gate: up while at least `k` children are up.
#[derive(Clone, Copy, Debug)]
pub(super) struct Gate {
    pub k: u32,
    pub parent: Link,
    /// What else follows its count.
    pub hook: Hook,
}

/// What follows a gate's count besides its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Hook {
    /// Nothing.
    None,
    /// Load sharing: its instances' ageing follows its count (`upkeep.rs`).
    LoadSharing,
    /// A balancer's top gate: its down time by mechanism (`balancer.rs`).
    Balancer,
}

/// A compiled standby node.
#[derive(Clone, Debug)]
pub(super) struct StandbyDef {
    pub parent: Link,
    pub units: u32,
    /// Ageing speed of idle units (1 for hot).
    pub idle_speed: f64,
    pub detection: Option<Dist>,
    pub failover: Option<Dist>,
    pub switch_success: f64,
    pub manual_recovery: Option<Dist>,
    /// Instances inside each unit (only for warm and cold modes).
    pub unit_instances: Vec<Vec<u32>>,
}

/// A compiled balancer.
#[derive(Clone, Debug)]
pub(super) struct BalancerDef {
    /// Gate over via and the pool: the balancer's time-based state.
    pub top_gate: u32,
    /// min_healthy-of-n gate over the members.
    pub pool_gate: u32,
    pub members: u32,
    /// Index of its first member in the flat member arrays.
    pub first_member: u32,
    pub health: Option<HealthCheck>,
    /// The (standby, unit) pairs that contain it: it carries traffic only
    /// while each of those units is its standby's active one.
    pub enclosures: Vec<(u32, u32)>,
}

/// A compiled common-cause process.
#[derive(Clone, Debug)]
pub(super) struct CommonCauseDef {
    pub failure: Dist,
    pub repair: Dist,
    pub affects: Vec<u32>,
}

/// Smallest component simulated as one group. Measured: groups of 5 and 2
/// (pool) made the engine slower (2.15 against 2.97 × 10⁷ events/s: the
/// extra uniform draw and bookkeeping cost more than the heap levels they
/// save), a group of 200 (large) faster (2.34 against 1.98 × 10⁷).
const MIN_GROUP: u32 = 8;

/// A group of identical, plain, exponential instances (one component):
/// its failures and repairs are one superposed Poisson process.
#[derive(Clone, Copy, Debug)]
pub(super) struct GroupDef {
    /// Its first instance; the others follow.
    pub first: u32,
    /// Number of instances.
    pub count: u32,
    /// Failure rate of one instance.
    pub lambda: f64,
    /// Repair rate of one instance.
    pub mu: f64,
}

/// Toggles the independent engine sorts at a time (`independent.rs`):
/// enough to make the per-segment work small, few enough to stay in the
/// first-level caches.
const SEGMENT_EVENTS: f64 = 2048.0;

/// Marks "no crew" and "no unit".
pub(super) const NONE: u32 = u32::MAX;

/// The compiled model.
#[derive(Clone, Debug)]
pub struct Program {
    pub(super) failure: Vec<Dist>,
    pub(super) repair: Vec<Dist>,
    /// Per instance: its crew or `NONE`.
    pub(super) crew: Vec<u32>,
    pub(super) crew_size: Vec<u32>,
    pub(super) gates: Vec<Gate>,
    /// Per gate: number of children (the count when all are up).
    pub(super) gate_n: Vec<u32>,
    /// Links fed by instance i: `feeds[feeds_start[i]..feeds_start[i + 1]]`.
    pub(super) feeds_start: Vec<u32>,
    pub(super) feeds: Vec<Link>,
    pub(super) standbys: Vec<StandbyDef>,
    pub(super) balancers: Vec<BalancerDef>,
    pub(super) members: u32,
    /// (top gate, balancer) of every balancer, by gate.
    pub(super) gate_balancer: Vec<(u32, u32)>,
    /// Per member (flat): its balancer.
    pub(super) member_balancer: Vec<u32>,
    /// (standby, unit) of each unit link.
    pub(super) units: Vec<(u32, u32)>,
    /// Per instance: no crew, no common cause and no dormancy, so its
    /// events take the shortest path.
    pub(super) plain: Vec<bool>,
    /// Groups of identical plain exponential instances that share one event
    /// slot (see `group.rs`).
    pub(super) groups: Vec<GroupDef>,
    /// Per instance: its group, or `NONE`.
    pub(super) group_of: Vec<u32>,
    /// Per slot: never scheduled (instances run as part of a group).
    pub(super) never_scheduled: Vec<bool>,
    /// Every instance is an independent alternating renewal process (plain,
    /// continuous distributions) and the structure is gates only: the
    /// independent engine runs it (see `independent.rs`).
    pub(super) independent: bool,
    /// Hours of simulated time the independent engine sorts at a time, and
    /// the buckets of its sort.
    pub(super) segment: f64,
    pub(super) buckets: usize,
    pub(super) common_causes: Vec<CommonCauseDef>,
    /// Per instance: the (standby, unit) pairs of warm or cold standbys that
    /// contain it.
    pub(super) enclosures: Vec<Vec<(u32, u32)>>,
    pub(super) objectives: Vec<ObjectiveDef>,
    pub(super) horizon: f64,
    pub(super) warmup: f64,
    pub(super) grid: Vec<f64>,
    /// Maintenance, latent failures, spares and load sharing (`upkeep.rs`).
    pub(super) upkeep: UpkeepProgram,
    /// Per series/parallel/k-of-n node in post-order: its gate and the
    /// instances under it (for load sharing).
    gate_order: Vec<(u32, Vec<u32>)>,
    /// Data protection settings (`data.rs`).
    pub(super) data: DataPlan,
}

impl Program {
    /// Compiles a model.
    pub fn new(model: &Model) -> Program {
        let n = model.instances.len();
        let mut p = Program {
            failure: model.instances.iter().map(|i| i.failure.clone()).collect(),
            repair: model.instances.iter().map(|i| i.repair.clone()).collect(),
            crew: model
                .instances
                .iter()
                .map(|i| i.crew.map_or(NONE, |c| c as u32))
                .collect(),
            crew_size: model.crews.iter().map(|c| c.size as u32).collect(),
            gates: Vec::new(),
            gate_n: Vec::new(),
            feeds_start: Vec::new(),
            feeds: Vec::new(),
            standbys: Vec::new(),
            balancers: Vec::new(),
            members: 0,
            gate_balancer: Vec::new(),
            member_balancer: Vec::new(),
            units: Vec::new(),
            plain: Vec::new(),
            groups: Vec::new(),
            group_of: Vec::new(),
            never_scheduled: Vec::new(),
            independent: false,
            segment: 0.0,
            buckets: 0,
            common_causes: model
                .common_causes
                .iter()
                .map(|c| CommonCauseDef {
                    failure: c.failure.clone(),
                    repair: c.repair.clone(),
                    affects: c.affects.iter().map(|&i| i as u32).collect(),
                })
                .collect(),
            enclosures: vec![Vec::new(); n],
            objectives: model.objectives.clone(),
            horizon: model.simulation.horizon,
            warmup: model.simulation.warmup,
            grid: model.simulation.grid(),
            upkeep: UpkeepProgram::default(),
            gate_order: Vec::new(),
            data: DataPlan::new(model),
        };
        let mut edges: Vec<(u32, Link)> = Vec::new();
        p.compile(&model.system, ROOT, &[], &mut edges);
        edges.sort_by_key(|&(i, _)| i);
        p.feeds_start = vec![0; n + 1];
        for &(i, _) in &edges {
            p.feeds_start[i as usize + 1] += 1;
        }
        for i in 0..n {
            p.feeds_start[i + 1] += p.feeds_start[i];
        }
        p.feeds = edges.into_iter().map(|(_, l)| l).collect();
        p.upkeep = UpkeepProgram::new(model, &p.gate_order, p.gates.len());
        for (g, e) in p.upkeep.gate_exponent.iter().enumerate() {
            if e.is_some() {
                p.gates[g].hook = Hook::LoadSharing;
            }
        }
        let mut held = vec![false; n];
        for c in &p.common_causes {
            c.affects.iter().for_each(|&i| held[i as usize] = true);
        }
        p.plain = (0..n)
            .map(|i| {
                p.crew[i] == NONE
                    && !held[i]
                    && p.enclosures[i].is_empty()
                    && p.data.defs[i].is_none()
                    && !p.upkeep.involves(i)
            })
            .collect();
        p.group_of = vec![NONE; n];
        for c in &model.components {
            let members = c.first..c.first + c.count;
            let rates = (
                p.failure[c.first].exponential_rate(),
                p.repair[c.first].exponential_rate(),
            );
            let big = c.count as u32 >= MIN_GROUP;
            if let (true, (Some(lambda), Some(mu))) =
                (big && members.clone().all(|i| p.plain[i]), rates)
            {
                let g = p.groups.len() as u32;
                members.clone().for_each(|i| p.group_of[i] = g);
                p.groups.push(GroupDef {
                    first: c.first as u32,
                    count: c.count as u32,
                    lambda,
                    mu,
                });
            }
        }
        p.never_scheduled = (0..p.slots())
            .map(|s| s < n && p.group_of[s] != NONE)
            .collect();
        p.independent = model.simulation.engine == Engine::Auto
            && p.standbys.is_empty()
            && p.balancers.is_empty()
            && p.common_causes.is_empty()
            && (0..n)
                .all(|i| p.plain[i] && p.failure[i].is_continuous() && p.repair[i].is_continuous());
        // Toggles per hour, two per failure–repair cycle of each instance.
        let rate: f64 = (0..n)
            .map(|i| 2.0 / (p.failure[i].mean() + p.repair[i].mean()))
            .sum();
        p.segment = (SEGMENT_EVENTS / rate).min(p.horizon);
        p.buckets = (rate * p.segment).ceil().clamp(1.0, SEGMENT_EVENTS) as usize;
        p
    }

    fn add_gate(&mut self, k: usize, n: usize, parent: Link) -> u32 {
        self.gates.push(Gate {
            k: k as u32,
            parent,
            hook: Hook::None,
        });
        self.gate_n.push(n as u32);
        (self.gates.len() - 1) as u32
    }

    /// Compiles `node`, whose output goes to `out`, inside the standby units
    /// `within`.
    fn compile(
        &mut self,
        node: &Node,
        out: Link,
        within: &[(u32, u32)],
        edges: &mut Vec<(u32, Link)>,
    ) {
        match node {
            Node::Instance(i) => edges.push((*i as u32, out)),
            Node::Series(_) | Node::Parallel(_) | Node::KOfN { .. } => {
                let (k, children) = node.gate().expect("a gate node");
                let g = self.add_gate(k, children.len(), out);
                for child in children {
                    self.compile(child, g, within, edges);
                }
                let mut under = Vec::new();
                node.for_each_instance(&mut |i| under.push(i as u32));
                under.sort_unstable();
                under.dedup();
                self.gate_order.push((g, under));
            }
            Node::Standby(s) => {
                let id = self.standbys.len() as u32;
                let idle_speed = s.mode.idle_speed();
                let mut unit_instances = Vec::new();
                if idle_speed < 1.0 {
                    for (u, unit) in s.units.iter().enumerate() {
                        let mut list = Vec::new();
                        unit.for_each_instance(&mut |i| {
                            list.push(i as u32);
                            self.enclosures[i].push((id, u as u32));
                        });
                        unit_instances.push(list);
                    }
                }
                self.standbys.push(StandbyDef {
                    parent: out,
                    units: s.units.len() as u32,
                    idle_speed,
                    detection: s.detection.clone(),
                    failover: s.failover.clone(),
                    switch_success: s.switch_success,
                    manual_recovery: s.manual_recovery.clone(),
                    unit_instances,
                });
                for (u, unit) in s.units.iter().enumerate() {
                    let link = UNIT + self.units.len() as u32;
                    self.units.push((id, u as u32));
                    let inner = [within, &[(id, u as u32)]].concat();
                    self.compile(unit, link, &inner, edges);
                }
            }
            Node::Balancer(b) => {
                let id = self.balancers.len() as u32;
                let top_gate = self.add_gate(2, 2, out);
                self.gates[top_gate as usize].hook = Hook::Balancer;
                self.gate_balancer.push((top_gate, id));
                let pool_gate = self.add_gate(b.min_healthy, b.pool.len(), top_gate);
                self.balancers.push(BalancerDef {
                    top_gate,
                    pool_gate,
                    members: b.pool.len() as u32,
                    first_member: self.members,
                    health: b.health_check,
                    enclosures: within.to_vec(),
                });
                self.members += b.pool.len() as u32;
                self.member_balancer
                    .extend(std::iter::repeat_n(id, b.pool.len()));
                self.compile(&b.via, top_gate, within, edges);
                let first = self.members - b.pool.len() as u32;
                for (m, member) in b.pool.iter().enumerate() {
                    self.compile(member, MEMBER + first + m as u32, within, edges);
                }
            }
        }
    }

    /// The engine that runs this program: "independent" or "event queue".
    pub fn engine(&self) -> &'static str {
        if self.independent {
            "independent"
        } else {
            "event queue"
        }
    }

    /// Number of instances.
    pub fn instances(&self) -> usize {
        self.failure.len()
    }

    /// Rows of per-component statistics: instances, then common causes.
    pub fn rows(&self) -> usize {
        self.failure.len() + self.common_causes.len()
    }

    /// Number of A(t) grid points.
    pub fn grid_points(&self) -> usize {
        self.grid.len()
    }

    /// Number of objectives.
    pub fn objectives(&self) -> usize {
        self.objectives.len()
    }

    /// Whether requests are measured (the system has a balancer).
    pub fn has_requests(&self) -> bool {
        !self.balancers.is_empty()
    }

    /// First slot of the common-cause processes.
    pub(super) fn cc_base(&self) -> usize {
        self.instances()
    }

    /// First slot of the standby timers.
    pub(super) fn standby_base(&self) -> usize {
        self.cc_base() + self.common_causes.len()
    }

    /// First slot of the balancer member timers.
    pub(super) fn member_base(&self) -> usize {
        self.standby_base() + self.standbys.len()
    }

    /// First slot of the instance groups.
    pub(super) fn group_base(&self) -> usize {
        self.member_base() + self.members as usize
    }

    /// First slot of the data-loss processes.
    pub(super) fn data_base(&self) -> usize {
        self.group_base() + self.groups.len()
    }

    /// First slot of the maintenance, test and replenishment timers.
    pub(super) fn upkeep_base(&self) -> usize {
        self.data_base() + self.data.loss_instances.len()
    }

    /// Total number of event slots.
    pub(super) fn slots(&self) -> usize {
        self.upkeep_base() + self.upkeep.timers.len()
    }

    #[inline]
    pub(super) fn overlap(&self, a: f64, b: f64) -> f64 {
        (b.min(self.horizon) - a.max(self.warmup)).max(0.0)
    }
}
