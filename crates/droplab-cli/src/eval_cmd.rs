//! `droplab eval RUN_DIR`: loss and accuracy of a saved model, by weight scaling (the
//! default) or by Monte Carlo averaging over N dropout samples.

use droplab::nn::{Mode, Targets};
use droplab::tensor::Threads;
use droplab::train::{evaluate, predict_proba};

use crate::cli::EvalArgs;
use crate::error::{CliError, CliResult};
use droplab_lab::run::{LoadedRun, load_run};

/// `droplab eval`.
pub fn run(args: &EvalArgs) -> CliResult {
    let dir = &args.run_dir;
    if args.no_verify {
        eprintln!(
            "warning: --no-verify: {}'s weights are not checked against its record",
            dir.display()
        );
    }
    let LoadedRun {
        record,
        dataset: data_name,
        data,
        mut model,
    } = load_run(
        dir,
        args.dataset.as_deref(),
        args.data_dir.as_deref(),
        &args.split,
        !args.no_verify,
    )?;
    let threads = Threads::new(args.threads.filter(|&t| t > 0))?;
    let (mode, passes, method) = match args.mc {
        Some(0) => return Err(CliError::usage("--mc: the number of samples must be at least 1")),
        Some(n) => (Mode::MonteCarlo, n, format!("monte carlo ({n} samples)")),
        None => (Mode::Eval, 1, "weight scaling".to_string()),
    };
    if data.classes == 0 {
        return regression(args, &data_name, &data, &mut model, mode, &threads);
    }
    // Weight scaling reports the loss and accuracy the way training and the record compute
    // them (the run's loss, from the logits); Monte Carlo the NLL of the averaged
    // probabilities. The probabilities are computed only where they are needed.
    let pred = if mode == Mode::MonteCarlo || args.predictions.is_some() {
        Some(predict_proba(&mut model, &data, mode, passes, 500, &threads)?)
    } else {
        None
    };
    if let (Some(path), Some(p)) = (&args.predictions, &pred) {
        write_predictions(path, &data, &p.probs)?;
    }
    let (loss, accuracy) = match (&pred, mode) {
        (Some(p), Mode::MonteCarlo) => (p.nll, p.accuracy),
        _ => {
            let loss_fn = &record.config.train.loss;
            let m = evaluate(&mut model, &data, loss_fn, 500, &threads, Mode::Eval)?;
            (m.mean_loss(), m.accuracy())
        }
    };
    if args.json {
        let v = serde_json::json!({
            "run": dir.display().to_string(),
            "dataset": data_name,
            "split": args.split,
            "examples": data.len(),
            "method": if args.mc.is_some() { "monte_carlo" } else { "weight_scaling" },
            "samples": passes,
            "loss": loss,
            "accuracy": accuracy,
        });
        println!("{v}");
    } else {
        println!(
            "{} {} ({} examples), {method}: loss {:.4}  accuracy {:.4}",
            data_name,
            args.split,
            data.len(),
            loss,
            accuracy
        );
    }
    Ok(())
}

/// `eval` of a regression: MSE, RMSE and R² of the outputs (weight scaling) or of the mean
/// of the Monte Carlo passes' outputs.
fn regression(
    args: &EvalArgs,
    data_name: &str,
    data: &droplab::data::Dataset,
    model: &mut droplab::Sequential,
    mode: Mode,
    threads: &Threads,
) -> CliResult {
    if args.predictions.is_some() {
        return Err(CliError::usage(
            "--predictions: the run is a regression; `droplab predict RUN --input FILE` writes its predictions",
        ));
    }
    let s = if mode == Mode::MonteCarlo {
        let rows = droplab_lab::predict::predict(model, data, false, args.mc, threads)?;
        let Targets::Values(t) = &data.y else {
            return Err(CliError::runtime("a regression's data holds class labels"));
        };
        let means: Vec<f32> = rows.iter().flat_map(|r| r.mean.iter().copied()).collect();
        let predicted = droplab::Tensor::from_vec(t.shape(), means)?;
        droplab::train::RegressionScores::of(&predicted, t)
    } else {
        droplab::train::regression_scores(model, data, Mode::Eval, 500, threads)?
            .ok_or_else(|| CliError::runtime("a regression's data holds class labels"))?
    };
    if args.json {
        let v = serde_json::json!({
            "run": args.run_dir.display().to_string(),
            "dataset": data_name,
            "split": args.split,
            "examples": data.len(),
            "method": if args.mc.is_some() { "monte_carlo" } else { "weight_scaling" },
            "samples": args.mc.unwrap_or(1),
            "mse": s.mse,
            "rmse": s.rmse,
            "r2": s.r2,
        });
        println!("{v}");
    } else {
        println!(
            "{data_name} {} ({} examples), {}: MSE {:.4}  RMSE {:.4}  R² {:.4}",
            args.split,
            data.len(),
            match args.mc {
                Some(n) => format!("monte carlo ({n} samples)"),
                None => "weight scaling".into(),
            },
            s.mse,
            s.rmse,
            s.r2
        );
    }
    Ok(())
}

/// `label,p0,p1,...` per example, written to a temporary file then renamed.
fn write_predictions(
    path: &std::path::Path,
    data: &droplab::data::Dataset,
    probs: &droplab::Tensor,
) -> CliResult {
    use std::fmt::Write as _;
    let k = probs.cols();
    let mut text = String::from("label");
    for j in 0..k {
        let _ = write!(text, ",p{j}");
    }
    text.push('\n');
    let labels = data.y.classes().unwrap_or(&[]);
    for i in 0..data.len() {
        let _ = write!(text, "{}", labels.get(i).copied().unwrap_or(0));
        for &p in probs.row(i) {
            let _ = write!(text, ",{}", crate::render::compact(p));
        }
        text.push('\n');
    }
    let tmp = path.with_extension("csv.partial");
    std::fs::write(&tmp, text)
        .map_err(|e| CliError::usage(format!("--predictions {}: {e}", path.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| CliError::usage(format!("--predictions {}: {e}", path.display())))
}
