//! The yardstick of issue #7: a minimal hand-written binary-heap event loop
//! for the pool workload, with no statistics beyond the up fraction, on the
//! same generator as availsim (Xoshiro256++). Compare its throughput with
//! `engine/pool (independent)`.
//!
//! Run: `cargo bench -p availsim-bench --bench baseline`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1};

/// Pending event: (time, instance), ordered by time.
#[derive(PartialEq)]
struct Event(f64, usize);
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// One replication of pool: lb, web[0..5] (3 of 5 needed), db[0..2] (1 of
/// 2 needed), 87,600 h. Returns the up fraction and the events.
fn replication<R: Rng>(rng: &mut R, heap: &mut BinaryHeap<Reverse<Event>>) -> (f64, u64) {
    const MTBF: [f64; 8] = [
        50_000.0, 2000.0, 2000.0, 2000.0, 2000.0, 2000.0, 10_000.0, 10_000.0,
    ];
    const MTTR: [f64; 8] = [2.0, 8.0, 8.0, 8.0, 8.0, 8.0, 24.0, 24.0];
    const HORIZON: f64 = 87_600.0;
    heap.clear();
    let mut up = [true; 8];
    for (i, mtbf) in MTBF.iter().enumerate() {
        let e: f64 = Exp1.sample(rng);
        heap.push(Reverse(Event(e * mtbf, i)));
    }
    let (mut lb, mut web, mut db) = (1, 5, 2);
    let (mut system_up, mut since, mut down, mut events) = (true, 0.0, 0.0, 0);
    while let Some(Reverse(Event(t, i))) = heap.pop() {
        if t > HORIZON {
            break;
        }
        events += 1;
        up[i] = !up[i];
        let d = if up[i] { 1 } else { -1 };
        match i {
            0 => lb += d,
            1..=5 => web += d,
            _ => db += d,
        }
        let e: f64 = Exp1.sample(rng);
        let mean = if up[i] { MTBF[i] } else { MTTR[i] };
        heap.push(Reverse(Event(t + e * mean, i)));
        let s = lb == 1 && web >= 3 && db >= 1;
        if s != system_up {
            if s {
                down += t - since;
            } else {
                since = t;
            }
            system_up = s;
        }
    }
    if !system_up {
        down += HORIZON - since;
    }
    (1.0 - down / HORIZON, events)
}

fn baseline(c: &mut Criterion) {
    let run = |reps: u64| {
        let mut heap = BinaryHeap::with_capacity(8);
        let (mut a, mut events) = (0.0, 0);
        for rep in 0..reps {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(rep);
            let (x, e) = replication(&mut rng, &mut heap);
            a += x;
            events += e;
        }
        (a / reps as f64, events)
    };
    let (_, events) = run(64);
    let mut group = c.benchmark_group("baseline");
    group.throughput(Throughput::Elements(events));
    group.bench_function("pool (hand-written heap loop)", |b| b.iter(|| run(64)));
    group.finish();
}

criterion_group!(benches, baseline);
criterion_main!(benches);
