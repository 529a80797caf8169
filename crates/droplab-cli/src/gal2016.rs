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

use droplab::Tensor;
use droplab::analysis::uncertainty::{GaussianMc, gaussian_mc};
use droplab::data::Dataset;
use droplab::data::split::Standardizer;
use droplab::nn::{Mode, Targets};
use droplab::rng::Stream;
use droplab::tensor::Threads;
use serde::{Deserialize, Serialize};

use crate::cli::PaperRunArgs;
use crate::error::{CliError, CliResult, io_err};
use droplab_lab::config::{RunConfig, UciProtocol};
use droplab_lab::data::uci::{UciSet, set_dir};
use droplab_lab::recipes::{Recipe, parse};
use droplab_lab::staging::{Staging, forget, leftovers, take_from};
use droplab_report::markdown_table;

/// Mean and population standard deviation (1 when constant), as the authors' `np.std`.
fn moments(v: &[f32]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let sd = (v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n).sqrt();
    (m, if sd < 1e-12 { 1.0 } else { sd })
}

/// Test (or validation) scores of one trained network.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Scores {
    /// RMSE of the Monte Carlo mean.
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub rmse: f64,
    /// RMSE of the weight-scaled network (dropout off).
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub rmse_weight_scaling: f64,
    /// Mean Gaussian log-likelihood under the Monte Carlo passes.
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub log_likelihood: f64,
}

/// Trains on rows `fit_rows` with dropout `p` and precision `tau`, scores rows `eval_rows`.
#[allow(clippy::too_many_arguments)]
fn train_and_score(
    cfg: &RunConfig,
    proto: &UciProtocol,
    set: &UciSet,
    fit_rows: &[usize],
    eval_rows: &[usize],
    (p, tau): (f32, f64),
    seed: u64,
    threads: &Threads,
) -> CliResult<Scores> {
    let (mut xf, yf) = set.rows(fit_rows);
    let (mut xe, ye) = set.rows(eval_rows);
    let scaler = Standardizer::fit(&xf);
    scaler.apply(&mut xf)?;
    scaler.apply(&mut xe)?;
    let (mean, sd) = moments(&yf);
    let column = |v: &[f32]| -> CliResult<Tensor> {
        let z: Vec<f32> = v.iter().map(|&y| ((y as f64 - mean) / sd) as f32).collect();
        Ok(Tensor::from_vec(&[v.len(), 1], z)?)
    };
    let train = Dataset::new(xf, Targets::Values(column(&yf)?), 0)?;
    let eval = Dataset::new(xe, Targets::Values(column(&ye)?), 0)?;
    let mut model_cfg = cfg.model.clone();
    let last = model_cfg.widths.len() - 1;
    model_cfg.widths[0] = set.x.cols();
    model_cfg.widths[last] = 1;
    model_cfg.dropout.input = p;
    model_cfg.dropout.hidden = vec![p];
    // Keras' l2(reg) adds reg * sum w^2; droplab's l2 adds l2 / 2 * sum w^2.
    let n = fit_rows.len() as f64;
    model_cfg.regularization.l2 = (proto.lengthscale.powi(2) * (1.0 - p as f64) / (n * tau)) as f32;
    let mut model = model_cfg.build(seed)?;
    let report = droplab::train::fit(&mut model, &cfg.train, seed, threads, &train, None, &mut |_| {})?;
    if let Some(e) = report.diverged {
        return Err(CliError::runtime(format!(
            "{}: dropout {p}, tau {tau}: {e}",
            cfg.data.dataset
        )));
    }
    let ws: GaussianMc = gaussian_mc(&mut model, &eval, &ye, Mode::Eval, 1, tau, (sd, mean), threads)?;
    let mc = gaussian_mc(
        &mut model,
        &eval,
        &ye,
        Mode::MonteCarlo,
        proto.mc_samples,
        tau,
        (sd, mean),
        threads,
    )?;
    Ok(Scores {
        rmse: mc.rmse(),
        rmse_weight_scaling: ws.rmse(),
        log_likelihood: mc.log_likelihood(),
    })
}

/// One grid point's validation scores.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Candidate {
    pub dropout: f32,
    pub tau: f64,
    pub validation: Scores,
}

/// One split's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SplitResult {
    pub split: usize,
    /// The chosen dropout rate and tau.
    pub dropout: f32,
    pub tau: f64,
    pub test: Scores,
    pub candidates: Vec<Candidate>,
    pub seconds: f64,
}

/// The rows of split `k` a grid point fits on and is validated on: the authors'
/// `int(0.8 * n)` first training rows, and the rest.
fn fit_and_val<'a>(proto: &UciProtocol, set: &'a UciSet, k: usize) -> (&'a [usize], &'a [usize]) {
    let train = &set.splits[k].0;
    let keep = ((train.len() as f64) * (1.0 - proto.validation_fraction)) as usize;
    train.split_at(keep.clamp(1, train.len()))
}

/// The seed of job `i` of split `k` (the grid points in order, then the final retrain).
fn job_seed(cfg: &RunConfig, k: usize, i: usize) -> u64 {
    Stream::new(cfg.seed, "gal2016")
        .derive_u64(k as u64)
        .derive_u64(i as u64)
        .seq()
        .next_u64()
}

/// The (dropout rate, tau) pairs of the set's grid, rates outermost.
fn grid(set: &UciSet) -> Vec<(f32, f64)> {
    set.dropout_rates
        .iter()
        .flat_map(|&p| set.tau_values.iter().map(move |&tau| (p, tau)))
        .collect()
}

/// Grid point `i`, the pair `(p, tau)`, of split `k`, trained on the fitting rows and scored
/// on the held-out ones on the worker's one-thread pool.
fn run_candidate(
    cfg: &RunConfig,
    proto: &UciProtocol,
    set: &UciSet,
    (k, i): (usize, usize),
    (p, tau): (f32, f64),
    threads: &Threads,
) -> CliResult<Candidate> {
    let (fit_rows, val_rows) = fit_and_val(proto, set, k);
    if val_rows.is_empty() {
        return Err(CliError::usage(format!(
            "{}: split {k} has too few training rows to hold out a validation part",
            cfg.data.dataset
        )));
    }
    let validation = train_and_score(
        cfg,
        proto,
        set,
        fit_rows,
        val_rows,
        (p, tau),
        job_seed(cfg, k, i),
        threads,
    )?;
    Ok(Candidate {
        dropout: p,
        tau,
        validation,
    })
}

/// Split `k`'s outcome from its scored grid: the best pair by validation log-likelihood,
/// retrained on all training rows and scored on the test rows.
fn run_final(
    cfg: &RunConfig,
    proto: &UciProtocol,
    set: &UciSet,
    k: usize,
    candidates: Vec<Candidate>,
    threads: &Threads,
) -> CliResult<SplitResult> {
    // The first best on ties; a NaN score never wins.
    let best = candidates.iter().enumerate().fold(0, |b, (i, c)| {
        if c.validation.log_likelihood > candidates[b].validation.log_likelihood {
            i
        } else {
            b
        }
    });
    let (p, tau) = (candidates[best].dropout, candidates[best].tau);
    let (train, test) = &set.splits[k];
    let test_scores = train_and_score(
        cfg,
        proto,
        set,
        train,
        test,
        (p, tau),
        job_seed(cfg, k, candidates.len()),
        threads,
    )?;
    Ok(SplitResult {
        split: k,
        dropout: p,
        tau,
        test: test_scores,
        candidates,
        seconds: 0.0,
    })
}

/// One unit of work: grid point `i` of split `k`, or split `k`'s final retrain.
#[derive(Clone, Copy)]
enum Job {
    Candidate(usize, usize),
    Final(usize),
}

/// The shared state of the workers of one recipe.
struct Board {
    /// Grid-point jobs in split order; `next` is the first not yet handed out.
    queue: Vec<(usize, usize)>,
    next: usize,
    /// Splits whose grid is complete, waiting for their final retrain (handed out first).
    finals: Vec<usize>,
    /// Per split: its scored grid points so far, and the seconds its jobs took on one core.
    grids: Vec<Vec<Option<Candidate>>>,
    seconds: Vec<f64>,
    /// Jobs in progress; with nothing queued and none running, the work is done.
    running: usize,
    failed: bool,
}

impl Board {
    /// The next job, waiting while only running jobs can make more; `None` when done or failed.
    fn take(mut b: std::sync::MutexGuard<'_, Board>, cv: &Condvar) -> Option<Job> {
        loop {
            if b.failed {
                return None;
            }
            let job = if let Some(k) = b.finals.pop() {
                Some(Job::Final(k))
            } else if let Some(&(k, i)) = b.queue.get(b.next) {
                b.next += 1;
                Some(Job::Candidate(k, i))
            } else {
                None
            };
            if let Some(j) = job {
                b.running += 1;
                return Some(j);
            }
            if b.running == 0 {
                return None;
            }
            b = cv.wait(b).unwrap();
        }
    }
}

/// Marks a job done when dropped, also when it panicked: a failure stops the hand-out (the
/// run fails as a whole), and no worker is left waiting for a job that will never finish.
struct Done<'a> {
    board: &'a Mutex<Board>,
    cv: &'a Condvar,
    failed: bool,
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        let mut b = self.board.lock().unwrap_or_else(|e| e.into_inner());
        b.running -= 1;
        b.failed |= self.failed || std::thread::panicking();
        self.cv.notify_all();
    }
}

/// A finished split with the config and protocol it ran under, written to the output
/// directory as soon as it is done (`RECIPE-splitK.json`), so that `--resume` can take it
/// after an interruption.
#[derive(Serialize, Deserialize)]
struct SavedSplit {
    config: RunConfig,
    protocol: UciProtocol,
    result: SplitResult,
}

fn split_file(name: &str, k: usize) -> String {
    format!("{name}-split{k}.json")
}

/// Split `k` of `p` as an interrupted run finished it, moved into `dest`: the directory it came
/// from and the result. A split of another config or protocol is left where it is.
fn take_split(earlier: &[PathBuf], p: &Prepared, k: usize, dest: &Path) -> Option<(PathBuf, SplitResult)> {
    let file = split_file(p.name, k);
    take_from(earlier, &file, &dest.join(&file), |src| {
        let saved: SavedSplit = serde_json::from_str(&std::fs::read_to_string(src).ok()?).ok()?;
        let same = saved.config == p.cfg && saved.protocol == p.proto && saved.result.split == k;
        same.then_some(saved.result)
    })
}

/// Mean and standard error over splits (population sd / sqrt(n), as the authors' code).
fn mean_se(v: &[f64]) -> [f64; 2] {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt();
    [m, sd / n.sqrt()]
}

/// Whether `ours` lies within two of the paper's standard errors of the paper's mean.
fn within_two_se(ours: [f64; 2], published: Option<[f64; 2]>) -> Option<bool> {
    published.map(|[m, se]| (ours[0] - m).abs() <= 2.0 * se)
}

/// One set's results.
#[derive(Debug, Serialize)]
pub struct SetResult {
    pub recipe: String,
    pub dataset: String,
    pub splits: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub mc_samples: usize,
    pub published_rmse: Option<[f64; 2]>,
    pub published_ll: Option<[f64; 2]>,
    /// Mean and standard error over splits.
    pub rmse: [f64; 2],
    pub rmse_weight_scaling: [f64; 2],
    pub log_likelihood: [f64; 2],
    pub rmse_within_2se: Option<bool>,
    pub ll_within_2se: Option<bool>,
    /// Wall-clock minutes of this invocation (splits taken by `--resume` count in their own
    /// `seconds`, not here).
    pub minutes: f64,
    /// Splits taken from an interrupted run by `--resume`.
    pub resumed_splits: usize,
    pub per_split: Vec<SplitResult>,
}

/// A UCI recipe resolved against the flags, its data loaded and checked.
struct Prepared {
    name: &'static str,
    cfg: RunConfig,
    proto: UciProtocol,
    set: UciSet,
}

/// Resolves one UCI recipe and loads its set (before anything is written).
fn prepare(r: &'static Recipe, args: &PaperRunArgs) -> CliResult<Prepared> {
    let mut cfg = parse(r)?;
    let info = cfg.recipe.clone().unwrap_or_default();
    let mut proto = info.uci.clone().unwrap_or_default();
    if let Some(e) = args.epochs {
        cfg.train.epochs = e;
    }
    if let Some(b) = args.batch_size {
        cfg.train.batch_size = b;
    }
    if let Some(t) = args.mc_samples {
        proto.mc_samples = t;
    }
    if let Some(d) = &args.dataset {
        if *d != cfg.data.dataset {
            proto.published_rmse = None;
            proto.published_ll = None;
        }
        cfg.data.dataset = d.clone();
    }
    if let Some(d) = &args.data_dir {
        cfg.data.data_dir = d.display().to_string();
    }
    if !cfg.data.dataset.starts_with("uci:") {
        return Err(CliError::usage(format!(
            "{}: the UCI protocol needs a uci:SET dataset, not '{}'",
            r.name, cfg.data.dataset
        )));
    }
    if cfg.model.widths.len() < 2 || cfg.model.is_cnn() || cfg.model.is_rnn() {
        return Err(CliError::usage(format!(
            "recipes/{}.toml: the UCI protocol trains an MLP (model.widths = [IN, HIDDEN..., 1])",
            r.name
        )));
    }
    cfg.model.validate()?;
    cfg.train.validate()?;
    if proto.mc_samples == 0 || !(proto.validation_fraction > 0.0 && proto.validation_fraction < 1.0) {
        return Err(CliError::usage(format!(
            "recipes/{}.toml: recipe.uci needs mc_samples >= 1 and validation_fraction in (0, 1)",
            r.name
        )));
    }
    let dir = set_dir(&cfg.data.dataset, &cfg.data.data_dir)?;
    let set = UciSet::load(&dir, args.splits)?;
    if set.splits.is_empty() {
        return Err(CliError::usage("--splits must be at least 1"));
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
fn run_recipe(
    p: &Prepared,
    args: &PaperRunArgs,
    workers: usize,
    dir: &Path,
    earlier: &[PathBuf],
    taken_from: &mut Vec<PathBuf>,
) -> CliResult<SetResult> {
    let Prepared {
        name,
        cfg,
        proto,
        set,
    } = p;
    let start = Instant::now();
    let total = set.splits.len();
    let mut slots: Vec<Option<CliResult<SplitResult>>> = (0..total).map(|_| None).collect();
    for (k, slot) in slots.iter_mut().enumerate() {
        if let Some((from, sr)) = take_split(earlier, p, k, dir) {
            if !args.quiet {
                eprintln!(
                    "{name} split {}/{total}: taken from the interrupted run {} (it had taken {:.0} s)",
                    k + 1,
                    from.display(),
                    sr.seconds
                );
            }
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
     -> CliResult<SplitResult> {
        let t = Instant::now();
        let mut sr = run_final(cfg, proto, set, k, candidates, threads)?;
        sr.seconds = seconds + t.elapsed().as_secs_f64();
        let saved = SavedSplit {
            config: cfg.clone(),
            protocol: proto.clone(),
            result: sr,
        };
        let path = dir.join(split_file(name, k));
        let json = serde_json::to_string(&saved).map_err(|e| CliError::runtime(e.to_string()))?;
        std::fs::write(&path, json).map_err(|e| io_err(&path, e))?;
        if !args.quiet {
            let sr = &saved.result;
            eprintln!(
                "{name} split {}/{total}: dropout {}, tau {} -> test RMSE {:.4}, log-likelihood {:.4} ({:.0} s on one core)",
                k + 1,
                sr.dropout,
                sr.tau,
                sr.test.rmse,
                sr.test.log_likelihood,
                sr.seconds
            );
        }
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

/// A number with the digits its size needs (RMSE 0.0055 and 4.36 alike).
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

/// `droplab paper run` of UCI recipes.
pub fn run(recipes: &[&'static Recipe], args: &PaperRunArgs) -> CliResult {
    if args.train_size.is_some() || args.val_size.is_some() {
        return Err(CliError::usage(
            "--train-size and --val-size do not apply to the UCI recipes: they use the authors' splits (--splits N keeps the first N)",
        ));
    }
    let prepared = recipes
        .iter()
        .map(|r| prepare(r, args))
        .collect::<CliResult<Vec<_>>>()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/paper").join(&args.name));
    let earlier = if args.resume { leftovers(&out) } else { Vec::new() };
    let mut taken_from = Vec::new();
    let staging = Staging::new(&out, "--out")?;
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
            args,
            workers,
            staging.path(),
            &earlier,
            &mut taken_from,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_standard_errors_of_the_paper() {
        assert_eq!(within_two_se([3.3, 0.2], Some([2.97, 0.19])), Some(true));
        assert_eq!(within_two_se([3.4, 0.2], Some([2.97, 0.19])), Some(false));
        assert_eq!(within_two_se([-2.5, 0.1], None), None);
    }

    #[test]
    fn standard_error_is_the_population_sd_over_root_n() {
        let [m, se] = mean_se(&[1.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((se - 1.0 / 2f64.sqrt()).abs() < 1e-12);
    }
}
