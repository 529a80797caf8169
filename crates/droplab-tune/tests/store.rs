//! The trial store and workers against real databases: SQLite in a temporary directory, and
//! PostgreSQL when `DROPLAB_TEST_PG` names one (`.ci/run` starts a throwaway cluster and sets
//! it, with `DROPLAB_REQUIRE_SERVICES=1` so that these tests cannot silently skip in CI).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use droplab_tune::store::Outcome;
use droplab_tune::{
    Claim, EpochScore, FoldScore, Objective, Params, PruneConfig, SamplerConfig, SamplerKind, Space, Store,
    StudySpec, TrialState, WorkerOptions, run_worker,
};

fn pg_url() -> Option<String> {
    match std::env::var("DROPLAB_TEST_PG") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("DROPLAB_REQUIRE_SERVICES").is_err(),
                "DROPLAB_REQUIRE_SERVICES is set but DROPLAB_TEST_PG is not (.ci/services.sh starts PostgreSQL)"
            );
            eprintln!("PostgreSQL test skipped: DROPLAB_TEST_PG is not set");
            None
        }
    }
}

/// A study name no other test (or earlier run against the same database) uses.
fn unique(name: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{t}", std::process::id())
}

fn spec(name: &str, kind: SamplerKind, space: &[&str], trials: usize, folds: usize) -> StudySpec {
    StudySpec {
        name: name.into(),
        base: "seed = 0\n".into(),
        space: Space::parse(&space.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap(),
        sampler: SamplerConfig {
            kind,
            grid_points: 5,
            startup: 3,
        },
        trials,
        folds,
        stratified: true,
        seed: 1,
        prune: None,
    }
}

/// A cheap objective: the score is `x` (plus a little per fold), `epochs` epochs of `delay`.
/// Counts every fold it runs to its end, by trial values and fold.
#[derive(Clone)]
struct Fake {
    runs: Arc<Mutex<HashMap<(String, usize), usize>>>,
    epochs: usize,
    delay: Duration,
}

impl Fake {
    fn new(epochs: usize, delay_ms: u64) -> Self {
        Fake {
            runs: Arc::default(),
            epochs,
            delay: Duration::from_millis(delay_ms),
        }
    }
}

impl Objective for Fake {
    fn run_fold(
        &mut self,
        params: &Params,
        fold: usize,
        on_epoch: &mut dyn FnMut(&EpochScore) -> bool,
    ) -> Result<Option<FoldScore>, droplab_tune::worker::FoldError> {
        let x = params["x"].as_f64().unwrap();
        let score = x + 0.001 * fold as f64;
        for epoch in 1..=self.epochs {
            std::thread::sleep(self.delay);
            let keep = on_epoch(&EpochScore {
                fold,
                epoch,
                val_score: score,
                train_score: score + 0.1,
                val_loss: 1.0 - score,
            });
            if !keep {
                return Ok(None);
            }
        }
        let key = (serde_json::to_string(params).unwrap(), fold);
        *self.runs.lock().unwrap().entry(key).or_default() += 1;
        Ok(Some(FoldScore {
            fold,
            score,
            train_score: score + 0.1,
            best_epoch: self.epochs,
            seconds: 0.0,
        }))
    }
}

fn opts(name: &str) -> WorkerOptions {
    WorkerOptions {
        name: name.into(),
        stale_secs: 30.0,
        heartbeat_secs: 1.0,
        poll_secs: 0.05,
    }
}

/// `workers` threads serve one study; every trial must run each fold exactly once and end
/// done, with nothing lost.
fn many_workers_claim_each_trial_once(url: &str, workers: usize) {
    let name = unique("many");
    let s = spec(&name, SamplerKind::Random, &["x=uniform(0,1)"], 16, 3);
    let sid = Store::open(url).unwrap().create_study(&s).unwrap();
    let fake = Fake::new(2, 2);
    let handles: Vec<_> = (0..workers)
        .map(|i| {
            let (url, name, fake) = (url.to_string(), name.clone(), fake.clone());
            std::thread::spawn(move || {
                run_worker(
                    &url,
                    &name,
                    &opts(&format!("w{i}")),
                    &mut |_| Ok(Box::new(fake.clone())),
                    &mut |_| {},
                )
                .unwrap()
            })
        })
        .collect();
    let summaries: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(summaries.iter().map(|s| s.done).sum::<usize>(), 16);
    assert!(
        summaries.iter().filter(|s| s.trials > 0).count() > 1,
        "work was shared: {summaries:?}"
    );
    let trials = Store::open(url).unwrap().trials(sid).unwrap();
    assert_eq!(trials.len(), 16);
    let numbers: Vec<i64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(numbers, (0..16).collect::<Vec<_>>());
    for t in &trials {
        assert_eq!(t.state, TrialState::Done, "trial {}", t.number);
        assert_eq!(t.attempts, 1);
        assert_eq!(t.folds.len(), 3);
        let mean = t.folds.iter().map(|f| f.score).sum::<f64>() / 3.0;
        assert!((t.score.unwrap() - mean).abs() < 1e-12);
    }
    let runs = fake.runs.lock().unwrap();
    assert_eq!(runs.len(), 16 * 3);
    assert!(runs.values().all(|&n| n == 1), "a fold ran twice: {runs:?}");
}

#[test]
fn sqlite_workers_claim_each_trial_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("s.sqlite").display());
    many_workers_claim_each_trial_once(&url, 4);
}

#[test]
fn postgres_workers_claim_each_trial_once() {
    if let Some(url) = pg_url() {
        many_workers_claim_each_trial_once(&url, 4);
    }
}

/// A trial whose worker stops beating goes back to the queue with its finished folds; the
/// presumed-dead worker can no longer write it, and it finishes exactly once.
fn requeued_trial_keeps_folds_and_finishes_once(url: &str) {
    let name = unique("lease");
    let s = spec(&name, SamplerKind::Grid, &["x=[0.5,0.6]"], 10, 2);
    let mut store = Store::open(url).unwrap();
    let sid = store.create_study(&s).unwrap();
    let mut suggest =
        |n: u64, done: &[droplab_tune::Observation]| s.sampler.suggest(&s.space, s.seed, n, done);
    let Claim::Trial(a) = store.claim(sid, 2, "a", 60.0, &mut suggest).unwrap() else {
        panic!("a claims trial 0")
    };
    assert_eq!(a.number, 0);
    let fold0 = FoldScore {
        fold: 0,
        score: 0.5,
        train_score: 0.6,
        best_epoch: 1,
        seconds: 0.1,
    };
    assert!(store.record_fold(a.id, &a.lease, &[], Some(&fold0)).unwrap());
    // b sees trial 0 as stale (any heartbeat is older than now + 1 s) and takes it back.
    let Claim::Trial(b) = store.claim(sid, 2, "b", -1.0, &mut suggest).unwrap() else {
        panic!("b claims the requeued trial")
    };
    assert_eq!(b.number, 0);
    assert_eq!(b.done_folds, vec![fold0.clone()]);
    assert_ne!(a.lease, b.lease);
    let e = EpochScore {
        fold: 1,
        epoch: 1,
        val_score: 0.5,
        train_score: 0.6,
        val_loss: 0.5,
    };
    assert!(
        !store
            .record_fold(a.id, &a.lease, std::slice::from_ref(&e), None)
            .unwrap(),
        "the old lease is void"
    );
    let done = Outcome {
        state: TrialState::Done,
        score: Some(0.5),
        score_std: Some(0.0),
        train_score: Some(0.6),
        error: None,
        coordination_ms: 1.0,
    };
    assert!(!store.finish(a.id, &a.lease, &done).unwrap());
    assert!(store.record_fold(b.id, &b.lease, &[e], None).unwrap());
    assert!(store.finish(b.id, &b.lease, &done).unwrap());
    assert!(!store.finish(b.id, &b.lease, &done).unwrap(), "a trial ends once");
    let t = &store.trials(sid).unwrap()[0];
    assert_eq!((t.state, t.attempts, t.folds.len()), (TrialState::Done, 2, 1));
    assert_eq!(t.worker.as_deref(), Some("b"));
    // Trial 1 is next; after it the grid is exhausted and the study finished.
    let Claim::Trial(c) = store.claim(sid, 2, "a", 60.0, &mut suggest).unwrap() else {
        panic!()
    };
    assert_eq!(c.number, 1);
    assert_eq!(store.claim(sid, 2, "b", 60.0, &mut suggest).unwrap(), Claim::Wait);
    assert!(store.finish(c.id, &c.lease, &done).unwrap());
    assert_eq!(
        store.claim(sid, 2, "b", 60.0, &mut suggest).unwrap(),
        Claim::Finished
    );
}

#[test]
fn sqlite_requeued_trial_keeps_folds_and_finishes_once() {
    let dir = tempfile::tempdir().unwrap();
    requeued_trial_keeps_folds_and_finishes_once(&format!(
        "sqlite:{}",
        dir.path().join("s.sqlite").display()
    ));
}

#[test]
fn postgres_requeued_trial_keeps_folds_and_finishes_once() {
    if let Some(url) = pg_url() {
        requeued_trial_keeps_folds_and_finishes_once(&url);
    }
}

#[test]
fn a_study_of_the_same_name_with_another_space_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("s.sqlite").display());
    let mut store = Store::open(&url).unwrap();
    let a = spec("s", SamplerKind::Random, &["x=uniform(0,1)"], 4, 2);
    let id = store.create_study(&a).unwrap();
    assert_eq!(
        store.create_study(&a).unwrap(),
        id,
        "the same settings resume the study"
    );
    let b = spec("s", SamplerKind::Random, &["x=uniform(0,2)"], 4, 2);
    let e = store.create_study(&b).unwrap_err().to_string();
    assert!(
        e.contains("study 's' already exists") && e.contains("different search space"),
        "{e}"
    );
    assert!(
        e.contains("x=uniform(0,1)") && e.contains("x=uniform(0,2)"),
        "{e}"
    );
}

#[test]
fn unreachable_and_malformed_store_urls_are_clear_errors() {
    let e = Store::open("postgres://droplab:secret@127.0.0.1:1/none")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot connect") && e.contains("127.0.0.1:1"), "{e}");
    assert!(!e.contains("secret"), "the password is not shown: {e}");
    let e = Store::open("mysql://x").unwrap_err().to_string();
    assert!(e.contains("not a store URL"), "{e}");
    let e = Store::open("sqlite:/nonexistent-dir/x/s.sqlite")
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
}

#[test]
fn median_pruning_stops_trials_below_the_median() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("s.sqlite").display());
    let mut s = spec(
        "p",
        SamplerKind::Grid,
        &["x=[0.9,0.8,0.7,0.6,0.5,0.1,0.95]"],
        100,
        2,
    );
    s.prune = Some(PruneConfig {
        startup_trials: 5,
        warmup_epochs: 1,
    });
    let sid = Store::open(&url).unwrap().create_study(&s).unwrap();
    let fake = Fake::new(3, 0);
    let summary = run_worker(
        &url,
        "p",
        &opts("w"),
        &mut |_| Ok(Box::new(fake.clone())),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((summary.done, summary.pruned), (6, 1));
    let trials = Store::open(&url).unwrap().trials(sid).unwrap();
    assert_eq!(
        trials[5].state,
        TrialState::Pruned,
        "x = 0.1 is below the median 0.7"
    );
    assert_eq!(trials[6].state, TrialState::Done, "x = 0.95 survives");
    assert!(
        trials[5].folds.is_empty(),
        "pruned in its first fold, after the warm-up epoch"
    );
}
