//! availsim's integration tests: the CLI, agreement with exact answers,
//! determinism, validation and robustness. One binary, as ripgrep does.

mod analytic;
mod constructs;
mod coverage;
mod data;
mod design;
mod determinism;
mod exact;
mod failover;
mod hardening;
mod markov;
mod precision;
mod rare;
mod rare_coverage;
mod readme;
mod reports;
mod resources;
mod robustness;
mod scale;
mod schema;
mod simultaneous;
mod sweep_output;
mod sweeps;
mod upkeep;
mod util;
mod validation;
mod verdicts;
