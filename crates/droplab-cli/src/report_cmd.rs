//! `droplab report DIR`: the page of [`crate::render::page`] written beside the directory.

use crate::cli::ReportArgs;
use crate::error::CliResult;
use crate::render::page::render;

/// `droplab report DIR [--out FILE]`.
pub fn run(args: &ReportArgs) -> CliResult {
    let html = render(&args.dir)?;
    let out = args.out.clone().unwrap_or_else(|| args.dir.join("report.html"));
    // Written beside its final name, then renamed: no half-written page.
    droplab_lab::staging::write_atomic(&out, html.as_bytes())?;
    if !args.quiet {
        println!("report: {} ({} KiB)", out.display(), html.len().div_ceil(1024));
    }
    Ok(())
}
