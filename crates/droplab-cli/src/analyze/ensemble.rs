//! `droplab analyze ensemble`: the ensemble of thinned networks of a trained run.

use super::*;

#[derive(Debug, Serialize)]
struct KRow {
    k: usize,
    thinned_arithmetic: f64,
    thinned_geometric: f64,
    mc_dropout: f64,
    /// The arithmetic mean of the first k bagged networks (with `--bagged`).
    bagged: Option<f64>,
}

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
        singles.push(100.0 * thin::error_rate(p.probs.data(), k, labels)?);
        if sum.is_empty() {
            sum = vec![0.0; p.probs.data().len()];
        }
        for (s, v) in sum.iter_mut().zip(p.probs.data()) {
            *s += v;
        }
        let m = b + 1;
        if [1usize, 2, 5, 10, 20, 50, 100, 200, 500, 1000].contains(&m) || m == count {
            let mean: Vec<f32> = sum.iter().map(|v| v / m as f32).collect();
            by_k.push((m, 100.0 * thin::error_rate(&mean, k, labels)?));
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
    let thinned = thin::thinned_networks(&mut model, &data, args.networks, args.seed, &threads)?;
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
            thin::error_rate(&p, k, labels).map(|e| 100.0 * e)
        })
        .collect::<droplab::Result<_>>()?;
    let ws = predict_proba(&mut model, &data, Mode::Eval, 1, 500, &threads)?;
    let ws_err = 100.0 * thin::error_rate(ws.probs.data(), k, labels)?;
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
            thinned_arithmetic: 100.0 * thin::error_rate(&thinned.mean(m), k, labels)?,
            thinned_geometric: 100.0 * thin::error_rate(&thin::geometric_mean(&thinned, m), k, labels)?,
            mc_dropout: 100.0 * thin::error_rate(&mc.mean(m), k, labels)?,
            bagged: None,
        });
    }
    // The exact average over all masks, for networks small enough to enumerate.
    let exact = match droplab::analysis::exact::exact_average(&mut model, &data.x, 16) {
        Ok(p) => Ok(100.0 * thin::error_rate(p.data(), k, labels)?),
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
    let agreement = thin::pairwise_agreement(&thinned, thinned.passes);
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
