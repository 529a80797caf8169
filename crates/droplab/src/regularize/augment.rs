//! Data augmentation for images `[c, h, w]`, on the fly and seeded: random shifts, small
//! rotations, horizontal flips and additive Gaussian noise, applied to each training
//! minibatch (never at evaluation).
//!
//! The transform of an example depends only on (seed, step, position in the minibatch), like a
//! dropout mask: the same on any thread count. Shifts and rotations resample the image with
//! bilinear interpolation about its centre and fill with zeros outside it. Flips are off by
//! default: on digits they change the class.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::rng::Stream;
use crate::tensor::Tensor;

/// Which augmentations apply, and how strongly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Largest shift in pixels along each axis (uniform in `[-shift, shift]`, sub-pixel).
    pub shift: f32,
    /// Largest rotation in degrees (uniform in `[-rotate, rotate]`).
    pub rotate: f32,
    /// Flip horizontally with probability 1/2.
    pub flip: bool,
    /// Standard deviation of additive Gaussian noise (0 = none).
    pub noise: f32,
}

impl AugmentConfig {
    /// True when any augmentation is on.
    pub fn any(&self) -> bool {
        self.shift > 0.0 || self.rotate > 0.0 || self.flip || self.noise > 0.0
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        check::non_negative("augment.shift", self.shift as f64)?;
        check::non_negative("augment.noise", self.noise as f64)?;
        if !(0.0..=180.0).contains(&self.rotate) {
            return Err(Error::OutOfRange {
                field: "augment.rotate".into(),
                value: self.rotate as f64,
                range: "[0, 180] degrees".into(),
            });
        }
        Ok(())
    }

    /// Augments the minibatch `x` (`[batch, c, h, w]`) of training step `step` in place.
    /// Errors if the data are not images (unless only noise is asked for).
    pub fn apply(&self, stream: Stream, step: u64, x: &mut Tensor) -> Result<()> {
        if !self.any() {
            return Ok(());
        }
        let geometric = self.shift > 0.0 || self.rotate > 0.0 || self.flip;
        let shape = x.shape().to_vec();
        let (c, h, w) = match shape.as_slice() {
            [_, c, h, w] => (*c, *h, *w),
            _ if !geometric => (1, 1, x.cols()),
            _ => {
                return Err(Error::config(
                    "augment",
                    format!(
                        "shifts, rotations and flips need images [channels, height, width]; these examples have shape {:?}",
                        &shape[1..]
                    ),
                ));
            }
        };
        let per = c * h * w;
        let stream = stream.derive_u64(step);
        x.data_mut().par_chunks_mut(per.max(1)).enumerate().for_each_init(
            Vec::new,
            |scratch: &mut Vec<f32>, (r, ex)| {
                let mut rng = stream.derive_u64(r as u64).seq();
                if geometric {
                    let dx = (2.0 * rng.uniform() - 1.0) * self.shift;
                    let dy = (2.0 * rng.uniform() - 1.0) * self.shift;
                    let angle = ((2.0 * rng.uniform() - 1.0) * self.rotate).to_radians();
                    let flip = self.flip && rng.uniform() < 0.5;
                    scratch.clear();
                    scratch.extend_from_slice(ex);
                    for plane in 0..c {
                        let src = &scratch[plane * h * w..(plane + 1) * h * w];
                        let dst = &mut ex[plane * h * w..(plane + 1) * h * w];
                        warp(src, dst, h, w, dx, dy, angle, flip);
                    }
                }
                if self.noise > 0.0 {
                    for v in ex.iter_mut() {
                        *v += self.noise * rng.normal();
                    }
                }
            },
        );
        Ok(())
    }
}

/// `dst(p) = src(T^-1 p)` where `T` flips (optionally), rotates by `angle` about the centre,
/// then shifts by `(dx, dy)`; bilinear, zero outside.
#[allow(clippy::too_many_arguments)]
fn warp(src: &[f32], dst: &mut [f32], h: usize, w: usize, dx: f32, dy: f32, angle: f32, flip: bool) {
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let (sin, cos) = angle.sin_cos();
    let at = |y: isize, x: isize| -> f32 {
        if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
            0.0
        } else {
            src[y as usize * w + x as usize]
        }
    };
    for oy in 0..h {
        for ox in 0..w {
            // Undo the shift, then the rotation (rotate by -angle), then the flip.
            let (py, px) = (oy as f32 - dy - cy, ox as f32 - dx - cx);
            let (ry, rx) = (cos * py + sin * px, -sin * py + cos * px);
            let (sy, mut sx) = (ry + cy, rx + cx);
            if flip {
                sx = (w as f32 - 1.0) - sx;
            }
            let (y0, x0) = (sy.floor(), sx.floor());
            let (fy, fx) = (sy - y0, sx - x0);
            let (y0, x0) = (y0 as isize, x0 as isize);
            let v = (1.0 - fy) * ((1.0 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
                + fy * ((1.0 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
            dst[oy * w + ox] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Tensor {
        // A 1x5x7 ramp, so any move shows.
        Tensor::from_vec(&[1, 1, 5, 7], (0..35).map(|i| i as f32).collect()).unwrap()
    }

    #[test]
    fn whole_pixel_shifts_flips_and_identity_are_exact() {
        let x = image();
        let mut y = x.clone();
        let cfg = AugmentConfig::default();
        cfg.apply(Stream::new(1, "a"), 0, &mut y).unwrap();
        assert_eq!(x, y, "no augmentation is the identity");
        let mut y = vec![0.0; 35];
        warp(x.data(), &mut y, 5, 7, 2.0, -1.0, 0.0, false);
        for oy in 0..5 {
            for ox in 0..7 {
                let (sy, sx) = (oy as isize + 1, ox as isize - 2);
                let want = if (0..5).contains(&sy) && (0..7).contains(&sx) {
                    (sy * 7 + sx) as f32
                } else {
                    0.0
                };
                assert_eq!(y[oy * 7 + ox], want, "({oy},{ox})");
            }
        }
        warp(x.data(), &mut y, 5, 7, 0.0, 0.0, 0.0, true);
        assert_eq!(&y[..7], &[6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0]);
        // A quarter turn of a square image moves a corner to the next corner.
        let sq: Vec<f32> = (0..9).map(|i| i as f32).collect();
        let mut out = vec![0.0; 9];
        warp(&sq, &mut out, 3, 3, 0.0, 0.0, std::f32::consts::FRAC_PI_2, false);
        assert!(
            out.iter()
                .zip([2.0, 5.0, 8.0, 1.0, 4.0, 7.0, 0.0, 3.0, 6.0])
                .all(|(a, b)| (a - b).abs() < 1e-4),
            "{out:?}"
        );
    }

    #[test]
    fn seeded_by_step_and_row_and_refuses_vectors() {
        let cfg = AugmentConfig {
            shift: 1.5,
            rotate: 10.0,
            noise: 0.1,
            ..Default::default()
        };
        let batch = Tensor::from_vec(&[3, 1, 5, 7], (0..105).map(|i| (i % 35) as f32).collect()).unwrap();
        let (mut a, mut b, mut c) = (batch.clone(), batch.clone(), batch.clone());
        cfg.apply(Stream::new(1, "a"), 4, &mut a).unwrap();
        cfg.apply(Stream::new(1, "a"), 4, &mut b).unwrap();
        cfg.apply(Stream::new(1, "a"), 5, &mut c).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a.row(0), a.row(1), "examples get their own transforms");
        let mut v = Tensor::from_vec(&[2, 4], vec![0.0; 8]).unwrap();
        let e = cfg.apply(Stream::new(1, "a"), 0, &mut v).unwrap_err().to_string();
        assert!(e.starts_with("augment:"), "{e}");
        let noise_only = AugmentConfig {
            noise: 0.5,
            ..Default::default()
        };
        noise_only.apply(Stream::new(1, "a"), 0, &mut v).unwrap();
        assert!(v.data().iter().any(|&x| x != 0.0));
    }
}
