//! The hidden units of a trained network on one split (Srivastava et al. 2014, section 7.1):
//! per hidden dense layer the mean activation, sparsity, dead units and mean |correlation|
//! between units, and the first hidden layer's incoming weights, shaped as images when the
//! inputs are.

use std::path::Path;

use droplab::Sequential;
use droplab::analysis::coadaptation::{self as coad, LayerStats};
use droplab::data::Dataset;
use droplab::tensor::Threads;

use crate::error::{Error, Result};

/// The first hidden layer's incoming weights, one row per unit, drawable as `height x width`
/// images.
#[derive(Debug)]
pub struct Features {
    /// The weights `[units, inputs]`, row-major.
    pub weights: Vec<f32>,
    /// The image shape of one row.
    pub shape: (usize, usize),
}

/// What the hidden units of one run look like.
#[derive(Debug)]
pub struct Units {
    /// One entry per hidden dense layer, in order.
    pub layers: Vec<LayerStats>,
    /// The first hidden layer's weights as images, when the inputs are images (one channel)
    /// or a square number of pixels.
    pub features: Option<Features>,
}

/// The hidden units of `model` on `data`, with `bins` histogram bins. `run` names the run in
/// errors.
pub fn hidden_units(
    model: &mut Sequential,
    data: &Dataset,
    bins: usize,
    threads: &Threads,
    run: &Path,
) -> Result<Units> {
    let acts = coad::hidden_activations(model, data, threads)
        .map_err(|e| Error::usage(format!("{}: {e}", run.display())))?;
    let mut layers = Vec::new();
    for (i, a) in &acts {
        let desc = model.layers()[*i].describe();
        layers.push(coad::layer_stats(*i, &desc, a, bins, threads)?);
    }
    let first = acts[0].0;
    let w = &model.layers()[first].params()[0].value;
    let shape = &data.x.shape()[1..];
    let side = (w.cols() as f64).sqrt().round() as usize;
    let hw = match shape {
        [1, h, wd] if h * wd == w.cols() => Some((*h, *wd)),
        _ if side * side == w.cols() && side > 1 => Some((side, side)),
        _ => None,
    };
    let features = hw.map(|shape| Features {
        weights: w.data().to_vec(),
        shape,
    });
    Ok(Units { layers, features })
}
