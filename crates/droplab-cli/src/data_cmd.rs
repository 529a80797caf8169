//! `droplab data fetch NAME [--dir DIR] [--from DIR]`: see [`droplab_lab::fetch`].

use std::path::Path;

use crate::cli::FetchArgs;
use crate::error::CliResult;

/// `droplab data fetch`.
pub fn fetch(args: &FetchArgs) -> CliResult {
    let dir = args.dir.as_deref().unwrap_or(Path::new("data"));
    droplab_lab::fetch::fetch(&args.dataset, dir, args.from.as_deref())
}
