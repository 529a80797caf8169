//! The library's error type: one variant per rule, each naming the field and the bad value.

use thiserror::Error;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure the library reports. Messages are one line and name the field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// A dropout rate outside its valid interval.
    #[error("{field}: dropout rate {value} is outside {range}")]
    InvalidRate {
        field: String,
        value: f64,
        range: &'static str,
    },
    /// A value that must be strictly positive.
    #[error("{field}: {value} must be greater than 0")]
    NotPositive { field: String, value: f64 },
    /// A value that must not be negative.
    #[error("{field}: {value} must not be negative")]
    Negative { field: String, value: f64 },
    /// A value outside a stated interval.
    #[error("{field}: {value} is outside {range}")]
    OutOfRange {
        field: String,
        value: f64,
        range: String,
    },
    /// A layer with no units.
    #[error("{field}: layer width must be at least 1 (got 0)")]
    ZeroWidth { field: String },
    /// A structural problem in a config that is not a single number.
    #[error("{field}: {message}")]
    InvalidConfig { field: String, message: String },
    /// Two shapes that had to agree do not.
    #[error("shape mismatch in {context}: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        context: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    /// The loss became NaN or infinite.
    #[error("training diverged at epoch {epoch} (step {step}): loss is {loss}; lower the learning rate")]
    Diverged { epoch: usize, step: u64, loss: f32 },
    /// Bad data in a file: names the file, the line when known, and what would be valid.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Data {
        path: String,
        line: Option<usize>,
        message: String,
    },
    /// An I/O failure on a named file.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

impl Error {
    /// Shorthand for a [`Error::Data`] error.
    pub fn data(path: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Error::Data {
            path: path.into(),
            line,
            message: message.into(),
        }
    }

    /// Shorthand for an [`Error::InvalidConfig`] error.
    pub fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Validation helpers shared by every config.
pub mod check {
    use super::{Error, Result};

    /// `p` must lie in `[0, 1]`.
    pub fn rate(field: &str, p: f32) -> Result<()> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::InvalidRate {
                field: field.into(),
                value: p as f64,
                range: "[0, 1]",
            });
        }
        Ok(())
    }

    /// `p` must lie in `[0, 1)`.
    pub fn rate_below_one(field: &str, p: f32) -> Result<()> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::InvalidRate {
                field: field.into(),
                value: p as f64,
                range: "[0, 1)",
            });
        }
        Ok(())
    }

    /// `v` must be finite and greater than zero.
    pub fn positive(field: &str, v: f64) -> Result<()> {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::NotPositive {
                field: field.into(),
                value: v,
            });
        }
        Ok(())
    }

    /// `v` must be finite and at least zero.
    pub fn non_negative(field: &str, v: f64) -> Result<()> {
        if !(v.is_finite() && v >= 0.0) {
            return Err(Error::Negative {
                field: field.into(),
                value: v,
            });
        }
        Ok(())
    }

    /// `v` must lie in `[lo, hi]`.
    pub fn in_range(field: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
        if !(v.is_finite() && v >= lo && v <= hi) {
            return Err(Error::OutOfRange {
                field: field.into(),
                value: v,
                range: format!("[{lo}, {hi}]"),
            });
        }
        Ok(())
    }
}
