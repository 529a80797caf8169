//! Evaluation and prediction: weight scaling (Eval) or Monte Carlo averaging.

use crate::data::Dataset;
use crate::error::Result;
use crate::nn::{Ctx, Loss, LossOutput, Mode, Sequential, Targets};
use crate::tensor::{Tensor, Threads};

/// Loss and accuracy of `model` on `data` in `mode`, in batches of `batch`.
pub fn evaluate(
    model: &mut Sequential,
    data: &Dataset,
    loss: &Loss,
    batch: usize,
    threads: &Threads,
    mode: Mode,
) -> Result<LossOutput> {
    let par = threads.par();
    threads.install(|| {
        let mut total = LossOutput::default();
        let mut xb = Tensor::default();
        let mut lb = Vec::new();
        let idx: Vec<usize> = (0..data.len()).collect();
        for chunk in idx.chunks(batch.max(1)) {
            data.x.gather_rows(chunk, &mut xb);
            let yb = data.y.select(chunk);
            let seq = data.gather_lengths(chunk, &mut lb);
            let ctx = Ctx::new(mode, 0)
                .with_par(par)
                .with_lengths(seq.then_some(&lb[..]));
            let out = model.forward(&ctx, &xb)?;
            total.merge(loss.compute(out, &yb, None)?);
        }
        Ok(total)
    })
}

/// What [`forward_passes`] calls per batch and pass: `(pass, rows, output, model)`.
pub type PassVisitor<'a> = dyn FnMut(usize, &[usize], &Tensor, &Sequential) + Send + 'a;

/// Runs `passes` forward passes of `model` in `mode` over `data`, in batches of `batch`,
/// calling `visit(pass, rows, output, model)` with each batch's example indices and output
/// (the model, for its intermediate activations). Pass `p` of batch `b` is keyed by step
/// `p << 32 | b`: each pass has its own masks, and the same row index in two batches does not
/// share a mask.
pub fn forward_passes(
    model: &mut Sequential,
    data: &Dataset,
    mode: Mode,
    passes: usize,
    batch: usize,
    threads: &Threads,
    visit: &mut PassVisitor<'_>,
) -> Result<()> {
    let par = threads.par();
    threads.install(|| {
        let mut xb = Tensor::default();
        let mut lb = Vec::new();
        let idx: Vec<usize> = (0..data.len()).collect();
        for (bi, chunk) in idx.chunks(batch.max(1)).enumerate() {
            data.x.gather_rows(chunk, &mut xb);
            let seq = data.gather_lengths(chunk, &mut lb);
            for pass in 0..passes {
                let step = (pass as u64) << 32 | bi as u64;
                let ctx = Ctx::new(mode, step)
                    .with_par(par)
                    .with_lengths(seq.then_some(&lb[..]));
                model.forward(&ctx, &xb)?;
                let m: &Sequential = model;
                visit(pass, chunk, m.activation(m.layers().len() - 1), m);
            }
        }
        Ok(())
    })
}

/// Predictions over a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Class probabilities `[n, classes]` (softmax outputs; for regression, the outputs).
    pub probs: Tensor,
    /// Mean negative log-likelihood of the true labels under `probs` (classification).
    pub nll: f64,
    /// Accuracy of the argmax of `probs`.
    pub accuracy: f64,
}

/// How well a regression's outputs fit real-valued targets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegressionScores {
    /// Mean squared error over examples and outputs.
    pub mse: f64,
    /// Its square root, in the targets' units.
    pub rmse: f64,
    /// The coefficient of determination, `1 - SSE / SST`, SST about each output's mean over
    /// `data` (1 is a perfect fit, 0 the mean's, below 0 worse than the mean; NaN when the
    /// targets are constant).
    pub r2: f64,
}

/// MSE, RMSE and R² of `model`'s outputs in `mode` (weight scaling: Eval) against `data`'s
/// real-valued targets; `None` for class labels.
pub fn regression_scores(
    model: &mut Sequential,
    data: &Dataset,
    mode: Mode,
    batch: usize,
    threads: &Threads,
) -> Result<Option<RegressionScores>> {
    let Targets::Values(t) = &data.y else {
        return Ok(None);
    };
    let mut outputs = Tensor::zeros(t.shape());
    forward_passes(model, data, mode, 1, batch, threads, &mut |_, rows, out, _| {
        for (r, &i) in rows.iter().enumerate() {
            outputs.row_mut(i).copy_from_slice(out.row(r));
        }
    })?;
    Ok(Some(RegressionScores::of(&outputs, t)))
}

impl RegressionScores {
    /// The scores of `predicted` against `targets` (both `[n, outputs]`).
    pub fn of(predicted: &Tensor, targets: &Tensor) -> Self {
        let (n, k) = (targets.rows(), targets.cols().max(1));
        let mut mean = vec![0f64; k];
        for i in 0..n {
            for (m, &v) in mean.iter_mut().zip(targets.row(i)) {
                *m += v as f64 / n.max(1) as f64;
            }
        }
        let (mut sse, mut sst) = (0f64, 0f64);
        for i in 0..n {
            for ((&y, &v), &m) in predicted.row(i).iter().zip(targets.row(i)).zip(&mean) {
                sse += (y as f64 - v as f64).powi(2);
                sst += (v as f64 - m).powi(2);
            }
        }
        let mse = sse / (n * k).max(1) as f64;
        RegressionScores {
            mse,
            rmse: mse.sqrt(),
            r2: if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN },
        }
    }
}

/// Class probabilities from `passes` forward passes in `mode`, averaged (the Monte Carlo
/// arithmetic mean when `mode` is MonteCarlo; pass `p` uses step `p` to key its masks).
/// With Eval or Frozen one pass suffices.
pub fn predict_proba(
    model: &mut Sequential,
    data: &Dataset,
    mode: Mode,
    passes: usize,
    batch: usize,
    threads: &Threads,
) -> Result<Prediction> {
    let passes = passes.max(1);
    let classes = model.output_shape().iter().product::<usize>();
    let mut probs = Tensor::zeros(&[data.len(), classes]);
    forward_passes(
        model,
        data,
        mode,
        passes,
        batch,
        threads,
        &mut |_, rows, out, _| {
            for (r, &i) in rows.iter().enumerate() {
                let z = out.row(r);
                let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let s: f32 = z.iter().map(|&v| (v - m).exp()).sum();
                for (p, &v) in probs.row_mut(i).iter_mut().zip(z) {
                    *p += (v - m).exp() / s / passes as f32;
                }
            }
        },
    )?;
    let (mut nll, mut correct) = (0.0f64, 0usize);
    if let Targets::Classes(labels) = &data.y {
        let pred = probs.argmax_rows();
        for (i, &l) in labels.iter().enumerate() {
            nll -= (probs.row(i)[l as usize].max(1e-12) as f64).ln();
            correct += (pred[i] == l as usize) as usize;
        }
    }
    let n = data.len().max(1) as f64;
    Ok(Prediction {
        probs,
        nll: nll / n,
        accuracy: correct as f64 / n,
    })
}
