//! The structure function: the system's availability from its units'
//! availabilities, exact for independent units.
//!
//! An instance that appears in several places, or a common-cause process
//! that holds several instance occurrences down, makes the children of a
//! gate dependent. Those shared variables are removed by factoring
//! (Shannon decomposition): the structure is evaluated once per assignment
//! of the shared variables, with the probability of that assignment as the
//! weight. The cost is 2^(shared variables) tree evaluations, never 2^n.

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
        let k = self.shared.len();
        let mut fixed: Vec<Option<bool>> = vec![None; self.instances + q.len()];
        let mut total = 0.0;
        for mask in 0u32..(1 << k) {
            let mut weight = 1.0;
            for (bit, &v) in self.shared.iter().enumerate() {
                // For an instance "true" is up; for a common cause, active.
                let on = mask & (1 << bit) != 0;
                fixed[v] = Some(on);
                let prob = if v < self.instances {
                    p[v]
                } else {
                    q[v - self.instances]
                };
                weight *= if on { prob } else { 1.0 - prob };
            }
            if weight > 0.0 {
                total += weight * self.eval(&self.root, p, q, &fixed);
            }
        }
        total
    }

    fn leaf(&self, i: usize, p: &[f64], q: &[f64], fixed: &[Option<bool>]) -> f64 {
        let own = match fixed[i] {
            Some(up) => f64::from(u8::from(up)),
            None => p[i],
        };
        self.held_by[i].iter().fold(own, |acc, &c| {
            acc * match fixed[self.instances + c] {
                Some(active) => f64::from(u8::from(!active)),
                None => 1.0 - q[c],
            }
        })
    }

    fn eval(&self, e: &Expr, p: &[f64], q: &[f64], fixed: &[Option<bool>]) -> f64 {
        match e {
            Expr::Leaf(i) => self.leaf(*i, p, q, fixed),
            Expr::KOfN(k, children) => {
                let probs: Vec<f64> = children.iter().map(|c| self.eval(c, p, q, fixed)).collect();
                at_least(*k, &probs)
            }
        }
    }
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
