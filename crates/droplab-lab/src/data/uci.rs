//! The UCI regression sets as Gal & Ghahramani 2016 split them (`uci:SET`).
//!
//! A set's directory holds `data.txt` (whitespace-separated rows), `index_features.txt`,
//! `index_target.txt`, the splits `index_train_K.txt` / `index_test_K.txt` (0-based row
//! indices), `n_splits.txt` and the searched grid `dropout_rates.txt` and `tau_values.txt`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use droplab::Tensor;

use crate::error::{Error, Result, io_err};

/// One UCI set with its splits and searched grid.
pub struct UciSet {
    /// Features `[n, d]`, unscaled.
    pub x: Tensor,
    /// The target of each row.
    pub y: Vec<f32>,
    /// (training rows, test rows) of each split.
    pub splits: Vec<(Vec<usize>, Vec<usize>)>,
    /// The searched dropout rates.
    pub dropout_rates: Vec<f32>,
    /// The searched precisions.
    pub tau_values: Vec<f64>,
}

/// Whitespace-separated numbers of a file, with the file and line of a bad one.
fn read_numbers<T: FromStr>(path: &Path) -> Result<Vec<Vec<T>>> {
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row = line
            .split_whitespace()
            .map(|t| {
                t.parse::<T>().map_err(|_| {
                    Error::usage(format!(
                        "{}:{}: '{t}' is not a number of the expected kind",
                        path.display(),
                        i + 1
                    ))
                })
            })
            .collect::<Result<Vec<T>>>()?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::usage(format!("{}: the file is empty", path.display())));
    }
    Ok(rows)
}

/// Every number of a file, in order.
fn read_flat<T: FromStr>(path: &Path) -> Result<Vec<T>> {
    Ok(read_numbers(path)?.into_iter().flatten().collect())
}

/// Row indices of a split file, each checked against the row count.
fn read_indices(path: &Path, rows: usize) -> Result<Vec<usize>> {
    // The authors' files hold integers, some written as floats ("12.0").
    let v: Vec<f64> = read_flat(path)?;
    v.iter()
        .map(|&f| {
            if f < 0.0 || f.fract() != 0.0 || f as usize >= rows {
                Err(Error::usage(format!(
                    "{}: index {f} is not a row of data.txt (0..{rows})",
                    path.display()
                )))
            } else {
                Ok(f as usize)
            }
        })
        .collect()
}

/// The directory of `uci:SET`: `DATA_DIR/uci-gal2016/SET`, or SET itself when it is a path.
pub fn set_dir(dataset: &str, data_dir: &str) -> Result<PathBuf> {
    let name = dataset.strip_prefix("uci:").unwrap_or(dataset);
    let under = Path::new(data_dir).join("uci-gal2016").join(name);
    if under.join("data.txt").is_file() {
        return Ok(under);
    }
    if Path::new(name).join("data.txt").is_file() {
        return Ok(PathBuf::from(name));
    }
    Err(Error::usage(format!(
        "--dataset {dataset}: no {} (put the uci-gal2016 splits of Gal & Ghahramani in the data directory, or give uci:DIR)",
        under.join("data.txt").display()
    )))
}

impl UciSet {
    /// The features and targets of `rows`, in that order.
    pub fn rows(&self, rows: &[usize]) -> (Tensor, Vec<f32>) {
        let mut x = Tensor::default();
        self.x.gather_rows(rows, &mut x);
        (x, rows.iter().map(|&i| self.y[i]).collect())
    }

    /// Reads a set's directory; `max_splits` keeps only the first ones.
    pub fn load(dir: &Path, max_splits: Option<usize>) -> Result<UciSet> {
        let data: Vec<Vec<f32>> = read_numbers(&dir.join("data.txt"))?;
        let cols = data[0].len();
        if let Some(i) = data.iter().position(|r| r.len() != cols) {
            return Err(Error::usage(format!(
                "{}:{}: {} values, the first row has {cols}",
                dir.join("data.txt").display(),
                i + 1,
                data[i].len()
            )));
        }
        let col_check = |file: &str, c: usize| -> Result<usize> {
            if c >= cols {
                return Err(Error::usage(format!(
                    "{}: column {c} is not a column of data.txt (0..{cols})",
                    dir.join(file).display()
                )));
            }
            Ok(c)
        };
        let features: Vec<usize> = read_flat::<usize>(&dir.join("index_features.txt"))?
            .into_iter()
            .map(|c| col_check("index_features.txt", c))
            .collect::<Result<_>>()?;
        let target = col_check(
            "index_target.txt",
            read_flat::<usize>(&dir.join("index_target.txt"))?[0],
        )?;
        let n = data.len();
        let mut x = Tensor::zeros(&[n, features.len()]);
        for (r, row) in data.iter().enumerate() {
            for (dst, &c) in x.row_mut(r).iter_mut().zip(&features) {
                *dst = row[c];
            }
        }
        let y: Vec<f32> = data.iter().map(|r| r[target]).collect();
        let mut count = read_flat::<usize>(&dir.join("n_splits.txt"))?[0];
        if let Some(m) = max_splits {
            count = count.min(m);
        }
        let splits = (0..count)
            .map(|k| {
                let train = read_indices(&dir.join(format!("index_train_{k}.txt")), n)?;
                let test = read_indices(&dir.join(format!("index_test_{k}.txt")), n)?;
                Ok((train, test))
            })
            .collect::<Result<Vec<_>>>()?;
        let dropout_rates: Vec<f32> = read_flat(&dir.join("dropout_rates.txt"))?;
        if let Some(p) = dropout_rates.iter().find(|p| !(0.0..1.0).contains(*p)) {
            return Err(Error::usage(format!(
                "{}: dropout rate {p} is not in [0, 1)",
                dir.join("dropout_rates.txt").display()
            )));
        }
        let tau_values: Vec<f64> = read_flat(&dir.join("tau_values.txt"))?;
        if let Some(t) = tau_values.iter().find(|t| t.is_nan() || **t <= 0.0) {
            return Err(Error::usage(format!(
                "{}: tau {t} is not positive",
                dir.join("tau_values.txt").display()
            )));
        }
        Ok(UciSet {
            x,
            y,
            splits,
            dropout_rates,
            tau_values,
        })
    }
}
