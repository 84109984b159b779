//! Repair crews (SPEC §2 "Crews"): at most `size` repairs at once, the
//! others wait first-in-first-out; and what the report says of each crew
//! (SPEC §5 additions): the busy fraction of its members and the mean wait
//! of a repair for a free member.
//!
//! A repair counts when it is requested in [warmup, horizon] and starts
//! before the horizon (a wait still open at the horizon is not counted: its
//! length is unknown). Busy time is each repair's [start, start + duration]
//! clipped to the window like every other figure.

use std::collections::VecDeque;

use rand::Rng;

use super::engine::Replication;
use super::program::Program;
use super::tally::MechanismTally;

/// The crews of one replication.
#[derive(Clone, Debug, Default)]
pub(super) struct CrewState {
    /// Per crew: members busy now.
    busy: Vec<u32>,
    queue: Vec<VecDeque<u32>>,
    /// Per crew: Σ busy members × hours in the window.
    busy_hours: Vec<f64>,
    /// Per crew: repairs started (requested in the window), and their waits.
    started: Vec<u64>,
    wait_hours: Vec<f64>,
    /// Per instance: when its queued request was made.
    requested: Vec<f64>,
}

impl CrewState {
    /// All crews idle, nothing tallied.
    pub(super) fn reset(&mut self, p: &Program) {
        let crews = p.crew_size.len();
        self.busy.clear();
        self.busy.resize(crews, 0);
        self.queue.resize(crews, VecDeque::new());
        self.queue.iter_mut().for_each(VecDeque::clear);
        for v in [&mut self.busy_hours, &mut self.wait_hours] {
            v.clear();
            v.resize(crews, 0.0);
        }
        self.started.clear();
        self.started.resize(crews, 0);
        self.requested.resize(p.instances(), 0.0);
    }

    /// A repair of `hours` starts at `t` (nothing interrupts a repair, so
    /// its member is busy for exactly that long).
    #[inline]
    fn busy_for(&mut self, p: &Program, c: usize, t: f64, hours: f64) {
        self.busy_hours[c] += p.overlap(t, t + hours);
    }

    /// Adds this replication to `tally`.
    pub(super) fn finish(&mut self, p: &Program, tally: &mut MechanismTally) {
        let window = p.horizon - p.warmup;
        tally.push_crews(
            self.busy_hours
                .iter()
                .zip(&p.crew_size)
                .map(|(&h, &size)| h / (f64::from(size) * window)),
            &self.started,
            &self.wait_hours,
        );
    }
}

impl Replication {
    /// Instance `i` needs a repair from its crew; `top`: its slot is the
    /// current event.
    #[inline]
    pub(super) fn crew_request_at<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
        top: bool,
    ) {
        let c = p.crew[i] as usize;
        let crews = &mut self.crews;
        let at = if crews.busy[c] < p.crew_size[c] {
            crews.busy[c] += 1;
            if t >= p.warmup {
                crews.started[c] += 1;
            }
            let d = p.repair[i].sample(rng);
            crews.busy_for(p, c, t, d);
            t + d
        } else {
            crews.queue[c].push_back(i as u32);
            crews.requested[i] = t;
            f64::INFINITY
        };
        if top {
            self.queue.replace_top(at, self.seq);
        } else {
            self.schedule(i, at);
        }
    }

    /// Instance `i`'s repair is done: its crew takes the next waiting repair.
    #[inline]
    pub(super) fn crew_release<R: Rng + ?Sized>(
        &mut self,
        p: &Program,
        i: usize,
        t: f64,
        rng: &mut R,
    ) {
        let c = p.crew[i] as usize;
        let crews = &mut self.crews;
        match crews.queue[c].pop_front() {
            Some(j) => {
                let j = j as usize;
                let asked = crews.requested[j];
                if asked >= p.warmup {
                    crews.started[c] += 1;
                    crews.wait_hours[c] += t - asked;
                }
                let d = p.repair[j].sample(rng);
                crews.busy_for(p, c, t, d);
                self.schedule(j, t + d);
                self.events += 1;
            }
            None => crews.busy[c] -= 1,
        }
    }
}
