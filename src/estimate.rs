//! From a run's statistics to an unavailability estimate with intervals
//! whose coverage holds (SPEC §3, §4, §7), and the verdict rule that reads
//! them.
//!
//! Every estimator (a plain run, a precision run's rounds so far, a
//! rare-event run) ends in one [`UnavailabilityEstimate`]; the stopping rule
//! of precision runs and the analytic verdict both read only that.

use crate::model::Model;
use crate::sim::Tally;
use crate::stats::{Moments, UnavailabilityEstimate};

/// The unavailability estimate of a plain run from its tally.
///
/// Placeholder: a Student-t interval on the per-replication down fractions
/// (to be replaced by an interval whose coverage holds at rare down time).
pub fn plain_unavailability(tally: &Tally, _model: &Model) -> UnavailabilityEstimate {
    from_moments(&tally.down)
}

fn from_moments(m: &Moments) -> UnavailabilityEstimate {
    let clamp = |[lo, hi]: [f64; 2]| [lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0)];
    let ci95 = clamp(m.ci(0.95));
    let ci999 = clamp(m.ci(0.999));
    let relative_half_width = if m.mean > 0.0 {
        (ci95[1] - ci95[0]) / 2.0 / m.mean
    } else {
        f64::INFINITY
    };
    UnavailabilityEstimate {
        mean: m.mean,
        ci95,
        ci999,
        relative_half_width,
        upper_bound95: None,
        trusted: Ok(()),
    }
}
