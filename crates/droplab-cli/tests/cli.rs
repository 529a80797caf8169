//! End-to-end tests of `droplab train`, `eval`, `demo` and `bench` in temp dirs.

mod common;

use common::*;
use sha2::{Digest, Sha256};

#[test]
fn train_writes_a_complete_run_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = TINY.to_vec();
    args.extend(["--out", "run1"]);
    let o = droplab(tmp.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tmp.path().join("run1");
    for f in ["config.toml", "record.json", "model.safetensors"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let r = json(&dir.join("record.json"));
    for key in [
        "droplab_version",
        "seed",
        "config",
        "history",
        "best_epoch",
        "stopped_early",
        "diverged",
        "test",
        "model_sha256",
    ] {
        assert!(r.get(key).is_some(), "record.json lacks {key}");
    }
    let h = r["history"].as_array().unwrap();
    assert_eq!(h.len(), 3);
    for key in [
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "gap",
        "lr",
        "seconds",
    ] {
        assert!(h[0].get(key).is_some(), "history entry lacks {key}");
    }
    let gap = h[2]["train_accuracy"].as_f64().unwrap() - h[2]["val_accuracy"].as_f64().unwrap();
    assert!((h[2]["gap"].as_f64().unwrap() - gap).abs() < 1e-12);
    assert!(
        r["test"]["accuracy"].as_f64().unwrap() > 0.5,
        "3 epochs on digits already learn something"
    );
    assert_eq!(r["diverged"], false);
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(r["model_sha256"].as_str().unwrap(), hex);
    // No staging directory is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn weights_are_named_and_shaped_like_a_pytorch_sequential() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = TINY.to_vec();
    args.extend(["--out", "run"]);
    assert!(droplab(tmp.path(), &args).status.success());
    let bytes = std::fs::read(tmp.path().join("run/model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    // nn.Sequential(Dropout, Linear, ReLU, Dropout, Linear): Linear layers at 1 and 4.
    let mut names = st.names().into_iter().map(|s| s.to_string()).collect::<Vec<_>>();
    names.sort();
    assert_eq!(names, ["1.bias", "1.weight", "4.bias", "4.weight"]);
    assert_eq!(st.tensor("1.weight").unwrap().shape(), &[32, 64]);
    assert_eq!(st.tensor("4.weight").unwrap().shape(), &[10, 32]);
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["torch_modules"], "Dropout,Linear,ReLU,Dropout,Linear");
    assert!(meta["config"].contains("[model]"));
}

#[test]
fn resolved_config_reproduces_the_run_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = TINY.to_vec();
    args.extend([
        "--out",
        "a",
        "--l2",
        "0.001",
        "--max-norm",
        "3",
        "--schedule",
        "cosine",
        "--optimizer",
        "nesterov",
    ]);
    assert!(droplab(tmp.path(), &args).status.success());
    let o = droplab(
        tmp.path(),
        &["train", "--config", "a/config.toml", "--out", "b", "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (ra, rb) = (
        json(&tmp.path().join("a/record.json")),
        json(&tmp.path().join("b/record.json")),
    );
    assert_eq!(ra["model_sha256"], rb["model_sha256"]);
    assert_eq!(ra["config"], rb["config"]);
    // A flag overrides the file, and changes the weights.
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--config",
            "a/config.toml",
            "--seed",
            "5",
            "--out",
            "c",
            "--quiet",
        ],
    );
    assert!(o.status.success());
    let rc = json(&tmp.path().join("c/record.json"));
    assert_ne!(ra["model_sha256"], rc["model_sha256"]);
    assert_eq!(rc["seed"], 5);
}

#[test]
fn eval_by_weight_scaling_and_monte_carlo() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = TINY.to_vec();
    args.extend(["--out", "run"]);
    assert!(droplab(tmp.path(), &args).status.success());
    let r = json(&tmp.path().join("run/record.json"));
    let o = droplab(tmp.path(), &["eval", "run", "--json", "--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(e["method"], "weight_scaling");
    assert!((e["accuracy"].as_f64().unwrap() - r["test"]["accuracy"].as_f64().unwrap()).abs() < 1e-9);
    assert!((e["loss"].as_f64().unwrap() - r["test"]["loss"].as_f64().unwrap()).abs() < 1e-4);
    let o = droplab(
        tmp.path(),
        &["eval", "run", "--mc", "20", "--json", "--split", "val"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(m["method"], "monte_carlo");
    assert_eq!(m["samples"], 20);
    assert!(m["accuracy"].as_f64().unwrap() > 0.5);
}

#[test]
fn demo_writes_intervals_verdicts_runs_curves_and_its_table_in_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = |epochs: &str| {
        droplab(
            tmp.path(),
            &[
                "demo",
                "--epochs",
                epochs,
                "--seeds",
                "2",
                "--out",
                "demo",
                "--quiet",
                "--threads",
                "2",
            ],
        )
    };
    let o = demo("3");
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&tmp.path().join("demo/summary.json"));
    let arms = s["arms"].as_array().unwrap();
    let names: Vec<&str> = arms.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["none", "dropout", "l2", "dropout+maxnorm"]);
    for a in arms {
        // The interval of the mean over 2 seeds, written here: mean +- t(1) sd / sqrt(2).
        let v: Vec<f64> = a["test_accuracy_best"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let mean = (v[0] + v[1]) / 2.0;
        let sd = ((v[0] - mean).powi(2) + (v[1] - mean).powi(2)).sqrt();
        let m = &a["mean_test_accuracy_best"];
        assert!((m["mean"].as_f64().unwrap() - mean).abs() < 1e-12, "{m}");
        // (clipped to an accuracy's range, [0, 1])
        let half = 12.706_204_736 * sd / 2f64.sqrt();
        assert!(
            (m["hi"].as_f64().unwrap() - (mean + half).min(1.0)).abs() < 1e-9,
            "{m}"
        );
        assert!(
            (m["lo"].as_f64().unwrap() - (mean - half).max(0.0)).abs() < 1e-9,
            "{m}"
        );
        for seed in 0..2 {
            let rec = json(&tmp.path().join(format!(
                "demo/{}-seed{seed}/record.json",
                a["name"].as_str().unwrap()
            )));
            // The best epoch's weights are kept; the last epoch's are scored beside them.
            assert_eq!(rec["config"]["train"]["early_stopping"]["patience"], 3);
            let best = rec["best_epoch"].as_u64().unwrap();
            assert_eq!(rec.get("test_last_epoch").is_some(), best != 3, "{}", rec["test"]);
        }
    }
    let verdicts = s["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 3);
    for v in verdicts {
        let d = &v["difference"];
        let expected = if d["lo"].as_f64().unwrap() > 0.0 {
            "helps"
        } else if d["hi"].as_f64().unwrap() < 0.0 {
            "hurts"
        } else {
            "no clear difference"
        };
        assert_eq!(v["verdict"], expected, "{v}");
    }
    let out = stdout(&o);
    assert!(
        out.contains("test acc, best epoch") && out.contains("dropout vs none: test accuracy"),
        "{out}"
    );
    let svg = std::fs::read_to_string(tmp.path().join("demo/curves.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("dropout+maxnorm (mean; band: range over 2 seeds)"));
    // The report of the demo directory carries its comparison table and verdicts.
    let o = droplab(tmp.path(), &["report", "demo", "--out", "page.html", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(tmp.path().join("page.html")).unwrap();
    assert!(
        page.contains("test acc, best epoch") && page.contains("dropout vs none"),
        "no table in the page"
    );
    // Running it again replaces the previous demo.
    let o = demo("2");
    assert!(o.status.success(), "{}", stderr(&o));
    let rec = json(&tmp.path().join("demo/none-seed0/record.json"));
    assert_eq!(rec["history"].as_array().unwrap().len(), 2);
    assert_usage_error(
        &droplab(tmp.path(), &["demo", "--seeds", "0", "--out", "demo"]),
        &["--seeds", "at least 1"],
    );
}

#[test]
fn bench_prints_the_documented_json() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &["bench", "mlp", "--json", "--rounds", "1", "--steps", "2"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    for key in [
        "train_samples_per_sec",
        "infer_samples_per_sec",
        "dropout_overhead",
    ] {
        assert!(v[key].is_number(), "{key}");
    }
    assert_usage_error(
        &droplab(tmp.path(), &["bench", "transformer"]),
        &["unknown benchmark"],
    );
}

#[test]
fn a_diverging_run_exits_1_and_still_writes_its_record() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = TINY.to_vec();
    args.extend(["--out", "boom", "--lr", "1e30"]);
    let o = droplab(tmp.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("diverged"));
    let r = json(&tmp.path().join("boom/record.json"));
    assert_eq!(r["diverged"], true);
}

#[test]
fn trains_and_evaluates_on_real_mnist_when_installed() {
    // `.ci/run` installs MNIST with `droplab data fetch mnist` and points DROPLAB_TEST_DATA at it.
    let Some(data) = std::env::var_os("DROPLAB_TEST_DATA") else {
        println!("skipped: DROPLAB_TEST_DATA is not set (see .ci/run)");
        return;
    };
    let data = std::path::PathBuf::from(data);
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "mnist",
            "--data-dir",
            data.to_str().unwrap(),
            "--model",
            "mlp:784-64-10",
            "--dropout",
            "0.2,0.5",
            "--train-size",
            "3000",
            "--epochs",
            "2",
            "--out",
            "m",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&tmp.path().join("m/record.json"));
    assert_eq!(r["data"]["train"], 3000);
    assert_eq!(
        r["data"]["val"], 10000,
        "validation is the last 10,000 training images"
    );
    assert_eq!(r["data"]["test"], 10000);
    assert!(r["test"]["accuracy"].as_f64().unwrap() > 0.8, "{}", r["test"]);
    let o = droplab(tmp.path(), &["eval", "m", "--mc", "5", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Without the data installed, the message says how to get it.
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "fashion-mnist",
            "--data-dir",
            "nowhere",
            "--out",
            "f",
        ],
    );
    assert_usage_error(&o, &["droplab data fetch fashion-mnist"]);
}

#[test]
fn standard_convention_survives_export_and_reload() {
    // The export folds the test-time factor 1-p into the next Linear (PyTorch's dropout is
    // identity in eval()); loading divides it out, so eval reproduces the record.
    let tmp = tempfile::tempdir().unwrap();
    let mut args = TINY.to_vec();
    args.extend(["--out", "std", "--dropout-convention", "standard"]);
    assert!(droplab(tmp.path(), &args).status.success());
    let r = json(&tmp.path().join("std/record.json"));
    let o = droplab(tmp.path(), &["eval", "std", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!((e["accuracy"].as_f64().unwrap() - r["test"]["accuracy"].as_f64().unwrap()).abs() < 1e-9);
    assert!((e["loss"].as_f64().unwrap() - r["test"]["loss"].as_f64().unwrap()).abs() < 1e-4);
    let o = droplab(
        tmp.path(),
        &["eval", "std", "--split", "all", "--predictions", "p.csv"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(tmp.path().join("p.csv")).unwrap();
    assert_eq!(text.lines().count(), 1 + 1797);
    assert!(text.starts_with("label,p0,p1"));
}

#[test]
fn a_cnn_trains_reproduces_exports_and_evaluates() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = BASE.to_vec();
    args.extend([
        "--model",
        "cnn:c4k3-bn-p2-c8k3-p2-f16-10",
        "--conv-dropout",
        "0.1",
        "--conv-dropout-kind",
        "dropblock",
        "--block-size",
        "2",
        "--dropout",
        "0,0.3",
        "--max-norm",
        "3",
        "--augment",
        "shift:1,rotate:8,noise:0.05",
        "--epochs",
        "2",
        "--out",
        "a",
    ]);
    let o = droplab(tmp.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&tmp.path().join("a/record.json"));
    assert_eq!(r["config"]["model"]["layers"], "c4k3-bn-p2-c8k3-p2-f16-10");
    assert_eq!(r["config"]["model"]["input_shape"], serde_json::json!([1, 8, 8]));
    assert_eq!(r["history"].as_array().unwrap().len(), 2);
    assert!(r["warnings"].as_array().unwrap().is_empty());
    assert_eq!(r["config"]["train"]["augment"]["rotate"], 8.0);
    // Conv, its batch norm (with running statistics), pools, flatten and the dense head are
    // named as a PyTorch nn.Sequential would name them.
    let bytes = std::fs::read(tmp.path().join("a/model.safetensors")).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(
        meta.metadata().clone().unwrap()["torch_modules"],
        "Conv2d,BatchNorm2d,ReLU,DropBlock2d,MaxPool2d,Conv2d,ReLU,DropBlock2d,MaxPool2d,Flatten,Linear,ReLU,Dropout,Linear"
    );
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("0.weight").unwrap().shape(), &[4, 1, 3, 3]);
    assert_eq!(st.tensor("1.running_var").unwrap().shape(), &[4]);
    assert_eq!(
        st.tensor("1.num_batches_tracked").unwrap().shape(),
        &[] as &[usize]
    );
    assert_eq!(st.tensor("10.weight").unwrap().shape(), &[16, 8 * 2 * 2]);
    // The running statistics moved during training and are saved.
    let rv = st.tensor("1.running_var").unwrap();
    assert!(
        rv.data()
            .chunks(4)
            .any(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) != 1.0)
    );
    // Its config reproduces it bit for bit.
    let o = droplab(
        tmp.path(),
        &["train", "--config", "a/config.toml", "--out", "b", "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rb = json(&tmp.path().join("b/record.json"));
    assert_eq!(r["model_sha256"], rb["model_sha256"]);
    // eval reloads weights and running statistics: the same test accuracy as the record.
    let o = droplab(tmp.path(), &["eval", "a", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(e["accuracy"], r["test"]["accuracy"]);
    let o = droplab(tmp.path(), &["eval", "a", "--mc", "5", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn dropout_straight_into_batch_norm_is_warned_in_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = BASE.to_vec();
    args.extend(["--model", "cnn:c4k3-sd0.2-bn-p2-10", "--out", "a"]);
    let o = droplab(tmp.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&tmp.path().join("a/record.json"));
    let w = r["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1);
    assert!(w[0].as_str().unwrap().contains("variance shift"));
}

#[test]
fn dropconnect_trains_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = TINY.to_vec();
    args.extend(["--dropout-kind", "dropconnect", "--out", "a"]);
    let o = droplab(tmp.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&tmp.path().join("a/record.json"));
    let layers: Vec<String> = r["model"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert!(layers.iter().all(|l| !l.contains("dropout p=")), "{layers:?}");
    assert!(layers.iter().any(|l| l.contains("dropconnect p=")), "{layers:?}");
}

/// A tiny two-class sequence problem in `.ts` format: the class is the sign of the first
/// value; lengths vary from 2 to 5.
fn write_ts(dir: &std::path::Path, name: &str, n: usize, seed: u64) {
    let mut text = String::from("@problemName Toy\n@dimensions 2\n@classLabel true neg pos\n@data\n");
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0
    };
    for i in 0..n {
        let len = 2 + i % 4;
        let a: Vec<f64> = (0..len).map(|_| next()).collect();
        let b: Vec<f64> = (0..len).map(|_| next()).collect();
        let join = |v: &[f64]| v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(",");
        let label = if a[0] > 0.0 { "pos" } else { "neg" };
        text.push_str(&format!("{}:{}:{label}\n", join(&a), join(&b)));
    }
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn an_lstm_trains_on_ts_sequences_and_evaluates() {
    let tmp = tempfile::tempdir().unwrap();
    write_ts(tmp.path(), "train.ts", 120, 1);
    write_ts(tmp.path(), "test.ts", 40, 2);
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "ts:train.ts,test.ts",
            "--model",
            "rnn:lstm8-last-2",
            "--dropout",
            "0.1,0",
            "--recurrent-dropout",
            "0.2",
            "--weight-dropout",
            "0.2",
            "--zoneout",
            "0.1",
            "--variational",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--epochs",
            "3",
            "--batch-size",
            "16",
            "--threads",
            "1",
            "--quiet",
            "--out",
            "a",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&tmp.path().join("a/record.json"));
    assert_eq!(r["config"]["model"]["recurrent"], "lstm8-last-2");
    assert_eq!(r["config"]["model"]["input_shape"], serde_json::json!([5, 2]));
    assert_eq!(r["config"]["model"]["dropout"]["variational"], true);
    let layers = r["model"][0].as_str().unwrap();
    assert!(
        layers.contains("variational") && layers.contains("weight dropout") && layers.contains("zoneout"),
        "{layers}"
    );
    // The run reproduces bit for bit, and eval (Monte Carlo too) reloads it.
    let o = droplab(
        tmp.path(),
        &["train", "--config", "a/config.toml", "--out", "b", "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        r["model_sha256"],
        json(&tmp.path().join("b/record.json"))["model_sha256"]
    );
    let o = droplab(tmp.path(), &["eval", "a", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(e["accuracy"], r["test"]["accuracy"]);
    let o = droplab(
        tmp.path(),
        &["eval", "a", "--mc", "4", "--split", "all", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

// Regression: at lr 1e6 the training loss reached 8e5 to 3e12 at chance accuracy and the run
// exited 0 with `diverged: false`; divergence now includes a loss far above the untrained
// network's. And `eval` reports the record's own test loss for the same split.
#[test]
fn a_blown_up_loss_is_divergence_and_eval_agrees_with_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    for opt in ["adam", "rmsprop"] {
        let out = format!("blown-{opt}");
        let mut args = TINY.to_vec();
        args.extend(["--out", &out, "--lr", "1e6", "--optimizer", opt]);
        let o = droplab(tmp.path(), &args);
        assert_eq!(o.status.code(), Some(1), "{opt}: {}", stderr(&o));
        let r = json(&tmp.path().join(&out).join("record.json"));
        assert_eq!(r["diverged"], true, "{opt}");
    }
    let mut args = TINY.to_vec();
    args.extend(["--out", "fine"]);
    assert!(droplab(tmp.path(), &args).status.success());
    let r = json(&tmp.path().join("fine/record.json"));
    assert_eq!(r["diverged"], false);
    let o = droplab(tmp.path(), &["eval", "fine", "--json", "--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (a, b) = (e["loss"].as_f64().unwrap(), r["test"]["loss"].as_f64().unwrap());
    assert!((a - b).abs() < 1e-9, "eval loss {a} against the record's {b}");
    assert_eq!(e["accuracy"], r["test"]["accuracy"]);
}

#[test]
fn completions_cover_every_command_and_refuse_an_unknown_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let help = droplab(tmp.path(), &["--help"]);
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    let bash = droplab(tmp.path(), &["completions", "bash"]);
    assert!(bash.status.success());
    let bash = String::from_utf8_lossy(&bash.stdout).to_string();
    // Every command `--help` lists is completed.
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 10, "{help}");
    for c in &commands {
        assert!(bash.contains(c), "bash completion lacks '{c}'");
    }
    let zsh = droplab(tmp.path(), &["completions", "zsh"]);
    assert!(String::from_utf8_lossy(&zsh.stdout).contains("--divergence-factor"));
    assert_usage_error(&droplab(tmp.path(), &["completions", "tcsh"]), &["tcsh"]);
}

// Regressions: `paper list` was 178 columns wide; a closed stdout (`| head`) made a command
// panic in println! instead of ending quietly.
#[test]
fn paper_list_fits_100_columns_and_a_closed_pipe_ends_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(tmp.path(), &["paper", "list"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.lines().count() >= 2 * 23, "{out}");
    for line in out.lines() {
        assert!(
            line.chars().count() < 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    assert!(out.contains("srivastava2014-table9-dropout-maxnorm") && out.contains("published 1.05 %"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_droplab"))
        .args(["paper", "list"])
        .current_dir(tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the first line
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

// Help and README agree: every flag any command's --help lists is documented in the README.
#[test]
fn every_flag_in_help_is_in_the_readme() {
    let tmp = tempfile::tempdir().unwrap();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let commands: &[&[&str]] = &[
        &["train"],
        &["eval"],
        &["demo"],
        &["bench"],
        &["paper", "run"],
        &["tune"],
        &["worker"],
        &["analyze", "uncertainty"],
        &["analyze", "ensemble"],
        &["analyze", "coadaptation"],
        &["report"],
        &["claims"],
        &["data", "fetch"],
        &["completions"],
    ];
    let mut missing = Vec::new();
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let o = droplab(tmp.path(), &args);
        assert!(o.status.success(), "{cmd:?}");
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let Some(flag) = line
                .split_whitespace()
                .map(|w| w.trim_end_matches(','))
                .find(|w| w.starts_with("--"))
            else {
                continue;
            };
            let flag = flag.split(['=', '<', '[']).next().unwrap();
            if flag != "--help" && line.trim_start().starts_with('-') && !readme.contains(flag) {
                missing.push(format!("{} {flag}", cmd.join(" ")));
            }
        }
    }
    assert!(missing.is_empty(), "flags missing from the README: {missing:?}");
}

// Regression: an exported LSTM lacked `bias_hh_l0`, so PyTorch's strict `load_state_dict`
// failed ("Missing key(s): 0.bias_hh_l0"). The state dict of `nn.LSTM(input, hidden)` is
// weight_ih_l0 [4h, in], weight_hh_l0 [4h, h], bias_ih_l0 [4h], bias_hh_l0 [4h]; droplab's one
// bias is exported as bias_ih_l0 and bias_hh_l0 is zeros.
#[test]
fn an_exported_lstm_has_every_tensor_of_torch_lstm() {
    let tmp = tempfile::tempdir().unwrap();
    write_ts(tmp.path(), "train.ts", 60, 1);
    write_ts(tmp.path(), "test.ts", 20, 2);
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "ts:train.ts,test.ts",
            "--model",
            "rnn:lstm8-last-2",
            "--epochs",
            "1",
            "--threads",
            "1",
            "--quiet",
            "--out",
            "a",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(tmp.path().join("a/model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let shape = |n: &str| {
        st.tensor(n)
            .unwrap_or_else(|_| panic!("{n} missing"))
            .shape()
            .to_vec()
    };
    assert_eq!(shape("0.weight_ih_l0"), vec![32, 2]);
    assert_eq!(shape("0.weight_hh_l0"), vec![32, 8]);
    assert_eq!(shape("0.bias_ih_l0"), vec![32]);
    assert_eq!(shape("0.bias_hh_l0"), vec![32]);
    assert!(st.tensor("0.bias_hh_l0").unwrap().data().iter().all(|&b| b == 0));
    // The run still reloads (eval ignores the extra tensor).
    assert!(droplab(tmp.path(), &["eval", "a", "--json"]).status.success());
}
