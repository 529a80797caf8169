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
    /// The dataset, as the config names it.
    pub dataset: String,
    /// Training examples.
    pub train: usize,
    /// Validation examples.
    pub val: usize,
    /// Test examples.
    pub test: usize,
    /// Features per example (all dimensions but the first).
    pub features: usize,
    /// Classes (0 for regression).
    pub classes: usize,
}

/// Loss and accuracy on the test set.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct TestMetrics {
    /// Mean loss.
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub loss: f64,
    /// Accuracy (NaN for regression).
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub accuracy: f64,
    /// Regression: root mean squared error, in the targets' units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    /// Regression: the coefficient of determination R² on the test split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
}

/// Everything a run leaves behind besides its weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// The record format's version.
    pub record_version: u32,
    /// The droplab version that wrote it.
    pub droplab_version: String,
    /// The root seed.
    pub seed: u64,
    /// The resolved run config.
    pub config: RunConfig,
    /// What the data was.
    pub data: DataInfo,
    /// One line per layer.
    pub model: Vec<String>,
    /// Trainable parameters.
    pub parameters: usize,
    /// Metrics of every epoch.
    pub history: Vec<EpochMetrics>,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Whether training diverged.
    pub diverged: bool,
    /// The divergence message, if any.
    pub divergence: Option<String>,
    /// Test loss and accuracy of the kept weights.
    pub test: TestMetrics,
    /// Test loss and accuracy of the last epoch's weights, when early stopping kept another
    /// epoch's (`best_epoch`) instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_last_epoch: Option<TestMetrics>,
    /// Scaling fitted on the training split.
    pub scaler: Scaler,
    /// What raw inputs are divided by before the scaler (pixels: 16 for the digits, 255 for
    /// IDX images; 1 otherwise). Absent in records written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_divisor: Option<f32>,
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
