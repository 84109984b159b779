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

use super::hazard::{cum_hazard, hazard_rate, inv_cum_hazard};
use super::net::{FKind, Law, Net, RNode};
use crate::model::Dist;

/// Target probability that the next event of a biased sojourn is a
/// failure (balanced failure biasing).
pub const FAILURE_BIAS: f64 = 0.6;
/// Biased probability that a switchover fails (when it is less likely).
pub const SWITCH_BIAS: f64 = 0.25;
/// Share of a biased failure pick spread evenly over the failures that
/// bring the system closer to its nearest cut; the rest follows the
/// original odds, so no failure's likelihood-ratio factor exceeds
/// 1/(1 − `CLOSER_SHARE`).
pub const CLOSER_SHARE: f64 = 0.5;
/// Lives drawn to pick one length-biased life for an equilibrium age.
pub const EQUILIBRIUM_DRAWS: usize = 64;
/// Largest probability of choosing a failure in a biased sojourn.
pub const MAX_THETA: f64 = 0.9;

/// A failure clock.
#[derive(Clone, Copy, Debug, Default)]
struct Clock {
    /// Operating age.
    age: f64,
    /// The operating age at which it fires: H⁻¹(H(a) + Exp(1)) from the
    /// age a its threshold was drawn at (hazard clocks), or the drawn life.
    /// Ageing does not change it, so plain steps need no H or H⁻¹.
    fire_age: f64,
}

impl Clock {
    fn fresh<R: Rng + ?Sized>(law: &Law, rng: &mut R) -> Clock {
        let fire_age = if law.hazard {
            inv_cum_hazard(&law.dist, Exp1.sample(rng))
        } else {
            law.dist.sample(rng)
        };
        Clock { age: 0.0, fire_age }
    }

    /// A fresh threshold for a clock that survived to its age (exact: it
    /// fires when its cumulative hazard passes H(age) + Exp(1)).
    fn rethreshold<R: Rng + ?Sized>(&mut self, law: &Law, rng: &mut R) {
        let e: f64 = Exp1.sample(rng);
        self.fire_age = inv_cum_hazard(&law.dist, cum_hazard(&law.dist, self.age) + e);
    }

    /// A clock at an equilibrium age: the age of a renewal process of
    /// `law` seen at a random time (U times a length-biased life, the
    /// length bias drawn by resampling [`EQUILIBRIUM_DRAWS`] lives in
    /// proportion to their length), with the rest of its life given that
    /// age. Independent units so start with independent phases, as in the
    /// long run, instead of all new and in step (lives with little spread
    /// stay in step for thousands of cycles).
    fn equilibrium<R: Rng + ?Sized>(law: &Law, rng: &mut R) -> Clock {
        if law.dist.exponential_rate().is_some() {
            return Clock::fresh(law, rng);
        }
        let lives: Vec<f64> = (0..EQUILIBRIUM_DRAWS)
            .map(|_| law.dist.sample(rng).max(0.0))
            .collect();
        let total: f64 = lives.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Clock::fresh(law, rng);
        }
        let mut pick = rng.random::<f64>() * total;
        let mut life = lives[lives.len() - 1];
        for &l in &lives {
            if pick < l {
                life = l;
                break;
            }
            pick -= l;
        }
        let mut clock = Clock {
            age: rng.random::<f64>() * life,
            fire_age: life,
        };
        if law.hazard {
            clock.rethreshold(law, rng);
        }
        clock
    }

    /// Time to fire at speed `v`.
    fn due(&self, v: f64) -> f64 {
        if v <= 0.0 {
            return f64::INFINITY;
        }
        (self.fire_age - self.age).max(0.0) / v
    }

    /// Ages the clock by `dt` at speed `v`.
    fn advance(&mut self, v: f64, dt: f64) {
        if v > 0.0 && dt > 0.0 {
            self.age += v * dt;
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

/// A failure-first draw over a sojourn: the failure clocks' summed
/// cumulative hazard G(t) from their current ages, up to the next fixed
/// event at τ.
struct Race<'a, 'c> {
    clocks: &'c [Competitor<'a>],
    /// Whether every failure clock is exponential (G linear).
    linear: bool,
    /// The summed rate when `linear`.
    rate: f64,
}

impl Race<'_, '_> {
    fn g(&self, t: f64) -> f64 {
        if self.linear {
            self.rate * t
        } else {
            self.clocks.iter().map(|c| c.dh(t)).sum()
        }
    }

    /// The summed hazard rate `t` hours into the sojourn, G′(t).
    fn rate_at(&self, t: f64) -> f64 {
        if self.linear {
            self.rate
        } else {
            self.clocks.iter().map(|c| c.rate(t)).sum()
        }
    }

    /// The time in [0, τ] where G reaches `y` (G(τ) ≥ y): Newton's method
    /// kept inside a shrinking bracket (bisection when a step leaves it).
    fn time_of(&self, y: f64, tau: f64) -> f64 {
        if self.linear {
            return (y / self.rate).min(tau);
        }
        let (mut lo, mut hi) = (0.0, tau);
        let r0 = self.rate_at(0.0);
        let mut t = if r0 > 0.0 && r0.is_finite() {
            (y / r0).min(tau)
        } else {
            0.5 * tau
        };
        for _ in 0..100 {
            let g = self.g(t) - y;
            if g.abs() <= 1e-13 * y.max(f64::MIN_POSITIVE) {
                return t;
            }
            if g < 0.0 {
                lo = t;
            } else {
                hi = t;
            }
            if hi - lo <= 1e-12 * hi {
                break;
            }
            let r = self.rate_at(t);
            let next = t - g / r;
            t = if r > 0.0 && next.is_finite() && next > lo && next < hi {
                next
            } else {
                0.5 * (lo + hi)
            };
        }
        0.5 * (lo + hi)
    }
}

/// The distance of a node that cannot fail.
const FAR: u32 = u32::MAX / 4;

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
    /// Everything up, primaries active, at time 0, the running failure
    /// clocks at equilibrium ages ([`Clock::equilibrium`]).
    pub fn new<R: Rng + ?Sized>(net: &Net, rng: &mut R) -> Path {
        let n = net.inst.len();
        let mut p = Path {
            t: 0.0,
            own_up: vec![true; n],
            clocks: net
                .inst
                .iter()
                .enumerate()
                .map(|(k, i)| {
                    // Idle units of warm or cold standby start new.
                    let ages = net.enclosures[k]
                        .iter()
                        .all(|&(s, u)| u == 0 || net.standbys[s].idle_speed >= 1.0);
                    if ages {
                        Clock::equilibrium(&i.life, rng)
                    } else {
                        Clock::fresh(&i.life, rng)
                    }
                })
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
                .map(|c| Clock::equilibrium(&c.life, rng))
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

    /// The failure clocks of a biased sojourn: up instances that age and
    /// idle common causes whose life law has a hazard, each with its age.
    fn competing<'a>(&self, net: &'a Net) -> Vec<Competitor<'a>> {
        let mut out = Vec::new();
        for (i, d) in net.inst.iter().enumerate() {
            if self.own_up[i] && d.life.hazard && self.speed[i] > 0.0 {
                let c = &self.clocks[i];
                out.push(Competitor {
                    next: Next::Fail(i),
                    dist: &d.life.dist,
                    age: c.age,
                    h: cum_hazard(&d.life.dist, c.age),
                    speed: self.speed[i],
                });
            }
        }
        for (k, d) in net.causes.iter().enumerate() {
            if !self.cc_active[k] && d.life.hazard {
                let c = &self.cc_clocks[k];
                out.push(Competitor {
                    next: Next::Shock(k),
                    dist: &d.life.dist,
                    age: c.age,
                    h: cum_hazard(&d.life.dist, c.age),
                    speed: 1.0,
                });
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

    /// The mean of the law of fixed event `next` (its typical wait).
    fn fixed_mean(&self, net: &Net, next: Next) -> Option<f64> {
        match next {
            Next::Repair(i) => Some(net.inst[i].repair.mean()),
            Next::Fail(i) => Some(net.inst[i].life.dist.mean()),
            Next::CauseEnd(c) => Some(net.causes[c].repair.mean()),
            Next::Shock(c) => Some(net.causes[c].life.dist.mean()),
            Next::Timer(s) => self.timer_law(net, s).map(Dist::mean),
        }
    }

    /// One sojourn with failure biasing, or `None` when plain sampling
    /// serves (no failure clock, no pending completion, or a failure is
    /// likely anyway). A Markov state goes to [`Path::markov_step`].
    ///
    /// Otherwise completions (repairs, common-cause outages, standby delays and
    /// deterministic lives) keep the times drawn from their own laws and
    /// are never biased: the first of them comes at τ. The failure clocks
    /// with a hazard compete through their summed cumulative hazard G(t)
    /// from their current ages, so a failure comes first with probability
    /// P = 1 − e^{−G(τ)} (closed form). Biasing chooses a failure with
    /// probability θ = [`FAILURE_BIAS`] > P (likelihood ratio P/θ, else
    /// (1 − P)/(1 − θ) and the fixed event at τ); the failure time is
    /// drawn from the original law given that it comes before τ
    /// (G(t) = −ln(1 − u·P)), the failing clock by
    /// [`Path::pick_failure`] (hazard rates at that time). Every factor of the likelihood ratio is at most
    /// 1/(1 − θ) or 2, whatever the rarity.
    fn biased_step<R: Rng + ?Sized>(&mut self, net: &Net, rng: &mut R) -> Option<Step> {
        let clocks = self.competing(net);
        if !clocks.is_empty()
            && clocks
                .iter()
                .all(|c| matches!(c.dist, Dist::Exponential { .. }))
        {
            if let Some(completions) = self.exponential_completions(net) {
                return self.markov_step(net, &clocks, &completions, rng);
            }
        }
        let fixed = self.next(net, false)?;
        let tau = fixed.1;
        if clocks.is_empty() || !tau.is_finite() {
            return None;
        }
        let linear = clocks
            .iter()
            .all(|c| matches!(c.dist, Dist::Exponential { .. }));
        let race = Race {
            clocks: &clocks,
            linear,
            rate: if linear {
                clocks.iter().map(|c| c.rate(0.0)).sum()
            } else {
                0.0
            },
        };
        let g_tau = race.g(tau);
        let pf = -(-g_tau).exp_m1();
        if pf.is_nan() || pf >= FAILURE_BIAS || pf <= 0.0 {
            return None;
        }
        // The failure probability over a typical wait (the mean of the
        // fixed event's law): θ leans on it so that the likelihood ratio
        // barely depends on how long this particular wait turned out.
        let typical = self
            .fixed_mean(net, fixed.0)
            .filter(|m| m.is_finite() && *m > 0.0);
        let theta = match typical {
            Some(m) => {
                let q = -(-race.g(m)).exp_m1();
                let a = FAILURE_BIAS;
                let t = a * pf / (a * pf + (1.0 - a) * q.max(pf * 1e-3));
                if t.is_finite() {
                    t.clamp(pf, MAX_THETA)
                } else {
                    a
                }
            }
            None => FAILURE_BIAS,
        };
        if theta <= pf {
            return None;
        }
        let (next, dt) = if rng.random::<f64>() < theta {
            self.log_lr += (pf / theta).ln();
            let y = -(-rng.random::<f64>() * pf).ln_1p();
            let dt = race.time_of(y.min(g_tau), tau);
            let rates: Vec<f64> = clocks.iter().map(|c| c.rate(dt)).collect();
            let chosen = self.pick_failure(net, &clocks, &rates, rng);
            (clocks[chosen].next, dt)
        } else {
            self.log_lr += ((1.0 - pf) / (1.0 - theta)).ln();
            fixed
        };
        self.advance(net, dt);
        self.redraw(net, rng);
        self.fire(net, next, rng);
        Some(Step::Event)
    }

    /// Draws which clock fails, given their hazard rates at that time, and
    /// multiplies the likelihood ratio by the correction: half the pick
    /// follows the original odds, the other half is shared evenly by the
    /// failures that bring the system closer to its nearest minimal cut
    /// set ([`Path::closer`]). The factor is at most 2.
    fn pick_failure<R: Rng + ?Sized>(
        &mut self,
        net: &Net,
        clocks: &[Competitor<'_>],
        rates: &[f64],
        rng: &mut R,
    ) -> usize {
        let total: f64 = rates.iter().sum();
        let n = rates.len() as f64;
        let odds = |r: f64| {
            if total > 0.0 && total.is_finite() {
                r / total
            } else {
                1.0 / n
            }
        };
        let closer = self.closer(net, clocks);
        let m = closer.iter().filter(|&&c| c).count() as f64;
        let rho = |k: usize| {
            (1.0 - CLOSER_SHARE) * odds(rates[k]) + if closer[k] { CLOSER_SHARE / m } else { 0.0 }
        };
        let mut pick = rng.random::<f64>();
        // When rounding leaves `pick` unspent, the last clock that can be
        // drawn at all (ρ > 0), never one with ρ = 0 (a 0/0 factor).
        let mut chosen = (0..rates.len())
            .rev()
            .find(|&k| rho(k) > 0.0)
            .unwrap_or(rates.len() - 1);
        for k in 0..rates.len() {
            let r = rho(k);
            if pick < r {
                chosen = k;
                break;
            }
            pick -= r;
        }
        self.log_lr += (odds(rates[chosen]) / rho(chosen)).ln();
        chosen
    }

    /// The pending completions (repairs under way, common-cause outages,
    /// standby timers) with their rates, when every one of them is
    /// exponential and no deterministic or empirical life is pending:
    /// then the state is Markov and biasing works on the rates alone.
    fn exponential_completions(&self, net: &Net) -> Option<Vec<(Next, f64)>> {
        let mut out = Vec::new();
        for (i, d) in net.inst.iter().enumerate() {
            if self.own_up[i] {
                if !d.life.hazard && self.speed[i] > 0.0 {
                    return None;
                }
            } else if self.repair_end[i].is_finite() {
                out.push((Next::Repair(i), d.repair.exponential_rate()?));
            }
        }
        for (c, d) in net.causes.iter().enumerate() {
            if self.cc_active[c] {
                out.push((Next::CauseEnd(c), d.repair.exponential_rate()?));
            } else if !d.life.hazard {
                return None;
            }
        }
        for (s, st) in self.sb.iter().enumerate() {
            if st.timer.is_finite() {
                out.push((Next::Timer(s), self.timer_law(net, s)?.exponential_rate()?));
            }
        }
        Some(out)
    }

    /// One biased step of a Markov state (every clock exponential): the
    /// classic balanced failure biasing on the embedded chain. The next
    /// event is a failure with probability P = Λ/(Λ + μ) (total failure
    /// and completion rates); biasing makes it θ = [`FAILURE_BIAS`]
    /// (likelihood ratio P/θ, else (1 − P)/(1 − θ)); the time to it is
    /// drawn from its own law, Exp(Λ + μ), and the completion that comes
    /// first from the rates. The pending completion times are then drawn
    /// afresh (memoryless), so the factors never depend on a sampled wait.
    /// `None` when plain sampling serves (P ≥ θ).
    fn markov_step<R: Rng + ?Sized>(
        &mut self,
        net: &Net,
        clocks: &[Competitor<'_>],
        completions: &[(Next, f64)],
        rng: &mut R,
    ) -> Option<Step> {
        let rates: Vec<f64> = clocks.iter().map(|c| c.rate(0.0)).collect();
        let lambda: f64 = rates.iter().sum();
        let mu: f64 = completions.iter().map(|c| c.1).sum();
        if !(lambda > 0.0 && mu > 0.0 && lambda.is_finite() && mu.is_finite()) {
            return None;
        }
        let pf = lambda / (lambda + mu);
        if pf >= FAILURE_BIAS {
            return None;
        }
        let e: f64 = Distribution::<f64>::sample(&Exp1, rng);
        let dt = e / (lambda + mu);
        let next = if rng.random::<f64>() < FAILURE_BIAS {
            self.log_lr += (pf / FAILURE_BIAS).ln();
            clocks[self.pick_failure(net, clocks, &rates, rng)].next
        } else {
            self.log_lr += ((1.0 - pf) / (1.0 - FAILURE_BIAS)).ln();
            let mut pick = rng.random::<f64>() * mu;
            let mut chosen = completions[completions.len() - 1].0;
            for &(c, r) in completions {
                if pick < r {
                    chosen = c;
                    break;
                }
                pick -= r;
            }
            chosen
        };
        self.advance(net, dt);
        self.redraw(net, rng);
        self.fire(net, next, rng);
        self.redraw_completions(net, rng);
        Some(Step::Event)
    }

    /// Fresh end times for the pending exponential completions (exact by
    /// memorylessness).
    fn redraw_completions<R: Rng + ?Sized>(&mut self, net: &Net, rng: &mut R) {
        let e = |rate: f64, rng: &mut R| -> f64 { Distribution::<f64>::sample(&Exp1, rng) / rate };
        for (i, d) in net.inst.iter().enumerate() {
            if !self.own_up[i] && self.repair_end[i].is_finite() {
                if let Some(r) = d.repair.exponential_rate() {
                    self.repair_end[i] = self.t + e(r, rng);
                }
            }
        }
        for (c, d) in net.causes.iter().enumerate() {
            if self.cc_active[c] {
                if let Some(r) = d.repair.exponential_rate() {
                    self.cc_end[c] = self.t + e(r, rng);
                }
            }
        }
        for s in 0..self.sb.len() {
            if self.sb[s].timer.is_finite() {
                if let Some(r) = self.timer_law(net, s).and_then(Dist::exponential_rate) {
                    self.sb[s].timer = self.t + e(r, rng);
                }
            }
        }
    }

    /// Per competing clock, whether its failure shortens the distance to
    /// the nearest minimal cut set ([`Path::node_distance`]); every clock
    /// when none does. The distances of the current state are computed
    /// once, children first; each clock's failure recomputes only the
    /// ancestors of its leaves.
    fn closer(&self, net: &Net, clocks: &[Competitor<'_>]) -> Vec<bool> {
        let n = net.flat.len();
        let mut base = vec![0u32; n];
        let mut scratch = Vec::new();
        for id in 0..n {
            base[id] = self.node_distance(net, id, &base, &mut scratch);
        }
        let now = base[n - 1];
        let mut d = base.clone();
        let mut dirty: Vec<usize> = Vec::new();
        let mut failed: Vec<usize> = Vec::new();
        // Every up instance with a single leaf under the same parent gives
        // the same answer (one child of that parent goes from 1 to 0).
        let mut by_parent: Vec<Option<bool>> = vec![None; n];
        let mut closer: Vec<bool> = clocks
            .iter()
            .map(|c| {
                let single = match c.next {
                    Next::Fail(i) if net.leaves[i].len() == 1 && base[net.leaves[i][0]] == 1 => {
                        Some(net.flat[net.leaves[i][0]].parent)
                    }
                    _ => None,
                };
                if let Some(Some(known)) = single.map(|p| by_parent.get(p).copied().flatten()) {
                    return known;
                }
                failed.clear();
                match c.next {
                    Next::Fail(i) => failed.extend(&net.leaves[i]),
                    Next::Shock(k) => {
                        for &i in &net.causes[k].affects {
                            failed.extend(&net.leaves[i]);
                        }
                    }
                    Next::Repair(_) | Next::CauseEnd(_) | Next::Timer(_) => {}
                }
                dirty.clear();
                for &leaf in &failed {
                    d[leaf] = 0;
                    let mut up = net.flat[leaf].parent;
                    while up != NONE {
                        dirty.push(up);
                        up = net.flat[up].parent;
                    }
                }
                dirty.sort_unstable();
                dirty.dedup();
                for &id in &dirty {
                    d[id] = self.node_distance(net, id, &d, &mut scratch);
                }
                let closer = d[n - 1] < now;
                for &id in failed.iter().chain(&dirty) {
                    d[id] = base[id];
                }
                if let Some(p) = single.filter(|&p| p < n) {
                    by_parent[p] = Some(closer);
                }
                closer
            })
            .collect();
        if !closer.contains(&true) {
            closer.iter_mut().for_each(|c| *c = true);
        }
        closer
    }

    /// How many more failures (of instances or common causes) bring flat
    /// node `id` down, given its children's distances in `d`: the size of
    /// the nearest minimal cut set in the current state. A standby with a
    /// detection or failover delay or an imperfect switch is down for a
    /// while as soon as its active unit fails, so it is as near as that
    /// unit; otherwise every unit must fail. Repeated instances count once
    /// per appearance (an upper bound, which is all biasing needs).
    fn node_distance(&self, net: &Net, id: usize, d: &[u32], scratch: &mut Vec<u32>) -> u32 {
        let node = &net.flat[id];
        let sum = |ds: &[u32]| ds.iter().fold(0u32, |a, &b| a.saturating_add(b)).min(FAR);
        match node.kind {
            FKind::Inst(i) => u32::from(self.own_up[i] && self.hold[i] == 0),
            FKind::Gate(k) => {
                let m = node.children.len();
                if k == 0 {
                    return FAR;
                }
                if k > m {
                    return 0;
                }
                let r = m - k + 1;
                if r == 1 {
                    return node.children.iter().map(|&c| d[c]).min().unwrap_or(FAR);
                }
                scratch.clear();
                scratch.extend(node.children.iter().map(|&c| d[c]));
                if r < m {
                    scratch.select_nth_unstable(r - 1);
                }
                sum(&scratch[..r])
            }
            FKind::Standby(s) => {
                let st = &self.sb[s];
                if !st.output() {
                    return 0;
                }
                scratch.clear();
                scratch.extend(node.children.iter().map(|&c| d[c]));
                let all = sum(scratch);
                let def = &net.standbys[s];
                let fragile =
                    def.detection.is_some() || def.failover.is_some() || def.switch_success < 1.0;
                if fragile {
                    all.min(scratch[st.active])
                } else {
                    all
                }
            }
        }
    }

    /// Fresh thresholds for the surviving failure clocks with a hazard,
    /// given their ages (exact: a clock that survived to age a fires when
    /// its cumulative hazard passes H(a) + Exp(1)).
    fn redraw<R: Rng + ?Sized>(&mut self, net: &Net, rng: &mut R) {
        for (i, d) in net.inst.iter().enumerate() {
            if self.own_up[i] && d.life.hazard {
                self.clocks[i].rethreshold(&d.life, rng);
            }
        }
        for (k, d) in net.causes.iter().enumerate() {
            if !self.cc_active[k] && d.life.hazard {
                self.cc_clocks[k].rethreshold(&d.life, rng);
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
                    consider(Next::Fail(i), self.clocks[i].due(self.speed[i]));
                }
            } else if self.repair_end[i].is_finite() {
                consider(Next::Repair(i), self.repair_end[i] - self.t);
            }
        }
        for (c, d) in net.causes.iter().enumerate() {
            if self.cc_active[c] {
                consider(Next::CauseEnd(c), self.cc_end[c] - self.t);
            } else if failures || !d.life.hazard {
                consider(Next::Shock(c), self.cc_clocks[c].due(1.0));
            }
        }
        for (s, st) in self.sb.iter().enumerate() {
            consider(Next::Timer(s), st.timer - self.t);
        }
        best.1.is_finite().then(|| (best.0, best.1.max(0.0)))
    }

    fn advance(&mut self, net: &Net, dt: f64) {
        for i in 0..net.inst.len() {
            if self.own_up[i] {
                self.clocks[i].advance(self.speed[i], dt);
            }
        }
        for c in 0..net.causes.len() {
            if !self.cc_active[c] {
                self.cc_clocks[c].advance(1.0, dt);
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
