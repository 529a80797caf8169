//! Regularizers: the dropout family, weight penalties, max-norm, gradient clipping.
//!
//! Each regularizer is a plain function (or a small struct) with a thin layer on top where it
//! acts on activations:
//!
//! * [`Bernoulli`] dropout ([`Convention::Inverted`] or the paper's [`Convention::Standard`]),
//!   used fused inside [`crate::nn::Dense`] or as the standalone [`Dropout`] layer;
//! * [`Dropout`] with [`DropoutKind::Gaussian`] (multiplicative `N(1, p / (1 - p))`) and
//!   [`DropoutKind::Alpha`] (for SELU: keeps mean and variance);
//! * [`SpatialDropout`] (whole channels) and [`DropBlock`] (contiguous squares) for
//!   convolutional feature maps; DropConnect on weights lives in [`crate::nn::Dense`];
//! * [`penalty`]: L1, L2 and elastic net on weights (biases excluded unless configured);
//! * [`max_norm`]: each unit's incoming weight vector clipped to norm `c` after every update;
//! * [`clip`]: gradient-norm clipping;
//! * [`augment`]: seeded on-the-fly image augmentation (shifts, rotations, flips, noise).

mod alpha;
pub mod augment;
mod dropblock;
mod dropout;
mod gaussian;
mod spatial;

pub mod clip;
pub mod max_norm;
pub mod penalty;

pub use crate::plan::{Bernoulli, Convention};
pub use alpha::AlphaParams;
pub use augment::AugmentConfig;
pub use dropblock::DropBlock;
pub use dropout::{Dropout, DropoutKind};
pub use spatial::SpatialDropout;
