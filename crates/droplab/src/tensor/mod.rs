//! Tensors and the heavy kernels under every layer.
//!
//! All heavy work (GEMM, fused elementwise epilogues, mask generation) lives behind this
//! module so that another backend could replace it without touching the layers.
//!
//! * [`Tensor`]: an f32 row-major array with a shape. A tensor whose first axis is the batch
//!   is viewed as a matrix of `rows() x cols()` (batch x features).
//! * [`gemm`]: `C = op(A) op(B)` through faer, every transpose case without a copy.
//! * [`Activation`]: the elementwise activations the fused kernels apply.
//! * [`Threads`]: the thread pool the caller sizes; every kernel runs inside it.

mod activation;
pub mod fused;
pub mod im2col;
pub mod mask;
mod matmul;
mod threads;

pub use activation::{Activation, SELU_ALPHA, SELU_LAMBDA};
pub use mask::{DropPlan, MaskSpec};
pub use matmul::{Trans, gemm};
pub use threads::Threads;

use crate::error::{Error, Result};

/// An f32 row-major tensor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        let n = shape.iter().product();
        Tensor {
            shape: shape.to_vec(),
            data: vec![0.0; n],
        }
    }

    /// Wraps `data` with `shape`; the element counts must agree.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::ShapeMismatch {
                context: "Tensor::from_vec".into(),
                expected: vec![n],
                got: vec![data.len()],
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements, row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The elements, row-major, mutable.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Consumes the tensor into its elements.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Size of the first axis (the batch), 1 for a scalar.
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Product of all axes but the first: the width of one row.
    pub fn cols(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// One row (one example) of a batch.
    pub fn row(&self, r: usize) -> &[f32] {
        let c = self.cols();
        &self.data[r * c..(r + 1) * c]
    }

    /// One row of a batch, mutable.
    pub fn row_mut(&mut self, r: usize) -> &mut [f32] {
        let c = self.cols();
        &mut self.data[r * c..(r + 1) * c]
    }

    /// Reshapes in place, reusing the allocation; new elements are zero.
    /// Used by layers for their output buffers, which keep their capacity across steps.
    pub fn resize(&mut self, shape: &[usize]) {
        let n: usize = shape.iter().product();
        if self.shape != shape {
            self.shape.clear();
            self.shape.extend_from_slice(shape);
        }
        self.data.resize(n, 0.0);
    }

    /// Reinterprets the shape; the element count must stay the same.
    pub fn reshape(&mut self, shape: &[usize]) -> Result<()> {
        let n: usize = shape.iter().product();
        if n != self.data.len() {
            return Err(Error::ShapeMismatch {
                context: "Tensor::reshape".into(),
                expected: vec![self.data.len()],
                got: vec![n],
            });
        }
        self.shape = shape.to_vec();
        Ok(())
    }

    /// Fills with a constant.
    pub fn fill(&mut self, v: f32) {
        self.data.iter_mut().for_each(|x| *x = v);
    }

    /// Sum of squares of all elements, accumulated in f64.
    pub fn sum_squares(&self) -> f64 {
        self.data.iter().map(|&x| (x as f64) * (x as f64)).sum()
    }

    /// Copies the selected rows of `self` into `out` (resized to `[idx.len(), ...]`).
    pub fn gather_rows(&self, idx: &[usize], out: &mut Tensor) {
        let mut shape = self.shape.clone();
        shape[0] = idx.len();
        out.resize(&shape);
        let c = self.cols();
        for (dst, &i) in out.data.chunks_exact_mut(c.max(1)).zip(idx) {
            dst.copy_from_slice(&self.data[i * c..(i + 1) * c]);
        }
    }

    /// The index of the largest element of each row.
    pub fn argmax_rows(&self) -> Vec<usize> {
        let c = self.cols();
        (0..self.rows())
            .map(|r| {
                let row = &self.data[r * c..(r + 1) * c];
                let mut best = 0;
                for (j, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = j;
                    }
                }
                best
            })
            .collect()
    }
}
