//! Any run, study, paper or analysis directory (and the ones inside it) as one self-contained
//! HTML page: learning curves with the best epoch, the overfitting gap per epoch, the tables,
//! and every plot the directory holds, drawn inline (`droplab report`, and the page `claims`
//! writes).

use std::path::{Path, PathBuf};

use droplab_report::html::{Block, Section, page};
use droplab_report::{Series, gap_svg, learning_curves_svg};
use serde_json::Value;

use crate::error::{CliError, CliResult, io_err};
use droplab_lab::record::RunRecord;

/// How deep below DIR directories are visited (a paper run's seeds, a study's refit run, an
/// analysis next to its run).
const MAX_DEPTH: usize = 4;

/// Files of `dir` with extension `ext`, sorted by name.
fn files(dir: &Path, ext: &str) -> CliResult<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    Ok(v)
}

fn read(path: &Path) -> CliResult<String> {
    std::fs::read_to_string(path).map_err(|e| io_err(path, e))
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

fn fmt(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "-".into()
    }
}

/// A run: its numbers, learning curves, gap and config.
fn run_blocks(dir: &Path) -> CliResult<Vec<Block>> {
    let rec = RunRecord::load(dir)?;
    let classify = rec.data.classes > 0;
    let best = rec
        .history
        .iter()
        .find(|m| m.epoch == rec.best_epoch)
        .or(rec.history.last());
    let mut rows = vec![
        vec!["dataset".into(), rec.data.dataset.clone()],
        vec![
            "examples (train / validation / test)".into(),
            format!("{} / {} / {}", rec.data.train, rec.data.val, rec.data.test),
        ],
        vec!["model".into(), rec.model.join("; ")],
        vec!["parameters".into(), crate::progress::thousands(rec.parameters)],
        vec![
            "epochs run (best)".into(),
            format!(
                "{} ({}){}",
                rec.history.len(),
                rec.best_epoch,
                if rec.stopped_early { ", stopped early" } else { "" }
            ),
        ],
    ];
    if let Some(b) = best {
        if classify {
            rows.push(vec![
                "accuracy at the best epoch (train / validation)".into(),
                format!("{} / {}", fmt(b.train_accuracy, 4), fmt(b.val_accuracy, 4)),
            ]);
            rows.push(vec!["overfitting gap at the best epoch".into(), fmt(b.gap, 4)]);
        }
        rows.push(vec![
            "loss at the best epoch (train / validation)".into(),
            format!("{} / {}", fmt(b.train_loss, 4), fmt(b.val_loss, 4)),
        ]);
    }
    if classify {
        rows.push(vec!["test accuracy".into(), fmt(rec.test.accuracy, 4)]);
    }
    rows.push(vec!["test loss".into(), fmt(rec.test.loss, 4)]);
    if let (Some(rmse), Some(r2)) = (rec.test.rmse, rec.test.r2) {
        rows.push(vec![
            "test RMSE / R²".into(),
            format!("{} / {}", fmt(rmse, 4), fmt(r2, 4)),
        ]);
    }
    rows.push(vec![
        "wall-clock".into(),
        format!("{:.1} s on {} threads", rec.seconds, rec.threads),
    ]);
    if let Some(d) = &rec.divergence {
        rows.push(vec!["diverged".into(), d.clone()]);
    }
    let mut blocks = vec![Block::Table(vec!["".into(), "".into()], rows)];
    for w in &rec.warnings {
        blocks.push(Block::Paragraph(format!("Warning: {w}")));
    }
    if !rec.history.is_empty() {
        let name = name_of(dir);
        let series = [Series {
            name: &name,
            history: &rec.history,
            best_epoch: rec.best_epoch,
        }];
        let plot = |r: Result<String, droplab_report::ReportError>| {
            r.map_err(|e| CliError::runtime(format!("{}: {e}", dir.display())))
        };
        blocks.push(Block::Svg {
            caption:
                "Learning curves: train dashed, validation solid; the filled circle marks the best epoch."
                    .into(),
            svg: plot(learning_curves_svg(&format!("{name}: learning curves"), &series))?,
        });
        if classify {
            blocks.push(Block::Svg {
                caption: "The overfitting gap: train accuracy minus validation accuracy, per epoch.".into(),
                svg: plot(gap_svg(&format!("{name}: overfitting gap"), &series))?,
            });
        }
    }
    if dir.join("config.toml").is_file() {
        blocks.push(Block::Details {
            summary: "config.toml (reproduces the run with --config)".into(),
            text: read(&dir.join("config.toml"))?,
        });
    }
    Ok(blocks)
}

/// The runs directly inside `dir` side by side: a table of their numbers and their learning
/// curves overlaid (empty when it holds fewer than two runs).
fn comparison_blocks(dir: &Path, runs: &[PathBuf]) -> CliResult<Vec<Block>> {
    let mut recs = Vec::new();
    for r in runs {
        recs.push((name_of(r), RunRecord::load(r)?));
    }
    if recs.len() < 2 {
        return Ok(Vec::new());
    }
    let headers: Vec<String> = [
        "run",
        "dataset",
        "model",
        "parameters",
        "epochs (best)",
        "val accuracy at best",
        "gap at best",
        "test accuracy",
        "test loss",
        "test RMSE / R²",
        "seconds",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    let rows: Vec<Vec<String>> = recs
        .iter()
        .map(|(name, r)| {
            let best = r.history.iter().find(|m| m.epoch == r.best_epoch);
            let classify = r.data.classes > 0;
            vec![
                name.clone(),
                r.data.dataset.clone(),
                r.config.model.model_string(),
                crate::progress::thousands(r.parameters),
                format!("{} ({})", r.history.len(), r.best_epoch),
                best.filter(|_| classify)
                    .map_or("-".into(), |b| fmt(b.val_accuracy, 4)),
                best.filter(|_| classify).map_or("-".into(), |b| fmt(b.gap, 4)),
                if classify {
                    fmt(r.test.accuracy, 4)
                } else {
                    "-".into()
                },
                fmt(r.test.loss, 4),
                match (r.test.rmse, r.test.r2) {
                    (Some(e), Some(r2)) => format!("{} / {}", fmt(e, 4), fmt(r2, 4)),
                    _ => "-".into(),
                },
                format!("{:.1}", r.seconds),
            ]
        })
        .collect();
    let mut blocks = vec![
        Block::Paragraph(format!(
            "{} runs compared (each has its own section below).",
            recs.len()
        )),
        Block::Table(headers, rows),
    ];
    let series: Vec<Series> = recs
        .iter()
        .filter(|(_, r)| !r.history.is_empty())
        .map(|(name, r)| Series {
            name,
            history: &r.history,
            best_epoch: r.best_epoch,
        })
        .collect();
    // Up to eight runs overlaid stay readable; more get the table only.
    if (2..=8).contains(&series.len()) {
        let svg = learning_curves_svg(&format!("{}: the runs' learning curves", name_of(dir)), &series)
            .map_err(|e| CliError::runtime(format!("{}: {e}", dir.display())))?;
        blocks.push(Block::Svg {
            caption: "Learning curves of every run: train dashed, validation solid; the filled circles mark the best epochs."
                .into(),
            svg,
        });
    }
    Ok(blocks)
}

/// A value of `study.json` as short text.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        // By magnitude, as the terminal's leaderboard: 1e-6 is 1.00e-6, not 0.0000.
        Value::Number(_) => droplab_tune::space::show(v),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", show(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(", "),
        Value::Bool(b) => b.to_string(),
    }
}

/// The sampler with only its own settings: points per range for a grid, random trials before
/// modelling for TPE and GP, none for random search.
fn sampler_text(sampler: &Value) -> String {
    let kind = show(&sampler["kind"]);
    match kind.as_str() {
        "grid" => format!("grid ({} points per real range)", show(&sampler["grid_points"])),
        "tpe" | "gp" => format!("{kind} ({} random trials first)", show(&sampler["startup"])),
        _ => kind,
    }
}

/// A study: its settings, the counts and the ten best trials.
fn study_blocks(dir: &Path) -> CliResult<Vec<Block>> {
    let path = dir.join("study.json");
    let v: Value = serde_json::from_str(&read(&path)?)
        .map_err(|e| CliError::usage(format!("{}: not a study file: {e}", path.display())))?;
    let spec = &v["spec"];
    let mut blocks = vec![Block::Table(
        vec!["".into(), "".into()],
        vec![
            vec!["study".into(), show(&v["name"])],
            vec!["sampler".into(), sampler_text(&spec["sampler"])],
            vec!["folds".into(), show(&spec["folds"])],
            vec![
                format!(
                    "parameter importance (main-effect share of the score's variance, {} done trials)",
                    show(&v["importance_trials"])
                ),
                v["importance"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|i| format!("{} {}", show(&i["path"]), show(&i["share"])))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|| "-".into()),
            ],
            vec![
                "trials done / pruned / failed".into(),
                format!(
                    "{} / {} / {}",
                    show(&v["done"]),
                    show(&v["pruned"]),
                    show(&v["failed"])
                ),
            ],
            vec![
                "best".into(),
                match &v["best"] {
                    Value::Null => "none finished every fold".into(),
                    b => format!(
                        "trial {}: {} (CV score {} ± {})",
                        show(&b["number"]),
                        show(&b["params"]),
                        show(&b["score"]),
                        show(&b["score_std"])
                    ),
                },
            ],
        ],
    )];
    let mut trials: Vec<&Value> = v["trials"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    trials.sort_by(|a, b| {
        let s = |t: &Value| t["score"].as_f64().unwrap_or(f64::NEG_INFINITY);
        s(b).total_cmp(&s(a))
    });
    let rows: Vec<Vec<String>> = trials
        .iter()
        .take(10)
        .map(|t| {
            vec![
                show(&t["number"]),
                show(&t["state"]),
                show(&t["params"]),
                format!("{} ± {}", show(&t["score"]), show(&t["score_std"])),
                show(&t["train_score"]),
            ]
        })
        .collect();
    if !rows.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "The {} best of {} trials by mean cross-validation score:",
            rows.len(),
            trials.len()
        )));
        blocks.push(Block::Table(
            ["trial", "state", "parameters", "CV score", "train score"]
                .map(String::from)
                .to_vec(),
            rows,
        ));
    }
    Ok(blocks)
}

/// Adds the sections of `dir` and the directories below it.
fn visit(dir: &Path, title: String, depth: usize, sections: &mut Vec<Section>) -> CliResult {
    let mut blocks = Vec::new();
    if dir.join("record.json").is_file() {
        blocks.extend(run_blocks(dir)?);
    } else if dir.join("config.toml").is_file() {
        blocks.push(Block::Details {
            summary: "config.toml".into(),
            text: read(&dir.join("config.toml"))?,
        });
    }
    if dir.join("study.json").is_file() {
        blocks.extend(study_blocks(dir)?);
    }
    let mut svgs = Vec::new();
    for svg in files(dir, "svg")? {
        svgs.push((name_of(&svg), read(&svg)?));
    }
    // A plot a Markdown file shows (`![...](reliability.svg)`) is drawn there, the others after.
    let mut shown = vec![false; svgs.len()];
    for md in files(dir, "md")? {
        let text = read(&md)?;
        let images: Vec<(String, String)> = svgs
            .iter()
            .enumerate()
            .filter(|(_, (name, _))| text.contains(&format!("]({name})")))
            .map(|(i, s)| {
                shown[i] = true;
                s.clone()
            })
            .collect();
        blocks.push(Block::Markdown { text, images });
    }
    for ((caption, svg), shown) in svgs.into_iter().zip(shown) {
        if !shown {
            blocks.push(Block::Svg { caption, svg });
        }
    }
    let level = 2 + depth.min(2);
    let at = sections.len();
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !name_of(p).starts_with('.'))
        .collect();
    subdirs.sort();
    let runs: Vec<PathBuf> = subdirs
        .iter()
        .filter(|d| d.join("record.json").is_file())
        .cloned()
        .collect();
    blocks.extend(comparison_blocks(dir, &runs)?);
    if depth < MAX_DEPTH {
        for sub in subdirs {
            visit(&sub, format!("{title}/{}", name_of(&sub)), depth + 1, sections)?;
        }
    }
    if !blocks.is_empty() {
        sections.insert(at, Section { title, level, blocks });
    }
    Ok(())
}

/// The page of `dir`.
pub fn render(dir: &Path) -> CliResult<String> {
    if !dir.is_dir() {
        return Err(CliError::usage(format!(
            "report: {} is not a directory (give a run, study, paper or analysis directory)",
            dir.display()
        )));
    }
    render_as(dir, &name_of(&dir.canonicalize().map_err(|e| io_err(dir, e))?))
}

/// The page of `dir`, titled `root` (a directory still being written under another name).
pub fn render_as(dir: &Path, root: &str) -> CliResult<String> {
    let root = root.to_string();
    let mut sections = Vec::new();
    visit(dir, root.clone(), 0, &mut sections)?;
    if sections.is_empty() {
        return Err(CliError::usage(format!(
            "report: {} holds nothing to report (no record.json, study.json, *.md or *.svg); give a run, study, paper or analysis directory",
            dir.display()
        )));
    }
    let plots = sections
        .iter()
        .flat_map(|s| &s.blocks)
        .map(|b| match b {
            Block::Svg { .. } => 1,
            Block::Markdown { images, .. } => images.len(),
            _ => 0,
        })
        .sum::<usize>();
    Ok(page(
        &format!("droplab report: {root}"),
        &format!(
            "{} section(s), {plots} plot(s); droplab {}. Everything is in this file: it reads offline.",
            sections.len(),
            env!("CARGO_PKG_VERSION")
        ),
        &sections,
    ))
}
