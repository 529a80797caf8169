//! The mode of a call and the dropout plan it implies.
//!
//! This sits below the layers ([`crate::nn`]) and the regularizers ([`crate::regularize`])
//! that use it: a layer with fused dropout (Dense, the recurrent layers, Embedding) asks its
//! [`Bernoulli`] for a [`DropPlan`] in the current [`Mode`], and the fused kernels of
//! [`crate::tensor`] execute it.
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

use crate::error::{Result, check};
use crate::rng::Stream;
use crate::tensor::{DropPlan, MaskSpec, mask};

/// How stochastic layers behave in one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Training: masks are drawn per element and step.
    #[default]
    Train,
    /// Inference: dropout is off (identity, or the standard convention's test-time scaling).
    Eval,
    /// Inference with dropout left on, a fresh mask per element and pass (`Ctx::step` is the
    /// pass index); nothing else changes.
    MonteCarlo,
    /// One fixed thinned network: a mask per unit, shared by every example, chosen by the seed.
    Frozen(u64),
}

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

/// Bernoulli dropout with drop probability `p`, keyed by its own stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bernoulli {
    p: f32,
    convention: Convention,
    stream: Stream,
}

impl Bernoulli {
    /// Dropout with drop probability `p` under `convention`, its masks drawn from `stream`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidRate`] unless `p` lies in `[0, 1]` (a model's config checks its
    /// rates, naming their fields, before it builds any layer).
    pub fn new(p: f32, convention: Convention, stream: Stream) -> Result<Self> {
        check::rate("p", p)?;
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

    /// The stream its masks are drawn from.
    pub fn stream(&self) -> Stream {
        self.stream
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
pub fn mask_plan(stream: Stream, p: f32, mode: Mode, step: u64, train: f32, eval: f32) -> DropPlan {
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
