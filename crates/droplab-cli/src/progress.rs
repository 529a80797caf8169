//! Training runs with the command's progress: a bar on a terminal, one line per epoch
//! otherwise, nothing when quiet.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use droplab::train::Progress as FitProgress;
use droplab_lab::config::ValidRun;
use droplab_lab::data::Splits;
use droplab_lab::record::RunRecord;
use droplab_lab::run::{Checkpoints, Event};
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::CliResult;

/// How a run reports progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing.
    Quiet,
    /// A progress bar on a terminal, plain per-epoch lines otherwise.
    Auto,
}

/// [`droplab_lab::run::run_config`] with progress shown as `progress` says.
pub fn run_config(
    cfg: &ValidRun,
    splits: &Splits,
    out: &Path,
    checkpoints: Option<Checkpoints<'_>>,
    progress: Progress,
) -> CliResult<(RunRecord, PathBuf)> {
    let terminal = progress == Progress::Auto && std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let b = ProgressBar::new(1);
        b.set_style(
            // At most 80 columns: epoch, bar, steps, elapsed and remaining time of the epoch,
            // steps per second, then the running loss and accuracy (or the evaluation phase).
            ProgressStyle::with_template(
                "{prefix:>9} [{bar:16}] {pos:>4}/{len:4} {elapsed:>3}<{eta:3} {per_sec:>9} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    });
    let epochs = cfg.train.epochs;
    let mut on_event = |e: Event<'_>| match e {
        Event::Model(layers) => {
            if progress != Progress::Quiet {
                eprintln!("{}", model_summary(layers));
                let r = &cfg.model.regularization;
                let mut on_weights = Vec::new();
                if r.l1 > 0.0 {
                    on_weights.push(format!("L1 {}", r.l1));
                }
                if r.l2 > 0.0 {
                    on_weights.push(format!("L2 {}", r.l2));
                }
                if let Some(m) = r.max_norm {
                    on_weights.push(format!("max-norm {m}"));
                }
                if !on_weights.is_empty() {
                    eprintln!("on every dense layer's weights: {}", on_weights.join(", "));
                }
            }
        }
        Event::Warning(w) => {
            if progress != Progress::Quiet {
                eprintln!("warning: {w}");
            }
        }
        Event::Fit(FitProgress::Step {
            epoch,
            batch,
            batches,
            running,
        }) => {
            if let Some(b) = &bar {
                if batch == 1 {
                    b.reset();
                    b.set_length(batches as u64);
                    b.set_prefix(format!("{epoch}/{epochs}"));
                    b.set_message("");
                }
                b.set_position(batch as u64);
                if batch == batches {
                    // The metrics pass over the training and validation sets comes next.
                    b.set_message("evaluating...");
                } else if batch % 8 == 0 {
                    b.set_message(format!(
                        "loss {:.4} acc {:.4}",
                        running.mean_loss(),
                        running.accuracy()
                    ));
                }
            }
        }
        Event::Resumed(path, epochs) => {
            if progress != Progress::Quiet {
                eprintln!(
                    "resuming after epoch {epochs} of {} from {}",
                    cfg.train.epochs,
                    path.display()
                );
            }
        }
        Event::Fit(FitProgress::Checkpoint(_)) => {}
        Event::Fit(FitProgress::Epoch(m)) => {
            let line = format!(
                "epoch {:>4}  train loss {:.4} acc {:.4} | val loss {:.4} acc {:.4} | gap {:+.4}  ({:.2}s)",
                m.epoch, m.train_loss, m.train_accuracy, m.val_loss, m.val_accuracy, m.gap, m.seconds
            );
            match &bar {
                Some(b) => b.println(line),
                None if progress == Progress::Auto => eprintln!("{line}"),
                None => {}
            }
        }
    };
    let result = droplab_lab::run::run_config(cfg, splits, out, checkpoints, &mut on_event);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    result
}

/// The model summary printed before training: each layer with its output shape and
/// parameters, and the total, numbers with thousands separators.
fn model_summary(layers: &[(String, Vec<usize>, usize)]) -> String {
    let headers = ["layer", "output", "parameters"];
    let mut rows: Vec<Vec<String>> = layers
        .iter()
        .map(|(what, shape, params)| vec![what.clone(), format!("{shape:?}"), thousands(*params)])
        .collect();
    let total: usize = layers.iter().map(|l| l.2).sum();
    rows.push(vec!["total".into(), String::new(), thousands(total)]);
    droplab_report::text_table(&headers, &rows)
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators_and_a_summary_with_a_total() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(693_610), "693,610");
        assert_eq!(thousands(12_345_678), "12,345,678");
        let s = model_summary(&[
            ("dense 64->800 relu".into(), vec![800], 52_000),
            ("dense 800->10".into(), vec![10], 8_010),
        ]);
        assert!(
            s.contains("[800]") && s.contains("52,000") && s.contains("60,010"),
            "{s}"
        );
    }
}
