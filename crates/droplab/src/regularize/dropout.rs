//! Bernoulli dropout (Srivastava et al. 2014) and the standalone dropout layer.
//!
//! The rate `p` is the *drop* probability, in `[0, 1]`. Two conventions give the same
//! expected output:
//!
//! * [`Convention::Inverted`] (default): in training kept units are scaled by `1 / (1 - p)`;
//!   at test time the layer is the identity.
//! * [`Convention::Standard`] (the paper's): training leaves kept units unscaled; at test time
//!   outputs are multiplied by the keep probability `1 - p`.
//!
//! `p = 0` is the identity and `p = 1` gives zeros (never NaN) under both.

use serde::{Deserialize, Serialize};

use super::alpha::AlphaParams;
use super::gaussian;
use crate::error::{Result, check};
use crate::nn::{Ctx, Layer, Mode};
use crate::rng::Stream;
use crate::tensor::fused::forward_epilogue;
use crate::tensor::mask::{bit, words_per_row};
use crate::tensor::{DropPlan, MaskSpec, Tensor, mask};

/// Where the scaling of Bernoulli dropout happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Convention {
    /// Scale kept units by `1 / (1 - p)` in training; identity at test time.
    #[default]
    Inverted,
    /// No scaling in training; multiply by `1 - p` at test time (Srivastava et al. 2014).
    Standard,
}

impl Convention {
    /// The name as written in configs.
    pub fn name(self) -> &'static str {
        match self {
            Convention::Inverted => "inverted",
            Convention::Standard => "standard",
        }
    }
}

/// The members of the dropout family that act on activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DropoutKind {
    /// Multiply by a Bernoulli(1 - p) mask.
    #[default]
    Bernoulli,
    /// Multiply by noise from `N(1, p / (1 - p))` (Srivastava et al. 2014, section 10).
    Gaussian,
    /// Alpha dropout for SELU networks (Klambauer et al. 2017).
    Alpha,
    /// DropConnect (Wan et al. 2013): the rates drop the weights of the layer that consumes
    /// those units rather than the units (see [`crate::nn::Dense`]); a model-level choice.
    DropConnect,
}

/// Bernoulli dropout with drop probability `p`, keyed by its own stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bernoulli {
    p: f32,
    convention: Convention,
    stream: Stream,
}

impl Bernoulli {
    /// Dropout with rate `p` (checked to lie in `[0, 1]`; `field` names it in errors).
    pub fn new(field: &str, p: f32, convention: Convention, stream: Stream) -> Result<Self> {
        check::rate(field, p)?;
        Ok(Bernoulli {
            p,
            convention,
            stream,
        })
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// The same dropout under another convention.
    pub fn with_convention(mut self, convention: Convention) -> Self {
        self.convention = convention;
        self
    }

    /// The scaling convention.
    pub fn convention(&self) -> Convention {
        self.convention
    }

    /// The multiplier of kept units when a mask is drawn.
    pub fn train_scale(&self) -> f32 {
        match self.convention {
            Convention::Inverted if self.p < 1.0 => 1.0 / (1.0 - self.p),
            Convention::Inverted => 0.0,
            Convention::Standard => 1.0,
        }
    }

    /// The multiplier at test time (no mask).
    pub fn eval_scale(&self) -> f32 {
        match self.convention {
            Convention::Inverted => 1.0,
            Convention::Standard => 1.0 - self.p,
        }
    }

    /// What to do in `mode` at `step`.
    pub fn plan(&self, mode: Mode, step: u64) -> DropPlan {
        mask_plan(
            self.stream,
            self.p,
            mode,
            step,
            self.train_scale(),
            self.eval_scale(),
        )
    }
}

/// The plan of a mask-based dropout in `mode`: a per-element mask in training and Monte Carlo
/// passes (from different streams), a per-unit mask for a frozen thinned network, and a
/// constant at test time.
pub(crate) fn mask_plan(stream: Stream, p: f32, mode: Mode, step: u64, train: f32, eval: f32) -> DropPlan {
    let spec = |stream: Stream, step: u64, per_unit: bool| {
        DropPlan::Mask(MaskSpec {
            stream,
            step,
            threshold: mask::threshold(p),
            scale: train,
            per_unit,
        })
    };
    if p == 0.0 {
        return DropPlan::Identity;
    }
    match mode {
        Mode::Train => spec(stream, step, false),
        Mode::MonteCarlo => spec(stream.derive("monte-carlo"), step, false),
        Mode::Frozen(seed) => spec(stream.derive("frozen").derive_u64(seed), 0, true),
        Mode::Eval if eval == 1.0 => DropPlan::Identity,
        Mode::Eval => DropPlan::Scale(eval),
    }
}

/// A standalone dropout layer of any kind (Bernoulli, Gaussian, Alpha).
///
/// Bernoulli and Alpha masks are kept as one bit per element between forward and backward;
/// Gaussian noise is regenerated from its counter in the backward pass.
#[derive(Debug)]
pub struct Dropout {
    kind: DropoutKind,
    bernoulli: Bernoulli,
    plan: DropPlan,
    bits: Vec<u64>,
}

impl Dropout {
    /// A dropout layer; `p` must lie in `[0, 1]` for Bernoulli and `[0, 1)` for the others.
    pub fn new(
        field: &str,
        kind: DropoutKind,
        p: f32,
        convention: Convention,
        stream: Stream,
    ) -> Result<Self> {
        match kind {
            DropoutKind::Bernoulli => check::rate(field, p)?,
            DropoutKind::Gaussian | DropoutKind::Alpha => check::rate_below_one(field, p)?,
            DropoutKind::DropConnect => {
                return Err(crate::error::Error::config(
                    field,
                    "dropconnect drops weights, not activations: set it as the model's dropout.kind",
                ));
            }
        }
        Ok(Dropout {
            kind,
            bernoulli: Bernoulli {
                p,
                convention,
                stream,
            },
            plan: DropPlan::Identity,
            bits: Vec::new(),
        })
    }

    /// The kind.
    pub fn kind(&self) -> DropoutKind {
        self.kind
    }

    /// The rate.
    pub fn p(&self) -> f32 {
        self.bernoulli.p
    }

    /// Bytes the mask of the last forward pass occupies.
    pub fn mask_bytes(&self) -> usize {
        self.bits.len() * 8
    }

    fn plan(&self, mode: Mode, step: u64) -> DropPlan {
        match self.kind {
            DropoutKind::Bernoulli | DropoutKind::DropConnect => self.bernoulli.plan(mode, step),
            // Gaussian and Alpha dropout are unbiased by construction: identity at test time.
            DropoutKind::Gaussian | DropoutKind::Alpha => {
                mask_plan(self.bernoulli.stream, self.bernoulli.p, mode, step, 1.0, 1.0)
            }
        }
    }
}

impl Layer for Dropout {
    fn kind(&self) -> &'static str {
        match self.kind {
            DropoutKind::Bernoulli | DropoutKind::DropConnect => "dropout",
            DropoutKind::Gaussian => "gaussian_dropout",
            DropoutKind::Alpha => "alpha_dropout",
        }
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        y.resize(x.shape());
        y.data_mut().copy_from_slice(x.data());
        self.plan = self.plan(ctx.mode, ctx.step);
        let cols = x.cols();
        match (self.kind, &self.plan) {
            (_, DropPlan::Identity) => self.bits.clear(),
            (DropoutKind::Bernoulli | DropoutKind::DropConnect, plan) => forward_epilogue(
                y.data_mut(),
                cols,
                None,
                crate::nn::Activation::Identity,
                plan,
                &mut self.bits,
            ),
            (DropoutKind::Gaussian, DropPlan::Mask(spec)) => {
                let sigma = gaussian::sigma(self.bernoulli.p);
                for (r, row) in y.data_mut().chunks_exact_mut(cols).enumerate() {
                    gaussian::apply_noise(spec, sigma, r, row);
                }
            }
            (DropoutKind::Alpha, DropPlan::Mask(spec)) => {
                let a = AlphaParams::new(self.bernoulli.p);
                let wpr = words_per_row(cols);
                self.bits.resize(x.rows() * wpr, 0);
                for (r, (row, words)) in y
                    .data_mut()
                    .chunks_exact_mut(cols)
                    .zip(self.bits.chunks_exact_mut(wpr))
                    .enumerate()
                {
                    spec.row_bits(r, words);
                    for (c, v) in row.iter_mut().enumerate() {
                        *v = a.apply(*v, bit(words, c));
                    }
                }
            }
            (_, DropPlan::Scale(_)) => unreachable!("gaussian and alpha dropout never scale"),
        }
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
        let Some(dx) = dx else { return Ok(()) };
        let cols = y.cols();
        match (self.kind, &self.plan) {
            (_, DropPlan::Identity) => {}
            (DropoutKind::Bernoulli | DropoutKind::DropConnect, plan) => {
                backward_bernoulli(dy.data_mut(), cols, plan, &self.bits);
            }
            (DropoutKind::Gaussian, DropPlan::Mask(spec)) => {
                let sigma = gaussian::sigma(self.bernoulli.p);
                for (r, row) in dy.data_mut().chunks_exact_mut(cols).enumerate() {
                    gaussian::apply_noise(spec, sigma, r, row);
                }
            }
            (DropoutKind::Alpha, DropPlan::Mask(_)) => {
                let a = AlphaParams::new(self.bernoulli.p);
                let wpr = words_per_row(cols);
                for (row, words) in dy
                    .data_mut()
                    .chunks_exact_mut(cols)
                    .zip(self.bits.chunks_exact(wpr))
                {
                    for (c, v) in row.iter_mut().enumerate() {
                        *v *= if bit(words, c) { a.a } else { 0.0 };
                    }
                }
            }
            (_, DropPlan::Scale(_)) => unreachable!("gaussian and alpha dropout never scale"),
        }
        dx.resize(dy.shape());
        dx.data_mut().copy_from_slice(dy.data());
        Ok(())
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec![match self.kind {
            DropoutKind::Bernoulli | DropoutKind::DropConnect => "Dropout",
            DropoutKind::Gaussian => "GaussianDropout",
            DropoutKind::Alpha => "AlphaDropout",
        }]
    }

    fn describe(&self) -> String {
        format!("{} p={}", Layer::kind(self), self.bernoulli.p)
    }

    fn output_dropout(&self) -> Option<f32> {
        Some(self.bernoulli.p)
    }

    fn test_time_scale(&self) -> f32 {
        match self.kind {
            DropoutKind::Bernoulli | DropoutKind::DropConnect => self.bernoulli.eval_scale(),
            DropoutKind::Gaussian | DropoutKind::Alpha => 1.0,
        }
    }
}

/// `dy <- dy * mask * scale` (or `dy * scale` for a constant plan), in place.
fn backward_bernoulli(dy: &mut [f32], cols: usize, plan: &DropPlan, bits: &[u64]) {
    match plan {
        DropPlan::Identity => {}
        DropPlan::Scale(s) => dy.iter_mut().for_each(|v| *v *= s),
        DropPlan::Mask(spec) => {
            let wpr = words_per_row(cols);
            for (row, words) in dy.chunks_exact_mut(cols).zip(bits.chunks_exact(wpr)) {
                for (c, v) in row.iter_mut().enumerate() {
                    *v *= if bit(words, c) { spec.scale } else { 0.0 };
                }
            }
        }
    }
}
