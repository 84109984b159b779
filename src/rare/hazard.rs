//! Cumulative hazards of lifetime distributions, for failure biasing.
//!
//! A failure clock fires when the cumulative hazard it has accumulated
//! reaches an Exp(1) draw; scaling its hazard by b means accumulating
//! b·ΔH, and the likelihood ratio of a sojourn of the clock without firing
//! is exp((b − 1)·ΔH) (times 1/b when it fires). This needs H(x) = −ln S(x)
//! and its inverse for every continuous law; deterministic and empirical
//! lives have no hazard and run unbiased.

use statrs::function::erf::erfc;
use statrs::function::gamma::{gamma_ur, ln_gamma};

use crate::model::Dist;

/// Whether failure clocks with this life can be biased through their
/// hazard.
pub fn has_hazard(d: &Dist) -> bool {
    matches!(
        d,
        Dist::Exponential { .. }
            | Dist::Weibull { .. }
            | Dist::LogNormal { .. }
            | Dist::Gamma { .. }
            | Dist::Normal { .. }
            | Dist::Uniform { .. }
    ) && d.is_continuous()
}

/// The cumulative hazard H(x) = −ln P(X > x), for x ≥ 0 (infinite past the
/// support).
///
/// # Formula
/// ```text
/// exponential: x/mean          weibull: (x/scale)^shape
/// others:      −ln S(x), S from erfc or the regularised upper gamma
/// ```
pub fn cum_hazard(d: &Dist, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    match d {
        Dist::Exponential { mean } => x / mean,
        Dist::Weibull { shape, scale } => (x / scale).powf(*shape),
        Dist::Uniform { min, max } => {
            if x <= *min {
                0.0
            } else if x >= *max {
                f64::INFINITY
            } else {
                -((max - x) / (max - min)).ln()
            }
        }
        _ => -survival(d, x).ln(),
    }
}

/// The hazard rate h(x) = dH/dx at age x (closed form for exponential and
/// Weibull lives, a central difference of H otherwise).
pub fn hazard_rate(d: &Dist, x: f64) -> f64 {
    match d {
        Dist::Exponential { mean } => mean.recip(),
        Dist::Weibull { shape, scale } => {
            let x = x.max(1e-12 * scale);
            shape / scale * (x / scale).powf(shape - 1.0)
        }
        Dist::LogNormal { mu, sigma } if x > 0.0 => {
            let z = (x.ln() - mu) / sigma;
            let tail = 0.5 * erfc(z / std::f64::consts::SQRT_2);
            if tail > 0.0 {
                (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt() / (sigma * x * tail)
            } else {
                // Mills ratio: the hazard tends to z/(σx).
                z / (sigma * x)
            }
        }
        Dist::Gamma { shape, scale, .. } if x > 0.0 => {
            let y = x / scale;
            let tail = gamma_ur(*shape, y);
            let log_pdf = (shape - 1.0) * y.ln() - y - ln_gamma(*shape) - scale.ln();
            if tail > 0.0 {
                (log_pdf - tail.ln()).exp()
            } else {
                // Far in the tail the hazard tends to the rate 1/scale.
                scale.recip()
            }
        }
        _ => {
            let step = 1e-6 * x.max(1e-6 * d.mean());
            let lo = (x - step).max(0.0);
            let hi = x + step;
            ((cum_hazard(d, hi) - cum_hazard(d, lo)) / (hi - lo)).max(0.0)
        }
    }
}

/// The survival function of the laws without a closed-form hazard.
fn survival(d: &Dist, x: f64) -> f64 {
    match d {
        Dist::LogNormal { mu, sigma } => {
            0.5 * erfc((x.ln() - mu) / (sigma * std::f64::consts::SQRT_2))
        }
        Dist::Gamma { shape, scale, .. } => gamma_ur(*shape, x / scale),
        Dist::Normal { mean, sd } => {
            let tail = |z: f64| 0.5 * erfc(z / std::f64::consts::SQRT_2);
            tail((x - mean) / sd) / tail(-mean / sd)
        }
        _ => 1.0,
    }
}

/// The age x at which the cumulative hazard reaches `y` (the inverse of
/// [`cum_hazard`]).
pub fn inv_cum_hazard(d: &Dist, y: f64) -> f64 {
    if y <= 0.0 {
        return 0.0;
    }
    if !y.is_finite() {
        return f64::INFINITY;
    }
    match d {
        Dist::Exponential { mean } => y * mean,
        Dist::Weibull { shape, scale } => scale * y.powf(shape.recip()),
        Dist::Uniform { min, max } => max - (max - min) * (-y).exp(),
        _ => bisect(d, y),
    }
}

/// Inverts a monotone cumulative hazard by bisection on a bracket grown
/// from the mean.
fn bisect(d: &Dist, y: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, d.mean().max(1e-12));
    let mut grow = 0;
    while cum_hazard(d, hi) < y && grow < 200 {
        lo = hi;
        hi *= 2.0;
        grow += 1;
    }
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if cum_hazard(d, mid) < y {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_inverts_for_every_law() {
        let laws = [
            Dist::exponential(10.0).unwrap(),
            Dist::weibull_mean(1.5, 2000.0).unwrap(),
            Dist::lognormal_mean_cv(4.0, 1.0).unwrap(),
            Dist::gamma(2.0, 6.0).unwrap(),
            Dist::normal(10.0, 3.0).unwrap(),
            Dist::uniform(1.0, 5.0).unwrap(),
        ];
        for d in &laws {
            for y in [1e-6, 0.01, 0.5, 1.0, 3.0, 10.0] {
                let x = inv_cum_hazard(d, y);
                let back = cum_hazard(d, x);
                assert!(
                    (back - y).abs() <= 1e-8 * y.max(1.0),
                    "{d}: H(H⁻¹({y})) = {back}"
                );
            }
        }
    }

    #[test]
    fn closed_form_hazard_rates_match_the_derivative_of_h() {
        for d in [
            Dist::lognormal_mean_cv(4.0, 1.0).unwrap(),
            Dist::gamma(2.0, 6.0).unwrap(),
        ] {
            for x in [0.5, 3.0, 12.0, 40.0] {
                let step = 1e-5 * x;
                let numeric = (cum_hazard(&d, x + step) - cum_hazard(&d, x - step)) / (2.0 * step);
                let h = hazard_rate(&d, x);
                assert!(
                    (h / numeric - 1.0).abs() < 1e-5,
                    "{d} at {x}: {h} vs {numeric}"
                );
            }
        }
    }

    #[test]
    fn hazard_matches_the_survival_of_a_sample() {
        // P(X > median) = 1/2, so H(median) = ln 2: lognormal median e^mu.
        let d = Dist::lognormal(1.0, 0.5).unwrap();
        assert!((cum_hazard(&d, 1f64.exp()) - 2f64.ln()).abs() < 1e-12);
        let w = Dist::weibull(2.0, 3.0).unwrap();
        assert!((cum_hazard(&w, 3.0) - 1.0).abs() < 1e-12);
    }
}
