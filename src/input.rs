//! Reading the files a user hands to availsim (scenarios, reports, partial
//! reports): regular files of reasonable size only, UTF-8, a leading byte
//! order mark skipped.
//!
//! `/dev/zero` would grow without bound and a FIFO without a writer would
//! block forever, so anything that is not a regular file is refused before
//! it is opened, and a file is never read past [`MAX_INPUT_BYTES`].

use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// Largest input file accepted, in bytes (64 MiB): far above any scenario
/// or report, far below what would strain memory.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// The UTF-8 byte order mark some editors put at the start of a file.
const BOM: char = '\u{feff}';

/// Reads `path` as text: a regular file of at most [`MAX_INPUT_BYTES`],
/// UTF-8, without a leading byte order mark.
///
/// # Errors
/// [`Error::Read`] when the file is missing, unreadable, not a regular
/// file (a folder, a device, a FIFO) or too large; [`Error::Syntax`] when it
/// is not UTF-8.
pub fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = read_bytes(path)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let (line, column) = line_column(bytes, e.utf8_error().valid_up_to());
        Error::Syntax {
            file: path.to_path_buf(),
            line,
            column,
            message: "the file is not UTF-8 text".into(),
        }
    })?;
    Ok(match text.strip_prefix(BOM) {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Reads `path` as bytes, with the checks of [`read_text`].
///
/// # Errors
/// As [`read_text`], except the UTF-8 check.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Error> {
    let refuse = |why: String| Error::Read {
        file: path.to_path_buf(),
        cause: std::io::Error::other(why),
    };
    let read = |cause| Error::Read {
        file: path.to_path_buf(),
        cause,
    };
    // Looked at before opening: opening a FIFO blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(read)?;
    if meta.is_dir() {
        return Err(refuse(format!(
            "it is a folder, not a file\n  hint: to run every scenario in a folder, use `availsim batch {}`",
            crate::error::escape(&path.display().to_string())
        )));
    }
    if !meta.is_file() {
        return Err(refuse(
            "not a regular file (a device, a FIFO or a socket): availsim reads only regular files"
                .into(),
        ));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(refuse(too_large(meta.len())));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read)?;
    // The file may have grown since it was looked at.
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(refuse(too_large(bytes.len() as u64)));
    }
    Ok(bytes)
}

fn too_large(len: u64) -> String {
    format!(
        "the file is {:.1} MiB, more than the {} MiB availsim reads",
        len as f64 / 1024f64.powi(2),
        MAX_INPUT_BYTES / 1024 / 1024
    )
}

/// The 1-based line and column of byte `offset` of `bytes`.
pub(crate) fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

/// The message of a JSON parse error without serde_json's position (the
/// caller gives line and column), in words a user can act on.
pub fn json_message(e: &serde_json::Error) -> String {
    let message = strip_position(&e.to_string());
    if message == "recursion limit exceeded" {
        // serde_json's fixed limit, which protects the stack.
        "nesting deeper than 128 levels: availsim reads at most 128 levels of nested lists and objects".into()
    } else {
        message
    }
}

/// `message` without serde_json's trailing " at line L column C".
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bom.json");
        std::fs::write(&p, "\u{feff}{}").unwrap();
        assert_eq!(read_text(&p).unwrap(), "{}");
    }

    #[test]
    fn folders_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_text(dir.path()).unwrap_err().to_string();
        assert!(e.contains("availsim batch"), "{e}");
        if Path::new("/dev/zero").exists() {
            let e = read_text(Path::new("/dev/zero")).unwrap_err().to_string();
            assert!(e.contains("not a regular file"), "{e}");
        }
    }
}
