//! The parallel runner: fixed blocks of replications on a rayon pool,
//! reduced in block order.
//!
//! Replication i always draws from ChaCha8 seeded with the scenario seed on
//! stream i, and blocks are merged strictly in order, so the same seed gives
//! the same statistics to the last bit on any number of threads.

use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::engine::Replication;
use super::program::Program;
use super::tally::Tally;
use crate::error::Error;
use crate::model::Model;

/// Replications per block: the unit of parallel work and of merging.
pub const BLOCK: u64 = 64;
/// Blocks run in parallel between two merges (bounds memory and paces the
/// progress reports).
const WAVE: u64 = 64;

/// Progress of a run, reported after every wave.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Replications finished.
    pub done: u64,
    /// Replications in the run.
    pub total: u64,
    /// Events processed so far.
    pub events: u64,
}

/// The outcome of a run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Statistics of every replication.
    pub tally: Tally,
    /// Threads used.
    pub threads: usize,
    /// Wall-clock time of the simulation.
    pub wall_seconds: f64,
}

/// The generator of replication `rep` under `seed`.
pub fn replication_rng(seed: u64, rep: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(rep);
    rng
}

/// Simulates every replication of `model` on `threads` threads (0: all
/// cores), calling `progress` after each wave.
///
/// # Errors
/// [`Error::Usage`] when the thread pool cannot be built.
pub fn simulate(
    model: &Model,
    threads: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads} threads: {e}")))?;
    let program = Program::new(model);
    let sim = &model.simulation;
    let total = sim.replications;
    let blocks = total.div_ceil(BLOCK);
    let start = Instant::now();
    let mut tally = Tally::new(
        program.rows(),
        program.grid_points(),
        model.objectives.len(),
    );
    let mut first = 0;
    while first < blocks {
        let last = (first + WAVE).min(blocks);
        let parts: Vec<Tally> = pool.install(|| {
            (first..last)
                .into_par_iter()
                .map(|b| run_block(&program, sim.seed, b * BLOCK..((b + 1) * BLOCK).min(total)))
                .collect()
        });
        for part in &parts {
            tally.merge(part);
        }
        progress(Progress {
            done: tally.replications(),
            total,
            events: tally.events,
        });
        first = last;
    }
    Ok(Outcome {
        tally,
        threads: pool.current_num_threads(),
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}

/// Runs replications `reps` in order into a fresh tally.
pub fn run_block(program: &Program, seed: u64, reps: std::ops::Range<u64>) -> Tally {
    let mut tally = Tally::new(program.rows(), program.grid_points(), program.objectives());
    tally.down_values.reserve((reps.end - reps.start) as usize);
    let mut state = Replication::default();
    for rep in reps {
        let mut rng = replication_rng(seed, rep);
        state.run(program, &mut rng, &mut tally);
    }
    tally
}
