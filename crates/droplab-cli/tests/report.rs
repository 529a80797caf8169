//! `droplab report DIR`: a run with its analyses becomes one self-contained HTML page, which a
//! real headless Chromium loads with every plot drawn and no error logged.
//!
//! The browser comes from `DROPLAB_TEST_BROWSER` or `chromium-headless-shell` / `chromium` on
//! the PATH; without one the browser test skips, except under `DROPLAB_REQUIRE_SERVICES=1`
//! (CI installs it in `.ci/services.sh`), where it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn browser() -> Option<PathBuf> {
    if let Ok(b) = std::env::var("DROPLAB_TEST_BROWSER")
        && !b.is_empty()
    {
        return Some(PathBuf::from(b));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium-headless-shell", "chromium"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    assert!(
        std::env::var("DROPLAB_REQUIRE_SERVICES").is_err(),
        "DROPLAB_REQUIRE_SERVICES is set but no headless Chromium was found (.ci/services.sh installs chromium-headless-shell)"
    );
    eprintln!("skipped: no headless Chromium (set DROPLAB_TEST_BROWSER)");
    None
}

/// A dropout run on digits with its uncertainty analysis beside it.
fn run_with_analysis(cwd: &Path) {
    let mut args = TINY.to_vec();
    args.extend(["--out", "run"]);
    let o = droplab(cwd, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = droplab(
        cwd,
        &[
            "analyze",
            "uncertainty",
            "run",
            "--samples",
            "10",
            "--threads",
            "1",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Opens `page` in headless Chromium (when one is found) and checks that all `figures` plots
/// were drawn with a size and content, with no script error and nothing logged.
fn drawn_in_chromium(page: &Path, figures: usize) {
    let Some(chromium) = browser() else { return };
    let out = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("the browser starts");
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {log}", chromium.display());
    assert!(
        dom.contains(&format!("data-plots=\"{figures}/{figures}\"")),
        "every plot drawn with a size and content: {}",
        dom.lines().find(|l| l.contains("<body")).unwrap_or("(no body)")
    );
    assert!(dom.contains("data-errors=\"0\""), "script errors on the page");
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "the page logged: {console:?}");
}

#[test]
fn report_of_a_run_is_one_self_contained_page_that_chromium_draws() {
    let tmp = tempfile::tempdir().unwrap();
    run_with_analysis(tmp.path());
    let o = droplab(tmp.path(), &["report", "run", "--out", "page.html"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(tmp.path().join("page.html")).unwrap();
    // Learning curves and gap from the record, the reliability diagram from the analysis.
    let figures = html.matches("<figure>").count();
    assert_eq!(figures, 3, "learning curves, gap, reliability diagram");
    assert!(html.contains("overfitting gap") && html.contains("test accuracy"));
    assert!(html.contains("reliability.svg") && html.contains("config.toml"));
    // Self-contained: nothing is loaded from anywhere (the SVG namespace is a name, not a fetch).
    for needle in ["src=", "<link", "@import", "url("] {
        assert!(
            !html.contains(needle),
            "the page references an outside resource: {needle}"
        );
    }
    assert!(!tmp.path().join("page.html.partial").exists());

    drawn_in_chromium(&tmp.path().join("page.html"), figures);
}

#[test]
fn report_of_a_paper_directory_nests_its_runs_and_keeps_its_table() {
    let tmp = tempfile::tempdir().unwrap();
    run_with_analysis(tmp.path());
    std::fs::write(
        tmp.path().join("results.md"),
        "# a table\n\n| recipe | error |\n|---|---|\n| x | 1.5 % |\n",
    )
    .unwrap();
    let o = droplab(tmp.path(), &["report", ".", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
    assert!(html.contains("<td>1.5 %</td>"), "the Markdown table is rendered");
    assert!(html.contains("/run</h3>") && html.contains("/run/analysis/uncertainty</h4>"));
}

#[test]
fn report_of_a_directory_without_results_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let o = droplab(tmp.path(), &["report", "empty"]);
    assert_usage_error(&o, &["empty", "nothing to report", "record.json"]);
    assert!(!tmp.path().join("empty/report.html").exists());
    let o = droplab(tmp.path(), &["report", "missing"]);
    assert_usage_error(&o, &["missing", "not a directory"]);
    // A broken record is named, and no page is written.
    std::fs::create_dir(tmp.path().join("broken")).unwrap();
    std::fs::write(tmp.path().join("broken/record.json"), "{").unwrap();
    let o = droplab(tmp.path(), &["report", "broken"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("record.json"), "{}", stderr(&o));
    assert!(!tmp.path().join("broken/report.html").exists());
}

#[test]
fn report_of_several_runs_compares_them_in_one_table_and_one_plot() {
    let tmp = tempfile::tempdir().unwrap();
    for (out, dropout) in [("runs/plain", "0,0"), ("runs/dropout", "0.2,0.5")] {
        let mut args = TINY.to_vec();
        args.extend_from_slice(&["--dropout", dropout, "--out", out]);
        let o = droplab(tmp.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = droplab(tmp.path(), &["report", "runs", "--out", "page.html", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(tmp.path().join("page.html")).unwrap();
    assert!(html.contains("2 runs compared"), "no comparison");
    // One row per run, with its test accuracy as the record gives it.
    for run in ["plain", "dropout"] {
        let rec = json(&tmp.path().join("runs").join(run).join("record.json"));
        let acc = format!("{:.4}", rec["test"]["accuracy"].as_f64().unwrap());
        let row = html
            .split("<tr>")
            .find(|r| r.contains(&format!("<td>{run}</td>")))
            .unwrap_or_default();
        assert!(row.contains(&format!("<td>{acc}</td>")), "{run}: {row}");
    }
    assert!(
        html.contains("Learning curves of every run"),
        "no overlaid curves"
    );
    // The comparison plot, then each run's curves and gap: 1 + 2 * 2 figures, all drawn.
    let figures = html.matches("<figure>").count();
    assert_eq!(figures, 5);
    drawn_in_chromium(&tmp.path().join("page.html"), figures);
}

#[test]
fn the_demo_page_has_its_table_and_every_plot_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "demo",
            "--epochs",
            "2",
            "--seeds",
            "2",
            "--out",
            "demo",
            "--quiet",
            "--threads",
            "2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = droplab(tmp.path(), &["report", "demo", "--out", "page.html", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(tmp.path().join("page.html")).unwrap();
    assert!(
        html.contains("test acc, best epoch") && html.contains("8 runs compared"),
        "table"
    );
    // The demo's mean curves, the 8 runs' curves overlaid, then each run's curves and gap.
    let figures = html.matches("<figure>").count();
    assert_eq!(figures, 2 + 8 * 2);
    drawn_in_chromium(&tmp.path().join("page.html"), figures);
}
