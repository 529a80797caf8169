//! Long short-term memory (Hochreiter & Schmidhuber 1997) over batch-first sequences of
//! varying length, with the recurrent dropout variants built in.
//!
//! Dropout in an LSTM (each optional, each with the core's modes):
//! * on the input: a fresh mask per time step, or *variational* (Gal & Ghahramani 2016): one
//!   mask per sequence, reused at every step. Dropout between stacked layers is the next
//!   layer's input dropout (PyTorch's `nn.LSTM(dropout=p)` is the per-step kind);
//! * on the recurrent state `h_{t-1}` (variational: one mask per sequence);
//! * on the recurrent weights `W_hh` (DropConnect, "weight dropout" of AWD-LSTM): one mask per
//!   minibatch.
//!
//! Steps past a sequence's length (`Ctx::lengths`) leave the state unchanged and output zeros.

use rayon::prelude::*;

use super::dropout::{RecurrentDropout, recurrent_dropout_builders};
use super::{seq_dims, seq_output_shape, sigmoid, tanh};
use crate::error::{Error, Result};
use crate::nn::{Ctx, Layer, Param, Role};
use crate::plan::Bernoulli;
use crate::rng::SeqRng;
use crate::tensor::{Tensor, Trans, gemm};

/// An LSTM layer: `[batch, time, in]` -> `[batch, time, hidden]`, PyTorch's gate order
/// (input, forget, cell, output) and weight layout (`weight_ih [4h, in]`, `weight_hh [4h, h]`).
#[derive(Debug)]
pub struct Lstm {
    w_ih: Param,
    w_hh: Param,
    bias: Param,
    hidden: usize,
    drop: RecurrentDropout,
    gates: Vec<f32>,
    cells: Vec<f32>,
    hprev: Vec<f32>,
    scratch: Vec<f32>,
}

impl Lstm {
    /// An LSTM `input -> hidden` with uniform(-1/sqrt(h), 1/sqrt(h)) weights as PyTorch, and
    /// the forget gate's bias at 1 (Jozefowicz et al. 2015).
    pub fn new(input: usize, hidden: usize, rng: &mut SeqRng) -> Result<Self> {
        if input == 0 || hidden == 0 {
            return Err(Error::ZeroWidth { field: "lstm".into() });
        }
        let k = 1.0 / (hidden as f32).sqrt();
        let mut uniform =
            |n: usize| -> Vec<f32> { (0..n).map(|_| (2.0 * rng.uniform() - 1.0) * k).collect() };
        let w_ih = Tensor::from_vec(&[4 * hidden, input], uniform(4 * hidden * input))?;
        let w_hh = Tensor::from_vec(&[4 * hidden, hidden], uniform(4 * hidden * hidden))?;
        let mut bias = Tensor::zeros(&[4 * hidden]);
        bias.data_mut()[hidden..2 * hidden].fill(1.0);
        Ok(Lstm {
            w_ih: Param::new("weight_ih_l0", w_ih, Role::Weight),
            w_hh: Param::new("weight_hh_l0", w_hh, Role::Weight),
            bias: Param::new("bias_ih_l0", bias, Role::Bias),
            hidden,
            drop: RecurrentDropout::default(),
            gates: Vec::new(),
            cells: Vec::new(),
            hprev: Vec::new(),
            scratch: Vec::new(),
        })
    }

    recurrent_dropout_builders!();

    /// The factors the last forward pass multiplied input `(b, t)` by, one per feature (1
    /// without input dropout).
    pub fn input_factors(&self, b: usize, t: usize, steps: usize) -> Vec<f32> {
        self.drop.input_factors(b, t, steps, self.w_ih.value.shape()[1])
    }

    /// The factors the last forward pass multiplied sequence `b`'s recurrent state by.
    pub fn recurrent_factors(&self, b: usize) -> Vec<f32> {
        self.drop.state_factors(b, self.hidden)
    }

    /// The recurrent weight the last forward pass used (masked under weight dropout).
    pub fn effective_whh(&self) -> &[f32] {
        self.drop.whh(self.w_hh.value.data())
    }

    fn dims(&self, x: &Tensor) -> Result<(usize, usize, usize)> {
        seq_dims(x, self.w_ih.value.shape()[1], "lstm")
    }
}

impl Layer for Lstm {
    fn kind(&self) -> &'static str {
        "lstm"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        seq_output_shape(input, self.w_ih.value.shape()[1], self.hidden, "lstm")
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> Result<()> {
        let h = self.hidden;
        let g4 = 4 * h;
        let weights = (&self.w_ih.value, self.bias.value.data(), self.w_hh.value.data());
        let (b, steps, _) = self
            .drop
            .input_gates(ctx, x, weights, h, "lstm", &mut self.gates)?;
        y.resize(&[b, steps, h]);
        self.cells.resize(b * steps * h, 0.0);
        self.hprev.resize(b * steps * h, 0.0);
        let mut hs = vec![0.0f32; b * h];
        let mut cs = vec![0.0f32; b * h];
        let mut hm = vec![0.0f32; b * h];
        self.scratch.resize(b * g4, 0.0);
        let lens = ctx.lengths_of(b, steps);
        for t in 0..steps {
            self.drop.recurrent_product(
                ctx,
                (t, steps, h),
                &hs,
                &mut hm,
                &mut self.hprev,
                self.w_hh.value.data(),
                &mut self.scratch,
            );
            let scratch = &self.scratch;
            let (drop, zone) = (&self.drop, self.drop.zone_active());
            let ys = y.data_mut();
            // Each sequence's step is independent: rows in parallel, loops the compiler
            // vectorizes.
            self.gates
                .par_chunks_mut(steps * g4)
                .zip(self.cells.par_chunks_mut(steps * h))
                .zip(ys.par_chunks_mut(steps * h))
                .zip(hs.par_chunks_mut(h).zip(cs.par_chunks_mut(h)))
                .enumerate()
                .for_each_init(
                    || vec![1.0f32; 2 * h],
                    |u, (bi, (((gates, cells), out), (hb, cb)))| {
                        let z = &mut gates[t * g4..(t + 1) * g4];
                        let cell = &mut cells[t * h..(t + 1) * h];
                        let out = &mut out[t * h..(t + 1) * h];
                        if t >= lens[bi] {
                            z.fill(0.0);
                            cell.copy_from_slice(cb);
                            out.fill(0.0);
                            return;
                        }
                        for (v, &r) in z.iter_mut().zip(&scratch[bi * g4..(bi + 1) * g4]) {
                            *v += r;
                        }
                        let (zi, rest) = z.split_at_mut(h);
                        let (zf, rest) = rest.split_at_mut(h);
                        let (zg, zo) = rest.split_at_mut(h);
                        zi.iter_mut().for_each(|v| *v = sigmoid(*v));
                        zf.iter_mut().for_each(|v| *v = sigmoid(*v));
                        zg.iter_mut().for_each(|v| *v = tanh(*v));
                        zo.iter_mut().for_each(|v| *v = sigmoid(*v));
                        // Zoneout: c_t = u_c c~ + (1 - u_c) c_{t-1}, h_t = u_h o tanh(c~) +
                        // (1 - u_h) h_{t-1}; without it u = 1 and these are the plain updates.
                        if zone {
                            drop.zone_row(bi * steps + t, u);
                        }
                        for j in 0..h {
                            let ct = zf[j] * cb[j] + zi[j] * zg[j];
                            let c = u[j] * ct + (1.0 - u[j]) * cb[j];
                            let hv = u[h + j] * zo[j] * tanh(ct) + (1.0 - u[h + j]) * hb[j];
                            cb[j] = c;
                            cell[j] = c;
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
        _y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> Result<()> {
        let (b, steps, f) = self.dims(x)?;
        let h = self.hidden;
        let g4 = 4 * h;
        let lens = ctx.lengths_of(b, steps);
        // dgates overwrite the stored activations once used.
        let mut dh = vec![0.0f32; b * h];
        let mut dc = vec![0.0f32; b * h];
        let mut dg_t = vec![0.0f32; b * g4];
        let mut dhm = vec![0.0f32; b * h];
        let whh = self.drop.whh(self.w_hh.value.data());
        let (drop, zone) = (&self.drop, self.drop.zone_active());
        for t in (0..steps).rev() {
            let dyd = dy.data();
            self.gates
                .par_chunks_mut(steps * g4)
                .zip(self.cells.par_chunks(steps * h))
                .zip(dg_t.par_chunks_mut(g4))
                .zip(dh.par_chunks_mut(h).zip(dc.par_chunks_mut(h)))
                .enumerate()
                .for_each_init(
                    || vec![1.0f32; 2 * h],
                    |u, (bi, (((gates, cells), dgb), (dhb, dcb)))| {
                        let gr = t * g4;
                        let cr = t * h;
                        if t >= lens[bi] {
                            gates[gr..gr + g4].fill(0.0);
                            dgb.fill(0.0);
                            return;
                        }
                        let dyr = &dyd[(bi * steps + t) * h..(bi * steps + t + 1) * h];
                        if zone {
                            drop.zone_row(bi * steps + t, u);
                        }
                        for j in 0..h {
                            let (i, fg, g, o) = (
                                gates[gr + j],
                                gates[gr + h + j],
                                gates[gr + 2 * h + j],
                                gates[gr + 3 * h + j],
                            );
                            let c_prev = if t > 0 { cells[cr - h + j] } else { 0.0 };
                            // The cell before zoneout, recomputed as the forward pass did.
                            let ct = fg * c_prev + i * g;
                            let tc = tanh(ct);
                            let (uc, uh) = (u[j], u[h + j]);
                            let dhv = dyr[j] + dhb[j];
                            // What flows straight to h_{t-1}; the recurrent part is added below.
                            dhb[j] = (1.0 - uh) * dhv;
                            let dht = uh * dhv;
                            let d_o = dht * tc;
                            let dct = uc * dcb[j] + dht * o * (1.0 - tc * tc);
                            dcb[j] = dct * fg + (1.0 - uc) * dcb[j];
                            dgb[j] = dct * g * i * (1.0 - i);
                            dgb[h + j] = dct * c_prev * fg * (1.0 - fg);
                            dgb[2 * h + j] = dct * i * (1.0 - g * g);
                            dgb[3 * h + j] = d_o * o * (1.0 - o);
                        }
                        gates[gr..gr + g4].copy_from_slice(dgb);
                    },
                );
            // dL/dh_{t-1} through the recurrent weights and the recurrent mask.
            gemm(
                &mut dhm,
                &dg_t,
                (b, g4),
                Trans::N,
                whh,
                (g4, h),
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
        let dgates = &self.gates;
        let dims = (b, steps, f, h, g4);
        self.drop.weight_and_input_grads(
            ctx,
            x,
            dims,
            (dgates, dgates),
            &self.hprev,
            (&mut self.w_ih, &mut self.w_hh),
            dx,
        );
        let db = self.bias.grad.data_mut();
        db.fill(0.0);
        for row in dgates.chunks_exact(g4) {
            db.iter_mut().zip(row).for_each(|(d, &v)| *d += v);
        }
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.w_ih, &self.w_hh, &self.bias]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.w_ih, &mut self.w_hh, &mut self.bias]
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        vec!["LSTM"]
    }

    fn output_dropout(&self) -> Option<f32> {
        None
    }

    fn describe(&self) -> String {
        let mut s = format!("lstm {}->{}", self.w_ih.value.shape()[1], self.hidden);
        self.drop.describe(&mut s);
        s
    }
}
