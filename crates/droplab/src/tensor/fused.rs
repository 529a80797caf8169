//! Fused elementwise kernels: bias + activation + dropout in one pass over a layer's output,
//! and the matching backward pass that reads the one-bit mask.
//!
//! Rows are processed in parallel in the caller's pool; every row is independent, so the
//! result does not depend on the thread count.

use rayon::prelude::*;

use super::Activation;
use super::mask::{DropPlan, bit, words_per_row};

/// Below this many elements a kernel stays on the calling thread.
const PAR_MIN: usize = 1 << 15;

fn rows_per_task(rows: usize, cols: usize) -> usize {
    (PAR_MIN / cols.max(1)).clamp(1, rows.max(1))
}

/// `y <- drop(act(y + bias))`, writing the keep bits of a `Mask` plan into `bits`
/// (resized to `rows * words_per_row(cols)`).
pub fn forward_epilogue(
    y: &mut [f32],
    cols: usize,
    bias: Option<&[f32]>,
    act: Activation,
    plan: &DropPlan,
    bits: &mut Vec<u64>,
) {
    let rows = y.len() / cols.max(1);
    let wpr = words_per_row(cols);
    let is_mask = matches!(plan, DropPlan::Mask(_));
    if is_mask {
        bits.resize(rows * wpr, 0);
    } else {
        bits.clear();
    }
    let per = rows_per_task(rows, cols);
    let work = |(chunk_idx, (ychunk, bchunk)): (usize, (&mut [f32], &mut [u64]))| {
        for (i, yrow) in ychunk.chunks_exact_mut(cols).enumerate() {
            let row = chunk_idx * per + i;
            if let Some(b) = bias {
                for (v, &bb) in yrow.iter_mut().zip(b) {
                    *v += bb;
                }
            }
            act.apply(yrow);
            match plan {
                DropPlan::Identity => {}
                DropPlan::Scale(s) => yrow.iter_mut().for_each(|v| *v *= s),
                DropPlan::Mask(spec) => {
                    let words = &mut bchunk[i * wpr..(i + 1) * wpr];
                    spec.row_bits(row, words);
                    apply_bits(yrow, words, spec.scale);
                }
            }
        }
    };
    let bit_chunk = if is_mask { per * wpr } else { 0 };
    if y.len() < PAR_MIN || rows == 1 {
        if is_mask {
            work((0, (y, &mut bits[..])));
        } else {
            for (ci, yc) in y.chunks_mut(per * cols).enumerate() {
                work((ci, (yc, &mut [][..])));
            }
        }
    } else if is_mask {
        y.par_chunks_mut(per * cols)
            .zip(bits.par_chunks_mut(bit_chunk))
            .enumerate()
            .for_each(work);
    } else {
        y.par_chunks_mut(per * cols)
            .enumerate()
            .for_each(|(ci, yc)| work((ci, (yc, &mut [][..]))));
    }
}

/// Multiplies kept elements by `scale` and zeroes dropped ones.
#[inline]
fn apply_bits(row: &mut [f32], words: &[u64], scale: f32) {
    for (chunk, &w) in row.chunks_mut(64).zip(words) {
        for (k, v) in chunk.iter_mut().enumerate() {
            let keep = ((w >> k) & 1) as f32;
            *v *= keep * scale;
        }
    }
}

/// The backward pass of [`forward_epilogue`], in place: `dy <- d(loss)/d(pre-activation)`
/// given `z`, the epilogue's output, and the bits its forward pass wrote.
///
/// The activation's derivative is computed from its output `t = z / scale` of kept units;
/// dropped units get zero gradient.
pub fn backward_epilogue(
    dy: &mut [f32],
    z: &[f32],
    cols: usize,
    act: Activation,
    plan: &DropPlan,
    bits: &[u64],
) {
    let rows = dy.len() / cols.max(1);
    let wpr = words_per_row(cols);
    let per = rows_per_task(rows, cols);
    let work = |(ci, (dchunk, zchunk)): (usize, (&mut [f32], &[f32]))| {
        for (i, (drow, zrow)) in dchunk
            .chunks_exact_mut(cols)
            .zip(zchunk.chunks_exact(cols))
            .enumerate()
        {
            let row = ci * per + i;
            match plan {
                DropPlan::Identity => {
                    for (d, &t) in drow.iter_mut().zip(zrow) {
                        *d *= act.derivative_from_output(t);
                    }
                }
                DropPlan::Scale(s) => scaled_backward(drow, zrow, *s, act, None),
                DropPlan::Mask(spec) => {
                    let words = &bits[row * wpr..(row + 1) * wpr];
                    scaled_backward(drow, zrow, spec.scale, act, Some(words));
                }
            }
        }
    };
    if dy.len() < PAR_MIN {
        dy.chunks_mut(per * cols)
            .zip(z.chunks(per * cols))
            .enumerate()
            .for_each(work);
    } else {
        dy.par_chunks_mut(per * cols)
            .zip(z.par_chunks(per * cols))
            .enumerate()
            .for_each(work);
    }
}

#[inline]
fn scaled_backward(drow: &mut [f32], zrow: &[f32], s: f32, act: Activation, words: Option<&[u64]>) {
    if s == 0.0 {
        drow.iter_mut().for_each(|d| *d = 0.0);
        return;
    }
    let inv = 1.0 / s;
    match (act, words) {
        // The hot case: ReLU under a mask. A kept unit has z > 0 exactly when its
        // pre-activation was positive; a dropped unit has z = 0. So the mask is implied by z.
        (Activation::Relu, _) => {
            for (d, &t) in drow.iter_mut().zip(zrow) {
                *d = if t > 0.0 { *d * s } else { 0.0 };
            }
        }
        (_, Some(w)) => {
            for (c, (d, &t)) in drow.iter_mut().zip(zrow).enumerate() {
                *d = if bit(w, c) {
                    *d * s * act.derivative_from_output(t * inv)
                } else {
                    0.0
                };
            }
        }
        (_, None) => {
            for (d, &t) in drow.iter_mut().zip(zrow) {
                *d *= s * act.derivative_from_output(t * inv);
            }
        }
    }
}
