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
    let o = droplab(
        tmp.path(),
        &[
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
            "1",
            "--seeds",
            "2",
            "--threads",
            "1",
            "--out",
            "res",
            "--quiet",
        ],
    );
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
fn paper_run_of_an_unknown_recipe() {
    let tmp = tempfile::tempdir().unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["paper", "run", "hinton2099"]),
        &["hinton2099", "paper list"],
    );
}
