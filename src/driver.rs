//! What a run does (SPEC §7): a fixed number of plain replications, or
//! rounds until a precision target, by plain replications or the
//! rare-event method (`auto` chooses from a pilot round).
//!
//! Every choice here depends only on the scenario and seed, except where a
//! `--time-limit` stops a run.

use std::path::PathBuf;
use std::time::Instant;

use crate::analytic::Analysis;
use crate::error::{Error, Issue};
use crate::model::{Method, Model};
use crate::precision::{RoundRunner, Schedule, StoppedBy, Stopper, Target};
use crate::rare::RareEvent;
use crate::report::Report;
use crate::scenario::{
    human_seconds, MAX_CPU_SECONDS, MAX_RESULT_BYTES, PLANNING_EVENTS_PER_SECOND,
};
use crate::sim::{simulate, thread_pool, Outcome, PlainRounds, PlainTally, Progress};

/// The precision a rare-event run aims at when none is given.
pub const DEFAULT_RARE_PRECISION: f64 = 0.1;
/// `auto` runs plain only if the pilot round saw at least this many
/// outages...
pub const AUTO_MIN_PILOT_OUTAGES: u64 = 10;
/// ... and the plain run would reach the precision within this many events
/// (10 to 20 seconds of one core).
pub const AUTO_MAX_PLAIN_EVENTS: f64 = 3e8;
/// A rare-event run without hits after this many rounds cannot reach any
/// precision.
const RARE_ROUNDS_WITHOUT_HITS: u64 = 8;

/// How to run, besides the scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// Threads (0: all cores).
    pub threads: usize,
    /// Wall seconds after which a precision run stops at the next round end.
    pub time_limit: Option<f64>,
}

/// The method that runs a precision run, chosen before (or, for `auto`,
/// after the pilot round).
pub enum Chosen<'a> {
    /// Plain replications.
    Plain(Box<PlainRounds<'a>>),
    /// The rare-event estimator.
    Rare(RareEvent),
}

/// Runs `model` and builds its report.
///
/// # Errors
/// [`Error::Usage`] when the threads cannot start; [`Error::Invalid`]
/// (exit 2) when the rare-event method was asked for and cannot take the
/// scenario, or when the pilot round shows the precision cannot be reached.
pub fn run(
    model: &Model,
    options: RunOptions,
    analysis: &Analysis,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, Error> {
    let sim = &model.simulation;
    if sim.precision.is_none() && sim.method != Method::RareEvent {
        let outcome = simulate(model, options.threads, progress)?;
        return Ok(Report::new(model, outcome, analysis));
    }
    let target = Target {
        precision: sim.precision.unwrap_or(DEFAULT_RARE_PRECISION),
        time_limit: options.time_limit,
    };
    let pool = thread_pool(options.threads)?;
    let start = Instant::now();
    let mut notes = Vec::new();
    let (chosen, pilot) = choose(model, target.precision, &pool, &mut notes)?;
    let threads = pool.current_num_threads();
    let report = match chosen {
        Chosen::Plain(runner) => {
            let mut stopper = Stopper::new(runner.as_ref(), runner.schedule(), target.precision);
            let guard = |s: &Stopper<PlainRounds>| plain_guard(model, s, target);
            let why = match pilot {
                // auto's pilot is round 0: fold it, judge it, then go on.
                Some(p) => match stopper.push(&p) {
                    Some(why) => why,
                    None => {
                        guard(&stopper)?;
                        match timed_out(target, start) {
                            Some(why) => why,
                            None => rounds(&mut stopper, target, &pool, start, &guard, progress)?,
                        }
                    }
                },
                None => rounds(&mut stopper, target, &pool, start, &guard, progress)?,
            };
            let wall = start.elapsed().as_secs_f64();
            plain_report(model, stopper, why, threads, wall, analysis)
        }
        Chosen::Rare(rare) => {
            let schedule = Schedule {
                pilot: rare.pilot_units(),
                cap: sim.rare_cap,
            };
            let mut stopper = Stopper::new(&rare, schedule, target.precision);
            let guard = |s: &Stopper<RareEvent>| rare_guard(model, s, target);
            let why = rounds(&mut stopper, target, &pool, start, &guard, progress)?;
            let wall = start.elapsed().as_secs_f64();
            rare_report(model, &stopper, why, threads, wall, analysis)
        }
    };
    let mut report = report;
    report.simulation.notes.splice(0..0, notes);
    Ok(report)
}

/// The method of a precision run, and for `auto` the pilot round of plain
/// replications it ran to decide (round 0 of the plain run if plain wins).
///
/// # Errors
/// [`Error::Invalid`] when `rare-event` was asked for and cannot take the
/// scenario.
pub fn choose<'a>(
    model: &'a Model,
    precision: f64,
    pool: &rayon::ThreadPool,
    notes: &mut Vec<String>,
) -> Result<(Chosen<'a>, Option<PlainTally>), Error> {
    let sim = &model.simulation;
    let plain = PlainRounds::new(model, sim.cap);
    match sim.method {
        Method::Plain => Ok((Chosen::Plain(Box::new(plain)), None)),
        Method::RareEvent => match rare_event(model) {
            Ok(rare) => Ok((Chosen::Rare(rare), None)),
            Err(reason) => Err(invalid(
                model,
                Issue::new(
                    "simulation.method",
                    format!("the rare-event method cannot take this scenario: {reason}"),
                )
                .hint("use --method plain (or auto)"),
            )),
        },
        Method::Auto => {
            let units = plain.schedule().units(0);
            // A pilot round that would itself be a long run is not worth its
            // cost when the rare-event method can take the scenario.
            let per_rep = model.expected_events() / sim.replications.max(1) as f64;
            let pilot_events = per_rep * (units.end - units.start) as f64;
            if pilot_events > AUTO_MAX_PLAIN_EVENTS {
                if let Ok(rare) = rare_event(model) {
                    notes.push(format!(
                        "method auto chose {}: a plain pilot round of {} replications alone would process about {pilot_events:.1e} events",
                        rare.method_name(),
                        units.end - units.start
                    ));
                    return Ok((Chosen::Rare(rare), None));
                }
            }
            let pilot = plain.run_round(0, units.end - units.start, pool);
            let mut stopper = Stopper::new(&plain, plain.schedule(), precision);
            stopper.push(&pilot);
            let outages = stopper.tally.run.outages;
            let projected = stopper.projected_units();
            let events_per_rep = stopper.tally.run.events as f64 / stopper.units().max(1) as f64;
            let reachable = outages >= AUTO_MIN_PILOT_OUTAGES
                && projected.is_some_and(|n| {
                    sim.cap.is_none_or(|c| n <= c as f64)
                        && n * events_per_rep <= AUTO_MAX_PLAIN_EVENTS
                });
            let seen = format!(
                "the pilot round of {} replications saw {outages} system outage{}",
                stopper.units(),
                if outages == 1 { "" } else { "s" }
            );
            if reachable {
                notes.push(format!("method auto chose plain replications: {seen}"));
                return Ok((Chosen::Plain(Box::new(plain)), Some(pilot)));
            }
            let why = match projected {
                Some(n) => format!("{seen}; a plain run would need about {n:.1e} replications"),
                None => format!("{seen}, too few to reach the precision"),
            };
            match rare_event(model) {
                Ok(rare) => {
                    notes.push(format!("method auto chose {}: {why}", rare.method_name()));
                    Ok((Chosen::Rare(rare), None))
                }
                Err(reason) => {
                    notes.push(format!(
                        "method auto kept plain replications although {why}: the rare-event method cannot take this scenario ({reason})"
                    ));
                    Ok((Chosen::Plain(Box::new(plain)), Some(pilot)))
                }
            }
        }
    }
}

/// Runs rounds after those already in `stopper` until the rule stops the
/// run; `guard` judges the run after each round (the guards look at the
/// pilot round only).
fn rounds<R: RoundRunner>(
    stopper: &mut Stopper<'_, R>,
    target: Target,
    pool: &rayon::ThreadPool,
    start: Instant,
    guard: &dyn Fn(&Stopper<'_, R>) -> Result<(), Error>,
    progress: &mut dyn FnMut(Progress),
) -> Result<StoppedBy, Error> {
    let schedule = stopper.schedule();
    let runner = stopper.runner();
    loop {
        let r = stopper.rounds;
        let range = schedule.units(r);
        let tally = runner.run_round(r, range.end - range.start, pool);
        let stop = stopper.push(&tally);
        progress(Progress {
            done: stopper.units(),
            total: schedule.units(r + 1).end,
            events: runner.events(&stopper.tally).unwrap_or(0),
        });
        if let Some(why) = stop {
            return Ok(why);
        }
        guard(stopper)?;
        if let Some(why) = timed_out(target, start) {
            return Ok(why);
        }
    }
}

/// `Some(TimeLimit)` once the wall time since `start` has passed the limit.
fn timed_out(target: Target, start: Instant) -> Option<StoppedBy> {
    target
        .time_limit
        .is_some_and(|t| start.elapsed().as_secs_f64() >= t)
        .then_some(StoppedBy::TimeLimit)
}

/// Refuses a plain precision run whose pilot projects more work than could
/// finish (SPEC §2's size guard, judged on the work to reach the
/// precision), unless a time limit bounds it.
pub(crate) fn plain_guard(
    model: &Model,
    s: &Stopper<'_, PlainRounds>,
    target: Target,
) -> Result<(), Error> {
    if s.rounds != 1 || target.time_limit.is_some() {
        return Ok(());
    }
    let cap = model.simulation.cap;
    let done = s.units();
    let precision = percent(target.precision);
    let hint = "use --method rare-event or auto, a larger --precision, or bound the run with --max-replications or --time-limit";
    let Some(projected) = s.projected_units() else {
        if cap.is_some() {
            return Ok(());
        }
        return Err(invalid(
            model,
            Issue::new(
                "simulation.precision",
                format!("the pilot round of {done} replications saw no system outage, so plain replications cannot project the work to reach {precision}"),
            )
            .hint(hint),
        ));
    };
    let work = cap.map_or(projected, |c| projected.min(c as f64));
    let events = s.tally.run.events as f64 / done.max(1) as f64 * work;
    let seconds = events / PLANNING_EVENTS_PER_SECOND;
    let bytes = 8.0 * work;
    if seconds > MAX_CPU_SECONDS || bytes > MAX_RESULT_BYTES {
        return Err(invalid(
            model,
            Issue::new(
                "simulation.precision",
                format!(
                    "reaching {precision} would take about {projected:.1e} replications, {events:.1e} events: about {} of CPU time at {PLANNING_EVENTS_PER_SECOND:.0e} events per second",
                    human_seconds(seconds)
                ),
            )
            .hint(hint),
        ));
    }
    Ok(())
}

/// Events per second the rare-event size guard plans with (biased paths
/// cost more per event than plain replications).
const RARE_PLANNING_EVENTS_PER_SECOND: f64 = 1e5;

/// Refuses a rare-event run whose pilot projects more work than could
/// finish, and one that sees no hits at all.
fn rare_guard(model: &Model, s: &Stopper<'_, RareEvent>, target: Target) -> Result<(), Error> {
    let unbounded = model.simulation.rare_cap.is_none() && target.time_limit.is_none();
    // SPEC §2's size guard, judged on the work the pilot projects.
    if unbounded && s.rounds == 1 {
        if let Some(projected) = s.projected_units() {
            let events = s.runner().events(&s.tally).unwrap_or(0) as f64 / s.units().max(1) as f64
                * projected;
            let seconds = events / RARE_PLANNING_EVENTS_PER_SECOND;
            if seconds > MAX_CPU_SECONDS {
                return Err(invalid(
                    model,
                    Issue::new(
                        "simulation.precision",
                        format!(
                            "reaching {} with the rare-event method would take about {projected:.1e} cycles or trials, {events:.1e} events: about {} of CPU time at {RARE_PLANNING_EVENTS_PER_SECOND:.0e} events per second",
                            percent(target.precision),
                            human_seconds(seconds)
                        ),
                    )
                    .hint("use a larger --precision, or bound the run with --max-replications or --time-limit"),
                ));
            }
        }
    }
    if unbounded && s.rounds >= RARE_ROUNDS_WITHOUT_HITS && s.runner().hits(&s.tally) == 0 {
        return Err(invalid(
            model,
            Issue::new(
                "simulation.method",
                format!(
                    "the rare-event method saw no system failure in {} rounds ({} cycles or trials): it cannot reach {}",
                    s.rounds,
                    s.units(),
                    percent(target.precision)
                ),
            )
            .hint("use --method plain, or bound the run with --max-replications or --time-limit"),
        ));
    }
    Ok(())
}

/// The report of a plain precision run: the ordinary plain report of the
/// replications it ran, with how it stopped.
pub fn plain_report(
    model: &Model,
    stopper: Stopper<'_, PlainRounds<'_>>,
    why: StoppedBy,
    threads: usize,
    wall_seconds: f64,
    analysis: &Analysis,
) -> Report {
    let rounds = stopper.rounds;
    let precision = stopper.precision();
    let reached = stopper.reached();
    let outcome = Outcome {
        tally: stopper.tally.run,
        threads,
        wall_seconds,
    };
    let mut report = Report::new(model, outcome, analysis);
    precision_fields(&mut report, why, rounds, precision, reached);
    report
}

/// The report of a rare-event run, with how it stopped.
pub fn rare_report(
    model: &Model,
    stopper: &Stopper<'_, RareEvent>,
    why: StoppedBy,
    threads: usize,
    wall_seconds: f64,
    analysis: &Analysis,
) -> Report {
    let rare = stopper.runner();
    let mut report = Report::rare(model, rare, stopper, threads, wall_seconds, analysis);
    let reached = stopper.reached();
    precision_fields(
        &mut report,
        why,
        stopper.rounds,
        stopper.precision(),
        reached,
    );
    report
}

fn precision_fields(
    report: &mut Report,
    why: StoppedBy,
    rounds: u64,
    precision: f64,
    reached: bool,
) {
    let s = &mut report.simulation;
    s.stopped_by = why.name().to_string();
    s.rounds = Some(rounds);
    s.precision = Some(precision);
    match why {
        StoppedBy::Precision => {}
        StoppedBy::Replications if reached => {}
        StoppedBy::Replications => s.notes.push(format!(
            "the cap on work was reached before the precision target of {}",
            percent(precision)
        )),
        StoppedBy::TimeLimit => s.notes.push(
            "stopped by --time-limit: how much work was done, and so the result, depends on the speed of the machine".to_string(),
        ),
    }
}

/// A fraction as a percentage, e.g. 0.1 → "10%".
pub fn percent(r: f64) -> String {
    format!("{}%", crate::model::dist::significant(100.0 * r, 3))
}

fn invalid(model: &Model, issue: Issue) -> Error {
    Error::Invalid {
        file: PathBuf::from(&model.source),
        issues: vec![issue],
    }
}

/// The rare-event estimator for `model`, or why it cannot take it. Data
/// protection (SPEC §8) is refused before anything runs: the rare-event
/// method estimates the unavailability, not data-loss incidents, and its
/// biased histories would misstate them.
pub(crate) fn rare_event(model: &Model) -> Result<RareEvent, String> {
    if crate::analytic::data::has_data(model) {
        return Err("it holds data (`data` blocks or asynchronous replication), and data-loss figures need plain replications".into());
    }
    RareEvent::new(model)
}
