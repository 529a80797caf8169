//! Regression from a CSV file: `--task regression` trains real-valued targets with squared
//! error and records RMSE and R²; integer targets that look like quantities get a warning
//! that names the choice.

mod common;

use std::path::Path;

use common::*;

/// A CSV of 300 rows: four features and an integer target 25..346 (a quantity, like
/// scikit-learn's diabetes progression), from a fixed linear-congruential stream.
fn write_data(dir: &Path) -> Vec<(Vec<f64>, f64)> {
    let mut state: u64 = 12345;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut rows = Vec::new();
    let (mut csv, mut features) = ("a,b,c,d,target\n".to_string(), "a,b,c,d\n".to_string());
    for _ in 0..300 {
        let x: Vec<f64> = (0..4).map(|_| (4.0 * uniform() * 1e4).round() / 1e4).collect();
        let y = (150.0 + 60.0 * x[0] - 40.0 * x[1] + 20.0 * x[2] * x[3] + 10.0 * uniform())
            .round()
            .clamp(25.0, 346.0);
        let cells: Vec<String> = x.iter().map(|v| v.to_string()).collect();
        csv.push_str(&format!("{},{y}\n", cells.join(",")));
        features.push_str(&format!("{}\n", cells.join(",")));
        rows.push((x, y));
    }
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    std::fs::write(dir.join("x.csv"), features).unwrap();
    rows
}

fn train(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut a = vec![
        "train",
        "--dataset",
        "csv:d.csv",
        "--epochs",
        "40",
        "--threads",
        "1",
    ];
    a.extend_from_slice(extra);
    droplab(dir, &a)
}

#[test]
fn integer_quantities_warn_and_task_regression_fits_them() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = write_data(tmp.path());
    // Auto: classes, with a warning that names the choice (on stderr and in the record).
    let o = train(tmp.path(), &["--epochs", "1", "--out", "auto"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("--task regression"), "{}", stderr(&o));
    let rec = json(&tmp.path().join("auto/record.json"));
    assert!(
        rec["warnings"][0]
            .as_str()
            .unwrap()
            .contains("classes (integers)")
    );
    // Asked for classification: no warning.
    let o = train(
        tmp.path(),
        &["--epochs", "1", "--task", "classification", "--out", "cls"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("--task regression"), "{}", stderr(&o));

    let o = train(
        tmp.path(),
        &[
            "--task",
            "regression",
            "--model",
            "mlp:4-64-64-1",
            "--dropout",
            "0,0.1",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--scaling",
            "standardize",
            "--out",
            "reg",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("RMSE") && stdout(&o).contains("R²"),
        "{}",
        stdout(&o)
    );
    let rec = json(&tmp.path().join("reg/record.json"));
    let test = &rec["test"];
    let (mse, rmse, r2) = (
        test["loss"].as_f64().unwrap(),
        test["rmse"].as_f64().unwrap(),
        test["r2"].as_f64().unwrap(),
    );
    // (The loss sums f32 per-example terms, R² and RMSE are taken in f64.)
    assert!((rmse - mse.sqrt()).abs() < 1e-5 * rmse, "{test}");
    assert!(r2 > 0.5, "a linear signal with small noise is learned: {test}");
    assert_eq!(rec["data"]["classes"], 0);
    let config = std::fs::read_to_string(tmp.path().join("reg/config.toml")).unwrap();
    assert!(
        config.contains("task = \"regression\"") && config.contains("kind = \"mse\""),
        "{config}"
    );

    // R² over every row, from `predict`'s outputs and the targets (the formula written here),
    // against `eval --split all`.
    let o = droplab(tmp.path(), &["predict", "reg", "--input", "x.csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("prediction\n"), "{out}");
    let pred: Vec<f64> = out.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    assert_eq!(pred.len(), rows.len());
    let mean = rows.iter().map(|r| r.1).sum::<f64>() / rows.len() as f64;
    let sse: f64 = rows.iter().zip(&pred).map(|(r, p)| (r.1 - p).powi(2)).sum();
    let sst: f64 = rows.iter().map(|r| (r.1 - mean).powi(2)).sum();
    let expected = 1.0 - sse / sst;
    let o = droplab(tmp.path(), &["eval", "reg", "--split", "all", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let got = j["r2"].as_f64().unwrap();
    assert!(
        (got - expected).abs() < 1e-6,
        "eval R² {got}, from predict {expected}"
    );
    let rmse_all = (sse / rows.len() as f64).sqrt();
    assert!(
        (j["rmse"].as_f64().unwrap() - rmse_all).abs() < 1e-4,
        "{j} vs {rmse_all}"
    );

    // The run's report page names both.
    let o = droplab(tmp.path(), &["report", "reg", "--out", "page.html", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(tmp.path().join("page.html")).unwrap();
    assert!(page.contains("test RMSE / R²"), "no RMSE in the report");

    // Monte Carlo: a mean and a spread per row.
    let o = droplab(tmp.path(), &["predict", "reg", "--input", "x.csv", "--mc", "20"]);
    assert!(stdout(&o).starts_with("prediction,sd\n"), "{}", stdout(&o));
}

#[test]
fn a_task_the_data_cannot_have_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    write_data(tmp.path());
    assert_usage_error(
        &droplab(
            tmp.path(),
            &[
                "train",
                "--dataset",
                "digits",
                "--task",
                "regression",
                "--out",
                "r",
            ],
        ),
        &["data.task = regression", "digits", "class labels"],
    );
    assert_usage_error(
        &train(tmp.path(), &["--task", "ordinal", "--out", "r"]),
        &["--task ordinal", "valid"],
    );
    // Fractional targets trained as classes: the error says how to train a regression.
    std::fs::write(tmp.path().join("f.csv"), "1,2,0.5\n3,4,1.5\n5,6,2.5\n").unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["train", "--dataset", "csv:f.csv", "--out", "r"]),
        &["f.csv", "0.5", "--task regression"],
    );
    assert!(!tmp.path().join("r").exists());
}
