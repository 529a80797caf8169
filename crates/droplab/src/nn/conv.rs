//! 2-d convolution through `im2col` and one faer GEMM per example, with a fused bias +
//! activation epilogue.

use rayon::prelude::*;

use super::{Activation, Ctx, Init, Layer, Param, Role, image_dims};
use crate::error::{Error, Result};
use crate::rng::SeqRng;
use crate::tensor::im2col::{Geometry, col2im, im2col};
use crate::tensor::{Tensor, Trans, gemm};

/// Examples per group: groups run in parallel; each sums its weight gradient on its own, then
/// the groups are added in a fixed order, so the result is the same on any thread count.
const GROUP: usize = 8;

/// Within a group, examples go through the GEMMs a few at a time, their column matrices side
/// by side, so that the GEMM's long side has about this many columns: wide enough for faer
/// to run at full speed, narrow enough for the column matrix to stay in L2 (wider slows down:
/// 27 against 34 GFLOP/s on the LeNet benchmark's second convolution at 8 x 196 columns).
const TARGET_COLS: usize = 512;

/// Examples per GEMM for `n` output positions per example.
fn sub_batch(n: usize) -> usize {
    (TARGET_COLS / n.max(1)).clamp(1, GROUP)
}

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

/// How to build a [`Conv2d`] layer: channels and kernel size are required; stride 1, padding
/// 0, identity activation and Glorot initialization by default.
///
/// ```
/// use droplab::nn::{Activation, Conv2dConfig, Layer};
/// use droplab::rng::Stream;
///
/// let mut rng = Stream::new(1, "init").seq();
/// // 32 filters 5x5 over one channel, "same" padding.
/// let conv = Conv2dConfig::new(1, 32, 5)
///     .with_padding(2)
///     .with_activation(Activation::Relu)
///     .init(&mut rng)?;
/// assert_eq!(conv.output_shape(&[1, 28, 28])?, vec![32, 28, 28]);
/// # Ok::<(), droplab::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2dConfig {
    /// Input channels.
    pub input: usize,
    /// Output channels (filters).
    pub output: usize,
    /// Kernel size (square).
    pub kernel: usize,
    /// Stride (default 1).
    pub stride: usize,
    /// Zero padding on each side (default 0).
    pub padding: usize,
    /// Activation fused after the convolution (default: identity).
    pub activation: Activation,
    /// Weight initializer (default: Glorot uniform).
    pub init: Init,
    /// The layer's name in error messages (default `conv2d`; a model gives its config path).
    pub name: String,
}

impl Conv2dConfig {
    /// `input -> output` channels with a `kernel x kernel` kernel.
    pub fn new(input: usize, output: usize, kernel: usize) -> Self {
        Conv2dConfig {
            input,
            output,
            kernel,
            stride: 1,
            padding: 0,
            activation: Activation::Identity,
            init: Init::Glorot,
            name: "conv2d".into(),
        }
    }

    /// The same with another stride.
    pub fn with_stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// The same with another zero padding.
    pub fn with_padding(mut self, padding: usize) -> Self {
        self.padding = padding;
        self
    }

    layer_config_builders!();

    /// The layer, its weights drawn from `rng` (biases start at zero).
    ///
    /// # Errors
    /// [`Error::ZeroWidth`] when a channel count, the kernel or the stride is 0.
    pub fn init(&self, rng: &mut SeqRng) -> Result<Conv2d> {
        let (input, output, k) = (self.input, self.output, self.kernel);
        for (name, v) in [
            ("in", input),
            ("out", output),
            ("kernel", k),
            ("stride", self.stride),
        ] {
            if v == 0 {
                return Err(Error::ZeroWidth {
                    field: format!("{}.{name}", self.name),
                });
            }
        }
        let fan_in = input * k * k;
        let fan_out = output * k * k;
        let mut w = Tensor::zeros(&[output, input, k, k]);
        self.init.fill(w.data_mut(), fan_in, fan_out, rng);
        Ok(Conv2d {
            weight: Param::new("weight", w, Role::Weight),
            bias: Param::new("bias", Tensor::zeros(&[output]), Role::Bias),
            act: self.activation,
            k,
            stride: self.stride,
            pad: self.padding,
            partial: Vec::new(),
        })
    }
}

impl Conv2d {
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
        let (c, h, w) = image_dims(input, "conv2d")?;
        if c != cin {
            return Err(Error::ShapeMismatch {
                context: "conv2d input channels".into(),
                expected: vec![cin, h, w],
                got: input.to_vec(),
            });
        }
        let g = Geometry {
            c,
            h,
            w,
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

    fn forward(&mut self, _ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let g = self.batch_geometry(x)?;
        let (_, cout) = self.channels();
        let (oh, ow) = (g.out_h().unwrap_or(0), g.out_w().unwrap_or(0));
        let (kk, n) = (g.col_rows(), oh * ow);
        let b = x.rows();
        y.resize(&[b, cout, oh, ow]);
        let (w, bias, act) = (self.weight.value.data(), self.bias.value.data(), self.act);
        let per_in = x.cols();
        // Per sub-batch: the examples' column matrices side by side, one GEMM
        // `W [cout, kk] x col [kk, e*n]`, then each example's block to NCHW.
        let sb = sub_batch(n);
        y.data_mut()
            .par_chunks_mut(sb * cout * n)
            .zip(x.data().par_chunks(sb * per_in))
            .for_each_init(
                || (Vec::new(), Vec::new()),
                |(col, out): &mut (Vec<f32>, Vec<f32>), (yg, xg)| {
                    let e = xg.len() / per_in;
                    let ld = e * n;
                    col.resize(kk * ld, 0.0);
                    out.resize(cout * ld, 0.0);
                    for (i, xb) in xg.chunks_exact(per_in).enumerate() {
                        im2col(&g, xb, &mut col[i * n..], ld);
                    }
                    gemm(
                        out,
                        w,
                        (cout, kk),
                        Trans::N,
                        col,
                        (kk, ld),
                        Trans::N,
                        false,
                        faer::Par::Seq,
                    );
                    for (i, yb) in yg.chunks_exact_mut(cout * n).enumerate() {
                        for (o, (row, &bb)) in yb.chunks_exact_mut(n).zip(bias).enumerate() {
                            let src = &out[o * ld + i * n..o * ld + (i + 1) * n];
                            for (v, &s) in row.iter_mut().zip(src) {
                                *v = s + bb;
                            }
                            act.apply(row);
                        }
                    }
                },
            );
        Ok(())
    }

    fn backward(
        &mut self,
        _ctx: &Ctx,
        x: &Tensor,
        y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()> {
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
        // Per group: the weight gradient `dY [cout, e*n] x col^T` and the bias gradient summed
        // over its sub-batches on their own (the groups are added in order below), and the
        // input gradient `W^T dY` scattered back per example. The activation's derivative is
        // applied while dY is gathered into the GEMM's layout: one pass over dY.
        let groups = b.div_ceil(GROUP);
        let wlen = cout * kk;
        let plen = wlen + cout;
        self.partial.resize(groups * plen, 0.0);
        let w = self.weight.value.data();
        let per_in = x.cols();
        let want_dx = dx.is_some();
        let mut dx_groups: Vec<&mut [f32]> = match dx {
            Some(dx) => {
                dx.resize(x.shape());
                dx.data_mut().chunks_mut(GROUP * per_in).collect()
            }
            None => (0..groups).map(|_| &mut [][..]).collect(),
        };
        self.partial
            .par_chunks_mut(plen)
            .zip(dy.data().par_chunks(GROUP * cout * n))
            .zip(y.data().par_chunks(GROUP * cout * n))
            .zip(x.data().par_chunks(GROUP * per_in))
            .zip(dx_groups.par_iter_mut())
            .for_each_init(
                || (Vec::new(), Vec::new()),
                |(col, dyg): &mut (Vec<f32>, Vec<f32>), ((((part, dyb), yb), xg), dxg)| {
                    let (pw, pb) = part.split_at_mut(wlen);
                    pb.fill(0.0);
                    let sb = sub_batch(n);
                    let ys = yb.chunks(sb * cout * n);
                    for (s, ((xs, dys), yss)) in xg
                        .chunks(sb * per_in)
                        .zip(dyb.chunks(sb * cout * n))
                        .zip(ys)
                        .enumerate()
                    {
                        let e = xs.len() / per_in;
                        let ld = e * n;
                        col.resize(kk * ld, 0.0);
                        dyg.resize(cout * ld, 0.0);
                        for (i, xb) in xs.chunks_exact(per_in).enumerate() {
                            im2col(&g, xb, &mut col[i * n..], ld);
                        }
                        for (i, (ex, ey)) in dys
                            .chunks_exact(cout * n)
                            .zip(yss.chunks_exact(cout * n))
                            .enumerate()
                        {
                            for (o, (row, yrow)) in ex.chunks_exact(n).zip(ey.chunks_exact(n)).enumerate() {
                                let dst = &mut dyg[o * ld + i * n..o * ld + (i + 1) * n];
                                let mut sum = 0.0f32;
                                for ((d, &v), &t) in dst.iter_mut().zip(row).zip(yrow) {
                                    *d = v * act.derivative_from_output(t);
                                    sum += *d;
                                }
                                pb[o] += sum;
                            }
                        }
                        // dW (+)= dY col^T
                        gemm(
                            pw,
                            dyg,
                            (cout, ld),
                            Trans::N,
                            col,
                            (kk, ld),
                            Trans::T,
                            s > 0,
                            faer::Par::Seq,
                        );
                        if want_dx {
                            // The column matrix is no longer needed: reuse it for dcol = W^T dY.
                            gemm(
                                col,
                                w,
                                (cout, kk),
                                Trans::T,
                                dyg,
                                (cout, ld),
                                Trans::N,
                                false,
                                faer::Par::Seq,
                            );
                            let dxs = &mut dxg[s * sb * per_in..(s * sb + e) * per_in];
                            for (i, dxb) in dxs.chunks_exact_mut(per_in).enumerate() {
                                col2im(&g, &col[i * n..], dxb, ld);
                            }
                        }
                    }
                },
            );
        let dw = self.weight.grad.data_mut();
        dw.fill(0.0);
        let db = self.bias.grad.data_mut();
        db.fill(0.0);
        for p in self.partial.chunks_exact(plen) {
            for (d, &v) in dw.iter_mut().zip(&p[..wlen]) {
                *d += v;
            }
            for (d, &v) in db.iter_mut().zip(&p[wlen..]) {
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

    fn torch_specs(&self) -> Vec<String> {
        let (i, o) = self.channels();
        let mut m = vec![format!(
            "Conv2d({i}, {o}, kernel_size={}, stride={}, padding={})",
            self.k, self.stride, self.pad
        )];
        m.extend(self.act.torch_module().map(|a| format!("{a}()")));
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
