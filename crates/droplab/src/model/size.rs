//! The size of a model before it is built: its parameters and the activation values one
//! example produces, from the config's shapes alone, in `u128` so that an absurd width is a
//! number to refuse rather than an allocation that aborts.

use super::{ModelConfig, cnn, rnn};
use crate::error::Result;

/// Parameters and per-example activation values of a model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    /// Trainable parameters (and batch norm's running statistics).
    pub params: u128,
    /// Values the layers' outputs hold for one example (the input included).
    pub activations: u128,
}

impl Size {
    /// Bytes that training at `batch` examples per step needs, in f32: each parameter with
    /// its gradient and up to two optimizer states (4 values), each activation with its
    /// gradient (2 values per example). Kernels' scratch space comes on top.
    pub fn training_bytes(&self, batch: usize) -> u128 {
        let values = self
            .params
            .saturating_mul(4)
            .saturating_add(self.activations.saturating_mul(2).saturating_mul(batch as u128));
        values.saturating_mul(4)
    }
}

/// The size of the model `cfg` describes (its input shape filled in for a convolutional or
/// recurrent network).
pub fn size(cfg: &ModelConfig) -> Result<Size> {
    // Saturating arithmetic: a model string can name sizes whose products overflow even
    // u128 (a kernel of 10^19); saturated, they are refused by the memory check instead.
    let m = |a: u128, b: u128| a.saturating_mul(b);
    let mut s = Size::default();
    let add = |s: &mut Size, params: u128, activations: u128| {
        s.params = s.params.saturating_add(params);
        s.activations = s.activations.saturating_add(activations);
    };
    match (&cfg.layers, &cfg.recurrent) {
        (Some(spec), _) => {
            let dims = &cfg.input_shape;
            let (mut c, mut h, mut w) = match dims.as_slice() {
                [c, h, w] => (*c as u128, *h as u128, *w as u128),
                _ => (1, 1, dims.iter().fold(1u128, |a, &d| m(a, d as u128))),
            };
            s.activations = m(m(c, h), w);
            for t in cnn::parse(spec)? {
                match t {
                    cnn::Token::Conv {
                        filters,
                        k,
                        stride,
                        pad,
                    } => {
                        let (f, k, st, p) = (filters as u128, k as u128, stride.max(1) as u128, pad as u128);
                        h = h.saturating_add(m(2, p)).saturating_sub(k) / st + 1;
                        w = w.saturating_add(m(2, p)).saturating_sub(k) / st + 1;
                        let params = m(m(m(f, c), k), k).saturating_add(f);
                        c = f;
                        add(&mut s, params, m(m(c, h), w));
                    }
                    cnn::Token::Pool { k, stride, .. } => {
                        let (k, st) = (k as u128, stride.max(1) as u128);
                        h = h.saturating_sub(k) / st + 1;
                        w = w.saturating_sub(k) / st + 1;
                        add(&mut s, 0, m(m(c, h), w));
                    }
                    cnn::Token::Global => {
                        (h, w) = (1, 1);
                        add(&mut s, 0, c);
                    }
                    cnn::Token::BatchNorm => add(&mut s, m(4, c), m(m(m(2, c), h), w)),
                    cnn::Token::Dropout(_) | cnn::Token::Spatial(_) | cnn::Token::DropBlock(..) => {
                        add(&mut s, 0, m(m(c, h), w));
                    }
                    cnn::Token::Dense(n) | cnn::Token::Output(n) => {
                        let (fan_in, n) = (m(m(c, h), w), n as u128);
                        add(&mut s, m(fan_in, n).saturating_add(n), fan_in.saturating_add(n));
                        (c, h, w) = (n, 1, 1);
                    }
                }
            }
        }
        (None, Some(spec)) => {
            let (mut time, mut f) = match cfg.input_shape.as_slice() {
                [t, f] => (Some(*t as u128), *f as u128),
                dims => (None, dims.iter().fold(1u128, |a, &d| m(a, d as u128))),
            };
            let per_example = |time: Option<u128>, v: u128| m(time.unwrap_or(1), v);
            s.activations = per_example(time, f);
            for t in rnn::parse(spec)? {
                match t {
                    rnn::Token::Embedding(vocab, dim) => {
                        f = dim as u128;
                        add(&mut s, m(vocab as u128, f), per_example(time, f));
                    }
                    rnn::Token::Lstm(h) | rnn::Token::Gru(h) => {
                        let (h, gates) = (h as u128, if matches!(t, rnn::Token::Lstm(_)) { 4 } else { 3 });
                        let params = m(m(gates, h), f.saturating_add(h)).saturating_add(m(m(2, gates), h));
                        f = h;
                        // Gates, cells and the previous states are kept for the backward pass.
                        add(&mut s, params, per_example(time, m(gates + 2, h)));
                    }
                    rnn::Token::Pool(_) => {
                        time = None;
                        add(&mut s, 0, f);
                    }
                    rnn::Token::Dropout(_) => add(&mut s, 0, per_example(time, f)),
                    rnn::Token::Dense(n) | rnn::Token::Output(n) => {
                        let n = n as u128;
                        let params = m(f, n).saturating_add(n);
                        f = n;
                        add(&mut s, params, per_example(time, f));
                    }
                }
            }
        }
        (None, None) => {
            let w: Vec<u128> = cfg.widths.iter().map(|&w| w as u128).collect();
            s.activations = w.iter().fold(0u128, |a, &b| a.saturating_add(b));
            s.params = w
                .windows(2)
                .fold(0u128, |a, p| a.saturating_add(m(p[0], p[1]).saturating_add(p[1])));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression (fuzz/regressions/model_string-size-overflow): a kernel of about 1.6e19
    // overflowed u128 in the size estimate (a panic with overflow checks, a wrapped and
    // too small estimate without); sizes saturate and the memory check refuses them.
    #[test]
    fn sizes_saturate_instead_of_overflowing() {
        let mut cfg = ModelConfig::default();
        cfg.set_model_string("cnn:c8k16397105843297379214-f22-bn-sd0.1-f35-10")
            .unwrap();
        cfg.input_shape = vec![1, 8, 8];
        let s = size(&cfg).unwrap();
        assert_eq!(s.params, u128::MAX);
        assert_eq!(s.training_bytes(128), u128::MAX);
    }

    #[test]
    fn sizes_by_hand() {
        // 64-32-10: 64*32+32 + 32*10+10 = 2410 parameters; 64+32+10 activations.
        let mlp = ModelConfig {
            widths: vec![64, 32, 10],
            ..Default::default()
        };
        assert_eq!(
            size(&mlp).unwrap(),
            Size {
                params: 2410,
                activations: 106
            }
        );
        // 1x8x8 -> c4k3 (same padding) 4x8x8 -> p2 4x4x4 -> 10: 4*1*9+4 + 64*10+10 = 690.
        let cnn = ModelConfig {
            layers: Some("c4k3-p2-10".into()),
            input_shape: vec![1, 8, 8],
            ..Default::default()
        };
        assert_eq!(size(&cnn).unwrap().params, 690);
        // Widths that would not fit any memory are a number, not an overflow.
        let huge = ModelConfig {
            widths: vec![64, 2_000_000_000, 10],
            ..Default::default()
        };
        assert!(size(&huge).unwrap().training_bytes(128) > 500_000_000_000);
        let built = mlp.build(0).unwrap();
        assert_eq!(size(&mlp).unwrap().params, built.param_count() as u128);
        let built = cnn.build(0).unwrap();
        assert_eq!(size(&cnn).unwrap().params, built.param_count() as u128);
    }
}
