//! A small harness for end-to-end tests of the `droplab` binary.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `droplab args...` in `cwd`.
pub fn droplab(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droplab"))
        .args(args)
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the droplab binary runs")
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Asserts a bad-input failure: exit 2, one line on stderr starting with `error:` that
/// contains every `needle`, and no panic or backtrace.
pub fn assert_usage_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2, stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("stack backtrace"),
        "panic: {err}"
    );
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line expected: {err}");
    for n in needles {
        assert!(err.contains(n), "'{n}' missing from: {err}");
    }
}

/// A fast training command on the embedded digits, without model or dropout flags.
pub const BASE: &[&str] = &[
    "train",
    "--dataset",
    "digits",
    "--epochs",
    "1",
    "--threads",
    "1",
    "--quiet",
];

/// A tiny, fast training command on the embedded digits.
pub const TINY: &[&str] = &[
    "train",
    "--dataset",
    "digits",
    "--model",
    "mlp:64-32-10",
    "--dropout",
    "0.2,0.5",
    "--epochs",
    "3",
    "--batch-size",
    "32",
    "--threads",
    "1",
    "--quiet",
];

/// Reads a JSON file.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("valid JSON")
}

/// Writes an IDX file (unsigned bytes) with the given dims.
pub fn write_idx(path: &Path, dims: &[u32], data: &[u8]) {
    let mut b = vec![0u8, 0, 0x08, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    std::fs::write(path, b).expect("writable");
}

/// A UCI set in the layout of Gal & Ghahramani's splits: `y = x0 - 2 x1 + noise`, 60 rows,
/// two splits, a 2 x 2 grid.
pub fn synthetic_uci(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut data = String::new();
    for i in 0..60 {
        let (a, b, c) = ((i % 7) as f32, (i % 5) as f32 * 0.5, (i % 3) as f32);
        let noise = ((i * 37 % 11) as f32 - 5.0) * 0.05;
        data.push_str(&format!("{a} {b} {c} {}\n", a - 2.0 * b + noise));
    }
    let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    w("data.txt", &data);
    w("index_features.txt", "0\n1\n2\n");
    w("index_target.txt", "3\n");
    w("n_splits.txt", "2\n");
    w("dropout_rates.txt", "0.05\n0.1\n");
    w("tau_values.txt", "1.0\n2.0\n");
    for k in 0..2 {
        let test: Vec<usize> = (0..60).filter(|i| i % 6 == k).collect();
        let train: Vec<usize> = (0..60).filter(|i| i % 6 != k).collect();
        let lines = |v: &[usize]| v.iter().map(|i| format!("{i}\n")).collect::<String>();
        w(&format!("index_train_{k}.txt"), &lines(&train));
        w(&format!("index_test_{k}.txt"), &lines(&test));
    }
}
