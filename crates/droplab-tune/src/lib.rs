//! Hyperparameter search for droplab: search spaces over any field of a run config, grid,
//! random and Bayesian samplers (TPE, Gaussian process with expected improvement), k-fold
//! cross-validation scores per trial, median pruning, and a trial store in SQLite or
//! PostgreSQL that any number of workers share; [`importance`] gives each searched parameter's
//! share of the score's variance.
//!
//! The crate knows nothing of training: a worker runs an [`Objective`] (the `droplab` command
//! implements one over its run configs), and everything else is coordination and bookkeeping.

#![warn(missing_docs)]

pub mod error;
pub mod importance;
pub mod sampler;
pub mod space;
pub mod store;
pub mod study;
pub mod worker;

pub use error::{Result, TuneError};
pub use sampler::{Observation, SamplerConfig, SamplerKind};
pub use space::{Dist, Param, Params, Space};
pub use store::{Claim, Store, TrialRecord, TrialState};
pub use study::{EpochScore, FoldScore, PruneConfig, StudySpec};
pub use worker::{Objective, WorkerEvent, WorkerOptions, WorkerSummary, run_worker};
