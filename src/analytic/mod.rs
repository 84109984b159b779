//! The analytic check (SPEC §4): which exact or approximate method applies,
//! its figures, and the verdict against the simulation.
//!
//! - **structure-function**: independent units (dedicated repair; standby
//!   only when hot, instant and perfect; balancers by time availability),
//!   any distributions. Exact steady state from mean-up/(mean-up+mean-down);
//!   with every distribution exponential also the exact expected
//!   availability over [warmup, horizon] from an all-up start.
//! - **ctmc**: every distribution exponential, with crews, standby
//!   behaviour, switch failures, common causes: the continuous-time Markov
//!   chain of the engine's own state machine, solved numerically.
//! - **approximation** otherwise: the structure function with standby nodes
//!   as ideal parallel groups and crews as dedicated repair, less the
//!   expected detection, failover and manual-recovery time per active-unit
//!   failure. No verdict.

pub mod birth_death;
pub mod ctmc;
pub mod data;
pub mod importance;
pub mod markov;
pub mod structure;
pub mod upkeep;

use crate::model::{Dist, Model, Node};
use crate::stats::UnavailabilityEstimate;
pub use structure::Structure;

/// Which method gave the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The structure function of independent units.
    StructureFunction,
    /// A continuous-time Markov chain.
    Ctmc,
    /// A continuous-time Markov chain with fixed, uniform or empirical
    /// delays expanded into phase-type stages, extrapolated, with a bound.
    CtmcPhaseType,
    /// A stated approximation.
    Approximation,
}

impl Method {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::StructureFunction => "structure-function",
            Method::Ctmc => "ctmc",
            Method::CtmcPhaseType => "ctmc-phase-type",
            Method::Approximation => "approximation",
        }
    }
}

/// The analytic figures of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// The method, or `None` when nothing applies.
    pub method: Option<Method>,
    /// Whether the figures are exact.
    pub exact: bool,
    /// Steady-state availability.
    pub steady_state: Option<f64>,
    /// Expected availability over [warmup, horizon] from all up.
    pub interval: Option<f64>,
    /// Mean time to first system failure from all up.
    pub mttf_hours: Option<f64>,
    /// What was done, and why other methods did not apply.
    pub note: String,
    /// For non-exponential units: the estimated start-up bias of the
    /// interval average relative to the steady state (first order in
    /// 1/window), which decides whether a steady-state verdict is fair.
    pub startup_bias: Option<f64>,
    /// What a comparison with the steady state must allow for beyond
    /// `startup_bias` (its Monte-Carlo uncertainty at 99.9% and a bound for
    /// units too fast to simulate); not finite when the bias could not be
    /// estimated.
    pub startup_bias_allowance: Option<f64>,
    /// Absolute bound on the error of `steady_state` and `interval` (as
    /// availabilities, hence also of the unavailabilities): `Some(0.0)` for
    /// exact figures, `Some(b)` for a numerically bounded method (e.g. a
    /// phase-type expansion), `None` when unbounded (approximations).
    pub error_bound: Option<f64>,
    /// States of the Markov chain solved, if one was.
    pub states: Option<usize>,
    /// Steady-state system failures (up → down transitions) per hour, where
    /// the method gives it.
    pub outage_rate: Option<f64>,
    /// Steady-state unavailability computed directly (not as 1 − A, which
    /// loses every digit below 10⁻¹⁶), where the method gives it.
    pub steady_unavailability: Option<f64>,
    /// Expected unavailability over [warmup, horizon], computed directly,
    /// where the method gives it.
    pub interval_unavailability: Option<f64>,
}

impl Analysis {
    /// The exact value the simulation is compared with: the interval value
    /// where known, else the steady state (exact methods only).
    pub fn reference(&self) -> Option<f64> {
        if self.exact {
            self.interval.or(self.steady_state)
        } else {
            None
        }
    }

    /// The exact unavailability the simulation is compared with (exact
    /// methods only): the direct figure where the method gives one, else
    /// 1 − [`Analysis::reference`].
    pub fn reference_unavailability(&self) -> Option<f64> {
        if !self.exact {
            return None;
        }
        let direct = if self.interval.is_some() {
            self.interval_unavailability
        } else {
            self.steady_unavailability
        };
        direct.or_else(|| self.reference().map(|a| (1.0 - a).clamp(0.0, 1.0)))
    }
}

/// Steady-state availability of a unit: mean-up / (mean-up + mean-down).
pub fn steady(up: &Dist, down: &Dist) -> f64 {
    let u = up.mean();
    u / (u + down.mean())
}

/// Point availability at `t` of an exponential unit that starts up:
/// μ/(λ+μ) + λ/(λ+μ)·e^{−(λ+μ)t}.
pub fn exponential_point(up_mean: f64, down_mean: f64, t: f64) -> f64 {
    let (l, m) = (1.0 / up_mean, 1.0 / down_mean);
    m / (l + m) + l / (l + m) * (-(l + m) * t).exp()
}

fn all_exponential(model: &Model) -> bool {
    let exp = |d: &Dist| d.exponential_rate().is_some();
    model
        .instances
        .iter()
        .all(|i| exp(&i.failure) && exp(&i.repair))
        && model
            .common_causes
            .iter()
            .all(|c| exp(&c.failure) && exp(&c.repair))
}

/// Every analytic figure for `model`.
pub fn analyze(model: &Model) -> Analysis {
    if model.has_upkeep() {
        return upkeep::analyze(model);
    }
    let Some((eff, exact, note)) = data::effective_model(model) else {
        return analyze_model(model);
    };
    let mut a = analyze_model(&eff);
    if !exact && (a.exact || a.error_bound.is_some()) {
        a.exact = false;
        a.method = a.method.map(|_| Method::Approximation);
        a.interval = None;
        a.mttf_hours = None;
        a.error_bound = None;
        a.outage_rate = None;
        a.steady_unavailability = None;
        a.interval_unavailability = None;
    }
    a.note = format!("{}; {note}", a.note);
    a
}

fn analyze_model(model: &Model) -> Analysis {
    let exponential = all_exponential(model);
    match Structure::new(model) {
        Ok(sf) => structure_analysis(model, &sf, exponential),
        Err(why) => match markov::analyze(model, &why) {
            Ok(a) => a,
            Err(no_chain) => approximation(model, format!("{why}; {no_chain}")),
        },
    }
}

/// Largest chain built only for the MTTF of independent units.
const MTTF_STATES: usize = 100_000;

fn structure_analysis(model: &Model, sf: &Structure, exponential: bool) -> Analysis {
    let (p, q) = unit_probabilities(model, steady);
    let (pd, qd) = unit_probabilities(model, steady_down);
    let probs = structure::Probs {
        up: &p,
        down: &pd,
        active: &q,
        inactive: &qd,
    };
    let (steady_state, steady_u) = sf.evaluate_both(&probs);
    let sim = &model.simulation;
    let interval = exponential.then(|| interval_both(model, sf, sim.warmup, sim.horizon));
    let mut notes = Vec::new();
    let mttf_hours = if exponential {
        match birth_death::BirthDeath::of(model) {
            Some(bd) => bd.mttf(),
            None => match ctmc::Chain::expanded_within(model, 1, MTTF_STATES) {
                Ok(c) => c.mttf(),
                Err(e) => {
                    notes.push(format!("no MTTF: {e}"));
                    None
                }
            },
        }
    } else {
        None
    };
    let outage_rate = structure_outage_rate(model, sf, &probs);
    let mut note = if exponential {
        "structure function of independent exponential units: exact steady state and interval availability".to_string()
    } else {
        "structure function of independent units: exact steady state (mean-up / (mean-up + mean-down)); the interval value needs exponential units".to_string()
    };
    for n in notes {
        note.push_str("; ");
        note.push_str(&n);
    }
    let bias = (!exponential).then(|| crate::bias::startup_bias(model, sf));
    let (startup_bias, startup_bias_allowance) = match &bias {
        None => (None, None),
        Some(Ok(b)) => (Some(b.bias), Some(b.allowance())),
        Some(Err(_)) => (Some(f64::NAN), Some(f64::NAN)),
    };
    if let Some(Err(why)) = &bias {
        note.push_str(&format!(
            "; the start-up bias could not be estimated: {why}"
        ));
    }
    let interval = interval.and_then(|(a, u)| Some((probability(a)?, probability(u)?)));
    let (Some(steady_state), Some(steady_u)) = (probability(steady_state), probability(steady_u))
    else {
        return approximation(
            model,
            "the structure function gave a value out of range".into(),
        );
    };
    Analysis {
        method: Some(Method::StructureFunction),
        exact: true,
        steady_state: Some(steady_state),
        interval: interval.map(|x| x.0),
        mttf_hours: mttf_hours.filter(|m| m.is_finite() && *m > 0.0),
        note,
        startup_bias,
        startup_bias_allowance,
        error_bound: Some(0.0),
        states: None,
        outage_rate,
        steady_unavailability: Some(steady_u),
        interval_unavailability: interval.map(|x| x.1),
    }
}

/// `x` as a probability: rounding just above 1 (sums of many terms) is
/// taken as 1; anything else outside [0, 1], or not finite, is `None`.
pub fn probability(x: f64) -> Option<f64> {
    (x.is_finite() && (0.0..=1.0 + 1e-12).contains(&x)).then(|| x.min(1.0))
}

/// Steady-state unavailability of a unit: mean-down / (mean-up +
/// mean-down), computed directly.
pub fn steady_down(up: &Dist, down: &Dist) -> f64 {
    let d = down.mean();
    d / (up.mean() + d)
}

/// Steady-state system failures per hour of independent units, any
/// distributions: Σᵢ I_B(i)/(E[up]+E[down]) over instances, plus each
/// common cause's onsets per hour times the system's loss when it starts.
fn structure_outage_rate(model: &Model, sf: &Structure, probs: &structure::Probs) -> Option<f64> {
    let imp = sf.importances(probs);
    let mut rate = 0.0;
    for (i, inst) in model.instances.iter().enumerate() {
        rate += imp[i] / (inst.failure.mean() + inst.repair.mean());
    }
    if model.common_causes.len() > 64 {
        return None;
    }
    for (k, cc) in model.common_causes.iter().enumerate() {
        let (mut on, mut off) = (probs.active.to_vec(), probs.inactive.to_vec());
        (on[k], off[k]) = (0.0, 1.0);
        let idle = sf
            .evaluate_both(&structure::Probs {
                active: &on,
                inactive: &off,
                ..*probs
            })
            .0;
        (on[k], off[k]) = (1.0, 0.0);
        let held = sf
            .evaluate_both(&structure::Probs {
                active: &on,
                inactive: &off,
                ..*probs
            })
            .0;
        rate += (idle - held) / (cc.failure.mean() + cc.repair.mean());
    }
    (rate.is_finite() && rate >= 0.0).then_some(rate)
}

/// Birnbaum importances of all instances in one pass.
fn importances(sf: &Structure, p: &[f64], q: &[f64]) -> Vec<f64> {
    let pd: Vec<f64> = p.iter().map(|x| 1.0 - x).collect();
    let qd: Vec<f64> = q.iter().map(|x| 1.0 - x).collect();
    sf.importances(&structure::Probs {
        up: p,
        down: &pd,
        active: q,
        inactive: &qd,
    })
}

/// Each instance's probability of being up and each common cause's
/// probability of being active, given a unit availability function of
/// (time to failure, time to repair).
fn unit_probabilities(
    model: &Model,
    availability: impl Fn(&Dist, &Dist) -> f64,
) -> (Vec<f64>, Vec<f64>) {
    let p = model
        .instances
        .iter()
        .map(|i| availability(&i.failure, &i.repair))
        .collect();
    let q = model
        .common_causes
        .iter()
        .map(|c| 1.0 - availability(&c.failure, &c.repair))
        .collect();
    (p, q)
}

/// The structure function at time `t` from all up (exponential units).
pub fn point_availability(model: &Model, sf: &Structure, t: f64) -> f64 {
    point_both(model, sf, t).0
}

/// (availability, unavailability) at `t` from all up (exponential units),
/// each computed directly: a unit is down with probability
/// λ/(λ+μ)·(1 − e^{−(λ+μ)t}), taken with `expm1`.
pub fn point_both(model: &Model, sf: &Structure, t: f64) -> (f64, f64) {
    let down = |up: &Dist, down: &Dist| {
        let (l, m) = (1.0 / up.mean(), 1.0 / down.mean());
        l / (l + m) * -(-(l + m) * t).exp_m1()
    };
    let up = |u: &Dist, d: &Dist| {
        let (l, m) = (1.0 / u.mean(), 1.0 / d.mean());
        m / (l + m) + l / (l + m) * (-(l + m) * t).exp()
    };
    let (p, q) = unit_probabilities(model, up);
    let (pd, qd) = unit_probabilities(model, down);
    sf.evaluate_both(&structure::Probs {
        up: &p,
        down: &pd,
        active: &q,
        inactive: &qd,
    })
}

/// Expected availability over [a, b] from all up (exponential units):
/// the point availability integrated by 10-point Gauss–Legendre on panels
/// no wider than half the shortest time scale still decaying, and the
/// steady state beyond the point where every transient term is below e^{−40}.
pub fn interval_availability(model: &Model, sf: &Structure, a: f64, b: f64) -> f64 {
    interval_both(model, sf, a, b).0
}

/// Expected (availability, unavailability) over [a, b] from all up
/// (exponential units), each integrated directly as in
/// [`interval_availability`].
pub fn interval_both(model: &Model, sf: &Structure, a: f64, b: f64) -> (f64, f64) {
    let mut rates: Vec<f64> = model
        .instances
        .iter()
        .map(|i| (&i.failure, &i.repair))
        .chain(model.common_causes.iter().map(|c| (&c.failure, &c.repair)))
        .map(|(f, r)| 1.0 / f.mean() + 1.0 / r.mean())
        .collect();
    rates.sort_by(|x, y| y.total_cmp(x));
    rates.dedup();
    // Both integrated on the same panels, one structure evaluation per node.
    let mut down_total = 0.0;
    let mut t = a;
    let mut up_total = 0.0;
    while t < b {
        let Some(&rate) = rates.iter().find(|&&r| r * t < 40.0) else {
            let (u, d) = point_both(model, sf, t);
            up_total += u * (b - t);
            down_total += d * (b - t);
            break;
        };
        let end = (t + 0.5 / rate).min(b);
        let (u, d) = gauss_legendre_pair(&|x| point_both(model, sf, x), t, end);
        up_total += u;
        down_total += d;
        t = end;
    }
    (up_total / (b - a), down_total / (b - a))
}

/// ∫ₐᵇ f for f = constant + Σ c_j e^{−r_j t} (products of such terms
/// included), with `rates` sorted in decreasing order.
pub fn integrate_decaying(f: impl Fn(f64) -> f64, rates: &[f64], a: f64, b: f64) -> f64 {
    let mut total = 0.0;
    let mut t = a;
    while t < b {
        let Some(&rate) = rates.iter().find(|&&r| r * t < 40.0) else {
            return total + f(t) * (b - t);
        };
        let end = (t + 0.5 / rate).min(b);
        total += gauss_legendre(&f, t, end);
        t = end;
    }
    total
}

/// 10-point Gauss–Legendre quadrature of a pair of functions on [a, b].
fn gauss_legendre_pair(f: &impl Fn(f64) -> (f64, f64), a: f64, b: f64) -> (f64, f64) {
    let (mid, half) = ((a + b) / 2.0, (b - a) / 2.0);
    let (mut s0, mut s1) = (0.0, 0.0);
    for (x, w) in GL_X.iter().zip(GL_W) {
        let (l, r) = (f(mid - half * x), f(mid + half * x));
        s0 += w * (l.0 + r.0);
        s1 += w * (l.1 + r.1);
    }
    (s0 * half, s1 * half)
}

/// Gauss–Legendre nodes (positive half) and weights, 10 points.
const GL_X: [f64; 5] = [
    0.148_874_338_981_631_2,
    0.433_395_394_129_247_2,
    0.679_409_568_299_024_4,
    0.865_063_366_688_984_5,
    0.973_906_528_517_171_7,
];
const GL_W: [f64; 5] = [
    0.295_524_224_714_752_9,
    0.269_266_719_309_996_4,
    0.219_086_362_515_982,
    0.149_451_349_150_580_6,
    0.066_671_344_308_688_1,
];

/// 10-point Gauss–Legendre quadrature on [a, b].
fn gauss_legendre(f: &impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const X: [f64; 5] = [
        0.148_874_338_981_631_2,
        0.433_395_394_129_247_2,
        0.679_409_568_299_024_4,
        0.865_063_366_688_984_5,
        0.973_906_528_517_171_7,
    ];
    const W: [f64; 5] = [
        0.295_524_224_714_752_9,
        0.269_266_719_309_996_4,
        0.219_086_362_515_982,
        0.149_451_349_150_580_6,
        0.066_671_344_308_688_1,
    ];
    let (mid, half) = ((a + b) / 2.0, (b - a) / 2.0);
    let sum: f64 = X
        .iter()
        .zip(W)
        .map(|(x, w)| w * (f(mid - half * x) + f(mid + half * x)))
        .sum();
    sum * half
}

/// The stated approximation for everything else.
fn approximation(model: &Model, why: String) -> Analysis {
    let mut ideal = model.clone();
    let mut penalty = 0.0;
    ideal.system = idealize(&model.system, model, &mut penalty);
    for i in &mut ideal.instances {
        i.crew = None;
    }
    ideal.crews.clear();
    let steady_state = Structure::new(&ideal).ok().map(|sf| {
        let (p, q) = unit_probabilities(&ideal, steady);
        (sf.evaluate(&p, &q) - penalty).clamp(0.0, 1.0)
    });
    Analysis {
        method: steady_state.map(|_| Method::Approximation),
        exact: false,
        steady_state,
        interval: None,
        mttf_hours: None,
        startup_bias: None,
        startup_bias_allowance: None,
                    error_bound: None,
                    states: None,
                    outage_rate: None,
                    steady_unavailability: None,
                    interval_unavailability: None,
        note: format!(
            "approximation: crews as dedicated repair, standby as ideal parallel groups less the detection, failover and manual-recovery time per active-unit failure ({why})"
        ),
    }
}

/// Replaces standby nodes by ideal parallel groups and adds to `penalty` the
/// down-time fraction their delays cost: (failures of the active unit per
/// hour) × (detection + failover + (1 − p)·manual recovery).
fn idealize(node: &Node, model: &Model, penalty: &mut f64) -> Node {
    match node {
        Node::Instance(_) => node.clone(),
        Node::Series(c) => Node::Series(c.iter().map(|n| idealize(n, model, penalty)).collect()),
        Node::Parallel(c) => {
            Node::Parallel(c.iter().map(|n| idealize(n, model, penalty)).collect())
        }
        Node::KOfN { k, of } => Node::KOfN {
            k: *k,
            of: of.iter().map(|n| idealize(n, model, penalty)).collect(),
        },
        Node::Balancer(b) => {
            let mut b = (**b).clone();
            b.via = idealize(&b.via, model, penalty);
            b.pool = b.pool.iter().map(|n| idealize(n, model, penalty)).collect();
            Node::Balancer(Box::new(b))
        }
        Node::Standby(s) => {
            let rate = failure_frequency(&s.units[0], model);
            let mean = |d: &Option<Dist>| d.as_ref().map_or(0.0, Dist::mean);
            let manual = match &s.manual_recovery {
                Some(d) => d.mean(),
                None => first_repair(&s.units[0], model),
            };
            *penalty +=
                rate * (mean(&s.detection) + mean(&s.failover) + (1.0 - s.switch_success) * manual);
            Node::Parallel(
                s.units
                    .iter()
                    .map(|n| idealize(n, model, penalty))
                    .collect(),
            )
        }
    }
}

/// Steady-state failures per hour of a unit of independent instances:
/// Σᵢ Aᵢ·λᵢ·I_B(i), with I_B(i) = P(unit up | i up) − P(unit up | i down)
/// (Birnbaum importance) and λᵢ = 1/mean-up. Units that are not a
/// structure function fall back to the sum of their instances' rates.
fn failure_frequency(unit: &Node, model: &Model) -> f64 {
    let mut sub = model.clone();
    sub.system = unit.clone();
    sub.common_causes.clear();
    for i in &mut sub.instances {
        i.crew = None;
    }
    let mut members = Vec::new();
    unit.for_each_instance(&mut |i| members.push(i));
    members.dedup();
    let rate = |i: usize| 1.0 / model.instances[i].failure.mean();
    let Ok(sf) = Structure::new(&sub) else {
        return members.iter().map(|&i| rate(i)).sum();
    };
    let p: Vec<f64> = model
        .instances
        .iter()
        .map(|i| steady(&i.failure, &i.repair))
        .collect();
    let imp = importances(&sf, &p, &[]);
    members.iter().map(|&i| p[i] * rate(i) * imp[i]).sum()
}

/// The mean repair time of the first instance of a unit (what ends a stuck
/// switchover without manual recovery, roughly).
fn first_repair(node: &Node, model: &Model) -> f64 {
    let mut first = None;
    node.for_each_instance(&mut |i| {
        first.get_or_insert(model.instances[i].repair.mean());
    });
    first.unwrap_or(0.0)
}

/// The outcome of comparing an unavailability estimate with the analytic
/// figures (SPEC §4): a verdict, or the reason there is none.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// `Some(true)` pass, `Some(false)` fail, `None` no verdict.
    pub pass: Option<bool>,
    /// (exact − simulated unavailability) / standard error: the same sign
    /// as (simulated − exact availability) / standard error.
    pub z: Option<f64>,
    /// Which analytic figure the estimate was compared with: `interval` or
    /// `steady_state`.
    pub compared_with: Option<&'static str>,
    /// The analytic unavailability compared with (also for approximations,
    /// which get a relative difference and no verdict).
    pub unavailability: Option<f64>,
    /// Why there is no verdict.
    pub no_verdict_reason: Option<String>,
    /// The start-up bias in unavailability added to a steady-state figure
    /// before the comparison (all units start new; see [`crate::bias`]).
    pub startup_correction: Option<f64>,
}

/// What a user can do when an interval is not trusted.
pub const PRECISION_HINT: &str =
    "run longer, or set a precision target (--precision 10%), which runs until enough outages are seen or uses the rare-event method";

/// The analytic unavailability an estimate is compared with, which figure it
/// is, and its absolute error bound (0 for exact figures, `None` for
/// approximations without a bound).
pub fn compared_unavailability(a: &Analysis) -> Option<(f64, &'static str, Option<f64>)> {
    let which = if a.interval.is_some() {
        "interval"
    } else {
        "steady_state"
    };
    if a.exact {
        let u = a.reference_unavailability()?;
        return Some((u, which, Some(a.error_bound.unwrap_or(0.0))));
    }
    let (direct, availability) = if a.interval.is_some() {
        (a.interval_unavailability, a.interval)
    } else {
        (a.steady_unavailability, a.steady_state)
    };
    let u = direct.or_else(|| availability.map(|v| (1.0 - v).clamp(0.0, 1.0)))?;
    Some((u, which, a.error_bound))
}

/// The verdict rule shared by plain, precision and rare-event runs: `pass`
/// when the analytic unavailability lies in the estimate's 99.9% interval
/// (widened by the analytic error bound), `fail` otherwise; no verdict, with
/// the reason, when the estimate is not trusted, a figure is not finite, the
/// analytic figure is an approximation or its error bound reaches a tenth of
/// the interval's half-width. Against a steady-state figure the simulated
/// start-up bias is added to the analytic value and its uncertainty to the
/// allowance; no verdict when that uncertainty reaches half the half-width.
pub fn verdict(e: &UnavailabilityEstimate, a: &Analysis) -> Verdict {
    let mut v = Verdict {
        pass: None,
        z: None,
        compared_with: None,
        unavailability: None,
        no_verdict_reason: None,
        startup_correction: None,
    };
    let Some((u, which, bound)) = compared_unavailability(a) else {
        v.no_verdict_reason = Some(match a.method {
            None => "no analytic method applies to this scenario".to_string(),
            Some(_) => "the analytic method gives no figure to compare with".to_string(),
        });
        return v;
    };
    v.unavailability = Some(u);
    let Some(bound) = bound else {
        v.no_verdict_reason = Some(
            "the analytic figure is an approximation without an error bound, so only the relative difference is stated"
                .to_string(),
        );
        return v;
    };
    let figures = [
        u, bound, e.mean, e.ci95[0], e.ci95[1], e.ci999[0], e.ci999[1],
    ];
    if figures.iter().any(|x| !x.is_finite()) {
        let show = |x: f64| {
            if x.is_finite() {
                format!("{x:.3e}")
            } else {
                "not finite".to_string()
            }
        };
        v.no_verdict_reason = Some(format!(
            "a figure is not finite (analytic unavailability {}, error bound {}, simulated {}, 99.9% interval [{}, {}])",
            show(u),
            show(bound),
            show(e.mean),
            show(e.ci999[0]),
            show(e.ci999[1]),
        ));
        return v;
    }
    if let Err(why) = &e.trusted {
        v.no_verdict_reason = Some(format!("{why} ({PRECISION_HINT})"));
        return v;
    }
    let half = (e.ci999[1] - e.ci999[0]) / 2.0;
    if bound >= 0.1 * half {
        v.no_verdict_reason = Some(format!(
            "the analytic figure's error bound {bound:.2e} is not below a tenth of the simulation's 99.9% half-width {half:.2e}"
        ));
        return v;
    }
    let (mut reference, mut allowance) = (u, bound);
    if let (Some(b), "steady_state") = (a.startup_bias, which) {
        let extra = a.startup_bias_allowance.unwrap_or(0.0);
        if !(b.is_finite() && extra.is_finite()) {
            v.no_verdict_reason = Some(
                "the start-up bias against the steady state could not be estimated (see the note; lengthen the warmup)"
                    .to_string(),
            );
            return v;
        }
        if extra >= 0.5 * half {
            v.no_verdict_reason = Some(format!(
                "the start-up bias against the steady state ({:.2e} in unavailability, simulated from the units' distributions) is uncertain by ±{extra:.2e} (a Monte-Carlo simulation of the units from new within a fixed budget), not below half the simulation's 99.9% half-width {half:.2e}: no verdict rather than a guess",
                -b
            ));
            return v;
        }
        // The simulation's expectation is the steady state plus the bias.
        reference = (u - b).clamp(0.0, 1.0);
        allowance += extra;
        v.startup_correction = Some(-b);
    }
    let se = crate::estimate::std_error(e);
    v.pass = Some(e.ci999[0] - allowance <= reference && reference <= e.ci999[1] + allowance);
    v.z = (se > 0.0).then(|| (reference - e.mean) / se);
    v.compared_with = Some(which);
    v
}

/// `pass` when `exact` lies in the Student-t 99.9% confidence interval of a
/// mean other than the unavailability (data-loss figures, whose
/// per-replication values are not the rare-event case the unavailability
/// verdict handles). Returns (verdict, z); no verdict when the simulation
/// saw no variation.
pub fn t_verdict(exact: f64, mean: f64, std_error: f64, n: u64) -> (Option<bool>, Option<f64>) {
    if !std_error.is_finite() || std_error <= 0.0 || !exact.is_finite() || !mean.is_finite() {
        return (None, None);
    }
    let z = (mean - exact) / std_error;
    let half = crate::stats::t_quantile(0.9995, n) * std_error;
    (Some((mean - exact).abs() <= half), Some(z))
}
