//! The trainer: epochs of shuffled minibatches in a fixed, documented step order.
//!
//! One step: forward (Train mode, masks keyed by the step) -> loss -> backward -> penalty
//! gradients (L1/L2) -> gradient clipping -> optimizer update -> constraints (max-norm).
//! Between epochs: metrics on the training and validation sets in Eval mode, then early
//! stopping. A NaN or infinite loss stops the run as diverged. After each epoch the fit can
//! hand out a [`Checkpoint`] and continue from one ([`FitSpec::resume`]) bit-identically.

mod checkpoint;
mod early_stopping;
mod evaluate;

pub use checkpoint::{Checkpoint, FitState};
pub use early_stopping::{EarlyStopping, EarlyStoppingConfig, Monitor};
pub use evaluate::{
    Prediction, RegressionScores, evaluate, forward_passes, predict_proba, regression_scores,
};

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::{Error, Result, check};
use crate::nn::{Ctx, Loss, LossOutput, Mode, Sequential, Targets};
use crate::optim::{LrSchedule, MomentumSchedule, Optimizer, OptimizerConfig};
use crate::regularize::{AugmentConfig, clip, max_norm, penalty};
use crate::rng::Stream;
use crate::tensor::{Tensor, Threads};

/// How a model is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Examples per minibatch (the last one of an epoch may be smaller).
    pub batch_size: usize,
    /// The optimizer.
    pub optimizer: OptimizerConfig,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Momentum schedule (SGD and Nesterov).
    pub momentum_schedule: MomentumSchedule,
    /// The loss.
    pub loss: Loss,
    /// Clip the global gradient norm to this value.
    pub clip_grad_norm: Option<f32>,
    /// Stop when the monitored metric stops improving; restores the best weights.
    pub early_stopping: Option<EarlyStoppingConfig>,
    /// Measure the per-epoch training metrics on a fixed random subset of this many training
    /// examples (0 = all of them). On large sets the full pass costs a third of an epoch.
    pub train_eval_size: usize,
    /// Data augmentation of training minibatches (images; off by default).
    #[serde(skip_serializing_if = "is_default")]
    pub augment: AugmentConfig,
    /// A run has diverged when an epoch's training loss exceeds this many times the untrained
    /// network's (the first minibatch's loss, before the first update), as well as when the
    /// loss or a weight is not finite. 0 turns the loss test off. The default, 20, is far
    /// above every recorded recipe (their training loss never rose past 2.7 times their first
    /// epoch's).
    pub divergence_factor: f64,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// The most epochs a run may ask for (the dropout paper's longest runs took about 3,000).
pub const MAX_EPOCHS: usize = 1_000_000;

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 20,
            batch_size: 128,
            optimizer: OptimizerConfig::default(),
            schedule: LrSchedule::Constant,
            momentum_schedule: MomentumSchedule::Constant,
            loss: Loss::default(),
            clip_grad_norm: None,
            early_stopping: None,
            train_eval_size: 0,
            augment: AugmentConfig::default(),
            divergence_factor: 20.0,
        }
    }
}

impl TrainConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        check::positive("train.epochs", self.epochs as f64)?;
        if self.epochs > MAX_EPOCHS {
            return Err(Error::OutOfRange {
                field: "train.epochs".into(),
                value: self.epochs as f64,
                range: format!("1..={MAX_EPOCHS}"),
            });
        }
        check::positive("train.batch_size", self.batch_size as f64)?;
        self.optimizer.validate()?;
        self.schedule.validate()?;
        self.momentum_schedule.validate()?;
        self.loss.validate()?;
        if let Some(c) = self.clip_grad_norm {
            check::positive("train.clip_grad_norm", c as f64)?;
        }
        if let Some(e) = &self.early_stopping {
            e.validate()?;
        }
        if !(self.divergence_factor == 0.0 || self.divergence_factor > 1.0) {
            return Err(Error::OutOfRange {
                field: "train.divergence_factor".into(),
                value: self.divergence_factor,
                range: "0 (off) or above 1".into(),
            });
        }
        self.augment.validate()
    }
}

/// Metrics of one epoch. Train metrics are measured in Eval mode after the epoch (so the gap
/// compares like with like); `train_loss_running` is the mean minibatch loss with dropout on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Loss on the training set (or its `train_eval_size` subset), Eval mode (data term only).
    #[serde(deserialize_with = "nan_if_null")]
    pub train_loss: f64,
    /// Accuracy on the training set, Eval mode (0 for regression).
    pub train_accuracy: f64,
    /// Mean minibatch loss during the epoch, Train mode.
    #[serde(deserialize_with = "nan_if_null")]
    pub train_loss_running: f64,
    /// Loss on the validation set (NaN without one; `null` in JSON).
    #[serde(deserialize_with = "nan_if_null")]
    pub val_loss: f64,
    /// Accuracy on the validation set (NaN without one; `null` in JSON).
    #[serde(deserialize_with = "nan_if_null")]
    pub val_accuracy: f64,
    /// `train_accuracy - val_accuracy`: the overfitting gap.
    #[serde(deserialize_with = "nan_if_null")]
    pub gap: f64,
    /// The penalty term (L1 + L2) at the end of the epoch.
    pub penalty: f64,
    /// Learning rate of the epoch's last update.
    pub lr: f64,
    /// Wall-clock seconds of the epoch's training steps.
    pub seconds: f64,
}

/// JSON has no NaN: serde_json writes it as `null`; read `null` back as NaN.
pub fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// How a fit ended.
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    /// One entry per completed epoch.
    pub history: Vec<EpochMetrics>,
    /// The best epoch (1-based) by the monitored metric (validation loss by default).
    pub best_epoch: usize,
    /// Early stopping ended the run before `epochs`.
    pub stopped_early: bool,
    /// The divergence, if the loss became NaN or infinite.
    pub diverged: Option<Error>,
    /// Updates performed.
    pub steps: u64,
    /// The caller stopped the run (see [`fit_until`]).
    pub interrupted: bool,
    /// The last epoch's weights (in [`Sequential::state`] order) when early stopping restored
    /// another epoch's: to score both.
    pub last_state: Option<Vec<Tensor>>,
}

/// What `fit` reports while it runs.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A training step finished: `batch` of `batches` in `epoch` (1-based), with the running
    /// minibatch loss and accuracy of the epoch so far (dropout on).
    Step {
        /// The epoch (1-based).
        epoch: usize,
        /// The minibatch just trained (1-based).
        batch: usize,
        /// Minibatches in the epoch.
        batches: usize,
        /// Loss and accuracy of the epoch's minibatches so far.
        running: &'a LossOutput,
    },
    /// An epoch finished, with its metrics.
    Epoch(&'a EpochMetrics),
    /// The state after an epoch that did not end the run (when [`FitSpec::checkpoints`] asked
    /// for it): store it to resume from.
    Checkpoint(&'a Checkpoint),
}

/// What a training run needs beside the model and its training set: the training config, the
/// run's seed, the thread pool, and the validation set (none by default).
///
/// ```
/// # use droplab::tensor::Threads;
/// # use droplab::train::{FitSpec, TrainConfig};
/// let cfg = TrainConfig { epochs: 5, ..Default::default() };
/// let threads = Threads::new(Some(1))?;
/// let spec = FitSpec::new(&cfg, &threads).seed(7);
/// assert_eq!(spec.seed, 7);
/// assert!(spec.val.is_none());
/// # Ok::<(), droplab::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FitSpec<'a> {
    /// Epochs, batch size, optimizer, schedules, loss, early stopping, augmentation.
    pub config: &'a TrainConfig,
    /// The run's root seed: shuffles and dropout masks derive from it.
    pub seed: u64,
    /// The thread pool every kernel runs in.
    pub threads: &'a Threads,
    /// Scored after every epoch (and monitored by early stopping) when given.
    pub val: Option<&'a Dataset>,
    /// Continue from this checkpoint (taken by the same model, config, seed and data).
    pub resume: Option<&'a Checkpoint>,
    /// Report a [`Progress::Checkpoint`] after every epoch that does not end the run.
    pub checkpoints: bool,
}

impl<'a> FitSpec<'a> {
    /// Training by `config` on `threads`, seed 0, no validation set.
    pub fn new(config: &'a TrainConfig, threads: &'a Threads) -> Self {
        FitSpec {
            config,
            seed: 0,
            threads,
            val: None,
            resume: None,
            checkpoints: false,
        }
    }

    /// The same with root seed `seed`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same, continuing from `checkpoint` (or from the start with `None`): the weights,
    /// optimizer, step counter, early stopping and history are the checkpoint's, and the fit
    /// goes on with the epoch after it, as if it had never stopped.
    pub fn resume(mut self, checkpoint: impl Into<Option<&'a Checkpoint>>) -> Self {
        self.resume = checkpoint.into();
        self
    }

    /// The same, reporting a [`Progress::Checkpoint`] after every epoch but the last.
    pub fn checkpoints(mut self, on: bool) -> Self {
        self.checkpoints = on;
        self
    }

    /// The same with a validation set (`Some(&val)`, `&val`, or `None`).
    pub fn validation(mut self, val: impl Into<Option<&'a Dataset>>) -> Self {
        self.val = val.into();
        self
    }
}

/// Trains `model` on `train` as `spec` says, reporting each step and epoch to `on_progress`.
///
/// All randomness comes from `spec.seed`: the shuffle of epoch `e` from stream
/// `("shuffle", e)`, dropout masks from the layers' own streams keyed by the step counter.
/// With the same seed, config and thread count, the weights are bit-identical.
///
/// # Errors
/// An invalid config, an empty training set, data that does not fit the model; a diverged
/// run is not an error but is reported in [`FitReport::diverged`].
pub fn fit(
    model: &mut Sequential,
    train: &Dataset,
    spec: FitSpec<'_>,
    on_progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<FitReport> {
    fit_until(model, train, spec, on_progress, &mut |_| true)
}

/// [`fit`], asking `keep_going` after every epoch whether to go on: `false` ends the run
/// there (a pruned trial of a search), marked `interrupted`. The best weights are restored as
/// in `fit`.
pub fn fit_until(
    model: &mut Sequential,
    train: &Dataset,
    spec: FitSpec<'_>,
    on_progress: &mut (dyn FnMut(Progress<'_>) + Send),
    keep_going: &mut dyn FnMut(&EpochMetrics) -> bool,
) -> Result<FitReport> {
    let FitSpec {
        config: cfg,
        seed,
        threads,
        val,
        resume,
        checkpoints,
    } = spec;
    cfg.validate()?;
    if train.is_empty() {
        return Err(Error::config("train", "the training set is empty"));
    }
    let features: usize = model.input_shape().iter().product();
    if train.features() != features {
        return Err(Error::ShapeMismatch {
            context: "training data features vs model input".into(),
            expected: vec![features],
            got: vec![train.features()],
        });
    }
    let n = train.len();
    let per_epoch = n.div_ceil(cfg.batch_size) as u64;
    let mut stepper = Stepper::new(cfg, per_epoch * cfg.epochs as u64)?;
    let monitor = cfg.early_stopping.as_ref().map(|e| e.monitor).unwrap_or_default();
    let min_delta = cfg.early_stopping.as_ref().map(|e| e.min_delta).unwrap_or(0.0);
    let mut stopper = cfg.early_stopping.clone().map(EarlyStopping::new);
    // The best epoch is kept by the stopper's own rule (an improvement of more than
    // min_delta), as Keras's restore_best_weights does.
    let mut best = BestTracker::new(monitor, min_delta);
    let mut report = FitReport {
        history: Vec::new(),
        best_epoch: 0,
        stopped_early: false,
        diverged: None,
        steps: 0,
        interrupted: false,
        last_state: None,
    };
    let shuffle = Stream::new(seed, "shuffle");
    let augment = Stream::new(seed, "augment");
    let train_eval = (cfg.train_eval_size > 0 && cfg.train_eval_size < n).then(|| {
        let mut idx: Vec<usize> = (0..n).collect();
        Stream::new(seed, "train-eval").seq().shuffle(&mut idx);
        idx.truncate(cfg.train_eval_size);
        train.select(&idx)
    });
    let par = threads.par();
    let mut xb = Tensor::default();
    let mut lb = Vec::new();
    let mut yb = match &train.y {
        Targets::Classes(_) => Targets::Classes(Vec::new()),
        Targets::Values(_) => Targets::Values(Tensor::default()),
    };
    // The untrained network's loss, the reference of the divergence test: the first
    // minibatch's, measured by the first step before its update (no extra pass).
    let mut initial_loss = f64::NAN;
    let mut first_epoch = 0;
    if let Some(ck) = resume {
        let sizes: Vec<usize> = model.params().iter().map(|p| p.value.len()).collect();
        let parts = ck.parts(&model.state(), &sizes)?;
        let st = &ck.state;
        model.load_state(&parts.model);
        stepper.opt.restore(st.optimizer_steps, parts.moments);
        (stepper.t, stepper.lr) = (st.steps, st.lr);
        initial_loss = st.initial_loss;
        if let Some(s) = stopper.as_mut() {
            s.restore(st.stopper_best, st.stopper_wait);
        }
        (best.value, best.epoch, best.weights) = (st.best_value, st.best_epoch, parts.best);
        (report.history, report.steps) = (st.history.clone(), st.steps);
        first_epoch = st.epochs_done;
    }
    for epoch in first_epoch..cfg.epochs {
        let mut order: Vec<usize> = (0..n).collect();
        shuffle.derive_u64(epoch as u64).seq().shuffle(&mut order);
        let start = Instant::now();
        let mut running = LossOutput::default();
        let batches = order.len().div_ceil(cfg.batch_size);
        let step_result: Result<()> = threads.install(|| {
            for (b, idx) in order.chunks(cfg.batch_size).enumerate() {
                train.x.gather_rows(idx, &mut xb);
                train.y.gather(idx, &mut yb);
                let seq = train.gather_lengths(idx, &mut lb);
                cfg.augment.apply(augment, stepper.t, &mut xb)?;
                let out = stepper.step(model, &xb, &yb, seq.then_some(&lb[..]), epoch, par)?;
                if initial_loss.is_nan() {
                    initial_loss = out.mean_loss();
                }
                running.merge(out);
                on_progress(Progress::Step {
                    epoch: epoch + 1,
                    batch: b + 1,
                    batches,
                    running: &running,
                });
            }
            Ok(())
        });
        // Seconds of the epoch's training steps (metrics below are not counted).
        let seconds = start.elapsed().as_secs_f64();
        report.steps = stepper.t;
        if let Err(e) = step_result {
            if matches!(e, Error::Diverged { .. }) {
                report.diverged = Some(e);
                break;
            }
            return Err(e);
        }
        let batch = cfg.batch_size.max(256);
        let tr = evaluate(
            model,
            train_eval.as_ref().unwrap_or(train),
            &cfg.loss,
            batch,
            threads,
            Mode::Eval,
        )?;
        let va = match val {
            Some(v) if !v.is_empty() => Some(evaluate(model, v, &cfg.loss, batch, threads, Mode::Eval)?),
            _ => None,
        };
        let pen: f64 = model.params().iter().map(|p| penalty::value(p)).sum();
        let m = EpochMetrics {
            epoch: epoch + 1,
            train_loss: tr.mean_loss(),
            train_accuracy: tr.accuracy(),
            train_loss_running: running.mean_loss(),
            val_loss: va.map(|v| v.mean_loss()).unwrap_or(f64::NAN),
            val_accuracy: va.map(|v| v.accuracy()).unwrap_or(f64::NAN),
            gap: tr.accuracy() - va.map(|v| v.accuracy()).unwrap_or(f64::NAN),
            penalty: pen,
            lr: stepper.lr as f64,
            seconds,
        };
        let blown_up = cfg.divergence_factor > 0.0
            && initial_loss.is_finite()
            && m.train_loss > cfg.divergence_factor * initial_loss.max(f64::MIN_POSITIVE);
        let weights_finite = model
            .params()
            .iter()
            .all(|p| p.value.data().iter().all(|v| v.is_finite()));
        if !m.train_loss.is_finite() || blown_up || !weights_finite {
            report.diverged = Some(Error::Diverged {
                epoch: epoch + 1,
                step: stepper.t,
                loss: m.train_loss as f32,
            });
            report.history.push(m.clone());
            on_progress(Progress::Epoch(&m));
            break;
        }
        on_progress(Progress::Epoch(&m));
        best.observe(&m, model);
        report.history.push(m.clone());
        if !keep_going(&m) {
            report.interrupted = true;
            break;
        }
        if let Some(s) = stopper.as_mut()
            && s.should_stop(&m)
        {
            report.stopped_early = epoch + 1 < cfg.epochs;
            break;
        }
        if checkpoints && epoch + 1 < cfg.epochs {
            let (optimizer_steps, moments) = stepper.opt.moments();
            let (stopper_best, stopper_wait) = stopper.as_ref().map_or((f64::NAN, 0), |s| s.progress());
            let state = FitState {
                epochs_done: epoch + 1,
                steps: stepper.t,
                lr: stepper.lr,
                initial_loss,
                optimizer_steps,
                stopper_best,
                stopper_wait,
                best_epoch: best.epoch,
                best_value: best.value,
                history: report.history.clone(),
            };
            // The best weights matter only where early stopping restores them.
            let best_weights = if cfg.early_stopping.is_some() {
                &best.weights[..]
            } else {
                &[]
            };
            let ck = Checkpoint::new(state, model.state(), best_weights, moments);
            on_progress(Progress::Checkpoint(&ck));
        }
    }
    report.best_epoch = best.epoch;
    if cfg.early_stopping.is_some() && best.epoch != report.history.len() && !best.weights.is_empty() {
        report.last_state = Some(model.state());
        best.restore(model);
    }
    Ok(report)
}

/// Runs training steps in the fixed order; `fit` and the benchmarks share it.
#[derive(Debug)]
pub struct Stepper<'a> {
    cfg: &'a TrainConfig,
    pub(crate) opt: Optimizer,
    dout: Tensor,
    total_updates: u64,
    /// Updates done so far (keys the dropout masks of the next step).
    pub t: u64,
    /// Learning rate of the last update.
    pub lr: f32,
}

impl<'a> Stepper<'a> {
    /// A stepper for a run of `total_updates` updates (used by schedules that need it).
    pub fn new(cfg: &'a TrainConfig, total_updates: u64) -> Result<Self> {
        Ok(Stepper {
            cfg,
            opt: cfg.optimizer.init()?,
            dout: Tensor::default(),
            total_updates,
            t: 0,
            lr: cfg.optimizer.lr,
        })
    }

    /// One step on the minibatch `(xb, yb)`: forward -> loss -> backward -> penalty gradients
    /// -> gradient clipping -> optimizer update -> max-norm. Call inside the run's pool.
    /// `lengths` are the sequences' lengths for a sequence batch.
    pub fn step(
        &mut self,
        model: &mut Sequential,
        xb: &Tensor,
        yb: &Targets,
        lengths: Option<&[usize]>,
        epoch: usize,
        par: faer::Par,
    ) -> Result<LossOutput> {
        let cfg = self.cfg;
        let ctx = Ctx::new(Mode::Train, self.t).with_par(par).with_lengths(lengths);
        let out = model.forward(&ctx, xb)?;
        let lo = cfg.loss.compute(out, yb, Some(&mut self.dout))?;
        if !lo.loss_sum.is_finite() {
            return Err(Error::Diverged {
                epoch: epoch + 1,
                step: self.t,
                loss: lo.loss_sum as f32,
            });
        }
        model.backward(&ctx, xb, &mut self.dout, None)?;
        let mut params = model.params_mut();
        for p in params.iter_mut() {
            penalty::add_gradient(p);
        }
        if let Some(c) = cfg.clip_grad_norm {
            clip::clip_grad_norm(&mut params, c);
        }
        self.lr = cfg
            .schedule
            .lr(cfg.optimizer.lr, epoch, self.t, self.total_updates);
        let mu = cfg.momentum_schedule.momentum(cfg.optimizer.momentum, self.t);
        self.opt.step(&mut params, self.lr, mu);
        for p in params.iter_mut() {
            max_norm::apply(p);
        }
        self.t += 1;
        Ok(lo)
    }
}

/// Remembers the best epoch and its weights: an epoch is better when it improves on the best
/// by more than `min_delta` (early stopping's rule).
struct BestTracker {
    monitor: Monitor,
    min_delta: f64,
    value: f64,
    epoch: usize,
    weights: Vec<Tensor>,
}

impl BestTracker {
    fn new(monitor: Monitor, min_delta: f64) -> Self {
        BestTracker {
            monitor,
            min_delta,
            value: f64::NAN,
            epoch: 0,
            weights: Vec::new(),
        }
    }

    fn observe(&mut self, m: &EpochMetrics, model: &Sequential) {
        let v = self.monitor.value(m);
        let better = if self.value.is_nan() {
            true
        } else {
            self.monitor.improvement(self.value, v) > self.min_delta
        };
        if better && !v.is_nan() || self.epoch == 0 {
            self.value = v;
            self.epoch = m.epoch;
            self.weights = model.state();
        }
    }

    fn restore(&self, model: &mut Sequential) {
        if self.weights.is_empty() {
            return;
        }
        model.load_state(&self.weights);
    }
}
