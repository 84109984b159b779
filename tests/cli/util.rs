//! Test harness: run the binary in a temporary folder, load scenarios with
//! the library, and compare simulated figures with exact values.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use availsim::scenario::{load_str, Overrides};
use availsim::{Engine, Model, Report};

/// A temporary folder that holds scenarios and outputs.
pub struct Dir {
    pub dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` with `contents` and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, contents).expect("write scenario");
        p
    }

    /// Runs `availsim ARGS` in this folder.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::cargo_bin("availsim")
            .expect("binary")
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("run availsim")
    }
}

/// The repository's `scenarios/` folder.
pub fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Loads a scenario from text, panicking with the errors if it is invalid.
pub fn model(text: &str) -> Model {
    load_str(text, Path::new("test.json"), &Overrides::default())
        .unwrap_or_else(|e| panic!("invalid test scenario:\n{e}"))
}

/// Simulates a scenario given as text on two threads.
pub fn simulate(text: &str) -> Report {
    availsim::run(&model(text), 2).expect("simulation")
}

/// Simulates a scenario whose instances are independent on both engines:
/// the independent engine (what `auto` picks for it) and the event queue.
pub fn simulate_both(text: &str) -> [Report; 2] {
    let auto = simulate(text);
    assert_eq!(auto.simulation.engine, "independent");
    let mut m = model(text);
    m.simulation.engine = Engine::Events;
    let events = availsim::run(&m, 2).expect("simulation");
    assert_eq!(events.simulation.engine, "event queue");
    [auto, events]
}

/// Asserts that a simulated mean lies within `k` standard errors of the exact
/// value, and that the standard error is small enough (`max_se`) for the
/// comparison to mean something.
#[track_caller]
pub fn assert_within(what: &str, mean: f64, se: f64, exact: f64, k: f64, max_se: f64) {
    assert!(
        se > 0.0 && se <= max_se,
        "{what}: standard error {se} not in (0, {max_se}]: the test would be vacuous"
    );
    let z = (mean - exact) / se;
    assert!(
        z.abs() <= k,
        "{what}: simulated {mean} vs exact {exact}: z = {z:.2} (se {se:.3e})"
    );
}

/// ∫₀ᵀ f(t) dt / T by composite Simpson's rule with `n` (even) intervals.
pub fn interval_mean(f: impl Fn(f64) -> f64, t0: f64, t1: f64, n: usize) -> f64 {
    let h = (t1 - t0) / n as f64;
    let mut s = f(t0) + f(t1);
    for i in 1..n {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        s += w * f(t0 + h * i as f64);
    }
    s * h / 3.0 / (t1 - t0)
}

/// Point availability of an exponential unit that starts up:
/// A(t) = μ/(λ+μ) + λ/(λ+μ)·e^{−(λ+μ)t}.
pub fn point_availability(mtbf: f64, mttr: f64, t: f64) -> f64 {
    let (l, m) = (1.0 / mtbf, 1.0 / mttr);
    m / (l + m) + l / (l + m) * (-(l + m) * t).exp()
}

/// Stationary distribution π of a continuous-time Markov chain with rates
/// `rates[i][j]` (i ≠ j): solves πQ = 0, Σπ = 1 by Gaussian elimination with
/// partial pivoting.
pub fn stationary(rates: &[Vec<f64>]) -> Vec<f64> {
    let n = rates.len();
    // Rows of the system: the balance equations of states 1..n, then Σπ = 1.
    let mut a = vec![vec![0.0; n + 1]; n];
    for (j, row) in a.iter_mut().enumerate().take(n - 1) {
        for i in 0..n {
            row[i] = if i == j {
                -rates[j]
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != j)
                    .map(|(_, r)| r)
                    .sum::<f64>()
            } else {
                rates[i][j]
            };
        }
    }
    a[n - 1] = vec![1.0; n + 1];
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    (0..n).map(|i| a[i][n] / a[i][i]).collect()
}

#[test]
fn stationary_solves_a_two_state_chain() {
    let pi = stationary(&[vec![0.0, 0.1], vec![0.2, 0.0]]);
    assert!((pi[0] - 2.0 / 3.0).abs() < 1e-12 && (pi[1] - 1.0 / 3.0).abs() < 1e-12);
}
