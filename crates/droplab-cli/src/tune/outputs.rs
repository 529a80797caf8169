//! What a finished study leaves: the leaderboard, `study.json`, the validation curves and the
//! search history as SVG, and the refit of the best config.

use std::path::Path;

use droplab_report::{
    Axis, CurvePoint, HistoryPoint, parallel_coordinates_svg, search_history_svg, text_table,
    validation_curve_svg,
};
use droplab_tune::space::show;
use droplab_tune::{Dist, Store, TrialRecord, TrialState};
use serde::Serialize;

use crate::error::{CliError, CliResult};
use crate::progress::{self, Progress};
use droplab_lab::config::DataConfig;
use droplab_lab::data::{self as dataset, Splits};
use droplab_lab::record::RunRecord;

use super::Resolved;
use droplab_lab::objective::trial_config;

/// The refit of the best config.
#[derive(Debug, Serialize)]
struct Refit {
    trial: i64,
    run_dir: String,
    epochs: usize,
    test_accuracy: f64,
    test_loss: f64,
}

#[derive(Debug, Serialize)]
struct StudyJson<'a> {
    name: &'a str,
    store: &'a str,
    spec: &'a droplab_tune::StudySpec,
    trials: &'a [TrialRecord],
    done: usize,
    pruned: usize,
    failed: usize,
    best: Option<&'a TrialRecord>,
    /// Median milliseconds per trial in the store (claim, epoch and fold reports).
    coordination_ms_median: Option<f64>,
    /// Each parameter's main-effect share of the done trials' score variance
    /// (`droplab_tune::importance`), and the number of trials it rests on.
    importance: Vec<Importance>,
    importance_trials: usize,
    refit: Option<Refit>,
}

/// One parameter's importance.
#[derive(Debug, Serialize)]
struct Importance {
    path: String,
    /// Between-group share of the score variance (eta²); `None` with too few trials.
    share: Option<f64>,
}

/// The best trial: the highest mean CV score among trials that finished every fold.
pub fn best(trials: &[TrialRecord], folds: usize) -> Option<&TrialRecord> {
    trials
        .iter()
        .filter(|t| t.state == TrialState::Done && t.folds.len() == folds)
        .filter(|t| t.score.is_some_and(f64::is_finite))
        .max_by(|a, b| {
            a.score
                .unwrap_or(f64::MIN)
                .total_cmp(&b.score.unwrap_or(f64::MIN))
        })
}

fn write_atomic(path: &Path, bytes: &[u8]) -> CliResult {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|e| crate::error::io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| crate::error::io_err(path, e))
}

/// The leaderboard: the ten best finished trials, then a count of the others.
pub fn leaderboard(r: &Resolved, trials: &[TrialRecord]) -> String {
    let mut done: Vec<&TrialRecord> = trials
        .iter()
        .filter(|t| t.state == TrialState::Done && t.score.is_some())
        .collect();
    done.sort_by(|a, b| {
        b.score
            .unwrap_or(f64::MIN)
            .total_cmp(&a.score.unwrap_or(f64::MIN))
    });
    let paths: Vec<&str> = r.spec.space.params.iter().map(|p| p.path.as_str()).collect();
    let mut headers = vec!["rank", "trial"];
    headers.extend(paths.iter().copied());
    headers.extend(["cv score", "sd", "gap", "seconds"]);
    let rows: Vec<Vec<String>> = done
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, t)| {
            let mut row = vec![(i + 1).to_string(), t.number.to_string()];
            row.extend(
                paths
                    .iter()
                    .map(|p| t.params.get(*p).map(show).unwrap_or_else(|| "-".into())),
            );
            let score = t.score.unwrap_or(f64::NAN);
            row.push(format!("{score:.4}"));
            row.push(format!("{:.4}", t.score_std.unwrap_or(f64::NAN)));
            row.push(format!("{:+.4}", t.train_score.unwrap_or(f64::NAN) - score));
            row.push(format!("{:.1}", t.seconds.unwrap_or(f64::NAN)));
            row
        })
        .collect();
    let mut s = text_table(&headers, &rows);
    let count = |st: TrialState| trials.iter().filter(|t| t.state == st).count();
    s.push_str(&format!(
        "{} trials: {} done, {} pruned, {} failed\n",
        trials.len(),
        count(TrialState::Done),
        count(TrialState::Pruned),
        count(TrialState::Failed)
    ));
    s
}

/// What a trial's score is: the accuracy, or for a regression (real-valued targets: `--task
/// regression`, `uci:SET`) the negative MSE (on the validation folds).
fn metric_name(r: &Resolved) -> &'static str {
    let regression = toml::from_str::<droplab_lab::config::RunConfig>(&r.spec.base).is_ok_and(|c| {
        c.data.task == droplab_lab::config::Task::Regression || c.data.dataset.starts_with("uci:")
    });
    if regression { "negative MSE" } else { "accuracy" }
}

fn plots(r: &Resolved, trials: &[TrialRecord]) -> CliResult<Vec<String>> {
    let mut written = Vec::new();
    let metric = metric_name(r);
    let others_vary = r.spec.space.params.len() > 1;
    let done: Vec<&TrialRecord> = trials.iter().filter(|t| t.state == TrialState::Done).collect();
    for p in &r.spec.space.params {
        let pts: Vec<CurvePoint> = done
            .iter()
            .filter_map(|t| {
                let x = t.params.get(&p.path)?.as_f64()?;
                let mean = t.score?;
                Some(CurvePoint {
                    x,
                    mean,
                    std: t.score_std.unwrap_or(0.0),
                    gap: t.train_score.map(|tr| tr - mean).unwrap_or(f64::NAN),
                })
            })
            .collect();
        if pts.is_empty() {
            continue;
        }
        let log = matches!(p.dist, Dist::LogUniform { .. })
            || matches!(&p.dist, Dist::List { values } if values.iter().all(|v| *v > 0.0)
                && values.iter().cloned().fold(f64::MIN, f64::max) / values.iter().cloned().fold(f64::MAX, f64::min) >= 100.0);
        let title = format!("{}: validation curve of {}", r.spec.name, p.path);
        let svg = validation_curve_svg(&title, &p.path, metric, &pts, log, others_vary)
            .map_err(|e| CliError::runtime(e.to_string()))?;
        let name = format!("validation-curve-{}.svg", p.path);
        write_atomic(&r.out.join(&name), svg.as_bytes())?;
        written.push(name);
    }
    let history: Vec<HistoryPoint> = trials
        .iter()
        .map(|t| HistoryPoint {
            trial: t.number as usize,
            score: t.score,
            pruned: t.state == TrialState::Pruned,
        })
        .collect();
    if let Ok(svg) = search_history_svg(&format!("{}: search history", r.spec.name), metric, &history) {
        write_atomic(&r.out.join("history.svg"), svg.as_bytes())?;
        written.push("history.svg".into());
    }
    // Every done trial through every parameter and its score. Categories become their index
    // in the choice's list.
    let categories: Vec<Vec<String>> = r
        .spec
        .space
        .params
        .iter()
        .map(|p| match &p.dist {
            Dist::Choice { values } => values.iter().map(droplab_tune::space::show).collect(),
            _ => Vec::new(),
        })
        .collect();
    let axes: Vec<Axis> = r
        .spec
        .space
        .params
        .iter()
        .zip(&categories)
        .map(|(p, c)| Axis {
            name: &p.path,
            log: matches!(p.dist, Dist::LogUniform { .. }),
            categories: c,
        })
        .collect();
    let rows: Vec<(Vec<f64>, f64)> = done
        .iter()
        .filter_map(|t| {
            let values = r
                .spec
                .space
                .params
                .iter()
                .zip(&categories)
                .map(|(p, c)| {
                    let v = t.params.get(&p.path)?;
                    if c.is_empty() {
                        v.as_f64()
                    } else {
                        c.iter()
                            .position(|x| *x == droplab_tune::space::show(v))
                            .map(|i| i as f64)
                    }
                })
                .collect::<Option<Vec<f64>>>()?;
            Some((values, t.score?))
        })
        .collect();
    if let Ok(svg) = parallel_coordinates_svg(
        &format!("{}: trials in parallel coordinates", r.spec.name),
        &axes,
        metric,
        &rows,
    ) {
        write_atomic(&r.out.join("parallel-coordinates.svg"), svg.as_bytes())?;
        written.push("parallel-coordinates.svg".into());
    }
    Ok(written)
}

/// Trains the best config on all training data (training and validation splits) and
/// evaluates it once on the test set. With early stopping in the config, the run trains for
/// the mean best epoch of the folds instead (there is no validation set left to stop on).
fn refit(r: &Resolved, best: &TrialRecord, quiet: bool) -> CliResult<Refit> {
    let mut cfg = trial_config(&r.spec, &best.params)?;
    if cfg.train.early_stopping.take().is_some() {
        let mean =
            best.folds.iter().map(|f| f.best_epoch as f64).sum::<f64>() / best.folds.len().max(1) as f64;
        cfg.train.epochs = (mean.round() as usize).max(1);
    }
    cfg.pin_threads();
    let dir = r.out.join(format!("refit-trial{}", best.number));
    let record_path = dir.join("record.json");
    let record: RunRecord = if record_path.exists() {
        let text =
            std::fs::read_to_string(&record_path).map_err(|e| crate::error::io_err(&record_path, e))?;
        serde_json::from_str(&text).map_err(|e| crate::error::io_err(&record_path, e))?
    } else {
        let unscaled = DataConfig {
            scaling: "none".into(),
            ..cfg.data.clone()
        };
        let s = dataset::load(&unscaled, cfg.seed)?;
        let mut train = dataset::concat(&s.train, &s.val)?;
        let mut test = s.test;
        let scaler = dataset::fit_scaler(&cfg.data.scaling, &train)?;
        scaler.apply(&mut train)?;
        scaler.apply(&mut test)?;
        let val = train.select(&[]);
        let splits = Splits {
            train,
            val,
            test,
            scaler,
            notes: s.notes,
        };
        if !quiet {
            eprintln!(
                "refit: trial {} on all {} training examples for {} epochs",
                best.number,
                splits.train.len(),
                cfg.train.epochs
            );
        }
        progress::run_config(&cfg.clone().check()?, &splits, &dir, None, Progress::Quiet)?.0
    };
    Ok(Refit {
        trial: best.number,
        run_dir: dir.display().to_string(),
        epochs: cfg.train.epochs,
        test_accuracy: record.test.accuracy,
        test_loss: record.test.loss,
    })
}

/// Writes the outputs of a finished study and prints the leaderboard.
pub fn write(r: &Resolved, store: &Store, trials: &[TrialRecord], do_refit: bool, quiet: bool) -> CliResult {
    let best = best(trials, r.spec.folds);
    let count = |st: TrialState| trials.iter().filter(|t| t.state == st).count();
    let mut coord: Vec<f64> = trials.iter().filter_map(|t| t.coordination_ms).collect();
    let coordination_ms_median = (!coord.is_empty()).then(|| droplab_tune::study::median(&mut coord));
    let refit = match (do_refit, best) {
        (true, Some(b)) => Some(refit(r, b, quiet)?),
        (true, None) => {
            return Err(CliError::runtime(
                "--refit: no trial finished every fold, so there is no best config to refit",
            ));
        }
        _ => None,
    };
    let plots = plots(r, trials)?;
    let done: Vec<TrialRecord> = trials
        .iter()
        .filter(|t| t.state == TrialState::Done)
        .cloned()
        .collect();
    let importance: Vec<Importance> = droplab_tune::importance::main_effects(&r.spec.space, &done)
        .into_iter()
        .map(|(path, share)| Importance { path, share })
        .collect();
    let json = StudyJson {
        name: &r.spec.name,
        store: store.url(),
        spec: &r.spec,
        trials,
        done: count(TrialState::Done),
        pruned: count(TrialState::Pruned),
        failed: count(TrialState::Failed),
        best,
        coordination_ms_median,
        importance,
        importance_trials: done.len(),
        refit,
    };
    let text =
        serde_json::to_string_pretty(&json).map_err(|e| CliError::runtime(format!("study.json: {e}")))?;
    write_atomic(&r.out.join("study.json"), text.as_bytes())?;
    if !quiet {
        print!("{}", leaderboard(r, trials));
        if let Some(b) = best {
            println!(
                "best: trial {} {} cv score {:.4} +- {:.4}",
                b.number,
                super::show_params(&b.params),
                b.score.unwrap_or(f64::NAN),
                b.score_std.unwrap_or(f64::NAN)
            );
        }
        let shares: Vec<String> = json
            .importance
            .iter()
            .filter_map(|i| i.share.map(|s| format!("{} {s:.2}", i.path)))
            .collect();
        if !shares.is_empty() {
            println!(
                "importance (main-effect share of the score's variance over {} done trials): {}",
                json.importance_trials,
                shares.join(", ")
            );
        }
        if let Some(rf) = &json.refit {
            println!(
                "refit on all training data: test accuracy {:.4}  loss {:.4}  ({})",
                rf.test_accuracy, rf.test_loss, rf.run_dir
            );
        }
        println!(
            "study written to {} (study.json, {})",
            r.out.display(),
            plots.join(", ")
        );
    }
    Ok(())
}
