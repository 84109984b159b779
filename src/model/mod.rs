//! The validated model of a scenario: what the engine and the analytic check
//! work from. Every value here has been checked; nothing downstream
//! re-validates input.

pub mod data;
pub mod dist;
pub mod upkeep;

use std::fmt::Write as _;

pub use data::{BackupDef, DataDef};
pub use dist::Dist;
pub use upkeep::{Latent, LoadShare, Maintenance, SparePool, Upkeep};

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Model {
    /// Scenario name (used for the output folder).
    pub name: String,
    /// Free-text description.
    pub description: Option<String>,
    /// The file the scenario came from, as given.
    pub source: String,
    /// Run settings after command-line overrides.
    pub simulation: Simulation,
    /// Component definitions, in file order.
    pub components: Vec<Component>,
    /// Instances of all components, in file order (`web[0]`, `web[1]`, ...).
    pub instances: Vec<Instance>,
    /// The system structure.
    pub system: Node,
    /// Repair crews, in file order.
    pub crews: Vec<Crew>,
    /// Common-cause outage processes, in file order.
    pub common_causes: Vec<CommonCause>,
    /// Availability objectives.
    pub objectives: Vec<ObjectiveDef>,
    /// Spare-part pools (SPEC §9), in file order.
    pub spares: Vec<SparePool>,
    /// Load-sharing nodes (SPEC §9).
    pub load_sharing: Vec<LoadShare>,
    /// Recovery-point objectives (SPEC §8): hours of data a loss incident
    /// may lose, in file order.
    pub rpo_objectives: Vec<f64>,
}

/// A repair crew: at most `size` repairs at once, the rest wait in FIFO order.
#[derive(Clone, Debug, PartialEq)]
pub struct Crew {
    /// Name as written.
    pub name: String,
    /// Repairs it can run at once.
    pub size: usize,
}

/// An outage process that holds instances down while it is active.
#[derive(Clone, Debug)]
pub struct CommonCause {
    /// Name as written.
    pub name: String,
    /// Instances it holds down.
    pub affects: Vec<usize>,
    /// Time between outages (from the end of one to the start of the next).
    pub failure: Dist,
    /// Outage duration.
    pub repair: Dist,
    /// Whether an outage destroys the data of the instances it affects.
    pub destroys_data: bool,
}

/// An availability target over windows of simulated time.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveDef {
    /// Target availability within each window.
    pub availability: f64,
    /// Window length in hours.
    pub window: f64,
}

/// Run settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    /// Simulated hours per replication.
    pub horizon: f64,
    /// Number of replications (at least 2).
    pub replications: u64,
    /// Seed of the random streams.
    pub seed: u64,
    /// Statistics count from `warmup` to `horizon` (hours).
    pub warmup: f64,
    /// Points of the A(t) grid, both ends included (at least 2).
    pub transient_points: usize,
    /// Which engine runs the replications (not part of the scenario format).
    pub engine: Engine,
    /// Target relative half-width of the 95% interval of the unavailability
    /// (SPEC §7), in (0, 1); `None`: a fixed number of replications.
    pub precision: Option<f64>,
    /// How the unavailability is estimated.
    pub method: Method,
    /// `replications` when the user gave it (scenario or command line): the
    /// cap on the work of a plain precision run.
    pub cap: Option<u64>,
    /// `--max-replications`: the cap on the cycles or trials of a
    /// rare-event run (a scenario's replication count, sized for plain
    /// runs, does not cap those).
    pub rare_cap: Option<u64>,
}

/// How a run estimates the unavailability (`simulation.method`, SPEC §7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// Plain replications.
    Plain,
    /// The rare-event estimator.
    RareEvent,
    /// Rare-event when a pilot round shows a plain run would not reach the
    /// precision, plain otherwise.
    #[default]
    Auto,
}

impl Method {
    /// The method as written in scenarios and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Plain => "plain",
            Method::RareEvent => "rare-event",
            Method::Auto => "auto",
        }
    }

    /// Parses `plain`, `rare-event` or `auto`.
    ///
    /// # Errors
    /// A message naming the accepted values.
    pub fn parse(text: &str) -> Result<Method, String> {
        match text {
            "plain" => Ok(Method::Plain),
            "rare-event" => Ok(Method::RareEvent),
            "auto" => Ok(Method::Auto),
            _ => Err(format!(
                "unknown method \"{text}\": use plain, rare-event or auto"
            )),
        }
    }
}

/// The simulation engine.
///
/// Both are exact in distribution, so they agree within sampling error; they
/// use the random streams differently, so their reports differ in the bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// The Markov jump engine where the scenario allows it (every instance
    /// exponential with dedicated repair, gates only, few components), the
    /// event-queue engine otherwise.
    #[default]
    Auto,
    /// Always the general event-queue engine.
    Events,
}

impl Simulation {
    /// Length of the observed window [warmup, horizon] in hours.
    pub fn window(&self) -> f64 {
        self.horizon - self.warmup
    }

    /// The A(t) grid: `transient_points` times equally spaced over
    /// [warmup, horizon], both ends included.
    pub fn grid(&self) -> Vec<f64> {
        let n = self.transient_points;
        let step = self.window() / (n - 1) as f64;
        (0..n)
            .map(|j| {
                if j + 1 == n {
                    self.horizon
                } else {
                    self.warmup + step * j as f64
                }
            })
            .collect()
    }
}

/// A component definition: `count` identical instances.
#[derive(Clone, Debug)]
pub struct Component {
    /// Name as written.
    pub name: String,
    /// Number of instances.
    pub count: usize,
    /// Index of its first instance in [`Model::instances`].
    pub first: usize,
}

/// One simulated unit.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `name` for count 1, else `name[i]`.
    pub name: String,
    /// Index of its component.
    pub component: usize,
    /// Time to failure.
    pub failure: Dist,
    /// Time to repair.
    pub repair: Dist,
    /// Index of its repair crew in [`Model::crews`]; `None`: dedicated repair.
    pub crew: Option<usize>,
    /// Maintenance, latent failures and spares (SPEC §9).
    pub upkeep: Upkeep,
    /// The data it holds, backups and restore; `None`: it holds no data.
    pub data: Option<Box<DataDef>>,
}

impl Instance {
    /// Steady-state availability mean-up / (mean-up + mean-down).
    pub fn steady_availability(&self) -> f64 {
        let up = self.failure.mean();
        up / (up + self.repair.mean())
    }
}

/// A node of the system structure.
#[derive(Clone, Debug)]
pub enum Node {
    /// A component instance (index into [`Model::instances`]).
    Instance(usize),
    /// Up when every child is up.
    Series(Vec<Node>),
    /// Up when at least one child is up.
    Parallel(Vec<Node>),
    /// Up when at least `k` children are up.
    KOfN {
        /// Children that must be up.
        k: usize,
        /// The children.
        of: Vec<Node>,
    },
    /// Primary/backup units with failover.
    Standby(Box<Standby>),
    /// A load balancer in front of a pool.
    Balancer(Box<Balancer>),
}

/// How idle standby units age.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Idle units age as if active.
    Hot,
    /// Idle units age at this fraction of the normal speed.
    Warm(f64),
    /// Idle units do not age.
    Cold,
}

impl Mode {
    /// The ageing speed of an idle unit (1 = normal).
    pub fn idle_speed(self) -> f64 {
        match self {
            Mode::Hot => 1.0,
            Mode::Warm(f) => f,
            Mode::Cold => 0.0,
        }
    }
}

/// A standby node (SPEC §2 "standby").
#[derive(Clone, Debug)]
pub struct Standby {
    /// The units, in order of preference; the first is the initial primary.
    pub units: Vec<Node>,
    /// How idle units age.
    pub mode: Mode,
    /// Delay from the active unit's failure until it is noticed; `None`: at once.
    pub detection: Option<Dist>,
    /// Duration of a switchover once noticed; `None`: instantaneous.
    pub failover: Option<Dist>,
    /// Probability that a switchover works.
    pub switch_success: f64,
    /// Delay after a failed switchover until an up unit is made active;
    /// `None`: never (only a repair ends the stuck state).
    pub manual_recovery: Option<Dist>,
    /// Asynchronous replication: the data each failover loses (the lag);
    /// `None`: synchronous, a failover loses nothing.
    pub replication_lag: Option<Dist>,
}

/// A balancer node (SPEC §2 "balancer").
#[derive(Clone, Debug)]
pub struct Balancer {
    /// The node that carries the traffic.
    pub via: Node,
    /// The pool members.
    pub pool: Vec<Node>,
    /// Members that must be up for the node to be up.
    pub min_healthy: usize,
    /// Health checks; `None`: failures noticed and repairs readmitted at once.
    pub health_check: Option<HealthCheck>,
}

/// Periodic health checks of a balancer's members.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HealthCheck {
    /// Hours between two checks of a member.
    pub interval: f64,
    /// Consecutive failed checks that take a member out of rotation.
    pub unhealthy_threshold: u32,
    /// Consecutive passing checks that bring it back.
    pub healthy_threshold: u32,
}

impl Node {
    /// The children and how many of them must be up, for a series, parallel
    /// or k-of-n gate; `None` for other nodes.
    pub fn gate(&self) -> Option<(usize, &[Node])> {
        match self {
            Node::Instance(_) | Node::Standby(_) | Node::Balancer(_) => None,
            Node::Series(c) => Some((c.len(), c)),
            Node::Parallel(c) => Some((1, c)),
            Node::KOfN { k, of } => Some((*k, of)),
        }
    }

    /// The child nodes, in order (a balancer's `via` first, then its pool).
    pub fn children(&self) -> Vec<&Node> {
        match self {
            Node::Instance(_) => Vec::new(),
            Node::Series(c) | Node::Parallel(c) | Node::KOfN { of: c, .. } => c.iter().collect(),
            Node::Standby(s) => s.units.iter().collect(),
            Node::Balancer(b) => std::iter::once(&b.via).chain(&b.pool).collect(),
        }
    }

    /// Adds to `per_cycle[i]` the events a failure of instance `i` causes
    /// beyond its own failure and repair: a standby's detection,
    /// switchover and recovery, a balancer's health checks until the
    /// member is out of rotation and back.
    fn add_reaction_events(&self, per_cycle: &mut [f64]) {
        let extra = match self {
            Node::Standby(s) => {
                1.0 + f64::from(u8::from(s.detection.is_some()))
                    + f64::from(u8::from(s.failover.is_some()))
                    + f64::from(u8::from(s.manual_recovery.is_some()))
            }
            Node::Balancer(b) => b.health_check.map_or(1.0, |c| {
                1.0 + f64::from(c.unhealthy_threshold) + f64::from(c.healthy_threshold)
            }),
            _ => 0.0,
        };
        // A standby reacts to its active unit, the first one most of the time.
        let reacting = match self {
            Node::Standby(s) => s.units.first(),
            _ => Some(self),
        };
        if let Some(node) = reacting.filter(|_| extra > 0.0) {
            node.for_each_instance(&mut |i| per_cycle[i] += extra);
        }
        for child in self.children() {
            child.add_reaction_events(per_cycle);
        }
    }

    /// Calls `f` on every instance occurrence, in order.
    pub fn for_each_instance(&self, f: &mut impl FnMut(usize)) {
        match self {
            Node::Instance(i) => f(*i),
            node => node
                .children()
                .into_iter()
                .for_each(|c| c.for_each_instance(f)),
        }
    }
}

impl Model {
    /// Whether the scenario uses maintenance, latent failures, spares or
    /// load sharing (SPEC §9).
    pub fn has_upkeep(&self) -> bool {
        !self.spares.is_empty()
            || !self.load_sharing.is_empty()
            || self.instances.iter().any(|i| i.upkeep.any())
    }

    /// Expected events over the whole run: failures and repairs of instances
    /// and common causes (2 × horizon / (mean up + mean down) per process and
    /// replication), the reactions of standby and balancer nodes, spare
    /// replenishments, restores, data-loss processes, and the starts and ends
    /// of maintenance windows and tests. Used to refuse runs that
    /// could not finish.
    pub fn expected_events(&self) -> f64 {
        let h = self.simulation.horizon;
        let mut per_cycle = vec![2.0; self.instances.len()];
        self.system.add_reaction_events(&mut per_cycle);
        let instances: f64 = self
            .instances
            .iter()
            .zip(&per_cycle)
            .map(|(i, e)| {
                let cycle = i.failure.mean() + i.repair.mean();
                let mut per_failure = *e;
                // A spare part goes back for replenishment; a destroyed
                // instance restores.
                if i.upkeep.spare.is_some() {
                    per_failure += 1.0;
                }
                let mut scheduled = 0.0;
                if let Some(d) = &i.data {
                    per_failure += d.loss_on_failure;
                    if let Some(loss) = &d.loss {
                        scheduled += 2.0 * h / (loss.mean() + i.repair.mean());
                    }
                    // Backups are not events: the latest usable one is found
                    // from the schedule when data is destroyed.
                }
                // Planned windows and tests start and end.
                if let Some(m) = &i.upkeep.maintenance {
                    scheduled += 2.0 * h / m.interval;
                }
                if let Some(l) = &i.upkeep.latent {
                    scheduled += 2.0 * h / l.test_interval;
                }
                per_failure * h / cycle + scheduled
            })
            .sum();
        let causes: f64 = self
            .common_causes
            .iter()
            .map(|c| 2.0 * h / (c.failure.mean() + c.repair.mean()))
            .sum();
        (instances + causes) * self.simulation.replications as f64
    }

    /// The resolved topology as an indented tree, one node per line.
    pub fn topology(&self) -> String {
        let mut out = String::new();
        self.write_node(&self.system, "", "", &mut out);
        out
    }

    fn write_node(&self, node: &Node, first: &str, rest: &str, out: &mut String) {
        let label = match node {
            Node::Instance(i) => self.instances[*i].name.clone(),
            Node::Series(c) => format!("series ({} up of {})", c.len(), c.len()),
            Node::Parallel(c) => format!("parallel (1 up of {})", c.len()),
            Node::KOfN { k, of } => format!("k_of_n ({k} up of {})", of.len()),
            Node::Standby(s) => standby_label(s),
            Node::Balancer(b) => balancer_label(b),
        };
        let _ = writeln!(out, "{first}{label}");
        let children = node.children();
        {
            for (j, child) in children.iter().enumerate() {
                let last = j + 1 == children.len();
                let (f, r) = if last {
                    ("└─ ", "   ")
                } else {
                    ("├─ ", "│  ")
                };
                self.write_node(child, &format!("{rest}{f}"), &format!("{rest}{r}"), out);
            }
        }
    }
}

fn standby_label(s: &Standby) -> String {
    let mode = match s.mode {
        Mode::Hot => "hot".to_string(),
        Mode::Warm(f) => format!("warm, idle units age at {f}×"),
        Mode::Cold => "cold".to_string(),
    };
    let mut label = format!("standby ({mode}; first unit is the primary");
    if let Some(d) = &s.detection {
        let _ = write!(label, "; detection {d}");
    }
    if let Some(d) = &s.failover {
        let _ = write!(label, "; failover {d}");
    }
    if s.switch_success < 1.0 {
        let _ = write!(label, "; switch succeeds with p = {}", s.switch_success);
        match &s.manual_recovery {
            Some(d) => {
                let _ = write!(label, ", manual recovery {d}");
            }
            None => label.push_str(", no manual recovery"),
        }
    }
    if let Some(lag) = &s.replication_lag {
        let _ = write!(label, "; async replication, each failover loses {lag}");
    }
    label.push(')');
    label
}

fn balancer_label(b: &Balancer) -> String {
    let mut label = format!(
        "balancer (via first, then a pool of {}; up with at least {} healthy",
        b.pool.len(),
        b.min_healthy
    );
    if let Some(h) = &b.health_check {
        let _ = write!(
            label,
            "; health check every {}, out after {} failed, back after {} passed",
            dist::hours(h.interval),
            h.unhealthy_threshold,
            h.healthy_threshold
        );
    }
    label.push(')');
    label
}
