//! Co-adaptation and sparsity of hidden units (Srivastava et al. 2014, section 7.1-7.2,
//! Figures 7 and 8): dropout is said to make hidden units sparser and less dependent on each
//! other. Measured on the weight-scaled network (Eval mode) over a dataset:
//! - the mean activation and the sparsity (fraction of activations at or below `1e-6`; for
//!   ReLU these are exact zeros), the units that never fire, and a histogram of activations;
//! - the mean absolute Pearson correlation between pairs of units (units that never vary are
//!   left out), computed as one GEMM of the standardised activations.

use crate::data::Dataset;
use crate::nn::{Mode, Sequential};
use crate::tensor::{Tensor, Threads, Trans, gemm};
use crate::train::forward_passes;
use crate::{Error, Result};

/// Activations at or below this count as silent.
pub const SILENT: f32 = 1e-6;

/// One hidden layer's measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerStats {
    /// The layer's index in the model.
    pub layer: usize,
    /// Its description (`dense 64->256 relu + dropout p=0.5 (inverted)`).
    pub name: String,
    /// Hidden units in the layer.
    pub units: usize,
    /// Mean activation over examples and units.
    pub mean_activation: f64,
    /// Fraction of (example, unit) activations at or below [`SILENT`].
    pub sparsity: f64,
    /// Units silent on every example.
    pub dead_units: usize,
    /// Mean |corr| over pairs of units with non-zero variance.
    pub mean_abs_correlation: f64,
    /// Histogram of the activations: `(lower edge, upper edge, count)`.
    pub histogram: Vec<(f64, f64, usize)>,
    /// Each unit's mean activation.
    pub unit_means: Vec<f64>,
}

/// The output of every hidden dense layer (a `dense` layer that is not the last) over `data`,
/// in Eval mode: `(layer index, [n, units])`.
pub fn hidden_activations(
    model: &mut Sequential,
    data: &Dataset,
    threads: &Threads,
) -> Result<Vec<(usize, Tensor)>> {
    let count = model.layers().len();
    let hidden: Vec<usize> = (0..count.saturating_sub(1))
        .filter(|&i| model.layers()[i].describe().starts_with("dense"))
        .collect();
    if hidden.is_empty() {
        return Err(Error::config(
            "model",
            "no hidden dense layer to measure (co-adaptation is measured on fully connected hidden units)",
        ));
    }
    let n = data.len();
    let mut outs: Vec<(usize, Vec<f32>, usize)> = hidden.iter().map(|&i| (i, Vec::new(), 0)).collect();
    forward_passes(model, data, Mode::Eval, 1, 500, threads, &mut |_, rows, _, m| {
        for (i, buf, units) in outs.iter_mut() {
            let a = m.activation(*i);
            *units = a.data().len() / rows.len();
            buf.extend_from_slice(a.data());
        }
    })?;
    outs.into_iter()
        .map(|(i, buf, units)| Ok((i, Tensor::from_vec(&[n, units], buf)?)))
        .collect()
}

/// The measurements of one layer's activations `[n, units]` with a `bins`-bin histogram.
pub fn layer_stats(
    layer: usize,
    name: &str,
    acts: &Tensor,
    bins: usize,
    threads: &Threads,
) -> Result<LayerStats> {
    let (n, u) = (acts.rows(), acts.cols());
    if n < 2 || u == 0 {
        return Err(Error::config(
            "data",
            "at least 2 examples are needed to measure correlations",
        ));
    }
    let a = acts.data();
    let mut unit_means = vec![0.0f64; u];
    let mut silent = 0usize;
    let mut fires = vec![false; u];
    for row in a.chunks_exact(u) {
        for (j, &v) in row.iter().enumerate() {
            unit_means[j] += v as f64 / n as f64;
            if v <= SILENT {
                silent += 1;
            } else {
                fires[j] = true;
            }
        }
    }
    let (lo, hi) = a.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
        (l.min(v), h.max(v))
    });
    let bins = bins.max(1);
    let width = ((hi - lo) as f64 / bins as f64).max(1e-12);
    let mut counts = vec![0usize; bins];
    for &v in a {
        counts[(((v - lo) as f64 / width) as usize).min(bins - 1)] += 1;
    }
    let histogram = counts
        .iter()
        .enumerate()
        .map(|(b, &c)| {
            (
                lo as f64 + b as f64 * width,
                lo as f64 + (b + 1) as f64 * width,
                c,
            )
        })
        .collect();
    Ok(LayerStats {
        layer,
        name: name.to_string(),
        units: u,
        mean_activation: unit_means.iter().sum::<f64>() / u as f64,
        sparsity: silent as f64 / (n * u) as f64,
        dead_units: fires.iter().filter(|f| !**f).count(),
        mean_abs_correlation: mean_abs_correlation(acts, threads),
        histogram,
        unit_means,
    })
}

/// Mean |Pearson correlation| over pairs of units (columns) with non-zero variance; NaN when
/// fewer than two units vary.
pub fn mean_abs_correlation(acts: &Tensor, threads: &Threads) -> f64 {
    let (n, u) = (acts.rows(), acts.cols());
    let a = acts.data();
    let mut mean = vec![0.0f64; u];
    for row in a.chunks_exact(u) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64 / n as f64;
        }
    }
    let mut sd = vec![0.0f64; u];
    for row in a.chunks_exact(u) {
        for j in 0..u {
            sd[j] += (row[j] as f64 - mean[j]).powi(2) / n as f64;
        }
    }
    let live: Vec<usize> = (0..u).filter(|&j| sd[j] > 1e-12).collect();
    let m = live.len();
    if m < 2 {
        return f64::NAN;
    }
    // Z = standardised live columns, [n, m]; C = Z^T Z / n.
    let mut z = vec![0.0f32; n * m];
    for (r, row) in a.chunks_exact(u).enumerate() {
        for (c, &j) in live.iter().enumerate() {
            z[r * m + c] = ((row[j] as f64 - mean[j]) / sd[j].sqrt()) as f32;
        }
    }
    let mut c = vec![0.0f32; m * m];
    let par = threads.par();
    threads.install(|| gemm(&mut c, &z, (n, m), Trans::T, &z, (n, m), Trans::N, false, par));
    let mut sum = 0.0f64;
    for i in 0..m {
        for j in i + 1..m {
            sum += (c[i * m + j] as f64 / n as f64).abs().min(1.0);
        }
    }
    sum / (m * (m - 1) / 2) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_of_known_columns() {
        // Columns: x, 2x + 1 (corr 1), -x (corr -1 with both), and a constant (left out).
        // |corr| of the three pairs: 1, 1, 1 -> mean 1.
        let x = [0.0f32, 1.0, 2.0, 5.0];
        let data: Vec<f32> = x.iter().flat_map(|&v| [v, 2.0 * v + 1.0, -v, 3.0]).collect();
        let t = Tensor::from_vec(&[4, 4], data).unwrap();
        let threads = Threads::new(Some(1)).unwrap();
        assert!((mean_abs_correlation(&t, &threads) - 1.0).abs() < 1e-5);
        // Two independent-looking columns by construction: (1, -1, 1, -1) and (1, 1, -1, -1)
        // have zero correlation.
        let t = Tensor::from_vec(&[4, 2], vec![1.0, 1.0, -1.0, 1.0, 1.0, -1.0, -1.0, -1.0]).unwrap();
        assert!(mean_abs_correlation(&t, &threads).abs() < 1e-6);
    }

    #[test]
    fn sparsity_dead_units_and_histogram() {
        // 3 examples x 3 units; unit 2 never fires.
        let t = Tensor::from_vec(&[3, 3], vec![0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 4.0, 3.0, 0.0]).unwrap();
        let threads = Threads::new(Some(1)).unwrap();
        let s = layer_stats(0, "dense", &t, 4, &threads).unwrap();
        assert!((s.sparsity - 5.0 / 9.0).abs() < 1e-12);
        assert_eq!(s.dead_units, 1);
        assert!((s.mean_activation - 10.0 / 9.0).abs() < 1e-12);
        assert_eq!(s.unit_means[0], 2.0);
        assert_eq!(s.histogram.iter().map(|h| h.2).sum::<usize>(), 9);
        assert_eq!(s.histogram[0].2, 5, "the five zeros fall in the first bin");
    }
}
