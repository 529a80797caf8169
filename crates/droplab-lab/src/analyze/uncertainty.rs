//! Monte Carlo dropout uncertainty of a trained network on one split.

use std::path::Path;

use droplab::analysis::uncertainty::{self as mcu, Calibration, ExampleUncertainty, McSamples};
use droplab::data::Dataset;
use droplab::nn::Mode;
use droplab::tensor::Threads;
use droplab::train::predict_proba;
use droplab::{Sequential, Tensor};
use serde::Serialize;

use super::no_dropout;
use crate::error::{Error, Result};

/// How well one way of predicting scores.
#[derive(Debug, Serialize)]
pub struct Scores {
    /// Weight scaling, or Monte Carlo dropout with T passes.
    pub method: String,
    /// Forward passes averaged.
    pub samples: usize,
    /// Accuracy of the top class.
    pub accuracy: f64,
    /// Mean negative log-likelihood of the labels.
    pub nll: f64,
    /// Mean Brier score.
    pub brier: f64,
    /// Expected calibration error.
    pub ece: f64,
}

/// The mean uncertainty of a group of predictions (nats).
#[derive(Debug, Serialize)]
pub struct Group {
    /// Predictions in the group.
    pub examples: usize,
    /// Entropy of the mean prediction.
    pub entropy: f64,
    /// Mean entropy of the passes (aleatoric).
    pub expected_entropy: f64,
    /// Their difference, BALD (epistemic).
    pub mutual_information: f64,
    /// Variance over passes of the predicted class's probability.
    pub variance: f64,
}

/// The Monte Carlo estimate after its first T passes.
#[derive(Debug, Serialize)]
pub struct Settling {
    /// Passes averaged.
    pub samples: usize,
    /// Accuracy.
    pub accuracy: f64,
    /// Mean negative log-likelihood.
    pub nll: f64,
    /// Expected calibration error.
    pub ece: f64,
    /// Mean absolute difference of the MC mean probabilities from the estimate with all samples.
    pub mean_abs_diff_from_final: f64,
}

/// A regression model's Monte Carlo scores.
#[derive(Debug, Serialize)]
pub struct RegressionScores {
    /// Monte Carlo passes.
    pub samples: usize,
    /// The model precision of the Gaussian likelihood.
    pub tau: f64,
    /// RMSE of the weight-scaled network.
    pub rmse_weight_scaling: f64,
    /// RMSE of the Monte Carlo mean.
    pub rmse_mc: f64,
    /// Mean Gaussian log-likelihood of the targets under the MC predictive distribution.
    pub test_log_likelihood: f64,
    /// Mean predictive standard deviation.
    pub predictive_sd_mean: f64,
}

/// A classifier's uncertainty: weight scaling against Monte Carlo dropout.
#[derive(Debug)]
pub struct Classification {
    /// Weight scaling, then Monte Carlo dropout.
    pub scores: Vec<Scores>,
    /// Mean uncertainty of all, correct and wrong predictions.
    pub groups: [(&'static str, Group); 3],
    /// The estimate after 1, 2, 5, 10, ... passes.
    pub settling: Vec<Settling>,
    /// Weight scaling's calibration, with its reliability bins.
    pub weight_scaling: Calibration,
    /// Monte Carlo dropout's calibration.
    pub mc: Calibration,
    /// Monte Carlo passes.
    pub passes: usize,
}

fn group(us: &[&ExampleUncertainty]) -> Group {
    let n = us.len().max(1) as f64;
    Group {
        examples: us.len(),
        entropy: us.iter().map(|u| u.entropy).sum::<f64>() / n,
        expected_entropy: us.iter().map(|u| u.expected_entropy).sum::<f64>() / n,
        mutual_information: us.iter().map(|u| u.mutual_information).sum::<f64>() / n,
        variance: us.iter().map(|u| u.variance).sum::<f64>() / n,
    }
}

/// Weight scaling against `samples` Monte Carlo passes on `data` with `labels`, calibration
/// over `bins` bins. `run` names the run in errors (a model without dropout is refused).
pub fn classification(
    model: &mut Sequential,
    data: &Dataset,
    labels: &[u32],
    samples: usize,
    bins: usize,
    threads: &Threads,
    run: &Path,
) -> Result<Classification> {
    let ws = predict_proba(model, data, Mode::Eval, 1, 500, threads)?;
    let ws_cal = mcu::calibration(ws.probs.data(), ws.probs.cols(), labels, bins)?;
    let mc = McSamples::collect(model, data, Mode::MonteCarlo, samples, 500, true, threads)?;
    if mc.passes > 1 && !mc.stochastic() {
        return Err(no_dropout(run));
    }
    let k = mc.k;
    let final_mean = mc.mean(mc.passes);
    let mc_cal = mcu::calibration(&final_mean, k, labels, bins)?;
    let scores = vec![
        Scores {
            method: "weight scaling".into(),
            samples: 1,
            accuracy: ws_cal.accuracy,
            nll: ws_cal.nll,
            brier: ws_cal.brier,
            ece: ws_cal.ece,
        },
        Scores {
            method: format!("MC dropout, T = {}", mc.passes),
            samples: mc.passes,
            accuracy: mc_cal.accuracy,
            nll: mc_cal.nll,
            brier: mc_cal.brier,
            ece: mc_cal.ece,
        },
    ];
    let us = mcu::uncertainties(&mc);
    let (right, wrong): (Vec<_>, Vec<_>) = us
        .iter()
        .zip(labels)
        .partition(|(u, y)| u.predicted == **y as usize);
    let right: Vec<_> = right.into_iter().map(|(u, _)| u).collect();
    let wrong: Vec<_> = wrong.into_iter().map(|(u, _)| u).collect();
    let all: Vec<_> = us.iter().collect();
    let groups = [
        ("all", group(&all)),
        ("correct", group(&right)),
        ("wrong", group(&wrong)),
    ];
    let mut settling = Vec::new();
    for t in [1usize, 2, 5, 10, 20, 50, 100, 200, 500, 1000] {
        if t > mc.passes {
            break;
        }
        let m = mc.mean(t);
        let c = mcu::calibration(&m, k, labels, bins)?;
        let diff = m
            .iter()
            .zip(&final_mean)
            .map(|(a, b)| (a - b).abs() as f64)
            .sum::<f64>()
            / m.len() as f64;
        settling.push(Settling {
            samples: t,
            accuracy: c.accuracy,
            nll: c.nll,
            ece: c.ece,
            mean_abs_diff_from_final: diff,
        });
    }
    Ok(Classification {
        scores,
        groups,
        settling,
        weight_scaling: ws_cal,
        mc: mc_cal,
        passes: mc.passes,
    })
}

/// RMSE of weight scaling and of the mean of `samples` Monte Carlo passes, and the Gaussian
/// log-likelihood with precision `tau`, of a one-output regression model on `data` with
/// targets `y`.
pub fn regression(
    model: &mut Sequential,
    data: &Dataset,
    y: &Tensor,
    tau: f64,
    samples: usize,
    threads: &Threads,
    run: &Path,
) -> Result<RegressionScores> {
    if tau.is_nan() || tau <= 0.0 {
        return Err(Error::usage(format!(
            "--tau {tau}: the precision must be positive"
        )));
    }
    if y.cols() != 1 {
        return Err(Error::usage(format!(
            "--tau: the Gaussian likelihood is for one regression output; this model has {}",
            y.cols()
        )));
    }
    let targets: Vec<f32> = (0..data.len()).map(|i| y.row(i)[0]).collect();
    let ws = mcu::gaussian_mc(model, data, &targets, Mode::Eval, 1, tau, (1.0, 0.0), threads)?;
    let mc = mcu::gaussian_mc(
        model,
        data,
        &targets,
        Mode::MonteCarlo,
        samples,
        tau,
        (1.0, 0.0),
        threads,
    )?;
    if samples > 1 && !mc.stochastic() {
        return Err(no_dropout(run));
    }
    Ok(RegressionScores {
        samples,
        tau,
        rmse_weight_scaling: ws.rmse(),
        rmse_mc: mc.rmse(),
        test_log_likelihood: mc.log_likelihood(),
        predictive_sd_mean: mc.mean_predictive_sd(),
    })
}
