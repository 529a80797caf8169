//! The elementwise activations, as a plain enum: applied by the fused kernels and by the
//! standalone [`crate::nn::Act`] layer.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// SELU's scale (Klambauer et al. 2017).
pub const SELU_LAMBDA: f32 = 1.050_701;
/// SELU's alpha (Klambauer et al. 2017).
pub const SELU_ALPHA: f32 = 1.673_263_2;

/// An elementwise activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `x`.
    Identity,
    /// `max(0, x)`.
    #[default]
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `lambda * (x if x > 0 else alpha (e^x - 1))`.
    Selu,
}

impl Activation {
    /// Parses a name as the CLI spells it.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "identity" | "linear" => Activation::Identity,
            "relu" => Activation::Relu,
            "tanh" => Activation::Tanh,
            "sigmoid" | "logistic" => Activation::Sigmoid,
            "selu" => Activation::Selu,
            _ => {
                return Err(Error::config(
                    "activation",
                    format!("unknown activation '{s}' (valid: relu, tanh, sigmoid, selu, identity)"),
                ));
            }
        })
    }

    /// The name as written in configs.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Selu => "selu",
        }
    }

    /// The PyTorch module name.
    pub fn torch_module(self) -> Option<&'static str> {
        match self {
            Activation::Identity => None,
            Activation::Relu => Some("ReLU"),
            Activation::Tanh => Some("Tanh"),
            Activation::Sigmoid => Some("Sigmoid"),
            Activation::Selu => Some("SELU"),
        }
    }

    /// Applies the activation in place.
    #[inline]
    pub fn apply(self, v: &mut [f32]) {
        match self {
            Activation::Identity => {}
            Activation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
            Activation::Tanh => v.iter_mut().for_each(|x| *x = x.tanh()),
            Activation::Sigmoid => v.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp())),
            Activation::Selu => v.iter_mut().for_each(|x| {
                *x = if *x > 0.0 {
                    SELU_LAMBDA * *x
                } else {
                    SELU_LAMBDA * SELU_ALPHA * (x.exp() - 1.0)
                }
            }),
        }
    }

    /// The derivative at the point whose *output* is `t`: every activation here has one
    /// expressible from its output, which is what the backward pass keeps.
    #[inline(always)]
    pub fn derivative_from_output(self, t: f32) -> f32 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => (t > 0.0) as u8 as f32,
            Activation::Tanh => 1.0 - t * t,
            Activation::Sigmoid => t * (1.0 - t),
            Activation::Selu => {
                if t > 0.0 {
                    SELU_LAMBDA
                } else {
                    t + SELU_LAMBDA * SELU_ALPHA
                }
            }
        }
    }
}
