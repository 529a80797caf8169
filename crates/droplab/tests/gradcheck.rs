//! Finite-difference gradient checks for every layer, loss, penalty and constraint.
//!
//! Checks run in f32 with central differences, step h = 1e-2 on inputs of order 1 and a loss
//! accumulated in f64. The truncation error of a central difference is O(h^2 f''') ~ 1e-4 and
//! the rounding error ~ eps_f32 * |L| / h ~ 1e-5 * |L|, so a tolerance of 1e-2 relative plus
//! 1e-3 absolute is two orders above both and far below any real bug (a missing factor or a
//! wrong sign is an O(1) relative error). Inputs are kept away from ReLU's kink and L1's corner.

use droplab::nn::{
    Act, Activation, BatchNorm, Conv2d, Conv2dConfig, Ctx, Dense, DenseConfig, Embedding, Flatten,
    GlobalAvgPool, Gru, Layer, Loss, Lstm, Mode, Param, Pool2d, PoolKind, Role, SeqPool, SeqPoolKind,
    Targets,
};
use droplab::regularize::{
    Bernoulli, Convention, DropBlock, Dropout, DropoutKind, SpatialDropout, clip, max_norm, penalty,
};
use droplab::rng::Stream;
use droplab::tensor::Tensor;

const H: f32 = 1e-2;

fn close(num: f64, ana: f64) -> bool {
    (num - ana).abs() <= 1e-2 * num.abs().max(ana.abs()) + 1e-3
}

fn random(shape: &[usize], seed: u64, away_from_zero: bool) -> Tensor {
    let mut r = Stream::new(seed, "gradcheck").seq();
    let n = shape.iter().product();
    let v = (0..n)
        .map(|_| {
            let x = r.normal();
            if away_from_zero {
                x.signum() * (x.abs() + 0.2)
            } else {
                x
            }
        })
        .collect();
    Tensor::from_vec(shape, v).unwrap()
}

fn project(y: &Tensor, r: &Tensor) -> f64 {
    y.data()
        .iter()
        .zip(r.data())
        .map(|(&a, &b)| a as f64 * b as f64)
        .sum()
}

/// Checks dL/dx and dL/dθ of `layer` for L = <y, R> at input `x`.
fn check_layer(layer: &mut dyn Layer, x: &Tensor, ctx: Ctx) {
    check(layer, x, ctx, true);
}

/// Checks dL/dθ only (inputs that are not differentiable, such as token ids).
fn check_params(layer: &mut dyn Layer, x: &Tensor, ctx: Ctx) {
    check(layer, x, ctx, false);
}

fn check(layer: &mut dyn Layer, x: &Tensor, ctx: Ctx, inputs: bool) {
    let mut y = Tensor::default();
    layer.forward(&ctx, x, &mut y).unwrap();
    let r = random(y.shape(), 99, false);
    let mut dy = r.clone();
    let mut dx = Tensor::default();
    layer.backward(&ctx, x, &y, &mut dy, Some(&mut dx)).unwrap();
    let loss_at = |layer: &mut dyn Layer, x: &Tensor| {
        let mut y = Tensor::default();
        layer.forward(&ctx, x, &mut y).unwrap();
        project(&y, &r)
    };
    let mut bad = Vec::new();
    for i in (0..x.len()).filter(|_| inputs) {
        let mut xp = x.clone();
        xp.data_mut()[i] += H;
        let lp = loss_at(layer, &xp);
        xp.data_mut()[i] -= 2.0 * H;
        let lm = loss_at(layer, &xp);
        let num = (lp - lm) / (2.0 * H as f64);
        if !close(num, dx.data()[i] as f64) {
            bad.push(format!("x[{i}]: numeric {num} analytic {}", dx.data()[i]));
        }
    }
    let grads: Vec<Tensor> = layer.params().iter().map(|p| p.grad.clone()).collect();
    for (pi, g) in grads.iter().enumerate() {
        for i in 0..g.len() {
            let orig = layer.params()[pi].value.data()[i];
            layer.params_mut()[pi].value.data_mut()[i] = orig + H;
            let lp = loss_at(layer, x);
            layer.params_mut()[pi].value.data_mut()[i] = orig - H;
            let lm = loss_at(layer, x);
            layer.params_mut()[pi].value.data_mut()[i] = orig;
            let num = (lp - lm) / (2.0 * H as f64);
            if !close(num, g.data()[i] as f64) {
                bad.push(format!("param {pi}[{i}]: numeric {num} analytic {}", g.data()[i]));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{}: {} mismatches, first: {:?}",
        layer.describe(),
        bad.len(),
        &bad[..bad.len().min(5)]
    );
}

fn dense(act: Activation, p: f32, conv: Convention) -> Dense {
    let mut rng = Stream::new(1, "init").seq();
    let d = DenseConfig::new(5, 4)
        .with_activation(act)
        .init(&mut rng)
        .unwrap();
    let drop = (p > 0.0).then(|| Bernoulli::new(p, conv, Stream::new(1, "drop")).unwrap());
    d.with_dropout(drop)
}

#[test]
fn dense_with_every_activation() {
    let x = random(&[3, 5], 5, true);
    for act in [
        Activation::Identity,
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Selu,
    ] {
        check_layer(
            &mut dense(act, 0.0, Convention::Inverted),
            &x,
            Ctx::new(Mode::Train, 0),
        );
    }
}

#[test]
fn dense_with_fused_dropout_and_a_frozen_mask() {
    let x = random(&[4, 5], 6, true);
    for act in [Activation::Relu, Activation::Tanh, Activation::Selu] {
        for conv in [Convention::Inverted, Convention::Standard] {
            // Train mode with a fixed step draws the same mask at every call.
            check_layer(&mut dense(act, 0.5, conv), &x, Ctx::new(Mode::Train, 3));
            check_layer(&mut dense(act, 0.3, conv), &x, Ctx::new(Mode::Frozen(7), 0));
            check_layer(&mut dense(act, 0.3, conv), &x, Ctx::new(Mode::Eval, 0));
        }
    }
}

#[test]
fn standalone_activations() {
    let x = random(&[3, 6], 7, true);
    for act in [
        Activation::Identity,
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Selu,
    ] {
        check_layer(&mut Act(act), &x, Ctx::new(Mode::Train, 0));
    }
}

#[test]
fn standalone_dropout_of_every_kind_with_a_frozen_mask() {
    let x = random(&[4, 70], 8, true);
    for kind in [DropoutKind::Bernoulli, DropoutKind::Gaussian, DropoutKind::Alpha] {
        for mode in [Mode::Train, Mode::Frozen(3), Mode::MonteCarlo, Mode::Eval] {
            let mut d = Dropout::new(kind, 0.4, Convention::Inverted, Stream::new(2, "d")).unwrap();
            check_layer(&mut d, &x, Ctx::new(mode, 11));
        }
    }
    let mut d = Dropout::new(
        DropoutKind::Bernoulli,
        0.4,
        Convention::Standard,
        Stream::new(2, "d"),
    )
    .unwrap();
    check_layer(&mut d, &x, Ctx::new(Mode::Eval, 0));
}

#[test]
fn losses() {
    let z = random(&[4, 5], 9, false);
    let labels = Targets::Classes(vec![0, 3, 4, 1]);
    let values = Targets::Values(random(&[4, 5], 10, false));
    for (loss, t) in [
        (Loss::SoftmaxCrossEntropy { label_smoothing: 0.0 }, &labels),
        (Loss::SoftmaxCrossEntropy { label_smoothing: 0.1 }, &labels),
        (Loss::Mse, &values),
    ] {
        let mut g = Tensor::default();
        loss.compute(&z, t, Some(&mut g)).unwrap();
        for i in 0..z.len() {
            let mut zp = z.clone();
            zp.data_mut()[i] += H;
            let lp = loss.compute(&zp, t, None).unwrap().mean_loss();
            zp.data_mut()[i] -= 2.0 * H;
            let lm = loss.compute(&zp, t, None).unwrap().mean_loss();
            let num = (lp - lm) / (2.0 * H as f64);
            assert!(
                close(num, g.data()[i] as f64),
                "{loss:?} [{i}]: {num} vs {}",
                g.data()[i]
            );
        }
    }
}

#[test]
fn cross_entropy_known_value() {
    // Uniform logits over 4 classes: loss = ln 4 whatever the label and the smoothing.
    let z = Tensor::zeros(&[2, 4]);
    let t = Targets::Classes(vec![1, 2]);
    for eps in [0.0, 0.2] {
        let l = Loss::SoftmaxCrossEntropy { label_smoothing: eps }
            .compute(&z, &t, None)
            .unwrap();
        assert!((l.mean_loss() - 4f64.ln()).abs() < 1e-6);
    }
}

fn weight_param(seed: u64, l1: f32, l2: f32) -> Param {
    let mut p = Param::new("weight", random(&[3, 4], seed, true), Role::Weight);
    p.reg.l1 = l1;
    p.reg.l2 = l2;
    p
}

#[test]
fn penalties_l1_l2_and_elastic_net() {
    for (l1, l2) in [(0.3, 0.0), (0.0, 0.7), (0.2, 0.5)] {
        let mut p = weight_param(12, l1, l2);
        penalty::add_gradient(&mut p);
        for i in 0..p.value.len() {
            let mut q = p.clone();
            q.value.data_mut()[i] += H;
            let lp = penalty::value(&q);
            q.value.data_mut()[i] -= 2.0 * H;
            let lm = penalty::value(&q);
            let num = (lp - lm) / (2.0 * H as f64);
            assert!(close(num, p.grad.data()[i] as f64), "l1={l1} l2={l2} [{i}]");
        }
    }
}

// The penalty's gradient against a finite difference of the loss as the README defines it,
// `l1 * sum |w| + l2 / 2 * sum w^2`, written here rather than taken from `penalty::value`.
#[test]
fn penalty_gradient_is_the_derivative_of_the_readme_loss() {
    let readme_loss = |w: &[f32], l1: f64, l2: f64| -> f64 {
        w.iter()
            .map(|&x| l1 * (x as f64).abs() + 0.5 * l2 * (x as f64) * (x as f64))
            .sum()
    };
    for (l1, l2) in [(0.3f32, 0.0f32), (0.0, 0.7), (0.2, 0.5)] {
        let mut p = weight_param(14, l1, l2);
        penalty::add_gradient(&mut p);
        let w = p.value.data().to_vec();
        for i in 0..w.len() {
            let (mut up, mut down) = (w.clone(), w.clone());
            up[i] += H;
            down[i] -= H;
            let num = (readme_loss(&up, l1 as f64, l2 as f64) - readme_loss(&down, l1 as f64, l2 as f64))
                / (2.0 * H as f64);
            assert!(close(num, p.grad.data()[i] as f64), "l1={l1} l2={l2} [{i}]");
        }
    }
}

#[test]
fn max_norm_is_the_euclidean_projection_onto_the_ball() {
    // The constraint has no gradient; its check is the projection's defining property:
    // rows inside the ball are unchanged, rows outside land on the sphere along the same
    // direction, and <w - P(w), v - P(w)> <= 0 for any feasible v.
    let mut p = weight_param(13, 0.0, 0.0);
    p.value.data_mut()[0..4].copy_from_slice(&[0.1, 0.1, 0.1, 0.1]);
    let before = p.value.clone();
    p.reg.max_norm = Some(1.0);
    let clipped = max_norm::apply(&mut p);
    assert_eq!(clipped, 2);
    assert_eq!(&p.value.data()[0..4], &before.data()[0..4]);
    for r in 1..3 {
        let (w, pw) = (before.row(r), p.value.row(r));
        let norm = pw.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        let v = [0.5f32, -0.5, 0.5, -0.5]; // norm 1: feasible
        let dot: f32 = (0..4).map(|i| (w[i] - pw[i]) * (v[i] - pw[i])).sum();
        assert!(dot <= 1e-5, "projection property violated: {dot}");
    }
    // Biases are never constrained.
    let mut b = Param::new(
        "bias",
        Tensor::from_vec(&[2], vec![10.0, 10.0]).unwrap(),
        Role::Bias,
    );
    b.reg.max_norm = Some(1.0);
    assert_eq!(max_norm::apply(&mut b), 0);
}

#[test]
fn gradient_clipping_scales_to_the_bound() {
    let mut a = weight_param(14, 0.0, 0.0);
    a.grad = Tensor::from_vec(&[3, 4], vec![3.0; 12]).unwrap();
    let norm = clip::clip_grad_norm(&mut [&mut a], 1.0);
    assert!((norm - (9.0f64 * 12.0).sqrt()).abs() < 1e-6);
    assert!((a.grad.sum_squares().sqrt() - 1.0).abs() < 1e-5);
}

fn conv(cin: usize, cout: usize, k: usize, s: usize, p: usize, act: Activation) -> Conv2d {
    let mut rng = Stream::new(3, "init").seq();
    Conv2dConfig::new(cin, cout, k)
        .with_stride(s)
        .with_padding(p)
        .with_activation(act)
        .init(&mut rng)
        .unwrap()
}

#[test]
fn conv2d_with_strides_padding_and_activations() {
    let x = random(&[2, 2, 6, 5], 12, true);
    for (k, s, p, act) in [
        (3, 1, 1, Activation::Identity),
        (3, 2, 0, Activation::Tanh),
        (2, 1, 0, Activation::Sigmoid),
        (5, 1, 2, Activation::Identity),
    ] {
        check_layer(&mut conv(2, 3, k, s, p, act), &x, Ctx::new(Mode::Train, 0));
    }
    // More than one group of examples in the weight gradient.
    let x = random(&[11, 1, 4, 4], 13, true);
    check_layer(
        &mut conv(1, 2, 3, 1, 1, Activation::Identity),
        &x,
        Ctx::new(Mode::Train, 0),
    );
}

/// Inputs whose values are all at least 0.05 apart, so that a step of H = 1e-2 never changes
/// which element of a pooling window is the largest.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut v: Vec<f32> = (0..n).map(|i| i as f32 * 0.05 - n as f32 * 0.025).collect();
    Stream::new(seed, "perm").seq().shuffle(&mut v);
    Tensor::from_vec(shape, v).unwrap()
}

#[test]
fn pooling_layers_and_flatten() {
    let x = distinct(&[2, 3, 6, 6], 14);
    for (kind, k, s) in [
        (PoolKind::Max, 2, None),
        (PoolKind::Max, 3, Some(2)),
        (PoolKind::Avg, 2, None),
        (PoolKind::Avg, 3, Some(1)),
    ] {
        check_layer(
            &mut Pool2d::new(kind, k, s).unwrap(),
            &x,
            Ctx::new(Mode::Train, 0),
        );
    }
    check_layer(&mut GlobalAvgPool, &x, Ctx::new(Mode::Train, 0));
    check_layer(&mut Flatten, &x, Ctx::new(Mode::Train, 0));
}

#[test]
fn batch_norm_in_training_and_at_test_time() {
    let x = random(&[4, 3, 3, 2], 15, false);
    let mut bn = BatchNorm::new(3, true, 0.1, 1e-5).unwrap();
    // Move the learned scale and shift off their initial values.
    for (i, v) in bn.params_mut()[0].value.data_mut().iter_mut().enumerate() {
        *v = 0.5 + i as f32;
    }
    bn.params_mut()[1].value.data_mut()[1] = 0.3;
    check_layer(&mut bn, &x, Ctx::new(Mode::Train, 0));
    check_layer(&mut bn, &x, Ctx::new(Mode::Eval, 0));
    let x = random(&[6, 5], 16, false);
    let mut bn1 = BatchNorm::new(5, false, 0.1, 1e-5).unwrap();
    check_layer(&mut bn1, &x, Ctx::new(Mode::Train, 0));
    check_layer(&mut bn1, &x, Ctx::new(Mode::MonteCarlo, 0));
}

#[test]
fn dropconnect_spatial_dropout_and_dropblock_with_fixed_masks() {
    let x = random(&[3, 5], 17, true);
    for conv_ in [Convention::Inverted, Convention::Standard] {
        for mode in [Mode::Train, Mode::Frozen(2), Mode::MonteCarlo, Mode::Eval] {
            let mut rng = Stream::new(1, "init").seq();
            let d = DenseConfig::new(5, 4)
                .with_activation(Activation::Tanh)
                .init(&mut rng)
                .unwrap();
            let dc = Bernoulli::new(0.4, conv_, Stream::new(4, "dc")).unwrap();
            check_layer(&mut d.with_dropconnect(Some(dc)), &x, Ctx::new(mode, 9));
        }
    }
    let x = random(&[3, 6, 4, 4], 18, true);
    for mode in [Mode::Train, Mode::Frozen(2), Mode::MonteCarlo, Mode::Eval] {
        let b = Bernoulli::new(0.4, Convention::Inverted, Stream::new(5, "sd")).unwrap();
        check_layer(&mut SpatialDropout::new(b), &x, Ctx::new(mode, 9));
        let mut db = DropBlock::new(0.3, 2, 0, Stream::new(6, "db")).unwrap();
        check_layer(&mut db, &x, Ctx::new(mode, 9));
    }
}

fn lstm(f: usize, h: usize) -> Lstm {
    let mut rng = Stream::new(5, "init").seq();
    Lstm::new(f, h, &mut rng).unwrap()
}

#[test]
fn lstm_over_sequences_of_varying_length() {
    let x = random(&[3, 4, 2], 19, false);
    let lengths = [4usize, 2, 1];
    let ctx = Ctx::new(Mode::Train, 0).with_lengths(Some(&lengths));
    check_layer(&mut lstm(2, 3), &x, ctx);
    // Zoneout alone, in training (masks) and at test time (the expectation).
    for mode in [Mode::Train, Mode::Eval] {
        let z = Some(Bernoulli::new(0.4, Convention::Inverted, Stream::new(8, "zone")).unwrap());
        check_layer(
            &mut lstm(2, 3).with_zoneout(z),
            &x,
            Ctx::new(mode, 5).with_lengths(Some(&lengths)),
        );
    }
    check_layer(&mut lstm(2, 3), &x, Ctx::new(Mode::Train, 0));
}

#[test]
fn lstm_with_every_recurrent_dropout_and_fixed_masks() {
    let x = random(&[3, 4, 5], 20, false);
    let lengths = [4usize, 3, 2];
    for conv_ in [Convention::Inverted, Convention::Standard] {
        for variational in [true, false] {
            for mode in [Mode::Train, Mode::Frozen(2), Mode::MonteCarlo, Mode::Eval] {
                let b = |name: &str| Some(Bernoulli::new(0.3, conv_, Stream::new(6, name)).unwrap());
                let mut l = lstm(5, 4)
                    .with_input_dropout(b("in"), variational)
                    .with_recurrent_dropout(b("rec"))
                    .with_weight_dropout(b("w"))
                    .with_zoneout(b("zone"));
                let ctx = Ctx::new(mode, 7).with_lengths(Some(&lengths));
                check_layer(&mut l, &x, ctx);
            }
        }
    }
}

#[test]
fn sequence_pooling_heads() {
    let x = random(&[3, 4, 2], 21, false);
    let lengths = [4usize, 2, 1];
    for kind in [SeqPoolKind::Last, SeqPoolKind::Mean] {
        check_layer(
            &mut SeqPool(kind),
            &x,
            Ctx::new(Mode::Train, 0).with_lengths(Some(&lengths)),
        );
    }
}

#[test]
fn gru_with_lengths_and_every_recurrent_dropout() {
    let x = random(&[3, 4, 5], 22, false);
    let lengths = [4usize, 2, 1];
    let gru = || {
        let mut rng = Stream::new(5, "init").seq();
        Gru::new(5, 3, &mut rng).unwrap()
    };
    check_layer(
        &mut gru(),
        &x,
        Ctx::new(Mode::Train, 0).with_lengths(Some(&lengths)),
    );
    for conv_ in [Convention::Inverted, Convention::Standard] {
        for variational in [true, false] {
            for mode in [Mode::Train, Mode::Frozen(2), Mode::MonteCarlo, Mode::Eval] {
                let b = |name: &str| Some(Bernoulli::new(0.3, conv_, Stream::new(6, name)).unwrap());
                let mut l = gru()
                    .with_input_dropout(b("in"), variational)
                    .with_recurrent_dropout(b("rec"))
                    .with_weight_dropout(b("w"))
                    .with_zoneout(b("zone"));
                check_layer(&mut l, &x, Ctx::new(mode, 7).with_lengths(Some(&lengths)));
            }
        }
    }
}

#[test]
fn embedding_with_and_without_word_dropout() {
    let ids: Vec<f32> = [3, 1, 4, 1, 5, 0, 2, 6, 5, 3, 5, 1]
        .iter()
        .map(|&i| i as f32)
        .collect();
    let x = Tensor::from_vec(&[3, 4], ids).unwrap();
    for drop in [None, Some(0.4)] {
        for mode in [Mode::Train, Mode::Frozen(1), Mode::Eval] {
            let mut rng = Stream::new(5, "init").seq();
            let wd = drop.map(|p| Bernoulli::new(p, Convention::Inverted, Stream::new(6, "wd")).unwrap());
            let mut e = Embedding::new(7, 3, &mut rng).unwrap().with_word_dropout(wd);
            check_params(&mut e, &x, Ctx::new(mode, 3));
        }
    }
}
