//! droplab: a training core for studying dropout and the regularizers beside it.
//!
//! The crate owns its layers and kernels and leans on [`faer`] for matrix multiply.
//! Everything here is plain Rust with no CLI, database or plotting dependencies.
//!
//! * [`tensor`]: f32 row-major tensors, GEMM through faer, fused elementwise kernels, threads.
//! * [`rng`]: a counter-based Philox4x32-10 generator with keyed streams.
//! * [`plan`]: the [`plan::Mode`] of a call and the dropout plan it implies ([`plan::Bernoulli`]).
//! * [`nn`]: the [`nn::Layer`] trait, Dense, activations, Sequential, losses, initializers.
//! * [`regularize`]: the dropout family, weight penalties, max-norm, gradient clipping.
//! * [`optim`]: SGD (classical and Nesterov momentum), Adam, AdamW, RMSprop, schedules.
//! * [`data`]: datasets, readers (IDX, CSV, the embedded digits), splits and scaling.
//! * [`train`]: the trainer (fixed step order), metrics, early stopping.
//! * [`analysis`]: Monte Carlo dropout uncertainty and calibration.
//!
//! Conventions: dropout rates are drop probabilities `p` in `[0, 1]`; modes
//! ([`nn::Mode`]) are passed explicitly at each call; every random consumer gets its own
//! stream derived from `(run seed, name)`.

pub mod analysis;
pub mod data;
pub mod error;
pub mod model;
pub mod nn;
pub mod optim;
pub mod plan;
pub mod regularize;
pub mod rng;
pub mod tensor;
pub mod train;

pub use error::{Error, Result};
pub use nn::Sequential;
pub use tensor::Tensor;

/// The version written into run records.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
