//! Pure functions from droplab run records to SVG plots and tables.
//!
//! Nothing here touches the file system or the terminal: every function takes run records
//! (usually [`droplab::train::EpochMetrics`] histories) and returns a `String`, which the caller
//! writes wherever it likes.
//!
//! - [`learning_curves_svg`]: accuracy and loss per epoch, train dashed and validation solid,
//!   one colour per run, the best epoch of each run marked with a filled circle.
//! - [`gap_svg`]: the overfitting gap (`train_accuracy - val_accuracy`) per epoch.
//! - [`validation_curve_svg`] and [`search_history_svg`]: a hyperparameter search's mean CV
//!   score with fold error bars and gap against one parameter, and its score per trial.
//! - [`reliability_svg`]: reliability diagrams (accuracy against confidence per bin).
//! - [`error_vs_k_svg`]: test error against the number of averaged thinned networks.
//! - [`activation_histogram_svg`] and [`features_svg`]: hidden activations and first-layer
//!   weights drawn as images.
//! - [`markdown_table`] and [`text_table`]: aligned tables for reports and the terminal.
//! - [`interval_svg`]: means with error bars, against a sweep or named categories.
//! - [`html::page`]: one self-contained HTML page of sections (tables, Markdown, inline SVG).
//!
//! The SVG output is self-contained (no fonts, images or style sheets are referenced); text is
//! emitted as `<text>` elements in the generic `sans-serif` family.

#![warn(missing_docs)]

mod calibration;
mod coadaptation;
mod curves;
mod ensemble;
pub mod html;
mod interval;
mod search;
mod style;
mod table;

pub use calibration::{Reliability, ReliabilityBin, reliability_svg};
pub use coadaptation::{Histogram, activation_histogram_svg, features_svg};
pub use curves::{SeedRuns, Series, band_curves_svg, gap_svg, learning_curves_svg};
pub use ensemble::{KCurve, error_vs_k_svg};
pub use interval::{Interval, IntervalSeries, interval_svg};
pub use search::{
    Axis, CurvePoint, HistoryPoint, parallel_coordinates_svg, search_history_svg, validation_curve_svg,
};
pub use style::ReportError;
pub use table::{markdown_table, text_table};
