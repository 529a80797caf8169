//! `droplab bench mlp|cnn|lstm [--json]`: the training core's benchmarks (see bench/ and
//! BENCHMARKS.md).

use crate::cli::BenchArgs;
use crate::error::{CliError, CliResult};

/// `droplab bench`.
pub fn run(args: &BenchArgs) -> CliResult {
    let task = match args.which.as_str() {
        "mlp" => droplab_bench::Task::Mlp,
        "cnn" => droplab_bench::Task::Cnn,
        "lstm" => droplab_bench::Task::Lstm,
        other => {
            return Err(CliError::usage(format!(
                "bench: unknown benchmark '{other}' (valid: mlp, cnn, lstm)"
            )));
        }
    };
    if args.rounds == 0 || args.steps == Some(0) || args.threads == 0 {
        return Err(CliError::usage(
            "bench: --rounds, --steps and --threads must be at least 1",
        ));
    }
    let b = droplab_bench::Bench {
        threads: args.threads,
        rounds: args.rounds,
        train_steps: args.steps.unwrap_or(droplab_bench::Bench::new(task).train_steps),
        ..droplab_bench::Bench::new(task)
    };
    let quiet = args.json;
    let r = droplab_bench::run(&b, |m| {
        if !quiet {
            eprintln!("{m}");
        }
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&r).map_err(|e| CliError::runtime(e.to_string()))?
        );
    } else {
        println!(
            "{}, batch {}, {} threads (medians of {} rounds)",
            task.describe(),
            b.batch,
            r.threads,
            b.rounds
        );
        println!("  training     {:>9.0} samples/s", r.train_samples_per_sec);
        println!(
            "  no dropout   {:>9.0} samples/s",
            r.train_samples_per_sec_no_dropout
        );
        println!(
            "  inference    {:>9.0} samples/s (batch {})",
            r.infer_samples_per_sec, b.infer_batch
        );
        println!(
            "  dropout cost {:>9.1} % of a training step",
            100.0 * r.dropout_overhead
        );
        println!(
            "  {:.1} GFLOP/s of {:.1} measured SGEMM peak ({:.0} %)",
            r.train_gflops,
            r.peak_gflops,
            100.0 * r.fraction_of_peak
        );
    }
    Ok(())
}
