//! The IDX format of MNIST and Fashion-MNIST, raw or gzipped.
//!
//! An IDX file is a 4-byte magic (`0x00 0x00 type ndim`), `ndim` big-endian `u32` sizes,
//! then the elements row-major. Only the unsigned-byte type (`0x08`) is read: it is the
//! type of every MNIST-family file, and supporting the others would be code no dataset here
//! exercises. A file that starts with the gzip magic (`0x1f 0x8b`) is decompressed first, so
//! the `.gz` files of the official mirrors can be used as downloaded.
//!
//! [`load_idx_dir`] finds the four standard file names in a directory;
//! [`load_idx_pair`] turns an image file and a label file into a [`Dataset`].

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::Dataset;
use crate::error::{Error, Result};
use crate::nn::Targets;
use crate::tensor::Tensor;

/// The element type code of unsigned bytes, the only one read.
const TYPE_U8: u8 = 0x08;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An IDX array: its sizes and its bytes, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// Sizes of each axis, outermost first (`[60000, 28, 28]` for MNIST training images).
    pub dims: Vec<usize>,
    /// The elements, `dims.iter().product()` of them.
    pub data: Vec<u8>,
}

/// Which half of an MNIST-style directory to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdxSplit {
    /// `train-images-idx3-ubyte` and `train-labels-idx1-ubyte` (60000 examples for MNIST).
    Train,
    /// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (10000 examples for MNIST).
    Test,
}

impl IdxSplit {
    /// The prefix the standard file names use.
    fn prefix(self) -> &'static str {
        match self {
            IdxSplit::Train => "train",
            IdxSplit::Test => "t10k",
        }
    }
}

/// Reads a whole file, decompressing it when it starts with the gzip magic.
///
/// Shared by the IDX and CSV readers: detection by content rather than by extension means a
/// renamed or extension-less download still works.
pub(crate) fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: format!("cannot read: {e}"),
        source: Some(crate::error::IoSource(std::sync::Arc::new(e))),
    })?;
    gunzip_if_gzip(&path.display().to_string(), bytes)
}

/// Decompresses `bytes` when they start with the gzip magic, else returns them unchanged.
pub(crate) fn gunzip_if_gzip(name: &str, bytes: Vec<u8>) -> Result<Vec<u8>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    // MultiGzDecoder also reads files made of several concatenated gzip members.
    let mut out = Vec::with_capacity(bytes.len() * 4);
    MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::data(
                name,
                None,
                format!("gzip data is corrupt or truncated ({e}); download the file again"),
            )
        })?;
    Ok(out)
}

/// Reads an IDX file (raw or gzipped).
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    let bytes = read_maybe_gzip(path)?;
    parse_idx(&path.display().to_string(), &bytes)
}

/// Parses an IDX array held in memory; `name` labels errors. Gzipped bytes are accepted.
pub fn parse_idx(name: &str, bytes: &[u8]) -> Result<IdxArray> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let raw = gunzip_if_gzip(name, bytes.to_vec())?;
        return parse_raw(name, &raw);
    }
    parse_raw(name, bytes)
}

/// Parses uncompressed IDX bytes.
fn parse_raw(name: &str, bytes: &[u8]) -> Result<IdxArray> {
    if bytes.len() < 4 {
        return Err(Error::data(
            name,
            None,
            format!(
                "not an IDX file: {} bytes, shorter than the 4-byte header",
                bytes.len()
            ),
        ));
    }
    let (zero, ty, ndim) = (&bytes[..2], bytes[2], bytes[3] as usize);
    if zero != [0, 0] {
        return Err(Error::data(
            name,
            None,
            format!(
                "not an IDX file: magic starts {:02x} {:02x} {:02x} {:02x}, expected 00 00 08 <ndim> \
                 (an HTML error page or an unfinished download looks like this)",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    if ty != TYPE_U8 {
        return Err(Error::data(
            name,
            None,
            format!(
                "IDX element type 0x{ty:02x} ({}) is not supported; only unsigned bytes (0x08) \
                 are read, as in MNIST and Fashion-MNIST",
                type_name(ty)
            ),
        ));
    }
    if ndim == 0 {
        return Err(Error::data(
            name,
            None,
            "IDX header declares 0 dimensions; expected at least 1",
        ));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(Error::data(
            name,
            None,
            format!(
                "file truncated inside the header: {ndim} dimensions need {header} header bytes, \
                 found {}",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::data(
                name,
                None,
                format!("IDX dimensions {dims:?} overflow the address space"),
            )
        })?;
    let actual = bytes.len() - header;
    if actual < expected {
        return Err(Error::data(
            name,
            None,
            format!(
                "file truncated: dimensions {dims:?} need {expected} data bytes, found {actual}; \
                 download the file again"
            ),
        ));
    }
    if actual > expected {
        return Err(Error::data(
            name,
            None,
            format!(
                "{} bytes of trailing garbage: dimensions {dims:?} need {expected} data bytes, \
                 found {actual}",
                actual - expected
            ),
        ));
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// A human name for an IDX type code, for error messages.
fn type_name(ty: u8) -> &'static str {
    match ty {
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "unknown type code",
    }
}

/// Loads an image file and a label file as a dataset.
///
/// Pixels are scaled to `[0, 1]` by dividing by 255. A 3-dimensional image file
/// `[n, rows, cols]` gives features `[n, 1, rows, cols]`; a 2-dimensional one `[n, d]`
/// gives `[n, d]`. Labels must be 1-dimensional with one per image; the class count is the
/// largest label plus one.
pub fn load_idx_pair(images: &Path, labels: &Path) -> Result<Dataset> {
    let (iname, lname) = (images.display().to_string(), labels.display().to_string());
    let img = read_idx(images)?;
    let lab = read_idx(labels)?;
    pair_to_dataset(&iname, img, &lname, lab)
}

/// Builds a dataset from parsed image and label arrays; the names label errors.
fn pair_to_dataset(iname: &str, img: IdxArray, lname: &str, lab: IdxArray) -> Result<Dataset> {
    let shape = match img.dims.as_slice() {
        &[n, r, c] => vec![n, 1, r, c],
        &[n, d] => vec![n, d],
        other => {
            return Err(Error::data(
                iname,
                None,
                format!("image file has dimensions {other:?}; expected [n, rows, cols] or [n, features]"),
            ));
        }
    };
    let &[n_labels] = lab.dims.as_slice() else {
        return Err(Error::data(
            lname,
            None,
            format!(
                "label file has dimensions {:?}; expected one dimension [n]",
                lab.dims
            ),
        ));
    };
    if n_labels != shape[0] {
        return Err(Error::data(
            lname,
            None,
            format!(
                "{n_labels} labels for {} images in {iname}; the two files must come from the \
                 same split",
                shape[0]
            ),
        ));
    }
    let Some(&max) = lab.data.iter().max() else {
        return Err(Error::data(iname, None, "no examples (the first dimension is 0)"));
    };
    let x: Vec<f32> = img.data.iter().map(|&b| b as f32 / 255.0).collect();
    let x = Tensor::from_vec(&shape, x)?;
    let y = Targets::Classes(lab.data.iter().map(|&b| b as u32).collect());
    Dataset::new(x, y, max as usize + 1)
}

/// Loads the training or test half of an MNIST-style directory.
///
/// Looks for `train-images-idx3-ubyte` and `train-labels-idx1-ubyte` (or `t10k-…` for
/// [`IdxSplit::Test`]), each either raw or with a `.gz` suffix. The raw file wins when both
/// exist. Fashion-MNIST uses the same names.
pub fn load_idx_dir(dir: &Path, split: IdxSplit) -> Result<Dataset> {
    let p = split.prefix();
    let images = find_file(dir, &format!("{p}-images-idx3-ubyte"))?;
    let labels = find_file(dir, &format!("{p}-labels-idx1-ubyte"))?;
    load_idx_pair(&images, &labels)
}

/// `dir/stem` or `dir/stem.gz`, whichever exists first; a clear error when neither does.
fn find_file(dir: &Path, stem: &str) -> Result<PathBuf> {
    let gz = format!("{stem}.gz");
    for name in [stem, gz.as_str()] {
        let path = dir.join(name);
        if path.is_file() {
            return Ok(path);
        }
    }
    let what = if dir.is_dir() {
        "directory has neither"
    } else {
        "is not a directory; looked for"
    };
    Err(Error::Io {
        path: dir.display().to_string(),
        message: format!(
            "{what} {stem} nor {gz}; run `droplab data fetch mnist` to download MNIST, or pass \
             the directory that holds the IDX files"
        ),
        source: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    /// Encodes an unsigned-byte IDX array.
    fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, TYPE_U8, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// A fresh, empty directory under the system temp dir, unique to this test.
    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("droplab-idx-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Three 2x2 images with labels 0, 2, 1.
    fn tiny() -> (Vec<u8>, Vec<u8>) {
        let pixels: Vec<u8> = (0..12).map(|i| (i * 20) as u8).collect();
        (idx_bytes(&[3, 2, 2], &pixels), idx_bytes(&[3], &[0, 2, 1]))
    }

    #[test]
    fn parse_round_trip() {
        let a = parse_idx("mem", &idx_bytes(&[2, 3], &[1, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(a.dims, vec![2, 3]);
        assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
        let g = parse_idx("mem.gz", &gzip(&idx_bytes(&[2, 3], &[1, 2, 3, 4, 5, 6]))).unwrap();
        assert_eq!(g, a);
    }

    #[test]
    fn dir_round_trip_raw_and_gzip() {
        let dir = temp_dir("roundtrip");
        let (img, lab) = tiny();
        // Training files raw, test files gzipped: both must be found.
        std::fs::write(dir.join("train-images-idx3-ubyte"), &img).unwrap();
        std::fs::write(dir.join("train-labels-idx1-ubyte"), &lab).unwrap();
        std::fs::write(dir.join("t10k-images-idx3-ubyte.gz"), gzip(&img)).unwrap();
        std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), gzip(&lab)).unwrap();
        let train = load_idx_dir(&dir, IdxSplit::Train).unwrap();
        let test = load_idx_dir(&dir, IdxSplit::Test).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(train, test);
        assert_eq!(train.x.shape(), &[3, 1, 2, 2]);
        assert_eq!(train.classes, 3);
        assert_eq!(train.y, Targets::Classes(vec![0, 2, 1]));
        assert_eq!(train.x.data()[1], 20.0 / 255.0);
        assert!(train.x.data().iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn two_dim_images_stay_flat() {
        let img = parse_idx("i", &idx_bytes(&[2, 3], &[0, 255, 0, 1, 2, 3])).unwrap();
        let lab = parse_idx("l", &idx_bytes(&[2], &[4, 1])).unwrap();
        let d = pair_to_dataset("i", img, "l", lab).unwrap();
        assert_eq!(d.x.shape(), &[2, 3]);
        assert_eq!(d.classes, 5);
        assert_eq!(d.x.data()[1], 1.0);
    }

    #[test]
    fn truncated_file_names_byte_counts() {
        let mut b = idx_bytes(&[2, 2, 2], &[0; 8]);
        b.truncate(b.len() - 3);
        let e = parse_idx("short.idx", &b).unwrap_err().to_string();
        assert!(e.starts_with("short.idx: file truncated"), "{e}");
        assert!(e.contains("need 8 data bytes, found 5"), "{e}");
        // Truncated inside the header.
        let e = parse_idx("h", &[0, 0, 8, 3, 0, 0]).unwrap_err().to_string();
        assert!(e.contains("inside the header"), "{e}");
        // A gzip stream cut short.
        let g = gzip(&idx_bytes(&[100], &[7; 100]));
        let e = parse_idx("g", &g[..g.len() / 2]).unwrap_err().to_string();
        assert!(e.contains("gzip"), "{e}");
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let mut b = idx_bytes(&[2], &[1, 2]);
        b.push(9);
        let e = parse_idx("t", &b).unwrap_err().to_string();
        assert!(e.contains("1 bytes of trailing garbage"), "{e}");
    }

    #[test]
    fn wrong_magic_and_type_are_rejected() {
        let e = parse_idx("page.html", b"<html><body>404</body></html>")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an IDX file"), "{e}");
        let mut b = idx_bytes(&[1], &[0, 0, 0, 0]);
        b[2] = 0x0D;
        let e = parse_idx("f", &b).unwrap_err().to_string();
        assert!(e.contains("0x0d (32-bit float) is not supported"), "{e}");
        let e = parse_idx("z", &[0, 0, 8, 0]).unwrap_err().to_string();
        assert!(e.contains("0 dimensions"), "{e}");
        let e = parse_idx("s", &[0, 0]).unwrap_err().to_string();
        assert!(e.contains("shorter than the 4-byte header"), "{e}");
    }

    #[test]
    fn count_mismatch_is_rejected() {
        let img = parse_idx("i", &idx_bytes(&[3, 1, 1], &[0, 1, 2])).unwrap();
        let lab = parse_idx("l", &idx_bytes(&[2], &[0, 1])).unwrap();
        let e = pair_to_dataset("i", img, "l", lab).unwrap_err().to_string();
        assert!(e.contains("2 labels for 3 images"), "{e}");
        let img = parse_idx("i", &idx_bytes(&[1, 1, 1, 1], &[0])).unwrap();
        let lab = parse_idx("l", &idx_bytes(&[1], &[0])).unwrap();
        assert!(pair_to_dataset("i", img, "l", lab).is_err());
    }

    #[test]
    fn missing_files_name_the_directory_and_the_fix() {
        let dir = temp_dir("missing");
        let e = load_idx_dir(&dir, IdxSplit::Test).unwrap_err().to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(e.contains("t10k-images-idx3-ubyte.gz"), "{e}");
        assert!(e.contains("droplab data fetch mnist"), "{e}");
        assert!(e.starts_with(&dir.display().to_string()), "{e}");
    }
}
