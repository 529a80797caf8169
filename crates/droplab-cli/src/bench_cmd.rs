//! `droplab bench mlp [--json]`: the training core's benchmark (see bench/ and BENCHMARKS.md).

use crate::cli::BenchArgs;
use crate::error::{CliError, CliResult};

/// `droplab bench`.
pub fn run(args: &BenchArgs) -> CliResult {
    if args.which != "mlp" {
        return Err(CliError::usage(format!(
            "bench: unknown benchmark '{}' (valid: mlp)",
            args.which
        )));
    }
    if args.rounds == 0 || args.steps == 0 || args.threads == 0 {
        return Err(CliError::usage(
            "bench: --rounds, --steps and --threads must be at least 1",
        ));
    }
    let b = droplab_bench::MlpBench {
        threads: args.threads,
        rounds: args.rounds,
        train_steps: args.steps,
        ..Default::default()
    };
    let quiet = args.json;
    let r = droplab_bench::run_mlp(&b, |m| {
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
            "MLP 784-1024-1024-10, dropout 0.2/0.5/0.5, batch 128, {} threads (medians of {} rounds)",
            r.threads, b.rounds
        );
        println!("  training     {:>9.0} samples/s", r.train_samples_per_sec);
        println!(
            "  no dropout   {:>9.0} samples/s",
            r.train_samples_per_sec_no_dropout
        );
        println!(
            "  inference    {:>9.0} samples/s (batch 1000)",
            r.infer_samples_per_sec
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
