//! The rare-event method (SPEC §7): estimates the long-run unavailability,
//! outage frequency and mean outage duration of highly available systems
//! with bounded relative error.
//!
//! [`RareEvent`] runs in rounds like every precision estimator
//! ([`crate::precision::RoundRunner`]).

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::precision::RoundRunner;
use crate::stats::UnavailabilityEstimate;

/// The rare-event estimator of one scenario.
#[derive(Debug)]
pub struct RareEvent {
    _private: (),
}

/// Mergeable statistics of rare-event rounds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RareTally {
    /// Work units (cycles or trials) run.
    pub units: u64,
}

/// Diagnostics of a rare-event run (SPEC §7).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Effective sample size of the weighted estimate.
    pub effective_sample_size: f64,
    /// The largest single weight's share of the estimate.
    pub max_weight_share: f64,
    /// Fraction of cycles or trials that reached system failure.
    pub hit_fraction: f64,
    /// Warnings when the figures above indicate an unreliable run.
    pub warnings: Vec<String>,
}

/// Long-run outage figures a rare-event run estimates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutageFigures {
    /// System failures per year.
    pub per_year: Option<f64>,
    /// Mean outage duration in hours.
    pub mean_duration_hours: Option<f64>,
}

impl RareEvent {
    /// The estimator for `model`, or the reason it cannot take the scenario
    /// (said before anything runs).
    ///
    /// # Errors
    /// The reason, as a sentence for the user.
    pub fn new(model: &Model) -> Result<RareEvent, String> {
        if let Some(why) = crate::model::upkeep::rare_event_refusal(model) {
            return Err(why);
        }
        Err("the rare-event method is not implemented yet".to_string())
    }

    /// The method's name in reports: `importance-sampling` or `splitting`.
    pub fn method_name(&self) -> &'static str {
        "importance-sampling"
    }

    /// Diagnostics of the rounds in `tally`.
    pub fn diagnostics(&self, _tally: &RareTally) -> Diagnostics {
        Diagnostics::default()
    }

    /// Outage frequency and mean duration from the rounds in `tally`.
    pub fn outages(&self, _tally: &RareTally) -> OutageFigures {
        OutageFigures::default()
    }
}

impl RoundRunner for RareEvent {
    type Tally = RareTally;

    fn empty(&self) -> RareTally {
        RareTally::default()
    }

    fn run_round(&self, _round: u64, units: u64, _pool: &rayon::ThreadPool) -> RareTally {
        RareTally { units }
    }

    fn merge(&self, into: &mut RareTally, other: &RareTally) {
        into.units += other.units;
    }

    fn estimate(&self, _tally: &RareTally) -> UnavailabilityEstimate {
        UnavailabilityEstimate {
            mean: f64::NAN,
            ci95: [0.0, 1.0],
            ci999: [0.0, 1.0],
            relative_half_width: f64::INFINITY,
            upper_bound95: None,
            trusted: Err("not implemented".to_string()),
        }
    }

    fn hits(&self, _tally: &RareTally) -> u64 {
        0
    }
}
