//! Maintenance windows, latent failures with periodic tests, spare pools
//! and load sharing (SPEC §9) in the event-queue engine.
//!
//! - A maintenance window or a test of a working instance holds it down
//!   (like a common cause) and freezes its age: its ageing speed is 0 until
//!   the window ends, when `renew` gives it a fresh life. A window or test
//!   due while the instance is down (own failure, hidden failure, a common
//!   cause, the other kind of planned work) is skipped; the schedule stays
//!   on its grid.
//! - A hidden failure leaves the instance down with no repair until the
//!   next test or a demand (a standby switching over tries it) reveals it.
//! - A repair of an instance with a spare pool needs a part first; the
//!   failed part goes back at once and returns after its lead time, each
//!   part on its own timer; repairs without a part wait first-in-first-out.
//! - Under a load-sharing gate every instance ages (n/m)^a times faster
//!   while m of the gate's n children are up; the remaining life is
//!   rescaled at every change (accelerated life), as dormancy does.

use std::collections::VecDeque;

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use super::engine::Replication;
use super::program::{Program, NONE};
use super::tally::Tally;
use crate::model::upkeep::load_factor;
use crate::model::{Dist, Latent, Maintenance, Model, Node};

/// What an upkeep slot times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Timer {
    /// Instance i's maintenance windows.
    Maintenance(u32),
    /// Instance i's tests.
    Test(u32),
    /// A replenishment of spare pool s.
    Replenish(u32),
}

/// The compiled §9 settings.
#[derive(Clone, Debug, Default)]
pub(super) struct UpkeepProgram {
    /// Whether the model has none of the §9 constructs (then nothing here
    /// is consulted).
    pub none: bool,
    pub maintenance: Vec<Option<Maintenance>>,
    pub latent: Vec<Option<Latent>>,
    /// Per instance: its spare pool or `NONE`.
    pub spare: Vec<u32>,
    pub stock: Vec<u32>,
    pub lead_time: Vec<Dist>,
    /// Per instance: its maintenance and test slots (offsets from the
    /// first upkeep slot) or `NONE`.
    pub maint_slot: Vec<u32>,
    pub test_slot: Vec<u32>,
    /// Per pool: its first replenishment slot offset and how many.
    pub repl_first: Vec<u32>,
    pub repl_len: Vec<u32>,
    /// Per upkeep slot: what it times.
    pub timers: Vec<Timer>,
    /// Per gate: its load-sharing exponent, if any.
    pub gate_exponent: Vec<Option<f64>>,
    /// Per load-sharing gate: the instances under it.
    pub gate_instances: Vec<Vec<u32>>,
    /// Per instance: the load-sharing gates above it.
    pub gates_of: Vec<Vec<u32>>,
    /// Per standby: the instances in each unit (for demands on latent
    /// units).
    pub unit_instances: Vec<Vec<Vec<u32>>>,
}

impl UpkeepProgram {
    /// Compiles the §9 settings; `gates` maps the post-order rank of each
    /// series/parallel/k-of-n node to its gate index, with the instances
    /// under it.
    pub fn new(model: &Model, gates: &[(u32, Vec<u32>)], gate_count: usize) -> UpkeepProgram {
        let n = model.instances.len();
        let mut u = UpkeepProgram {
            none: !model.has_upkeep(),
            maintenance: model
                .instances
                .iter()
                .map(|i| i.upkeep.maintenance)
                .collect(),
            latent: model.instances.iter().map(|i| i.upkeep.latent).collect(),
            spare: model
                .instances
                .iter()
                .map(|i| i.upkeep.spare.map_or(NONE, |s| s as u32))
                .collect(),
            stock: model.spares.iter().map(|s| s.stock).collect(),
            lead_time: model.spares.iter().map(|s| s.lead_time.clone()).collect(),
            maint_slot: vec![NONE; n],
            test_slot: vec![NONE; n],
            gate_exponent: vec![None; gate_count],
            gates_of: vec![Vec::new(); n],
            ..UpkeepProgram::default()
        };
        for i in 0..n {
            if u.maintenance[i].is_some() {
                u.maint_slot[i] = u.timers.len() as u32;
                u.timers.push(Timer::Maintenance(i as u32));
            }
            if u.latent[i].is_some() {
                u.test_slot[i] = u.timers.len() as u32;
                u.timers.push(Timer::Test(i as u32));
            }
        }
        for (s, pool) in model.spares.iter().enumerate() {
            // Parts out at once: at most the stock plus one per waiting
            // repair, i.e. per user.
            let len = pool.stock + pool.users.len() as u32;
            u.repl_first.push(u.timers.len() as u32);
            u.repl_len.push(len);
            u.timers.extend(std::iter::repeat_n(
                Timer::Replenish(s as u32),
                len as usize,
            ));
        }
        for share in &model.load_sharing {
            let (g, under) = &gates[share.gate];
            u.gate_exponent[*g as usize] = Some(share.exponent);
            for &i in under {
                u.gates_of[i as usize].push(*g);
            }
        }
        u.gate_instances = vec![Vec::new(); gate_count];
        for share in &model.load_sharing {
            let (g, under) = &gates[share.gate];
            u.gate_instances[*g as usize] = under.clone();
        }
        if u.latent.iter().any(Option::is_some) {
            collect_units(&model.system, &mut u.unit_instances);
        }
        u
    }

    /// Whether instance `i` needs the general path of the engine.
    pub fn involves(&self, i: usize) -> bool {
        !self.none
            && (self.maintenance[i].is_some()
                || self.latent[i].is_some()
                || self.spare[i] != NONE
                || !self.gates_of[i].is_empty())
    }
}

/// The instances of every standby's units, in the compiler's order.
fn collect_units(node: &Node, out: &mut Vec<Vec<Vec<u32>>>) {
    if let Node::Standby(s) = node {
        let units = s
            .units
            .iter()
            .map(|unit| {
                let mut list = Vec::new();
                unit.for_each_instance(&mut |i| list.push(i as u32));
                list
            })
            .collect();
        out.push(units);
    }
    for child in node.children() {
        collect_units(child, out);
    }
}

/// §9 statistics, summed over replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpkeepTally {
    /// Per instance: planned down hours (maintenance windows and tests) in
    /// the window.
    pub planned_hours: Vec<f64>,
    /// System down hours while some instance was in planned down time.
    pub planned_system_hours: f64,
    /// Maintenance windows started.
    pub windows: u64,
    /// Hidden failures revealed, by a test or by a demand.
    pub revealed: u64,
    /// Of those, revealed by a demand.
    pub revealed_by_demand: u64,
    /// Hours the revealed hidden failures stayed hidden.
    pub hidden_hours: f64,
    /// Repairs that asked a spare pool for a part.
    pub spare_requests: u64,
    /// Of those, repairs that found the pool empty.
    pub stockouts: u64,
    /// Hours repairs waited for a part.
    pub spare_wait_hours: f64,
}

impl UpkeepTally {
    /// Appends `other`.
    pub fn merge(&mut self, other: &UpkeepTally) {
        if self.planned_hours.len() < other.planned_hours.len() {
            self.planned_hours.resize(other.planned_hours.len(), 0.0);
        }
        for (a, b) in self.planned_hours.iter_mut().zip(&other.planned_hours) {
            *a += b;
        }
        self.planned_system_hours += other.planned_system_hours;
        self.windows += other.windows;
        self.revealed += other.revealed;
        self.revealed_by_demand += other.revealed_by_demand;
        self.hidden_hours += other.hidden_hours;
        self.spare_requests += other.spare_requests;
        self.stockouts += other.stockouts;
        self.spare_wait_hours += other.spare_wait_hours;
    }

    /// Every number, in a fixed order (for checksums).
    pub fn words(&self) -> Vec<u64> {
        let mut w: Vec<u64> = self.planned_hours.iter().map(|x| x.to_bits()).collect();
        w.push(self.planned_hours.len() as u64);
        w.extend([
            self.planned_system_hours.to_bits(),
            self.windows,
            self.revealed,
            self.revealed_by_demand,
            self.hidden_hours.to_bits(),
            self.spare_requests,
            self.stockouts,
            self.spare_wait_hours.to_bits(),
        ]);
        w
    }
}

/// The §9 state of one replication.
#[derive(Clone, Debug, Default)]
pub struct UpkeepState {
    /// Per instance: in a maintenance window, in a test.
    in_maint: Vec<bool>,
    in_test: Vec<bool>,
    /// Per instance: failed without anyone knowing, and since when.
    hidden: Vec<bool>,
    hidden_since: Vec<f64>,
    /// Per instance: the next maintenance window and test on its grid.
    maint_next: Vec<f64>,
    test_next: Vec<f64>,
    /// Per instance: start of its planned down time, and its sum.
    planned_since: Vec<f64>,
    planned_hours: Vec<f64>,
    /// Instances in planned down time, and S(t) when that began.
    planned_active: u32,
    planned_mark: f64,
    planned_system: f64,
    /// Per pool: parts in stock, repairs waiting, free timer slots.
    stock: Vec<u32>,
    waiting: Vec<VecDeque<u32>>,
    free: Vec<Vec<u32>>,
    /// Per instance: when it began waiting for a part.
    wait_since: Vec<f64>,
    tally: UpkeepTally,
}

impl Replication {
    /// Resets the §9 state and puts the first timers in `start_times`.
    pub(super) fn reset_upkeep(&mut self, p: &Program) {
        let u = &p.upkeep;
        if u.none {
            return;
        }
        let n = p.instances();
        let st = &mut self.upkeep;
        for v in [&mut st.in_maint, &mut st.in_test, &mut st.hidden] {
            v.clear();
            v.resize(n, false);
        }
        for v in [
            &mut st.hidden_since,
            &mut st.maint_next,
            &mut st.test_next,
            &mut st.planned_since,
            &mut st.planned_hours,
            &mut st.wait_since,
        ] {
            v.clear();
            v.resize(n, 0.0);
        }
        st.planned_active = 0;
        st.planned_mark = 0.0;
        st.planned_system = 0.0;
        st.stock.clone_from(&u.stock);
        st.waiting.resize(u.stock.len(), VecDeque::new());
        st.waiting.iter_mut().for_each(VecDeque::clear);
        st.free.clear();
        for (&first, &len) in u.repl_first.iter().zip(&u.repl_len) {
            st.free.push((first..first + len).rev().collect());
        }
        st.tally = UpkeepTally::default();
        let base = p.upkeep_base();
        for i in 0..n {
            if let Some(m) = u.maintenance[i] {
                st.maint_next[i] = m.first;
                self.start_times[base + u.maint_slot[i] as usize] = m.first;
            }
            if let Some(l) = u.latent[i] {
                st.test_next[i] = l.first_test;
                self.start_times[base + u.test_slot[i] as usize] = l.first_test;
            }
        }
    }

    /// Sets `slot` to `at`: the queue's top (the current event) or any.
    fn set_slot(&mut self, slot: usize, at: f64, top: bool) {
        if top {
            self.queue.replace_top(at, self.seq);
        } else {
            self.schedule(slot, at);
        }
    }

    /// Instance `i` (the current event) fails: whether the failure is
    /// hidden (then nothing is scheduled for it).
    pub(super) fn hide_failure<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
    ) -> bool {
        let Some(l) = p.upkeep.latent[i] else {
            return false;
        };
        if l.fraction == 0.0 || (l.fraction < 1.0 && rng.random::<f64>() >= l.fraction) {
            return false;
        }
        self.upkeep.hidden[i] = true;
        self.upkeep.hidden_since[i] = t;
        self.queue.replace_top(f64::INFINITY, self.seq);
        true
    }

    /// Starts the repair of instance `i`, known failed at `t`: a part from
    /// its spare pool first, if it has one, then its crew or at once.
    pub(super) fn start_repair<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
        top: bool,
    ) {
        let s = p.upkeep.spare.get(i).copied().unwrap_or(NONE);
        if s != NONE {
            let s = s as usize;
            self.upkeep.tally.spare_requests += 1;
            // The failed part goes back at once, on its own timer.
            let slot = self.upkeep.free[s]
                .pop()
                .expect("a replenishment slot per part out");
            let at = t + p.upkeep.lead_time[s].sample(rng);
            self.schedule(p.upkeep_base() + slot as usize, at);
            if self.upkeep.stock[s] == 0 {
                self.upkeep.tally.stockouts += 1;
                self.upkeep.waiting[s].push_back(i as u32);
                self.upkeep.wait_since[i] = t;
                self.set_slot(i, f64::INFINITY, top);
                return;
            }
            self.upkeep.stock[s] -= 1;
        }
        self.repair_now(p, i, t, rng, top);
    }

    /// Instance `i`'s repair (it has its part) goes to its crew or starts.
    fn repair_now<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
        top: bool,
    ) {
        if p.crew[i] == NONE {
            let at = t + p.repair[i].sample(rng);
            self.set_slot(i, at, top);
        } else {
            self.crew_request_at(p, i, t, rng, top);
        }
    }

    /// An upkeep timer fired (its slot is the top of the queue).
    pub(super) fn upkeep_event<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        k: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        match p.upkeep.timers[k] {
            Timer::Maintenance(i) => self.maintenance_event(p, i as usize, t, rng, tally),
            Timer::Test(i) => self.test_event(p, i as usize, t, rng, tally),
            Timer::Replenish(s) => {
                let s = s as usize;
                self.queue.replace_top(f64::INFINITY, self.seq);
                self.upkeep.free[s].push(k as u32);
                match self.upkeep.waiting[s].pop_front() {
                    Some(j) => {
                        let j = j as usize;
                        self.upkeep.tally.spare_wait_hours += t - self.upkeep.wait_since[j];
                        self.repair_now(p, j, t, rng, false);
                    }
                    None => self.upkeep.stock[s] += 1,
                }
            }
        }
    }

    fn maintenance_event<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        let m = p.upkeep.maintenance[i].expect("a maintenance slot has maintenance");
        if self.upkeep.in_maint[i] {
            self.upkeep.in_maint[i] = false;
            if m.renew {
                // Frozen at speed 0: the fresh life waits in `frozen`.
                self.frozen[i] = p.failure[i].sample(rng);
            }
            let next = self.upkeep.maint_next[i];
            self.queue.replace_top(next, self.seq);
            self.planned_end(p, i, t, rng, tally);
            return;
        }
        self.upkeep.maint_next[i] = t + m.interval;
        if self.available(i) {
            self.upkeep.in_maint[i] = true;
            self.upkeep.tally.windows += 1;
            self.queue.replace_top(t + m.duration, self.seq);
            self.planned_start(p, i, t, rng, tally);
        } else {
            self.queue.replace_top(t + m.interval, self.seq);
        }
    }

    fn test_event<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        let l = p.upkeep.latent[i].expect("a test slot has tests");
        if self.upkeep.in_test[i] {
            self.upkeep.in_test[i] = false;
            let next = self.upkeep.test_next[i];
            self.queue.replace_top(next, self.seq);
            self.planned_end(p, i, t, rng, tally);
            return;
        }
        let next = t + l.test_interval;
        self.upkeep.test_next[i] = next;
        if self.upkeep.hidden[i] {
            self.queue.replace_top(next, self.seq);
            self.reveal(p, i, t, rng, false);
        } else if l.test_duration > 0.0 && self.available(i) {
            self.upkeep.in_test[i] = true;
            self.queue.replace_top(t + l.test_duration, self.seq);
            self.planned_start(p, i, t, rng, tally);
        } else {
            self.queue.replace_top(next, self.seq);
        }
    }

    /// Up and not in planned work: planned work may start.
    fn available(&self, i: usize) -> bool {
        self.own_up[i] && self.hold[i] == 0 && !self.upkeep.in_maint[i] && !self.upkeep.in_test[i]
    }

    /// Instance `i` (up) goes down for planned work at `t`.
    fn planned_start<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        if self.upkeep.planned_active == 0 {
            self.upkeep.planned_mark = self.system_down_clock(p, t);
        }
        self.upkeep.planned_active += 1;
        self.upkeep.planned_since[i] = t;
        self.update_speed(p, i, t);
        self.hold[i] += 1;
        self.instance_changed(p, i, false, t, rng, tally);
    }

    /// Instance `i`'s planned work ends at `t`.
    fn planned_end<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        self.upkeep.planned_hours[i] += p.overlap(self.upkeep.planned_since[i], t);
        self.hold[i] -= 1;
        self.update_speed(p, i, t);
        // A data loss (SPEC §8) may have taken it down meanwhile.
        if self.hold[i] == 0 && self.own_up[i] {
            self.instance_changed(p, i, true, t, rng, tally);
        }
        self.upkeep.planned_active -= 1;
        if self.upkeep.planned_active == 0 {
            self.upkeep.planned_system += self.system_down_clock(p, t) - self.upkeep.planned_mark;
        }
    }

    /// Whether instance `i`'s age is frozen by planned work.
    pub(super) fn frozen_by_plan(&self, i: usize) -> bool {
        !self.upkeep.in_maint.is_empty() && (self.upkeep.in_maint[i] || self.upkeep.in_test[i])
    }

    /// The load-sharing factor of instance `i`.
    pub(super) fn load_speed(&self, p: &Program, i: usize) -> f64 {
        let mut f = 1.0;
        for &g in &p.upkeep.gates_of[i] {
            let g = g as usize;
            let a = p.upkeep.gate_exponent[g].unwrap_or(0.0);
            f *= load_factor(p.gate_n[g], self.count[g], a);
        }
        f
    }

    /// A load-sharing gate's count changed: its instances' speeds follow.
    pub(super) fn load_changed(&mut self, p: &Program, g: usize, t: f64) {
        for k in 0..p.upkeep.gate_instances[g].len() {
            let i = p.upkeep.gate_instances[g][k] as usize;
            self.update_speed(p, i, t);
        }
    }

    /// Hidden failure of `i` found at `t` (a test, or a demand when
    /// `demand`): its repair starts.
    fn reveal<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
        demand: bool,
    ) {
        self.upkeep.hidden[i] = false;
        self.upkeep.tally.revealed += 1;
        self.upkeep.tally.revealed_by_demand += u64::from(demand);
        self.upkeep.tally.hidden_hours += t - self.upkeep.hidden_since[i];
        self.start_repair(p, i, t, rng, false);
    }

    /// A standby's switchover (away from `except`) demands its units in
    /// order of preference until one is up: hidden failures of the units
    /// it tries are revealed.
    pub(super) fn demand<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        s: usize,
        except: u32,
        t: f64,
        rng: &mut R,
    ) {
        if p.upkeep.unit_instances.is_empty() {
            return;
        }
        for u in 0..p.upkeep.unit_instances[s].len() {
            if u as u32 == except {
                continue;
            }
            if self.standby[s].unit_is_up(u) {
                return;
            }
            for k in 0..p.upkeep.unit_instances[s][u].len() {
                let i = p.upkeep.unit_instances[s][u][k] as usize;
                if self.upkeep.hidden[i] {
                    self.reveal(p, i, t, rng, true);
                }
            }
        }
    }

    /// Closes the replication's §9 statistics at the horizon.
    pub(super) fn finish_upkeep(&mut self, p: &Program, tally: &mut Tally) {
        if p.upkeep.none {
            return;
        }
        let n = p.instances();
        let st = &mut self.upkeep;
        for i in 0..n {
            if st.in_maint[i] || st.in_test[i] {
                st.planned_hours[i] += p.overlap(st.planned_since[i], p.horizon);
            }
        }
        if st.planned_active > 0 {
            let end = if self.system_up {
                self.system_down
            } else {
                self.system_down + p.overlap(self.system_down_since, p.horizon)
            };
            st.planned_system += end - st.planned_mark;
        }
        st.tally.planned_hours.clone_from(&st.planned_hours);
        st.tally.planned_system_hours = st.planned_system;
        tally.upkeep.merge(&st.tally);
    }
}
