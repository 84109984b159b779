//! Start-up bias of the window average against the steady state, for
//! independent units with any distributions (issue 12 item 2).
//!
//! Every replication starts with all units new and up. The simulated
//! figure is the expected availability over [warmup, horizon], the analytic
//! one the steady state; the difference is the start-up bias. With
//! independent units the system is up at t with probability h(p(t)), h the
//! structure function and p(t) the units' point availabilities, so the bias
//! is (1/W)∫ h(p(t)) dt − h(p∞) over the window. A rule such as "ten mean
//! cycles of warmup remove it" fails for heavy tails (a Weibull of shape 0.3
//! has a coefficient of variation near 5, and a new unit fails far more often
//! than one of stationary age for a long time), so p(t) is *simulated*: each
//! distinct unit (time to failure, time to repair) is run alone from new as
//! an alternating renewal process, many times, with fixed random streams, and
//! its mean down time per bin of the window recorded. Bins are half the
//! shortest mean repair wide (100 to 50,000 of them, fewer for very large
//! models): identical units with lives of little variance start in phase and
//! at first fail together, and the bin average of a product (both down) is
//! not the product of the bin averages unless a bin is shorter than a
//! repair. The structure function
//! on the bins' availabilities gives the bias; its Monte-Carlo standard
//! error is reported with it. Cost: at most about [`SAMPLE_BUDGET`] samples
//! per distinct unit.

use std::collections::HashMap;

use crate::analytic::Structure;
use crate::model::{Dist, Model};
use crate::sim::replication_rng;

/// Samples (up and down times) drawn per distinct unit, at most.
pub const SAMPLE_BUDGET: f64 = 2e6;

/// Fewest bins of the window.
const MIN_BINS: usize = 100;

/// Most bins of the window.
const MAX_BINS: usize = 50_000;

/// Budget of structure-function evaluations (bins × units) for the curve.
const EVAL_BUDGET: f64 = 2e7;

/// Trajectories per unit, at most (the budget decides below that).
const MAX_TRAJECTORIES: f64 = 20_000.0;

/// Fewest trajectories for a usable estimate.
const MIN_TRAJECTORIES: f64 = 400.0;

/// Seed of the fixed random streams (results do not depend on the run's
/// seed, so the verdict of a scenario does not either).
const SEED: u64 = 0x5eed_b1a5;

/// The start-up bias of the window-average availability against the steady
/// state and its Monte-Carlo standard error, or why it cannot be estimated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StartupBias {
    /// (expected window availability) − (steady-state availability).
    pub bias: f64,
    /// Standard error of `bias` from the simulation of the units.
    pub std_error: f64,
    /// Absolute bound on the bias of units with too many cycles per
    /// replication to simulate (taken as 0 in `bias`): their Birnbaum
    /// importance × |∫₀^∞ (A(t) − A∞) dt| / window, from renewal-reward
    /// theory (cᵢ = E\[U\]·E\[C²\]/(2E\[C\]²) − E\[U²\]/(2E\[C\])).
    pub bound: f64,
}

impl StartupBias {
    /// What the comparison must allow for beyond the bias: 3.29 standard
    /// errors (99.9%, two-sided) plus the bound.
    pub fn allowance(&self) -> f64 {
        3.290_526_731 * self.std_error + self.bound
    }
}

/// The start-up bias for `model` with structure `sf`: `Err` when it cannot
/// be estimated (a figure not finite, or a unit whose cycles are too many to
/// simulate within the budget and whose moments are not finite).
pub fn startup_bias(model: &Model, sf: &Structure) -> Result<StartupBias, String> {
    let sim = &model.simulation;
    let (warmup, horizon) = (sim.warmup, sim.horizon);
    if !(horizon.is_finite() && warmup.is_finite() && horizon > warmup) {
        return Err("the window is empty or not finite".into());
    }
    let pairs: Vec<(&Dist, &Dist)> = model
        .instances
        .iter()
        .map(|i| (&i.failure, &i.repair))
        .chain(model.common_causes.iter().map(|c| (&c.failure, &c.repair)))
        .collect();
    // Bins fine enough to resolve a repair: identical units with lives of
    // little variance fail together at first, and the average over a bin
    // of a product (both down) is not the product of the averages.
    let shortest_repair = pairs
        .iter()
        .map(|(_, r)| r.mean())
        .filter(|m| *m > 0.0 && m.is_finite())
        .fold(f64::INFINITY, f64::min);
    let affordable =
        (EVAL_BUDGET / (pairs.len() as f64 + 1.0)).clamp(MIN_BINS as f64, MAX_BINS as f64);
    let wanted = ((horizon - warmup) / (shortest_repair / 2.0)).ceil();
    let bins = if wanted.is_finite() {
        wanted.clamp(MIN_BINS as f64, affordable) as usize
    } else {
        MIN_BINS
    };
    // One simulation per distinct pair of distributions.
    let mut distinct: HashMap<String, usize> = HashMap::new();
    let mut curves: Vec<UnitCurve> = Vec::new();
    let mut which = Vec::with_capacity(pairs.len());
    for (k, (f, r)) in pairs.iter().enumerate() {
        let key = format!("{f:?}|{r:?}");
        let idx = match distinct.get(&key) {
            Some(&i) => i,
            None => {
                let c = unit_curve(f, r, warmup, horizon, bins, k as u64)?;
                curves.push(c);
                distinct.insert(key, curves.len() - 1);
                curves.len() - 1
            }
        };
        which.push(idx);
    }
    let n_inst = model.instances.len();
    let steady: Vec<f64> = which.iter().map(|&c| curves[c].steady_up).collect();
    let split = |up: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let p = up[..n_inst].to_vec();
        let q = up[n_inst..].iter().map(|a| 1.0 - a).collect();
        (p, q)
    };
    let (p0, q0) = split(&steady);
    let a_inf = sf.evaluate(&p0, &q0);
    let mut window = 0.0;
    for b in 0..bins {
        let up: Vec<f64> = which.iter().map(|&c| 1.0 - curves[c].down[b]).collect();
        let (p, q) = split(&up);
        window += sf.evaluate(&p, &q);
    }
    let bias = window / bins as f64 - a_inf;
    // Standard error: first order, identical units fully correlated
    // (they share one simulation), so the terms add. Birnbaum importances of
    // the instances in one pass; the common causes (few) by conditioning.
    let (pd0, qd0): (Vec<f64>, Vec<f64>) = (
        p0.iter().map(|x| 1.0 - x).collect(),
        q0.iter().map(|x| 1.0 - x).collect(),
    );
    let mut importance = sf.importances(&crate::analytic::structure::Probs {
        up: &p0,
        down: &pd0,
        active: &q0,
        inactive: &qd0,
    });
    for k in n_inst..which.len() {
        let (mut hi, mut lo) = (steady.clone(), steady.clone());
        hi[k] = 1.0;
        lo[k] = 0.0;
        let (ph, qh) = split(&hi);
        let (pl, ql) = split(&lo);
        importance.push((sf.evaluate(&ph, &qh) - sf.evaluate(&pl, &ql)).abs());
    }
    let mut std_error = 0.0;
    let mut bound = 0.0;
    for (&c, imp) in which.iter().zip(&importance) {
        let imp = imp.abs();
        std_error += imp * curves[c].std_error;
        bound += imp * curves[c].bound / (horizon - warmup);
    }
    if !(bias.is_finite() && std_error.is_finite() && bound.is_finite()) {
        return Err("the start-up bias is not finite".into());
    }
    Ok(StartupBias {
        bias,
        std_error,
        bound,
    })
}

/// One unit's simulated mean down fraction per bin of the window.
struct UnitCurve {
    /// Mean down fraction per bin.
    down: Vec<f64>,
    /// Standard error of the window's mean down fraction.
    std_error: f64,
    /// mean-up / (mean-up + mean-down).
    steady_up: f64,
    /// For a unit not simulated: |∫₀^∞ (A(t) − A∞) dt| in hours.
    bound: f64,
}

fn unit_curve(
    failure: &Dist,
    repair: &Dist,
    warmup: f64,
    horizon: f64,
    bins: usize,
    stream: u64,
) -> Result<UnitCurve, String> {
    let (eu, ed) = (failure.mean(), repair.mean());
    let steady_up = if ed == 0.0 { 1.0 } else { eu / (eu + ed) };
    if !(steady_up.is_finite() && (0.0..=1.0).contains(&steady_up)) {
        return Err("a unit's steady-state availability is not finite".into());
    }
    let cycle = eu + ed;
    let cycles = if cycle > 0.0 {
        horizon / cycle + 2.0
    } else {
        f64::INFINITY
    };
    let trajectories = (SAMPLE_BUDGET / (2.0 * cycles)).min(MAX_TRAJECTORIES);
    if trajectories.is_nan() || trajectories < MIN_TRAJECTORIES {
        // Too many cycles to simulate: bound the bias by the renewal-reward
        // integral of the whole start-up.
        let ec2 = failure.second_moment() + 2.0 * eu * ed + repair.second_moment();
        let c = eu * ec2 / (2.0 * cycle * cycle) - failure.second_moment() / (2.0 * cycle);
        if !c.is_finite() {
            return Err(format!(
                "a unit goes through about {} cycles per replication, too many to simulate its start-up, and its moments are not finite",
                crate::model::dist::significant(cycles, 3)
            ));
        }
        return Ok(UnitCurve {
            down: vec![1.0 - steady_up; bins],
            std_error: 0.0,
            steady_up,
            bound: c.abs(),
        });
    }
    let m = trajectories as u64;
    let width = (horizon - warmup) / bins as f64;
    // Down time per bin summed over the trajectories.
    let mut down = vec![0.0; bins];
    let (mut sum, mut sum2) = (0.0, 0.0);
    let mut rng = replication_rng(SEED, stream);
    for _ in 0..m {
        let mut t = 0.0;
        let mut steps = 0u64;
        let mut in_window = 0.0;
        while t < horizon {
            t += failure.sample(&mut rng);
            if t >= horizon {
                break;
            }
            let end = (t + repair.sample(&mut rng)).min(horizon);
            in_window += add_down(&mut down, t.max(warmup), end, warmup, width);
            t = end;
            steps += 1;
            if steps as f64 > 1e3 * cycles.max(1.0) {
                return Err("a unit's simulated cycles do not advance time".into());
            }
        }
        let frac = in_window / (horizon - warmup);
        sum += frac;
        sum2 += frac * frac;
    }
    let mf = m as f64;
    down.iter_mut()
        .for_each(|d| *d = (*d / (mf * width)).clamp(0.0, 1.0));
    let mean = sum / mf;
    let var = ((sum2 / mf - mean * mean) * mf / (mf - 1.0)).max(0.0);
    Ok(UnitCurve {
        down,
        std_error: (var / mf).sqrt(),
        steady_up,
        bound: 0.0,
    })
}

/// Adds the down interval [a, b) (already clipped to end by the horizon)
/// to the bins of the window starting at `warmup`; returns the time added.
fn add_down(bins: &mut [f64], a: f64, b: f64, warmup: f64, width: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let n = bins.len();
    let first = (((a - warmup) / width) as usize).min(n - 1);
    let last = (((b - warmup) / width) as usize).min(n - 1);
    let mut added = 0.0;
    for (k, bin) in bins.iter_mut().enumerate().take(last + 1).skip(first) {
        let lo = warmup + k as f64 * width;
        let hi = lo + width;
        let d = (b.min(hi) - a.max(lo)).max(0.0);
        *bin += d;
        added += d;
    }
    added
}
