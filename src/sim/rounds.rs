//! Plain replications as a [`RoundRunner`], for precision runs.
//!
//! Rounds are whole chunks of consecutive replications (the pilot is one
//! chunk, [`CHUNK`] × [`BLOCK`] replications), and a round's tally keeps
//! its chunks apart, so folding rounds folds the very chunks, in the very
//! order, of a plain run of the same replications: a precision run that
//! stopped after N replications reports exactly what `--replications N`
//! reports.

use serde::{Deserialize, Serialize};

use super::program::Program;
use super::runner::{empty_tally, run_chunk, BLOCK, CHUNK};
use super::tally::Tally;
use crate::estimate::plain_unavailability;
use crate::model::Model;
use crate::precision::{RoundRunner, Schedule};
use crate::stats::UnavailabilityEstimate;

/// Replications of a plain precision run's pilot round.
pub const PLAIN_PILOT: u64 = CHUNK * BLOCK;

/// Plain replications of one scenario, run in rounds.
pub struct PlainRounds<'a> {
    model: &'a Model,
    program: Program,
    schedule: Schedule,
}

/// Rounds of plain replications: those folded so far, and a round's chunks
/// not yet folded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlainTally {
    /// The replications folded so far.
    pub run: Tally,
    /// One round's chunk tallies, in order, not yet folded.
    pub chunks: Vec<Tally>,
}

impl<'a> PlainRounds<'a> {
    /// The runner of `model`, capped at `cap` replications.
    pub fn new(model: &'a Model, cap: Option<u64>) -> Self {
        PlainRounds {
            model,
            program: Program::new(model),
            schedule: Schedule {
                pilot: PLAIN_PILOT,
                cap,
            },
        }
    }

    /// The round sizes.
    pub fn schedule(&self) -> Schedule {
        self.schedule
    }
}

impl RoundRunner for PlainRounds<'_> {
    type Tally = PlainTally;

    fn empty(&self) -> PlainTally {
        PlainTally {
            run: empty_tally(self.model),
            chunks: Vec::new(),
        }
    }

    fn run_round(&self, round: u64, units: u64, pool: &rayon::ThreadPool) -> PlainTally {
        let start = self.schedule.units(round).start;
        let end = start + units;
        let seed = self.model.simulation.seed;
        let chunks = (start / PLAIN_PILOT..end.div_ceil(PLAIN_PILOT))
            .map(|c| run_chunk(&self.program, seed, c, end, pool))
            .collect();
        PlainTally {
            run: Tally::default(),
            chunks,
        }
    }

    fn merge(&self, into: &mut PlainTally, other: &PlainTally) {
        if other.run.replications() > 0 {
            into.run.merge(&other.run);
        }
        for c in &other.chunks {
            into.run.merge(c);
        }
    }

    fn estimate(&self, tally: &PlainTally) -> UnavailabilityEstimate {
        plain_unavailability(&tally.run, self.model)
    }

    fn hits(&self, tally: &PlainTally) -> u64 {
        tally.run.outages
    }

    fn pilot_units(&self) -> u64 {
        PLAIN_PILOT
    }

    fn events(&self, tally: &PlainTally) -> Option<u64> {
        Some(tally.run.events + tally.chunks.iter().map(|c| c.events).sum::<u64>())
    }
}
