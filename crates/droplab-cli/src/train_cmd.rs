//! `droplab train`: resolve the config, load the data, train, and write the run directory.

use std::path::PathBuf;

use droplab_lab::config::RunConfig;
use droplab_lab::data as dataset;
use droplab_lab::run::fit_widths;
use droplab_lab::staging::Staging;

use crate::cli::TrainArgs;
use crate::error::{CliError, CliResult};
use crate::overrides::resolve;
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

/// `droplab train`.
pub fn run(args: &TrainArgs) -> CliResult {
    let (mut cfg, explicit) = resolve(args)?;
    cfg.pin_threads();
    // Checked before any work, and again once the widths are fitted to the data.
    cfg.validate()?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&cfg));
    // Fail on an unusable --out (or one another process is writing) before any work; what an
    // interrupted run left for it goes.
    drop(Staging::new(&out, "--out")?);
    let splits = dataset::load(&cfg.data, cfg.seed)?;
    fit_widths(&mut cfg, &splits, explicit)?;
    // Real-valued targets are a regression: squared error, unless the config names a loss
    // (the resolved config.toml records the choice).
    if matches!(splits.train.y, droplab::nn::Targets::Values(_))
        && matches!(cfg.train.loss, droplab::nn::Loss::SoftmaxCrossEntropy { .. })
    {
        cfg.train.loss = droplab::nn::Loss::Mse;
    }
    let regression = splits.train.classes == 0;
    let progress = if args.quiet {
        Progress::Quiet
    } else {
        Progress::Auto
    };
    let (record, dir) = run_config(&cfg.check()?, &splits, &out, progress)?;
    if let Some(msg) = &record.divergence {
        return Err(CliError::runtime(format!(
            "{msg} (record written to {})",
            dir.display()
        )));
    }
    if !args.quiet && regression {
        let best = record.history.get(record.best_epoch.saturating_sub(1));
        println!(
            "test MSE {:.4} (RMSE {:.4})  (best epoch {}, val MSE {:.4})",
            record.test.loss,
            record.test.loss.sqrt(),
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
