//! `droplab analyze uncertainty|ensemble RUN_DIR`: what dropout does in a trained run.
//!
//! `uncertainty`, Monte Carlo dropout uncertainty:
//! Classification: weight scaling against the MC mean of T passes (accuracy, NLL, Brier, ECE
//! with a reliability diagram), the entropy / expected entropy / BALD of each prediction
//! summarised over correct and wrong predictions, and how the MC estimate settles as T grows.
//! Regression: RMSE of the weight-scaled and MC-mean predictions and the Gaussian test
//! log-likelihood with precision `--tau` (Gal & Ghahramani 2016).
//!
//! `ensemble`, the ensemble of thinned networks: K networks with fixed masks, each one's
//! error, the arithmetic and geometric means of the first k, Monte Carlo dropout (a mask per
//! example) over k passes, and the weight-scaled network; the agreement between thinned
//! networks; the error against k as SVG (Srivastava et al. 2014, Figure 11).
//!
//! `coadaptation`, hidden units: per hidden dense layer the mean activation, sparsity, dead
//! units and mean |correlation| between units, activation histograms, and the first layer's
//! weights drawn as images; for one run or two side by side (`--compare`).

use std::path::{Path, PathBuf};

use droplab::analysis::uncertainty::{self, Calibration, McSamples};
use droplab::analysis::{coadaptation as coad, ensemble};
use droplab::nn::{Mode, Targets};
use droplab::tensor::Threads;
use droplab::train::predict_proba;
use droplab_report::{
    Histogram, KCurve, Reliability, ReliabilityBin, activation_histogram_svg, error_vs_k_svg, features_svg,
    markdown_table, reliability_svg, text_table,
};
use serde::Serialize;

use crate::cli::{CoadaptationArgs, EnsembleArgs, RunInput, UncertaintyArgs};
use crate::error::{CliError, CliResult, io_err};
use droplab_lab::run::{LoadedRun, load_run};

#[derive(Debug, Serialize)]
struct Scores {
    method: String,
    samples: usize,
    accuracy: f64,
    nll: f64,
    brier: f64,
    ece: f64,
}

#[derive(Debug, Serialize)]
struct Group {
    examples: usize,
    entropy: f64,
    expected_entropy: f64,
    mutual_information: f64,
    variance: f64,
}

#[derive(Debug, Serialize)]
struct Settling {
    samples: usize,
    accuracy: f64,
    nll: f64,
    ece: f64,
    /// Mean absolute difference of the MC mean probabilities from the estimate with all samples.
    mean_abs_diff_from_final: f64,
}

#[derive(Debug, Serialize)]
struct RegressionScores {
    samples: usize,
    tau: f64,
    rmse_weight_scaling: f64,
    rmse_mc: f64,
    test_log_likelihood: f64,
    predictive_sd_mean: f64,
}

fn bins(c: &Calibration) -> Vec<ReliabilityBin> {
    c.bins
        .iter()
        .map(|b| ReliabilityBin {
            confidence: b.confidence,
            accuracy: b.accuracy,
            count: b.count,
        })
        .collect()
}

fn group(us: &[&uncertainty::ExampleUncertainty]) -> Group {
    let n = us.len().max(1) as f64;
    Group {
        examples: us.len(),
        entropy: us.iter().map(|u| u.entropy).sum::<f64>() / n,
        expected_entropy: us.iter().map(|u| u.expected_entropy).sum::<f64>() / n,
        mutual_information: us.iter().map(|u| u.mutual_information).sum::<f64>() / n,
        variance: us.iter().map(|u| u.variance).sum::<f64>() / n,
    }
}

impl RunInput {
    /// The run at `dir` with this input's split, dataset and data directory.
    fn load(&self, dir: &Path) -> CliResult<LoadedRun> {
        load_run(
            dir,
            self.dataset.as_deref(),
            self.data_dir.as_deref(),
            &self.split,
        )
    }

    fn threads(&self) -> CliResult<Threads> {
        Ok(Threads::new(self.threads.filter(|&t| t > 0))?)
    }

    /// `--out`, or `RUN_DIR/analysis/ANALYSIS`.
    fn out_dir(&self, analysis: &str) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| self.run_dir.join("analysis").join(analysis))
    }
}

fn write(path: &Path, text: &str) -> CliResult {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// `droplab analyze uncertainty`.
pub fn uncertainty(args: &UncertaintyArgs) -> CliResult {
    if args.samples == 0 {
        return Err(CliError::usage("--samples: at least 1 Monte Carlo pass"));
    }
    if args.bins == 0 {
        return Err(CliError::usage("--bins: at least 1 bin"));
    }
    let LoadedRun {
        record,
        data,
        mut model,
        dataset,
        ..
    } = args.run.load(&args.run.run_dir)?;
    let threads = args.run.threads()?;
    let out = args.run.out_dir("uncertainty");
    let start = std::time::Instant::now();
    match &data.y {
        Targets::Classes(labels) => {
            classification(args, &mut model, &data, labels, &threads, &out, &dataset)?
        }
        Targets::Values(y) => {
            let Some(tau) = args.tau else {
                return Err(CliError::usage(format!(
                    "{}: a regression model needs --tau, the model precision of the Gaussian likelihood (Gal & Ghahramani 2016 choose it on validation data)",
                    args.run.run_dir.display()
                )));
            };
            regression(args, &mut model, &data, y, tau, &threads, &out)?
        }
    }
    if !args.run.quiet {
        println!(
            "{} ({} {} examples, {} passes, {:.1}s); written to {}",
            record.config.data.dataset,
            data.len(),
            args.run.split,
            args.samples,
            start.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(())
}

fn classification(
    args: &UncertaintyArgs,
    model: &mut droplab::Sequential,
    data: &droplab::data::Dataset,
    labels: &[u32],
    threads: &Threads,
    out: &Path,
    dataset: &str,
) -> CliResult {
    let ws = predict_proba(model, data, Mode::Eval, 1, 500, threads)?;
    let ws_cal = uncertainty::calibration(ws.probs.data(), ws.probs.cols(), labels, args.bins)?;
    let mc = McSamples::collect(model, data, Mode::MonteCarlo, args.samples, 500, true, threads)?;
    no_dropout_check(&mc, args)?;
    let k = mc.k;
    let final_mean = mc.mean(mc.passes);
    let mc_cal = uncertainty::calibration(&final_mean, k, labels, args.bins)?;
    let scores = vec![
        Scores {
            method: "weight scaling".into(),
            samples: 1,
            accuracy: ws_cal.accuracy,
            nll: ws_cal.nll,
            brier: ws_cal.brier,
            ece: ws_cal.ece,
        },
        Scores {
            method: format!("MC dropout, T = {}", mc.passes),
            samples: mc.passes,
            accuracy: mc_cal.accuracy,
            nll: mc_cal.nll,
            brier: mc_cal.brier,
            ece: mc_cal.ece,
        },
    ];
    let us = uncertainty::uncertainties(&mc);
    let (right, wrong): (Vec<_>, Vec<_>) = us
        .iter()
        .zip(labels)
        .partition(|(u, y)| u.predicted == **y as usize);
    let right: Vec<_> = right.into_iter().map(|(u, _)| u).collect();
    let wrong: Vec<_> = wrong.into_iter().map(|(u, _)| u).collect();
    let all: Vec<_> = us.iter().collect();
    let groups = [
        ("all", group(&all)),
        ("correct", group(&right)),
        ("wrong", group(&wrong)),
    ];
    let mut settling = Vec::new();
    for t in [1usize, 2, 5, 10, 20, 50, 100, 200, 500, 1000] {
        if t > mc.passes {
            break;
        }
        let m = mc.mean(t);
        let c = uncertainty::calibration(&m, k, labels, args.bins)?;
        let diff = m
            .iter()
            .zip(&final_mean)
            .map(|(a, b)| (a - b).abs() as f64)
            .sum::<f64>()
            / m.len() as f64;
        settling.push(Settling {
            samples: t,
            accuracy: c.accuracy,
            nll: c.nll,
            ece: c.ece,
            mean_abs_diff_from_final: diff,
        });
    }
    // Plots and files.
    let (ws_bins, mc_bins) = (bins(&ws_cal), bins(&mc_cal));
    let ws_name = format!("weight scaling (ECE {:.4})", ws_cal.ece);
    let mc_name = format!("MC dropout, T = {} (ECE {:.4})", mc.passes, mc_cal.ece);
    let svg = reliability_svg(
        &format!("{dataset} {}: reliability", args.run.split),
        &[
            Reliability {
                name: &ws_name,
                bins: &ws_bins,
            },
            Reliability {
                name: &mc_name,
                bins: &mc_bins,
            },
        ],
    )
    .map_err(|e| CliError::runtime(e.to_string()))?;
    write(&out.join("reliability.svg"), &svg)?;
    let json = serde_json::json!({
        "run": args.run.run_dir.display().to_string(),
        "dataset": dataset,
        "split": args.run.split,
        "examples": data.len(),
        "samples": mc.passes,
        "bins": args.bins,
        "scores": scores,
        "uncertainty": groups.iter().map(|(n, g)| (n.to_string(), serde_json::to_value(g).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
        "settling": settling,
        "reliability": {
            "weight_scaling": ws_cal.bins.iter().map(|b| serde_json::json!({"lo": b.lo, "hi": b.hi, "count": b.count, "confidence": nan_null(b.confidence), "accuracy": nan_null(b.accuracy)})).collect::<Vec<_>>(),
            "mc": mc_cal.bins.iter().map(|b| serde_json::json!({"lo": b.lo, "hi": b.hi, "count": b.count, "confidence": nan_null(b.confidence), "accuracy": nan_null(b.accuracy)})).collect::<Vec<_>>(),
        },
    });
    write(
        &out.join("uncertainty.json"),
        &serde_json::to_string_pretty(&json).map_err(|e| CliError::runtime(e.to_string()))?,
    )?;
    let score_rows: Vec<Vec<String>> = scores
        .iter()
        .map(|s| {
            vec![
                s.method.clone(),
                format!("{:.4}", s.accuracy),
                format!("{:.4}", s.nll),
                format!("{:.4}", s.brier),
                format!("{:.4}", s.ece),
            ]
        })
        .collect();
    let score_headers = ["method", "accuracy", "NLL", "Brier", "ECE"];
    let group_rows: Vec<Vec<String>> = groups
        .iter()
        .map(|(n, g)| {
            vec![
                n.to_string(),
                g.examples.to_string(),
                format!("{:.4}", g.entropy),
                format!("{:.4}", g.expected_entropy),
                format!("{:.4}", g.mutual_information),
                format!("{:.5}", g.variance),
            ]
        })
        .collect();
    let group_headers = [
        "predictions",
        "n",
        "entropy",
        "expected entropy",
        "BALD",
        "variance",
    ];
    let settle_rows: Vec<Vec<String>> = settling
        .iter()
        .map(|s| {
            vec![
                s.samples.to_string(),
                format!("{:.4}", s.accuracy),
                format!("{:.4}", s.nll),
                format!("{:.4}", s.ece),
                format!("{:.5}", s.mean_abs_diff_from_final),
            ]
        })
        .collect();
    let settle_headers = ["T", "accuracy", "NLL", "ECE", "mean |p_T - p_final|"];
    let md = format!(
        "# Monte Carlo dropout uncertainty: {dataset} {}\n\n{}\n## Uncertainty (nats), T = {}\n\n{}\n## How many samples\n\n{}\n![reliability](reliability.svg)\n",
        args.run.split,
        markdown_table(&score_headers, &score_rows),
        mc.passes,
        markdown_table(&group_headers, &group_rows),
        markdown_table(&settle_headers, &settle_rows),
    );
    write(&out.join("uncertainty.md"), &md)?;
    if !args.run.quiet {
        print!(
            "{}\n{}\n{}",
            text_table(&score_headers, &score_rows),
            text_table(&group_headers, &group_rows),
            text_table(&settle_headers, &settle_rows)
        );
    }
    Ok(())
}

fn nan_null(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::Value::from(v)
    } else {
        serde_json::Value::Null
    }
}

fn regression(
    args: &UncertaintyArgs,
    model: &mut droplab::Sequential,
    data: &droplab::data::Dataset,
    y: &droplab::Tensor,
    tau: f64,
    threads: &Threads,
    out: &Path,
) -> CliResult {
    if tau.is_nan() || tau <= 0.0 {
        return Err(CliError::usage(format!(
            "--tau {tau}: the precision must be positive"
        )));
    }
    if y.cols() != 1 {
        return Err(CliError::usage(format!(
            "--tau: the Gaussian likelihood is for one regression output; this model has {}",
            y.cols()
        )));
    }
    let targets: Vec<f32> = (0..data.len()).map(|i| y.row(i)[0]).collect();
    let ws = uncertainty::gaussian_mc(model, data, &targets, Mode::Eval, 1, tau, (1.0, 0.0), threads)?;
    let mc = uncertainty::gaussian_mc(
        model,
        data,
        &targets,
        Mode::MonteCarlo,
        args.samples,
        tau,
        (1.0, 0.0),
        threads,
    )?;
    if args.samples > 1 && !mc.stochastic() {
        return Err(no_dropout(args));
    }
    let r = RegressionScores {
        samples: args.samples,
        tau,
        rmse_weight_scaling: ws.rmse(),
        rmse_mc: mc.rmse(),
        test_log_likelihood: mc.log_likelihood(),
        predictive_sd_mean: mc.mean_predictive_sd(),
    };
    write(
        &out.join("uncertainty.json"),
        &serde_json::to_string_pretty(&r).map_err(|e| CliError::runtime(e.to_string()))?,
    )?;
    if !args.run.quiet {
        println!(
            "RMSE weight scaling {:.4}, MC ({} passes) {:.4}; test log-likelihood {:.4} (tau {tau}); mean predictive sd {:.4}",
            r.rmse_weight_scaling, r.samples, r.rmse_mc, r.test_log_likelihood, r.predictive_sd_mean
        );
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct KRow {
    k: usize,
    thinned_arithmetic: f64,
    thinned_geometric: f64,
    mc_dropout: f64,
    /// The arithmetic mean of the first k bagged networks (with `--bagged`).
    bagged: Option<f64>,
}

/// Each bagged network's error and the error of the mean of the first k (percent).
type Bagged = (Vec<f64>, Vec<(usize, f64)>);

/// Bagging: `count` networks of the run's architecture without dropout, each trained on a
/// bootstrap sample of the training split (seeded), evaluated on `eval`. Returns each
/// network's error and the error of the mean of the first k, in percent.
fn bag(
    cfg: &droplab_lab::config::RunConfig,
    count: usize,
    eval: &droplab::data::Dataset,
    labels: &[u32],
    threads: &Threads,
) -> CliResult<Bagged> {
    let splits = droplab_lab::data::load(&cfg.data, cfg.seed)?;
    let n = splits.train.len();
    let mut cfg = cfg.clone();
    cfg.model.dropout = droplab::model::DropoutConfig::default();
    let val = (!splits.val.is_empty()).then_some(&splits.val);
    let mut sum: Vec<f32> = Vec::new();
    let (mut singles, mut by_k) = (Vec::new(), Vec::new());
    for b in 0..count {
        let mut rng = droplab::rng::Stream::new(cfg.seed, "bagging")
            .derive_u64(b as u64)
            .seq();
        let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
        let train = splits.train.select(&idx);
        let seed = cfg.seed.wrapping_add(1 + b as u64);
        let mut model = cfg.model.build(seed)?;
        droplab::train::fit(&mut model, &cfg.train, seed, threads, &train, val, &mut |_| {})?;
        let p = predict_proba(&mut model, eval, Mode::Eval, 1, 500, threads)?;
        let k = p.probs.cols();
        singles.push(100.0 * ensemble::error_rate(p.probs.data(), k, labels)?);
        if sum.is_empty() {
            sum = vec![0.0; p.probs.data().len()];
        }
        for (s, v) in sum.iter_mut().zip(p.probs.data()) {
            *s += v;
        }
        let m = b + 1;
        if [1usize, 2, 5, 10, 20, 50, 100, 200, 500, 1000].contains(&m) || m == count {
            let mean: Vec<f32> = sum.iter().map(|v| v / m as f32).collect();
            by_k.push((m, 100.0 * ensemble::error_rate(&mean, k, labels)?));
        }
    }
    Ok((singles, by_k))
}

/// `droplab analyze ensemble`.
pub fn ensemble(args: &EnsembleArgs) -> CliResult {
    if args.networks < 2 {
        return Err(CliError::usage("--networks: at least 2 thinned networks"));
    }
    let LoadedRun {
        record,
        data,
        mut model,
        dataset,
    } = args.run.load(&args.run.run_dir)?;
    let Targets::Classes(labels) = &data.y else {
        return Err(CliError::usage(format!(
            "{}: a regression model; the ensemble analysis compares classifiers (use `droplab analyze uncertainty --tau` for regression)",
            args.run.run_dir.display()
        )));
    };
    let threads = args.run.threads()?;
    let start = std::time::Instant::now();
    let thinned = ensemble::thinned_networks(&mut model, &data, args.networks, args.seed, &threads)?;
    if !thinned.stochastic() {
        return Err(CliError::usage(format!(
            "{}: the model has no active dropout, so every thinned network is the same network (train it with --dropout)",
            args.run.run_dir.display()
        )));
    }
    let k = thinned.k;
    let singles: Vec<f64> = (0..thinned.passes)
        .map(|t| {
            let p: Vec<f32> = (0..thinned.n).flat_map(|i| thinned.get(t, i).to_vec()).collect();
            ensemble::error_rate(&p, k, labels).map(|e| 100.0 * e)
        })
        .collect::<droplab::Result<_>>()?;
    let ws = predict_proba(&mut model, &data, Mode::Eval, 1, 500, &threads)?;
    let ws_err = 100.0 * ensemble::error_rate(ws.probs.data(), k, labels)?;
    let mc = McSamples::collect(
        &mut model,
        &data,
        Mode::MonteCarlo,
        args.networks,
        500,
        true,
        &threads,
    )?;
    let mut rows = Vec::new();
    for m in [1usize, 2, 5, 10, 20, 50, 100, 200, 500, 1000] {
        if m > args.networks {
            break;
        }
        rows.push(KRow {
            k: m,
            thinned_arithmetic: 100.0 * ensemble::error_rate(&thinned.mean(m), k, labels)?,
            thinned_geometric: 100.0
                * ensemble::error_rate(&ensemble::geometric_mean(&thinned, m), k, labels)?,
            mc_dropout: 100.0 * ensemble::error_rate(&mc.mean(m), k, labels)?,
            bagged: None,
        });
    }
    // The exact average over all masks, for networks small enough to enumerate.
    let exact = match droplab::analysis::exact::exact_average(&mut model, &data.x, 16) {
        Ok(p) => Ok(100.0 * ensemble::error_rate(p.data(), k, labels)?),
        Err(e) => Err(e.to_string()),
    };
    let bagged = if args.bagged > 0 {
        if !args.run.quiet {
            eprintln!("training {} bagged networks without dropout...", args.bagged);
        }
        let (singles, by_k) = bag(&record.config, args.bagged, &data, labels, &threads)?;
        for r in rows.iter_mut() {
            r.bagged = by_k.iter().find(|b| b.0 == r.k).map(|b| b.1);
        }
        Some((singles, by_k))
    } else {
        None
    };
    let agreement = ensemble::pairwise_agreement(&thinned, thinned.passes);
    let (mean_single, sd_single) = {
        let n = singles.len() as f64;
        let m = singles.iter().sum::<f64>() / n;
        (
            m,
            (singles.iter().map(|e| (e - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt(),
        )
    };
    let best_single = singles.iter().copied().fold(f64::INFINITY, f64::min);
    let worst_single = singles.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let out = args.run.out_dir("ensemble");
    let arith: Vec<(f64, f64)> = rows.iter().map(|r| (r.k as f64, r.thinned_arithmetic)).collect();
    let geo: Vec<(f64, f64)> = rows.iter().map(|r| (r.k as f64, r.thinned_geometric)).collect();
    let mcp: Vec<(f64, f64)> = rows.iter().map(|r| (r.k as f64, r.mc_dropout)).collect();
    let bag_pts: Vec<(f64, f64)> = bagged
        .as_ref()
        .map(|b| b.1.iter().map(|&(k, e)| (k as f64, e)).collect())
        .unwrap_or_default();
    let mut curves = vec![
        KCurve {
            name: "thinned networks, arithmetic mean",
            points: &arith,
        },
        KCurve {
            name: "thinned networks, geometric mean",
            points: &geo,
        },
        KCurve {
            name: "MC dropout (a mask per example)",
            points: &mcp,
        },
    ];
    if !bag_pts.is_empty() {
        curves.push(KCurve {
            name: "bagged networks without dropout, mean",
            points: &bag_pts,
        });
    }
    let svg = error_vs_k_svg(
        &format!("{dataset} {}: averaging thinned networks", args.run.split),
        &curves,
        &match &exact {
            Ok(e) => vec![("weight scaling", ws_err), ("exact average over all masks", *e)],
            Err(_) => vec![("weight scaling", ws_err)],
        },
        &singles,
    )
    .map_err(|e| CliError::runtime(e.to_string()))?;
    write(&out.join("error_vs_k.svg"), &svg)?;
    let json = serde_json::json!({
        "run": args.run.run_dir.display().to_string(),
        "dataset": dataset,
        "split": args.run.split,
        "examples": data.len(),
        "networks": args.networks,
        "seed": args.seed,
        "weight_scaling_error": ws_err,
        "exact_average_error": exact.as_ref().ok(),
        "exact_average_unavailable": exact.as_ref().err(),
        "single_networks": {"mean_error": mean_single, "sd": sd_single, "best": best_single, "worst": worst_single, "errors": singles},
        "pairwise_agreement": agreement,
        "diversity": 1.0 - agreement,
        "by_k": rows,
        "bagged": bagged.as_ref().map(|(singles, by_k)| serde_json::json!({
            "networks": singles.len(),
            "dropout": 0.0,
            "errors": singles,
            "mean_error": singles.iter().sum::<f64>() / singles.len() as f64,
            "by_k": by_k.iter().map(|&(k, e)| serde_json::json!({"k": k, "error": e})).collect::<Vec<_>>(),
        })),
    });
    write(
        &out.join("ensemble.json"),
        &serde_json::to_string_pretty(&json).map_err(|e| CliError::runtime(e.to_string()))?,
    )?;
    let mut headers = vec![
        "k",
        "thinned, arithmetic %",
        "thinned, geometric %",
        "MC dropout %",
    ];
    if bagged.is_some() {
        headers.push("bagged, no dropout %");
    }
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.k.to_string(),
                format!("{:.2}", r.thinned_arithmetic),
                format!("{:.2}", r.thinned_geometric),
                format!("{:.2}", r.mc_dropout),
            ];
            if bagged.is_some() {
                row.push(r.bagged.map(|e| format!("{e:.2}")).unwrap_or_else(|| "-".into()));
            }
            row
        })
        .collect();
    let mut summary = format!(
        "weight scaling: {ws_err:.2} % error; single thinned networks: {mean_single:.2} +- {sd_single:.2} % (best {best_single:.2}, worst {worst_single:.2}); pairwise agreement {:.4} (diversity {:.4})",
        agreement,
        1.0 - agreement
    );
    if let Ok(e) = &exact {
        summary.push_str(&format!("; exact average over all masks: {e:.2} % error"));
    }
    if let Some((singles, _)) = &bagged {
        summary.push_str(&format!(
            "; single bagged networks without dropout: {:.2} % mean error",
            singles.iter().sum::<f64>() / singles.len() as f64
        ));
    }
    let md = format!(
        "# Thinned networks: {dataset} {}

{} networks, seed {}.

{summary}

{}
![error against k](error_vs_k.svg)
",
        args.run.split,
        args.networks,
        args.seed,
        markdown_table(&headers, &table_rows)
    );
    write(&out.join("ensemble.md"), &md)?;
    if !args.run.quiet {
        print!("{}", text_table(&headers, &table_rows));
        println!("{summary}");
        println!(
            "({} examples, {:.1}s); written to {}",
            data.len(),
            start.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(())
}

struct CoadRun {
    name: String,
    layers: Vec<coad::LayerStats>,
}

/// `droplab analyze coadaptation`.
pub fn coadaptation(args: &CoadaptationArgs) -> CliResult {
    let threads = args.run.threads()?;
    let out = args.run.out_dir("coadaptation");
    let dirs: Vec<&PathBuf> = std::iter::once(&args.run.run_dir)
        .chain(args.compare.as_ref())
        .collect();
    let start = std::time::Instant::now();
    let mut runs = Vec::new();
    let mut features = Vec::new();
    for dir in &dirs {
        let LoadedRun { data, mut model, .. } = args.run.load(dir)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| dir.display().to_string());
        let acts = coad::hidden_activations(&mut model, &data, &threads)
            .map_err(|e| CliError::usage(format!("{}: {e}", dir.display())))?;
        let mut layers = Vec::new();
        for (i, a) in &acts {
            let desc = model.layers()[*i].describe();
            layers.push(coad::layer_stats(*i, &desc, a, args.bins, &threads)?);
        }
        // The first hidden layer's incoming weights as images, when the inputs are images
        // (one channel) or a square number of pixels.
        let first = acts[0].0;
        let w = &model.layers()[first].params()[0].value;
        let shape = &data.x.shape()[1..];
        let side = (w.cols() as f64).sqrt().round() as usize;
        let hw = match shape {
            [1, h, wd] if h * wd == w.cols() => Some((*h, *wd)),
            _ if side * side == w.cols() && side > 1 => Some((side, side)),
            _ => None,
        };
        if let Some(hw) = hw {
            let svg = features_svg(
                &format!("{name}: first-layer features"),
                w.data(),
                hw,
                args.units,
                args.units.clamp(1, 12),
            )
            .map_err(|e| CliError::runtime(e.to_string()))?;
            features.push((format!("features-{name}.svg"), svg));
        }
        runs.push(CoadRun { name, layers });
    }
    if runs.len() == 2 && runs[0].name == runs[1].name {
        runs[1].name.push_str(" (compare)");
    }
    let hist_names: Vec<String> = runs
        .iter()
        .map(|r| format!("{}: {}", r.name, r.layers[0].name))
        .collect();
    let hists: Vec<Histogram> = runs
        .iter()
        .zip(&hist_names)
        .map(|(r, n)| Histogram {
            name: n,
            bins: &r.layers[0].histogram,
        })
        .collect();
    let svg = activation_histogram_svg(
        &format!("first hidden layer activations ({})", args.run.split),
        &hists,
    )
    .map_err(|e| CliError::runtime(e.to_string()))?;
    write(&out.join("activations.svg"), &svg)?;
    for (f, svg) in &features {
        write(&out.join(f), svg)?;
    }
    let headers = [
        "run",
        "layer",
        "units",
        "mean activation",
        "sparsity",
        "dead units",
        "mean |corr|",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .flat_map(|r| {
            r.layers.iter().map(move |l| {
                vec![
                    r.name.clone(),
                    l.name.clone(),
                    l.units.to_string(),
                    format!("{:.4}", l.mean_activation),
                    format!("{:.4}", l.sparsity),
                    l.dead_units.to_string(),
                    format!("{:.4}", l.mean_abs_correlation),
                ]
            })
        })
        .collect();
    let json = serde_json::json!({
        "split": args.run.split,
        "runs": runs.iter().zip(&dirs).map(|(r, d)| serde_json::json!({
            "run": d.display().to_string(),
            "name": r.name,
            "layers": r.layers.iter().map(|l| serde_json::json!({
                "layer": l.layer,
                "name": l.name,
                "units": l.units,
                "mean_activation": l.mean_activation,
                "sparsity": l.sparsity,
                "dead_units": l.dead_units,
                "mean_abs_correlation": nan_null(l.mean_abs_correlation),
                "histogram": l.histogram,
                "unit_means": l.unit_means,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "features": features.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
    });
    write(
        &out.join("coadaptation.json"),
        &serde_json::to_string_pretty(&json).map_err(|e| CliError::runtime(e.to_string()))?,
    )?;
    let images: String = features.iter().map(|f| format!("![{0}]({0})\n", f.0)).collect();
    let md = format!(
        "# Hidden units ({})\n\nSparsity: the fraction of activations at or below 1e-6. Mean |corr|: over pairs of units that vary.\n\n{}\n![activations](activations.svg)\n{images}",
        args.run.split,
        markdown_table(&headers, &rows)
    );
    write(&out.join("coadaptation.md"), &md)?;
    if !args.run.quiet {
        print!("{}", text_table(&headers, &rows));
        println!(
            "({:.1}s); written to {}",
            start.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(())
}

/// The error for a model whose Monte Carlo passes all agree: it has no dropout to sample.
fn no_dropout(args: &UncertaintyArgs) -> CliError {
    CliError::usage(format!(
        "{}: the model has no active dropout, so Monte Carlo passes all agree (train it with --dropout)",
        args.run.run_dir.display()
    ))
}

/// Refuses a model whose Monte Carlo passes all agree.
fn no_dropout_check(mc: &McSamples, args: &UncertaintyArgs) -> CliResult {
    if mc.passes > 1 && !mc.stochastic() {
        return Err(no_dropout(args));
    }
    Ok(())
}
