//! What a claim's plot shows, as data: the command draws it (`droplab-report`), so the
//! experiments compute without drawing.

/// A mean with its interval at `x` (a category's index on a categorical axis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Position on the x axis.
    pub x: f64,
    /// The mean.
    pub mean: f64,
    /// Lower end of the interval (NaN: none drawn).
    pub lo: f64,
    /// Upper end of the interval.
    pub hi: f64,
}

/// One value of a searched parameter scored over cross-validation folds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FoldPoint {
    /// The parameter's value.
    pub x: f64,
    /// Mean validation score over folds.
    pub mean: f64,
    /// Its standard deviation over folds.
    pub std: f64,
    /// Mean training score minus validation score.
    pub gap: f64,
}

/// A claim's plot.
#[derive(Clone, Debug, PartialEq)]
pub enum Plot {
    /// Means with intervals: named series of points, joined in x order (on a log axis when
    /// `log_x`), or side by side on a categorical axis when `categories` names the x values.
    Intervals {
        /// The title.
        title: String,
        /// The x axis's label.
        x: String,
        /// The y axis's label.
        y: String,
        /// Each series: its name and points.
        series: Vec<(String, Vec<Point>)>,
        /// The names of the categories `0, 1, ...` on a categorical axis.
        categories: Option<Vec<String>>,
        /// A logarithmic x axis.
        log_x: bool,
    },
    /// A validation curve: the mean score over folds with its spread, against a parameter.
    Validation {
        /// The title.
        title: String,
        /// The parameter's name.
        param: String,
        /// The scored values.
        points: Vec<FoldPoint>,
        /// A logarithmic x axis.
        log_x: bool,
    },
}
