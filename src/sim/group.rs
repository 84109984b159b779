//! Groups of identical exponential instances with dedicated repair, no
//! crew, no common cause and no dormancy, simulated as one process.
//!
//! With n_up instances up (each failing at rate λ) and n_down down (each
//! repaired at rate μ), the next change of the group comes after an
//! exponential time of rate n_up·λ + n_down·μ, and it is the failure of a
//! uniformly chosen up instance with probability n_up·λ / (n_up·λ +
//! n_down·μ), else the repair of a uniformly chosen down instance. By the
//! superposition and memorylessness of exponential times this is exact in
//! distribution, and it costs one heap slot for the whole group instead of
//! one per instance. One uniform draw u on [0, rate) picks both: u < n_up·λ
//! means up instance ⌊u/λ⌋ fails, otherwise down instance ⌊(u − n_up·λ)/μ⌋
//! is repaired.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1};

use super::engine::Replication;
use super::program::Program;
use super::tally::Tally;

impl Replication {
    /// Puts every group in its all-up state (the caller schedules each
    /// group's first event with `group_next`).
    pub(super) fn reset_groups(&mut self, p: &Program) {
        self.group_members.clear();
        self.group_up.clear();
        for g in &p.groups {
            self.group_members.extend(g.first..g.first + g.count);
            self.group_up.push(g.count);
        }
        self.group_start.clear();
        let mut start = 0;
        for g in &p.groups {
            self.group_start.push(start);
            start += g.count;
        }
    }

    /// When group `g`'s next change happens after `t`.
    #[inline]
    pub(super) fn group_next<R: Rng + ?Sized>(
        &self,
        p: &Program,
        g: usize,
        t: f64,
        rng: &mut R,
    ) -> f64 {
        let def = &p.groups[g];
        let up = self.group_up[g];
        let rate = f64::from(up) * def.lambda + f64::from(def.count - up) * def.mu;
        let e: f64 = Exp1.sample(rng);
        t + e / rate
    }

    /// Group `g`'s change at `t` (its slot is the top of the queue).
    pub(super) fn group_event<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        g: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        let def = p.groups[g];
        let up = self.group_up[g];
        let fail_rate = f64::from(up) * def.lambda;
        let rate = fail_rate + f64::from(def.count - up) * def.mu;
        let u = rng.random::<f64>() * rate;
        let start = self.group_start[g] as usize;
        let (index, failing) = if u < fail_rate {
            (((u / def.lambda) as u32).min(up - 1), true)
        } else {
            let k = ((u - fail_rate) / def.mu) as u32;
            (up + k.min(def.count - up - 1), false)
        };
        let i = self.group_members[start + index as usize] as usize;
        // Keep the up instances first: swap i with the boundary.
        let boundary = if failing { up - 1 } else { up };
        self.group_members
            .swap(start + index as usize, start + boundary as usize);
        self.group_up[g] = if failing { up - 1 } else { up + 1 };
        self.own_up[i] = !failing;
        let next = self.group_next(p, g, t, rng);
        self.queue.replace_top(next, self.seq);
        self.instance_changed(p, i, !failing, t, rng, tally);
    }
}
