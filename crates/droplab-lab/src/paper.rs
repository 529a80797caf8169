//! `paper run` of the classification recipes: a recipe resolved against the caller's
//! options, then trained over several seeds, each seed's run taken from an interrupted run
//! (`--resume`) or an earlier output (`--reuse`) when one of exactly the same config finished
//! there, and the test errors summed up against the published number.

use std::path::{Path, PathBuf};

use droplab::analysis::summary::mean_std;
use droplab::train::EpochMetrics;
use serde::Serialize;

use crate::config::{RecipeInfo, RunConfig, ValidRun};
use crate::data::{self as dataset, Splits};
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::recipes::{Overrides, Recipe, parse};
use crate::record::RunRecord;
use crate::staging::take_from;

/// One recipe's results over seeds.
#[derive(Debug, Serialize)]
pub struct RecipeResult {
    /// The recipe.
    pub recipe: String,
    /// The paper (or example) it reproduces.
    pub source: String,
    /// The row of the paper's table.
    pub row: String,
    /// The dataset it ran on.
    pub dataset: String,
    /// The published test error (percent), for the recipe's own dataset.
    pub published_test_error: Option<f64>,
    /// Each seed's test error (percent).
    pub test_errors: Vec<f64>,
    /// Their mean.
    pub mean_test_error: f64,
    /// Their sample standard deviation.
    pub std_test_error: f64,
    /// Each seed's epochs.
    pub epochs: Vec<usize>,
    /// Each seed's wall-clock minutes.
    pub minutes: Vec<f64>,
    /// Each seed's run directory name.
    pub runs: Vec<String>,
}

/// One seed's learning curves: its run's name, history and best epoch.
pub type Curve = (String, Vec<EpochMetrics>, usize);

/// Trains one seed's checked config on its splits into a run directory and returns its record.
pub type Train<'a> = dyn FnMut(&ValidRun, &Splits, &Path) -> Result<RunRecord> + 'a;

/// Hears, for each seed, its run's name, config, where it comes from, and its record when it
/// was taken rather than trained.
pub type OnSeed<'a> = dyn FnMut(&str, &ValidRun, Source<'_>, Option<&RunRecord>) + 'a;

/// Where a seed's run came from.
#[derive(Debug)]
pub enum Source<'a> {
    /// Trained now.
    Trained,
    /// Taken from the interrupted run in this directory.
    Resumed(&'a Path),
    /// Copied from this earlier output.
    Reused(&'a Path),
}

/// The recipe's config with `opts` applied and checked, and its recipe information (without
/// the published number when the data is another named dataset).
pub fn prepare(r: &Recipe, opts: &Overrides) -> Result<(RunConfig, RecipeInfo)> {
    let mut cfg = parse(r)?;
    let mut info = cfg.recipe.clone().unwrap_or_default();
    // The published number is for the recipe's own dataset: not for another named one
    // (fashion-mnist for an MNIST recipe); a path (idx:DIR) may hold a copy of it.
    if opts.apply(&mut cfg) && dataset::NAMED.contains(&cfg.data.dataset.as_str()) {
        info.published_test_error = None;
    }
    if let Some(n) = opts.train_size {
        cfg.data.train_size = n;
    }
    if let Some(n) = opts.val_size {
        cfg.data.val_size = n;
    }
    if let Some(t) = opts.threads {
        cfg.threads = t;
    }
    cfg.pin_threads();
    cfg.validate()?;
    Ok((cfg, info))
}

/// Runs recipe `r` over `seeds` seeds into `dir` (one run directory per seed), training
/// each with `train` unless a finished run of exactly its config is found in an interrupted
/// run's directory (`earlier`; the directories taken from are added to `taken_from`) or in
/// one of `reuse`. `on_seed` hears where each seed's run came from before it is trained or
/// taken. Returns the result and each seed's curves.
#[allow(clippy::too_many_arguments)]
pub fn run_recipe(
    r: &Recipe,
    opts: &Overrides,
    seeds: usize,
    dir: &Path,
    (earlier, reuse): (&[PathBuf], &[PathBuf]),
    taken_from: &mut Vec<PathBuf>,
    train: &mut Train<'_>,
    on_seed: &mut OnSeed<'_>,
) -> Result<(RecipeResult, Vec<Curve>)> {
    let (cfg, info) = prepare(r, opts)?;
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
    let mut curves = Vec::new();
    for s in 0..seeds as u64 {
        let mut c = cfg.clone();
        c.seed = cfg.seed + s;
        let splits = dataset::load(&c.data, c.seed)?;
        crate::run::fit_widths(&mut c, &splits, true)?;
        let c = c.check()?;
        let run_name = format!("{}-seed{}", r.name, c.seed);
        let dest = dir.join(&run_name);
        let rec = if let Some((from, rec)) = take_finished(earlier, &run_name, &c, &dest) {
            on_seed(&run_name, &c, Source::Resumed(&from), Some(&rec));
            if !taken_from.contains(&from) {
                taken_from.push(from);
            }
            rec
        } else if let Some((from, rec)) = reuse_recorded(reuse, &run_name, &c, &dest)? {
            on_seed(&run_name, &c, Source::Reused(&from), Some(&rec));
            rec
        } else {
            on_seed(&run_name, &c, Source::Trained, None);
            train(&c, &splits, &dest)?
        };
        if let Some(msg) = &rec.divergence {
            return Err(Error::runtime(format!("{run_name}: {msg}")));
        }
        curves.push((run_name.clone(), rec.history.clone(), rec.best_epoch));
        res.test_errors.push(100.0 * (1.0 - rec.test.accuracy));
        res.epochs.push(rec.history.len());
        res.minutes.push(rec.seconds / 60.0);
        res.runs.push(run_name);
    }
    (res.mean_test_error, res.std_test_error) = mean_std(&res.test_errors);
    Ok((res, curves))
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
) -> Result<Option<(PathBuf, RunRecord)>> {
    for dir in dirs {
        let src = dir.join(run_name);
        let Some(rec) = finished_run(&src, cfg, false) else {
            continue;
        };
        copy_dir(&src, dest).map_err(|e| {
            Error::runtime(format!(
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
