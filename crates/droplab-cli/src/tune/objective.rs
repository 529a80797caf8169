//! The objective a worker runs: a trial's config trained on one cross-validation fold, and
//! `droplab worker`.

use std::time::Instant;

use droplab::data::Dataset;
use droplab::data::split::{kfold, stratified_kfold};
use droplab::tensor::Threads;
use droplab::train::{EpochMetrics, fit_until};
use droplab_tune::{EpochScore, FoldScore, Objective, Params, StudySpec, WorkerEvent, WorkerOptions};

use crate::cli::WorkerArgs;
use crate::error::{CliError, CliResult};
use droplab_lab::config::RunConfig;
use droplab_lab::data as dataset;

/// A run config from a study's base with a trial's values set.
pub fn trial_config(spec: &StudySpec, params: &Params) -> Result<RunConfig, String> {
    let table = spec.config_for(params).map_err(|e| e.to_string())?;
    toml::Value::Table(table)
        .try_into::<RunConfig>()
        .map_err(|e| format!("trial config: {}", e.to_string().replace('\n', " ")))
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
    pub fn new(spec: &StudySpec, threads: Option<usize>) -> Self {
        CvObjective {
            spec: spec.clone(),
            threads,
            data: None,
        }
    }

    fn folds(&mut self, cfg: &RunConfig) -> CliResult<&Folds> {
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
    ) -> CliResult<Option<FoldScore>> {
        let mut cfg = trial_config(&self.spec, params).map_err(CliError::usage)?;
        if let Some(t) = self.threads {
            cfg.threads = t;
        }
        cfg.model.validate()?;
        cfg.train.validate()?;
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
            &cfg.train,
            cfg.seed,
            &threads,
            &train,
            Some(&val),
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
            return Err(CliError::runtime(format!("fold {fold}: {e}")));
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
    ) -> Result<Option<FoldScore>, String> {
        self.fold(params, fold, on_epoch).map_err(|e| match e {
            CliError::Usage(m) | CliError::Runtime(m) => m,
        })
    }
}

/// `droplab worker`: serves a study until it has no trial left.
pub fn worker(args: &WorkerArgs) -> CliResult {
    let heartbeat = args.heartbeat_secs.unwrap_or((args.stale_secs / 4.0).min(10.0));
    if !(heartbeat > 0.0 && args.stale_secs > heartbeat) {
        return Err(CliError::usage(format!(
            "--stale-secs {} must exceed --heartbeat-secs {heartbeat} (a live worker must beat before it is presumed dead)",
            args.stale_secs
        )));
    }
    let opts = WorkerOptions {
        stale_secs: args.stale_secs,
        heartbeat_secs: heartbeat,
        ..WorkerOptions::default()
    };
    let threads = args.threads;
    let quiet = args.quiet;
    let summary = droplab_tune::run_worker(
        &args.store,
        &args.study,
        &opts,
        &mut |spec| Ok(Box::new(CvObjective::new(spec, threads))),
        &mut |e| {
            if quiet {
                return;
            }
            match e {
                WorkerEvent::Started {
                    number,
                    params,
                    resumed_folds,
                } => eprintln!(
                    "trial {number} started: {}{}",
                    super::show_params(params),
                    if *resumed_folds > 0 {
                        format!(" (resuming after {resumed_folds} finished folds)")
                    } else {
                        String::new()
                    }
                ),
                WorkerEvent::Ended {
                    number,
                    state,
                    score,
                    seconds,
                } => eprintln!(
                    "trial {number} {}: score {}  ({seconds:.1}s)",
                    state.name(),
                    score.map(|s| format!("{s:.4}")).unwrap_or_else(|| "-".into())
                ),
                WorkerEvent::Lost { number } => {
                    eprintln!("trial {number}: taken back by the store (this worker was presumed dead); result dropped")
                }
            }
        },
    )
    .map_err(super::tune_err)?;
    if !quiet {
        eprintln!(
            "worker done: {} trials ({} done, {} pruned, {} failed, {} taken back)",
            summary.trials, summary.done, summary.pruned, summary.failed, summary.lost
        );
    }
    Ok(())
}
