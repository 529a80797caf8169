//! One training run, end to end: a resolved config and its data in, a finished run directory
//! out (`model.safetensors`, `config.toml`, `record.json`, written atomically), a checkpoint
//! after every epoch to resume from, and a finished run directory read back with its data and
//! weights.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use droplab::nn::Mode;
use droplab::tensor::Threads;
use droplab::train::{FitSpec, Progress as FitProgress, evaluate, fit, regression_scores};

use crate::checkpoint;
use crate::config::{RunConfig, ValidRun};
use crate::data::{self, Splits};
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::record::{DataInfo, RunRecord, TestMetrics};
use crate::staging::Staging;
use crate::weights;

/// What a run tells its caller as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// A known pitfall of the model (dropout feeding batch norm, ...), before training.
    Warning(&'a str),
    /// Training progress: a step or a finished epoch (checkpoints are the run's own).
    Fit(FitProgress<'a>),
    /// The run continues from a checkpoint holding this many finished epochs.
    Resumed(&'a Path, usize),
    /// The model, before training: each layer's description, output shape and parameters.
    Model(&'a [(String, Vec<usize>, usize)]),
}

/// Where a run keeps its checkpoint, and whether it continues from one of its own config
/// found there (one of another config is replaced, with a warning).
#[derive(Clone, Copy, Debug)]
pub struct Checkpoints<'a> {
    /// The checkpoint file ([`checkpoint::beside`]).
    pub path: &'a Path,
    /// Continue from the checkpoint found there.
    pub resume: bool,
}

/// Fits the model's input and output widths to the data, or checks explicit ones. Real-valued
/// targets are a regression: trained with squared error unless the config names a loss (the
/// resolved config records the choice).
pub fn fit_widths(cfg: &mut RunConfig, splits: &Splits, explicit: bool) -> Result {
    if matches!(splits.train.y, droplab::nn::Targets::Values(_))
        && matches!(cfg.train.loss, droplab::nn::Loss::SoftmaxCrossEntropy { .. })
    {
        cfg.train.loss = droplab::nn::Loss::Mse;
    }
    let (features, classes) = (splits.train.features(), splits.train.classes.max(1));
    if cfg.model.is_cnn() || cfg.model.is_rnn() {
        let spec = cfg.model.model_string();
        let shape = &splits.train.x.shape()[1..];
        let sequences = splits.train.lengths.is_some();
        if cfg.model.is_cnn() && (shape.len() != 3 || sequences) {
            return Err(Error::usage(format!(
                "--model {spec}: a convolutional network needs images, and --dataset {} gives {} (use an image dataset: digits, mnist, fashion-mnist)",
                cfg.data.dataset,
                if sequences {
                    "sequences".to_string()
                } else {
                    format!("vectors of {features} features")
                }
            )));
        }
        if cfg.model.is_rnn() && !sequences {
            return Err(Error::usage(format!(
                "--model {spec}: a recurrent network needs sequences, and --dataset {} gives {} (use a sequence dataset: japanese-vowels, ts:TRAIN.ts,TEST.ts)",
                cfg.data.dataset,
                if shape.len() == 3 {
                    "images".to_string()
                } else {
                    format!("vectors of {features} features")
                }
            )));
        }
        if !cfg.model.input_shape.is_empty() && cfg.model.input_shape != shape {
            return Err(Error::usage(format!(
                "model.input_shape {:?} does not match the dataset's images {shape:?}",
                cfg.model.input_shape
            )));
        }
        cfg.model.input_shape = shape.to_vec();
        let out = cfg.model.outputs()?;
        if out != classes {
            return Err(Error::usage(format!(
                "--model {spec}: output width {out} does not match the dataset's {classes} classes (end the layer string with -{classes})"
            )));
        }
        return Ok(());
    }
    if !explicit {
        let w = &mut cfg.model.widths;
        let n = w.len();
        w[0] = features;
        w[n - 1] = classes;
        return Ok(());
    }
    let spec = cfg.model.model_string();
    let w = &cfg.model.widths;
    if w[0] != features {
        return Err(Error::usage(format!(
            "--model {spec}: input width {} does not match the dataset's {features} features (use mlp:{features}-...)",
            w[0]
        )));
    }
    if *w.last().expect("two widths") != classes {
        return Err(Error::usage(format!(
            "--model {spec}: output width {} does not match the dataset's {classes} classes",
            w.last().expect("two widths")
        )));
    }
    Ok(())
}

/// Trains a resolved config and writes its run directory at `out`. Returns the record and
/// the final directory. A diverged run is written too (marked `diverged`). With
/// `checkpoints`, the state after every epoch is kept in that file (removed once the run
/// directory is written) and, asked to, the run continues from it: a resumed run ends with
/// the weights (the `model_sha256`) of one that never stopped, on the same thread count.
pub fn run_config(
    cfg: &ValidRun,
    splits: &Splits,
    out: &Path,
    checkpoints: Option<Checkpoints<'_>>,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<(RunRecord, PathBuf)> {
    if splits.test.is_empty() {
        let total = splits.train.len() + splits.val.len();
        return Err(data::empty_split(&cfg.data, "test", total));
    }
    let staging = Staging::new(out, "--out")?;
    let start = Instant::now();
    let threads = Threads::new((cfg.threads > 0).then_some(cfg.threads))?;
    let mut model = cfg.model.build(cfg.seed)?;
    on_event(Event::Model(&model.summary()));
    for w in splits.notes.iter().cloned().chain(model.warnings()) {
        on_event(Event::Warning(&w));
    }
    let run_cfg: &RunConfig = cfg;
    let mut resumed = None;
    let mut seconds_before = 0.0;
    if let Some(c) = checkpoints.filter(|c| c.resume)
        && let Some(stored) = checkpoint::load(c.path)?
    {
        if stored.config == *run_cfg {
            on_event(Event::Resumed(c.path, stored.checkpoint.state.epochs_done));
            seconds_before = stored.seconds;
            resumed = Some(stored.checkpoint);
        } else {
            on_event(Event::Warning(&format!(
                "{}: a checkpoint of another config; training from the first epoch",
                c.path.display()
            )));
        }
    }
    let mut save_failed = false;
    let mut on_progress = |p: FitProgress<'_>| match (p, checkpoints) {
        (FitProgress::Checkpoint(ck), Some(c)) => {
            let seconds = seconds_before + start.elapsed().as_secs_f64();
            if let Err(e) = checkpoint::save(c.path, ck, run_cfg, seconds)
                && !save_failed
            {
                save_failed = true;
                on_event(Event::Warning(&format!(
                    "{e} (the run goes on, without a checkpoint)"
                )));
            }
        }
        (FitProgress::Checkpoint(_), None) => {}
        (p, _) => on_event(Event::Fit(p)),
    };
    let val = (!splits.val.is_empty()).then_some(&splits.val);
    let spec = FitSpec::new(&cfg.train, &threads)
        .seed(cfg.seed)
        .validation(val)
        .checkpoints(checkpoints.is_some())
        .resume(resumed.as_ref());
    let report = fit(&mut model, &splits.train, spec, &mut on_progress)?;
    let test = evaluate(
        &mut model,
        &splits.test,
        &cfg.train.loss,
        512,
        &threads,
        Mode::Eval,
    )?;
    let scores = regression_scores(&mut model, &splits.test, Mode::Eval, 512, &threads)?;
    // Early stopping restored another epoch's weights: the last epoch's are scored too.
    let test_last_epoch = match &report.last_state {
        Some(last) => {
            let kept = model.state();
            model.load_state(last);
            let t = evaluate(
                &mut model,
                &splits.test,
                &cfg.train.loss,
                512,
                &threads,
                Mode::Eval,
            )?;
            model.load_state(&kept);
            Some(TestMetrics {
                loss: t.mean_loss(),
                accuracy: t.accuracy(),
                rmse: None,
                r2: None,
            })
        }
        None => None,
    };
    let toml_text = cfg.to_toml();
    let mut meta = HashMap::new();
    meta.insert("droplab_version".to_string(), droplab::VERSION.to_string());
    meta.insert("config".to_string(), toml_text.clone());
    meta.insert("torch_modules".to_string(), model.torch_modules().join(","));
    // Every module with its sizes, to rebuild the network in PyTorch (`droplab export torch`).
    meta.insert(
        "torch_sequential".to_string(),
        serde_json::to_string(&model.torch_specs())
            .map_err(|e| Error::runtime(format!("torch_sequential: {e}")))?,
    );
    meta.insert("format".to_string(), "pt".to_string());
    // How raw inputs become the model's (see `predict`): for clients outside droplab.
    let preprocessing = crate::predict::Preprocessing {
        divide_by: crate::predict::input_divisor(&cfg.data.dataset),
        scaler: &splits.scaler,
    };
    meta.insert(
        "preprocessing".to_string(),
        serde_json::to_string(&preprocessing).map_err(|e| Error::runtime(format!("preprocessing: {e}")))?,
    );
    let bytes = weights::to_bytes(&model, meta)?;
    let record = RunRecord {
        record_version: crate::record::RECORD_VERSION,
        droplab_version: droplab::VERSION.to_string(),
        seed: cfg.seed,
        config: RunConfig::clone(cfg),
        data: DataInfo {
            dataset: cfg.data.dataset.clone(),
            train: splits.train.len(),
            val: splits.val.len(),
            test: splits.test.len(),
            features: splits.train.features(),
            classes: splits.train.classes,
        },
        model: model.layers().iter().map(|l| l.describe()).collect(),
        parameters: model.param_count(),
        history: report.history.clone(),
        best_epoch: report.best_epoch,
        stopped_early: report.stopped_early,
        diverged: report.diverged.is_some(),
        divergence: report.diverged.as_ref().map(|e| e.to_string()),
        test: TestMetrics {
            loss: test.mean_loss(),
            accuracy: test.accuracy(),
            rmse: scores.map(|s| s.rmse),
            r2: scores.map(|s| s.r2),
        },
        test_last_epoch,
        scaler: splits.scaler.clone(),
        input_divisor: Some(crate::predict::input_divisor(&cfg.data.dataset)),
        model_sha256: sha256_hex(&bytes),
        threads: threads.count(),
        seconds: seconds_before + start.elapsed().as_secs_f64(),
        warnings: splits.notes.iter().cloned().chain(model.warnings()).collect(),
    };
    staging.write("model.safetensors", &bytes)?;
    staging.write("config.toml", toml_text.as_bytes())?;
    let json =
        serde_json::to_string_pretty(&record).map_err(|e| Error::runtime(format!("record.json: {e}")))?;
    // The record is written last: its presence marks a finished run.
    staging.write("record.json", json.as_bytes())?;
    let dir = staging.commit()?;
    if let Some(c) = checkpoints {
        checkpoint::remove(c.path);
    }
    Ok((record, dir))
}

/// A saved run, loaded: its record and config, one split of its data (scaled as in
/// training), and the model with its weights.
pub struct LoadedRun {
    /// Its record.
    pub record: RunRecord,
    /// The dataset the data came from.
    pub dataset: String,
    /// The split asked for, scaled as in training.
    pub data: droplab::data::Dataset,
    /// The network with its trained weights.
    pub model: droplab::Sequential,
}

/// Loads `dir` (written by `droplab train`) with the data of `split`, optionally from
/// another dataset or data directory. With `verify`, the weights must match the record's
/// `model_sha256` and be finite.
pub fn load_run(
    dir: &std::path::Path,
    dataset: Option<&str>,
    data_dir: Option<&std::path::Path>,
    split: &str,
    verify: bool,
) -> Result<LoadedRun> {
    let record = RunRecord::load(&model_file(dir)?)?;
    let cfg: RunConfig = record.config.clone();
    let mut data_cfg = cfg.data.clone();
    if let Some(d) = dataset {
        data_cfg.dataset = d.to_string();
    }
    if let Some(d) = data_dir {
        data_cfg.data_dir = d.display().to_string();
    }
    let data = data::load_for_eval(&data_cfg, cfg.seed, split, &record.scaler)?;
    let wanted: usize = cfg.model.input_shape().iter().product();
    if data.features() != wanted {
        // Name what the caller gave: the dataset flag, or else the run's own record.
        let source = match dataset {
            Some(d) => format!("--dataset {d}"),
            None => format!(
                "{} (dataset {})",
                dir.join("record.json").display(),
                data_cfg.dataset
            ),
        };
        return Err(Error::usage(format!(
            "{source}: {} features, the run's model takes {wanted}",
            data.features(),
        )));
    }
    let (record, model) = load_model(dir, verify)?;
    Ok(LoadedRun {
        record,
        dataset: data_cfg.dataset,
        data,
        model,
    })
}

/// The run directory `dir` back, checked to hold weights.
fn model_file(dir: &Path) -> Result<PathBuf> {
    if !dir.join("model.safetensors").is_file() {
        return Err(Error::usage(format!(
            "{}: no model.safetensors (is this a run directory written by `droplab train`?)",
            dir.display()
        )));
    }
    Ok(dir.to_path_buf())
}

/// The record and the trained model of the run in `dir`, without data. With `verify`, the
/// weights must match the record's `model_sha256` and be finite.
pub fn load_model(dir: &Path, verify: bool) -> Result<(RunRecord, droplab::Sequential)> {
    let model_path = model_file(dir)?.join("model.safetensors");
    let record = RunRecord::load(dir)?;
    let cfg = &record.config;
    crate::limits::check(cfg)?;
    let mut model = cfg.model.build(cfg.seed)?;
    if verify {
        let bytes = std::fs::read(&model_path).map_err(|e| crate::error::io_err(&model_path, e))?;
        if sha256_hex(&bytes) != record.model_sha256 {
            return Err(Error::usage(format!(
                "{}: its sha256 does not match record.json's model_sha256: the file changed after \
                 training (pass --no-verify to use it anyway)",
                model_path.display()
            )));
        }
    }
    weights::load_into(&mut model, &model_path)?;
    if verify {
        let names = model.torch_param_names();
        if let Some((name, _)) = names
            .iter()
            .zip(model.params())
            .find(|(_, p)| p.value.data().iter().any(|v| !v.is_finite()))
        {
            return Err(Error::usage(format!(
                "{}: tensor '{name}' holds NaN or infinite weights (a diverged run; pass \
                 --no-verify to use it anyway)",
                model_path.display()
            )));
        }
    }
    Ok((record, model))
}
