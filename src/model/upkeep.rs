//! Maintenance, latent failures, spare pools and load sharing (SPEC §9):
//! the validated settings the engine and the analytic check work from.

use super::Dist;

/// What an instance carries besides its failure and repair laws.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Upkeep {
    /// Planned maintenance.
    pub maintenance: Option<Maintenance>,
    /// Hidden failures and periodic tests.
    pub latent: Option<Latent>,
    /// The spare pool a repair needs a part from (index into
    /// [`super::Model::spares`]).
    pub spare: Option<usize>,
}

impl Upkeep {
    /// Whether the instance has any of the SPEC §9 constructs.
    pub fn any(&self) -> bool {
        self.maintenance.is_some() || self.latent.is_some() || self.spare.is_some()
    }
}

/// Planned maintenance of one instance: down for `duration` at
/// `first`, `first + interval`, `first + 2·interval`, …
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Maintenance {
    /// Hours between two maintenance windows of the instance.
    pub interval: f64,
    /// Hours each window takes.
    pub duration: f64,
    /// As good as new afterwards (the age restarts).
    pub renew: bool,
    /// Start of this instance's first window (offset, plus its rolling
    /// slot).
    pub first: f64,
}

/// Hidden failures found by periodic tests or a demand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latent {
    /// Fraction of failures that are hidden, in [0, 1].
    pub fraction: f64,
    /// Hours between two tests of the instance.
    pub test_interval: f64,
    /// Hours a test of a working instance takes it out of service.
    pub test_duration: f64,
    /// This instance's first test: instance j of n is tested first at
    /// interval·(1 + j/n), so a group's tests are spread evenly.
    pub first_test: f64,
}

/// A named pool of spare parts.
#[derive(Clone, Debug)]
pub struct SparePool {
    /// Name as written.
    pub name: String,
    /// Parts in stock at the start.
    pub stock: u32,
    /// Time a failed part takes to come back as a spare.
    pub lead_time: Dist,
    /// Instances that draw from it.
    pub users: Vec<usize>,
}

/// Load sharing on a parallel or k-of-n node: while m of its n children
/// are up, every instance under it ages (n/m)^exponent times faster.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadShare {
    /// The node: its rank among series, parallel and k-of-n nodes in
    /// post-order (children before their parent), the order in which both
    /// the parser and the engine's compiler complete them.
    pub gate: usize,
    /// The exponent a.
    pub exponent: f64,
}

/// The ageing factor (n/m)^a of load sharing with m of n children up
/// (m = 0 counts as 1: nothing under the node carries load then, and the
/// factor stays finite).
pub fn load_factor(n: u32, m: u32, exponent: f64) -> f64 {
    (f64::from(n) / f64::from(m.max(1))).powf(exponent)
}

/// Why the rare-event method cannot take `model`, if it has SPEC §9
/// constructs (said before anything runs).
pub fn rare_event_refusal(model: &super::Model) -> Option<String> {
    model.has_upkeep().then(|| {
        "the rare-event method does not take maintenance, latent failures, spares or load sharing yet: use --method plain (with --precision if you need a target)".to_string()
    })
}
