//! `droplab tune` and `droplab worker` end to end: studies on the embedded digits, with
//! worker processes killed mid-trial, on SQLite, PostgreSQL (`DROPLAB_TEST_PG`) and a Slurm
//! job array (`DROPLAB_TEST_SLURM`). `.ci/run` starts both services and sets
//! `DROPLAB_REQUIRE_SERVICES=1`, so that these tests cannot silently skip there.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{droplab, stderr, stdout};
use droplab_tune::{Store, TrialState};
use serde_json::Value;

fn service(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("DROPLAB_REQUIRE_SERVICES").is_err(),
                "DROPLAB_REQUIRE_SERVICES is set but {var} is not (.ci/services.sh starts the services)"
            );
            eprintln!("skipped: {var} is not set");
            None
        }
    }
}

/// A small study on the digits: `extra` adds the search flags.
fn tune_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "tune",
        "--dataset",
        "digits",
        "--model",
        "mlp:64-32-10",
        "--epochs",
        "3",
        "--threads",
        "1",
        "--folds",
        "3",
        "--out",
        out,
    ];
    v.extend_from_slice(extra);
    v
}

fn study_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("study.json")).unwrap()).unwrap()
}

#[test]
fn grid_study_writes_leaderboard_json_plots_and_refit() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &tune_args(
            "st",
            &[
                "--space",
                "dropout.hidden=[0.2,0.5]",
                "--space",
                "l2=[0,0.001]",
                "--sampler",
                "grid",
                "--refit",
            ],
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("rank") && out.contains("cv score") && out.contains("best: trial"),
        "{out}"
    );
    assert!(out.contains("refit on all training data: test accuracy"), "{out}");
    let dir = tmp.path().join("st");
    let j = study_json(&dir);
    let trials = j["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    // Row-major grid over the resolved full paths.
    assert_eq!(trials[1]["params"]["model.dropout.hidden"], Value::from(0.2));
    assert_eq!(trials[1]["params"]["model.regularization.l2"], Value::from(0.001));
    let mut best = f64::MIN;
    for t in trials {
        assert_eq!(t["state"], "done");
        let folds = t["folds"].as_array().unwrap();
        assert_eq!(folds.len(), 3);
        let scores: Vec<f64> = folds.iter().map(|f| f["score"].as_f64().unwrap()).collect();
        let mean = scores.iter().sum::<f64>() / 3.0;
        assert!(
            (t["score"].as_f64().unwrap() - mean).abs() < 1e-9,
            "the score is the mean over folds"
        );
        best = best.max(mean);
    }
    assert!((j["best"]["score"].as_f64().unwrap() - best).abs() < 1e-12);
    let acc = j["refit"]["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.3 && acc <= 1.0, "{acc}");
    let refit_dir = j["refit"]["run_dir"].as_str().unwrap();
    assert!(tmp.path().join(refit_dir).join("record.json").exists());
    for f in [
        "validation-curve-model.dropout.hidden.svg",
        "validation-curve-model.regularization.l2.svg",
        "history.svg",
    ] {
        let svg = std::fs::read_to_string(dir.join(f)).unwrap();
        assert!(svg.starts_with("<svg"), "{f}");
    }
}

#[test]
fn study_file_with_a_tune_table() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("study.toml"),
        "seed = 3\n[data]\ndataset = \"digits\"\n[model]\nwidths = [64, 16, 10]\n[train]\nepochs = 2\n\
         [tune]\nname = \"from-file\"\nsampler = \"random\"\ntrials = 3\nfolds = 2\n\
         [tune.space]\n\"dropout.hidden\" = \"uniform(0.1, 0.6)\"\n\"optimizer.lr\" = [0.01, 0.05]\n",
    )
    .unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "tune",
            "--config",
            "study.toml",
            "--threads",
            "1",
            "--out",
            "st",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j = study_json(&tmp.path().join("st"));
    assert_eq!(j["name"], "from-file");
    assert_eq!(j["spec"]["folds"], 2);
    let trials = j["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 3);
    for t in trials {
        let p = &t["params"];
        let rate = p["model.dropout.hidden"].as_f64().unwrap();
        assert!((0.1..=0.6).contains(&rate));
        let lr = p["train.optimizer.lr"].as_f64().unwrap();
        assert!(lr == 0.01 || lr == 0.05, "{lr}");
    }
}

#[test]
fn bad_tune_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| droplab(tmp.path(), &tune_args("st", extra));
    common::assert_usage_error(
        &run(&["--space", "dropout.hidden=uniform(0.7,0.1)"]),
        &["dropout.hidden", "lower bound"],
    );
    common::assert_usage_error(
        &run(&["--space", "dropout.hidden=normal(0,1)"]),
        &["unknown distribution"],
    );
    common::assert_usage_error(
        &run(&["--space", "dropout.hiden=uniform(0.1,0.5)"]),
        &["dropout.hiden", "names no config field"],
    );
    common::assert_usage_error(
        &run(&["--space", "dropout.hidden=uniform(0.1,1.5)"]),
        &["dropout.hidden", "1.5", "refused"],
    );
    common::assert_usage_error(&run(&[]), &["no search space"]);
    common::assert_usage_error(
        &run(&["--space", "dropout.hidden=[0.5]", "--sampler", "bayes-ish"]),
        &["unknown sampler"],
    );
    // An unreachable store: a runtime failure with the URL and the fix, no password shown.
    let o = run(&[
        "--space",
        "dropout.hidden=[0.5]",
        "--store",
        "postgres://droplab:hunter2@127.0.0.1:1/none",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot connect") && err.contains("127.0.0.1:1") && !err.contains("hunter2"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        !tmp.path().join("st").exists(),
        "nothing written for an unreachable store"
    );
    // The same study name with another space.
    let o = run(&["--space", "dropout.hidden=[0.5]", "--workers", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    common::assert_usage_error(
        &run(&["--space", "dropout.hidden=[0.3]", "--workers", "0"]),
        &["study 'study' already exists", "different search space"],
    );
    // A worker for a study that does not exist.
    let o = droplab(
        tmp.path(),
        &["worker", "--store", "sqlite:st/study.sqlite", "--study", "nope"],
    );
    let err = stderr(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("no study named 'nope'"), "{err}");
}

fn spawn_worker(cwd: &Path, store: &str, study: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_droplab"))
        .args(["worker", "--store", store, "--study", study, "--threads", "1"])
        .args(["--stale-secs", "2", "--heartbeat-secs", "0.5", "--quiet"])
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `cond` holds on the study's trials.
fn wait_for(
    store: &str,
    cwd: &Path,
    what: &str,
    cond: impl Fn(&[droplab_tune::TrialRecord], &mut Store) -> bool,
) {
    let url = if let Some(p) = store.strip_prefix("sqlite:") {
        format!("sqlite:{}", cwd.join(p).display())
    } else {
        store.to_string()
    };
    let mut s = Store::open(&url).unwrap();
    let (sid, _) = s.open_study("study").unwrap();
    let start = Instant::now();
    loop {
        let trials = s.trials(sid).unwrap();
        if cond(&trials, &mut s) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Slower trials (bigger network, more epochs) so that a worker can be killed mid-trial.
fn slow_args<'a>(grid: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "tune",
        "--dataset",
        "digits",
        "--model",
        "mlp:64-256-256-10",
        "--epochs",
        "15",
        "--threads",
        "1",
        "--folds",
        "2",
        "--sampler",
        "grid",
        "--space",
        grid,
        "--out",
        "st",
    ];
    v.extend_from_slice(extra);
    v
}

/// Creates the slow study without running it.
fn slow_study(cwd: &Path, grid: &str) {
    let o = droplab(cwd, &slow_args(grid, &["--workers", "0"]));
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_killed_workers_trial_is_requeued_and_completed_by_another() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    slow_study(cwd, "dropout.hidden=[0.2,0.4]");
    let store = "sqlite:st/study.sqlite";
    let mut a = spawn_worker(cwd, store, "study");
    // Kill it (SIGKILL) once trial 0 has finished its first fold: the rerun keeps that fold.
    wait_for(store, cwd, "trial 0 to train", |t, s| {
        !t.is_empty() && t[0].state == TrialState::Running && !s.epochs(1, 0).unwrap().is_empty()
    });
    a.kill().unwrap();
    a.wait().unwrap();
    let b = spawn_worker(cwd, store, "study");
    let b_pid = b.id();
    let status = b.wait_with_output().unwrap().status;
    assert!(status.success());
    let mut s = Store::open(&format!("sqlite:{}", cwd.join("st/study.sqlite").display())).unwrap();
    let trials = s.trials(1).unwrap();
    assert_eq!(trials.len(), 2);
    assert!(trials.iter().all(|t| t.state == TrialState::Done), "{trials:?}");
    assert_eq!(trials[0].attempts, 2, "trial 0 ran again after the kill");
    assert!(
        trials[0]
            .worker
            .as_deref()
            .unwrap()
            .ends_with(&format!(":{b_pid}"))
    );
    assert_eq!(trials[0].folds.len(), 2);
}

#[test]
fn a_study_resumes_after_all_workers_were_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    slow_study(cwd, "dropout.hidden=[0.1,0.3,0.5,0.7]");
    let store = "sqlite:st/study.sqlite";
    let mut workers = [
        spawn_worker(cwd, store, "study"),
        spawn_worker(cwd, store, "study"),
    ];
    wait_for(store, cwd, "a finished trial and a running one", |t, _| {
        t.iter().any(|x| x.state == TrialState::Done) && t.iter().any(|x| x.state == TrialState::Running)
    });
    for w in &mut workers {
        w.kill().unwrap();
        w.wait().unwrap();
    }
    let before = Store::open(&format!("sqlite:{}", cwd.join("st/study.sqlite").display()))
        .unwrap()
        .trials(1)
        .unwrap();
    let finished: Vec<(i64, Option<f64>)> = before
        .iter()
        .filter(|t| t.state == TrialState::Done)
        .map(|t| (t.number, t.score))
        .collect();
    // The same command resumes the study: killed trials come back after 2 s without a beat.
    let o = droplab(
        cwd,
        &slow_args(
            "dropout.hidden=[0.1,0.3,0.5,0.7]",
            &["--stale-secs", "2", "--quiet"],
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j = study_json(&cwd.join("st"));
    let trials = j["trials"].as_array().unwrap();
    let numbers: Vec<i64> = trials.iter().map(|t| t["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, vec![0, 1, 2, 3], "no lost or duplicated trial");
    assert!(trials.iter().all(|t| t["state"] == "done"));
    for (n, score) in finished {
        let t = &trials[n as usize];
        assert_eq!(t["attempts"], 1, "a finished trial is not run again");
        let kept = t["score"].as_f64().unwrap();
        assert!(
            (kept - score.unwrap()).abs() < 1e-12,
            "its result is kept: {kept} {score:?}"
        );
    }
}

#[test]
fn postgres_study_with_two_workers() {
    let Some(url) = service("DROPLAB_TEST_PG") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let name = format!("cli-{}", std::process::id());
    let o = droplab(
        tmp.path(),
        &tune_args(
            "st",
            &[
                "--space",
                "dropout.hidden=uniform(0.1,0.6)",
                "--sampler",
                "random",
                "--trials",
                "6",
                "--workers",
                "2",
                "--store",
                &url,
                "--name",
                &name,
                "--quiet",
            ],
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j = study_json(&tmp.path().join("st"));
    let trials = j["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 6);
    assert!(trials.iter().all(|t| t["state"] == "done" && t["attempts"] == 1));
    let workers: std::collections::HashSet<&str> =
        trials.iter().map(|t| t["worker"].as_str().unwrap()).collect();
    assert!(!workers.is_empty());
}

#[test]
fn slurm_dry_run_prints_the_array_script() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &tune_args(
            "st",
            &[
                "--space",
                "dropout.hidden=[0.5]",
                "--slurm",
                "--workers",
                "3",
                "--dry-run",
                "--sbatch=--time=00:10:00",
            ],
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let script = stdout(&o);
    assert!(script.starts_with("#!/bin/bash"), "{script}");
    assert!(script.contains("#SBATCH --array=0-2"), "{script}");
    assert!(script.contains("#SBATCH --time=00:10:00"), "{script}");
    let abs = tmp.path().join("st").join("study.sqlite");
    assert!(
        script.contains(&format!("worker --store sqlite:{} --study study", abs.display())),
        "the store is named by its absolute path: {script}"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("st/slurm.sh")).unwrap(),
        script
    );
}

#[test]
fn slurm_array_completes_a_small_study() {
    if service("DROPLAB_TEST_SLURM").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &tune_args(
            "st",
            &[
                "--space",
                "dropout.hidden=[0.2,0.4,0.6]",
                "--sampler",
                "grid",
                "--slurm",
                "--workers",
                "2",
                "--quiet",
            ],
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tmp.path().join("st");
    let j = study_json(&dir);
    let trials = j["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 3);
    assert!(trials.iter().all(|t| t["state"] == "done"));
    let logs = std::fs::read_dir(dir.join("workers"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("slurm-")
        })
        .count();
    assert_eq!(logs, 2, "one log per array task");
}

// Regression: a trial whose training loss blew up (lr 1e6) was "done" with a score at chance;
// it is a diverged run, so the trial fails, and a sound trial beside it is the best.
#[test]
fn a_diverging_trial_is_failed_not_done() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &tune_args(
            "dv",
            &[
                "--space",
                "lr=[0.05,1000000]",
                "--optimizer",
                "adam",
                "--sampler",
                "grid",
                "--quiet",
            ],
        ),
    );
    let j = study_json(&tmp.path().join("dv"));
    let trials = j["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 2, "{}", stderr(&o));
    let state = |lr: f64| {
        trials
            .iter()
            .find(|t| t["params"]["train.optimizer.lr"].as_f64() == Some(lr))
            .map(|t| t["state"].clone())
            .unwrap()
    };
    assert_eq!(state(1e6), "failed");
    assert_eq!(state(0.05), "done");
}

/// The processes whose parent is `parent` (from `/proc`).
fn children_of(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // `pid (comm) state ppid ...`: the fields after the last ')'.
            let ppid: u32 = stat.rsplit(')').next()?.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

// Regression: when one of `tune`'s workers was killed, its trial waited --stale-secs for its
// heartbeat to go stale, and `tune` then exited 1 without study.json. Now the dead child's
// trial goes back to the queue at once (the stale limit here is 600 s, so waiting for it would
// time the test out) and the study's outputs are written when it completes.
#[test]
fn tune_requeues_a_dead_workers_trial_at_once_and_still_writes_its_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let args = slow_args(
        "dropout.hidden=[0.2,0.4]",
        &["--workers", "2", "--stale-secs", "600", "--quiet"],
    );
    let tune = Command::new(env!("CARGO_BIN_EXE_droplab"))
        .args(&args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let store = "sqlite:st/study.sqlite";
    let url = format!("sqlite:{}", cwd.join("st/study.sqlite").display());
    let start = Instant::now();
    while !cwd.join("st/study.sqlite").is_file()
        || Store::open(&url).and_then(|mut s| s.open_study("study")).is_err()
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the study never appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Once a trial is running, kill the worker that holds it (SIGKILL).
    let victim = std::cell::RefCell::new(String::new());
    wait_for(store, cwd, "a running trial", |t, _| {
        match t.iter().find(|t| t.state == TrialState::Running) {
            Some(t) => {
                *victim.borrow_mut() = t.worker.clone().unwrap_or_default();
                true
            }
            None => false,
        }
    });
    let victim = victim.into_inner();
    let pid = children_of(tune.id())
        .into_iter()
        .find(|p| victim.ends_with(&format!(":{p}")))
        .expect("the worker holding the trial is a child of tune");
    // SAFETY: `kill` with the id of a live child process of the tune this test started.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
    let out = tune.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("went back to the queue"), "{err}");
    let j = study_json(&cwd.join("st"));
    let trials = j["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 2);
    assert!(trials.iter().all(|t| t["state"] == "done"), "{trials:?}");
}

#[test]
fn study_show_writes_the_outputs_of_a_study_that_workers_ran() {
    let tmp = tempfile::tempdir().unwrap();
    // The study is created but no worker is started: `droplab worker` runs its trials.
    let o = droplab(
        tmp.path(),
        &tune_args(
            "st",
            &[
                "--space",
                "dropout.hidden=[0.1,0.3,0.5]",
                "--sampler",
                "grid",
                "--workers",
                "0",
            ],
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!tmp.path().join("st/study.json").exists());
    let store = "sqlite:st/study.sqlite";
    let show = |out: &str| {
        droplab(
            tmp.path(),
            &[
                "study", "show", "--store", store, "--study", "study", "--out", out,
            ],
        )
    };
    // Before any worker: nothing finished, said so.
    let o = show("early");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 of 3 trials finished"), "{}", stderr(&o));
    let o = droplab(
        tmp.path(),
        &["worker", "--store", store, "--study", "study", "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = show("shown");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("rank") && stdout(&o).contains("best: trial"),
        "{}",
        stdout(&o)
    );
    let j = study_json(&tmp.path().join("shown"));
    assert_eq!(j["done"], 3);
    assert_eq!(j["trials"].as_array().unwrap().len(), 3);
    // One parameter, one value per trial: every bit of the score's variance is between its
    // groups (eta² = 1, as written in droplab_tune::importance).
    assert_eq!(j["importance_trials"], 3);
    let share = j["importance"][0]["share"].as_f64().unwrap();
    assert!((share - 1.0).abs() < 1e-12, "{}", j["importance"]);
    assert!(
        stdout(&o).contains("importance (main-effect share"),
        "{}",
        stdout(&o)
    );
    let pc = std::fs::read_to_string(tmp.path().join("shown/parallel-coordinates.svg")).unwrap();
    assert!(pc.contains("model.dropout.hidden") && pc.contains("accuracy (mean over folds)"));
    // The plots name the metric, and nothing was pruned: no legend entry for it.
    let history = std::fs::read_to_string(tmp.path().join("shown/history.svg")).unwrap();
    assert!(history.contains("mean CV accuracy") && !history.contains("pruned"));
    let curve =
        std::fs::read_to_string(tmp.path().join("shown/validation-curve-model.dropout.hidden.svg")).unwrap();
    assert!(curve.contains("validation accuracy"));
    // The page of the study shows the sampler with its own settings only.
    let o = droplab(tmp.path(), &["report", "shown", "--out", "page.html", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(tmp.path().join("page.html")).unwrap();
    assert!(
        page.contains("grid (5 points per real range)") && !page.contains("startup"),
        "sampler row"
    );
    // An unknown study is named.
    let o = droplab(
        tmp.path(),
        &["study", "show", "--store", store, "--study", "nope"],
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("no study named 'nope'"), "{}", stderr(&o));
}
