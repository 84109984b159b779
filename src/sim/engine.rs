//! One replication: the discrete-event loop.
//!
//! The structure is compiled into k-of-n gates (series = n-of-n, parallel =
//! 1-of-n), each holding a count of up children. An instance's change
//! updates the counts of the gates it feeds and walks up only while a gate
//! changes state, so an event costs O(depth), never a re-evaluation of the
//! tree. The share of system down time per instance is kept in O(1) per
//! event with a running clock S(t) of system down time: an instance down
//! from t₀ to t₁ was down for S(t₁) − S(t₀) of system down time.

use rand::Rng;

use super::queue::EventQueue;
use super::tally::Tally;
use crate::model::{Dist, Model, Node};

const NO_PARENT: u32 = u32::MAX;

/// A k-of-n gate: up while at least `k` children are up.
#[derive(Clone, Copy, Debug)]
struct Gate {
    k: u32,
    /// The parent gate, or `NO_PARENT` for the root.
    parent: u32,
}

/// The immutable, compiled form of a model that every worker shares.
#[derive(Clone, Debug)]
pub struct Program {
    failure: Vec<Dist>,
    repair: Vec<Dist>,
    /// Per gate: how many children must be up, and its parent.
    gates: Vec<Gate>,
    /// Per gate: number of children (the count when all are up).
    gate_n: Vec<u32>,
    /// Gates fed by instance i: `feeds[feeds_start[i]..feeds_start[i + 1]]`.
    feeds_start: Vec<u32>,
    feeds: Vec<u32>,
    horizon: f64,
    warmup: f64,
    grid: Vec<f64>,
}

impl Program {
    /// Compiles a model.
    pub fn new(model: &Model) -> Program {
        let n = model.instances.len();
        let mut p = Program {
            failure: model.instances.iter().map(|i| i.failure.clone()).collect(),
            repair: model.instances.iter().map(|i| i.repair.clone()).collect(),
            gates: Vec::new(),
            gate_n: Vec::new(),
            feeds_start: Vec::new(),
            feeds: Vec::new(),
            horizon: model.simulation.horizon,
            warmup: model.simulation.warmup,
            grid: model.simulation.grid(),
        };
        let mut edges: Vec<(u32, u32)> = Vec::new();
        match &model.system {
            Node::Instance(i) => {
                p.add_gate(1, 1, NO_PARENT);
                edges.push((*i as u32, 0));
            }
            node => p.compile(node, NO_PARENT, &mut edges),
        }
        edges.sort_by_key(|&(i, _)| i);
        p.feeds_start = vec![0; n + 1];
        for &(i, _) in &edges {
            p.feeds_start[i as usize + 1] += 1;
        }
        for i in 0..n {
            p.feeds_start[i + 1] += p.feeds_start[i];
        }
        p.feeds = edges.into_iter().map(|(_, g)| g).collect();
        p
    }

    fn add_gate(&mut self, k: usize, n: usize, parent: u32) -> u32 {
        self.gates.push(Gate {
            k: k as u32,
            parent,
        });
        self.gate_n.push(n as u32);
        (self.gates.len() - 1) as u32
    }

    fn compile(&mut self, node: &Node, parent: u32, edges: &mut Vec<(u32, u32)>) {
        let Some((k, children)) = node.gate() else {
            unreachable!("instances are compiled by their gate");
        };
        let g = self.add_gate(k, children.len(), parent);
        for child in children {
            match child {
                Node::Instance(i) => edges.push((*i as u32, g)),
                gate => self.compile(gate, g, edges),
            }
        }
    }

    /// Number of instances.
    pub fn instances(&self) -> usize {
        self.failure.len()
    }

    /// Number of A(t) grid points.
    pub fn grid_points(&self) -> usize {
        self.grid.len()
    }

    #[inline]
    fn overlap(&self, a: f64, b: f64) -> f64 {
        (b.min(self.horizon) - a.max(self.warmup)).max(0.0)
    }
}

/// The mutable state of one replication, reused across replications so that
/// a replication allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct Replication {
    queue: EventQueue,
    seq: u64,
    up: Vec<bool>,
    count: Vec<u32>,
    down_since: Vec<f64>,
    /// S(t) when each down instance went down.
    share_mark: Vec<f64>,
    system_up: bool,
    system_down_since: f64,
    /// System down hours in the window so far, not counting the current
    /// outage.
    system_down: f64,
    first_failure: f64,
    outages: u64,
    next_grid: usize,
    next_grid_time: f64,
    events: u64,
}

impl Replication {
    /// Runs one replication with `rng` and adds its statistics to `tally`.
    pub fn run<R: Rng + ?Sized>(&mut self, p: &Program, rng: &mut R, tally: &mut Tally) {
        self.reset(p, rng);
        loop {
            let (t, i) = self.queue.peek();
            if t > p.horizon {
                break;
            }
            self.advance_grid(p, t, tally);
            self.events += 1;
            self.seq += 1;
            if self.up[i] {
                self.queue
                    .replace_top(t + p.repair[i].sample(rng), self.seq);
                self.up[i] = false;
                self.down_since[i] = t;
                self.share_mark[i] = self.system_down_clock(p, t);
                self.propagate(p, i, false, t);
            } else {
                self.queue
                    .replace_top(t + p.failure[i].sample(rng), self.seq);
                self.up[i] = true;
                self.propagate(p, i, true, t);
                tally.instance_down_hours[i] += p.overlap(self.down_since[i], t);
                tally.instance_share_hours[i] += self.system_down_clock(p, t) - self.share_mark[i];
            }
        }
        self.finish(p, tally);
    }

    fn reset<R: Rng + ?Sized>(&mut self, p: &Program, rng: &mut R) {
        let n = p.instances();
        self.up.clear();
        self.up.resize(n, true);
        self.count.clear();
        self.count.extend_from_slice(&p.gate_n);
        self.down_since.resize(n, 0.0);
        self.share_mark.resize(n, 0.0);
        self.queue
            .rebuild((0..n).map(|i| (p.failure[i].sample(rng), i as u64)));
        self.seq = n as u64;
        self.system_up = true;
        self.system_down_since = 0.0;
        self.system_down = 0.0;
        self.first_failure = f64::INFINITY;
        self.outages = 0;
        self.next_grid = 0;
        self.next_grid_time = p.grid[0];
        self.events = 0;
    }

    /// Records the grid points before `t`: A(t_j) is the state after every
    /// event at or before t_j.
    #[inline]
    fn advance_grid(&mut self, p: &Program, t: f64, tally: &mut Tally) {
        while self.next_grid_time < t {
            tally.transient_up[self.next_grid] += self.system_up as u64;
            self.next_grid += 1;
            self.next_grid_time = p.grid.get(self.next_grid).copied().unwrap_or(f64::INFINITY);
        }
    }

    /// S(t): system down hours in the window up to `t`.
    #[inline]
    fn system_down_clock(&self, p: &Program, t: f64) -> f64 {
        if self.system_up {
            self.system_down
        } else {
            self.system_down + p.overlap(self.system_down_since, t)
        }
    }

    /// Applies instance `i` going up or down to the gates above it.
    #[inline(always)]
    fn propagate(&mut self, p: &Program, i: usize, up: bool, t: f64) {
        let (start, end) = (p.feeds_start[i] as usize, p.feeds_start[i + 1] as usize);
        for e in start..end {
            let mut g = p.feeds[e] as usize;
            let mut up = up;
            loop {
                let gate = p.gates[g];
                let count = &mut self.count[g];
                let was = *count >= gate.k;
                if up {
                    *count += 1;
                } else {
                    *count -= 1;
                }
                let is = *count >= gate.k;
                if was == is {
                    break;
                }
                let parent = gate.parent;
                if parent == NO_PARENT {
                    self.system_changed(p, is, t);
                    break;
                }
                g = parent as usize;
                up = is;
            }
        }
    }

    fn system_changed(&mut self, p: &Program, up: bool, t: f64) {
        if up {
            if self.system_down_since < p.warmup && t > p.warmup {
                self.outages += 1;
            }
            self.system_down += p.overlap(self.system_down_since, t);
        } else {
            self.system_down_since = t;
            if t >= p.warmup {
                self.outages += 1;
            }
            if self.first_failure.is_infinite() {
                self.first_failure = t;
            }
        }
        self.system_up = up;
    }

    /// Closes open intervals at the horizon and adds the replication to
    /// `tally`.
    fn finish(&mut self, p: &Program, tally: &mut Tally) {
        self.advance_grid(p, f64::INFINITY, tally);
        let end = self.system_down_clock(p, p.horizon);
        for i in 0..p.instances() {
            if !self.up[i] {
                tally.instance_down_hours[i] += p.overlap(self.down_since[i], p.horizon);
                tally.instance_share_hours[i] += end - self.share_mark[i];
            }
        }
        if !self.system_up && self.system_down_since < p.warmup {
            self.outages += 1;
        }
        let window = p.horizon - p.warmup;
        tally.down.push(end / window);
        tally.down_values.push(end / window);
        tally.system_down_hours += end;
        tally.outages += self.outages;
        if self.first_failure <= p.horizon {
            tally.first_failures += 1;
            tally.first_failure_exposure += self.first_failure;
        } else {
            tally.first_failure_exposure += p.horizon;
        }
        tally.events += self.events;
    }
}
