//! Twelve common statements about dropout, each an experiment with a criterion fixed before it
//! runs, its numbers over seeds with 95 % intervals, a plot (as data), and a verdict computed
//! from the numbers (`verdict.rs`). `droplab claims` runs them and renders what they return.
//!
//! * `setting.rs`: the shared setting ([`Lab`]: data at each size and seed, the base network
//!   and schedule) and training runs cached by what defines them;
//! * `cache.rs`: trained networks on disk, addressed by the sha256 of what defines them;
//! * `experiments/`: one file per claim;
//! * `verdict.rs`: the criteria, as pure functions of the numbers; `stats.rs`: t-intervals;
//! * `plot.rs`: what each plot shows.

pub mod cache;
pub mod experiments;
pub mod plot;
pub mod setting;
pub mod stats;
pub mod verdict;

use serde::Serialize;

pub use experiments::Outcome;
pub use plot::{FoldPoint, Plot, Point};
pub use setting::Lab;
pub use verdict::Verdict;

use crate::error::Result;

/// An experiment: the shared setting in, the outcome out.
pub type Experiment = fn(&Lab) -> Result<Outcome>;

/// Each claim: the statement, the criterion (fixed before the run), the experiment.
pub const CLAIMS: [(&str, &str, Experiment); 12] = [
    (
        "Dropout reduces overfitting: a smaller train-test gap and a better test score for a large network on little data.",
        "Holds if the paired gap reduction and the paired test-accuracy gain both have 95 % intervals above zero; in part if both point the right way or one is clear; otherwise does not hold.",
        experiments::overfitting,
    ),
    (
        "Using all units at test time with weights scaled by the keep probability approximates averaging the ensemble of thinned networks.",
        "Holds if the weight-scaled network's test error is within the tolerance (0.5 points on digits, 0.15 on MNIST) of the Monte Carlo average of 100 thinned networks, in part within three times it.",
        experiments::weight_scaling,
    ),
    (
        "Dropout works like bagging an ensemble of networks.",
        "Holds if dropout and bagging both clearly lower the error of one network and dropout gains at least half of what bagging gains; in part if dropout lowers it at all.",
        experiments::bagging,
    ),
    (
        "Dropout slows convergence and lengthens training (epochs and wall time to a given loss).",
        "Holds if dropout clearly needs more epochs to reach the training loss, at least 1.5 times as many; in part if it needs more on average.",
        experiments::convergence,
    ),
    (
        "On very small data sets dropout gains little or leads to underfitting.",
        "Holds if the gain at the smallest size is at most half the largest gain over sizes; in part if it is below the largest; does not hold if the smallest size gains most.",
        experiments::small_data,
    ),
    (
        "Dropout does not help a model that underfits (a small network).",
        "Holds if dropout does not raise the small network's mean test accuracy; in part if it raises it without a clear interval; does not hold if it clearly raises it.",
        experiments::underfitting,
    ),
    (
        "Good rates lie between 0.2 and 0.5, and the best one is found by validation.",
        "Holds if cross-validation picks a hidden rate in [0.2, 0.5] and the picked rate's test accuracy lies within the interval of the best rate on the test set; in part if one of the two.",
        experiments::rate_by_validation,
    ),
    (
        "Deeper networks benefit from higher rates in later layers.",
        "Holds if rates rising with depth give the best mean test accuracy and clearly beat falling rates; in part if they beat falling rates on average.",
        experiments::deeper_rates,
    ),
    (
        "Dropout combined with L1/L2 or max-norm beats each alone.",
        "Holds if the better combination clearly beats both dropout alone and the better penalty alone; in part if it beats both on average or one clearly.",
        experiments::combination,
    ),
    (
        "Dropout reduces co-adaptation: hidden units become sparser and less correlated.",
        "Holds if dropout clearly raises the share of silent units and clearly lowers the mean |correlation| between units; in part if both point that way or one is clear.",
        experiments::coadaptation,
    ),
    (
        "The weights of a dropped unit are not updated in that iteration (plain SGD, with momentum, with weight decay).",
        "Holds if no dropped unit's weights move under any of the three; in part if none move under plain SGD only; does not hold if they move under plain SGD.",
        experiments::dropped_units,
    ),
    (
        "At test time the weights must be scaled by the keep probability 1-p (not by p), or training must use inverted dropout; each wrong choice costs.",
        "Holds if every wrong scaling is clearly worse than the right ones (NLL at least 10 % higher or error at least 0.5 points higher); in part if some are; otherwise does not hold.",
        experiments::test_scaling,
    ),
];

/// One claim's entry in `claims.json`.
#[derive(Debug, Serialize)]
pub struct ClaimResult {
    /// The claim's number (1-based).
    pub claim: usize,
    /// The statement tested.
    pub statement: &'static str,
    /// The criterion, fixed before the run.
    pub criterion: &'static str,
    /// The setting in words.
    pub setup: String,
    /// The verdict the criterion computed.
    pub verdict: Verdict,
    /// The numbers the verdict rests on, in words.
    pub evidence: String,
    /// The table's headers.
    pub headers: Vec<String>,
    /// The table's rows.
    pub rows: Vec<Vec<String>>,
    /// Every number behind the table.
    pub numbers: serde_json::Value,
    /// Wall-clock seconds of the experiment.
    pub seconds: f64,
}
