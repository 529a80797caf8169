//! Recurrent layers and their dropout variants: variational masks, weight dropout, Eval
//! identity, and a small LSTM that learns.

use droplab::nn::{Ctx, Layer, Lstm, Mode};
use droplab::regularize::{Bernoulli, Convention};
use droplab::rng::Stream;
use droplab::tensor::Tensor;

fn lstm(f: usize, h: usize) -> Lstm {
    let mut rng = Stream::new(5, "init").seq();
    Lstm::new(f, h, &mut rng).unwrap()
}

fn drop(p: f32, name: &str) -> Option<Bernoulli> {
    Some(Bernoulli::new(p, Convention::Inverted, Stream::new(3, name)).unwrap())
}

fn ones(b: usize, t: usize, f: usize) -> Tensor {
    Tensor::from_vec(&[b, t, f], vec![1.0; b * t * f]).unwrap()
}

#[test]
fn variational_masks_are_shared_over_time_and_differ_across_sequences() {
    let (b, t, f, h, p) = (400, 6, 50, 50, 0.4f32);
    let x = ones(b, t, f);
    let mut l = lstm(f, h)
        .with_input_dropout(drop(p, "in"), true)
        .with_recurrent_dropout(drop(p, "rec"));
    let mut y = Tensor::default();
    l.forward(&Ctx::new(Mode::Train, 3), &x, &mut y).unwrap();
    let mut dropped = 0usize;
    for s in 0..b {
        let first = l.input_factors(s, 0, t);
        for step in 1..t {
            assert_eq!(
                l.input_factors(s, step, t),
                first,
                "sequence {s}: the mask changed at step {step}"
            );
        }
        dropped += first.iter().filter(|&&v| v == 0.0).count();
        assert!(
            first
                .iter()
                .all(|&v| v == 0.0 || (v - 1.0 / (1.0 - p)).abs() < 1e-6)
        );
    }
    // Different sequences get different masks, at the stated rate (6 sigma).
    assert_ne!(l.input_factors(0, 0, t), l.input_factors(1, 0, t));
    assert_ne!(l.recurrent_factors(0), l.recurrent_factors(1));
    let n = (b * f) as f64;
    let sd = (n * p as f64 * (1.0 - p as f64)).sqrt();
    assert!(
        (dropped as f64 - n * p as f64).abs() < 6.0 * sd,
        "{dropped} of {n}"
    );
    // Per-step (not variational) input dropout draws a new mask at each step.
    let mut per_step = lstm(f, h).with_input_dropout(drop(p, "in"), false);
    per_step.forward(&Ctx::new(Mode::Train, 3), &x, &mut y).unwrap();
    assert_ne!(per_step.input_factors(0, 0, t), per_step.input_factors(0, 1, t));
    // A new training step, a new mask.
    let before = l.input_factors(0, 0, t);
    l.forward(&Ctx::new(Mode::Train, 4), &x, &mut y).unwrap();
    assert_ne!(l.input_factors(0, 0, t), before);
}

#[test]
fn weight_dropout_drops_recurrent_weights_and_eval_is_the_plain_layer() {
    let (f, h, p) = (8, 64, 0.3f32);
    let x = ones(4, 5, f);
    let mut l = lstm(f, h)
        .with_weight_dropout(drop(p, "w"))
        .with_input_dropout(drop(0.2, "in"), true)
        .with_recurrent_dropout(drop(0.2, "rec"));
    let w = l.params()[1].value.data().to_vec();
    let mut y = Tensor::default();
    l.forward(&Ctx::new(Mode::Train, 0), &x, &mut y).unwrap();
    let wm = l.effective_whh().to_vec();
    let dropped = wm.iter().filter(|&&v| v == 0.0).count() as f64;
    let n = wm.len() as f64;
    let sd = (n * p as f64 * (1.0 - p as f64)).sqrt();
    assert!(
        (dropped - n * p as f64).abs() < 6.0 * sd,
        "{dropped} of {n} recurrent weights"
    );
    for (&a, &m) in w.iter().zip(&wm) {
        assert!(m == 0.0 || (m - a / (1.0 - p)).abs() <= 1e-6 * a.abs().max(1.0));
    }
    // Eval: no mask anywhere, the same output as an LSTM without dropout.
    let mut e = Tensor::default();
    l.forward(&Ctx::new(Mode::Eval, 0), &x, &mut e).unwrap();
    assert_eq!(l.effective_whh(), &w[..]);
    let mut plain = Tensor::default();
    lstm(f, h)
        .forward(&Ctx::new(Mode::Eval, 0), &x, &mut plain)
        .unwrap();
    assert_eq!(e, plain);
    // Monte Carlo passes differ from Eval and from each other.
    let (mut m1, mut m2) = (Tensor::default(), Tensor::default());
    l.forward(&Ctx::new(Mode::MonteCarlo, 0), &x, &mut m1).unwrap();
    l.forward(&Ctx::new(Mode::MonteCarlo, 1), &x, &mut m2).unwrap();
    assert_ne!(m1, e);
    assert_ne!(m1, m2);
}

#[test]
fn padded_steps_output_zeros_and_do_not_change_the_result() {
    // A sequence of length 3 padded to 6 gives the same first 3 outputs as alone.
    let mut r = Stream::new(1, "x").seq();
    let short: Vec<f32> = (0..3 * 4).map(|_| r.normal()).collect();
    let mut padded = short.clone();
    padded.extend((0..3 * 4).map(|_| r.normal())); // garbage in the padding
    let mut l = lstm(4, 5);
    let (mut a, mut b) = (Tensor::default(), Tensor::default());
    l.forward(
        &Ctx::new(Mode::Eval, 0),
        &Tensor::from_vec(&[1, 3, 4], short).unwrap(),
        &mut a,
    )
    .unwrap();
    let lengths = [3usize];
    l.forward(
        &Ctx::new(Mode::Eval, 0).with_lengths(Some(&lengths)),
        &Tensor::from_vec(&[1, 6, 4], padded).unwrap(),
        &mut b,
    )
    .unwrap();
    assert_eq!(&b.data()[..15], a.data());
    assert!(b.data()[15..].iter().all(|&v| v == 0.0));
}

/// Trains `cfg` with Adam (lr 0.01, batch 32) for `epochs` and returns the test accuracy.
fn train_and_score(
    cfg: &droplab::model::ModelConfig,
    train: &droplab::data::Dataset,
    test: &droplab::data::Dataset,
    epochs: usize,
) -> f64 {
    use droplab::optim::{OptimizerConfig, OptimizerKind};
    use droplab::train::{FitSpec, TrainConfig, evaluate, fit};
    let mut model = cfg.build(1).unwrap();
    let tc = TrainConfig {
        epochs,
        batch_size: 32,
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Adam,
            lr: 0.01,
            ..Default::default()
        },
        ..Default::default()
    };
    let threads = droplab::tensor::Threads::new(Some(2)).unwrap();
    fit(
        &mut model,
        train,
        FitSpec::new(&tc, &threads).seed(1),
        &mut |_| {},
    )
    .unwrap();
    let m = evaluate(
        &mut model,
        test,
        &droplab::nn::Loss::default(),
        256,
        &threads,
        Mode::Eval,
    )
    .unwrap();
    m.correct as f64 / m.count as f64
}

/// Sequences of 3 to 8 steps of 2 features; the class is the sign of the first feature at the
/// first step, so a last-step head must carry it through the whole sequence.
fn remember_the_first_step(n: usize, seed: u64) -> droplab::data::Dataset {
    let (t, f) = (8, 2);
    let mut r = Stream::new(seed, "toy").seq();
    let mut x = vec![0.0f32; n * t * f];
    let (mut y, mut lengths) = (Vec::new(), Vec::new());
    for i in 0..n {
        let len = 3 + r.below(6);
        for s in 0..len {
            for c in 0..f {
                x[(i * t + s) * f + c] = r.normal();
            }
        }
        y.push((x[i * t * f] > 0.0) as u32);
        lengths.push(len);
    }
    let mut d = droplab::data::Dataset::new(
        Tensor::from_vec(&[n, t, f], x).unwrap(),
        droplab::nn::Targets::Classes(y),
        2,
    )
    .unwrap();
    d.lengths = Some(lengths);
    d
}

#[test]
fn a_small_lstm_and_gru_with_variational_dropout_learn_a_memory_task() {
    use droplab::model::{DropoutConfig, ModelConfig};
    let (train, test) = (remember_the_first_step(600, 1), remember_the_first_step(300, 2));
    for layers in ["lstm16-last-2", "gru16-last-2"] {
        let cfg = ModelConfig {
            recurrent: Some(layers.into()),
            input_shape: vec![8, 2],
            dropout: DropoutConfig {
                input: 0.1,
                recurrent: 0.1,
                variational: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let acc = train_and_score(&cfg, &train, &test, 25);
        assert!(acc > 0.9, "{layers}: test accuracy {acc}");
    }
}

#[test]
fn word_dropout_drops_a_word_type_at_every_occurrence_and_bad_ids_are_refused() {
    use droplab::nn::Embedding;
    let (b, t, v, p) = (300, 40, 20, 0.3f32);
    let mut r = Stream::new(9, "ids").seq();
    let ids: Vec<f32> = (0..b * t).map(|_| r.below(v) as f32).collect();
    let x = Tensor::from_vec(&[b, t], ids.clone()).unwrap();
    let mut rng = Stream::new(1, "init").seq();
    let mut e = Embedding::new(v, 4, &mut rng)
        .unwrap()
        .with_word_dropout(drop(p, "wd"));
    let mut y = Tensor::default();
    e.forward(&Ctx::new(Mode::Train, 0), &x, &mut y).unwrap();
    let mut dropped = 0usize;
    for s in 0..b {
        for w in 0..v {
            let f = e.word_factor(s, w);
            // Every occurrence of word w in sequence s is dropped together, or kept together.
            for step in 0..t {
                if ids[s * t + step] as usize == w {
                    let out = &y.data()[(s * t + step) * 4..(s * t + step + 1) * 4];
                    assert_eq!(out.iter().all(|&o| o == 0.0), f == 0.0);
                }
            }
            dropped += (f == 0.0) as usize;
        }
    }
    let n = (b * v) as f64;
    let sd = (n * p as f64 * (1.0 - p as f64)).sqrt();
    assert!(
        (dropped as f64 - n * p as f64).abs() < 6.0 * sd,
        "{dropped} of {n}"
    );
    let mut eval = Tensor::default();
    e.forward(&Ctx::new(Mode::Eval, 0), &x, &mut eval).unwrap();
    assert!(eval.data().iter().all(|&o| o != 0.0), "Eval drops nothing");
    let bad = Tensor::from_vec(&[1, 2], vec![3.0, 25.0]).unwrap();
    let err = e
        .forward(&Ctx::new(Mode::Eval, 0), &bad, &mut y)
        .unwrap_err()
        .to_string();
    assert!(err.contains("embedding input") && err.contains("25"), "{err}");
}

#[test]
fn an_embedding_lstm_with_word_dropout_learns_token_sequences() {
    use droplab::model::{DropoutConfig, ModelConfig};
    // Class: whether the first token is below 5 (vocabulary 10, 6 tokens per sequence).
    let tokens = |n: usize, seed: u64| {
        let mut r = Stream::new(seed, "tokens").seq();
        let ids: Vec<f32> = (0..n * 6).map(|_| r.below(10) as f32).collect();
        let y = (0..n).map(|i| (ids[i * 6] < 5.0) as u32).collect();
        let mut d = droplab::data::Dataset::new(
            Tensor::from_vec(&[n, 6], ids).unwrap(),
            droplab::nn::Targets::Classes(y),
            2,
        )
        .unwrap();
        d.lengths = Some(vec![6; n]);
        d
    };
    let (train, test) = (tokens(500, 1), tokens(200, 2));
    let cfg = ModelConfig {
        recurrent: Some("e10x8-lstm16-last-2".into()),
        input_shape: vec![6],
        dropout: DropoutConfig {
            embedding: 0.1,
            ..Default::default()
        },
        ..Default::default()
    };
    let acc = train_and_score(&cfg, &train, &test, 15);
    assert!(acc > 0.9, "test accuracy {acc}");
}

#[test]
fn zoneout_keeps_units_at_its_rate_and_mixes_at_test_time() {
    let (b, t, f, h, p) = (200, 6, 3, 50, 0.3f32);
    let mut r = Stream::new(4, "x").seq();
    let x = Tensor::from_vec(&[b, t, f], (0..b * t * f).map(|_| r.normal()).collect()).unwrap();
    let mut l = lstm(f, h).with_zoneout(drop(p, "zone"));
    let mut y = Tensor::default();
    l.forward(&Ctx::new(Mode::Train, 1), &x, &mut y).unwrap();
    // A kept unit repeats its previous state exactly; an updated one almost never does.
    let mut kept = 0usize;
    for s in 0..b {
        for step in 1..t {
            for j in 0..h {
                let now = y.data()[(s * t + step) * h + j];
                let before = y.data()[(s * t + step - 1) * h + j];
                kept += (now == before) as usize;
            }
        }
    }
    let n = (b * (t - 1) * h) as f64;
    let sd = (n * p as f64 * (1.0 - p as f64)).sqrt();
    assert!(
        (kept as f64 - n * p as f64).abs() < 6.0 * sd,
        "{kept} of {n} kept"
    );
    // At test time the state is the expectation: different from the plain LSTM's.
    let (mut e, mut plain) = (Tensor::default(), Tensor::default());
    l.forward(&Ctx::new(Mode::Eval, 0), &x, &mut e).unwrap();
    lstm(f, h)
        .forward(&Ctx::new(Mode::Eval, 0), &x, &mut plain)
        .unwrap();
    assert_ne!(e, plain);
    // First step, from a zero state: (1 - p) of the plain LSTM's output.
    for (a, b) in e.data()[..h].iter().zip(&plain.data()[..h]) {
        assert!((a - b * (1.0 - p)).abs() < 1e-6, "{a} vs {}", b * (1.0 - p));
    }
}
