//! Model configs and the builder that turns them into a [`Sequential`].
//!
//! An MLP is `widths = [in, h1, ..., hk, out]`. Dropout goes on the input (`dropout.input`)
//! and after each hidden layer's activation (`dropout.hidden`), never on the output. Bernoulli
//! dropout after a hidden layer is fused into its [`Dense`] (one pass for bias, activation and
//! mask); Gaussian and Alpha dropout are standalone layers.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::nn::{Activation, Dense, Init, Layer, Role, Sequential};
use crate::regularize::{Bernoulli, Convention, Dropout, DropoutKind};
use crate::rng::Stream;

/// Dropout settings of an MLP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DropoutConfig {
    /// Drop probability on the input units (0 = none).
    pub input: f32,
    /// Drop probability after each hidden layer: one value for all of them, or one per
    /// hidden layer. Empty = none.
    pub hidden: Vec<f32>,
    /// Bernoulli, Gaussian or Alpha.
    pub kind: DropoutKind,
    /// Where Bernoulli dropout scales: `inverted` (default) or `standard` (the paper's).
    pub convention: Convention,
}

impl DropoutConfig {
    /// The rate after hidden layer `i` of `n`.
    pub fn hidden_rate(&self, i: usize) -> f32 {
        match self.hidden.len() {
            0 => 0.0,
            1 => self.hidden[0],
            _ => self.hidden.get(i).copied().unwrap_or(0.0),
        }
    }

    /// True when any rate is non-zero.
    pub fn any(&self) -> bool {
        self.input > 0.0 || self.hidden.iter().any(|&p| p > 0.0)
    }
}

/// Weight penalties and constraints, applied to every Dense layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RegularizationConfig {
    /// L1 coefficient (loss `l1 * sum |w|`).
    pub l1: f32,
    /// L2 coefficient (loss `l2 / 2 * sum w^2`, gradient `l2 * w`).
    pub l2: f32,
    /// Max-norm bound on each unit's incoming weight vector.
    pub max_norm: Option<f32>,
    /// Also penalize biases (and decay them under AdamW).
    pub penalize_bias: bool,
}

impl RegularizationConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        check::non_negative("regularization.l1", self.l1 as f64)?;
        check::non_negative("regularization.l2", self.l2 as f64)?;
        if let Some(c) = self.max_norm {
            check::positive("regularization.max_norm", c as f64)?;
        }
        Ok(())
    }
}

/// A multilayer perceptron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Layer widths from input to output, e.g. `[64, 256, 256, 10]`.
    pub widths: Vec<usize>,
    /// Activation of the hidden layers.
    pub activation: Activation,
    /// Weight initializer (default: He for ReLU, LeCun for SELU, Glorot otherwise).
    pub init: Option<Init>,
    /// Dropout.
    pub dropout: DropoutConfig,
    /// Penalties and constraints.
    pub regularization: RegularizationConfig,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            widths: vec![64, 256, 256, 10],
            activation: Activation::Relu,
            init: None,
            dropout: DropoutConfig::default(),
            regularization: RegularizationConfig::default(),
        }
    }
}

impl ModelConfig {
    /// Parses `mlp:64-256-256-10` into widths.
    pub fn parse_widths(spec: &str) -> Result<Vec<usize>> {
        let body = spec.strip_prefix("mlp:").ok_or_else(|| {
            Error::config(
                "model",
                format!(
                    "'{spec}' is not a model string (expected mlp:IN-H1-...-OUT, e.g. mlp:64-256-256-10)"
                ),
            )
        })?;
        let widths = body
            .split('-')
            .map(|w| {
                w.trim().parse::<usize>().map_err(|_| {
                    Error::config(
                        "model",
                        format!("'{w}' in '{spec}' is not a layer width (expected mlp:IN-H1-...-OUT)"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if widths.len() < 2 {
            return Err(Error::config(
                "model",
                format!("'{spec}' needs at least an input and an output width"),
            ));
        }
        Ok(widths)
    }

    /// The model string (`mlp:64-256-256-10`).
    pub fn model_string(&self) -> String {
        let w: Vec<String> = self.widths.iter().map(|w| w.to_string()).collect();
        format!("mlp:{}", w.join("-"))
    }

    /// Number of hidden layers.
    pub fn hidden_layers(&self) -> usize {
        self.widths.len().saturating_sub(2)
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.widths.len() < 2 {
            return Err(Error::config(
                "model.widths",
                "needs at least an input and an output width",
            ));
        }
        for (i, &w) in self.widths.iter().enumerate() {
            if w == 0 {
                return Err(Error::ZeroWidth {
                    field: format!("model.widths[{i}]"),
                });
            }
        }
        let d = &self.dropout;
        match d.kind {
            DropoutKind::Bernoulli => check::rate("dropout.input", d.input)?,
            _ => check::rate_below_one("dropout.input", d.input)?,
        }
        for (i, &p) in d.hidden.iter().enumerate() {
            let field = format!("dropout.hidden[{i}]");
            match d.kind {
                DropoutKind::Bernoulli => check::rate(&field, p)?,
                _ => check::rate_below_one(&field, p)?,
            }
        }
        let h = self.hidden_layers();
        if d.hidden.len() > 1 && d.hidden.len() != h {
            return Err(Error::config(
                "dropout.hidden",
                format!(
                    "{} rates given for {h} hidden layers (give one rate for all, or one per hidden layer)",
                    d.hidden.len()
                ),
            ));
        }
        self.regularization.validate()
    }

    /// Builds the network with weights drawn from `seed`.
    pub fn build(&self, seed: u64) -> Result<Sequential> {
        self.validate()?;
        let init = self.init.unwrap_or_else(|| Init::for_activation(self.activation));
        let d = &self.dropout;
        let mut layers: Vec<Box<dyn Layer>> = Vec::new();
        if d.input > 0.0 {
            let stream = Stream::new(seed, "dropout.input");
            layers.push(Box::new(Dropout::new(
                "dropout.input",
                d.kind,
                d.input,
                d.convention,
                stream,
            )?));
        }
        let n = self.widths.len() - 1;
        for i in 0..n {
            let (fan_in, fan_out) = (self.widths[i], self.widths[i + 1]);
            let hidden = i + 1 < n;
            let act = if hidden {
                self.activation
            } else {
                Activation::Identity
            };
            let mut rng = Stream::new(seed, "init").derive_u64(i as u64).seq();
            let field = format!("model.layers[{i}]");
            let mut dense = Dense::new(&field, fan_in, fan_out, act, init, &mut rng)?;
            let p = if hidden { d.hidden_rate(i) } else { 0.0 };
            let stream = Stream::new(seed, "dropout.hidden").derive_u64(i as u64);
            let field = format!("dropout.hidden[{i}]");
            let mut extra: Option<Box<dyn Layer>> = None;
            if p > 0.0 {
                if d.kind == DropoutKind::Bernoulli {
                    dense = dense.with_dropout(Some(Bernoulli::new(&field, p, d.convention, stream)?));
                } else {
                    extra = Some(Box::new(Dropout::new(&field, d.kind, p, d.convention, stream)?));
                }
            }
            layers.push(Box::new(dense));
            layers.extend(extra);
        }
        let mut model = Sequential::new(&[self.widths[0]], layers)?;
        let r = &self.regularization;
        for p in model.params_mut() {
            match p.role {
                Role::Weight => {
                    p.reg.l1 = r.l1;
                    p.reg.l2 = r.l2;
                    p.reg.max_norm = r.max_norm;
                    p.reg.decay = true;
                }
                Role::Bias if r.penalize_bias => {
                    p.reg.l1 = r.l1;
                    p.reg.l2 = r.l2;
                    p.reg.decay = true;
                }
                Role::Bias => {}
            }
        }
        Ok(model)
    }
}
