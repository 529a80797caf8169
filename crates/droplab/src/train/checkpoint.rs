//! The state of a fit after a finished epoch, from which it continues bit-identically.
//!
//! A [`Checkpoint`] holds everything the remaining epochs depend on: the model's parameters
//! and buffers, the optimizer's moments and step count, the step counter that keys the
//! dropout masks and the schedules, the divergence reference, early stopping's best value and
//! patience, the best epoch (and its weights where early stopping restores them) and the
//! history. Shuffles come from `("shuffle", epoch)` and masks from the step counter, so a fit
//! resumed from the checkpoint of epoch `e` on the same thread count produces the same
//! weights as one that never stopped.
//!
//! It splits into named tensors and a serializable [`FitState`] so that a caller can store
//! it in any tensor format (the CLI writes one safetensors file).

use serde::{Deserialize, Serialize};

use super::{EpochMetrics, nan_if_null};
use crate::error::{Error, Result};
use crate::optim::Moments;
use crate::tensor::Tensor;

/// The scalar part of a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitState {
    /// Epochs finished (the fit continues with epoch `epochs_done + 1`).
    pub epochs_done: usize,
    /// Updates performed (keys the next step's masks).
    pub steps: u64,
    /// Learning rate of the last update.
    pub lr: f32,
    /// The divergence test's reference: the first minibatch's loss before any update.
    #[serde(deserialize_with = "nan_if_null")]
    pub initial_loss: f64,
    /// Updates the optimizer has made (its bias corrections).
    pub optimizer_steps: u64,
    /// Early stopping's best monitored value (NaN when none yet).
    #[serde(deserialize_with = "nan_if_null")]
    pub stopper_best: f64,
    /// Epochs without improvement.
    pub stopper_wait: usize,
    /// The best epoch so far (1-based).
    pub best_epoch: usize,
    /// Its monitored value.
    #[serde(deserialize_with = "nan_if_null")]
    pub best_value: f64,
    /// The finished epochs' metrics.
    pub history: Vec<EpochMetrics>,
}

/// A fit's state after a finished epoch: [`FitState`] and the tensors, each named
/// `model.I` (parameters, then buffers, in [`crate::Sequential::state`] order), `best.I` (the
/// best epoch's weights, kept only under early stopping), `optimizer.I.m` and
/// `optimizer.I.v` (the moments of parameter `I`, where the optimizer has them).
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The scalars.
    pub state: FitState,
    /// The tensors, by name.
    pub tensors: Vec<(String, Tensor)>,
}

/// A checkpoint's tensors sorted back into their groups.
pub(super) struct Parts {
    pub model: Vec<Tensor>,
    pub best: Vec<Tensor>,
    pub moments: Vec<Moments>,
}

impl Checkpoint {
    pub(super) fn new(state: FitState, model: Vec<Tensor>, best: &[Tensor], moments: &[Moments]) -> Self {
        let mut tensors: Vec<(String, Tensor)> = Vec::new();
        tensors.extend(
            model
                .into_iter()
                .enumerate()
                .map(|(i, t)| (format!("model.{i}"), t)),
        );
        tensors.extend(
            best.iter()
                .enumerate()
                .map(|(i, t)| (format!("best.{i}"), t.clone())),
        );
        for (i, (m, v)) in moments.iter().enumerate() {
            for (name, x) in [("m", m), ("v", v)] {
                if !x.is_empty() {
                    let t = Tensor::from_vec(&[x.len()], x.clone()).expect("a vector's own length");
                    tensors.push((format!("optimizer.{i}.{name}"), t));
                }
            }
        }
        Checkpoint { state, tensors }
    }

    /// Sorts the tensors back, checking them against the model's own state (`expected`):
    /// every model tensor present with its shape, best weights all or none, a moment per
    /// parameter of the parameter's size.
    pub(super) fn parts(&self, expected: &[Tensor], params: &[usize]) -> Result<Parts> {
        let bad = |msg: String| Error::config("checkpoint", msg);
        let mut model: Vec<Option<Tensor>> = vec![None; expected.len()];
        let mut best: Vec<Option<Tensor>> = vec![None; expected.len()];
        let mut moments: Vec<Moments> = vec![(Vec::new(), Vec::new()); params.len()];
        for (name, t) in &self.tensors {
            let mut it = name.split('.');
            let (group, index) = (it.next(), it.next().and_then(|i| i.parse::<usize>().ok()));
            let (Some(group), Some(i)) = (group, index) else {
                return Err(bad(format!("unknown tensor '{name}'")));
            };
            match (group, it.next()) {
                ("model" | "best", None) if i < expected.len() => {
                    if t.shape() != expected[i].shape() {
                        return Err(bad(format!(
                            "tensor '{name}' has shape {:?}, the model's is {:?}",
                            t.shape(),
                            expected[i].shape()
                        )));
                    }
                    let slot = if group == "model" {
                        &mut model[i]
                    } else {
                        &mut best[i]
                    };
                    *slot = Some(t.clone());
                }
                ("optimizer", Some(which @ ("m" | "v"))) if i < params.len() => {
                    if t.len() != params[i] {
                        return Err(bad(format!(
                            "tensor '{name}' holds {} values, parameter {i} has {}",
                            t.len(),
                            params[i]
                        )));
                    }
                    let slot = if which == "m" {
                        &mut moments[i].0
                    } else {
                        &mut moments[i].1
                    };
                    *slot = t.data().to_vec();
                }
                _ => return Err(bad(format!("unknown tensor '{name}' for this model"))),
            }
        }
        let model: Option<Vec<Tensor>> = model.into_iter().collect();
        let Some(model) = model else {
            return Err(bad("a model tensor is missing".into()));
        };
        let best = if best.iter().all(Option::is_none) {
            Vec::new()
        } else {
            let all: Option<Vec<Tensor>> = best.into_iter().collect();
            all.ok_or_else(|| bad("a best-epoch tensor is missing".into()))?
        };
        if moments.iter().any(|(m, _)| m.is_empty()) && moments.iter().any(|(m, _)| !m.is_empty()) {
            return Err(bad("an optimizer moment is missing".into()));
        }
        if self.state.epochs_done != self.state.history.len() {
            return Err(bad(format!(
                "{} epochs done but {} in the history",
                self.state.epochs_done,
                self.state.history.len()
            )));
        }
        Ok(Parts { model, best, moments })
    }
}
