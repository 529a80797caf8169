//! `droplab analyze coadaptation`: the hidden units of one run or two side by side.

use super::*;

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
        let units = hidden_units(&mut model, &data, args.bins, &threads, dir)?;
        if let Some(f) = &units.features {
            let svg = features_svg(
                &format!("{name}: first-layer features"),
                &f.weights,
                f.shape,
                args.units,
                args.units.clamp(1, 12),
            )
            .map_err(|e| CliError::runtime(e.to_string()))?;
            features.push((format!("features-{name}.svg"), svg));
        }
        let layers = units.layers;
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
