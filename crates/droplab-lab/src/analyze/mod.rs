//! What dropout does in a trained run, computed (the `droplab analyze` commands draw and write
//! it):
//!
//! * [`uncertainty`]: Monte Carlo dropout against weight scaling (accuracy, NLL, Brier, ECE
//!   with reliability bins), the entropy, expected entropy and BALD of right and wrong
//!   predictions, how the estimate settles as passes grow; for regression the RMSE and the
//!   Gaussian log-likelihood (Gal & Ghahramani 2016);
//! * [`ensemble`]: K thinned networks with fixed masks, the arithmetic and geometric means of
//!   the first k, Monte Carlo dropout over k passes, the weight-scaled network, the exact
//!   average where the network is small, optional bagging (Srivastava et al. 2014, Figure 11);
//! * [`coadaptation`]: per hidden layer the mean activation, sparsity, dead units and mean
//!   |correlation| between units, and the first layer's incoming weights.

pub mod coadaptation;
pub mod ensemble;
pub mod uncertainty;

use std::path::Path;

use crate::error::Error;

/// The error for a model whose Monte Carlo passes all agree: it has no dropout to sample.
fn no_dropout(run: &Path) -> Error {
    Error::usage(format!(
        "{}: the model has no active dropout, so Monte Carlo passes all agree (train it with --dropout)",
        run.display()
    ))
}
