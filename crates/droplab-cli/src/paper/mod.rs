//! `droplab paper list` and `droplab paper run NAME`: published results reproduced from the
//! recipes in `recipes/` (embedded in the binary), over several seeds, with the published
//! number beside droplab's.

mod uci;

use std::path::{Path, PathBuf};

use serde::Serialize;

use droplab::analysis::summary::mean_std;

use crate::cli::PaperRunArgs;
use crate::error::{CliError, CliResult};
use crate::progress::{Progress, run_config};
use crate::render::finish;
use droplab_lab::config::RunConfig;
use droplab_lab::data as dataset;
use droplab_lab::hash::sha256_hex;
use droplab_lab::recipes::{RECIPES, parse, select};
use droplab_lab::record::RunRecord;
use droplab_lab::staging::{Staging, forget, leftovers, take_from};
use droplab_report::{Series, learning_curves_svg, markdown_table, text_table};

/// `droplab paper list`.
pub fn list() -> CliResult {
    let mut rows = Vec::new();
    for r in RECIPES {
        let c = parse(r)?;
        let info = c.recipe.unwrap_or_default();
        let published = match (&info.published_test_error, &info.uci) {
            (Some(e), _) => format!("{e:.2} %"),
            (None, Some(u)) => match (u.published_rmse, u.published_ll) {
                (Some([r, _]), Some([l, _])) => format!("RMSE {r}, LL {l}"),
                _ => String::new(),
            },
            _ => String::new(),
        };
        rows.push(vec![
            r.name.to_string(),
            info.source,
            info.row,
            published,
            c.train.epochs.to_string(),
        ]);
    }
    println!(
        "{}",
        text_table(&["recipe", "source", "row", "published", "epochs"], &rows)
    );
    Ok(())
}

/// One recipe's results over seeds.
#[derive(Debug, Serialize)]
struct RecipeResult {
    recipe: String,
    source: String,
    row: String,
    dataset: String,
    published_test_error: Option<f64>,
    test_errors: Vec<f64>,
    mean_test_error: f64,
    std_test_error: f64,
    epochs: Vec<usize>,
    minutes: Vec<f64>,
    runs: Vec<String>,
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
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/paper").join(&args.name));
    let earlier = if args.resume { leftovers(&out) } else { Vec::new() };
    if args.resume && !args.quiet {
        eprintln!(
            "--resume: {} interrupted run(s) of {} to take finished seeds from",
            earlier.len(),
            out.display()
        );
    }
    let mut taken_from: Vec<PathBuf> = Vec::new();
    let staging = Staging::new(&out, "--out")?;
    let mut results = Vec::new();
    let mut curves: Vec<(String, Vec<droplab::train::EpochMetrics>, usize)> = Vec::new();
    for r in recipes {
        let mut cfg = parse(r)?;
        if let Some(e) = args.epochs {
            cfg.train.epochs = e;
        }
        if let Some(b) = args.batch_size {
            cfg.train.batch_size = b;
        }
        let mut info = cfg.recipe.clone().unwrap_or_default();
        if let Some(d) = &args.dataset {
            // The published number is for the recipe's own dataset: not for another named
            // one (fashion-mnist for an MNIST recipe); a path (idx:DIR) may hold a copy of it.
            let named = dataset::NAMED.contains(&d.as_str());
            if named && *d != cfg.data.dataset {
                info.published_test_error = None;
            }
            cfg.data.dataset = d.clone();
        }
        if let Some(d) = &args.data_dir {
            cfg.data.data_dir = d.display().to_string();
        }
        if let Some(n) = args.train_size {
            cfg.data.train_size = n;
        }
        if let Some(n) = args.val_size {
            cfg.data.val_size = n;
        }
        if let Some(t) = args.threads {
            cfg.threads = t;
        }
        cfg.pin_threads();
        cfg.validate()?;
        let mut res = RecipeResult {
            recipe: r.name.to_string(),
            source: info.source,
            row: info.row,
            dataset: cfg.data.dataset.clone(),
            published_test_error: info.published_test_error,
            test_errors: Vec::new(),
            mean_test_error: f64::NAN,
            std_test_error: f64::NAN,
            epochs: Vec::new(),
            minutes: Vec::new(),
            runs: Vec::new(),
        };
        for s in 0..args.seeds as u64 {
            let mut c = cfg.clone();
            c.seed = cfg.seed + s;
            let splits = dataset::load(&c.data, c.seed)?;
            droplab_lab::run::fit_widths(&mut c, &splits, true)?;
            let run_name = format!("{}-seed{}", r.name, c.seed);
            let dest = staging.path().join(&run_name);
            let rec = if let Some((from, rec)) = take_finished(&earlier, &run_name, &c, &dest) {
                if !args.quiet {
                    eprintln!(
                        "{run_name}: taken from the interrupted run {} (it had trained in {:.1} minutes)",
                        from.display(),
                        rec.seconds / 60.0
                    );
                }
                if !taken_from.contains(&from) {
                    taken_from.push(from);
                }
                rec
            } else if let Some((from, rec)) = reuse_recorded(&args.reuse, &run_name, &c, &dest)? {
                if !args.quiet {
                    eprintln!(
                        "{run_name}: reused from {} (it had trained in {:.1} minutes)",
                        from.display(),
                        rec.seconds / 60.0
                    );
                }
                rec
            } else {
                if !args.quiet {
                    eprintln!(
                        "{} (seed {}): training {} epochs...",
                        r.name, c.seed, c.train.epochs
                    );
                }
                let progress = if args.quiet {
                    Progress::Quiet
                } else {
                    Progress::Auto
                };
                run_config(&c.clone().check()?, &splits, &dest, progress)?.0
            };
            if let Some(msg) = &rec.divergence {
                return Err(CliError::runtime(format!("{run_name}: {msg}")));
            }
            curves.push((run_name.clone(), rec.history.clone(), rec.best_epoch));
            res.test_errors.push(100.0 * (1.0 - rec.test.accuracy));
            res.epochs.push(rec.history.len());
            res.minutes.push(rec.seconds / 60.0);
            res.runs.push(run_name);
        }
        (res.mean_test_error, res.std_test_error) = mean_std(&res.test_errors);
        results.push(res);
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

/// The finished run `run_name` of exactly `cfg` in one of the interrupted runs' directories,
/// moved to `dest`: the directory it came from and its record. A run whose config differs, or
/// whose weights do not match the record's checksum, is left where it is.
fn take_finished(
    earlier: &[PathBuf],
    run_name: &str,
    cfg: &RunConfig,
    dest: &Path,
) -> Option<(PathBuf, RunRecord)> {
    take_from(earlier, run_name, dest, |src| finished_run(src, cfg, true))
}

/// The record of the finished run in `src` if it ran exactly `cfg` and its weights match the
/// record's checksum; without `need_weights`, a run that kept no weights (a recorded result)
/// passes on its record alone.
fn finished_run(src: &Path, cfg: &RunConfig, need_weights: bool) -> Option<RunRecord> {
    let rec = RunRecord::load(src).ok()?;
    let weights = src.join("model.safetensors");
    let weights_ok = match std::fs::read(&weights) {
        Ok(w) => sha256_hex(&w) == rec.model_sha256,
        Err(_) => !need_weights && !weights.exists(),
    };
    (rec.config == *cfg && weights_ok).then_some(rec)
}

/// The run `run_name` of exactly `cfg` in one of the `--reuse` directories, copied to `dest`:
/// the directory it came from and its record. A run whose config differs is passed over, as is
/// one whose weights, where it kept them, do not match the record's checksum.
fn reuse_recorded(
    dirs: &[PathBuf],
    run_name: &str,
    cfg: &RunConfig,
    dest: &Path,
) -> CliResult<Option<(PathBuf, RunRecord)>> {
    for dir in dirs {
        let src = dir.join(run_name);
        let Some(rec) = finished_run(&src, cfg, false) else {
            continue;
        };
        copy_dir(&src, dest).map_err(|e| {
            CliError::runtime(format!(
                "--reuse: copying {} to {}: {e}",
                src.display(),
                dest.display()
            ))
        })?;
        return Ok(Some((src, rec)));
    }
    Ok(None)
}

/// Copies the directory `src` to `dest` (created), with everything under it.
fn copy_dir(src: &Path, dest: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dest)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let to = dest.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &to)?;
        } else {
            std::fs::copy(e.path(), to)?;
        }
    }
    Ok(())
}
