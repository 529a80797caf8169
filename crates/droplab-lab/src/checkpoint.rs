//! A training run's checkpoint on disk: one safetensors file beside the run's output,
//! `.NAME.checkpoint.safetensors` (`.NAME.checkpoint-PART.safetensors` for the runs of a
//! group, such as a `paper run`'s seeds), replaced atomically after every epoch and removed
//! once the run directory is written. Its tensors are [`droplab::train::Checkpoint`]'s; its
//! metadata holds the scalar state (JSON), the run's resolved config (TOML) and the seconds
//! trained so far.
//!
//! It lives outside the staging directory on purpose: a signal handler removes staging
//! directories, and a killed process leaves its staging directory to be cleaned by the next
//! command, but the checkpoint stays for `--resume`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use droplab::tensor::Tensor;
use droplab::train::{Checkpoint, FitState};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::config::RunConfig;
use crate::error::{Error, Result, io_err};
use crate::staging::write_atomic;

/// Held while a checkpoint is written; a signal handler takes it so that the process ends
/// between writes, never inside one. Holds the last checkpoint this process wrote.
static WRITING: Mutex<Option<Saved>> = Mutex::new(None);

/// The last checkpoint this process wrote.
#[derive(Clone, Debug)]
pub struct Saved {
    /// Its file.
    pub path: PathBuf,
    /// The epochs it holds.
    pub epochs: usize,
}

/// Waits for a checkpoint being written to be complete and keeps any other from starting;
/// returns the last one written. For a signal handler about to end the process.
pub fn finish_writes() -> (MutexGuard<'static, Option<Saved>>, Option<Saved>) {
    let guard = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    let last = guard.clone();
    (guard, last)
}

/// The checkpoint file of the run written to `out` (`part` names one run of a group).
pub fn beside(out: &Path, part: Option<&str>) -> PathBuf {
    let (parent, name) = crate::staging::parent_and_name(out);
    match part {
        Some(p) => parent.join(format!(".{name}.checkpoint-{p}.safetensors")),
        None => parent.join(format!(".{name}.checkpoint.safetensors")),
    }
}

/// Every checkpoint file of the group written to `out` (its parts), sorted.
pub fn parts_of(out: &Path) -> Vec<PathBuf> {
    let single = beside(out, None);
    let (Some(parent), Some(stem)) = (single.parent(), single.file_name()) else {
        return Vec::new();
    };
    let prefix = stem.to_string_lossy().replace(".safetensors", "-");
    let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// What a checkpoint file holds.
pub struct Stored {
    /// The fit's state.
    pub checkpoint: Checkpoint,
    /// The run's resolved config.
    pub config: RunConfig,
    /// Seconds trained before the checkpoint.
    pub seconds: f64,
}

/// Writes `checkpoint` of a run of `config` to `path` atomically (a reader, or a process
/// killed mid-write, never leaves a half-written file under the name).
pub fn save(path: &Path, checkpoint: &Checkpoint, config: &RunConfig, seconds: f64) -> Result {
    let state = serde_json::to_string(&checkpoint.state)
        .map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    let meta = HashMap::from([
        ("state".to_string(), state),
        ("config".to_string(), config.to_toml()),
        ("seconds".to_string(), format!("{seconds}")),
        ("droplab_version".to_string(), droplab::VERSION.to_string()),
    ]);
    let bytes: Vec<Vec<u8>> = checkpoint
        .tensors
        .iter()
        .map(|(_, t)| t.data().iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let mut views = Vec::new();
    for ((name, t), b) in checkpoint.tensors.iter().zip(&bytes) {
        let view = TensorView::new(Dtype::F32, t.shape().to_vec(), b)
            .map_err(|e| Error::runtime(format!("{}: tensor '{name}': {e}", path.display())))?;
        views.push((name.clone(), view));
    }
    let file = safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    let mut last = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    write_atomic(path, &file)?;
    *last = Some(Saved {
        path: path.to_path_buf(),
        epochs: checkpoint.state.epochs_done,
    });
    Ok(())
}

/// Reads the checkpoint at `path`, `None` when there is none. A file that is not a
/// checkpoint is an error naming it.
pub fn load(path: &Path) -> Result<Option<Stored>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path, e)),
    };
    parse(path, &bytes).map(Some)
}

/// Reads a checkpoint from the file's bytes (`path` names it in errors).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Stored> {
    let bad = |what: String| {
        Error::usage(format!(
            "{}: not a usable checkpoint ({what}); remove it to start the run over",
            path.display()
        ))
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let field = |k: &str| {
        meta.get(k)
            .ok_or_else(|| bad(format!("no '{k}' in its metadata")))
    };
    let state: FitState = serde_json::from_str(field("state")?).map_err(|e| bad(format!("state: {e}")))?;
    let config = RunConfig::parse(&path.display().to_string(), field("config")?)?;
    let seconds: f64 = field("seconds")?
        .parse()
        .map_err(|_| bad("seconds is not a number".into()))?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
    let mut tensors = Vec::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(bad(format!("tensor '{name}' is {:?}, not F32", view.dtype())));
        }
        let data: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let t = Tensor::from_vec(view.shape(), data).map_err(|e| bad(format!("tensor '{name}': {e}")))?;
        tensors.push((name, t));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Stored {
        checkpoint: Checkpoint { state, tensors },
        config,
        seconds,
    })
}

/// Removes the checkpoint at `path` (a finished run's), and what a write killed midway left.
pub fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let _ = std::fs::remove_file(tmp);
}
