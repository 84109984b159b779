//! Engine throughput on the benchmark workloads of REFERENCE.md, in events
//! (failures + repairs) per second on one thread.
//!
//! Run: `cargo bench -p availsim-bench`.

use std::path::Path;

use availsim::scenario::{load_file, Overrides};
use availsim::sim::{run_block, Program};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Replications per measured iteration.
const REPS: u64 = 64;

fn workload(c: &mut Criterion, file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(file);
    let model = load_file(&path, &Overrides::default()).expect("benchmark scenario");
    let program = Program::new(&model);
    let seed = model.simulation.seed;
    let events = run_block(&program, seed, 0..REPS).events;
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(events));
    group.bench_function(model.name.as_str(), |b| {
        b.iter(|| run_block(&program, seed, 0..REPS))
    });
    group.finish();
}

fn engine(c: &mut Criterion) {
    workload(c, "pool.json");
    workload(c, "large.json");
}

criterion_group!(benches, engine);
criterion_main!(benches);
