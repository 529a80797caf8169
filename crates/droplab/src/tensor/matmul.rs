//! GEMM through faer on row-major slices, every transpose case as a strided view (no copy).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trans {
    /// As stored.
    N,
    /// Transposed.
    T,
}

fn view<'a>(data: &'a [f32], rows: usize, cols: usize, t: Trans) -> MatRef<'a, f32> {
    let m = MatRef::from_row_major_slice(data, rows, cols);
    match t {
        Trans::N => m,
        Trans::T => m.transpose(),
    }
}

/// `C = op(A) op(B)` (or `C += ...` when `accumulate`), all matrices row-major.
///
/// `a` is stored as `a_rows x a_cols`, `b` as `b_rows x b_cols`; `c` must hold `m x n`
/// where `m` and `n` are the rows of `op(A)` and the columns of `op(B)`.
///
/// # Panics
/// If the slice lengths do not match the stated shapes (a programming error inside the
/// library: layers check user-facing shapes before calling).
pub fn gemm(
    c: &mut [f32],
    a: &[f32],
    (a_rows, a_cols): (usize, usize),
    ta: Trans,
    b: &[f32],
    (b_rows, b_cols): (usize, usize),
    tb: Trans,
    accumulate: bool,
    par: Par,
) {
    let a = view(a, a_rows, a_cols, ta);
    let b = view(b, b_rows, b_cols, tb);
    assert_eq!(a.ncols(), b.nrows(), "gemm inner dimensions");
    let (m, n) = (a.nrows(), b.ncols());
    let c = MatMut::from_row_major_slice_mut(c, m, n);
    let accum = if accumulate { Accum::Add } else { Accum::Replace };
    matmul(c, accum, a, b, 1.0f32, par);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], m: usize, k: usize, b: &[f32], n: usize) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    fn transpose(a: &[f32], r: usize, c: usize) -> Vec<f32> {
        let mut t = vec![0.0; r * c];
        for i in 0..r {
            for j in 0..c {
                t[j * r + i] = a[i * c + j];
            }
        }
        t
    }

    #[test]
    fn all_transpose_cases_match_naive() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let want = naive(&a, m, k, &b, n);
        let at = transpose(&a, m, k);
        let bt = transpose(&b, k, n);
        for (ta, tb) in [
            (Trans::N, Trans::N),
            (Trans::T, Trans::N),
            (Trans::N, Trans::T),
            (Trans::T, Trans::T),
        ] {
            let (aa, ash) = if ta == Trans::N {
                (&a, (m, k))
            } else {
                (&at, (k, m))
            };
            let (bb, bsh) = if tb == Trans::N {
                (&b, (k, n))
            } else {
                (&bt, (n, k))
            };
            let mut c = vec![1.0; m * n];
            gemm(&mut c, aa, ash, ta, bb, bsh, tb, false, Par::Seq);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-5, "{ta:?}{tb:?}: {x} vs {y}");
            }
            gemm(&mut c, aa, ash, ta, bb, bsh, tb, true, Par::Seq);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - 2.0 * y).abs() < 1e-5);
            }
        }
    }
}
