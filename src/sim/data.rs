//! Data protection in the engine (SPEC §8): destruction, backups, restore
//! and replication lag.
//!
//! A destroyed instance's own process stays down through its repair (if its
//! hardware failed) and then the restore; the restore is the instance's
//! own event slot, so a restore ends like a repair. Backups cost no events:
//! they are periodic, so the latest usable one before a destruction is
//! found when it is needed. Between two changes of the instance's
//! effective state nothing skips a backup, so at each change to down (and
//! at each destruction) the backups that ended since the instance came up
//! are settled, newest first, until one succeeds; a backup due while the
//! instance is down is skipped, and one running when it goes down is
//! abandoned (not usable). A success draw is made only for backups that
//! could be the latest usable one, so a run costs about 1/s draws per
//! incident, not one per backup.

use rand::{Rng, RngExt};

use super::engine::Replication;
use super::program::{Program, NONE};
use super::tally::Tally;
use crate::model::{BackupDef, DataDef, Dist, Model, Node};

/// The compiled data settings of a model.
#[derive(Clone, Debug, Default)]
pub(super) struct DataPlan {
    /// Whether anything holds or loses data.
    pub any: bool,
    /// Per instance: its data settings, if it holds data.
    pub defs: Vec<Option<DataDef>>,
    /// Instances with a separate loss process, one event slot each.
    pub loss_instances: Vec<u32>,
    /// Per common cause: whether it destroys data.
    pub cc_destroys: Vec<bool>,
    /// Per standby (compile order): the replication lag, if asynchronous.
    pub lags: Vec<Option<Dist>>,
}

impl DataPlan {
    /// The plan of `model`; standby lags in the order the compiler meets
    /// standby nodes (depth first, as `Program::compile`).
    pub fn new(model: &Model) -> DataPlan {
        let defs: Vec<Option<DataDef>> = model
            .instances
            .iter()
            .map(|i| i.data.as_deref().cloned())
            .collect();
        let loss_instances = defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.as_ref().is_some_and(|d| d.loss.is_some()))
            .map(|(i, _)| i as u32)
            .collect();
        let mut lags = Vec::new();
        collect_lags(&model.system, &mut lags);
        let any = defs.iter().any(Option::is_some) || lags.iter().any(Option::is_some);
        DataPlan {
            any,
            defs,
            loss_instances,
            cc_destroys: model
                .common_causes
                .iter()
                .map(|c| c.destroys_data)
                .collect(),
            lags,
        }
    }

    /// Whether instance `i` holds data.
    #[inline]
    pub fn holds(&self, i: usize) -> bool {
        self.any && self.defs[i].is_some()
    }
}

fn collect_lags(node: &Node, out: &mut Vec<Option<Dist>>) {
    match node {
        Node::Instance(_) => {}
        Node::Standby(s) => {
            out.push(s.replication_lag.clone());
            s.units.iter().for_each(|u| collect_lags(u, out));
        }
        Node::Balancer(b) => {
            collect_lags(&b.via, out);
            b.pool.iter().for_each(|m| collect_lags(m, out));
        }
        other => other
            .children()
            .into_iter()
            .for_each(|c| collect_lags(c, out)),
    }
}

/// Per-replication data state.
#[derive(Clone, Debug, Default)]
pub(super) struct DataState {
    /// Per instance: data destroyed and not yet restored.
    destroyed: Vec<bool>,
    /// Per instance: the own slot's next event ends a restore.
    restoring: Vec<bool>,
    /// Per instance: a restore may not start before this (a destroying
    /// common-cause outage still holding it).
    restore_after: Vec<f64>,
    /// Per instance: end of the last restore (0 at the start).
    last_restore_end: Vec<f64>,
    /// Per instance: start of the latest usable backup.
    last_usable: Vec<f64>,
    /// Per instance: first backup not yet settled.
    next_backup: Vec<u64>,
    /// Per instance: effectively up (own up and not held).
    up: Vec<bool>,
    /// Per standby: the last active unit.
    last_active: Vec<u32>,
    /// Incidents of this replication: (instance or `NONE` for a failover,
    /// hours of data lost).
    incidents: Vec<(u32, f64)>,
    /// Per instance: restore hours in the window.
    restore: Vec<f64>,
}

impl DataState {
    fn reset(&mut self, p: &Program) {
        let n = p.instances();
        for v in [&mut self.destroyed, &mut self.restoring, &mut self.up] {
            v.clear();
            v.resize(n, false);
        }
        self.up.iter_mut().for_each(|u| *u = true);
        self.incidents.clear();
        for v in [
            &mut self.restore_after,
            &mut self.last_restore_end,
            &mut self.restore,
        ] {
            v.clear();
            v.resize(n, 0.0);
        }
        self.last_usable.clear();
        self.last_usable.resize(n, f64::NEG_INFINITY);
        self.next_backup.clear();
        self.next_backup.resize(n, 0);
        self.last_active.clear();
        self.last_active.resize(p.data.lags.len(), 0);
    }
}

/// The index of the first backup starting at or after `t`.
fn first_backup_from(b: &BackupDef, t: f64) -> u64 {
    ((t - b.offset) / b.interval).ceil().max(0.0) as u64
}

impl Replication {
    /// Resets the data state and schedules the first loss events.
    pub(super) fn reset_data<R: Rng + ?Sized>(&mut self, p: &Program, rng: &mut R) {
        if !p.data.any {
            return;
        }
        self.data.reset(p);
        for (k, &i) in p.data.loss_instances.iter().enumerate() {
            let at = self.loss_sample(p, i as usize, rng);
            self.start_times[p.data_base() + k] = at;
        }
    }

    fn loss_sample<R: Rng + ?Sized>(&self, p: &Program, i: usize, rng: &mut R) -> f64 {
        p.data.defs[i]
            .as_ref()
            .and_then(|d| d.loss.as_ref())
            .map_or(f64::INFINITY, |d| d.sample(rng))
    }

    /// Instance `i`'s effective state changed at `t` (called for
    /// data-holding instances only).
    pub(super) fn data_changed<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        up: bool,
        t: f64,
        rng: &mut R,
    ) {
        if up {
            if let Some(b) = backup_of(p, i) {
                let k = first_backup_from(b, t);
                self.data.next_backup[i] = self.data.next_backup[i].max(k);
            }
        } else {
            self.settle_backups(p, i, t, rng);
        }
        self.data.up[i] = up;
    }

    /// Settles the backups of instance `i` (up since its last change) that
    /// ended by `t`.
    fn settle_backups<R: Rng + ?Sized>(&mut self, p: &Program, i: usize, t: f64, rng: &mut R) {
        if !self.data.up[i] {
            return;
        }
        let Some(b) = backup_of(p, i) else {
            return;
        };
        let done = t - b.duration - b.offset;
        if done < 0.0 {
            return;
        }
        let last = (done / b.interval).floor() as u64;
        let first = self.data.next_backup[i];
        if last < first {
            return;
        }
        let mut k = last;
        loop {
            if b.success >= 1.0 || rng.random::<f64>() < b.success {
                self.data.last_usable[i] = b.start(k);
                break;
            }
            if k == first {
                break;
            }
            k -= 1;
        }
        self.data.next_backup[i] = last + 1;
    }

    /// Destroys instance `i`'s data at `t`: records the incident. Returns
    /// false when its data was already destroyed and not yet restored
    /// (nothing more to lose).
    fn destroy<R: Rng + ?Sized>(&mut self, p: &Program, i: usize, t: f64, rng: &mut R) -> bool {
        if self.data.destroyed[i] {
            return false;
        }
        self.settle_backups(p, i, t, rng);
        self.data.destroyed[i] = true;
        let since = self.data.last_usable[i].max(self.data.last_restore_end[i]);
        self.record_incident(p, i as u32, t, (t - since).max(0.0));
        true
    }

    fn record_incident(&mut self, p: &Program, source: u32, t: f64, lost: f64) {
        if t >= p.warmup && t <= p.horizon {
            self.data.incidents.push((source, lost));
        }
    }

    /// Adds the replication's incidents and restore hours to `tally`.
    pub(super) fn flush_data(&mut self, p: &Program, tally: &mut Tally) {
        if !p.data.any {
            return;
        }
        let t = &mut tally.data;
        for (source, lost) in self.data.incidents.drain(..) {
            t.sources.push(source);
            t.losses.push(lost);
        }
        if t.restore_hours.len() < self.data.restore.len() {
            t.restore_hours.resize(self.data.restore.len(), 0.0);
        }
        for (a, b) in t.restore_hours.iter_mut().zip(&self.data.restore) {
            *a += b;
        }
    }

    /// Instance `i` (the current event) just failed: a fraction of its own
    /// failures destroy its data.
    pub(super) fn data_on_failure<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
    ) {
        let Some(d) = &p.data.defs[i] else {
            return;
        };
        let f = d.loss_on_failure;
        if f > 0.0 && (f >= 1.0 || rng.random::<f64>() < f) {
            self.destroy(p, i, t, rng);
        }
    }

    /// Instance `i`'s repair just ended at `t`: if its data is destroyed,
    /// its restore starts (at `t`, or when a destroying outage ends) and
    /// the time it ends is returned.
    pub(super) fn data_restore_after_repair<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
    ) -> Option<f64> {
        if !p.data.holds(i) || !self.data.destroyed[i] || self.data.restoring[i] {
            return None;
        }
        Some(self.start_restore(p, i, t, rng))
    }

    fn start_restore<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
    ) -> f64 {
        let d = p.data.defs[i].as_ref().expect("a data-holding instance");
        let start = t.max(self.data.restore_after[i]);
        let end = start + d.restore.as_ref().map_or(0.0, |r| r.sample(rng));
        self.data.restoring[i] = true;
        self.data.restore[i] += p.overlap(start, end);
        end
    }

    /// Whether instance `i`'s pending own event ends a restore; if so the
    /// restore is over at `t`.
    pub(super) fn data_restore_ends(&mut self, p: &Program, i: usize, t: f64) -> bool {
        if !p.data.holds(i) || !self.data.restoring[i] {
            return false;
        }
        self.data.restoring[i] = false;
        self.data.destroyed[i] = false;
        self.data.last_restore_end[i] = t;
        true
    }

    /// The loss process of the `k`-th instance with one fired at `t` (the
    /// top of the queue): an up instance goes down with its data destroyed
    /// and restores; a loss while its own process is down is skipped.
    pub(super) fn loss_event<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        k: usize,
        t: f64,
        rng: &mut R,
        tally: &mut Tally,
    ) {
        let i = p.data.loss_instances[k] as usize;
        let next = t + self.loss_sample(p, i, rng);
        self.queue.replace_top(next, self.seq);
        if !self.own_up[i] {
            return;
        }
        self.destroy(p, i, t, rng);
        self.own_up[i] = false;
        let end = self.start_restore(p, i, t, rng);
        self.schedule(i, end);
        if self.hold[i] == 0 {
            self.instance_changed(p, i, false, t, rng, tally);
        }
    }

    /// A common-cause outage `c` that destroys data started at `t` and ends
    /// at `end`: every affected instance holding data loses it and restores
    /// once the outage is over and its own repair, if any, is done.
    pub(super) fn data_outage<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        c: usize,
        t: f64,
        end: f64,
        rng: &mut R,
    ) {
        if !p.data.any || !p.data.cc_destroys[c] {
            return;
        }
        for &i in &p.common_causes[c].affects {
            let i = i as usize;
            if !p.data.holds(i) {
                continue;
            }
            self.data.restore_after[i] = self.data.restore_after[i].max(end);
            if !self.destroy(p, i, t, rng) || !self.own_up[i] {
                continue;
            }
            self.own_up[i] = false;
            let at = self.start_restore(p, i, t, rng);
            self.schedule(i, at);
        }
    }

    /// Standby `s` made `unit` active when its repair ended while no unit
    /// was active (waiting, or stuck after a failed switch): no switchover
    /// happened, so no lag is lost (as a repaired primary loses nothing).
    pub(super) fn data_activated(&mut self, p: &Program, s: usize, unit: u32) {
        if p.data.any && unit != NONE {
            self.data.last_active[s] = unit;
        }
    }

    /// Standby `s` switched over to `unit` at `t` (a completed switchover,
    /// or manual recovery after a failed one): with asynchronous
    /// replication, a switch to another unit than the last active one
    /// loses the lag.
    pub(super) fn data_switched<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        s: usize,
        unit: u32,
        t: f64,
        rng: &mut R,
    ) {
        if !p.data.any || unit == NONE {
            return;
        }
        let last = std::mem::replace(&mut self.data.last_active[s], unit);
        if let (Some(lag), true) = (&p.data.lags[s], last != unit) {
            let lost = lag.sample(rng);
            self.record_incident(p, NONE, t, lost);
        }
    }
}

fn backup_of(p: &Program, i: usize) -> Option<&BackupDef> {
    p.data.defs[i].as_ref().and_then(|d| d.backup.as_ref())
}
