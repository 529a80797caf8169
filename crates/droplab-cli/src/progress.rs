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
            ProgressStyle::with_template("epoch {prefix:>4} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b
    });
    let epochs = cfg.train.epochs;
    let mut on_event = |e: Event<'_>| match e {
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
                }
                b.set_position(batch as u64);
                if batch % 8 == 0 || batch == batches {
                    b.set_message(format!(
                        "running loss {:.4} acc {:.4}",
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
