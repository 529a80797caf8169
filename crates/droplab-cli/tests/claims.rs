//! `droplab claims`: the report of a claim that needs no long training (claim 11 takes a few
//! single-example steps), and bad input. The verdicts' criteria are tested with fabricated
//! numbers in `src/claims/verdict.rs`; the full quick run is recorded, not tested (minutes).

mod common;

use common::*;

#[test]
fn one_claim_writes_its_statement_criterion_numbers_verdict_plot_and_page() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "claims",
            "--quick",
            "--only",
            "11",
            "--seeds",
            "2",
            "--threads",
            "1",
            "--quiet",
            "--out",
            "c",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tmp.path().join("c");
    let md = std::fs::read_to_string(dir.join("claims.md")).unwrap();
    assert!(
        md.contains("The weights of a dropped unit are not updated"),
        "{md}"
    );
    assert!(md.contains("Criterion (fixed before the run)"));
    // Plain SGD never moves a dropped unit; weight decay always does.
    assert!(md.contains("**Verdict: holds in part.**"), "{md}");
    let j = json(&dir.join("claims.json"));
    let rows = j[0]["numbers"].as_array().unwrap();
    assert_eq!(rows[0]["dropped_moved"], 0, "plain SGD");
    assert!(rows[0]["dropped"].as_u64().unwrap() > 0);
    assert_eq!(
        rows[2]["dropped_moved"], rows[2]["dropped"],
        "weight decay moves every one"
    );
    assert!(dir.join("claim-11.svg").is_file());
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<figure><svg") && html.contains("droplab report: c"));
}

#[test]
fn claims_bad_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(tmp.path(), &["claims", "--quick", "--only", "13"]);
    assert_usage_error(&o, &["--only 13", "1 to 12"]);
    let o = droplab(tmp.path(), &["claims", "--quick", "--seeds", "1"]);
    assert_usage_error(&o, &["--seeds"]);
    // The full run needs MNIST: a missing data directory is named before any training.
    let o = droplab(tmp.path(), &["claims", "--data-dir", "nowhere"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nowhere"), "{}", stderr(&o));
    assert!(!tmp.path().join("runs").exists(), "nothing written");
}

/// Claim 6 (the small network without and with dropout) on two seeds, with `cache`'s flags.
fn claim6(dir: &std::path::Path, out: &str, cache: &[&str]) -> std::process::Output {
    let mut args = vec![
        "claims",
        "--quick",
        "--only",
        "6",
        "--seeds",
        "2",
        "--threads",
        "1",
    ];
    args.extend_from_slice(cache);
    args.extend_from_slice(&["--out", out]);
    let o = droplab(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

#[test]
fn a_second_run_takes_its_networks_from_the_cache_and_gives_the_same_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |out: &str| {
        let o = claim6(tmp.path(), out, &["--cache", "cache"]);
        (stderr(&o), json(&tmp.path().join(out).join("claims.json")))
    };
    let (first, a) = run("a");
    // Two networks, two seeds each.
    assert!(
        first.contains("4 networks trained, 0 taken from the cache"),
        "{first}"
    );
    let entries: Vec<_> = std::fs::read_dir(tmp.path().join("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 4, "{entries:?}");
    let (second, b) = run("b");
    assert!(
        second.contains("0 networks trained, 4 taken from the cache"),
        "{second}"
    );
    assert_eq!(a[0]["numbers"], b[0]["numbers"]);
    let md = std::fs::read_to_string(tmp.path().join("b/claims.md")).unwrap();
    assert!(md.contains("taking 4 from the cache"), "{md}");
    // A damaged entry is trained again, not trusted.
    std::fs::write(&entries[0], b"damaged").unwrap();
    let (third, c) = run("c");
    assert!(
        third.contains("1 networks trained, 3 taken from the cache"),
        "{third}"
    );
    assert_eq!(a[0]["numbers"], c[0]["numbers"]);
    // --no-cache keeps nothing.
    claim6(tmp.path(), "d", &["--no-cache", "--quiet"]);
    assert!(!tmp.path().join("runs").exists());
}
