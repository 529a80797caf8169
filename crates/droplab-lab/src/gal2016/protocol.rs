//! One training of the protocol and its scores: a grid point on a split's fit rows scored on
//! its held-out rows, or a split's final retrain scored on its test rows.

use super::*;

/// Mean and population standard deviation (1 when constant), as the authors' `np.std`.
pub(super) fn moments(v: &[f32]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let sd = (v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n).sqrt();
    (m, if sd < 1e-12 { 1.0 } else { sd })
}

/// Test (or validation) scores of one trained network.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Scores {
    /// RMSE of the Monte Carlo mean.
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub rmse: f64,
    /// RMSE of the weight-scaled network (dropout off).
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub rmse_weight_scaling: f64,
    /// Mean Gaussian log-likelihood under the Monte Carlo passes.
    #[serde(deserialize_with = "droplab::train::nan_if_null")]
    pub log_likelihood: f64,
}

/// Trains on rows `fit_rows` with dropout `p` and precision `tau`, scores rows `eval_rows`.
#[allow(clippy::too_many_arguments)]
pub(super) fn train_and_score(
    cfg: &RunConfig,
    proto: &UciProtocol,
    set: &UciSet,
    fit_rows: &[usize],
    eval_rows: &[usize],
    (p, tau): (f32, f64),
    seed: u64,
    threads: &Threads,
) -> Result<Scores> {
    let (mut xf, yf) = set.rows(fit_rows);
    let (mut xe, ye) = set.rows(eval_rows);
    let scaler = Standardizer::fit(&xf);
    scaler.apply(&mut xf)?;
    scaler.apply(&mut xe)?;
    let (mean, sd) = moments(&yf);
    let column = |v: &[f32]| -> Result<Tensor> {
        let z: Vec<f32> = v.iter().map(|&y| ((y as f64 - mean) / sd) as f32).collect();
        Ok(Tensor::from_vec(&[v.len(), 1], z)?)
    };
    let train = Dataset::new(xf, Targets::Values(column(&yf)?), 0)?;
    let eval = Dataset::new(xe, Targets::Values(column(&ye)?), 0)?;
    let mut model_cfg = cfg.model.clone();
    let last = model_cfg.widths.len() - 1;
    model_cfg.widths[0] = set.x.cols();
    model_cfg.widths[last] = 1;
    model_cfg.dropout.input = p;
    model_cfg.dropout.hidden = vec![p];
    // Keras' l2(reg) adds reg * sum w^2; droplab's l2 adds l2 / 2 * sum w^2.
    let n = fit_rows.len() as f64;
    model_cfg.regularization.l2 = (proto.lengthscale.powi(2) * (1.0 - p as f64) / (n * tau)) as f32;
    let mut model = model_cfg.build(seed)?;
    let report = droplab::train::fit(
        &mut model,
        &train,
        droplab::train::FitSpec::new(&cfg.train, threads).seed(seed),
        &mut |_| {},
    )?;
    if let Some(e) = report.diverged {
        return Err(Error::runtime(format!(
            "{}: dropout {p}, tau {tau}: {e}",
            cfg.data.dataset
        )));
    }
    let ws: GaussianMc = gaussian_mc(&mut model, &eval, &ye, Mode::Eval, 1, tau, (sd, mean), threads)?;
    let mc = gaussian_mc(
        &mut model,
        &eval,
        &ye,
        Mode::MonteCarlo,
        proto.mc_samples,
        tau,
        (sd, mean),
        threads,
    )?;
    Ok(Scores {
        rmse: mc.rmse(),
        rmse_weight_scaling: ws.rmse(),
        log_likelihood: mc.log_likelihood(),
    })
}

/// One grid point's validation scores.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Candidate {
    /// The dropout rate.
    pub dropout: f32,
    /// The model precision.
    pub tau: f64,
    /// Its scores on the held-out training rows.
    pub validation: Scores,
}

/// One split's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SplitResult {
    /// The split (0-based).
    pub split: usize,
    /// The chosen dropout rate and tau.
    pub dropout: f32,
    /// The chosen tau.
    pub tau: f64,
    /// Test scores of the retrained network.
    pub test: Scores,
    /// Every grid point's validation scores.
    pub candidates: Vec<Candidate>,
    /// Seconds on one core for the whole split.
    pub seconds: f64,
}

/// The rows of split `k` a grid point fits on and is validated on: the authors'
/// `int(0.8 * n)` first training rows, and the rest.
pub(super) fn fit_and_val<'a>(proto: &UciProtocol, set: &'a UciSet, k: usize) -> (&'a [usize], &'a [usize]) {
    let train = &set.splits[k].0;
    let keep = ((train.len() as f64) * (1.0 - proto.validation_fraction)) as usize;
    train.split_at(keep.clamp(1, train.len()))
}

/// The seed of job `i` of split `k` (the grid points in order, then the final retrain).
pub(super) fn job_seed(cfg: &RunConfig, k: usize, i: usize) -> u64 {
    Stream::new(cfg.seed, "gal2016")
        .derive_u64(k as u64)
        .derive_u64(i as u64)
        .seq()
        .next_u64()
}

/// The (dropout rate, tau) pairs of the set's grid, rates outermost.
pub(super) fn grid(set: &UciSet) -> Vec<(f32, f64)> {
    set.dropout_rates
        .iter()
        .flat_map(|&p| set.tau_values.iter().map(move |&tau| (p, tau)))
        .collect()
}

/// Grid point `i`, the pair `(p, tau)`, of split `k`, trained on the fitting rows and scored
/// on the held-out ones on the worker's one-thread pool.
pub(super) fn run_candidate(
    cfg: &RunConfig,
    proto: &UciProtocol,
    set: &UciSet,
    (k, i): (usize, usize),
    (p, tau): (f32, f64),
    threads: &Threads,
) -> Result<Candidate> {
    let (fit_rows, val_rows) = fit_and_val(proto, set, k);
    if val_rows.is_empty() {
        return Err(Error::usage(format!(
            "{}: split {k} has too few training rows to hold out a validation part",
            cfg.data.dataset
        )));
    }
    let validation = train_and_score(
        cfg,
        proto,
        set,
        fit_rows,
        val_rows,
        (p, tau),
        job_seed(cfg, k, i),
        threads,
    )?;
    Ok(Candidate {
        dropout: p,
        tau,
        validation,
    })
}

/// Split `k`'s outcome from its scored grid: the best pair by validation log-likelihood,
/// retrained on all training rows and scored on the test rows.
pub(super) fn run_final(
    cfg: &RunConfig,
    proto: &UciProtocol,
    set: &UciSet,
    k: usize,
    candidates: Vec<Candidate>,
    threads: &Threads,
) -> Result<SplitResult> {
    // The first best on ties; a NaN score never wins.
    let best = candidates.iter().enumerate().fold(0, |b, (i, c)| {
        if c.validation.log_likelihood > candidates[b].validation.log_likelihood {
            i
        } else {
            b
        }
    });
    let (p, tau) = (candidates[best].dropout, candidates[best].tau);
    let (train, test) = &set.splits[k];
    let test_scores = train_and_score(
        cfg,
        proto,
        set,
        train,
        test,
        (p, tau),
        job_seed(cfg, k, candidates.len()),
        threads,
    )?;
    Ok(SplitResult {
        split: k,
        dropout: p,
        tau,
        test: test_scores,
        candidates,
        seconds: 0.0,
    })
}
