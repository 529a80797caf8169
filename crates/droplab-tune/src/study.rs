//! A study: the base config, the space searched over it, and how trials are run and scored.

use serde::{Deserialize, Serialize};

use crate::error::{Result, TuneError};
use crate::sampler::{SamplerConfig, SamplerKind};
use crate::space::{Params, Space, set_path};

/// Median pruning (as Optuna's `MedianPruner`): after an epoch, a trial whose validation score
/// at this fold and epoch is below the median of the finished trials' scores at the same fold
/// and epoch stops.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PruneConfig {
    /// Finished trials needed before any pruning.
    pub startup_trials: usize,
    /// Epochs of each fold never pruned.
    pub warmup_epochs: usize,
}

impl Default for PruneConfig {
    fn default() -> Self {
        PruneConfig {
            startup_trials: 5,
            warmup_epochs: 2,
        }
    }
}

/// Everything a worker needs to run trials of a study; stored with the study, so that
/// `droplab worker --store URL --study NAME` needs nothing else.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudySpec {
    /// The study's name, unique in its store.
    pub name: String,
    /// The base run config (TOML) the parameters are set on.
    pub base: String,
    /// The searched fields (full dotted paths).
    pub space: Space,
    /// The sampler.
    pub sampler: SamplerConfig,
    /// Trials to run (a grid runs at most its size).
    pub trials: usize,
    /// Cross-validation folds.
    pub folds: usize,
    /// Stratified folds (each fold keeps the class proportions).
    pub stratified: bool,
    /// Seed of the folds and the samplers.
    pub seed: u64,
    /// Median pruning, if on.
    pub prune: Option<PruneConfig>,
}

impl StudySpec {
    /// Checks the options; returns the number of trials the study will run.
    pub fn validate(&self) -> Result<usize> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(TuneError::Config(format!(
                "--name '{}': use letters, digits, '-', '_' or '.'",
                self.name
            )));
        }
        if self.space.params.is_empty() {
            return Err(TuneError::Config(
                "no search space: give --space PATH=DIST (e.g. --space 'dropout.hidden=uniform(0.1,0.7)') or a [tune.space] table"
                    .into(),
            ));
        }
        if self.folds < 2 {
            return Err(TuneError::Config(format!(
                "--folds {}: cross-validation needs at least 2 folds",
                self.folds
            )));
        }
        if self.trials == 0 {
            return Err(TuneError::Config("--trials 0: run at least one trial".into()));
        }
        if self.sampler.kind == SamplerKind::Grid && self.sampler.grid_points < 2 {
            return Err(TuneError::Config("--grid-points: at least 2".into()));
        }
        Ok(self.trial_limit())
    }

    /// The number of trials the study runs.
    pub fn trial_limit(&self) -> usize {
        match self.sampler.grid_size(&self.space) {
            Some(g) => g.min(self.trials),
            None => self.trials,
        }
    }

    /// The base config with a trial's values set.
    pub fn config_for(&self, params: &Params) -> Result<toml::Table> {
        let mut t: toml::Table = toml::from_str(&self.base)
            .map_err(|e| TuneError::Config(format!("the study's base config: {}", e.message())))?;
        for (path, v) in params {
            set_path(&mut t, path, v)?;
        }
        Ok(t)
    }

    /// What differs from another spec of the same name, if anything (for a clear error when a
    /// study is re-opened with other settings).
    pub fn difference(&self, other: &StudySpec) -> Option<String> {
        if self.space != other.space {
            let show = |s: &Space| {
                s.params
                    .iter()
                    .map(|p| format!("{}={}", p.path, p.dist.describe()))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            return Some(format!(
                "a different search space (stored: {}; given: {})",
                show(&other.space),
                show(&self.space)
            ));
        }
        if self.sampler != other.sampler {
            return Some(format!(
                "a different sampler (stored: {}; given: {})",
                other.sampler.kind.name(),
                self.sampler.kind.name()
            ));
        }
        if self.folds != other.folds || self.stratified != other.stratified || self.seed != other.seed {
            return Some("different folds or seed".into());
        }
        if self.base != other.base {
            return Some("a different base config".into());
        }
        if self.trials != other.trials || self.prune != other.prune {
            return Some("a different trial count or pruning".into());
        }
        None
    }
}

/// One epoch of one fold, as a trial reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochScore {
    /// The fold's index, from 0.
    pub fold: usize,
    /// 1-based.
    pub epoch: usize,
    /// Validation score after this epoch; higher is better.
    pub val_score: f64,
    /// Training score after this epoch; higher is better.
    pub train_score: f64,
    /// Validation loss after this epoch.
    pub val_loss: f64,
}

/// The result of one fold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldScore {
    /// The fold's index, from 0.
    pub fold: usize,
    /// Validation score at the best epoch.
    pub score: f64,
    /// Training score at that epoch (the gap is `train_score - score`).
    pub train_score: f64,
    /// The epoch with the best validation score, 1-based.
    pub best_epoch: usize,
    /// Wall-clock seconds the fold took to train.
    pub seconds: f64,
}

/// The median of a non-empty list.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
