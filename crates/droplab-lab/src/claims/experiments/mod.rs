//! The twelve experiments, one file each. Each returns its numbers (per seed, in `numbers`),
//! a table, a plot and the verdict its criterion computes from those numbers; what they share
//! (the outcome, plots of arms, the setting's description) is here.

use super::plot::{FoldPoint, Plot, Point};
use super::setting::{Lab, Net, Trained};
use super::stats::{Stat, paired, stat};
use super::verdict::{self, Decision};
use crate::data as dataset;
use crate::error::{Error, Result};
use droplab::analysis::coadaptation::{hidden_activations, layer_stats};
use droplab::analysis::ensemble::error_rate;
use droplab::analysis::uncertainty::McSamples;
use droplab::data::split::stratified_kfold;
use droplab::nn::{Mode, Targets};
use droplab::regularize::Convention;
use droplab::rng::Stream;
use droplab::train::{Stepper, predict_proba};
use serde_json::json;

mod bagging;
mod coadaptation;
mod combination;
mod convergence;
mod deeper_rates;
mod dropped_units;
mod overfitting;
mod rate_by_validation;
mod small_data;
mod test_scaling;
mod underfitting;
mod weight_scaling;

pub use {
    bagging::bagging, coadaptation::coadaptation, combination::combination, convergence::convergence,
    deeper_rates::deeper_rates, dropped_units::dropped_units, overfitting::overfitting,
    rate_by_validation::rate_by_validation, small_data::small_data, test_scaling::test_scaling,
    underfitting::underfitting, weight_scaling::weight_scaling,
};

/// What one experiment produced.
#[derive(Debug)]
pub struct Outcome {
    /// The setting in words (network, data, schedule).
    pub setup: String,
    /// The table's headers.
    pub headers: Vec<String>,
    /// The table's rows, formatted.
    pub rows: Vec<Vec<String>>,
    /// The verdict and the evidence for it.
    pub decision: Decision,
    /// Every number behind the table, per seed.
    pub numbers: serde_json::Value,
    /// The plot, as data.
    pub plot: Option<Plot>,
}

fn seeds(lab: &Lab) -> Vec<u64> {
    (0..lab.seeds as u64).collect()
}

fn pct(s: &Stat) -> String {
    s.show(100.0, 2)
}

fn iv(x: f64, s: &Stat, scale: f64) -> Point {
    Point {
        x,
        mean: s.mean * scale,
        lo: s.lo * scale,
        hi: s.hi * scale,
    }
}

/// A categorical plot of arms, each a per-seed sample (scaled by `scale`).
fn arms_plot(title: &str, y: &str, arms: &[(&str, &[f64])], scale: f64) -> Plot {
    let pts: Vec<Point> = arms
        .iter()
        .enumerate()
        .map(|(i, (_, v))| iv(i as f64, &stat(v), scale))
        .collect();
    Plot::Intervals {
        title: title.to_string(),
        x: String::new(),
        y: y.to_string(),
        series: vec![("mean, 95 % CI over seeds".to_string(), pts)],
        categories: Some(arms.iter().map(|a| a.0.to_string()).collect()),
        log_x: false,
    }
}

fn net_text(lab: &Lab, widths: &[usize]) -> String {
    format!(
        "MLP {} (ReLU), SGD lr {} momentum 0.9, batch {}",
        widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("-"),
        lab.lr,
        lab.batch_size
    )
}

/// The base runs' network, epochs and data, in words.
fn base_text(lab: &Lab) -> String {
    format!(
        "{}, {} epochs, on {}",
        net_text(lab, &lab.widths),
        lab.epochs,
        size_text(lab, lab.train_size)
    )
}

/// One table row per arm: its name and mean [95 % CI] in percent.
fn arm_rows(arms: &[(&str, &[f64])]) -> Vec<Vec<String>> {
    arms.iter()
        .map(|(n, v)| vec![n.to_string(), pct(&stat(v))])
        .collect()
}

fn size_text(lab: &Lab, size: usize) -> String {
    if size == 0 {
        format!("the whole training split of {}", lab.data.dataset)
    } else {
        format!("{size} training examples of {}", lab.data.dataset)
    }
}

/// The test labels of a split.
fn labels(d: &droplab::data::Dataset) -> Result<Vec<u32>> {
    match &d.y {
        Targets::Classes(c) => Ok(c.clone()),
        Targets::Values(_) => Err(Error::usage("claims need class labels")),
    }
}

/// The value of `values` whose network (`make(value)`) has the best validation accuracy on
/// seed 0's split: each penalty gets its strength by validation, never by the test set.
fn by_validation(lab: &Lab, values: &[f32], make: &dyn Fn(f32) -> Net) -> Result<f32> {
    let splits = lab.splits(lab.train_size, 0)?;
    let mut best = (values[0], f64::NEG_INFINITY);
    for &v in values {
        let t = lab.train(&make(v), lab.train_size, 0)?;
        let a = lab.score(&mut t.model()?, &splits.val)?.accuracy;
        if a > best.1 {
            best = (v, a);
        }
    }
    Ok(best.0)
}
