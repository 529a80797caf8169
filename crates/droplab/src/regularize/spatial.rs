//! Spatial dropout (Tompson et al. 2015; PyTorch's `nn.Dropout2d`): whole feature maps are
//! dropped, one Bernoulli draw per example and channel, because neighbouring pixels of a map
//! are so correlated that dropping single pixels barely regularizes a convolution.

use crate::error::Result;
use crate::nn::{Ctx, Layer, image_dims};
use crate::plan::Bernoulli;
use crate::tensor::mask::{bit, words_per_row};
use crate::tensor::{DropPlan, Tensor};

/// Drops whole channels of `[c, h, w]` inputs with probability `p` (either convention).
///
/// The mask of example `r` is the bit row `r` of the layer's stream at the step (one bit per
/// channel); a frozen thinned network drops the same channels for every example.
#[derive(Debug)]
pub struct SpatialDropout {
    bernoulli: Bernoulli,
    plan: DropPlan,
    bits: Vec<u64>,
}

impl SpatialDropout {
    /// Channel dropout with the rate and convention of `bernoulli`.
    pub fn new(bernoulli: Bernoulli) -> Self {
        SpatialDropout {
            bernoulli,
            plan: DropPlan::Identity,
            bits: Vec::new(),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.bernoulli.p()
    }

    /// Bytes the mask of the last forward pass occupies (one bit per example and channel).
    pub fn mask_bytes(&self) -> usize {
        self.bits.len() * 8
    }

    /// Multiplies each channel plane of `data` (`[batch, c, l]`, `l >= 1`) by its factor.
    fn apply(&self, data: &mut [f32], batch: usize, c: usize) {
        match &self.plan {
            DropPlan::Identity => {}
            DropPlan::Scale(s) => data.iter_mut().for_each(|v| *v *= s),
            DropPlan::Mask(spec) => {
                let wpr = words_per_row(c);
                let ex = data.len() / batch.max(1);
                let l = (ex / c.max(1)).max(1);
                for (e, words) in data.chunks_exact_mut(ex.max(1)).zip(self.bits.chunks_exact(wpr)) {
                    for (ch, plane) in e.chunks_exact_mut(l).enumerate() {
                        let f = if bit(words, ch) { spec.scale } else { 0.0 };
                        if f != 1.0 {
                            plane.iter_mut().for_each(|v| *v *= f);
                        }
                    }
                }
            }
        }
    }
}

fn channels(input: &[usize]) -> Result<usize> {
    Ok(image_dims(input, "spatial dropout")?.0)
}

impl Layer for SpatialDropout {
    fn kind(&self) -> &'static str {
        "spatial_dropout"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        channels(input)?;
        Ok(input.to_vec())
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let c = channels(&x.shape()[1..])?;
        y.resize(x.shape());
        y.data_mut().copy_from_slice(x.data());
        self.plan = self.bernoulli.plan(ctx.mode, ctx.step);
        if let DropPlan::Mask(spec) = &self.plan {
            let wpr = words_per_row(c);
            self.bits.resize(x.rows() * wpr, 0);
            for (r, words) in self.bits.chunks_exact_mut(wpr).enumerate() {
                spec.row_bits(r, words);
            }
        } else {
            self.bits.clear();
        }
        self.apply(y.data_mut(), x.rows(), c);
        Ok(())
    }

    fn backward(
        &mut self,
        _ctx: &Ctx,
        x: &Tensor,
        _y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()> {
        let Some(dx) = dx else { return Ok(()) };
        let c = channels(&x.shape()[1..])?;
        self.apply(dy.data_mut(), x.rows(), c);
        dx.resize(dy.shape());
        dx.data_mut().copy_from_slice(dy.data());
        Ok(())
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec!["Dropout2d"]
    }

    fn torch_specs(&self) -> Vec<String> {
        vec![format!("Dropout2d(p={})", self.bernoulli.p())]
    }

    fn output_dropout(&self) -> Option<f32> {
        Some(self.bernoulli.p())
    }

    fn test_time_scale(&self) -> f32 {
        self.bernoulli.eval_scale()
    }

    fn describe(&self) -> String {
        format!(
            "spatial dropout p={} ({})",
            self.bernoulli.p(),
            self.bernoulli.convention().name()
        )
    }
}
