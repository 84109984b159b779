//! Curves over time besides the point samples of A(t): the interval
//! availability of each bin between grid points (smooth for highly
//! available systems, where almost every point sample is 1) and the
//! reliability R(t) (SPEC §5 additions), each with the exact curve where
//! the analytic engine has one.

use serde::{Deserialize, Serialize};

use crate::analytic::structure::Structure;
use crate::analytic::{interval_availability, Analysis, Method};
use crate::model::{Model, Node};
use crate::sim::Tally;

/// Most instances for which the exact bin curve is computed (each bin
/// integrates the structure function).
const EXACT_CURVE_INSTANCES: usize = 64;

/// The interval availability of each bin between consecutive grid points:
/// all up time in the bin, from every replication.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bins {
    /// Bin starts (hours).
    pub start_hours: Vec<f64>,
    /// Bin ends (hours).
    pub end_hours: Vec<f64>,
    /// Mean over replications of the up fraction of the bin.
    pub availability: Vec<f64>,
    /// 95% confidence interval (normal, from the per-replication up
    /// fractions), lower ends.
    pub ci95_low: Vec<f64>,
    /// Upper ends.
    pub ci95_high: Vec<f64>,
    /// The exact expected availability over each bin from all up, where
    /// the analytic engine has it (structure function of exponential units).
    pub exact: Option<Vec<f64>>,
}

/// R(t) = P(no system failure by t), from all up at 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    /// Grid times (hours).
    pub time_hours: Vec<f64>,
    /// Kaplan–Meier estimate (every replication is censored at the
    /// horizon alone, so it is the fraction without a failure by t).
    pub survival: Vec<f64>,
    /// 95% Wilson interval, lower ends.
    pub ci95_low: Vec<f64>,
    /// Upper ends.
    pub ci95_high: Vec<f64>,
    /// The exact curve where one exists (a series of exponential instances
    /// without common causes: exp(−Σλ·t)).
    pub exact: Option<Vec<f64>>,
}

/// The bins of `t` on `grid`.
pub fn bins(model: &Model, analysis: &Analysis, t: &Tally, grid: &[f64]) -> Option<Bins> {
    let n = t.replications() as f64;
    if t.bin_down.is_empty() || n == 0.0 || grid.len() < 2 {
        return None;
    }
    let z = 1.96;
    let mut b = Bins {
        start_hours: grid[..grid.len() - 1].to_vec(),
        end_hours: grid[1..].to_vec(),
        availability: Vec::new(),
        ci95_low: Vec::new(),
        ci95_high: Vec::new(),
        exact: None,
    };
    for (&s, &sq) in t.bin_down.iter().zip(&t.bin_down_sq) {
        let mean = s / n;
        let var = if n > 1.0 {
            ((sq - s * mean) / (n - 1.0)).max(0.0)
        } else {
            0.0
        };
        let half = z * (var / n).sqrt();
        b.availability.push((1.0 - mean).clamp(0.0, 1.0));
        b.ci95_low.push((1.0 - mean - half).clamp(0.0, 1.0));
        b.ci95_high.push((1.0 - mean + half).clamp(0.0, 1.0));
    }
    let exponential_sf = analysis.method == Some(Method::StructureFunction)
        && analysis.interval.is_some()
        && model.instances.len() <= EXACT_CURVE_INSTANCES;
    if exponential_sf {
        if let Ok(sf) = Structure::new(model) {
            b.exact = Some(
                b.start_hours
                    .iter()
                    .zip(&b.end_hours)
                    .map(|(&a, &e)| interval_availability(model, &sf, a, e).clamp(0.0, 1.0))
                    .collect(),
            );
        }
    }
    Some(b)
}

/// The reliability curve of `t` on `grid`.
pub fn reliability(model: &Model, t: &Tally, grid: &[f64]) -> Option<Reliability> {
    let n = t.replications() as f64;
    if n == 0.0 || grid.is_empty() {
        return None;
    }
    let mut failed = 0u64;
    let mut r = Reliability {
        time_hours: grid.to_vec(),
        survival: Vec::new(),
        ci95_low: Vec::new(),
        ci95_high: Vec::new(),
        exact: series_rate(model).map(|rate| grid.iter().map(|&x| (-rate * x).exp()).collect()),
    };
    for j in 0..grid.len() {
        failed += t.first_failure_at.get(j).copied().unwrap_or(0);
        let s = (1.0 - failed as f64 / n).clamp(0.0, 1.0);
        let (lo, hi) = wilson(s, n);
        r.survival.push(s);
        r.ci95_low.push(lo);
        r.ci95_high.push(hi);
    }
    Some(r)
}

/// Σλ when the system is one exponential instance or a series of them and
/// no common cause acts: then R(t) = exp(−Σλ·t).
fn series_rate(model: &Model) -> Option<f64> {
    if !model.common_causes.is_empty() {
        return None;
    }
    let leaves: Vec<usize> = match &model.system {
        Node::Instance(i) => vec![*i],
        Node::Series(children) => children
            .iter()
            .map(|c| match c {
                Node::Instance(i) => Some(*i),
                _ => None,
            })
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut rate = 0.0;
    for i in leaves {
        if seen.insert(i) {
            rate += model.instances[i].failure.exponential_rate()?;
        }
    }
    Some(rate)
}

/// The 95% Wilson score interval of a proportion p from n trials.
pub fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.96;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}
