//! Dropout mask generation: one bit per element, from a counter-based stream.
//!
//! Words `2j` and `2j + 1` of row `r` at step `s` are built from 16 Philox blocks with
//! counters `(16 j + i, r, s)`, i.e. 64 uniform u32 values, each split into two 16-bit
//! uniforms, one per element: element `(r, c)` is kept when its 16-bit value is at least
//! `threshold = round(p * 2^16)`, so the keep probability is `1 - p` to within `2^-17`
//! (invisible to any test of 10^6 draws, whose 1-sigma is 5 * 10^-4) at half the generator
//! cost of one u32 per element. The mask is a pure function of `(key, step, row, column)`:
//! the same on any thread count and regenerable at will.
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
    /// Drop threshold `round(p * 2^16)`; 2^16 drops everything.
    pub threshold: u64,
    /// Multiplier for kept units.
    pub scale: f32,
    /// One mask per column shared by every row (a single thinned network).
    pub per_unit: bool,
}

/// The threshold for drop probability `p`.
pub fn threshold(p: f32) -> u64 {
    ((p as f64) * 65_536.0).round() as u64
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
                let mut bits = 0u64;
                for (k, &v) in vals[32 * half..32 * half + 32].iter().enumerate() {
                    let (lo, hi) = ((v & 0xFFFF) as u64, (v >> 16) as u64);
                    bits |= ((lo >= self.threshold) as u64) << (2 * k);
                    bits |= ((hi >= self.threshold) as u64) << (2 * k + 1);
                }
                *word = bits;
            }
        }
    }
}

/// Whether bit `c` of a row's words is set.
#[inline(always)]
pub fn bit(words: &[u64], c: usize) -> bool {
    (words[c >> 6] >> (c & 63)) & 1 == 1
}
