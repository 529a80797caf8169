//! `droplab analyze ensemble`: the ensemble of thinned networks of a trained run.

use super::*;

/// `droplab analyze ensemble`.
pub fn ensemble(args: &EnsembleArgs) -> CliResult {
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
    let quiet = args.run.quiet;
    let e = ens::ensemble(
        &mut model,
        &data,
        labels,
        args.networks,
        args.seed,
        (args.bagged, &record.config),
        &threads,
        &args.run.run_dir,
        &|msg| {
            if !quiet {
                eprintln!("{msg}");
            }
        },
    )?;
    let (ws_err, exact, singles, agreement, rows, bagged) = (
        e.weight_scaling_error,
        &e.exact,
        &e.singles,
        e.agreement,
        &e.rows,
        &e.bagged,
    );
    let (mean_single, sd_single, best_single, worst_single) = e.single_summary();
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
        &match exact {
            Ok(e) => vec![("weight scaling", ws_err), ("exact average over all masks", *e)],
            Err(_) => vec![("weight scaling", ws_err)],
        },
        singles,
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
    if let Ok(e) = exact {
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
