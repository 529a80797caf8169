//! `droplab claims [--quick] [--out DIR]`: the twelve experiments of [`droplab_lab::claims`]
//! run, their plots drawn, and `claims.md`, `claims.json` and `report.html` written.
//!
//! `--quick` runs on the embedded digits (minutes on 2 cores); the full run uses MNIST.

use std::path::PathBuf;
use std::time::Instant;

use droplab::tensor::Threads;
use droplab_lab::claims::{CLAIMS, ClaimResult, Lab, Plot, cache};
use droplab_lab::config::DataConfig;
use droplab_lab::staging::Staging;
use droplab_report::{
    CurvePoint, Interval, IntervalSeries, interval_svg, markdown_table, text_table, validation_curve_svg,
};

use crate::cli::ClaimsArgs;
use crate::error::{CliError, CliResult};

/// Which claims `--only` selects (1-based, comma-separated).
fn selected(only: &Option<String>) -> CliResult<Vec<usize>> {
    let Some(list) = only else {
        return Ok((1..=CLAIMS.len()).collect());
    };
    list.split(',')
        .map(|t| {
            t.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=CLAIMS.len()).contains(n))
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "--only {list}: '{t}' is not a claim number (1 to {})",
                        CLAIMS.len()
                    ))
                })
        })
        .collect()
}

/// `droplab claims`.
pub fn run(args: &ClaimsArgs) -> CliResult {
    if args.seeds < 2 {
        return Err(CliError::usage(
            "--seeds must be at least 2 (the intervals need two)",
        ));
    }
    let which = selected(&args.only)?;
    let dataset = args.dataset.clone().unwrap_or_else(|| {
        if args.quick {
            "digits".into()
        } else {
            "mnist".into()
        }
    });
    let data = DataConfig {
        dataset,
        data_dir: args
            .data_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "data".into()),
        val_fraction: 0.2,
        test_fraction: 0.2,
        ..Default::default()
    };
    let threads = Threads::new(args.threads)?;
    let cache = (!args.no_cache).then(|| {
        cache::Cache::new(
            args.cache
                .clone()
                .unwrap_or_else(|| PathBuf::from("runs/claims-cache")),
        )
    });
    let quiet = args.quiet;
    let say = Box::new(move |msg: &str| {
        if !quiet {
            eprintln!("{msg}");
        }
    });
    let lab = Lab::new(args.quick, data, args.seeds, threads, cache, say)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(if args.quick {
            "runs/claims-quick"
        } else {
            "runs/claims"
        })
    });
    let staging = Staging::new(&out, "--out")?;
    let start = Instant::now();
    let mut results = Vec::new();
    for &n in &which {
        let (statement, criterion, experiment) = CLAIMS[n - 1];
        lab.say(&format!("claim {n}: {statement}"));
        let t = Instant::now();
        let o = experiment(&lab)?;
        if let Some(plot) = &o.plot {
            staging.write(&format!("claim-{n:02}.svg"), draw(plot)?.as_bytes())?;
        }
        lab.say(&format!(
            "  -> {} ({}) [{:.0} s]",
            o.decision.0.text(),
            o.decision.1,
            t.elapsed().as_secs_f64()
        ));
        results.push(ClaimResult {
            claim: n,
            statement,
            criterion,
            setup: o.setup,
            verdict: o.decision.0,
            evidence: o.decision.1,
            headers: o.headers,
            rows: o.rows,
            numbers: o.numbers,
            seconds: t.elapsed().as_secs_f64(),
        });
    }
    let minutes = start.elapsed().as_secs_f64() / 60.0;
    let (trained, cached, cached_seconds) = lab.counts.get();
    let reused = if cached > 0 {
        format!(
            ", training {trained} networks and taking {cached} from the cache an earlier run left (their training had taken {:.1} minutes more)",
            cached_seconds / 60.0
        )
    } else {
        String::new()
    };
    if let Some(dir) = lab.cache_dir() {
        lab.say(&format!(
            "claims: {trained} networks trained, {cached} taken from the cache {}",
            dir.display()
        ));
    }
    let summary: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                r.claim.to_string(),
                r.statement.to_string(),
                r.verdict.text().to_string(),
            ]
        })
        .collect();
    let mut md = format!(
        "# droplab claims{}\n\n{} on {}, {} seeds per arm, 95 % intervals (Student's t over seeds; differences paired by seed). Each criterion was fixed before its experiment ran; the verdict is computed from the numbers. {:.1} minutes on {} threads{}.\n\n{}\n",
        if args.quick { " --quick" } else { "" },
        if args.quick { "Quick run" } else { "Full run" },
        lab.data.dataset,
        args.seeds,
        minutes,
        lab.threads.count(),
        reused,
        markdown_table(&["claim", "statement", "verdict"], &summary)
    );
    for r in &results {
        let headers: Vec<&str> = r.headers.iter().map(String::as_str).collect();
        md.push_str(&format!(
            "\n## Claim {}: {}\n\n**Verdict: {}.** {}\n\n*Setup.* {}\n\n*Criterion (fixed before the run).* {}\n\n{}\n![claim {}](claim-{:02}.svg)\n",
            r.claim,
            r.statement,
            r.verdict.text(),
            r.evidence,
            r.setup,
            r.criterion,
            markdown_table(&headers, &r.rows),
            r.claim,
            r.claim
        ));
    }
    staging.write("claims.md", md.as_bytes())?;
    let json = serde_json::to_string_pretty(&results).map_err(|e| CliError::runtime(e.to_string()))?;
    staging.write("claims.json", json.as_bytes())?;
    let title = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let html = crate::render::page::render_as(staging.path(), &title)?;
    staging.write("report.html", html.as_bytes())?;
    let dir = staging.commit()?;
    if !args.quiet {
        println!("{}", text_table(&["claim", "statement", "verdict"], &summary));
        println!(
            "claims: {} (claims.md, claims.json, report.html) in {minutes:.1} minutes",
            dir.display()
        );
    }
    Ok(())
}

/// A claim's plot as SVG.
fn draw(plot: &Plot) -> CliResult<String> {
    let drawn = match plot {
        Plot::Intervals {
            title,
            x,
            y,
            series,
            categories,
            log_x,
        } => {
            // An interval never runs past what the quantity can be: a percentage stays in
            // [0, 100], epochs and losses above 0 (a t-interval of a few seeds near 0 % error
            // would reach below it).
            let (floor, ceiling) = bounds_of(y);
            let points: Vec<Vec<Interval>> = series
                .iter()
                .map(|(_, pts)| {
                    pts.iter()
                        .map(|p| Interval {
                            x: p.x,
                            mean: p.mean,
                            lo: p.lo.max(floor),
                            hi: p.hi.min(ceiling),
                        })
                        .collect()
                })
                .collect();
            let named: Vec<IntervalSeries> = series
                .iter()
                .zip(&points)
                .map(|((name, _), points)| IntervalSeries { name, points })
                .collect();
            interval_svg(title, x, y, &named, categories.as_deref(), *log_x)
        }
        Plot::Validation {
            title,
            param,
            points,
            log_x,
        } => {
            let points: Vec<CurvePoint> = points
                .iter()
                .map(|p| CurvePoint {
                    x: p.x,
                    mean: p.mean,
                    std: p.std,
                    gap: p.gap,
                })
                .collect();
            validation_curve_svg(title, param, "score", &points, *log_x, false)
        }
    };
    drawn.map_err(|e| CliError::runtime(format!("claims plot: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_selects_claims_by_number() {
        assert_eq!(selected(&None).unwrap().len(), 12);
        assert_eq!(selected(&Some("1, 12".into())).unwrap(), vec![1, 12]);
        assert!(selected(&Some("13".into())).is_err());
        assert!(selected(&Some("x".into())).is_err());
    }
}

/// The range a plotted quantity can take, from its axis label: percentages `[0, 100]`,
/// counts of epochs and losses (NLL) `[0, inf)`, anything else unbounded (a gain or a gap in
/// points can be negative).
fn bounds_of(y: &str) -> (f64, f64) {
    if y.ends_with("(%)") {
        (0.0, 100.0)
    } else if y.starts_with("epochs") || y.contains("NLL") {
        (0.0, f64::INFINITY)
    } else {
        (f64::NEG_INFINITY, f64::INFINITY)
    }
}

#[cfg(test)]
mod bounds_tests {
    use super::bounds_of;

    #[test]
    fn intervals_are_clipped_to_what_the_quantity_can_be() {
        assert_eq!(bounds_of("test error (%)"), (0.0, 100.0));
        assert_eq!(bounds_of("epochs"), (0.0, f64::INFINITY));
        assert_eq!(bounds_of("test NLL"), (0.0, f64::INFINITY));
        assert_eq!(bounds_of("gap (points)"), (f64::NEG_INFINITY, f64::INFINITY));
    }
}
