//! The run record (`record.json`): what a finished run directory says about itself.

use std::path::Path;

use droplab::train::EpochMetrics;
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::data::Scaler;
use crate::error::{Error, Result};

/// The record's format version; readers accept this one and older.
pub const RECORD_VERSION: u32 = 1;

/// Sizes and shape of the data a run used.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataInfo {
    pub dataset: String,
    pub train: usize,
    pub val: usize,
    pub test: usize,
    pub features: usize,
    pub classes: usize,
}

/// Loss and accuracy on the test set.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct TestMetrics {
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub loss: f64,
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub accuracy: f64,
}

/// Everything a run leaves behind besides its weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub record_version: u32,
    pub droplab_version: String,
    pub seed: u64,
    pub config: RunConfig,
    pub data: DataInfo,
    /// One line per layer.
    pub model: Vec<String>,
    pub parameters: usize,
    pub history: Vec<EpochMetrics>,
    pub best_epoch: usize,
    pub stopped_early: bool,
    pub diverged: bool,
    /// The divergence message, if any.
    pub divergence: Option<String>,
    pub test: TestMetrics,
    /// Scaling fitted on the training split.
    pub scaler: Scaler,
    /// sha256 of model.safetensors.
    pub model_sha256: String,
    /// Threads used.
    pub threads: usize,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// Known pitfalls of the model (dropout feeding batch norm, ...), one line each.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl RunRecord {
    /// Reads `DIR/record.json`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("record.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::usage(format!(
                "{}: {e} (is {} a run directory written by `droplab train`?)",
                path.display(),
                dir.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| Error::usage(format!("{}: {e}", path.display())))
    }
}
