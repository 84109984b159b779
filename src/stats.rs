//! Mergeable accumulators, confidence intervals and quantiles.
//!
//! Accumulators have `push` and `merge`; blocks of replications, threads and
//! shards all combine through `merge`, always in block order, so results do
//! not depend on how the work was split.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Count, mean and sum of squared deviations (Welford; Chan et al. merge).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Number of values.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Moments {
    /// Adds one value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Adds the values summarised by `other` (order matters for the last
    /// bit: always merge in block order).
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        let w = other.n as f64 / n as f64;
        self.mean += delta * w;
        self.m2 += other.m2 + delta * delta * self.n as f64 * w;
        self.n = n;
    }

    /// Sample variance (n − 1 in the denominator); 0 below two values.
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).max(0.0)
        }
    }

    /// Standard error of the mean.
    pub fn std_error(&self) -> f64 {
        (self.variance() / self.n.max(1) as f64).sqrt()
    }

    /// Two-sided confidence interval for the mean at `level` (e.g. 0.95),
    /// from Student's t with n − 1 degrees of freedom.
    pub fn ci(&self, level: f64) -> [f64; 2] {
        let half = t_quantile(1.0 - (1.0 - level) / 2.0, self.n) * self.std_error();
        [self.mean - half, self.mean + half]
    }
}

/// The `p` quantile (0.5 ≤ p < 1) of Student's t with n − 1 degrees of
/// freedom.
///
/// statrs' `StudentsT::inverse_cdf` does not return for some degrees of
/// freedom, so the quantile is found by bisection on its (reliable) CDF; above
/// 10⁵ degrees of freedom the Cornish–Fisher expansion around the normal
/// quantile is accurate to better than 1e-12.
pub fn t_quantile(p: f64, n: u64) -> f64 {
    let df = n.saturating_sub(1).max(1) as f64;
    if df > 1e5 {
        return cornish_fisher(normal_quantile(p), df);
    }
    let Ok(t) = StudentsT::new(0.0, 1.0, df) else {
        return f64::NAN;
    };
    let mut hi = 1.0;
    while t.cdf(hi) < p && hi < 1e12 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t.cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-14 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The standard normal quantile.
pub fn normal_quantile(p: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// Student's t quantile from the normal quantile z for large df (Abramowitz
/// & Stegun 26.7.5).
fn cornish_fisher(z: f64, df: f64) -> f64 {
    let (z2, z3) = (z * z, z * z * z);
    let (z5, z7) = (z3 * z2, z3 * z2 * z2);
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df * df * df)
}

/// The `p` quantile of sorted values, by linear interpolation between order
/// statistics (Hyndman–Fan type 7, as numpy and R use by default).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// An estimate of the system unavailability (1 − A) with its intervals:
/// the one shape every estimator returns (plain runs, precision rounds,
/// rare-event runs), and the one the stopping rule and the verdict read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnavailabilityEstimate {
    /// Point estimate of the unavailability.
    pub mean: f64,
    /// 95% confidence interval, within [0, 1].
    pub ci95: [f64; 2],
    /// 99.9% confidence interval, within [0, 1] (what verdicts use).
    pub ci999: [f64; 2],
    /// Half the 95% interval's width over the mean (infinite when the mean
    /// is 0).
    pub relative_half_width: f64,
    /// One-sided 95% upper bound when no down time was seen (then the
    /// intervals are not meaningful), else `None`.
    pub upper_bound95: Option<f64>,
    /// `Err(reason)` when the interval's coverage cannot be trusted for the
    /// data at hand: no verdict may be given from it, and the reason is
    /// shown to the user.
    pub trusted: Result<(), String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_equals_push_of_all_values() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1013) as f64 / 17.0)
            .collect();
        let mut whole = Moments::default();
        xs.iter().for_each(|&x| whole.push(x));
        let mut merged = Moments::default();
        for chunk in xs.chunks(64) {
            let mut m = Moments::default();
            chunk.iter().for_each(|&x| m.push(x));
            merged.merge(&m);
        }
        assert_eq!(whole.n, merged.n);
        assert!((whole.mean - merged.mean).abs() < 1e-12);
        assert!((whole.variance() - merged.variance()).abs() < 1e-9 * whole.variance());
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 999.0;
        assert!((whole.variance() - var).abs() < 1e-9 * var);
    }

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t_quantile(0.975, 11) - 2.228139).abs() < 1e-5);
        assert!((t_quantile(0.975, 1_000_001) - 1.959966).abs() < 1e-5);
        assert!((t_quantile(0.9995, 31) - 3.645959).abs() < 1e-4);
        assert!((t_quantile(0.975, 2) - 12.706205).abs() < 1e-5);
        assert!((t_quantile(0.975, 3) - 4.302653).abs() < 1e-5);
        assert!((t_quantile(0.975, 100_001) - 1.959986).abs() < 1e-5);
        assert!((t_quantile(0.9995, 1_000_000_000) - 3.290527).abs() < 1e-5);
    }

    #[test]
    fn quantile_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert!((quantile(&v, 0.9) - 3.7).abs() < 1e-12);
    }
}
