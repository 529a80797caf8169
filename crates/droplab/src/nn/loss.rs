//! Losses: softmax cross-entropy (with label smoothing) and mean squared error.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// What a model is trained to predict.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Class indices.
    Classes(Vec<u32>),
    /// Real-valued targets `[n, outputs]`.
    Values(Tensor),
}

impl Targets {
    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(c) => c.len(),
            Targets::Values(t) => t.rows(),
        }
    }

    /// True when there is no example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets of the examples `idx`, written into `out` (reusing its buffers).
    pub fn gather(&self, idx: &[usize], out: &mut Targets) {
        match (self, out) {
            (Targets::Classes(src), Targets::Classes(dst)) => {
                dst.clear();
                dst.extend(idx.iter().map(|&i| src[i]));
            }
            (Targets::Values(src), Targets::Values(dst)) => src.gather_rows(idx, dst),
            (src, out) => *out = src.select(idx),
        }
    }

    /// The targets of the examples `idx`.
    pub fn select(&self, idx: &[usize]) -> Targets {
        match self {
            Targets::Classes(c) => Targets::Classes(idx.iter().map(|&i| c[i]).collect()),
            Targets::Values(t) => {
                let mut out = Tensor::default();
                t.gather_rows(idx, &mut out);
                Targets::Values(out)
            }
        }
    }

    /// The class labels, if these are classification targets.
    pub fn classes(&self) -> Option<&[u32]> {
        match self {
            Targets::Classes(c) => Some(c),
            Targets::Values(_) => None,
        }
    }
}

/// A loss over a batch. Values are means over the batch; gradients are of that mean.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Loss {
    /// Softmax then cross-entropy against a target distribution
    /// `(1 - label_smoothing) * onehot + label_smoothing / classes`.
    SoftmaxCrossEntropy {
        /// Label smoothing in `[0, 1)`.
        #[serde(default)]
        label_smoothing: f32,
    },
    /// Mean over outputs of `(y - t)^2` per example (PyTorch `MSELoss` on `[n, 1]`).
    Mse,
}

impl Default for Loss {
    fn default() -> Self {
        Loss::SoftmaxCrossEntropy { label_smoothing: 0.0 }
    }
}

/// Sums over one batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossOutput {
    /// Sum over the batch of each example's loss.
    pub loss_sum: f64,
    /// Correctly classified examples (0 for regression).
    pub correct: usize,
    /// Examples in the batch.
    pub count: usize,
}

impl LossOutput {
    /// Adds another batch.
    pub fn merge(&mut self, o: LossOutput) {
        self.loss_sum += o.loss_sum;
        self.correct += o.correct;
        self.count += o.count;
    }

    /// Mean loss.
    pub fn mean_loss(&self) -> f64 {
        self.loss_sum / self.count.max(1) as f64
    }

    /// Accuracy in `[0, 1]`.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.count.max(1) as f64
    }
}

impl Loss {
    /// Checks the loss's own fields.
    pub fn validate(&self) -> Result<()> {
        if let Loss::SoftmaxCrossEntropy { label_smoothing } = self {
            crate::error::check::in_range("loss.label_smoothing", *label_smoothing as f64, 0.0, 0.999)?;
        }
        Ok(())
    }

    /// Loss of `out` (`[batch, k]`) against `targets`; when `grad` is given it receives the
    /// gradient of the batch-mean loss with respect to `out`.
    pub fn compute(&self, out: &Tensor, targets: &Targets, grad: Option<&mut Tensor>) -> Result<LossOutput> {
        let (b, k) = (out.rows(), out.cols());
        if targets.len() != b {
            return Err(Error::ShapeMismatch {
                context: "loss targets".into(),
                expected: vec![b],
                got: vec![targets.len()],
            });
        }
        let mut grad = grad;
        if let Some(g) = grad.as_deref_mut() {
            g.resize(out.shape());
        }
        let inv_b = 1.0 / b.max(1) as f32;
        match (self, targets) {
            (Loss::SoftmaxCrossEntropy { label_smoothing }, Targets::Classes(labels)) => {
                let eps = *label_smoothing;
                let off = eps / k as f32;
                let mut loss_sum = 0.0f64;
                let mut correct = 0;
                for r in 0..b {
                    let z = out.row(r);
                    let label = labels[r] as usize;
                    if label >= k {
                        return Err(Error::ShapeMismatch {
                            context: format!("loss: label {label} for a model with {k} outputs"),
                            expected: vec![k],
                            got: vec![label + 1],
                        });
                    }
                    let mut best = 0;
                    let mut m = f32::NEG_INFINITY;
                    for (j, &v) in z.iter().enumerate() {
                        if v > m {
                            m = v;
                            best = j;
                        }
                    }
                    correct += (best == label) as usize;
                    let sum: f32 = z.iter().map(|&v| (v - m).exp()).sum();
                    let lse = m + sum.ln();
                    // -sum_j q_j (z_j - lse) with q = (1 - eps) onehot + eps / k
                    let mean_z: f32 = z.iter().sum::<f32>() / k as f32;
                    let l = (1.0 - eps) * (lse - z[label]) + eps * (lse - mean_z);
                    loss_sum += l as f64;
                    if let Some(g) = grad.as_deref_mut() {
                        let inv_sum = 1.0 / sum;
                        for (j, (gv, &v)) in g.row_mut(r).iter_mut().zip(z).enumerate() {
                            let q = off + if j == label { 1.0 - eps } else { 0.0 };
                            *gv = ((v - m).exp() * inv_sum - q) * inv_b;
                        }
                    }
                }
                Ok(LossOutput {
                    loss_sum,
                    correct,
                    count: b,
                })
            }
            (Loss::Mse, Targets::Values(t)) => {
                if t.cols() != k {
                    return Err(Error::ShapeMismatch {
                        context: "mse targets".into(),
                        expected: vec![b, k],
                        got: t.shape().to_vec(),
                    });
                }
                let mut loss_sum = 0.0f64;
                let inv_k = 1.0 / k as f32;
                for r in 0..b {
                    let mut l = 0.0f32;
                    for (j, (&y, &tv)) in out.row(r).iter().zip(t.row(r)).enumerate() {
                        let d = y - tv;
                        l += d * d;
                        if let Some(g) = grad.as_deref_mut() {
                            g.row_mut(r)[j] = 2.0 * d * inv_k * inv_b;
                        }
                    }
                    loss_sum += (l * inv_k) as f64;
                }
                Ok(LossOutput {
                    loss_sum,
                    correct: 0,
                    count: b,
                })
            }
            (Loss::SoftmaxCrossEntropy { .. }, Targets::Values(_)) => Err(Error::config(
                "loss",
                "softmax cross-entropy needs class labels, the data has real-valued targets (use mse)",
            )),
            (Loss::Mse, Targets::Classes(_)) => Err(Error::config(
                "loss",
                "mse needs real-valued targets, the data has class labels (use softmax_cross_entropy)",
            )),
        }
    }
}
