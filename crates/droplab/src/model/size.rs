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
        4 * (4 * self.params + 2 * self.activations * batch as u128)
    }
}

/// The size of the model `cfg` describes (its input shape filled in for a convolutional or
/// recurrent network).
pub fn size(cfg: &ModelConfig) -> Result<Size> {
    let mut s = Size::default();
    match (&cfg.layers, &cfg.recurrent) {
        (Some(spec), _) => {
            let dims = &cfg.input_shape;
            let (mut c, mut h, mut w) = match dims.as_slice() {
                [c, h, w] => (*c as u128, *h as u128, *w as u128),
                _ => (1, 1, dims.iter().product::<usize>() as u128),
            };
            s.activations = c * h * w;
            for t in cnn::parse(spec)? {
                match t {
                    cnn::Token::Conv {
                        filters,
                        k,
                        stride,
                        pad,
                    } => {
                        let (f, k, st, p) = (filters as u128, k as u128, stride.max(1) as u128, pad as u128);
                        h = (h + 2 * p).saturating_sub(k) / st + 1;
                        w = (w + 2 * p).saturating_sub(k) / st + 1;
                        s.params += f * c * k * k + f;
                        c = f;
                        s.activations += c * h * w;
                    }
                    cnn::Token::Pool { k, stride, .. } => {
                        let (k, st) = (k as u128, stride.max(1) as u128);
                        h = h.saturating_sub(k) / st + 1;
                        w = w.saturating_sub(k) / st + 1;
                        s.activations += c * h * w;
                    }
                    cnn::Token::Global => {
                        (h, w) = (1, 1);
                        s.activations += c;
                    }
                    cnn::Token::BatchNorm => {
                        s.params += 4 * c;
                        s.activations += 2 * c * h * w;
                    }
                    cnn::Token::Dropout(_) | cnn::Token::Spatial(_) | cnn::Token::DropBlock(..) => {
                        s.activations += c * h * w;
                    }
                    cnn::Token::Dense(n) | cnn::Token::Output(n) => {
                        let (fan_in, n) = (c * h * w, n as u128);
                        s.params += fan_in * n + n;
                        (c, h, w) = (n, 1, 1);
                        s.activations += fan_in + n;
                    }
                }
            }
        }
        (None, Some(spec)) => {
            let (mut time, mut f) = match cfg.input_shape.as_slice() {
                [t, f] => (Some(*t as u128), *f as u128),
                dims => (None, dims.iter().product::<usize>() as u128),
            };
            let per_example = |time: Option<u128>, v: u128| time.unwrap_or(1) * v;
            s.activations = per_example(time, f);
            for t in rnn::parse(spec)? {
                match t {
                    rnn::Token::Embedding(vocab, dim) => {
                        s.params += vocab as u128 * dim as u128;
                        f = dim as u128;
                        s.activations += per_example(time, f);
                    }
                    rnn::Token::Lstm(h) | rnn::Token::Gru(h) => {
                        let (h, gates) = (h as u128, if matches!(t, rnn::Token::Lstm(_)) { 4 } else { 3 });
                        s.params += gates * h * (f + h) + 2 * gates * h;
                        f = h;
                        // Gates, cells and the previous states are kept for the backward pass.
                        s.activations += per_example(time, (gates + 2) * h);
                    }
                    rnn::Token::Pool(_) => {
                        time = None;
                        s.activations += f;
                    }
                    rnn::Token::Dropout(_) => s.activations += per_example(time, f),
                    rnn::Token::Dense(n) | rnn::Token::Output(n) => {
                        let n = n as u128;
                        s.params += f * n + n;
                        f = n;
                        s.activations += per_example(time, f);
                    }
                }
            }
        }
        (None, None) => {
            let w: Vec<u128> = cfg.widths.iter().map(|&w| w as u128).collect();
            s.activations = w.iter().sum();
            s.params = w.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

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
