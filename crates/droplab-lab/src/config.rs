//! The run config: one TOML document with every setting of a run, and the flags that override
//! it. `config.toml` in a run directory is this struct after resolution; given back to
//! `--config` it reproduces the run bit for bit (same seed, same threads, same data).

use droplab::model::ModelConfig;
use droplab::train::TrainConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where the data comes from and how it is split and scaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// digits | mnist | fashion-mnist | japanese-vowels | csv:PATH | idx:DIR | ts:TRAIN.ts,TEST.ts
    pub dataset: String,
    /// Directory of fetched datasets.
    pub data_dir: String,
    /// CSV label column: a name or a 0-based index; empty = the last column.
    pub label: String,
    /// Train on a stratified subset of this many examples (0 = all).
    pub train_size: usize,
    /// Validation share of a dataset without a fixed split (digits, CSV), or of the training
    /// file of a sequence dataset (stratified).
    pub val_fraction: f64,
    /// Test share of a dataset without a fixed split (digits, CSV).
    pub test_fraction: f64,
    /// Validation examples held out from the end of an IDX training file (MNIST: 10,000).
    pub val_size: usize,
    /// none | standardize | minmax, fitted on the training split only.
    pub scaling: String,
    /// What the labels are: class labels, real-valued targets (a regression, trained with
    /// squared error), or `auto` (the default): classes, except for the UCI sets.
    #[serde(skip_serializing_if = "Task::is_auto")]
    pub task: Task,
}

/// What a dataset's labels are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Decided by the dataset: regression for `uci:SET`, classification for the rest.
    #[default]
    Auto,
    /// Class labels (softmax cross-entropy).
    Classification,
    /// Real-valued targets (squared error, RMSE and R²).
    Regression,
}

impl Task {
    /// Whether this is `auto` (not written into a config).
    pub fn is_auto(&self) -> bool {
        *self == Task::Auto
    }

    /// Parses the spelling of configs and flags.
    pub fn parse(s: &str) -> Option<Task> {
        match s {
            "auto" => Some(Task::Auto),
            "classification" => Some(Task::Classification),
            "regression" => Some(Task::Regression),
            _ => None,
        }
    }
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dataset: "digits".into(),
            data_dir: "data".into(),
            label: String::new(),
            train_size: 0,
            val_fraction: 0.2,
            test_fraction: 0.2,
            val_size: 10_000,
            scaling: "none".into(),
            task: Task::Auto,
        }
    }
}

/// Where a recipe comes from and the number it reproduces (recipes only; ignored by training).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecipeInfo {
    /// The recipe's name (its file name without `.toml`).
    pub name: String,
    /// Paper and table or figure.
    pub source: String,
    /// The row or setting of that table.
    pub row: String,
    /// The published test error, in percent.
    pub published_test_error: Option<f64>,
    /// A UCI regression benchmark in the protocol of Gal & Ghahramani 2016.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uci: Option<UciProtocol>,
}

/// The protocol of Gal & Ghahramani 2016 on one UCI set (`data.dataset = "uci:SET"`): on each
/// train/test split, every (dropout rate, tau) of the set's grid is trained on the first
/// `1 - validation_fraction` of the training rows and scored by Monte Carlo log-likelihood on
/// the rest; the best pair is retrained on all training rows and scored on the test rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UciProtocol {
    /// The published test RMSE: mean and standard error over splits.
    pub published_rmse: Option<[f64; 2]>,
    /// The published test log-likelihood: mean and standard error over splits.
    pub published_ll: Option<[f64; 2]>,
    /// Monte Carlo passes at validation and test time.
    pub mc_samples: usize,
    /// Share of each split's training rows (the last ones) held out to choose the grid point.
    pub validation_fraction: f64,
    /// Prior length-scale `l`: the L2 weight is `l^2 (1 - p) / (2 N tau)` (the paper's eq. 7),
    /// in Keras' convention of `reg * sum w^2`.
    pub lengthscale: f64,
}

impl Default for UciProtocol {
    fn default() -> Self {
        UciProtocol {
            published_rmse: None,
            published_ll: None,
            mc_samples: 10_000,
            validation_fraction: 0.2,
            lengthscale: 0.01,
        }
    }
}

/// Everything a run needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Root seed: weights, shuffles, masks and splits derive from it.
    pub seed: u64,
    /// Threads (0 = all cores). Part of the config because GEMM sums in a thread-dependent order.
    pub threads: usize,
    /// Data.
    pub data: DataConfig,
    /// The network.
    pub model: ModelConfig,
    /// The training procedure.
    pub train: TrainConfig,
    /// Set in the recipes that reproduce published results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipe: Option<RecipeInfo>,
}

impl RunConfig {
    /// Parses TOML text (`name` appears in errors).
    pub fn parse(name: &str, text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            let msg = e.message().replace('\n', " ");
            let line = e
                .span()
                .map(|s| format!(":{}", text[..s.start.min(text.len())].lines().count().max(1)))
                .unwrap_or_default();
            Error::usage(format!("{name}{line}: {msg}"))
        })
    }

    /// Replaces `threads = 0` (all cores) by the actual count: GEMM sums in a thread-dependent
    /// order, so a resolved config must name it to reproduce the run bit for bit elsewhere.
    pub fn pin_threads(&mut self) {
        if self.threads == 0 {
            self.threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        }
    }

    /// The TOML text of this config.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a RunConfig always serializes")
    }

    /// The settings (dotted TOML paths) whose values differ between `self` and `other`, each
    /// with its two values as TOML writes them, sorted.
    pub fn differences(&self, other: &RunConfig) -> Vec<(String, String, String)> {
        fn flat(prefix: &str, v: &toml::Value, out: &mut std::collections::BTreeMap<String, String>) {
            match v {
                toml::Value::Table(t) => {
                    for (k, v) in t {
                        let key = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        flat(&key, v, out);
                    }
                }
                v => {
                    out.insert(prefix.to_string(), v.to_string());
                }
            }
        }
        let table = |c: &RunConfig| {
            let mut m = std::collections::BTreeMap::new();
            flat(
                "",
                &toml::Value::try_from(c).expect("a RunConfig always serializes"),
                &mut m,
            );
            m
        };
        let (a, b) = (table(self), table(other));
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let unset = || "(unset)".to_string();
        keys.into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .map(|k| {
                let (x, y) = (a.get(k).cloned(), b.get(k).cloned());
                (k.clone(), x.unwrap_or_else(unset), y.unwrap_or_else(unset))
            })
            .collect()
    }

    /// Checks every rule of the model and the training procedure (each rule lives in the
    /// config type it constrains: [`ModelConfig::validate`], [`TrainConfig::validate`]).
    ///
    /// # Errors
    /// The first rule broken, naming its field and the bad value.
    pub fn validate(&self) -> Result<()> {
        if self.threads > crate::limits::MAX_THREADS {
            return Err(Error::usage(format!(
                "threads: {} is more than droplab uses ({} at most; 0 takes every core)",
                self.threads,
                crate::limits::MAX_THREADS
            )));
        }
        self.model.validate()?;
        self.train.validate()?;
        Ok(())
    }

    /// Whether the dotted `path` names a setting of this config: a field at every level, as
    /// serde names them, of this config or of one with every optional setting present. A
    /// path below an optional setting that is unset here (`train.early_stopping.patience`)
    /// names a setting too; whether it takes a value is for parsing to say.
    pub fn has_setting(&self, path: &str) -> bool {
        let walk = |tree: &serde_json::Value| {
            let mut node = tree;
            for seg in path.split('.') {
                node = match node {
                    serde_json::Value::Object(fields) => match fields.get(seg) {
                        Some(next) => next,
                        None => return false,
                    },
                    serde_json::Value::Null => return true,
                    _ => return false,
                };
            }
            true
        };
        [self.clone(), Self::every_setting()]
            .iter()
            .filter_map(|c| serde_json::to_value(c).ok())
            .any(|tree| walk(&tree))
    }

    /// A config with every setting that is left out when unset (or at its default) present,
    /// so that its serialization lists every field.
    fn every_setting() -> RunConfig {
        let mut c = RunConfig::default();
        c.model.layers = Some(String::new());
        c.model.recurrent = Some(String::new());
        c.model.input_shape = vec![0];
        c.model.regularization.max_norm = Some(0.0);
        c.train.early_stopping = Some(Default::default());
        c.train.augment.flip = true;
        c
    }

    /// The config, checked ([`RunConfig::validate`], and [`crate::limits::check`]: the
    /// memory its model will need, before anything is allocated): the only way to a
    /// [`ValidRun`], which is what a training run takes (in the spirit of linfa's
    /// `ParamGuard`).
    pub fn check(self) -> Result<ValidRun> {
        self.validate()?;
        crate::limits::check(&self)?;
        Ok(ValidRun(self))
    }
}

/// A run config whose rules have all been checked, made by [`RunConfig::check`]; it reads as
/// the config it wraps.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidRun(RunConfig);

impl ValidRun {
    /// The config back, to change it (it must be checked again to train).
    pub fn into_inner(self) -> RunConfig {
        self.0
    }
}

impl std::ops::Deref for ValidRun {
    type Target = RunConfig;

    fn deref(&self) -> &RunConfig {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_found_by_the_configs_own_field_names() {
        let c = RunConfig::default();
        for path in [
            "seed",
            "model.dropout.hidden",
            "model.regularization.l2",
            "model.regularization.max_norm",
            "model.layers",
            "train.optimizer.lr",
            "train.epochs",
            "train.early_stopping.patience",
            "train.augment.shift",
            "data.val_fraction",
        ] {
            assert!(c.has_setting(path), "{path}");
        }
        for path in [
            "dropout.hidden",
            "model.dropout.hiden",
            "train.optimizer.lrr",
            "model.widths.x",
            "train.epochs.x",
            "lr",
        ] {
            assert!(!c.has_setting(path), "{path}");
        }
    }
}
