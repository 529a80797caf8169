//! `droplab paper`: recipes list, and a recipe shortened to a tiny synthetic MNIST-shaped set
//! and one epoch runs end to end and writes its table.

mod common;

use common::*;

fn synthetic_idx(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    // 28x28 images whose bright row is the label: learnable, and shaped like MNIST.
    let make = |n: usize| {
        let mut px = vec![0u8; n * 784];
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        for (i, &l) in labels.iter().enumerate() {
            for c in 0..28 {
                px[i * 784 + (2 * l as usize + 3) * 28 + c] = 255;
            }
        }
        (px, labels)
    };
    let (px, lb) = make(400);
    write_idx(&dir.join("train-images-idx3-ubyte"), &[400, 28, 28], &px);
    write_idx(&dir.join("train-labels-idx1-ubyte"), &[400], &lb);
    let (px, lb) = make(100);
    write_idx(&dir.join("t10k-images-idx3-ubyte"), &[100, 28, 28], &px);
    write_idx(&dir.join("t10k-labels-idx1-ubyte"), &[100], &lb);
}

/// `paper run keras-mnist-mlp` on 200 synthetic images, 2 seeds, `epochs` epochs, into `res`.
fn tiny_run(dir: &std::path::Path, epochs: &str, extra: &[&str]) -> std::process::Output {
    tiny_run_to(dir, epochs, "2", "res", extra)
}

/// `tiny_run` with `seeds` seeds, written to `out`.
fn tiny_run_to(
    dir: &std::path::Path,
    epochs: &str,
    seeds: &str,
    out: &str,
    extra: &[&str],
) -> std::process::Output {
    droplab(dir, &tiny_args(epochs, seeds, out, extra))
}

/// The arguments of [`tiny_run_to`].
fn tiny_args<'a>(epochs: &'a str, seeds: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "paper",
        "run",
        "keras-mnist-mlp",
        "--dataset",
        "idx:idx",
        "--val-size",
        "100",
        "--train-size",
        "200",
        "--epochs",
        epochs,
        "--seeds",
        seeds,
        "--threads",
        "1",
        "--out",
        out,
    ];
    a.extend_from_slice(extra);
    a
}

/// `paper run gal2016-uci-yacht` on the synthetic set in `data`: 3 epochs, 20 Monte Carlo
/// passes, 2 threads, into `out`.
fn tiny_uci(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    tiny_uci_on(dir, "2", "out", extra)
}

/// `tiny_uci` on `threads` workers, written to `out`.
fn tiny_uci_on(dir: &std::path::Path, threads: &str, out: &str, extra: &[&str]) -> std::process::Output {
    let mut a = vec![
        "paper",
        "run",
        "gal2016-uci-yacht",
        "--data-dir",
        "data",
        "--epochs",
        "3",
        "--mc-samples",
        "20",
        "--threads",
        threads,
        "--out",
        out,
    ];
    a.extend_from_slice(extra);
    droplab(dir, &a)
}

#[test]
fn paper_list_shows_every_recipe_with_its_published_number() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(tmp.path(), &["paper", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("keras-mnist-mlp") && out.contains("1.60 %"), "{out}");
    assert!(out.contains("srivastava2014-table9-dropout-maxnorm") && out.contains("1.05 %"));
}

#[test]
fn paper_run_of_a_shortened_recipe_writes_its_table() {
    let tmp = tempfile::tempdir().unwrap();
    synthetic_idx(&tmp.path().join("idx"));
    let o = tiny_run(tmp.path(), "1", &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(tmp.path().join("res/curves.svg"))
            .unwrap()
            .contains("keras-mnist-mlp-seed1")
    );
    let md = std::fs::read_to_string(tmp.path().join("res/results.md")).unwrap();
    assert!(md.contains("| keras-mnist-mlp"), "{md}");
    assert!(
        md.contains("published test error") && md.contains("1.60 %"),
        "published number beside droplab's: {md}"
    );
    let r = json(&tmp.path().join("res/results.json"));
    let row = &r[0];
    assert_eq!(row["test_errors"].as_array().unwrap().len(), 2);
    assert_eq!(row["epochs"], serde_json::json!([1, 1]));
    for run in row["runs"].as_array().unwrap() {
        let rec = json(
            &tmp.path()
                .join("res")
                .join(run.as_str().unwrap())
                .join("record.json"),
        );
        assert_eq!(rec["data"]["train"], 200);
    }
    let mean = row["mean_test_error"].as_f64().unwrap();
    let errs: Vec<f64> = row["test_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!((mean - (errs[0] + errs[1]) / 2.0).abs() < 1e-9);
}

#[test]
fn an_interrupted_paper_run_resumes_with_the_seeds_it_finished() {
    let tmp = tempfile::tempdir().unwrap();
    synthetic_idx(&tmp.path().join("idx"));
    let run = |epochs: &str, extra: &[&str]| tiny_run(tmp.path(), epochs, extra);
    let errors = || json(&tmp.path().join("res/results.json"))[0]["test_errors"].clone();
    let o = run("1", &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = errors();
    // What a run killed while training seed 1 leaves behind: its staging directory (named for
    // a process that cannot exist) with seed 0 finished in it and seed 1's own staging.
    let res = tmp.path().join("res");
    let left = tmp.path().join(".res.partial-4194999");
    std::fs::create_dir(&left).unwrap();
    std::fs::rename(
        res.join("keras-mnist-mlp-seed0"),
        left.join("keras-mnist-mlp-seed0"),
    )
    .unwrap();
    std::fs::create_dir(left.join(".keras-mnist-mlp-seed1.partial-4194999")).unwrap();
    std::fs::remove_dir_all(&res).unwrap();

    // A run of another config takes nothing from it.
    let o = run("2", &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("taken from"), "{}", stderr(&o));
    assert!(left.join("keras-mnist-mlp-seed0/record.json").exists());
    std::fs::remove_dir_all(&res).unwrap();

    // An earlier interrupted run whose copy of seed 0 has damaged weights: it is passed over.
    let damaged = tmp.path().join(".res.partial-4194998");
    let seed0 = damaged.join("keras-mnist-mlp-seed0");
    std::fs::create_dir_all(&seed0).unwrap();
    for f in ["record.json", "config.toml", "model.safetensors"] {
        std::fs::copy(left.join("keras-mnist-mlp-seed0").join(f), seed0.join(f)).unwrap();
    }
    let weights = seed0.join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&weights, bytes).unwrap();

    // The same command takes seed 0, trains seed 1, and gets the first run's numbers.
    let o = run("1", &["--resume"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("keras-mnist-mlp-seed0: taken from the interrupted run")
            && err.contains(".res.partial-4194999"),
        "{err}"
    );
    assert!(weights.exists(), "the damaged copy stays where it was");
    assert!(
        !err.contains("(seed 0): training") && err.contains("(seed 1): training"),
        "{err}"
    );
    assert_eq!(errors(), first);
    assert!(res.join("keras-mnist-mlp-seed0/model.safetensors").exists());
    assert!(!left.exists(), "the emptied interrupted run is removed");
}

#[test]
fn a_paper_run_killed_mid_seed_resumes_from_that_seeds_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    synthetic_idx(&tmp.path().join("idx"));
    let o = tiny_run_to(tmp.path(), "40", "1", "whole", &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let seed = "keras-mnist-mlp-seed0";
    let ck = tmp.path().join(format!(".cut.checkpoint-{seed}.safetensors"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_droplab"))
        .args(tiny_args("40", "1", "cut", &["--quiet"]))
        .current_dir(tmp.path())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !ck.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its first checkpoint"
        );
        assert!(start.elapsed().as_secs() < 60, "no checkpoint after a minute");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Killed (SIGKILL) 0 to 300 ms after its first epoch: mid-seed.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    std::thread::sleep(std::time::Duration::from_millis((nanos % 300) as u64));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!tmp.path().join("cut").exists());

    let o = tiny_run_to(tmp.path(), "40", "1", "cut", &["--resume"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("resuming after epoch") && err.contains(".cut.checkpoint-"),
        "{err}"
    );
    let sha = |out: &str| json(&tmp.path().join(out).join(seed).join("record.json"))["model_sha256"].clone();
    assert_eq!(sha("cut"), sha("whole"));
    let errors = |out: &str| json(&tmp.path().join(out).join("results.json"))[0]["test_errors"].clone();
    assert_eq!(errors("cut"), errors("whole"));
    assert!(!ck.exists(), "the finished seed's checkpoint goes");
}

#[test]
fn a_group_table_reuses_runs_recorded_earlier_without_their_weights() {
    let tmp = tempfile::tempdir().unwrap();
    synthetic_idx(&tmp.path().join("idx"));
    let o = tiny_run(tmp.path(), "1", &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = json(&tmp.path().join("res/results.json"))[0]["test_errors"].clone();
    // Recorded results keep no weights.
    let res = tmp.path().join("res");
    std::fs::remove_file(res.join("keras-mnist-mlp-seed0/model.safetensors")).unwrap();

    // Another config (2 epochs) reuses nothing.
    let o = tiny_run_to(tmp.path(), "2", "1", "other", &["--reuse", "res"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("reused"), "{}", stderr(&o));

    // Three seeds: the two recorded ones are reused, the third is trained.
    let o = tiny_run_to(tmp.path(), "1", "3", "all", &["--reuse", "res"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("keras-mnist-mlp-seed0: reused from")
            && err.contains("keras-mnist-mlp-seed1: reused from"),
        "{err}"
    );
    assert!(
        !err.contains("(seed 0): training") && err.contains("(seed 2): training"),
        "{err}"
    );
    let errors = json(&tmp.path().join("all/results.json"))[0]["test_errors"].clone();
    assert_eq!(errors[0], first[0]);
    assert_eq!(errors[1], first[1]);
    assert_eq!(errors.as_array().unwrap().len(), 3);
    assert!(tmp.path().join("all/keras-mnist-mlp-seed0/record.json").exists());
    assert!(
        res.join("keras-mnist-mlp-seed1/model.safetensors").exists(),
        "copied, not moved"
    );

    // A directory that no `paper run` wrote is refused before anything trains.
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    assert_usage_error(
        &tiny_run_to(tmp.path(), "1", "1", "x", &["--reuse", "empty"]),
        &["--reuse empty", "results.json"],
    );
}

#[test]
fn paper_run_of_an_unknown_recipe() {
    let tmp = tempfile::tempdir().unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["paper", "run", "hinton2099"]),
        &["hinton2099", "paper list"],
    );
}

#[test]
fn uci_recipe_runs_the_gal_protocol_per_split_and_writes_its_table() {
    let tmp = tempfile::tempdir().unwrap();
    synthetic_uci(&tmp.path().join("data/uci-gal2016/yacht"));
    let o = tiny_uci(tmp.path(), &["--batch-size", "16", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(tmp.path().join("out/results.md")).unwrap();
    // The paper's number beside droplab's.
    assert!(md.contains("RMSE paper") && md.contains("1.110 ± 0.090"), "{md}");
    assert!(md.contains("-1.550 ± 0.030"), "{md}");
    let j = json(&tmp.path().join("out/results.json"));
    let set = &j[0];
    assert_eq!(set["splits"], 2);
    assert_eq!(set["mc_samples"], 20);
    // --batch-size overrides the recipe's 32, and the protocol line says so.
    assert_eq!(set["batch_size"], 16);
    assert!(md.contains("3 epochs at batch 16"), "{md}");
    for s in set["per_split"].as_array().unwrap() {
        // Every grid point was scored on validation, and the chosen one is the best of them.
        let c = s["candidates"].as_array().unwrap();
        assert_eq!(c.len(), 4);
        let best = c
            .iter()
            .max_by(|a, b| {
                let ll = |v: &serde_json::Value| v["validation"]["log_likelihood"].as_f64().unwrap();
                ll(a).total_cmp(&ll(b))
            })
            .unwrap();
        assert_eq!(s["dropout"], best["dropout"]);
        assert_eq!(s["tau"], best["tau"]);
        assert!(s["test"]["rmse"].as_f64().unwrap().is_finite());
    }
    let rmse = set["rmse"][0].as_f64().unwrap();
    assert!(rmse > 0.0 && rmse < 10.0, "{rmse}");
}

#[test]
fn an_interrupted_uci_run_resumes_with_the_splits_it_finished() {
    let tmp = tempfile::tempdir().unwrap();
    synthetic_uci(&tmp.path().join("data/uci-gal2016/yacht"));
    let run = |extra: &[&str]| tiny_uci(tmp.path(), extra);
    let o = run(&["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = tmp.path().join("out");
    let first = json(&out.join("results.json"))[0]["per_split"].clone();
    // What a run killed while training split 1 leaves: split 0's file, nothing else finished.
    let left = tmp.path().join(".out.partial-4194999");
    std::fs::create_dir(&left).unwrap();
    let split0 = "gal2016-uci-yacht-split0.json";
    std::fs::rename(out.join(split0), left.join(split0)).unwrap();
    std::fs::remove_dir_all(&out).unwrap();

    let o = run(&["--resume"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("split 1/2: taken from the interrupted run"), "{err}");
    assert!(!err.contains("split 2/2: taken"), "{err}");
    let j = json(&out.join("results.json"));
    assert_eq!(j[0]["resumed_splits"], 1);
    let again = &j[0]["per_split"];
    for k in 0..2 {
        assert_eq!(again[k]["test"], first[k]["test"], "split {k}");
        assert_eq!(again[k]["candidates"], first[k]["candidates"], "split {k}");
    }
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        md.contains("1 split(s) were taken from an interrupted run"),
        "{md}"
    );
    assert!(!left.exists(), "the emptied interrupted run is removed");
}

#[test]
fn uci_results_do_not_depend_on_the_number_of_workers() {
    // Every grid point is a job of its own, handed to whichever worker is free: one worker
    // and three (more than the two splits) must give the same numbers.
    let tmp = tempfile::tempdir().unwrap();
    synthetic_uci(&tmp.path().join("data/uci-gal2016/yacht"));
    let per_split = |threads: &str| {
        let out = format!("out{threads}");
        let o = tiny_uci_on(tmp.path(), threads, &out, &["--quiet"]);
        assert!(o.status.success(), "{}", stderr(&o));
        json(&tmp.path().join(&out).join("results.json"))[0]["per_split"].clone()
    };
    let (one, three) = (per_split("1"), per_split("3"));
    assert_eq!(one.as_array().unwrap().len(), 2);
    for k in 0..2 {
        assert_eq!(one[k]["split"], k);
        assert_eq!(one[k]["test"], three[k]["test"], "split {k}");
        assert_eq!(one[k]["candidates"], three[k]["candidates"], "split {k}");
    }
}

#[test]
fn uci_bad_input_names_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data/uci-gal2016/yacht");
    let run = |cwd: &std::path::Path| {
        droplab(
            cwd,
            &[
                "paper",
                "run",
                "gal2016-uci-yacht",
                "--data-dir",
                "data",
                "--epochs",
                "1",
                "--quiet",
            ],
        )
    };
    let o = run(tmp.path());
    assert_usage_error(&o, &["uci-gal2016/yacht/data.txt", "data directory"]);
    synthetic_uci(&dir);
    let mut data = std::fs::read_to_string(dir.join("data.txt")).unwrap();
    data = data.replacen("\n", "\n1 2 x 4\n", 1);
    std::fs::write(dir.join("data.txt"), data).unwrap();
    let o = run(tmp.path());
    assert_usage_error(&o, &["data.txt:2", "'x'"]);
    synthetic_uci(&dir);
    std::fs::write(dir.join("index_test_1.txt"), "3\n99\n").unwrap();
    let o = run(tmp.path());
    assert_usage_error(&o, &["index_test_1.txt", "99"]);
    synthetic_uci(&dir);
    std::fs::write(dir.join("tau_values.txt"), "\n").unwrap();
    let o = run(tmp.path());
    assert_usage_error(&o, &["tau_values.txt", "empty"]);
    let o = droplab(
        tmp.path(),
        &["paper", "run", "gal2016-uci-yacht", "--train-size", "10"],
    );
    assert_usage_error(&o, &["--train-size", "splits"]);
    assert!(!tmp.path().join("runs").exists(), "nothing written");
}
