//! L1, L2 and elastic-net penalties on weights.
//!
//! For a parameter with coefficients `l1`, `l2` the loss gains
//! `l1 * sum |w| + l2 / 2 * sum w^2` and the gradient `l1 * sign(w) + l2 * w` (so `l2` is
//! PyTorch's `weight_decay`, and elastic net is both at once). Which parameters carry a
//! penalty is decided when the model is built: weights by default, biases only when asked.

use crate::nn::Param;

/// The penalty term of one parameter.
pub fn value(p: &Param) -> f64 {
    let (l1, l2) = (p.reg.l1 as f64, p.reg.l2 as f64);
    if l1 == 0.0 && l2 == 0.0 {
        return 0.0;
    }
    let mut abs = 0.0f64;
    let mut sq = 0.0f64;
    for &w in p.value.data() {
        abs += (w as f64).abs();
        sq += (w as f64) * (w as f64);
    }
    l1 * abs + 0.5 * l2 * sq
}

/// Adds the penalty's gradient to `p.grad`.
pub fn add_gradient(p: &mut Param) {
    let (l1, l2) = (p.reg.l1, p.reg.l2);
    if l1 == 0.0 && l2 == 0.0 {
        return;
    }
    for (g, &w) in p.grad.data_mut().iter_mut().zip(p.value.data()) {
        // sign(0) = 0: the subgradient PyTorch's `torch.sign` uses.
        let s = if w > 0.0 {
            1.0
        } else if w < 0.0 {
            -1.0
        } else {
            0.0
        };
        *g += l1 * s + l2 * w;
    }
}
