//! Balancer members and their health checks (SPEC §2 "balancer").
//!
//! Each member is checked every `interval` hours, at times φ + k·interval
//! with a phase φ drawn uniformly per member and replication. A failed member
//! stays in rotation until `unhealthy_threshold` consecutive checks have
//! failed, i.e. until the (threshold − 1)-th check after the first check that
//! follows its failure; a repaired member returns after `healthy_threshold`
//! passing checks likewise. A repair before removal resets the failed checks
//! (the member never left); a failure before return cancels the return.
//! Only the removal and the return are events: the checks themselves are
//! not simulated one by one.

use rand::{Rng, RngExt};

use super::engine::Replication;
use super::program::Program;

impl Replication {
    pub(super) fn reset_balancers<R: Rng + ?Sized>(&mut self, p: &Program, rng: &mut R) {
        let m = p.members as usize;
        self.member_up.clear();
        self.member_up.resize(m, true);
        self.in_rotation.clear();
        self.in_rotation.resize(m, true);
        self.member_phase.clear();
        self.member_phase.resize(m, 0.0);
        self.rotation.clear();
        self.rotation_up.clear();
        for def in &p.balancers {
            self.rotation.push(def.members);
            self.rotation_up.push(def.members);
            if let Some(h) = def.health {
                let first = def.first_member as usize;
                for k in first..first + def.members as usize {
                    self.member_phase[k] = h.interval * rng.random::<f64>();
                }
            }
        }
    }

    /// Member `m` of balancer `b` went up or down at `t`.
    pub(super) fn member_changed(&mut self, p: &Program, b: usize, m: usize, up: bool, t: f64) {
        let def = &p.balancers[b];
        let k = def.first_member as usize + m;
        self.member_up[k] = up;
        let in_rotation = self.in_rotation[k];
        let Some(h) = def.health else {
            self.in_rotation[k] = up;
            if up {
                self.rotation[b] += 1;
                self.rotation_up[b] += 1;
            } else {
                self.rotation[b] -= 1;
                self.rotation_up[b] -= 1;
            }
            return;
        };
        let slot = p.member_base() + k;
        let next = self.next_check(k, t, h.interval);
        match (up, in_rotation) {
            (true, true) => {
                self.rotation_up[b] += 1;
                self.schedule(slot, f64::INFINITY);
            }
            (true, false) => {
                let at = next + (h.healthy_threshold - 1) as f64 * h.interval;
                self.schedule(slot, at);
            }
            (false, true) => {
                self.rotation_up[b] -= 1;
                let at = next + (h.unhealthy_threshold - 1) as f64 * h.interval;
                self.schedule(slot, at);
            }
            (false, false) => self.schedule(slot, f64::INFINITY),
        }
    }

    /// A member's removal from (if down) or return to (if up) rotation.
    pub(super) fn member_timer(&mut self, p: &Program, k: usize) {
        let b = p.member_balancer[k] as usize;
        if self.in_rotation[k] {
            self.in_rotation[k] = false;
            self.rotation[b] -= 1;
        } else {
            self.in_rotation[k] = true;
            self.rotation[b] += 1;
            self.rotation_up[b] += 1;
        }
    }

    /// The first check of member `k` strictly after `t`.
    fn next_check(&self, k: usize, t: f64, interval: f64) -> f64 {
        let phase = self.member_phase[k];
        phase + interval * (((t - phase) / interval).floor() + 1.0)
    }
}
