//! Engine throughput, in events (failures, repairs and the other state
//! changes of SPEC §5) per second on one thread, and start-up time.
//!
//! Run: `cargo bench -p availsim-bench`.

use std::path::{Path, PathBuf};

use availsim::scenario::{load_file, Overrides};
use availsim::sim::{run_block, Program};
use availsim::Engine;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Replications per measured iteration.
const REPS: u64 = 64;

fn scenario(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(file)
}

fn workload(c: &mut Criterion, file: &str, reps: u64, engine: Engine) {
    let mut model = load_file(&scenario(file), &Overrides::default()).expect("benchmark scenario");
    model.simulation.engine = engine;
    let program = Program::new(&model);
    let seed = model.simulation.seed;
    let events = run_block(&program, seed, 0..reps).events;
    let name = format!("{} ({})", model.name, program.engine());
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(events));
    group.bench_function(name.as_str(), |b| {
        b.iter(|| run_block(&program, seed, 0..reps))
    });
    group.finish();
}

fn engine(c: &mut Criterion) {
    // The benchmark workloads on the engine `auto` picks (independent), then
    // on the event queue for comparison.
    for engine in [Engine::Auto, Engine::Events] {
        workload(c, "pool.json", REPS, engine);
        workload(c, "large.json", REPS, engine);
    }
    // Every construct at once: balancer with health checks, hot standby
    // with heartbeat and switch failures, a crew, a common cause (event
    // queue).
    workload(c, "three-tier.json", REPS, Engine::Auto);
    // 1,000 instances (independent).
    workload(c, "fleet.json", 8, Engine::Auto);
}

/// Load, validate and build the model of a 1,000-instance scenario.
fn startup(c: &mut Criterion) {
    let path = scenario("fleet.json");
    c.bench_function("startup/fleet (1000 instances)", |b| {
        b.iter(|| {
            let model = load_file(&path, &Overrides::default()).expect("fleet");
            Program::new(&model)
        })
    });
}

criterion_group!(benches, engine, startup);
criterion_main!(benches);
