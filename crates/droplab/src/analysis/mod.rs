//! Measurements of what dropout does to a trained network.
//!
//! * [`uncertainty`]: Monte Carlo dropout predictions (T passes with dropout on), the
//!   predictive entropy, its aleatoric and epistemic (BALD) parts, calibration (ECE with the
//!   reliability bins, NLL, Brier), and the Gaussian log-likelihood of regression outputs.

pub mod uncertainty;
