//! The structure function: the system's availability from its units'
//! availabilities, exact for independent units.
//!
//! An instance that appears in several places, or a common-cause process
//! that holds several instance occurrences down, makes the children of a
//! gate dependent. Those shared variables are removed by factoring
//! (Shannon decomposition): the structure is evaluated once per assignment
//! of the shared variables, with the probability of that assignment as the
//! weight. The cost is 2^(shared variables) tree evaluations, never 2^n.

use statrs::function::gamma::ln_gamma;

use crate::model::{Model, Node};

/// Most shared variables factored on (2^16 evaluations per figure).
pub const MAX_SHARED: usize = 16;

/// A compiled structure function over instance and common-cause variables.
#[derive(Clone, Debug)]
pub struct Structure {
    root: Expr,
    /// Per instance: the common causes that hold it down.
    held_by: Vec<Vec<usize>>,
    /// Shared variables: instances first (index i), then common causes
    /// (index n + c).
    shared: Vec<usize>,
    instances: usize,
}

#[derive(Clone, Debug)]
enum Expr {
    Leaf(usize),
    KOfN(usize, Vec<Expr>),
}

impl Structure {
    /// Compiles the structure of `model`, or says why it does not apply.
    ///
    /// # Errors
    /// A reason when the system has constructs whose availability is not a
    /// function of independent unit states (crews, standby with delays,
    /// switch failures or dormancy), or too many shared variables.
    pub fn new(model: &Model) -> Result<Structure, String> {
        if model.instances.iter().any(|i| i.crew.is_some()) {
            return Err("repair crews make the units dependent".into());
        }
        let root = expr(&model.system)?;
        let n = model.instances.len();
        let mut held_by = vec![Vec::new(); n];
        for (c, cc) in model.common_causes.iter().enumerate() {
            for &i in &cc.affects {
                held_by[i].push(c);
            }
        }
        let mut uses = vec![0usize; n];
        model.system.for_each_instance(&mut |i| uses[i] += 1);
        let mut shared: Vec<usize> = (0..n).filter(|&i| uses[i] > 1).collect();
        for (c, cc) in model.common_causes.iter().enumerate() {
            let occurrences: usize = cc.affects.iter().map(|&i| uses[i]).sum();
            if occurrences > 1 {
                shared.push(n + c);
            }
        }
        if shared.len() > MAX_SHARED {
            return Err(format!(
                "{} shared instances and common causes (factoring handles at most {MAX_SHARED})",
                shared.len()
            ));
        }
        Ok(Structure {
            root,
            held_by,
            shared,
            instances: n,
        })
    }

    /// System availability given each instance's availability `p` and each
    /// common cause's probability of being active `q`.
    pub fn evaluate(&self, p: &[f64], q: &[f64]) -> f64 {
        let pd: Vec<f64> = p.iter().map(|x| 1.0 - x).collect();
        let qd: Vec<f64> = q.iter().map(|x| 1.0 - x).collect();
        self.evaluate_both(&Probs {
            up: p,
            down: &pd,
            active: q,
            inactive: &qd,
        })
        .0
    }

    /// System (availability, unavailability), each computed directly from
    /// the units' up and down probabilities (no 1 − x anywhere, so an
    /// unavailability of 10⁻³⁰ keeps its digits).
    pub fn evaluate_both(&self, probs: &Probs) -> (f64, f64) {
        let mut total = (0.0, 0.0);
        self.for_each_assignment(probs, &mut |weight, fixed| {
            let (u, d) = self.eval(&self.root, probs, fixed);
            total.0 += weight * u;
            total.1 += weight * d;
        });
        total
    }

    /// Calls `f(weight, fixed)` for every assignment of the shared
    /// variables with a positive weight.
    fn for_each_assignment(&self, probs: &Probs, f: &mut dyn FnMut(f64, &[Option<bool>])) {
        let k = self.shared.len();
        let mut fixed: Vec<Option<bool>> = vec![None; self.instances + probs.active.len()];
        for mask in 0u32..(1 << k) {
            let mut weight = 1.0;
            for (bit, &v) in self.shared.iter().enumerate() {
                // For an instance "true" is up; for a common cause, active.
                let on = mask & (1 << bit) != 0;
                fixed[v] = Some(on);
                weight *= if v < self.instances {
                    if on {
                        probs.up[v]
                    } else {
                        probs.down[v]
                    }
                } else if on {
                    probs.active[v - self.instances]
                } else {
                    probs.inactive[v - self.instances]
                };
            }
            if weight > 0.0 {
                f(weight, &fixed);
            }
        }
    }

    /// Birnbaum importance of every instance, P(up | i up) − P(up | i
    /// down), in one pass (reverse differentiation through the gates) for
    /// the instances used once, by conditioning for the shared ones.
    pub fn importances(&self, probs: &Probs) -> Vec<f64> {
        let mut out = vec![0.0; self.instances];
        self.for_each_assignment(probs, &mut |weight, fixed| {
            self.gradient(&self.root, probs, fixed, weight, &mut out);
        });
        for &v in &self.shared {
            if v < self.instances {
                let mut up = probs.up.to_vec();
                let mut down = probs.down.to_vec();
                (up[v], down[v]) = (1.0, 0.0);
                let hi = self
                    .evaluate_both(&Probs {
                        up: &up,
                        down: &down,
                        ..*probs
                    })
                    .0;
                (up[v], down[v]) = (0.0, 1.0);
                let lo = self
                    .evaluate_both(&Probs {
                        up: &up,
                        down: &down,
                        ..*probs
                    })
                    .0;
                out[v] = hi - lo;
            }
        }
        out
    }

    fn leaf(&self, i: usize, probs: &Probs, fixed: &[Option<bool>]) -> (f64, f64) {
        let (own_up, own_down) = match fixed[i] {
            Some(true) => (1.0, 0.0),
            Some(false) => (0.0, 1.0),
            None => (probs.up[i], probs.down[i]),
        };
        // up = Π xᵢ; down = 1 − Π xᵢ = Σ_f y_f Π_{g<f} x_g (no cancellation).
        let (mut up, mut down) = (own_up, own_down);
        for &c in &self.held_by[i] {
            let (x, y) = match fixed[self.instances + c] {
                Some(active) => (f64::from(u8::from(!active)), f64::from(u8::from(active))),
                None => (probs.inactive[c], probs.active[c]),
            };
            down += up * y;
            up *= x;
        }
        (up, down)
    }

    /// The derivative of the leaf's up probability by its own up
    /// probability (0 when the instance is fixed by factoring).
    fn leaf_slope(&self, i: usize, probs: &Probs, fixed: &[Option<bool>]) -> f64 {
        if fixed[i].is_some() {
            return 0.0;
        }
        self.held_by[i].iter().fold(1.0, |acc, &c| {
            acc * match fixed[self.instances + c] {
                Some(active) => f64::from(u8::from(!active)),
                None => probs.inactive[c],
            }
        })
    }

    fn eval(&self, e: &Expr, probs: &Probs, fixed: &[Option<bool>]) -> (f64, f64) {
        match e {
            Expr::Leaf(i) => self.leaf(*i, probs, fixed),
            Expr::KOfN(k, children) => {
                let values: Vec<(f64, f64)> = children
                    .iter()
                    .map(|c| self.eval(c, probs, fixed))
                    .collect();
                k_of_n(*k, &values)
            }
        }
    }

    fn gradient(
        &self,
        e: &Expr,
        probs: &Probs,
        fixed: &[Option<bool>],
        adjoint: f64,
        out: &mut [f64],
    ) {
        if adjoint == 0.0 {
            return;
        }
        match e {
            Expr::Leaf(i) => out[*i] += adjoint * self.leaf_slope(*i, probs, fixed),
            Expr::KOfN(k, children) => {
                let values: Vec<(f64, f64)> = children
                    .iter()
                    .map(|c| self.eval(c, probs, fixed))
                    .collect();
                let slopes = k_of_n_slopes(*k, &values);
                for (c, s) in children.iter().zip(slopes) {
                    self.gradient(c, probs, fixed, adjoint * s, out);
                }
            }
        }
    }
}

/// Up and down probabilities of instances and common causes, each given
/// directly.
#[derive(Clone, Copy, Debug)]
pub struct Probs<'a> {
    /// Per instance: probability of being up.
    pub up: &'a [f64],
    /// Per instance: probability of being down.
    pub down: &'a [f64],
    /// Per common cause: probability of being active.
    pub active: &'a [f64],
    /// Per common cause: probability of being inactive.
    pub inactive: &'a [f64],
}

/// Children at least this many and all equal use the binomial form.
const BINOMIAL_FROM: usize = 8;

/// (P(at least k of the children up), P(fewer)) for independent children
/// with (up, down) probabilities `values`, without subtractions: a
/// binomial summed in log space when the children are identical, else a
/// count-distribution recursion truncated at min(k, n − k + 1).
pub fn k_of_n(k: usize, values: &[(f64, f64)]) -> (f64, f64) {
    let n = values.len();
    if k == 0 {
        return (1.0, 0.0);
    }
    if k > n {
        return (0.0, 1.0);
    }
    if n >= BINOMIAL_FROM && values.iter().all(|v| *v == values[0]) {
        return binomial(n, k, values[0]);
    }
    let m = n - k + 1;
    if k <= m {
        // Counts of up children 0..k, k absorbing.
        let mut dp = vec![0.0; k];
        dp[0] = 1.0;
        let mut enough = 0.0;
        for &(u, d) in values {
            enough += dp[k - 1] * u;
            for j in (1..k).rev() {
                dp[j] = dp[j] * d + dp[j - 1] * u;
            }
            dp[0] *= d;
        }
        (enough, dp.iter().sum())
    } else {
        // Counts of down children 0..m, m absorbing.
        let mut dp = vec![0.0; m];
        dp[0] = 1.0;
        let mut failed = 0.0;
        for &(u, d) in values {
            failed += dp[m - 1] * d;
            for j in (1..m).rev() {
                dp[j] = dp[j] * u + dp[j - 1] * d;
            }
            dp[0] *= u;
        }
        (dp.iter().sum(), failed)
    }
}

/// ln[C(n, j) uʲ dⁿ⁻ʲ] (u, d > 0, u + d = 1), by Loader's saddle-point
/// form (as R's `dbinom`): relative accuracy near 10⁻¹⁵ for any n, where
/// log-gamma differences lose ten digits at n = 10⁴.
fn binomial_log_term(n: usize, j: usize, (u, d): (f64, f64)) -> f64 {
    let (nf, jf) = (n as f64, j as f64);
    if j == 0 {
        return nf * d.ln();
    }
    if j == n {
        return nf * u.ln();
    }
    let k = nf - jf;
    stirling_error(nf)
        - stirling_error(jf)
        - stirling_error(k)
        - deviance(jf, nf * u)
        - deviance(k, nf * d)
        + 0.5 * (nf / (2.0 * std::f64::consts::PI * jf * k)).ln()
}

/// ln(n!) − ln(√(2πn)(n/e)ⁿ).
fn stirling_error(n: f64) -> f64 {
    if n > 15.0 {
        let nn = n * n;
        return (1.0 / 12.0
            - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / (1188.0 * nn)) / nn) / nn)
                / nn)
            / n;
    }
    ln_gamma(n + 1.0) - (n + 0.5) * n.ln() + n - 0.5 * (2.0 * std::f64::consts::PI).ln()
}

/// x·ln(x/m) + m − x, without cancellation when x is near m.
fn deviance(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            ej *= v2;
            let next = s + ej / f64::from(2 * j + 1);
            if next == s {
                break;
            }
            s = next;
        }
        return s;
    }
    x * (x / m).ln() + m - x
}

/// Σ_{j=lo}^{hi} C(n, j) uʲ dⁿ⁻ʲ, summed from the side's largest term
/// outwards (the terms fall away from the mode) until they are below 10⁻²⁰
/// of it: O(√n) terms, no subtraction.
fn binomial_range(n: usize, lo: usize, hi: usize, (u, d): (f64, f64)) -> f64 {
    if lo > hi {
        return 0.0;
    }
    let mode = (((n + 1) as f64 * u).floor() as usize).min(n);
    let start = mode.clamp(lo, hi);
    let first = binomial_log_term(n, start, (u, d));
    let ratio = (u / d).ln();
    let mut total = 1.0;
    // Upwards: t(j+1) = t(j)·(n−j)/(j+1)·u/d.
    let mut t = 0.0;
    for j in start..hi {
        t += ((n - j) as f64 / (j + 1) as f64).ln() + ratio;
        let x = t.exp();
        total += x;
        if x < 1e-20 * total {
            break;
        }
    }
    let mut t = 0.0;
    for j in (lo + 1..=start).rev() {
        t += (j as f64 / (n - j + 1) as f64).ln() - ratio;
        let x = t.exp();
        total += x;
        if x < 1e-20 * total {
            break;
        }
    }
    (first + total.ln()).exp()
}

fn binomial(n: usize, k: usize, (u, d): (f64, f64)) -> (f64, f64) {
    if d == 0.0 {
        return (1.0, 0.0);
    }
    if u == 0.0 {
        return (0.0, 1.0);
    }
    (
        binomial_range(n, k, n, (u, d)),
        binomial_range(n, 0, k - 1, (u, d)),
    )
}

/// ∂P(at least k up)/∂(up probability of each child) = P(exactly k − 1 of
/// the others up), for every child in one pass: products of the others for
/// series and parallel gates, the binomial term for identical children,
/// prefix and suffix count distributions otherwise. NaN when a gate of
/// distinct children is too large for that (n·min(k, n − k + 1) > 2·10⁷).
pub fn k_of_n_slopes(k: usize, values: &[(f64, f64)]) -> Vec<f64> {
    let n = values.len();
    if k == 0 || k > n {
        return vec![0.0; n];
    }
    if n >= 2 && values.iter().all(|v| *v == values[0]) {
        let (u, d) = values[0];
        let s = if d == 0.0 || u == 0.0 {
            // Exactly k − 1 of n − 1 up: certain or impossible.
            let ups = if d == 0.0 { n - 1 } else { 0 };
            f64::from(u8::from(ups == k - 1))
        } else {
            binomial_log_term(n - 1, k - 1, (u, d)).exp()
        };
        return vec![s; n];
    }
    // Distribution of the count of "ups" (or downs when fewer are needed)
    // among the others, truncated at `need`.
    let (need, flip) = if k - 1 <= n - k {
        (k - 1, false)
    } else {
        (n - k, true)
    };
    let step = |dist: &mut Vec<f64>, (u, d): (f64, f64)| {
        let (a, b) = if flip { (d, u) } else { (u, d) };
        for j in (1..dist.len()).rev() {
            dist[j] = dist[j] * b + dist[j - 1] * a;
        }
        dist[0] *= b;
    };
    let width = need + 1;
    if n.saturating_mul(width) > 20_000_000 {
        // Too large to hold, and too slow one child at a time: not given.
        return vec![f64::NAN; n];
    }
    let mut suffix = vec![0.0; (n + 1) * width];
    suffix[n * width] = 1.0;
    for c in (0..n).rev() {
        let mut dist = suffix[(c + 1) * width..(c + 2) * width].to_vec();
        step(&mut dist, values[c]);
        suffix[c * width..(c + 1) * width].copy_from_slice(&dist);
    }
    let mut prefix = vec![0.0; width];
    prefix[0] = 1.0;
    let mut out = Vec::with_capacity(n);
    for c in 0..n {
        let after = &suffix[(c + 1) * width..(c + 2) * width];
        out.push((0..=need).map(|j| prefix[j] * after[need - j]).sum());
        step(&mut prefix, values[c]);
    }
    out
}

/// P(at least k of independent events with probabilities `probs`).
pub fn at_least(k: usize, probs: &[f64]) -> f64 {
    let n = probs.len();
    if k == n {
        return probs.iter().product();
    }
    if k == 1 {
        return 1.0 - probs.iter().map(|p| 1.0 - p).product::<f64>();
    }
    // dp[j] = P(exactly j up among the children seen so far), j < k; the
    // answer is 1 − P(fewer than k).
    let mut dp = vec![0.0; k];
    dp[0] = 1.0;
    for &p in probs {
        for j in (0..k).rev() {
            dp[j] = dp[j] * (1.0 - p) + if j > 0 { dp[j - 1] * p } else { 0.0 };
        }
    }
    1.0 - dp.iter().sum::<f64>()
}

fn expr(node: &Node) -> Result<Expr, String> {
    Ok(match node {
        Node::Instance(i) => Expr::Leaf(*i),
        Node::Series(c) => Expr::KOfN(c.len(), c.iter().map(expr).collect::<Result<_, _>>()?),
        Node::Parallel(c) => Expr::KOfN(1, c.iter().map(expr).collect::<Result<_, _>>()?),
        Node::KOfN { k, of } => Expr::KOfN(*k, of.iter().map(expr).collect::<Result<_, _>>()?),
        Node::Balancer(b) => Expr::KOfN(
            2,
            vec![
                expr(&b.via)?,
                Expr::KOfN(
                    b.min_healthy,
                    b.pool.iter().map(expr).collect::<Result<_, _>>()?,
                ),
            ],
        ),
        Node::Standby(s) => {
            let instant = s.detection.is_none() && s.failover.is_none() && s.switch_success >= 1.0;
            let hot = s.mode == crate::model::Mode::Hot;
            if !(instant && hot) {
                return Err(
                    "a standby with detection or failover delays, switch failures or dormancy is not a function of its units' states"
                        .into(),
                );
            }
            // Hot, instant and perfect: up exactly when some unit is up.
            Expr::KOfN(1, s.units.iter().map(expr).collect::<Result<_, _>>()?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log-space binomial against the count recursion (no shortcut),
    /// including the rare side to full relative accuracy.
    #[test]
    fn binomial_matches_the_recursion() {
        for (n, u) in [(8usize, 0.9), (30, 0.999), (60, 0.5), (200, 0.99)] {
            let d = 1.0 - u;
            for k in [1, n / 3, n / 2, n - 1, n] {
                let k = k.max(1);
                let (bu, bd) = binomial(n, k, (u, d));
                // Recursion over counts of down units with absorbing m.
                let m = n - k + 1;
                let mut dp = vec![0.0; m];
                dp[0] = 1.0;
                let mut failed = 0.0;
                for _ in 0..n {
                    failed += dp[m - 1] * d;
                    for j in (1..m).rev() {
                        dp[j] = dp[j] * u + dp[j - 1] * d;
                    }
                    dp[0] *= u;
                }
                let up: f64 = dp.iter().sum();
                assert!((bu - up).abs() <= 1e-12 * up, "n {n} k {k}: {bu} vs {up}");
                assert!(
                    (bd - failed).abs() <= 1e-11 * failed,
                    "n {n} k {k}: {bd:e} vs {failed:e}"
                );
            }
        }
    }

    #[test]
    fn at_least_matches_enumeration() {
        let probs = [0.9, 0.8, 0.7, 0.95];
        for k in 1..=4 {
            let mut exact = 0.0;
            for mask in 0u32..16 {
                let ups = mask.count_ones() as usize;
                if ups >= k {
                    exact += (0..4)
                        .map(|b| {
                            if mask & (1 << b) != 0 {
                                probs[b]
                            } else {
                                1.0 - probs[b]
                            }
                        })
                        .product::<f64>();
                }
            }
            assert!((at_least(k, &probs) - exact).abs() < 1e-15, "k = {k}");
        }
    }
}
