//! `droplab claims [--quick] [--out DIR]`: twelve common statements about dropout, each an
//! experiment with a criterion fixed before it runs, its numbers over seeds with 95 %
//! intervals, a plot, and a verdict computed from the numbers (`verdict.rs`).
//!
//! `--quick` runs on the embedded digits (minutes on 2 cores); the full run uses MNIST.

mod cache;
mod experiments;
mod lab;
mod stats;
mod verdict;

use std::path::PathBuf;
use std::time::Instant;

use droplab::tensor::Threads;
use droplab_report::{markdown_table, text_table};
use serde::Serialize;

use crate::cli::ClaimsArgs;
use crate::error::{CliError, CliResult};
use droplab_lab::config::DataConfig;
use droplab_lab::staging::Staging;
use experiments::Outcome;
use lab::Lab;
use verdict::Verdict;

type Experiment = fn(&Lab) -> CliResult<Outcome>;

/// Each claim: the statement, the criterion (fixed before the run), the experiment.
const CLAIMS: [(&str, &str, Experiment); 12] = [
    (
        "Dropout reduces overfitting: a smaller train-test gap and a better test score for a large network on little data.",
        "Holds if the paired gap reduction and the paired test-accuracy gain both have 95 % intervals above zero; in part if both point the right way or one is clear; otherwise does not hold.",
        experiments::overfitting,
    ),
    (
        "Using all units at test time with weights scaled by the keep probability approximates averaging the ensemble of thinned networks.",
        "Holds if the weight-scaled network's test error is within the tolerance (0.5 points on digits, 0.15 on MNIST) of the Monte Carlo average of 100 thinned networks, in part within three times it.",
        experiments::weight_scaling,
    ),
    (
        "Dropout works like bagging an ensemble of networks.",
        "Holds if dropout and bagging both clearly lower the error of one network and dropout gains at least half of what bagging gains; in part if dropout lowers it at all.",
        experiments::bagging,
    ),
    (
        "Dropout slows convergence and lengthens training (epochs and wall time to a given loss).",
        "Holds if dropout clearly needs more epochs to reach the training loss, at least 1.5 times as many; in part if it needs more on average.",
        experiments::convergence,
    ),
    (
        "On very small data sets dropout gains little or leads to underfitting.",
        "Holds if the gain at the smallest size is at most half the largest gain over sizes; in part if it is below the largest; does not hold if the smallest size gains most.",
        experiments::small_data,
    ),
    (
        "Dropout does not help a model that underfits (a small network).",
        "Holds if dropout does not raise the small network's mean test accuracy; in part if it raises it without a clear interval; does not hold if it clearly raises it.",
        experiments::underfitting,
    ),
    (
        "Good rates lie between 0.2 and 0.5, and the best one is found by validation.",
        "Holds if cross-validation picks a hidden rate in [0.2, 0.5] and the picked rate's test accuracy lies within the interval of the best rate on the test set; in part if one of the two.",
        experiments::rate_by_validation,
    ),
    (
        "Deeper networks benefit from higher rates in later layers.",
        "Holds if rates rising with depth give the best mean test accuracy and clearly beat falling rates; in part if they beat falling rates on average.",
        experiments::deeper_rates,
    ),
    (
        "Dropout combined with L1/L2 or max-norm beats each alone.",
        "Holds if the better combination clearly beats both dropout alone and the better penalty alone; in part if it beats both on average or one clearly.",
        experiments::combination,
    ),
    (
        "Dropout reduces co-adaptation: hidden units become sparser and less correlated.",
        "Holds if dropout clearly raises the share of silent units and clearly lowers the mean |correlation| between units; in part if both point that way or one is clear.",
        experiments::coadaptation,
    ),
    (
        "The weights of a dropped unit are not updated in that iteration (plain SGD, with momentum, with weight decay).",
        "Holds if no dropped unit's weights move under any of the three; in part if none move under plain SGD only; does not hold if they move under plain SGD.",
        experiments::dropped_units,
    ),
    (
        "At test time the weights must be scaled by the keep probability 1-p (not by p), or training must use inverted dropout; each wrong choice costs.",
        "Holds if every wrong scaling is clearly worse than the right ones (NLL at least 10 % higher or error at least 0.5 points higher); in part if some are; otherwise does not hold.",
        experiments::test_scaling,
    ),
];

/// One claim's entry in `claims.json`.
#[derive(Serialize)]
struct ClaimResult {
    claim: usize,
    statement: &'static str,
    criterion: &'static str,
    setup: String,
    verdict: Verdict,
    evidence: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    numbers: serde_json::Value,
    seconds: f64,
}

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
    let lab = Lab::new(args.quick, data, args.seeds, threads, cache, args.quiet)?;
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
        if let Some(svg) = &o.svg {
            staging.write(&format!("claim-{n:02}.svg"), svg.as_bytes())?;
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
