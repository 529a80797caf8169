//! `droplab paper run gal2016-uci-*`: the UCI protocol of [`droplab_lab::gal2016`] run over
//! each recipe's splits, its table drawn and `results.md` / `results.json` written.

use droplab_lab::gal2016::{SetResult, prepare, run_recipe};
use droplab_lab::recipes::Recipe;
use droplab_lab::staging::{Staging, forget};
use droplab_report::markdown_table;

use crate::cli::PaperRunArgs;
use crate::error::{CliError, CliResult};

/// `droplab paper run` of UCI recipes.
pub fn run(recipes: &[&'static Recipe], args: &PaperRunArgs) -> CliResult {
    if args.train_size.is_some() || args.val_size.is_some() {
        return Err(CliError::usage(
            "--train-size and --val-size do not apply to the UCI recipes: they use the authors' splits (--splits N keeps the first N)",
        ));
    }
    let options = super::overrides(args);
    let quiet = args.quiet;
    let say = move |msg: &str| {
        if !quiet {
            eprintln!("{msg}");
        }
    };
    let prepared = recipes
        .iter()
        .map(|r| prepare(r, &options))
        .collect::<CliResult<Vec<_>>>()?;
    let out = super::out_dir(args);
    // An interrupted run's finished splits are taken with --resume; without it, they go.
    let (staging, earlier) = Staging::open(&out, "--out", args.resume)?;
    let mut taken_from = Vec::new();
    let workers = match args.threads {
        Some(t) if t > 0 => t,
        _ => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let mut results = Vec::new();
    for p in &prepared {
        if !args.quiet {
            eprintln!("{}: the Gal & Ghahramani protocol over each split...", p.name);
        }
        results.push(run_recipe(
            p,
            workers,
            staging.path(),
            &earlier,
            &mut taken_from,
            &say,
        )?);
    }
    let (headers, rows) = table(&results);
    let both = results
        .iter()
        .filter(|r| r.rmse_within_2se == Some(true) && r.ll_within_2se == Some(true))
        .count();
    let compared = results.iter().filter(|r| r.rmse_within_2se.is_some()).count();
    let e = results
        .first()
        .map(|r| (r.epochs, r.batch_size, r.mc_samples))
        .unwrap_or_default();
    let md = format!(
        "# droplab paper run {}\n\n{}\n\nTest RMSE and log-likelihood in the target's units: mean ± standard error over the splits (the paper's Table 1 convention). \"Within 2 SE\" compares droplab's mean with the paper's, against twice the paper's standard error. Both within 2 SE on {both} of {compared} sets.\n\nProtocol (Gal & Ghahramani's code): per split, each (dropout rate, tau) of the set's grid trains on the first 80 % of the training rows and is scored by Monte Carlo log-likelihood on the rest; the best pair is retrained on all training rows. {} epochs at batch {}, Adam, dropout on the input and hidden units, L2 weight l²(1-p)/(2Nτ), {} Monte Carlo passes. `results.json` holds every split's chosen pair and every grid point's validation scores.\n",
        args.name,
        markdown_table(&headers, &rows),
        e.0,
        e.1,
        e.2
    );
    let resumed: usize = results.iter().map(|r| r.resumed_splits).sum();
    let md = if resumed > 0 {
        format!(
            "{md}\n{resumed} split(s) were taken from an interrupted run (`--resume`); the minutes count this run only, each split's own seconds are in `results.json`.\n"
        )
    } else {
        md
    };
    staging.write("results.md", md.as_bytes())?;
    crate::render::finish(staging, &results, &headers, &rows)?;
    for dir in taken_from {
        forget(&dir);
    }
    Ok(())
}

fn num(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a < 0.1 {
        format!("{v:.4}")
    } else if a < 10.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.2}")
    }
}

fn pm(v: [f64; 2]) -> String {
    format!("{} ± {}", num(v[0]), num(v[1]))
}

fn mark(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

/// The comparison table: rows and headers.
fn table(results: &[SetResult]) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let headers = vec![
        "set",
        "splits",
        "RMSE paper",
        "RMSE droplab (MC)",
        "within 2 SE",
        "RMSE weight scaling",
        "log-lik. paper",
        "log-lik. droplab",
        "within 2 SE",
        "minutes",
    ];
    let rows = results
        .iter()
        .map(|r| {
            vec![
                r.dataset.trim_start_matches("uci:").to_string(),
                r.splits.to_string(),
                r.published_rmse.map(pm).unwrap_or_else(|| "-".into()),
                pm(r.rmse),
                mark(r.rmse_within_2se).into(),
                pm(r.rmse_weight_scaling),
                r.published_ll.map(pm).unwrap_or_else(|| "-".into()),
                pm(r.log_likelihood),
                mark(r.ll_within_2se).into(),
                format!("{:.1}", r.minutes),
            ]
        })
        .collect();
    (headers, rows)
}
