//! Max-norm constraint (Srivastava et al. 2014, section 5.1).
//!
//! After every update, each unit's *incoming* weight vector is projected onto the ball of
//! radius `c`: `w_j <- w_j * min(1, c / ||w_j||)`. Weights are stored `[units, fan_in]`, so
//! the vector of unit `j` is row `j` (axis 1 is reduced; PyTorch users would write
//! `torch.renorm(w, 2, 0, c)` on an `nn.Linear` weight). Biases are not constrained.

use crate::nn::{Param, Role};

/// Applies the constraint to `p` if it is a weight with a bound. Returns how many rows were
/// rescaled.
pub fn apply(p: &mut Param) -> usize {
    let Some(c) = p.reg.max_norm else { return 0 };
    if p.role != Role::Weight {
        return 0;
    }
    let cols = p.value.cols().max(1);
    let mut clipped = 0;
    for row in p.value.data_mut().chunks_exact_mut(cols) {
        let norm = row.iter().map(|&w| (w as f64) * (w as f64)).sum::<f64>().sqrt() as f32;
        if norm > c {
            let s = c / norm;
            row.iter_mut().for_each(|w| *w *= s);
            clipped += 1;
        }
    }
    clipped
}
