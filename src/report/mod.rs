//! The report of a run (SPEC §5) and its writers.

pub mod curves;
pub mod data;
pub mod failover;
pub mod html;
pub mod plot;
pub mod text;
pub mod upkeep;

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analytic::importance::{self, Importance};
use crate::analytic::{verdict, Analysis};
use crate::error::Error;
use crate::estimate::{from_summary, plain_unavailability, DownSummary};
use crate::model::{Model, ObjectiveDef};
use crate::precision::{RoundPoint, RoundRunner, Stopper};
use crate::rare::RareEvent;
use crate::scenario::HOURS_PER_YEAR;
use crate::sim::{ObjectiveTally, Outcome, NINES_BINS_PER_UNIT};
use crate::stats::{quantile, UnavailabilityEstimate};
pub use data::{DataAnalytic, DataLoss};
pub use failover::{CrewStat, Failover};
pub use upkeep::UpkeepReport;

/// Everything a run reports; serialized as `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// availsim version that produced the report.
    pub version: String,
    /// Hash of the resolved scenario (after command-line overrides), so that
    /// `batch --resume` reruns a scenario that changed.
    #[serde(default)]
    pub scenario_hash: String,
    /// Run settings and cost.
    pub simulation: SimulationInfo,
    /// Availability over [warmup, horizon].
    pub availability: Availability,
    /// System down time scaled to a year.
    pub downtime_hours_per_year: Downtime,
    /// Outages.
    pub outages: Outages,
    /// Time to first system failure from all up; null for rare-event runs.
    pub first_failure: Option<FirstFailure>,
    /// Request success (balancers); null without balancers.
    pub requests: Option<Requests>,
    /// Objectives met; null for rare-event runs.
    pub objectives: Option<Vec<Objective>>,
    /// Per instance availability and down-time share; null for rare-event
    /// runs.
    pub components: Option<Vec<ComponentStat>>,
    /// The A(t) grid; null for rare-event runs.
    pub transient: Option<Transient>,
    /// The analytic cross-check.
    pub analytic: Analytic,
    /// Data lost by the system (SPEC §8); null when nothing holds data.
    #[serde(default)]
    pub data_loss: Option<DataLoss>,
    /// The running estimate against replications.
    pub convergence: Convergence,
    /// R(t) = P(no system failure by t); null for rare-event runs.
    #[serde(default)]
    pub reliability: Option<curves::Reliability>,
    /// Down time of every standby and balancer node by mechanism; null
    /// without such nodes and for rare-event runs.
    #[serde(default)]
    pub failover: Option<Failover>,
    /// Utilisation and mean wait of every repair crew; null without crews
    /// and for rare-event runs.
    #[serde(default)]
    pub crews: Option<Vec<CrewStat>>,
    /// Planned down time, hidden failures and spares (SPEC §9); absent
    /// without them and for rare-event runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<UpkeepReport>,
}

/// Run settings and cost. `threads`, `wall_seconds` and `events_per_second`
/// vary between runs; everything else is determined by the scenario and seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimulationInfo {
    /// Replications run.
    pub replications: u64,
    /// Simulated hours per replication.
    pub horizon_hours: f64,
    /// Hours before statistics start.
    pub warmup_hours: f64,
    /// Seed of the random streams.
    pub seed: u64,
    /// Threads used.
    pub threads: usize,
    /// State changes processed.
    pub events: u64,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
    /// `events / wall_seconds`.
    pub events_per_second: f64,
    /// The engine that ran the replications: "independent" (every instance
    /// an independent renewal process, trajectories drawn whole) or
    /// "event queue".
    #[serde(default)]
    pub engine: String,
    /// How the unavailability was estimated: `plain`,
    /// `importance-sampling` or `splitting` (SPEC §7).
    #[serde(default = "plain")]
    pub method: String,
    /// Why the run stopped: `replications`, `precision` or `time-limit`.
    #[serde(default = "replications")]
    pub stopped_by: String,
    /// The precision target (relative half-width of the 95% interval of
    /// the unavailability), if the run had one.
    #[serde(default)]
    pub precision: Option<f64>,
    /// Rounds run by a precision run.
    #[serde(default)]
    pub rounds: Option<u64>,
    /// Diagnostics of a rare-event run; null for plain runs.
    #[serde(default)]
    pub diagnostics: Option<crate::rare::Diagnostics>,
    /// What the reader must know about how the run went (the method chosen
    /// and why, a time limit that made the result depend on machine speed).
    #[serde(default)]
    pub notes: Vec<String>,
}

fn plain() -> String {
    "plain".into()
}

fn replications() -> String {
    "replications".into()
}

/// Availability: mean of the per-replication up fraction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    /// Mean.
    pub mean: f64,
    /// Standard error of the mean.
    pub std_error: f64,
    /// 95% confidence interval: 1 − the unavailability's interval (for a
    /// plain run with no down time, [1 − upper bound, 1]).
    pub ci95: [f64; 2],
    /// −log10(1 − mean); null when the system was never down.
    pub nines: Option<f64>,
    /// The unavailability 1 − A with its own interval (SPEC §3, §7).
    #[serde(default)]
    pub unavailability: Unavailability,
}

/// The system unavailability (SPEC §7 `availability.unavailability`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Unavailability {
    /// Point estimate.
    pub mean: f64,
    /// 95% confidence interval; `[0, upper_bound95]` when nothing was seen.
    pub ci95: [f64; 2],
    /// Half the 95% interval's width over the mean (a fraction); null when
    /// the mean is 0.
    pub relative_half_width: Option<f64>,
    /// One-sided 95% upper bound when no down time was seen, else null.
    pub upper_bound95: Option<f64>,
    /// Why the interval is not trusted for a verdict (too few outages),
    /// null when it is.
    #[serde(default)]
    pub not_trusted: Option<String>,
}

impl Unavailability {
    /// The report block of an estimate.
    pub fn new(e: &UnavailabilityEstimate) -> Unavailability {
        Unavailability {
            mean: e.mean,
            ci95: e.ci95,
            relative_half_width: e
                .relative_half_width
                .is_finite()
                .then_some(e.relative_half_width),
            upper_bound95: e.upper_bound95,
            not_trusted: e.trusted.clone().err(),
        }
    }

    /// The matching availability interval [1 − hi, 1 − lo].
    pub fn availability_ci95(&self) -> [f64; 2] {
        [
            (1.0 - self.ci95[1]).clamp(0.0, 1.0),
            (1.0 - self.ci95[0]).clamp(0.0, 1.0),
        ]
    }
}

/// Down time per year across replications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Downtime {
    /// Mean.
    pub mean: f64,
    /// 95% confidence interval of the mean.
    pub ci95: [f64; 2],
    /// Median replication (null for rare-event runs, as the other
    /// percentiles and the histogram: they are not estimated).
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 95th percentile (marked in the downtime plot).
    pub p95: Option<f64>,
    /// Replications by down time per year, for the downtime plot.
    pub histogram: Option<Histogram>,
    /// The distribution of down time in single whole simulated years
    /// (SPEC §5 additions): null when the window holds no whole year or for
    /// rare-event runs.
    #[serde(default)]
    pub per_calendar_year: Option<CalendarYears>,
}

/// System down hours in single whole simulated years, over every whole year
/// (counted from the warmup) of every replication: what a typical year and
/// a bad year look like, unlike the percentiles of per-replication averages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarYears {
    /// Whole years observed.
    pub years: u64,
    /// Fraction of years without system down time.
    pub without_downtime: f64,
    /// Median year (a typical year).
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile (one year in a hundred is worse: a bad year).
    pub p99: f64,
    /// The worst year seen.
    pub max: f64,
}

impl CalendarYears {
    /// The distribution from `zeros` years without down time and the down
    /// hours of the others (sorted in place); None without any year.
    pub fn new(zeros: u64, down: &mut [f64]) -> Option<CalendarYears> {
        down.sort_unstable_by(f64::total_cmp);
        let n = zeros + down.len() as u64;
        if n == 0 {
            return None;
        }
        // Type-7 quantile over the zeros followed by the sorted others.
        let at = |i: u64| i.checked_sub(zeros).map_or(0.0, |k| down[k as usize]);
        let q = |p: f64| {
            let h = (n - 1) as f64 * p;
            let lo = h.floor() as u64;
            let hi = (lo + 1).min(n - 1);
            at(lo) + (h - lo as f64) * (at(hi) - at(lo))
        };
        Some(CalendarYears {
            years: n,
            without_downtime: zeros as f64 / n as f64,
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: at(n - 1),
        })
    }
}

/// Counts of values in equal bins; values beyond the last edge are counted
/// in `overflow`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bin edges, one more than the counts.
    pub edges: Vec<f64>,
    /// Values in each bin, from one edge up to the next (the last bin closed).
    pub counts: Vec<u64>,
    /// Values above the last edge.
    pub overflow: u64,
}

/// The running estimate of availability as replications accumulate, for
/// the convergence plot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Convergence {
    /// Replications at each checkpoint (about 200, log-spaced).
    pub replications: Vec<u64>,
    /// Availability estimated from the first replications.
    pub mean: Vec<f64>,
    /// Its 95% confidence interval, lower ends.
    pub ci95_low: Vec<f64>,
    /// Upper ends.
    pub ci95_high: Vec<f64>,
}

/// Outages overlapping the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outages {
    /// Mean number per year (null only when a rare-event run cannot
    /// estimate it).
    pub per_year: Option<f64>,
    /// Mean duration (clipped to the window); null without outages.
    pub mean_duration_hours: Option<f64>,
}

/// Time to first system failure from all up, censored at the horizon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirstFailure {
    /// Σ min(T, horizon) / failures: the sample mean when nothing is
    /// censored, the exponential maximum-likelihood estimate otherwise;
    /// null when no replication failed.
    pub mttff_hours: Option<f64>,
    /// Fraction of replications without a failure before the horizon.
    pub censored_fraction: f64,
}

/// Time-weighted request success ratio.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    /// Mean ratio.
    pub success_ratio: f64,
    /// 95% confidence interval.
    pub ci95: [f64; 2],
}

/// One objective: availability per window, or (with `rpo_hours`) a
/// recovery point per data-loss incident (SPEC §8).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    /// Target availability per window (availability objectives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<f64>,
    /// Window length (availability objectives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_hours: Option<f64>,
    /// The most hours of data one incident may lose (RPO objectives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_hours: Option<f64>,
    /// Fraction of whole windows that met the target; for an RPO, of
    /// data-loss incidents that lost no more than it (1 without incidents).
    pub met_fraction: f64,
    /// Whole windows observed (over all replications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<u64>,
    /// Data-loss incidents observed (RPO objectives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents: Option<u64>,
    /// The distribution of window availability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_availability: Option<WindowAvailability>,
}

/// The distribution of availability over whole windows. Percentiles come
/// from a histogram with bins of 0.05 nines and are the lower edge of their
/// bin, so they never flatter: p1 is the availability that 99% of windows
/// reach or beat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowAvailability {
    /// Mean window availability.
    pub mean: f64,
    /// 1st percentile (the worst windows).
    pub p1: f64,
    /// 5th percentile.
    pub p5: f64,
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
}

/// One instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComponentStat {
    /// Instance name.
    pub name: String,
    /// Fraction of the window it was up.
    pub availability: f64,
    /// Fraction of system down time during which it was down.
    pub downtime_share: f64,
    /// Birnbaum, Fussell–Vesely, RAW and RRW on unavailability: exact
    /// (steady state) where the structure function applies, estimated from
    /// the simulation otherwise.
    #[serde(default)]
    pub importance: Option<Importance>,
    /// Data this instance lost (data-holding instances only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_loss: Option<DataLoss>,
}

/// Point availability A(t) on the grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transient {
    /// Grid times.
    pub time_hours: Vec<f64>,
    /// Fraction of replications up at each time.
    pub availability: Vec<f64>,
    /// Interval availability of each bin between grid points, with its
    /// band and the exact curve where one exists.
    #[serde(default)]
    pub bins: Option<curves::Bins>,
}

/// The analytic cross-check (SPEC §4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Analytic {
    /// `structure-function`, `ctmc`, `approximation`, or null.
    pub method: Option<String>,
    /// Whether the figures are exact.
    pub exact: bool,
    /// Steady-state availability.
    pub steady_state: Option<f64>,
    /// Expected availability over [warmup, horizon].
    pub interval: Option<f64>,
    /// Mean time to first system failure.
    pub mttf_hours: Option<f64>,
    /// `pass` or `fail` for exact methods.
    pub verdict: Option<String>,
    /// (simulated − exact availability) / standard error, that is
    /// (exact − simulated unavailability) / standard error.
    pub z: Option<f64>,
    /// Which figure the simulation was compared with: `interval` or
    /// `steady_state` (null without a verdict).
    pub compared_with: Option<String>,
    /// Relative difference of unavailability, (simulated − analytic) /
    /// analytic, for exact and approximate methods alike.
    pub relative_difference: Option<f64>,
    /// What was done, and why other methods did not apply.
    pub note: Option<String>,
    /// The analytic unavailability compared with (direct, not 1 − A).
    #[serde(default)]
    pub unavailability: Option<f64>,
    /// Simulated minus analytic nines: log10(analytic U / simulated U).
    #[serde(default)]
    pub nines_difference: Option<f64>,
    /// Why there is no verdict (null with a verdict).
    #[serde(default)]
    pub no_verdict_reason: Option<String>,
    /// The start-up bias in unavailability added to the steady state before
    /// the comparison (non-exponential units start new), if any.
    #[serde(default)]
    pub startup_correction: Option<f64>,
    /// For a method that is not exact: the bound on its unavailability's
    /// error, where it has one (phase-type expansion); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_bound: Option<f64>,
}

impl Analytic {
    /// The analytic block for `analysis` against the simulated
    /// unavailability estimate (the verdict rule is
    /// [`crate::analytic::verdict`]).
    pub fn new(a: &Analysis, e: &UnavailabilityEstimate) -> Analytic {
        let v = verdict(e, a);
        let finite_positive = |x: f64| x.is_finite() && x > 0.0;
        let (relative_difference, nines_difference) = match v.unavailability {
            Some(u) if finite_positive(u) && e.mean.is_finite() => (
                Some((e.mean - u) / u),
                finite_positive(e.mean).then(|| (u / e.mean).log10()),
            ),
            _ => (None, None),
        };
        Analytic {
            method: a.method.map(|m| m.name().to_string()),
            exact: a.exact,
            steady_state: a.steady_state,
            interval: a.interval,
            mttf_hours: a.mttf_hours,
            verdict: v
                .pass
                .map(|ok| if ok { "pass" } else { "fail" }.to_string()),
            z: v.z,
            compared_with: v.pass.and(v.compared_with).map(str::to_string),
            relative_difference,
            note: Some(match v.startup_correction {
                Some(c) => format!(
                    "{}; compared with the steady state plus the start-up bias of {c:.3e} in unavailability (all units start new; simulated from their distributions)",
                    a.note
                ),
                None => a.note.clone(),
            }),
            unavailability: v.unavailability,
            nines_difference,
            no_verdict_reason: v.no_verdict_reason,
            startup_correction: v.startup_correction,
            error_bound: a
                .error_bound
                .filter(|b| !a.exact && a.method.is_some() && b.is_finite()),
        }
    }

    /// Whether the check failed.
    pub fn failed(&self) -> bool {
        self.verdict.as_deref() == Some("fail")
    }

    /// How the method's figure stands: `exact`, `bounded` (an error bound,
    /// so verdicts are possible), `approximate`, or `None` without a method.
    pub fn kind(&self) -> Option<&'static str> {
        self.method.as_ref()?;
        Some(if self.exact {
            "exact"
        } else if self.error_bound.is_some() {
            "bounded"
        } else {
            "approximate"
        })
    }
}

impl Report {
    /// Builds the report of a finished run. The outcome is consumed: its
    /// per-replication values are sorted in place for the quantiles (after
    /// the convergence series has read them in order), so a run of 10⁷
    /// replications holds them once, not twice.
    pub fn new(model: &Model, outcome: Outcome, analysis: &Analysis) -> Report {
        let Outcome {
            mut tally,
            threads,
            wall_seconds,
        } = outcome;
        let estimate = plain_unavailability(&tally, model);
        let convergence = convergence(&tally.down_values, model);
        let mut sorted = std::mem::take(&mut tally.down_values);
        sorted.sort_unstable_by(f64::total_cmp);
        let mut year_hours = std::mem::take(&mut tally.year_down_hours);
        let sim = &model.simulation;
        let t = &tally;
        let reps = t.replications();
        let window = sim.window();
        let years = window / HOURS_PER_YEAR;
        let d = &t.down;
        let unavailability = Unavailability::new(&estimate);
        let [d_lo, d_hi] = estimate.ci95;
        let mean = 1.0 - d.mean;
        let per_year = |x: f64| x * HOURS_PER_YEAR;
        let grid = sim.grid();
        Report {
            scenario: model.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_hash: crate::scale::scenario_hash(model),
            simulation: SimulationInfo {
                replications: reps,
                horizon_hours: sim.horizon,
                warmup_hours: sim.warmup,
                seed: sim.seed,
                threads,
                events: t.events,
                wall_seconds,
                events_per_second: t.events as f64 / wall_seconds.max(1e-9),
                engine: crate::sim::Program::new(model).engine().to_string(),
                method: plain(),
                stopped_by: replications(),
                precision: None,
                rounds: None,
                diagnostics: None,
                notes: Vec::new(),
            },
            availability: Availability {
                mean,
                std_error: d.std_error(),
                ci95: unavailability.availability_ci95(),
                nines: (d.mean > 0.0).then(|| -d.mean.log10()),
                unavailability,
            },
            downtime_hours_per_year: Downtime {
                mean: per_year(d.mean),
                ci95: [per_year(d_lo.max(0.0)), per_year(d_hi.min(1.0))],
                p50: Some(per_year(quantile(&sorted, 0.5))),
                p90: Some(per_year(quantile(&sorted, 0.9))),
                p99: Some(per_year(quantile(&sorted, 0.99))),
                p95: Some(per_year(quantile(&sorted, 0.95))),
                histogram: Some(histogram(&sorted, per_year)),
                per_calendar_year: CalendarYears::new(t.years_without_downtime, &mut year_hours),
            },
            outages: Outages {
                per_year: Some(t.outages as f64 / (reps as f64 * years)),
                mean_duration_hours: (t.outages > 0)
                    .then(|| t.system_down_hours / t.outages as f64),
            },
            first_failure: Some(FirstFailure {
                mttff_hours: (t.first_failures > 0)
                    .then(|| t.first_failure_exposure / t.first_failures as f64),
                censored_fraction: (reps - t.first_failures) as f64 / reps as f64,
            }),
            requests: (t.requests.n > 0).then(|| {
                let [lo, hi] = t.requests.ci(0.95);
                Requests {
                    success_ratio: t.requests.mean,
                    ci95: [lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0)],
                }
            }),
            objectives: Some(
                model
                    .objectives
                    .iter()
                    .zip(&t.objectives)
                    .map(|(o, ot)| objective(o, ot))
                    .chain(data::rpo_objectives(model, &t.data))
                    .collect(),
            ),
            data_loss: data::system(model, &t.data, reps, analysis),
            components: Some(data::add_to_components(
                components(model, t, reps),
                model,
                &t.data,
                reps,
            )),
            transient: Some(Transient {
                time_hours: grid.clone(),
                availability: t
                    .transient_up
                    .iter()
                    .map(|&u| u as f64 / reps as f64)
                    .collect(),
                bins: curves::bins(model, analysis, t, &grid),
            }),
            reliability: curves::reliability(model, t, &grid),
            analytic: Analytic::new(analysis, &estimate),
            convergence,
            failover: Failover::new(model, t, reps),
            crews: failover::crews(model, t, reps),
            maintenance: UpkeepReport::new(model, t, reps),
        }
    }

    /// The report of a rare-event run: the steady-state unavailability
    /// with its interval, outage frequency and mean duration, the running
    /// estimate per round and the diagnostics; figures the method does not
    /// estimate (A(t), per-year distributions, objectives, first failure,
    /// components, requests) are null.
    pub fn rare(
        model: &Model,
        rare: &RareEvent,
        stopper: &Stopper<'_, RareEvent>,
        threads: usize,
        wall_seconds: f64,
        analysis: &Analysis,
    ) -> Report {
        let e = stopper.runner().estimate(&stopper.tally);
        let [lo, hi] = e.ci95;
        let std_error = (hi - lo) / (2.0 * crate::stats::normal_quantile(0.975));
        let outages = rare.outages(&stopper.tally);
        let units = stopper.units();
        let events = rare.events(&stopper.tally).unwrap_or(0);
        let sim = &model.simulation;
        // The estimate is of the long run: compare it with the steady state,
        // not with the expected availability over the horizon.
        let steady = Analysis {
            interval: None,
            startup_bias: None,
            startup_bias_allowance: None,
            ..analysis.clone()
        };
        Report {
            scenario: model.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_hash: crate::scale::scenario_hash(model),
            simulation: SimulationInfo {
                replications: units,
                horizon_hours: sim.horizon,
                warmup_hours: sim.warmup,
                seed: sim.seed,
                threads,
                events,
                wall_seconds,
                events_per_second: events as f64 / wall_seconds.max(1e-9),
                engine: "rare-event".into(),
                method: rare.method_name().into(),
                stopped_by: replications(),
                precision: None,
                rounds: Some(stopper.rounds),
                diagnostics: Some(rare.diagnostics(&stopper.tally)),
                notes: Vec::new(),
            },
            availability: Availability {
                mean: 1.0 - e.mean,
                std_error,
                ci95: [(1.0 - hi).clamp(0.0, 1.0), (1.0 - lo).clamp(0.0, 1.0)],
                nines: (e.mean > 0.0).then(|| -e.mean.log10()),
                unavailability: Unavailability::new(&e),
            },
            downtime_hours_per_year: Downtime {
                mean: e.mean * HOURS_PER_YEAR,
                ci95: [lo * HOURS_PER_YEAR, hi * HOURS_PER_YEAR],
                p50: None,
                p90: None,
                p99: None,
                p95: None,
                histogram: None,
                per_calendar_year: None,
            },
            outages: Outages {
                per_year: outages.per_year,
                mean_duration_hours: outages.mean_duration_hours,
            },
            first_failure: None,
            requests: None,
            objectives: None,
            components: None,
            transient: None,
            reliability: None,
            analytic: Analytic::new(&steady, &e),
            data_loss: None,
            convergence: rounds_convergence(&stopper.history),
            failover: None,
            crews: None,
            maintenance: None,
        }
    }

    /// The report as pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report always serializes");
        s.push('\n');
        s
    }
}

/// The running estimate after each round of a precision run.
fn rounds_convergence(history: &[RoundPoint]) -> Convergence {
    Convergence {
        replications: history.iter().map(|p| p.units).collect(),
        mean: history.iter().map(|p| 1.0 - p.mean).collect(),
        ci95_low: history
            .iter()
            .map(|p| (1.0 - p.ci95[1]).clamp(0.0, 1.0))
            .collect(),
        ci95_high: history
            .iter()
            .map(|p| (1.0 - p.ci95[0]).clamp(0.0, 1.0))
            .collect(),
    }
}

/// Per instance (and common cause): availability, down-time share and
/// importance.
fn components(model: &Model, t: &crate::sim::Tally, reps: u64) -> Vec<ComponentStat> {
    let window = model.simulation.window();
    let total = reps as f64 * window;
    let share = |h: f64| {
        if t.system_down_hours > 0.0 {
            h / t.system_down_hours
        } else {
            0.0
        }
    };
    let exact = importance::exact(model);
    model
        .instances
        .iter()
        .map(|i| &i.name)
        .chain(model.common_causes.iter().map(|c| &c.name))
        .enumerate()
        .map(|(i, name)| ComponentStat {
            name: name.clone(),
            availability: 1.0 - t.instance_down_hours[i] / total,
            downtime_share: share(t.instance_share_hours[i]),
            data_loss: None,
            importance: Some(match &exact {
                Some(all) => all[i].clone(),
                None => importance::estimated(
                    total,
                    t.system_down_hours,
                    t.instance_down_hours[i],
                    t.instance_share_hours[i],
                ),
            }),
        })
        .collect()
}

/// 40 equal bins from 0 to the 99.9th percentile of `sorted` (scaled by
/// `scale`); the rest counts as overflow.
fn histogram(sorted: &[f64], scale: impl Fn(f64) -> f64) -> Histogram {
    const BINS: usize = 40;
    let max = scale(sorted.last().copied().unwrap_or(0.0));
    let top = match scale(quantile(sorted, 0.999)) {
        t if t > 0.0 => t,
        _ if max > 0.0 => max,
        _ => 1.0,
    };
    let width = top / BINS as f64;
    let mut counts = vec![0; BINS];
    let mut overflow = 0;
    for &v in sorted {
        let x = scale(v);
        if x > top {
            overflow += 1;
        } else {
            counts[((x / width) as usize).min(BINS - 1)] += 1;
        }
    }
    Histogram {
        edges: (0..=BINS).map(|i| i as f64 * width).collect(),
        counts,
        overflow,
    }
}

/// The availability estimated from the first n replications, at about 200
/// log-spaced n (from 10, or 2 for smaller runs, up to all), with the
/// report's own interval (the unavailability's, see [`crate::estimate`]).
fn convergence(down: &[f64], model: &Model) -> Convergence {
    let n = down.len();
    let mut points: Vec<usize> = (0..200)
        .map(|k| {
            let lo = n.clamp(2, 10) as f64;
            (lo * (n as f64 / lo).powf(k as f64 / 199.0)).round() as usize
        })
        .filter(|&k| k >= 2)
        .collect();
    points.dedup();
    let mut c = Convergence {
        replications: Vec::new(),
        mean: Vec::new(),
        ci95_low: Vec::new(),
        ci95_high: Vec::new(),
    };
    let mut s = DownSummary::default();
    let mut next = points.iter().peekable();
    for (i, &x) in down.iter().enumerate() {
        s.moments.push(x);
        s.down_replications += u64::from(x > 0.0);
        s.max = s.max.max(x);
        if next.peek() == Some(&&(i + 1)) {
            next.next();
            let e = from_summary(&s, model);
            c.replications.push(s.moments.n);
            c.mean.push(1.0 - e.mean);
            c.ci95_low.push((1.0 - e.ci95[1]).clamp(0.0, 1.0));
            c.ci95_high.push((1.0 - e.ci95[0]).clamp(0.0, 1.0));
        }
    }
    c
}

fn objective(o: &ObjectiveDef, t: &ObjectiveTally) -> Objective {
    let windows = t.windows.max(1) as f64;
    let percentile = |p: f64| {
        let need = (p * t.windows as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        let perfect = t.nines_histogram.len().saturating_sub(1);
        for (bin, &count) in t.nines_histogram.iter().enumerate() {
            seen += count;
            if seen >= need && bin == perfect {
                return 1.0;
            }
            if seen >= need {
                let nines = bin as f64 / NINES_BINS_PER_UNIT as f64;
                return 1.0 - 10f64.powf(-nines);
            }
        }
        1.0
    };
    Objective {
        availability: Some(o.availability),
        window_hours: Some(o.window),
        rpo_hours: None,
        met_fraction: t.met as f64 / windows,
        windows: Some(t.windows),
        incidents: None,
        window_availability: Some(WindowAvailability {
            mean: t.availability_sum / windows,
            p1: percentile(0.01),
            p5: percentile(0.05),
            p10: percentile(0.10),
            p50: percentile(0.5),
        }),
    }
}

/// Columns of `summary.csv`, in order; stable across versions (new columns
/// are only ever appended).
pub const CSV_COLUMNS: [&str; 44] = [
    "scenario",
    "replications",
    "horizon_hours",
    "warmup_hours",
    "seed",
    "availability",
    "availability_std_error",
    "availability_ci95_low",
    "availability_ci95_high",
    "nines",
    "downtime_hours_per_year",
    "downtime_p50",
    "downtime_p90",
    "downtime_p99",
    "outages_per_year",
    "mean_outage_hours",
    "mttff_hours",
    "censored_fraction",
    "request_success_ratio",
    "objectives_met_fraction",
    "analytic_method",
    "analytic_exact",
    "analytic_steady_state",
    "analytic_interval",
    "analytic_mttf_hours",
    "verdict",
    "z",
    "method",
    "stopped_by",
    "unavailability",
    "unavailability_ci95_low",
    "unavailability_ci95_high",
    "unavailability_upper_bound95",
    "relative_difference",
    "nines_difference",
    "no_verdict_reason",
    "data_loss_incidents_per_year",
    "data_loss_mean_hours_per_incident",
    "data_loss_p99_hours",
    "data_lost_hours_per_year",
    "restore_hours_per_year",
    "data_loss_rpo_met_fraction",
    "planned_downtime_hours_per_year",
    "hidden_failures_per_year",
];

impl Report {
    /// The report's row of `summary.csv` (empty fields for nulls; objective
    /// fractions joined by `;`).
    pub fn csv_row(&self) -> Vec<String> {
        let num = |x: f64| x.to_string();
        let opt = |x: Option<f64>| x.map(num).unwrap_or_default();
        let a = &self.analytic;
        vec![
            self.scenario.clone(),
            self.simulation.replications.to_string(),
            num(self.simulation.horizon_hours),
            num(self.simulation.warmup_hours),
            self.simulation.seed.to_string(),
            num(self.availability.mean),
            num(self.availability.std_error),
            num(self.availability.ci95[0]),
            num(self.availability.ci95[1]),
            opt(self.availability.nines),
            num(self.downtime_hours_per_year.mean),
            opt(self.downtime_hours_per_year.p50),
            opt(self.downtime_hours_per_year.p90),
            opt(self.downtime_hours_per_year.p99),
            opt(self.outages.per_year),
            opt(self.outages.mean_duration_hours),
            opt(self.first_failure.as_ref().and_then(|f| f.mttff_hours)),
            opt(self.first_failure.as_ref().map(|f| f.censored_fraction)),
            opt(self.requests.as_ref().map(|r| r.success_ratio)),
            self.objectives
                .iter()
                .flatten()
                .map(|o| o.met_fraction.to_string())
                .collect::<Vec<_>>()
                .join(";"),
            a.method.clone().unwrap_or_default(),
            a.exact.to_string(),
            opt(a.steady_state),
            opt(a.interval),
            opt(a.mttf_hours),
            a.verdict.clone().unwrap_or_default(),
            opt(a.z),
            self.simulation.method.clone(),
            self.simulation.stopped_by.clone(),
            num(self.availability.unavailability.mean),
            num(self.availability.unavailability.ci95[0]),
            num(self.availability.unavailability.ci95[1]),
            opt(self.availability.unavailability.upper_bound95),
            opt(a.relative_difference),
            opt(a.nines_difference),
            a.no_verdict_reason.clone().unwrap_or_default(),
            opt(self.data_loss.as_ref().map(|d| d.incidents_per_year)),
            opt(self
                .data_loss
                .as_ref()
                .and_then(|d| d.mean_hours_per_incident)),
            opt(self.data_loss.as_ref().and_then(|d| d.p99)),
            opt(self.data_loss.as_ref().map(|d| d.hours_lost_per_year)),
            opt(self.data_loss.as_ref().map(|d| d.restore_hours_per_year)),
            self.objectives
                .iter()
                .flatten()
                .filter(|o| o.rpo_hours.is_some())
                .map(|o| o.met_fraction.to_string())
                .collect::<Vec<_>>()
                .join(";"),
            opt(self
                .maintenance
                .as_ref()
                .map(|m| m.planned_downtime_hours_per_year)),
            opt(self
                .maintenance
                .as_ref()
                .map(|m| m.hidden_failures_per_year)),
        ]
    }
}

/// `summary.csv` for `reports`: a header and one row per report.
pub fn summary_csv(reports: &[&Report]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CSV_COLUMNS);
    for r in reports {
        let _ = w.write_record(r.csv_row());
    }
    w.into_inner().unwrap_or_default()
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// folder with a name no other writer uses, flushed to disk, renamed over
/// the target, and the folder flushed so the rename survives a crash.
/// Several processes may write the same path at once: each renames its own
/// complete file, the last one wins, none fails.
///
/// # Errors
/// [`Error::Output`] when the folder or file cannot be written.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let fail = |cause| Error::Output {
        file: path.to_path_buf(),
        cause,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    // Dropping the temporary file on an error removes it: only our own.
    let prefix = temporary_prefix(&name);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // Temporary files are private (0600) by default; outputs get the usual
    // permissions, as a plain create would give them (0666 less the umask).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    sync_dir(dir).map_err(fail)
}

/// The start of the name of a temporary file for `name` written by this
/// process: `.NAME.tmp-PID-`, then a random suffix.
fn temporary_prefix(name: &str) -> String {
    format!(".{name}.tmp-{}-", std::process::id())
}

/// Flushes a folder's entries (a rename) to disk.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Removes temporary files that interrupted runs left in `dir`: those of
/// processes that no longer run (or, where that cannot be told, older than
/// an hour). A live writer's temporary file is never touched.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((_, rest)) = name.split_once(".tmp-") else {
            continue;
        };
        if !name.starts_with('.') {
            continue;
        }
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if is_stale(&entry, pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn is_stale(entry: &std::fs::DirEntry, pid: Option<u32>) -> bool {
    let proc_fs = Path::new("/proc/self").exists();
    match pid {
        Some(pid) if pid == std::process::id() => false,
        Some(pid) if proc_fs => !Path::new("/proc").join(pid.to_string()).exists(),
        _ => entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 3600),
    }
}

/// `components.csv`: one row per instance (availability, share of system
/// down time, importance); `None` when the report has no components.
pub fn components_csv(r: &Report) -> Option<Vec<u8>> {
    let list = r.components.as_ref()?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "instance",
        "availability",
        "downtime_share",
        "birnbaum",
        "fussell_vesely",
        "raw",
        "rrw",
        "importance_exact",
    ]);
    let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    for c in list {
        let i = c.importance.as_ref();
        let _ = w.write_record([
            c.name.clone(),
            c.availability.to_string(),
            c.downtime_share.to_string(),
            opt(i.and_then(|i| i.birnbaum)),
            opt(i.and_then(|i| i.fussell_vesely)),
            opt(i.and_then(|i| i.raw)),
            opt(i.and_then(|i| i.rrw)),
            i.map(|i| i.exact.to_string()).unwrap_or_default(),
        ]);
    }
    w.into_inner().ok()
}

/// `availability.csv`: the A(t) bins (interval availability per time bin
/// with its 95% band and the exact curve where there is one); `None` for
/// runs without them (rare-event runs).
pub fn availability_csv(r: &Report) -> Option<Vec<u8>> {
    let b = r.transient.as_ref()?.bins.as_ref()?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "start_hours",
        "end_hours",
        "availability",
        "ci95_low",
        "ci95_high",
        "exact",
    ]);
    for k in 0..b.availability.len() {
        let _ = w.write_record([
            b.start_hours[k].to_string(),
            b.end_hours[k].to_string(),
            b.availability[k].to_string(),
            b.ci95_low[k].to_string(),
            b.ci95_high[k].to_string(),
            b.exact
                .as_ref()
                .and_then(|e| e.get(k))
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ]);
    }
    w.into_inner().ok()
}

/// Writes `components.csv` and `availability.csv` beside `summary.csv`
/// where the report has the data.
///
/// # Errors
/// When a file cannot be written.
pub fn write_tables(r: &Report, dir: &Path) -> Result<(), Error> {
    if let Some(bytes) = components_csv(r) {
        write_atomic(&dir.join("components.csv"), &bytes)?;
    }
    if let Some(bytes) = availability_csv(r) {
        write_atomic(&dir.join("availability.csv"), &bytes)?;
    }
    Ok(())
}
