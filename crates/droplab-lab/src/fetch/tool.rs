//! Running the registries' clients (npm, apt-get, pip) and the temporary directories they
//! work in.

use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// A temporary directory for one fetch, removed when dropped.
pub(super) fn temp_dir() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("droplab-fetch-")
        .tempdir()
        .map_err(|e| Error::runtime(format!("cannot create a temporary directory: {e}")))
}

/// Runs an external tool in `cwd`, capturing its output; a failure becomes one line naming
/// the command, its exit status and its error line.
pub(super) fn run_tool(
    program: &str,
    args: &[&OsStr],
    cwd: &Path,
    missing_hint: &str,
    fail_hint: &str,
) -> Result {
    let shown = std::iter::once(program.to_string())
        .chain(args.iter().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let output = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output();
    match output {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::runtime(format!(
            "`{shown}`: {program} not found; {missing_hint}"
        ))),
        Err(e) => Err(Error::runtime(format!("`{shown}`: cannot start {program}: {e}"))),
        Ok(out) if !out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let line = error_line(&stderr)
                .or_else(|| error_line(&stdout))
                .unwrap_or("no error output".to_string());
            Err(Error::runtime(format!(
                "`{shown}` failed ({}): {line}{fail_hint}",
                out.status
            )))
        }
        Ok(_) => Ok(()),
    }
}

/// The most telling line of a tool's output: its first error line, else its last line.
pub(super) fn error_line(text: &str) -> Option<String> {
    const ERROR_PREFIXES: &[&str] = &[
        "E: ",
        "ERROR:",
        "npm error",
        "npm ERR!",
        "error:",
        "dpkg-deb: error",
    ];
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("complete log of this run"))
        .collect();
    let line = lines
        .iter()
        .find(|l| ERROR_PREFIXES.iter().any(|p| l.starts_with(p)))
        .or_else(|| lines.last())?;
    let mut line = line.to_string();
    if line.len() > 300 {
        let mut cut = 300;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push_str("...");
    }
    Some(line)
}
