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

/// A number for a CSV cell: six decimals at most, trailing zeros dropped (`0.25`, `1`,
/// `0.000123`; `0` for what rounds to it), so a probability never takes 45 digits.
pub fn compact(v: f32) -> String {
    let s = format!("{v:.6}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn compact_numbers_keep_six_decimals_and_drop_trailing_zeros() {
        assert_eq!(compact(0.25), "0.25");
        assert_eq!(compact(1.0), "1");
        assert_eq!(compact(1e-45), "0");
        assert_eq!(compact(-1e-9), "0");
        assert_eq!(compact(0.000_123_4), "0.000123");
        assert_eq!(compact(2.5e6), "2500000");
        assert_eq!(compact(-3.125), "-3.125");
    }
}
