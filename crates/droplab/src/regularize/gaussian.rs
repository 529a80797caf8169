//! Gaussian dropout: multiply each unit by noise from `N(1, sigma^2)`, `sigma^2 = p / (1 - p)`
//! (Srivastava et al. 2014, section 10: the same mean and variance as inverted Bernoulli
//! dropout with rate `p`). The noise is a pure function of the mask counter, so the backward
//! pass regenerates it instead of storing it.

use crate::rng::box_muller;
use crate::tensor::MaskSpec;

/// The noise's standard deviation for rate `p` in `[0, 1)`.
pub fn sigma(p: f32) -> f32 {
    (p / (1.0 - p)).sqrt()
}

/// Multiplies `row` (row `r` of the batch) by `1 + sigma * z`, `z` standard normal drawn from
/// the counter `(column block, r, step)` of `spec` (or `(column block, MAX, 0)` per unit).
pub fn apply_noise(spec: &MaskSpec, sigma: f32, r: usize, row: &mut [f32]) {
    let (rr, step) = if spec.per_unit {
        (u32::MAX, 0)
    } else {
        (r as u32, spec.step)
    };
    for (j, chunk) in row.chunks_mut(4).enumerate() {
        let b = spec.stream.block(step, rr, j as u32);
        let (z0, z1) = box_muller(b[0], b[1]);
        let (z2, z3) = box_muller(b[2], b[3]);
        for (v, z) in chunk.iter_mut().zip([z0, z1, z2, z3]) {
            *v *= 1.0 + sigma * z;
        }
    }
}
