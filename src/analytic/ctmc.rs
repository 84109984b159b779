//! The continuous-time Markov chain of a scenario whose every distribution
//! is exponential.
//!
//! A state is the engine's discrete state without clocks: each instance's
//! own up/down state, each crew's FIFO queue, each common cause's activity,
//! and each standby node's phase, active unit and target. Transitions follow
//! the engine's rules (`sim/standby.rs`): failures at λ (times the ageing
//! speed of idle units), repairs at μ for instances being repaired (not
//! queued), common causes at their rates, detection, failover and manual
//! recovery at theirs; a switchover branches on its success probability.
//! States are found by breadth-first search from all up, up to
//! [`MAX_STATES`].

use std::collections::HashMap;

use statrs::function::gamma::gamma_lr;

use crate::model::{Dist, Model, Node};

/// Largest chain solved (dense linear algebra).
pub const MAX_STATES: usize = 1000;
/// Most uniformization steps for the interval value.
const MAX_STEPS: usize = 5_000_000;

const NONE: u32 = u32::MAX;
const NORMAL: u8 = 0;
const DETECTING: u8 = 1;
const FAILING_OVER: u8 = 2;
const STUCK: u8 = 3;
const WAITING: u8 = 4;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    own_up: Vec<bool>,
    queues: Vec<Vec<u32>>,
    cc: Vec<bool>,
    /// Per standby: (phase, active, target).
    sb: Vec<(u8, u32, u32)>,
    unit_up: Vec<Vec<bool>>,
}

#[derive(Clone, Debug)]
enum CNode {
    Inst(usize),
    Gate(usize, Vec<CNode>),
    Standby(usize),
}

#[derive(Clone, Debug)]
struct SbDef {
    units: Vec<CNode>,
    idle_speed: f64,
    detection: Option<f64>,
    failover: Option<f64>,
    switch_success: f64,
    manual: Option<f64>,
}

/// Everything the transition rules need.
struct Rules<'a> {
    model: &'a Model,
    root: CNode,
    sb: Vec<SbDef>,
    /// Per instance: the (standby, unit) pairs that contain it.
    enclosures: Vec<Vec<(usize, usize)>>,
}

/// A solved-on-demand Markov chain.
#[derive(Clone, Debug)]
pub struct Chain {
    /// Out-transitions of each state: (target, rate).
    out: Vec<Vec<(usize, f64)>>,
    up: Vec<bool>,
}

fn rate(d: &Option<Dist>) -> Result<Option<f64>, String> {
    match d {
        None => Ok(None),
        Some(d) => d
            .exponential_rate()
            .map(Some)
            .ok_or_else(|| format!("a {d} delay is not exponential")),
    }
}

impl Chain {
    /// Builds the chain of `model`.
    ///
    /// # Errors
    /// When a distribution is not exponential, or the chain has more than
    /// [`MAX_STATES`] states.
    pub fn build(model: &Model) -> Result<Chain, String> {
        let mut sb = Vec::new();
        let mut enclosures = vec![Vec::new(); model.instances.len()];
        let root = compile(&model.system, &mut sb, &mut enclosures)?;
        let rules = Rules {
            model,
            root,
            sb,
            enclosures,
        };
        let initial = State {
            own_up: vec![true; model.instances.len()],
            queues: vec![Vec::new(); model.crews.len()],
            cc: vec![false; model.common_causes.len()],
            sb: vec![(NORMAL, 0, NONE); rules.sb.len()],
            unit_up: rules.sb.iter().map(|s| vec![true; s.units.len()]).collect(),
        };
        let mut index: HashMap<State, usize> = HashMap::new();
        let mut states = vec![initial.clone()];
        index.insert(initial, 0);
        let mut out = Vec::new();
        let mut next = 0;
        while next < states.len() {
            let state = states[next].clone();
            let mut edges: Vec<(usize, f64)> = Vec::new();
            for (r, outcomes) in rules.transitions(&state) {
                for (p, s) in outcomes {
                    if s == state || r * p == 0.0 {
                        continue;
                    }
                    let j = match index.get(&s) {
                        Some(&j) => j,
                        None => {
                            if states.len() == MAX_STATES {
                                return Err(format!(
                                    "the Markov chain has more than {MAX_STATES} states (the limit of this version)"
                                ));
                            }
                            states.push(s.clone());
                            index.insert(s, states.len() - 1);
                            states.len() - 1
                        }
                    };
                    match edges.iter_mut().find(|(k, _)| *k == j) {
                        Some(e) => e.1 += r * p,
                        None => edges.push((j, r * p)),
                    }
                }
            }
            out.push(edges);
            next += 1;
        }
        let up = states.iter().map(|s| rules.system_up(s)).collect();
        Ok(Chain { out, up })
    }

    /// Number of states.
    pub fn states(&self) -> usize {
        self.out.len()
    }

    /// The stationary distribution (πQ = 0, Σπ = 1).
    pub fn stationary(&self) -> Vec<f64> {
        let n = self.states();
        let mut a = vec![vec![0.0; n + 1]; n];
        for (i, edges) in self.out.iter().enumerate() {
            for &(j, r) in edges {
                a[j][i] += r;
                a[i][i] -= r;
            }
        }
        a[n - 1] = vec![1.0; n + 1];
        solve(a)
    }

    /// Steady-state availability.
    pub fn steady_state(&self) -> f64 {
        let pi = self.stationary();
        pi.iter()
            .zip(&self.up)
            .filter(|(_, &u)| u)
            .map(|(p, _)| p)
            .sum()
    }

    /// Expected availability over [a, b] from all up, by uniformization:
    /// ∫₀ᵀ π(t)·up dt = (1/Λ) Σₖ P(N_{ΛT} > k) · (π₀Pᵏ)·up.
    pub fn interval(&self, a: f64, b: f64) -> f64 {
        (self.cumulative_up(b) - self.cumulative_up(a)) / (b - a)
    }

    fn cumulative_up(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let n = self.states();
        let exit: Vec<f64> = self
            .out
            .iter()
            .map(|e| e.iter().map(|x| x.1).sum())
            .collect();
        let lambda = exit.iter().copied().fold(0.0, f64::max) * 1.02;
        if lambda == 0.0 {
            return if self.up[0] { t } else { 0.0 };
        }
        let stationary = self.stationary();
        let up_of = |pi: &[f64]| -> f64 {
            pi.iter()
                .zip(&self.up)
                .filter(|(_, &u)| u)
                .map(|(p, _)| p)
                .sum()
        };
        let steady = up_of(&stationary);
        let x = lambda * t;
        let mut pi = vec![0.0; n];
        pi[0] = 1.0;
        let mut sum = 0.0;
        let mut weights = 0.0;
        for k in 0..MAX_STEPS {
            let tail = gamma_lr(k as f64 + 1.0, x);
            let distance: f64 = pi.iter().zip(&stationary).map(|(p, s)| (p - s).abs()).sum();
            if distance < 1e-15 || tail < 1e-300 {
                return (sum + steady * (x - weights)) / lambda;
            }
            sum += tail * up_of(&pi);
            weights += tail;
            let mut next: Vec<f64> = pi
                .iter()
                .zip(&exit)
                .map(|(p, e)| p * (1.0 - e / lambda))
                .collect();
            for (i, edges) in self.out.iter().enumerate() {
                for &(j, r) in edges {
                    next[j] += pi[i] * r / lambda;
                }
            }
            pi = next;
        }
        (sum + steady * (x - weights)) / lambda
    }

    /// Mean time to first system failure from all up (down states made
    /// absorbing); `None` when the system never fails.
    pub fn mttf(&self) -> Option<f64> {
        let ups: Vec<usize> = (0..self.states()).filter(|&i| self.up[i]).collect();
        if ups.len() == self.states() || !self.up[0] {
            return None;
        }
        let pos: HashMap<usize, usize> = ups.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        let m = ups.len();
        let mut a = vec![vec![0.0; m + 1]; m];
        for (k, &i) in ups.iter().enumerate() {
            a[k][m] = -1.0;
            for &(j, r) in &self.out[i] {
                a[k][k] -= r;
                if let Some(&l) = pos.get(&j) {
                    a[k][l] += r;
                }
            }
        }
        let t = solve(a);
        t.first().copied().filter(|x| x.is_finite())
    }
}

/// Solves the augmented system `a` (n rows, n + 1 columns) by Gaussian
/// elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>) -> Vec<f64> {
    let n = a.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let p = a[col].clone();
        if p[col] == 0.0 {
            continue;
        }
        for (r, row) in a.iter_mut().enumerate() {
            if r != col && row[col] != 0.0 {
                let f = row[col] / p[col];
                for (x, y) in row.iter_mut().zip(&p).skip(col) {
                    *x -= f * y;
                }
            }
        }
    }
    (0..n).map(|i| a[i][n] / a[i][i]).collect()
}

fn compile(
    node: &Node,
    sb: &mut Vec<SbDef>,
    enclosures: &mut Vec<Vec<(usize, usize)>>,
) -> Result<CNode, String> {
    let gate = |k: usize,
                c: &[Node],
                sb: &mut Vec<SbDef>,
                enc: &mut Vec<Vec<(usize, usize)>>|
     -> Result<CNode, String> {
        Ok(CNode::Gate(
            k,
            c.iter()
                .map(|n| compile(n, sb, enc))
                .collect::<Result<_, _>>()?,
        ))
    };
    match node {
        Node::Instance(i) => Ok(CNode::Inst(*i)),
        Node::Series(c) => gate(c.len(), c, sb, enclosures),
        Node::Parallel(c) => gate(1, c, sb, enclosures),
        Node::KOfN { k, of } => gate(*k, of, sb, enclosures),
        Node::Balancer(b) => {
            let via = compile(&b.via, sb, enclosures)?;
            let pool = gate(b.min_healthy, &b.pool, sb, enclosures)?;
            Ok(CNode::Gate(2, vec![via, pool]))
        }
        Node::Standby(s) => {
            let id = sb.len();
            sb.push(SbDef {
                units: Vec::new(),
                idle_speed: s.mode.idle_speed(),
                detection: rate(&s.detection)?,
                failover: rate(&s.failover)?,
                switch_success: s.switch_success,
                manual: rate(&s.manual_recovery)?,
            });
            let mut units = Vec::new();
            for (u, unit) in s.units.iter().enumerate() {
                if s.mode.idle_speed() < 1.0 {
                    unit.for_each_instance(&mut |i| enclosures[i].push((id, u)));
                }
                units.push(compile(unit, sb, enclosures)?);
            }
            sb[id].units = units;
            Ok(CNode::Standby(id))
        }
    }
}

type Outcomes = Vec<(f64, State)>;

impl Rules<'_> {
    fn effective_up(&self, s: &State, i: usize) -> bool {
        s.own_up[i]
            && !self
                .model
                .common_causes
                .iter()
                .enumerate()
                .any(|(c, cc)| s.cc[c] && cc.affects.contains(&i))
    }

    fn eval(&self, node: &CNode, s: &State) -> bool {
        match node {
            CNode::Inst(i) => self.effective_up(s, *i),
            CNode::Gate(k, children) => children.iter().filter(|c| self.eval(c, s)).count() >= *k,
            CNode::Standby(id) => {
                let (phase, active, _) = s.sb[*id];
                phase == NORMAL && active != NONE && s.unit_up[*id][active as usize]
            }
        }
    }

    fn system_up(&self, s: &State) -> bool {
        self.eval(&self.root, s)
    }

    fn speed(&self, s: &State, i: usize) -> f64 {
        self.enclosures[i]
            .iter()
            .filter(|&&(sb, u)| s.sb[sb].1 != u as u32)
            .map(|&(sb, _)| self.sb[sb].idle_speed)
            .fold(1.0, f64::min)
    }

    fn transitions(&self, s: &State) -> Vec<(f64, Outcomes)> {
        let model = self.model;
        let mut out = Vec::new();
        for (i, inst) in model.instances.iter().enumerate() {
            if s.own_up[i] {
                let r = self.speed(s, i) / inst.failure.mean();
                if r > 0.0 {
                    out.push((r, self.fail(s.clone(), i)));
                }
            } else if inst.crew.is_none_or(|c| !s.queues[c].contains(&(i as u32))) {
                out.push((1.0 / inst.repair.mean(), self.repair(s.clone(), i)));
            }
        }
        for (c, cc) in model.common_causes.iter().enumerate() {
            let r = 1.0
                / if s.cc[c] {
                    cc.repair.mean()
                } else {
                    cc.failure.mean()
                };
            let mut next = s.clone();
            next.cc[c] = !s.cc[c];
            out.push((r, self.settle(next)));
        }
        for (id, def) in self.sb.iter().enumerate() {
            let (phase, _, target) = s.sb[id];
            let timer = match phase {
                DETECTING => def.detection,
                FAILING_OVER => def.failover,
                STUCK => def.manual,
                _ => None,
            };
            if let Some(r) = timer {
                let next = s.clone();
                let outcomes = match phase {
                    DETECTING => self.detected(next, id),
                    FAILING_OVER => self.complete_switch(next, id, target),
                    _ => self.manual(next, id),
                };
                let settled = outcomes
                    .into_iter()
                    .flat_map(|(p, st)| scale(p, self.settle(st)))
                    .collect();
                out.push((r, settled));
            }
        }
        out
    }

    fn fail(&self, mut s: State, i: usize) -> Outcomes {
        s.own_up[i] = false;
        if let Some(c) = self.model.instances[i].crew {
            let busy = self.model.instances.iter().enumerate().filter(|(j, inst)| {
                inst.crew == Some(c)
                    && !s.own_up[*j]
                    && *j != i
                    && !s.queues[c].contains(&(*j as u32))
            });
            if busy.count() >= self.model.crews[c].size {
                s.queues[c].push(i as u32);
            }
        }
        self.settle(s)
    }

    fn repair(&self, mut s: State, i: usize) -> Outcomes {
        s.own_up[i] = true;
        if let Some(c) = self.model.instances[i].crew {
            if !s.queues[c].is_empty() {
                s.queues[c].remove(0);
            }
        }
        self.settle(s)
    }

    /// Applies unit changes, innermost standby first, until every standby
    /// agrees with its units. A standby sees all its units' new states at
    /// once (a common cause changes several at one instant) and reacts to
    /// them in preference order, as the engine does (`sim/standby.rs`).
    fn settle(&self, mut s: State) -> Outcomes {
        for id in (0..self.sb.len()).rev() {
            let changed: Vec<(usize, bool)> = self.sb[id]
                .units
                .iter()
                .enumerate()
                .map(|(u, unit)| (u, self.eval(unit, &s)))
                .filter(|&(u, now)| now != s.unit_up[id][u])
                .collect();
            if changed.is_empty() {
                continue;
            }
            for &(u, now) in &changed {
                s.unit_up[id][u] = now;
            }
            let mut outcomes = vec![(1.0, s)];
            for &(u, now) in &changed {
                outcomes = outcomes
                    .into_iter()
                    .flat_map(|(p, st)| scale(p, self.unit_changed(st, id, u, now)))
                    .collect();
            }
            return outcomes
                .into_iter()
                .flat_map(|(p, st)| scale(p, self.settle(st)))
                .collect();
        }
        vec![(1.0, s)]
    }

    /// The response of standby `id` to unit `u` (already recorded as `up`).
    fn unit_changed(&self, mut s: State, id: usize, u: usize, up: bool) -> Outcomes {
        let (phase, active, _) = s.sb[id];
        let is_active = active == u as u32;
        match (up, phase) {
            (true, DETECTING) if is_active => s.sb[id].0 = NORMAL,
            (true, STUCK | WAITING) => s.sb[id] = (NORMAL, u as u32, NONE),
            (false, NORMAL) if is_active => return self.active_failed(s, id),
            _ => {}
        }
        vec![(1.0, s)]
    }

    fn active_failed(&self, mut s: State, id: usize) -> Outcomes {
        if self.sb[id].detection.is_some() {
            s.sb[id].0 = DETECTING;
            vec![(1.0, s)]
        } else {
            self.detected(s, id)
        }
    }

    fn detected(&self, mut s: State, id: usize) -> Outcomes {
        let failed = s.sb[id].1;
        let target =
            (0..s.unit_up[id].len() as u32).find(|&u| u != failed && s.unit_up[id][u as usize]);
        s.sb[id].1 = NONE;
        match target {
            None => {
                s.sb[id].0 = WAITING;
                vec![(1.0, s)]
            }
            Some(t) if self.sb[id].failover.is_some() => {
                s.sb[id] = (FAILING_OVER, NONE, t);
                vec![(1.0, s)]
            }
            Some(t) => self.complete_switch(s, id, t),
        }
    }

    fn complete_switch(&self, s: State, id: usize, target: u32) -> Outcomes {
        let p = self.sb[id].switch_success;
        let mut outcomes = Vec::new();
        if p < 1.0 {
            let mut stuck = s.clone();
            stuck.sb[id] = (STUCK, NONE, NONE);
            outcomes.push((1.0 - p, stuck));
        }
        if p > 0.0 {
            let mut ok = s;
            ok.sb[id] = (NORMAL, target, NONE);
            if ok.unit_up[id][target as usize] {
                outcomes.push((p, ok));
            } else {
                outcomes.extend(scale(p, self.active_failed(ok, id)));
            }
        }
        outcomes
    }

    fn manual(&self, mut s: State, id: usize) -> Outcomes {
        match (0..s.unit_up[id].len() as u32).find(|&u| s.unit_up[id][u as usize]) {
            Some(u) => s.sb[id] = (NORMAL, u, NONE),
            None => s.sb[id] = (WAITING, NONE, NONE),
        }
        vec![(1.0, s)]
    }
}

fn scale(p: f64, outcomes: Outcomes) -> Outcomes {
    outcomes.into_iter().map(|(q, s)| (p * q, s)).collect()
}
