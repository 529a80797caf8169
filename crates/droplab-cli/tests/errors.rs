//! Bad input: each gets a one-line message naming what is wrong, exit 2, and no output that
//! looks complete.

mod common;

use std::path::Path;

use common::*;

fn train_with(tmp: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = BASE.to_vec();
    args.extend_from_slice(extra);
    droplab(tmp, &args)
}

fn no_run(tmp: &Path, name: &str) {
    assert!(!tmp.join(name).exists(), "{name} must not be written");
}

/// Trains the tiny network into `tmp/out` and returns its record's path.
fn tiny_run(tmp: &Path, out: &str) -> std::path::PathBuf {
    let mut args = TINY.to_vec();
    args.extend_from_slice(&["--out", out]);
    assert!(droplab(tmp, &args).status.success());
    tmp.join(out).join("record.json")
}

/// Rewrites a run's record.json through `edit`.
fn edit_record(record: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(record).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(record, serde_json::to_string(&v).unwrap()).unwrap();
}

/// Starts a training that runs until it is stopped, writing `tmp/out`; returns the process and
/// its staging directory, once that exists.
fn long_train(tmp: &Path, out: &str) -> (std::process::Child, std::path::PathBuf) {
    let mut long = BASE.to_vec();
    long.extend_from_slice(&["--epochs", "100000", "--out", out]);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_droplab"))
        .args(&long)
        .current_dir(tmp)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let staging = tmp.join(format!(".{out}.partial-{}", child.id()));
    wait_for(|| staging.is_dir());
    (child, staging)
}

#[test]
fn unknown_flag() {
    let tmp = tempfile::tempdir().unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["train", "--dropuot", "0.5"]),
        &["--dropuot"],
    );
}

#[test]
fn dropout_rate_outside_zero_one() {
    let tmp = tempfile::tempdir().unwrap();
    assert_usage_error(
        &train_with(tmp.path(), &["--dropout", "0.2,1.5", "--out", "r"]),
        &["--dropout", "1.5"],
    );
    no_run(tmp.path(), "r");
    assert_usage_error(
        &train_with(tmp.path(), &["--dropout", "0.2,0.5,0.5,0.5", "--out", "r"]),
        &["dropout.hidden"],
    );
    // p = 1 on the hidden layer: an output that cannot depend on the input (trained at chance
    // without a word before).
    for rates in ["0,1", "1,0.5"] {
        assert_usage_error(
            &train_with(tmp.path(), &["--dropout", rates, "--out", "r"]),
            &["dropout.", "rate of 1 drops every unit"],
        );
        no_run(tmp.path(), "r");
    }
}

#[test]
fn invalid_numbers_name_their_field() {
    let tmp = tempfile::tempdir().unwrap();
    assert_usage_error(&train_with(tmp.path(), &["--lr", "-0.1"]), &["optimizer.lr"]);
    assert_usage_error(
        &train_with(tmp.path(), &["--model", "mlp:64-0-10"]),
        &["model.widths[1]"],
    );
    assert_usage_error(
        &train_with(tmp.path(), &["--model", "mlp:784-32-10"]),
        &["784", "64 features"],
    );
    assert_usage_error(
        &train_with(tmp.path(), &["--schedule", "step:x"]),
        &["--schedule"],
    );
    assert_usage_error(
        &train_with(tmp.path(), &["--activation", "swish"]),
        &["--activation", "swish"],
    );
    assert_usage_error(&train_with(tmp.path(), &["--dataset", "cifar10"]), &["cifar10"]);
    assert_usage_error(
        &train_with(tmp.path(), &["--train-size", "100000"]),
        &["--train-size"],
    );
}

#[test]
fn truncated_idx_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("idx");
    std::fs::create_dir(&d).unwrap();
    write_idx(&d.join("train-images-idx3-ubyte"), &[10, 2, 2], &[0u8; 20]); // needs 40 bytes
    write_idx(&d.join("train-labels-idx1-ubyte"), &[10], &[1u8; 10]);
    write_idx(&d.join("t10k-images-idx3-ubyte"), &[2, 2, 2], &[0u8; 8]);
    write_idx(&d.join("t10k-labels-idx1-ubyte"), &[2], &[1u8; 2]);
    let o = droplab(
        tmp.path(),
        &["train", "--dataset", "idx:idx", "--out", "r", "--quiet"],
    );
    assert_usage_error(&o, &["train-images-idx3-ubyte"]);
    no_run(tmp.path(), "r");
}

#[test]
fn idx_file_with_the_wrong_magic_number() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("idx");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(
        d.join("train-images-idx3-ubyte"),
        [0x50u8, 0x4b, 3, 4, 0, 0, 0, 0],
    )
    .unwrap();
    write_idx(&d.join("train-labels-idx1-ubyte"), &[10], &[1u8; 10]);
    write_idx(&d.join("t10k-images-idx3-ubyte"), &[2, 2, 2], &[0u8; 8]);
    write_idx(&d.join("t10k-labels-idx1-ubyte"), &[2], &[1u8; 2]);
    let o = droplab(
        tmp.path(),
        &["train", "--dataset", "idx:idx", "--out", "r", "--quiet"],
    );
    assert_usage_error(&o, &["train-images-idx3-ubyte", "magic"]);
    no_run(tmp.path(), "r");
}

fn csv_case(content: &str, extra: &[&str], needles: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("d.csv"), content).unwrap();
    let mut args = vec![
        "train",
        "--dataset",
        "csv:d.csv",
        "--model",
        "mlp:2-4-2",
        "--epochs",
        "1",
        "--out",
        "r",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    assert_usage_error(&droplab(tmp.path(), &args), needles);
    no_run(tmp.path(), "r");
}

#[test]
fn csv_with_a_ragged_row() {
    csv_case("a,b,label\n1,2,0\n3,4\n5,6,1\n", &[], &["d.csv", ":3"]);
}

#[test]
fn csv_with_a_non_numeric_cell() {
    csv_case("a,b,label\n1,2,0\n3,x7,1\n5,6,1\n", &[], &["d.csv", "x7"]);
}

#[test]
fn csv_with_a_missing_label_column() {
    csv_case(
        "a,b,label\n1,2,0\n3,4,1\n",
        &["--label", "target"],
        &["d.csv", "target"],
    );
}

#[test]
fn a_valid_csv_trains() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("x1,x2,label\n");
    for i in 0..200 {
        let (a, b) = ((i % 17) as f32 / 17.0, (i % 5) as f32 / 5.0);
        text.push_str(&format!("{a},{b},{}\n", (a > 0.5) as u8));
    }
    std::fs::write(tmp.path().join("d.csv"), text).unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "csv:d.csv",
            "--label",
            "label",
            "--scaling",
            "standardize",
            "--epochs",
            "2",
            "--out",
            "r",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&tmp.path().join("r/record.json"));
    assert_eq!(r["data"]["features"], 2);
    assert_eq!(
        r["config"]["model"]["widths"],
        serde_json::json!([2, 256, 256, 2])
    );
}

#[test]
fn config_toml_with_an_unknown_key() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.toml"), "seed = 1\n[model]\ndropuot = 0.5\n").unwrap();
    let o = droplab(tmp.path(), &["train", "--config", "c.toml", "--out", "r"]);
    assert_usage_error(&o, &["c.toml", "dropuot"]);
    no_run(tmp.path(), "r");
}

#[test]
fn unwritable_out() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("file"), "x").unwrap();
    // A path below a regular file can never be created, whatever the user's permissions.
    assert_usage_error(
        &train_with(tmp.path(), &["--out", "file/run"]),
        &["--out", "file/run"],
    );
    std::fs::create_dir(tmp.path().join("exists")).unwrap();
    assert_usage_error(&train_with(tmp.path(), &["--out", "exists"]), &["already exists"]);
}

#[test]
fn eval_of_a_directory_without_a_model() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    assert_usage_error(&droplab(tmp.path(), &["eval", "empty"]), &["model.safetensors"]);
    assert_usage_error(&droplab(tmp.path(), &["eval", "nowhere"]), &["nowhere"]);
}

#[test]
fn cnn_model_strings_that_do_not_parse_or_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let o = train_with(tmp.path(), &["--model", "cnn:c8k3-x2-10", "--out", "r"]);
    assert_usage_error(&o, &["--model", "'x2'", "expected tokens"]);
    no_run(tmp.path(), "r");
    // A 9x9 kernel without padding on 8x8 digits.
    let o = train_with(tmp.path(), &["--model", "cnn:c8k9p0-10", "--out", "r"]);
    assert_usage_error(&o, &["9x9 kernel", "larger than its 8x8 input"]);
    no_run(tmp.path(), "r");
    let o = train_with(tmp.path(), &["--augment", "spin:3", "--out", "r"]);
    assert_usage_error(&o, &["--augment", "spin:3", "shift:PIXELS"]);
    no_run(tmp.path(), "r");
    let o = train_with(tmp.path(), &["--augment", "rotate:400", "--out", "r"]);
    assert_usage_error(&o, &["augment.rotate", "400"]);
    no_run(tmp.path(), "r");
    let o = train_with(tmp.path(), &["--model", "cnn:c8k3-p2-7", "--out", "r"]);
    assert_usage_error(&o, &["output width 7", "10 classes"]);
    no_run(tmp.path(), "r");
}

#[test]
fn a_cnn_on_vector_data() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("x1,x2,label\n");
    for i in 0..50 {
        text.push_str(&format!("{},{},{}\n", i % 7, i % 3, i % 2));
    }
    std::fs::write(tmp.path().join("d.csv"), text).unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "csv:d.csv",
            "--model",
            "cnn:c4k3-2",
            "--out",
            "r",
            "--quiet",
        ],
    );
    assert_usage_error(&o, &["needs images", "csv:d.csv"]);
    no_run(tmp.path(), "r");
}

#[test]
fn recurrent_models_on_the_wrong_data_and_bad_ts_files() {
    let tmp = tempfile::tempdir().unwrap();
    // An image dataset into an LSTM.
    let o = train_with(tmp.path(), &["--model", "rnn:lstm8-last-10", "--out", "r"]);
    assert_usage_error(&o, &["needs sequences", "digits gives images"]);
    no_run(tmp.path(), "r");
    let o = train_with(tmp.path(), &["--model", "rnn:lstm8-10", "--out", "r"]);
    assert_usage_error(&o, &["needs last or mean"]);
    std::fs::write(tmp.path().join("a.ts"), "@data\n1,2:3,4:x\n1,2:oops,4:y\n").unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "ts:a.ts,a.ts",
            "--model",
            "rnn:lstm4-last-2",
            "--out",
            "r",
            "--quiet",
        ],
    );
    assert_usage_error(&o, &["a.ts:3", "'oops' is not a number"]);
    no_run(tmp.path(), "r");
    // A CNN on sequences.
    std::fs::write(
        tmp.path().join("b.ts"),
        "@data\n1,2:3,4:x\n1,2:3,4:y\n1,2:3,4:x\n1,2:3,4:y\n1,2:3,4:x\n",
    )
    .unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "ts:b.ts,b.ts",
            "--model",
            "cnn:c2k1-2",
            "--out",
            "r",
            "--quiet",
        ],
    );
    assert_usage_error(&o, &["needs images", "gives sequences"]);
}

// Regressions for the exit classes and messages of the reliability issue: a negative number
// reaches validation and is refused naming its flag (it was clap's "unexpected argument
// '-1' found"), and store addresses and worker timing a user can fix exit 2 at once (they
// exited 1, the timing only after the workers had started and failed).
#[test]
fn negative_numbers_are_refused_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["train", "--epochs", "-1"]),
        &["--epochs", "-1"],
    );
    assert_usage_error(
        &train_with(tmp.path(), &["--dropout", "-0.1", "--out", "r"]),
        &["--dropout", "-0.1", "[0, 1]"],
    );
    no_run(tmp.path(), "r");
}

#[test]
fn store_addresses_and_worker_timing_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let tune = |extra: &[&str]| {
        let mut args = vec![
            "tune",
            "--dataset",
            "digits",
            "--space",
            "lr=uniform(0.01,0.1)",
            "--trials",
            "1",
            "--epochs",
            "1",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        droplab(tmp.path(), &args)
    };
    assert_usage_error(
        &tune(&["--store", "bogus:xyz"]),
        &["bogus:xyz", "not a store URL"],
    );
    assert_usage_error(
        &tune(&["--store", "sqlite:missing/dir/x.sqlite"]),
        &["missing/dir", "does not exist"],
    );
    for stale in ["0", "nan", "-5"] {
        assert_usage_error(&tune(&["--stale-secs", stale, "--out", "s"]), &["--stale-secs"]);
        assert!(
            !tmp.path().join("s").exists(),
            "no study directory for --stale-secs {stale}"
        );
    }
    assert_usage_error(
        &droplab(
            tmp.path(),
            &["worker", "--store", "sqlite:none.sqlite", "--study", "nope"],
        ),
        &["no study named 'nope'"],
    );
}

// Regressions: a flag that shapes another kind of network is refused naming the flag and the
// model's kind (it was ignored), and a run whose record no longer fits its data names the
// record (it named a --dataset flag nobody passed).
#[test]
fn flags_for_another_kind_of_network_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for flag in [
        &["--conv-dropout", "0.5"][..],
        &["--block-size", "3"],
        &["--recurrent-dropout", "0.3"],
        &["--weight-dropout", "0.3"],
        &["--zoneout", "0.1"],
        &["--variational"],
    ] {
        let mut extra = flag.to_vec();
        extra.extend_from_slice(&["--out", "r"]);
        assert_usage_error(&train_with(tmp.path(), &extra), &[flag[0], "an MLP"]);
        no_run(tmp.path(), "r");
    }
}

#[test]
fn a_record_that_does_not_fit_its_data_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let record = tiny_run(tmp.path(), "run");
    edit_record(&record, |v| {
        v["config"]["model"]["widths"][0] = serde_json::json!(65)
    });
    let o = droplab(tmp.path(), &["eval", "run", "--threads", "1"]);
    assert_usage_error(&o, &["record.json", "64 features", "65"]);
    assert!(!stderr(&o).contains("--dataset"), "{}", stderr(&o));
}

// Regressions for bad data accepted silently: a trailing comma made the empty last column the
// label (test accuracy 1.0000), a one-row CSV trained and reported a test score of nothing,
// and eval used flipped or NaN weights without a word.
#[test]
fn an_empty_label_column_and_an_empty_split_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("trailing.csv"), "1,2,0,\n3,4,1,\n5,6,0,\n").unwrap();
    assert_usage_error(
        &train_with(tmp.path(), &["--dataset", "csv:trailing.csv", "--out", "r"]),
        &["trailing.csv:1", "column 4", "label", "empty"],
    );
    std::fs::write(tmp.path().join("one.csv"), "1,2,0\n").unwrap();
    assert_usage_error(
        &train_with(tmp.path(), &["--dataset", "csv:one.csv", "--out", "r"]),
        &["csv:one.csv", "split is empty"],
    );
    no_run(tmp.path(), "r");
}

#[test]
fn eval_verifies_the_weights_against_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let record = tiny_run(tmp.path(), "run");
    let weights = tmp.path().join("run/model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    // Flip a byte of the last weight (the data block ends the file).
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&weights, &bytes).unwrap();
    let eval = |extra: &[&str]| {
        let mut a = vec!["eval", "run", "--threads", "1", "--json"];
        a.extend_from_slice(extra);
        droplab(tmp.path(), &a)
    };
    assert_usage_error(&eval(&[]), &["model.safetensors", "model_sha256", "--no-verify"]);
    let o = eval(&["--no-verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--no-verify"),
        "the override is said: {}",
        stderr(&o)
    );
    // NaN weights whose checksum is made to match the record are refused too.
    let n = bytes.len();
    for b in &mut bytes[n - 4..] {
        *b = 0xff; // an f32 NaN
    }
    std::fs::write(&weights, &bytes).unwrap();
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    edit_record(&record, |v| v["model_sha256"] = serde_json::json!(sha));
    assert_usage_error(&eval(&[]), &["NaN or infinite", "--no-verify"]);
}

// Regression: a test file that does not match its training file was found only when the test
// set was evaluated, after every epoch, with no file named.
#[test]
fn a_test_file_that_does_not_match_the_training_file_fails_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("idx");
    std::fs::create_dir(&d).unwrap();
    let labels: Vec<u8> = (0..20).map(|i| (i % 2) as u8).collect();
    write_idx(&d.join("train-images-idx3-ubyte"), &[20, 8, 8], &[7u8; 20 * 64]);
    write_idx(&d.join("train-labels-idx1-ubyte"), &[20], &labels);
    write_idx(&d.join("t10k-images-idx3-ubyte"), &[4, 7, 7], &[7u8; 4 * 49]);
    write_idx(&d.join("t10k-labels-idx1-ubyte"), &[4], &[0, 1, 0, 1]);
    let args = ["--dataset", "idx:idx", "--out", "r"];
    assert_usage_error(
        &train_with(tmp.path(), &args),
        &["t10k-images-idx3-ubyte", "[1, 7, 7]", "[1, 8, 8]"],
    );
    write_idx(&d.join("t10k-images-idx3-ubyte"), &[4, 8, 8], &[7u8; 4 * 64]);
    write_idx(&d.join("t10k-labels-idx1-ubyte"), &[4], &[0, 1, 5, 1]);
    assert_usage_error(
        &train_with(tmp.path(), &args),
        &["t10k-labels-idx1-ubyte", "label 5"],
    );
    no_run(tmp.path(), "r");
}

// Regressions: widths, filter counts and thread or epoch counts beyond what the machine can
// give aborted (SIGABRT, "memory allocation of ... failed") or started thousands of threads,
// leaving a staging directory behind. The memory cap is lowered so that small widths exceed it.
#[test]
fn models_that_do_not_fit_in_memory_are_refused_before_allocation() {
    let tmp = tempfile::tempdir().unwrap();
    let capped = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_droplab"))
            .args(args)
            .current_dir(tmp.path())
            .env("DROPLAB_MEMORY_LIMIT", "20M")
            .output()
            .unwrap()
    };
    for (model, field) in [
        ("mlp:64-100000-10", "model.widths"),
        ("cnn:c100000k3-10", "model.layers"),
        ("cnn:c4k3-f100000-10", "model.layers"),
    ] {
        let mut args = BASE.to_vec();
        args.extend_from_slice(&["--model", model, "--out", "big"]);
        assert_usage_error(&capped(&args), &[field, "needs about", "available"]);
        no_run(tmp.path(), "big");
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
            .collect();
        assert!(left.is_empty(), "a staging directory was left behind");
    }
    // The same widths in a config file, and in a run's record read by eval.
    std::fs::write(
        tmp.path().join("big.toml"),
        "[model]\nwidths = [64, 100000, 10]\n",
    )
    .unwrap();
    let mut args = BASE.to_vec();
    args.extend_from_slice(&["--config", "big.toml", "--out", "big"]);
    assert_usage_error(&capped(&args), &["model.widths", "needs about"]);
    let record = tiny_run(tmp.path(), "run");
    edit_record(&record, |v| {
        v["config"]["model"]["widths"] = serde_json::json!([64, 100000, 10])
    });
    assert_usage_error(
        &capped(&["eval", "run", "--threads", "1"]),
        &["model.widths", "needs about"],
    );
    assert_usage_error(
        &train_with(tmp.path(), &["--threads", "100000", "--out", "t"]),
        &["threads", "100000", "1024"],
    );
    assert_usage_error(
        &train_with(tmp.path(), &["--epochs", "1000000000", "--out", "t"]),
        &["train.epochs", "1000000000"],
    );
    no_run(tmp.path(), "t");
}

/// Waits (at most a minute) until `found` says yes.
fn wait_for(mut found: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !found() {
        assert!(start.elapsed().as_secs() < 60, "timed out");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

// Regressions: a second `train` on the same --out trained in full and only then failed
// ("Directory not empty"), a killed run's staging directory stayed forever, and two `tune`
// commands on one study wrote the same worker logs.
#[test]
fn a_second_command_on_the_same_out_is_refused_at_once_and_leftovers_go() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut first, staging) = long_train(tmp.path(), "busy");
    let second = train_with(tmp.path(), &["--out", "busy"]);
    assert_usage_error(&second, &["busy", "another droplab", &first.id().to_string()]);
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(
        tmp.path().join(&staging).is_dir(),
        "the killed run left its staging directory"
    );
    // (The killed run also left its last epoch's checkpoint on purpose, for --resume:
    // tests/resume.rs. Removed here, the next command starts over.)
    let _ = std::fs::remove_file(tmp.path().join(".busy.checkpoint.safetensors"));
    let third = train_with(tmp.path(), &["--out", "busy"]);
    assert!(third.status.success(), "{}", stderr(&third));
    assert!(
        !tmp.path().join(&staging).exists(),
        "the next command removed the leftover"
    );
    assert!(tmp.path().join("busy/record.json").is_file());
}

#[test]
fn a_second_tune_on_the_same_study_is_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let tune = [
        "tune",
        "--dataset",
        "digits",
        "--model",
        "mlp:64-32-10",
        "--space",
        "lr=uniform(0.01,0.1)",
        "--trials",
        "1",
        "--epochs",
        "1",
        "--folds",
        "2",
        "--threads",
        "1",
        "--quiet",
        "--out",
        "st",
    ];
    // A running `droplab tune` holds this lock for as long as it runs.
    std::fs::create_dir(tmp.path().join("st")).unwrap();
    let held = std::fs::File::create(tmp.path().join("st/.tune.lock")).unwrap();
    held.lock().unwrap();
    assert_usage_error(&droplab(tmp.path(), &tune), &["st", "another `droplab tune`"]);
    assert!(!tmp.path().join("st/workers").exists(), "no worker was started");
    drop(held);
    let o = droplab(tmp.path(), &tune);
    assert!(o.status.success(), "{}", stderr(&o));
}

// Regression: SIGINT and SIGTERM (exit 130 / 143) left the staging directory behind.
#[test]
fn an_interrupted_train_leaves_nothing_behind() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap();
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let (mut child, staging) = long_train(tmp.path(), "run");
        // SAFETY: `kill` with the id of a child this test started and has not reaped.
        let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        assert_eq!(sent, 0);
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(code),
            "{signal}: {status:?} (signal {:?})",
            status.signal()
        );
        assert!(!staging.exists(), "{signal} left {}", staging.display());
        no_run(tmp.path(), "run");
        // What it keeps on purpose: the checkpoint of its last epoch, for --resume
        // (tests/resume.rs); removed here to start the next run over.
        let _ = std::fs::remove_file(tmp.path().join(".run.checkpoint.safetensors"));
    }
}
