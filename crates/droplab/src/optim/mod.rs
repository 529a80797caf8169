//! Optimizers and schedules.
//!
//! * [`Optimizer`]: SGD with classical or Nesterov momentum (dampening 0 as PyTorch, or
//!   Hinton et al. 2012's dampened form), Adam, AdamW (decoupled weight decay), RMSprop.
//!   Updates follow PyTorch's formulas exactly.
//! * [`LrSchedule`] and [`MomentumSchedule`]: functions of the epoch and the update counter.

mod schedule;

pub use schedule::{LrSchedule, MomentumSchedule};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, check};
use crate::nn::Param;

/// Which update rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// `v = mu v + g; w -= lr v`.
    #[default]
    Sgd,
    /// `v = mu v + g; w -= lr (g + mu v)`.
    Nesterov,
    /// Kingma & Ba 2015.
    Adam,
    /// Adam with decoupled weight decay (Loshchilov & Hutter 2019): `w -= lr wd w` first.
    Adamw,
    /// `s = rho s + (1 - rho) g^2; w -= lr g / (sqrt(s) + eps)`.
    Rmsprop,
}

impl OptimizerKind {
    /// Parses the CLI spelling.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "sgd" => OptimizerKind::Sgd,
            "nesterov" => OptimizerKind::Nesterov,
            "adam" => OptimizerKind::Adam,
            "adamw" => OptimizerKind::Adamw,
            "rmsprop" => OptimizerKind::Rmsprop,
            _ => {
                return Err(crate::Error::config(
                    "optimizer",
                    format!("unknown optimizer '{s}' (valid: sgd, nesterov, adam, adamw, rmsprop)"),
                ));
            }
        })
    }
}

/// Optimizer settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// The update rule.
    pub kind: OptimizerKind,
    /// Base learning rate (schedules multiply or replace it).
    pub lr: f32,
    /// Momentum for SGD and Nesterov (overridden by a momentum schedule).
    pub momentum: f32,
    /// SGD and Nesterov: scale the gradient by `1 - mu` in the velocity, `v = mu v + (1 - mu) g`,
    /// the form Hinton et al. 2012 (Appendix A) give for their update, so that the step does
    /// not grow as a momentum schedule rises. (Not PyTorch's `dampening`, which leaves the
    /// first step undampened.)
    /// Off: `v = mu v + g`, PyTorch's default and the update of Srivastava et al.'s own code.
    pub dampen: bool,
    /// Adam's beta1.
    pub beta1: f32,
    /// Adam's beta2.
    pub beta2: f32,
    /// RMSprop's decay of the squared-gradient average (PyTorch's `alpha`, default 0.99;
    /// Keras's `rho` defaults to 0.9). RMSprop has no bias correction, so its first steps are
    /// about `lr / sqrt(1 - rho)`.
    pub rho: f32,
    /// Denominator epsilon of Adam and RMSprop.
    pub eps: f32,
    /// Decoupled weight decay (AdamW only; for coupled L2 use the `l2` penalty).
    pub weight_decay: f32,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            kind: OptimizerKind::Sgd,
            lr: 0.01,
            momentum: 0.9,
            dampen: false,
            beta1: 0.9,
            beta2: 0.999,
            rho: 0.99,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

impl OptimizerConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        check::positive("optimizer.lr", self.lr as f64)?;
        check::in_range("optimizer.momentum", self.momentum as f64, 0.0, 0.999_999)?;
        check::in_range("optimizer.beta1", self.beta1 as f64, 0.0, 0.999_999)?;
        check::in_range("optimizer.beta2", self.beta2 as f64, 0.0, 0.999_999_9)?;
        check::in_range("optimizer.rho", self.rho as f64, 0.0, 0.999_999_9)?;
        check::positive("optimizer.eps", self.eps as f64)?;
        check::non_negative("optimizer.weight_decay", self.weight_decay as f64)?;
        if self.dampen && !matches!(self.kind, OptimizerKind::Sgd | OptimizerKind::Nesterov) {
            return Err(crate::Error::config(
                "optimizer.dampen",
                "dampened momentum is for sgd and nesterov; remove dampen or use one of them",
            ));
        }
        Ok(())
    }

    /// The runtime optimizer.
    pub fn init(&self) -> Result<Optimizer> {
        self.validate()?;
        Ok(Optimizer {
            config: self.clone(),
            state: Vec::new(),
            t: 0,
        })
    }
}

/// One parameter's optimizer state: momentum or first moment, and Adam's second moment (each
/// empty where the rule has none).
pub(crate) type Moments = (Vec<f32>, Vec<f32>);

/// An optimizer with per-parameter state (momentum buffers, moment estimates).
#[derive(Clone, Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    state: Vec<Moments>,
    t: u64,
}

impl Optimizer {
    /// The settings.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Updates made so far and each parameter's moments (momentum or first moment, and
    /// Adam's second moment; empty where the rule has none, all empty before the first update).
    pub(crate) fn moments(&self) -> (u64, &[Moments]) {
        (self.t, &self.state)
    }

    /// Restores what [`Optimizer::moments`] returned.
    pub(crate) fn restore(&mut self, t: u64, moments: Vec<Moments>) {
        self.t = t;
        self.state = if moments.iter().all(|(m, _)| m.is_empty()) {
            Vec::new()
        } else {
            moments
        };
    }

    /// One update of every parameter from its gradient, with this step's learning rate and
    /// momentum (from the schedules).
    pub fn step(&mut self, params: &mut [&mut Param], lr: f32, momentum: f32) {
        if self.state.len() != params.len() {
            self.state = params
                .iter()
                .map(|p| (vec![0.0; p.value.len()], Vec::new()))
                .collect();
        }
        self.t += 1;
        let c = &self.config;
        let t = self.t;
        for (p, (m, v)) in params.iter_mut().zip(self.state.iter_mut()) {
            if matches!(c.kind, OptimizerKind::Adam | OptimizerKind::Adamw) && v.len() != m.len() {
                v.resize(m.len(), 0.0);
            }
            let decay = if c.kind == OptimizerKind::Adamw && p.reg.decay {
                c.weight_decay
            } else {
                0.0
            };
            let (w, g) = (p.value.data_mut(), p.grad.data());
            // Elementwise and independent: split into fixed chunks across the pool.
            let v_chunks: Vec<&mut [f32]> = if v.is_empty() {
                Vec::new()
            } else {
                v.chunks_mut(CHUNK).collect()
            };
            let mut v_chunks = v_chunks.into_iter().map(Some).collect::<Vec<_>>();
            v_chunks.resize_with(w.len().div_ceil(CHUNK), || None);
            w.par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK))
                .zip(m.par_chunks_mut(CHUNK))
                .zip(v_chunks.into_par_iter())
                .for_each(|(((w, g), m), v)| update(c, t, lr, momentum, decay, w, g, m, v));
        }
    }
}

/// Elements per parallel task of an update.
const CHUNK: usize = 1 << 15;

/// One update of a chunk, PyTorch's formulas.
fn update(
    c: &OptimizerConfig,
    t: u64,
    lr: f32,
    momentum: f32,
    decay: f32,
    w: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: Option<&mut [f32]>,
) {
    match c.kind {
        OptimizerKind::Sgd => {
            let k = if c.dampen { 1.0 - momentum } else { 1.0 };
            for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                *m = momentum * *m + k * g;
                *w -= lr * *m;
            }
        }
        OptimizerKind::Nesterov => {
            let k = if c.dampen { 1.0 - momentum } else { 1.0 };
            for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                *m = momentum * *m + k * g;
                *w -= lr * (g + momentum * *m);
            }
        }
        OptimizerKind::Adam | OptimizerKind::Adamw => {
            let Some(v) = v else { return };
            if decay > 0.0 {
                let f = 1.0 - lr * decay;
                w.iter_mut().for_each(|w| *w *= f);
            }
            let (b1, b2) = (c.beta1, c.beta2);
            let bc1 = 1.0 - b1.powi(t as i32);
            let bc2_sqrt = (1.0 - b2.powi(t as i32)).sqrt();
            let step = lr / bc1;
            for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *w -= step * *m / (v.sqrt() / bc2_sqrt + c.eps);
            }
        }
        OptimizerKind::Rmsprop => {
            let rho = c.rho;
            for ((w, &g), s) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                *s = rho * *s + (1.0 - rho) * g * g;
                *w -= lr * g / (s.sqrt() + c.eps);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Role;
    use crate::tensor::Tensor;

    fn param(w: f32, g: f32) -> Param {
        let mut p = Param::new("weight", Tensor::from_vec(&[1], vec![w]).unwrap(), Role::Weight);
        p.grad.data_mut()[0] = g;
        p
    }

    #[test]
    fn sgd_momentum_matches_pytorch_formula() {
        let mut o = OptimizerConfig::default().init().unwrap();
        let mut p = param(1.0, 0.5);
        o.step(&mut [&mut p], 0.1, 0.9);
        assert!((p.value.data()[0] - 0.95).abs() < 1e-7); // v = 0.5
        o.step(&mut [&mut p], 0.1, 0.9);
        // v = 0.9 * 0.5 + 0.5 = 0.95, w = 0.95 - 0.095
        assert!((p.value.data()[0] - 0.855).abs() < 1e-6);
    }

    #[test]
    fn dampened_sgd_averages_the_gradient() {
        let cfg = OptimizerConfig {
            dampen: true,
            ..Default::default()
        };
        let mut o = cfg.init().unwrap();
        let mut p = param(1.0, 0.5);
        o.step(&mut [&mut p], 0.1, 0.9);
        // v = 0.1 * 0.5 = 0.05, w = 1 - 0.005
        assert!((p.value.data()[0] - 0.995).abs() < 1e-7);
        o.step(&mut [&mut p], 0.1, 0.8);
        // v = 0.8 * 0.05 + 0.2 * 0.5 = 0.14, w = 0.995 - 0.014
        assert!((p.value.data()[0] - 0.981).abs() < 1e-6);
        let adam = OptimizerConfig {
            kind: OptimizerKind::Adam,
            dampen: true,
            ..Default::default()
        };
        assert!(
            adam.validate()
                .unwrap_err()
                .to_string()
                .contains("optimizer.dampen")
        );
    }

    #[test]
    fn nesterov_first_step() {
        let cfg = OptimizerConfig {
            kind: OptimizerKind::Nesterov,
            ..Default::default()
        };
        let mut o = cfg.init().unwrap();
        let mut p = param(1.0, 0.5);
        o.step(&mut [&mut p], 0.1, 0.9);
        // v = 0.5; update = g + mu v = 0.95
        assert!((p.value.data()[0] - 0.905).abs() < 1e-6);
    }

    #[test]
    fn adam_first_step_is_lr_times_sign() {
        let cfg = OptimizerConfig {
            kind: OptimizerKind::Adam,
            ..Default::default()
        };
        let mut o = cfg.init().unwrap();
        let mut p = param(1.0, 0.3);
        o.step(&mut [&mut p], 0.01, 0.0);
        // m_hat = g, v_hat = g^2: update = lr * g / (|g| + eps)
        assert!((p.value.data()[0] - (1.0 - 0.01 * 0.3 / (0.3 + 1e-8))).abs() < 1e-6);
    }

    #[test]
    fn adamw_decays_only_marked_params() {
        let cfg = OptimizerConfig {
            kind: OptimizerKind::Adamw,
            weight_decay: 0.1,
            ..Default::default()
        };
        let mut o = cfg.init().unwrap();
        let mut p = param(1.0, 0.0);
        p.reg.decay = true;
        let mut q = param(1.0, 0.0);
        o.step(&mut [&mut p, &mut q], 0.5, 0.0);
        assert!((p.value.data()[0] - 0.95).abs() < 1e-6);
        assert_eq!(q.value.data()[0], 1.0);
    }

    /// Runs `cfg` for the gradients `gs` from w = 1 at learning rate `lr` (momentum 0.9 for the
    /// SGD kinds) and returns the weight after each step.
    fn trajectory(cfg: OptimizerConfig, decay: bool, gs: &[f32], lr: f32) -> Vec<f32> {
        let mut o = cfg.init().unwrap();
        let mut p = param(1.0, 0.0);
        p.reg.decay = decay;
        gs.iter()
            .map(|&g| {
                p.grad.data_mut()[0] = g;
                o.step(&mut [&mut p], lr, 0.9);
                p.value.data()[0]
            })
            .collect()
    }

    fn close(got: &[f32], want: &[f64]) {
        for (g, w) in got.iter().zip(want) {
            assert!((*g as f64 - w).abs() < 1e-5, "{got:?} against {want:?}");
        }
    }

    // Regression for the RMSprop decay that was Adam's beta2 (0.999): one step from w = 1,
    // g = 0.5, lr = 0.1 gives w = 1 - 0.1 * 0.5 / sqrt(0.01 * 0.25) = 0 in PyTorch.
    #[test]
    fn rmsprop_adam_adamw_nesterov_follow_pytorch_formulas_at_its_defaults() {
        let gs = [0.5f32, -0.2, 0.3];
        let lr = 0.1;
        // torch.optim.RMSprop(alpha=0.99, eps=1e-8): s = a s + (1 - a) g^2; w -= lr g / (sqrt(s) + eps).
        let (mut w, mut sq, mut want) = (1.0f64, 0.0f64, Vec::new());
        for &g in &gs {
            let g = g as f64;
            sq = 0.99 * sq + 0.01 * g * g;
            w -= 0.1 * g / (sq.sqrt() + 1e-8);
            want.push(w);
        }
        let rms = OptimizerConfig {
            kind: OptimizerKind::Rmsprop,
            ..Default::default()
        };
        let got = trajectory(rms, false, &gs, lr);
        assert!(got[0].abs() < 1e-5, "first RMSprop step: {}", got[0]);
        close(&got, &want);
        // torch.optim.Adam(betas=(0.9, 0.999), eps=1e-8), and AdamW(weight_decay=0.01), which
        // first multiplies w by 1 - lr wd.
        for (kind, wd) in [(OptimizerKind::Adam, 0.0f64), (OptimizerKind::Adamw, 0.01)] {
            let (mut w, mut m, mut v, mut want) = (1.0f64, 0.0f64, 0.0f64, Vec::new());
            for (t, &g) in gs.iter().enumerate() {
                let (g, t) = (g as f64, t as i32 + 1);
                w *= 1.0 - 0.1 * wd;
                m = 0.9 * m + 0.1 * g;
                v = 0.999 * v + 0.001 * g * g;
                let (mh, vh) = (m / (1.0 - 0.9f64.powi(t)), v / (1.0 - 0.999f64.powi(t)));
                w -= 0.1 * mh / (vh.sqrt() + 1e-8);
                want.push(w);
            }
            let cfg = OptimizerConfig {
                kind,
                ..Default::default()
            };
            close(&trajectory(cfg, true, &gs, lr), &want);
        }
        // torch.optim.SGD(momentum=0.9, nesterov=True): b = mu b + g; w -= lr (g + mu b).
        let (mut w, mut b, mut want) = (1.0f64, 0.0f64, Vec::new());
        for &g in &gs {
            let g = g as f64;
            b = 0.9 * b + g;
            w -= 0.1 * (g + 0.9 * b);
            want.push(w);
        }
        let nesterov = OptimizerConfig {
            kind: OptimizerKind::Nesterov,
            ..Default::default()
        };
        close(&trajectory(nesterov, false, &gs, lr), &want);
    }

    #[test]
    fn invalid_configs_name_the_field() {
        let bad = OptimizerConfig {
            lr: -0.1,
            ..Default::default()
        };
        let e = bad.init().unwrap_err().to_string();
        assert!(e.contains("optimizer.lr"), "{e}");
        let bad = OptimizerConfig {
            momentum: 1.5,
            ..Default::default()
        };
        assert!(bad.init().unwrap_err().to_string().contains("optimizer.momentum"));
    }
}
