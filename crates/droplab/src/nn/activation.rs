//! Activation functions, as a plain enum used by fused kernels and as a standalone layer.

use serde::{Deserialize, Serialize};

use super::{Ctx, Layer};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

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

/// A standalone activation layer.
#[derive(Clone, Debug)]
pub struct Act(pub Activation);

impl Layer for Act {
    fn kind(&self) -> &'static str {
        self.0.name()
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn forward(&mut self, _ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        y.resize(x.shape());
        y.data_mut().copy_from_slice(x.data());
        self.0.apply(y.data_mut());
        Ok(())
    }

    fn backward(
        &mut self,
        _ctx: &Ctx,
        _x: &Tensor,
        y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()> {
        if let Some(dx) = dx {
            dx.resize(y.shape());
            for ((d, &g), &t) in dx.data_mut().iter_mut().zip(dy.data()).zip(y.data()) {
                *d = g * self.0.derivative_from_output(t);
            }
        }
        Ok(())
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        self.0.torch_module().into_iter().collect()
    }

    fn describe(&self) -> String {
        self.0.name().to_string()
    }
}
