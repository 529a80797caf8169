//! `droplab predict RUN_DIR --input FILE`: a saved run's predictions on new, unlabeled data,
//! one CSV row per example.

use std::fmt::Write as _;

use droplab::tensor::Threads;
use droplab_lab::predict::{Predicted, predict, read_input};
use droplab_lab::run::load_model;

use crate::cli::PredictArgs;
use crate::error::{CliError, CliResult};
use crate::render::compact;

/// `droplab predict`.
pub fn run(args: &PredictArgs) -> CliResult {
    if args.no_verify {
        eprintln!(
            "warning: --no-verify: {}'s weights are not checked against its record",
            args.run_dir.display()
        );
    }
    let (record, mut model) = load_model(&args.run_dir, !args.no_verify)?;
    let data = read_input(&args.input, &record)?;
    let threads = Threads::new(args.threads.filter(|&t| t > 0))?;
    let classification = record.data.classes > 0;
    let rows = predict(&mut model, &data, classification, args.mc, &threads)?;
    let text = table(&rows, classification);
    match &args.out {
        None => print!("{text}"),
        Some(path) => {
            droplab_lab::staging::write_atomic(path, text.as_bytes())
                .map_err(|e| CliError::usage(format!("--out {}: {e}", path.display())))?;
        }
    }
    Ok(())
}

/// The CSV: `predicted,p0,...` (and `sd0,...` under Monte Carlo) for classification,
/// `prediction` (and `sd`) for regression.
fn table(rows: &[Predicted], classification: bool) -> String {
    let k = rows.first().map_or(0, |r| r.mean.len());
    let mc = rows.first().is_some_and(|r| !r.sd.is_empty());
    let mut head: Vec<String> = Vec::new();
    if classification {
        head.push("predicted".into());
        head.extend((0..k).map(|j| format!("p{j}")));
        if mc {
            head.extend((0..k).map(|j| format!("sd{j}")));
        }
    } else {
        let name = |base: &str, j: usize| {
            if k == 1 {
                base.to_string()
            } else {
                format!("{base}{j}")
            }
        };
        head.extend((0..k).map(|j| name("prediction", j)));
        if mc {
            head.extend((0..k).map(|j| name("sd", j)));
        }
    }
    let mut text = head.join(",");
    text.push('\n');
    for r in rows {
        let mut cells: Vec<String> = Vec::new();
        if classification {
            let best = (0..k).fold(0, |b, j| if r.mean[j] > r.mean[b] { j } else { b });
            cells.push(best.to_string());
        }
        cells.extend(r.mean.iter().chain(&r.sd).map(|&v| compact(v)));
        let _ = writeln!(text, "{}", cells.join(","));
    }
    text
}
