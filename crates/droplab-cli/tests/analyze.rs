//! `droplab analyze uncertainty` end to end on small digits runs.

mod common;

use std::path::Path;

use common::{droplab, stderr};
use serde_json::Value;

fn train(cwd: &Path, out: &str, dropout: &str) {
    let o = droplab(
        cwd,
        &[
            "train",
            "--dataset",
            "digits",
            "--model",
            "mlp:64-64-10",
            "--dropout",
            dropout,
            "--epochs",
            "10",
            "--optimizer",
            "adam",
            "--lr",
            "0.003",
            "--threads",
            "1",
            "--quiet",
            "--out",
            out,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn uncertainty_of_a_dropout_network() {
    let tmp = tempfile::tempdir().unwrap();
    train(tmp.path(), "run", "0.2,0.5");
    let o = droplab(
        tmp.path(),
        &[
            "analyze",
            "uncertainty",
            "run",
            "--samples",
            "20",
            "--threads",
            "1",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tmp.path().join("run/analysis/uncertainty");
    let j: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("uncertainty.json")).unwrap()).unwrap();
    let n = j["examples"].as_u64().unwrap();
    assert!(n > 300, "the digits test split");
    let scores = j["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 2);
    assert_eq!(scores[0]["method"], "weight scaling");
    assert_eq!(scores[1]["samples"], 20);
    for s in scores {
        let acc = s["accuracy"].as_f64().unwrap();
        assert!(acc > 0.7 && acc <= 1.0, "{s}");
        assert!(s["ece"].as_f64().unwrap() >= 0.0 && s["brier"].as_f64().unwrap() >= 0.0);
    }
    let settling: Vec<u64> = j["settling"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["samples"].as_u64().unwrap())
        .collect();
    assert_eq!(settling, vec![1, 2, 5, 10, 20]);
    let last = j["settling"].as_array().unwrap().last().unwrap();
    assert_eq!(last["mean_abs_diff_from_final"].as_f64().unwrap(), 0.0);
    let first = &j["settling"][0];
    assert!(
        first["mean_abs_diff_from_final"].as_f64().unwrap() > 0.0,
        "one pass differs from the mean"
    );
    let all = &j["uncertainty"]["all"];
    let (h, eh, mi) = (
        all["entropy"].as_f64().unwrap(),
        all["expected_entropy"].as_f64().unwrap(),
        all["mutual_information"].as_f64().unwrap(),
    );
    assert!(
        mi > 0.0 && (h - eh - mi).abs() < 1e-6,
        "H = E[H] + BALD: {h} {eh} {mi}"
    );
    let right = j["uncertainty"]["correct"]["entropy"].as_f64().unwrap();
    let wrong = j["uncertainty"]["wrong"]["entropy"].as_f64().unwrap();
    assert!(
        wrong > right,
        "wrong predictions are less certain: {wrong} vs {right}"
    );
    let counted: u64 = j["reliability"]["mc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, n);
    let svg = std::fs::read_to_string(dir.join("reliability.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("perfect calibration"));
    assert!(
        std::fs::read_to_string(dir.join("uncertainty.md"))
            .unwrap()
            .contains("p_final")
    );
}

#[test]
fn uncertainty_bad_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    common::assert_usage_error(
        &droplab(tmp.path(), &["analyze", "uncertainty", "empty"]),
        &["empty", "no model.safetensors"],
    );
    train(tmp.path(), "plain", "0,0");
    common::assert_usage_error(
        &droplab(
            tmp.path(),
            &["analyze", "uncertainty", "plain", "--samples", "5", "--quiet"],
        ),
        &["plain", "no active dropout"],
    );
    common::assert_usage_error(
        &droplab(tmp.path(), &["analyze", "uncertainty", "plain", "--samples", "0"]),
        &["--samples"],
    );
    assert!(
        !tmp.path()
            .join("plain/analysis/uncertainty/uncertainty.json")
            .exists()
    );
}

#[test]
fn ensemble_of_thinned_networks() {
    let tmp = tempfile::tempdir().unwrap();
    train(tmp.path(), "run", "0.2,0.5");
    let args = [
        "analyze",
        "ensemble",
        "run",
        "--networks",
        "20",
        "--threads",
        "1",
        "--quiet",
    ];
    let o = droplab(tmp.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tmp.path().join("run/analysis/ensemble");
    let text = std::fs::read_to_string(dir.join("ensemble.json")).unwrap();
    let j: Value = serde_json::from_str(&text).unwrap();
    let ks: Vec<u64> = j["by_k"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["k"].as_u64().unwrap())
        .collect();
    assert_eq!(ks, vec![1, 2, 5, 10, 20]);
    let singles = j["single_networks"]["errors"].as_array().unwrap();
    assert_eq!(singles.len(), 20);
    let mean_single = j["single_networks"]["mean_error"].as_f64().unwrap();
    let first = j["by_k"][0]["thinned_arithmetic"].as_f64().unwrap();
    assert!(
        (first - singles[0].as_f64().unwrap()).abs() < 1e-9,
        "k = 1 is the first network"
    );
    let averaged = j["by_k"][4]["thinned_arithmetic"].as_f64().unwrap();
    assert!(
        averaged < mean_single,
        "averaging 20 thinned networks beats one: {averaged} vs {mean_single}"
    );
    let agreement = j["pairwise_agreement"].as_f64().unwrap();
    assert!(agreement > 0.5 && agreement < 1.0, "{agreement}");
    let ws = j["weight_scaling_error"].as_f64().unwrap();
    assert!(ws > 0.0 && ws < 30.0, "{ws}");
    assert!(
        std::fs::read_to_string(dir.join("error_vs_k.svg"))
            .unwrap()
            .contains("weight scaling")
    );
    // The same seed gives the same thinned networks.
    let o = droplab(tmp.path(), &[&args[..], &["--out", "again"]].concat());
    assert!(o.status.success());
    let again: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("again/ensemble.json")).unwrap())
            .unwrap();
    assert_eq!(again["by_k"], j["by_k"]);
    assert!(j["bagged"].is_null(), "no bagging unless asked");
    // 64 input and 64 hidden dropout units: too many masks to enumerate.
    assert!(j["exact_average_error"].is_null());
    assert!(
        j["exact_average_unavailable"]
            .as_str()
            .unwrap()
            .contains("U = 128"),
        "{}",
        j["exact_average_unavailable"]
    );
    // Bagging: two networks without dropout on bootstrap samples.
    let o = droplab(
        tmp.path(),
        &[&args[..], &["--out", "bagged", "--bagged", "2"]].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("bagged/ensemble.json")).unwrap())
            .unwrap();
    assert_eq!(b["bagged"]["networks"], 2);
    assert_eq!(b["bagged"]["dropout"], 0.0);
    let ks: Vec<u64> = b["bagged"]["by_k"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["k"].as_u64().unwrap())
        .collect();
    assert_eq!(ks, vec![1, 2]);
    assert_eq!(b["by_k"][1]["bagged"], b["bagged"]["by_k"][1]["error"]);
}

#[test]
fn exact_average_of_a_small_network() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "digits",
            "--model",
            "mlp:64-8-10",
            "--dropout",
            "0,0.5",
            "--epochs",
            "10",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--threads",
            "1",
            "--quiet",
            "--out",
            "small",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = droplab(
        tmp.path(),
        &[
            "analyze",
            "ensemble",
            "small",
            "--networks",
            "50",
            "--threads",
            "1",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("small/analysis/ensemble/ensemble.json")).unwrap(),
    )
    .unwrap();
    let exact = j["exact_average_error"].as_f64().unwrap();
    let mc50 = j["by_k"][5]["mc_dropout"].as_f64().unwrap();
    assert!((0.0..100.0).contains(&exact));
    assert!(
        (exact - mc50).abs() < 5.0,
        "50 MC passes near the exact average: {mc50} vs {exact}"
    );
}

#[test]
fn ensemble_bad_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    train(tmp.path(), "plain", "0,0");
    common::assert_usage_error(
        &droplab(
            tmp.path(),
            &["analyze", "ensemble", "plain", "--networks", "5", "--quiet"],
        ),
        &["plain", "no active dropout"],
    );
    common::assert_usage_error(
        &droplab(tmp.path(), &["analyze", "ensemble", "plain", "--networks", "1"]),
        &["--networks"],
    );
    common::assert_usage_error(
        &droplab(tmp.path(), &["analyze", "ensemble", "missing"]),
        &["missing", "no model.safetensors"],
    );
}

#[test]
fn coadaptation_with_and_without_dropout() {
    let tmp = tempfile::tempdir().unwrap();
    train(tmp.path(), "dropout", "0.2,0.5");
    train(tmp.path(), "plain", "0,0");
    let o = droplab(
        tmp.path(),
        &[
            "analyze",
            "coadaptation",
            "dropout",
            "--compare",
            "plain",
            "--threads",
            "1",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tmp.path().join("dropout/analysis/coadaptation");
    let j: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("coadaptation.json")).unwrap()).unwrap();
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["name"], "dropout");
    assert_eq!(runs[1]["name"], "plain");
    for r in runs {
        let layers = r["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1, "mlp:64-64-10 has one hidden layer");
        let l = &layers[0];
        assert_eq!(l["units"], 64);
        let sparsity = l["sparsity"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&sparsity));
        let corr = l["mean_abs_correlation"].as_f64().unwrap();
        assert!(corr > 0.0 && corr < 1.0, "{corr}");
        let counted: u64 = l["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[2].as_u64().unwrap())
            .sum();
        assert_eq!(counted % 64, 0, "every (example, unit) activation is binned once");
        assert_eq!(l["unit_means"].as_array().unwrap().len(), 64);
    }
    for f in [
        "activations.svg",
        "features-dropout.svg",
        "features-plain.svg",
        "coadaptation.md",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    // No hidden layer to measure.
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "digits",
            "--model",
            "mlp:64-10",
            "--epochs",
            "1",
            "--quiet",
            "--out",
            "linear",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    common::assert_usage_error(
        &droplab(tmp.path(), &["analyze", "coadaptation", "linear"]),
        &["linear", "no hidden dense layer"],
    );
}

#[test]
fn a_uci_regression_run_gets_the_gaussian_log_likelihood_and_is_refused_by_classifier_analyses() {
    let tmp = tempfile::tempdir().unwrap();
    common::synthetic_uci(&tmp.path().join("data/uci-gal2016/toy"));
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "uci:toy",
            "--scaling",
            "standardize",
            "--model",
            "mlp:3-32-1",
            "--dropout",
            "0.1,0.1",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--epochs",
            "30",
            "--batch-size",
            "16",
            "--threads",
            "1",
            "--out",
            "reg",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(common::stdout(&o).contains("test MSE"), "{}", common::stdout(&o));
    let cfg = std::fs::read_to_string(tmp.path().join("reg/config.toml")).unwrap();
    assert!(
        cfg.contains("kind = \"mse\""),
        "real-valued targets train on squared error: {cfg}"
    );
    let o = droplab(
        tmp.path(),
        &[
            "analyze",
            "uncertainty",
            "reg",
            "--tau",
            "4",
            "--samples",
            "50",
            "--threads",
            "1",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j = common::json(&tmp.path().join("reg/analysis/uncertainty/uncertainty.json"));
    let ll = j["test_log_likelihood"].as_f64().unwrap();
    let rmse = j["rmse_mc"].as_f64().unwrap();
    // y = x0 - 2 x1 + noise spans about 12 units: a fitted network is far below that.
    assert!(rmse.is_finite() && rmse < 3.0, "{rmse}");
    assert!(ll.is_finite() && ll < 0.5 * (4.0f64 / (2.0 * std::f64::consts::PI)).ln() + 1e-9);
    // Without --tau: a clear error naming the flag.
    let o = droplab(tmp.path(), &["analyze", "uncertainty", "reg", "--threads", "1"]);
    common::assert_usage_error(&o, &["--tau"]);
    // A classifier analysis refuses a regression model.
    let o = droplab(tmp.path(), &["analyze", "ensemble", "reg", "--threads", "1"]);
    common::assert_usage_error(&o, &["regression"]);
}
