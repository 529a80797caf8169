//! `droplab paper list` and `droplab paper run NAME`: published results reproduced from the
//! recipes in `recipes/` (embedded in the binary), over several seeds, with the published
//! number beside droplab's.

mod uci;

use std::path::PathBuf;

use crate::cli::PaperRunArgs;
use crate::error::{CliError, CliResult};
use crate::progress::{Progress, run_config};
use crate::render::finish;
use droplab_lab::checkpoint;
use droplab_lab::paper::{Source, run_recipe};
use droplab_lab::recipes::{Overrides, RECIPES, parse, select};
use droplab_lab::run::Checkpoints;
use droplab_lab::staging::{Staging, forget};
use droplab_report::{Series, learning_curves_svg, markdown_table};

/// `droplab paper list`.
pub fn list() -> CliResult {
    let mut entries = Vec::new();
    for r in RECIPES {
        let c = parse(r)?;
        let info = c.recipe.unwrap_or_default();
        let published = match (&info.published_test_error, &info.uci) {
            (Some(e), _) => format!("published {e:.2} %"),
            (None, Some(u)) => match (u.published_rmse, u.published_ll) {
                (Some([r, _]), Some([l, _])) => format!("published RMSE {r}, LL {l}"),
                _ => String::new(),
            },
            _ => "droplab's own comparison".to_string(),
        };
        entries.push((
            r.name,
            published,
            c.train.epochs,
            format!("{}: {}", info.source, info.row),
        ));
    }
    // Two lines a recipe, under 100 columns: name, published number, epochs; then its paper
    // and row, wrapped.
    let w = entries.iter().map(|e| e.0.len()).max().unwrap_or(0);
    for (name, published, epochs, about) in &entries {
        println!("{name:<w$}  {published:<30} {epochs:>5} epochs");
        for line in wrap(about, 92) {
            println!("    {line}");
        }
    }
    Ok(())
}

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// What the flags change of the recipes.
fn overrides(args: &PaperRunArgs) -> Overrides {
    Overrides {
        epochs: args.epochs,
        batch_size: args.batch_size,
        dataset: args.dataset.clone(),
        data_dir: args.data_dir.clone(),
        train_size: args.train_size,
        val_size: args.val_size,
        threads: args.threads,
        mc_samples: args.mc_samples,
        splits: args.splits,
    }
}

/// Where `paper run` writes: `--out`, or `runs/paper/NAME`.
fn out_dir(args: &PaperRunArgs) -> PathBuf {
    args.out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/paper").join(&args.name))
}

/// `droplab paper run`.
pub fn run(args: &PaperRunArgs) -> CliResult {
    if args.seeds == 0 {
        return Err(CliError::usage("--seeds must be at least 1"));
    }
    let recipes = select(&args.name)?;
    let uci = recipes
        .iter()
        .map(|r| Ok(parse(r)?.recipe.and_then(|i| i.uci).is_some()))
        .collect::<CliResult<Vec<bool>>>()?;
    if uci.iter().all(|&u| u) {
        if !args.reuse.is_empty() {
            return Err(CliError::usage(
                "--reuse is for the classification recipes; a UCI run takes finished splits with --resume",
            ));
        }
        return uci::run(&recipes, args);
    }
    if uci.iter().any(|&u| u) {
        return Err(CliError::usage(format!(
            "paper run {}: the group mixes UCI regression recipes with classification ones; run them apart",
            args.name
        )));
    }
    for d in &args.reuse {
        if !d.join("results.json").is_file() {
            return Err(CliError::usage(format!(
                "--reuse {}: not an output of `paper run` (it has no results.json); give the directory that `paper run --out` wrote",
                d.display()
            )));
        }
    }
    if args.splits.is_some() || args.mc_samples.is_some() {
        return Err(CliError::usage(
            "--splits and --mc-samples are for the UCI recipes (gal2016-uci-*)",
        ));
    }
    let out = out_dir(args);
    // An interrupted run's finished seeds, and the checkpoint of the seed it was training, are
    // taken with --resume; without it, they go.
    let (staging, earlier) = Staging::open(&out, "--out", args.resume)?;
    if !args.resume {
        for p in checkpoint::parts_of(&out) {
            checkpoint::remove(&p);
        }
    }
    if args.resume && !args.quiet {
        eprintln!(
            "--resume: {} interrupted run(s) of {} to take finished seeds from",
            earlier.len(),
            out.display()
        );
    }
    let opts = overrides(args);
    let progress = if args.quiet {
        Progress::Quiet
    } else {
        Progress::Auto
    };
    let quiet = args.quiet;
    let mut taken_from: Vec<PathBuf> = Vec::new();
    let mut results = Vec::new();
    let mut curves = Vec::new();
    for r in recipes {
        let (res, mut c) = run_recipe(
            r,
            &opts,
            args.seeds,
            staging.path(),
            (&earlier, &args.reuse),
            &mut taken_from,
            &mut |cfg, splits, dest| {
                // Each seed's checkpoint sits beside --out, named after the seed's run.
                let name = dest.file_name().map(|n| n.to_string_lossy().to_string());
                let path = checkpoint::beside(&out, name.as_deref());
                let checkpoints = Checkpoints {
                    path: &path,
                    resume: args.resume,
                };
                Ok(run_config(cfg, splits, dest, Some(checkpoints), progress)?.0)
            },
            &mut |run_name, cfg, source, rec| {
                if quiet {
                    return;
                }
                let minutes = rec.map(|r| r.seconds / 60.0).unwrap_or_default();
                match source {
                    Source::Resumed(from) => eprintln!(
                        "{run_name}: taken from the interrupted run {} (it had trained in {minutes:.1} minutes)",
                        from.display()
                    ),
                    Source::Reused(from) => eprintln!(
                        "{run_name}: reused from {} (it had trained in {minutes:.1} minutes)",
                        from.display()
                    ),
                    Source::Trained => eprintln!(
                        "{} (seed {}): training {} epochs...",
                        r.name, cfg.seed, cfg.train.epochs
                    ),
                }
            },
        )?;
        results.push(res);
        curves.append(&mut c);
    }
    let headers = [
        "recipe",
        "dataset",
        "published test error",
        "droplab test error (mean ± sd)",
        "seeds",
        "epochs",
        "minutes per run",
    ];
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                r.recipe.clone(),
                r.dataset.clone(),
                r.published_test_error
                    .map(|e| format!("{e:.2} %"))
                    .unwrap_or_else(|| "-".into()),
                format!("{:.2} ± {:.2} %", r.mean_test_error, r.std_test_error),
                r.test_errors.len().to_string(),
                format!(
                    "{:.0}",
                    r.epochs.iter().sum::<usize>() as f64 / r.epochs.len() as f64
                ),
                format!("{:.1}", r.minutes.iter().sum::<f64>() / r.minutes.len() as f64),
            ]
        })
        .collect();
    let md = format!(
        "# droplab paper run {}\n\n{}\n\nTest error in percent on the dataset's test set; the published number is the paper's (or the example's) own, from its full-length run. Each seed's run directory is beside this file; `curves.svg` shows their learning curves.\n",
        args.name,
        markdown_table(&headers, &rows)
    );
    staging.write("results.md", md.as_bytes())?;
    let series: Vec<Series> = curves
        .iter()
        .map(|(name, history, best_epoch)| Series {
            name,
            history,
            best_epoch: *best_epoch,
        })
        .collect();
    let svg = learning_curves_svg(&format!("droplab paper run {}", args.name), &series)
        .map_err(|e| CliError::runtime(format!("curves.svg: {e}")))?;
    staging.write("curves.svg", svg.as_bytes())?;
    finish(staging, &results, &headers, &rows)?;
    for dir in taken_from {
        forget(&dir);
    }
    Ok(())
}
