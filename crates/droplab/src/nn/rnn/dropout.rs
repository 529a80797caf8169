//! The recurrent dropout variants the LSTM and the GRU share (input, recurrent state,
//! recurrent weights, zoneout) with their masks.

use super::seq_dims;
use crate::error::Result;
use crate::nn::drawn::Drawn;
use crate::nn::{Ctx, Param};
use crate::plan::Bernoulli;
use crate::tensor::{Tensor, Trans, gemm};

/// The dropout of a recurrent layer: on its input (per step, or per sequence when variational),
/// on its recurrent state (per sequence), on its recurrent weights (per minibatch).
#[derive(Debug, Default)]
pub(super) struct RecurrentDropout {
    pub(super) input: Option<(Bernoulli, bool)>,
    pub(super) state: Option<Bernoulli>,
    pub(super) weight: Option<Bernoulli>,
    /// Zoneout (Krueger et al. 2017): a unit keeps its previous state with probability `p`
    /// (a `Standard`-convention Bernoulli: keep bits in training, `1 - p` at test time).
    pub(super) zoneout: Option<Bernoulli>,
    zone_mask: Drawn,
    in_mask: Drawn,
    rec_mask: Drawn,
    w_mask: Drawn,
    masked_whh: Vec<f32>,
    xin: Vec<f32>,
}

impl RecurrentDropout {
    fn in_row(&self, b: usize, t: usize, steps: usize) -> usize {
        match self.input {
            Some((_, true)) => b,
            _ => b * steps + t,
        }
    }

    /// Draws this call's masks for a batch of `b` sequences of `steps` steps of `f` features,
    /// state width `h`, and masks `w_hh` under weight dropout.
    pub(super) fn draw(&mut self, ctx: &Ctx, (b, steps, f, h): (usize, usize, usize, usize), w_hh: &[f32]) {
        match self.zoneout {
            // LSTMs zone out their cell and their state: two masks of h per step.
            Some(d) => {
                let cols = if w_hh.len() == 4 * h * h { 2 * h } else { h };
                self.zone_mask
                    .draw(d.plan(ctx.mode, ctx.step), b * steps, cols, false);
            }
            None => self.zone_mask.clear(),
        }
        match self.input {
            Some((d, variational)) => {
                let rows = if variational { b } else { b * steps };
                self.in_mask.draw(d.plan(ctx.mode, ctx.step), rows, f, false);
            }
            None => self.in_mask.clear(),
        }
        match self.state {
            Some(d) => self.rec_mask.draw(d.plan(ctx.mode, ctx.step), b, h, false),
            None => self.rec_mask.clear(),
        }
        match self.weight {
            Some(d) => {
                let rows = w_hh.len() / h.max(1);
                self.w_mask.draw(d.plan(ctx.mode, ctx.step), rows, h, true);
                self.masked_whh.resize(w_hh.len(), 0.0);
                for (r, (dst, src)) in self
                    .masked_whh
                    .chunks_exact_mut(h)
                    .zip(w_hh.chunks_exact(h))
                    .enumerate()
                {
                    self.w_mask.apply(r, src, dst);
                }
            }
            None => self.w_mask.clear(),
        }
    }

    /// Masks the input `x` (`[b, steps, f]`) into the layer's buffer, if input dropout is on.
    pub(super) fn mask_input(&mut self, x: &[f32], (b, steps, f): (usize, usize, usize)) {
        if !self.in_mask.active() {
            return;
        }
        self.xin.resize(b * steps * f, 0.0);
        for bi in 0..b {
            for t in 0..steps {
                let r = (bi * steps + t) * f;
                let row = self.in_row(bi, t, steps);
                self.in_mask.apply(row, &x[r..r + f], &mut self.xin[r..r + f]);
            }
        }
    }

    /// The input this call uses: masked, or `x` itself.
    pub(super) fn input_used<'a>(&'a self, x: &'a [f32]) -> &'a [f32] {
        if self.in_mask.active() { &self.xin } else { x }
    }

    /// The recurrent weight this call uses: masked, or `w_hh` itself.
    pub(super) fn whh<'a>(&'a self, w_hh: &'a [f32]) -> &'a [f32] {
        if self.w_mask.active() {
            &self.masked_whh
        } else {
            w_hh
        }
    }

    /// `dst = src *` the recurrent-state mask of sequence `b`.
    fn mask_state(&self, b: usize, src: &[f32], dst: &mut [f32]) {
        self.rec_mask.apply(b, src, dst);
    }

    /// The gradient through the recurrent-state mask, in place.
    pub(super) fn mask_state_grad(&self, b: usize, row: &mut [f32]) {
        self.rec_mask.apply_in_place(b, row);
    }

    /// Only kept recurrent weights get gradient.
    pub(super) fn mask_whh_grad(&self, grad: &mut [f32], h: usize) {
        if self.w_mask.active() {
            for (r, row) in grad.chunks_exact_mut(h).enumerate() {
                self.w_mask.apply_in_place(r, row);
            }
        }
    }

    /// The gradient through the input mask, in place (`dx` is `[b, steps, f]`).
    pub(super) fn mask_input_grad(&self, dx: &mut [f32], (b, steps, f): (usize, usize, usize)) {
        if !self.in_mask.active() {
            return;
        }
        for bi in 0..b {
            for t in 0..steps {
                let r = (bi * steps + t) * f;
                self.in_mask
                    .apply_in_place(self.in_row(bi, t, steps), &mut dx[r..r + f]);
            }
        }
    }

    /// The factors of the last input mask for `(b, t)`, one per feature.
    pub(super) fn input_factors(&self, b: usize, t: usize, steps: usize, f: usize) -> Vec<f32> {
        let mut v = vec![1.0; f];
        if self.in_mask.active() {
            self.in_mask.apply_in_place(self.in_row(b, t, steps), &mut v);
        }
        v
    }

    /// The factors of the last recurrent-state mask of sequence `b`.
    pub(super) fn state_factors(&self, b: usize, h: usize) -> Vec<f32> {
        let mut v = vec![1.0; h];
        self.rec_mask.apply_in_place(b, &mut v);
        v
    }

    /// The recurrent input of step `t`: each sequence's state `hs` (`[b, h]`) through the
    /// state mask into `hm`, kept in `hprev` (`[b, steps, h]`) for the backward pass, then
    /// `out = hm W_hh^T` (`[b, gate rows]`) with the weight this call uses.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn recurrent_product(
        &self,
        ctx: &Ctx,
        (t, steps, h): (usize, usize, usize),
        hs: &[f32],
        hm: &mut [f32],
        hprev: &mut [f32],
        w_hh: &[f32],
        out: &mut [f32],
    ) {
        let b = hs.len() / h.max(1);
        for bi in 0..b {
            let dst = &mut hm[bi * h..(bi + 1) * h];
            self.mask_state(bi, &hs[bi * h..(bi + 1) * h], dst);
            let r = (bi * steps + t) * h;
            hprev[r..r + h].copy_from_slice(dst);
        }
        let rows = w_hh.len() / h.max(1);
        gemm(
            out,
            hm,
            (b, h),
            Trans::N,
            self.whh(w_hh),
            (rows, h),
            Trans::T,
            false,
            ctx.par,
        );
    }

    /// True when zoneout acts in this call.
    pub(super) fn zone_active(&self) -> bool {
        self.zone_mask.active()
    }

    /// The zoneout factors of step `(b, t)` (row `b * steps + t`): 1 updates a unit, 0 keeps
    /// its previous value, `1 - p` at test time mixes the two.
    pub(super) fn zone_row(&self, row: usize, out: &mut [f32]) {
        out.fill(1.0);
        self.zone_mask.apply_in_place(row, out);
    }

    /// Appends the active variants to a layer's description.
    pub(super) fn describe(&self, s: &mut String) {
        if let Some((d, v)) = &self.input {
            let kind = if *v { "variational" } else { "per step" };
            s.push_str(&format!(" + input dropout p={} ({kind})", d.p()));
        }
        if let Some(d) = &self.state {
            s.push_str(&format!(" + recurrent dropout p={} (variational)", d.p()));
        }
        if let Some(d) = &self.weight {
            s.push_str(&format!(" + weight dropout p={}", d.p()));
        }
        if let Some(d) = &self.zoneout {
            s.push_str(&format!(" + zoneout p={}", d.p()));
        }
    }
}

impl RecurrentDropout {
    /// Draws this call's masks, then writes every step's input contribution to the gates,
    /// `x W_ih^T + b_ih`, into `gates` (`[batch * steps, gate rows]`) in one GEMM. Returns
    /// `(batch, steps, features)`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn input_gates(
        &mut self,
        ctx: &Ctx,
        x: &Tensor,
        (w_ih, b_ih, w_hh): (&Tensor, &[f32], &[f32]),
        h: usize,
        layer: &str,
        gates: &mut Vec<f32>,
    ) -> Result<(usize, usize, usize)> {
        let (rows, f) = (w_ih.shape()[0], w_ih.shape()[1]);
        let (b, steps, f) = seq_dims(x, f, layer)?;
        self.draw(ctx, (b, steps, f, h), w_hh);
        self.mask_input(x.data(), (b, steps, f));
        let xin = self.input_used(x.data());
        gates.resize(b * steps * rows, 0.0);
        gemm(
            gates,
            xin,
            (b * steps, f),
            Trans::N,
            w_ih.data(),
            (rows, f),
            Trans::T,
            false,
            ctx.par,
        );
        for row in gates.chunks_exact_mut(rows) {
            row.iter_mut().zip(b_ih).for_each(|(v, &bb)| *v += bb);
        }
        Ok((b, steps, f))
    }
}

/// Builder methods shared by the recurrent layers.
macro_rules! recurrent_dropout_builders {
    () => {
        /// Dropout on the input: per time step, or one mask per sequence when `variational`.
        pub fn with_input_dropout(mut self, d: Option<Bernoulli>, variational: bool) -> Self {
            self.drop.input = d.filter(|d| d.p() > 0.0).map(|d| (d, variational));
            self
        }

        /// Variational dropout on the recurrent state (one mask per sequence).
        pub fn with_recurrent_dropout(mut self, d: Option<Bernoulli>) -> Self {
            self.drop.state = d.filter(|d| d.p() > 0.0);
            self
        }

        /// DropConnect on the recurrent weights (one mask per minibatch).
        pub fn with_weight_dropout(mut self, d: Option<Bernoulli>) -> Self {
            self.drop.weight = d.filter(|d| d.p() > 0.0);
            self
        }

        /// Zoneout (Krueger et al. 2017): each unit keeps its previous state (and, in an LSTM,
        /// its previous cell) with probability `p` at each step; at test time the state mixes
        /// `1 - p` of the new value with `p` of the old. `d`'s convention is ignored.
        pub fn with_zoneout(mut self, d: Option<Bernoulli>) -> Self {
            self.drop.zoneout = d
                .filter(|d| d.p() > 0.0)
                .map(|d| d.with_convention(crate::plan::Convention::Standard));
            self
        }
    };
}
pub(super) use recurrent_dropout_builders;

impl RecurrentDropout {
    /// The end of a recurrent layer's backward pass, the same for the LSTM and the GRU: the
    /// gradients of `W_ih` (from the gates' input part `d_in` and the input the forward pass
    /// used) and of `W_hh` (from the recurrent part `d_rec` and the states it multiplied, with
    /// weight dropout's mask), and the input gradient `dx` when asked, through input dropout's
    /// mask. `dims` is `(batch, steps, features, hidden, gate rows)`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn weight_and_input_grads(
        &self,
        ctx: &Ctx,
        x: &Tensor,
        dims: (usize, usize, usize, usize, usize),
        (d_in, d_rec): (&[f32], &[f32]),
        hprev: &[f32],
        (w_ih, w_hh): (&mut Param, &mut Param),
        dx: Option<&mut Tensor>,
    ) {
        let (b, steps, f, h, g) = dims;
        let xin = self.input_used(x.data());
        gemm(
            w_ih.grad.data_mut(),
            d_in,
            (b * steps, g),
            Trans::T,
            xin,
            (b * steps, f),
            Trans::N,
            false,
            ctx.par,
        );
        gemm(
            w_hh.grad.data_mut(),
            d_rec,
            (b * steps, g),
            Trans::T,
            hprev,
            (b * steps, h),
            Trans::N,
            false,
            ctx.par,
        );
        self.mask_whh_grad(w_hh.grad.data_mut(), h);
        if let Some(dx) = dx {
            dx.resize(x.shape());
            gemm(
                dx.data_mut(),
                d_in,
                (b * steps, g),
                Trans::N,
                w_ih.value.data(),
                (g, f),
                Trans::N,
                false,
                ctx.par,
            );
            self.mask_input_grad(dx.data_mut(), (b, steps, f));
        }
    }
}
