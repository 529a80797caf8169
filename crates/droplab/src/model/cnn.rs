//! Convolutional networks from a layer string.
//!
//! # Grammar
//! Tokens separated by `-`, applied in order to an image input `[c, h, w]`:
//!
//! | token | layer |
//! |---|---|
//! | `c32k5` | Conv2d, 32 filters 5x5, stride 1, "same" padding `k / 2`; `s2` sets the stride, `p0` the padding (`c64k3s2p1`) |
//! | `p2` or `m2` | max pooling 2x2, stride 2 (`p3s2`: window 3, stride 2) |
//! | `a2` | average pooling 2x2, stride 2 |
//! | `g` | global average pooling (to one value per channel) |
//! | `bn` | batch normalization (2-d on images, 1-d on vectors) |
//! | `d0.5` | Bernoulli dropout, rate 0.5, here |
//! | `sd0.1` | spatial dropout (whole channels), rate 0.1, here |
//! | `db0.1` | DropBlock, rate 0.1, here (`db0.1b5`: block side 5; default `dropout.block_size`) |
//! | `f1024` | dense hidden layer of 1024 units (flattening first if needed) |
//! | `10` | the output layer (last, required) |
//!
//! Convolutions and dense hidden layers use the model's activation; when `bn` follows one,
//! the activation moves after the batch norm (`conv -> bn -> act`). Besides the explicit
//! tokens, the config places dropout the usual way: `dropout.input` on the pixels,
//! `dropout.conv` (kind `dropout.conv_kind`) after each convolution's activation, and
//! `dropout.hidden` after each dense hidden layer's activation.

use crate::error::{Error, Result};
use crate::model::{ConvDropoutKind, ModelConfig};
use crate::nn::{
    Act, Activation, BatchNorm, Conv2dConfig, DenseConfig, Flatten, GlobalAvgPool, Init, Layer, Pool2d,
    PoolKind, Sequential,
};
use crate::regularize::{Bernoulli, DropBlock, Dropout, DropoutKind, SpatialDropout};
use crate::rng::Stream;

/// One token of a layer string.
#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// Convolution: filters, kernel, stride, padding.
    Conv {
        /// Output channels.
        filters: usize,
        /// Kernel size (square).
        k: usize,
        /// Stride.
        stride: usize,
        /// Zero padding on each side.
        pad: usize,
    },
    /// Pooling: kind, window, stride.
    Pool {
        /// Max or average.
        kind: PoolKind,
        /// Window size (square).
        k: usize,
        /// Stride.
        stride: usize,
    },
    /// Global average pooling.
    Global,
    /// Batch normalization.
    BatchNorm,
    /// Bernoulli dropout at this point.
    Dropout(f32),
    /// Spatial dropout at this point.
    Spatial(f32),
    /// DropBlock at this point, with an optional block side.
    DropBlock(f32, Option<usize>),
    /// Dense hidden layer.
    Dense(usize),
    /// The output layer.
    Output(usize),
}

const GRAMMAR: &str = "expected tokens cNkK[sS][pP], pK[sS] or mK[sS] (max pool), aK[sS] (avg pool), g, bn, dP, sdP, dbP[bK], fN, and the output width last, e.g. c32k5-p2-c64k5-p2-f1024-10";

fn bad(spec: &str, tok: &str, why: &str) -> Error {
    Error::config("model", format!("'{tok}' in 'cnn:{spec}' {why} ({GRAMMAR})"))
}

/// Splits `s` into a leading number and the rest.
fn number(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    s.split_at(end)
}

/// Parses `[letter number]*` suffixes into (letter, value) pairs.
fn suffixes(s: &str) -> Option<Vec<(char, usize)>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let (n, r) = number(&rest[c.len_utf8()..]);
        out.push((c, n.parse().ok()?));
        rest = r;
    }
    Some(out)
}

fn window(spec: &str, tok: &str, body: &str) -> Result<(usize, usize)> {
    let (k, rest) = number(body);
    let k: usize = k.parse().map_err(|_| bad(spec, tok, "has no window size"))?;
    let mut stride = k;
    for (c, v) in suffixes(rest).ok_or_else(|| bad(spec, tok, "does not parse"))? {
        match c {
            's' => stride = v,
            _ => return Err(bad(spec, tok, "has an unknown option")),
        }
    }
    if k == 0 || stride == 0 {
        return Err(bad(spec, tok, "needs a window and stride of at least 1"));
    }
    Ok((k, stride))
}

fn rate(spec: &str, tok: &str, s: &str) -> Result<f32> {
    let p: f32 = s.parse().map_err(|_| bad(spec, tok, "has no rate"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(bad(spec, tok, "has a rate outside [0, 1]"));
    }
    Ok(p)
}

/// Parses a layer string (without the `cnn:` prefix).
pub fn parse(spec: &str) -> Result<Vec<Token>> {
    let parts: Vec<&str> = spec.split('-').map(str::trim).collect();
    let mut toks = Vec::with_capacity(parts.len());
    for (i, &tok) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let t = if let Ok(n) = tok.parse::<usize>() {
            if !last {
                return Err(bad(spec, tok, "is an output width before the last token"));
            }
            if n == 0 {
                return Err(bad(spec, tok, "is an output width of 0"));
            }
            Token::Output(n)
        } else if tok == "g" {
            Token::Global
        } else if tok == "bn" {
            Token::BatchNorm
        } else if let Some(r) = tok.strip_prefix("sd") {
            Token::Spatial(rate(spec, tok, r)?)
        } else if let Some(r) = tok.strip_prefix("db") {
            let (p, rest) = number(r);
            let block = match rest.strip_prefix('b') {
                Some(b) => Some(
                    b.parse::<usize>()
                        .ok()
                        .filter(|&b| b > 0)
                        .ok_or_else(|| bad(spec, tok, "has a bad block size"))?,
                ),
                None if rest.is_empty() => None,
                None => return Err(bad(spec, tok, "does not parse")),
            };
            Token::DropBlock(rate(spec, tok, p)?, block)
        } else if let Some(r) = tok.strip_prefix('d') {
            Token::Dropout(rate(spec, tok, r)?)
        } else if let Some(r) = tok.strip_prefix('f') {
            let n: usize = r
                .parse()
                .map_err(|_| bad(spec, tok, "is not fN (a dense layer of N units)"))?;
            if n == 0 {
                return Err(bad(spec, tok, "is a dense layer of 0 units"));
            }
            Token::Dense(n)
        } else if let Some(r) = tok.strip_prefix('c') {
            let (f, rest) = number(r);
            let filters: usize = f.parse().map_err(|_| bad(spec, tok, "has no filter count"))?;
            let opts = suffixes(rest).ok_or_else(|| bad(spec, tok, "does not parse"))?;
            let mut k = None;
            let (mut stride, mut pad) = (1, None);
            for (c, v) in opts {
                match c {
                    'k' => k = Some(v),
                    's' => stride = v,
                    'p' => pad = Some(v),
                    _ => return Err(bad(spec, tok, "has an unknown option")),
                }
            }
            let k = k.ok_or_else(|| bad(spec, tok, "has no kernel size (cNkK)"))?;
            if filters == 0 || k == 0 || stride == 0 {
                return Err(bad(spec, tok, "needs filters, kernel and stride of at least 1"));
            }
            Token::Conv {
                filters,
                k,
                stride,
                pad: pad.unwrap_or(k / 2),
            }
        } else if let Some(r) = tok.strip_prefix('p').or_else(|| tok.strip_prefix('m')) {
            let (k, stride) = window(spec, tok, r)?;
            Token::Pool {
                kind: PoolKind::Max,
                k,
                stride,
            }
        } else if let Some(r) = tok.strip_prefix('a') {
            let (k, stride) = window(spec, tok, r)?;
            Token::Pool {
                kind: PoolKind::Avg,
                k,
                stride,
            }
        } else {
            return Err(bad(spec, tok, "is not a layer"));
        };
        toks.push(t);
    }
    if !matches!(toks.last(), Some(Token::Output(_))) {
        return Err(Error::config(
            "model",
            format!("'cnn:{spec}' must end with the output width, e.g. -10 ({GRAMMAR})"),
        ));
    }
    Ok(toks)
}

/// The output width of a layer string.
pub fn outputs(spec: &str) -> Result<usize> {
    match parse(spec)?.last() {
        Some(Token::Output(n)) => Ok(*n),
        _ => unreachable!("parse checks the last token"),
    }
}

/// Number of dense hidden layers.
pub fn hidden_dense(toks: &[Token]) -> usize {
    toks.iter().filter(|t| matches!(t, Token::Dense(_))).count()
}

/// Number of convolutions.
pub fn convolutions(toks: &[Token]) -> usize {
    toks.iter().filter(|t| matches!(t, Token::Conv { .. })).count()
}

/// Builds the network of `spec` for `cfg` (its input shape, activation, dropout), seeded.
pub(super) fn build(cfg: &ModelConfig, spec: &str, seed: u64) -> Result<Sequential> {
    let toks = parse(spec)?;
    let input = &cfg.input_shape;
    if input.len() != 3 {
        return Err(Error::config(
            "model.input_shape",
            format!(
                "a convolutional network needs images [channels, height, width], got {input:?}; use an image dataset (mnist, fashion-mnist, digits) or an mlp model"
            ),
        ));
    }
    let init = cfg.init.unwrap_or_else(|| Init::for_activation(cfg.activation));
    let d = &cfg.dropout;
    let dropconnect = d.kind == DropoutKind::DropConnect;
    let act_kind = if dropconnect {
        DropoutKind::Bernoulli
    } else {
        d.kind
    };
    let mut b = Builder {
        layers: Vec::new(),
        shape: input.clone(),
    };
    if d.input > 0.0 && !dropconnect {
        let s = Stream::new(seed, "dropout.input");
        b.push(Box::new(Dropout::new(act_kind, d.input, d.convention, s)?))?;
    }
    let (mut convs, mut hidden, mut dense_seen, mut params) = (0usize, 0usize, 0usize, 0u64);
    let mut i = 0;
    while i < toks.len() {
        let bn_next = matches!(toks.get(i + 1), Some(Token::BatchNorm));
        match &toks[i] {
            &Token::Conv {
                filters,
                k,
                stride,
                pad,
            } => {
                let field = format!("model.conv[{convs}]");
                let cin = b.shape.first().copied().unwrap_or(0);
                if b.shape.len() != 3 {
                    return Err(Error::config(
                        "model",
                        format!(
                            "'{}' needs an image input but follows a dense layer in 'cnn:{spec}'",
                            token_name(&toks[i])
                        ),
                    ));
                }
                let act = if bn_next {
                    Activation::Identity
                } else {
                    cfg.activation
                };
                let mut rng = Stream::new(seed, "init").derive_u64(params).seq();
                params += 1;
                b.push(Box::new(
                    Conv2dConfig::new(cin, filters, k)
                        .with_stride(stride)
                        .with_padding(pad)
                        .with_activation(act)
                        .with_init(init)
                        .with_name(&field)
                        .init(&mut rng)?,
                ))?;
                if bn_next {
                    b.batchnorm()?;
                    b.push(Box::new(Act(cfg.activation)))?;
                    i += 1;
                }
                let p = d.conv_rate(convs);
                if p > 0.0 {
                    let s = Stream::new(seed, "dropout.conv").derive_u64(convs as u64);
                    let layer: Box<dyn Layer> = match d.conv_kind {
                        ConvDropoutKind::Spatial => {
                            Box::new(SpatialDropout::new(Bernoulli::new(p, d.convention, s)?))
                        }
                        ConvDropoutKind::DropBlock => {
                            Box::new(DropBlock::new(p, d.block_size, d.ramp_steps, s)?)
                        }
                        ConvDropoutKind::Bernoulli => {
                            Box::new(Dropout::new(DropoutKind::Bernoulli, p, d.convention, s)?)
                        }
                    };
                    b.push(layer)?;
                }
                convs += 1;
            }
            &Token::Pool { kind, k, stride } => {
                b.push(Box::new(Pool2d::new(kind, k, Some(stride))?))?;
            }
            Token::Global => b.push(Box::new(GlobalAvgPool))?,
            Token::BatchNorm => b.batchnorm()?,
            &Token::Dropout(p) => {
                let s = Stream::new(seed, "dropout.layer").derive_u64(i as u64);
                b.push(Box::new(Dropout::new(
                    DropoutKind::Bernoulli,
                    p,
                    d.convention,
                    s,
                )?))?;
            }
            &Token::Spatial(p) => {
                let s = Stream::new(seed, "dropout.layer").derive_u64(i as u64);
                b.push(Box::new(SpatialDropout::new(Bernoulli::new(p, d.convention, s)?)))?;
            }
            &Token::DropBlock(p, block) => {
                let s = Stream::new(seed, "dropout.layer").derive_u64(i as u64);
                b.push(Box::new(DropBlock::new(
                    p,
                    block.unwrap_or(d.block_size),
                    d.ramp_steps,
                    s,
                )?))?;
            }
            &Token::Dense(n) | &Token::Output(n) => {
                let output = matches!(toks[i], Token::Output(_));
                if b.shape.len() != 1 {
                    b.push(Box::new(Flatten))?;
                }
                let fan_in = b.shape[0];
                let field = format!("model.dense[{dense_seen}]");
                let act = if output || bn_next {
                    Activation::Identity
                } else {
                    cfg.activation
                };
                let mut rng = Stream::new(seed, "init").derive_u64(params).seq();
                params += 1;
                let mut dense = DenseConfig::new(fan_in, n)
                    .with_activation(act)
                    .with_init(init)
                    .with_name(&field)
                    .init(&mut rng)?;
                if dropconnect {
                    let q = if dense_seen == 0 {
                        d.input
                    } else {
                        d.hidden_rate(dense_seen - 1)
                    };
                    if q > 0.0 {
                        let s = Stream::new(seed, "dropconnect").derive_u64(dense_seen as u64);
                        dense = dense.with_dropconnect(Some(Bernoulli::new(q, d.convention, s)?));
                    }
                }
                let p = if output || dropconnect {
                    0.0
                } else {
                    d.hidden_rate(hidden)
                };
                let stream = Stream::new(seed, "dropout.hidden").derive_u64(hidden as u64);
                let fused = p > 0.0 && !bn_next && act_kind == DropoutKind::Bernoulli;
                if fused {
                    dense = dense.with_dropout(Some(Bernoulli::new(p, d.convention, stream)?));
                }
                b.push(Box::new(dense))?;
                if bn_next && !output {
                    b.batchnorm()?;
                    b.push(Box::new(Act(cfg.activation)))?;
                    i += 1;
                }
                if p > 0.0 && !fused {
                    b.push(Box::new(Dropout::new(act_kind, p, d.convention, stream)?))?;
                }
                if !output {
                    hidden += 1;
                }
                dense_seen += 1;
            }
        }
        i += 1;
    }
    Sequential::new(input, b.layers)
}

fn token_name(t: &Token) -> String {
    match t {
        Token::Conv { filters, k, .. } => format!("c{filters}k{k}"),
        other => format!("{other:?}"),
    }
}

/// Tracks the per-example shape while layers are appended.
struct Builder {
    layers: Vec<Box<dyn Layer>>,
    shape: Vec<usize>,
}

impl Builder {
    fn push(&mut self, l: Box<dyn Layer>) -> Result<()> {
        self.shape = l.output_shape(&self.shape)?;
        self.layers.push(l);
        Ok(())
    }

    fn batchnorm(&mut self) -> Result<()> {
        let image = self.shape.len() == 3;
        let c = self.shape.first().copied().unwrap_or(0);
        self.push(Box::new(BatchNorm::new(c, image, 0.1, 1e-5)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_lenet_string_and_refuses_bad_tokens() {
        let t = parse("c32k5-p2-c64k5s1p2-p2-f1024-d0.5-10").unwrap();
        assert_eq!(
            t[0],
            Token::Conv {
                filters: 32,
                k: 5,
                stride: 1,
                pad: 2
            }
        );
        assert_eq!(
            t[1],
            Token::Pool {
                kind: PoolKind::Max,
                k: 2,
                stride: 2
            }
        );
        assert_eq!(t[4], Token::Dense(1024));
        assert_eq!(t[5], Token::Dropout(0.5));
        assert_eq!(t[6], Token::Output(10));
        assert_eq!(
            parse("c8k3p0-db0.1b5-sd0.2-a2s1-g-bn-10").unwrap()[1],
            Token::DropBlock(0.1, Some(5))
        );
        for bad in [
            "c32-10",
            "x5-10",
            "c32k5-p2",
            "c32k5-10-10",
            "d1.5-10",
            "c0k3-10",
            "f-10",
            "c32k5q1-10",
            // Regression (fuzz/regressions/model_string-multibyte-option-letter): an option
            // letter of two bytes was sliced at byte 1 and panicked.
            "c4k5p2\u{55b}l0.1-10",
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("model: "), "{bad}: {e}");
            assert!(e.contains("expected tokens"), "{bad}: {e}");
        }
    }
}
