//! From a run's statistics to an unavailability estimate with intervals
//! whose coverage holds (SPEC §3, §4, §7), and the verdict rule that reads
//! them.
//!
//! Every estimator (a plain run, a precision run's rounds so far, a
//! rare-event run) ends in one [`UnavailabilityEstimate`]; the stopping rule
//! of precision runs and the analytic verdict both read only that.
//!
//! # The interval of a plain run
//!
//! At rare down time almost every replication's down fraction is 0 and the
//! few others are large: the Student-t interval on them covers far less
//! than it claims (the issue measured 13% false FAILs at a 99.9% level).
//! The down fraction of a replication is a sum of outage durations, a
//! compound Poisson count, so the mean of n replications is a weighted sum
//! of Poisson-like counts; the interval is Fay & Feuer's gamma interval for
//! such sums (Statistics in Medicine 16, 1997, 791–801):
//!
//! - lower end: the α/2 quantile of a gamma with the estimate's mean y and
//!   variance v (shape y²/v, scale v/y);
//! - upper end: the 1 − α/2 quantile of a gamma with mean y + w and
//!   variance v + w², where w is the largest single replication's share of
//!   the mean: the interval allows for one more such event than was seen.
//!
//! With many outages it is the normal interval; with one outage of known
//! length it is the exact Poisson interval. It still assumes the outage
//! lengths seen are typical, so the interval is only *trusted* (used for a
//! verdict) from [`MIN_OUTAGES`] outages in [`MIN_DOWN_REPLICATIONS`]
//! replications up; below that the report says so and suggests
//! `--precision`. When no replication saw down time, only a one-sided 95%
//! upper bound is given ([`UnavailabilityEstimate::upper_bound95`]).

use statrs::distribution::{ContinuousCDF, Gamma};

use crate::model::{Model, Node};
use crate::sim::Tally;
use crate::stats::{normal_quantile, Moments, UnavailabilityEstimate};

/// Fewest system outages (summed over replications) before a plain run's
/// interval is used for a verdict.
pub const MIN_OUTAGES: u64 = 10;

/// Fewest replications with any down time before a plain run's interval is
/// used for a verdict.
pub const MIN_DOWN_REPLICATIONS: u64 = 10;

/// −ln(0.05): the 95% upper bound on a Poisson mean when nothing was seen
/// (the "rule of three").
pub const RULE_OF_THREE: f64 = 2.995_732_273_553_991;

/// What the plain interval needs from the per-replication down fractions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DownSummary {
    /// Count, mean and spread of the down fractions.
    pub moments: Moments,
    /// Replications with any down time.
    pub down_replications: u64,
    /// The largest down fraction.
    pub max: f64,
    /// System outages, summed over replications.
    pub outages: u64,
}

impl DownSummary {
    /// The summary of a tally.
    pub fn of(tally: &Tally) -> DownSummary {
        let mut s = DownSummary {
            moments: tally.down,
            outages: tally.outages,
            ..DownSummary::default()
        };
        for &x in &tally.down_values {
            s.down_replications += u64::from(x > 0.0);
            s.max = s.max.max(x);
        }
        s
    }
}

/// The unavailability estimate of a plain run from its tally.
pub fn plain_unavailability(tally: &Tally, model: &Model) -> UnavailabilityEstimate {
    from_summary(&DownSummary::of(tally), model)
}

/// The estimate from a summary of the down fractions (also used for the
/// running estimate of the convergence plot, so that its band is the
/// report's interval).
pub fn from_summary(s: &DownSummary, model: &Model) -> UnavailabilityEstimate {
    let m = &s.moments;
    let n = m.n;
    if n == 0 || s.down_replications == 0 || m.mean <= 0.0 {
        let bound = upper_bound_without_down_time(n, model);
        return UnavailabilityEstimate {
            mean: 0.0,
            ci95: [0.0, bound],
            ci999: [0.0, bound],
            relative_half_width: f64::INFINITY,
            upper_bound95: Some(bound),
            trusted: Err(format!(
                "no replication saw system down time, so only an upper bound on the unavailability is known ({n} replications)"
            )),
        };
    }
    let y = m.mean;
    let v = m.variance() / n as f64;
    let w = s.max / n as f64;
    let ci95 = fay_feuer(y, v, w, 0.05);
    let ci999 = fay_feuer(y, v, w, 0.001);
    let relative_half_width = (ci95[1] - ci95[0]) / 2.0 / y;
    let finite = [y, v, w, ci95[0], ci95[1], ci999[0], ci999[1]]
        .iter()
        .all(|x| x.is_finite());
    let trusted = if !finite {
        Err("the interval of the unavailability is not finite".to_string())
    } else if v <= 0.0 {
        Err("every replication saw the same down time, so the interval has no width".to_string())
    } else if s.outages < MIN_OUTAGES || s.down_replications < MIN_DOWN_REPLICATIONS {
        Err(format!(
            "only {} outage{} in {} of {n} replications: too few for an interval whose coverage holds (at least {MIN_OUTAGES} in {MIN_DOWN_REPLICATIONS} replications are needed)",
            s.outages,
            if s.outages == 1 { "" } else { "s" },
            s.down_replications,
        ))
    } else {
        Ok(())
    };
    UnavailabilityEstimate {
        mean: y,
        ci95,
        ci999,
        relative_half_width,
        upper_bound95: None,
        trusted,
    }
}

/// Fay–Feuer gamma interval at level 1 − α for a weighted sum of Poisson
/// counts with estimate `y`, variance `v` and largest weight `w`, within
/// [0, 1].
pub fn fay_feuer(y: f64, v: f64, w: f64, alpha: f64) -> [f64; 2] {
    let lo = if v > 0.0 {
        gamma_quantile(y * y / v, alpha / 2.0) * (v / y)
    } else {
        y
    };
    let (y1, v1) = (y + w, v + w * w);
    let hi = if v1 > 0.0 {
        gamma_quantile(y1 * y1 / v1, 1.0 - alpha / 2.0) * (v1 / y1)
    } else {
        y
    };
    [lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0)]
}

/// The `p` quantile of a gamma distribution with unit scale: statrs'
/// inversion for moderate shapes, the Wilson–Hilferty cube-root normal
/// approximation (relative error below 1e-6 there) above 10⁵.
pub fn gamma_quantile(shape: f64, p: f64) -> f64 {
    if !(shape.is_finite() && shape > 0.0 && p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    if shape > 1e5 {
        let z = normal_quantile(p);
        let c = 1.0 / (9.0 * shape);
        return shape * (1.0 - c + z * c.sqrt()).powi(3);
    }
    match Gamma::new(shape, 1.0) {
        Ok(g) => g.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// One-sided 95% upper bound on the unavailability when none of `n`
/// replications saw down time: the rule of three on the outages that could
/// have gone unseen in n·window hours, each as long as the longest mean
/// outage the model can produce (the longest mean repair, common-cause
/// outage, or standby detection + failover + manual recovery, summed), and
/// never above what any down time at all in 3/n of the replications would
/// give (3/n).
pub fn upper_bound_without_down_time(n: u64, model: &Model) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let window = model.simulation.window();
    let longest = longest_mean_outage(model);
    let per_replication = if window > 0.0 && longest.is_finite() {
        (longest / window).min(1.0)
    } else {
        1.0
    };
    let bound = (RULE_OF_THREE / n as f64 * per_replication).min(1.0);
    // Never 0 when outages of positive length are possible (underflow).
    if bound == 0.0 && longest > 0.0 {
        f64::from_bits(1)
    } else {
        bound
    }
}

/// The longest mean outage duration the model's parts give: the longest
/// mean repair (instances and common causes) plus the longest standby
/// detection + failover + manual recovery.
pub fn longest_mean_outage(model: &Model) -> f64 {
    let repair = model
        .instances
        .iter()
        .map(|i| i.repair.mean())
        .chain(model.common_causes.iter().map(|c| c.repair.mean()))
        .fold(0.0, f64::max);
    let mut delays: f64 = 0.0;
    standby_delays(&model.system, &mut delays);
    repair + delays
}

fn standby_delays(node: &Node, longest: &mut f64) {
    let mean = |d: &Option<crate::model::Dist>| d.as_ref().map_or(0.0, |d| d.mean());
    match node {
        Node::Instance(_) => {}
        Node::Series(c) | Node::Parallel(c) | Node::KOfN { of: c, .. } => {
            c.iter().for_each(|n| standby_delays(n, longest));
        }
        Node::Balancer(b) => {
            standby_delays(&b.via, longest);
            b.pool.iter().for_each(|n| standby_delays(n, longest));
            if let Some(h) = &b.health_check {
                *longest = longest
                    .max(h.interval * f64::from(h.unhealthy_threshold.max(h.healthy_threshold)));
            }
        }
        Node::Standby(s) => {
            let d = mean(&s.detection) + mean(&s.failover) + mean(&s.manual_recovery);
            *longest = longest.max(d);
            s.units.iter().for_each(|n| standby_delays(n, longest));
        }
    }
}

/// The standard error implied by an estimate's 95% interval (its width
/// over 2 × 1.96), for z-scores.
pub fn std_error(e: &UnavailabilityEstimate) -> f64 {
    (e.ci95[1] - e.ci95[0]) / (2.0 * normal_quantile(0.975))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_of_known_length_gives_the_poisson_interval() {
        // One replication of n saw a down fraction x: y = x/n, v ≈ x²/n²,
        // w = x/n; the upper end is the exact Poisson bound for one count
        // at 97.5% (gamma with shape 2: χ²(4)/2 = 5.5716), times x/n.
        let (n, x) = (1000.0, 0.01);
        let y = x / n;
        let v = x * x / (n * n);
        let [_, hi] = fay_feuer(y, v, y, 0.05);
        assert!((hi / y - 5.571_643_39).abs() < 1e-6, "{}", hi / y);
    }

    #[test]
    fn many_events_give_the_normal_interval() {
        let (y, v) = (1e-3, 1e-10);
        let [lo, hi] = fay_feuer(y, v, 1e-9, 0.05);
        let half = 1.959_964 * v.sqrt();
        assert!((lo - (y - half)).abs() < 0.01 * half);
        assert!((hi - (y + half)).abs() < 0.01 * half);
    }

    #[test]
    fn gamma_quantiles_match_tables() {
        // χ²(2)/2 at 0.975 = −ln(0.025); χ²(20)/2 at 0.95 = 31.410/2.
        assert!((gamma_quantile(1.0, 0.975) - 3.688_879_454).abs() < 1e-6);
        assert!((gamma_quantile(10.0, 0.95) - 15.705_216).abs() < 1e-4);
        // Wilson–Hilferty meets the inversion at the switch.
        let a = 1e5;
        let wh = gamma_quantile(a * 1.000_001, 0.9995) / 1.000_001;
        let exact = Gamma::new(a, 1.0).unwrap().inverse_cdf(0.9995);
        assert!((wh - exact).abs() < 1e-6 * exact, "{wh} {exact}");
    }
}
