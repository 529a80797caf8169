//! Alpha dropout (Klambauer et al. 2017, "Self-Normalizing Neural Networks").
//!
//! A dropped unit is set to SELU's negative saturation `alpha' = -lambda * alpha` instead of
//! zero, then an affine map `a x + b` restores zero mean and unit variance for inputs with
//! zero mean and unit variance: `a = ((1 - p)(1 + p alpha'^2))^-1/2`, `b = -a alpha' p`.

use crate::tensor::{SELU_ALPHA, SELU_LAMBDA};

/// The constants of alpha dropout at rate `p` in `[0, 1)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlphaParams {
    /// Multiplier.
    pub a: f32,
    /// Offset.
    pub b: f32,
    /// Value given to dropped units before the affine map.
    pub alpha_prime: f32,
}

impl AlphaParams {
    /// The constants for rate `p`.
    pub fn new(p: f32) -> Self {
        let alpha_prime = -SELU_LAMBDA * SELU_ALPHA;
        let q = 1.0 - p;
        let a = 1.0 / (q * (1.0 + p * alpha_prime * alpha_prime)).sqrt();
        let b = -a * alpha_prime * p;
        AlphaParams { a, b, alpha_prime }
    }

    /// The output for input `x` kept or dropped.
    #[inline]
    pub fn apply(&self, x: f32, keep: bool) -> f32 {
        let v = if keep { x } else { self.alpha_prime };
        self.a * v + self.b
    }
}
