//! `droplab report DIR`: the page of [`crate::render::page`] written beside the directory.

use crate::cli::ReportArgs;
use crate::error::{CliResult, io_err};
use crate::render::page::render;

/// `droplab report DIR [--out FILE]`.
pub fn run(args: &ReportArgs) -> CliResult {
    let html = render(&args.dir)?;
    let out = args.out.clone().unwrap_or_else(|| args.dir.join("report.html"));
    // Written beside its final name, then renamed: no half-written page.
    let tmp = out.with_extension("html.partial");
    std::fs::write(&tmp, html.as_bytes()).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, &out).map_err(|e| io_err(&out, e))?;
    if !args.quiet {
        println!("report: {} ({} KiB)", out.display(), html.len().div_ceil(1024));
    }
    Ok(())
}
