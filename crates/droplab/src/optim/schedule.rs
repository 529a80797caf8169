//! Learning-rate and momentum schedules.
//!
//! A schedule is a pure function of the epoch (0-based) and the update counter `t`
//! (0-based, counted over the whole run), so a resumed or replayed run sees the same values.

use serde::{Deserialize, Serialize};

use crate::error::{Result, check};

/// The learning rate as a function of time; `lr0` is the optimizer's base rate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LrSchedule {
    /// `lr0`.
    #[default]
    Constant,
    /// `lr0 * gamma ^ floor(epoch / every)`.
    Step {
        /// Epochs between decays.
        every: usize,
        /// Factor per decay.
        gamma: f32,
    },
    /// `lr0 * gamma ^ epoch`.
    Exponential {
        /// Factor per epoch.
        gamma: f32,
    },
    /// Cosine annealing over `total` updates from `lr0` to `min_lr` (Loshchilov & Hutter 2017,
    /// without restarts); `total` is filled with the run's updates when 0.
    Cosine {
        /// Updates of the whole anneal (0: the whole run).
        #[serde(default)]
        total: u64,
        /// Final rate.
        #[serde(default)]
        min_lr: f32,
    },
    /// The dropout paper's `lr0 / (1 + t / T)` per update `t` (Srivastava et al. 2014).
    Inverse {
        /// Time constant `T` in updates.
        t0: f64,
    },
}

impl LrSchedule {
    /// Checks the fields.
    pub fn validate(&self) -> Result<()> {
        match *self {
            LrSchedule::Constant => {}
            LrSchedule::Step { every, gamma } => {
                check::positive("schedule.every", every as f64)?;
                check::positive("schedule.gamma", gamma as f64)?;
            }
            LrSchedule::Exponential { gamma } => check::positive("schedule.gamma", gamma as f64)?,
            LrSchedule::Cosine { min_lr, .. } => check::non_negative("schedule.min_lr", min_lr as f64)?,
            LrSchedule::Inverse { t0 } => check::positive("schedule.t0", t0)?,
        }
        Ok(())
    }

    /// The rate at `epoch` and update `t`, for a run of `total_updates` updates.
    pub fn lr(&self, lr0: f32, epoch: usize, t: u64, total_updates: u64) -> f32 {
        match *self {
            LrSchedule::Constant => lr0,
            LrSchedule::Step { every, gamma } => lr0 * gamma.powi((epoch / every.max(1)) as i32),
            LrSchedule::Exponential { gamma } => lr0 * gamma.powi(epoch as i32),
            LrSchedule::Cosine { total, min_lr } => {
                let total = if total == 0 { total_updates } else { total }.max(1);
                let frac = (t.min(total) as f64) / total as f64;
                let c = 0.5 * (1.0 + (std::f64::consts::PI * frac).cos());
                (min_lr as f64 + (lr0 - min_lr) as f64 * c) as f32
            }
            LrSchedule::Inverse { t0 } => (lr0 as f64 / (1.0 + t as f64 / t0)) as f32,
        }
    }
}

/// Momentum as a function of the update counter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MomentumSchedule {
    /// The optimizer's `momentum`.
    #[default]
    Constant,
    /// The dropout paper's rise: `end - (end - start) * exp(-t / T)`; with start 0.5,
    /// end 0.99, T = 10^5 this is `0.99 - 0.49 exp(-t / 10^5)`.
    Rise {
        /// Momentum at `t = 0`.
        start: f32,
        /// Asymptote.
        end: f32,
        /// Time constant `T` in updates.
        t0: f64,
    },
    /// Hinton et al. 2012's linear ramp: `start + (end - start) * t / T` for `t < T`, then
    /// `end` (their MNIST nets: 0.5 -> 0.99 over the first 500 epochs).
    Ramp {
        /// Momentum at `t = 0`.
        start: f32,
        /// Momentum from update `T` on.
        end: f32,
        /// Length `T` of the ramp in updates.
        t0: f64,
    },
}

impl MomentumSchedule {
    /// Checks the fields.
    pub fn validate(&self) -> Result<()> {
        match *self {
            MomentumSchedule::Constant => {}
            MomentumSchedule::Rise { start, end, t0 } | MomentumSchedule::Ramp { start, end, t0 } => {
                check::in_range("momentum_schedule.start", start as f64, 0.0, 0.999_999)?;
                check::in_range("momentum_schedule.end", end as f64, 0.0, 0.999_999)?;
                check::positive("momentum_schedule.t0", t0)?;
            }
        }
        Ok(())
    }

    /// Momentum at update `t` given the optimizer's constant `mu`.
    pub fn momentum(&self, mu: f32, t: u64) -> f32 {
        match *self {
            MomentumSchedule::Constant => mu,
            MomentumSchedule::Rise { start, end, t0 } => {
                (end as f64 - (end - start) as f64 * (-(t as f64) / t0).exp()) as f32
            }
            MomentumSchedule::Ramp { start, end, t0 } => {
                let f = (t as f64 / t0).min(1.0);
                (start as f64 + (end - start) as f64 * f) as f32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_at_known_points() {
        assert_eq!(LrSchedule::Constant.lr(0.1, 5, 100, 1000), 0.1);
        let s = LrSchedule::Step { every: 2, gamma: 0.5 };
        assert_eq!(s.lr(1.0, 0, 0, 0), 1.0);
        assert_eq!(s.lr(1.0, 3, 0, 0), 0.5);
        assert_eq!(s.lr(1.0, 4, 0, 0), 0.25);
        let e = LrSchedule::Exponential { gamma: 0.9 };
        assert!((e.lr(1.0, 2, 0, 0) - 0.81).abs() < 1e-6);
        let c = LrSchedule::Cosine {
            total: 0,
            min_lr: 0.0,
        };
        assert!((c.lr(1.0, 0, 0, 100) - 1.0).abs() < 1e-6);
        assert!((c.lr(1.0, 0, 50, 100) - 0.5).abs() < 1e-6);
        assert!(c.lr(1.0, 0, 100, 100).abs() < 1e-6);
        let i = LrSchedule::Inverse { t0: 1e4 };
        assert!((i.lr(1.0, 0, 10_000, 0) - 0.5).abs() < 1e-6);
        let m = MomentumSchedule::Rise {
            start: 0.5,
            end: 0.99,
            t0: 1e5,
        };
        assert!((m.momentum(0.9, 0) - 0.5).abs() < 1e-6);
        assert!((m.momentum(0.9, 10_000_000) - 0.99).abs() < 1e-6);
        let r = MomentumSchedule::Ramp {
            start: 0.5,
            end: 0.99,
            t0: 1000.0,
        };
        assert!((r.momentum(0.9, 0) - 0.5).abs() < 1e-6);
        assert!((r.momentum(0.9, 500) - 0.745).abs() < 1e-6);
        assert!((r.momentum(0.9, 1000) - 0.99).abs() < 1e-6);
        assert!((r.momentum(0.9, 5000) - 0.99).abs() < 1e-6);
        assert!(r.validate().is_ok());
        let bad = MomentumSchedule::Ramp {
            start: 0.5,
            end: 0.99,
            t0: 0.0,
        };
        assert!(bad.validate().is_err());
    }
}
