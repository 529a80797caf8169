//! Monte Carlo dropout uncertainty (Gal & Ghahramani 2016): T stochastic forward passes with
//! dropout on, and what they say about each prediction.
//!
//! For class probabilities `p_t` of pass `t` and their mean `p̄`:
//! - predictive entropy `H[p̄] = -Σ_k p̄_k ln p̄_k` (total uncertainty, nats);
//! - expected entropy `E_t H[p_t]` (the aleatoric part);
//! - mutual information (BALD, Houlsby et al. 2011) `H[p̄] - E_t H[p_t]` (the epistemic part:
//!   how much the thinned networks disagree);
//! - the variance over passes of the probability of the predicted class.
//!
//! Calibration of any probabilities against labels: expected calibration error over equal-
//! width confidence bins (Guo et al. 2017), negative log-likelihood, Brier score. For
//! regression, the Gaussian log-likelihood of Gal & Ghahramani with model precision `tau`.

use crate::data::Dataset;
use crate::nn::{Mode, Sequential};
use crate::tensor::Threads;
use crate::train::forward_passes;
use crate::{Error, Result};

/// The outputs of `passes` Monte Carlo passes over `n` examples with `k` outputs each: class
/// probabilities (softmax) for classification, raw outputs for regression. Pass-major.
#[derive(Clone, Debug, PartialEq)]
pub struct McSamples {
    /// Forward passes.
    pub passes: usize,
    /// Examples.
    pub n: usize,
    /// Outputs per example (classes, or 1 for regression).
    pub k: usize,
    /// `[passes, n, k]`, pass-major.
    pub values: Vec<f32>,
}

impl McSamples {
    /// Runs `passes` forward passes in `mode` (Monte Carlo; Eval for the weight-scaled
    /// network; masks keyed as in [`forward_passes`]), applying softmax when `softmax`.
    pub fn collect(
        model: &mut Sequential,
        data: &Dataset,
        mode: Mode,
        passes: usize,
        batch: usize,
        softmax: bool,
        threads: &Threads,
    ) -> Result<McSamples> {
        let passes = passes.max(1);
        let k: usize = model.output_shape().iter().product();
        let n = data.len();
        let mut values = vec![0.0f32; passes * n * k];
        forward_passes(
            model,
            data,
            mode,
            passes,
            batch,
            threads,
            &mut |pass, rows, out, _| {
                for (r, &i) in rows.iter().enumerate() {
                    let dst = &mut values[(pass * n + i) * k..(pass * n + i + 1) * k];
                    dst.copy_from_slice(out.row(r));
                    if softmax {
                        softmax_in_place(dst);
                    }
                }
            },
        )?;
        Ok(McSamples { passes, n, k, values })
    }

    /// Whether the passes differ at all (a network without dropout gives identical passes).
    pub fn stochastic(&self) -> bool {
        let per = self.n * self.k;
        (1..self.passes).any(|p| self.values[p * per..(p + 1) * per] != self.values[..per])
    }

    /// Example `i`'s output in pass `t`.
    pub fn get(&self, t: usize, i: usize) -> &[f32] {
        &self.values[(t * self.n + i) * self.k..(t * self.n + i + 1) * self.k]
    }

    /// The mean over the first `t` passes, `[n * k]`.
    pub fn mean(&self, t: usize) -> Vec<f32> {
        let t = t.clamp(1, self.passes);
        let mut m = vec![0.0f32; self.n * self.k];
        for p in 0..t {
            for (a, b) in m
                .iter_mut()
                .zip(&self.values[p * self.n * self.k..(p + 1) * self.n * self.k])
            {
                *a += b;
            }
        }
        m.iter_mut().for_each(|v| *v /= t as f32);
        m
    }
}

/// Softmax of a row, in place (max-subtracted).
pub fn softmax_in_place(z: &mut [f32]) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0f32;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    z.iter_mut().for_each(|v| *v /= s);
}

/// Entropy of a distribution, in nats (`0 ln 0 = 0`).
pub fn entropy(p: &[f32]) -> f64 {
    -p.iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| v as f64 * (v as f64).ln())
        .sum::<f64>()
}

/// One example's Monte Carlo uncertainty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExampleUncertainty {
    /// Entropy of the mean prediction (total).
    pub entropy: f64,
    /// Mean entropy of the passes (aleatoric).
    pub expected_entropy: f64,
    /// Mutual information between the prediction and the thinned network (epistemic, BALD).
    pub mutual_information: f64,
    /// Variance over passes of the probability of the predicted class.
    pub variance: f64,
    /// The predicted class (argmax of the mean).
    pub predicted: usize,
    /// Its mean probability.
    pub confidence: f64,
}

/// Entropy, expected entropy, BALD and variance of one example from its per-pass
/// probabilities.
pub fn example_uncertainty<'a>(passes: impl Iterator<Item = &'a [f32]> + Clone) -> ExampleUncertainty {
    let t = passes.clone().count().max(1) as f64;
    let k = passes.clone().next().map(|p| p.len()).unwrap_or(0);
    let mut mean = vec![0.0f64; k];
    let mut expected_entropy = 0.0;
    for p in passes.clone() {
        for (m, &v) in mean.iter_mut().zip(p) {
            *m += v as f64 / t;
        }
        expected_entropy += entropy(p) / t;
    }
    let mean32: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
    let total = entropy(&mean32);
    let (predicted, confidence) = mean.iter().copied().enumerate().fold(
        (0, f64::NEG_INFINITY),
        |b, (i, v)| if v > b.1 { (i, v) } else { b },
    );
    let variance = passes
        .map(|p| (p[predicted] as f64 - confidence).powi(2))
        .sum::<f64>()
        / t;
    ExampleUncertainty {
        entropy: total,
        expected_entropy,
        // Clamp the rounding of a difference of near-equal sums.
        mutual_information: (total - expected_entropy).max(0.0),
        variance,
        predicted,
        confidence,
    }
}

/// Every example's uncertainty over all passes.
pub fn uncertainties(s: &McSamples) -> Vec<ExampleUncertainty> {
    (0..s.n)
        .map(|i| example_uncertainty((0..s.passes).map(|t| s.get(t, i))))
        .collect()
}

/// One bin of a reliability diagram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bin {
    /// Lower edge of the bin's confidence interval.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// Examples whose confidence falls in the bin.
    pub count: usize,
    /// Mean confidence (top-class probability) of the bin's examples.
    pub confidence: f64,
    /// Their accuracy.
    pub accuracy: f64,
}

/// How well probabilities match outcomes.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// Expected calibration error: `Σ_b (n_b / n) |accuracy_b - confidence_b|`.
    pub ece: f64,
    /// Mean negative log-likelihood of the labels (probabilities floored at 1e-12).
    pub nll: f64,
    /// Mean Brier score `Σ_k (p_k - 1[k = y])²`.
    pub brier: f64,
    /// Accuracy of the top class.
    pub accuracy: f64,
    /// Equal-width confidence bins over [0, 1] (a confidence of exactly 1 falls in the last).
    pub bins: Vec<Bin>,
}

/// Calibration of probabilities `[n * k]` against `labels` with `bins` equal-width bins.
pub fn calibration(probs: &[f32], k: usize, labels: &[u32], bins: usize) -> Result<Calibration> {
    let n = labels.len();
    if k == 0 || probs.len() != n * k || bins == 0 || n == 0 {
        return Err(Error::config(
            "calibration",
            format!(
                "{} probabilities do not make {n} examples of {k} classes (or no bins)",
                probs.len()
            ),
        ));
    }
    let mut acc = vec![(0usize, 0.0f64, 0usize); bins];
    let (mut nll, mut brier, mut correct) = (0.0f64, 0.0f64, 0usize);
    for (i, &y) in labels.iter().enumerate() {
        let p = &probs[i * k..(i + 1) * k];
        let y = y as usize;
        let (pred, conf) =
            p.iter().copied().enumerate().fold(
                (0, f32::NEG_INFINITY),
                |b, (j, v)| if v > b.1 { (j, v) } else { b },
            );
        nll -= (p.get(y).copied().unwrap_or(0.0).max(1e-12) as f64).ln();
        brier += p
            .iter()
            .enumerate()
            .map(|(j, &v)| (v as f64 - f64::from(u8::from(j == y))).powi(2))
            .sum::<f64>();
        let hit = pred == y;
        correct += hit as usize;
        let b = ((conf as f64 * bins as f64) as usize).min(bins - 1);
        acc[b].0 += 1;
        acc[b].1 += conf as f64;
        acc[b].2 += hit as usize;
    }
    let bins_out: Vec<Bin> = acc
        .iter()
        .enumerate()
        .map(|(b, &(count, conf, hits))| Bin {
            lo: b as f64 / bins as f64,
            hi: (b + 1) as f64 / bins as f64,
            count,
            confidence: if count > 0 { conf / count as f64 } else { f64::NAN },
            accuracy: if count > 0 {
                hits as f64 / count as f64
            } else {
                f64::NAN
            },
        })
        .collect();
    let ece = bins_out
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| b.count as f64 / n as f64 * (b.accuracy - b.confidence).abs())
        .sum();
    Ok(Calibration {
        ece,
        nll: nll / n as f64,
        brier: brier / n as f64,
        accuracy: correct as f64 / n as f64,
        bins: bins_out,
    })
}

/// The Gaussian log-likelihood of a regression target `y` under T Monte Carlo outputs with
/// model precision `tau` (Gal & Ghahramani 2016, eq. 8):
/// `logsumexp_t(-tau/2 (y - ŷ_t)²) - ln T - ln(2π)/2 + ln(tau)/2`.
pub fn gaussian_log_likelihood(outputs: &[f32], y: f32, tau: f64) -> f64 {
    let t = outputs.len().max(1) as f64;
    let terms: Vec<f64> = outputs
        .iter()
        .map(|&o| -0.5 * tau * (y as f64 - o as f64).powi(2))
        .collect();
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + terms.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    lse - t.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() + 0.5 * tau.ln()
}

/// Monte Carlo predictions of a one-output regression model, accumulated pass by pass
/// without keeping the passes (10,000 passes over 10,000 examples would take 400 MB): per
/// example the sum and sum of squares of the predictions and a running log-sum-exp of the
/// Gaussian log-likelihood terms. Outputs are mapped to the target's units by
/// `output * scale + shift` (a model trained on standardized targets) before anything else.
#[derive(Clone, Debug)]
pub struct GaussianMc {
    tau: f64,
    scale: f64,
    shift: f64,
    y: Vec<f64>,
    sum: Vec<f64>,
    sumsq: Vec<f64>,
    lse_max: Vec<f64>,
    lse_sum: Vec<f64>,
    count: Vec<u32>,
    first: Vec<f32>,
    varies: bool,
}

impl GaussianMc {
    /// An empty accumulator for targets `y` (in their own units) and model precision `tau`.
    pub fn new(y: &[f32], tau: f64, scale: f64, shift: f64) -> Self {
        let n = y.len();
        GaussianMc {
            tau,
            scale,
            shift,
            y: y.iter().map(|&v| v as f64).collect(),
            sum: vec![0.0; n],
            sumsq: vec![0.0; n],
            lse_max: vec![f64::NEG_INFINITY; n],
            lse_sum: vec![0.0; n],
            count: vec![0; n],
            first: vec![0.0; n],
            varies: false,
        }
    }

    /// Adds one pass's raw output for example `i`.
    pub fn push(&mut self, i: usize, output: f32) {
        if self.count[i] == 0 {
            self.first[i] = output;
        } else if output != self.first[i] {
            self.varies = true;
        }
        let p = output as f64 * self.scale + self.shift;
        self.sum[i] += p;
        self.sumsq[i] += p * p;
        self.count[i] += 1;
        let a = -0.5 * self.tau * (self.y[i] - p).powi(2);
        let m = self.lse_max[i];
        if a > m {
            self.lse_sum[i] = self.lse_sum[i] * (m - a).exp() + 1.0;
            self.lse_max[i] = a;
        } else {
            self.lse_sum[i] += (a - m).exp();
        }
    }

    /// The Monte Carlo mean prediction of each example.
    pub fn means(&self) -> Vec<f64> {
        self.sum
            .iter()
            .zip(&self.count)
            .map(|(s, &c)| s / c.max(1) as f64)
            .collect()
    }

    /// Root mean squared error of the Monte Carlo mean.
    pub fn rmse(&self) -> f64 {
        let n = self.y.len().max(1) as f64;
        let se: f64 = self
            .means()
            .iter()
            .zip(&self.y)
            .map(|(m, y)| (m - y).powi(2))
            .sum();
        (se / n).sqrt()
    }

    /// Mean over examples of [`gaussian_log_likelihood`].
    pub fn log_likelihood(&self) -> f64 {
        let n = self.y.len().max(1) as f64;
        let c = -0.5 * (2.0 * std::f64::consts::PI).ln() + 0.5 * self.tau.ln();
        let total: f64 = (0..self.y.len())
            .map(|i| self.lse_max[i] + self.lse_sum[i].ln() - (self.count[i].max(1) as f64).ln() + c)
            .sum();
        total / n
    }

    /// Whether any two passes over one example differed (false: no active dropout).
    pub fn stochastic(&self) -> bool {
        self.varies
    }

    /// Mean predictive standard deviation: the spread of the passes plus the model noise
    /// `1 / tau`.
    pub fn mean_predictive_sd(&self) -> f64 {
        let n = self.y.len().max(1) as f64;
        let total: f64 = (0..self.y.len())
            .map(|i| {
                let c = self.count[i].max(1) as f64;
                let m = self.sum[i] / c;
                ((self.sumsq[i] / c - m * m).max(0.0) + 1.0 / self.tau).sqrt()
            })
            .sum();
        total / n
    }
}

/// Runs `passes` forward passes of a one-output regression model in `mode` over `data` and
/// accumulates them against the targets `y` (in their own units; the outputs are mapped by
/// `scale` and `shift` as in [`GaussianMc`]).
#[allow(clippy::too_many_arguments)]
pub fn gaussian_mc(
    model: &mut Sequential,
    data: &Dataset,
    y: &[f32],
    mode: Mode,
    passes: usize,
    tau: f64,
    (scale, shift): (f64, f64),
    threads: &Threads,
) -> Result<GaussianMc> {
    let k: usize = model.output_shape().iter().product();
    if k != 1 || y.len() != data.len() {
        return Err(Error::config(
            "gaussian_mc",
            format!(
                "needs one regression output and one target per example (model outputs {k}, {} targets for {} examples)",
                y.len(),
                data.len()
            ),
        ));
    }
    let mut acc = GaussianMc::new(y, tau, scale, shift);
    // Large batches: the passes of a small network are cheap, the per-pass overhead is not.
    forward_passes(
        model,
        data,
        mode,
        passes.max(1),
        4096,
        threads,
        &mut |_, rows, out, _| {
            for (r, &i) in rows.iter().enumerate() {
                acc.push(i, out.row(r)[0]);
            }
        },
    )?;
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_known_distributions() {
        assert_eq!(entropy(&[1.0, 0.0]), 0.0);
        assert!((entropy(&[0.5, 0.5]) - 2f64.ln()).abs() < 1e-12);
        assert!((entropy(&[0.25; 4]) - 4f64.ln()).abs() < 1e-7);
    }

    #[test]
    fn bald_is_zero_when_passes_agree_and_positive_when_they_disagree() {
        let same = [[0.7f32, 0.3], [0.7, 0.3]];
        let u = example_uncertainty(same.iter().map(|p| &p[..]));
        assert!(u.mutual_information.abs() < 1e-9);
        assert!((u.entropy - u.expected_entropy).abs() < 1e-9);
        assert_eq!(u.variance, 0.0);
        // Two confident passes that disagree: mean (0.5, 0.5).
        // H[mean] = ln 2 = 0.693147; E H = H(0.9, 0.1) = 0.325083; BALD = 0.368064.
        let split = [[0.9f32, 0.1], [0.1, 0.9]];
        let u = example_uncertainty(split.iter().map(|p| &p[..]));
        assert!((u.entropy - std::f64::consts::LN_2).abs() < 1e-6, "{}", u.entropy);
        assert!(
            (u.expected_entropy - 0.325_083).abs() < 1e-6,
            "{}",
            u.expected_entropy
        );
        assert!((u.mutual_information - 0.368_064).abs() < 1e-6);
        // Predicted class 0 (a tie goes to the first), probabilities 0.9 and 0.1 about 0.5.
        assert_eq!(u.predicted, 0);
        assert!((u.variance - 0.16).abs() < 1e-7);
    }

    #[test]
    fn calibration_against_hand_computed_values() {
        // Three examples, two classes, 2 bins ([0, 0.5), [0.5, 1]).
        // ex0: p = (0.8, 0.2), y = 0: hit, conf 0.8
        // ex1: p = (0.6, 0.4), y = 1: miss, conf 0.6
        // ex2: p = (0.3, 0.7), y = 1: hit, conf 0.7
        let probs = [0.8f32, 0.2, 0.6, 0.4, 0.3, 0.7];
        let c = calibration(&probs, 2, &[0, 1, 1], 2).unwrap();
        assert!((c.accuracy - 2.0 / 3.0).abs() < 1e-12);
        // All in bin 1: confidence 0.7, accuracy 2/3, ECE = |2/3 - 0.7| = 0.0333...
        assert_eq!(c.bins[0].count, 0);
        assert_eq!(c.bins[1].count, 3);
        assert!((c.ece - (0.7 - 2.0 / 3.0)).abs() < 1e-6, "{}", c.ece);
        // NLL = -(ln 0.8 + ln 0.4 + ln 0.7) / 3 = (0.223144 + 0.916291 + 0.356675) / 3 = 0.498703
        assert!((c.nll - 0.498_703).abs() < 1e-5, "{}", c.nll);
        // Brier = ((0.2² + 0.2²) + (0.6² + 0.6²) + (0.3² + 0.3²)) / 3 = (0.08 + 0.72 + 0.18) / 3
        assert!((c.brier - 0.98 / 3.0).abs() < 1e-6, "{}", c.brier);
        assert!(calibration(&probs, 2, &[0, 1], 2).is_err());
    }

    #[test]
    fn gaussian_log_likelihood_matches_the_formula() {
        // One sample at the target: ln N(0; 0, 1/tau) = -ln(2π)/2 + ln(tau)/2.
        let ll = gaussian_log_likelihood(&[1.5], 1.5, 4.0);
        assert!((ll - (-0.5 * (2.0 * std::f64::consts::PI).ln() + 0.5 * 4f64.ln())).abs() < 1e-12);
        // Two samples at distance 1 and 3, tau = 1:
        // ln((e^-0.5 + e^-4.5) / 2) - ln(2π)/2 = -1.612... computed directly.
        let want =
            ((-0.5f64).exp() + (-4.5f64).exp()).ln() - 2f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
        let ll = gaussian_log_likelihood(&[0.0, 4.0], 1.0, 1.0);
        assert!((ll - want).abs() < 1e-12);
    }

    #[test]
    fn streaming_gaussian_mc_matches_the_batch_formulas() {
        // Two examples, three passes, outputs standardized with scale 2 and shift 1.
        let raw = [[0.5f32, -1.0], [1.5, 0.0], [-0.5, 2.0]];
        let y = [2.5f32, 0.0];
        let tau = 0.7;
        let mut acc = GaussianMc::new(&y, tau, 2.0, 1.0);
        for pass in &raw {
            for (i, &o) in pass.iter().enumerate() {
                acc.push(i, o);
            }
        }
        let outs = |i: usize| -> Vec<f32> { raw.iter().map(|p| p[i] * 2.0 + 1.0).collect() };
        // Means: example 0 (2, 4, 0) -> 2; example 1 (-1, 1, 5) -> 5/3.
        let rmse = (((2.0f64 - 2.5).powi(2) + (5.0f64 / 3.0).powi(2)) / 2.0).sqrt();
        assert!((acc.rmse() - rmse).abs() < 1e-12, "{}", acc.rmse());
        let ll = (gaussian_log_likelihood(&outs(0), y[0], tau)
            + gaussian_log_likelihood(&outs(1), y[1], tau))
            / 2.0;
        assert!(
            (acc.log_likelihood() - ll).abs() < 1e-9,
            "{} {ll}",
            acc.log_likelihood()
        );
        // Spread of (2, 4, 0): variance 8/3; of (-1, 1, 5): 56/9 - (5/3)^2... computed directly.
        let var = |v: &[f32]| {
            let m = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
            v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / v.len() as f64
        };
        let sd = ((var(&outs(0)) + 1.0 / tau).sqrt() + (var(&outs(1)) + 1.0 / tau).sqrt()) / 2.0;
        assert!((acc.mean_predictive_sd() - sd).abs() < 1e-9);
        assert!(acc.stochastic());
        let mut same = GaussianMc::new(&y, tau, 1.0, 0.0);
        for _ in 0..3 {
            same.push(0, 0.3);
            same.push(1, -0.1);
        }
        assert!(!same.stochastic());
    }
}
