//! One replication: the discrete-event loop.
//!
//! An instance's effective state is "own process up and not held down by a
//! common cause". A change walks up the compiled links: gate counts change
//! and the walk goes on only while a gate changes state, so an event costs
//! O(depth), never a re-evaluation of the tree; standby and balancer nodes
//! run their own small state machines (`standby.rs`, `balancer.rs`).
//!
//! The share of system down time per instance is kept in O(1) per event
//! with a running clock S(t) of system down time: an instance down from t₀
//! to t₁ was down for S(t₁) − S(t₀) of system down time.

use rand::Rng;

use super::balancer::BalancerMechanisms;
use super::crew::CrewState;
use super::data::DataState;
use super::independent::Trajectories;
use super::program::{Hook, Link, Program, MEMBER, NONE, ROOT, UNIT};
use super::queue::EventQueue;
use super::standby::StandbyState;
use super::tally::Tally;
use super::upkeep::UpkeepState;
use crate::scenario::HOURS_PER_YEAR;

/// The mutable state of one replication, reused across replications so that
/// a replication allocates nothing once warm.
#[derive(Clone, Debug, Default)]
pub struct Replication {
    pub(super) queue: EventQueue,
    pub(super) seq: u64,
    /// Per instance: its own failure/repair process is up.
    pub(super) own_up: Vec<bool>,
    /// Per instance: common-cause outages and planned work holding it down.
    pub(super) hold: Vec<u32>,
    /// Per instance: ageing speed (1, or the dormant factor while idle).
    pub(super) speed: Vec<f64>,
    /// Per instance: when its pending failure happens (while own up).
    pub(super) fail_at: Vec<f64>,
    /// Per instance: remaining life, in operating hours, while speed is 0.
    pub(super) frozen: Vec<f64>,
    /// Per statistics row (instances, then common causes).
    down_since: Vec<f64>,
    share_mark: Vec<f64>,
    /// Per gate: up children.
    pub(super) count: Vec<u32>,
    /// Repair crews (`crew.rs`).
    pub(super) crews: CrewState,
    cc_active: Vec<bool>,
    pub(super) standby: Vec<StandbyState>,
    /// While a common cause changes several instances at one instant, unit
    /// changes wait here (standby, unit, up) so that standby nodes react
    /// once, to the final state (`standby.rs`).
    pub(super) deferring: bool,
    pub(super) pending: Vec<(u32, u32, bool)>,
    pub(super) member_up: Vec<bool>,
    pub(super) in_rotation: Vec<bool>,
    pub(super) member_phase: Vec<f64>,
    /// Per balancer: members in rotation, and those of them up.
    pub(super) rotation: Vec<u32>,
    pub(super) rotation_up: Vec<u32>,
    /// Balancer down time by mechanism and health-check lag.
    pub(super) balancer_mechanisms: BalancerMechanisms,
    ratio: f64,
    ratio_since: f64,
    ratio_hours: f64,
    /// Instance groups (`group.rs`): members of every group, up ones first.
    pub(super) group_members: Vec<u32>,
    /// Per group: members up, and where its members start.
    pub(super) group_up: Vec<u32>,
    pub(super) group_start: Vec<u32>,
    /// The independent engine (`independent.rs`).
    pub(super) trajectories: Trajectories,
    /// Per objective: system down hours in each whole window.
    window_down: Vec<Vec<f64>>,
    /// System down hours in each whole simulated year from the warmup.
    year_down: Vec<f64>,
    /// System down hours in each bin between consecutive A(t) grid points.
    bin_down: Vec<f64>,
    pub(super) start_times: Vec<f64>,
    /// Data protection (`data.rs`).
    pub(super) data: DataState,
    pub(super) system_up: bool,
    pub(super) system_down_since: f64,
    pub(super) system_down: f64,
    first_failure: f64,
    outages: u64,
    next_grid: usize,
    pub(super) next_grid_time: f64,
    pub(super) events: u64,
    /// Maintenance, latent failures and spares (`upkeep.rs`).
    pub(super) upkeep: UpkeepState,
}

impl Replication {
    /// Runs one replication with `rng` and adds its statistics to `tally`.
    pub fn run<R: Rng + ?Sized>(&mut self, p: &Program, rng: &mut R, tally: &mut Tally) {
        if p.independent {
            self.run_independent(p, rng, tally);
            return;
        }
        self.reset(p, rng);
        let n = p.instances();
        let requests = p.has_requests();
        loop {
            let (t, slot) = self.queue.peek();
            if t > p.horizon {
                break;
            }
            self.advance_grid(p, t, tally);
            self.events += 1;
            self.seq += 1;
            if slot < n {
                self.instance_event(p, slot, t, rng, tally);
            } else {
                self.timer_event(p, slot, t, rng, tally);
            }
            if requests {
                self.update_requests(p, t);
            }
        }
        self.finish(p, tally);
    }

    /// Resets everything but the event queue: all instances up, no
    /// statistics.
    pub(super) fn reset_state(&mut self, p: &Program) {
        let n = p.instances();
        self.own_up.clear();
        self.own_up.resize(n, true);
        self.hold.clear();
        self.hold.resize(n, 0);
        self.speed.clear();
        self.speed.resize(n, 1.0);
        self.fail_at.resize(n, 0.0);
        self.frozen.resize(n, 0.0);
        self.down_since.resize(p.rows(), 0.0);
        self.share_mark.resize(p.rows(), 0.0);
        self.count.clear();
        self.count.extend_from_slice(&p.gate_n);
        self.crews.reset(p);
        self.cc_active.clear();
        self.cc_active.resize(p.common_causes.len(), false);
        self.reset_standby(p);
        for (i, enclosures) in p.enclosures.iter().enumerate() {
            for &(s, u) in enclosures {
                if u != 0 {
                    self.speed[i] = self.speed[i].min(p.standbys[s as usize].idle_speed);
                }
            }
        }
        self.ratio = 1.0;
        self.ratio_since = 0.0;
        self.ratio_hours = 0.0;
        self.window_down.resize(p.objectives.len(), Vec::new());
        for (o, w) in p.objectives.iter().zip(&mut self.window_down) {
            let whole = whole_windows(p, o.window);
            w.clear();
            w.resize(whole, 0.0);
        }
        self.year_down.clear();
        self.year_down.resize(whole_windows(p, HOURS_PER_YEAR), 0.0);
        self.bin_down.clear();
        self.bin_down.resize(p.grid.len().saturating_sub(1), 0.0);
        self.system_up = true;
        self.system_down_since = 0.0;
        self.system_down = 0.0;
        self.first_failure = f64::INFINITY;
        self.outages = 0;
        self.next_grid = 0;
        self.next_grid_time = p.grid[0];
        self.events = 0;
    }

    /// Resets the state and schedules every first event.
    fn reset<R: Rng + ?Sized>(&mut self, p: &Program, rng: &mut R) {
        self.reset_state(p);
        let n = p.instances();
        self.start_times.clear();
        for i in 0..n {
            let at = if p.group_of[i] == NONE {
                let d = p.failure[i].sample(rng);
                self.failure_time(i, 0.0, d)
            } else {
                f64::INFINITY
            };
            self.start_times.push(at);
        }
        for c in &p.common_causes {
            self.start_times.push(c.failure.sample(rng));
        }
        self.start_times.resize(p.slots(), f64::INFINITY);
        self.reset_groups(p);
        for g in 0..p.groups.len() {
            self.start_times[p.group_base() + g] = self.group_next(p, g, 0.0, rng);
        }
        self.reset_upkeep(p);
        self.reset_data(p, rng);
        self.queue.rebuild(&self.start_times, &p.never_scheduled);
        self.reset_balancers(p, rng);
        self.seq = p.slots() as u64;
    }

    /// When instance `i`, given a fresh life of `d` operating hours at `t`,
    /// fails at its current ageing speed.
    #[inline(always)]
    fn failure_time(&mut self, i: usize, t: f64, d: f64) -> f64 {
        let speed = self.speed[i];
        let at = if speed == 1.0 {
            t + d
        } else if speed == 0.0 {
            self.frozen[i] = d;
            f64::INFINITY
        } else {
            t + d / speed
        };
        self.fail_at[i] = at;
        at
    }

    /// Schedules `slot` at `at` (infinity cancels it).
    pub(super) fn schedule(&mut self, slot: usize, at: f64) {
        self.seq += 1;
        self.queue.update(slot, at, self.seq);
    }

    #[inline(always)]
    fn instance_event<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        if p.plain[i] {
            let up = !self.own_up[i];
            self.own_up[i] = up;
            let d = if up {
                p.failure[i].sample(rng)
            } else {
                p.repair[i].sample(rng)
            };
            self.queue.replace_top(t + d, self.seq);
            self.instance_changed(p, i, up, t, rng, tally);
            return;
        }
        if self.own_up[i] {
            self.own_up[i] = false;
            if p.data.any {
                self.data_on_failure(p, i, t, rng);
            }
            if p.upkeep.none {
                if p.crew[i] == NONE {
                    self.queue
                        .replace_top(t + p.repair[i].sample(rng), self.seq);
                } else {
                    self.crew_request_at(p, i, t, rng, true);
                }
            } else if !self.hide_failure(p, i, t, rng) {
                self.start_repair(p, i, t, rng, true);
            }
            if self.hold[i] == 0 {
                self.instance_changed(p, i, false, t, rng, tally);
            }
        } else {
            let restored = p.data.any && self.data_restore_ends(p, i, t);
            if !restored && p.data.any {
                if let Some(end) = self.data_restore_after_repair(p, i, t, rng) {
                    self.queue.replace_top(end, self.seq);
                    if p.crew[i] != NONE {
                        self.crew_release(p, i, t, rng);
                    }
                    return;
                }
            }
            self.own_up[i] = true;
            let d = p.failure[i].sample(rng);
            let at = self.failure_time(i, t, d);
            self.queue.replace_top(at, self.seq);
            if p.crew[i] != NONE && !restored {
                self.crew_release(p, i, t, rng);
            }
            if self.hold[i] == 0 {
                self.instance_changed(p, i, true, t, rng, tally);
            }
        }
    }

    fn timer_event<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        slot: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        if slot >= p.upkeep_base() {
            self.upkeep_event(p, slot - p.upkeep_base(), t, rng, tally);
            return;
        }
        if slot >= p.data_base() {
            self.loss_event(p, slot - p.data_base(), t, rng, tally);
            return;
        }
        if slot >= p.group_base() {
            self.group_event(p, slot - p.group_base(), t, rng, tally);
            return;
        }
        if slot < p.standby_base() {
            self.common_cause_event(p, slot - p.cc_base(), t, rng, tally);
            return;
        }
        self.queue.replace_top(f64::INFINITY, self.seq);
        if slot < p.member_base() {
            self.standby_timer(p, slot - p.standby_base(), t, rng);
        } else {
            self.member_timer(p, slot - p.member_base());
        }
    }

    fn common_cause_event<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        c: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        let def = &p.common_causes[c];
        let row = p.instances() + c;
        let starts = !self.cc_active[c];
        self.cc_active[c] = starts;
        let mut end = t;
        if starts {
            end = t + def.repair.sample(rng);
            self.queue.replace_top(end, self.seq);
            self.row_down(row, t, p);
        } else {
            self.queue
                .replace_top(t + def.failure.sample(rng), self.seq);
        }
        // Every affected instance changes first; standby nodes then react
        // once to the final state, so the result does not depend on the
        // order of `affects`.
        self.deferring = true;
        for &i in &def.affects {
            let i = i as usize;
            if starts {
                self.hold[i] += 1;
            } else {
                self.hold[i] -= 1;
            }
            if self.own_up[i] && self.hold[i] == u32::from(starts) {
                self.instance_changed(p, i, !starts, t, rng, tally);
            }
        }
        if starts {
            self.data_outage(p, c, t, end, rng);
        }
        self.settle_units(p, t, rng);
        self.deferring = false;
        if !starts {
            self.row_up(row, t, p, tally);
        }
    }

    /// Instance `i`'s effective state changed at `t`.
    #[inline(always)]
    pub(super) fn instance_changed<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        up: bool,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        if !up {
            self.row_down(i, t, p);
        }
        if p.data.holds(i) {
            self.data_changed(p, i, up, t, rng);
        }
        let (start, end) = (p.feeds_start[i] as usize, p.feeds_start[i + 1] as usize);
        for e in start..end {
            self.signal(p, p.feeds[e], up, t, rng);
        }
        if up {
            self.row_up(i, t, p, tally);
        }
    }

    #[inline(always)]
    fn row_down(&mut self, row: usize, t: f64, p: &Program) {
        self.down_since[row] = t;
        self.share_mark[row] = self.system_down_clock(p, t);
    }

    #[inline(always)]
    fn row_up(&mut self, row: usize, t: f64, p: &Program, tally: &mut Tally) {
        tally.instance_down_hours[row] += p.overlap(self.down_since[row], t);
        tally.instance_share_hours[row] += self.system_down_clock(p, t) - self.share_mark[row];
    }

    /// Sends a node's new output `up` along `link`, as far as it changes
    /// things.
    #[inline(always)]
    pub(super) fn signal<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        mut link: Link,
        mut up: bool,
        t: f64,
        rng: &mut R,
    ) {
        loop {
            if link < UNIT {
                let gate = p.gates[link as usize];
                let count = &mut self.count[link as usize];
                let was = *count >= gate.k;
                if up {
                    *count += 1;
                } else {
                    *count -= 1;
                }
                let is = *count >= gate.k;
                if gate.hook != Hook::None {
                    self.gate_hook(p, gate.hook, link as usize, t);
                }
                if was == is {
                    return;
                }
                link = gate.parent;
                up = is;
            } else if link == ROOT {
                self.system_changed(p, up, t);
                return;
            } else if link < MEMBER {
                let (standby, unit) = p.units[(link - UNIT) as usize];
                if self.deferring {
                    self.pending.push((standby, unit, up));
                } else {
                    self.unit_changed(p, standby as usize, unit as usize, up, t, rng);
                }
                return;
            } else {
                let k = (link - MEMBER) as usize;
                let b = p.member_balancer[k] as usize;
                let member = k - p.balancers[b].first_member as usize;
                self.member_changed(p, b, member, up, t);
                link = p.balancers[b].pool_gate;
            }
        }
    }

    /// Gate `g`'s count changed at `t`: what follows it besides its parent.
    #[cold]
    fn gate_hook(&mut self, p: &Program, hook: Hook, g: usize, t: f64) {
        match hook {
            Hook::LoadSharing => self.load_changed(p, g, t),
            Hook::Balancer => self.balancer_changed(p, g, t),
            Hook::None => {}
        }
    }

    /// Records the grid points before `t`: A(t_j) is the state after every
    /// event at or before t_j.
    #[inline]
    pub(super) fn advance_grid(&mut self, p: &Program, t: f64, tally: &mut Tally) {
        while self.next_grid_time < t {
            tally.transient_up[self.next_grid] += self.system_up as u64;
            self.next_grid += 1;
            self.next_grid_time = p.grid.get(self.next_grid).copied().unwrap_or(f64::INFINITY);
        }
    }

    /// S(t): system down hours in the window up to `t`.
    #[inline]
    pub(super) fn system_down_clock(&self, p: &Program, t: f64) -> f64 {
        if self.system_up {
            self.system_down
        } else {
            self.system_down + p.overlap(self.system_down_since, t)
        }
    }

    pub(super) fn system_changed(&mut self, p: &Program, up: bool, t: f64) {
        if up {
            if t == self.system_down_since {
                // Down and up again at one instant (one maintenance window
                // ends as the next begins, simultaneous events applied one
                // at a time): no outage, no first failure.
                if t >= p.warmup {
                    self.outages -= 1;
                }
                if self.first_failure == t {
                    self.first_failure = f64::INFINITY;
                }
            }
            if self.system_down_since < p.warmup && t > p.warmup {
                self.outages += 1;
            }
            self.system_down += p.overlap(self.system_down_since, t);
            self.add_window_down(p, self.system_down_since, t);
        } else {
            self.system_down_since = t;
            if t >= p.warmup {
                self.outages += 1;
            }
            if self.first_failure.is_infinite() {
                self.first_failure = t;
            }
        }
        self.system_up = up;
    }

    /// Adds the system outage [a, b] to the objective windows and the
    /// calendar years it overlaps.
    fn add_window_down(&mut self, p: &Program, a: f64, b: f64) {
        for (o, windows) in p.objectives.iter().zip(&mut self.window_down) {
            add_to_windows(windows, p.warmup, o.window, a, b);
        }
        add_to_windows(&mut self.year_down, p.warmup, HOURS_PER_YEAR, a, b);
        let bin = bin_width(p);
        add_to_windows(&mut self.bin_down, p.warmup, bin, a, b);
    }

    /// Integrates the request success ratio up to `t` and recomputes it:
    /// 0 while the system is down, otherwise the product over the balancers
    /// on the active path (up, and not in an idle standby unit) of the share
    /// of their rotation that is up.
    ///
    /// Each balancer's own loss (1 − its share) while the system is up is
    /// its health-check lag (`balancer.rs`).
    #[inline]
    fn update_requests(&mut self, p: &Program, t: f64) {
        let hours = p.overlap(self.ratio_since, t);
        self.ratio_hours += self.ratio * hours;
        let lag = &mut self.balancer_mechanisms;
        if lag.lagging {
            lag.lag_for(hours);
            lag.lag_now.iter_mut().for_each(|l| *l = 0.0);
            lag.lagging = false;
        }
        self.ratio_since = t;
        if !self.system_up {
            self.ratio = 0.0;
            return;
        }
        let mut r = 1.0;
        for (b, def) in p.balancers.iter().enumerate() {
            let active = def
                .enclosures
                .iter()
                .all(|&(s, u)| self.standby[s as usize].active() == u);
            if active && self.count[def.top_gate as usize] >= 2 {
                let share = match self.rotation[b] {
                    0 => 0.0,
                    n => self.rotation_up[b] as f64 / n as f64,
                };
                if share < 1.0 {
                    lag.lag_now[b] = 1.0 - share;
                    lag.lagging = true;
                }
                r *= share;
            }
        }
        self.ratio = r;
    }

    /// Closes open intervals at the horizon and adds the replication to
    /// `tally`.
    pub(super) fn finish(&mut self, p: &Program, tally: &mut Tally) {
        self.advance_grid(p, f64::INFINITY, tally);
        let end = self.system_down_clock(p, p.horizon);
        let n = p.instances();
        for row in 0..p.rows() {
            let down = if row < n {
                !self.own_up[row] || self.hold[row] > 0
            } else {
                self.cc_active[row - n]
            };
            if down {
                tally.instance_down_hours[row] += p.overlap(self.down_since[row], p.horizon);
                tally.instance_share_hours[row] += end - self.share_mark[row];
            }
        }
        if !self.system_up {
            if self.system_down_since < p.warmup {
                self.outages += 1;
            }
            self.add_window_down(p, self.system_down_since, p.horizon);
        }
        let window = p.horizon - p.warmup;
        if p.has_requests() {
            self.update_requests(p, p.horizon);
            tally.requests.push(self.ratio_hours / window);
        }
        for ((o, windows), t) in p
            .objectives
            .iter()
            .zip(&self.window_down)
            .zip(&mut tally.objectives)
        {
            for down in windows {
                t.push(1.0 - down / o.window, o.availability);
            }
        }
        for &down in &self.year_down {
            tally.push_year(down);
        }
        tally.push_bins(&self.bin_down, bin_width(p));
        if self.first_failure <= p.horizon {
            tally.push_first_failure(p.grid.partition_point(|&g| g < self.first_failure));
        }
        self.flush_data(p, tally);
        self.finish_standby(p, &mut tally.mechanisms);
        self.finish_balancers(p, &mut tally.mechanisms);
        self.crews.finish(p, &mut tally.mechanisms);
        tally.down.push(end / window);
        tally.down_values.push(end / window);
        tally.system_down_hours += end;
        tally.outages += self.outages;
        if self.first_failure <= p.horizon {
            tally.first_failures += 1;
            tally.first_failure_exposure += self.first_failure;
        } else {
            tally.first_failure_exposure += p.horizon;
        }
        tally.events += self.events;
        self.finish_upkeep(p, tally);
    }
}

/// The width of the bins between consecutive A(t) grid points.
fn bin_width(p: &Program) -> f64 {
    (p.horizon - p.warmup) / p.grid.len().saturating_sub(1).max(1) as f64
}

/// Whole windows of length `w` in [warmup, horizon] (a window that ends at
/// the horizon up to rounding counts).
fn whole_windows(p: &Program, w: f64) -> usize {
    ((p.horizon - p.warmup) / w * (1.0 + 1e-12)).floor() as usize
}

/// Adds the outage [a, b] to the consecutive windows of length `w` from
/// `start` that it overlaps.
fn add_to_windows(windows: &mut [f64], start: f64, w: f64, a: f64, b: f64) {
    let end = start + windows.len() as f64 * w;
    let (a, b) = (a.max(start), b.min(end));
    if b <= a {
        return;
    }
    let mut j = ((a - start) / w).floor() as usize;
    while j < windows.len() {
        let from = start + j as f64 * w;
        windows[j] += (b.min(from + w) - a.max(from)).max(0.0);
        if from + w >= b {
            break;
        }
        j += 1;
    }
}
