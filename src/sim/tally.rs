//! What replications measure, summed over a block of replications and merged
//! across blocks in block order.

use serde::{Deserialize, Serialize};

use super::upkeep::UpkeepTally;
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
    /// Per-replication time-weighted request success ratio (balancers).
    pub requests: Moments,
    /// Per objective: windows seen, met, and their availability histogram.
    pub objectives: Vec<ObjectiveTally>,
    /// Failures, repairs and other state changes processed.
    pub events: u64,
    /// Whole simulated years (counted from the warmup) without system down
    /// time, over all replications.
    #[serde(default)]
    pub years_without_downtime: u64,
    /// System down hours of every whole simulated year that had some, in
    /// replication order (zero years are only counted: for highly available
    /// systems nearly every year is one).
    #[serde(default)]
    pub year_down_hours: Vec<f64>,
    /// Per bin between consecutive A(t) grid points: Σ over replications of
    /// the system down fraction of the bin.
    #[serde(default)]
    pub bin_down: Vec<f64>,
    /// The same, squared (for the band of the interval availability).
    #[serde(default)]
    pub bin_down_sq: Vec<f64>,
    /// Per A(t) grid point j: replications whose first system failure came
    /// after grid point j − 1 and at or before grid point j (point 0: at or
    /// before it), for the reliability curve.
    #[serde(default)]
    pub first_failure_at: Vec<u64>,
    /// Standby and balancer down time by mechanism, and crew work (SPEC §5
    /// additions); empty without standby nodes, balancers and crews.
    #[serde(default)]
    pub mechanisms: MechanismTally,
    /// Maintenance, latent failures and spares (SPEC §9).
    #[serde(default)]
    pub upkeep: UpkeepTally,
    /// Data-loss incidents and restores (SPEC §8); empty without data.
    #[serde(default)]
    pub data: DataTally,
}

/// Data-loss incidents and restore time, summed over replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataTally {
    /// Hours of data lost by each incident in the window, in replication
    /// order (quantiles and the RPO objectives read them).
    pub losses: Vec<f64>,
    /// The instance of each incident, or `u32::MAX` for a failover of an
    /// asynchronously replicated standby.
    pub sources: Vec<u32>,
    /// Per instance: restore hours in the window, summed.
    pub restore_hours: Vec<f64>,
}

impl DataTally {
    fn merge(&mut self, other: &DataTally) {
        self.losses.extend_from_slice(&other.losses);
        self.sources.extend_from_slice(&other.sources);
        add(&mut self.restore_hours, &other.restore_hours);
    }
}

/// Down time of standby and balancer nodes by mechanism and the work of
/// repair crews, summed over replications (see `standby.rs`,
/// `balancer.rs`, `crew.rs`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MechanismTally {
    /// Per standby node (compile order) × mechanism
    /// ([`STANDBY_MECHANISMS`]): its down hours in the window.
    pub standby_hours: Vec<f64>,
    /// Per standby node: its down hours in the window, measured on its
    /// output (independently of the mechanisms, which must add up to it).
    pub standby_down_hours: Vec<f64>,
    /// Per balancer (compile order) × mechanism ([`BALANCER_MECHANISMS`]):
    /// its down hours in the window.
    pub balancer_hours: Vec<f64>,
    /// Per balancer: hours of requests lost while the system was up because
    /// its rotation differed from its up members (health-check lag), each
    /// hour weighted by the share of requests lost.
    pub balancer_lag_hours: Vec<f64>,
    /// Per crew: the busy fraction of its members, one value per
    /// replication.
    pub crew_utilisation: Vec<Moments>,
    /// Per crew: repairs requested in the window that started.
    pub crew_started: Vec<u64>,
    /// Per crew: their waits for a free member, in hours.
    pub crew_wait_hours: Vec<f64>,
}

/// Mechanisms a standby node's down time is attributed to, in report
/// order: every unit down (nothing to switch to), the active unit's
/// failure not yet noticed, switching over, stuck after a failed switch
/// until a repair ended it, and stuck until manual recovery ended it.
pub const STANDBY_MECHANISMS: [&str; 5] = [
    "units_down",
    "detection",
    "switchover",
    "stuck",
    "manual_recovery",
];

/// Mechanisms a balancer's down time is attributed to, in report order:
/// the `via` node down (with enough pool members up), fewer than
/// `min_healthy` pool members up (with `via` up), and both at once.
pub const BALANCER_MECHANISMS: [&str; 3] = ["via_down", "members_down", "both"];

impl MechanismTally {
    /// Whether nothing was tallied (no standby, balancer or crew).
    pub fn is_empty(&self) -> bool {
        *self == MechanismTally::default()
    }

    /// Adds one replication's crew figures.
    pub(super) fn push_crews(
        &mut self,
        utilisation: impl Iterator<Item = f64>,
        started: &[u64],
        wait_hours: &[f64],
    ) {
        for (c, u) in utilisation.enumerate() {
            if self.crew_utilisation.len() <= c {
                self.crew_utilisation.push(Moments::default());
            }
            self.crew_utilisation[c].push(u);
        }
        add_u64(&mut self.crew_started, started);
        add(&mut self.crew_wait_hours, wait_hours);
    }

    /// Adds the figures of `other`.
    pub fn merge(&mut self, other: &MechanismTally) {
        add(&mut self.standby_hours, &other.standby_hours);
        add(&mut self.standby_down_hours, &other.standby_down_hours);
        add(&mut self.balancer_hours, &other.balancer_hours);
        add(&mut self.balancer_lag_hours, &other.balancer_lag_hours);
        if self.crew_utilisation.len() < other.crew_utilisation.len() {
            self.crew_utilisation
                .resize(other.crew_utilisation.len(), Moments::default());
        }
        for (a, b) in self
            .crew_utilisation
            .iter_mut()
            .zip(&other.crew_utilisation)
        {
            a.merge(b);
        }
        add_u64(&mut self.crew_started, &other.crew_started);
        add(&mut self.crew_wait_hours, &other.crew_wait_hours);
    }
}

/// Bins of the window-availability histogram per unit of nines.
pub const NINES_BINS_PER_UNIT: usize = 20;
/// Highest nines resolved; better windows fall in the last bin.
pub const NINES_MAX: usize = 10;

/// Whole windows of one objective, summed over replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveTally {
    /// Whole windows observed.
    pub windows: u64,
    /// Windows whose availability met the target.
    pub met: u64,
    /// Σ window availability.
    pub availability_sum: f64,
    /// Windows by nines −log10(1 − A): bin j holds [j, j+1)/20 nines, the
    /// one before last everything from 10 nines up, the last windows without
    /// down time.
    pub nines_histogram: Vec<u64>,
}

impl ObjectiveTally {
    /// Records one window.
    pub fn push(&mut self, availability: f64, target: f64) {
        if self.nines_histogram.is_empty() {
            self.nines_histogram = vec![0; NINES_MAX * NINES_BINS_PER_UNIT + 2];
        }
        self.windows += 1;
        self.met += u64::from(availability >= target);
        self.availability_sum += availability;
        let last = self.nines_histogram.len() - 1;
        let bin = if availability >= 1.0 {
            last
        } else {
            let nines = -(1.0 - availability).log10();
            ((nines * NINES_BINS_PER_UNIT as f64).floor().max(0.0) as usize).min(last - 1)
        };
        self.nines_histogram[bin] += 1;
    }

    fn merge(&mut self, other: &ObjectiveTally) {
        self.windows += other.windows;
        self.met += other.met;
        self.availability_sum += other.availability_sum;
        if self.nines_histogram.len() < other.nines_histogram.len() {
            self.nines_histogram.resize(other.nines_histogram.len(), 0);
        }
        for (a, b) in self.nines_histogram.iter_mut().zip(&other.nines_histogram) {
            *a += b;
        }
    }
}

impl Tally {
    /// An empty tally for `rows` component rows, `points` grid points and
    /// `objectives` objectives.
    pub fn new(rows: usize, points: usize, objectives: usize) -> Tally {
        Tally {
            instance_down_hours: vec![0.0; rows],
            instance_share_hours: vec![0.0; rows],
            transient_up: vec![0; points],
            objectives: vec![ObjectiveTally::default(); objectives],
            ..Tally::default()
        }
    }

    /// Replications tallied.
    pub fn replications(&self) -> u64 {
        self.down.n
    }

    /// Records the system down hours of one whole simulated year.
    pub fn push_year(&mut self, down_hours: f64) {
        if down_hours > 0.0 {
            self.year_down_hours.push(down_hours);
        } else {
            self.years_without_downtime += 1;
        }
    }

    /// Records one replication's down hours per A(t) bin of width `width`.
    pub fn push_bins(&mut self, down_hours: &[f64], width: f64) {
        if self.bin_down.len() < down_hours.len() {
            self.bin_down.resize(down_hours.len(), 0.0);
            self.bin_down_sq.resize(down_hours.len(), 0.0);
        }
        for (j, &h) in down_hours.iter().enumerate() {
            let f = (h / width).clamp(0.0, 1.0);
            self.bin_down[j] += f;
            self.bin_down_sq[j] += f * f;
        }
    }

    /// Records a first system failure by grid point `j`.
    pub fn push_first_failure(&mut self, j: usize) {
        if self.first_failure_at.len() <= j {
            self.first_failure_at.resize(j + 1, 0);
        }
        self.first_failure_at[j] += 1;
    }

    /// Whole simulated years tallied.
    pub fn years(&self) -> u64 {
        self.years_without_downtime + self.year_down_hours.len() as u64
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
        self.mechanisms.merge(&other.mechanisms);
        if self.transient_up.len() < other.transient_up.len() {
            self.transient_up.resize(other.transient_up.len(), 0);
        }
        for (a, b) in self.transient_up.iter_mut().zip(&other.transient_up) {
            *a += b;
        }
        self.events += other.events;
        self.years_without_downtime += other.years_without_downtime;
        self.year_down_hours
            .extend_from_slice(&other.year_down_hours);
        add(&mut self.bin_down, &other.bin_down);
        add(&mut self.bin_down_sq, &other.bin_down_sq);
        if self.first_failure_at.len() < other.first_failure_at.len() {
            self.first_failure_at
                .resize(other.first_failure_at.len(), 0);
        }
        for (a, b) in self
            .first_failure_at
            .iter_mut()
            .zip(&other.first_failure_at)
        {
            *a += b;
        }
        self.upkeep.merge(&other.upkeep);
        self.requests.merge(&other.requests);
        if self.objectives.len() < other.objectives.len() {
            self.objectives
                .resize(other.objectives.len(), ObjectiveTally::default());
        }
        for (a, b) in self.objectives.iter_mut().zip(&other.objectives) {
            a.merge(b);
        }
        self.data.merge(&other.data);
    }
}

fn add_u64(a: &mut Vec<u64>, b: &[u64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

pub(super) fn add(a: &mut Vec<f64>, b: &[f64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0.0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}
