//! `droplab train`: resolve the config, load the data, train, and write the run directory.

use std::path::PathBuf;

use droplab_lab::checkpoint;
use droplab_lab::config::RunConfig;
use droplab_lab::data as dataset;
use droplab_lab::run::{Checkpoints, fit_widths};
use droplab_lab::staging::Staging;

use crate::cli::TrainArgs;
use crate::error::{CliError, CliResult};
use crate::overrides::{resolve, resolve_text};
use crate::progress::{Progress, run_config};

/// A default run directory name: `runs/<dataset>-s<seed>-<unix time>`.
fn default_out(cfg: &RunConfig) -> PathBuf {
    let name: String = cfg
        .data
        .dataset
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from("runs").join(format!("{name}-s{}-{}", cfg.seed, utc_stamp(secs)))
}

/// `YYYYMMDD-HHMMSS` (UTC) of a Unix time: the civil date from the day count (Howard
/// Hinnant's days-to-civil algorithm).
fn utc_stamp(secs: u64) -> String {
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The config of the interrupted run that `--resume` continues: its checkpoint's, `None`
/// when `--out` has no checkpoint (the run starts from the first epoch). Without `--resume`, a
/// checkpoint for `--out` is refused rather than overwritten: it may hold hours of training.
fn interrupted_config(args: &TrainArgs) -> CliResult<Option<(PathBuf, RunConfig)>> {
    let Some(out) = &args.out else {
        if args.resume {
            return Err(CliError::usage(
                "--resume needs --out DIR: the directory of the run to continue",
            ));
        }
        return Ok(None);
    };
    let path = checkpoint::beside(out, None);
    if !args.resume {
        if path.exists() {
            return Err(CliError::usage(format!(
                "--out {}: an interrupted run left its checkpoint {}; continue it with `droplab train --resume --out {}`, or remove that file to start over",
                out.display(),
                path.display(),
                out.display()
            )));
        }
        return Ok(None);
    }
    match checkpoint::load(&path)? {
        Some(stored) => Ok(Some((path, stored.config))),
        None => {
            if !args.quiet {
                eprintln!(
                    "--resume: no checkpoint for --out {} ({} does not exist); training from the first epoch",
                    out.display(),
                    path.display()
                );
            }
            Ok(None)
        }
    }
}

/// `droplab train`.
pub fn run(args: &TrainArgs) -> CliResult {
    if let Some(out) = &args.out {
        // Another process writing --out is refused first (its checkpoint is its own).
        drop(Staging::new(out, "--out")?);
    }
    let interrupted = interrupted_config(args)?;
    // A resumed run starts from its checkpoint's config; flags given beside --resume apply on
    // top and must leave it unchanged (checked once the widths are fitted).
    let (mut cfg, explicit) = match (&interrupted, &args.config) {
        (Some((path, c)), None) => resolve_text(args, Some((&path.display().to_string(), &c.to_toml())))?,
        _ => resolve(args)?,
    };
    cfg.pin_threads();
    // Checked before any work, and again once the widths are fitted to the data.
    cfg.validate()?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&cfg));
    // Fail on an unusable --out (or one another process is writing) before any work; what an
    // interrupted run left for it goes.
    drop(Staging::new(&out, "--out")?);
    if !args.quiet && cfg.data.dataset != "digits" {
        eprintln!("loading {}...", cfg.data.dataset);
    }
    let splits = dataset::load(&cfg.data, cfg.seed)?;
    fit_widths(&mut cfg, &splits, explicit)?;
    if let Some((path, started)) = &interrupted {
        let diff = cfg.differences(started);
        if let Some((key, now, then)) = diff.first() {
            return Err(CliError::usage(format!(
                "--resume: the interrupted run ({}) has {key} = {then}, the flags give {now}{}; a resumed run keeps its config (drop the flags, or train into another --out)",
                path.display(),
                if diff.len() > 1 {
                    format!(" (and {} more settings differ)", diff.len() - 1)
                } else {
                    String::new()
                }
            )));
        }
    }
    let regression = splits.train.classes == 0;
    let progress = if args.quiet {
        Progress::Quiet
    } else {
        Progress::Auto
    };
    let ckpt = checkpoint::beside(&out, None);
    let checkpoints = Checkpoints {
        path: &ckpt,
        resume: args.resume,
    };
    let (record, dir) = run_config(&cfg.check()?, &splits, &out, Some(checkpoints), progress)?;
    if let Some(msg) = &record.divergence {
        return Err(CliError::runtime(format!(
            "{msg} (record written to {})",
            dir.display()
        )));
    }
    if !args.quiet && regression {
        let best = record.history.get(record.best_epoch.saturating_sub(1));
        println!(
            "test MSE {:.4}  RMSE {:.4}  R² {:.4}  (best epoch {}, val MSE {:.4})",
            record.test.loss,
            record.test.rmse.unwrap_or(record.test.loss.sqrt()),
            record.test.r2.unwrap_or(f64::NAN),
            record.best_epoch,
            best.map(|b| b.val_loss).unwrap_or(f64::NAN)
        );
        println!("run written to {}", dir.display());
    } else if !args.quiet {
        let best = record.history.get(record.best_epoch.saturating_sub(1));
        println!(
            "test accuracy {:.4}  loss {:.4}  (best epoch {}, val accuracy {:.4}, gap {:+.4}){}",
            record.test.accuracy,
            record.test.loss,
            record.best_epoch,
            best.map(|b| b.val_accuracy).unwrap_or(f64::NAN),
            best.map(|b| b.gap).unwrap_or(f64::NAN),
            if record.stopped_early {
                ", stopped early"
            } else {
                ""
            }
        );
        println!("run written to {}", dir.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::utc_stamp;

    #[test]
    fn run_names_carry_a_readable_utc_time() {
        // Known instants: the epoch, 2000-02-29 12:34:56 and 2026-12-05 13:59:41 (UTC).
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_827_696), "20000229-123456");
        assert_eq!(utc_stamp(1_796_479_181), "20261205-135941");
    }
}
