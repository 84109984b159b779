//! Benchmarks for availsim live in `benches/`; this crate holds no code.
