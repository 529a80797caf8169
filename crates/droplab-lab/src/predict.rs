//! Predictions of a trained run on new, unlabeled data, with the run's own preprocessing.
//!
//! New data comes as the training data's files hold it: a CSV of raw feature values (every
//! column a feature; a header line is detected), an IDX image file, or for a recurrent run a
//! `.ts` file of sequences (with or without a class label after the last dimension). The run's
//! preprocessing is applied as in training: first the division its dataset's reader makes
//! ([`input_divisor`]: 16 for the digits' pixel counts, 255 for IDX pixels, 1 otherwise),
//! then the scaler fitted on its training split. Both are written into every run
//! (`record.json`'s `input_divisor` and `scaler`, the `preprocessing` entry of
//! `model.safetensors`' metadata) for other clients to apply.

use std::path::Path;

use droplab::Sequential;
use droplab::data::Dataset;
use droplab::nn::{Mode, Targets};
use droplab::tensor::{Tensor, Threads};
use droplab::train::forward_passes;
use serde::Serialize;

use crate::data::Scaler;
use crate::error::{Error, Result};
use crate::record::RunRecord;

/// The division a dataset's reader applies to its raw values: the digits' pixel counts by
/// 16, IDX images (MNIST, Fashion-MNIST, `idx:DIR`) by 255, anything else by 1.
pub fn input_divisor(dataset: &str) -> f32 {
    match dataset {
        "digits" => 16.0,
        "mnist" | "fashion-mnist" => 255.0,
        d if d.starts_with("idx:") => 255.0,
        _ => 1.0,
    }
}

/// The preprocessing a run applies to raw inputs, as written into its weights' metadata.
#[derive(Debug, Serialize)]
pub struct Preprocessing<'a> {
    /// Raw values are divided by this first.
    pub divide_by: f32,
    /// Then scaled by the scaler fitted on the training split.
    pub scaler: &'a Scaler,
}

/// Reads new inputs for the model of `record` from `path` (an IDX file by its magic number,
/// else CSV) and preprocesses them as its training data were. The feature count is checked
/// against the model's input.
pub fn read_input(path: &Path, record: &RunRecord) -> Result<Dataset> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::usage(format!("--input {name}: {e}")))?;
    if record.config.model.is_rnn() {
        return read_sequences(&name, bytes, record);
    }
    let is_idx = bytes.len() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08;
    let raw = if is_idx {
        let a = droplab::data::idx::parse_idx(&name, &bytes)?;
        let rows = a.dims.first().copied().unwrap_or(0);
        let x: Vec<f32> = a.data.iter().map(|&b| b as f32).collect();
        Tensor::from_vec(&[rows, x.len() / rows.max(1)], x)?
    } else {
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::usage(format!(
                "--input {name}: neither an IDX file nor UTF-8 CSV text; give the new examples as CSV (one row each) or IDX images"
            ))
        })?;
        droplab::data::csv::parse_features(&name, &text, b',')?.0
    };
    let shape = record.config.model.input_shape();
    let wanted: usize = shape.iter().product();
    let (rows, got) = (raw.rows(), raw.len() / raw.rows().max(1));
    if got != wanted {
        let hint = if got == wanted + 1 {
            " (one more: drop the label column; `droplab eval` scores labeled data)"
        } else {
            ""
        };
        return Err(Error::usage(format!(
            "--input {name}: {got} values per example, the run's model takes {wanted} (shape {shape:?}, as in {}){hint}",
            record.data.dataset
        )));
    }
    let divisor = input_divisor(&record.data.dataset);
    let mut x = raw.data().to_vec();
    if divisor != 1.0 {
        x.iter_mut().for_each(|v| *v /= divisor);
    }
    let mut full = vec![rows];
    full.extend_from_slice(&shape);
    let x = Tensor::from_vec(&full, x)?;
    let y = Targets::Classes(vec![0; rows]);
    let mut d = Dataset::new(x, y, record.data.classes.max(1))?;
    record.scaler.apply(&mut d)?;
    Ok(d)
}

/// Sequences for a recurrent run from `.ts` text: each series' dimensions separated by `:`,
/// the class label after them optional (ignored when present). Sequences are used as given
/// (no division, no scaler), as in training.
fn read_sequences(name: &str, bytes: Vec<u8>, record: &RunRecord) -> Result<Dataset> {
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::usage(format!(
            "--input {name}: not UTF-8 text; a recurrent run predicts .ts sequences"
        ))
    })?;
    let shape = record.config.model.input_shape();
    let dims = shape.get(1).copied().unwrap_or(1);
    // Every series gets the same placeholder label, so that the reader takes it as labeled.
    let mut in_data = false;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if !in_data || t.is_empty() || t.starts_with('#') {
            in_data |= t.eq_ignore_ascii_case("@data");
            lines.push(line.to_string());
            continue;
        }
        let parts: Vec<&str> = t.split(':').collect();
        let values = match parts.len() {
            n if n == dims => &parts[..],
            n if n == dims + 1 => &parts[..dims],
            n => {
                return Err(Error::usage(format!(
                    "--input {name}:{}: {n} ':'-separated parts, the run's model takes {dims} dimensions per step (and an optional label after them)",
                    i + 1
                )));
            }
        };
        lines.push(format!("{}:?", values.join(":")));
    }
    if !in_data {
        return Err(Error::usage(format!(
            "--input {name}: no @data line; a recurrent run predicts .ts sequences (header lines, @data, one series per line)"
        )));
    }
    let (d, _) = droplab::data::ts::parse(name, &lines.join("\n"), Some(&["?".to_string()]))?;
    Ok(d)
}

/// One example's prediction: class probabilities (or regression outputs), averaged over the
/// passes, and their standard deviation over the passes (Monte Carlo only).
#[derive(Clone, Debug, PartialEq)]
pub struct Predicted {
    /// Mean output of each class (probabilities) or target.
    pub mean: Vec<f32>,
    /// Standard deviation of each over the Monte Carlo passes (empty for weight scaling).
    pub sd: Vec<f32>,
}

/// Predicts every example of `data` by weight scaling (`mc = None`) or as the mean and
/// spread of `mc` Monte Carlo dropout passes. Classification outputs are softmax
/// probabilities, regression outputs the predicted targets.
pub fn predict(
    model: &mut Sequential,
    data: &Dataset,
    classification: bool,
    mc: Option<usize>,
    threads: &Threads,
) -> Result<Vec<Predicted>> {
    let (mode, passes) = match mc {
        Some(0) => return Err(Error::usage("--mc: the number of samples must be at least 1")),
        Some(n) => (Mode::MonteCarlo, n),
        None => (Mode::Eval, 1),
    };
    let n = data.len();
    let k: usize = model.output_shape().iter().product();
    let mut sum = vec![0f64; n * k];
    let mut sq = vec![0f64; n * k];
    forward_passes(model, data, mode, passes, 500, threads, &mut |_, rows, out, _| {
        for (r, &i) in rows.iter().enumerate() {
            let o = out.row(r);
            let p: Vec<f64> = if classification {
                softmax(o)
            } else {
                o.iter().map(|&v| v as f64).collect()
            };
            for (j, v) in p.into_iter().enumerate() {
                sum[i * k + j] += v;
                sq[i * k + j] += v * v;
            }
        }
    })?;
    let t = passes as f64;
    Ok((0..n)
        .map(|i| {
            let mean: Vec<f32> = (0..k).map(|j| (sum[i * k + j] / t) as f32).collect();
            let sd = if mc.is_some() {
                (0..k)
                    .map(|j| {
                        let m = sum[i * k + j] / t;
                        ((sq[i * k + j] / t - m * m).max(0.0) * t / (t - 1.0).max(1.0)).sqrt() as f32
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Predicted { mean, sd }
        })
        .collect())
}

/// Softmax of one row of logits, in f64.
fn softmax(logits: &[f32]) -> Vec<f64> {
    let m = logits.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let e: Vec<f64> = logits.iter().map(|&v| (v as f64 - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}
