//! `droplab worker`: serves a study until it has no trial left, running
//! [`droplab_lab::objective::CvObjective`] on each fold.

use droplab_lab::objective::CvObjective;
use droplab_tune::{WorkerEvent, WorkerOptions};

use crate::cli::WorkerArgs;
use crate::error::CliResult;

/// `droplab worker`: serves a study until it has no trial left.
pub fn worker(args: &WorkerArgs) -> CliResult {
    let opts = WorkerOptions::with_timing(args.stale_secs, args.heartbeat_secs).map_err(super::tune_err)?;
    let threads = args.threads;
    let quiet = args.quiet;
    let summary = droplab_tune::run_worker(
        &args.store,
        &args.study,
        &opts,
        &mut |spec| Ok(Box::new(CvObjective::new(spec, threads))),
        &mut |e| {
            if quiet {
                return;
            }
            match e {
                WorkerEvent::Started {
                    number,
                    params,
                    resumed_folds,
                } => eprintln!(
                    "trial {number} started: {}{}",
                    super::show_params(params),
                    if *resumed_folds > 0 {
                        format!(" (resuming after {resumed_folds} finished folds)")
                    } else {
                        String::new()
                    }
                ),
                WorkerEvent::Ended {
                    number,
                    state,
                    score,
                    seconds,
                } => eprintln!(
                    "trial {number} {}: score {}  ({seconds:.1}s)",
                    state.name(),
                    score.map(|s| format!("{s:.4}")).unwrap_or_else(|| "-".into())
                ),
                WorkerEvent::Lost { number } => {
                    eprintln!("trial {number}: taken back by the store (this worker was presumed dead); result dropped")
                }
            }
        },
    )
    .map_err(super::tune_err)?;
    if !quiet {
        eprintln!(
            "worker done: {} trials ({} done, {} pruned, {} failed, {} taken back)",
            summary.trials, summary.done, summary.pruned, summary.failed, summary.lost
        );
    }
    Ok(())
}
