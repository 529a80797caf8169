//! `droplab predict`: new, unlabeled examples in, one prediction per row out, preprocessed as
//! the run's training data were (the digits' division by 16, IDX pixels by 255, the fitted
//! scaler). The reference is `eval --predictions`, which reads the same examples through the
//! dataset loader instead of the predict path.

mod common;

use std::path::Path;

use common::*;

/// Rows of a predictions CSV as numbers (header dropped).
fn rows(text: &str) -> Vec<Vec<f64>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect()
}

/// `eval --split SPLIT --predictions` of `run`: the label column dropped.
fn eval_probs(tmp: &Path, run: &str, split: &str) -> Vec<Vec<f64>> {
    let o = droplab(tmp, &["eval", run, "--split", split, "--predictions", "e.csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(tmp.join("e.csv")).unwrap();
    rows(&text).into_iter().map(|r| r[1..].to_vec()).collect()
}

fn assert_close(predicted: &[Vec<f64>], reference: &[Vec<f64>]) {
    assert_eq!(predicted.len(), reference.len());
    for (i, (p, r)) in predicted.iter().zip(reference).enumerate() {
        // predicted class, then the probabilities; both written with six decimals.
        let best = (0..r.len()).fold(0, |b, j| if r[j] > r[b] { j } else { b });
        assert_eq!(p[0] as usize, best, "row {i}");
        for (a, b) in p[1..].iter().zip(r) {
            assert!((a - b).abs() <= 2e-6, "row {i}: {a} vs {b}");
        }
    }
}

#[test]
fn raw_digits_rows_get_the_runs_division_and_scaler() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "digits",
            "--model",
            "mlp:64-32-10",
            "--dropout",
            "0.2,0.5",
            "--epochs",
            "3",
            "--scaling",
            "standardize",
            "--threads",
            "1",
            "--quiet",
            "--out",
            "run",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The digits as their source holds them: pixel counts 0..16, no label, with a header.
    let d = droplab::data::digits::load().unwrap();
    let mut csv = (0..64).map(|j| format!("px{j}")).collect::<Vec<_>>().join(",");
    csv.push('\n');
    for i in 0..d.len() {
        let row: Vec<String> =
            d.x.row(i)
                .iter()
                .map(|v| format!("{}", (v * 16.0).round()))
                .collect();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    std::fs::write(tmp.path().join("new.csv"), csv).unwrap();
    let o = droplab(
        tmp.path(),
        &["predict", "run", "--input", "new.csv", "--out", "p.csv"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(tmp.path().join("p.csv")).unwrap();
    assert!(text.starts_with("predicted,p0,p1,"), "{text}");
    assert_close(&rows(&text), &eval_probs(tmp.path(), "run", "all"));
    // Standard output without --out: the same table.
    let o = droplab(tmp.path(), &["predict", "run", "--input", "new.csv"]);
    assert_eq!(stdout(&o), text);

    // Monte Carlo: a mean that is a distribution, and a spread per class.
    let o = droplab(
        tmp.path(),
        &[
            "predict",
            "run",
            "--input",
            "new.csv",
            "--mc",
            "20",
            "--threads",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.lines().next().unwrap().ends_with(",sd8,sd9"), "{out}");
    for r in rows(&out).iter().take(50) {
        let sum: f64 = r[1..11].iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "{r:?}");
        assert!(r[11..].iter().all(|&s| s >= 0.0), "{r:?}");
    }
    assert!(
        rows(&out).iter().any(|r| r[11..].iter().any(|&s| s > 0.0)),
        "dropout gives no spread"
    );
}

#[test]
fn idx_images_predict_as_the_test_split_scores() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    std::fs::create_dir_all(&dir).unwrap();
    let write_idx = |name: &str, dims: &[u32], data: &[u8]| {
        let mut b = vec![0u8, 0, 0x08, dims.len() as u8];
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(data);
        std::fs::write(dir.join(name), b).unwrap();
    };
    // 10x10 images whose bright row is the label, with a little texture.
    let images = |n: usize| {
        let mut px = vec![0u8; n * 100];
        for i in 0..n {
            for c in 0..10 {
                px[i * 100 + (i % 10) * 10 + c] = 200 + (c * 5) as u8;
                px[i * 100 + ((i * 7 + c) % 100)] = 30;
            }
        }
        (px, (0..n).map(|i| (i % 10) as u8).collect::<Vec<u8>>())
    };
    let (px, lb) = images(200);
    write_idx("train-images-idx3-ubyte", &[200, 10, 10], &px);
    write_idx("train-labels-idx1-ubyte", &[200], &lb);
    let (px, lb) = images(40);
    write_idx("t10k-images-idx3-ubyte", &[40, 10, 10], &px);
    write_idx("t10k-labels-idx1-ubyte", &[40], &lb);
    std::fs::write(tmp.path().join("c.toml"), "[data]\nval_size = 40\n").unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--config",
            "c.toml",
            "--dataset",
            "idx:idx",
            "--model",
            "cnn:c4k3-p2-f16-10",
            "--conv-dropout",
            "0.1",
            "--epochs",
            "2",
            "--threads",
            "1",
            "--quiet",
            "--out",
            "cnn",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = droplab(
        tmp.path(),
        &["predict", "cnn", "--input", "idx/t10k-images-idx3-ubyte"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_close(&rows(&stdout(&o)), &eval_probs(tmp.path(), "cnn", "test"));
}

#[test]
fn inputs_that_do_not_fit_the_model_are_refused_naming_what_it_takes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = TINY.to_vec();
    args.extend_from_slice(&["--out", "run"]);
    assert!(droplab(tmp.path(), &args).status.success());
    // The label column left in: one value too many, and the way out.
    let labeled: String = (0..3)
        .map(|i| format!("{}\n", vec![i.to_string(); 65].join(",")))
        .collect();
    std::fs::write(tmp.path().join("labeled.csv"), labeled).unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["predict", "run", "--input", "labeled.csv"]),
        &["labeled.csv", "65 values", "takes 64", "drop the label column"],
    );
    std::fs::write(tmp.path().join("text.csv"), "a,b\n1,x\n").unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["predict", "run", "--input", "text.csv"]),
        &["text.csv:2", "not a number"],
    );
    assert_usage_error(
        &droplab(tmp.path(), &["predict", "run", "--input", "missing.csv"]),
        &["missing.csv"],
    );
    let row = format!("{}\n", vec!["1"; 64].join(","));
    std::fs::write(tmp.path().join("one.csv"), row).unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["predict", "run", "--input", "one.csv", "--mc", "0"]),
        &["--mc", "at least 1"],
    );
    assert_usage_error(
        &droplab(tmp.path(), &["predict", "nowhere", "--input", "one.csv"]),
        &["nowhere", "model.safetensors"],
    );
    assert!(!tmp.path().join("p.csv").exists());
}

#[test]
fn a_recurrent_run_predicts_ts_sequences_with_or_without_labels() {
    let tmp = tempfile::tempdir().unwrap();
    // Two dimensions, lengths 3 to 5; class a rises, class b falls.
    let series = |n: usize| -> (String, String) {
        let (mut labeled, mut unlabeled) = (
            "@dimensions 2\n@classLabel true a b\n@data\n".to_string(),
            "@data\n".to_string(),
        );
        for i in 0..n {
            let len = 3 + i % 3;
            let rising = i % 2 == 0;
            let dim = |k: f32| -> String {
                (0..len)
                    .map(|t| {
                        format!(
                            "{}",
                            if rising {
                                t as f32 * k
                            } else {
                                (len - t) as f32 * k
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let body = format!("{}:{}", dim(0.5), dim(0.25));
            labeled.push_str(&format!("{body}:{}\n", if rising { "a" } else { "b" }));
            unlabeled.push_str(&format!("{body}\n"));
        }
        (labeled, unlabeled)
    };
    let (train, _) = series(24);
    let (test, test_unlabeled) = series(9);
    std::fs::write(tmp.path().join("train.ts"), train).unwrap();
    std::fs::write(tmp.path().join("test.ts"), test).unwrap();
    std::fs::write(tmp.path().join("new.ts"), test_unlabeled).unwrap();
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
            "--epochs",
            "3",
            "--threads",
            "1",
            "--quiet",
            "--out",
            "rnn",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let reference = eval_probs(tmp.path(), "rnn", "test");
    for input in ["test.ts", "new.ts"] {
        let o = droplab(tmp.path(), &["predict", "rnn", "--input", input]);
        assert!(o.status.success(), "{input}: {}", stderr(&o));
        assert_close(&rows(&stdout(&o)), &reference);
    }
    // Three dimensions where the model takes two: named with the line.
    std::fs::write(tmp.path().join("bad.ts"), "@data\n1,2:3,4:5,6:7,8\n").unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["predict", "rnn", "--input", "bad.ts"]),
        &["bad.ts:2", "4 ':'-separated parts", "2 dimensions"],
    );
}
