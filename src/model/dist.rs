//! Failure and repair time distributions (hours).
//!
//! Each constructor validates its parameters (written `!(x > 0.0)` so that NaN
//! is rejected) and precomputes what sampling needs; [`Dist::mean`] gives
//! the exact mean used by the analytic check.

use std::fmt;
use std::sync::Arc;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, StandardNormal};
use statrs::function::{erf::erfc, gamma::gamma};

/// A distribution of durations in hours.
#[derive(Clone, Debug)]
pub enum Dist {
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Weibull: `scale · E^(1/shape)` with `E ~ Exp(1)`.
    Weibull {
        /// Shape k.
        shape: f64,
        /// Scale λ.
        scale: f64,
    },
    /// Log-normal: `exp(mu + sigma · Z)`.
    LogNormal {
        /// Mean of ln(hours).
        mu: f64,
        /// Standard deviation of ln(hours).
        sigma: f64,
    },
    /// Gamma with shape k and scale θ.
    Gamma {
        /// Shape k.
        shape: f64,
        /// Scale θ.
        scale: f64,
        /// The sampler, built once.
        sampler: rand_distr::Gamma<f64>,
    },
    /// Normal truncated at zero (resampled until positive).
    Normal {
        /// Mean of the untruncated normal.
        mean: f64,
        /// Standard deviation of the untruncated normal.
        sd: f64,
    },
    /// Uniform on [min, max].
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Always the same value.
    Deterministic {
        /// The value.
        value: f64,
    },
    /// Drawn uniformly with replacement from observed durations.
    Empirical {
        /// The observations.
        samples: Arc<[f64]>,
    },
}

fn positive(name: &str, x: f64) -> Result<f64, String> {
    if x > 0.0 && x.is_finite() {
        Ok(x)
    } else {
        Err(format!(
            "{name} must be a positive, finite number, got {}",
            number(x)
        ))
    }
}

impl Dist {
    /// Exponential with the given mean.
    ///
    /// # Errors
    /// When the mean is not positive and finite.
    pub fn exponential(mean: f64) -> Result<Dist, String> {
        Ok(Dist::Exponential {
            mean: positive("mean", mean)?,
        })
    }

    /// Weibull from shape and scale.
    ///
    /// # Errors
    /// When a parameter is not positive and finite.
    pub fn weibull(shape: f64, scale: f64) -> Result<Dist, String> {
        Ok(Dist::Weibull {
            shape: positive("shape", shape)?,
            scale: positive("scale", scale)?,
        })
    }

    /// Weibull from shape and mean: scale = mean / Γ(1 + 1/shape).
    ///
    /// # Errors
    /// When a parameter is not positive and finite, or the shape is so small
    /// that the scale underflows.
    pub fn weibull_mean(shape: f64, mean: f64) -> Result<Dist, String> {
        let shape = positive("shape", shape)?;
        let mean = positive("mean", mean)?;
        let scale = mean / gamma(1.0 + 1.0 / shape);
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(format!(
                "shape {} is too small to compute a scale from the mean; give `scale` instead",
                number(shape)
            ));
        }
        Dist::weibull(shape, scale)
    }

    /// Log-normal from the mean and coefficient of variation.
    ///
    /// # Formula
    /// ```text
    /// sigma² = ln(1 + cv²),  mu = ln(mean) − sigma²/2
    /// ```
    ///
    /// # Errors
    /// When the mean is not positive or cv is negative.
    pub fn lognormal_mean_cv(mean: f64, cv: f64) -> Result<Dist, String> {
        let mean = positive("mean", mean)?;
        if !(cv >= 0.0 && cv.is_finite()) {
            return Err(format!("cv must be zero or more, got {}", number(cv)));
        }
        let s2 = cv.mul_add(cv, 1.0).ln();
        Dist::lognormal(mean.ln() - s2 / 2.0, s2.sqrt())
    }

    /// Log-normal from mu and sigma of ln(hours).
    ///
    /// # Errors
    /// When mu is not finite or sigma is negative, or the mean overflows.
    pub fn lognormal(mu: f64, sigma: f64) -> Result<Dist, String> {
        if !mu.is_finite() {
            return Err(format!("mu must be a finite number, got {}", number(mu)));
        }
        if !(sigma >= 0.0 && sigma.is_finite()) {
            return Err(format!("sigma must be zero or more, got {}", number(sigma)));
        }
        let d = Dist::LogNormal { mu, sigma };
        positive("the mean exp(mu + sigma²/2)", d.mean())?;
        Ok(d)
    }

    /// Gamma from shape and scale.
    ///
    /// # Errors
    /// When a parameter is not positive and finite.
    pub fn gamma(shape: f64, scale: f64) -> Result<Dist, String> {
        let shape = positive("shape", shape)?;
        let scale = positive("scale", scale)?;
        let sampler = rand_distr::Gamma::new(shape, scale).map_err(|e| e.to_string())?;
        positive("the mean shape·scale", shape * scale)?;
        Ok(Dist::Gamma {
            shape,
            scale,
            sampler,
        })
    }

    /// Normal truncated at zero.
    ///
    /// # Errors
    /// When the mean is not positive (half or more of the draws would be
    /// rejected) or sd is negative.
    pub fn normal(mean: f64, sd: f64) -> Result<Dist, String> {
        let mean = positive("mean", mean)?;
        if !(sd >= 0.0 && sd.is_finite()) {
            return Err(format!("sd must be zero or more, got {}", number(sd)));
        }
        Ok(Dist::Normal { mean, sd })
    }

    /// Uniform on [min, max].
    ///
    /// # Errors
    /// When min > max or max is zero.
    pub fn uniform(min: f64, max: f64) -> Result<Dist, String> {
        if min.is_nan() || min > max {
            return Err(format!(
                "min ({}) must not exceed max ({})",
                number(min),
                number(max)
            ));
        }
        positive("max", max)?;
        Ok(Dist::Uniform { min, max })
    }

    /// Always `value`.
    ///
    /// # Errors
    /// When the value is not positive.
    pub fn deterministic(value: f64) -> Result<Dist, String> {
        Ok(Dist::Deterministic {
            value: positive("value", value)?,
        })
    }

    /// A fixed delay, zero allowed (for detection, failover and recovery
    /// times, where zero means "at once").
    ///
    /// # Errors
    /// When the value is negative or not finite.
    pub fn fixed(value: f64) -> Result<Dist, String> {
        if value >= 0.0 && value.is_finite() {
            Ok(Dist::Deterministic { value })
        } else {
            Err(format!("value must be zero or more, got {}", number(value)))
        }
    }

    /// Uniform draws with replacement from `samples`.
    ///
    /// # Errors
    /// When the list is empty or its mean is zero.
    pub fn empirical(samples: Vec<f64>) -> Result<Dist, String> {
        if samples.is_empty() {
            return Err("samples must not be empty".into());
        }
        let d = Dist::Empirical {
            samples: samples.into(),
        };
        positive("the mean of the samples", d.mean())?;
        Ok(d)
    }

    /// The exact mean in hours.
    ///
    /// # Formula
    /// ```text
    /// weibull:   scale · Γ(1 + 1/shape)
    /// lognormal: exp(mu + sigma²/2)
    /// normal truncated at 0, α = −mean/sd:  mean + sd · φ(α) / (1 − Φ(α))
    /// ```
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential { mean } => *mean,
            Dist::Weibull { shape, scale } => scale * gamma(1.0 + 1.0 / shape),
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Normal { mean, sd } => truncated_normal_mean(*mean, *sd),
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Deterministic { value } => *value,
            Dist::Empirical { samples } => samples.iter().sum::<f64>() / samples.len() as f64,
        }
    }

    /// The exact second moment E(X²) in hours².
    ///
    /// # Formula
    /// ```text
    /// exponential: 2·mean²        weibull: scale²·Γ(1 + 2/shape)
    /// lognormal:   exp(2mu + 2sigma²)   gamma: shape·(shape + 1)·scale²
    /// normal truncated at 0, α = −mean/sd, λ = φ(α)/(1 − Φ(α)):
    ///              sd²·(1 + αλ − λ²) + (mean + sd·λ)²
    /// uniform:     (min² + min·max + max²)/3
    /// ```
    pub fn second_moment(&self) -> f64 {
        match self {
            Dist::Exponential { mean } => 2.0 * mean * mean,
            Dist::Weibull { shape, scale } => scale * scale * gamma(1.0 + 2.0 / shape),
            Dist::LogNormal { mu, sigma } => (2.0 * mu + 2.0 * sigma * sigma).exp(),
            Dist::Gamma { shape, scale, .. } => shape * (shape + 1.0) * scale * scale,
            Dist::Normal { mean, sd } => {
                if *sd == 0.0 {
                    return mean * mean;
                }
                let alpha = -mean / sd;
                let pdf = (-alpha * alpha / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
                let lambda = pdf / (0.5 * erfc(alpha / std::f64::consts::SQRT_2));
                let m = mean + sd * lambda;
                sd * sd * (1.0 + alpha * lambda - lambda * lambda) + m * m
            }
            Dist::Uniform { min, max } => (min * min + min * max + max * max) / 3.0,
            Dist::Deterministic { value } => value * value,
            Dist::Empirical { samples } => {
                samples.iter().map(|x| x * x).sum::<f64>() / samples.len() as f64
            }
        }
    }

    /// Whether two independent draws tie with probability zero: false for
    /// deterministic and empirical durations and for a uniform of zero
    /// width.
    pub fn is_continuous(&self) -> bool {
        match self {
            Dist::Deterministic { .. } | Dist::Empirical { .. } => false,
            Dist::Uniform { min, max } => min < max,
            _ => true,
        }
    }

    /// The rate 1/mean when the distribution is exponential.
    pub fn exponential_rate(&self) -> Option<f64> {
        match self {
            Dist::Exponential { mean } => Some(1.0 / mean),
            _ => None,
        }
    }

    /// Draws one duration.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Dist::Weibull { shape, scale } => {
                let e: f64 = Exp1.sample(rng);
                scale * e.powf(shape.recip())
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                sigma.mul_add(z, *mu).exp()
            }
            Dist::Gamma { sampler, .. } => sampler.sample(rng),
            Dist::Normal { mean, sd } => loop {
                let z: f64 = StandardNormal.sample(rng);
                let x = sd.mul_add(z, *mean);
                if x > 0.0 {
                    break x;
                }
            },
            Dist::Uniform { min, max } => {
                let u: f64 = rng.random();
                (max - min).mul_add(u, *min)
            }
            Dist::Deterministic { value } => *value,
            Dist::Empirical { samples } => samples[rng.random_range(0..samples.len())],
        }
    }
}

fn truncated_normal_mean(mean: f64, sd: f64) -> f64 {
    if sd == 0.0 {
        return mean;
    }
    let alpha = -mean / sd;
    let pdf = (-alpha * alpha / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let tail = 0.5 * erfc(alpha / std::f64::consts::SQRT_2);
    mean + sd * pdf / tail
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dist::Exponential { mean } => write!(f, "exponential(mean {})", hours(*mean)),
            Dist::Weibull { shape, scale } => write!(
                f,
                "weibull(shape {shape}, scale {}, mean {})",
                hours(*scale),
                hours(self.mean())
            ),
            Dist::LogNormal { mu, sigma } => write!(
                f,
                "lognormal(mu {mu:.4}, sigma {sigma:.4}, mean {})",
                hours(self.mean())
            ),
            Dist::Gamma { shape, scale, .. } => write!(
                f,
                "gamma(shape {shape}, scale {}, mean {})",
                hours(*scale),
                hours(self.mean())
            ),
            Dist::Normal { mean, sd } => write!(
                f,
                "normal(mean {}, sd {}, truncated at 0)",
                hours(*mean),
                hours(*sd)
            ),
            Dist::Uniform { min, max } => {
                write!(f, "uniform({} .. {})", hours(*min), hours(*max))
            }
            Dist::Deterministic { value } => write!(f, "deterministic({})", hours(*value)),
            Dist::Empirical { samples } => write!(
                f,
                "empirical({} samples, mean {})",
                samples.len(),
                hours(self.mean())
            ),
        }
    }
}

/// Formats a duration given in hours with up to 6 significant digits, in
/// seconds or minutes below an hour and in hours above.
pub fn hours(h: f64) -> String {
    if h > 0.0 && h < 1.0 / 60.0 {
        format!("{} s", significant(h * 3600.0, 6))
    } else if h > 0.0 && h < 1.0 {
        format!("{} min", significant(h * 60.0, 6))
    } else {
        format!("{} h", significant(h, 6))
    }
}

/// Formats a number as typed or computed, in full (the shortest text that
/// reads back as the same number), in scientific notation from ten million
/// up and below 0.0001: `1e-300`, not three hundred digits.
pub fn number(x: f64) -> String {
    let magnitude = if x == 0.0 || !x.is_finite() {
        0.0
    } else {
        x.abs().log10().floor()
    };
    if (-4.0..7.0).contains(&magnitude) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// Formats a number with at most `digits` significant digits, without
/// trailing zeros.
pub fn significant(x: f64, digits: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        return format!("{:.*e}", digits.saturating_sub(1), x);
    }
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn sample_mean(d: &Dist, n: usize) -> (f64, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        (m, (v / n as f64).sqrt())
    }

    #[test]
    fn sample_means_match_exact_means() {
        let cases = [
            Dist::exponential(3.0).unwrap(),
            Dist::weibull_mean(1.3, 2000.0).unwrap(),
            Dist::weibull_mean(0.7, 5.0).unwrap(),
            Dist::lognormal_mean_cv(8.0, 0.6).unwrap(),
            Dist::lognormal(1.0, 0.5).unwrap(),
            Dist::gamma(2.5, 4.0).unwrap(),
            Dist::normal(2.0, 3.0).unwrap(),
            Dist::uniform(1.0, 5.0).unwrap(),
            Dist::deterministic(7.0).unwrap(),
            Dist::empirical(vec![1.0, 2.0, 6.0]).unwrap(),
        ];
        for d in &cases {
            let (m, se) = sample_mean(d, 200_000);
            let exact = d.mean();
            assert!(
                (m - exact).abs() <= 4.5 * se + 1e-12 * exact,
                "{d}: sample mean {m} vs exact {exact} (se {se})"
            );
        }
    }

    #[test]
    fn sample_second_moments_match_exact_ones() {
        let cases = [
            Dist::exponential(3.0).unwrap(),
            Dist::weibull_mean(1.3, 20.0).unwrap(),
            Dist::lognormal_mean_cv(8.0, 0.6).unwrap(),
            Dist::gamma(2.5, 4.0).unwrap(),
            Dist::normal(2.0, 3.0).unwrap(),
            Dist::uniform(1.0, 5.0).unwrap(),
            Dist::empirical(vec![1.0, 2.0, 6.0]).unwrap(),
        ];
        for d in &cases {
            let mut rng = ChaCha8Rng::seed_from_u64(12);
            let n = 400_000;
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng).powi(2)).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se = (v / n as f64).sqrt();
            let exact = d.second_moment();
            assert!(
                (m - exact).abs() <= 4.5 * se,
                "{d}: {m} vs {exact} (se {se})"
            );
        }
    }

    #[test]
    fn weibull_mean_parameterisation_is_exact() {
        let d = Dist::weibull_mean(2.0, 800.0).unwrap();
        assert!((d.mean() - 800.0).abs() < 1e-9);
        let d = Dist::lognormal_mean_cv(12.0, 1.0).unwrap();
        assert!((d.mean() - 12.0).abs() < 1e-12);
    }

    #[test]
    fn invalid_parameters_are_errors() {
        assert!(Dist::exponential(0.0).is_err());
        assert!(Dist::exponential(f64::NAN).is_err());
        assert!(Dist::weibull(-1.0, 1.0).is_err());
        assert!(Dist::weibull_mean(1e-3, 1.0).is_err());
        assert!(Dist::lognormal_mean_cv(1.0, -0.1).is_err());
        assert!(Dist::gamma(0.0, 1.0).is_err());
        assert!(Dist::normal(-1.0, 1.0).is_err());
        assert!(Dist::uniform(3.0, 2.0).is_err());
        assert!(Dist::uniform(0.0, 0.0).is_err());
        assert!(Dist::empirical(vec![]).is_err());
        assert!(Dist::empirical(vec![0.0, 0.0]).is_err());
    }

    #[test]
    fn significant_digits() {
        assert_eq!(significant(2000.0, 6), "2000");
        assert_eq!(significant(0.025, 6), "0.025");
        assert_eq!(significant(1.0 / 3.0, 4), "0.3333");
        assert_eq!(significant(87600.0, 6), "87600");
    }
}
