//! 2-d convolution through `im2col` and one faer GEMM per example, with a fused bias +
//! activation epilogue.

use rayon::prelude::*;

use super::{Activation, Ctx, Init, Layer, Param, Role};
use crate::error::{Error, Result};
use crate::rng::SeqRng;
use crate::tensor::im2col::{Geometry, col2im, im2col};
use crate::tensor::{Tensor, Trans, gemm};

/// Examples per group in the backward pass: each group sums its weight gradient on its own,
/// then the groups are added in a fixed order, so the result is the same on any thread count.
const GROUP: usize = 8;

/// `y = act(conv(x, W) + b)`, PyTorch's `nn.Conv2d` (square kernel, zero padding) followed by
/// an activation.
///
/// The weight is stored `[out, in, k, k]` as in PyTorch, so each row of the `[out, in*k*k]`
/// view is one filter's incoming weights (what max-norm bounds).
///
/// # Shapes
/// `x: [batch, in, h, w]` -> `y: [batch, out, oh, ow]` with `oh = (h + 2p - k) / s + 1`.
#[derive(Debug)]
pub struct Conv2d {
    weight: Param,
    bias: Param,
    act: Activation,
    k: usize,
    stride: usize,
    pad: usize,
    partial: Vec<f32>,
}

impl Conv2d {
    /// A convolution `in -> out` channels with a `k x k` kernel, initialized with `init`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        field: &str,
        input: usize,
        output: usize,
        k: usize,
        stride: usize,
        pad: usize,
        act: Activation,
        init: Init,
        rng: &mut SeqRng,
    ) -> Result<Self> {
        for (name, v) in [("in", input), ("out", output), ("kernel", k), ("stride", stride)] {
            if v == 0 {
                return Err(Error::ZeroWidth {
                    field: format!("{field}.{name}"),
                });
            }
        }
        let fan_in = input * k * k;
        let fan_out = output * k * k;
        let mut w = Tensor::zeros(&[output, input, k, k]);
        init.fill(w.data_mut(), fan_in, fan_out, rng);
        Ok(Conv2d {
            weight: Param::new("weight", w, Role::Weight),
            bias: Param::new("bias", Tensor::zeros(&[output]), Role::Bias),
            act,
            k,
            stride,
            pad,
            partial: Vec::new(),
        })
    }

    /// The weight `[out, in, k, k]`.
    pub fn weight(&self) -> &Param {
        &self.weight
    }

    /// The activation.
    pub fn activation(&self) -> Activation {
        self.act
    }

    fn channels(&self) -> (usize, usize) {
        let s = self.weight.value.shape();
        (s[1], s[0])
    }

    fn geometry(&self, input: &[usize]) -> Result<Geometry> {
        let (cin, _) = self.channels();
        let [c, h, w] = input else {
            return Err(Error::ShapeMismatch {
                context: "conv2d input (expected [channels, height, width])".into(),
                expected: vec![cin, 0, 0],
                got: input.to_vec(),
            });
        };
        if *c != cin {
            return Err(Error::ShapeMismatch {
                context: "conv2d input channels".into(),
                expected: vec![cin, *h, *w],
                got: input.to_vec(),
            });
        }
        let g = Geometry {
            c: *c,
            h: *h,
            w: *w,
            k: self.k,
            s: self.stride,
            p: self.pad,
        };
        if g.out_h().is_none() || g.out_w().is_none() {
            return Err(Error::config(
                "model",
                format!(
                    "a {k}x{k} kernel (padding {p}) is larger than its {h}x{w} input; use a smaller kernel, more padding or fewer pooling layers",
                    k = self.k,
                    p = self.pad
                ),
            ));
        }
        Ok(g)
    }

    fn batch_geometry(&self, x: &Tensor) -> Result<Geometry> {
        self.geometry(&x.shape()[1..])
    }
}

impl Layer for Conv2d {
    fn kind(&self) -> &'static str {
        "conv2d"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let g = self.geometry(input)?;
        let (_, cout) = self.channels();
        Ok(vec![cout, g.out_h().unwrap_or(0), g.out_w().unwrap_or(0)])
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let _ = ctx;
        let g = self.batch_geometry(x)?;
        let (_, cout) = self.channels();
        let (oh, ow) = (g.out_h().unwrap_or(0), g.out_w().unwrap_or(0));
        let (kk, n) = (g.col_rows(), oh * ow);
        let b = x.rows();
        y.resize(&[b, cout, oh, ow]);
        let (w, bias, act) = (self.weight.value.data(), self.bias.value.data(), self.act);
        let per_in = x.cols();
        y.data_mut()
            .par_chunks_mut(cout * n)
            .zip(x.data().par_chunks(per_in))
            .for_each_init(
                || vec![0.0f32; kk * n],
                |col, (yb, xb)| {
                    im2col(&g, xb, col);
                    gemm(
                        yb,
                        w,
                        (cout, kk),
                        Trans::N,
                        col,
                        (kk, n),
                        Trans::N,
                        false,
                        faer::Par::Seq,
                    );
                    for (row, &bb) in yb.chunks_exact_mut(n).zip(bias) {
                        row.iter_mut().for_each(|v| *v += bb);
                        act.apply(row);
                    }
                },
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
        let _ = ctx;
        let g = self.batch_geometry(x)?;
        let (_, cout) = self.channels();
        let (kk, n) = (g.col_rows(), g.col_cols());
        if dy.shape() != y.shape() {
            return Err(Error::ShapeMismatch {
                context: "conv2d backward".into(),
                expected: y.shape().to_vec(),
                got: dy.shape().to_vec(),
            });
        }
        let b = x.rows();
        let act = self.act;
        if act != Activation::Identity {
            dy.data_mut()
                .par_chunks_mut(n.max(1) * cout)
                .zip(y.data().par_chunks(n.max(1) * cout))
                .for_each(|(d, t)| {
                    for (d, &t) in d.iter_mut().zip(t) {
                        *d *= act.derivative_from_output(t);
                    }
                });
        }
        // Bias gradient: sum over examples and positions, example by example in order.
        let db = self.bias.grad.data_mut();
        db.fill(0.0);
        for ex in dy.data().chunks_exact(cout * n) {
            for (g, row) in db.iter_mut().zip(ex.chunks_exact(n)) {
                *g += row.iter().sum::<f32>();
            }
        }
        // Weight gradient per group of examples, and the input gradient per example.
        let groups = b.div_ceil(GROUP);
        let wlen = cout * kk;
        self.partial.resize(groups * wlen, 0.0);
        let w = self.weight.value.data();
        let per_in = x.cols();
        let mut dummy = Vec::new();
        let dxd: &mut [f32] = match dx {
            Some(dx) => {
                dx.resize(x.shape());
                dx.data_mut()
            }
            None => &mut dummy,
        };
        let want_dx = !dxd.is_empty();
        let dx_chunk = if want_dx { GROUP * per_in } else { 1 };
        let mut dx_groups: Vec<&mut [f32]> = if want_dx {
            dxd.chunks_mut(dx_chunk).collect()
        } else {
            (0..groups).map(|_| &mut [][..]).collect()
        };
        self.partial
            .par_chunks_mut(wlen)
            .zip(dy.data().par_chunks(GROUP * cout * n))
            .zip(x.data().par_chunks(GROUP * per_in))
            .zip(dx_groups.par_iter_mut())
            .for_each_init(
                || (vec![0.0f32; kk * n], vec![0.0f32; kk * n]),
                |(col, dcol), (((pw, dyg), xg), dxg)| {
                    for (e, (dyb, xb)) in dyg
                        .chunks_exact(cout * n)
                        .zip(xg.chunks_exact(per_in))
                        .enumerate()
                    {
                        im2col(&g, xb, col);
                        // dW += dY_b col_b^T
                        gemm(
                            pw,
                            dyb,
                            (cout, n),
                            Trans::N,
                            col,
                            (kk, n),
                            Trans::T,
                            e > 0,
                            faer::Par::Seq,
                        );
                        if want_dx {
                            // dcol = W^T dY_b, then scatter back.
                            gemm(
                                dcol,
                                w,
                                (cout, kk),
                                Trans::T,
                                dyb,
                                (cout, n),
                                Trans::N,
                                false,
                                faer::Par::Seq,
                            );
                            col2im(&g, dcol, &mut dxg[e * per_in..(e + 1) * per_in]);
                        }
                    }
                },
            );
        let dw = self.weight.grad.data_mut();
        dw.copy_from_slice(&self.partial[..wlen]);
        for p in self.partial[wlen..].chunks_exact(wlen) {
            for (d, &v) in dw.iter_mut().zip(p) {
                *d += v;
            }
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
        let mut m = vec!["Conv2d"];
        m.extend(self.act.torch_module());
        m
    }

    fn describe(&self) -> String {
        let (i, o) = self.channels();
        format!(
            "conv2d {i}->{o} k={} s={} p={} {}",
            self.k,
            self.stride,
            self.pad,
            self.act.name()
        )
    }
}
