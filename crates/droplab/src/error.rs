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
        /// The config field or flag.
        field: String,
        /// The rate given.
        value: f64,
        /// The valid interval, as written in the message.
        range: &'static str,
    },
    /// A value that must be strictly positive.
    #[error("{field}: {value} must be greater than 0")]
    NotPositive {
        /// The config field or flag.
        field: String,
        /// The value given.
        value: f64,
    },
    /// A value that must not be negative.
    #[error("{field}: {value} must not be negative")]
    Negative {
        /// The config field or flag.
        field: String,
        /// The value given.
        value: f64,
    },
    /// A value outside a stated interval.
    #[error("{field}: {value} is outside {range}")]
    OutOfRange {
        /// The config field or flag.
        field: String,
        /// The value given.
        value: f64,
        /// The valid interval, as written in the message.
        range: String,
    },
    /// A layer with no units.
    #[error("{field}: layer width must be at least 1 (got 0)")]
    ZeroWidth {
        /// The config field or flag.
        field: String,
    },
    /// A structural problem in a config that is not a single number.
    #[error("{field}: {message}")]
    InvalidConfig {
        /// The config field or flag.
        field: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// Two shapes that had to agree do not.
    #[error("shape mismatch in {context}: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// Where the shapes met (a layer, a function).
        context: String,
        /// The shape that was needed (0 where any size goes).
        expected: Vec<usize>,
        /// The shape that came.
        got: Vec<usize>,
    },
    /// The loss or a weight became NaN or infinite, or the loss grew past
    /// `train.divergence_factor` times the untrained network's.
    #[error("training diverged at epoch {epoch} (step {step}): loss is {loss}; lower the learning rate")]
    Diverged {
        /// The epoch (1-based).
        epoch: usize,
        /// The training step.
        step: u64,
        /// The loss at that step.
        loss: f32,
    },
    /// Bad data in a file: names the file, the line when known, and what would be valid.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Data {
        /// The file.
        path: String,
        /// The line (1-based), when known.
        line: Option<usize>,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// An I/O failure on a named file.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong, and the fix where there is one.
        message: String,
        /// The operating system's error, when there was one.
        #[source]
        source: Option<IoSource>,
    },
}

/// The operating system's error behind an [`Error::Io`], shared so that the error stays
/// `Clone`; two are equal when their kinds are.
#[derive(Clone, Debug)]
pub struct IoSource(pub std::sync::Arc<std::io::Error>);

impl PartialEq for IoSource {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind() == other.0.kind()
    }
}

impl std::fmt::Display for IoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for IoSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// `text` with its control characters escaped (`\n`, `\u{1}`): a message that quotes what
/// it was given (a cell, a model string) stays on one line whatever that held.
pub fn one_line(text: impl Into<String>) -> String {
    let text = text.into();
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl Error {
    /// Shorthand for a [`Error::Data`] error (kept to one line, see [`one_line`]).
    pub fn data(path: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Error::Data {
            path: one_line(path),
            line,
            message: one_line(message),
        }
    }

    /// Shorthand for an [`Error::InvalidConfig`] error (kept to one line, see [`one_line`]).
    pub fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field: one_line(field),
            message: one_line(message),
        }
    }
}

/// Validation helpers shared by every config.
pub mod check {
    use super::{Error, Result};

    /// An f32 as the f64 of its shortest decimal form, so that a message shows `-0.1` rather
    /// than `-0.10000000149011612`.
    fn shown(p: f32) -> f64 {
        p.to_string().parse().unwrap_or(p as f64)
    }

    /// `p` must lie in `[0, 1]`.
    pub fn rate(field: &str, p: f32) -> Result<()> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::InvalidRate {
                field: field.into(),
                value: shown(p),
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
                value: shown(p),
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

#[cfg(test)]
mod tests {
    use super::*;

    // Regression (fuzz/regressions/model_string-newline-in-error): a model string holding a
    // newline and control bytes was quoted as is, and its error took two lines.
    #[test]
    fn errors_that_quote_their_input_stay_on_one_line() {
        let mut cfg = crate::model::ModelConfig::default();
        let e = cfg
            .set_model_string("c\n\0\0\0nvb\u{1}kkc")
            .unwrap_err()
            .to_string();
        assert!(
            !e.contains('\n') && e.contains("'c\\n\\0\\0\\0nvb\\u{1}kkc'"),
            "{e}"
        );
        let e = Error::data("a\nb.csv", Some(3), "cell \"x\ty\"").to_string();
        assert_eq!(e, "a\\nb.csv:3: cell \"x\\ty\"");
        assert_eq!(one_line("plain text"), "plain text");
    }
}
