//! The UCI optical recognition of handwritten digits data, embedded in the binary.
//!
//! 1797 images of 8x8 pixels, each pixel a count in `0..=16`, with labels `0..=9`
//! (E. Alpaydin and C. Kaynak, UCI Machine Learning Repository, CC BY 4.0; the copy shipped
//! with scikit-learn). It is embedded so that examples and tests train a real classifier
//! without a download; see `data/README.md` in this crate for provenance and checksum.

use super::Dataset;
use super::csv::{CsvOptions, HeaderMode, LabelColumn, parse_csv};
use crate::error::{Error, Result};

/// The gzipped CSV: 64 pixel values then the label per row, no header.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Name used in error messages for the embedded file.
const NAME: &str = "<embedded digits.csv.gz>";

/// Number of examples.
pub const N: usize = 1797;
/// Side of the square images.
pub const SIDE: usize = 8;
/// Number of classes.
pub const CLASSES: usize = 10;
/// The largest pixel value; pixels are divided by it.
const MAX_PIXEL: f32 = 16.0;

/// Loads the digits: features `[1797, 1, 8, 8]` scaled to `[0, 1]`, 10 classes.
pub fn load() -> Result<Dataset> {
    let bytes = super::idx::gunzip_if_gzip(NAME, DIGITS_CSV_GZ.to_vec())?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::data(NAME, None, "embedded digits data is not UTF-8 text"))?;
    let opts = CsvOptions {
        label: LabelColumn::Last,
        header: HeaderMode::No,
        ..CsvOptions::default()
    };
    let mut d = parse_csv(NAME, &text, &opts)?;
    // The embedded file is fixed, but checking costs nothing and turns a bad rebuild into an
    // error instead of a silently different dataset.
    if d.len() != N || d.features() != SIDE * SIDE || d.classes != CLASSES {
        return Err(Error::data(
            NAME,
            None,
            format!(
                "expected {N} rows of {} pixels and {CLASSES} classes, found {} rows of {} and {} \
                 classes",
                SIDE * SIDE,
                d.len(),
                d.features(),
                d.classes
            ),
        ));
    }
    if let Some(bad) = d.x.data().iter().find(|v| !(0.0..=MAX_PIXEL).contains(*v)) {
        return Err(Error::data(
            NAME,
            None,
            format!("pixel value {bad} is outside 0..=16"),
        ));
    }
    d.x.data_mut().iter_mut().for_each(|v| *v /= MAX_PIXEL);
    d.x.reshape(&[N, 1, SIDE, SIDE])?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_classes_and_range() {
        let d = load().unwrap();
        assert_eq!(d.x.shape(), &[1797, 1, 8, 8]);
        assert_eq!(d.classes, 10);
        let y = d.y.classes().unwrap();
        let mut counts = [0usize; 10];
        for &c in y {
            counts[c as usize] += 1;
        }
        assert!(counts.iter().all(|c| (170..=190).contains(c)), "{counts:?}");
        assert!(d.x.data().iter().all(|v| (0.0..=1.0).contains(v)));
        // Some pixels reach the maximum, so the scale is by 16, not by the data's max.
        assert!(d.x.data().contains(&1.0));
        // First row of the file: pixels 0,0,5,13,... and label 0.
        assert_eq!(&d.x.row(0)[..4], &[0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0]);
        assert_eq!(y[0], 0);
    }
}
