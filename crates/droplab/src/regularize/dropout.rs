//! The standalone dropout layer: Bernoulli, Gaussian and Alpha dropout on activations
//! (Srivastava et al. 2014; Klambauer et al. 2017). The rate and the two scaling conventions
//! are those of [`crate::plan::Bernoulli`].

use serde::{Deserialize, Serialize};

use super::alpha::AlphaParams;
use super::gaussian;
use crate::error::{Result, check};
use crate::nn::{Ctx, Layer, Mode};
use crate::plan::mask_plan;
use crate::plan::{Bernoulli, Convention};
use crate::rng::Stream;
use crate::tensor::fused::forward_epilogue;
use crate::tensor::mask::{bit, words_per_row};
use crate::tensor::{DropPlan, Tensor};

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
    /// A dropout layer of `kind` with rate `p`, its masks (or noise) drawn from `stream`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidRate`] unless `p` lies in `[0, 1]` for Bernoulli and `[0, 1)`
    /// for Gaussian and Alpha dropout; an error for DropConnect, which drops weights.
    pub fn new(kind: DropoutKind, p: f32, convention: Convention, stream: Stream) -> Result<Self> {
        match kind {
            DropoutKind::Bernoulli => check::rate("p", p)?,
            DropoutKind::Gaussian | DropoutKind::Alpha => check::rate_below_one("p", p)?,
            DropoutKind::DropConnect => {
                return Err(crate::error::Error::config(
                    "kind",
                    "dropconnect drops weights, not activations: set it as the model's dropout.kind",
                ));
            }
        }
        Ok(Dropout {
            kind,
            bernoulli: Bernoulli::new(p, convention, stream)?,
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
        self.bernoulli.p()
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
                mask_plan(self.bernoulli.stream(), self.bernoulli.p(), mode, step, 1.0, 1.0)
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
                let sigma = gaussian::sigma(self.bernoulli.p());
                for (r, row) in y.data_mut().chunks_exact_mut(cols).enumerate() {
                    gaussian::apply_noise(spec, sigma, r, row);
                }
            }
            (DropoutKind::Alpha, DropPlan::Mask(spec)) => {
                let a = AlphaParams::new(self.bernoulli.p());
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
                let sigma = gaussian::sigma(self.bernoulli.p());
                for (r, row) in dy.data_mut().chunks_exact_mut(cols).enumerate() {
                    gaussian::apply_noise(spec, sigma, r, row);
                }
            }
            (DropoutKind::Alpha, DropPlan::Mask(_)) => {
                let a = AlphaParams::new(self.bernoulli.p());
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

    fn torch_specs(&self) -> Vec<String> {
        let p = self.bernoulli.p();
        vec![match self.kind {
            DropoutKind::Bernoulli | DropoutKind::DropConnect => format!("Dropout(p={p})"),
            // PyTorch has no Gaussian dropout; in eval() it is the identity either way.
            DropoutKind::Gaussian => "Identity()".into(),
            DropoutKind::Alpha => format!("AlphaDropout(p={p})"),
        }]
    }

    fn describe(&self) -> String {
        format!("{} p={}", Layer::kind(self), self.bernoulli.p())
    }

    fn output_dropout(&self) -> Option<f32> {
        Some(self.bernoulli.p())
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
