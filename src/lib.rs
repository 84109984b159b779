//! availsim: discrete-event Monte-Carlo availability simulation with exact
//! analytic cross-checks.
//!
//! Data flows one way: a scenario file is loaded and validated into a
//! [`Model`] ([`scenario`]), simulated in parallel ([`sim`]) into mergeable
//! statistics ([`stats`]), and summarised in a [`Report`] ([`report`]).
//!
//! # Examples
//! ```
//! use std::path::Path;
//! use availsim::scenario::{load_str, Overrides};
//!
//! let text = r#"{
//!   "simulation": { "horizon": "1y", "replications": 100, "seed": 1 },
//!   "components": { "web": { "count": 2, "mtbf": "500h", "mttr": "5h" } },
//!   "system": { "parallel": ["web"] }
//! }"#;
//! let model = load_str(text, Path::new("example.json"), &Overrides::default()).unwrap();
//! let report = availsim::run(&model, 1).unwrap();
//! assert!(report.availability.mean > 0.99);
//! ```
#![deny(missing_docs)]

pub mod analytic;
pub mod bias;
pub mod checksum;
pub mod driver;
pub mod error;
pub mod estimate;
pub mod input;
pub mod model;
pub mod precision;
pub mod rare;
pub mod report;
pub mod scale;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod sweep;

pub use error::{Error, Issue};
pub use model::{Engine, Method, Model};
pub use report::Report;

/// Simulates `model` on `threads` threads (0: all cores) and builds its
/// report, without progress output: a fixed number of replications, or
/// rounds to the scenario's precision target (SPEC §7).
///
/// # Errors
/// [`Error::Usage`] when the thread pool cannot be built; those of
/// [`driver::run`] for precision runs.
pub fn run(model: &Model, threads: usize) -> Result<Report, Error> {
    let analysis = analytic::analyze(model);
    let options = driver::RunOptions {
        threads,
        time_limit: None,
    };
    driver::run(model, options, &analysis, &mut |_| {})
}
