//! The continuous-time Markov chain of a scenario whose failures are
//! exponential, with every other delay either exponential or expanded into
//! phase-type stages.
//!
//! A state is the engine's discrete state without clocks, stored as one
//! flat vector of words: each instance's own state (up, in repair with a
//! number of stages left, or queued for its crew at a position), each common
//! cause's activity (stages left), each standby node's phase, active unit,
//! target and timer stage, and whether each of its units is up. Transitions
//! follow the engine's rules (`sim/standby.rs`): failures at λ (times the
//! ageing speed of idle units), repairs and delays stage by stage,
//! a switchover branching on its success probability.
//!
//! States are found by breadth-first search from all up, with a hash index;
//! the limits are checked before anything grows with them (instances,
//! words per state, states, transitions). Interchangeable instances (the
//! same component, siblings of one gate, used once, held by the same common
//! causes) are lumped: a state records how many are in each condition, not
//! which, so k-of-n groups of identical units give n + 1 states, not 2ⁿ.
//!
//! The stationary distribution is computed by GTH elimination (no
//! subtractions, every figure keeps its relative accuracy, down to 10⁻³⁰⁰)
//! up to [`GTH_STATES`] states, and by Gauss–Seidel above, stopped at a
//! stated relative residual. The mean time to failure uses the same solver
//! on the renewal chain (system-down states merged into one state that
//! returns to all up): MTTF = Σ_up π / (rate into down), no subtraction.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use statrs::function::gamma::gamma_lr;

use crate::model::{Dist, Model, Node};

/// Most states built.
pub const MAX_STATES: usize = 2_000_000;
/// Most transitions stored.
pub const MAX_TRANSITIONS: usize = 40_000_000;
/// Most instances a chain is built for (each state costs work linear in
/// the instances, and the first level alone has one successor per instance).
pub const MAX_INSTANCES: usize = 5_000;
/// Largest chain solved by dense GTH elimination.
pub const GTH_STATES: usize = 2_500;
/// Relative residual at which Gauss–Seidel stops.
pub const GS_RESIDUAL: f64 = 1e-13;
/// Most words of state times states held at once (memory guard, 4 bytes
/// each).
const MAX_WORDS: usize = 300_000_000;
/// Most (uniformization steps × transitions) for the interval value.
const MAX_WORK: f64 = 4e8;
/// Most Gauss–Seidel sweeps.
const MAX_SWEEPS: usize = 20_000;

const NONE: u32 = u32::MAX;
const QUEUED: u32 = 1 << 30;
const NORMAL: u32 = 0;
const DETECTING: u32 = 1;
const FAILING_OVER: u32 = 2;
const STUCK: u32 = 3;
const WAITING: u32 = 4;

/// A phase-type delay: a countdown of stages, each left at `rate`, entered
/// at `entry` stages left with the given probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct Ph {
    /// Rate of leaving a stage.
    pub rate: f64,
    /// (stages, probability) at the start.
    pub entry: Vec<(u32, f64)>,
    /// Whether the distribution is represented exactly.
    pub exact: bool,
}

/// The phase-type form of a delay `d` at expansion `level` (stages per
/// longest delay): exact for exponential delays (one stage) and gamma
/// delays with a whole shape (Erlang); for fixed, uniform and empirical
/// delays a countdown on a grid of `level` steps up to the largest value,
/// entered at the step of the drawn value, with the stage rate set so that
/// the mean is exact; the error is of order 1/level. `None`: instant.
///
/// # Errors
/// For distributions without such a form (Weibull, log-normal, normal,
/// gamma with a fractional shape: unbounded support and no exact form).
pub fn phase_type(d: &Dist, level: usize) -> Result<Option<Ph>, String> {
    let mean = d.mean();
    if mean == 0.0 {
        return Ok(None);
    }
    let level = level.clamp(1, 100_000) as u32;
    let grid = |values: &mut dyn Iterator<Item = (f64, f64)>, max: f64| {
        let h = max / f64::from(level);
        let mut entry: Vec<(u32, f64)> = Vec::new();
        for (x, p) in values {
            let n = ((x / h).ceil() as u32).clamp(1, level);
            match entry.iter_mut().find(|e| e.0 == n) {
                Some(e) => e.1 += p,
                None => entry.push((n, p)),
            }
        }
        entry.sort_by_key(|e| e.0);
        let stages: f64 = entry.iter().map(|&(n, p)| f64::from(n) * p).sum();
        Ph {
            rate: stages / mean,
            entry,
            exact: false,
        }
    };
    Ok(Some(match d {
        Dist::Exponential { mean } => Ph {
            rate: 1.0 / mean,
            entry: vec![(1, 1.0)],
            exact: true,
        },
        Dist::Gamma { shape, scale, .. }
            if (shape - shape.round()).abs() < 1e-12 && (1.0..=200.0).contains(shape) =>
        {
            Ph {
                rate: 1.0 / scale,
                entry: vec![(shape.round() as u32, 1.0)],
                exact: true,
            }
        }
        Dist::Deterministic { value } => Ph {
            rate: f64::from(level) / value,
            entry: vec![(level, 1.0)],
            exact: false,
        },
        Dist::Uniform { min, max } if min == max => Ph {
            rate: f64::from(level) / max,
            entry: vec![(level, 1.0)],
            exact: false,
        },
        Dist::Uniform { min, max } => {
            let h = max / f64::from(level);
            let mut bins = (1..=level).filter_map(|n| {
                let (lo, hi) = (f64::from(n - 1) * h, f64::from(n) * h);
                let overlap = hi.min(*max) - lo.max(*min);
                (overlap > 0.0).then(|| (hi, overlap / (max - min)))
            });
            grid(&mut bins, *max)
        }
        Dist::Empirical { samples } => {
            let max = samples.iter().copied().fold(0.0, f64::max);
            let p = 1.0 / samples.len() as f64;
            grid(&mut samples.iter().map(|&x| (x.max(f64::MIN_POSITIVE), p)), max)
        }
        other => {
            return Err(format!(
                "a {other} delay has no phase-type form here (exponential, gamma with a whole shape, fixed, uniform and empirical ones do)"
            ))
        }
    }))
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
    detection: Option<Ph>,
    failover: Option<Ph>,
    switch_success: f64,
    manual: Option<Ph>,
}

/// Everything the transition rules need.
struct Rules<'a> {
    model: &'a Model,
    root: CNode,
    sb: Vec<SbDef>,
    /// Per instance: the (standby, unit) pairs that contain it.
    enclosures: Vec<Vec<(usize, usize)>>,
    fail_rate: Vec<f64>,
    repair: Vec<Ph>,
    cc_rate: Vec<f64>,
    cc_repair: Vec<Ph>,
    held_by: Vec<Vec<usize>>,
    crew_members: Vec<Vec<usize>>,
    /// Interchangeable instances, each group sorted.
    groups: Vec<Vec<usize>>,
    group_of: Vec<usize>,
    /// Offsets in the state vector.
    cc_base: usize,
    sb_base: usize,
    unit_base: Vec<usize>,
    words: usize,
}

type State = Vec<u32>;
type Outcomes = Vec<(f64, State)>;

/// The solved stationary distribution.
#[derive(Clone, Debug)]
struct Solution {
    pi: Vec<f64>,
    /// Relative residual of an iterative solve; `None` for GTH.
    residual: Option<f64>,
}

/// A Markov chain, solved on demand.
#[derive(Debug)]
pub struct Chain {
    /// Out-transitions in compressed rows: state i's are
    /// `start[i]..start[i + 1]`.
    start: Vec<usize>,
    to: Vec<u32>,
    rate: Vec<f64>,
    up: Vec<bool>,
    exact: bool,
    solution: OnceLock<Result<Solution, String>>,
}

impl Clone for Chain {
    fn clone(&self) -> Chain {
        Chain {
            start: self.start.clone(),
            to: self.to.clone(),
            rate: self.rate.clone(),
            up: self.up.clone(),
            exact: self.exact,
            solution: OnceLock::new(),
        }
    }
}

fn exponential_rate(d: &Dist, what: &str) -> Result<f64, String> {
    d.exponential_rate()
        .ok_or_else(|| format!("{what} time {d} is not exponential"))
}

impl Chain {
    /// Builds the chain of `model` with every delay exactly represented
    /// (exponential, or gamma with a whole shape).
    ///
    /// # Errors
    /// When a delay has no exact phase-type form, or a limit is exceeded.
    pub fn build(model: &Model) -> Result<Chain, String> {
        let chain = Chain::expanded(model, 1)?;
        if chain.exact {
            Ok(chain)
        } else {
            Err("a delay is neither exponential nor gamma with a whole shape".into())
        }
    }

    /// Builds the chain of `model` with non-exponential delays expanded at
    /// `level` stages ([`phase_type`]).
    ///
    /// # Errors
    /// When a failure law is not exponential, a delay has no phase-type
    /// form, or a limit ([`MAX_INSTANCES`], [`MAX_STATES`],
    /// [`MAX_TRANSITIONS`]) would be exceeded.
    pub fn expanded(model: &Model, level: usize) -> Result<Chain, String> {
        Chain::expanded_within(model, level, MAX_STATES)
    }

    /// [`Chain::expanded`] with at most `max_states` states. Where the
    /// state count can be bounded beforehand (no crews, no standby), a
    /// bound above the limit is refused before anything is built.
    ///
    /// # Errors
    /// Those of [`Chain::expanded`].
    pub fn expanded_within(
        model: &Model,
        level: usize,
        max_states: usize,
    ) -> Result<Chain, String> {
        let n = model.instances.len();
        if n > MAX_INSTANCES {
            return Err(format!(
                "{n} instances are too many for a Markov chain (at most {MAX_INSTANCES})"
            ));
        }
        let mut exact = true;
        let mut ph = |d: &Dist| -> Result<Option<Ph>, String> {
            let p = phase_type(d, level)?;
            if let Some(p) = &p {
                exact &= p.exact;
            }
            Ok(p)
        };
        let mut sb = Vec::new();
        let mut enclosures = vec![Vec::new(); n];
        let root = compile(&model.system, &mut sb, &mut enclosures, &mut ph)?;
        let mut fail_rate = Vec::with_capacity(n);
        let mut repair = Vec::with_capacity(n);
        for inst in &model.instances {
            fail_rate.push(exponential_rate(&inst.failure, "the failure")?);
            repair.push(ph(&inst.repair)?.ok_or("a repair takes no time")?);
        }
        let mut cc_rate = Vec::new();
        let mut cc_repair = Vec::new();
        let mut held_by = vec![Vec::new(); n];
        for (c, cc) in model.common_causes.iter().enumerate() {
            cc_rate.push(exponential_rate(&cc.failure, "the common-cause")?);
            cc_repair.push(ph(&cc.repair)?.ok_or("a common-cause outage takes no time")?);
            for &i in &cc.affects {
                held_by[i].push(c);
            }
        }
        for h in &mut held_by {
            h.sort_unstable();
            h.dedup();
        }
        let mut crew_members = vec![Vec::new(); model.crews.len()];
        for (i, inst) in model.instances.iter().enumerate() {
            if let Some(c) = inst.crew {
                crew_members[c].push(i);
            }
        }
        let mut uses = vec![0usize; n];
        model.system.for_each_instance(&mut |i| uses[i] += 1);
        let mut groups = Vec::new();
        find_groups(&root, model, &uses, &held_by, &mut groups);
        let mut group_of = vec![usize::MAX; n];
        for (g, members) in groups.iter().enumerate() {
            for &i in members {
                group_of[i] = g;
            }
        }
        let cc_base = n;
        let sb_base = cc_base + model.common_causes.len();
        let mut unit_base = Vec::new();
        let mut words = sb_base + 4 * sb.len();
        for s in &sb {
            unit_base.push(words);
            words += s.units.len();
        }
        if model.crews.is_empty() && sb.is_empty() {
            // Lumped groups take (members + 1)·stages states at most each,
            // other instances 1 + stages, common causes 1 + stages.
            let mut bound = 1.0f64;
            let stages = |p: &Ph| f64::from(p.entry.iter().map(|e| e.0).max().unwrap_or(1));
            let mut grouped = vec![false; n];
            for g in &groups {
                let per = stages(&repair[g[0]]);
                // Multisets of |g| members over 1 + per conditions.
                let mut ways = 1.0f64;
                for j in 1..=g.len() {
                    ways = ways * (per + j as f64) / j as f64;
                }
                bound *= ways;
                for &i in g {
                    grouped[i] = true;
                }
            }
            for i in (0..n).filter(|&i| !grouped[i]) {
                bound *= 1.0 + stages(&repair[i]);
            }
            for p in &cc_repair {
                bound *= 1.0 + stages(p);
            }
            if bound > max_states as f64 {
                return Err(format!(
                    "the Markov chain would have up to {bound:.1e} states (more than {max_states})"
                ));
            }
        }
        let rules = Rules {
            model,
            root,
            sb,
            enclosures,
            fail_rate,
            repair,
            cc_rate,
            cc_repair,
            held_by,
            crew_members,
            groups,
            group_of,
            cc_base,
            sb_base,
            unit_base,
            words,
        };
        let mut chain = rules.explore(max_states)?;
        chain.exact = exact;
        Ok(chain)
    }

    /// Number of states.
    pub fn states(&self) -> usize {
        self.up.len()
    }

    /// Number of transitions.
    pub fn transitions(&self) -> usize {
        self.to.len()
    }

    /// Whether every delay is represented exactly (no expansion error).
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    fn edges(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        (self.start[i]..self.start[i + 1]).map(|e| (self.to[e] as usize, self.rate[e]))
    }

    fn solution(&self) -> Result<&Solution, String> {
        self.solution
            .get_or_init(|| stationary(self.states(), &|i| self.edges(i).collect::<Vec<_>>()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The stationary distribution (πQ = 0, Σπ = 1).
    ///
    /// # Errors
    /// When the chain is not irreducible or an iterative solve does not
    /// reach its residual.
    pub fn stationary(&self) -> Result<Vec<f64>, String> {
        self.solution().map(|s| s.pi.clone())
    }

    /// The relative residual of the iterative solve, `None` after GTH.
    pub fn residual(&self) -> Option<f64> {
        self.solution().ok().and_then(|s| s.residual)
    }

    /// Steady-state (availability, unavailability), each summed directly.
    ///
    /// # Errors
    /// Those of [`Chain::stationary`].
    pub fn steady(&self) -> Result<(f64, f64), String> {
        let pi = &self.solution()?.pi;
        let (u, d) = split(pi, &self.up);
        Ok((u.min(1.0), d.min(1.0)))
    }

    /// Steady-state availability (NaN when the chain cannot be solved).
    pub fn steady_state(&self) -> f64 {
        self.steady().map_or(f64::NAN, |s| s.0)
    }

    /// Steady-state system failures (up → down transitions) per hour.
    ///
    /// # Errors
    /// Those of [`Chain::stationary`].
    pub fn outage_rate(&self) -> Result<f64, String> {
        let pi = &self.solution()?.pi;
        Ok((0..self.states())
            .filter(|&i| self.up[i])
            .map(|i| {
                pi[i]
                    * self
                        .edges(i)
                        .filter(|&(j, _)| !self.up[j])
                        .map(|e| e.1)
                        .sum::<f64>()
            })
            .sum())
    }

    /// Expected availability over [a, b] from all up (NaN when it cannot be
    /// computed).
    pub fn interval(&self, a: f64, b: f64) -> f64 {
        self.interval_both(a, b).map_or(f64::NAN, |x| x.0)
    }

    /// Expected (availability, unavailability) over [a, b] from all up, by
    /// uniformization, each accumulated directly.
    ///
    /// # Errors
    /// When the chain cannot be solved, or the uniformization would take
    /// too long (stiff chains over long horizons).
    pub fn interval_both(&self, a: f64, b: f64) -> Result<(f64, f64), String> {
        let (u1, d1) = self.cumulative(b)?;
        let (u0, d0) = self.cumulative(a)?;
        let w = b - a;
        Ok((
            ((u1 - u0) / w).clamp(0.0, 1.0),
            ((d1 - d0) / w).clamp(0.0, 1.0),
        ))
    }

    /// ∫₀ᵗ (P(up), P(down)) from all up, by uniformization:
    /// (1/Λ) Σₖ P(N_{Λt} > k) · (π₀Pᵏ), with the tail after convergence to
    /// the stationary vector taken at the stationary value.
    fn cumulative(&self, t: f64) -> Result<(f64, f64), String> {
        if t <= 0.0 {
            return Ok((0.0, 0.0));
        }
        let n = self.states();
        let exit: Vec<f64> = (0..n).map(|i| self.edges(i).map(|e| e.1).sum()).collect();
        let lambda = exit.iter().copied().fold(0.0, f64::max) * 1.02;
        if lambda == 0.0 {
            return Ok(if self.up[0] { (t, 0.0) } else { (0.0, t) });
        }
        let stationary = &self.solution()?.pi;
        let (su, sd) = split(stationary, &self.up);
        let x = lambda * t;
        let budget = (MAX_WORK / (self.transitions() + n) as f64).max(1.0);
        let mut pi = vec![0.0; n];
        pi[0] = 1.0;
        let (mut cu, mut cd, mut weights) = (0.0, 0.0, 0.0);
        let mut k = 0usize;
        loop {
            let tail = gamma_lr(k as f64 + 1.0, x);
            let (pu, pd) = split(&pi, &self.up);
            let close = pi
                .iter()
                .zip(stationary)
                .all(|(p, s)| (p - s).abs() <= 1e-13 * s + 1e-300);
            if close || tail < 1e-300 {
                let rest = (x - weights).max(0.0);
                return Ok(((cu + su * rest) / lambda, (cd + sd * rest) / lambda));
            }
            if k as f64 > budget {
                return Err(format!(
                    "the interval value needs more than {budget:.0} uniformization steps (rates over {:.1e} per hour over {:.1e} h)",
                    lambda, t
                ));
            }
            cu += tail * pu;
            cd += tail * pd;
            weights += tail;
            let mut next: Vec<f64> = pi
                .iter()
                .zip(&exit)
                .map(|(p, e)| p * ((lambda - e) / lambda))
                .collect();
            for (i, &p) in pi.iter().enumerate() {
                if p != 0.0 {
                    for (j, r) in self.edges(i) {
                        next[j] += p * r / lambda;
                    }
                }
            }
            pi = next;
            k += 1;
        }
    }

    /// Mean time to first system failure from all up; `None` when the
    /// system never fails, starts down, or may never fail.
    pub fn mttf(&self) -> Option<f64> {
        self.mttf_checked().ok().flatten()
    }

    /// Mean time to first system failure from all up, by the renewal chain:
    /// the up states reachable from all up without a system failure, plus
    /// one state D for "down" that returns to all up at rate 1. With π its
    /// stationary vector (GTH or Gauss–Seidel), MTTF = Σ_up π / Σ_up π·(rate
    /// into down): every term is positive, nothing cancels.
    ///
    /// # Errors
    /// When the renewal chain cannot be solved.
    pub fn mttf_checked(&self) -> Result<Option<f64>, String> {
        if !self.up[0] {
            return Ok(None);
        }
        // Up states reachable from 0 through up states.
        let n = self.states();
        let mut index = vec![usize::MAX; n];
        let mut order = vec![0usize];
        index[0] = 0;
        let mut next = 0;
        while next < order.len() {
            let i = order[next];
            for (j, _) in self.edges(i) {
                if self.up[j] && index[j] == usize::MAX {
                    index[j] = order.len();
                    order.push(j);
                }
            }
            next += 1;
        }
        let m = order.len();
        let down_rate: Vec<f64> = order
            .iter()
            .map(|&i| {
                self.edges(i)
                    .filter(|&(j, _)| !self.up[j])
                    .map(|e| e.1)
                    .sum()
            })
            .collect();
        if down_rate.iter().all(|&r| r == 0.0) {
            return Ok(None);
        }
        // Every kept state must reach D, else the system may never fail.
        let mut reaches = down_rate.iter().map(|&r| r > 0.0).collect::<Vec<_>>();
        let mut changed = true;
        while changed {
            changed = false;
            for (k, &i) in order.iter().enumerate() {
                if !reaches[k]
                    && self
                        .edges(i)
                        .any(|(j, _)| index[j] != usize::MAX && reaches[index[j]])
                {
                    reaches[k] = true;
                    changed = true;
                }
            }
        }
        if reaches.iter().any(|r| !r) {
            return Ok(None);
        }
        let edges = |k: usize| -> Vec<(usize, f64)> {
            if k == m {
                return vec![(0, 1.0)];
            }
            let mut e: Vec<(usize, f64)> = self
                .edges(order[k])
                .filter(|&(j, _)| self.up[j])
                .map(|(j, r)| (index[j], r))
                .collect();
            if down_rate[k] > 0.0 {
                e.push((m, down_rate[k]));
            }
            e
        };
        let pi = stationary(m + 1, &edges)?.pi;
        let up: f64 = pi[..m].iter().sum();
        let flow: f64 = pi[..m].iter().zip(&down_rate).map(|(p, r)| p * r).sum();
        let t = up / flow;
        Ok((t.is_finite() && t > 0.0).then_some(t))
    }
}

/// (Σ over up states, Σ over down states) of `pi`.
fn split(pi: &[f64], up: &[bool]) -> (f64, f64) {
    let (mut u, mut d) = (0.0, 0.0);
    for (p, &is_up) in pi.iter().zip(up) {
        if is_up {
            u += p;
        } else {
            d += p;
        }
    }
    (u, d)
}

/// The stationary vector of the chain of `n` states with out-edges
/// `edges(i)`: GTH up to [`GTH_STATES`], Gauss–Seidel above.
fn stationary(n: usize, edges: &dyn Fn(usize) -> Vec<(usize, f64)>) -> Result<Solution, String> {
    if n == 1 {
        return Ok(Solution {
            pi: vec![1.0],
            residual: None,
        });
    }
    let solution = if n <= GTH_STATES {
        gth(n, edges)?
    } else {
        gauss_seidel(n, edges)?
    };
    if solution.pi.iter().any(|p| !p.is_finite() || *p < 0.0) {
        return Err("the stationary solve gave a non-finite or negative probability".into());
    }
    Ok(solution)
}

/// Grassmann–Taksar–Heyman elimination: states are censored out from the
/// last, each diagonal taken as the sum of the remaining off-diagonal rates
/// (never a difference), then the probabilities are rebuilt forwards.
fn gth(n: usize, edges: &dyn Fn(usize) -> Vec<(usize, f64)>) -> Result<Solution, String> {
    let mut a = vec![0.0f64; n * n];
    for i in 0..n {
        for (j, r) in edges(i) {
            if j != i {
                a[i * n + j] += r;
            }
        }
    }
    let mut s = vec![0.0; n];
    for k in (1..n).rev() {
        let total: f64 = a[k * n..k * n + k].iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return Err("the Markov chain is not irreducible (a state cannot return)".into());
        }
        s[k] = total;
        let row_k: Vec<f64> = a[k * n..k * n + k].to_vec();
        for i in 0..k {
            let aik = a[i * n + k];
            if aik == 0.0 {
                continue;
            }
            let f = aik / total;
            let row = &mut a[i * n..i * n + k];
            for (j, &akj) in row_k.iter().enumerate() {
                if akj != 0.0 && j != i {
                    row[j] += f * akj;
                }
            }
        }
    }
    let mut pi = vec![0.0; n];
    pi[0] = 1.0;
    for k in 1..n {
        let inflow: f64 = (0..k).map(|i| pi[i] * a[i * n + k]).sum();
        pi[k] = inflow / s[k];
    }
    let total: f64 = pi.iter().sum();
    for p in &mut pi {
        *p /= total;
    }
    Ok(Solution { pi, residual: None })
}

/// Gauss–Seidel on πQ = 0 (π_j = Σ_i π_i q_ij / q_j), renormalized each
/// sweep, until the relative residual Σ_j |inflow_j − outflow_j| / Σ_j
/// outflow_j is below [`GS_RESIDUAL`].
fn gauss_seidel(n: usize, edges: &dyn Fn(usize) -> Vec<(usize, f64)>) -> Result<Solution, String> {
    let mut incoming: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    let mut exit = vec![0.0; n];
    for (i, out) in exit.iter_mut().enumerate() {
        for (j, r) in edges(i) {
            if j != i {
                incoming[j].push((i as u32, r));
                *out += r;
            }
        }
    }
    if exit.iter().any(|&e| e <= 0.0) {
        return Err("the Markov chain is not irreducible (a state has no way out)".into());
    }
    // Start from the mean residence times.
    let mut pi: Vec<f64> = exit.iter().map(|e| 1.0 / e).collect();
    let norm: f64 = pi.iter().sum();
    pi.iter_mut().for_each(|p| *p /= norm);
    let residual = |pi: &[f64]| -> f64 {
        let mut num = 0.0;
        let mut den = 0.0;
        for j in 0..n {
            let inflow: f64 = incoming[j].iter().map(|&(i, r)| pi[i as usize] * r).sum();
            num += (inflow - pi[j] * exit[j]).abs();
            den += pi[j] * exit[j];
        }
        num / den
    };
    for sweep in 0..MAX_SWEEPS {
        for j in 0..n {
            let inflow: f64 = incoming[j].iter().map(|&(i, r)| pi[i as usize] * r).sum();
            pi[j] = inflow / exit[j];
        }
        let norm: f64 = pi.iter().sum();
        if !(norm.is_finite() && norm > 0.0) {
            return Err("Gauss–Seidel diverged".into());
        }
        pi.iter_mut().for_each(|p| *p /= norm);
        if sweep % 10 == 9 {
            let r = residual(&pi);
            if r < GS_RESIDUAL {
                return Ok(Solution {
                    pi,
                    residual: Some(r),
                });
            }
        }
    }
    Err(format!(
        "Gauss–Seidel did not reach a relative residual of {GS_RESIDUAL:.0e} in {MAX_SWEEPS} sweeps ({:.1e})",
        residual(&pi)
    ))
}

/// What interchangeable instances share: component, crew, common causes.
type GroupKey<'a> = (usize, Option<usize>, &'a [usize]);

/// Finds groups of interchangeable instances: leaf children of one gate,
/// of one component, used once in the system, held by the same common
/// causes.
fn find_groups(
    node: &CNode,
    model: &Model,
    uses: &[usize],
    held_by: &[Vec<usize>],
    groups: &mut Vec<Vec<usize>>,
) {
    match node {
        CNode::Inst(_) | CNode::Standby(_) => {}
        CNode::Gate(_, children) => {
            let mut by_key: HashMap<GroupKey, Vec<usize>> = HashMap::new();
            for c in children {
                match c {
                    CNode::Inst(i) if uses[*i] == 1 => by_key
                        .entry((
                            model.instances[*i].component,
                            model.instances[*i].crew,
                            &held_by[*i],
                        ))
                        .or_default()
                        .push(*i),
                    _ => find_groups(c, model, uses, held_by, groups),
                }
            }
            let mut found: Vec<Vec<usize>> = by_key
                .into_values()
                .filter(|g| g.len() > 1)
                .map(|mut g| {
                    g.sort_unstable();
                    g
                })
                .collect();
            found.sort();
            groups.extend(found);
        }
    }
}

fn compile(
    node: &Node,
    sb: &mut Vec<SbDef>,
    enclosures: &mut Vec<Vec<(usize, usize)>>,
    ph: &mut dyn FnMut(&Dist) -> Result<Option<Ph>, String>,
) -> Result<CNode, String> {
    fn gate(
        k: usize,
        c: &[Node],
        sb: &mut Vec<SbDef>,
        enc: &mut Vec<Vec<(usize, usize)>>,
        ph: &mut dyn FnMut(&Dist) -> Result<Option<Ph>, String>,
    ) -> Result<CNode, String> {
        Ok(CNode::Gate(
            k,
            c.iter()
                .map(|n| compile(n, sb, enc, ph))
                .collect::<Result<_, _>>()?,
        ))
    }
    match node {
        Node::Instance(i) => Ok(CNode::Inst(*i)),
        Node::Series(c) => gate(c.len(), c, sb, enclosures, ph),
        Node::Parallel(c) => gate(1, c, sb, enclosures, ph),
        Node::KOfN { k, of } => gate(*k, of, sb, enclosures, ph),
        Node::Balancer(b) => {
            let via = compile(&b.via, sb, enclosures, ph)?;
            let pool = gate(b.min_healthy, &b.pool, sb, enclosures, ph)?;
            Ok(CNode::Gate(2, vec![via, pool]))
        }
        Node::Standby(s) => {
            let timer = |d: &Option<Dist>,
                         ph: &mut dyn FnMut(&Dist) -> Result<Option<Ph>, String>|
             -> Result<Option<Ph>, String> {
                match d {
                    None => Ok(None),
                    Some(d) => ph(d),
                }
            };
            let id = sb.len();
            sb.push(SbDef {
                units: Vec::new(),
                idle_speed: s.mode.idle_speed(),
                detection: timer(&s.detection, ph)?,
                failover: timer(&s.failover, ph)?,
                switch_success: s.switch_success,
                manual: timer(&s.manual_recovery, ph)?,
            });
            let mut units = Vec::new();
            for (u, unit) in s.units.iter().enumerate() {
                if s.mode.idle_speed() < 1.0 {
                    unit.for_each_instance(&mut |i| enclosures[i].push((id, u)));
                }
                units.push(compile(unit, sb, enclosures, ph)?);
            }
            sb[id].units = units;
            Ok(CNode::Standby(id))
        }
    }
}

fn scale(p: f64, outcomes: Outcomes) -> Outcomes {
    outcomes.into_iter().map(|(q, s)| (p * q, s)).collect()
}

fn hash_of(s: &[u32]) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

impl Rules<'_> {
    /// Breadth-first search from all up.
    fn explore(&self, max_states: usize) -> Result<Chain, String> {
        let w = self.words.max(1);
        let max_states = max_states.min(MAX_STATES).min(MAX_WORDS / w);
        let mut initial = vec![0u32; self.words];
        for id in 0..self.sb.len() {
            initial[self.sb_base + 4 * id + 2] = NONE;
            for u in 0..self.sb[id].units.len() {
                initial[self.unit_base[id] + u] = 1;
            }
        }
        let mut keys: Vec<u32> = initial.clone();
        let mut heads: HashMap<u64, u32> = HashMap::new();
        let mut chain_next: Vec<u32> = vec![NONE];
        heads.insert(hash_of(&initial), 0);
        let mut count = 1usize;
        let mut start = vec![0usize];
        let mut to: Vec<u32> = Vec::new();
        let mut rate: Vec<f64> = Vec::new();
        let mut up = Vec::new();
        let mut next = 0usize;
        let mut edges: Vec<(u32, f64)> = Vec::new();
        while next < count {
            let state: State = keys[next * self.words..(next + 1) * self.words].to_vec();
            up.push(self.eval(&self.root, &state));
            edges.clear();
            for (r, outcomes) in self.transitions(&state) {
                for (p, mut s) in outcomes {
                    self.canonical(&mut s);
                    if s == state || r * p == 0.0 {
                        continue;
                    }
                    let h = hash_of(&s);
                    let mut j = heads.get(&h).copied().unwrap_or(NONE);
                    while j != NONE {
                        let k = j as usize;
                        if keys[k * self.words..(k + 1) * self.words] == s[..] {
                            break;
                        }
                        j = chain_next[k];
                    }
                    if j == NONE {
                        if count >= max_states {
                            return Err(format!(
                                "the Markov chain has more than {max_states} states"
                            ));
                        }
                        j = count as u32;
                        chain_next.push(heads.insert(h, j).unwrap_or(NONE));
                        keys.extend_from_slice(&s);
                        count += 1;
                    }
                    edges.push((j, r * p));
                }
            }
            edges.sort_unstable_by_key(|e| e.0);
            let mut last = NONE;
            for &(j, r) in &edges {
                if j == last {
                    if let Some(x) = rate.last_mut() {
                        *x += r;
                    }
                } else {
                    to.push(j);
                    rate.push(r);
                    last = j;
                }
            }
            if to.len() > MAX_TRANSITIONS {
                return Err(format!(
                    "the Markov chain has more than {MAX_TRANSITIONS} transitions"
                ));
            }
            start.push(to.len());
            next += 1;
        }
        Ok(Chain {
            start,
            to,
            rate,
            up,
            exact: true,
            solution: OnceLock::new(),
        })
    }

    /// Lumps interchangeable instances: within each group, the members'
    /// own states are sorted (up first, then in repair by stages left, then
    /// queued by position), so states that differ only by which member is
    /// in which condition coincide.
    fn canonical(&self, s: &mut State) {
        for g in &self.groups {
            let mut own: Vec<u32> = g.iter().map(|&i| s[i]).collect();
            own.sort_unstable();
            for (&i, v) in g.iter().zip(own) {
                s[i] = v;
            }
        }
    }

    fn cc_active(&self, s: &State, c: usize) -> bool {
        s[self.cc_base + c] != 0
    }

    fn effective_up(&self, s: &State, i: usize) -> bool {
        s[i] == 0 && self.held_by[i].iter().all(|&c| !self.cc_active(s, c))
    }

    fn eval(&self, node: &CNode, s: &State) -> bool {
        match node {
            CNode::Inst(i) => self.effective_up(s, *i),
            CNode::Gate(k, children) => {
                let mut ups = 0;
                for c in children {
                    if self.eval(c, s) {
                        ups += 1;
                        if ups >= *k {
                            return true;
                        }
                    }
                }
                *k == 0
            }
            CNode::Standby(id) => {
                let (phase, active) = (self.phase(s, *id), self.active(s, *id));
                phase == NORMAL && active != NONE && self.unit_up(s, *id, active as usize)
            }
        }
    }

    fn phase(&self, s: &State, id: usize) -> u32 {
        s[self.sb_base + 4 * id]
    }

    fn active(&self, s: &State, id: usize) -> u32 {
        s[self.sb_base + 4 * id + 1]
    }

    fn target(&self, s: &State, id: usize) -> u32 {
        s[self.sb_base + 4 * id + 2]
    }

    fn stage(&self, s: &State, id: usize) -> u32 {
        s[self.sb_base + 4 * id + 3]
    }

    fn set_sb(&self, s: &mut State, id: usize, phase: u32, active: u32, target: u32, stage: u32) {
        let b = self.sb_base + 4 * id;
        s[b] = phase;
        s[b + 1] = active;
        s[b + 2] = target;
        s[b + 3] = stage;
    }

    fn unit_up(&self, s: &State, id: usize, u: usize) -> bool {
        s[self.unit_base[id] + u] != 0
    }

    fn units(&self, id: usize) -> usize {
        self.sb[id].units.len()
    }

    fn speed(&self, s: &State, i: usize) -> f64 {
        self.enclosures[i]
            .iter()
            .filter(|&&(sb, u)| self.active(s, sb) != u as u32)
            .map(|&(sb, _)| self.sb[sb].idle_speed)
            .fold(1.0, f64::min)
    }

    fn transitions(&self, s: &State) -> Vec<(f64, Outcomes)> {
        let mut out: Vec<(f64, Outcomes)> = Vec::new();
        // (group, own state) → index in `out`: interchangeable members in
        // the same condition lead to the same lumped state.
        let mut seen: Vec<(usize, u32, usize)> = Vec::new();
        for i in 0..self.model.instances.len() {
            let own = s[i];
            if own >= QUEUED {
                continue;
            }
            let g = self.group_of[i];
            let r = if own == 0 {
                self.speed(s, i) * self.fail_rate[i]
            } else {
                self.repair[i].rate
            };
            if r <= 0.0 {
                continue;
            }
            if g != usize::MAX {
                if let Some(&(_, _, k)) = seen.iter().find(|&&(h, o, _)| h == g && o == own) {
                    out[k].0 += r;
                    continue;
                }
                seen.push((g, own, out.len()));
            }
            let outcomes = if own == 0 {
                self.fail(s.clone(), i)
            } else if own > 1 {
                let mut t = s.clone();
                t[i] -= 1;
                vec![(1.0, t)]
            } else {
                self.repaired(s.clone(), i)
            };
            out.push((r, outcomes));
        }
        for c in 0..self.model.common_causes.len() {
            let at = self.cc_base + c;
            let stage = s[at];
            if stage == 0 {
                let outcomes = self.cc_repair[c]
                    .entry
                    .iter()
                    .flat_map(|&(n, p)| {
                        let mut t = s.clone();
                        t[at] = n;
                        scale(p, self.settle(t))
                    })
                    .collect();
                out.push((self.cc_rate[c], outcomes));
            } else {
                let mut t = s.clone();
                t[at] = stage - 1;
                let outcomes = if stage > 1 {
                    vec![(1.0, t)]
                } else {
                    self.settle(t)
                };
                out.push((self.cc_repair[c].rate, outcomes));
            }
        }
        for (id, def) in self.sb.iter().enumerate() {
            let phase = self.phase(s, id);
            let timer = match phase {
                DETECTING => def.detection.as_ref(),
                FAILING_OVER => def.failover.as_ref(),
                STUCK => def.manual.as_ref(),
                _ => None,
            };
            let Some(timer) = timer else { continue };
            let stage = self.stage(s, id);
            let mut next = s.clone();
            if stage > 1 {
                next[self.sb_base + 4 * id + 3] = stage - 1;
                out.push((timer.rate, vec![(1.0, next)]));
                continue;
            }
            let target = self.target(s, id);
            let outcomes = match phase {
                DETECTING => self.detected(next, id),
                FAILING_OVER => self.complete_switch(next, id, target),
                _ => self.manual(next, id),
            };
            let settled = outcomes
                .into_iter()
                .flat_map(|(p, st)| scale(p, self.settle(st)))
                .collect();
            out.push((timer.rate, settled));
        }
        out
    }

    /// Starts instance i's repair: one outcome per entry stage.
    fn start_repair(&self, s: State, i: usize) -> Outcomes {
        let entry = &self.repair[i].entry;
        if entry.len() == 1 {
            let mut s = s;
            s[i] = entry[0].0;
            return vec![(1.0, s)];
        }
        entry
            .iter()
            .map(|&(n, p)| {
                let mut t = s.clone();
                t[i] = n;
                (p, t)
            })
            .collect()
    }

    fn fail(&self, mut s: State, i: usize) -> Outcomes {
        let outcomes = match self.model.instances[i].crew {
            Some(c) => {
                let members = &self.crew_members[c];
                let busy = members
                    .iter()
                    .filter(|&&j| s[j] != 0 && s[j] < QUEUED)
                    .count();
                if busy >= self.model.crews[c].size {
                    let queued = members.iter().filter(|&&j| s[j] >= QUEUED).count();
                    s[i] = QUEUED + queued as u32;
                    vec![(1.0, s)]
                } else {
                    self.start_repair(s, i)
                }
            }
            None => self.start_repair(s, i),
        };
        outcomes
            .into_iter()
            .flat_map(|(p, st)| scale(p, self.settle(st)))
            .collect()
    }

    fn repaired(&self, mut s: State, i: usize) -> Outcomes {
        s[i] = 0;
        let mut outcomes = vec![(1.0, s)];
        if let Some(c) = self.model.instances[i].crew {
            let s = &mut outcomes[0].1;
            let mut head = None;
            for &j in &self.crew_members[c] {
                if s[j] == QUEUED {
                    head = Some(j);
                } else if s[j] > QUEUED {
                    s[j] -= 1;
                }
            }
            if let Some(j) = head {
                let s = outcomes.pop().map(|o| o.1).unwrap_or_default();
                outcomes = self.start_repair(s, j);
            }
        }
        outcomes
            .into_iter()
            .flat_map(|(p, st)| scale(p, self.settle(st)))
            .collect()
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
                .filter(|&(u, now)| now != self.unit_up(&s, id, u))
                .collect();
            if changed.is_empty() {
                continue;
            }
            for &(u, now) in &changed {
                s[self.unit_base[id] + u] = u32::from(now);
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
        let (phase, active) = (self.phase(&s, id), self.active(&s, id));
        let is_active = active == u as u32;
        match (up, phase) {
            (true, DETECTING) if is_active => self.set_sb(&mut s, id, NORMAL, active, NONE, 0),
            (true, STUCK | WAITING) => self.set_sb(&mut s, id, NORMAL, u as u32, NONE, 0),
            (false, NORMAL) if is_active => return self.active_failed(s, id),
            _ => {}
        }
        vec![(1.0, s)]
    }

    /// Enters `phase` with the timer `ph`: one outcome per entry stage.
    fn timed(
        &self,
        s: State,
        id: usize,
        (phase, active, target): (u32, u32, u32),
        ph: &Ph,
    ) -> Outcomes {
        ph.entry
            .iter()
            .map(|&(n, p)| {
                let mut t = s.clone();
                self.set_sb(&mut t, id, phase, active, target, n);
                (p, t)
            })
            .collect()
    }

    fn active_failed(&self, s: State, id: usize) -> Outcomes {
        match &self.sb[id].detection {
            Some(ph) => {
                let active = self.active(&s, id);
                self.timed(s, id, (DETECTING, active, NONE), ph)
            }
            None => self.detected(s, id),
        }
    }

    fn detected(&self, mut s: State, id: usize) -> Outcomes {
        let failed = self.active(&s, id);
        let target =
            (0..self.units(id) as u32).find(|&u| u != failed && self.unit_up(&s, id, u as usize));
        match target {
            None => {
                self.set_sb(&mut s, id, WAITING, NONE, NONE, 0);
                vec![(1.0, s)]
            }
            Some(t) => match &self.sb[id].failover {
                Some(ph) => self.timed(s, id, (FAILING_OVER, NONE, t), ph),
                None => {
                    self.set_sb(&mut s, id, NORMAL, NONE, NONE, 0);
                    self.complete_switch(s, id, t)
                }
            },
        }
    }

    fn complete_switch(&self, s: State, id: usize, target: u32) -> Outcomes {
        let p = self.sb[id].switch_success;
        let mut outcomes = Vec::new();
        if p < 1.0 {
            let mut stuck = s.clone();
            match &self.sb[id].manual {
                Some(ph) => outcomes.extend(scale(
                    1.0 - p,
                    self.timed(stuck, id, (STUCK, NONE, NONE), ph),
                )),
                None => {
                    self.set_sb(&mut stuck, id, STUCK, NONE, NONE, 0);
                    outcomes.push((1.0 - p, stuck));
                }
            }
        }
        if p > 0.0 {
            let mut ok = s;
            self.set_sb(&mut ok, id, NORMAL, target, NONE, 0);
            if self.unit_up(&ok, id, target as usize) {
                outcomes.push((p, ok));
            } else {
                outcomes.extend(scale(p, self.active_failed(ok, id)));
            }
        }
        outcomes
    }

    fn manual(&self, mut s: State, id: usize) -> Outcomes {
        match (0..self.units(id) as u32).find(|&u| self.unit_up(&s, id, u as usize)) {
            Some(u) => self.set_sb(&mut s, id, NORMAL, u, NONE, 0),
            None => self.set_sb(&mut s, id, WAITING, NONE, NONE, 0),
        }
        vec![(1.0, s)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GTH on a birth–death chain with rates spanning 10⁻⁶ to 1 keeps the
    /// relative accuracy of the rare states.
    #[test]
    fn gth_keeps_rare_states_exact() {
        let (l, m) = (1e-6, 1.0);
        // States 0..=4 failed units of 4, dedicated repair.
        let edges = |i: usize| {
            let mut e = Vec::new();
            if i < 4 {
                e.push((i + 1, (4 - i) as f64 * l));
            }
            if i > 0 {
                e.push((i - 1, i as f64 * m));
            }
            e
        };
        let pi = gth(5, &edges).unwrap().pi;
        let q = l / (l + m);
        let want = q.powi(4);
        assert!((pi[4] - want).abs() <= 1e-13 * want, "{} vs {want}", pi[4]);
        let gs = gauss_seidel(5, &edges).unwrap().pi;
        assert!((gs[4] - want).abs() <= 1e-9 * want, "{} vs {want}", gs[4]);
    }
}
