//! A stack of layers that owns every activation and gradient buffer.

use super::{Ctx, Layer, Param};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Layers applied in order. Buffers are allocated once and reused across steps.
pub struct Sequential {
    input_shape: Vec<usize>,
    layers: Vec<Box<dyn Layer>>,
    acts: Vec<Tensor>,
    grads: Vec<Tensor>,
}

impl std::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.layers.iter().map(|l| l.describe()))
            .finish()
    }
}

impl Sequential {
    /// Chains `layers` after checking that each accepts its predecessor's output shape.
    /// `input_shape` is per example (no batch axis).
    pub fn new(input_shape: &[usize], layers: Vec<Box<dyn Layer>>) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::config("model", "a model needs at least one layer"));
        }
        let mut shape = input_shape.to_vec();
        for l in &layers {
            shape = l.output_shape(&shape)?;
        }
        let n = layers.len();
        Ok(Sequential {
            input_shape: input_shape.to_vec(),
            layers,
            acts: vec![Tensor::default(); n],
            grads: vec![Tensor::default(); n],
        })
    }

    /// The per-example input shape.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// The per-example output shape.
    pub fn output_shape(&self) -> Vec<usize> {
        let mut shape = self.input_shape.clone();
        for l in &self.layers {
            shape = l.output_shape(&shape).unwrap_or_default();
        }
        shape
    }

    /// The layers.
    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    /// The layers, mutable.
    pub fn layers_mut(&mut self) -> &mut [Box<dyn Layer>] {
        &mut self.layers
    }

    /// The output of layer `i` from the last forward pass.
    pub fn activation(&self, i: usize) -> &Tensor {
        &self.acts[i]
    }

    /// Runs every layer on `x` (`[batch, ...input_shape]`) and returns the output.
    pub fn forward(&mut self, ctx: &Ctx, x: &Tensor) -> Result<&Tensor> {
        let per: usize = self.input_shape.iter().product();
        if x.cols() != per {
            return Err(Error::ShapeMismatch {
                context: "model input".into(),
                expected: std::iter::once(x.rows())
                    .chain(self.input_shape.iter().copied())
                    .collect(),
                got: x.shape().to_vec(),
            });
        }
        for i in 0..self.layers.len() {
            let (prev, rest) = self.acts.split_at_mut(i);
            let input = if i == 0 { x } else { &prev[i - 1] };
            self.layers[i].forward(ctx, input, &mut rest[0])?;
        }
        Ok(self.acts.last().expect("non-empty"))
    }

    /// Back-propagates `dout = dL/d(output)` (used as scratch) through every layer, filling
    /// each parameter's gradient. `x` must be the input of the last forward pass.
    /// When `dx` is given, it receives `dL/dx`.
    pub fn backward(
        &mut self,
        ctx: &Ctx,
        x: &Tensor,
        dout: &mut Tensor,
        mut dx: Option<&mut Tensor>,
    ) -> Result<()> {
        let n = self.layers.len();
        // A layer's input gradient is needed only if some layer before it has parameters
        // (or the caller asked for dL/dx): e.g. never for a Dense right after input dropout.
        let wanted = dx.is_some();
        let mut upstream_params: Vec<bool> = Vec::with_capacity(n);
        let mut any = false;
        for l in &self.layers {
            upstream_params.push(any || wanted);
            any |= !l.params().is_empty();
        }
        for i in (0..n).rev() {
            let input = if i == 0 { x } else { &self.acts[i - 1] };
            let output = &self.acts[i];
            let (gl, gr) = self.grads.split_at_mut(i);
            let dy: &mut Tensor = if i == n - 1 { &mut *dout } else { &mut gr[0] };
            let dxi = if !upstream_params[i] {
                None
            } else if i > 0 {
                Some(&mut gl[i - 1])
            } else {
                dx.as_deref_mut()
            };
            self.layers[i].backward(ctx, input, output, dy, dxi)?;
            if !upstream_params[i] {
                break;
            }
        }
        Ok(())
    }

    /// Every parameter, layer by layer.
    pub fn params(&self) -> Vec<&Param> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }

    /// Every parameter, mutable, in the order of [`Sequential::params`].
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }

    /// Every buffer (non-trained state such as batch norm's running statistics), layer by
    /// layer, with the name PyTorch's `nn.Sequential` would give it (`"3.running_mean"`).
    pub fn buffers(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::new();
        let mut index = 0;
        for l in &self.layers {
            for (name, t) in l.buffers() {
                out.push((format!("{index}.{name}"), t));
            }
            index += l.torch_modules().len();
        }
        out
    }

    /// Every buffer, mutable, in the order of [`Sequential::buffers`].
    pub fn buffers_mut(&mut self) -> Vec<&mut Tensor> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.buffers_mut().into_iter().map(|(_, t)| t))
            .collect()
    }

    /// A copy of the whole model state: parameter values, then buffers.
    pub fn state(&self) -> Vec<Tensor> {
        let mut s: Vec<Tensor> = self.params().iter().map(|p| p.value.clone()).collect();
        s.extend(self.buffers().into_iter().map(|(_, t)| t.clone()));
        s
    }

    /// Restores a state taken by [`Sequential::state`] from this same model.
    pub fn load_state(&mut self, state: &[Tensor]) {
        let np = self.params().len();
        for (p, v) in self.params_mut().into_iter().zip(state) {
            p.value.data_mut().copy_from_slice(v.data());
        }
        for (b, v) in self.buffers_mut().into_iter().zip(&state[np.min(state.len())..]) {
            b.data_mut().copy_from_slice(v.data());
        }
    }

    /// Known pitfalls of this stack, one line each: dropout feeding straight into batch
    /// normalization shifts the variance batch norm sees between training and test time
    /// (Li et al. 2019, "variance shift").
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, pair) in self.layers.windows(2).enumerate() {
            if let (Some(p), "batchnorm") = (pair[0].output_dropout(), pair[1].kind()) {
                out.push(format!(
                    "layer {} ({}) applies dropout p={p} straight into batch norm (layer {}): its variance differs between training and test time (variance shift); put dropout after the last batch norm instead",
                    i,
                    pair[0].describe(),
                    i + 1
                ));
            }
        }
        out
    }

    /// One line per layer: what it is (with its regularizers), its per-example output shape
    /// and its trainable values, for a model summary.
    pub fn summary(&self) -> Vec<(String, Vec<usize>, usize)> {
        let mut shape = self.input_shape.clone();
        self.layers
            .iter()
            .map(|l| {
                shape = l.output_shape(&shape).unwrap_or_default();
                let params = l.params().iter().map(|p| p.value.len()).sum();
                (l.describe(), shape.clone(), params)
            })
            .collect()
    }

    /// Total number of trainable values.
    pub fn param_count(&self) -> usize {
        self.params().iter().map(|p| p.value.len()).sum()
    }

    /// The names each parameter would have in a PyTorch `nn.Sequential` built from
    /// [`Layer::torch_modules`] (`"1.weight"`, `"1.bias"`, ...), in parameter order.
    pub fn torch_param_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut index = 0;
        for l in &self.layers {
            let ps = l.params();
            for p in &ps {
                names.push(format!("{index}.{}", p.name));
            }
            index += l.torch_modules().len();
        }
        names
    }

    /// For each parameter (in [`Sequential::params`] order), the factor that folds the
    /// preceding layer's [`Layer::test_time_scale`] into it: weights get the factor, biases 1.
    pub fn torch_fold_factors(&self) -> Vec<f32> {
        let mut out = Vec::new();
        let mut prev = 1.0;
        for l in &self.layers {
            let own = l.weight_eval_scale();
            for p in l.params() {
                out.push(if p.role == super::Role::Weight {
                    prev * own
                } else {
                    1.0
                });
            }
            prev = l.test_time_scale();
        }
        out
    }

    /// The PyTorch modules of the whole stack, in order.
    pub fn torch_modules(&self) -> Vec<&'static str> {
        self.layers.iter().flat_map(|l| l.torch_modules()).collect()
    }

    /// [`Layer::torch_specs`] of every layer, in order: an `nn.Sequential`'s constructor calls.
    pub fn torch_specs(&self) -> Vec<String> {
        self.layers.iter().flat_map(|l| l.torch_specs()).collect()
    }
}
