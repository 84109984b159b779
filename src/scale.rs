//! Scale-out (SPEC §6): sharded runs write partial reports of mergeable
//! statistics, and merging the parts gives the report of the whole run, to
//! the last bit.
//!
//! Every run reduces replications in one shape: blocks into chunks, chunks
//! in order (`sim::CHUNK`). A shard runs whole chunks and keeps each chunk's
//! tally; the merge folds all chunks in order, as the whole run does. A part
//! carries the scenario's text, the command-line overrides and a hash of the
//! resolved scenario, so parts of another scenario, seed, size or version
//! are refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::driver::{
    choose, plain_guard, plain_report, rare_report, Chosen, DEFAULT_RARE_PRECISION,
};
use crate::error::Error;
use crate::model::{Method, Model};
use crate::precision::{Plan, RoundRunner, Schedule, StoppedBy, Stopper, Target};
use crate::rare::{RareEvent, RareTally};
use crate::report::Report;
use crate::scenario::{load_str, Overrides};
use crate::sim::{
    empty_tally, shard_chunks, simulate_chunks, thread_pool, Outcome, PlainRounds, PlainTally,
    Progress, Tally,
};

/// Identifies partial reports.
pub const PARTIAL_KIND: &str = "availsim-partial";

/// A shard of a run: which one of how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` (0-based I < N).
    ///
    /// # Errors
    /// A message when the text is not of that form.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("invalid shard \"{text}\": write I/N, e.g. 0/4"))?;
        let index: u64 = i
            .trim()
            .parse()
            .map_err(|_| format!("invalid shard index \"{i}\" in \"{text}\""))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("invalid shard count \"{n}\" in \"{text}\""))?;
        Shard::new(index, count)
    }

    /// A validated shard.
    ///
    /// # Errors
    /// When count is 0 or index ≥ count.
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || index >= count {
            return Err(format!(
                "shard {index}/{count} does not exist: the index runs from 0 to count − 1"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard of this task of a Slurm job array or a Kubernetes Indexed
    /// Job, given the shard count: `JOB_COMPLETION_INDEX`, or
    /// `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`.
    ///
    /// # Errors
    /// When neither is set, or they disagree with `count`.
    pub fn from_env(count: u64, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let number = |name: &str| -> Result<Option<u64>, String> {
            env(name)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("{name}={v} is not a whole number"))
                })
                .transpose()
        };
        if let Some(i) = number("JOB_COMPLETION_INDEX")? {
            return Shard::new(i, count);
        }
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            if let Some(n) = number("SLURM_ARRAY_TASK_COUNT")? {
                if n != count {
                    return Err(format!(
                        "--shards {count} but SLURM_ARRAY_TASK_COUNT={n}: use --shards {n}"
                    ));
                }
            }
            let index = id
                .checked_sub(min)
                .ok_or("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN")?;
            return Shard::new(index, count);
        }
        Err("--shards needs the task's index from JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm); neither is set: use --shard I/N".into())
    }
}

/// Command-line overrides, as stored in a part.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredOverrides {
    /// `--horizon` in hours.
    pub horizon: Option<f64>,
    /// `--replications`.
    pub replications: Option<u64>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--precision`.
    #[serde(default)]
    pub precision: Option<f64>,
    /// `--method`.
    #[serde(default)]
    pub method: Option<String>,
    /// `--max-replications`.
    #[serde(default)]
    pub max_replications: Option<u64>,
}

impl StoredOverrides {
    fn new(o: &Overrides) -> Self {
        StoredOverrides {
            horizon: o.horizon,
            replications: o.replications,
            seed: o.seed,
            precision: o.precision,
            method: o.method.map(|m| m.name().to_string()),
            max_replications: o.max_replications,
        }
    }

    fn overrides(&self) -> Result<Overrides, Error> {
        let method = self
            .method
            .as_deref()
            .map(Method::parse)
            .transpose()
            .map_err(refuse)?;
        Ok(Overrides {
            horizon: self.horizon,
            replications: self.replications,
            seed: self.seed,
            precision: self.precision,
            method,
            max_replications: self.max_replications,
        })
    }
}

/// The rounds of one shard of a precision run (SPEC §7): every shard runs
/// the pilot round, which fixes the method and the [`Plan`], then its
/// share of the planned rounds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoundsPart {
    /// The rounds of the whole run.
    pub plan: Plan,
    /// Index of the first round in `tallies`.
    pub first_round: u64,
    /// Each round's tally, in order.
    pub tallies: RoundTallies,
    /// Notes on the method chosen.
    pub notes: Vec<String>,
}

/// Round tallies of one method.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "method", content = "rounds", rename_all = "kebab-case")]
pub enum RoundTallies {
    /// Plain replications.
    Plain(Vec<PlainTally>),
    /// The rare-event method.
    RareEvent(Vec<RareTally>),
}

impl RoundTallies {
    /// Rounds held.
    pub fn len(&self) -> usize {
        match self {
            RoundTallies::Plain(v) => v.len(),
            RoundTallies::RareEvent(v) => v.len(),
        }
    }

    /// Whether no round is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn method(&self) -> &'static str {
        match self {
            RoundTallies::Plain(_) => "plain",
            RoundTallies::RareEvent(_) => "rare-event",
        }
    }
}

/// The partial report of one shard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Partial {
    /// Always [`PARTIAL_KIND`].
    pub kind: String,
    /// availsim version that wrote it.
    pub version: String,
    /// Scenario name.
    pub scenario: String,
    /// Hash of the resolved scenario (after overrides).
    pub scenario_hash: String,
    /// The scenario file's text.
    pub scenario_text: String,
    /// The command-line overrides of the run.
    pub overrides: StoredOverrides,
    /// This part's shard index (0-based).
    pub shard: u64,
    /// Number of shards.
    pub shards: u64,
    /// Index of the first chunk in `chunks`.
    pub first_chunk: u64,
    /// The tally of each chunk, in order.
    pub chunks: Vec<Tally>,
    /// Threads used.
    pub threads: usize,
    /// Wall-clock seconds of the shard.
    pub wall_seconds: f64,
    /// The rounds of a precision run (then `chunks` is empty).
    #[serde(default)]
    pub rounds: Option<RoundsPart>,
}

/// A stable hash (FNV-1a, 64 bits) of the resolved scenario: everything the
/// results depend on, not the file's path.
pub fn scenario_hash(model: &Model) -> String {
    let mut m = model.clone();
    m.source.clear();
    let text = format!("{m:?}");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Runs shard `shard` of `model` (loaded from `text` with `overrides`).
///
/// # Errors
/// [`Error::Usage`] when the thread pool cannot be built.
pub fn run_shard(
    model: &Model,
    text: &str,
    overrides: &Overrides,
    shard: Shard,
    threads: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<Partial, Error> {
    let start = std::time::Instant::now();
    let (first_chunk, chunks, rounds, threads) = if is_precision(model) {
        let pool = thread_pool(threads)?;
        let rounds = shard_rounds(model, shard, &pool, progress)?;
        (0, Vec::new(), Some(rounds), pool.current_num_threads())
    } else {
        let range = shard_chunks(model.simulation.replications, shard.index, shard.count);
        let first_chunk = range.start;
        let mut chunks = Vec::new();
        let (threads, _) =
            simulate_chunks(model, threads, range, &mut |_, t| chunks.push(t), progress)?;
        (first_chunk, chunks, None, threads)
    };
    Ok(Partial {
        kind: PARTIAL_KIND.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: model.name.clone(),
        scenario_hash: scenario_hash(model),
        scenario_text: text.into(),
        overrides: StoredOverrides::new(overrides),
        shard: shard.index,
        shards: shard.count,
        first_chunk,
        chunks,
        threads,
        wall_seconds: start.elapsed().as_secs_f64(),
        rounds,
    })
}

/// Whether `model` runs in rounds (a precision target, or the rare-event
/// method asked for).
fn is_precision(model: &Model) -> bool {
    model.simulation.precision.is_some() || model.simulation.method == Method::RareEvent
}

/// Runs the pilot round, plans the run, and runs this shard's rounds.
fn shard_rounds(
    model: &Model,
    shard: Shard,
    pool: &rayon::ThreadPool,
    progress: &mut dyn FnMut(Progress),
) -> Result<RoundsPart, Error> {
    let precision = model.simulation.precision.unwrap_or(DEFAULT_RARE_PRECISION);
    let mut notes = Vec::new();
    let (chosen, pilot) = choose(model, precision, pool, &mut notes)?;
    let unplannable = |m: String| refuse(format!("{}: {m}", model.source));
    let (plan, first_round, tallies) = match chosen {
        Chosen::Plain(runner) => {
            let runner = *runner;
            let schedule = runner.schedule();
            let pilot = pilot.unwrap_or_else(|| run(&runner, schedule, 0, pool));
            let mut stopper = Stopper::new(&runner, schedule, precision);
            stopper.push(&pilot);
            let target = Target {
                precision,
                time_limit: None,
            };
            plain_guard(model, &stopper, target)?;
            let plan =
                Plan::after_pilot(schedule, stopper.projected_units()).map_err(unplannable)?;
            let mine = plan.shard_rounds(shard.index, shard.count);
            let tallies = mine
                .clone()
                .map(|r| {
                    let t = if r == 0 {
                        pilot.clone()
                    } else {
                        run(&runner, schedule, r, pool)
                    };
                    progress_round(progress, &schedule, r, &mine);
                    t
                })
                .collect();
            (plan, mine.start, RoundTallies::Plain(tallies))
        }
        Chosen::Rare(rare) => {
            let schedule = Schedule {
                pilot: rare.pilot_units(),
                cap: model.simulation.rare_cap,
            };
            let pilot = run(&rare, schedule, 0, pool);
            let mut stopper = Stopper::new(&rare, schedule, precision);
            stopper.push(&pilot);
            let plan =
                Plan::after_pilot(schedule, stopper.projected_units()).map_err(unplannable)?;
            let mine = plan.shard_rounds(shard.index, shard.count);
            let tallies = mine
                .clone()
                .map(|r| {
                    let t = if r == 0 {
                        pilot.clone()
                    } else {
                        run(&rare, schedule, r, pool)
                    };
                    progress_round(progress, &schedule, r, &mine);
                    t
                })
                .collect();
            (plan, mine.start, RoundTallies::RareEvent(tallies))
        }
    };
    Ok(RoundsPart {
        plan,
        first_round,
        tallies,
        notes,
    })
}

fn run<R: RoundRunner>(
    runner: &R,
    schedule: Schedule,
    round: u64,
    pool: &rayon::ThreadPool,
) -> R::Tally {
    let units = schedule.units(round);
    runner.run_round(round, units.end - units.start, pool)
}

fn progress_round(
    progress: &mut dyn FnMut(Progress),
    schedule: &Schedule,
    round: u64,
    mine: &std::ops::Range<u64>,
) {
    let first = schedule.units(mine.start).start;
    progress(Progress {
        done: schedule.units(round).end - first,
        total: schedule.units(mine.end.max(1) - 1).end - first,
        events: 0,
    });
}

fn refuse(message: String) -> Error {
    Error::Usage(message)
}

/// Reads a part.
///
/// # Errors
/// [`Error::Read`] or [`Error::Syntax`] when the file is not a partial
/// report.
pub fn read_part(path: &Path) -> Result<Partial, Error> {
    let text = std::fs::read_to_string(path).map_err(|cause| Error::Read {
        file: path.to_path_buf(),
        cause,
    })?;
    let part: Partial = serde_json::from_str(&text).map_err(|e| Error::Syntax {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: format!("not an availsim partial report: {e}"),
    })?;
    if part.kind != PARTIAL_KIND {
        return Err(refuse(format!(
            "{}: not an availsim partial report",
            path.display()
        )));
    }
    Ok(part)
}

/// Merges the parts of a sharded run into the model and the report of the
/// whole run.
///
/// # Errors
/// [`Error::Usage`] (exit 2) when parts are missing, duplicated, or come
/// from another scenario, seed, size, shard count or version.
pub fn merge(parts: Vec<(PathBuf, Partial)>) -> Result<(Model, Report), Error> {
    let Some((first_path, first)) = parts.first() else {
        return Err(refuse("nothing to merge: give the part files".into()));
    };
    let overrides = first.overrides.overrides()?;
    let model = load_str(&first.scenario_text, Path::new(&first.scenario), &overrides)?;
    if scenario_hash(&model) != first.scenario_hash {
        return Err(refuse(format!(
            "{}: the scenario it carries no longer resolves to the same model (written by availsim {}, this is {}): rerun the shards",
            first_path.display(),
            first.version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    let mut by_index: BTreeMap<u64, (&PathBuf, &Partial)> = BTreeMap::new();
    for (path, part) in &parts {
        let mismatch = |what: &str| {
            refuse(format!(
                "{} and {} are parts of different runs ({what} differs): merge parts of one run only",
                first_path.display(),
                path.display()
            ))
        };
        if part.scenario_hash != first.scenario_hash {
            return Err(mismatch("scenario, seed, horizon or replications"));
        }
        if part.version != first.version {
            return Err(mismatch("availsim version"));
        }
        if part.shards != first.shards {
            return Err(mismatch("shard count"));
        }
        if let Some((other, _)) = by_index.insert(part.shard, (path, part)) {
            return Err(refuse(format!(
                "{} and {} are both shard {} of {}: give each part once",
                other.display(),
                path.display(),
                part.shard,
                part.shards
            )));
        }
    }
    let missing: Vec<String> = (0..first.shards)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(refuse(format!(
            "shard{} {} of {} {} missing: every part of the run is needed",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            first.shards,
            if missing.len() == 1 { "is" } else { "are" }
        )));
    }
    let threads = by_index.values().map(|(_, p)| p.threads).max().unwrap_or(0);
    let wall_seconds = by_index.values().map(|(_, p)| p.wall_seconds).sum();
    let analysis = crate::analytic::analyze(&model);
    if first.rounds.is_some() {
        let report = merge_rounds(&model, &by_index, threads, wall_seconds, &analysis)?;
        return Ok((model, report));
    }
    let mut tally = empty_tally(&model);
    tally
        .down_values
        .reserve_exact(model.simulation.replications as usize);
    for (index, (path, part)) in &by_index {
        let expected = shard_chunks(model.simulation.replications, *index, first.shards);
        if part.first_chunk != expected.start
            || part.chunks.len() as u64 != expected.end - expected.start
        {
            return Err(refuse(format!(
                "{}: its chunks do not match shard {index} of {}",
                path.display(),
                first.shards
            )));
        }
        for chunk in &part.chunks {
            tally.merge(chunk);
        }
    }
    let outcome = Outcome {
        tally,
        threads,
        wall_seconds,
    };
    let report = Report::new(&model, outcome, &analysis);
    Ok((model, report))
}

/// Folds the rounds of a precision run's parts in index order with the
/// stopping rule of a whole run.
fn merge_rounds(
    model: &Model,
    by_index: &BTreeMap<u64, (&PathBuf, &Partial)>,
    threads: usize,
    wall_seconds: f64,
    analysis: &crate::analytic::Analysis,
) -> Result<Report, Error> {
    let (first_path, first) = by_index
        .values()
        .next()
        .copied()
        .ok_or_else(|| refuse("nothing to merge".into()))?;
    let Some(head) = &first.rounds else {
        return Err(refuse(format!(
            "{}: not a part of a precision run",
            first_path.display()
        )));
    };
    let mut parts = Vec::new();
    for (index, (path, part)) in by_index {
        let Some(rounds) = &part.rounds else {
            return Err(refuse(format!(
                "{}: not a part of a precision run, unlike {}",
                path.display(),
                first_path.display()
            )));
        };
        let expected = head.plan.shard_rounds(*index, first.shards);
        if rounds.plan != head.plan
            || rounds.tallies.method() != head.tallies.method()
            || rounds.first_round != expected.start
            || rounds.tallies.len() as u64 != expected.end - expected.start
        {
            return Err(refuse(format!(
                "{}: its rounds do not match shard {index} of {} of the run planned in {}",
                path.display(),
                first.shards,
                first_path.display()
            )));
        }
        parts.push(&rounds.tallies);
    }
    let precision = model.simulation.precision.unwrap_or(DEFAULT_RARE_PRECISION);
    let mut report = match &head.tallies {
        RoundTallies::Plain(_) => {
            let runner = PlainRounds::new(model, model.simulation.cap);
            let mut stopper = Stopper::new(&runner, head.plan.schedule, precision);
            let all = parts.iter().flat_map(|t| match t {
                RoundTallies::Plain(v) => v.as_slice(),
                RoundTallies::RareEvent(_) => &[],
            });
            let why = fold(&mut stopper, all);
            plain_report(model, stopper, why, threads, wall_seconds, analysis)
        }
        RoundTallies::RareEvent(_) => {
            let rare = RareEvent::new(model)
                .map_err(|m| refuse(format!("{}: {m}", first_path.display())))?;
            let mut stopper = Stopper::new(&rare, head.plan.schedule, precision);
            let all = parts.iter().flat_map(|t| match t {
                RoundTallies::RareEvent(v) => v.as_slice(),
                RoundTallies::Plain(_) => &[],
            });
            let why = fold(&mut stopper, all);
            rare_report(model, &stopper, why, threads, wall_seconds, analysis)
        }
    };
    report
        .simulation
        .notes
        .splice(0..0, head.notes.iter().cloned());
    Ok(report)
}

/// Folds rounds in order until the stopping rule holds; the end of the
/// plan stops the run too (as a cap would).
fn fold<'a, R: RoundRunner>(
    stopper: &mut Stopper<'_, R>,
    rounds: impl Iterator<Item = &'a R::Tally>,
) -> StoppedBy
where
    R::Tally: 'a,
{
    for t in rounds {
        if let Some(why) = stopper.push(t) {
            return why;
        }
    }
    StoppedBy::Replications
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_come_from_the_environment() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("a/4").is_err());
        assert!(Shard::parse("3").is_err());
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            Shard::from_env(4, env(&[("JOB_COMPLETION_INDEX", "2")])),
            Ok(Shard { index: 2, count: 4 })
        );
        assert_eq!(
            Shard::from_env(
                4,
                env(&[
                    ("SLURM_ARRAY_TASK_ID", "4"),
                    ("SLURM_ARRAY_TASK_MIN", "1"),
                    ("SLURM_ARRAY_TASK_COUNT", "4")
                ])
            ),
            Ok(Shard { index: 3, count: 4 })
        );
        assert!(Shard::from_env(
            4,
            env(&[
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "8")
            ])
        )
        .is_err());
        assert!(Shard::from_env(4, env(&[])).is_err());
    }
}
