//! `droplab demo`: the same wide MLP trained five ways on a small training split of the
//! embedded digits, so that overfitting shows and each cure can be seen at work.

use std::path::{Path, PathBuf};

use droplab::model::{DropoutConfig, ModelConfig, RegularizationConfig};
use droplab::optim::OptimizerConfig;
use droplab::train::{EarlyStoppingConfig, TrainConfig};
use droplab_report::{Series, learning_curves_svg, text_table};
use serde::Serialize;

use crate::cli::DemoArgs;
use crate::error::{CliError, CliResult};
use crate::progress::{Progress, run_config};
use droplab_lab::config::{DataConfig, RunConfig};
use droplab_lab::data as dataset;
use droplab_lab::record::RunRecord;
use droplab_lab::staging::Staging;

/// One row of `summary.json`.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    train_accuracy: f64,
    val_accuracy: f64,
    test_accuracy: f64,
    test_loss: f64,
    gap: f64,
    best_epoch: usize,
    epochs: usize,
    seconds: f64,
}

/// The five configurations: a base network and what each variant changes.
fn variants(seed: u64, epochs: usize, threads: usize) -> Vec<(&'static str, RunConfig)> {
    let base = RunConfig {
        seed,
        threads,
        data: DataConfig {
            dataset: "digits".into(),
            val_fraction: 0.25,
            test_fraction: 0.25,
            train_size: 200,
            ..Default::default()
        },
        model: ModelConfig {
            widths: vec![64, 800, 800, 10],
            ..Default::default()
        },
        train: TrainConfig {
            epochs,
            batch_size: 20,
            optimizer: OptimizerConfig {
                lr: 0.02,
                momentum: 0.9,
                ..Default::default()
            },
            ..Default::default()
        },
        recipe: None,
    };
    let dropout = DropoutConfig {
        input: 0.2,
        hidden: vec![0.5],
        ..Default::default()
    };
    let with = |f: &dyn Fn(&mut RunConfig)| {
        let mut c = base.clone();
        f(&mut c);
        c
    };
    vec![
        ("none", base.clone()),
        ("dropout", with(&|c| c.model.dropout = dropout.clone())),
        (
            "l2",
            with(&|c| {
                c.model.regularization = RegularizationConfig {
                    l2: 1e-2,
                    ..Default::default()
                }
            }),
        ),
        (
            "dropout+maxnorm",
            with(&|c| {
                c.model.dropout = dropout.clone();
                c.model.regularization.max_norm = Some(2.0);
            }),
        ),
        (
            "early-stopping",
            with(&|c| {
                c.train.early_stopping = Some(EarlyStoppingConfig {
                    patience: 10,
                    ..Default::default()
                })
            }),
        ),
    ]
}

/// Prepares the output: a previous demo directory (with summary.json) is replaced at the end;
/// anything else in the way is an error.
fn check_out(out: &Path) -> CliResult {
    if out.exists() && !out.join("summary.json").is_file() {
        return Err(CliError::usage(format!(
            "--out {}: exists and is not a demo directory (choose another directory or remove it)",
            out.display()
        )));
    }
    Ok(())
}

/// `droplab demo`.
pub fn run(args: &DemoArgs) -> CliResult {
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("runs/demo"));
    check_out(&out)?;
    let epochs = args.epochs.unwrap_or(100);
    if epochs == 0 {
        return Err(CliError::usage("--epochs must be at least 1"));
    }
    // Build the new demo beside the old one; the old one is replaced only when all is written.
    let tmp_out = out.with_file_name(format!(
        "{}.new-{}",
        out.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        std::process::id()
    ));
    let staging = Staging::new(&tmp_out, "--out")?;
    let runs = variants(args.seed, epochs, args.threads.unwrap_or(0));
    let splits = dataset::load(&runs[0].1.data, args.seed)?;
    if !args.quiet {
        eprintln!(
            "digits: {} training, {} validation, {} test examples; MLP {} trained five ways, {epochs} epochs each",
            splits.train.len(),
            splits.val.len(),
            splits.test.len(),
            runs[0].1.model.model_string()
        );
    }
    let mut records: Vec<(&str, RunRecord)> = Vec::new();
    for (name, cfg) in &runs {
        if !args.quiet {
            eprintln!("training '{name}'...");
        }
        let (rec, _) = run_config(
            &cfg.clone().check()?,
            &splits,
            &staging.path().join(name),
            None,
            Progress::Quiet,
        )?;
        if let Some(msg) = &rec.divergence {
            return Err(CliError::runtime(format!("demo run '{name}': {msg}")));
        }
        records.push((name, rec));
    }
    let rows: Vec<Row> = records
        .iter()
        .map(|(name, r)| {
            // Report the weights the run ends with: the best epoch's after early stopping,
            // the last epoch's otherwise.
            let at = if r.config.train.early_stopping.is_some() {
                r.best_epoch
            } else {
                r.history.len()
            };
            let h = &r.history[at.max(1) - 1];
            Row {
                name: name.to_string(),
                train_accuracy: h.train_accuracy,
                val_accuracy: h.val_accuracy,
                test_accuracy: r.test.accuracy,
                test_loss: r.test.loss,
                gap: h.gap,
                best_epoch: r.best_epoch,
                epochs: r.history.len(),
                seconds: r.seconds,
            }
        })
        .collect();
    let series: Vec<Series> = records
        .iter()
        .map(|(name, r)| Series {
            name,
            history: &r.history,
            best_epoch: r.best_epoch,
        })
        .collect();
    let svg = learning_curves_svg("digits, 200 training examples: one MLP, five ways", &series)
        .map_err(|e| CliError::runtime(format!("curves.svg: {e}")))?;
    staging.write("curves.svg", svg.as_bytes())?;
    let json = serde_json::to_string_pretty(&rows).map_err(|e| CliError::runtime(e.to_string()))?;
    staging.write("summary.json", json.as_bytes())?;
    let tmp = staging.commit()?;
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| CliError::runtime(format!("{}: {e}", out.display())))?;
    }
    std::fs::rename(&tmp, &out).map_err(|e| CliError::runtime(format!("{}: {e}", out.display())))?;
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                format!("{:.3}", r.train_accuracy),
                format!("{:.3}", r.val_accuracy),
                format!("{:.3}", r.test_accuracy),
                format!("{:+.3}", r.gap),
                r.best_epoch.to_string(),
                r.epochs.to_string(),
                format!("{:.1}", r.seconds),
            ]
        })
        .collect();
    println!(
        "{}",
        text_table(
            &[
                "run",
                "train acc",
                "val acc",
                "test acc",
                "gap",
                "best epoch",
                "epochs",
                "seconds"
            ],
            &table_rows
        )
    );
    println!(
        "gap = train accuracy - validation accuracy (both without dropout) at the weights each run ends with."
    );
    println!(
        "curves: {}  summary: {}",
        out.join("curves.svg").display(),
        out.join("summary.json").display()
    );
    Ok(())
}
