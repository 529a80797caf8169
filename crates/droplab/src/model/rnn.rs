//! Recurrent networks from a layer string.
//!
//! # Grammar
//! Tokens separated by `-`, applied in order to sequences `[time, features]`:
//!
//! | token | layer |
//! |---|---|
//! | `e10000x128` | token embeddings (vocabulary 10,000, 128 values), first; the input is then token ids `[time]` |
//! | `lstm128` | an LSTM layer of 128 units (stack several for a deep LSTM) |
//! | `gru128` | a GRU layer of 128 units |
//! | `last` / `mean` | the state at each sequence's last step / the mean over its steps |
//! | `f64` | a dense hidden layer (after pooling) |
//! | `d0.5` | Bernoulli dropout here |
//! | `9` | the output layer (last, required) |
//!
//! The config places the recurrent dropout: `dropout.input` on the first LSTM's input,
//! `dropout.hidden` between stacked LSTMs (on each further LSTM's input), both per time step
//! or, with `dropout.variational`, one mask per sequence (Gal & Ghahramani 2016);
//! `dropout.recurrent` on each LSTM's recurrent state (variational); `dropout.weight` on each
//! LSTM's recurrent weights (DropConnect, as AWD-LSTM); `dropout.zoneout` keeps units' previous
//! state (Krueger et al. 2017); `dropout.embedding` drops word types
//! of each sequence in the embedding (Gal & Ghahramani 2016).

use crate::error::{Error, Result};
use crate::model::ModelConfig;
use crate::nn::{
    Activation, DenseConfig, Embedding, Gru, Init, Layer, Lstm, SeqPool, SeqPoolKind, Sequential,
};
use crate::regularize::{Bernoulli, Dropout, DropoutKind};
use crate::rng::Stream;

/// One token of a recurrent layer string.
#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// Token embeddings: vocabulary, dimension.
    Embedding(usize, usize),
    /// LSTM with this many units.
    Lstm(usize),
    /// GRU with this many units.
    Gru(usize),
    /// Pooling over time.
    Pool(SeqPoolKind),
    /// Dense hidden layer.
    Dense(usize),
    /// Bernoulli dropout.
    Dropout(f32),
    /// The output layer.
    Output(usize),
}

const GRAMMAR: &str = "expected tokens lstmN or gruN, last or mean, fN, dP, and the output width last, e.g. lstm64-lstm64-last-9";

fn bad(spec: &str, tok: &str, why: &str) -> Error {
    Error::config("model", format!("'{tok}' in 'rnn:{spec}' {why} ({GRAMMAR})"))
}

/// Parses a layer string (without the `rnn:` prefix).
pub fn parse(spec: &str) -> Result<Vec<Token>> {
    let parts: Vec<&str> = spec.split('-').map(str::trim).collect();
    let mut toks = Vec::with_capacity(parts.len());
    let positive = |tok: &str, s: &str, what: &str| -> Result<usize> {
        s.parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| bad(spec, tok, &format!("is not {what}")))
    };
    for (i, &tok) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let t = if let Ok(n) = tok.parse::<usize>() {
            if !last {
                return Err(bad(spec, tok, "is an output width before the last token"));
            }
            Token::Output(positive(tok, &n.to_string(), "an output width of at least 1")?)
        } else if tok == "last" {
            Token::Pool(SeqPoolKind::Last)
        } else if tok == "mean" {
            Token::Pool(SeqPoolKind::Mean)
        } else if let Some((v, dim)) = tok.strip_prefix('e').and_then(|r| r.split_once('x')) {
            if i != 0 {
                return Err(bad(spec, tok, "is an embedding after the first token"));
            }
            Token::Embedding(
                positive(tok, v, "eVxD with a vocabulary of at least 1")?,
                positive(tok, dim, "eVxD with a dimension of at least 1")?,
            )
        } else if let Some(r) = tok.strip_prefix("lstm") {
            Token::Lstm(positive(tok, r, "lstmN (an LSTM of N units)")?)
        } else if let Some(r) = tok.strip_prefix("gru") {
            Token::Gru(positive(tok, r, "gruN (a GRU of N units)")?)
        } else if let Some(r) = tok.strip_prefix('f') {
            Token::Dense(positive(tok, r, "fN (a dense layer of N units)")?)
        } else if let Some(r) = tok.strip_prefix('d') {
            let p: f32 = r.parse().map_err(|_| bad(spec, tok, "has no rate"))?;
            if !(0.0..=1.0).contains(&p) {
                return Err(bad(spec, tok, "has a rate outside [0, 1]"));
            }
            Token::Dropout(p)
        } else {
            return Err(bad(spec, tok, "is not a layer"));
        };
        toks.push(t);
    }
    if !matches!(toks.last(), Some(Token::Output(_))) {
        return Err(Error::config(
            "model",
            format!("'rnn:{spec}' must end with the output width, e.g. -9 ({GRAMMAR})"),
        ));
    }
    let first_pool = toks.iter().position(|t| matches!(t, Token::Pool(_)));
    let last_lstm = toks
        .iter()
        .rposition(|t| matches!(t, Token::Lstm(_) | Token::Gru(_)));
    match (first_pool, last_lstm) {
        (_, None) => {
            return Err(Error::config(
                "model",
                format!("'rnn:{spec}' has no lstmN or gruN layer ({GRAMMAR})"),
            ));
        }
        (None, _) => {
            return Err(Error::config(
                "model",
                format!(
                    "'rnn:{spec}' needs last or mean after the LSTMs to make one vector per sequence ({GRAMMAR})"
                ),
            ));
        }
        (Some(p), Some(l)) if p < l => {
            return Err(Error::config(
                "model",
                format!("'rnn:{spec}': an LSTM after pooling has no sequence to read ({GRAMMAR})"),
            ));
        }
        _ => {}
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

/// Number of recurrent (LSTM or GRU) layers.
pub fn lstm_layers(toks: &[Token]) -> usize {
    toks.iter()
        .filter(|t| matches!(t, Token::Lstm(_) | Token::Gru(_)))
        .count()
}

/// Builds the network of `spec` for `cfg` (its input shape and dropout), seeded.
pub(super) fn build(cfg: &ModelConfig, spec: &str, seed: u64) -> Result<Sequential> {
    let toks = parse(spec)?;
    let input = &cfg.input_shape;
    let embedded = matches!(toks.first(), Some(Token::Embedding(..)));
    let features = match (input.as_slice(), embedded) {
        ([_, f], false) => *f,
        ([_], true) => 0,
        _ => {
            return Err(Error::config(
                "model.input_shape",
                format!(
                    "a recurrent network needs sequences [time, features] (or token ids [time] with an eVxD embedding first), got {input:?}; use a sequence dataset (japanese-vowels, ts:TRAIN.ts,TEST.ts)"
                ),
            ));
        }
    };
    let d = &cfg.dropout;
    let init = cfg.init.unwrap_or_else(|| Init::for_activation(cfg.activation));
    let mut layers: Vec<Box<dyn Layer>> = Vec::new();
    let mut width = features;
    let (mut k, mut params, mut dense) = (0usize, 0u64, 0usize);
    let bern = |p: f32, name: &str, k: usize| -> Result<Option<Bernoulli>> {
        if p <= 0.0 {
            return Ok(None);
        }
        let s = Stream::new(seed, name).derive_u64(k as u64);
        Ok(Some(Bernoulli::new(p, d.convention, s)?))
    };
    for (i, tok) in toks.iter().enumerate() {
        match *tok {
            Token::Lstm(h) | Token::Gru(h) => {
                let mut rng = Stream::new(seed, "init").derive_u64(params).seq();
                params += 1;
                let rate = if k == 0 { d.input } else { d.hidden_rate(k - 1) };
                let input = bern(rate, "dropout.lstm.input", k)?;
                let rec = bern(d.recurrent, "dropout.lstm.recurrent", k)?;
                let weight = bern(d.weight, "dropout.lstm.weight", k)?;
                let zone = bern(d.zoneout, "dropout.zoneout", k)?;
                let layer: Box<dyn Layer> = if matches!(tok, Token::Lstm(_)) {
                    Box::new(
                        Lstm::new(width, h, &mut rng)?
                            .with_input_dropout(input, d.variational)
                            .with_recurrent_dropout(rec)
                            .with_weight_dropout(weight)
                            .with_zoneout(zone),
                    )
                } else {
                    Box::new(
                        Gru::new(width, h, &mut rng)?
                            .with_input_dropout(input, d.variational)
                            .with_recurrent_dropout(rec)
                            .with_weight_dropout(weight)
                            .with_zoneout(zone),
                    )
                };
                layers.push(layer);
                width = h;
                k += 1;
            }
            Token::Embedding(v, dim) => {
                let mut rng = Stream::new(seed, "init").derive_u64(params).seq();
                params += 1;
                let wd = bern(d.embedding, "dropout.embedding", 0)?;
                layers.push(Box::new(Embedding::new(v, dim, &mut rng)?.with_word_dropout(wd)));
                width = dim;
            }
            Token::Pool(kind) => layers.push(Box::new(SeqPool(kind))),
            Token::Dropout(p) => {
                let s = Stream::new(seed, "dropout.layer").derive_u64(i as u64);
                layers.push(Box::new(Dropout::new(
                    DropoutKind::Bernoulli,
                    p,
                    d.convention,
                    s,
                )?));
            }
            Token::Dense(n) | Token::Output(n) => {
                let act = if matches!(tok, Token::Output(_)) {
                    Activation::Identity
                } else {
                    cfg.activation
                };
                let mut rng = Stream::new(seed, "init").derive_u64(params).seq();
                params += 1;
                layers.push(Box::new(
                    DenseConfig::new(width, n)
                        .with_activation(act)
                        .with_init(init)
                        .with_name(format!("model.dense[{dense}]"))
                        .init(&mut rng)?,
                ));
                width = n;
                dense += 1;
            }
        }
    }
    Sequential::new(input, layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(
            parse("lstm64-lstm32-last-f16-d0.5-9").unwrap(),
            vec![
                Token::Lstm(64),
                Token::Lstm(32),
                Token::Pool(SeqPoolKind::Last),
                Token::Dense(16),
                Token::Dropout(0.5),
                Token::Output(9)
            ]
        );
        assert_eq!(parse("gru8-mean-3").unwrap()[0], Token::Gru(8));
        assert_eq!(parse("e100x8-lstm4-last-3").unwrap()[0], Token::Embedding(100, 8));
        assert!(parse("lstm4-e100x8-last-3").is_err());
        for bad in [
            "lstm64-9",
            "last-9",
            "lstm64-mean-lstm3-9",
            "lstm0-mean-9",
            "rnn8-mean-9",
            "lstm8-mean",
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("model: "), "{bad}: {e}");
        }
    }
}
