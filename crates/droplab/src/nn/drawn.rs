//! A dropout mask drawn for a plan and kept as rows of bits, with the plan's factors: the
//! masks of the recurrent layers' dropout and of Embedding's word dropout.

use crate::tensor::DropPlan;
use crate::tensor::mask::{bit, words_per_row};

/// A mask drawn for a dropout plan: rows of bits, with the plan's factors.
#[derive(Debug, Default)]
pub(crate) struct Drawn {
    plan: Option<DropPlan>,
    bits: Vec<u64>,
    cols: usize,
}

impl Drawn {
    /// Draws `rows` rows of `cols` bits for `plan`; `per_weight` keeps a frozen mask per row.
    pub(crate) fn draw(&mut self, plan: DropPlan, rows: usize, cols: usize, per_weight: bool) {
        self.cols = cols;
        if let DropPlan::Mask(mut spec) = plan {
            if per_weight {
                spec.per_unit = false;
            }
            let wpr = words_per_row(cols);
            self.bits.resize(rows * wpr, 0);
            for (r, words) in self.bits.chunks_exact_mut(wpr).enumerate() {
                spec.row_bits(r, words);
            }
            self.plan = Some(DropPlan::Mask(spec));
        } else {
            self.bits.clear();
            self.plan = Some(plan);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.plan = None;
        self.bits.clear();
    }

    pub(crate) fn active(&self) -> bool {
        !matches!(self.plan, None | Some(DropPlan::Identity))
    }

    /// `dst = src * factor(row)` elementwise.
    pub(crate) fn apply(&self, row: usize, src: &[f32], dst: &mut [f32]) {
        match &self.plan {
            None | Some(DropPlan::Identity) => dst.copy_from_slice(src),
            Some(DropPlan::Scale(s)) => dst.iter_mut().zip(src).for_each(|(d, &v)| *d = v * s),
            Some(DropPlan::Mask(spec)) => {
                let wpr = words_per_row(self.cols);
                let words = &self.bits[row * wpr..(row + 1) * wpr];
                for (c, (d, &v)) in dst.iter_mut().zip(src).enumerate() {
                    *d = if bit(words, c) { v * spec.scale } else { 0.0 };
                }
            }
        }
    }

    /// The factor of element `col` of row `row`.
    pub(crate) fn factor(&self, row: usize, col: usize) -> f32 {
        match &self.plan {
            None | Some(DropPlan::Identity) => 1.0,
            Some(DropPlan::Scale(s)) => *s,
            Some(DropPlan::Mask(spec)) => {
                let wpr = words_per_row(self.cols);
                if bit(&self.bits[row * wpr..(row + 1) * wpr], col) {
                    spec.scale
                } else {
                    0.0
                }
            }
        }
    }

    /// In place: `v *= factor(row)`.
    pub(crate) fn apply_in_place(&self, row: usize, v: &mut [f32]) {
        match &self.plan {
            None | Some(DropPlan::Identity) => {}
            Some(DropPlan::Scale(s)) => v.iter_mut().for_each(|x| *x *= s),
            Some(DropPlan::Mask(spec)) => {
                let wpr = words_per_row(self.cols);
                let words = &self.bits[row * wpr..(row + 1) * wpr];
                for (c, x) in v.iter_mut().enumerate() {
                    *x *= if bit(words, c) { spec.scale } else { 0.0 };
                }
            }
        }
    }
}
