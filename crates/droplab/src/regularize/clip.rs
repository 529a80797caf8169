//! Gradient-norm clipping over all parameters together (PyTorch's `clip_grad_norm_`).

use crate::nn::Param;

/// Scales every gradient by `max_norm / total_norm` when the global L2 norm exceeds
/// `max_norm`. Returns the norm before clipping.
pub fn clip_grad_norm(params: &mut [&mut Param], max_norm: f32) -> f64 {
    let total: f64 = params.iter().map(|p| p.grad.sum_squares()).sum::<f64>().sqrt();
    if total > max_norm as f64 && total > 0.0 {
        let s = (max_norm as f64 / total) as f32;
        for p in params.iter_mut() {
            p.grad.data_mut().iter_mut().for_each(|g| *g *= s);
        }
    }
    total
}
