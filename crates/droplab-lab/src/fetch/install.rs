//! Verifying the files and installing them atomically through a staging directory.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{Origin, SUMS, Spec, Verified, installed_dir};
use crate::error::{Error, Result, io_err};
use crate::hash::sha256_hex;

/// Checks a file's bytes against the expected sha256.
pub(super) fn verify(
    name: &'static str,
    expected: &'static str,
    bytes: Vec<u8>,
    shown: &str,
    origin: Origin,
) -> Result<Verified> {
    let actual = sha256_hex(&bytes);
    if actual != expected {
        let tail = match origin {
            Origin::User => "",
            Origin::Registry => " (the package does not hold the expected data)",
        };
        let what = if shown.ends_with(name) {
            String::new()
        } else if shown.ends_with(".gz") {
            format!(" for {name} (decompressed)")
        } else {
            format!(" for {name}")
        };
        return Err(origin.err(format!(
            "{shown}: sha256 mismatch{what}: expected {expected}, got {actual}{tail}"
        )));
    }
    Ok(Verified {
        name,
        sha256: expected,
        bytes,
    })
}

/// Puts the verified files in the order of the spec.
pub(super) fn in_spec_order(spec: &Spec, mut files: Vec<Verified>) -> Vec<Verified> {
    files.sort_by_key(|f| spec.files.iter().position(|&(n, _)| n == f.name));
    files
}

/// The staging directory; removed on drop unless [`Staging::keep`] was called.
#[derive(Debug)]
pub(super) struct Staging {
    pub(super) path: PathBuf,
    armed: bool,
}

impl Staging {
    /// Creates `path` afresh (removing what a previous process of the same id left there).
    pub(super) fn create(path: PathBuf) -> io::Result<Self> {
        if fs::symlink_metadata(&path).is_ok() {
            remove_any(&path)?;
        }
        fs::create_dir(&path)?;
        Ok(Staging { path, armed: true })
    }

    /// Keeps the directory (it has been renamed into place).
    pub(super) fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes a file, a link or a directory tree.
fn remove_any(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Removes `.<name>.partial-<pid>` directories whose process is gone (killed mid-install);
/// where that cannot be told, none is removed.
pub(super) fn remove_stale_partials(data_dir: &Path, name: &str) {
    for (path, pid) in crate::staging::partials(&data_dir.join(name)) {
        if crate::staging::process_alive(pid) == Some(false) {
            let _ = remove_any(&path);
        }
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result {
    let mut f = fs::File::create(path).map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::runtime(format!("{}: {e}", path.display())))
}

/// Writes the verified files and `SHA256SUMS` (last) into a staging directory, then renames it
/// to `data_dir/<name>`, replacing an incomplete install.
pub(super) fn install(spec: &Spec, data_dir: &Path, files: &[Verified]) -> Result {
    fs::create_dir_all(data_dir)
        .map_err(|e| io_err(data_dir, format!("cannot create the data directory: {e}")))?;
    remove_stale_partials(data_dir, spec.name);
    let target = data_dir.join(spec.name);
    let staging_path = data_dir.join(format!(".{}.partial-{}", spec.name, std::process::id()));
    let staging = Staging::create(staging_path.clone())
        .map_err(|e| Error::runtime(format!("{}: cannot create: {e}", staging_path.display())))?;
    for f in files {
        write_file(&staging.path.join(f.name), &f.bytes)?;
    }
    let sums: String = files
        .iter()
        .map(|f| format!("{}  {}\n", f.sha256, f.name))
        .collect();
    write_file(&staging.path.join(SUMS), sums.as_bytes())?;
    if let Ok(dir) = fs::File::open(&staging.path) {
        let _ = dir.sync_all();
    }

    if fs::symlink_metadata(&target).is_ok() {
        if installed_meanwhile(spec, data_dir, &target) {
            return Ok(());
        }
        eprintln!("replacing the incomplete {}", target.display());
        remove_any(&target)
            .map_err(|e| Error::runtime(format!("{}: cannot remove: {e}", target.display())))?;
    }
    if let Err(e) = fs::rename(&staging.path, &target) {
        if installed_meanwhile(spec, data_dir, &target) {
            return Ok(());
        }
        return Err(Error::runtime(format!(
            "cannot rename {} to {}: {e}",
            staging.path.display(),
            target.display()
        )));
    }
    staging.keep();
    eprintln!("installed {} into {}", spec.name, target.display());
    Ok(())
}

/// True (and says so) when another process completed the same install while this one ran.
fn installed_meanwhile(spec: &Spec, data_dir: &Path, target: &Path) -> bool {
    let done = installed_dir(data_dir, spec.name).is_some();
    if done {
        eprintln!(
            "{} was installed in {} meanwhile; keeping it",
            spec.name,
            target.display()
        );
    }
    done
}
