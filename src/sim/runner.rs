//! The parallel runner: fixed blocks of replications on a rayon pool,
//! reduced in block order.
//!
//! Replication i always draws from its own generator, keyed by (seed, i)
//! alone, and blocks are merged strictly in order, so the same seed gives
//! the same statistics to the last bit on any number of threads.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::{Duration, Instant};

use rand::rngs::Xoshiro256PlusPlus;
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
/// Blocks per chunk. Blocks fold into their chunk in block order, chunks
/// fold into the run in chunk order: this two-level reduction is the one
/// shape every run has, whole or sharded, so merged shards give the same
/// bits. A chunk is also the unit of parallel work between progress reports
/// and of sharding.
pub const CHUNK: u64 = 64;

/// How often a run reports progress while a chunk is under way.
const PROGRESS_TICK: Duration = Duration::from_millis(100);

/// Progress of a run, reported after every chunk and every
/// tenth of a second in between (so a run of one chunk shows progress too).
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

/// The generator of replication `rep` under `seed`: Xoshiro256++ keyed with
/// 32 bytes of ChaCha8 seeded with `seed` on stream `rep`.
///
/// ChaCha8's streams give every replication an independent key in O(1)
/// (random access, no jumps); Xoshiro256++ then draws about a third faster
/// than ChaCha8 (4.0 against 6.1 ns per exponential on this machine class),
/// which the engines feel directly: one draw per event. Keying costs one
/// ChaCha8 block per replication. Two replications' sequences overlap only
/// if their random 256-bit states fall within a few million steps of each
/// other on a 2²⁵⁶ − 1 cycle: never, in practice.
pub fn replication_rng(seed: u64, rep: u64) -> Xoshiro256PlusPlus {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(rep);
    let mut key = [0u8; 32];
    rand::Rng::fill_bytes(&mut rng, &mut key);
    Xoshiro256PlusPlus::from_seed(key)
}

/// Number of chunks of a run of `replications`.
pub fn chunk_count(replications: u64) -> u64 {
    replications.div_ceil(BLOCK).div_ceil(CHUNK)
}

/// The blocks of shard `index` of `count` (0-based): contiguous, in order,
/// and as even as whole blocks allow (shards differ by at most one block;
/// one is empty only when the run has fewer blocks than shards).
pub fn shard_blocks(replications: u64, index: u64, count: u64) -> Range<u64> {
    let k = u128::from(replications.div_ceil(BLOCK));
    let at = |i: u64| (u128::from(i) * k / u128::from(count)) as u64;
    at(index)..at(index + 1)
}

/// Replications in the blocks `blocks` of a run of `replications`.
pub fn block_replications(replications: u64, blocks: &Range<u64>) -> u64 {
    let at = |b: u64| b.saturating_mul(BLOCK).min(replications);
    at(blocks.end) - at(blocks.start)
}

/// An empty tally shaped for `model`.
pub fn empty_tally(model: &Model) -> Tally {
    let program = Program::new(model);
    Tally::new(program.rows(), program.grid_points(), program.objectives())
}

/// Simulates every replication of `model` on `threads` threads (0: all
/// cores), calling `progress` after each chunk.
///
/// # Errors
/// [`Error::Usage`] when the thread pool cannot be built.
pub fn simulate(
    model: &Model,
    threads: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, Error> {
    let mut tally = empty_tally(model);
    // The per-replication values are the one part that grows with the run:
    // allocate them once, at their final size.
    tally
        .down_values
        .reserve_exact(model.simulation.replications as usize);
    let all = 0..chunk_count(model.simulation.replications);
    let (threads, wall_seconds) = simulate_chunks(
        model,
        threads,
        all,
        &mut |_, chunk| tally.merge(&chunk),
        progress,
    )?;
    Ok(Outcome {
        tally,
        threads,
        wall_seconds,
    })
}

/// Simulates the chunks `chunks` of `model`, handing each chunk's tally to
/// `sink` in chunk order. Returns the threads used and the wall-clock time.
///
/// # Errors
/// [`Error::Usage`] when the thread pool cannot be built.
pub fn simulate_chunks(
    model: &Model,
    threads: usize,
    chunks: Range<u64>,
    sink: &mut dyn FnMut(u64, Tally),
    progress: &mut dyn FnMut(Progress),
) -> Result<(usize, f64), Error> {
    let blocks = chunks.start.saturating_mul(CHUNK)..chunks.end.saturating_mul(CHUNK);
    simulate_blocks(
        model,
        threads,
        blocks,
        &mut |range, t| sink(range.start / CHUNK, t),
        progress,
    )
}

/// Simulates the blocks `blocks` of `model` (clipped to the run), handing
/// `sink` its statistics in order as pieces: each chunk that lies wholly in
/// the range as one tally, and each block of a chunk that the range cuts as
/// a tally of its own, so that folding the pieces of all shards gives the
/// whole run's bits. Returns the threads used and the wall-clock time.
///
/// # Errors
/// [`Error::Usage`] when the thread pool cannot be built.
pub fn simulate_blocks(
    model: &Model,
    threads: usize,
    blocks: Range<u64>,
    sink: &mut dyn FnMut(Range<u64>, Tally),
    progress: &mut dyn FnMut(Progress),
) -> Result<(usize, f64), Error> {
    let pool = thread_pool(threads)?;
    let program = Program::new(model);
    let sim = &model.simulation;
    let total = sim.replications;
    let all = total.div_ceil(BLOCK);
    let blocks = blocks.start.min(all)..blocks.end.min(all);
    let start = Instant::now();
    let (mut done, mut events) = (0, 0);
    let in_range = block_replications(total, &blocks);
    let mut c = blocks.start / CHUNK;
    while c * CHUNK < blocks.end {
        let whole = c * CHUNK..((c + 1) * CHUNK).min(all);
        let (first, last) = (whole.start.max(blocks.start), whole.end.min(blocks.end));
        let live = Live::default();
        let parts = watch(
            || {
                pool.install(|| {
                    (first..last)
                        .into_par_iter()
                        .map(|b| {
                            let reps = b * BLOCK..((b + 1) * BLOCK).min(total);
                            run_counted(&program, sim.seed, reps, Some(&live))
                        })
                        .collect::<Vec<Tally>>()
                })
            },
            &mut || {
                progress(Progress {
                    done: done + live.done.load(Ordering::Relaxed),
                    total: in_range,
                    events: events + live.events.load(Ordering::Relaxed),
                })
            },
        );
        for part in &parts {
            done += part.replications();
            events += part.events;
        }
        if (first, last) == (whole.start, whole.end) {
            let mut chunk = Tally::new(program.rows(), program.grid_points(), program.objectives());
            for part in &parts {
                chunk.merge(part);
            }
            sink(whole, chunk);
        } else {
            for (b, part) in (first..last).zip(parts) {
                sink(b..b + 1, part);
            }
        }
        progress(Progress {
            done,
            total: in_range,
            events,
        });
        c += 1;
    }
    Ok((pool.current_num_threads(), start.elapsed().as_secs_f64()))
}

/// Runs chunk `c` of a run of `total` replications on `pool`: its blocks
/// in parallel, folded in block order.
pub fn run_chunk(
    program: &Program,
    seed: u64,
    c: u64,
    total: u64,
    pool: &rayon::ThreadPool,
) -> Tally {
    let blocks = total.div_ceil(BLOCK);
    let (first, last) = (c * CHUNK, ((c + 1) * CHUNK).min(blocks));
    let parts: Vec<Tally> = pool.install(|| {
        (first..last)
            .into_par_iter()
            .map(|b| run_block(program, seed, b * BLOCK..((b + 1) * BLOCK).min(total)))
            .collect()
    });
    let mut chunk = Tally::new(program.rows(), program.grid_points(), program.objectives());
    for part in &parts {
        chunk.merge(part);
    }
    chunk
}

/// A thread pool of `threads` threads (0: all cores).
///
/// # Errors
/// [`Error::Usage`] when the pool cannot be built.
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads} threads: {e}")))
}

/// Runs replications `reps` in order into a fresh tally.
pub fn run_block(program: &Program, seed: u64, reps: std::ops::Range<u64>) -> Tally {
    run_counted(program, seed, reps, None)
}

/// Replications and events finished so far in the chunk under way, counted
/// by the workers as they go. For progress display only: results never
/// depend on it.
#[derive(Default)]
struct Live {
    done: AtomicU64,
    events: AtomicU64,
}

/// [`run_block`], counting each finished replication in `live`.
fn run_counted(program: &Program, seed: u64, reps: Range<u64>, live: Option<&Live>) -> Tally {
    let mut tally = Tally::new(program.rows(), program.grid_points(), program.objectives());
    tally.down_values.reserve((reps.end - reps.start) as usize);
    let mut state = Replication::default();
    for rep in reps {
        let mut rng = replication_rng(seed, rep);
        let before = tally.events;
        state.run(program, &mut rng, &mut tally);
        if let Some(live) = live {
            live.done.fetch_add(1, Ordering::Relaxed);
            live.events
                .fetch_add(tally.events - before, Ordering::Relaxed);
        }
    }
    tally
}

/// Runs `work` on a helper thread and calls `tick` on this one every
/// [`PROGRESS_TICK`] until the work is done (the progress callback need not
/// be `Send`). A panic in `work` carries over.
fn watch<T: Send>(work: impl FnOnce() -> T + Send, tick: &mut dyn FnMut()) -> T {
    std::thread::scope(|s| {
        let (done_tx, done_rx) = channel();
        let worker = s.spawn(move || {
            let out = work();
            let _ = done_tx.send(());
            out
        });
        while let Err(RecvTimeoutError::Timeout) = done_rx.recv_timeout(PROGRESS_TICK) {
            tick();
        }
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
