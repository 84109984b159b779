//! The README's example outputs are generated, not pasted: every code
//! block whose first line is `$ availsim ARGS` is compared with what that
//! command prints (run from the repository root, files written to a
//! temporary folder shown as `output`). What must vary between machines is
//! normalised on both sides: the thread count, the wall time and the
//! events per second. A block holding `...` lines is an excerpt: each run
//! of lines between them must appear in the output in that order; a block
//! without them must be the whole output.
//!
//! `UPDATE_README=1 cargo test --release --test cli readme` rewrites the
//! whole-output blocks with the current output (excerpts are reported, to
//! be edited by hand).

use std::path::Path;

use assert_cmd::Command;

/// One tested block: where its lines are in the README, the command, and
/// the expected lines.
struct Block {
    /// Index (in the README's lines) of the first expected line.
    first: usize,
    /// Index one past the last expected line (the closing fence).
    end: usize,
    args: Vec<String>,
    expected: Vec<String>,
}

fn readme_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")
}

/// The blocks of `text` that start with `$ availsim `.
fn blocks(lines: &[&str]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with("```") && i + 1 < lines.len() {
            let Some(command) = lines[i + 1].strip_prefix("$ availsim ") else {
                i += 1;
                continue;
            };
            let end = (i + 2..lines.len())
                .find(|&j| lines[j].starts_with("```"))
                .expect("closed code block");
            out.push(Block {
                first: i + 2,
                end,
                args: command.split_whitespace().map(String::from).collect(),
                expected: lines[i + 2..end].iter().map(|s| s.to_string()).collect(),
            });
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Replaces what varies between machines and runs.
fn normalise(line: &str) -> String {
    let mut line = line.trim_end().to_string();
    // "…, seed 1, 2 threads" / "on 1 thread"
    for word in [" threads", " thread"] {
        if let Some(at) = line.find(word) {
            let digits = line[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits > 0 {
                line.replace_range(at - digits..at, "T");
            }
            break;
        }
    }
    // "598158 events in 0.016 s: 3.817e7 events/s (…)"
    if let (Some(a), Some(b)) = (line.find(" events in "), line.find(" events/s")) {
        if a < b {
            line.replace_range(a + " events in ".len()..b, "… s: …");
        }
    }
    line
}

/// Runs the block's command from the repository root; returns stdout
/// with the temporary output folder shown as `output`.
fn output_of(args: &[String]) -> String {
    let out = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::cargo_bin("availsim").expect("binary");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
    if ["run", "batch", "sweep"].contains(&args[0].as_str()) {
        cmd.arg("--out").arg(out.path()).arg("--no-plots");
    }
    let o = cmd.output().expect("run availsim");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "availsim {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    stdout.replace(&out.path().display().to_string(), "output")
}

/// Whether the expected lines (with `...` gaps) match the output.
fn matches(expected: &[String], actual: &[String]) -> bool {
    let parts: Vec<&[String]> = expected.split(|l| l.trim() == "...").collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let mut from = 0;
    for part in parts.iter().filter(|p| !p.is_empty()) {
        let found = (from..=actual.len().saturating_sub(part.len()))
            .find(|&k| actual[k..k + part.len()] == **part);
        match found {
            Some(k) => from = k + part.len(),
            None => return false,
        }
    }
    true
}

#[test]
fn readme_example_outputs_match_the_commands() {
    let text = std::fs::read_to_string(readme_path()).expect("README");
    let lines: Vec<&str> = text.lines().collect();
    let found = blocks(&lines);
    assert!(
        found.len() >= 4,
        "only {} generated blocks in the README",
        found.len()
    );
    let update = std::env::var_os("UPDATE_README").is_some();
    let mut stale = Vec::new();
    let mut replaced: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for b in &found {
        let raw = output_of(&b.args);
        let raw_lines: Vec<String> = raw.lines().map(|l| l.trim_end().to_string()).collect();
        let actual: Vec<String> = raw_lines.iter().map(|l| normalise(l)).collect();
        let expected: Vec<String> = b.expected.iter().map(|l| normalise(l)).collect();
        if matches(&expected, &actual) {
            continue;
        }
        let excerpt = b.expected.iter().any(|l| l.trim() == "...");
        if update && !excerpt {
            replaced.push((b.first, b.end, raw_lines));
            continue;
        }
        stale.push(format!(
            "README line {}: `availsim {}` prints\n{}\n",
            b.first,
            b.args.join(" "),
            raw
        ));
    }
    if update && !replaced.is_empty() {
        let mut new: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        for (first, end, raw) in replaced.into_iter().rev() {
            new.splice(first..end, raw);
        }
        std::fs::write(readme_path(), new.join("\n") + "\n").expect("write README");
    }
    assert!(
        stale.is_empty(),
        "README examples are stale (rerun with UPDATE_README=1 for whole outputs):\n{}",
        stale.join("\n")
    );
}

#[test]
fn normalising_keeps_what_is_deterministic() {
    assert_eq!(
        normalise("  2000 replications of 10 y, seed 1, 2 threads"),
        "  2000 replications of 10 y, seed 1, T threads"
    );
    assert_eq!(
        normalise("  598158 events in 0.016 s: 3.817e7 events/s (independent engine)"),
        "  598158 events in … s: … events/s (independent engine)"
    );
    assert_ne!(
        normalise("  availability  0.9999535"),
        normalise("  availability  0.9999525")
    );
    let e = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(matches(&e(&["a", "...", "c"]), &e(&["a", "b", "c"])));
    assert!(!matches(&e(&["a", "...", "c"]), &e(&["c", "a"])));
    assert!(!matches(&e(&["a", "c"]), &e(&["a", "b", "c"])));
}
