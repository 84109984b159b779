//! The simulation: event queue, one replication, the parallel runner.

mod balancer;
mod crew;
mod data;
mod engine;
mod group;
mod independent;
mod program;
mod queue;
mod rounds;
mod runner;
mod standby;
mod tally;
mod upkeep;

pub use engine::Replication;
pub use program::Program;
pub use queue::EventQueue;
pub use rounds::{PlainRounds, PlainTally};
pub use runner::{
    block_replications, chunk_count, empty_tally, replication_rng, run_block, run_chunk,
    shard_blocks, simulate, simulate_blocks, simulate_chunks, thread_pool, Outcome, Progress,
    BLOCK, CHUNK,
};
pub use tally::{
    DataTally, MechanismTally, ObjectiveTally, Tally, BALANCER_MECHANISMS, NINES_BINS_PER_UNIT,
    NINES_MAX, STANDBY_MECHANISMS,
};
pub use upkeep::UpkeepTally;
