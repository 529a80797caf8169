//! `droplab analyze uncertainty`: Monte Carlo dropout uncertainty of a trained run.

use super::*;

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

fn group(us: &[&mcu::ExampleUncertainty]) -> Group {
    let n = us.len().max(1) as f64;
    Group {
        examples: us.len(),
        entropy: us.iter().map(|u| u.entropy).sum::<f64>() / n,
        expected_entropy: us.iter().map(|u| u.expected_entropy).sum::<f64>() / n,
        mutual_information: us.iter().map(|u| u.mutual_information).sum::<f64>() / n,
        variance: us.iter().map(|u| u.variance).sum::<f64>() / n,
    }
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
    let ws_cal = mcu::calibration(ws.probs.data(), ws.probs.cols(), labels, args.bins)?;
    let mc = McSamples::collect(model, data, Mode::MonteCarlo, args.samples, 500, true, threads)?;
    no_dropout_check(&mc, args)?;
    let k = mc.k;
    let final_mean = mc.mean(mc.passes);
    let mc_cal = mcu::calibration(&final_mean, k, labels, args.bins)?;
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
    let us = mcu::uncertainties(&mc);
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
        let c = mcu::calibration(&m, k, labels, args.bins)?;
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
    let ws = mcu::gaussian_mc(model, data, &targets, Mode::Eval, 1, tau, (1.0, 0.0), threads)?;
    let mc = mcu::gaussian_mc(
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
