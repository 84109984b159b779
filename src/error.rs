//! Typed errors of the library.
//!
//! Every error that comes from the user's input names the file and, for
//! scenario problems, the JSON path (e.g. `components.web.failure.shape`), and
//! suggests a fix where one is obvious. The binary maps every [`Error`] to
//! exit code 2 (bad input) except [`Error::Output`].

use std::fmt;
use std::path::PathBuf;

/// One problem found in a scenario: where it is and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// JSON path of the offending value, e.g. `components.web.count`; empty
    /// for the document itself.
    pub path: String,
    /// What is wrong, lowercase, without a trailing period.
    pub message: String,
    /// How to fix it, when that is obvious.
    pub hint: Option<String>,
}

impl Issue {
    /// A problem at `path` with no hint.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Issue {
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// The same problem with a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{}: {}", self.path, self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Errors of the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{}: cannot read: {cause}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// A file is not valid JSON.
    #[error("{}:{line}:{column}: invalid JSON: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A scenario is well-formed JSON but not a valid scenario.
    #[error("{}", render_invalid(file, issues))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every problem found, in document order.
        issues: Vec<Issue>,
    },
    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),
    /// An output file could not be written.
    #[error("{}: cannot write: {cause}", file.display())]
    Output {
        /// The file.
        file: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
}

impl Error {
    /// The process exit code for this error: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Output { .. } => 1,
            _ => 2,
        }
    }
}

fn render_invalid(file: &std::path::Path, issues: &[Issue]) -> String {
    let mut out = String::new();
    for (i, issue) in issues.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{}: {issue}", file.display()));
    }
    let n = issues.len();
    out.push_str(&format!(
        "\n{}: {n} problem{} found; nothing was simulated",
        file.display(),
        if n == 1 { "" } else { "s" }
    ));
    out
}
