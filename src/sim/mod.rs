//! The simulation: event queue, one replication, the parallel runner.

mod engine;
mod queue;
mod runner;
mod tally;

pub use engine::{Program, Replication};
pub use queue::EventQueue;
pub use runner::{replication_rng, run_block, simulate, Outcome, Progress, BLOCK};
pub use tally::Tally;
