//! Dropout mask generation: one bit per element, from a counter-based stream.
//!
//! Words `2j` and `2j + 1` of row `r` at step `s` are built from 16 Philox blocks with
//! counters `(16 j + i, r, s)`, i.e. 64 uniform u32 values, each split into two 16-bit
//! uniforms, one per element, at half the generator cost of one u32 per element. With
//! `p * 2^16 = whole + frac` (`frac` in `[0, 1)`, kept as 32 bits), element `(r, c)` is
//! dropped when its 16-bit value is below `whole`, kept when above, and, in the one bucket
//! equal to `whole` (one element in 65,536), dropped when a second, 32-bit uniform drawn for
//! that element alone is below `frac`. The drop probability is therefore `p` to within
//! `2^-49`: exact for every rate a config can hold, `p = 0.9999` and `p = 10^-9` included
//! (16 bits alone gave `round(p * 2^16) / 2^16`: 1.007 instead of 1 for the mean of an
//! inverted mask at `p = 0.999`, and no drop at all below `2^-17`). Rates that are multiples
//! of `2^-16` (0.5, 0.25) never need the second draw. The mask is a pure function of
//! `(key, step, row, column)`: the same on any thread count and regenerable at will.
//! Rows are padded to whole 64-bit words; between forward and backward a mask costs one bit
//! per element (plus that padding).

use crate::rng::{Stream, philox_x8, philox_x16};

/// How a dropout layer treats its input in one call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DropPlan {
    /// Pass through unchanged.
    Identity,
    /// Multiply by a constant (the standard convention at test time: `1 - p`).
    Scale(f32),
    /// Draw a Bernoulli mask and multiply kept units by `scale`.
    Mask(MaskSpec),
}

/// Where a mask comes from and how kept units are scaled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaskSpec {
    /// The stream (already specialised for the mode: train, Monte Carlo, frozen).
    pub stream: Stream,
    /// The step counter (training step or Monte Carlo pass).
    pub step: u64,
    /// The drop probability as the generator compares it.
    pub threshold: Threshold,
    /// Multiplier for kept units.
    pub scale: f32,
    /// One mask per column shared by every row (a single thinned network).
    pub per_unit: bool,
}

/// A drop probability as the mask generator uses it: `(whole + frac / 2^32) / 2^16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    /// 16-bit values below this are dropped (`2^16` drops everything).
    whole: u32,
    /// Values equal to `whole` are dropped when their own 32-bit uniform is below this.
    frac: u32,
}

impl Threshold {
    /// The exact drop probability the generator realizes.
    pub fn probability(self) -> f64 {
        (self.whole as f64 + self.frac as f64 / 4_294_967_296.0) / 65_536.0
    }
}

/// The threshold for drop probability `p` (clamped to `[0, 1]`).
pub fn threshold(p: f32) -> Threshold {
    let x = (p as f64).clamp(0.0, 1.0) * 65_536.0;
    let whole = x.floor();
    let frac = ((x - whole) * 4_294_967_296.0).round();
    if frac >= 4_294_967_296.0 {
        Threshold {
            whole: whole as u32 + 1,
            frac: 0,
        }
    } else {
        Threshold {
            whole: whole as u32,
            frac: frac as u32,
        }
    }
}

/// Number of u64 words that hold one row of `cols` bits.
pub fn words_per_row(cols: usize) -> usize {
    cols.div_ceil(64)
}

impl MaskSpec {
    /// Writes the keep bits of row `row` (width `cols`) into `out` (`words_per_row(cols)` words).
    #[inline]
    pub fn row_bits(&self, row: usize, out: &mut [u64]) {
        let key = self.stream.key();
        let (r, s) = if self.per_unit {
            (u32::MAX, 0u64)
        } else {
            (row as u32, self.step)
        };
        let (whole, frac) = (self.threshold.whole as u64, self.threshold.frac);
        let mut vals = [0u32; 64];
        for (j, pair) in out.chunks_mut(2).enumerate() {
            let ctr = ((j * 16) as u32, r, s as u32, (s >> 32) as u32);
            if pair.len() == 2 {
                philox_x16(ctr.0, ctr.1, ctr.2, ctr.3, key, &mut vals);
            } else {
                // A row's last odd word (all of a row of at most 64 units): the first half of
                // the same blocks.
                let half: &mut [u32; 32] = (&mut vals[..32]).try_into().expect("32 values");
                philox_x8(ctr.0, ctr.1, ctr.2, ctr.3, key, half);
            }
            for (half, word) in pair.iter_mut().enumerate() {
                let vals = &vals[32 * half..32 * half + 32];
                let mut bits = 0u64;
                for (k, &v) in vals.iter().enumerate() {
                    let (lo, hi) = ((v & 0xFFFF) as u64, (v >> 16) as u64);
                    bits |= ((lo >= whole) as u64) << (2 * k);
                    bits |= ((hi >= whole) as u64) << (2 * k + 1);
                }
                if frac != 0 {
                    let mut tied = 0u64;
                    for (k, &v) in vals.iter().enumerate() {
                        let (lo, hi) = ((v & 0xFFFF) as u64, (v >> 16) as u64);
                        tied |= ((lo == whole) as u64) << (2 * k);
                        tied |= ((hi == whole) as u64) << (2 * k + 1);
                    }
                    while tied != 0 {
                        let b = tied.trailing_zeros();
                        tied &= tied - 1;
                        let col = (64 * (2 * j + half)) as u32 + b;
                        if self.tie_draw(r, s, col) < frac {
                            bits &= !(1u64 << b);
                        }
                    }
                }
                *word = bits;
            }
        }
    }
}

impl MaskSpec {
    /// The second uniform of element `(r, col)` at step `s`, for the bucket at the threshold:
    /// from its own stream, so it never reuses a value of the 16-bit draws.
    #[cold]
    fn tie_draw(&self, r: u32, s: u64, col: u32) -> u32 {
        self.stream.derive("threshold-tie").block(s, r, col)[0]
    }
}

/// Whether bit `c` of a row's words is set.
#[inline(always)]
pub fn bit(words: &[u64], c: usize) -> bool {
    (words[c >> 6] >> (c & 63)) & 1 == 1
}
