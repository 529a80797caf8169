//! Pooling and reshaping layers for images `[channels, height, width]`: max and average
//! pooling, global average pooling, flatten.

use rayon::prelude::*;

use super::{Ctx, Layer, image_dims};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::tensor::im2col::Geometry;

/// Max or average.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The largest value of each window (the first one on ties).
    Max,
    /// The mean of each window (padding counts as zeros, as PyTorch's default).
    Avg,
}

/// `k x k` pooling with stride `s` and no padding, per channel (PyTorch's `nn.MaxPool2d` and
/// `nn.AvgPool2d`).
///
/// # Shapes
/// `[batch, c, h, w]` -> `[batch, c, (h - k) / s + 1, (w - k) / s + 1]`.
#[derive(Debug)]
pub struct Pool2d {
    kind: PoolKind,
    k: usize,
    stride: usize,
    /// Max pooling: the index within its plane of each output's chosen input.
    argmax: Vec<u32>,
}

impl Pool2d {
    /// A pooling layer; `stride` defaults to `k` when `None`.
    pub fn new(kind: PoolKind, k: usize, stride: Option<usize>) -> Result<Self> {
        let stride = stride.unwrap_or(k);
        if k == 0 || stride == 0 {
            return Err(Error::ZeroWidth {
                field: "pool2d.kernel".into(),
            });
        }
        Ok(Pool2d {
            kind,
            k,
            stride,
            argmax: Vec::new(),
        })
    }

    fn geometry(&self, input: &[usize]) -> Result<Geometry> {
        let (c, h, w) = image_dims(input, "pooling")?;
        let g = Geometry {
            c,
            h,
            w,
            k: self.k,
            s: self.stride,
            p: 0,
        };
        if g.out_h().is_none() || g.out_w().is_none() {
            return Err(Error::config(
                "model",
                format!(
                    "a {k}x{k} pooling window is larger than its {h}x{w} input",
                    k = self.k
                ),
            ));
        }
        Ok(g)
    }
}

impl Layer for Pool2d {
    fn kind(&self) -> &'static str {
        match self.kind {
            PoolKind::Max => "maxpool2d",
            PoolKind::Avg => "avgpool2d",
        }
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let g = self.geometry(input)?;
        Ok(vec![g.c, g.out_h().unwrap_or(0), g.out_w().unwrap_or(0)])
    }

    fn forward(&mut self, _ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let g = self.geometry(&x.shape()[1..])?;
        let (oh, ow) = (g.out_h().unwrap_or(0), g.out_w().unwrap_or(0));
        let (b, plane_in, plane_out) = (x.rows(), g.h * g.w, oh * ow);
        y.resize(&[b, g.c, oh, ow]);
        let (k, s) = (self.k, self.stride);
        match self.kind {
            PoolKind::Max => {
                self.argmax.resize(b * g.c * plane_out, 0);
                y.data_mut()
                    .par_chunks_mut(plane_out)
                    .zip(self.argmax.par_chunks_mut(plane_out))
                    .zip(x.data().par_chunks(plane_in))
                    .for_each(|((yp, ap), xp)| {
                        if k == 2 && s == 2 {
                            max_pool_2x2(xp, g.w, oh, ow, yp, ap);
                            return;
                        }
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let mut best = (oy * s) * g.w + ox * s;
                                for i in 0..k {
                                    let row = (oy * s + i) * g.w + ox * s;
                                    for idx in row..row + k {
                                        if xp[idx] > xp[best] {
                                            best = idx;
                                        }
                                    }
                                }
                                yp[oy * ow + ox] = xp[best];
                                ap[oy * ow + ox] = best as u32;
                            }
                        }
                    });
            }
            PoolKind::Avg => {
                let inv = 1.0 / (k * k) as f32;
                y.data_mut()
                    .par_chunks_mut(plane_out)
                    .zip(x.data().par_chunks(plane_in))
                    .for_each(|(yp, xp)| {
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let mut sum = 0.0;
                                for i in 0..k {
                                    let row = (oy * s + i) * g.w + ox * s;
                                    sum += xp[row..row + k].iter().sum::<f32>();
                                }
                                yp[oy * ow + ox] = sum * inv;
                            }
                        }
                    });
            }
        }
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
        let g = self.geometry(&x.shape()[1..])?;
        let (oh, ow) = (g.out_h().unwrap_or(0), g.out_w().unwrap_or(0));
        let (plane_in, plane_out) = (g.h * g.w, oh * ow);
        dx.resize(x.shape());
        let (k, s) = (self.k, self.stride);
        match self.kind {
            PoolKind::Max => {
                dx.data_mut()
                    .par_chunks_mut(plane_in)
                    .zip(dy.data().par_chunks(plane_out))
                    .zip(self.argmax.par_chunks(plane_out))
                    .for_each(|((dp, gp), ap)| {
                        dp.fill(0.0);
                        for (&gv, &a) in gp.iter().zip(ap) {
                            dp[a as usize] += gv;
                        }
                    });
            }
            PoolKind::Avg => {
                let inv = 1.0 / (k * k) as f32;
                dx.data_mut()
                    .par_chunks_mut(plane_in)
                    .zip(dy.data().par_chunks(plane_out))
                    .for_each(|(dp, gp)| {
                        dp.fill(0.0);
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let v = gp[oy * ow + ox] * inv;
                                for i in 0..k {
                                    let row = (oy * s + i) * g.w + ox * s;
                                    dp[row..row + k].iter_mut().for_each(|d| *d += v);
                                }
                            }
                        }
                    });
            }
        }
        Ok(())
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec![match self.kind {
            PoolKind::Max => "MaxPool2d",
            PoolKind::Avg => "AvgPool2d",
        }]
    }

    fn torch_specs(&self) -> Vec<String> {
        vec![format!(
            "{}(kernel_size={}, stride={})",
            self.torch_modules()[0],
            self.k,
            self.stride
        )]
    }

    fn describe(&self) -> String {
        format!("{} k={} s={}", Layer::kind(self), self.k, self.stride)
    }
}

/// The mean of each channel over all positions: `[batch, c, h, w]` -> `[batch, c]`
/// (PyTorch's `nn.AdaptiveAvgPool2d(1)` followed by `nn.Flatten`).
#[derive(Clone, Debug, Default)]
pub struct GlobalAvgPool;

impl Layer for GlobalAvgPool {
    fn kind(&self) -> &'static str {
        "global_avg_pool"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(vec![image_dims(input, "global average pooling")?.0])
    }

    fn forward(&mut self, _ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let c = self.output_shape(&x.shape()[1..])?[0];
        let plane = x.cols() / c.max(1);
        y.resize(&[x.rows(), c]);
        let inv = 1.0 / plane.max(1) as f32;
        for (v, p) in y.data_mut().iter_mut().zip(x.data().chunks_exact(plane.max(1))) {
            *v = p.iter().sum::<f32>() * inv;
        }
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
        let c = self.output_shape(&x.shape()[1..])?[0];
        let plane = (x.cols() / c.max(1)).max(1);
        dx.resize(x.shape());
        let inv = 1.0 / plane as f32;
        for (p, &g) in dx.data_mut().chunks_exact_mut(plane).zip(dy.data()) {
            p.fill(g * inv);
        }
        Ok(())
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec!["AdaptiveAvgPool2d", "Flatten"]
    }

    fn torch_specs(&self) -> Vec<String> {
        vec!["AdaptiveAvgPool2d(1)".into(), "Flatten()".into()]
    }

    fn describe(&self) -> String {
        "global average pooling".into()
    }
}

/// Reshapes each example to one vector: `[batch, ...]` -> `[batch, prod(...)]`
/// (PyTorch's `nn.Flatten`).
#[derive(Clone, Debug, Default)]
pub struct Flatten;

impl Layer for Flatten {
    fn kind(&self) -> &'static str {
        "flatten"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(vec![input.iter().product()])
    }

    fn forward(&mut self, _ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        y.resize(&[x.rows(), x.cols()]);
        y.data_mut().copy_from_slice(x.data());
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
        if let Some(dx) = dx {
            dx.resize(x.shape());
            dx.data_mut().copy_from_slice(dy.data());
        }
        Ok(())
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec!["Flatten"]
    }

    fn describe(&self) -> String {
        "flatten".into()
    }
}

/// The common 2x2, stride 2 max pooling of one plane (row width `w`), branch-free: the same
/// choice as the general loop (the first of equal values in row-major window order).
fn max_pool_2x2(xp: &[f32], w: usize, oh: usize, ow: usize, yp: &mut [f32], ap: &mut [u32]) {
    for oy in 0..oh {
        let r0 = &xp[2 * oy * w..2 * oy * w + 2 * ow];
        let r1 = &xp[(2 * oy + 1) * w..(2 * oy + 1) * w + 2 * ow];
        let base = (2 * oy * w) as u32;
        let out = &mut yp[oy * ow..(oy + 1) * ow];
        let arg = &mut ap[oy * ow..(oy + 1) * ow];
        for ox in 0..ow {
            let (a, b, c, d) = (r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]);
            let i = base + 2 * ox as u32;
            let (top, ti) = if b > a { (b, i + 1) } else { (a, i) };
            let (bot, bi) = if d > c {
                (d, i + w as u32 + 1)
            } else {
                (c, i + w as u32)
            };
            let (m, mi) = if bot > top { (bot, bi) } else { (top, ti) };
            out[ox] = m;
            arg[ox] = mi;
        }
    }
}
