//! `droplab demo`: the same wide MLP trained four ways (no regularization, dropout, L2,
//! dropout with max-norm) on a small training split of the embedded digits over several
//! seeds, each scored at its best epoch (early stopping's restored weights) and at its last,
//! with 95 % intervals and a verdict per regularizer computed from the paired differences.

use std::path::{Path, PathBuf};

use droplab::model::{DropoutConfig, ModelConfig};
use droplab::optim::OptimizerConfig;
use droplab::train::{EarlyStoppingConfig, EpochMetrics, TrainConfig};
use droplab_lab::claims::stats::{Stat, paired, stat};
use droplab_report::{SeedRuns, band_curves_svg, markdown_table, text_table};
use serde::Serialize;

use crate::cli::DemoArgs;
use crate::error::{CliError, CliResult};
use crate::progress::{Progress, run_config};
use droplab_lab::config::{DataConfig, RunConfig};
use droplab_lab::data as dataset;
use droplab_lab::record::RunRecord;
use droplab_lab::staging::Staging;

/// The arms of the demo: what each changes in the base network.
const ARMS: [&str; 4] = ["none", "dropout", "l2", "dropout+maxnorm"];

/// The demo's training set: 400 examples of the digits, where dropout's gain on this network
/// is clear over a few seeds (on 200 it is within the noise, and `claims` finds the gain
/// largest at a few hundred to a few thousand examples).
const TRAIN_SIZE: usize = 400;

/// The config of `arm` for `seed`. Every arm keeps the weights of its epoch with the lowest
/// validation loss (early stopping's restore, with a patience as long as the run so that it
/// never stops), and the last epoch's are scored too.
fn arm_config(arm: &str, seed: u64, epochs: usize, threads: usize) -> RunConfig {
    let mut c = RunConfig {
        seed,
        threads,
        data: DataConfig {
            dataset: "digits".into(),
            val_fraction: 0.2,
            test_fraction: 0.25,
            train_size: TRAIN_SIZE,
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
            early_stopping: Some(EarlyStoppingConfig {
                patience: epochs,
                ..Default::default()
            }),
            ..Default::default()
        },
        recipe: None,
    };
    let dropout = DropoutConfig {
        input: 0.2,
        hidden: vec![0.5],
        ..Default::default()
    };
    match arm {
        "dropout" => c.model.dropout = dropout,
        "l2" => c.model.regularization.l2 = 1e-3,
        "dropout+maxnorm" => {
            c.model.dropout = dropout;
            c.model.regularization.max_norm = Some(2.0);
        }
        _ => {}
    }
    c
}

/// One arm over the seeds: each seed's numbers and their means with 95 % intervals.
#[derive(Debug, Serialize)]
struct Arm {
    name: String,
    /// Test accuracy of the restored best-epoch weights, per seed.
    test_accuracy_best: Vec<f64>,
    /// Test accuracy of the last epoch's weights, per seed.
    test_accuracy_last: Vec<f64>,
    /// Train minus validation accuracy at the best epoch, per seed.
    gap_best: Vec<f64>,
    /// Validation loss at the best epoch, per seed.
    val_loss_best: Vec<f64>,
    /// The best epoch, per seed.
    best_epoch: Vec<usize>,
    /// Wall-clock seconds, per seed.
    seconds: Vec<f64>,
    mean_test_accuracy_best: Stat,
    mean_test_accuracy_last: Stat,
    mean_gap_best: Stat,
    mean_val_loss_best: Stat,
}

/// A regularized arm against `none`, paired by seed.
#[derive(Debug, Serialize)]
struct Verdict {
    arm: String,
    /// Test accuracy difference (best-epoch weights), arm minus none, with its interval.
    difference: Stat,
    /// `helps`, `hurts` or `no clear difference`.
    verdict: &'static str,
}

/// `s` with its interval clipped to what the quantity can be (an accuracy to [0, 1]): a
/// t-interval over few seeds can reach past it.
fn clipped(mut s: Stat, lo: f64, hi: f64) -> Stat {
    (s.lo, s.hi) = (s.lo.max(lo), s.hi.min(hi));
    s
}

/// The verdict of a paired difference: clear only when its whole 95 % interval is on one side.
fn verdict_of(d: &Stat) -> &'static str {
    if d.n < 2 {
        "no clear difference"
    } else if d.lo > 0.0 {
        "helps"
    } else if d.hi < 0.0 {
        "hurts"
    } else {
        "no clear difference"
    }
}

/// The metrics of a run's best epoch.
fn at_best(r: &RunRecord) -> &EpochMetrics {
    &r.history[r.best_epoch.max(1) - 1]
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
    let epochs = args.epochs.unwrap_or(60);
    if epochs == 0 {
        return Err(CliError::usage("--epochs must be at least 1"));
    }
    if args.seeds == 0 {
        return Err(CliError::usage("--seeds must be at least 1"));
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
    let threads = args.threads.unwrap_or(0);
    let seeds: Vec<u64> = (0..args.seeds as u64).map(|s| args.seed + s).collect();
    let base = arm_config("none", seeds[0], epochs, threads);
    let start = std::time::Instant::now();
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    if !args.quiet {
        let s = dataset::load(&base.data, seeds[0])?;
        eprintln!(
            "digits: {} training, {} validation, {} test examples; MLP {} trained {} ways x {} seeds, {epochs} epochs each",
            s.train.len(),
            s.val.len(),
            s.test.len(),
            base.model.model_string(),
            ARMS.len(),
            seeds.len()
        );
    }
    let mut records: Vec<Vec<RunRecord>> = vec![Vec::new(); ARMS.len()];
    for (k, &seed) in seeds.iter().enumerate() {
        let splits = dataset::load(&base.data, seed)?;
        for (a, arm) in ARMS.iter().enumerate() {
            if !args.quiet {
                let line = format!(
                    "seed {}/{}: {arm:<16} ({:.0} s)",
                    k + 1,
                    seeds.len(),
                    start.elapsed().as_secs_f64()
                );
                if terminal {
                    eprint!("\r{line}");
                } else {
                    eprintln!("{line}");
                }
            }
            let cfg = arm_config(arm, seed, epochs, threads);
            let dir = staging.path().join(format!("{arm}-seed{seed}"));
            let (rec, _) = run_config(&cfg.check()?, &splits, &dir, None, Progress::Quiet)?;
            if let Some(msg) = &rec.divergence {
                return Err(CliError::runtime(format!(
                    "demo run '{arm}' (seed {seed}): {msg}"
                )));
            }
            records[a].push(rec);
        }
    }
    if !args.quiet {
        let line = format!(
            "trained {} runs in {:.0} s",
            ARMS.len() * seeds.len(),
            start.elapsed().as_secs_f64()
        );
        if terminal {
            eprintln!("\r{line:<40}");
        } else {
            eprintln!("{line}");
        }
    }
    let arms: Vec<Arm> = ARMS
        .iter()
        .zip(&records)
        .map(|(name, recs)| {
            let test_accuracy_best: Vec<f64> = recs.iter().map(|r| r.test.accuracy).collect();
            let test_accuracy_last: Vec<f64> = recs
                .iter()
                .map(|r| r.test_last_epoch.map_or(r.test.accuracy, |t| t.accuracy))
                .collect();
            let gap_best: Vec<f64> = recs.iter().map(|r| at_best(r).gap).collect();
            let val_loss_best: Vec<f64> = recs.iter().map(|r| at_best(r).val_loss).collect();
            Arm {
                name: name.to_string(),
                mean_test_accuracy_best: clipped(stat(&test_accuracy_best), 0.0, 1.0),
                mean_test_accuracy_last: clipped(stat(&test_accuracy_last), 0.0, 1.0),
                mean_gap_best: clipped(stat(&gap_best), -1.0, 1.0),
                mean_val_loss_best: clipped(stat(&val_loss_best), 0.0, f64::INFINITY),
                test_accuracy_best,
                test_accuracy_last,
                gap_best,
                val_loss_best,
                best_epoch: recs.iter().map(|r| r.best_epoch).collect(),
                seconds: recs.iter().map(|r| r.seconds).collect(),
            }
        })
        .collect();
    let verdicts: Vec<Verdict> = arms[1..]
        .iter()
        .map(|a| {
            let difference = paired(&a.test_accuracy_best, &arms[0].test_accuracy_best);
            Verdict {
                arm: a.name.clone(),
                verdict: verdict_of(&difference),
                difference,
            }
        })
        .collect();
    let verdict_lines: Vec<String> = verdicts
        .iter()
        .map(|v| {
            format!(
                "{} vs none: test accuracy {} points over {} seeds (paired, 95 % interval): {}",
                v.arm,
                signed(&v.difference),
                seeds.len(),
                v.verdict
            )
        })
        .collect();
    let headers = [
        "run",
        "test acc, best epoch (%)",
        "test acc, last epoch (%)",
        "gap at best (points)",
        "val loss at best",
        "best epoch",
        "s/run",
    ];
    let table_rows: Vec<Vec<String>> = arms
        .iter()
        .map(|a| {
            vec![
                a.name.clone(),
                a.mean_test_accuracy_best.show(100.0, 2),
                a.mean_test_accuracy_last.show(100.0, 2),
                a.mean_gap_best.show(100.0, 2),
                a.mean_val_loss_best.show(1.0, 3),
                format!(
                    "{:.0}",
                    a.best_epoch.iter().sum::<usize>() as f64 / a.best_epoch.len() as f64
                ),
                format!("{:.1}", a.seconds.iter().sum::<f64>() / a.seconds.len() as f64),
            ]
        })
        .collect();
    let configs: Vec<SeedRuns> = ARMS
        .iter()
        .zip(&records)
        .map(|(name, recs)| SeedRuns {
            name,
            histories: recs.iter().map(|r| r.history.as_slice()).collect(),
        })
        .collect();
    let title = format!(
        "digits, {TRAIN_SIZE} training examples: validation curves over {} seeds",
        seeds.len()
    );
    let svg = band_curves_svg(&title, &configs).map_err(|e| CliError::runtime(format!("curves.svg: {e}")))?;
    staging.write("curves.svg", svg.as_bytes())?;
    let explain = format!(
        "MLP {} (ReLU) on {TRAIN_SIZE} training examples of the digits, SGD lr 0.02 momentum 0.9, batch 20, {epochs} epochs, seeds {}..={}. \
         Best epoch: the lowest validation loss; its weights are restored, as early stopping does (with a patience as long as the run), and the last epoch's are scored too. \
         Gap: train minus validation accuracy at the best epoch, both without dropout. Intervals: 95 %, Student's t over seeds, clipped to the metric's range.",
        base.model.model_string(),
        seeds[0],
        seeds[seeds.len() - 1]
    );
    let md = format!(
        "# droplab demo\n\n{}\n\n{explain}\n\n{}\n\n![curves](curves.svg)\n",
        markdown_table(&headers, &table_rows),
        verdict_lines
            .iter()
            .map(|l| format!("- {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    staging.write("summary.md", md.as_bytes())?;
    let summary = serde_json::json!({
        "setup": {
            "dataset": "digits",
            "train_size": TRAIN_SIZE,
            "model": base.model.model_string(),
            "epochs": epochs,
            "seeds": seeds,
        },
        "arms": arms,
        "verdicts": verdicts,
    });
    let json = serde_json::to_string_pretty(&summary).map_err(|e| CliError::runtime(e.to_string()))?;
    staging.write("summary.json", json.as_bytes())?;
    let tmp = staging.commit()?;
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| CliError::runtime(format!("{}: {e}", out.display())))?;
    }
    std::fs::rename(&tmp, &out).map_err(|e| CliError::runtime(format!("{}: {e}", out.display())))?;
    println!("{}", text_table(&headers, &table_rows));
    for l in &verdict_lines {
        println!("{l}");
    }
    println!("{explain}");
    println!(
        "curves: {}  summary: {}",
        out.join("curves.svg").display(),
        out.join("summary.md").display()
    );
    Ok(())
}

/// `+0.88 [0.31, 1.45]` in points.
fn signed(d: &Stat) -> String {
    if d.n > 1 {
        format!(
            "{:+.2} [{:.2}, {:.2}]",
            100.0 * d.mean,
            100.0 * d.lo,
            100.0 * d.hi
        )
    } else {
        format!("{:+.2}", 100.0 * d.mean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_is_clear_only_when_the_whole_interval_is_on_one_side() {
        // Differences over four seeds: 1.3, 0.45, 0.66, 1.1 points, mean 0.8775, sd 0.39076,
        // t(3) = 3.18245: half-width 0.62179 -> [0.2557, 1.4993], above zero.
        let d = paired(&[0.973, 0.9645, 0.9666, 0.971], &[0.96, 0.96, 0.96, 0.96]);
        assert!(
            (d.mean - 0.008775).abs() < 1e-9 && (d.lo - 0.0025571).abs() < 1e-6,
            "{d:?}"
        );
        assert_eq!(verdict_of(&d), "helps");
        let d = paired(&[0.95, 0.95, 0.95, 0.95], &[0.973, 0.9645, 0.9666, 0.971]);
        assert_eq!(verdict_of(&d), "hurts");
        // Mixed signs: the interval straddles zero.
        let d = paired(&[0.97, 0.95, 0.96, 0.96], &[0.96, 0.96, 0.96, 0.96]);
        assert_eq!(verdict_of(&d), "no clear difference");
        // One seed says nothing.
        assert_eq!(verdict_of(&paired(&[0.99], &[0.9])), "no clear difference");
    }
}
