//! The exact average of all thinned networks of a small fully connected network.
//!
//! Each Bernoulli dropout site (an input dropout layer, or a dense layer's fused dropout)
//! keeps unit `u` with probability `1 - p`. A mask `m` over all `U` dropout units defines a
//! thinned network with probability `Π (1 - p)^kept p^dropped`; this module enumerates all
//! `2^U` masks and averages the thinned networks' class probabilities with those weights.
//! It is what weight scaling approximates and Monte Carlo averaging estimates, computed
//! without approximation, so it only exists for small `U`.
//!
//! A thinned network is evaluated layer by layer from the Eval-mode output `y` of each
//! dropout site: `y_u · m_u / (1 - p)`. Under the inverted convention `y` is the unscaled
//! activation `a` and this is the training-time `a · m / (1 - p)`; under the standard
//! convention `y = a (1 - p)` and this is the training-time `a · m`. Either way it is the
//! network training sampled.

use crate::nn::{Ctx, Mode, Sequential};
use crate::tensor::Tensor;
use crate::{Error, Result};

use super::uncertainty::softmax_in_place;

/// The largest number of dropout units enumerated (2^20 forward passes).
pub const MAX_UNITS: usize = 20;

/// The dropout sites of a model: `(layer index, rate)` for every layer whose output is
/// dropped. Only Bernoulli dropout on dense layers and standalone dropout layers qualifies.
pub fn dropout_sites(model: &Sequential) -> Result<Vec<(usize, f32)>> {
    let mut sites = Vec::new();
    for (i, l) in model.layers().iter().enumerate() {
        let desc = l.describe();
        let bernoulli =
            desc.starts_with("dropout p=") || (desc.starts_with("dense") && desc.contains("+ dropout p="));
        if desc.contains("dropconnect") || !(desc.starts_with("dense") || desc.starts_with("dropout")) {
            if l.output_dropout().is_some_and(|p| p > 0.0) || desc.contains("dropconnect") {
                return Err(Error::config(
                    "model",
                    format!(
                        "exact averaging covers Bernoulli dropout on dense layers; layer {i} is '{desc}'"
                    ),
                ));
            }
            continue;
        }
        if let Some(p) = l.output_dropout().filter(|&p| p > 0.0) {
            if !bernoulli {
                return Err(Error::config(
                    "model",
                    format!("exact averaging covers Bernoulli dropout only; layer {i} is '{desc}'"),
                ));
            }
            sites.push((i, p));
        }
    }
    Ok(sites)
}

/// The number of dropout units of a model on inputs of `features` (the widths of its dropout
/// sites' outputs).
pub fn dropout_units(model: &Sequential, sites: &[(usize, f32)]) -> Result<usize> {
    let mut shape = model.input_shape().to_vec();
    let mut widths = Vec::new();
    for l in model.layers() {
        shape = l.output_shape(&shape)?;
        widths.push(shape.iter().product::<usize>());
    }
    Ok(sites.iter().map(|&(i, _)| widths[i]).sum())
}

/// The exact average over all thinned networks of the class probabilities of each row of
/// `x`, `[n, classes]`. Fails if the model has more than `max_units` dropout units (at most
/// [`MAX_UNITS`]) or a kind of dropout other than Bernoulli.
pub fn exact_average(model: &mut Sequential, x: &Tensor, max_units: usize) -> Result<Tensor> {
    let sites = dropout_sites(model)?;
    let units = dropout_units(model, &sites)?;
    let limit = max_units.min(MAX_UNITS);
    if units > limit {
        return Err(Error::config(
            "model",
            format!(
                "exact averaging enumerates 2^U masks, and this network has U = {units} dropout units (at most {limit})"
            ),
        ));
    }
    let n = x.rows();
    let layers = model.layers().len();
    let classes: usize = model.output_shape().iter().product();
    let mut out = vec![0.0f64; n * classes];
    let ctx = Ctx::new(Mode::Eval, 0);
    let mut h = Tensor::default();
    let mut y = Tensor::default();
    'masks: for mask in 0u64..(1u64 << units) {
        // The mask's probability; masks keeping a unit of a p = 1 site never occur.
        let mut weight = 1.0f64;
        let mut bit = 0;
        for &(i, p) in &sites {
            let w = layer_width(model, i)?;
            for _ in 0..w {
                let kept = mask >> bit & 1 == 1;
                weight *= if kept { 1.0 - p as f64 } else { p as f64 };
                bit += 1;
            }
        }
        if weight == 0.0 {
            continue 'masks;
        }
        h.clone_from(x);
        let mut bit = 0;
        for li in 0..layers {
            model.layers_mut()[li].forward(&ctx, &h, &mut y)?;
            if let Some(&(_, p)) = sites.iter().find(|s| s.0 == li) {
                let w = y.cols();
                let scale = 1.0 / (1.0 - p);
                for row in y.data_mut().chunks_exact_mut(w) {
                    for (u, v) in row.iter_mut().enumerate() {
                        *v = if mask >> (bit + u) & 1 == 1 {
                            *v * scale
                        } else {
                            0.0
                        };
                    }
                }
                bit += w;
            }
            std::mem::swap(&mut h, &mut y);
        }
        for (o, row) in out
            .chunks_exact_mut(classes)
            .zip(h.data_mut().chunks_exact_mut(classes))
        {
            softmax_in_place(row);
            for (a, &b) in o.iter_mut().zip(row.iter()) {
                *a += weight * b as f64;
            }
        }
    }
    Tensor::from_vec(&[n, classes], out.into_iter().map(|v| v as f32).collect())
}

fn layer_width(model: &Sequential, layer: usize) -> Result<usize> {
    let mut shape = model.input_shape().to_vec();
    for l in &model.layers()[..=layer] {
        shape = l.output_shape(&shape)?;
    }
    Ok(shape.iter().product())
}
