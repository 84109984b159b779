//! Analytic figures for maintenance, latent failures, spares and load
//! sharing (SPEC §9), each a small self-contained solver:
//!
//! - **load sharing**: a k-of-n (or parallel) node over n identical
//!   exponential instances with dedicated repair and nothing else: the
//!   birth–death chain on the number j failed, failure rate
//!   (n−j)·λ·(n/(n−j))^a, repair rate j·μ; exact steady state.
//! - **spares**: the same node with one spare pool, exponential lead times
//!   and dedicated repair: a chain on (parts out o, repairs under way r);
//!   with o > stock, o − stock repairs wait for parts. Exact steady state.
//! - **latent**: one unit, every failure hidden, exponential life,
//!   deterministic repair r, tests every τ of duration d with r, d < τ:
//!   the two-state chain at test instants (up or hidden), exact.
//!
//! Everything else with §9 constructs has no method (stated), never a
//! wrong "exact" figure.

use super::{Analysis, Method};
use crate::model::{Dist, Model, Node};

/// Stationary distribution of a birth–death chain with rates `up[j]`
/// (j → j+1) and `down[j]` (j+1 → j), by products of ratios (no
/// subtraction).
pub fn birth_death(up: &[f64], down: &[f64]) -> Vec<f64> {
    let mut w = vec![1.0];
    for j in 0..up.len() {
        let next = w[j] * up[j] / down[j];
        w.push(next);
    }
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

/// Steady-state availability of a k-of-n node of identical exponential
/// units (failure rate λ, dedicated repair rate μ) with load-sharing
/// exponent a.
pub fn load_sharing_availability(n: u32, k: u32, lambda: f64, mu: f64, a: f64) -> (f64, f64) {
    let up: Vec<f64> = (0..n)
        .map(|j| {
            let m = n - j;
            f64::from(m) * lambda * (f64::from(n) / f64::from(m)).powf(a)
        })
        .collect();
    let down: Vec<f64> = (1..=n).map(|j| f64::from(j) * mu).collect();
    let pi = birth_death(&up, &down);
    let avail: f64 = pi[..=(n - k) as usize].iter().sum();
    let unavail: f64 = pi[(n - k + 1) as usize..].iter().sum();
    (avail, unavail)
}

/// Steady state of n identical exponential units (rate λ, dedicated
/// repair rate μ) sharing one spare pool of `stock` parts with exponential
/// lead time of rate ν: the probability of each number of failed units.
///
/// # Formula
/// ```text
/// state (o, r): o parts out (o − stock repairs wait when o > stock),
/// r repairs under way; failed units = r + max(0, o − stock).
/// (o, r) → (o+1, r+1) at (n − failed)·λ if o < stock, else (o+1, r)
/// (o, r) → (o, r−1) at r·μ
/// (o, r) → (o−1, r+1) at o·ν if o > stock (a waiting repair starts),
///          else (o−1, r)
/// ```
pub fn spares_failed_distribution(n: u32, stock: u32, lambda: f64, mu: f64, nu: f64) -> Vec<f64> {
    let max_o = n + stock;
    let mut states: Vec<(u32, u32)> = Vec::new();
    for o in 0..=max_o {
        for r in 0..=n {
            let waiting = o.saturating_sub(stock);
            if r + waiting <= n {
                states.push((o, r));
            }
        }
    }
    let index = |o: u32, r: u32| states.iter().position(|&s| s == (o, r));
    let m = states.len();
    let mut q = vec![vec![0.0; m]; m];
    for (s, &(o, r)) in states.iter().enumerate() {
        let failed = r + o.saturating_sub(stock);
        let mut add = |to: Option<usize>, rate: f64| {
            if let Some(t) = to {
                if rate > 0.0 {
                    q[s][t] += rate;
                }
            }
        };
        if failed < n {
            let to = if o < stock {
                index(o + 1, r + 1)
            } else {
                index(o + 1, r)
            };
            add(to, f64::from(n - failed) * lambda);
        }
        if r > 0 {
            add(index(o, r - 1), f64::from(r) * mu);
        }
        if o > 0 {
            let to = if o > stock {
                index(o - 1, r + 1)
            } else {
                index(o - 1, r)
            };
            add(to, f64::from(o) * nu);
        }
    }
    let pi = gth(q);
    let mut failed = vec![0.0; n as usize + 1];
    for (s, &(o, r)) in states.iter().enumerate() {
        failed[(r + o.saturating_sub(stock)) as usize] += pi[s];
    }
    failed
}

/// Stationary distribution of the chain with off-diagonal rates `q` by
/// GTH elimination (no subtractions).
pub fn gth(mut q: Vec<Vec<f64>>) -> Vec<f64> {
    let n = q.len();
    for k in (1..n).rev() {
        let s: f64 = q[k][..k].iter().sum();
        if s <= 0.0 {
            continue;
        }
        for i in 0..k {
            let f = q[i][k] / s;
            if f == 0.0 {
                continue;
            }
            let row_k = q[k].clone();
            for (j, x) in q[i].iter_mut().enumerate().take(k) {
                if j != i {
                    *x += f * row_k[j];
                }
            }
        }
    }
    let mut pi = vec![0.0; n];
    pi[0] = 1.0;
    for k in 1..n {
        let s: f64 = q[k][..k].iter().sum();
        let num: f64 = (0..k).map(|i| pi[i] * q[i][k]).sum();
        pi[k] = if s > 0.0 { num / s } else { 0.0 };
    }
    let total: f64 = pi.iter().sum();
    pi.iter().map(|x| x / total).collect()
}

/// Long-run unavailability of one unit whose failures (rate λ) are all
/// hidden, tested every τ (a test of a working unit takes d), repaired in
/// a fixed r once revealed (r, d < τ).
///
/// # Formula
/// ```text
/// at test instants the unit is up (u) or hidden (h):
/// p_u = 1 − e^{−λ(τ−d)}, p_h = 1 − e^{−λ(τ−r)}
/// D(x) = x + (τ−x) − (1 − e^{−λ(τ−x)})/λ   (down time in an interval)
/// π_h = p_u / (1 − p_h + p_u),  U = (π_u·D(d) + π_h·D(r)) / τ
/// ```
/// With d = r = 0: U = 1 − (1 − e^{−λτ})/(λτ).
pub fn latent_unavailability(lambda: f64, tau: f64, d: f64, r: f64) -> f64 {
    // 1 − e^{−x} and x − (1 − e^{−x}) without cancellation.
    let one_minus = |x: f64| -(-x).exp_m1();
    let down = |x: f64| {
        let s = lambda * (tau - x);
        let hidden = if s < 1e-4 {
            s * s / 2.0 - s * s * s / 6.0
        } else {
            s - one_minus(s)
        };
        x + hidden / lambda
    };
    let (pu, ph) = (one_minus(lambda * (tau - d)), one_minus(lambda * (tau - r)));
    let pi_h = pu / (1.0 - ph + pu);
    ((1.0 - pi_h) * down(d) + pi_h * down(r)) / tau
}

/// Figures for a model with §9 constructs.
pub fn analyze(model: &Model) -> Analysis {
    match exact(model) {
        Ok((a, u, what)) => Analysis {
            method: Some(Method::Ctmc),
            exact: true,
            steady_state: Some(a),
            interval: None,
            mttf_hours: None,
            note: what,
            startup_bias: None,
            startup_bias_allowance: None,
            error_bound: None,
            states: None,
            outage_rate: None,
            steady_unavailability: Some(u),
            interval_unavailability: None,
        },
        Err(why) => Analysis {
            method: None,
            exact: false,
            steady_state: None,
            interval: None,
            mttf_hours: None,
            note: format!("no analytic method for this scenario: {why}"),
            startup_bias: None,
            startup_bias_allowance: None,
            error_bound: None,
            states: None,
            outage_rate: None,
            steady_unavailability: None,
            interval_unavailability: None,
        },
    }
}

const SIMPLE: &str = "exact figures exist for a k-of-n or parallel node over one component's identical exponential instances with dedicated repair and either load sharing or one spare pool with exponential lead times, and for one unit whose failures are all hidden";

/// (availability, unavailability, note) where a solver applies.
fn exact(model: &Model) -> Result<(f64, f64, String), String> {
    if !model.common_causes.is_empty()
        || !model.crews.is_empty()
        || model
            .instances
            .iter()
            .any(|i| i.upkeep.maintenance.is_some())
    {
        return Err(format!(
            "maintenance windows, crews or common causes with §9 constructs ({SIMPLE})"
        ));
    }
    if let Some(u) = latent_single(model) {
        let a = 1.0 - u;
        return Ok((a, u, "latent failures of one unit: chain at test instants (up or hidden), exact steady state".into()));
    }
    let (n, k) = match &model.system {
        Node::Parallel(c) => (c.len(), 1),
        Node::KOfN { k, of } => (of.len(), *k),
        Node::Instance(_) => (1, 1),
        _ => return Err(SIMPLE.into()),
    };
    let children = model.system.children();
    let mut seen = Vec::new();
    let all_instances = children.iter().all(|c| match c {
        Node::Instance(i) => {
            seen.push(*i);
            true
        }
        _ => false,
    });
    seen.sort_unstable();
    seen.dedup();
    if !all_instances || seen.len() != model.instances.len() || seen.len() != n {
        return Err(SIMPLE.into());
    }
    let first = &model.instances[0];
    let same = model.instances.iter().all(|i| {
        i.failure.exponential_rate() == first.failure.exponential_rate()
            && i.repair.exponential_rate() == first.repair.exponential_rate()
            && i.upkeep == first.upkeep
    });
    let (Some(lambda), Some(mu)) = (
        first.failure.exponential_rate(),
        first.repair.exponential_rate(),
    ) else {
        return Err(SIMPLE.into());
    };
    if !same || first.upkeep.latent.is_some() {
        return Err(SIMPLE.into());
    }
    let (n, k) = (n as u32, k as u32);
    let exponent = match model.load_sharing.as_slice() {
        [] => 0.0,
        [s] => s.exponent,
        _ => return Err(SIMPLE.into()),
    };
    match (first.upkeep.spare, exponent) {
        (None, a) => {
            let (av, un) = load_sharing_availability(n, k, lambda, mu, a);
            Ok((av, un, format!("load sharing (exponent {a}): birth–death chain on the number failed, exact steady state")))
        }
        (Some(s), 0.0) => {
            let pool = &model.spares[s];
            let Some(nu) = pool.lead_time.exponential_rate() else {
                return Err(format!("the lead time is not exponential ({SIMPLE})"));
            };
            let failed = spares_failed_distribution(n, pool.stock, lambda, mu, nu);
            let av: f64 = failed[..=(n - k) as usize].iter().sum();
            let un: f64 = failed[(n - k + 1) as usize..].iter().sum();
            Ok((av, un, format!("spare pool: Markov chain on parts out and repairs under way ({} states), exact steady state", failed.len())))
        }
        _ => Err(format!("load sharing together with spares ({SIMPLE})")),
    }
}

/// One instance, all failures hidden, exponential life, fixed repair.
fn latent_single(model: &Model) -> Option<f64> {
    let [inst] = model.instances.as_slice() else {
        return None;
    };
    let l = inst.upkeep.latent?;
    let lambda = inst.failure.exponential_rate()?;
    let Dist::Deterministic { value: r } = inst.repair else {
        return None;
    };
    (l.fraction == 1.0
        && inst.upkeep.spare.is_none()
        && r < l.test_interval
        && matches!(model.system, Node::Instance(_)))
    .then(|| latent_unavailability(lambda, l.test_interval, l.test_duration, r))
}
