//! Model configs and the builder that turns them into a [`Sequential`].
//!
//! An MLP is `widths = [in, h1, ..., hk, out]`. Dropout goes on the input (`dropout.input`)
//! and after each hidden layer's activation (`dropout.hidden`), never on the output. Bernoulli
//! dropout after a hidden layer is fused into its [`Dense`](crate::nn::Dense) (one pass for bias, activation and
//! mask); Gaussian and Alpha dropout are standalone layers. With `dropout.kind = "dropconnect"`
//! the same rates drop the *weights* of the layer that consumes those units instead.
//!
//! A convolutional network is a layer string (`layers = "c32k5-p2-c64k5-p2-f1024-10"`,
//! grammar in [`cnn`]) over an image input shape `[c, h, w]`; a recurrent one a layer string
//! (`recurrent = "lstm64-last-9"`, grammar in [`rnn`]) over sequences `[time, features]`.

pub mod cnn;
pub mod rnn;
pub mod size;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::nn::{Activation, DenseConfig, Init, Layer, Role, Sequential};
use crate::regularize::{Bernoulli, Convention, Dropout, DropoutKind};
use crate::rng::Stream;

/// Dropout settings of an MLP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// Convolutional networks: the rate after each convolution's activation (one value for
    /// all, or one per convolution). Empty = none.
    pub conv: Vec<f32>,
    /// Convolutional networks: what `conv` drops: `spatial` (whole channels, default),
    /// `dropblock` (squares of `block_size`), or `bernoulli` (single values).
    pub conv_kind: ConvDropoutKind,
    /// DropBlock's block side (default 3).
    pub block_size: usize,
    /// DropBlock: training steps over which its rate ramps linearly from 0 (0 = none).
    pub ramp_steps: u64,
    /// Recurrent networks: dropout on each LSTM's recurrent state, one mask per sequence.
    pub recurrent: f32,
    /// Recurrent networks: input and between-layer masks are drawn once per sequence and
    /// reused at every time step (Gal & Ghahramani 2016) instead of per step.
    pub variational: bool,
    /// Recurrent networks: DropConnect on each LSTM's recurrent weights (weight dropout).
    pub weight: f32,
    /// Recurrent networks with an embedding: each sequence drops each word type with this
    /// probability (embedding dropout).
    pub embedding: f32,
    /// Recurrent networks: zoneout, the probability that a unit keeps its previous state
    /// (and cell) at a step (Krueger et al. 2017).
    pub zoneout: f32,
}

/// How dropout after a convolution drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ConvDropoutKind {
    /// Whole feature maps, one draw per example and channel (`nn.Dropout2d`).
    #[default]
    Spatial,
    /// Contiguous squares (Ghiasi et al. 2018).
    DropBlock,
    /// Independent values, as on dense layers.
    Bernoulli,
}

impl ConvDropoutKind {
    /// The name as written in configs.
    pub fn name(self) -> &'static str {
        match self {
            ConvDropoutKind::Spatial => "spatial",
            ConvDropoutKind::DropBlock => "dropblock",
            ConvDropoutKind::Bernoulli => "bernoulli",
        }
    }
}

impl Default for DropoutConfig {
    fn default() -> Self {
        DropoutConfig {
            input: 0.0,
            hidden: Vec::new(),
            kind: DropoutKind::Bernoulli,
            convention: Convention::Inverted,
            conv: Vec::new(),
            conv_kind: ConvDropoutKind::Spatial,
            block_size: 3,
            ramp_steps: 0,
            recurrent: 0.0,
            variational: false,
            weight: 0.0,
            embedding: 0.0,
            zoneout: 0.0,
        }
    }
}

fn nth_rate(rates: &[f32], i: usize) -> f32 {
    match rates.len() {
        0 => 0.0,
        1 => rates[0],
        _ => rates.get(i).copied().unwrap_or(0.0),
    }
}

impl DropoutConfig {
    /// The rate after hidden layer `i` of `n`.
    pub fn hidden_rate(&self, i: usize) -> f32 {
        nth_rate(&self.hidden, i)
    }

    /// The rate after convolution `i`.
    pub fn conv_rate(&self, i: usize) -> f32 {
        nth_rate(&self.conv, i)
    }

    /// True when any rate is non-zero.
    pub fn any(&self) -> bool {
        self.input > 0.0 || self.hidden.iter().chain(&self.conv).any(|&p| p > 0.0)
    }

    /// Checks every rate against its kind, and that per-layer lists fit `hidden` dense layers
    /// and `convs` convolutions.
    fn validate(&self, hidden: usize, convs: usize) -> Result<()> {
        // A rate of 1 on the path from input to loss (input, hidden, conv, embedding) would
        // zero every unit there, leaving an output that does not depend on the input: a
        // network that trains at chance without a word. The layers accept p = 1 (zeros, never
        // NaN); a model refuses it.
        let cut = |field: &str, p: f32| {
            if p == 1.0 {
                return Err(Error::config(
                    field,
                    "a rate of 1 drops every unit, so the network's output would not depend on its input; use a rate below 1",
                ));
            }
            Ok(())
        };
        let check_rate = |field: &str, p: f32| {
            match self.kind {
                DropoutKind::Bernoulli | DropoutKind::DropConnect => check::rate(field, p)?,
                _ => check::rate_below_one(field, p)?,
            }
            cut(field, p)
        };
        check_rate("dropout.input", self.input)?;
        for (i, &p) in self.hidden.iter().enumerate() {
            check_rate(&format!("dropout.hidden[{i}]"), p)?;
        }
        for (i, &p) in self.conv.iter().enumerate() {
            let field = format!("dropout.conv[{i}]");
            match self.conv_kind {
                ConvDropoutKind::DropBlock => check::rate_below_one(&field, p)?,
                _ => check::rate(&field, p)?,
            }
            cut(&field, p)?;
        }
        check::rate("dropout.recurrent", self.recurrent)?;
        check::rate("dropout.weight", self.weight)?;
        check::rate("dropout.embedding", self.embedding)?;
        cut("dropout.embedding", self.embedding)?;
        check::rate_below_one("dropout.zoneout", self.zoneout)?;
        if self.block_size == 0 {
            return Err(Error::ZeroWidth {
                field: "dropout.block_size".into(),
            });
        }
        for (field, list, n, what) in [
            ("dropout.hidden", &self.hidden, hidden, "hidden layers"),
            ("dropout.conv", &self.conv, convs, "convolutions"),
        ] {
            if list.len() > 1 && list.len() != n {
                return Err(Error::config(
                    field,
                    format!(
                        "{} rates given for {n} {what} (give one rate for all, or one per layer)",
                        list.len()
                    ),
                ));
            }
        }
        Ok(())
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

/// A multilayer perceptron (`widths`) or a convolutional network (`layers`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// MLP layer widths from input to output, e.g. `[64, 256, 256, 10]`.
    pub widths: Vec<usize>,
    /// A convolutional network's layer string (e.g. `c32k5-p2-c64k5-p2-f1024-10`, grammar in
    /// [`cnn`]); when set, `widths` is unused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<String>,
    /// A recurrent network's layer string (e.g. `lstm64-last-9`, grammar in [`rnn`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrent: Option<String>,
    /// The input shape of a convolutional network `[channels, height, width]` or a recurrent
    /// one `[time, features]` (filled from the data when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_shape: Vec<usize>,
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
            layers: None,
            recurrent: None,
            input_shape: Vec::new(),
            activation: Activation::Relu,
            init: None,
            dropout: DropoutConfig::default(),
            regularization: RegularizationConfig::default(),
        }
    }
}

impl ModelConfig {
    /// Sets the architecture from a model string: `mlp:64-256-256-10` (widths) or
    /// `cnn:c32k5-p2-c64k5-p2-f1024-10` (a layer string, checked here).
    pub fn set_model_string(&mut self, spec: &str) -> Result<()> {
        if let Some(body) = spec.strip_prefix("cnn:") {
            cnn::parse(body)?;
            self.layers = Some(body.to_string());
            self.recurrent = None;
        } else if let Some(body) = spec.strip_prefix("rnn:") {
            rnn::parse(body)?;
            self.recurrent = Some(body.to_string());
            self.layers = None;
        } else {
            self.widths = Self::parse_widths(spec)?;
            self.layers = None;
            self.recurrent = None;
            self.input_shape.clear();
        }
        Ok(())
    }

    /// True for a convolutional network.
    pub fn is_cnn(&self) -> bool {
        self.layers.is_some()
    }

    /// True for a recurrent network.
    pub fn is_rnn(&self) -> bool {
        self.recurrent.is_some()
    }

    /// The per-example input shape the model expects.
    pub fn input_shape(&self) -> Vec<usize> {
        if self.is_cnn() || self.is_rnn() {
            self.input_shape.clone()
        } else {
            self.widths.first().map(|&w| vec![w]).unwrap_or_default()
        }
    }

    /// The number of outputs (classes).
    pub fn outputs(&self) -> Result<usize> {
        match (&self.layers, &self.recurrent) {
            (Some(l), _) => cnn::outputs(l),
            (None, Some(r)) => rnn::outputs(r),
            (None, None) => Ok(self.widths.last().copied().unwrap_or(0)),
        }
    }

    /// Parses `mlp:64-256-256-10` into widths.
    pub fn parse_widths(spec: &str) -> Result<Vec<usize>> {
        let body = spec.strip_prefix("mlp:").ok_or_else(|| {
            Error::config(
                "model",
                format!(
                    "'{spec}' is not a model string (expected mlp:IN-H1-...-OUT, e.g. mlp:64-256-256-10, or cnn:LAYERS, e.g. cnn:c32k5-p2-c64k5-p2-f1024-10)"
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

    /// The model string (`mlp:64-256-256-10` or `cnn:...`).
    pub fn model_string(&self) -> String {
        if let Some(l) = &self.layers {
            return format!("cnn:{l}");
        }
        if let Some(r) = &self.recurrent {
            return format!("rnn:{r}");
        }
        let w: Vec<String> = self.widths.iter().map(|w| w.to_string()).collect();
        format!("mlp:{}", w.join("-"))
    }

    /// Number of hidden layers.
    pub fn hidden_layers(&self) -> usize {
        self.widths.len().saturating_sub(2)
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if let Some(l) = &self.layers {
            let toks = cnn::parse(l)?;
            self.dropout
                .validate(cnn::hidden_dense(&toks), cnn::convolutions(&toks))?;
            return self.regularization.validate();
        }
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
        self.dropout.validate(self.hidden_layers(), 0)?;
        self.regularization.validate()
    }

    /// Builds the network with weights drawn from `seed`.
    pub fn build(&self, seed: u64) -> Result<Sequential> {
        self.validate()?;
        let mut model = match (&self.layers, &self.recurrent) {
            (Some(l), _) => cnn::build(self, l, seed)?,
            (None, Some(r)) => rnn::build(self, r, seed)?,
            (None, None) => self.build_mlp(seed)?,
        };
        apply_regularization(&mut model, &self.regularization);
        Ok(model)
    }

    fn build_mlp(&self, seed: u64) -> Result<Sequential> {
        let init = self.init.unwrap_or_else(|| Init::for_activation(self.activation));
        let d = &self.dropout;
        let mut layers: Vec<Box<dyn Layer>> = Vec::new();
        let dropconnect = d.kind == DropoutKind::DropConnect;
        if d.input > 0.0 && !dropconnect {
            let stream = Stream::new(seed, "dropout.input");
            layers.push(Box::new(Dropout::new(d.kind, d.input, d.convention, stream)?));
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
            let mut dense = DenseConfig::new(fan_in, fan_out)
                .with_activation(act)
                .with_init(init)
                .with_name(&field)
                .init(&mut rng)?;
            let p = if hidden { d.hidden_rate(i) } else { 0.0 };
            let stream = Stream::new(seed, "dropout.hidden").derive_u64(i as u64);
            let mut extra: Option<Box<dyn Layer>> = None;
            if dropconnect {
                // The rate that would drop this layer's input units drops its weights.
                let q = if i == 0 { d.input } else { d.hidden_rate(i - 1) };
                let stream = Stream::new(seed, "dropconnect").derive_u64(i as u64);
                if q > 0.0 {
                    dense = dense.with_dropconnect(Some(Bernoulli::new(q, d.convention, stream)?));
                }
            } else if p > 0.0 {
                if d.kind == DropoutKind::Bernoulli {
                    dense = dense.with_dropout(Some(Bernoulli::new(p, d.convention, stream)?));
                } else {
                    extra = Some(Box::new(Dropout::new(d.kind, p, d.convention, stream)?));
                }
            }
            layers.push(Box::new(dense));
            layers.extend(extra);
        }
        Sequential::new(&[self.widths[0]], layers)
    }
}

/// Sets every parameter's penalties and constraints: weights get all of them, biases and
/// batch-norm scales only when `penalize_bias` (and never max-norm).
fn apply_regularization(model: &mut Sequential, r: &RegularizationConfig) {
    for p in model.params_mut() {
        match p.role {
            Role::Weight => {
                p.reg.l1 = r.l1;
                p.reg.l2 = r.l2;
                p.reg.max_norm = r.max_norm;
                p.reg.decay = true;
            }
            Role::Bias | Role::Scale if r.penalize_bias => {
                p.reg.l1 = r.l1;
                p.reg.l2 = r.l2;
                p.reg.decay = true;
            }
            Role::Bias | Role::Scale => {}
        }
    }
}
