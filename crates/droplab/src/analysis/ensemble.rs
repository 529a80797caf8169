//! The "ensemble of thinned networks" view of dropout, measured (Srivastava et al. 2014,
//! section 7.5 and Figure 11).
//!
//! A trained dropout network defines an ensemble of thinned networks, one per dropout mask.
//! Here `K` of them are drawn reproducibly (`Mode::Frozen(seed + i)`: one mask per unit, shared
//! by every example) and compared with the ways of averaging them:
//! - each thinned network alone;
//! - the Monte Carlo arithmetic mean of the first `k` networks' class probabilities;
//! - their normalised geometric mean (`softmax` of the mean log-probability);
//! - the weight-scaled network, the paper's cheap approximation of the average.
//!
//! and with the diversity of the ensemble: how often two thinned networks agree on the class.

use crate::data::Dataset;
use crate::nn::{Mode, Sequential};
use crate::tensor::Threads;
use crate::{Error, Result};

use super::uncertainty::McSamples;

/// The class probabilities of `count` thinned networks `Frozen(seed)`, `Frozen(seed + 1)`, ...
pub fn thinned_networks(
    model: &mut Sequential,
    data: &Dataset,
    count: usize,
    seed: u64,
    threads: &Threads,
) -> Result<McSamples> {
    let mut out: Option<McSamples> = None;
    for i in 0..count.max(1) {
        let one = McSamples::collect(
            model,
            data,
            Mode::Frozen(seed.wrapping_add(i as u64)),
            1,
            500,
            true,
            threads,
        )?;
        match &mut out {
            None => out = Some(one),
            Some(o) => {
                o.values.extend_from_slice(&one.values);
                o.passes += 1;
            }
        }
    }
    Ok(out.expect("at least one network"))
}

/// The error rate of probabilities `[n * k]` against `labels`.
pub fn error_rate(probs: &[f32], k: usize, labels: &[u32]) -> Result<f64> {
    if k == 0 || probs.len() != labels.len() * k || labels.is_empty() {
        return Err(Error::config(
            "error_rate",
            format!(
                "{} probabilities do not make {} examples of {k} classes",
                probs.len(),
                labels.len()
            ),
        ));
    }
    let wrong = labels
        .iter()
        .enumerate()
        .filter(|&(i, &y)| argmax(&probs[i * k..(i + 1) * k]) != y as usize)
        .count();
    Ok(wrong as f64 / labels.len() as f64)
}

fn argmax(p: &[f32]) -> usize {
    p.iter()
        .copied()
        .enumerate()
        .fold(
            (0, f32::NEG_INFINITY),
            |b, (j, v)| if v > b.1 { (j, v) } else { b },
        )
        .0
}

/// The normalised geometric mean of the first `m` networks: per example,
/// `p_c ∝ exp(mean_t ln p_t,c)` (probabilities floored at 1e-30 before the log).
pub fn geometric_mean(s: &McSamples, m: usize) -> Vec<f32> {
    let m = m.clamp(1, s.passes);
    let mut out = vec![0.0f32; s.n * s.k];
    for i in 0..s.n {
        let row = &mut out[i * s.k..(i + 1) * s.k];
        let mut logs = vec![0.0f64; s.k];
        for t in 0..m {
            for (l, &p) in logs.iter_mut().zip(s.get(t, i)) {
                *l += (p.max(1e-30) as f64).ln() / m as f64;
            }
        }
        let mx = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = logs.iter().map(|l| (l - mx).exp()).sum();
        for (r, l) in row.iter_mut().zip(&logs) {
            *r = ((l - mx).exp() / z) as f32;
        }
    }
    out
}

/// Mean pairwise agreement of the predicted classes of the first `m` networks: the fraction
/// of (network pair, example) with the same argmax. Diversity is one minus it.
pub fn pairwise_agreement(s: &McSamples, m: usize) -> f64 {
    let m = m.clamp(1, s.passes);
    if m < 2 {
        return 1.0;
    }
    let preds: Vec<Vec<usize>> = (0..m)
        .map(|t| (0..s.n).map(|i| argmax(s.get(t, i))).collect())
        .collect();
    let (mut same, mut total) = (0usize, 0usize);
    for a in 0..m {
        for b in a + 1..m {
            same += preds[a].iter().zip(&preds[b]).filter(|(x, y)| x == y).count();
            total += s.n;
        }
    }
    same as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: Vec<f32>, passes: usize, n: usize, k: usize) -> McSamples {
        McSamples { passes, n, k, values }
    }

    #[test]
    fn error_rate_counts_wrong_argmaxes() {
        let p = [0.9f32, 0.1, 0.4, 0.6, 0.2, 0.8];
        assert!((error_rate(&p, 2, &[0, 0, 1]).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert!(error_rate(&p, 2, &[0]).is_err());
    }

    #[test]
    fn geometric_mean_of_two_networks_by_hand() {
        // One example, two classes; networks (0.9, 0.1) and (0.5, 0.5):
        // sqrt(0.45) = 0.670820, sqrt(0.05) = 0.223607; normalised 0.75, 0.25.
        let s = samples(vec![0.9, 0.1, 0.5, 0.5], 2, 1, 2);
        let g = geometric_mean(&s, 2);
        assert!((g[0] - 0.75).abs() < 1e-6 && (g[1] - 0.25).abs() < 1e-6, "{g:?}");
        // With one network it is that network.
        let g1 = geometric_mean(&s, 1);
        assert!((g1[0] - 0.9).abs() < 1e-6);
    }

    #[test]
    fn agreement_by_hand() {
        // Three networks, two examples, two classes.
        // predictions: net0 (0, 1), net1 (0, 0), net2 (1, 1)
        // pairs: (0,1) agree on ex0 only: 1; (0,2) on ex1 only: 1; (1,2) on none: 0 → 2 of 6.
        let s = samples(
            vec![0.9, 0.1, 0.2, 0.8, 0.8, 0.2, 0.6, 0.4, 0.3, 0.7, 0.1, 0.9],
            3,
            2,
            2,
        );
        assert!((pairwise_agreement(&s, 3) - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(pairwise_agreement(&s, 1), 1.0);
    }
}
