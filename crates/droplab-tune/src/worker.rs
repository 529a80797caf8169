//! A worker: claims trials of a study from the store and runs their folds until the study
//! has no trial left. Any number of workers, on any machines, can serve one study.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Result, TuneError};
use crate::space::Params;
use crate::store::{Claim, Outcome, Store, TrialState};
use droplab::analysis::summary::mean_std;

use crate::study::{EpochScore, FoldScore, StudySpec, median};

/// What a worker runs for each fold of each trial.
pub trait Objective {
    /// Trains fold `fold` with a trial's values. `on_epoch` is called after every epoch;
    /// when it returns `false` training stops and the fold returns `Ok(None)`.
    /// `Err` is a failure of the trial (a bad config, a diverged run): it is recorded as
    /// failed with the error's message.
    fn run_fold(
        &mut self,
        params: &Params,
        fold: usize,
        on_epoch: &mut dyn FnMut(&EpochScore) -> bool,
    ) -> std::result::Result<Option<FoldScore>, FoldError>;
}

/// Why an objective could not score a fold: the objective's own error, kept whole (its
/// message is what the store records for the failed trial).
pub type FoldError = Box<dyn std::error::Error + Send + Sync>;

/// A worker's settings.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// The worker's name in the store (default: host and process id).
    pub name: String,
    /// A running trial whose worker has not beaten for this long goes back to the queue.
    pub stale_secs: f64,
    /// Seconds between heartbeats (a thread beats while a fold trains).
    pub heartbeat_secs: f64,
    /// Seconds to wait before asking again when every open trial is running elsewhere.
    pub poll_secs: f64,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            name: default_worker_name(),
            stale_secs: 60.0,
            heartbeat_secs: 10.0,
            poll_secs: 0.25,
        }
    }
}

impl WorkerOptions {
    /// The default options with a trial going stale after `stale_secs` without a heartbeat,
    /// and a heartbeat every `heartbeat_secs` (default: a quarter of `stale_secs`, at most 10).
    ///
    /// # Errors
    /// [`TuneError::Config`] unless both are finite and positive and a live worker beats
    /// before it would be presumed dead.
    pub fn with_timing(stale_secs: f64, heartbeat_secs: Option<f64>) -> Result<Self> {
        let heartbeat = heartbeat_secs.unwrap_or((stale_secs / 4.0).min(10.0));
        if !(heartbeat > 0.0 && stale_secs.is_finite() && stale_secs > heartbeat) {
            return Err(TuneError::Config(format!(
                "--stale-secs {stale_secs} must exceed --heartbeat-secs {heartbeat} (a live worker must beat before it is presumed dead)"
            )));
        }
        Ok(WorkerOptions {
            stale_secs,
            heartbeat_secs: heartbeat,
            ..WorkerOptions::default()
        })
    }
}

/// `host:pid`.
pub fn default_worker_name() -> String {
    worker_name_of(std::process::id())
}

/// The default name of the worker process `pid` on this host (`host:pid`).
pub fn worker_name_of(pid: u32) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{pid}")
}

/// What a worker reports as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerEvent {
    /// The worker claimed a trial and starts its folds.
    Started {
        /// The trial's number in its study.
        number: i64,
        /// The trial's values.
        params: Params,
        /// Folds an earlier attempt finished, which are not run again.
        resumed_folds: usize,
    },
    /// The worker finished a trial and the store recorded it.
    Ended {
        /// The trial's number in its study.
        number: i64,
        /// How the trial ended.
        state: TrialState,
        /// Mean validation score over the finished folds, if any finished.
        score: Option<f64>,
        /// Wall-clock seconds from the claim to the recorded end.
        seconds: f64,
    },
    /// The trial was taken back (this worker was presumed dead); its result is dropped.
    Lost {
        /// The trial's number in its study.
        number: i64,
    },
}

/// What a worker did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerSummary {
    /// Trials claimed.
    pub trials: usize,
    /// Trials that finished every fold.
    pub done: usize,
    /// Trials stopped by pruning.
    pub pruned: usize,
    /// Trials that failed.
    pub failed: usize,
    /// Trials taken back by the store before this worker finished them.
    pub lost: usize,
}

struct Heartbeat {
    current: Arc<Mutex<Option<(i64, String)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(url: &str, every: f64) -> Result<Heartbeat> {
        let current: Arc<Mutex<Option<(i64, String)>>> = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let mut store = Store::open(url)?;
        let (c, s) = (current.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let tick = Duration::from_millis(50);
            let mut last = Instant::now();
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                if last.elapsed().as_secs_f64() < every {
                    continue;
                }
                last = Instant::now();
                let held = c.lock().map(|g| g.clone()).unwrap_or(None);
                if let Some((id, lease)) = held {
                    // A failed beat is retried an interval later; the trial's own writes also beat.
                    let _ = store.heartbeat(id, &lease);
                }
            }
        });
        Ok(Heartbeat {
            current,
            stop,
            thread: Some(thread),
        })
    }

    fn hold(&self, v: Option<(i64, String)>) {
        if let Ok(mut g) = self.current.lock() {
            *g = v;
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs trials of study `name` in the store at `url` until none is left. `make` builds the
/// objective from the study's spec (once).
pub fn run_worker(
    url: &str,
    name: &str,
    opts: &WorkerOptions,
    make: &mut dyn FnMut(&StudySpec) -> Result<Box<dyn Objective>>,
    on_event: &mut dyn FnMut(&WorkerEvent),
) -> Result<WorkerSummary> {
    let mut store = Store::open(url)?;
    let (sid, spec) = store.open_study(name)?;
    let limit = spec.trial_limit();
    let mut objective = make(&spec)?;
    let beat = Heartbeat::start(url, opts.heartbeat_secs)?;
    let mut summary = WorkerSummary::default();
    loop {
        let t0 = Instant::now();
        let mut sampling = Duration::ZERO;
        let claim = store.claim(sid, limit, &opts.name, opts.stale_secs, &mut |n, done| {
            let s = Instant::now();
            let r = spec.sampler.suggest(&spec.space, spec.seed, n, done);
            sampling += s.elapsed();
            r
        })?;
        let mut coord = t0.elapsed().saturating_sub(sampling);
        let t = match claim {
            Claim::Finished => break,
            Claim::Wait => {
                std::thread::sleep(Duration::from_secs_f64(opts.poll_secs));
                continue;
            }
            Claim::Trial(t) => t,
        };
        summary.trials += 1;
        let started = Instant::now();
        beat.hold(Some((t.id, t.lease.clone())));
        on_event(&WorkerEvent::Started {
            number: t.number,
            params: t.params.clone(),
            resumed_folds: t.done_folds.len(),
        });
        let mut folds: Vec<FoldScore> = t.done_folds.clone();
        let mut state = TrialState::Done;
        let mut error = None;
        let mut lost = false;
        for fold in 0..spec.folds {
            if folds.iter().any(|f| f.fold == fold) {
                continue;
            }
            // Finished trials' scores at this fold, by epoch: the pruning reference.
            let reference = match &spec.prune {
                Some(_) => {
                    let s = Instant::now();
                    let r = store.scores_by_epoch(sid, fold)?;
                    coord += s.elapsed();
                    r
                }
                None => Default::default(),
            };
            let mut epochs: Vec<EpochScore> = Vec::new();
            let mut pruned = false;
            let mut best = f64::NEG_INFINITY;
            let result = objective.run_fold(&t.params, fold, &mut |e| {
                best = best.max(e.val_score);
                epochs.push(e.clone());
                if let Some(p) = &spec.prune
                    && let Some(others) = reference.get(&e.epoch)
                {
                    let mut others = others.clone();
                    if e.epoch > p.warmup_epochs
                        && others.len() >= p.startup_trials
                        && best < median(&mut others)
                    {
                        pruned = true;
                        return false;
                    }
                }
                true
            });
            let finished = match &result {
                Ok(Some(f)) => Some(f.clone()),
                _ => None,
            };
            let s = Instant::now();
            let owned = store.record_fold(t.id, &t.lease, &epochs, finished.as_ref())?;
            coord += s.elapsed();
            if !owned {
                lost = true;
                break;
            }
            match result {
                Ok(Some(f)) => folds.push(f),
                Ok(None) => {
                    state = if pruned {
                        TrialState::Pruned
                    } else {
                        TrialState::Failed
                    };
                    break;
                }
                Err(e) => {
                    state = TrialState::Failed;
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        beat.hold(None);
        if lost {
            summary.lost += 1;
            on_event(&WorkerEvent::Lost { number: t.number });
            continue;
        }
        let scores: Vec<f64> = folds.iter().map(|f| f.score).collect();
        let trains: Vec<f64> = folds.iter().map(|f| f.train_score).collect();
        let (m, s) = mean_std(&scores);
        let outcome = Outcome {
            state,
            score: (!scores.is_empty()).then_some(m),
            score_std: (!scores.is_empty()).then_some(s),
            train_score: (!trains.is_empty()).then(|| mean_std(&trains).0),
            error,
            coordination_ms: coord.as_secs_f64() * 1e3,
        };
        let s = Instant::now();
        let finished = store.finish(t.id, &t.lease, &outcome)?;
        coord += s.elapsed();
        if !finished {
            summary.lost += 1;
            on_event(&WorkerEvent::Lost { number: t.number });
            continue;
        }
        // Now with the durable finishing write included.
        store.set_coordination_ms(t.id, coord.as_secs_f64() * 1e3)?;
        match state {
            TrialState::Done => summary.done += 1,
            TrialState::Pruned => summary.pruned += 1,
            _ => summary.failed += 1,
        }
        on_event(&WorkerEvent::Ended {
            number: t.number,
            state,
            score: outcome.score,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(summary)
}
