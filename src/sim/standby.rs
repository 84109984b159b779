//! The standby state machine (SPEC §2 "standby").
//!
//! ```text
//! Normal ──active unit fails──▶ Detecting ──detection delay──▶ (choose the first up unit)
//!    ▲                              │ active repaired: back to Normal
//!    │                              ▼
//!    │        none up: Waiting   FailingOver ──failover delay──▶ switch
//!    │                                                          │ works (p): Normal, new active
//!    │                                                          └ fails: Stuck ──manual recovery──▶ first up unit
//!    └── Waiting or Stuck: the first unit whose repair completes becomes active at once
//! ```
//!
//! Zero detection and failover delays are taken at once, without events.
//! The node is up only in Normal with its active unit up. Idle units (all
//! but the active one) age at the mode's idle speed: the remaining life of
//! each of their instances is rescaled when their speed changes, which is
//! exact for every distribution (time runs slower for idle units).

use rand::{Rng, RngExt};

use super::engine::Replication;
use super::program::{Program, NONE};
use super::tally::{MechanismTally, STANDBY_MECHANISMS};

/// Phases of a standby node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Phase {
    /// The active unit is up (or, after a repair, about to be).
    #[default]
    Normal,
    /// The active unit failed; the failure is not noticed yet.
    Detecting,
    /// Switching over to `target`.
    FailingOver,
    /// A switchover failed: no active unit until manual recovery or a repair.
    Stuck,
    /// No unit was up to switch to: waiting for a repair.
    Waiting,
}

/// Indices into [`STANDBY_MECHANISMS`].
const UNITS_DOWN: usize = 0;
const DETECTION: usize = 1;
const SWITCHOVER: usize = 2;
const STUCK: usize = 3;
const MANUAL: usize = 4;
/// The node is up.
const UP: usize = usize::MAX;

/// The state of one standby node.
#[derive(Clone, Debug, Default)]
pub(super) struct StandbyState {
    active: u32,
    phase: Phase,
    target: u32,
    unit_up: Vec<bool>,
    /// The mechanism holding the node down now (`UP` while up), and since
    /// when.
    kind: usize,
    kind_since: f64,
    /// The stuck period now ending ends by manual recovery.
    manual_end: bool,
    /// This replication's down hours in the window per mechanism.
    hours: [f64; STANDBY_MECHANISMS.len()],
    /// This replication's down hours in the window, from the node's output.
    down_hours: f64,
    down_since: f64,
}

impl StandbyState {
    /// The active unit, or `NONE`.
    pub(super) fn active(&self) -> u32 {
        self.active
    }

    fn output(&self) -> bool {
        self.phase == Phase::Normal && self.active != NONE && self.unit_up[self.active as usize]
    }

    /// Whether unit `u` is up.
    pub(super) fn unit_is_up(&self, u: usize) -> bool {
        self.unit_up[u]
    }

    /// What holds the node down now, or `UP`.
    #[inline]
    fn kind(&self) -> usize {
        if self.output() {
            return UP;
        }
        match self.phase {
            Phase::Detecting => DETECTION,
            Phase::FailingOver => SWITCHOVER,
            Phase::Stuck => STUCK,
            Phase::Normal | Phase::Waiting => UNITS_DOWN,
        }
    }

    fn first_up_except(&self, except: u32) -> Option<u32> {
        (0..self.unit_up.len() as u32).find(|&u| u != except && self.unit_up[u as usize])
    }
}

impl Replication {
    pub(super) fn reset_standby(&mut self, p: &Program) {
        self.standby
            .resize(p.standbys.len(), StandbyState::default());
        for (st, def) in self.standby.iter_mut().zip(&p.standbys) {
            st.active = 0;
            st.phase = Phase::Normal;
            st.target = NONE;
            st.unit_up.clear();
            st.unit_up.resize(def.units as usize, true);
            st.kind = UP;
            st.kind_since = 0.0;
            st.manual_end = false;
            st.hours = [0.0; STANDBY_MECHANISMS.len()];
            st.down_hours = 0.0;
        }
        self.pending.clear();
        self.deferring = false;
    }

    /// Unit `u` of standby `s` went up or down at `t`.
    pub(super) fn unit_changed<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        s: usize,
        u: usize,
        up: bool,
        t: f64,
        rng: &mut R,
    ) {
        let before = self.standby[s].output();
        self.standby[s].unit_up[u] = up;
        self.react(p, s, u, up, t, rng);
        self.emit(p, s, before, t, rng);
    }

    /// Applies the unit changes a common cause left in `pending`: each
    /// standby, innermost first (inner nodes have higher indices), sees all
    /// its units' new states at once and then reacts to them in preference
    /// order, so a failover never targets a unit going down at the same
    /// instant, and of units coming back together the first in preference
    /// order becomes active.
    pub(super) fn settle_units<R: Rng + ?Sized>(&mut self, p: &Program, t: f64, rng: &mut R) {
        while let Some(s) = self.pending.iter().map(|&(s, _, _)| s).max() {
            let mut changes: Vec<(u32, bool)> = Vec::new();
            self.pending.retain(|&(o, u, up)| {
                if o == s {
                    changes.push((u, up));
                }
                o != s
            });
            // The last signal of a unit is its final state.
            changes.reverse();
            changes.sort_by_key(|&(u, _)| u);
            changes.dedup_by_key(|&mut (u, _)| u);
            let s = s as usize;
            let before = self.standby[s].output();
            changes.retain(|&(u, up)| self.standby[s].unit_up[u as usize] != up);
            for &(u, up) in &changes {
                self.standby[s].unit_up[u as usize] = up;
            }
            for &(u, up) in &changes {
                self.react(p, s, u as usize, up, t, rng);
            }
            self.emit(p, s, before, t, rng);
        }
    }

    /// The state machine's response to unit `u` (already recorded as `up`).
    fn react<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        s: usize,
        u: usize,
        up: bool,
        t: f64,
        rng: &mut R,
    ) {
        let st = &mut self.standby[s];
        let is_active = st.active == u as u32;
        match (up, st.phase) {
            (true, Phase::Detecting) if is_active => {
                st.phase = Phase::Normal;
                self.schedule(p.standby_base() + s, f64::INFINITY);
            }
            (true, Phase::Stuck | Phase::Waiting) => {
                st.phase = Phase::Normal;
                self.schedule(p.standby_base() + s, f64::INFINITY);
                self.set_active(p, s, u as u32, t);
                self.data_activated(p, s, u as u32);
            }
            (false, Phase::Normal) if is_active => self.active_failed(p, s, t, rng),
            _ => {}
        }
    }

    /// The timer of standby `s` fired at `t` (its slot is already idle).
    pub(super) fn standby_timer<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        s: usize,
        t: f64,
        rng: &mut R,
    ) {
        let before = self.standby[s].output();
        match self.standby[s].phase {
            Phase::Detecting => self.detected(p, s, t, rng),
            Phase::FailingOver => {
                let target = self.standby[s].target;
                self.complete_switch(p, s, target, t, rng);
            }
            Phase::Stuck => match self.manual_recovery_ends(p, s, t, rng) {
                Some(u) => {
                    self.standby[s].phase = Phase::Normal;
                    self.set_active(p, s, u, t);
                    self.data_switched(p, s, u, t, rng);
                }
                None => self.standby[s].phase = Phase::Waiting,
            },
            Phase::Normal | Phase::Waiting => {}
        }
        self.emit(p, s, before, t, rng);
    }

    /// The first up unit after a demand on the units (manual recovery).
    fn demanded_first_up<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        s: usize,
        t: f64,
        rng: &mut R,
    ) -> Option<u32> {
        self.demand(p, s, NONE, t, rng);
        self.standby[s].first_up_except(NONE)
    }

    /// Manual recovery after a failed switch: the first up unit, if any
    /// (the stuck period it ends is attributed to manual recovery).
    fn manual_recovery_ends<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        s: usize,
        t: f64,
        rng: &mut R,
    ) -> Option<u32> {
        self.standby[s].manual_end = true;
        self.demanded_first_up(p, s, t, rng)
    }

    /// Closes the current mechanism's period at `t` if the mechanism
    /// changed (or `force`, at the horizon) and starts the next one.
    #[inline]
    fn attribute(&mut self, p: &Program, s: usize, t: f64, force: bool) {
        let st = &mut self.standby[s];
        let kind = st.kind();
        if kind == st.kind && !force {
            return;
        }
        if st.kind != UP {
            let k = if st.kind == STUCK && st.manual_end {
                MANUAL
            } else {
                st.kind
            };
            st.hours[k] += p.overlap(st.kind_since, t);
        }
        st.manual_end = false;
        st.kind = kind;
        st.kind_since = t;
    }

    fn emit<R: Rng + ?Sized>(&mut self, p: &Program, s: usize, before: bool, t: f64, rng: &mut R) {
        self.attribute(p, s, t, false);
        let after = self.standby[s].output();
        if after != before {
            let st = &mut self.standby[s];
            if after {
                st.down_hours += p.overlap(st.down_since, t);
            } else {
                st.down_since = t;
            }
            self.signal(p, p.standbys[s].parent, after, t, rng);
        }
    }

    /// Closes every standby node's periods at the horizon and adds this
    /// replication to `tally`.
    pub(super) fn finish_standby(&mut self, p: &Program, tally: &mut MechanismTally) {
        let m = STANDBY_MECHANISMS.len();
        tally.standby_hours.resize(p.standbys.len() * m, 0.0);
        tally.standby_down_hours.resize(p.standbys.len(), 0.0);
        for s in 0..p.standbys.len() {
            self.attribute(p, s, p.horizon, true);
            let st = &self.standby[s];
            let mut down = st.down_hours;
            if !st.output() {
                down += p.overlap(st.down_since, p.horizon);
            }
            tally.standby_down_hours[s] += down;
            for (a, b) in tally.standby_hours[s * m..(s + 1) * m]
                .iter_mut()
                .zip(&st.hours)
            {
                *a += b;
            }
        }
    }

    fn active_failed<R: Rng + ?Sized>(&mut self, p: &Program, s: usize, t: f64, rng: &mut R) {
        match &p.standbys[s].detection {
            Some(d) => {
                self.standby[s].phase = Phase::Detecting;
                let at = t + d.sample(rng);
                self.schedule(p.standby_base() + s, at);
            }
            None => self.detected(p, s, t, rng),
        }
    }

    /// The active unit's failure is noticed: switch to the first up unit.
    fn detected<R: Rng + ?Sized>(&mut self, p: &Program, s: usize, t: f64, rng: &mut R) {
        let failed = self.standby[s].active;
        self.demand(p, s, failed, t, rng);
        let target = self.standby[s].first_up_except(failed);
        self.set_active(p, s, NONE, t);
        match (target, &p.standbys[s].failover) {
            (None, _) => self.standby[s].phase = Phase::Waiting,
            (Some(u), Some(d)) => {
                self.standby[s].phase = Phase::FailingOver;
                self.standby[s].target = u;
                let at = t + d.sample(rng);
                self.schedule(p.standby_base() + s, at);
            }
            (Some(u), None) => self.complete_switch(p, s, u, t, rng),
        }
    }

    /// The switchover to `target` ends: it works with probability
    /// `switch_success`; a target that failed meanwhile fails as the new
    /// active unit.
    fn complete_switch<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        s: usize,
        target: u32,
        t: f64,
        rng: &mut R,
    ) {
        let def = &p.standbys[s];
        if def.switch_success < 1.0 && rng.random::<f64>() >= def.switch_success {
            self.standby[s].phase = Phase::Stuck;
            if let Some(d) = &def.manual_recovery {
                let at = t + d.sample(rng);
                self.schedule(p.standby_base() + s, at);
            }
            return;
        }
        self.standby[s].phase = Phase::Normal;
        self.set_active(p, s, target, t);
        self.data_switched(p, s, target, t, rng);
        if !self.standby[s].unit_up[target as usize] {
            self.active_failed(p, s, t, rng);
        }
    }

    /// Makes `unit` (or none) the active unit and updates the ageing speed
    /// of the instances of the old and new active units.
    fn set_active(&mut self, p: &Program, s: usize, unit: u32, t: f64) {
        let old = std::mem::replace(&mut self.standby[s].active, unit);
        let def = &p.standbys[s];
        if old == unit || def.idle_speed == 1.0 {
            return;
        }
        for u in [old, unit] {
            if u != NONE {
                for &i in &def.unit_instances[u as usize] {
                    self.update_speed(p, i as usize, t);
                }
            }
        }
    }

    /// Recomputes instance `i`'s ageing speed and, if it is up, moves its
    /// pending failure so that its remaining operating life is unchanged.
    pub(super) fn update_speed(&mut self, p: &Program, i: usize, t: f64) {
        let mut speed: f64 = 1.0;
        for &(s, u) in &p.enclosures[i] {
            if self.standby[s as usize].active != u {
                speed = speed.min(p.standbys[s as usize].idle_speed);
            }
        }
        if !p.upkeep.none {
            if self.frozen_by_plan(i) {
                speed = 0.0;
            } else {
                speed *= self.load_speed(p, i);
            }
        }
        let old = self.speed[i];
        if speed == old {
            return;
        }
        self.speed[i] = speed;
        if !self.own_up[i] {
            return;
        }
        let remaining = if old == 0.0 {
            self.frozen[i]
        } else {
            (self.fail_at[i] - t) * old
        };
        let at = if speed == 0.0 {
            self.frozen[i] = remaining;
            f64::INFINITY
        } else {
            t + remaining / speed
        };
        self.fail_at[i] = at;
        self.schedule(i, at);
    }
}
