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
        let message = escape(&self.message);
        if self.path.is_empty() {
            write!(f, "{message}")?;
        } else {
            write!(f, "{}: {message}", escape(&self.path))?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", escape(hint))?;
        }
        Ok(())
    }
}

/// Errors of the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{}: cannot read: {cause}", shown(file))]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// A file is not valid JSON.
    #[error("{}:{line}:{column}: invalid JSON: {}", shown(file), escape(message))]
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
    #[error("{}: cannot write: {}", shown(file), write_cause(cause))]
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
        out.push_str(&format!("{}: {issue}", shown(file)));
    }
    let n = issues.len();
    out.push_str(&format!(
        "\n{}: {n} problem{} found; nothing was simulated",
        shown(file),
        if n == 1 { "" } else { "s" }
    ));
    out
}

/// `text` with every control character (ANSI escape sequences, newlines,
/// tabs, …) written as a Rust-style escape such as `\u{1b}` or `\n`, so that
/// names and values echoed from user input cannot move the cursor, recolour
/// the terminal or forge extra lines of output.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Characters that change how a message looks rather than what it says:
/// control characters and the invisible format characters (bidirectional
/// overrides and isolates, zero-width spaces and joiners, the BOM), which
/// can make a name display as something else.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// A path as messages show it: displayed, control characters escaped.
pub fn shown(path: &std::path::Path) -> String {
    escape(&path.display().to_string()).into_owned()
}

/// Why a write failed, in words: a full disk says so plainly.
fn write_cause(cause: &std::io::Error) -> String {
    if cause.raw_os_error() == Some(28) || cause.kind() == std::io::ErrorKind::StorageFull {
        "no space left on device".into()
    } else {
        cause.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_messages_are_escaped() {
        let issue = Issue::new("components.a\u{1b}[31m", "unknown component `x\ny`");
        let text = Error::Invalid {
            file: "evil\u{1b}]0;pwned\u{7}.json".into(),
            issues: vec![issue],
        }
        .to_string();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert!(
            text.contains("\\u{1b}[31m") && text.contains("x\\ny"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    #[test]
    fn a_full_disk_is_said_plainly() {
        let e = Error::Output {
            file: "out/report.json".into(),
            cause: std::io::Error::from_raw_os_error(28),
        };
        assert_eq!(
            e.to_string(),
            "out/report.json: cannot write: no space left on device"
        );
    }
}
