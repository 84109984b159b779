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

use crate::error::Error;
use crate::model::Model;
use crate::scenario::{load_str, Overrides};
use crate::sim::{empty_tally, shard_chunks, simulate_chunks, Outcome, Progress, Tally};

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
    let range = shard_chunks(model.simulation.replications, shard.index, shard.count);
    let first_chunk = range.start;
    let mut chunks = Vec::new();
    let (threads, wall_seconds) =
        simulate_chunks(model, threads, range, &mut |_, t| chunks.push(t), progress)?;
    Ok(Partial {
        kind: PARTIAL_KIND.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: model.name.clone(),
        scenario_hash: scenario_hash(model),
        scenario_text: text.into(),
        overrides: StoredOverrides {
            horizon: overrides.horizon,
            replications: overrides.replications,
            seed: overrides.seed,
        },
        shard: shard.index,
        shards: shard.count,
        first_chunk,
        chunks,
        threads,
        wall_seconds,
    })
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
    let text = crate::input::read_text(path)?;
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

/// Merges the parts of a sharded run into the outcome of the whole run and
/// its model.
///
/// # Errors
/// [`Error::Usage`] (exit 2) when parts are missing, duplicated, or come
/// from another scenario, seed, size, shard count or version.
pub fn merge(parts: Vec<(PathBuf, Partial)>) -> Result<(Model, Outcome), Error> {
    let Some((first_path, first)) = parts.first() else {
        return Err(refuse("nothing to merge: give the part files".into()));
    };
    let overrides = Overrides {
        horizon: first.overrides.horizon,
        replications: first.overrides.replications,
        seed: first.overrides.seed,
    };
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
    let mut tally = empty_tally(&model);
    tally
        .down_values
        .reserve_exact(model.simulation.replications as usize);
    let (mut threads, mut wall_seconds) = (0, 0.0);
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
        threads = threads.max(part.threads);
        wall_seconds += part.wall_seconds;
    }
    Ok((
        model,
        Outcome {
            tally,
            threads,
            wall_seconds,
        },
    ))
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
