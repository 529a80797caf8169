//! Unit tests of `droplab data fetch`, on made-up datasets where files are involved.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};

use super::import::import;
use super::install::{Staging, install, remove_stale_partials};
use super::tool::{error_line, run_tool};
use super::{DATASETS, SPECS, SUMS, Source, Spec, installed_dir, parse_sums, spec_of};
use crate::error::Error;
use crate::hash::sha256_hex;

#[test]
fn sha256_known_vectors() {
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
        Error::Runtime(m) => assert!(m.contains("droplab-no-such-tool not found"), "{m}"),
        Error::Usage(m) => panic!("expected a runtime error, got usage: {m}"),
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
        Error::Runtime(m) => {
            assert!(
                m.contains("`sh -c") && m.contains("oops (hint)") && m.contains('3'),
                "{m}"
            )
        }
        Error::Usage(m) => panic!("expected a runtime error, got usage: {m}"),
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
        Error::Usage(m) => m,
        Error::Runtime(m) => panic!("expected usage, got runtime: {m}"),
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
        Error::Usage(m) => m,
        Error::Runtime(m) => panic!("expected usage, got runtime: {m}"),
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
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
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
    // The UCI splits are imported only, against their own pins (fetch/uci.rs).
    for name in DATASETS.iter().filter(|n| **n != super::uci::NAME) {
        let spec = spec_of(name).unwrap();
        for (_, sha) in spec.files {
            assert_eq!(sha.len(), 64);
        }
    }
    assert_eq!(SPECS.len() + 1, DATASETS.len());
    assert!(spec_of("cifar").is_none());
}
