//! The Markov-chain methods: the exact chain (`ctmc`) when every delay has
//! an exact phase-type form, and the phase-type expansion
//! (`ctmc-phase-type`) with Richardson extrapolation in 1/k and a stated
//! error bound when some delay is fixed, uniform or empirical.

use std::time::{Duration, Instant};

use super::birth_death::BirthDeath;
use super::ctmc::{Chain, GTH_STATES};
use super::{Analysis, Method};
use crate::model::Model;

/// Groups of identical units at least this large use the closed
/// birth–death forms (steady state, MTTF, outage rate; no interval value)
/// rather than the chain.
const BIRTH_DEATH_FROM: usize = 500;
/// Expansion levels tried, in order (stages per longest fixed delay).
const LEVELS: [usize; 7] = [4, 8, 16, 32, 64, 128, 256];
/// Largest expanded chain built.
const PH_STATES: usize = 400_000;
/// Time after which no finer expansion is started.
const PH_TIME: Duration = Duration::from_millis(1500);
/// Relative error bound at which the expansion stops refining.
const PH_TARGET: f64 = 1e-4;

/// Whether `x` is a probability that may be printed (rounding just above
/// 1 allowed; see [`super::probability`]).
fn probability(x: f64) -> bool {
    super::probability(x).is_some()
}

/// The Markov analysis of `model`, or the reason it does not apply.
///
/// # Errors
/// Why no chain could be built or solved (the caller falls back to the
/// stated approximation).
pub fn analyze(model: &Model, why: &str) -> Result<Analysis, String> {
    if let Some(bd) = BirthDeath::of(model) {
        if bd.n >= BIRTH_DEATH_FROM {
            return birth_death(&bd, why);
        }
    }
    let chain = Chain::expanded(model, LEVELS[0])?;
    if chain.is_exact() {
        exact(model, &chain, why)
    } else {
        phase_type(model, chain, why)
    }
}

fn exact(model: &Model, chain: &Chain, why: &str) -> Result<Analysis, String> {
    let (a, u) = chain.steady()?;
    if !probability(a) || !probability(u) {
        return Err("the chain's steady state is not a probability".into());
    }
    let sim = &model.simulation;
    let mut notes = Vec::new();
    let interval = match chain.interval_both(sim.warmup, sim.horizon) {
        Ok((ia, iu)) if probability(ia) && probability(iu) => Some((ia, iu)),
        Ok(_) => {
            notes.push("the interval value came out of range and is not given".to_string());
            None
        }
        Err(e) => {
            notes.push(format!("no interval value: {e}"));
            None
        }
    };
    let mttf = match chain.mttf_checked() {
        Ok(m) => m,
        Err(e) => {
            notes.push(format!("no MTTF: {e}"));
            None
        }
    };
    let outage_rate = chain
        .outage_rate()
        .ok()
        .filter(|r| r.is_finite() && *r >= 0.0);
    let (solver, exact, bound) = match chain.residual() {
        None => ("GTH elimination".to_string(), true, 0.0),
        Some(r) => (
            format!("Gauss–Seidel to a relative residual of {r:.1e}"),
            false,
            // The residual bounds the relative error of the probabilities
            // times the chain's condition; 10⁶ × residual, relative.
            (r * 1e6 * u.min(a)).max(f64::MIN_POSITIVE),
        ),
    };
    let mut note = format!(
        "continuous-time Markov chain of {} states, {solver} ({why})",
        chain.states()
    );
    for n in notes {
        note.push_str("; ");
        note.push_str(&n);
    }
    Ok(Analysis {
        method: Some(Method::Ctmc),
        exact,
        steady_state: Some(a),
        interval: interval.map(|x| x.0),
        mttf_hours: mttf,
        note,
        startup_bias: None,
        startup_bias_allowance: None,
        error_bound: Some(bound),
        states: Some(chain.states()),
        outage_rate,
        steady_unavailability: Some(u),
        interval_unavailability: interval.map(|x| x.1),
    })
}

fn birth_death(bd: &BirthDeath, why: &str) -> Result<Analysis, String> {
    let (a, u) = bd.steady();
    if !probability(a) || !probability(u) {
        return Err("the birth–death figures are out of range".into());
    }
    let rate = bd.outage_rate();
    Ok(Analysis {
        method: Some(Method::Ctmc),
        exact: true,
        steady_state: Some(a),
        interval: None,
        mttf_hours: bd.mttf(),
        note: format!(
            "birth–death chain of {} identical exponential units, {}-of-{}, {} repair{} at once, closed form in log space ({why}); steady state only",
            bd.n,
            bd.k,
            bd.n,
            bd.crew,
            if bd.crew == 1 { "" } else { "s" }
        ),
        startup_bias: None,
        startup_bias_allowance: None,
        error_bound: Some(0.0),
        states: Some(bd.n + 1),
        outage_rate: (rate.is_finite() && rate >= 0.0).then_some(rate),
        steady_unavailability: Some(u),
        interval_unavailability: None,
    })
}

/// One level's figures.
#[derive(Clone, Copy, Debug)]
struct Level {
    k: usize,
    a: f64,
    u: f64,
    rate: f64,
    states: usize,
}

fn solve_level(chain: &Chain, k: usize) -> Result<Level, String> {
    let (a, u) = chain.steady()?;
    let rate = chain.outage_rate()?;
    if !probability(a) || !probability(u) || !rate.is_finite() {
        return Err(format!(
            "the expansion at {k} stages gave figures out of range"
        ));
    }
    Ok(Level {
        k,
        a,
        u,
        rate,
        states: chain.states(),
    })
}

/// Richardson extrapolation in h = 1/k of values at k, 2k, 4k, …: the
/// last second-order value, and an error bound: three times the larger of
/// its distance to the last first-order value and to the previous
/// second-order value.
pub fn richardson(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    match n {
        0 => (f64::NAN, f64::INFINITY),
        1 => (values[0], f64::INFINITY),
        2 => {
            let r1 = 2.0 * values[1] - values[0];
            (r1, 3.0 * (r1 - values[1]).abs())
        }
        _ => {
            let r1 = |i: usize| 2.0 * values[i] - values[i - 1];
            let r2 = |i: usize| (8.0 * values[i] - 6.0 * values[i - 1] + values[i - 2]) / 3.0;
            let best = r2(n - 1);
            let mut spread = (best - r1(n - 1)).abs();
            if n >= 4 {
                spread = spread.max((best - r2(n - 2)).abs());
            }
            (best, 3.0 * spread)
        }
    }
}

fn phase_type(model: &Model, first: Chain, why: &str) -> Result<Analysis, String> {
    let started = Instant::now();
    let mut levels = vec![solve_level(&first, LEVELS[0])?];
    let mut stop = String::new();
    for &k in &LEVELS[1..] {
        let last = levels[levels.len() - 1];
        if levels.len() >= 3 {
            let us: Vec<f64> = levels.iter().map(|l| l.u).collect();
            let (u, bound) = richardson(&us);
            if bound <= PH_TARGET * u.abs() {
                break;
            }
        }
        // States grow by about the ratio of the last doubling.
        let growth = if levels.len() >= 2 {
            last.states as f64 / levels[levels.len() - 2].states as f64
        } else {
            4.0
        };
        if last.states as f64 * growth > PH_STATES as f64 {
            stop = format!("a finer expansion would exceed {PH_STATES} states");
            break;
        }
        if started.elapsed() > PH_TIME {
            stop = "the time budget for the expansion ran out".into();
            break;
        }
        let chain = Chain::expanded(model, k)?;
        match solve_level(&chain, k) {
            Ok(l) => levels.push(l),
            Err(e) => {
                stop = e;
                break;
            }
        }
    }
    if levels.len() < 3 {
        return Err(format!(
            "the phase-type expansion could not be refined enough for a bound ({stop})"
        ));
    }
    let us: Vec<f64> = levels.iter().map(|l| l.u).collect();
    let as_: Vec<f64> = levels.iter().map(|l| l.a).collect();
    let rates: Vec<f64> = levels.iter().map(|l| l.rate).collect();
    let (u, bound_u) = richardson(&us);
    let (a, bound_a) = richardson(&as_);
    let (rate, _) = richardson(&rates);
    if !(probability(u) && probability(a) && bound_u.is_finite() && bound_a.is_finite()) {
        return Err("the extrapolated phase-type figures are out of range".into());
    }
    let bound = bound_u.max(bound_a).max(f64::EPSILON * u);
    let last = levels[levels.len() - 1];
    let ks: Vec<String> = levels.iter().map(|l| l.k.to_string()).collect();
    let mut note = format!(
        "continuous-time Markov chain with fixed, uniform and empirical delays expanded into phase-type stages (k = {} per longest delay; {} states at the finest, {}), extrapolated in 1/k: unavailability ±{:.1e} ({why}); steady state only",
        ks.join(", "),
        last.states,
        if last.states <= GTH_STATES { "GTH" } else { "Gauss–Seidel" },
        bound
    );
    if !stop.is_empty() {
        note.push_str("; stopped refining: ");
        note.push_str(&stop);
    }
    Ok(Analysis {
        method: Some(Method::CtmcPhaseType),
        exact: false,
        steady_state: Some(a),
        interval: None,
        mttf_hours: None,
        note,
        startup_bias: None,
        startup_bias_allowance: None,
        error_bound: Some(bound),
        states: Some(last.states),
        outage_rate: (rate.is_finite() && rate >= 0.0).then_some(rate),
        steady_unavailability: Some(u),
        interval_unavailability: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn richardson_removes_first_and_second_order_terms() {
        let f = |k: f64| 2.0 + 3.0 / k + 5.0 / (k * k);
        let (v, bound) = richardson(&[f(4.0), f(8.0), f(16.0)]);
        assert!((v - 2.0).abs() < 1e-12, "{v}");
        assert!(bound < 1.0);
        let g = |k: f64| 2.0 + 3.0 / k + 5.0 / (k * k) + 7.0 / (k * k * k);
        let (v, bound) = richardson(&[g(4.0), g(8.0), g(16.0), g(32.0)]);
        assert!((v - 2.0).abs() <= bound, "{v} ± {bound}");
    }
}
