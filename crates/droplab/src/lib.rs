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
//! * [`model`]: the configs that build a [`Sequential`] (MLP widths, `cnn:` and `rnn:` layer
//!   strings, dropout and regularization), checked before any layer is built.
//! * [`data`]: datasets, readers (IDX, CSV, the embedded digits), splits and scaling.
//! * [`train`]: the trainer (fixed step order), metrics, early stopping.
//! * [`analysis`]: Monte Carlo dropout uncertainty and calibration.
//!
//! Conventions: dropout rates are drop probabilities `p` in `[0, 1]`; modes
//! ([`nn::Mode`]) are passed explicitly at each call; every random consumer gets its own
//! stream derived from `(run seed, name)`.
//!
//! # Example
//!
//! A dropout MLP trained on the embedded digits, then scored on held-out examples by weight
//! scaling and by Monte Carlo dropout (see `examples/` for more):
//!
//! ```
//! use droplab::data::{digits, split};
//! use droplab::model::{DropoutConfig, ModelConfig};
//! use droplab::nn::Mode;
//! use droplab::optim::OptimizerConfig;
//! use droplab::tensor::Threads;
//! use droplab::train::{FitSpec, TrainConfig, evaluate, fit, predict_proba};
//!
//! // The 1,797 8x8 digits, split 60/20/20 (stratified, seed 0).
//! let data = digits::load()?;
//! let parts = split::stratified_split(&data.y, &[0.6, 0.2, 0.2], 0, "split")?;
//! let (train, val, test) = (data.select(&parts[0]), data.select(&parts[1]), data.select(&parts[2]));
//!
//! // 64-256-10 with dropout 0.2 on the inputs and 0.5 on the hidden units (drop probabilities).
//! let dropout = DropoutConfig { input: 0.2, hidden: vec![0.5], ..Default::default() };
//! let mut model = ModelConfig { widths: vec![64, 256, 10], dropout, ..Default::default() }.build(1)?;
//! let optimizer = OptimizerConfig { lr: 0.05, momentum: 0.9, ..Default::default() };
//! let cfg = TrainConfig { epochs: 10, batch_size: 32, optimizer, ..Default::default() };
//! let threads = Threads::new(Some(1))?;
//! let report = fit(&mut model, &train, FitSpec::new(&cfg, &threads).seed(1).validation(&val), &mut |_| {})?;
//! assert_eq!(report.history.len(), 10);
//!
//! // Weight scaling (dropout off) against the mean of 20 Monte Carlo passes (dropout on).
//! let scaled = evaluate(&mut model, &test, &cfg.loss, 256, &threads, Mode::Eval)?;
//! let mc = predict_proba(&mut model, &test, Mode::MonteCarlo, 20, 256, &threads)?;
//! println!("test accuracy: weight scaling {:.3}, MC dropout {:.3}", scaled.accuracy(), mc.accuracy);
//! assert!(scaled.accuracy() > 0.9 && mc.accuracy > 0.9);
//! # Ok::<(), droplab::Error>(())
//! ```

#![warn(missing_docs)]

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
