//! Layers with explicit forward and backward passes.
//!
//! A [`Layer`] maps a batch `x` to a batch `y` and back-propagates `dy` into its parameter
//! gradients and (when asked) `dx`. Layers do not store their inputs or outputs:
//! [`Sequential`] owns every activation buffer and hands each layer its own input and output
//! in both passes, so a layer caches only what nothing else has (a dropout mask as bits).
//!
//! Modes are explicit: each call receives a [`Ctx`] with a [`Mode`] and the step counter.

/// The builder methods every layer config shares: `with_activation`, `with_init`,
/// `with_name` (the config has `activation`, `init` and `name` fields).
macro_rules! layer_config_builders {
    () => {
        /// The same with another activation.
        pub fn with_activation(mut self, activation: Activation) -> Self {
            self.activation = activation;
            self
        }

        /// The same with another initializer.
        pub fn with_init(mut self, init: Init) -> Self {
            self.init = init;
            self
        }

        /// The same, named `name` in error messages.
        pub fn with_name(mut self, name: impl Into<String>) -> Self {
            self.name = name.into();
            self
        }
    };
}

mod activation;
mod batchnorm;
mod conv;
mod dense;
mod drawn;
mod embedding;
mod init;
mod loss;
mod pool;
mod rnn;
mod sequential;

pub use crate::tensor::Activation;
pub use activation::Act;
pub use batchnorm::BatchNorm;
pub use conv::{Conv2d, Conv2dConfig};
pub use dense::{Dense, DenseConfig};
pub use embedding::Embedding;
pub use init::Init;
pub use loss::{Loss, LossOutput, Targets};
pub use pool::{Flatten, GlobalAvgPool, Pool2d, PoolKind};
pub use rnn::{Gru, Lstm, SeqPool, SeqPoolKind};
pub use sequential::Sequential;

pub use crate::plan::Mode;

use crate::error::Result;
use crate::tensor::Tensor;

/// What every layer call receives.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The mode of this call.
    pub mode: Mode,
    /// The training step (or Monte Carlo pass) counter that keys masks.
    pub step: u64,
    /// faer's parallelism for GEMM inside the current pool.
    pub par: faer::Par,
    /// Sequence batches `[batch, time, features]`: each sequence's true length (steps past it
    /// are padding). `None`: every sequence fills the time axis.
    pub lengths: Option<&'a [usize]>,
}

impl Ctx<'static> {
    /// A context for `mode` at `step`, sequential GEMM.
    pub fn new(mode: Mode, step: u64) -> Self {
        Ctx {
            mode,
            step,
            par: faer::Par::Seq,
            lengths: None,
        }
    }
}

impl<'a> Ctx<'a> {
    /// The same context with another GEMM parallelism.
    pub fn with_par(mut self, par: faer::Par) -> Self {
        self.par = par;
        self
    }

    /// The same context with the batch's sequence lengths.
    pub fn with_lengths<'b>(self, lengths: Option<&'b [usize]>) -> Ctx<'b> {
        Ctx {
            mode: self.mode,
            step: self.step,
            par: self.par,
            lengths,
        }
    }

    /// Every sequence's length in a batch of `b` sequences on a time axis `t` long.
    pub fn lengths_of(&self, b: usize, t: usize) -> Vec<usize> {
        (0..b).map(|i| self.length(i, t)).collect()
    }

    /// The length of sequence `b` of a batch whose time axis is `t` long.
    pub fn length(&self, b: usize, t: usize) -> usize {
        self.lengths.and_then(|l| l.get(b).copied()).unwrap_or(t).min(t)
    }
}

/// The `(channels, height, width)` of a per-example image shape, or a shape error naming
/// `layer` (every layer that works on images checks its input this way).
pub(crate) fn image_dims(input: &[usize], layer: &str) -> Result<(usize, usize, usize)> {
    match input {
        [c, h, w] => Ok((*c, *h, *w)),
        _ => Err(crate::error::Error::ShapeMismatch {
            context: format!("{layer} input (expected [channels, height, width])"),
            expected: vec![0, 0, 0],
            got: input.to_vec(),
        }),
    }
}

/// What a parameter is, for the regularizers that treat weights and biases differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A weight matrix stored `[units, fan_in]`: each row is one unit's incoming weights.
    Weight,
    /// A bias vector.
    Bias,
    /// A learned per-channel scale (batch norm's `weight`): treated like a bias by the
    /// regularizers (no penalty, no max-norm) unless biases are penalized too.
    Scale,
}

/// Per-parameter regularization, set by the model builder.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ParamReg {
    /// L1 coefficient: adds `l1 * sum |w|` to the loss.
    pub l1: f32,
    /// L2 coefficient: adds `l2 / 2 * sum w^2` to the loss (gradient `l2 * w`, PyTorch's
    /// `weight_decay`).
    pub l2: f32,
    /// Max-norm bound `c` on each unit's incoming weight vector (rows of a weight), if any.
    pub max_norm: Option<f32>,
    /// Decoupled weight decay applies (AdamW).
    pub decay: bool,
}

/// A trainable tensor with its gradient.
#[derive(Clone, Debug)]
pub struct Param {
    /// Name within its layer (`weight`, `bias`).
    pub name: &'static str,
    /// The values.
    pub value: Tensor,
    /// The gradient, same shape.
    pub grad: Tensor,
    /// Weight or bias.
    pub role: Role,
    /// Regularization applied to it.
    pub reg: ParamReg,
}

impl Param {
    /// A parameter with a zero gradient.
    pub fn new(name: &'static str, value: Tensor, role: Role) -> Self {
        let grad = Tensor::zeros(value.shape());
        Param {
            name,
            value,
            grad,
            role,
            reg: ParamReg::default(),
        }
    }
}

/// A layer with explicit forward and backward passes.
///
/// Shapes given to [`Layer::output_shape`] are per example (no batch axis); tensors passed to
/// `forward` and `backward` carry the batch as their first axis.
pub trait Layer: Send {
    /// A short name of the layer type (`dense`, `relu`, `dropout`, ...).
    fn kind(&self) -> &'static str;

    /// The per-example output shape for a per-example input shape, or a shape error.
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>>;

    /// `y = f(x)`; `y` is resized by the layer.
    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()>;

    /// Given `x`, `y` (this layer's input and output from the last forward call) and
    /// `dy = dL/dy`, accumulate nothing: *overwrite* parameter gradients with `dL/dθ` and, when
    /// `dx` is given, write `dL/dx` into it. `dy` may be used as scratch space.
    fn backward(
        &mut self,
        ctx: &Ctx,
        x: &Tensor,
        y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()>;

    /// Parameters, in a fixed order.
    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }

    /// Parameters, mutable, in the same order.
    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }

    /// State that is not trained by gradients but belongs to the model (batch norm's running
    /// statistics), by name, in a fixed order: saved with the weights and restored with them.
    fn buffers(&self) -> Vec<(&'static str, &Tensor)> {
        Vec::new()
    }

    /// The buffers, mutable, in the same order.
    fn buffers_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        Vec::new()
    }

    /// The rate of the dropout this layer applies to its *output* (a dropout layer, or a
    /// fused dropout), if any: used to warn about dropout feeding batch norm.
    fn output_dropout(&self) -> Option<f32> {
        None
    }

    /// A factor by which this layer's test-time computation scales its *own* weight
    /// (DropConnect in the standard convention: `1 - p`); 1 otherwise. Exporters fold it
    /// into the weight.
    fn weight_eval_scale(&self) -> f32 {
        1.0
    }

    /// The PyTorch modules this layer stands for, in order (`Linear`, `ReLU`, `Dropout`):
    /// used to name exported weights as a PyTorch `nn.Sequential` would.
    fn torch_modules(&self) -> Vec<&'static str>;

    /// The same modules as PyTorch constructor calls with every size they need
    /// (`Linear(64, 800)`, `Conv2d(1, 32, kernel_size=5, stride=1, padding=2)`,
    /// `Dropout(p=0.5)`), so that a PyTorch user can rebuild the network from them. The default
    /// is each module without arguments.
    fn torch_specs(&self) -> Vec<String> {
        self.torch_modules().iter().map(|m| format!("{m}()")).collect()
    }

    /// A one-line description for logs and records.
    fn describe(&self) -> String;

    /// The constant factor by which this layer's test-time (Eval) output differs from what
    /// the PyTorch modules of [`Layer::torch_modules`] compute in `eval()`: `1 - p` for
    /// dropout in the standard convention, 1 otherwise. Exporters fold it into the next
    /// layer's weights so that PyTorch reproduces droplab's predictions.
    fn test_time_scale(&self) -> f32 {
        1.0
    }
}
