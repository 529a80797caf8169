//! The atomic writing of an output directory: files go to a hidden `.OUT.partial-PID`
//! beside `OUT`, renamed to `OUT` when complete, so nothing half-written looks finished; and
//! what interrupted runs left behind, for the long jobs that resume from it.

use std::path::{Path, PathBuf};

use std::sync::Mutex;

use crate::error::{Error, Result, io_err};

/// The staging directories this process is writing, for [`remove_active`].
static ACTIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every staging directory this process is writing: for a signal handler about to
/// end the process (SIGINT, SIGTERM), so that an interrupted command leaves nothing behind.
pub fn remove_active() {
    let dirs = ACTIVE.lock().map(|d| d.clone()).unwrap_or_default();
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn forget_active(dir: &Path) {
    if let Ok(mut d) = ACTIVE.lock() {
        d.retain(|p| p != dir);
    }
}

/// A run directory being written: files go to `OUT.partial-PID`, renamed to `OUT` by
/// [`Staging::commit`]. Dropped without commit, the staging directory is removed, so an
/// interrupted or failed run never leaves a directory that looks finished.
pub struct Staging {
    dir: PathBuf,
    out: PathBuf,
    committed: bool,
}

impl Staging {
    /// Checks that `out` can be created and creates its staging directory. What interrupted
    /// runs left for `out` (their process is gone) is removed first.
    pub fn new(out: &Path, flag: &str) -> Result<Self> {
        Ok(Self::open(out, flag, false)?.0)
    }

    /// [`Staging::new`], keeping what interrupted runs left for `out` when `resume` is set and
    /// returning those directories (for [`take_from`] and [`forget`]); without `resume` they
    /// are removed and none is returned.
    pub fn open(out: &Path, flag: &str, resume: bool) -> Result<(Self, Vec<PathBuf>)> {
        if out.exists() {
            return Err(Error::usage(format!(
                "{flag} {}: already exists (choose another directory or remove it)",
                out.display()
            )));
        }
        // A live process writing the same directory: refuse at once rather than after the
        // work (the rename at the end would fail).
        if let Some((_, pid)) = partials(out)
            .into_iter()
            .find(|(_, pid)| process_alive(*pid) == Some(true))
        {
            return Err(Error::usage(format!(
                "{flag} {}: another droplab (process {pid}) is writing it; wait for it to \
                 finish or choose another directory",
                out.display()
            )));
        }
        let earlier = leftovers(out);
        if !resume {
            for dir in &earlier {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        let (parent, prefix) = staging_prefix(out);
        std::fs::create_dir_all(&parent).map_err(|e| {
            Error::usage(format!(
                "{flag} {}: cannot create {}: {e}",
                out.display(),
                parent.display()
            ))
        })?;
        let dir = parent.join(format!("{prefix}{}", std::process::id()));
        std::fs::create_dir(&dir)
            .map_err(|e| Error::usage(format!("{flag} {}: cannot write there: {e}", out.display())))?;
        if let Ok(mut active) = ACTIVE.lock() {
            active.push(dir.clone());
        }
        let staging = Staging {
            dir,
            out: out.to_path_buf(),
            committed: false,
        };
        Ok((staging, if resume { earlier } else { Vec::new() }))
    }

    /// Writes a file into the staging directory.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::runtime(format!("{}: {e}", path.display())))
    }

    /// The staging directory (for nested runs).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Renames the staging directory to its final name.
    pub fn commit(mut self) -> Result<PathBuf> {
        std::fs::rename(&self.dir, &self.out)
            .map_err(|e| Error::runtime(format!("{}: cannot finish writing: {e}", self.out.display())))?;
        self.committed = true;
        forget_active(&self.dir);
        Ok(self.out.clone())
    }
}

/// The directory `out` is in (`.` for a bare name) and its name: where the hidden files that
/// belong to it (staging directories, checkpoints) go, and what they are named after.
pub(crate) fn parent_and_name(out: &Path) -> (PathBuf, String) {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "run".into());
    (parent.to_path_buf(), name)
}

/// The directory a staging directory for `out` lives in, and its name without the PID.
fn staging_prefix(out: &Path) -> (PathBuf, String) {
    let (parent, name) = parent_and_name(out);
    (parent, format!(".{name}.partial-"))
}

/// Every staging directory for `out` of another process, with that process's id, sorted.
pub fn partials(out: &Path) -> Vec<(PathBuf, u32)> {
    let (parent, prefix) = staging_prefix(out);
    let mut found: Vec<(PathBuf, u32)> = std::fs::read_dir(&parent)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.strip_prefix(&prefix)?.parse().ok()?;
            (pid != std::process::id()).then(|| (e.path(), pid))
        })
        .collect();
    found.sort();
    found
}

/// Whether process `pid` is running, where that can be told (Linux); `None` elsewhere.
pub fn process_alive(pid: u32) -> Option<bool> {
    cfg!(target_os = "linux").then(|| Path::new("/proc").join(pid.to_string()).exists())
}

/// Staging directories for `out` that interrupted runs left behind: their process is gone
/// (on Linux; elsewhere every one but this process's own is taken to be).
pub fn leftovers(out: &Path) -> Vec<PathBuf> {
    partials(out)
        .into_iter()
        .filter(|(_, pid)| process_alive(*pid) != Some(true))
        .map(|(p, _)| p)
        .collect()
}

/// The first entry `name` among the interrupted runs' directories that `check` accepts, moved
/// to `dest`: the directory it came from and what `check` read. Entries it refuses stay put.
pub fn take_from<T>(
    earlier: &[PathBuf],
    name: &str,
    dest: &Path,
    check: impl Fn(&Path) -> Option<T>,
) -> Option<(PathBuf, T)> {
    earlier.iter().find_map(|dir| {
        let src = dir.join(name);
        let found = check(&src)?;
        std::fs::rename(&src, dest).ok()?;
        Some((dir.clone(), found))
    })
}

/// Removes an interrupted run's directory once every finished part has been taken from it:
/// what is left is the unfinished part's own staging directory.
pub fn forget(dir: &Path) {
    let entries: Vec<_> = std::fs::read_dir(dir).into_iter().flatten().flatten().collect();
    let unfinished = |e: &std::fs::DirEntry| {
        e.file_name()
            .to_str()
            .is_some_and(|n| n.starts_with('.') && n.contains(".partial-"))
    };
    if entries.iter().all(unfinished) {
        for e in entries {
            let _ = std::fs::remove_dir_all(e.path());
        }
        let _ = std::fs::remove_dir(dir);
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
            forget_active(&self.dir);
        }
    }
}

/// Writes one file atomically: `PATH.partial` beside it, then renamed, so a reader never sees
/// a half-written file under its final name. Creates the parent directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}
