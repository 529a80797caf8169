//! Batch normalization (Ioffe & Szegedy 2015) over features `[f]` (1-d) or channels of
//! images `[c, h, w]` (2-d), as PyTorch's `nn.BatchNorm1d` / `nn.BatchNorm2d`.
//!
//! In `Train` mode the batch's own mean and (biased) variance normalize it, and the running
//! statistics move by `momentum` towards the batch's mean and unbiased variance. Every other
//! mode (`Eval`, `MonteCarlo`, `Frozen`) normalizes with the running statistics: Monte Carlo
//! dropout changes nothing but dropout.

use rayon::prelude::*;

use super::{Ctx, Layer, Mode, Param, Role};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Batch normalization with a learned scale (`weight`) and shift (`bias`) per channel.
#[derive(Debug)]
pub struct BatchNorm {
    gamma: Param,
    beta: Param,
    running_mean: Tensor,
    running_var: Tensor,
    momentum: f32,
    eps: f32,
    /// Per channel: the mean and `1 / sqrt(var + eps)` used by the last forward pass.
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    image: bool,
}

impl BatchNorm {
    /// Normalization of `channels` features (`image = false`, input `[c]`) or image channels
    /// (`image = true`, input `[c, h, w]`); `momentum` 0.1 and `eps` 1e-5 are PyTorch's.
    pub fn new(channels: usize, image: bool, momentum: f32, eps: f32) -> Result<Self> {
        if channels == 0 {
            return Err(Error::ZeroWidth {
                field: "batchnorm.channels".into(),
            });
        }
        crate::error::check::positive("batchnorm.eps", eps as f64)?;
        if !(0.0..=1.0).contains(&momentum) {
            return Err(Error::OutOfRange {
                field: "batchnorm.momentum".into(),
                value: momentum as f64,
                range: "[0, 1]".into(),
            });
        }
        let mut ones = Tensor::zeros(&[channels]);
        ones.fill(1.0);
        Ok(BatchNorm {
            gamma: Param::new("weight", ones.clone(), Role::Scale),
            beta: Param::new("bias", Tensor::zeros(&[channels]), Role::Bias),
            running_mean: Tensor::zeros(&[channels]),
            running_var: ones,
            momentum,
            eps,
            mean: vec![0.0; channels],
            inv_std: vec![1.0; channels],
            image,
        })
    }

    fn channels(&self) -> usize {
        self.gamma.value.len()
    }

    /// (channels, positions per channel) of a per-example shape.
    fn layout(&self, input: &[usize]) -> Result<(usize, usize)> {
        let c = self.channels();
        match input {
            [f] if *f == c && !self.image => Ok((c, 1)),
            [ch, h, w] if *ch == c && self.image => Ok((c, h * w)),
            _ => Err(Error::ShapeMismatch {
                context: if self.image {
                    "batch norm 2d input (images [c, h, w])".into()
                } else {
                    "batch norm 1d input (features [c])".into()
                },
                expected: vec![c],
                got: input.to_vec(),
            }),
        }
    }

    /// The running mean and variance.
    pub fn running(&self) -> (&Tensor, &Tensor) {
        (&self.running_mean, &self.running_var)
    }
}

/// Sums over every example of channel `c`'s positions: `f(value)` accumulated in f64.
fn channel_sum(x: &[f32], c: usize, channels: usize, l: usize, f: impl Fn(usize, f32) -> f64) -> f64 {
    x.chunks_exact(channels * l)
        .map(|ex| ex[c * l..(c + 1) * l].iter().map(|&v| f(c, v)).sum::<f64>())
        .sum()
}

impl Layer for BatchNorm {
    fn kind(&self) -> &'static str {
        "batchnorm"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.layout(input)?;
        Ok(input.to_vec())
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let (c, l) = self.layout(&x.shape()[1..])?;
        let b = x.rows();
        let count = (b * l) as f64;
        if ctx.mode == Mode::Train {
            if b * l < 2 {
                return Err(Error::config(
                    "batch_size",
                    "batch norm in training needs more than one value per channel (use a batch of at least 2)",
                ));
            }
            let xd = x.data();
            let stats: Vec<(f32, f32)> = (0..c)
                .into_par_iter()
                .map(|ch| {
                    let mean = channel_sum(xd, ch, c, l, |_, v| v as f64) / count;
                    let var = channel_sum(xd, ch, c, l, |_, v| (v as f64 - mean).powi(2)) / count;
                    (mean as f32, var as f32)
                })
                .collect();
            let m = self.momentum;
            for (ch, &(mean, var)) in stats.iter().enumerate() {
                self.mean[ch] = mean;
                self.inv_std[ch] = 1.0 / (var + self.eps).sqrt();
                let unbiased = var * (count / (count - 1.0)) as f32;
                let rm = &mut self.running_mean.data_mut()[ch];
                *rm = (1.0 - m) * *rm + m * mean;
                let rv = &mut self.running_var.data_mut()[ch];
                *rv = (1.0 - m) * *rv + m * unbiased;
            }
        } else {
            for ch in 0..c {
                self.mean[ch] = self.running_mean.data()[ch];
                self.inv_std[ch] = 1.0 / (self.running_var.data()[ch] + self.eps).sqrt();
            }
        }
        y.resize(x.shape());
        let (gamma, beta) = (self.gamma.value.data(), self.beta.value.data());
        let (mean, inv) = (&self.mean, &self.inv_std);
        y.data_mut()
            .par_chunks_mut(c * l)
            .zip(x.data().par_chunks(c * l))
            .for_each(|(ye, xe)| {
                for ch in 0..c {
                    let s = gamma[ch] * inv[ch];
                    let t = beta[ch] - mean[ch] * s;
                    for (yv, &xv) in ye[ch * l..(ch + 1) * l].iter_mut().zip(&xe[ch * l..(ch + 1) * l]) {
                        *yv = xv * s + t;
                    }
                }
            });
        Ok(())
    }

    fn backward(
        &mut self,
        ctx: &Ctx,
        x: &Tensor,
        _y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()> {
        let (c, l) = self.layout(&x.shape()[1..])?;
        let count = (x.rows() * l) as f64;
        let (xd, dyd) = (x.data(), dy.data());
        let (mean, inv) = (&self.mean, &self.inv_std);
        // dbeta = sum dy, dgamma = sum dy * xhat
        let sums: Vec<(f64, f64)> = (0..c)
            .into_par_iter()
            .map(|ch| {
                let mut sb = 0.0f64;
                let mut sg = 0.0f64;
                for (xe, de) in xd.chunks_exact(c * l).zip(dyd.chunks_exact(c * l)) {
                    for (&xv, &dv) in xe[ch * l..(ch + 1) * l].iter().zip(&de[ch * l..(ch + 1) * l]) {
                        sb += dv as f64;
                        sg += dv as f64 * ((xv - mean[ch]) * inv[ch]) as f64;
                    }
                }
                (sb, sg)
            })
            .collect();
        for (ch, &(sb, sg)) in sums.iter().enumerate() {
            self.beta.grad.data_mut()[ch] = sb as f32;
            self.gamma.grad.data_mut()[ch] = sg as f32;
        }
        let Some(dx) = dx else { return Ok(()) };
        dx.resize(x.shape());
        let gamma = self.gamma.value.data();
        let train = ctx.mode == Mode::Train;
        dx.data_mut()
            .par_chunks_mut(c * l)
            .zip(xd.par_chunks(c * l))
            .zip(dyd.par_chunks(c * l))
            .for_each(|((dxe, xe), de)| {
                for ch in 0..c {
                    let k = gamma[ch] * inv[ch];
                    let r = ch * l..(ch + 1) * l;
                    if train {
                        // dx = gamma * inv / N * (N dy - sum dy - xhat * sum(dy xhat))
                        let (mb, mg) = ((sums[ch].0 / count) as f32, (sums[ch].1 / count) as f32);
                        for ((d, &xv), &dv) in dxe[r.clone()].iter_mut().zip(&xe[r.clone()]).zip(&de[r]) {
                            let xhat = (xv - mean[ch]) * inv[ch];
                            *d = k * (dv - mb - xhat * mg);
                        }
                    } else {
                        for (d, &dv) in dxe[r.clone()].iter_mut().zip(&de[r]) {
                            *d = k * dv;
                        }
                    }
                }
            });
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.gamma, &self.beta]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.gamma, &mut self.beta]
    }

    fn buffers(&self) -> Vec<(&'static str, &Tensor)> {
        vec![
            ("running_mean", &self.running_mean),
            ("running_var", &self.running_var),
        ]
    }

    fn buffers_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        vec![
            ("running_mean", &mut self.running_mean),
            ("running_var", &mut self.running_var),
        ]
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec![if self.image { "BatchNorm2d" } else { "BatchNorm1d" }]
    }

    fn torch_specs(&self) -> Vec<String> {
        vec![format!(
            "{}({}, eps={})",
            self.torch_modules()[0],
            self.channels(),
            self.eps
        )]
    }

    fn describe(&self) -> String {
        format!("batchnorm {} channels", self.channels())
    }
}
