//! Datasets held in memory, their readers, splits and scaling.
//!
//! * [`Dataset`]: features `[n, ...]` and targets.
//! * [`idx`]: the IDX format of MNIST and Fashion-MNIST (raw or gzipped).
//! * [`csv`]: numeric CSV with a label column.
//! * [`digits`]: the UCI optical digits (8x8), embedded in the binary.
//! * [`split`]: stratified train / validation / test splits, k-fold, and scaling fitted on
//!   the training split only.

pub mod csv;
pub mod digits;
pub mod idx;
pub mod split;
pub mod ts;

use crate::error::{Error, Result};
use crate::nn::Targets;
use crate::tensor::Tensor;

/// Examples in memory: features with the batch as first axis, and targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Features `[n, ...]` (`[n, d]` for tabular data, `[n, 1, h, w]` for images).
    pub x: Tensor,
    /// Targets, one per example.
    pub y: Targets,
    /// Number of classes (0 for regression).
    pub classes: usize,
    /// Sequences `[n, time, features]` padded with zeros: each one's true length.
    pub lengths: Option<Vec<usize>>,
}

impl Dataset {
    /// A dataset after checking that features and targets agree.
    pub fn new(x: Tensor, y: Targets, classes: usize) -> Result<Self> {
        if x.rows() != y.len() {
            return Err(Error::ShapeMismatch {
                context: "dataset: features and targets".into(),
                expected: vec![x.rows()],
                got: vec![y.len()],
            });
        }
        if let Targets::Classes(c) = &y
            && let Some(&bad) = c.iter().find(|&&c| c as usize >= classes)
        {
            return Err(Error::config(
                "dataset",
                format!("label {bad} is not below the class count {classes}"),
            ));
        }
        Ok(Dataset {
            x,
            y,
            classes,
            lengths: None,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.x.rows()
    }

    /// True when there is no example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Features per example.
    pub fn features(&self) -> usize {
        self.x.cols()
    }

    /// The lengths of the examples `idx` (sequences only), into `out`.
    pub fn gather_lengths(&self, idx: &[usize], out: &mut Vec<usize>) -> bool {
        out.clear();
        match &self.lengths {
            Some(l) => {
                out.extend(idx.iter().map(|&i| l[i]));
                true
            }
            None => false,
        }
    }

    /// The examples `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Dataset {
        let mut x = Tensor::default();
        self.x.gather_rows(idx, &mut x);
        Dataset {
            x,
            y: self.y.select(idx),
            classes: self.classes,
            lengths: self.lengths.as_ref().map(|l| idx.iter().map(|&i| l[i]).collect()),
        }
    }
}
