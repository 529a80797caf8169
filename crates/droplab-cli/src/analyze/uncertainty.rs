//! `droplab analyze uncertainty`: Monte Carlo dropout uncertainty of a trained run.

use super::*;

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
    let c = unc::classification(
        model,
        data,
        labels,
        args.samples,
        args.bins,
        threads,
        &args.run.run_dir,
    )?;
    let (scores, groups, settling) = (&c.scores, &c.groups, &c.settling);
    let (ws_cal, mc_cal) = (&c.weight_scaling, &c.mc);
    // Plots and files.
    let (ws_bins, mc_bins) = (bins(ws_cal), bins(mc_cal));
    let ws_name = format!("weight scaling (ECE {:.4})", ws_cal.ece);
    let mc_name = format!("MC dropout, T = {} (ECE {:.4})", c.passes, mc_cal.ece);
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
        "samples": c.passes,
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
        c.passes,
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
    let r = unc::regression(model, data, y, tau, args.samples, threads, &args.run.run_dir)?;
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
