//! The sktime / UEA `.ts` text format of multivariate time series (JapaneseVowels).
//!
//! Lines starting with `#` are comments; `@` lines are the header (`@dimensions 12`,
//! `@classLabel true 1 2 ... 9`, ...) and `@data` starts the series, one per line: each
//! dimension's comma-separated values, dimensions separated by `:`, the class label last.
//! Series may differ in length; they are padded with zeros to the longest, and the lengths
//! are kept (`Dataset::lengths`): the result is `[n, time, dimensions]`.

use super::Dataset;
use crate::error::{Error, Result};
use crate::nn::Targets;
use crate::tensor::Tensor;

/// Parses `.ts` text named `path` (for messages). Class labels map to 0.. in the order of the
/// `@classLabel` header; with `labels`, those are used instead (so a test file maps its
/// labels like its training file).
pub fn parse(path: &str, text: &str, labels: Option<&[String]>) -> Result<(Dataset, Vec<String>)> {
    let mut header_labels: Option<Vec<String>> = None;
    let mut dims: Option<usize> = None;
    let mut in_data = false;
    let mut series: Vec<(Vec<Vec<f32>>, usize, usize)> = Vec::new(); // (dims x values, label, line)
    let mut raw_labels: Vec<(String, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let ln = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !in_data {
            let lower = line.to_ascii_lowercase();
            if lower == "@data" {
                in_data = true;
            } else if let Some(rest) = lower.strip_prefix("@dimensions") {
                dims = Some(
                    rest.trim()
                        .parse()
                        .map_err(|_| Error::data(path, Some(ln), "@dimensions needs a number"))?,
                );
            } else if lower.starts_with("@classlabel") {
                let mut words = line.split_whitespace().skip(1);
                if words.next().map(|w| w.eq_ignore_ascii_case("true")) == Some(true) {
                    header_labels = Some(words.map(str::to_string).collect());
                }
            } else if !line.starts_with('@') {
                return Err(Error::data(
                    path,
                    Some(ln),
                    "expected a header line (@...) or @data before the series",
                ));
            }
            continue;
        }
        let parts: Vec<&str> = line.split(':').collect();
        if parts.len() < 2 {
            return Err(Error::data(
                path,
                Some(ln),
                "a series needs its dimensions separated by ':' and a class label last",
            ));
        }
        let (label, values) = parts.split_last().expect("two parts");
        let mut ds = Vec::with_capacity(values.len());
        for (d, v) in values.iter().enumerate() {
            let vals = v
                .split(',')
                .map(|s| {
                    s.trim().parse::<f32>().map_err(|_| {
                        Error::data(
                            path,
                            Some(ln),
                            format!("dimension {}: '{}' is not a number", d + 1, s.trim()),
                        )
                    })
                })
                .collect::<Result<Vec<f32>>>()?;
            if vals.iter().any(|x| !x.is_finite()) {
                return Err(Error::data(
                    path,
                    Some(ln),
                    "missing or infinite values are not supported",
                ));
            }
            ds.push(vals);
        }
        let len = ds[0].len();
        if ds.iter().any(|d| d.len() != len) {
            return Err(Error::data(
                path,
                Some(ln),
                "the dimensions of a series differ in length",
            ));
        }
        if let Some(n) = dims
            && ds.len() != n
        {
            return Err(Error::data(
                path,
                Some(ln),
                format!("{} dimensions, the header says {n}", ds.len()),
            ));
        }
        raw_labels.push((label.trim().to_string(), ln));
        series.push((ds, 0, ln));
    }
    if series.is_empty() {
        return Err(Error::data(path, None, "no series (is the @data line missing?)"));
    }
    let names: Vec<String> = match (labels, header_labels) {
        (Some(l), _) => l.to_vec(),
        (None, Some(h)) => h,
        (None, None) => {
            let mut l: Vec<String> = raw_labels.iter().map(|(s, _)| s.clone()).collect();
            l.sort();
            l.dedup();
            l
        }
    };
    for ((s, (lab, ln)), _) in series.iter_mut().zip(&raw_labels).zip(0..) {
        s.1 = names.iter().position(|n| n == lab).ok_or_else(|| {
            Error::data(
                path,
                Some(*ln),
                format!("class label '{lab}' is not one of {}", names.join(" ")),
            )
        })?;
    }
    let d = series[0].0.len();
    if series.iter().any(|s| s.0.len() != d) {
        let bad = series.iter().find(|s| s.0.len() != d).expect("exists");
        return Err(Error::data(
            path,
            Some(bad.2),
            "series differ in their number of dimensions",
        ));
    }
    let t = series.iter().map(|s| s.0[0].len()).max().unwrap_or(0);
    let n = series.len();
    let mut x = vec![0.0f32; n * t * d];
    let mut lengths = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for (i, (ds, label, _)) in series.iter().enumerate() {
        let len = ds[0].len();
        for (dim, vals) in ds.iter().enumerate() {
            for (step, &v) in vals.iter().enumerate() {
                x[(i * t + step) * d + dim] = v;
            }
        }
        lengths.push(len);
        y.push(*label as u32);
    }
    let mut data = Dataset::new(Tensor::from_vec(&[n, t, d], x)?, Targets::Classes(y), names.len())?;
    data.lengths = Some(lengths);
    Ok((data, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# comment\n@problemName Toy\n@dimensions 2\n@classLabel true a b\n@data\n1,2,3:4,5,6:b\n7,8:9,10:a\n";

    #[test]
    fn pads_to_the_longest_series_and_keeps_lengths() {
        let (d, names) = parse("toy.ts", TEXT, None).unwrap();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(d.x.shape(), &[2, 3, 2]);
        assert_eq!(d.lengths, Some(vec![3, 2]));
        assert_eq!(
            d.x.data(),
            &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0, 7.0, 9.0, 8.0, 10.0, 0.0, 0.0]
        );
        assert_eq!(d.y, Targets::Classes(vec![1, 0]));
        let sel = d.select(&[1]);
        assert_eq!(sel.lengths, Some(vec![2]));
    }

    #[test]
    fn bad_lines_name_the_file_and_line() {
        for (text, needle) in [
            ("@data\n1,2:x,3:a\n", "toy.ts:2: dimension 2: 'x' is not a number"),
            (
                "@dimensions 2\n@data\n1,2:3,4:5,6:a\n",
                "toy.ts:3: 3 dimensions, the header says 2",
            ),
            (
                "@classLabel true a\n@data\n1,2:3,4:z\n",
                "toy.ts:3: class label 'z' is not one of a",
            ),
            (
                "@data\n1,2:3:a\n",
                "toy.ts:2: the dimensions of a series differ in length",
            ),
            ("@problemName x\n", "no series"),
        ] {
            let e = parse("toy.ts", text, None).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
