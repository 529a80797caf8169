//! Fully connected layer with a fused epilogue (bias + activation + Bernoulli dropout), and
//! optional DropConnect on its weights.

use super::{Activation, Ctx, Init, Layer, Param, Role};
use crate::error::{Error, Result};
use crate::plan::Bernoulli;
use crate::rng::SeqRng;
use crate::tensor::fused::{backward_epilogue, forward_epilogue};
use crate::tensor::mask::{bit, words_per_row};
use crate::tensor::{DropPlan, Tensor, Trans, gemm};

/// `y = drop(act(x W^T + b))`.
///
/// The weight is stored `[out, in]` (PyTorch's `nn.Linear` layout), so each row is one unit's
/// incoming weight vector. Activation and dropout after the matrix multiply run in one fused
/// pass; the dropout mask is kept as one bit per element for the backward pass. With
/// `Activation::Identity` and no dropout this is a plain linear layer.
///
/// # Shapes
/// `x: [batch, in]` -> `y: [batch, out]`.
///
/// # DropConnect
/// With [`Dense::with_dropconnect`] (Wan et al. 2013) each *weight* is dropped instead of
/// each activation: one Bernoulli mask over `W` per training step, shared by the examples of
/// the minibatch (Wan et al. draw one per example; a per-batch mask is what practical
/// implementations use, at the cost of one pass over `W`). Kept weights are scaled by
/// `1 / (1 - p)` in the inverted convention; the standard one multiplies `W` by `1 - p` at
/// test time. Either way inference is by weight scaling: the mean network.
#[derive(Debug)]
pub struct Dense {
    weight: Param,
    bias: Param,
    act: Activation,
    dropout: Option<Bernoulli>,
    plan: DropPlan,
    bits: Vec<u64>,
    dropconnect: Option<Bernoulli>,
    wplan: DropPlan,
    wbits: Vec<u64>,
    masked: Vec<f32>,
}

/// How to build a [`Dense`] layer: the widths are required, the rest has defaults.
///
/// ```
/// use droplab::nn::{Activation, DenseConfig, Init, Layer};
/// use droplab::rng::Stream;
///
/// let mut rng = Stream::new(1, "init").seq();
/// let dense = DenseConfig::new(64, 256)
///     .with_activation(Activation::Relu)
///     .with_init(Init::He)
///     .init(&mut rng)?;
/// assert_eq!(dense.output_shape(&[64])?, vec![256]);
/// # Ok::<(), droplab::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DenseConfig {
    /// Input features.
    pub input: usize,
    /// Output units.
    pub output: usize,
    /// Activation fused after the affine map (default: identity).
    pub activation: Activation,
    /// Weight initializer (default: Glorot uniform).
    pub init: Init,
    /// The layer's name in error messages (default `dense`; a model gives its config path).
    pub name: String,
}

impl DenseConfig {
    /// A layer `input -> output`, identity activation, Glorot initialization.
    pub fn new(input: usize, output: usize) -> Self {
        DenseConfig {
            input,
            output,
            activation: Activation::Identity,
            init: Init::Glorot,
            name: "dense".into(),
        }
    }

    layer_config_builders!();

    /// The layer, its weights drawn from `rng` (biases start at zero).
    ///
    /// # Errors
    /// [`Error::ZeroWidth`] when a width is 0.
    pub fn init(&self, rng: &mut SeqRng) -> Result<Dense> {
        let (input, output, field) = (self.input, self.output, &self.name);
        if input == 0 {
            return Err(Error::ZeroWidth {
                field: format!("{field}.in"),
            });
        }
        if output == 0 {
            return Err(Error::ZeroWidth {
                field: format!("{field}.out"),
            });
        }
        let mut w = Tensor::zeros(&[output, input]);
        self.init.fill(w.data_mut(), input, output, rng);
        Ok(Dense {
            weight: Param::new("weight", w, Role::Weight),
            bias: Param::new("bias", Tensor::zeros(&[output]), Role::Bias),
            act: self.activation,
            dropout: None,
            plan: DropPlan::Identity,
            bits: Vec::new(),
            dropconnect: None,
            wplan: DropPlan::Identity,
            wbits: Vec::new(),
            masked: Vec::new(),
        })
    }
}

impl Dense {
    /// Adds DropConnect on the weights (see the type's docs).
    pub fn with_dropconnect(mut self, dropconnect: Option<Bernoulli>) -> Self {
        self.dropconnect = dropconnect.filter(|d| d.p() > 0.0);
        self
    }

    /// The DropConnect on the weights, if any.
    pub fn dropconnect(&self) -> Option<&Bernoulli> {
        self.dropconnect.as_ref()
    }

    /// The weight the last forward pass used (masked and scaled under DropConnect).
    pub fn effective_weight(&self) -> &[f32] {
        match self.wplan {
            DropPlan::Identity => self.weight.value.data(),
            _ => &self.masked,
        }
    }

    /// Draws the DropConnect mask for this call into `masked` (or leaves the plain weight).
    fn mask_weights(&mut self, ctx: &Ctx) {
        self.wplan = match &self.dropconnect {
            // One mask over the whole weight matrix: never shared across rows.
            Some(d) => match d.plan(ctx.mode, ctx.step) {
                DropPlan::Mask(mut spec) => {
                    spec.per_unit = false;
                    DropPlan::Mask(spec)
                }
                other => other,
            },
            None => DropPlan::Identity,
        };
        let (i, o) = self.dims();
        let w = self.weight.value.data();
        match &self.wplan {
            DropPlan::Identity => {}
            DropPlan::Scale(s) => {
                self.masked.clear();
                self.masked.extend(w.iter().map(|v| v * s));
            }
            DropPlan::Mask(spec) => {
                let wpr = words_per_row(i);
                self.wbits.resize(o * wpr, 0);
                self.masked.resize(o * i, 0.0);
                for (r, ((words, m), wr)) in self
                    .wbits
                    .chunks_exact_mut(wpr)
                    .zip(self.masked.chunks_exact_mut(i))
                    .zip(w.chunks_exact(i))
                    .enumerate()
                {
                    spec.row_bits(r, words);
                    for (c, (m, &v)) in m.iter_mut().zip(wr).enumerate() {
                        *m = if bit(words, c) { v * spec.scale } else { 0.0 };
                    }
                }
            }
        }
    }

    /// Adds Bernoulli dropout after the activation, fused into the same pass.
    pub fn with_dropout(mut self, dropout: Option<Bernoulli>) -> Self {
        self.dropout = dropout.filter(|d| d.p() > 0.0);
        self
    }

    /// The weight `[out, in]`.
    pub fn weight(&self) -> &Param {
        &self.weight
    }

    /// The bias `[out]`.
    pub fn bias(&self) -> &Param {
        &self.bias
    }

    /// The activation.
    pub fn activation(&self) -> Activation {
        self.act
    }

    /// The fused dropout, if any.
    pub fn dropout(&self) -> Option<&Bernoulli> {
        self.dropout.as_ref()
    }

    /// Bytes the dropout mask of the last forward pass occupies.
    pub fn mask_bytes(&self) -> usize {
        self.bits.len() * 8
    }

    fn dims(&self) -> (usize, usize) {
        let s = self.weight.value.shape();
        (s[1], s[0])
    }
}

impl Layer for Dense {
    fn kind(&self) -> &'static str {
        "dense"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let (i, o) = self.dims();
        let n: usize = input.iter().product();
        if n != i {
            return Err(Error::ShapeMismatch {
                context: "dense input".into(),
                expected: vec![i],
                got: input.to_vec(),
            });
        }
        Ok(vec![o])
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let (i, o) = self.dims();
        let b = x.rows();
        if x.cols() != i {
            return Err(Error::ShapeMismatch {
                context: "dense forward".into(),
                expected: vec![b, i],
                got: x.shape().to_vec(),
            });
        }
        y.resize(&[b, o]);
        self.mask_weights(ctx);
        gemm(
            y.data_mut(),
            x.data(),
            (b, i),
            Trans::N,
            self.effective_weight(),
            (o, i),
            Trans::T,
            false,
            ctx.par,
        );
        self.plan = match &self.dropout {
            Some(d) => d.plan(ctx.mode, ctx.step),
            None => DropPlan::Identity,
        };
        forward_epilogue(
            y.data_mut(),
            o,
            Some(self.bias.value.data()),
            self.act,
            &self.plan,
            &mut self.bits,
        );
        Ok(())
    }

    fn backward(
        &mut self,
        ctx: &Ctx,
        x: &Tensor,
        y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()> {
        let (i, o) = self.dims();
        let b = x.rows();
        if dy.shape() != y.shape() {
            return Err(Error::ShapeMismatch {
                context: "dense backward".into(),
                expected: y.shape().to_vec(),
                got: dy.shape().to_vec(),
            });
        }
        backward_epilogue(dy.data_mut(), y.data(), o, self.act, &self.plan, &self.bits);
        // dW = dA^T X
        gemm(
            self.weight.grad.data_mut(),
            dy.data(),
            (b, o),
            Trans::T,
            x.data(),
            (b, i),
            Trans::N,
            false,
            ctx.par,
        );
        // Under DropConnect only the kept weights receive gradient.
        match &self.wplan {
            DropPlan::Identity => {}
            DropPlan::Scale(s) => self.weight.grad.data_mut().iter_mut().for_each(|g| *g *= s),
            DropPlan::Mask(spec) => {
                let wpr = words_per_row(i);
                for (g, words) in self
                    .weight
                    .grad
                    .data_mut()
                    .chunks_exact_mut(i)
                    .zip(self.wbits.chunks_exact(wpr))
                {
                    for (c, g) in g.iter_mut().enumerate() {
                        *g *= if bit(words, c) { spec.scale } else { 0.0 };
                    }
                }
            }
        }
        // db = column sums of dA
        let db = self.bias.grad.data_mut();
        db.iter_mut().for_each(|v| *v = 0.0);
        for row in dy.data().chunks_exact(o) {
            for (g, &v) in db.iter_mut().zip(row) {
                *g += v;
            }
        }
        // dX = dA W
        if let Some(dx) = dx {
            dx.resize(&[b, i]);
            let w = match self.wplan {
                DropPlan::Identity => self.weight.value.data(),
                _ => &self.masked,
            };
            gemm(
                dx.data_mut(),
                dy.data(),
                (b, o),
                Trans::N,
                w,
                (o, i),
                Trans::N,
                false,
                ctx.par,
            );
        }
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.weight, &self.bias]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight, &mut self.bias]
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        let mut m = vec!["Linear"];
        m.extend(self.act.torch_module());
        if self.dropout.is_some() {
            m.push("Dropout");
        }
        m
    }

    fn torch_specs(&self) -> Vec<String> {
        let s = self.weight.value.shape();
        let mut m = vec![format!("Linear({}, {})", s[1], s[0])];
        m.extend(self.act.torch_module().map(|a| format!("{a}()")));
        if let Some(d) = &self.dropout {
            m.push(format!("Dropout(p={})", d.p()));
        }
        m
    }

    fn test_time_scale(&self) -> f32 {
        self.dropout.map(|d| d.eval_scale()).unwrap_or(1.0)
    }

    fn output_dropout(&self) -> Option<f32> {
        self.dropout.map(|d| d.p())
    }

    fn weight_eval_scale(&self) -> f32 {
        self.dropconnect.map(|d| d.eval_scale()).unwrap_or(1.0)
    }

    fn describe(&self) -> String {
        let (i, o) = self.dims();
        let mut s = format!("dense {i}->{o} {}", self.act.name());
        if let Some(d) = &self.dropout {
            s.push_str(&format!(" + dropout p={} ({})", d.p(), d.convention().name()));
        }
        if let Some(d) = &self.dropconnect {
            s.push_str(&format!(" + dropconnect p={} ({})", d.p(), d.convention().name()));
        }
        s
    }
}
