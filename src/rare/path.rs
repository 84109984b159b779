//! One sample path of the system, plain or with failure biasing.
//!
//! The state holds every clock in operating-age units: a failure clock
//! with a hazard fires when its accumulated (possibly biased) cumulative
//! hazard reaches an Exp(1) draw, so ageing speed (dormancy) and bias may
//! change at every event. Repairs, common-cause outages and standby delays
//! are absolute times and never biased.

use std::collections::VecDeque;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1};

use super::hazard::{cum_hazard, has_hazard, hazard_rate, inv_cum_hazard};
use super::net::{Law, Net, RNode};
use crate::model::Dist;

/// Target probability that the next event of a biased sojourn is a
/// failure (balanced failure biasing).
pub const FAILURE_BIAS: f64 = 0.6;
/// Biased probability that a switchover fails (when it is less likely).
pub const SWITCH_BIAS: f64 = 0.25;

/// A failure clock.
#[derive(Clone, Copy, Debug, Default)]
struct Clock {
    /// Operating age.
    age: f64,
    /// H(age) (hazard clocks).
    h: f64,
    /// Exp(1) threshold (hazard clocks) or remaining operating life.
    target: f64,
    /// Accumulated biased hazard (hazard clocks).
    used: f64,
}

impl Clock {
    fn fresh<R: Rng + ?Sized>(law: &Law, rng: &mut R) -> Clock {
        let target = if law.hazard {
            Exp1.sample(rng)
        } else {
            law.dist.sample(rng)
        };
        Clock {
            target,
            ..Clock::default()
        }
    }

    /// Time to fire at speed `v`.
    fn due(&self, law: &Law, v: f64) -> f64 {
        if v <= 0.0 {
            return f64::INFINITY;
        }
        if !law.hazard {
            return (self.target - self.age).max(0.0) / v;
        }
        let left = (self.target - self.used).max(0.0);
        let at = inv_cum_hazard(&law.dist, self.h + left);
        (at - self.age).max(0.0) / v
    }

    /// Ages the clock by `dt` at speed `v`.
    fn advance(&mut self, law: &Law, v: f64, dt: f64) {
        if v <= 0.0 || dt <= 0.0 {
            return;
        }
        self.age += v * dt;
        if law.hazard {
            let h = cum_hazard(&law.dist, self.age);
            self.used += (h - self.h).max(0.0);
            self.h = h;
        }
    }
}

/// Phases of a standby node (as in the plain engine).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Normal,
    Detecting,
    FailingOver,
    Stuck,
    Waiting,
}

const NONE: usize = usize::MAX;

#[derive(Clone, Debug)]
struct SbState {
    active: usize,
    phase: Phase,
    target: usize,
    unit_up: Vec<bool>,
    timer: f64,
    timer_start: f64,
}

impl SbState {
    fn output(&self) -> bool {
        self.phase == Phase::Normal && self.active != NONE && self.unit_up[self.active]
    }
    fn first_up_except(&self, except: usize) -> Option<usize> {
        (0..self.unit_up.len()).find(|&u| u != except && self.unit_up[u])
    }
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Nothing can happen any more (a system that stays as it is).
    Dead,
    /// An event happened.
    Event,
}

/// The dynamic state of a path.
#[derive(Clone, Debug)]
pub(super) struct Path {
    pub t: f64,
    own_up: Vec<bool>,
    clocks: Vec<Clock>,
    repair_end: Vec<f64>,
    repair_start: Vec<f64>,
    cc_start: Vec<f64>,
    queues: Vec<VecDeque<usize>>,
    busy: Vec<usize>,
    cc_active: Vec<bool>,
    cc_clocks: Vec<Clock>,
    cc_end: Vec<f64>,
    hold: Vec<u32>,
    sb: Vec<SbState>,
    speed: Vec<f64>,
    own_down: usize,
    cc_on: usize,
    /// Whether the system is up.
    pub up: bool,
    /// Events processed.
    pub events: u64,
    /// Log likelihood ratio accumulated while biased.
    pub log_lr: f64,
    /// Whether failures are biased away from the all-fine set.
    pub biased: bool,
}

/// A clock that competes in a biased sojourn.
struct Competitor<'a> {
    next: Next,
    dist: &'a Dist,
    age: f64,
    h: f64,
    speed: f64,
    failure: bool,
}

impl Competitor<'_> {
    /// Cumulative hazard over the first `t` hours of the sojourn.
    fn dh(&self, t: f64) -> f64 {
        (cum_hazard(self.dist, self.age + self.speed * t) - self.h).max(0.0)
    }

    /// Hazard rate `t` hours into the sojourn.
    fn rate(&self, t: f64) -> f64 {
        hazard_rate(self.dist, self.age + self.speed * t) * self.speed
    }
}

/// Gauss–Legendre nodes and weights on [−1, 1], 8 points.
const GL_X: [f64; 8] = [
    -0.960_289_856_497_536_3,
    -0.796_666_477_413_626_7,
    -0.525_532_409_916_329,
    -0.183_434_642_495_649_8,
    0.183_434_642_495_649_8,
    0.525_532_409_916_329,
    0.796_666_477_413_626_7,
    0.960_289_856_497_536_3,
];
const GL_W: [f64; 8] = [
    0.101_228_536_290_376_26,
    0.222_381_034_453_374_48,
    0.313_706_645_877_887_3,
    0.362_683_783_378_362,
    0.362_683_783_378_362,
    0.313_706_645_877_887_3,
    0.222_381_034_453_374_48,
    0.101_228_536_290_376_26,
];
/// Panel ends of the quadrature, in summed cumulative hazard G: the
/// sojourn's probability mass e^{−G} dG spreads evenly enough over them
/// however the hazards vary in time (lognormal repairs, ageing lives).
const G_EDGES: [f64; 11] = [
    0.0, 0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 50.0,
];
/// Panels of the quadrature.
const PANELS: usize = G_EDGES.len() - 1;

/// The masses of "a failure first" and "a completion first" over a
/// sojourn, panel by panel.
struct Quadrature {
    /// Panel ends in time (empty: constant rates).
    edges: Vec<f64>,
    panel_f: [f64; PANELS],
    panel_c: [f64; PANELS],
    mass_f: f64,
    mass_c: f64,
    fixed: f64,
}

impl Quadrature {
    fn g(clocks: &[Competitor<'_>], t: f64) -> f64 {
        clocks.iter().map(|c| c.dh(t)).sum()
    }

    /// The densities λ_F e^{−G} and λ_C e^{−G} at `t`.
    fn densities(clocks: &[Competitor<'_>], t: f64) -> (f64, f64) {
        let (mut f, mut c, mut g) = (0.0, 0.0, 0.0);
        for k in clocks {
            g += k.dh(t);
            if k.failure {
                f += k.rate(t);
            } else {
                c += k.rate(t);
            }
        }
        let w = (-g).exp();
        let finite = |x: f64| if x.is_finite() && w > 0.0 { x * w } else { 0.0 };
        (finite(f), finite(c))
    }

    /// The time where G reaches `y`, within [lo, τ] (τ may be infinite);
    /// `None` if it never does.
    fn time_of(clocks: &[Competitor<'_>], y: f64, lo: f64, tau: f64) -> Option<f64> {
        let mut lo = lo;
        let mut hi = if tau.is_finite() {
            tau
        } else {
            let rate: f64 = clocks.iter().map(|c| c.rate(lo)).sum();
            (2.0 * lo).max(if rate > 0.0 { y / rate } else { 1.0 })
        };
        if !tau.is_finite() {
            while Self::g(clocks, hi) < y {
                lo = hi;
                hi *= 2.0;
                if hi > 1e300 {
                    return None;
                }
            }
        }
        // The edges need not be exact (any partition integrates), only
        // near their targets.
        for _ in 0..14 {
            let mid = 0.5 * (lo + hi);
            if Self::g(clocks, mid) < y {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi)
    }

    fn new(clocks: &[Competitor<'_>], tau: f64) -> Option<Quadrature> {
        if clocks
            .iter()
            .all(|c| matches!(c.dist, Dist::Exponential { .. }))
        {
            return Self::exponential(clocks, tau);
        }
        let g_tau = if tau.is_finite() {
            Self::g(clocks, tau)
        } else {
            f64::INFINITY
        };
        let mut edges = vec![0.0];
        for &y in &G_EDGES[1..] {
            let last = *edges.last().unwrap_or(&0.0);
            let t = if y >= g_tau {
                tau
            } else {
                Self::time_of(clocks, y, last, tau)?
            };
            edges.push(t);
        }
        let fixed = if g_tau < G_EDGES[PANELS] {
            (-g_tau).exp()
        } else {
            0.0
        };
        let mut q = Quadrature {
            edges,
            panel_f: [0.0; PANELS],
            panel_c: [0.0; PANELS],
            mass_f: 0.0,
            mass_c: 0.0,
            fixed,
        };
        for p in 0..PANELS {
            let (a, b) = (q.edges[p], q.edges[p + 1]);
            if b.partial_cmp(&a) != Some(std::cmp::Ordering::Greater) {
                continue;
            }
            let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
            for (x, w) in GL_X.iter().zip(GL_W) {
                let (f, c) = Self::densities(clocks, mid + half * x);
                q.panel_f[p] += half * w * f;
                q.panel_c[p] += half * w * c;
            }
            q.mass_f += q.panel_f[p];
            q.mass_c += q.panel_c[p];
        }
        Some(q)
    }

    /// Constant rates F and C: the masses in closed form,
    /// F/(F + C)·(1 − e^{−(F+C)τ}) and likewise, and no panels (`end` 0).
    fn exponential(clocks: &[Competitor<'_>], tau: f64) -> Option<Quadrature> {
        let (mut f, mut c) = (0.0, 0.0);
        for k in clocks {
            let r = k.rate(0.0);
            if k.failure {
                f += r;
            } else {
                c += r;
            }
        }
        let total = f + c;
        if total.is_nan() || total <= 0.0 {
            return None;
        }
        let reach = if tau.is_finite() {
            -(-total * tau).exp_m1()
        } else {
            1.0
        };
        Some(Quadrature {
            edges: Vec::new(),
            panel_f: [0.0; PANELS],
            panel_c: [0.0; PANELS],
            mass_f: f / total * reach,
            mass_c: c / total * reach,
            fixed: if tau.is_finite() {
                (-total * tau).exp()
            } else {
                0.0
            },
        })
    }

    /// A time drawn from the failure (or completion) density: a panel by
    /// its mass, then rejection within the panel.
    fn sample<R: Rng + ?Sized>(
        &self,
        clocks: &[Competitor<'_>],
        failure: bool,
        rng: &mut R,
    ) -> f64 {
        if self.edges.is_empty() {
            // Constant total rate: an exponential truncated to the reach.
            let total: f64 = clocks.iter().map(|c| c.rate(0.0)).sum();
            let reach = (self.mass_f + self.mass_c).min(1.0);
            return -(-(rng.random::<f64>() * reach)).ln_1p() / total;
        }
        let (panels, total) = if failure {
            (&self.panel_f, self.mass_f)
        } else {
            (&self.panel_c, self.mass_c)
        };
        let mut pick = rng.random::<f64>() * total;
        let mut p = PANELS - 1;
        for (k, &m) in panels.iter().enumerate() {
            if pick < m {
                p = k;
                break;
            }
            pick -= m;
        }
        let (a, width) = (self.edges[p], self.edges[p + 1] - self.edges[p]);
        let mid = a + 0.5 * width;
        let density = |t: f64| {
            let (f, c) = Self::densities(clocks, t);
            if failure {
                f
            } else {
                c
            }
        };
        let envelope = 2.0
            * GL_X
                .iter()
                .map(|x| mid + 0.5 * width * x)
                .chain([a, a + width])
                .map(density)
                .fold(0.0, f64::max);
        let mut t = mid;
        for _ in 0..1000 {
            t = a + width * rng.random::<f64>();
            if rng.random::<f64>() * envelope <= density(t) {
                break;
            }
        }
        t
    }
}

/// Which event comes next.
#[derive(Clone, Copy, Debug)]
enum Next {
    Fail(usize),
    Repair(usize),
    Shock(usize),
    CauseEnd(usize),
    Timer(usize),
}

impl Path {
    /// Everything up, primaries active, at time 0.
    pub fn new<R: Rng + ?Sized>(net: &Net, rng: &mut R) -> Path {
        let n = net.inst.len();
        let mut p = Path {
            t: 0.0,
            own_up: vec![true; n],
            clocks: net
                .inst
                .iter()
                .map(|i| Clock::fresh(&i.life, rng))
                .collect(),
            repair_end: vec![f64::INFINITY; n],
            repair_start: vec![0.0; n],
            cc_start: vec![0.0; net.causes.len()],
            queues: vec![VecDeque::new(); net.crews.len()],
            busy: vec![0; net.crews.len()],
            cc_active: vec![false; net.causes.len()],
            cc_clocks: net
                .causes
                .iter()
                .map(|c| Clock::fresh(&c.life, rng))
                .collect(),
            cc_end: vec![f64::INFINITY; net.causes.len()],
            hold: vec![0; n],
            sb: net
                .standbys
                .iter()
                .map(|s| SbState {
                    active: 0,
                    phase: Phase::Normal,
                    target: NONE,
                    unit_up: vec![true; s.units.len()],
                    timer: f64::INFINITY,
                    timer_start: 0.0,
                })
                .collect(),
            speed: vec![1.0; n],
            own_down: 0,
            cc_on: 0,
            up: true,
            events: 0,
            log_lr: 0.0,
            biased: false,
        };
        p.update_speeds(net);
        p
    }

    /// Whether every instance is up, no common cause is active and every
    /// standby runs normally on a working unit.
    pub fn all_fine(&self) -> bool {
        self.own_down == 0 && self.cc_on == 0 && self.sb.iter().all(|s| s.output())
    }

    /// Processes the next event; adds the system down time before it to
    /// `down`.
    pub fn step<R: Rng + ?Sized>(&mut self, net: &Net, down: &mut f64, rng: &mut R) -> Step {
        if self.biased && self.up && !self.all_fine() {
            if let Some(step) = self.biased_step(net, rng) {
                return step;
            }
        }
        let Some((next, dt)) = self.next(net, true) else {
            return Step::Dead;
        };
        if !self.up {
            *down += dt;
        }
        self.advance(net, dt);
        self.fire(net, next, rng);
        Step::Event
    }

    fn fire<R: Rng + ?Sized>(&mut self, net: &Net, next: Next, rng: &mut R) {
        self.events += 1;
        match next {
            Next::Fail(i) => self.fail(net, i, rng),
            Next::Repair(i) => self.repaired(net, i, rng),
            Next::Shock(c) => self.shock(net, c, rng),
            Next::CauseEnd(c) => self.cause_end(net, c, rng),
            Next::Timer(s) => self.timer(net, s, rng),
        }
    }

    /// The clocks of a biased sojourn: failure clocks with a hazard (up
    /// instances that age, idle common causes) and pending completions
    /// whose law has a hazard (repairs, common-cause outages, standby
    /// delays), each with its age.
    fn competing<'a>(&self, net: &'a Net) -> Vec<Competitor<'a>> {
        let mut out = Vec::new();
        let t = self.t;
        let mut push = |next, dist: &'a Dist, age: f64, speed: f64, failure| {
            out.push(Competitor {
                next,
                dist,
                age,
                h: cum_hazard(dist, age),
                speed,
                failure,
            })
        };
        for (i, d) in net.inst.iter().enumerate() {
            if self.own_up[i] {
                if d.life.hazard && self.speed[i] > 0.0 {
                    let c = &self.clocks[i];
                    push(Next::Fail(i), &d.life.dist, c.age, self.speed[i], true);
                }
            } else if self.repair_end[i].is_finite() && has_hazard(&d.repair) {
                push(
                    Next::Repair(i),
                    &d.repair,
                    t - self.repair_start[i],
                    1.0,
                    false,
                );
            }
        }
        for (c, d) in net.causes.iter().enumerate() {
            if !self.cc_active[c] {
                if d.life.hazard {
                    let k = &self.cc_clocks[c];
                    push(Next::Shock(c), &d.life.dist, k.age, 1.0, true);
                }
            } else if has_hazard(&d.repair) {
                push(
                    Next::CauseEnd(c),
                    &d.repair,
                    t - self.cc_start[c],
                    1.0,
                    false,
                );
            }
        }
        for (s, st) in self.sb.iter().enumerate() {
            if let Some(d) = self.timer_law(net, s).filter(|d| has_hazard(d)) {
                push(Next::Timer(s), d, t - st.timer_start, 1.0, false);
            }
        }
        out
    }

    /// The law of standby `s`'s pending timer, if one runs.
    fn timer_law<'a>(&self, net: &'a Net, s: usize) -> Option<&'a Dist> {
        let st = &self.sb[s];
        if !st.timer.is_finite() {
            return None;
        }
        let d = &net.standbys[s];
        match st.phase {
            Phase::Detecting => d.detection.as_ref(),
            Phase::FailingOver => d.failover.as_ref(),
            Phase::Stuck => d.manual.as_ref(),
            Phase::Normal | Phase::Waiting => None,
        }
    }

    /// One sojourn with failure biasing, or `None` when plain sampling
    /// serves (nothing competes with the failures, or a failure is likely
    /// anyway).
    ///
    /// Every clock with a hazard competes through its cumulative hazard
    /// from its current age (failures and completions alike); the other
    /// events (deterministic or empirical durations) come at a fixed time
    /// τ. With G(t) the clocks' summed cumulative hazard over the sojourn
    /// and λ_F, λ_C the summed hazard rates of failures and completions,
    /// a failure comes first with probability P = ∫₀^τ λ_F e^{−G} dt
    /// (quadrature). Biasing chooses a failure with probability θ =
    /// [`FAILURE_BIAS`] > P (likelihood ratio P/θ, else (1 − P)/(1 − θ));
    /// the time is drawn from the original law given the branch, the
    /// failing clock from an even mixture of the original odds and the
    /// uniform choice (balanced biasing). Every factor of the likelihood
    /// ratio is bounded, whatever the rarity and however long the pending
    /// repairs turn out.
    fn biased_step<R: Rng + ?Sized>(&mut self, net: &Net, rng: &mut R) -> Option<Step> {
        let fixed = self.next(net, false);
        let tau = fixed.map_or(f64::INFINITY, |f| f.1);
        let clocks = self.competing(net);
        if !clocks.iter().any(|c| c.failure)
            || !clocks.iter().any(|c| !c.failure) && !tau.is_finite()
        {
            return None;
        }
        let q = Quadrature::new(&clocks, tau)?;
        let (pf, pc, pfix) = (q.mass_f, q.mass_c, q.fixed);
        if pf.is_nan() || pf >= FAILURE_BIAS || pf <= 0.0 {
            return None;
        }
        let theta = FAILURE_BIAS;
        let (next, dt) = if rng.random::<f64>() < theta {
            self.log_lr += (pf / theta).ln();
            let dt = q.sample(&clocks, true, rng);
            let rates: Vec<(usize, f64)> = clocks
                .iter()
                .enumerate()
                .filter(|(_, c)| c.failure)
                .map(|(k, c)| (k, c.rate(dt)))
                .collect();
            let total: f64 = rates.iter().map(|r| r.1).sum();
            let n = rates.len() as f64;
            let odds = |r: f64| if total > 0.0 { r / total } else { 1.0 / n };
            let mut pick = rng.random::<f64>();
            let mut chosen = rates[rates.len() - 1];
            for &(k, r) in &rates {
                let rho = 0.5 * odds(r) + 0.5 / n;
                if pick < rho {
                    chosen = (k, r);
                    break;
                }
                pick -= rho;
            }
            let pi = odds(chosen.1);
            self.log_lr += (pi / (0.5 * pi + 0.5 / n)).ln();
            (clocks[chosen.0].next, dt)
        } else {
            self.log_lr += ((pc + pfix) / (1.0 - theta)).ln();
            if rng.random::<f64>() * (pc + pfix) < pc {
                let dt = q.sample(&clocks, false, rng);
                let rates: Vec<(usize, f64)> = clocks
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.failure)
                    .map(|(k, c)| (k, c.rate(dt)))
                    .collect();
                let total: f64 = rates.iter().map(|r| r.1).sum();
                let mut pick = rng.random::<f64>() * total;
                let mut chosen = rates[rates.len() - 1].0;
                for &(k, r) in &rates {
                    if pick < r {
                        chosen = k;
                        break;
                    }
                    pick -= r;
                }
                (clocks[chosen].next, dt)
            } else {
                fixed?
            }
        };
        self.advance(net, dt);
        self.redraw(net, rng);
        self.fire(net, next, rng);
        Some(Step::Event)
    }

    /// Fresh draws for the surviving clocks with a hazard, given their
    /// ages (exact: a clock that survived to age a fires when its
    /// cumulative hazard passes H(a) + Exp(1)).
    fn redraw<R: Rng + ?Sized>(&mut self, net: &Net, rng: &mut R) {
        let e = |rng: &mut R| -> f64 { Distribution::<f64>::sample(&Exp1, rng) };
        let t = self.t;
        let end = |d: &Dist, start: f64, e: f64| {
            let age = t - start;
            start + inv_cum_hazard(d, cum_hazard(d, age) + e).max(age)
        };
        for (i, d) in net.inst.iter().enumerate() {
            if self.own_up[i] {
                if d.life.hazard {
                    let c = &mut self.clocks[i];
                    c.used = c.h;
                    c.target = c.h + e(rng);
                }
            } else if self.repair_end[i].is_finite() && has_hazard(&d.repair) {
                self.repair_end[i] = end(&d.repair, self.repair_start[i], e(rng));
            }
        }
        for (k, d) in net.causes.iter().enumerate() {
            if !self.cc_active[k] {
                if d.life.hazard {
                    let c = &mut self.cc_clocks[k];
                    c.used = c.h;
                    c.target = c.h + e(rng);
                }
            } else if has_hazard(&d.repair) {
                self.cc_end[k] = end(&d.repair, self.cc_start[k], e(rng));
            }
        }
        for s in 0..self.sb.len() {
            if let Some(d) = self.timer_law(net, s).filter(|d| has_hazard(d)) {
                let start = self.sb[s].timer_start;
                self.sb[s].timer = end(d, start, e(rng));
            }
        }
    }

    /// The next event and the time to it; with `failures` false, only the
    /// events without a hazard (fixed times) count.
    fn next(&self, net: &Net, failures: bool) -> Option<(Next, f64)> {
        let mut best = (Next::Timer(0), f64::INFINITY);
        let mut consider = |n: Next, dt: f64| {
            if dt < best.1 {
                best = (n, dt);
            }
        };
        for (i, d) in net.inst.iter().enumerate() {
            if self.own_up[i] {
                if failures || !d.life.hazard {
                    consider(Next::Fail(i), self.clocks[i].due(&d.life, self.speed[i]));
                }
            } else if self.repair_end[i].is_finite() && (failures || !has_hazard(&d.repair)) {
                consider(Next::Repair(i), self.repair_end[i] - self.t);
            }
        }
        for (c, d) in net.causes.iter().enumerate() {
            if self.cc_active[c] {
                if failures || !has_hazard(&d.repair) {
                    consider(Next::CauseEnd(c), self.cc_end[c] - self.t);
                }
            } else if failures || !d.life.hazard {
                consider(Next::Shock(c), self.cc_clocks[c].due(&d.life, 1.0));
            }
        }
        for (s, st) in self.sb.iter().enumerate() {
            if failures || !self.timer_law(net, s).is_some_and(has_hazard) {
                consider(Next::Timer(s), st.timer - self.t);
            }
        }
        best.1.is_finite().then(|| (best.0, best.1.max(0.0)))
    }

    fn advance(&mut self, net: &Net, dt: f64) {
        for (i, d) in net.inst.iter().enumerate() {
            if self.own_up[i] {
                self.clocks[i].advance(&d.life, self.speed[i], dt);
            }
        }
        for (c, d) in net.causes.iter().enumerate() {
            if !self.cc_active[c] {
                self.cc_clocks[c].advance(&d.life, 1.0, dt);
            }
        }
        self.t += dt;
    }

    fn fail<R: Rng + ?Sized>(&mut self, net: &Net, i: usize, rng: &mut R) {
        self.own_up[i] = false;
        self.own_down += 1;
        match net.inst[i].crew {
            Some(c) if self.busy[c] >= net.crews[c] => self.queues[c].push_back(i),
            Some(c) => {
                self.busy[c] += 1;
                self.start_repair(net, i, rng);
            }
            None => self.start_repair(net, i, rng),
        }
        self.settle(net, rng);
    }

    fn start_repair<R: Rng + ?Sized>(&mut self, net: &Net, i: usize, rng: &mut R) {
        self.repair_start[i] = self.t;
        self.repair_end[i] = self.t + net.inst[i].repair.sample(rng);
    }

    fn repaired<R: Rng + ?Sized>(&mut self, net: &Net, i: usize, rng: &mut R) {
        self.own_up[i] = true;
        self.own_down -= 1;
        self.repair_end[i] = f64::INFINITY;
        self.clocks[i] = Clock::fresh(&net.inst[i].life, rng);
        if let Some(c) = net.inst[i].crew {
            match self.queues[c].pop_front() {
                Some(j) => self.start_repair(net, j, rng),
                None => self.busy[c] -= 1,
            }
        }
        self.settle(net, rng);
    }

    fn shock<R: Rng + ?Sized>(&mut self, net: &Net, c: usize, rng: &mut R) {
        self.cc_active[c] = true;
        self.cc_on += 1;
        self.cc_start[c] = self.t;
        self.cc_end[c] = self.t + net.causes[c].repair.sample(rng);
        for &i in &net.causes[c].affects {
            self.hold[i] += 1;
        }
        self.settle(net, rng);
    }

    fn cause_end<R: Rng + ?Sized>(&mut self, net: &Net, c: usize, rng: &mut R) {
        self.cc_active[c] = false;
        self.cc_on -= 1;
        self.cc_end[c] = f64::INFINITY;
        self.cc_clocks[c] = Clock::fresh(&net.causes[c].life, rng);
        for &i in &net.causes[c].affects {
            self.hold[i] -= 1;
        }
        self.settle(net, rng);
    }

    fn timer<R: Rng + ?Sized>(&mut self, net: &Net, s: usize, rng: &mut R) {
        self.sb[s].timer = f64::INFINITY;
        match self.sb[s].phase {
            Phase::Detecting => self.detected(net, s, rng),
            Phase::FailingOver => {
                let target = self.sb[s].target;
                self.complete_switch(net, s, target, rng);
            }
            Phase::Stuck => match self.sb[s].first_up_except(NONE) {
                Some(u) => {
                    self.sb[s].phase = Phase::Normal;
                    self.sb[s].active = u;
                }
                None => self.sb[s].phase = Phase::Waiting,
            },
            Phase::Normal | Phase::Waiting => {}
        }
        self.settle(net, rng);
    }

    /// Brings the standby nodes (innermost first), speeds and the system
    /// state up to date after an event.
    fn settle<R: Rng + ?Sized>(&mut self, net: &Net, rng: &mut R) {
        for s in (0..net.standbys.len()).rev() {
            let ups: Vec<bool> = net.standbys[s].units.iter().map(|u| self.eval(u)).collect();
            let changes: Vec<(usize, bool)> = ups
                .iter()
                .enumerate()
                .filter(|&(u, &up)| self.sb[s].unit_up[u] != up)
                .map(|(u, &up)| (u, up))
                .collect();
            for &(u, up) in &changes {
                self.sb[s].unit_up[u] = up;
            }
            for &(u, up) in &changes {
                self.react(net, s, u, up, rng);
            }
        }
        self.update_speeds(net);
        self.up = self.eval(&net.root);
    }

    fn react<R: Rng + ?Sized>(&mut self, net: &Net, s: usize, u: usize, up: bool, rng: &mut R) {
        let st = &mut self.sb[s];
        let is_active = st.active == u;
        match (up, st.phase) {
            (true, Phase::Detecting) if is_active => {
                st.phase = Phase::Normal;
                st.timer = f64::INFINITY;
            }
            (true, Phase::Stuck | Phase::Waiting) => {
                st.phase = Phase::Normal;
                st.timer = f64::INFINITY;
                st.active = u;
            }
            (false, Phase::Normal) if is_active => self.active_failed(net, s, rng),
            _ => {}
        }
    }

    fn active_failed<R: Rng + ?Sized>(&mut self, net: &Net, s: usize, rng: &mut R) {
        match &net.standbys[s].detection {
            Some(d) => {
                self.sb[s].phase = Phase::Detecting;
                self.sb[s].timer_start = self.t;
                self.sb[s].timer = self.t + d.sample(rng);
            }
            None => self.detected(net, s, rng),
        }
    }

    fn detected<R: Rng + ?Sized>(&mut self, net: &Net, s: usize, rng: &mut R) {
        let failed = self.sb[s].active;
        let target = self.sb[s].first_up_except(failed);
        self.sb[s].active = NONE;
        match (target, &net.standbys[s].failover) {
            (None, _) => self.sb[s].phase = Phase::Waiting,
            (Some(u), Some(d)) => {
                self.sb[s].phase = Phase::FailingOver;
                self.sb[s].target = u;
                self.sb[s].timer_start = self.t;
                self.sb[s].timer = self.t + d.sample(rng);
            }
            (Some(u), None) => self.complete_switch(net, s, u, rng),
        }
    }

    /// A switchover ends; while biased, it fails with probability at least
    /// [`SWITCH_BIAS`] and the likelihood ratio takes the correction.
    fn complete_switch<R: Rng + ?Sized>(
        &mut self,
        net: &Net,
        s: usize,
        target: usize,
        rng: &mut R,
    ) {
        let def = &net.standbys[s];
        let p = def.switch_success;
        if p < 1.0 {
            let q = if self.biased {
                (1.0 - p).max(SWITCH_BIAS)
            } else {
                1.0 - p
            };
            let fails = rng.random::<f64>() < q;
            if self.biased {
                self.log_lr += if fails {
                    ((1.0 - p) / q).ln()
                } else {
                    (p / (1.0 - q)).ln()
                };
            }
            if fails {
                self.sb[s].phase = Phase::Stuck;
                if let Some(d) = &def.manual {
                    self.sb[s].timer_start = self.t;
                    self.sb[s].timer = self.t + d.sample(rng);
                }
                return;
            }
        }
        self.sb[s].phase = Phase::Normal;
        self.sb[s].active = target;
        if !self.sb[s].unit_up[target] {
            self.active_failed(net, s, rng);
        }
    }

    /// Each instance ages at the slowest idle speed of the standby units
    /// that enclose it and are not active.
    fn update_speeds(&mut self, net: &Net) {
        for (i, enc) in net.enclosures.iter().enumerate() {
            let mut v: f64 = 1.0;
            for &(s, u) in enc {
                if self.sb[s].active != u {
                    v = v.min(net.standbys[s].idle_speed);
                }
            }
            self.speed[i] = v;
        }
    }

    fn eval(&self, node: &RNode) -> bool {
        match node {
            RNode::Inst(i) => self.own_up[*i] && self.hold[*i] == 0,
            RNode::Gate(k, of) => {
                let mut up = 0;
                for c in of {
                    if self.eval(c) {
                        up += 1;
                        if up >= *k {
                            return true;
                        }
                    }
                }
                *k == 0
            }
            RNode::Standby(s) => self.sb[*s].output(),
        }
    }
}
