//! Scale-out (SPEC §6): sharded runs write partial reports of mergeable
//! statistics, and merging the parts gives the report of the whole run, to
//! the last bit.
//!
//! Every run reduces replications in one shape: blocks into chunks, chunks
//! in order (`sim::CHUNK`). A shard runs an even share of the blocks
//! (`sim::shard_blocks`) and keeps each whole chunk's tally, and each block
//! of a chunk its range cuts as a tally of its own; the merge folds the cut
//! chunks' blocks, then all chunks in order, as the whole run does. A part
//! carries the scenario's text, its file name, the command-line overrides
//! and a hash of the resolved scenario, so parts of another scenario, seed,
//! size or version are refused; and each piece of statistics carries a keyed
//! checksum and is checked for internal consistency, so an edited, copied or
//! cut piece is refused too.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checksum::piece_checksum;
use crate::driver::{
    choose, plain_guard, plain_report, rare_report, Chosen, DEFAULT_RARE_PRECISION,
};
use crate::error::Error;
use crate::model::{Method, Model};
use crate::precision::{Plan, RoundRunner, Schedule, StoppedBy, Stopper, Target};
use crate::rare::RareTally;
use crate::report::Report;
use crate::scenario::{load_str, Overrides, HOURS_PER_YEAR};
use crate::sim::{
    block_replications, empty_tally, shard_blocks, simulate_blocks, thread_pool, Outcome,
    PlainRounds, PlainTally, Progress, Tally, BLOCK, CHUNK, NINES_BINS_PER_UNIT, NINES_MAX,
};
use crate::stats::Moments;

/// Identifies partial reports.
pub const PARTIAL_KIND: &str = "availsim-partial";
/// Layout of partial reports: parts of another layout are refused with a
/// clear message (layout 1 had whole chunks per shard and no checksums).
pub const PARTIAL_FORMAT: u64 = 2;

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
            shards: None,
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

/// The statistics of a whole chunk, or of one block of a chunk that the
/// shard's range cuts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Piece {
    /// Its first block.
    pub first_block: u64,
    /// Its number of blocks: a whole chunk's, or 1.
    pub blocks: u64,
    /// Keyed checksum of the range and the statistics
    /// ([`crate::checksum::piece_checksum`]).
    pub checksum: String,
    /// The statistics.
    pub tally: Tally,
}

/// The partial report of one shard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Partial {
    /// Always [`PARTIAL_KIND`].
    pub kind: String,
    /// Always [`PARTIAL_FORMAT`].
    pub format: u64,
    /// availsim version that wrote it.
    pub version: String,
    /// Scenario name.
    pub scenario: String,
    /// The scenario file as given to `run` (it gives the name of a scenario
    /// without one, as it did for the run).
    pub source: String,
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
    /// The blocks of this shard: `first_block .. first_block + blocks`.
    pub first_block: u64,
    /// Number of blocks of this shard.
    pub blocks: u64,
    /// The statistics, in block order.
    pub pieces: Vec<Piece>,
    /// Threads used.
    pub threads: usize,
    /// Wall-clock seconds of the shard.
    pub wall_seconds: f64,
    /// The rounds of a precision run (then `chunks` is empty).
    #[serde(default)]
    pub rounds: Option<RoundsPart>,
}

impl Partial {
    /// Replications in this part.
    pub fn replications(&self) -> u64 {
        self.pieces.iter().map(|p| p.tally.replications()).sum()
    }
}

/// A stable hash (FNV-1a, 64 bits) of the canonical resolved scenario JSON
/// ([`crate::scenario::canonical_json`]): everything the results depend on,
/// not the file's path, key order or whitespace.
pub fn scenario_hash(model: &Model) -> String {
    model.hash.clone()
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
    let hash = scenario_hash(model);
    let seed = model.simulation.seed;
    let mut pieces = Vec::new();
    let (range, rounds, threads) = if is_precision(model) {
        let pool = thread_pool(threads)?;
        let rounds = shard_rounds(model, shard, &pool, progress)?;
        (0..0, Some(rounds), pool.current_num_threads())
    } else {
        let range = shard_blocks(model.simulation.replications, shard.index, shard.count);
        let (threads, _) = simulate_blocks(
            model,
            threads,
            range.clone(),
            &mut |blocks, tally| {
                let n = blocks.end - blocks.start;
                pieces.push(Piece {
                    first_block: blocks.start,
                    blocks: n,
                    checksum: piece_checksum(&hash, seed, blocks.start, n, &tally),
                    tally,
                });
            },
            progress,
        )?;
        (range, None, threads)
    };
    Ok(Partial {
        kind: PARTIAL_KIND.into(),
        format: PARTIAL_FORMAT,
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: model.name.clone(),
        source: model.source.clone(),
        scenario_hash: hash,
        scenario_text: text.into(),
        overrides: StoredOverrides::new(overrides),
        shard: shard.index,
        shards: shard.count,
        first_block: range.start,
        blocks: range.end - range.start,
        pieces,
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
/// report, [`Error::Usage`] when it is one of another layout.
pub fn read_part(path: &Path) -> Result<Partial, Error> {
    let text = crate::input::read_text(path)?;
    let syntax = |e: serde_json::Error| Error::Syntax {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: format!("not an availsim partial report: {e}"),
    };
    let value: Value = serde_json::from_str(&text).map_err(syntax)?;
    if value.get("kind").and_then(Value::as_str) != Some(PARTIAL_KIND) {
        return Err(refuse(format!(
            "{}: not an availsim partial report (no \"kind\": \"{PARTIAL_KIND}\")",
            path.display()
        )));
    }
    let format = value.get("format").and_then(Value::as_u64).unwrap_or(1);
    if format != PARTIAL_FORMAT {
        return Err(refuse(format!(
            "{}: a partial report of layout {format}, written by another availsim version (this one reads layout {PARTIAL_FORMAT}): rerun the shards",
            path.display()
        )));
    }
    serde_json::from_str(&text).map_err(syntax)
}

/// Merges the parts of a sharded run into the model and the report of the
/// whole run.
///
/// # Errors
/// [`Error::Usage`] (exit 2) when parts are missing, duplicated, or come
/// from another scenario, seed, size, shard count or version, or when a
/// piece of statistics is inconsistent or fails its checksum.
pub fn merge(parts: Vec<(PathBuf, Partial)>) -> Result<(Model, Report), Error> {
    let Some((first_path, first)) = parts.first() else {
        return Err(refuse("nothing to merge: give the part files".into()));
    };
    let mut overrides = first.overrides.overrides()?;
    overrides.shards = Some(first.shards);
    let model = load_str(&first.scenario_text, Path::new(&first.source), &overrides)?;
    if scenario_hash(&model) != first.scenario_hash || model.name != first.scenario {
        return Err(refuse(format!(
            "{}: the scenario it carries no longer resolves to the same model (written by availsim {}, this is {}): rerun the shards",
            first_path.display(),
            first.version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    let by_index = index_parts(&parts)?;
    let analysis = crate::analytic::analyze(&model);
    if first.rounds.is_some() {
        let threads = by_index.values().map(|(_, p)| p.threads).max().unwrap_or(0);
        let wall_seconds = by_index.values().map(|(_, p)| p.wall_seconds).sum();
        let report = merge_rounds(&model, &by_index, threads, wall_seconds, &analysis)?;
        return Ok((model, report));
    }
    let check = Checker::new(&model, &first.scenario_hash);
    let mut pieces: Vec<&Piece> = Vec::new();
    let (mut threads, mut wall_seconds) = (0, 0.0);
    for (index, (path, part)) in &by_index {
        check.part(path, part, *index)?;
        pieces.extend(&part.pieces);
        threads = threads.max(part.threads);
        wall_seconds += part.wall_seconds;
    }
    let mut tally = empty_tally(&model);
    tally
        .down_values
        .reserve_exact(model.simulation.replications as usize);
    fold(&model, &pieces, &mut tally);
    let outcome = Outcome {
        tally,
        threads,
        wall_seconds,
    };
    let report = Report::new(&model, outcome, &analysis);
    Ok((model, report))
}

/// The parts by shard index, refusing parts of different runs, duplicates
/// and gaps.
fn index_parts(parts: &[(PathBuf, Partial)]) -> Result<BTreeMap<u64, (&PathBuf, &Partial)>, Error> {
    let (first_path, first) = &parts[0];
    let mut by_index: BTreeMap<u64, (&PathBuf, &Partial)> = BTreeMap::new();
    for (path, part) in parts {
        let mismatch = |what: &str| {
            refuse(format!(
                "{} and {} are parts of different runs ({what} differs): merge parts of one run only",
                first_path.display(),
                path.display()
            ))
        };
        if part.scenario_hash != first.scenario_hash
            || part.scenario_text != first.scenario_text
            || part.overrides != first.overrides
            || part.scenario != first.scenario
        {
            return Err(mismatch("scenario, seed, horizon or replications"));
        }
        if part.version != first.version {
            return Err(mismatch("availsim version"));
        }
        if part.shards != first.shards {
            return Err(mismatch("shard count"));
        }
        if part.shard >= part.shards {
            return Err(refuse(format!(
                "{}: shard {} of {} does not exist: the part was edited; rerun the shards",
                path.display(),
                part.shard,
                part.shards
            )));
        }
        if !(part.wall_seconds.is_finite() && part.wall_seconds >= 0.0) {
            return Err(refuse(format!(
                "{}: wall_seconds {} is not a time: the part was edited; rerun the shard",
                path.display(),
                part.wall_seconds
            )));
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
    let absent = first.shards - by_index.len() as u64;
    if absent > 0 {
        // Name the first few only: a count may be huge.
        let mut missing: Vec<String> = (0..first.shards)
            .filter(|i| !by_index.contains_key(i))
            .take(10)
            .map(|i| i.to_string())
            .collect();
        if absent > 10 {
            missing.push(format!("… ({absent} in all)"));
        }
        return Err(refuse(format!(
            "shard{} {} of {} {} missing: every part of the run is needed",
            if absent == 1 { "" } else { "s" },
            missing.join(", "),
            first.shards,
            if absent == 1 { "is" } else { "are" }
        )));
    }
    Ok(by_index)
}

/// Folds the pieces (in block order, covering the run) as the whole run
/// does: the blocks of a cut chunk into that chunk, the chunks into `tally`.
fn fold(model: &Model, pieces: &[&Piece], tally: &mut Tally) {
    let mut chunk: Option<(u64, Tally)> = None;
    for piece in pieces {
        if piece.blocks > 1 || is_whole_chunk(model, piece.first_block, piece.blocks) {
            tally.merge(&piece.tally);
            continue;
        }
        let c = piece.first_block / CHUNK;
        let (_, into) = chunk.get_or_insert_with(|| (c, empty_like(tally)));
        into.merge(&piece.tally);
        let end = ((c + 1) * CHUNK).min(model.simulation.replications.div_ceil(BLOCK));
        if piece.first_block + 1 == end {
            if let Some((_, done)) = chunk.take() {
                tally.merge(&done);
            }
        }
    }
}

fn empty_like(t: &Tally) -> Tally {
    Tally::new(
        t.instance_down_hours.len(),
        t.transient_up.len(),
        t.objectives.len(),
    )
}

/// Whether blocks `first .. first + n` are one whole chunk of the run.
fn is_whole_chunk(model: &Model, first: u64, n: u64) -> bool {
    let all = model.simulation.replications.div_ceil(BLOCK);
    first.is_multiple_of(CHUNK)
        && first < all
        && n == (first.saturating_add(CHUNK).min(all) - first)
}

/// Checks parts against the model: ranges, checksums and the internal
/// consistency of every piece.
struct Checker<'a> {
    model: &'a Model,
    hash: &'a str,
    rows: usize,
    points: usize,
    /// Per objective: whole windows per replication.
    windows: Vec<u64>,
    /// Whole simulated years per replication.
    years: u64,
    requests: bool,
}

impl<'a> Checker<'a> {
    fn new(model: &'a Model, hash: &'a str) -> Checker<'a> {
        let sim = &model.simulation;
        let shape = empty_tally(model);
        Checker {
            model,
            hash,
            rows: shape.instance_down_hours.len(),
            points: shape.transient_up.len(),
            windows: model
                .objectives
                .iter()
                .map(|o| ((sim.horizon - sim.warmup) / o.window * (1.0 + 1e-12)).floor() as u64)
                .collect(),
            years: ((sim.horizon - sim.warmup) / HOURS_PER_YEAR * (1.0 + 1e-12)).floor() as u64,
            requests: crate::sim::Program::new(model).has_requests(),
        }
    }

    /// Checks part `index`: its range, then each piece.
    fn part(&self, path: &Path, part: &Partial, index: u64) -> Result<(), Error> {
        let reps = self.model.simulation.replications;
        let expected = shard_blocks(reps, index, part.shards);
        if part.first_block != expected.start || part.blocks != expected.end - expected.start {
            return Err(refuse(format!(
                "{}: its blocks {}..{} are not those of shard {index} of {} ({}..{})",
                path.display(),
                part.first_block,
                part.first_block.saturating_add(part.blocks),
                part.shards,
                expected.start,
                expected.end
            )));
        }
        let mut next = expected.start;
        for (k, piece) in part.pieces.iter().enumerate() {
            let fail = |what: String| {
                refuse(format!(
                    "{}: pieces[{k}] (blocks {}..{}): {what}; this part was edited, cut or copied: rerun shard {index} of {}",
                    path.display(),
                    piece.first_block,
                    piece.first_block.saturating_add(piece.blocks),
                    part.shards
                ))
            };
            let shape = piece.first_block == next
                && (piece.blocks == 1 || is_whole_chunk(self.model, next, piece.blocks));
            if !shape {
                return Err(fail(format!(
                    "expected a whole chunk or one block starting at block {next}"
                )));
            }
            let end = piece.first_block + piece.blocks;
            if end > expected.end {
                return Err(fail("it reaches beyond the shard".into()));
            }
            let sum = piece_checksum(
                self.hash,
                self.model.simulation.seed,
                piece.first_block,
                piece.blocks,
                &piece.tally,
            );
            if sum != piece.checksum {
                return Err(fail("its checksum does not match its statistics".into()));
            }
            let n = block_replications(reps, &(piece.first_block..end));
            self.consistent(&piece.tally, n, piece.first_block..end)
                .map_err(fail)?;
            next = end;
        }
        if next != expected.end {
            return Err(refuse(format!(
                "{}: its statistics stop at block {next}, the shard ends at block {}: the part is cut short; rerun shard {index} of {}",
                path.display(),
                expected.end,
                part.shards
            )));
        }
        Ok(())
    }

    /// The internal consistency of the statistics of `n` replications in
    /// `blocks`: counts against array lengths and against the scenario.
    fn consistent(&self, t: &Tally, n: u64, blocks: Range<u64>) -> Result<(), String> {
        self.lengths(t, n)?;
        self.values(t, n, blocks)?;
        self.sums(t, n)?;
        self.windows_add_up(t, n)
    }

    /// Counts and array lengths against the replications and the scenario.
    fn lengths(&self, t: &Tally, n: u64) -> Result<(), String> {
        let len = |what: &str, got: usize, want: usize| {
            if got == want {
                Ok(())
            } else {
                Err(format!("{what} has {got} entries, expected {want}"))
            }
        };
        if t.down.n != n {
            return Err(format!("down.n is {}, expected {n} replications", t.down.n));
        }
        len("down_values", t.down_values.len(), n as usize)?;
        len(
            "instance_down_hours",
            t.instance_down_hours.len(),
            self.rows,
        )?;
        len(
            "instance_share_hours",
            t.instance_share_hours.len(),
            self.rows,
        )?;
        len("transient_up", t.transient_up.len(), self.points)?;
        len("objectives", t.objectives.len(), self.windows.len())?;
        let requests = if self.requests { n } else { 0 };
        if t.requests.n != requests {
            return Err(format!(
                "requests.n is {}, expected {requests}",
                t.requests.n
            ));
        }
        if t.transient_up.iter().any(|&u| u > n) || t.first_failures > n {
            return Err(format!("a count above its {n} replications"));
        }
        let d = &t.data;
        len("data.sources", d.sources.len(), d.losses.len())?;
        if !d.restore_hours.is_empty() {
            len(
                "data.restore_hours",
                d.restore_hours.len(),
                self.model.instances.len(),
            )?;
        }
        if d.losses
            .iter()
            .chain(&d.restore_hours)
            .any(|&x| !(x >= 0.0 && x.is_finite()))
        {
            return Err("a data loss or restore time that is negative or not finite".into());
        }
        Ok(())
    }

    /// The per-replication values: fractions, and the moments they give.
    fn values(&self, t: &Tally, n: u64, blocks: Range<u64>) -> Result<(), String> {
        if t.down_values.iter().any(|v| !(0.0..=1.0).contains(v)) {
            return Err("a down fraction outside [0, 1]".into());
        }
        if moments_of(&t.down_values, blocks.start, self.model) != t.down {
            return Err("down (count, mean, m2) does not match down_values".into());
        }
        let down_reps = t.down_values.iter().filter(|&&v| v > 0.0).count() as u64;
        if t.outages < down_reps {
            return Err(format!(
                "{} outages, but {down_reps} of its {n} replications saw down time",
                t.outages
            ));
        }
        Ok(())
    }

    /// Sums of hours and ratios within what `n` replications can give.
    fn sums(&self, t: &Tally, n: u64) -> Result<(), String> {
        let sim = &self.model.simulation;
        let window = sim.horizon - sim.warmup;
        let hours = t.down_values.iter().sum::<f64>() * window;
        let most = n as f64 * window;
        if !plausible(t.system_down_hours, most)
            || (t.system_down_hours - hours).abs() > 1e-9 * (hours + 1.0)
            || !plausible(t.first_failure_exposure, n as f64 * sim.horizon)
            || !plausible(t.requests.mean, 1.0)
            || !plausible(t.requests.m2, f64::MAX)
        {
            return Err("a sum that its replications cannot give".into());
        }
        for (d, s) in t.instance_down_hours.iter().zip(&t.instance_share_hours) {
            if !plausible(*d, most) || !plausible(*s, t.system_down_hours) {
                return Err("a component's down hours outside what its replications allow".into());
            }
        }
        Ok(())
    }

    /// Every objective's windows: n times the whole windows per replication,
    /// met ones among them, and the histogram holding each once.
    fn windows_add_up(&self, t: &Tally, n: u64) -> Result<(), String> {
        for (o, &per_rep) in t.objectives.iter().zip(&self.windows) {
            let bins = NINES_MAX * NINES_BINS_PER_UNIT + 2;
            let histogram = o
                .nines_histogram
                .iter()
                .fold(0u64, |a, &b| a.saturating_add(b));
            if o.windows != n.saturating_mul(per_rep)
                || o.met > o.windows
                || histogram != o.windows
                || !(o.nines_histogram.is_empty() || o.nines_histogram.len() == bins)
                || !plausible(o.availability_sum, o.windows as f64)
            {
                return Err("objective windows that do not add up".into());
            }
        }
        if t.years() != n.saturating_mul(self.years)
            || t.year_down_hours
                .iter()
                .any(|&h| !(h > 0.0 && h <= HOURS_PER_YEAR * (1.0 + 1e-9)))
        {
            return Err("calendar years that do not add up".into());
        }
        Ok(())
    }
}

/// A finite, non-negative sum no larger than `max` (up to rounding).
fn plausible(x: f64, max: f64) -> bool {
    x.is_finite() && x >= 0.0 && x <= max * (1.0 + 1e-9) + 1e-9
}

/// The moments of `values` (replications from block `first` on) folded as
/// the runner folds them: pushed within each block, blocks merged in order.
fn moments_of(values: &[f64], first: u64, model: &Model) -> Moments {
    let start = first * BLOCK;
    let mut all = Moments::default();
    let mut at = 0usize;
    while at < values.len() {
        let rep = start + at as u64;
        let block_end = ((rep / BLOCK + 1) * BLOCK).min(model.simulation.replications);
        let take = ((block_end - rep) as usize).min(values.len() - at).max(1);
        let mut m = Moments::default();
        values[at..at + take].iter().for_each(|&v| m.push(v));
        all.merge(&m);
        at += take;
    }
    all
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
            let why = fold_rounds(&mut stopper, all);
            plain_report(model, stopper, why, threads, wall_seconds, analysis)
        }
        RoundTallies::RareEvent(_) => {
            let rare = crate::driver::rare_event(model)
                .map_err(|m| refuse(format!("{}: {m}", first_path.display())))?;
            let mut stopper = Stopper::new(&rare, head.plan.schedule, precision);
            let all = parts.iter().flat_map(|t| match t {
                RoundTallies::RareEvent(v) => v.as_slice(),
                RoundTallies::Plain(_) => &[],
            });
            let why = fold_rounds(&mut stopper, all);
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
fn fold_rounds<'a, R: RoundRunner>(
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
