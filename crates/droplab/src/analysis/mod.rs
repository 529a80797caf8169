//! Measurements of what dropout does to a trained network.
//!
//! * [`coadaptation`]: sparsity, mean activation, histograms and correlations of hidden units.
//! * [`ensemble`]: the ensemble of thinned networks (Frozen masks) against Monte Carlo,
//!   geometric and weight-scaling averages, and the agreement between thinned networks.
//! * [`exact`]: the exact average over all thinned networks of a small dense network.
//! * [`summary`]: the mean and sample standard deviation of repeated measurements.
//! * [`uncertainty`]: Monte Carlo dropout predictions (T passes with dropout on), the
//!   predictive entropy, its aleatoric and epistemic (BALD) parts, calibration (ECE with the
//!   reliability bins, NLL, Brier), and the Gaussian log-likelihood of regression outputs.

pub mod coadaptation;
pub mod ensemble;
pub mod exact;
pub mod summary;
pub mod uncertainty;
