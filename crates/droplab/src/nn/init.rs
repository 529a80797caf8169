//! Weight initializers.

use serde::{Deserialize, Serialize};

use crate::rng::SeqRng;

/// How a weight matrix `[fan_out, fan_in]` is initialized; biases start at zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// He et al. 2015: normal with std `sqrt(2 / fan_in)` (for ReLU).
    He,
    /// Glorot & Bengio 2010: uniform on `+-sqrt(6 / (fan_in + fan_out))` (for tanh, sigmoid).
    Glorot,
    /// LeCun normal: std `sqrt(1 / fan_in)` (for SELU, Klambauer et al. 2017).
    Lecun,
}

impl Init {
    /// The conventional initializer for an activation.
    pub fn for_activation(a: super::Activation) -> Self {
        match a {
            super::Activation::Relu => Init::He,
            super::Activation::Selu => Init::Lecun,
            _ => Init::Glorot,
        }
    }

    /// Fills `w` (`fan_out * fan_in` values).
    pub fn fill(self, w: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut SeqRng) {
        match self {
            Init::He => {
                let sd = (2.0 / fan_in as f32).sqrt();
                w.iter_mut().for_each(|v| *v = rng.normal() * sd);
            }
            Init::Lecun => {
                let sd = (1.0 / fan_in as f32).sqrt();
                w.iter_mut().for_each(|v| *v = rng.normal() * sd);
            }
            Init::Glorot => {
                let a = (6.0 / (fan_in + fan_out) as f32).sqrt();
                w.iter_mut().for_each(|v| *v = (2.0 * rng.uniform() - 1.0) * a);
            }
        }
    }
}
