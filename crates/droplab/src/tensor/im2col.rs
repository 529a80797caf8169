//! `im2col` and `col2im` for 2-d convolution of one example, so that a convolution becomes
//! one GEMM per example.
//!
//! For an input `[c, h, w]`, kernel `k x k`, stride `s` and zero padding `p`, the column
//! matrix has `c * k * k` rows and `oh * ow` columns:
//! `col[(ci * k + i) * k + j, oy * ow + ox] = x[ci, oy * s + i - p, ox * s + j - p]` (0 outside).
//! Then `W [out, c*k*k] x col` is the output `[out, oh * ow]`, already in NCHW order.

/// The geometry of one convolution or pooling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Input channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Kernel size (square).
    pub k: usize,
    /// Stride.
    pub s: usize,
    /// Zero padding on every side.
    pub p: usize,
}

impl Geometry {
    /// Output height, or `None` when the padded input is smaller than the kernel.
    pub fn out_h(&self) -> Option<usize> {
        (self.h + 2 * self.p).checked_sub(self.k).map(|d| d / self.s + 1)
    }

    /// Output width, or `None` when the padded input is smaller than the kernel.
    pub fn out_w(&self) -> Option<usize> {
        (self.w + 2 * self.p).checked_sub(self.k).map(|d| d / self.s + 1)
    }

    /// Rows of the column matrix: `c * k * k`.
    pub fn col_rows(&self) -> usize {
        self.c * self.k * self.k
    }

    /// Columns of the column matrix: `oh * ow`.
    pub fn col_cols(&self) -> usize {
        self.out_h().unwrap_or(0) * self.out_w().unwrap_or(0)
    }

    /// For kernel offset `i` along an axis of length `len`, the output positions `o` in
    /// `[lo, hi)` whose input index `o * s + i - p` lies inside `[0, len)`.
    #[inline]
    fn valid(&self, i: usize, len: usize, out: usize) -> (usize, usize) {
        // o * s + i >= p  <=>  o >= ceil((p - i) / s)
        let lo = if i >= self.p {
            0
        } else {
            (self.p - i).div_ceil(self.s)
        };
        // o * s + i - p < len  <=>  o * s < len + p - i
        let hi = if len + self.p > i {
            (len + self.p - i).div_ceil(self.s)
        } else {
            0
        };
        (lo.min(out), hi.min(out).max(lo.min(out)))
    }
}

/// Writes the column matrix of `x` (`[c, h, w]`) into `col` (`col_rows x col_cols`), whose
/// rows start `ld` elements apart (`ld >= col_cols`; several examples can then sit side by
/// side in one wider matrix).
pub fn im2col(g: &Geometry, x: &[f32], col: &mut [f32], ld: usize) {
    let (oh, ow) = (g.out_h().unwrap_or(0), g.out_w().unwrap_or(0));
    let n = oh * ow;
    debug_assert_eq!(x.len(), g.c * g.h * g.w);
    debug_assert!(col.len() >= (g.col_rows() - 1) * ld + n);
    for ci in 0..g.c {
        let plane = &x[ci * g.h * g.w..(ci + 1) * g.h * g.w];
        for i in 0..g.k {
            let (ylo, yhi) = g.valid(i, g.h, oh);
            for j in 0..g.k {
                let (xlo, xhi) = g.valid(j, g.w, ow);
                let r = (ci * g.k + i) * g.k + j;
                let dst = &mut col[r * ld..r * ld + n];
                for oy in 0..oh {
                    let out = &mut dst[oy * ow..(oy + 1) * ow];
                    if oy < ylo || oy >= yhi || xlo >= xhi {
                        out.fill(0.0);
                        continue;
                    }
                    let iy = oy * g.s + i - g.p;
                    let src = &plane[iy * g.w..(iy + 1) * g.w];
                    out[..xlo].fill(0.0);
                    out[xhi..].fill(0.0);
                    if g.s == 1 {
                        let x0 = xlo + j - g.p;
                        out[xlo..xhi].copy_from_slice(&src[x0..x0 + (xhi - xlo)]);
                    } else {
                        for (ox, v) in out.iter_mut().enumerate().take(xhi).skip(xlo) {
                            *v = src[ox * g.s + j - g.p];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the column matrix `col` (rows `ld` apart) back into `dx` (`[c, h, w]`, overwritten):
/// the adjoint of [`im2col`].
pub fn col2im(g: &Geometry, col: &[f32], dx: &mut [f32], ld: usize) {
    let (oh, ow) = (g.out_h().unwrap_or(0), g.out_w().unwrap_or(0));
    let n = oh * ow;
    dx.fill(0.0);
    for ci in 0..g.c {
        let plane = &mut dx[ci * g.h * g.w..(ci + 1) * g.h * g.w];
        for i in 0..g.k {
            let (ylo, yhi) = g.valid(i, g.h, oh);
            for j in 0..g.k {
                let (xlo, xhi) = g.valid(j, g.w, ow);
                if xlo >= xhi {
                    continue;
                }
                let r = (ci * g.k + i) * g.k + j;
                let src = &col[r * ld..r * ld + n];
                for oy in ylo..yhi {
                    let iy = oy * g.s + i - g.p;
                    let row = &mut plane[iy * g.w..(iy + 1) * g.w];
                    let from = &src[oy * ow..(oy + 1) * ow];
                    if g.s == 1 {
                        let x0 = xlo + j - g.p;
                        for (d, &v) in row[x0..x0 + (xhi - xlo)].iter_mut().zip(&from[xlo..xhi]) {
                            *d += v;
                        }
                    } else {
                        for (ox, &v) in from.iter().enumerate().take(xhi).skip(xlo) {
                            row[ox * g.s + j - g.p] += v;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(g: &Geometry, x: &[f32]) -> Vec<f32> {
        let (oh, ow) = (g.out_h().unwrap(), g.out_w().unwrap());
        let mut col = vec![0.0; g.col_rows() * oh * ow];
        for ci in 0..g.c {
            for i in 0..g.k {
                for j in 0..g.k {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let iy = (oy * g.s + i) as isize - g.p as isize;
                            let ix = (ox * g.s + j) as isize - g.p as isize;
                            let v = if iy >= 0 && ix >= 0 && (iy as usize) < g.h && (ix as usize) < g.w {
                                x[(ci * g.h + iy as usize) * g.w + ix as usize]
                            } else {
                                0.0
                            };
                            col[((ci * g.k + i) * g.k + j) * oh * ow + oy * ow + ox] = v;
                        }
                    }
                }
            }
        }
        col
    }

    #[test]
    fn im2col_matches_the_definition_and_col2im_is_its_adjoint() {
        for (h, w, k, s, p) in [
            (5, 6, 3, 1, 1),
            (7, 7, 5, 1, 2),
            (7, 5, 3, 2, 0),
            (6, 6, 2, 2, 1),
            (4, 4, 4, 1, 0),
            (3, 3, 5, 1, 2),
            (9, 8, 3, 3, 2),
        ] {
            let g = Geometry { c: 2, h, w, k, s, p };
            let x: Vec<f32> = (0..2 * h * w).map(|i| (i as f32 * 0.7).sin()).collect();
            let n = g.col_rows() * g.col_cols();
            let mut col = vec![f32::NAN; n];
            im2col(&g, &x, &mut col, g.col_cols());
            assert_eq!(col, naive(&g, &x), "im2col {g:?}");
            // With a wider row stride, the same values land in the left columns.
            let ld = g.col_cols() + 3;
            let mut wide = vec![7.0; g.col_rows() * ld];
            im2col(&g, &x, &mut wide, ld);
            for r in 0..g.col_rows() {
                assert_eq!(
                    &wide[r * ld..r * ld + g.col_cols()],
                    &col[r * g.col_cols()..(r + 1) * g.col_cols()]
                );
                assert_eq!(&wide[r * ld + g.col_cols()..(r + 1) * ld], &[7.0; 3]);
            }
            // <im2col(x), c> == <x, col2im(c)>
            let c: Vec<f32> = (0..n).map(|i| (i as f32 * 0.3).cos()).collect();
            let mut dx = vec![f32::NAN; x.len()];
            col2im(&g, &c, &mut dx, g.col_cols());
            let lhs: f64 = col.iter().zip(&c).map(|(&a, &b)| a as f64 * b as f64).sum();
            let rhs: f64 = x.iter().zip(&dx).map(|(&a, &b)| a as f64 * b as f64).sum();
            assert!((lhs - rhs).abs() < 1e-4, "adjoint {g:?}: {lhs} vs {rhs}");
        }
    }
}
