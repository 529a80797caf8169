//! Recurrent layers: the LSTM and the GRU over batch-first sequences of varying length, the
//! recurrent dropout variants they share, and the heads that pool a sequence into a vector.
//!
//! * [`Lstm`] (`lstm.rs`) and [`Gru`] (`gru.rs`): one GEMM for the input's contribution to
//!   every step's gates, then a small GEMM and the gates per step;
//! * `dropout.rs`: input, recurrent-state and recurrent-weight dropout and zoneout, with their
//!   masks (one mask per sequence for the variational kinds);
//! * [`SeqPool`] (`head.rs`): the last step's state or the mean over each sequence's steps;
//! * here: the gates' fast nonlinearities and the sequence shape checks.

mod dropout;
mod gru;
mod head;
mod lstm;

pub use gru::Gru;
pub use head::{SeqPool, SeqPoolKind};
pub use lstm::Lstm;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// `e^x` for the gates, in a form the compiler vectorizes: `2^round(x log2 e)` from the
/// exponent bits times a degree-6 Taylor polynomial of `e^r`, `|r| <= ln(2)/2`
/// (relative error below 2e-7).
#[inline(always)]
pub(super) fn fast_exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let k = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - k * std::f32::consts::LN_2;
    let p = 1.0
        + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((k as i32 + 127) as u32) << 23)
}

#[inline(always)]
pub(super) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + fast_exp(-x))
}

#[inline(always)]
pub(super) fn tanh(x: f32) -> f32 {
    2.0 / (1.0 + fast_exp(-2.0 * x)) - 1.0
}

/// The per-example output shape `[time, h]` of a recurrent layer of `f` inputs.
pub(super) fn seq_output_shape(input: &[usize], f: usize, h: usize, layer: &str) -> Result<Vec<usize>> {
    match input {
        [t, ff] if *ff == f => Ok(vec![*t, h]),
        _ => Err(Error::ShapeMismatch {
            context: format!("{layer} input (sequences [time, features])"),
            expected: vec![0, f],
            got: input.to_vec(),
        }),
    }
}

/// `(batch, time, features)` of a sequence batch for a layer of `f` inputs.
pub(super) fn seq_dims(x: &Tensor, f: usize, layer: &str) -> Result<(usize, usize, usize)> {
    match x.shape() {
        [b, t, ff] if *ff == f => Ok((*b, *t, f)),
        s => Err(Error::ShapeMismatch {
            context: format!("{layer} input (sequences [batch, time, features])"),
            expected: vec![0, 0, f],
            got: s.to_vec(),
        }),
    }
}
