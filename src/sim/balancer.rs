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
//!
//! The report attributes a balancer's down time to its mechanisms (its
//! `via` node down, too few pool members up, or both): the engine follows
//! its top gate, whose count is (via up) + (pool up). Health checks do not
//! change the time-based state (SPEC §2: up while `via` and `min_healthy`
//! members are up), only the requests; the requests lost to a rotation
//! that differs from the up members while the system is up are tallied per
//! balancer as its health-check lag.

use rand::{Rng, RngExt};

use super::engine::Replication;
use super::program::Program;
use super::tally::{MechanismTally, BALANCER_MECHANISMS};

/// The balancer is up (else an index into [`BALANCER_MECHANISMS`]).
const UP: usize = usize::MAX;

/// Per balancer: what holds it down now and since when, and this
/// replication's down hours per mechanism and health-check lag.
#[derive(Clone, Debug, Default)]
pub(super) struct BalancerMechanisms {
    kind: Vec<usize>,
    since: Vec<f64>,
    hours: Vec<[f64; BALANCER_MECHANISMS.len()]>,
    /// The share of requests lost now to health-check lag (all 0 unless
    /// `lagging`), and its integral over the window.
    pub(super) lag_now: Vec<f64>,
    pub(super) lagging: bool,
    lag_hours: Vec<f64>,
}

impl BalancerMechanisms {
    fn reset(&mut self, balancers: usize) {
        self.kind.clear();
        self.kind.resize(balancers, UP);
        self.since.clear();
        self.since.resize(balancers, 0.0);
        self.hours.clear();
        self.hours
            .resize(balancers, [0.0; BALANCER_MECHANISMS.len()]);
        self.lag_now.clear();
        self.lag_now.resize(balancers, 0.0);
        self.lag_hours.clear();
        self.lag_hours.resize(balancers, 0.0);
        self.lagging = false;
    }

    /// Balancer `b` is held down by `kind` (or up) from `t`.
    fn set(&mut self, p: &Program, b: usize, kind: usize, t: f64) {
        if self.kind[b] == kind {
            return;
        }
        if self.kind[b] != UP {
            self.hours[b][self.kind[b]] += p.overlap(self.since[b], t);
        }
        self.kind[b] = kind;
        self.since[b] = t;
    }

    /// Adds `hours` of the current health-check lag.
    pub(super) fn lag_for(&mut self, hours: f64) {
        for (h, &l) in self.lag_hours.iter_mut().zip(&self.lag_now) {
            *h += l * hours;
        }
    }
}

impl Replication {
    pub(super) fn reset_balancers<R: Rng + ?Sized>(&mut self, p: &Program, rng: &mut R) {
        self.balancer_mechanisms.reset(p.balancers.len());
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

    /// The count of gate `g`, a balancer's top gate, changed at `t`.
    pub(super) fn balancer_changed(&mut self, p: &Program, g: usize, t: f64) {
        let Some(&(_, b)) = p
            .gate_balancer
            .iter()
            .find(|&&(gate, _)| gate as usize == g)
        else {
            return;
        };
        let def = &p.balancers[b as usize];
        let pool = def.pool_gate as usize;
        let pool_up = self.count[pool] >= p.gates[pool].k;
        let via_up = self.count[g] > u32::from(pool_up);
        let kind = match (via_up, pool_up) {
            (true, true) => UP,
            (false, true) => 0,
            (true, false) => 1,
            (false, false) => 2,
        };
        self.balancer_mechanisms.set(p, b as usize, kind, t);
    }

    /// Closes every balancer's periods at the horizon and adds this
    /// replication to `tally`.
    pub(super) fn finish_balancers(&mut self, p: &Program, tally: &mut MechanismTally) {
        let n = p.balancers.len();
        if n == 0 {
            return;
        }
        let m = BALANCER_MECHANISMS.len();
        let state = &mut self.balancer_mechanisms;
        tally.balancer_hours.resize(n * m, 0.0);
        tally.balancer_lag_hours.resize(n, 0.0);
        for b in 0..n {
            let kind = state.kind[b];
            state.set(p, b, UP, p.horizon);
            state.kind[b] = kind;
            for (a, h) in tally.balancer_hours[b * m..(b + 1) * m]
                .iter_mut()
                .zip(&state.hours[b])
            {
                *a += h;
            }
            tally.balancer_lag_hours[b] += state.lag_hours[b];
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
