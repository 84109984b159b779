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
//! its mean down time per bin of the window recorded. The structure function
//! on the bins' availabilities gives the bias; its Monte-Carlo standard
//! error is reported with it. Cost: at most about [`SAMPLE_BUDGET`] samples
//! per distinct unit (identical units share one simulation).
//!
//! The bins must be fine: the structure function is not linear, and
//! averaging p(t) over a bin before applying it is wrong when the curves are
//! spiky (deterministic lives keep two new units failing together for many
//! cycles: a 1-of-2 pair of 100 h lives was FAILed at z = −10). The bins are
//! a quarter of the shortest mean up or down time, within limits on work and
//! memory; the difference from the average over pairs of merged bins is
//! added to the bound, so a resolution the limits cut short widens the
//! allowance instead of hiding the error.

use std::collections::HashMap;

use crate::analytic::structure::Probs;
use crate::analytic::Structure;
use crate::model::{Dist, Model};
use crate::sim::replication_rng;

/// Samples (up and down times) drawn per distinct unit, at most.
pub const SAMPLE_BUDGET: f64 = 2e6;

/// Fewest bins of the window.
const MIN_BINS: usize = 100;

/// Most bins of the window.
const MAX_BINS: usize = 100_000;

/// Most (bins × instances): the structure function is evaluated once per
/// bin.
const MAX_BIN_EVALUATIONS: f64 = 3e7;

/// Most (bins × distinct units): the curves kept in memory.
const MAX_BIN_CELLS: f64 = 2e7;

/// Bins per shortest mean up or down time: the units' curves are resolved
/// finely enough that a product of curves (units in parallel) is averaged
/// correctly even when the curves are spiky (deterministic lives keep
/// identical units failing together for many cycles; issue 11, hostile N2).
const BINS_PER_FEATURE: f64 = 4.0;

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
    // One simulation per distinct pair of distributions (lumping identical
    // units); `first[c]` is the first unit of distinct pair c, whose index
    // names its random stream.
    let mut distinct: HashMap<String, usize> = HashMap::new();
    let mut first: Vec<usize> = Vec::new();
    let mut which = Vec::with_capacity(pairs.len());
    for (k, (f, r)) in pairs.iter().enumerate() {
        let key = format!("{f:?}|{r:?}");
        let idx = *distinct.entry(key).or_insert_with(|| {
            first.push(k);
            first.len() - 1
        });
        which.push(idx);
    }
    let bins = bin_count(&pairs, &first, warmup, horizon);
    let curves = first
        .iter()
        .map(|&k| unit_curve(pairs[k].0, pairs[k].1, warmup, horizon, k as u64, bins))
        .collect::<Result<Vec<_>, _>>()?;
    let n_inst = model.instances.len();
    let steady: Vec<f64> = which.iter().map(|&c| curves[c].steady_up).collect();
    let split = |up: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let p = up[..n_inst].to_vec();
        let q = up[n_inst..].iter().map(|a| 1.0 - a).collect();
        (p, q)
    };
    let (p0, q0) = split(&steady);
    let a_inf = sf.evaluate(&p0, &q0);
    // The window average at full resolution and with pairs of bins merged:
    // their difference bounds what the resolution leaves out.
    let window_average = |merge: usize| -> f64 {
        let mut total = 0.0;
        let groups = bins / merge;
        for g in 0..groups {
            let up: Vec<f64> = which
                .iter()
                .map(|&c| {
                    let d = &curves[c].down[g * merge..(g + 1) * merge];
                    1.0 - d.iter().sum::<f64>() / merge as f64
                })
                .collect();
            let (p, q) = split(&up);
            total += sf.evaluate(&p, &q);
        }
        total / groups as f64
    };
    let fine = window_average(1);
    let coarse = window_average(2);
    let bias = fine - a_inf;
    // Standard error: first order, identical units fully correlated
    // (they share one simulation), so the terms add. Birnbaum importances
    // of the instances in one pass; common causes one by one.
    let importance = unit_importances(sf, &steady, n_inst);
    let mut std_error = 0.0;
    let mut bound = (fine - coarse).abs();
    for (k, &c) in which.iter().enumerate() {
        std_error += importance[k] * curves[c].std_error;
        bound += importance[k] * curves[c].bound / (horizon - warmup);
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

/// Bins of the window: [`BINS_PER_FEATURE`] per shortest mean up or down
/// time of the simulated units, within the limits on work and memory
/// (a resolution those limits cut short is covered by the bound from
/// merged bins).
fn bin_count(pairs: &[(&Dist, &Dist)], first: &[usize], warmup: f64, horizon: f64) -> usize {
    let feature = first
        .iter()
        .flat_map(|&k| [pairs[k].0.mean(), pairs[k].1.mean()])
        .filter(|m| m.is_finite() && *m > 0.0)
        .fold(f64::INFINITY, f64::min);
    let wanted = (horizon - warmup) / feature * BINS_PER_FEATURE;
    let cap = (MAX_BIN_EVALUATIONS / pairs.len().max(1) as f64)
        .min(MAX_BIN_CELLS / first.len().max(1) as f64)
        .min(MAX_BINS as f64);
    let bins = if wanted.is_finite() { wanted.min(cap) } else { cap };
    // Even, so that pairs of bins can be merged.
    ((bins as usize).max(MIN_BINS) + 1) & !1
}

/// Birnbaum importance of every instance (one pass through the structure)
/// and every common cause (by conditioning) at the units' steady state.
fn unit_importances(sf: &Structure, steady: &[f64], n_inst: usize) -> Vec<f64> {
    let up = &steady[..n_inst];
    let down: Vec<f64> = up.iter().map(|a| 1.0 - a).collect();
    let inactive = &steady[n_inst..];
    let active: Vec<f64> = inactive.iter().map(|a| 1.0 - a).collect();
    let probs = Probs {
        up,
        down: &down,
        active: &active,
        inactive,
    };
    let mut out: Vec<f64> = sf.importances(&probs).iter().map(|x| x.abs()).collect();
    for c in 0..active.len() {
        let (mut on, mut off) = (active.clone(), inactive.to_vec());
        (on[c], off[c]) = (0.0, 1.0);
        let hi = sf.evaluate(up, &on);
        (on[c], off[c]) = (1.0, 0.0);
        let lo = sf.evaluate(up, &on);
        out.push((hi - lo).abs());
    }
    out
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
    stream: u64,
    bins: usize,
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
    let window = horizon - warmup;
    let mut acc = Accumulator::new(bins, warmup, window);
    let (mut sum, mut sum2) = (0.0, 0.0);
    let mut rng = replication_rng(SEED, stream);
    for _ in 0..m {
        let mut t = 0.0;
        let mut steps = 0u64;
        let mut down = 0.0;
        while t < horizon {
            t += failure.sample(&mut rng);
            if t >= horizon {
                break;
            }
            let end = (t + repair.sample(&mut rng)).min(horizon);
            let start = t.max(warmup);
            if end > start {
                down += end - start;
                acc.add(start, end);
            }
            t = end;
            steps += 1;
            if steps as f64 > 1e3 * cycles.max(1.0) {
                return Err("a unit's simulated cycles do not advance time".into());
            }
        }
        let frac = down / window;
        sum += frac;
        sum2 += frac * frac;
    }
    let mf = m as f64;
    let down = acc
        .fractions()
        .into_iter()
        .map(|d| (d / mf).clamp(0.0, 1.0))
        .collect();
    let mean = sum / mf;
    let var = ((sum2 / mf - mean * mean) * mf / (mf - 1.0)).max(0.0);
    Ok(UnitCurve {
        down,
        std_error: (var / mf).sqrt(),
        steady_up,
        bound: 0.0,
    })
}

/// Down hours per bin of the window, summed over trajectories, in O(1) per
/// down interval: partial bins directly, the whole bins between them
/// through a difference array.
struct Accumulator {
    partial: Vec<f64>,
    whole: Vec<f64>,
    warmup: f64,
    width: f64,
}

impl Accumulator {
    fn new(bins: usize, warmup: f64, window: f64) -> Accumulator {
        Accumulator {
            partial: vec![0.0; bins],
            whole: vec![0.0; bins + 1],
            warmup,
            width: window / bins as f64,
        }
    }

    /// Adds the down interval [a, b) inside the window.
    fn add(&mut self, a: f64, b: f64) {
        let n = self.partial.len();
        let bin = |x: f64| (((x - self.warmup) / self.width) as usize).min(n - 1);
        let (first, last) = (bin(a), bin(b));
        let edge = |k: usize| self.warmup + k as f64 * self.width;
        if first == last {
            self.partial[first] += b - a;
            return;
        }
        self.partial[first] += (edge(first + 1) - a).max(0.0);
        self.partial[last] += (b - edge(last)).max(0.0);
        if last > first + 1 {
            self.whole[first + 1] += 1.0;
            self.whole[last] -= 1.0;
        }
    }

    /// Down fraction per bin, summed over trajectories.
    fn fractions(&self) -> Vec<f64> {
        let mut running = 0.0;
        self.partial
            .iter()
            .zip(&self.whole)
            .map(|(p, w)| {
                running += w;
                (p + running * self.width) / self.width
            })
            .collect()
    }
}
