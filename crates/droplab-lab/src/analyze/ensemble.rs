//! The ensemble of thinned networks of a trained classifier (Srivastava et al. 2014, section
//! 7.5 and Figure 11): K networks with a fixed mask per unit, averaged arithmetically and
//! geometrically, against Monte Carlo dropout (a mask per example), weight scaling, the exact
//! average over all masks where the network is small, and optionally bagging.

use std::path::Path;

use droplab::Sequential;
use droplab::analysis::ensemble as thin;
use droplab::analysis::uncertainty::McSamples;
use droplab::data::Dataset;
use droplab::nn::Mode;
use droplab::tensor::Threads;
use droplab::train::{FitSpec, predict_proba};
use serde::Serialize;

use crate::config::RunConfig;
use crate::error::{Error, Result};

/// The errors (percent) of the averages of the first k networks.
#[derive(Debug, Serialize)]
pub struct KRow {
    /// Networks averaged.
    pub k: usize,
    /// Arithmetic mean of k thinned networks' probabilities.
    pub thinned_arithmetic: f64,
    /// Normalized geometric mean of k thinned networks.
    pub thinned_geometric: f64,
    /// Mean of k Monte Carlo passes (a fresh mask per example and pass).
    pub mc_dropout: f64,
    /// The arithmetic mean of the first k bagged networks (with bagging).
    pub bagged: Option<f64>,
}

/// Each bagged network's error and the error of the mean of the first k (percent).
pub type Bagged = (Vec<f64>, Vec<(usize, f64)>);

/// What the ensemble analysis found (errors in percent).
#[derive(Debug)]
pub struct Ensemble {
    /// Test error of the weight-scaled network.
    pub weight_scaling_error: f64,
    /// Error of the exact average over all masks, or why it could not be computed.
    pub exact: std::result::Result<f64, String>,
    /// Each thinned network's own error.
    pub singles: Vec<f64>,
    /// Mean pairwise agreement of the thinned networks' predictions.
    pub agreement: f64,
    /// The averages of the first k, for k = 1, 2, 5, 10, ...
    pub rows: Vec<KRow>,
    /// Bagging, when asked for.
    pub bagged: Option<Bagged>,
}

impl Ensemble {
    /// Mean, sample sd, best and worst of the single thinned networks' errors.
    pub fn single_summary(&self) -> (f64, f64, f64, f64) {
        let s = &self.singles;
        let n = s.len() as f64;
        let m = s.iter().sum::<f64>() / n;
        let sd = (s.iter().map(|e| (e - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let best = s.iter().copied().fold(f64::INFINITY, f64::min);
        let worst = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (m, sd, best, worst)
    }
}

/// Bagging: `count` networks of the run's architecture without dropout, each trained on a
/// bootstrap sample of the training split (seeded), evaluated on `eval`.
fn bag(cfg: &RunConfig, count: usize, eval: &Dataset, labels: &[u32], threads: &Threads) -> Result<Bagged> {
    let splits = crate::data::load(&cfg.data, cfg.seed)?;
    let n = splits.train.len();
    let mut cfg = cfg.clone();
    cfg.model.dropout = droplab::model::DropoutConfig::default();
    let val = (!splits.val.is_empty()).then_some(&splits.val);
    let mut sum: Vec<f32> = Vec::new();
    let (mut singles, mut by_k) = (Vec::new(), Vec::new());
    for b in 0..count {
        let mut rng = droplab::rng::Stream::new(cfg.seed, "bagging")
            .derive_u64(b as u64)
            .seq();
        let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
        let train = splits.train.select(&idx);
        let seed = cfg.seed.wrapping_add(1 + b as u64);
        let mut model = cfg.model.build(seed)?;
        droplab::train::fit(
            &mut model,
            &train,
            FitSpec::new(&cfg.train, threads).seed(seed).validation(val),
            &mut |_| {},
        )?;
        let p = predict_proba(&mut model, eval, Mode::Eval, 1, 500, threads)?;
        let k = p.probs.cols();
        singles.push(100.0 * thin::error_rate(p.probs.data(), k, labels)?);
        if sum.is_empty() {
            sum = vec![0.0; p.probs.data().len()];
        }
        for (s, v) in sum.iter_mut().zip(p.probs.data()) {
            *s += v;
        }
        let m = b + 1;
        if [1usize, 2, 5, 10, 20, 50, 100, 200, 500, 1000].contains(&m) || m == count {
            let mean: Vec<f32> = sum.iter().map(|v| v / m as f32).collect();
            by_k.push((m, 100.0 * thin::error_rate(&mean, k, labels)?));
        }
    }
    Ok((singles, by_k))
}

/// `networks` thinned networks of `model` (masks from `seed` on) on `data` with `labels`;
/// with `bagged > 0`, that many networks of `cfg` without dropout trained on bootstrap
/// samples too (progress through `say`). `run` names the run in errors.
#[allow(clippy::too_many_arguments)]
pub fn ensemble(
    model: &mut Sequential,
    data: &Dataset,
    labels: &[u32],
    networks: usize,
    seed: u64,
    bagged: (usize, &RunConfig),
    threads: &Threads,
    run: &Path,
    say: &dyn Fn(&str),
) -> Result<Ensemble> {
    if networks < 2 {
        return Err(Error::usage("--networks: at least 2 thinned networks"));
    }
    let thinned = thin::thinned_networks(model, data, networks, seed, threads)?;
    if !thinned.stochastic() {
        return Err(Error::usage(format!(
            "{}: the model has no active dropout, so every thinned network is the same network (train it with --dropout)",
            run.display()
        )));
    }
    let k = thinned.k;
    let singles: Vec<f64> = (0..thinned.passes)
        .map(|t| {
            let p: Vec<f32> = (0..thinned.n).flat_map(|i| thinned.get(t, i).to_vec()).collect();
            thin::error_rate(&p, k, labels).map(|e| 100.0 * e)
        })
        .collect::<droplab::Result<_>>()?;
    let ws = predict_proba(model, data, Mode::Eval, 1, 500, threads)?;
    let ws_err = 100.0 * thin::error_rate(ws.probs.data(), k, labels)?;
    let mc = McSamples::collect(model, data, Mode::MonteCarlo, networks, 500, true, threads)?;
    let mut rows = Vec::new();
    for m in [1usize, 2, 5, 10, 20, 50, 100, 200, 500, 1000] {
        if m > networks {
            break;
        }
        rows.push(KRow {
            k: m,
            thinned_arithmetic: 100.0 * thin::error_rate(&thinned.mean(m), k, labels)?,
            thinned_geometric: 100.0 * thin::error_rate(&thin::geometric_mean(&thinned, m), k, labels)?,
            mc_dropout: 100.0 * thin::error_rate(&mc.mean(m), k, labels)?,
            bagged: None,
        });
    }
    // The exact average over all masks, for networks small enough to enumerate.
    let exact = match droplab::analysis::exact::exact_average(model, &data.x, 16) {
        Ok(p) => Ok(100.0 * thin::error_rate(p.data(), k, labels)?),
        Err(e) => Err(e.to_string()),
    };
    let (count, cfg) = bagged;
    let bagged = if count > 0 {
        say(&format!("training {count} bagged networks without dropout..."));
        let (singles, by_k) = bag(cfg, count, data, labels, threads)?;
        for r in rows.iter_mut() {
            r.bagged = by_k.iter().find(|b| b.0 == r.k).map(|b| b.1);
        }
        Some((singles, by_k))
    } else {
        None
    };
    Ok(Ensemble {
        weight_scaling_error: ws_err,
        exact,
        singles,
        agreement: thin::pairwise_agreement(&thinned, thinned.passes),
        rows,
        bagged,
    })
}
