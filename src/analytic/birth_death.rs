//! Closed forms for k-of-n groups of identical exponential units: the
//! birth–death chain on the number failed, with `c` repairs at once
//! (dedicated repair: c = n), summed in log space.
//!
//! With λⱼ = (n − j)λ and μⱼ = min(j, c)μ, the stationary weights are
//! πⱼ ∝ Π_{i<j} λᵢ/μᵢ₊₁; the system is down from F = n − k + 1 failed on.
//! The mean time from all up to F failed is
//! Σ_{j<F} (Σ_{i≤j} πᵢ)/(πⱼλⱼ), a sum of positive terms (no cancellation),
//! and the outage rate is π_{F−1}λ_{F−1}/Σπ.

use crate::model::{Model, Node};

/// A k-of-n group of identical exponential units with `crew` repairs at
/// once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BirthDeath {
    /// Units.
    pub n: usize,
    /// Units needed up.
    pub k: usize,
    /// Failure rate of one unit.
    pub lambda: f64,
    /// Repair rate of one repair.
    pub mu: f64,
    /// Repairs at once.
    pub crew: usize,
}

impl BirthDeath {
    /// The group when the whole system is one series, parallel or k-of-n
    /// gate over distinct instances of one exponential component, without
    /// common causes, repaired by dedicated repair or by one crew that
    /// serves exactly them.
    pub fn of(model: &Model) -> Option<BirthDeath> {
        let (k, children) = match &model.system {
            Node::Series(c) => (c.len(), c),
            Node::Parallel(c) => (1, c),
            Node::KOfN { k, of } => (*k, of),
            _ => return None,
        };
        if !model.common_causes.is_empty() || children.len() != model.instances.len() {
            return None;
        }
        let mut seen = vec![false; model.instances.len()];
        for c in children {
            match c {
                Node::Instance(i) if !seen[*i] => seen[*i] = true,
                _ => return None,
            }
        }
        let first = model.instances.first()?;
        let lambda = first.failure.exponential_rate()?;
        let mu = first.repair.exponential_rate()?;
        if model.instances.iter().any(|i| {
            i.component != first.component
                || i.crew != first.crew
                || i.failure.exponential_rate() != Some(lambda)
                || i.repair.exponential_rate() != Some(mu)
        }) {
            return None;
        }
        let n = model.instances.len();
        let crew = match first.crew {
            None => n,
            Some(c) => model.crews[c].size.min(n),
        };
        Some(BirthDeath {
            n,
            k,
            lambda,
            mu,
            crew,
        })
    }

    fn up_rate(&self, j: usize) -> f64 {
        (self.n - j) as f64 * self.lambda
    }

    fn down_rate(&self, j: usize) -> f64 {
        j.min(self.crew) as f64 * self.mu
    }

    /// ln πⱼ (unnormalized, π₀ = 1), j = 0..=n.
    fn log_weights(&self) -> Vec<f64> {
        let mut w = vec![0.0; self.n + 1];
        for j in 0..self.n {
            w[j + 1] = w[j] + self.up_rate(j).ln() - self.down_rate(j + 1).ln();
        }
        w
    }

    /// Failed units from which the system is down.
    fn down_from(&self) -> usize {
        self.n + 1 - self.k
    }

    /// Steady-state (availability, unavailability), each summed directly.
    pub fn steady(&self) -> (f64, f64) {
        if self.k == 0 {
            return (1.0, 0.0);
        }
        let w = self.log_weights();
        let f = self.down_from();
        let total = log_sum(&w);
        (
            (log_sum(&w[..f]) - total).exp().min(1.0),
            (log_sum(&w[f..]) - total).exp().min(1.0),
        )
    }

    /// Steady-state system failures per hour.
    pub fn outage_rate(&self) -> f64 {
        if self.k == 0 {
            return 0.0;
        }
        let w = self.log_weights();
        let f = self.down_from();
        (w[f - 1] + self.up_rate(f - 1).ln() - log_sum(&w)).exp()
    }

    /// Mean time from all up to the first system failure; `None` when it
    /// does not fit in a double (or the system never fails).
    pub fn mttf(&self) -> Option<f64> {
        if self.k == 0 {
            return None;
        }
        let w = self.log_weights();
        let mut t = 0.0;
        let mut cumulative = f64::NEG_INFINITY;
        for (j, &wj) in w.iter().enumerate().take(self.down_from()) {
            // ln Σ_{i≤j} πᵢ, accumulated.
            let (hi, lo) = if cumulative > wj {
                (cumulative, wj)
            } else {
                (wj, cumulative)
            };
            cumulative = hi + (lo - hi).exp().ln_1p();
            t += (cumulative - w[j] - self.up_rate(j).ln()).exp();
        }
        (t.is_finite() && t > 0.0).then_some(t)
    }
}

/// ln Σ exp(xᵢ).
fn log_sum(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_of_four_with_one_crew_matches_reference() {
        // REFERENCE.md: four units, up while at least 2 are up, one crew,
        // failure rate ε, repair rate 1.
        for (eps, want) in [
            (1e-2, 2.328029e-5),
            (1e-3, 2.392800e-8),
            (1e-4, 2.399280e-11),
            (1e-5, 2.399928e-14),
        ] {
            let bd = BirthDeath {
                n: 4,
                k: 2,
                lambda: eps,
                mu: 1.0,
                crew: 1,
            };
            let u = bd.steady().1;
            assert!((u - want).abs() <= 1e-6 * want, "ε = {eps}: {u} vs {want}");
        }
    }

    #[test]
    fn mttf_of_four_in_parallel() {
        let bd = BirthDeath {
            n: 4,
            k: 1,
            lambda: 1e-6,
            mu: 1.0,
            crew: 4,
        };
        let t = bd.mttf().unwrap();
        assert!((t - 2.500011e23).abs() <= 1e-6 * 2.500011e23, "{t}");
    }
}
