//! `droplab analyze uncertainty|ensemble RUN_DIR`: what dropout does in a trained run.
//!
//! `uncertainty`, Monte Carlo dropout uncertainty:
//! Classification: weight scaling against the MC mean of T passes (accuracy, NLL, Brier, ECE
//! with a reliability diagram), the entropy / expected entropy / BALD of each prediction
//! summarised over correct and wrong predictions, and how the MC estimate settles as T grows.
//! Regression: RMSE of the weight-scaled and MC-mean predictions and the Gaussian test
//! log-likelihood with precision `--tau` (Gal & Ghahramani 2016).
//!
//! `ensemble`, the ensemble of thinned networks: K networks with fixed masks, each one's
//! error, the arithmetic and geometric means of the first k, Monte Carlo dropout (a mask per
//! example) over k passes, and the weight-scaled network; the agreement between thinned
//! networks; the error against k as SVG (Srivastava et al. 2014, Figure 11).
//!
//! `coadaptation`, hidden units: per hidden dense layer the mean activation, sparsity, dead
//! units and mean |correlation| between units, activation histograms, and the first layer's
//! weights drawn as images; for one run or two side by side (`--compare`).

use std::path::{Path, PathBuf};

mod coadaptation;
mod ensemble;
mod uncertainty;

pub use coadaptation::coadaptation;
pub use ensemble::ensemble;
pub use uncertainty::uncertainty;

use droplab::analysis::coadaptation as coad;
use droplab::analysis::uncertainty::Calibration;
use droplab::nn::Targets;
use droplab::tensor::Threads;
use droplab_lab::analyze::coadaptation::hidden_units;
use droplab_lab::analyze::{ensemble as ens, uncertainty as unc};
use droplab_report::{
    Histogram, KCurve, Reliability, ReliabilityBin, activation_histogram_svg, error_vs_k_svg, features_svg,
    markdown_table, reliability_svg, text_table,
};

use crate::cli::{CoadaptationArgs, EnsembleArgs, RunInput, UncertaintyArgs};
use crate::error::{CliError, CliResult};
use droplab_lab::run::{LoadedRun, load_run};

impl RunInput {
    /// The run at `dir` with this input's split, dataset and data directory.
    fn load(&self, dir: &Path) -> CliResult<LoadedRun> {
        if self.no_verify {
            eprintln!(
                "warning: --no-verify: {}'s weights are not checked against its record",
                dir.display()
            );
        }
        load_run(
            dir,
            self.dataset.as_deref(),
            self.data_dir.as_deref(),
            &self.split,
            !self.no_verify,
        )
    }

    fn threads(&self) -> CliResult<Threads> {
        Ok(Threads::new(self.threads.filter(|&t| t > 0))?)
    }

    /// `--out`, or `RUN_DIR/analysis/ANALYSIS`.
    fn out_dir(&self, analysis: &str) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| self.run_dir.join("analysis").join(analysis))
    }
}

fn write(path: &Path, text: &str) -> CliResult {
    droplab_lab::staging::write_atomic(path, text.as_bytes())
}

fn nan_null(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::Value::from(v)
    } else {
        serde_json::Value::Null
    }
}
