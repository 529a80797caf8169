//! `droplab train`: resolve the config, load the data, train, and write the run directory.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use droplab::nn::Mode;
use droplab::tensor::Threads;
use droplab::train::{Progress as FitProgress, evaluate, fit};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::TrainArgs;
use crate::config::RunConfig;
use crate::dataset::{self, Splits};
use crate::error::{CliError, CliResult};
use crate::record::{DataInfo, RunRecord, Staging, TestMetrics, sha256_hex};
use crate::{overrides, weights};

/// How a run reports progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing.
    Quiet,
    /// A progress bar on a terminal, plain per-epoch lines otherwise.
    Auto,
}

/// Resolves `--config` plus flags into a run config.
pub fn resolve(args: &TrainArgs) -> CliResult<(RunConfig, bool)> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("--config {}: {e}", path.display())))?;
            Some((path.display().to_string(), text))
        }
        None => None,
    };
    resolve_text(args, file.as_ref().map(|(n, t)| (n.as_str(), t.as_str())))
}

/// [`resolve`] with the config file's text already read (`(name for errors, text)`).
/// Returns the config and whether the widths were given explicitly.
pub fn resolve_text(args: &TrainArgs, file: Option<(&str, &str)>) -> CliResult<(RunConfig, bool)> {
    let (mut cfg, widths_in_file) = match file {
        Some((name, text)) => {
            let cfg = RunConfig::parse(name, text)?;
            let explicit = toml::from_str::<toml::Table>(text)
                .ok()
                .and_then(|t| t.get("model").and_then(|m| m.get("widths")).map(|_| ()))
                .is_some();
            (cfg, explicit)
        }
        None => (RunConfig::default(), false),
    };
    let explicit = overrides::apply(&mut cfg, args, widths_in_file)?;
    Ok((cfg, explicit))
}

/// Fits the model's input and output widths to the data, or checks explicit ones.
pub fn fit_widths(cfg: &mut RunConfig, splits: &Splits, explicit: bool) -> CliResult {
    let (features, classes) = (splits.train.features(), splits.train.classes.max(1));
    if cfg.model.is_cnn() || cfg.model.is_rnn() {
        let spec = cfg.model.model_string();
        let shape = &splits.train.x.shape()[1..];
        let sequences = splits.train.lengths.is_some();
        if cfg.model.is_cnn() && (shape.len() != 3 || sequences) {
            return Err(CliError::usage(format!(
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
            return Err(CliError::usage(format!(
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
            return Err(CliError::usage(format!(
                "model.input_shape {:?} does not match the dataset's images {shape:?}",
                cfg.model.input_shape
            )));
        }
        cfg.model.input_shape = shape.to_vec();
        let out = cfg.model.outputs()?;
        if out != classes {
            return Err(CliError::usage(format!(
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
        return Err(CliError::usage(format!(
            "--model {spec}: input width {} does not match the dataset's {features} features (use mlp:{features}-...)",
            w[0]
        )));
    }
    if *w.last().expect("two widths") != classes {
        return Err(CliError::usage(format!(
            "--model {spec}: output width {} does not match the dataset's {classes} classes",
            w.last().expect("two widths")
        )));
    }
    Ok(())
}

/// Trains a resolved config and writes its run directory at `out`. Returns the record and
/// the final directory. A diverged run is written too (marked `diverged`).
pub fn run_config(
    cfg: &RunConfig,
    splits: &Splits,
    out: &Path,
    progress: Progress,
) -> CliResult<(RunRecord, PathBuf)> {
    let staging = Staging::new(out, "--out")?;
    let start = Instant::now();
    let threads = Threads::new((cfg.threads > 0).then_some(cfg.threads))?;
    let mut model = cfg.model.build(cfg.seed)?;
    if progress != Progress::Quiet {
        for w in model.warnings() {
            eprintln!("warning: {w}");
        }
    }
    let terminal = progress == Progress::Auto && std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let b = ProgressBar::new(1);
        b.set_style(
            ProgressStyle::with_template("epoch {prefix:>4} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b
    });
    let epochs = cfg.train.epochs;
    let mut on_progress = |p: FitProgress<'_>| match p {
        FitProgress::Step {
            epoch,
            batch,
            batches,
            running,
        } => {
            if let Some(b) = &bar {
                if batch == 1 {
                    b.reset();
                    b.set_length(batches as u64);
                    b.set_prefix(format!("{epoch}/{epochs}"));
                }
                b.set_position(batch as u64);
                if batch % 8 == 0 || batch == batches {
                    b.set_message(format!(
                        "running loss {:.4} acc {:.4}",
                        running.mean_loss(),
                        running.accuracy()
                    ));
                }
            }
        }
        FitProgress::Epoch(m) => {
            let line = format!(
                "epoch {:>4}  train loss {:.4} acc {:.4} | val loss {:.4} acc {:.4} | gap {:+.4}  ({:.2}s)",
                m.epoch, m.train_loss, m.train_accuracy, m.val_loss, m.val_accuracy, m.gap, m.seconds
            );
            match &bar {
                Some(b) => b.println(line),
                None if progress == Progress::Auto => eprintln!("{line}"),
                None => {}
            }
        }
    };
    let val = (!splits.val.is_empty()).then_some(&splits.val);
    let report = fit(
        &mut model,
        &cfg.train,
        cfg.seed,
        &threads,
        &splits.train,
        val,
        &mut on_progress,
    )?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let test = evaluate(
        &mut model,
        &splits.test,
        &cfg.train.loss,
        512,
        &threads,
        Mode::Eval,
    )?;
    let toml_text = cfg.to_toml();
    let mut meta = HashMap::new();
    meta.insert("droplab_version".to_string(), droplab::VERSION.to_string());
    meta.insert("config".to_string(), toml_text.clone());
    meta.insert("torch_modules".to_string(), model.torch_modules().join(","));
    meta.insert("format".to_string(), "pt".to_string());
    let bytes = weights::to_bytes(&model, meta)?;
    let record = RunRecord {
        record_version: crate::record::RECORD_VERSION,
        droplab_version: droplab::VERSION.to_string(),
        seed: cfg.seed,
        config: cfg.clone(),
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
        },
        scaler: splits.scaler.clone(),
        model_sha256: sha256_hex(&bytes),
        threads: threads.count(),
        seconds: start.elapsed().as_secs_f64(),
        warnings: model.warnings(),
    };
    staging.write("model.safetensors", &bytes)?;
    staging.write("config.toml", toml_text.as_bytes())?;
    let json =
        serde_json::to_string_pretty(&record).map_err(|e| CliError::runtime(format!("record.json: {e}")))?;
    // The record is written last: its presence marks a finished run.
    staging.write("record.json", json.as_bytes())?;
    let dir = staging.commit()?;
    Ok((record, dir))
}

/// A default run directory name: `runs/<dataset>-s<seed>-<unix time>`.
fn default_out(cfg: &RunConfig) -> PathBuf {
    let name: String = cfg
        .data
        .dataset
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from("runs").join(format!("{name}-s{}-{secs}", cfg.seed))
}

/// `droplab train`.
pub fn run(args: &TrainArgs) -> CliResult {
    let (mut cfg, explicit) = resolve(args)?;
    cfg.pin_threads();
    cfg.model.validate().map_err(CliError::from)?;
    cfg.train.validate().map_err(CliError::from)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&cfg));
    // Fail on an unusable --out before any work.
    drop(Staging::new(&out, "--out")?);
    let splits = dataset::load(&cfg.data, cfg.seed)?;
    fit_widths(&mut cfg, &splits, explicit)?;
    cfg.model.validate().map_err(CliError::from)?;
    // Real-valued targets are a regression: squared error, unless the config names a loss
    // (the resolved config.toml records the choice).
    if matches!(splits.train.y, droplab::nn::Targets::Values(_))
        && matches!(cfg.train.loss, droplab::nn::Loss::SoftmaxCrossEntropy { .. })
    {
        cfg.train.loss = droplab::nn::Loss::Mse;
    }
    let regression = splits.train.classes == 0;
    let progress = if args.quiet {
        Progress::Quiet
    } else {
        Progress::Auto
    };
    let (record, dir) = run_config(&cfg, &splits, &out, progress)?;
    if let Some(msg) = &record.divergence {
        return Err(CliError::runtime(format!(
            "{msg} (record written to {})",
            dir.display()
        )));
    }
    if !args.quiet && regression {
        let best = record.history.get(record.best_epoch.saturating_sub(1));
        println!(
            "test MSE {:.4} (RMSE {:.4})  (best epoch {}, val MSE {:.4})",
            record.test.loss,
            record.test.loss.sqrt(),
            record.best_epoch,
            best.map(|b| b.val_loss).unwrap_or(f64::NAN)
        );
        println!("run written to {}", dir.display());
    } else if !args.quiet {
        let best = record.history.get(record.best_epoch.saturating_sub(1));
        println!(
            "test accuracy {:.4}  loss {:.4}  (best epoch {}, val accuracy {:.4}, gap {:+.4}){}",
            record.test.accuracy,
            record.test.loss,
            record.best_epoch,
            best.map(|b| b.val_accuracy).unwrap_or(f64::NAN),
            best.map(|b| b.gap).unwrap_or(f64::NAN),
            if record.stopped_early {
                ", stopped early"
            } else {
                ""
            }
        );
        println!("run written to {}", dir.display());
    }
    Ok(())
}
