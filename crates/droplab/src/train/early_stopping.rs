//! Early stopping: stop when the monitored metric has not improved by more than `min_delta`
//! for `patience` epochs (counted from `start_from_epoch`). The trainer then restores the
//! weights of the best epoch, chosen by the same rule (Keras's `restore_best_weights`): the
//! last epoch that improved on the best by more than `min_delta`, so a stopped run has
//! `best_epoch + patience` epochs.

use serde::{Deserialize, Serialize};

use super::EpochMetrics;
use crate::error::{Result, check};

/// The metric early stopping watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// Validation loss (lower is better); the training loss when there is no validation set.
    #[default]
    ValLoss,
    /// Validation accuracy (higher is better).
    ValAccuracy,
}

impl Monitor {
    /// Parses the CLI spelling.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "val_loss" => Ok(Monitor::ValLoss),
            "val_accuracy" => Ok(Monitor::ValAccuracy),
            _ => Err(crate::Error::config(
                "monitor",
                format!("unknown metric '{s}' (valid: val_loss, val_accuracy)"),
            )),
        }
    }

    /// The monitored value of an epoch.
    pub fn value(self, m: &EpochMetrics) -> f64 {
        match self {
            Monitor::ValLoss if m.val_loss.is_nan() => m.train_loss,
            Monitor::ValLoss => m.val_loss,
            Monitor::ValAccuracy if m.val_accuracy.is_nan() => m.train_accuracy,
            Monitor::ValAccuracy => m.val_accuracy,
        }
    }

    /// How much `new` improves on `best` (positive = better).
    pub fn improvement(self, best: f64, new: f64) -> f64 {
        match self {
            Monitor::ValLoss => best - new,
            Monitor::ValAccuracy => new - best,
        }
    }
}

/// Early-stopping settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarlyStoppingConfig {
    /// The metric to watch.
    pub monitor: Monitor,
    /// Smallest change that counts as an improvement.
    pub min_delta: f64,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Epochs (1-based) before this one never count against patience.
    pub start_from_epoch: usize,
}

impl Default for EarlyStoppingConfig {
    fn default() -> Self {
        EarlyStoppingConfig {
            monitor: Monitor::ValLoss,
            min_delta: 0.0,
            patience: 10,
            start_from_epoch: 0,
        }
    }
}

impl EarlyStoppingConfig {
    /// Checks the fields.
    pub fn validate(&self) -> Result<()> {
        check::non_negative("early_stopping.min_delta", self.min_delta)?;
        check::positive("early_stopping.patience", self.patience as f64)?;
        Ok(())
    }
}

/// The running state of early stopping.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    config: EarlyStoppingConfig,
    best: f64,
    wait: usize,
}

impl EarlyStopping {
    /// A fresh state.
    pub fn new(config: EarlyStoppingConfig) -> Self {
        EarlyStopping {
            config,
            best: f64::NAN,
            wait: 0,
        }
    }

    /// The best monitored value so far (NaN before the first epoch) and the epochs since.
    pub(crate) fn progress(&self) -> (f64, usize) {
        (self.best, self.wait)
    }

    /// Restores what [`EarlyStopping::progress`] returned.
    pub(crate) fn restore(&mut self, best: f64, wait: usize) {
        (self.best, self.wait) = (best, wait);
    }

    /// Records an epoch; true when training should stop now.
    pub fn should_stop(&mut self, m: &EpochMetrics) -> bool {
        let v = self.config.monitor.value(m);
        if self.best.is_nan() || self.config.monitor.improvement(self.best, v) > self.config.min_delta {
            self.best = v;
            self.wait = 0;
            return false;
        }
        if m.epoch < self.config.start_from_epoch {
            return false;
        }
        self.wait += 1;
        self.wait >= self.config.patience
    }
}
