//! The rare-event method (SPEC §7): estimates the long-run unavailability,
//! outage frequency and mean outage duration of highly available systems
//! with bounded relative error.
//!
//! [`RareEvent`] runs in rounds like every precision estimator
//! ([`crate::precision::RoundRunner`]).
//!
//! # Design
//! Importance sampling with balanced failure biasing over regenerative
//! cycles (Shahabuddin; Goyal, Shahabuddin, Heidelberger, Nicola & Glynn,
//! IEEE Trans. Computers 1992), generalised to non-exponential laws through
//! cumulative hazards:
//! - A *cycle* runs from an entry into the all-fine set (every instance up,
//!   no common cause active, every standby running normally) to the next.
//!   Its length T comes from a plain (unbiased) path.
//! - At the cycle's exit from the all-fine set, the state (every clock's
//!   age included) is copied and a *biased excursion* runs from the copy
//!   back to the all-fine set. While the system is up and not all-fine:
//!   - *Markov states* (every failure clock and every pending completion
//!     exponential): classic balanced failure biasing on the embedded
//!     chain. The next event is a failure with probability θ =
//!     `FAILURE_BIAS` (0.6) instead of Λ/(Λ + μ); the holding time keeps
//!     its own law; pending completion times are redrawn (memoryless), so
//!     no factor depends on a sampled wait.
//!   - *Other states*: completions (repairs, common-cause outages, standby
//!     delays) keep the times drawn from their own laws, the failure
//!     clocks compete through their cumulative hazards from their current
//!     ages, and a failure before the next completion (probability
//!     P = 1 − e^{−G(τ)}, closed form) is chosen with probability θ leaned
//!     towards P/(P + q), q the failure probability over the completion's
//!     mean wait, so that the likelihood ratio barely depends on how long
//!     this wait turned out.
//!   - *Which failure*: half the pick follows the original odds, the other
//!     half is shared evenly by the failures that shorten the distance to
//!     the nearest minimal cut set (the fewest further failures that bring
//!     the system down, computed from the structure in the current state;
//!     a standby with delays or an imperfect switch is as near as its
//!     active unit). On a series of ten 6-of-8 groups this sends the
//!     second and third failures to the group already hit instead of
//!     spreading them over 79 disks (80 s to 1.5 s at 10%).
//!   - A switchover fails with probability at least `SWITCH_BIAS` (0.25).
//!     Every likelihood-ratio factor is bounded (at most 1/(1 − θ), or 2
//!     for the failure pick); deterministic or empirical lives run
//!     unbiased. An earlier version let repairs compete through their
//!     hazards too (a quadrature per event): lower variance per cycle, but
//!     20–50 times the cost per event.
//! - U = E\[D·L\]/E\[T\], with D the system down time of the excursion; the
//!   outage frequency is E\[N·L\]/E\[T\] (N outages begun in the excursion).
//!   The interval is the delta method's on independent work units.
//! - When every life is exponential and there is no standby, the all-fine
//!   state is regenerative and a work unit is one cycle. Otherwise
//!   (ageing lives, the active unit of a standby) a work unit is a plain
//!   path that first runs [`BURN_IN_CYCLES`] cycles towards the stationary
//!   ages and then contributes [`MEASURED_CYCLES`] cycles, each exit state
//!   of which starts a biased excursion; units are independent, so the
//!   delta method over units stays valid.
//!
//! The estimate is trusted only with an effective sample size of at least
//! [`MIN_ESS`], no single cycle carrying more than [`MAX_SHARE`] of it and
//! at least [`crate::precision::MIN_HITS`] cycles reaching system failure.

mod hazard;
mod net;
mod path;

use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::precision::{RoundRunner, MIN_HITS};
use crate::stats::{normal_quantile, UnavailabilityEstimate};

use net::Net;
pub use net::MAX_INSTANCES;
use path::{Path, Step};

/// Cycles a non-regenerative work unit runs before it measures.
pub const BURN_IN_CYCLES: u64 = 32;
/// Cycles a non-regenerative work unit measures.
pub const MEASURED_CYCLES: u64 = 32;
/// Effective sample size below which the interval is not trusted.
pub const MIN_ESS: f64 = 300.0;
/// Largest share of the estimate a single cycle may carry in a trusted
/// estimate.
pub const MAX_SHARE: f64 = 0.1;
/// Events after which an excursion is cut short (and a warning given).
const MAX_EXCURSION_EVENTS: u64 = 1_000_000;
/// Work units, cycles per unit and events per excursion of the probe
/// that refuses systems whose cycles do not close ([`RareEvent::new`]).
const PROBE_UNITS: u64 = 2;
const PROBE_CYCLES: u64 = 8;
const PROBE_EXCURSION_EVENTS: u64 = 100_000;
/// Keeps the probe's streams apart from those of the run.
const PROBE_KEY: u64 = 0x5052_4f42_4500_0000;
/// Hours per year.
const HOURS_PER_YEAR: f64 = 8760.0;
/// Keeps the rare-event streams apart from those of plain replications.
const STREAM_KEY: u64 = 0x5241_5245_4556_4e54;

/// The rare-event estimator of one scenario.
#[derive(Debug)]
pub struct RareEvent {
    net: Box<Net>,
    seed: u64,
}

/// Mergeable statistics of rare-event rounds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RareTally {
    /// Work units run.
    pub units: u64,
    /// Cycles measured (each with one biased excursion).
    pub cycles: u64,
    /// Cycles whose biased excursion saw system down time.
    pub hits: u64,
    /// Events processed, plain and biased.
    pub events: u64,
    /// Excursions cut short after too many events.
    pub truncated: u64,
    /// Co-moments of (T, D·L) per work unit.
    pub co: CoMoments,
    /// Sum over units of N·L (weighted outages begun).
    pub outages: f64,
    /// Sum over cycles of (D·L)².
    pub y2: f64,
    /// Largest D·L of a cycle.
    pub y_max: f64,
}

/// Running means and centred co-moments of pairs (t, y), mergeable in a
/// fixed order (Chan, Golub & LeVeque).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CoMoments {
    /// Pairs.
    pub n: u64,
    /// Mean of t.
    pub mt: f64,
    /// Mean of y.
    pub my: f64,
    /// Σ(t − mt)².
    pub tt: f64,
    /// Σ(y − my)².
    pub yy: f64,
    /// Σ(t − mt)(y − my).
    pub ty: f64,
}

impl CoMoments {
    /// Adds the pairs of `o`.
    pub fn merge(&mut self, o: &CoMoments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let (na, nb) = (self.n as f64, o.n as f64);
        let n = na + nb;
        let (dt, dy) = (o.mt - self.mt, o.my - self.my);
        self.tt += o.tt + dt * dt * na * nb / n;
        self.yy += o.yy + dy * dy * na * nb / n;
        self.ty += o.ty + dt * dy * na * nb / n;
        self.mt += dt * nb / n;
        self.my += dy * nb / n;
        self.n += o.n;
    }

    /// Adds one pair.
    pub fn push(&mut self, t: f64, y: f64) {
        self.merge(&CoMoments {
            n: 1,
            mt: t,
            my: y,
            ..CoMoments::default()
        });
    }
}

/// Diagnostics of a rare-event run (SPEC §7).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Effective sample size of the weighted estimate, (Σy)²/Σy² over the
    /// cycles' weighted down times y = D·L.
    pub effective_sample_size: f64,
    /// The largest single weight's share of the estimate.
    pub max_weight_share: f64,
    /// Fraction of cycles or trials that reached system failure.
    pub hit_fraction: f64,
    /// Warnings when the figures above indicate an unreliable run.
    pub warnings: Vec<String>,
}

/// Long-run outage figures a rare-event run estimates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutageFigures {
    /// System failures per year.
    pub per_year: Option<f64>,
    /// Mean outage duration in hours.
    pub mean_duration_hours: Option<f64>,
}

/// What one work unit measured.
#[derive(Default)]
struct Unit {
    t: f64,
    y: f64,
    n: f64,
    y2: f64,
    y_max: f64,
    cycles: u64,
    hits: u64,
    events: u64,
    truncated: u64,
}

impl RareEvent {
    /// The estimator for `model`, or the reason it cannot take the scenario
    /// (said before anything runs).
    ///
    /// # Errors
    /// The reason, as a sentence for the user.
    pub fn new(model: &Model) -> Result<RareEvent, String> {
        if let Some(why) = crate::model::upkeep::rare_event_refusal(model) {
            return Err(why);
        }
        let rare = RareEvent {
            net: Box::new(Net::new(model)?),
            seed: model.simulation.seed,
        };
        rare.probe()?;
        Ok(rare)
    }

    /// Runs the plain path of a few work units with a small event budget
    /// per excursion: a system that hardly ever returns to the all-fine
    /// state (every unit up) never closes its cycles, and the method
    /// would run without end.
    fn probe(&self) -> Result<(), String> {
        let net = &self.net;
        for j in 0..PROBE_UNITS {
            let mut rng = crate::sim::replication_rng(self.seed ^ STREAM_KEY ^ PROBE_KEY, j);
            let mut path = Path::new(net, &mut rng);
            for _ in 0..PROBE_CYCLES {
                if !sojourn(net, &mut path, &mut rng) {
                    break;
                }
                let start = path.events;
                let mut down = 0.0;
                while !path.all_fine() {
                    if path.step(net, &mut down, &mut rng) == Step::Dead {
                        break;
                    }
                    if path.events - start >= PROBE_EXCURSION_EVENTS {
                        return Err(format!(
                            "the system hardly ever returns to the state with every unit up (an excursion from it took more than {PROBE_EXCURSION_EVENTS} events), so its regenerative cycles do not close"
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The method's name in reports: `importance-sampling` or `splitting`.
    pub fn method_name(&self) -> &'static str {
        "importance-sampling"
    }

    /// Cycles each work unit measures.
    pub fn cycles_per_unit(&self) -> u64 {
        if self.net.regenerative {
            1
        } else {
            MEASURED_CYCLES
        }
    }

    /// Diagnostics of the rounds in `tally`.
    pub fn diagnostics(&self, tally: &RareTally) -> Diagnostics {
        let sum_y = tally.co.my * tally.co.n as f64;
        let (ess, share) = if sum_y > 0.0 {
            (sum_y * sum_y / tally.y2, tally.y_max / sum_y)
        } else {
            (0.0, 0.0)
        };
        let hit_fraction = if tally.cycles > 0 {
            tally.hits as f64 / tally.cycles as f64
        } else {
            0.0
        };
        let mut warnings = Vec::new();
        if ess < MIN_ESS {
            warnings.push(format!(
                "effective sample size {ess:.0} is below {MIN_ESS:.0}: the interval may be too narrow; run longer (smaller --precision or larger --max-replications)"
            ));
        }
        if share > MAX_SHARE {
            warnings.push(format!(
                "one cycle carries {:.1}% of the estimate: the likelihood ratios are unbalanced and the interval may be too narrow",
                100.0 * share
            ));
        }
        if tally.cycles > 0 && hit_fraction < 0.01 {
            warnings.push(format!(
                "only {:.3}% of cycles reached system failure: the biasing finds few paths to failure",
                100.0 * hit_fraction
            ));
        }
        if tally.truncated > 0 {
            warnings.push(format!(
                "{} excursions were cut short after {MAX_EXCURSION_EVENTS} events: the estimate is biased low",
                tally.truncated
            ));
        }
        Diagnostics {
            effective_sample_size: ess,
            max_weight_share: share,
            hit_fraction,
            warnings,
        }
    }

    /// Outage frequency and mean duration from the rounds in `tally`.
    pub fn outages(&self, tally: &RareTally) -> OutageFigures {
        let n = tally.co.n as f64;
        if tally.hits == 0 || tally.outages <= 0.0 || tally.co.mt.is_nan() || tally.co.mt <= 0.0 {
            return OutageFigures::default();
        }
        OutageFigures {
            per_year: Some(tally.outages / (tally.co.mt * n) * HOURS_PER_YEAR),
            mean_duration_hours: Some(tally.co.my * n / tally.outages),
        }
    }

    /// Runs work unit `j`: its plain path and biased excursions.
    fn run_unit(&self, j: u64) -> Unit {
        let mut plain = crate::sim::replication_rng(self.seed ^ STREAM_KEY, 2 * j);
        let mut biased = crate::sim::replication_rng(self.seed ^ STREAM_KEY, 2 * j + 1);
        let net = &self.net;
        let mut path = Path::new(net, &mut plain);
        let (burn, measured) = if net.regenerative {
            (0, 1)
        } else {
            (BURN_IN_CYCLES, MEASURED_CYCLES)
        };
        let mut u = Unit::default();
        for cycle in 0..burn + measured {
            let start = path.t;
            if !sojourn(net, &mut path, &mut plain) {
                break;
            }
            if cycle >= burn {
                let mut b = path.clone();
                b.biased = true;
                b.log_lr = 0.0;
                b.events = 0;
                let (d, n, cut) = excursion(net, &mut b, &mut biased);
                let w = b.log_lr.exp();
                let y = d * w;
                u.y += y;
                u.n += n as f64 * w;
                u.y2 += y * y;
                u.y_max = u.y_max.max(y);
                u.hits += u64::from(d > 0.0);
                u.events += b.events;
                u.truncated += u64::from(cut);
                u.cycles += 1;
            }
            let (_, _, cut) = excursion(net, &mut path, &mut plain);
            if cut {
                u.truncated += 1;
                break;
            }
            if cycle >= burn {
                u.t += path.t - start;
            }
        }
        u.events += path.events;
        u
    }
}

/// Runs `path` through its sojourn in the all-fine set; false if nothing
/// can happen any more.
fn sojourn<R: Rng + ?Sized>(net: &Net, path: &mut Path, rng: &mut R) -> bool {
    let mut down = 0.0;
    while path.all_fine() {
        if path.step(net, &mut down, rng) == Step::Dead {
            return false;
        }
    }
    true
}

/// Runs `path` back to the all-fine set: system down time, outages begun
/// (the one at the start included) and whether it was cut short.
fn excursion<R: Rng + ?Sized>(net: &Net, path: &mut Path, rng: &mut R) -> (f64, u64, bool) {
    let mut down = 0.0;
    let mut outages = u64::from(!path.up);
    let start = path.events;
    while !path.all_fine() {
        let was_up = path.up;
        if path.step(net, &mut down, rng) == Step::Dead {
            return (down, outages, true);
        }
        outages += u64::from(was_up && !path.up);
        if path.events - start >= MAX_EXCURSION_EVENTS {
            return (down, outages, true);
        }
    }
    (down, outages, false)
}

impl RoundRunner for RareEvent {
    type Tally = RareTally;

    fn empty(&self) -> RareTally {
        RareTally::default()
    }

    fn run_round(&self, round: u64, units: u64, pool: &rayon::ThreadPool) -> RareTally {
        let schedule = crate::precision::Schedule {
            pilot: self.pilot_units(),
            cap: None,
        };
        let start = schedule.units(round).start;
        let results: Vec<Unit> = pool.install(|| {
            (start..start + units)
                .into_par_iter()
                .map(|j| self.run_unit(j))
                .collect()
        });
        let mut tally = RareTally::default();
        for u in results {
            tally.units += 1;
            tally.cycles += u.cycles;
            tally.hits += u.hits;
            tally.events += u.events;
            tally.truncated += u.truncated;
            tally.co.push(u.t, u.y);
            tally.outages += u.n;
            tally.y2 += u.y2;
            tally.y_max = tally.y_max.max(u.y_max);
        }
        tally
    }

    fn merge(&self, into: &mut RareTally, other: &RareTally) {
        into.units += other.units;
        into.cycles += other.cycles;
        into.hits += other.hits;
        into.events += other.events;
        into.truncated += other.truncated;
        into.co.merge(&other.co);
        into.outages += other.outages;
        into.y2 += other.y2;
        into.y_max = into.y_max.max(other.y_max);
    }

    fn estimate(&self, tally: &RareTally) -> UnavailabilityEstimate {
        estimate(tally, &self.diagnostics(tally))
    }

    fn hits(&self, tally: &RareTally) -> u64 {
        tally.hits
    }

    fn pilot_units(&self) -> u64 {
        if self.net.regenerative {
            1024
        } else {
            32
        }
    }

    fn events(&self, tally: &RareTally) -> Option<u64> {
        Some(tally.events)
    }
}

/// U = ΣY/ΣT with the delta method's interval on the work units.
///
/// # Formula
/// ```text
/// Û = ȳ/t̄,  Var(Û) ≈ Σ(y − Û·t)² / ((n − 1)·n·t̄²)
/// ```
fn estimate(tally: &RareTally, diag: &Diagnostics) -> UnavailabilityEstimate {
    let co = &tally.co;
    let n = co.n as f64;
    let u = if co.mt > 0.0 { co.my / co.mt } else { 0.0 };
    let var_resid = if co.n > 1 {
        ((co.yy - 2.0 * u * co.ty + u * u * co.tt) / (n - 1.0)).max(0.0)
    } else {
        f64::INFINITY
    };
    let se = (var_resid / n).sqrt() / co.mt;
    let interval = |level: f64| {
        let h = normal_quantile(1.0 - (1.0 - level) / 2.0) * se;
        if h.is_finite() {
            [(u - h).max(0.0), (u + h).min(1.0)]
        } else {
            [0.0, 1.0]
        }
    };
    let half = normal_quantile(0.975) * se;
    let trusted = if !u.is_finite() || !se.is_finite() {
        Err("the estimate is not finite".to_string())
    } else if tally.hits < MIN_HITS {
        Err(format!(
            "only {} cycles reached system failure (at least {MIN_HITS} are needed)",
            tally.hits
        ))
    } else if diag.effective_sample_size < MIN_ESS {
        Err(format!(
            "the effective sample size {:.0} is below {MIN_ESS:.0}",
            diag.effective_sample_size
        ))
    } else if diag.max_weight_share > MAX_SHARE {
        Err(format!(
            "one cycle carries {:.1}% of the estimate",
            100.0 * diag.max_weight_share
        ))
    } else if tally.truncated > 0 {
        Err("some excursions were cut short".to_string())
    } else {
        Ok(())
    };
    UnavailabilityEstimate {
        mean: u,
        ci95: interval(0.95),
        ci999: interval(0.999),
        relative_half_width: if u > 0.0 { half / u } else { f64::INFINITY },
        upper_bound95: None,
        trusted,
    }
}

#[cfg(test)]
mod tests;
