//! DropBlock (Ghiasi, Lin & Le 2018): drops contiguous `b x b` squares of each feature map,
//! so that a convolution cannot recover a dropped pixel from its neighbours.
//!
//! Block corners are drawn independently with probability
//! `gamma = p * h * w / (b^2 * (h - b + 1) * (w - b + 1))` at every position where a whole
//! block fits (per example and channel); each corner zeroes the `b x b` square below and to
//! its right. With that `gamma` the expected dropped fraction is close to `p` (a little
//! below it, where blocks overlap: [`DropBlock::expected_rate`] gives the exact value). Kept
//! values are scaled by `numel / kept` of their example (the paper's normalization), so
//! the layer is the identity at test time. The rate can ramp linearly from 0 to `p` over the
//! first `ramp_steps` training steps, as the paper recommends.

use rayon::prelude::*;

use crate::error::{Error, Result, check};
use crate::nn::{Ctx, Layer, Mode, image_dims};
use crate::plan::mask_plan;
use crate::rng::Stream;
use crate::tensor::mask::{bit, threshold, words_per_row};
use crate::tensor::{DropPlan, Tensor};

/// DropBlock on `[c, h, w]` inputs.
#[derive(Debug)]
pub struct DropBlock {
    p: f32,
    block: usize,
    ramp_steps: u64,
    stream: Stream,
    /// Keep bits per example (`c * h * w` bits, rows padded to whole words).
    bits: Vec<u64>,
    /// Per-example multiplier of kept values.
    scales: Vec<f32>,
    active: bool,
}

impl DropBlock {
    /// DropBlock with drop rate `p` in `[0, 1)`, block size `block >= 1`, and a linear ramp of
    /// the rate over the first `ramp_steps` steps (0 = none).
    pub fn new(p: f32, block: usize, ramp_steps: u64, stream: Stream) -> Result<Self> {
        check::rate_below_one("p", p)?;
        if block == 0 {
            return Err(Error::ZeroWidth {
                field: "block_size".into(),
            });
        }
        Ok(DropBlock {
            p,
            block,
            ramp_steps,
            stream,
            bits: Vec::new(),
            scales: Vec::new(),
            active: false,
        })
    }

    /// The target drop rate.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// The block side clipped to the feature map.
    fn side(&self, h: usize, w: usize) -> usize {
        self.block.min(h).min(w)
    }

    /// The rate at `step` (the ramp applies to training only).
    pub fn rate_at(&self, mode: Mode, step: u64) -> f32 {
        if mode == Mode::Train && self.ramp_steps > 0 {
            self.p * ((step + 1) as f32 / self.ramp_steps as f32).min(1.0)
        } else {
            self.p
        }
    }

    /// The corner probability for rate `p` on an `h x w` map.
    pub fn gamma(&self, p: f32, h: usize, w: usize) -> f64 {
        let b = self.side(h, w);
        let valid = ((h - b + 1) * (w - b + 1)) as f64;
        p as f64 * (h * w) as f64 / ((b * b) as f64 * valid)
    }

    /// The exact expected fraction of an `h x w` map that one draw drops at rate `p`
    /// (with `gamma` as quantized by the mask generator).
    pub fn expected_rate(&self, p: f32, h: usize, w: usize) -> f64 {
        let b = self.side(h, w);
        let g = threshold(self.gamma(p, h, w).min(1.0) as f32).probability();
        let covers = |i: usize, len: usize| {
            // corners c in [0, len - b] with c <= i < c + b
            let lo = i.saturating_sub(b - 1);
            let hi = i.min(len - b);
            hi + 1 - lo
        };
        let mut sum = 0.0;
        for i in 0..h {
            for j in 0..w {
                let n = covers(i, h) * covers(j, w);
                sum += 1.0 - (1.0 - g).powi(n as i32);
            }
        }
        sum / (h * w) as f64
    }

    /// The keep bits of the last forward pass for example `e` (`c * h * w` bits).
    pub fn keep_bits(&self, e: usize, numel: usize) -> Vec<bool> {
        let wpr = words_per_row(numel);
        let words = &self.bits[e * wpr..(e + 1) * wpr];
        (0..numel).map(|i| bit(words, i)).collect()
    }

    fn apply(&self, data: &mut [f32], numel: usize) {
        if !self.active {
            return;
        }
        let wpr = words_per_row(numel);
        data.par_chunks_mut(numel)
            .zip(self.bits.par_chunks(wpr))
            .zip(self.scales.par_iter())
            .for_each(|((e, words), &s)| {
                for (i, v) in e.iter_mut().enumerate() {
                    *v *= if bit(words, i) { s } else { 0.0 };
                }
            });
    }
}

impl Layer for DropBlock {
    fn kind(&self) -> &'static str {
        "dropblock"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        image_dims(input, "dropblock")?;
        Ok(input.to_vec())
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let (c, h, w) = image_dims(&x.shape()[1..], "dropblock")?;
        y.resize(x.shape());
        y.data_mut().copy_from_slice(x.data());
        let p = self.rate_at(ctx.mode, ctx.step);
        let gamma = self.gamma(p, h, w).min(1.0) as f32;
        let DropPlan::Mask(spec) = mask_plan(self.stream, gamma, ctx.mode, ctx.step, 1.0, 1.0) else {
            self.active = false;
            return Ok(());
        };
        self.active = true;
        let numel = c * h * w;
        let wpr = words_per_row(numel);
        let b = self.side(h, w);
        self.bits.resize(x.rows() * wpr, 0);
        self.scales.resize(x.rows(), 0.0);
        self.bits
            .par_chunks_mut(wpr)
            .zip(self.scales.par_iter_mut())
            .enumerate()
            .for_each_init(
                || vec![0u64; wpr],
                |draws, (r, (keep, scale))| {
                    // A corner is a position whose uniform fell below gamma (a cleared bit).
                    spec.row_bits(r, draws);
                    keep.fill(u64::MAX);
                    for ch in 0..c {
                        for i in 0..=h - b {
                            for j in 0..=w - b {
                                if bit(draws, (ch * h + i) * w + j) {
                                    continue;
                                }
                                for di in 0..b {
                                    for dj in 0..b {
                                        let idx = (ch * h + i + di) * w + j + dj;
                                        keep[idx >> 6] &= !(1u64 << (idx & 63));
                                    }
                                }
                            }
                        }
                    }
                    let kept: usize = (0..numel).filter(|&i| bit(keep, i)).count();
                    *scale = if kept == 0 {
                        0.0
                    } else {
                        numel as f32 / kept as f32
                    };
                },
            );
        self.apply(y.data_mut(), numel);
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
        self.apply(dy.data_mut(), x.cols());
        dx.resize(dy.shape());
        dx.data_mut().copy_from_slice(dy.data());
        Ok(())
    }

    fn output_dropout(&self) -> Option<f32> {
        Some(self.p)
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec!["DropBlock2d"]
    }

    fn torch_specs(&self) -> Vec<String> {
        // Not a PyTorch module (torchvision has DropBlock2d); in eval() it is the identity.
        vec!["Identity()".into()]
    }

    fn describe(&self) -> String {
        let mut s = format!("dropblock p={} block={}", self.p, self.block);
        if self.ramp_steps > 0 {
            s.push_str(&format!(" ramp={} steps", self.ramp_steps));
        }
        s
    }
}
