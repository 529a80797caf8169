//! What the commands show and leave behind, beside what they compute: the HTML page of a
//! directory ([`page`]) and the end of a results directory ([`finish`]).

pub mod page;

use droplab_lab::staging::Staging;
use droplab_report::text_table;
use serde::Serialize;

use crate::error::{CliError, CliResult};

/// Writes `results.json`, finishes the directory and prints the table and where it went.
pub fn finish(
    staging: Staging,
    results: &impl Serialize,
    headers: &[&str],
    rows: &[Vec<String>],
) -> CliResult {
    let json = serde_json::to_string_pretty(results).map_err(|e| CliError::runtime(e.to_string()))?;
    staging.write("results.json", json.as_bytes())?;
    let dir = staging.commit()?;
    println!("{}", text_table(headers, rows));
    println!("results: {}", dir.join("results.md").display());
    Ok(())
}
