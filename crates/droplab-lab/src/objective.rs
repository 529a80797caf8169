//! The objective a tuning worker runs: a trial's run config trained on one fold of k-fold
//! cross-validation over the training and validation splits (the test split is never read).

use std::time::Instant;

use droplab::data::Dataset;
use droplab::data::split::{kfold, stratified_kfold};
use droplab::tensor::Threads;
use droplab::train::{EpochMetrics, FitSpec, fit_until};
use droplab_tune::worker::FoldError;
use droplab_tune::{EpochScore, FoldScore, Objective, Params, StudySpec};

use crate::config::RunConfig;
use crate::data as dataset;
use crate::error::{Error, Result};

/// A run config from a study's base with a trial's values set.
pub fn trial_config(spec: &StudySpec, params: &Params) -> Result<RunConfig> {
    let table = spec.config_for(params).map_err(Error::usage)?;
    toml::Value::Table(table)
        .try_into::<RunConfig>()
        .map_err(|e| Error::usage(format!("trial config: {}", e.to_string().replace('\n', " "))))
}

/// The pool a study's folds split, and the folds, for one data config.
struct Folds {
    key: String,
    pool: Dataset,
    folds: Vec<(Vec<usize>, Vec<usize>)>,
}

/// K-fold cross-validation of run configs. The score is the validation accuracy at the best
/// epoch (by the config's monitor, validation loss by default) for classification, minus the
/// validation loss for regression.
pub struct CvObjective {
    spec: StudySpec,
    threads: Option<usize>,
    data: Option<Folds>,
}

impl CvObjective {
    /// The objective of `spec`'s study, training on `threads` threads (the config's own count
    /// when `None`).
    pub fn new(spec: &StudySpec, threads: Option<usize>) -> Self {
        CvObjective {
            spec: spec.clone(),
            threads,
            data: None,
        }
    }

    fn folds(&mut self, cfg: &RunConfig) -> Result<&Folds> {
        let key = format!("{}|{}", toml::to_string(&cfg.data).unwrap_or_default(), cfg.seed);
        if self.data.as_ref().is_none_or(|d| d.key != key) {
            let pool = dataset::cv_pool(&cfg.data, cfg.seed)?;
            let folds = if self.spec.stratified {
                stratified_kfold(&pool.y, self.spec.folds, self.spec.seed)?
            } else {
                kfold(pool.len(), self.spec.folds, self.spec.seed)?
            };
            self.data = Some(Folds { key, pool, folds });
        }
        Ok(self.data.as_ref().expect("just set"))
    }

    fn fold(
        &mut self,
        params: &Params,
        fold: usize,
        on_epoch: &mut dyn FnMut(&EpochScore) -> bool,
    ) -> Result<Option<FoldScore>> {
        let mut cfg = trial_config(&self.spec, params)?;
        if let Some(t) = self.threads {
            cfg.threads = t;
        }
        let cfg = cfg.check()?;
        let d = self.folds(&cfg)?;
        let (tr, va) = &d.folds[fold];
        let (mut train, mut val) = (d.pool.select(tr), d.pool.select(va));
        let scaler = dataset::fit_scaler(&cfg.data.scaling, &train)?;
        scaler.apply(&mut train)?;
        scaler.apply(&mut val)?;
        let threads = Threads::new((cfg.threads > 0).then_some(cfg.threads))?;
        let mut model = cfg.model.build(cfg.seed)?;
        let classification = train.classes > 0;
        let score = move |m: &EpochMetrics| -> (f64, f64) {
            if classification {
                (m.val_accuracy, m.train_accuracy)
            } else {
                (-m.val_loss, -m.train_loss)
            }
        };
        let start = Instant::now();
        let report = fit_until(
            &mut model,
            &train,
            FitSpec::new(&cfg.train, &threads).seed(cfg.seed).validation(&val),
            &mut |_| {},
            &mut |m| {
                let (v, t) = score(m);
                on_epoch(&EpochScore {
                    fold,
                    epoch: m.epoch,
                    val_score: v,
                    train_score: t,
                    val_loss: m.val_loss,
                })
            },
        )?;
        if let Some(e) = report.diverged {
            return Err(Error::runtime(format!("fold {fold}: {e}")));
        }
        if report.interrupted {
            return Ok(None);
        }
        let best = report.best_epoch.max(1);
        let m = &report.history[best - 1];
        let (v, t) = score(m);
        Ok(Some(FoldScore {
            fold,
            score: v,
            train_score: t,
            best_epoch: best,
            seconds: start.elapsed().as_secs_f64(),
        }))
    }
}

impl Objective for CvObjective {
    fn run_fold(
        &mut self,
        params: &Params,
        fold: usize,
        on_epoch: &mut dyn FnMut(&EpochScore) -> bool,
    ) -> std::result::Result<Option<FoldScore>, FoldError> {
        Ok(self.fold(params, fold, on_epoch)?)
    }
}
