//! `droplab tune`: a hyperparameter search with k-fold cross-validation over a run config.
//!
//! 1. The base config comes from `--config` and the train flags, as for `droplab train`; a
//!    config file may carry a `[tune]` table (sampler, trials, folds, space...), which the
//!    tune flags override.
//! 2. Each `--space` path is resolved to the full path of a config field (`dropout.hidden` is
//!    `model.dropout.hidden`, `l2` is `model.regularization.l2`, `lr` is
//!    `train.optimizer.lr`); a path that names no field, or bounds the config refuses, is an
//!    error before any work.
//! 3. The study is created in the store (or re-opened, if it exists with the same settings),
//!    and workers run it: `--workers N` local processes (`droplab worker`), or a Slurm job
//!    array with `--slurm`.
//! 4. When it ends: the leaderboard, `study.json`, the validation curves and the search
//!    history as SVG, and with `--refit` the best config trained on all training data and
//!    evaluated once on the test set.

mod outputs;
mod slurm;
mod worker;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use droplab_tune::{
    Dist, Param, PruneConfig, SamplerConfig, SamplerKind, Space, Store, StudySpec, TrialState, TuneError,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use serde_json::Value;

pub use worker::worker;

use crate::cli::TuneArgs;
use crate::error::{CliError, CliResult};
use crate::overrides;
use droplab_lab::config::RunConfig;
use droplab_lab::data as dataset;

/// A tuner error as a command error: bad input exits 2, a failing store or trial 1.
pub fn tune_err(e: TuneError) -> CliError {
    match e {
        TuneError::Store { .. } | TuneError::Trial(_) | TuneError::Sampler { .. } => CliError::runtime(e),
        _ => CliError::usage(e),
    }
}

/// `a=0.3 b=1e-4`.
pub fn show_params(p: &droplab_tune::Params) -> String {
    p.iter()
        .map(|(k, v)| format!("{k}={}", droplab_tune::space::show(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `[tune]` table of a study file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct TuneSection {
    name: Option<String>,
    sampler: Option<String>,
    trials: Option<usize>,
    folds: Option<usize>,
    stratified: Option<bool>,
    grid_points: Option<usize>,
    startup: Option<usize>,
    prune: Option<bool>,
    seed: Option<u64>,
    space: toml::Table,
}

/// Where a short path may live in a run config, tried in this order.
const PREFIXES: &[&str] = &[
    "",
    "model.",
    "model.dropout.",
    "model.regularization.",
    "train.",
    "train.optimizer.",
    "data.",
];

fn parse_run_config(t: toml::Table) -> Result<RunConfig, String> {
    toml::Value::Table(t)
        .try_into::<RunConfig>()
        .map_err(|e| e.to_string().replace('\n', " "))
}

/// The full dotted path of the config field `path` names: the one of `path` with each prefix
/// that is a setting of the config (by its own field list), if it takes the parameter's values.
fn resolve_path(cfg: &RunConfig, base: &toml::Table, p: &Param) -> CliResult<String> {
    let found: Vec<String> = PREFIXES
        .iter()
        .map(|prefix| format!("{prefix}{}", p.path))
        .filter(|full| cfg.has_setting(full))
        .collect();
    match found.as_slice() {
        [one] => {
            let probe = p.dist.grid(2).into_iter().next().unwrap_or(Value::Null);
            let mut t = base.clone();
            droplab_tune::space::set_path(&mut t, one, &probe).map_err(tune_err)?;
            parse_run_config(t).map_err(|e| {
                CliError::usage(format!(
                    "--space {}: the field does not take {} ({one}: {e})",
                    p.path,
                    p.dist.describe(),
                ))
            })?;
            Ok(one.clone())
        }
        [] => Err(CliError::usage(format!(
            "--space {}: names no config field (use a dotted path of the run config, e.g. model.dropout.hidden, model.regularization.l2, train.optimizer.lr, train.epochs; `droplab train --help` lists the settings)",
            p.path
        ))),
        many => Err(CliError::usage(format!(
            "--space {}: ambiguous, it could be {} (give the full path)",
            p.path,
            many.join(" or ")
        ))),
    }
}

/// Checks that the ends of every range make a valid config, so a bad bound fails now rather
/// than trial by trial.
fn check_bounds(base: &toml::Table, space: &Space) -> CliResult {
    for p in &space.params {
        // Both ends of a range, every value of a list or choice.
        let ends = match &p.dist {
            Dist::List { values } => values.iter().map(|v| Value::from(*v)).collect(),
            d => d.grid(2),
        };
        for v in ends {
            let mut t = base.clone();
            droplab_tune::space::set_path(&mut t, &p.path, &v).map_err(tune_err)?;
            let cfg = parse_run_config(t).map_err(|e| {
                CliError::usage(format!(
                    "--space {}={}: value {v}: {e}",
                    p.path,
                    p.dist.describe()
                ))
            })?;
            if let Err(e) = cfg.validate() {
                return Err(CliError::usage(format!(
                    "--space {}={}: value {} is refused: {e}",
                    p.path,
                    p.dist.describe(),
                    droplab_tune::space::show(&v)
                )));
            }
        }
    }
    Ok(())
}

/// `droplab study show`: the outputs of a study from its store, whoever ran its trials.
/// Trials still queued or running are left out of the scores and said to be.
pub fn show(args: &crate::cli::StudyShowArgs) -> CliResult {
    let mut store = Store::open(&args.store).map_err(tune_err)?;
    let (sid, spec) = store.open_study(&args.study).map_err(tune_err)?;
    let trials = store.trials(sid).map_err(tune_err)?;
    let finished = trials
        .iter()
        .filter(|t| !matches!(t.state, TrialState::Queued | TrialState::Running))
        .count();
    let limit = spec.trial_limit();
    if finished < limit && !args.quiet {
        eprintln!(
            "study '{}': {finished} of {limit} trials finished; the outputs show those (run `droplab worker --store {} --study {}` for the rest)",
            args.study, args.store, args.study
        );
    }
    let r = Resolved {
        out: args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("studies").join(&spec.name)),
        store: args.store.clone(),
        spec,
    };
    std::fs::create_dir_all(&r.out)
        .map_err(|e| CliError::usage(format!("--out {}: {e}", r.out.display())))?;
    outputs::write(&r, &store, &trials, args.refit, args.quiet)
}

/// The study a `droplab tune` invocation describes, and its directory and store URL.
pub struct Resolved {
    pub spec: StudySpec,
    pub out: PathBuf,
    pub store: String,
}

/// Builds the study spec from the flags and the config file.
pub fn resolve(args: &TuneArgs) -> CliResult<Resolved> {
    if args.train.resume {
        return Err(CliError::usage(
            "--resume is for train: a study resumes by running the same tune command again (its trials are in its store)",
        ));
    }
    let (file_text, tune) = match &args.train.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("--config {}: {e}", path.display())))?;
            let mut table: toml::Table = toml::from_str(&text)
                .map_err(|e| CliError::usage(format!("--config {}: {}", path.display(), e.message())))?;
            let tune = match table.remove("tune") {
                Some(v) => v.try_into::<TuneSection>().map_err(|e| {
                    CliError::usage(format!("--config {}: [tune]: {}", path.display(), e.message()))
                })?,
                None => TuneSection::default(),
            };
            let rest = toml::to_string(&table).map_err(|e| CliError::usage(format!("--config: {e}")))?;
            (Some((path.display().to_string(), rest)), tune)
        }
        None => (None, TuneSection::default()),
    };
    let (mut cfg, explicit) = overrides::resolve_text(
        &args.train,
        file_text.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
    )?;
    cfg.validate()?;
    // Fit the model's widths to the data now (this also checks that the data load).
    let splits = dataset::load(&cfg.data, cfg.seed)?;
    droplab_lab::run::fit_widths(&mut cfg, &splits, explicit)?;
    cfg.validate()?;
    // Threads are the workers' business (`droplab worker --threads`), not the study's: a
    // study resumed with another thread count is the same study.
    cfg.threads = 0;
    let base_text = cfg.to_toml();
    let base: toml::Table = toml::from_str(&base_text).expect("a serialized config parses");

    let mut space = Space::from_toml(&tune.space).map_err(tune_err)?;
    for p in Space::parse(&args.space).map_err(tune_err)?.params {
        space.params.retain(|q| q.path != p.path);
        space.params.push(p);
    }
    let mut resolved = Space::default();
    for p in space.params {
        let path = resolve_path(&cfg, &base, &p)?;
        resolved.push(Param { path, dist: p.dist }).map_err(tune_err)?;
    }
    check_bounds(&base, &resolved)?;

    let kind = SamplerKind::parse(
        args.sampler
            .as_deref()
            .or(tune.sampler.as_deref())
            .unwrap_or("tpe"),
    )
    .map_err(tune_err)?;
    let trials = args
        .trials
        .or(tune.trials)
        .unwrap_or(if kind == SamplerKind::Grid { usize::MAX } else { 20 });
    let name = args
        .name
        .clone()
        .or(tune.name)
        .unwrap_or_else(|| "study".to_string());
    let spec = StudySpec {
        name: name.clone(),
        base: base_text,
        space: resolved,
        sampler: SamplerConfig {
            kind,
            grid_points: args.grid_points.or(tune.grid_points).unwrap_or(5),
            startup: args.startup.or(tune.startup).unwrap_or(5),
        },
        trials,
        folds: args.folds.or(tune.folds).unwrap_or(5),
        stratified: !args.no_stratify && tune.stratified.unwrap_or(true),
        seed: args.search_seed.or(tune.seed).unwrap_or(cfg.seed),
        prune: (args.prune || tune.prune.unwrap_or(false)).then(PruneConfig::default),
    };
    spec.validate().map_err(tune_err)?;
    let out = args
        .train
        .out
        .clone()
        .unwrap_or_else(|| Path::new("studies").join(&name));
    let store = match &args.store {
        Some(s) => s.clone(),
        None => format!("sqlite:{}", out.join("study.sqlite").display()),
    };
    Ok(Resolved { spec, out, store })
}

/// Threads per worker: all cores shared among the workers, unless `--threads` says.
fn worker_threads(args: &TuneArgs, workers: usize) -> usize {
    args.train.threads.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        (cores / workers).max(1)
    })
}

/// An exclusive lock on `dir/.tune.lock`, held while the returned file lives; a second
/// `droplab tune` on the same study directory is refused at once.
fn lock_study_dir(dir: &std::path::Path) -> CliResult<std::fs::File> {
    let path = dir.join(".tune.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| crate::error::io_err(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(CliError::usage(format!(
            "--out {}: another `droplab tune` is running this study (its workers log here); wait \
             for it to finish, or give this one another --out",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(crate::error::io_err(&path, e)),
    }
}

/// `droplab tune`.
pub fn run(args: &TuneArgs) -> CliResult {
    // The workers' timing is checked here, before any work, by the rule each worker applies.
    if let Some(stale) = args.stale_secs {
        droplab_tune::WorkerOptions::with_timing(stale, None).map_err(tune_err)?;
    }
    let r = resolve(args)?;
    // A SQLite store lives in the study directory; a server store is reached first, so that
    // an unreachable one leaves no directory behind.
    let local = !r.store.starts_with("postgres");
    if local {
        std::fs::create_dir_all(&r.out).map_err(|e| crate::error::io_err(&r.out, e))?;
    }
    let mut store = Store::open(&r.store).map_err(tune_err)?;
    if !local {
        std::fs::create_dir_all(&r.out).map_err(|e| crate::error::io_err(&r.out, e))?;
    }
    // One `droplab tune` per study directory: a second would write the same worker logs.
    let _lock = lock_study_dir(&r.out)?;
    let sid = store.create_study(&r.spec).map_err(tune_err)?;
    let limit = r.spec.trial_limit();
    if args.workers == Some(0) && !args.slurm {
        // Create (or check) the study only; workers join it from anywhere.
        println!(
            "study '{}' ready; start workers with: droplab worker --store {} --study {}",
            r.spec.name,
            store.url(),
            r.spec.name
        );
        return Ok(());
    }
    let workers = args.workers.unwrap_or(1).max(1);
    let threads = worker_threads(args, workers);
    if !args.train.quiet {
        eprintln!(
            "study '{}': {} sampler, {} trials x {} folds over {}; store {}",
            r.spec.name,
            r.spec.sampler.kind.name(),
            limit,
            r.spec.folds,
            r.spec
                .space
                .params
                .iter()
                .map(|p| format!("{}={}", p.path, p.dist.describe()))
                .collect::<Vec<_>>()
                .join(" "),
            store.url()
        );
    }
    if args.slurm {
        let job = slurm::submit(args, &r, workers, threads)?;
        let Some(job) = job else { return Ok(()) };
        if args.no_wait {
            println!("submitted Slurm job {job}; follow it with `droplab tune` again or the store");
            return Ok(());
        }
        monitor(&mut store, sid, limit, args.train.quiet, &mut || {
            slurm::job_alive(&job)
        })?;
    } else {
        let mut children = spawn_workers(&r, workers, threads, args.stale_secs)?;
        // A second connection puts a dead worker's trials back in the queue at once (the
        // monitor holds the first), instead of after --stale-secs without a heartbeat.
        let mut requeue = Store::open(&r.store).map_err(tune_err)?;
        let mut failed: Vec<String> = Vec::new();
        let alive = &mut || {
            let mut any = false;
            for (log, c, done) in children.iter_mut() {
                match c.try_wait() {
                    Ok(None) => any = true,
                    Ok(Some(status)) if !*done => {
                        *done = true;
                        if !status.success() {
                            let name = droplab_tune::worker::worker_name_of(c.id());
                            let n = requeue.requeue_worker(sid, &name).unwrap_or(0);
                            let text = std::fs::read_to_string(&*log).unwrap_or_default();
                            let last = text
                                .lines()
                                .rev()
                                .find(|l| !l.trim().is_empty())
                                .unwrap_or("no output");
                            let line = format!(
                                "a worker stopped ({status}: {last}); {n} of its trials went back to the queue (log: {})",
                                log.display()
                            );
                            eprintln!("warning: {line}");
                            failed.push(line);
                        }
                    }
                    _ => {}
                }
            }
            any
        };
        monitor(&mut store, sid, limit, args.train.quiet, alive)?;
        for (_, c, _) in children.iter_mut() {
            let _ = c.wait();
        }
        let unfinished = store
            .trials(sid)
            .map_err(tune_err)?
            .iter()
            .filter(|t| matches!(t.state, TrialState::Queued | TrialState::Running))
            .count();
        if unfinished > 0 && !failed.is_empty() {
            return Err(CliError::runtime(format!(
                "the workers stopped with {unfinished} trials unfinished: {}; run the same command again to resume",
                failed.join("; ")
            )));
        }
    }
    let trials = store.trials(sid).map_err(tune_err)?;
    let unfinished = trials
        .iter()
        .filter(|t| matches!(t.state, TrialState::Queued | TrialState::Running))
        .count();
    if unfinished > 0 {
        return Err(CliError::runtime(format!(
            "the workers stopped with {unfinished} trials unfinished; run the same command again to resume"
        )));
    }
    outputs::write(&r, &store, &trials, args.refit, args.train.quiet)
}

fn spawn_workers(
    r: &Resolved,
    n: usize,
    threads: usize,
    stale: Option<f64>,
) -> CliResult<Vec<(PathBuf, Child, bool)>> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::runtime(format!("cannot find the droplab binary: {e}")))?;
    let logs = r.out.join("workers");
    std::fs::create_dir_all(&logs).map_err(|e| crate::error::io_err(&logs, e))?;
    let mut out = Vec::new();
    for i in 0..n {
        let log = logs.join(format!("worker-{i}.log"));
        let file = std::fs::File::create(&log).map_err(|e| crate::error::io_err(&log, e))?;
        let mut cmd = Command::new(&exe);
        cmd.args(["worker", "--store", &r.store, "--study", &r.spec.name])
            .args(["--threads", &threads.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        if let Some(s) = stale {
            cmd.args(["--stale-secs", &s.to_string()]);
        }
        let child = cmd
            .spawn()
            .map_err(|e| CliError::runtime(format!("cannot start a worker: {e}")))?;
        out.push((log, child, false));
    }
    Ok(out)
}

/// Follows the study in the store until every trial has ended or `alive` says the workers
/// are gone: a progress bar on a terminal, a line per finished trial otherwise.
fn monitor(
    store: &mut Store,
    sid: i64,
    limit: usize,
    quiet: bool,
    alive: &mut dyn FnMut() -> bool,
) -> CliResult {
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(limit as u64);
        b.set_style(
            ProgressStyle::with_template("trials [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b
    });
    let mut reported = std::collections::HashSet::new();
    loop {
        let running = alive();
        let trials = store.trials(sid).map_err(tune_err)?;
        let ended: Vec<_> = trials
            .iter()
            .filter(|t| !matches!(t.state, TrialState::Queued | TrialState::Running))
            .collect();
        let best = trials
            .iter()
            .filter(|t| t.state == TrialState::Done)
            .filter_map(|t| t.score)
            .fold(f64::NEG_INFINITY, f64::max);
        for t in &ended {
            if reported.insert(t.number) && bar.is_none() && !quiet {
                eprintln!(
                    "trial {:>3} {:<7} score {}  {}",
                    t.number,
                    t.state.name(),
                    t.score.map(|s| format!("{s:.4}")).unwrap_or_else(|| "-".into()),
                    show_params(&t.params)
                );
            }
        }
        if let Some(b) = &bar {
            b.set_position(ended.len() as u64);
            if best.is_finite() {
                b.set_message(format!("best {best:.4}"));
            }
        }
        if !running {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}
