//! Gated recurrent unit (Cho et al. 2014) in PyTorch's formulation, with the same recurrent
//! dropout variants as the LSTM (see [`super::Lstm`]):
//!
//! `r = σ(x W_ir + b_ir + h W_hr + b_hr)`, `z = σ(x W_iz + b_iz + h W_hz + b_hz)`,
//! `n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn))`, `h' = (1 - z) ⊙ n + z ⊙ h`.
//!
//! Variational recurrent dropout masks `h` where it enters the recurrent products; the
//! carried `z ⊙ h` term uses the unmasked state.

use rayon::prelude::*;

use super::dropout::{RecurrentDropout, recurrent_dropout_builders};
use super::{seq_dims, seq_output_shape, sigmoid, tanh};
use crate::error::{Error, Result};
use crate::nn::{Ctx, Layer, Param, Role};
use crate::plan::Bernoulli;
use crate::rng::SeqRng;
use crate::tensor::{Tensor, Trans, gemm};

/// A GRU layer: `[batch, time, in]` -> `[batch, time, hidden]`, PyTorch's gate order
/// (reset, update, new) and weight layout.
#[derive(Debug)]
pub struct Gru {
    w_ih: Param,
    w_hh: Param,
    b_ih: Param,
    b_hh: Param,
    hidden: usize,
    drop: RecurrentDropout,
    /// Per (b, t): the input part of the gates, then r, z, n after the forward pass.
    gates: Vec<f32>,
    /// Per (b, t): `h W_hh^T + b_hh` (all three blocks).
    rec: Vec<f32>,
    hprev: Vec<f32>,
    dxg: Vec<f32>,
}

impl Gru {
    /// A GRU `input -> hidden` with uniform(-1/sqrt(h), 1/sqrt(h)) weights and biases, as
    /// PyTorch.
    pub fn new(input: usize, hidden: usize, rng: &mut SeqRng) -> Result<Self> {
        if input == 0 || hidden == 0 {
            return Err(Error::ZeroWidth { field: "gru".into() });
        }
        let k = 1.0 / (hidden as f32).sqrt();
        let mut uniform =
            |n: usize| -> Vec<f32> { (0..n).map(|_| (2.0 * rng.uniform() - 1.0) * k).collect() };
        let g3 = 3 * hidden;
        Ok(Gru {
            w_ih: Param::new(
                "weight_ih_l0",
                Tensor::from_vec(&[g3, input], uniform(g3 * input))?,
                Role::Weight,
            ),
            w_hh: Param::new(
                "weight_hh_l0",
                Tensor::from_vec(&[g3, hidden], uniform(g3 * hidden))?,
                Role::Weight,
            ),
            b_ih: Param::new("bias_ih_l0", Tensor::from_vec(&[g3], uniform(g3))?, Role::Bias),
            b_hh: Param::new("bias_hh_l0", Tensor::from_vec(&[g3], uniform(g3))?, Role::Bias),
            hidden,
            drop: RecurrentDropout::default(),
            gates: Vec::new(),
            rec: Vec::new(),
            hprev: Vec::new(),
            dxg: Vec::new(),
        })
    }

    recurrent_dropout_builders!();

    fn dims(&self, x: &Tensor) -> Result<(usize, usize, usize)> {
        seq_dims(x, self.w_ih.value.shape()[1], "gru")
    }
}

impl Layer for Gru {
    fn kind(&self) -> &'static str {
        "gru"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        seq_output_shape(input, self.w_ih.value.shape()[1], self.hidden, "gru")
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let h = self.hidden;
        let g3 = 3 * h;
        let weights = (&self.w_ih.value, self.b_ih.value.data(), self.w_hh.value.data());
        let (b, steps, _) = self
            .drop
            .input_gates(ctx, x, weights, h, "gru", &mut self.gates)?;
        y.resize(&[b, steps, h]);
        self.rec.resize(b * steps * g3, 0.0);
        self.hprev.resize(b * steps * h, 0.0);
        let mut hs = vec![0.0f32; b * h];
        let mut hm = vec![0.0f32; b * h];
        let mut rg = vec![0.0f32; b * g3];
        let lens = ctx.lengths_of(b, steps);
        let bhh = self.b_hh.value.data();
        for t in 0..steps {
            self.drop.recurrent_product(
                ctx,
                (t, steps, h),
                &hs,
                &mut hm,
                &mut self.hprev,
                self.w_hh.value.data(),
                &mut rg,
            );
            let (drop, zone) = (&self.drop, self.drop.zone_active());
            let ys = y.data_mut();
            self.gates
                .par_chunks_mut(steps * g3)
                .zip(self.rec.par_chunks_mut(steps * g3))
                .zip(ys.par_chunks_mut(steps * h))
                .zip(hs.par_chunks_mut(h).zip(rg.par_chunks(g3)))
                .enumerate()
                .for_each_init(
                    || vec![1.0f32; h],
                    |keep, (bi, (((gates, rec), out), (hb, rgb)))| {
                        let z = &mut gates[t * g3..(t + 1) * g3];
                        let rc = &mut rec[t * g3..(t + 1) * g3];
                        let out = &mut out[t * h..(t + 1) * h];
                        if t >= lens[bi] {
                            z.fill(0.0);
                            rc.fill(0.0);
                            out.fill(0.0);
                            return;
                        }
                        for ((c, &v), &bb) in rc.iter_mut().zip(rgb).zip(bhh) {
                            *c = v + bb;
                        }
                        if zone {
                            drop.zone_row(bi * steps + t, keep);
                        }
                        for j in 0..h {
                            let r = sigmoid(z[j] + rc[j]);
                            let u = sigmoid(z[h + j] + rc[h + j]);
                            let n = tanh(z[2 * h + j] + r * rc[2 * h + j]);
                            z[j] = r;
                            z[h + j] = u;
                            z[2 * h + j] = n;
                            // Zoneout mixes the new state with the old one: h = k h' + (1 - k) h_{t-1}.
                            let hv = keep[j] * ((1.0 - u) * n + u * hb[j]) + (1.0 - keep[j]) * hb[j];
                            hb[j] = hv;
                            out[j] = hv;
                        }
                    },
                );
        }
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
        let (b, steps, f) = self.dims(x)?;
        let h = self.hidden;
        let g3 = 3 * h;
        let lens = ctx.lengths_of(b, steps);
        let mut dh = vec![0.0f32; b * h];
        let mut drg_t = vec![0.0f32; b * g3];
        let mut dhm = vec![0.0f32; b * h];
        let whh = self.drop.whh(self.w_hh.value.data());
        // dxg: gradients of the input part of the gates; `rec` is overwritten by the
        // gradients of the recurrent part once used.
        self.dxg.resize(b * steps * g3, 0.0);
        let (yd, dyd) = (y.data(), dy.data());
        let (drop, zone) = (&self.drop, self.drop.zone_active());
        for t in (0..steps).rev() {
            self.gates
                .par_chunks(steps * g3)
                .zip(self.rec.par_chunks_mut(steps * g3))
                .zip(self.dxg.par_chunks_mut(steps * g3))
                .zip(drg_t.par_chunks_mut(g3).zip(dh.par_chunks_mut(h)))
                .enumerate()
                .for_each_init(
                    || vec![1.0f32; h],
                    |keep, (bi, (((gates, rec), dxg), (drg, dhb)))| {
                        let gr = t * g3;
                        let dxr = &mut dxg[gr..gr + g3];
                        if t >= lens[bi] {
                            dxr.fill(0.0);
                            drg.fill(0.0);
                            rec[gr..gr + g3].fill(0.0);
                            return;
                        }
                        let row = bi * steps + t;
                        if zone {
                            drop.zone_row(row, keep);
                        }
                        for j in 0..h {
                            let (r, u, n) = (gates[gr + j], gates[gr + h + j], gates[gr + 2 * h + j]);
                            let hp = if t > 0 { yd[(row - 1) * h + j] } else { 0.0 };
                            let dht = dyd[row * h + j] + dhb[j];
                            // Through zoneout: k to the new state, 1 - k straight to h_{t-1}.
                            let dhv = keep[j] * dht;
                            let dn = dhv * (1.0 - u) * (1.0 - n * n);
                            let du = dhv * (hp - n) * u * (1.0 - u);
                            let dr = dn * rec[gr + 2 * h + j] * r * (1.0 - r);
                            dhb[j] = dhv * u + (1.0 - keep[j]) * dht;
                            dxr[j] = dr;
                            dxr[h + j] = du;
                            dxr[2 * h + j] = dn;
                            drg[j] = dr;
                            drg[h + j] = du;
                            drg[2 * h + j] = dn * r;
                        }
                        rec[gr..gr + g3].copy_from_slice(drg);
                    },
                );
            gemm(
                &mut dhm,
                &drg_t,
                (b, g3),
                Trans::N,
                whh,
                (g3, h),
                Trans::N,
                false,
                ctx.par,
            );
            for bi in 0..b {
                let row = &mut dhm[bi * h..(bi + 1) * h];
                self.drop.mask_state_grad(bi, row);
                for (d, &v) in dh[bi * h..(bi + 1) * h].iter_mut().zip(row.iter()) {
                    *d += v;
                }
            }
        }
        let dims = (b, steps, f, h, g3);
        self.drop.weight_and_input_grads(
            ctx,
            x,
            dims,
            (&self.dxg, &self.rec),
            &self.hprev,
            (&mut self.w_ih, &mut self.w_hh),
            dx,
        );
        for (grad, src) in [(&mut self.b_ih.grad, &self.dxg), (&mut self.b_hh.grad, &self.rec)] {
            let g = grad.data_mut();
            g.fill(0.0);
            for row in src.chunks_exact(g3) {
                g.iter_mut().zip(row).for_each(|(d, &v)| *d += v);
            }
        }
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.w_ih, &self.w_hh, &self.b_ih, &self.b_hh]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.w_ih, &mut self.w_hh, &mut self.b_ih, &mut self.b_hh]
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec!["GRU"]
    }

    fn describe(&self) -> String {
        let mut s = format!("gru {}->{}", self.w_ih.value.shape()[1], self.hidden);
        self.drop.describe(&mut s);
        s
    }
}
