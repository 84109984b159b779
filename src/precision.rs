//! Precision targets (SPEC §7): work proceeds in rounds whose sizes depend
//! only on the scenario and seed, and the stopping rule is evaluated on
//! whole rounds in index order.
//!
//! Every estimator that can run to a precision (plain replications, the
//! rare-event method) implements [`RoundRunner`]; the loop that runs rounds,
//! merges them in index order and stops is written once, for all of them.

use serde::{de::DeserializeOwned, Serialize};

use crate::stats::UnavailabilityEstimate;

/// An estimator that runs in rounds.
///
/// Round `r` must be a pure function of (scenario, seed, `r`, `units`):
/// whichever thread, shard or machine runs it gives the same bits.
pub trait RoundRunner: Sync {
    /// Mergeable statistics of one or more rounds.
    type Tally: Clone + Send + Serialize + DeserializeOwned;
    /// An empty tally.
    fn empty(&self) -> Self::Tally;
    /// Runs round `round` of `units` work units (replications, cycles or
    /// trials, as the estimator defines them) on `pool`.
    fn run_round(&self, round: u64, units: u64, pool: &rayon::ThreadPool) -> Self::Tally;
    /// Adds `other` (the next round, in index order) to `into`.
    fn merge(&self, into: &mut Self::Tally, other: &Self::Tally);
    /// The estimate from the rounds merged so far.
    fn estimate(&self, tally: &Self::Tally) -> UnavailabilityEstimate;
    /// System outages (plain) or rare-event hits observed so far: the
    /// stopping rule needs a minimum of them.
    fn hits(&self, tally: &Self::Tally) -> u64;
}
