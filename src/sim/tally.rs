//! What replications measure, summed over a block of replications and merged
//! across blocks in block order.

use serde::{Deserialize, Serialize};

use crate::stats::Moments;

/// Statistics of a run of consecutive replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Per-replication system down fraction of [warmup, horizon].
    pub down: Moments,
    /// The same values, in replication order (for quantiles, histogram and
    /// convergence: the one part of the memory that grows with the
    /// replication count, 8 bytes each).
    pub down_values: Vec<f64>,
    /// Outages that overlap the window, summed over replications.
    pub outages: u64,
    /// System down hours in the window, summed over replications.
    pub system_down_hours: f64,
    /// Σ min(first system failure, horizon) over replications.
    pub first_failure_exposure: f64,
    /// Replications whose system failed before the horizon.
    pub first_failures: u64,
    /// Per instance: down hours in the window, summed.
    pub instance_down_hours: Vec<f64>,
    /// Per instance: system down hours during which it was down, summed.
    pub instance_share_hours: Vec<f64>,
    /// Per A(t) grid point: replications with the system up.
    pub transient_up: Vec<u64>,
    /// Failures, repairs and other state changes processed.
    pub events: u64,
}

impl Tally {
    /// An empty tally for `instances` instances and `points` grid points.
    pub fn new(instances: usize, points: usize) -> Tally {
        Tally {
            instance_down_hours: vec![0.0; instances],
            instance_share_hours: vec![0.0; instances],
            transient_up: vec![0; points],
            ..Tally::default()
        }
    }

    /// Replications tallied.
    pub fn replications(&self) -> u64 {
        self.down.n
    }

    /// Appends the replications of `other`, which must directly follow.
    pub fn merge(&mut self, other: &Tally) {
        self.down.merge(&other.down);
        self.down_values.extend_from_slice(&other.down_values);
        self.outages += other.outages;
        self.system_down_hours += other.system_down_hours;
        self.first_failure_exposure += other.first_failure_exposure;
        self.first_failures += other.first_failures;
        add(&mut self.instance_down_hours, &other.instance_down_hours);
        add(&mut self.instance_share_hours, &other.instance_share_hours);
        if self.transient_up.len() < other.transient_up.len() {
            self.transient_up.resize(other.transient_up.len(), 0);
        }
        for (a, b) in self.transient_up.iter_mut().zip(&other.transient_up) {
            *a += b;
        }
        self.events += other.events;
    }
}

fn add(a: &mut Vec<f64>, b: &[f64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0.0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}
