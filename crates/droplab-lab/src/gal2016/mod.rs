//! The UCI regression benchmark of Gal & Ghahramani 2016 ("Dropout as a Bayesian
//! Approximation", Table 1), run by `droplab paper run gal2016-uci` on the authors' splits.
//!
//! A set's directory holds `data.txt` (whitespace-separated rows), `index_features.txt`,
//! `index_target.txt`, the splits `index_train_K.txt` / `index_test_K.txt` (0-based row
//! indices), `n_splits.txt` and the searched grid `dropout_rates.txt` and `tau_values.txt`.
//!
//! On each split, as the authors' code: the last `validation_fraction` of the training rows
//! are held out; every (dropout rate p, precision tau) pair trains a network on the rest with
//! dropout p on the input and hidden units and an L2 weight `l^2 (1 - p) / (2 N tau)`, and is
//! scored by the Monte Carlo log-likelihood of the held-out rows. The best pair is retrained
//! on all training rows; the test score is the RMSE of the Monte Carlo mean and the mean
//! log-likelihood, with features and targets standardized on the training rows and scored in
//! the target's own units.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

mod board;
mod protocol;
mod summary;

pub use protocol::{Candidate, Scores, SplitResult};
pub use summary::SetResult;

use board::*;
use protocol::*;
use summary::*;

use droplab::Tensor;
use droplab::analysis::uncertainty::{GaussianMc, gaussian_mc};
use droplab::data::Dataset;
use droplab::data::split::Standardizer;
use droplab::nn::{Mode, Targets};
use droplab::rng::Stream;
use droplab::tensor::Threads;
use serde::{Deserialize, Serialize};

use crate::config::{RunConfig, UciProtocol};
use crate::data::uci::{UciSet, set_dir};
use crate::error::{Error, Result, io_err};
use crate::recipes::{Overrides, Recipe, parse};
use crate::staging::take_from;

/// A UCI recipe resolved against the options, its data loaded and checked.
pub struct Prepared {
    /// The recipe's name.
    pub name: &'static str,
    /// Its run config.
    pub cfg: RunConfig,
    /// Its protocol settings.
    pub proto: UciProtocol,
    /// The set, with its splits and grid.
    pub set: UciSet,
}

/// Resolves one UCI recipe and loads its set (before anything is written).
pub fn prepare(r: &'static Recipe, args: &Overrides) -> Result<Prepared> {
    let mut cfg = parse(r)?;
    let info = cfg.recipe.clone().unwrap_or_default();
    let mut proto = info.uci.clone().unwrap_or_default();
    if args.apply(&mut cfg) {
        proto.published_rmse = None;
        proto.published_ll = None;
    }
    if let Some(t) = args.mc_samples {
        proto.mc_samples = t;
    }
    if !cfg.data.dataset.starts_with("uci:") {
        return Err(Error::usage(format!(
            "{}: the UCI protocol needs a uci:SET dataset, not '{}'",
            r.name, cfg.data.dataset
        )));
    }
    if cfg.model.widths.len() < 2 || cfg.model.is_cnn() || cfg.model.is_rnn() {
        return Err(Error::usage(format!(
            "recipes/{}.toml: the UCI protocol trains an MLP (model.widths = [IN, HIDDEN..., 1])",
            r.name
        )));
    }
    cfg.validate()?;
    if proto.mc_samples == 0 || !(proto.validation_fraction > 0.0 && proto.validation_fraction < 1.0) {
        return Err(Error::usage(format!(
            "recipes/{}.toml: recipe.uci needs mc_samples >= 1 and validation_fraction in (0, 1)",
            r.name
        )));
    }
    let dir = set_dir(&cfg.data.dataset, &cfg.data.data_dir)?;
    let set = UciSet::load(&dir, args.splits)?;
    if set.splits.is_empty() {
        return Err(Error::usage("--splits must be at least 1"));
    }
    Ok(Prepared {
        name: r.name,
        cfg,
        proto,
        set,
    })
}

/// Runs one prepared recipe over its splits on `workers` threads, one grid point or final
/// retrain per job, keeping each finished split in `dir`; splits an interrupted run finished
/// (in `earlier`) are taken, not rerun.
/// Progress lines (a split taken from an interrupted run, a split finished) go to `say`.
pub fn run_recipe(
    p: &Prepared,
    workers: usize,
    dir: &Path,
    earlier: &[PathBuf],
    taken_from: &mut Vec<PathBuf>,
    say: &(dyn Fn(&str) + Sync),
) -> Result<SetResult> {
    let Prepared {
        name,
        cfg,
        proto,
        set,
    } = p;
    let start = Instant::now();
    let total = set.splits.len();
    let mut slots: Vec<Option<Result<SplitResult>>> = (0..total).map(|_| None).collect();
    for (k, slot) in slots.iter_mut().enumerate() {
        if let Some((from, sr)) = take_split(earlier, p, k, dir) {
            say(&format!(
                "{name} split {}/{total}: taken from the interrupted run {} (it had taken {:.0} s)",
                k + 1,
                from.display(),
                sr.seconds
            ));
            if !taken_from.contains(&from) {
                taken_from.push(from);
            }
            *slot = Some(Ok(sr));
        }
    }
    let resumed_splits = slots.iter().filter(|s| s.is_some()).count();
    let todo: Vec<usize> = (0..total).filter(|&k| slots[k].is_none()).collect();
    let n_grid = grid(set).len();
    let board = Mutex::new(Board {
        queue: todo
            .iter()
            .flat_map(|&k| (0..n_grid).map(move |i| (k, i)))
            .collect(),
        next: 0,
        finals: Vec::new(),
        grids: vec![vec![None; n_grid]; total],
        seconds: vec![0.0; total],
        running: 0,
        failed: false,
    });
    let cv = Condvar::new();
    let results = Mutex::new(slots);
    // Every grid point of every split is a job of its own, so that all workers stay busy
    // to the end (five protein splits on 16 cores, or the last split on 2).
    let finish = |k: usize,
                  candidates: Vec<Candidate>,
                  seconds: f64,
                  threads: &Threads|
     -> Result<SplitResult> {
        let t = Instant::now();
        let mut sr = run_final(cfg, proto, set, k, candidates, threads)?;
        sr.seconds = seconds + t.elapsed().as_secs_f64();
        let saved = SavedSplit {
            config: cfg.clone(),
            protocol: proto.clone(),
            result: sr,
        };
        let path = dir.join(split_file(name, k));
        let json = serde_json::to_string(&saved).map_err(|e| Error::runtime(e.to_string()))?;
        std::fs::write(&path, json).map_err(|e| io_err(&path, e))?;
        let sr = &saved.result;
        say(&format!(
            "{name} split {}/{total}: dropout {}, tau {} -> test RMSE {:.4}, log-likelihood {:.4} ({:.0} s on one core)",
            k + 1,
            sr.dropout,
            sr.tau,
            sr.test.rmse,
            sr.test.log_likelihood,
            sr.seconds
        ));
        Ok(saved.result)
    };
    // One single-thread pool per worker, for all of its jobs.
    let pools = (0..workers.clamp(1, (todo.len() * n_grid).max(1)))
        .map(|_| Threads::new(Some(1)))
        .collect::<droplab::Result<Vec<Threads>>>()?;
    let points = grid(set);
    std::thread::scope(|s| {
        let (board, cv, results, finish, points) = (&board, &cv, &results, &finish, &points);
        for threads in &pools {
            s.spawn(move || {
                while let Some(job) = Board::take(board.lock().unwrap(), cv) {
                    let mut done = Done {
                        board,
                        cv,
                        failed: false,
                    };
                    let t = Instant::now();
                    done.failed = match job {
                        Job::Candidate(k, i) => {
                            match run_candidate(cfg, proto, set, (k, i), points[i], threads) {
                                Ok(c) => {
                                    let mut b = board.lock().unwrap();
                                    b.grids[k][i] = Some(c);
                                    b.seconds[k] += t.elapsed().as_secs_f64();
                                    if b.grids[k].iter().all(Option::is_some) {
                                        b.finals.push(k);
                                    }
                                    false
                                }
                                Err(e) => {
                                    results.lock().unwrap()[k] = Some(Err(e));
                                    true
                                }
                            }
                        }
                        Job::Final(k) => {
                            let (grid, seconds) = {
                                let mut b = board.lock().unwrap();
                                let g = std::mem::take(&mut b.grids[k]);
                                (g.into_iter().flatten().collect(), b.seconds[k])
                            };
                            let res = finish(k, grid, seconds, threads);
                            let failed = res.is_err();
                            results.lock().unwrap()[k] = Some(res);
                            failed
                        }
                    };
                }
            });
        }
    });
    let mut per_split = Vec::new();
    for res in results.into_inner().unwrap().into_iter().flatten() {
        per_split.push(res?);
    }
    let col = |f: &dyn Fn(&SplitResult) -> f64| -> Vec<f64> { per_split.iter().map(f).collect() };
    let rmse = mean_se(&col(&|s| s.test.rmse));
    let ll = mean_se(&col(&|s| s.test.log_likelihood));
    Ok(SetResult {
        recipe: name.to_string(),
        dataset: cfg.data.dataset.clone(),
        splits: per_split.len(),
        epochs: cfg.train.epochs,
        batch_size: cfg.train.batch_size,
        mc_samples: proto.mc_samples,
        published_rmse: proto.published_rmse,
        published_ll: proto.published_ll,
        rmse,
        rmse_weight_scaling: mean_se(&col(&|s| s.test.rmse_weight_scaling)),
        log_likelihood: ll,
        rmse_within_2se: within_two_se(rmse, proto.published_rmse),
        ll_within_2se: within_two_se(ll, proto.published_ll),
        minutes: start.elapsed().as_secs_f64() / 60.0,
        resumed_splits,
        per_split,
    })
}
