//! A set's results over its splits against the paper's (mean and standard error, within two
//! standard errors), the table, and the finished splits an interrupted run left.

use super::*;

/// A finished split with the config and protocol it ran under, written to the output
/// directory as soon as it is done (`RECIPE-splitK.json`), so that `--resume` can take it
/// after an interruption.
#[derive(Serialize, Deserialize)]
pub(super) struct SavedSplit {
    pub(super) config: RunConfig,
    pub(super) protocol: UciProtocol,
    pub(super) result: SplitResult,
}

pub(super) fn split_file(name: &str, k: usize) -> String {
    format!("{name}-split{k}.json")
}

/// Split `k` of `p` as an interrupted run finished it, moved into `dest`: the directory it came
/// from and the result. A split of another config or protocol is left where it is.
pub(super) fn take_split(
    earlier: &[PathBuf],
    p: &Prepared,
    k: usize,
    dest: &Path,
) -> Option<(PathBuf, SplitResult)> {
    let file = split_file(p.name, k);
    take_from(earlier, &file, &dest.join(&file), |src| {
        let saved: SavedSplit = serde_json::from_str(&std::fs::read_to_string(src).ok()?).ok()?;
        let same = saved.config == p.cfg && saved.protocol == p.proto && saved.result.split == k;
        same.then_some(saved.result)
    })
}

/// Mean and standard error over splits (population sd / sqrt(n), as the authors' code).
pub(super) fn mean_se(v: &[f64]) -> [f64; 2] {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt();
    [m, sd / n.sqrt()]
}

/// Whether `ours` lies within two of the paper's standard errors of the paper's mean.
pub(super) fn within_two_se(ours: [f64; 2], published: Option<[f64; 2]>) -> Option<bool> {
    published.map(|[m, se]| (ours[0] - m).abs() <= 2.0 * se)
}

/// One set's results.
#[derive(Debug, Serialize)]
pub struct SetResult {
    /// The recipe.
    pub recipe: String,
    /// The `uci:SET` dataset.
    pub dataset: String,
    /// Splits run.
    pub splits: usize,
    /// Epochs of every training.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Monte Carlo passes of every score.
    pub mc_samples: usize,
    /// The paper's test RMSE, mean and standard error.
    pub published_rmse: Option<[f64; 2]>,
    /// The paper's test log-likelihood, mean and standard error.
    pub published_ll: Option<[f64; 2]>,
    /// Mean and standard error over splits.
    pub rmse: [f64; 2],
    /// RMSE of the weight-scaled network, mean and standard error.
    pub rmse_weight_scaling: [f64; 2],
    /// Test log-likelihood, mean and standard error.
    pub log_likelihood: [f64; 2],
    /// Whether the RMSE is within two of the paper's standard errors of its mean.
    pub rmse_within_2se: Option<bool>,
    /// The same for the log-likelihood.
    pub ll_within_2se: Option<bool>,
    /// Wall-clock minutes of this invocation (splits taken by `--resume` count in their own
    /// `seconds`, not here).
    pub minutes: f64,
    /// Splits taken from an interrupted run by `--resume`.
    pub resumed_splits: usize,
    /// Every split's outcome.
    pub per_split: Vec<SplitResult>,
}

/// A number with the digits its size needs (RMSE 0.0055 and 4.36 alike).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_standard_errors_of_the_paper() {
        assert_eq!(within_two_se([3.3, 0.2], Some([2.97, 0.19])), Some(true));
        assert_eq!(within_two_se([3.4, 0.2], Some([2.97, 0.19])), Some(false));
        assert_eq!(within_two_se([-2.5, 0.1], None), None);
    }

    #[test]
    fn standard_error_is_the_population_sd_over_root_n() {
        let [m, se] = mean_se(&[1.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((se - 1.0 / 2f64.sqrt()).abs() < 1e-12);
    }
}
