//! The validated model of a scenario: what the engine and the analytic check
//! work from. Every value here has been checked; nothing downstream
//! re-validates input.

pub mod dist;

use std::fmt::Write as _;

pub use dist::Dist;

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
}

impl Instance {
    /// Steady-state availability mean-up / (mean-up + mean-down).
    pub fn steady_availability(&self) -> f64 {
        let up = self.failure.mean();
        up / (up + self.repair.mean())
    }
}

/// A node of the system structure.
#[derive(Clone, Debug, PartialEq)]
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
}

impl Node {
    /// The children and how many of them must be up, for a gate; `None` for
    /// an instance.
    pub fn gate(&self) -> Option<(usize, &[Node])> {
        match self {
            Node::Instance(_) => None,
            Node::Series(c) => Some((c.len(), c)),
            Node::Parallel(c) => Some((1, c)),
            Node::KOfN { k, of } => Some((*k, of)),
        }
    }

    /// Calls `f` on every instance occurrence, in order.
    pub fn for_each_instance(&self, f: &mut impl FnMut(usize)) {
        match self.gate() {
            None => {
                if let Node::Instance(i) = self {
                    f(*i)
                }
            }
            Some((_, children)) => children.iter().for_each(|c| c.for_each_instance(f)),
        }
    }
}

impl Model {
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
        };
        let _ = writeln!(out, "{first}{label}");
        if let Some((_, children)) = node.gate() {
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
