//! Statistical laws of the dropout family, with fixed seeds and 6-sigma bounds.

use droplab::nn::{Activation, Ctx, DenseConfig, Init, Layer, Mode, Sequential};
use droplab::regularize::{AlphaParams, Bernoulli, Convention, Dropout, DropoutKind};
use droplab::rng::Stream;
use droplab::tensor::{Tensor, Threads};

const N_ROWS: usize = 1000;
const N_COLS: usize = 1000; // 10^6 units per draw

fn ones() -> Tensor {
    Tensor::from_vec(&[N_ROWS, N_COLS], vec![1.0; N_ROWS * N_COLS]).unwrap()
}

fn run(layer: &mut dyn Layer, x: &Tensor, mode: Mode, step: u64) -> Tensor {
    let mut y = Tensor::default();
    layer.forward(&Ctx::new(mode, step), x, &mut y).unwrap();
    y
}

fn bernoulli(p: f32, conv: Convention) -> Dropout {
    Dropout::new(DropoutKind::Bernoulli, p, conv, Stream::new(42, "stats")).unwrap()
}

#[test]
fn fraction_dropped_within_six_sigma() {
    let x = ones();
    let n = x.len() as f64;
    for p in [0.05f32, 0.2, 0.5, 0.8, 0.95] {
        let y = run(&mut bernoulli(p, Convention::Inverted), &x, Mode::Train, 0);
        let dropped = y.data().iter().filter(|&&v| v == 0.0).count() as f64;
        let sd = (n * p as f64 * (1.0 - p as f64)).sqrt();
        assert!(
            (dropped - n * p as f64).abs() < 6.0 * sd,
            "p={p}: dropped {dropped} of {n}"
        );
    }
}

/// Counts the units of `steps` training draws of `ones()` that dropout at rate `p` zeroes.
fn dropped_over_steps(p: f32, steps: u64) -> u64 {
    let x = ones();
    let mut d = bernoulli(p, Convention::Inverted);
    (0..steps)
        .map(|s| {
            run(&mut d, &x, Mode::Train, s)
                .data()
                .iter()
                .filter(|&&v| v == 0.0)
                .count() as u64
        })
        .sum()
}

#[test]
fn the_generator_realizes_every_rate_to_one_part_in_a_million() {
    // The probability the generator realizes, against p itself, on both sides (drop and
    // keep) for rates 16 bits alone cannot hold: 0.2 is not a multiple of 2^-16, 0.999 and
    // 0.9999 were 0.7 % and 6.8 % off in their keep fraction, 2^-20 and 10^-9 never dropped.
    let mut rates = vec![
        1e-9f32,
        2f32.powi(-20),
        2f32.powi(-17),
        0.2,
        0.3,
        0.5,
        0.8,
        0.999,
        0.9999,
    ];
    rates.push(1.0 - 2f32.powi(-24));
    rates.extend((1..1000).map(|i| i as f32 / 1000.0 + 1e-5 * (i % 7) as f32));
    for p in rates {
        let q = droplab::tensor::mask::threshold(p).probability();
        let p = p as f64;
        assert!(
            ((1.0 - q) - (1.0 - p)).abs() <= 1e-6 * (1.0 - p),
            "keep {} vs {}",
            1.0 - q,
            1.0 - p
        );
        assert!((q - p).abs() <= 1e-6 * p, "drop {q} vs {p}");
    }
}

#[test]
fn rates_between_two_16_bit_steps_are_drawn_at_their_own_value() {
    // Keep probability 1.5 / 2^16: half-way between two 16-bit thresholds (rounding gave
    // 1 / 2^16 or 2 / 2^16, a third off). 2 * 10^7 draws: 457.8 expected kept, sd 21.4.
    let p = 1.0 - 1.5 / 65_536.0;
    let n = 20e6;
    let kept = n - dropped_over_steps(p, 20) as f64;
    let (mean, sd) = (n * (1.0 - p as f64), (n * p as f64 * (1.0 - p as f64)).sqrt());
    assert!(
        (kept - mean).abs() < 6.0 * sd,
        "kept {kept}, expected {mean} +- {sd}"
    );
    // p = 2^-20 is a sixteenth of the smallest 16-bit step (which rounded it to 0: no drop
    // ever). 2 * 10^7 draws: 19.1 expected, P(none) = e^-19.1 < 10^-8.
    let dropped = dropped_over_steps(2f32.powi(-20), 20) as f64;
    let mean = n * 2f64.powi(-20);
    assert!(
        dropped > 0.0 && (dropped - mean).abs() < 6.0 * mean.sqrt(),
        "dropped {dropped}"
    );
}

#[test]
fn inverted_dropout_preserves_the_mean_and_eval_is_identity() {
    let x = ones();
    let n = x.len() as f64;
    for p in [0.2f32, 0.5, 0.8] {
        let mut d = bernoulli(p, Convention::Inverted);
        let y = run(&mut d, &x, Mode::Train, 1);
        let mean = y.data().iter().map(|&v| v as f64).sum::<f64>() / n;
        // Each output is 1/(1-p) with probability 1-p, else 0: variance p/(1-p).
        let sd = (p as f64 / (1.0 - p as f64) / n).sqrt();
        assert!((mean - 1.0).abs() < 6.0 * sd, "p={p}: mean {mean}");
        let e = run(&mut d, &x, Mode::Eval, 1);
        assert_eq!(e.data(), x.data(), "Eval must be exactly the identity");
    }
}

#[test]
fn edge_rates_zero_and_one() {
    let x = Tensor::from_vec(&[2, 3], vec![1.0, -2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    for conv in [Convention::Inverted, Convention::Standard] {
        for mode in [Mode::Train, Mode::MonteCarlo, Mode::Frozen(1), Mode::Eval] {
            assert_eq!(run(&mut bernoulli(0.0, conv), &x, mode, 0).data(), x.data());
            let y = run(&mut bernoulli(1.0, conv), &x, mode, 0);
            if mode == Mode::Eval && conv == Convention::Inverted {
                assert_eq!(y.data(), x.data());
            } else {
                assert!(
                    y.data().iter().all(|&v| v == 0.0),
                    "{conv:?} {mode:?}: {:?}",
                    y.data()
                );
            }
        }
    }
}

#[test]
fn standard_and_inverted_agree_in_expectation() {
    let x = ones();
    let n = x.len() as f64;
    let p = 0.4f32;
    let mean = |t: &Tensor| t.data().iter().map(|&v| v as f64).sum::<f64>() / n;
    let mut inv = bernoulli(p, Convention::Inverted);
    let mut std = bernoulli(p, Convention::Standard);
    // Under each convention the expected training output equals the test-time output.
    let (ti, ei) = (
        mean(&run(&mut inv, &x, Mode::Train, 2)),
        mean(&run(&mut inv, &x, Mode::Eval, 0)),
    );
    let (ts, es) = (
        mean(&run(&mut std, &x, Mode::Train, 2)),
        mean(&run(&mut std, &x, Mode::Eval, 0)),
    );
    let sd_i = (p as f64 / (1.0 - p as f64) / n).sqrt();
    let sd_s = (p as f64 * (1.0 - p as f64) / n).sqrt();
    assert!((ti - ei).abs() < 6.0 * sd_i, "inverted: train {ti} vs eval {ei}");
    assert!((ts - es).abs() < 6.0 * sd_s, "standard: train {ts} vs eval {es}");
    assert!(
        (es - 0.6).abs() < 1e-6,
        "standard eval scales by the keep probability"
    );
    // The two conventions draw the same mask from the same stream: identical zero patterns,
    // kept values differing exactly by the factor 1/(1-p).
    let (yi, ys) = (
        run(&mut inv, &x, Mode::Train, 5),
        run(&mut std, &x, Mode::Train, 5),
    );
    for (a, b) in yi.data().iter().zip(ys.data()) {
        assert!((a * (1.0 - p) - b).abs() < 1e-6);
    }
}

#[test]
fn masks_differ_across_steps_and_modes_and_frozen_is_per_unit() {
    let x = Tensor::from_vec(&[64, 128], vec![1.0; 64 * 128]).unwrap();
    let mut d = bernoulli(0.5, Convention::Inverted);
    let a = run(&mut d, &x, Mode::Train, 0);
    assert_eq!(a, run(&mut d, &x, Mode::Train, 0), "same step, same mask");
    assert_ne!(a, run(&mut d, &x, Mode::Train, 1));
    assert_ne!(
        a,
        run(&mut d, &x, Mode::MonteCarlo, 0),
        "Monte Carlo has its own stream"
    );
    let f = run(&mut d, &x, Mode::Frozen(9), 0);
    for r in 1..64 {
        assert_eq!(
            f.row(r),
            f.row(0),
            "a frozen network drops the same units for every example"
        );
    }
    assert_eq!(
        f,
        run(&mut d, &x, Mode::Frozen(9), 123),
        "frozen ignores the step"
    );
    assert_ne!(f, run(&mut d, &x, Mode::Frozen(10), 0));
}

#[test]
fn monte_carlo_differs_from_eval_and_its_average_converges_to_it_on_a_linear_layer() {
    // Input dropout then a linear layer: E[MC output] = Eval output exactly (linearity).
    let seed = 3;
    let mut rng = Stream::new(seed, "init").seq();
    let dense = DenseConfig::new(20, 3).init(&mut rng).unwrap();
    let drop = Dropout::new(
        DropoutKind::Bernoulli,
        0.5,
        Convention::Inverted,
        Stream::new(seed, "drop"),
    )
    .unwrap();
    let mut model = Sequential::new(&[20], vec![Box::new(drop), Box::new(dense)]).unwrap();
    let x = Tensor::from_vec(&[1, 20], (0..20).map(|i| (i as f32 * 0.3).sin() + 1.0).collect()).unwrap();
    let eval = model.forward(&Ctx::new(Mode::Eval, 0), &x).unwrap().clone();
    let passes = 4000;
    let mut sum = [0.0f64; 3];
    let mut sq = [0.0f64; 3];
    let mut differs = false;
    for t in 0..passes {
        let y = model.forward(&Ctx::new(Mode::MonteCarlo, t), &x).unwrap();
        differs |= y.data() != eval.data();
        for j in 0..3 {
            sum[j] += y.data()[j] as f64;
            sq[j] += (y.data()[j] as f64).powi(2);
        }
    }
    assert!(differs, "MonteCarlo must keep dropout on");
    for j in 0..3 {
        let mean = sum[j] / passes as f64;
        let var = sq[j] / passes as f64 - mean * mean;
        let se = (var / passes as f64).sqrt();
        assert!(
            (mean - eval.data()[j] as f64).abs() < 6.0 * se,
            "output {j}: MC mean {mean} vs eval {}",
            eval.data()[j]
        );
    }
}

#[test]
fn gaussian_dropout_keeps_mean_one_and_variance_p_over_1_minus_p() {
    let x = ones();
    let n = x.len() as f64;
    for p in [0.2f32, 0.5] {
        let mut d = Dropout::new(
            DropoutKind::Gaussian,
            p,
            Convention::Inverted,
            Stream::new(5, "g"),
        )
        .unwrap();
        let y = run(&mut d, &x, Mode::Train, 0);
        let mean = y.data().iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = y.data().iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let s2 = p as f64 / (1.0 - p as f64);
        assert!((mean - 1.0).abs() < 6.0 * (s2 / n).sqrt(), "p={p} mean {mean}");
        // Var of the sample variance of a normal: 2 s^4 / n.
        assert!(
            (var - s2).abs() < 6.0 * (2.0 * s2 * s2 / n).sqrt(),
            "p={p} var {var} vs {s2}"
        );
        assert_eq!(run(&mut d, &x, Mode::Eval, 0).data(), x.data());
    }
}

#[test]
fn alpha_dropout_keeps_zero_mean_and_unit_variance() {
    // Standard normal input, as a SELU network's activations are.
    let mut r = Stream::new(6, "input").seq();
    let x = Tensor::from_vec(
        &[N_ROWS, N_COLS],
        (0..N_ROWS * N_COLS).map(|_| r.normal()).collect(),
    )
    .unwrap();
    let n = x.len() as f64;
    for p in [0.05f32, 0.1, 0.3] {
        let mut d = Dropout::new(DropoutKind::Alpha, p, Convention::Inverted, Stream::new(7, "a")).unwrap();
        let y = run(&mut d, &x, Mode::Train, 0);
        let mean = y.data().iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = y.data().iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        // Output variance is 1, so the mean's sd is 1/sqrt(n); the variance's sd is at most
        // sqrt(m4 / n) with the fourth moment of this mixture below 6.
        assert!(mean.abs() < 6.0 / n.sqrt(), "p={p} mean {mean}");
        assert!((var - 1.0).abs() < 6.0 * (6.0 / n).sqrt(), "p={p} var {var}");
        let dropped = y
            .data()
            .iter()
            .filter(|&&v| v == AlphaParams::new(p).apply(0.0, false))
            .count() as f64;
        assert!((dropped - n * p as f64).abs() < 6.0 * (n * p as f64 * (1.0 - p as f64)).sqrt());
        assert_eq!(run(&mut d, &x, Mode::Eval, 0).data(), x.data());
    }
}

#[test]
fn same_mask_on_one_and_two_threads() {
    let x = Tensor::from_vec(
        &[512, 300],
        (0..512 * 300).map(|i| 1.0 + (i % 7) as f32).collect(),
    )
    .unwrap();
    let out = |threads: usize| {
        let t = Threads::new(Some(threads)).unwrap();
        t.install(|| {
            let mut d = bernoulli(0.3, Convention::Inverted);
            run(&mut d, &x, Mode::Train, 17)
        })
    };
    let (a, b) = (out(1), out(2));
    assert_eq!(
        a.data(),
        b.data(),
        "a mask depends only on (seed, layer, step, element)"
    );
    // The fused Dense path too: its zero pattern must not depend on the thread count.
    let dense_out = |threads: usize| {
        let t = Threads::new(Some(threads)).unwrap();
        let mut rng = Stream::new(1, "init").seq();
        let drop = Bernoulli::new(0.5, Convention::Inverted, Stream::new(1, "d")).unwrap();
        let mut d = DenseConfig::new(300, 256)
            .init(&mut rng)
            .unwrap()
            .with_dropout(Some(drop));
        let par = t.par();
        t.install(|| {
            let mut y = Tensor::default();
            d.forward(&Ctx::new(Mode::Train, 4).with_par(par), &x, &mut y)
                .unwrap();
            y.data().iter().map(|&v| v == 0.0).collect::<Vec<bool>>()
        })
    };
    assert_eq!(dense_out(1), dense_out(2));
}

#[test]
fn a_mask_costs_one_bit_per_element() {
    let mut rng = Stream::new(1, "init").seq();
    let drop = Bernoulli::new(0.5, Convention::Inverted, Stream::new(1, "d")).unwrap();
    let mut d = DenseConfig::new(64, 1024)
        .with_activation(Activation::Relu)
        .with_init(Init::He)
        .init(&mut rng)
        .unwrap()
        .with_dropout(Some(drop));
    let x = Tensor::from_vec(&[128, 64], vec![0.5; 128 * 64]).unwrap();
    let mut y = Tensor::default();
    d.forward(&Ctx::new(Mode::Train, 0), &x, &mut y).unwrap();
    assert_eq!(d.mask_bytes() * 8, 128 * 1024, "exactly one bit per element");
}
