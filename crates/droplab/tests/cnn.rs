//! Convolutional layers and their dropout variants: exact values, statistical laws with fixed
//! seeds and 6-sigma bounds, thread independence, and a small CNN that learns.

use droplab::data::{digits, split};
use droplab::model::{ConvDropoutKind, DropoutConfig, ModelConfig};
use droplab::nn::{Activation, Conv2dConfig, Ctx, DenseConfig, Init, Layer, Loss, Mode};
use droplab::optim::{OptimizerConfig, OptimizerKind};
use droplab::regularize::{Bernoulli, Convention, DropBlock, SpatialDropout};
use droplab::rng::Stream;
use droplab::tensor::{Tensor, Threads};
use droplab::train::{FitSpec, TrainConfig, evaluate, fit};

fn run(layer: &mut dyn Layer, x: &Tensor, mode: Mode, step: u64) -> Tensor {
    let mut y = Tensor::default();
    layer.forward(&Ctx::new(mode, step), x, &mut y).unwrap();
    y
}

fn ramp(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec(
        shape,
        (0..n).map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.4).collect(),
    )
    .unwrap()
}

#[test]
fn conv2d_equals_the_direct_sum() {
    let (b, cin, h, w, cout, k, s, p) = (2, 3, 7, 6, 4, 3, 2, 1);
    let mut rng = Stream::new(1, "init").seq();
    let mut conv = Conv2dConfig::new(cin, cout, k)
        .with_stride(s)
        .with_padding(p)
        .init(&mut rng)
        .unwrap();
    conv.params_mut()[1]
        .value
        .data_mut()
        .copy_from_slice(&[0.1, -0.2, 0.3, 0.0]);
    let x = ramp(&[b, cin, h, w]);
    let y = run(&mut conv, &x, Mode::Eval, 0);
    let (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
    assert_eq!(y.shape(), &[b, cout, oh, ow]);
    let wt = conv.params()[0].value.data().to_vec();
    let bias = conv.params()[1].value.data().to_vec();
    for e in 0..b {
        for o in 0..cout {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut sum = bias[o] as f64;
                    for c in 0..cin {
                        for i in 0..k {
                            for j in 0..k {
                                let (iy, ix) = (
                                    (oy * s + i) as isize - p as isize,
                                    (ox * s + j) as isize - p as isize,
                                );
                                if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= w {
                                    continue;
                                }
                                let xv = x.data()[((e * cin + c) * h + iy as usize) * w + ix as usize];
                                sum += (wt[((o * cin + c) * k + i) * k + j] * xv) as f64;
                            }
                        }
                    }
                    let got = y.data()[((e * cout + o) * oh + oy) * ow + ox] as f64;
                    assert!((got - sum).abs() < 1e-5, "({e},{o},{oy},{ox}): {got} vs {sum}");
                }
            }
        }
    }
}

#[test]
fn conv2d_gradients_are_the_same_on_one_and_two_threads() {
    let grads = |n: usize| {
        let threads = Threads::new(Some(n)).unwrap();
        threads.install(|| {
            let mut rng = Stream::new(1, "init").seq();
            let mut conv = Conv2dConfig::new(2, 8, 3)
                .with_padding(1)
                .with_activation(Activation::Relu)
                .with_init(Init::He)
                .init(&mut rng)
                .unwrap();
            let x = ramp(&[37, 2, 9, 9]);
            let ctx = Ctx::new(Mode::Train, 0).with_par(threads.par());
            let mut y = Tensor::default();
            conv.forward(&ctx, &x, &mut y).unwrap();
            let mut dy = ramp(y.shape());
            let mut dx = Tensor::default();
            conv.backward(&ctx, &x, &y, &mut dy, Some(&mut dx)).unwrap();
            (conv.params()[0].grad.clone(), dx)
        })
    };
    assert_eq!(grads(1), grads(2));
}

#[test]
fn spatial_dropout_drops_whole_channels_at_its_rate() {
    // 2000 examples x 500 channels = 10^6 channel draws, each a 2x2 plane.
    let (b, c) = (2000, 500);
    let x = Tensor::from_vec(&[b, c, 2, 2], vec![1.0; b * c * 4]).unwrap();
    for p in [0.1f32, 0.5] {
        let bern = Bernoulli::new(p, Convention::Inverted, Stream::new(7, "sd")).unwrap();
        let mut sd = SpatialDropout::new(bern);
        let y = run(&mut sd, &x, Mode::Train, 3);
        let mut dropped = 0usize;
        for plane in y.data().chunks_exact(4) {
            let zeros = plane.iter().filter(|&&v| v == 0.0).count();
            assert!(
                zeros == 0 || zeros == 4,
                "a channel was dropped in part: {plane:?}"
            );
            if zeros == 4 {
                dropped += 1;
            } else {
                assert!(plane.iter().all(|&v| (v - 1.0 / (1.0 - p)).abs() < 1e-6));
            }
        }
        let n = (b * c) as f64;
        let sd_ = (n * p as f64 * (1.0 - p as f64)).sqrt();
        assert!(
            (dropped as f64 - n * p as f64).abs() < 6.0 * sd_,
            "p={p}: {dropped} of {n}"
        );
        assert_eq!(
            run(&mut sd, &x, Mode::Eval, 3).data(),
            x.data(),
            "Eval is the identity"
        );
        // A frozen network drops the same channels for every example.
        let f = run(&mut sd, &x, Mode::Frozen(1), 0);
        let first: Vec<bool> = f.data()[..c * 4].chunks(4).map(|p| p[0] == 0.0).collect();
        for e in f.data().chunks(c * 4) {
            let this: Vec<bool> = e.chunks(4).map(|p| p[0] == 0.0).collect();
            assert_eq!(this, first);
        }
    }
    // One bit per example and channel between forward and backward.
    let bern = Bernoulli::new(0.5, Convention::Inverted, Stream::new(7, "sd")).unwrap();
    let mut sd = SpatialDropout::new(bern);
    run(&mut sd, &x, Mode::Train, 0);
    assert_eq!(sd.mask_bytes(), b * c.div_ceil(64) * 8);
}

#[test]
fn dropblock_drops_squares_at_its_effective_rate() {
    // Block shape: at a tiny rate most maps have at most one block; every dropped region of
    // a map with one corner is exactly one b x b square.
    let (h, w, blk) = (12, 12, 3);
    let x = Tensor::from_vec(&[400, 1, h, w], vec![1.0; 400 * h * w]).unwrap();
    let mut db = DropBlock::new(0.02, blk, 0, Stream::new(9, "db")).unwrap();
    let y = run(&mut db, &x, Mode::Train, 0);
    let mut singles = 0;
    for plane in y.data().chunks_exact(h * w) {
        let zeros: Vec<(usize, usize)> = (0..h * w)
            .filter(|&i| plane[i] == 0.0)
            .map(|i| (i / w, i % w))
            .collect();
        if zeros.len() == blk * blk {
            let (r0, c0) = zeros[0];
            for (i, &(r, c)) in zeros.iter().enumerate() {
                assert_eq!((r, c), (r0 + i / blk, c0 + i % blk), "not a {blk}x{blk} square");
            }
            singles += 1;
            // Kept values are rescaled by numel / kept.
            let kept = (h * w - zeros.len()) as f32;
            let v = plane.iter().find(|&&v| v != 0.0).unwrap();
            assert!((v - (h * w) as f32 / kept).abs() < 1e-5);
        }
    }
    assert!(singles > 50, "only {singles} maps with exactly one block");

    // Effective rate: the mean dropped fraction over 4000 maps agrees with the exact
    // expectation (overlaps included) within 6 standard errors, and lies near p.
    let (n, p) = (4000, 0.15f32);
    let x = Tensor::from_vec(&[n, 1, h, w], vec![1.0; n * h * w]).unwrap();
    let mut db = DropBlock::new(p, blk, 0, Stream::new(10, "db")).unwrap();
    let y = run(&mut db, &x, Mode::Train, 5);
    let fr: Vec<f64> = y
        .data()
        .chunks_exact(h * w)
        .map(|m| m.iter().filter(|&&v| v == 0.0).count() as f64 / (h * w) as f64)
        .collect();
    let mean = fr.iter().sum::<f64>() / n as f64;
    let var = fr.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    let want = db.expected_rate(p, h, w);
    assert!(
        (mean - want).abs() < 6.0 * se,
        "dropped {mean}, expected {want} (se {se})"
    );
    assert!(
        (want - p as f64).abs() < 0.03,
        "expected rate {want} far from p = {p}"
    );
    assert_eq!(
        run(&mut db, &x, Mode::Eval, 5).data(),
        x.data(),
        "Eval is the identity"
    );
    // The ramp: a tenth of the way in, a tenth of the rate.
    let mut ramped = DropBlock::new(p, blk, 1000, Stream::new(10, "db")).unwrap();
    assert!((ramped.rate_at(Mode::Train, 99) - p / 10.0).abs() < 1e-6);
    assert_eq!(ramped.rate_at(Mode::MonteCarlo, 0), p);
    let y = run(&mut ramped, &x, Mode::Train, 99);
    let early = y.data().iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
    assert!(early < mean / 3.0, "ramped rate {early} vs full {mean}");
}

#[test]
fn dropconnect_drops_weights_not_activations() {
    let (i, o, b, p) = (200, 300, 8, 0.3f32);
    let mut rng = Stream::new(1, "init").seq();
    let dense = DenseConfig::new(i, o).init(&mut rng).unwrap();
    let dc = Bernoulli::new(p, Convention::Inverted, Stream::new(2, "dc")).unwrap();
    let mut dense = dense.with_dropconnect(Some(dc));
    let x = ramp(&[b, i]);
    let y = run(&mut dense, &x, Mode::Train, 4);
    let w = dense.params()[0].value.data().to_vec();
    let wm = dense.effective_weight().to_vec();
    // Each weight is either dropped or scaled by 1 / (1 - p); the rate is within 6 sigma.
    let mut dropped = 0;
    for (&a, &m) in w.iter().zip(&wm) {
        if m == 0.0 {
            dropped += 1;
        } else {
            assert!((m - a / (1.0 - p)).abs() <= 1e-6 * a.abs().max(1.0));
        }
    }
    let n = (i * o) as f64;
    let sd = (n * p as f64 * (1.0 - p as f64)).sqrt();
    assert!(
        (dropped as f64 - n * p as f64).abs() < 6.0 * sd,
        "{dropped} of {n} weights"
    );
    // Activations are not dropped: no output is exactly zero, and every example saw the same
    // thinned weights (y = x Wm^T).
    assert!(y.data().iter().all(|&v| v != 0.0));
    for r in 0..b {
        for u in 0..o {
            let want: f32 = (0..i).map(|c| x.data()[r * i + c] * wm[u * i + c]).sum();
            assert!((y.data()[r * o + u] - want).abs() < 1e-4);
        }
    }
    // Eval is the plain layer (inverted convention); the standard one scales W by 1 - p.
    let e = run(&mut dense, &x, Mode::Eval, 4);
    assert_eq!(dense.effective_weight(), &w[..]);
    let mut rng = Stream::new(1, "init").seq();
    let plain = DenseConfig::new(i, o).init(&mut rng).unwrap();
    assert_eq!(e, run(&mut { plain }, &x, Mode::Eval, 0));
    let mut rng = Stream::new(1, "init").seq();
    let std_dc = Bernoulli::new(p, Convention::Standard, Stream::new(2, "dc")).unwrap();
    let mut std_dense = DenseConfig::new(i, o)
        .init(&mut rng)
        .unwrap()
        .with_dropconnect(Some(std_dc));
    run(&mut std_dense, &x, Mode::Eval, 0);
    for (&a, &m) in w.iter().zip(std_dense.effective_weight()) {
        assert!((m - a * (1.0 - p)).abs() < 1e-7);
    }
}

fn cnn(layers: &str, conv_rate: f32, kind: ConvDropoutKind) -> ModelConfig {
    ModelConfig {
        layers: Some(layers.into()),
        input_shape: vec![1, 8, 8],
        dropout: DropoutConfig {
            conv: vec![conv_rate],
            conv_kind: kind,
            hidden: vec![0.3],
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn dropout_into_batch_norm_is_warned_about() {
    let ok = cnn("c4k3-bn-p2-f16-10", 0.1, ConvDropoutKind::Spatial)
        .build(1)
        .unwrap();
    assert!(ok.warnings().is_empty(), "{:?}", ok.warnings());
    let bad = cnn("c4k3-sd0.2-bn-p2-f16-10", 0.0, ConvDropoutKind::Spatial)
        .build(1)
        .unwrap();
    let w = bad.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("variance shift"), "{}", w[0]);
}

#[test]
fn bad_cnn_configs_get_clear_errors() {
    let e = cnn("c4k9p0-10", 0.0, ConvDropoutKind::Spatial)
        .build(1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than its 8x8 input"), "{e}");
    let mut m = cnn("c4k3-p2-10", 0.0, ConvDropoutKind::Spatial);
    m.input_shape = vec![64];
    let e = m.build(1).unwrap_err().to_string();
    assert!(e.starts_with("model.input_shape:"), "{e}");
    let e = cnn("c4k3-c4k3-p2-10", 0.0, ConvDropoutKind::Spatial);
    let mut e2 = e.clone();
    e2.dropout.conv = vec![0.1, 0.2, 0.3];
    let msg = e2.build(1).unwrap_err().to_string();
    assert!(msg.starts_with("dropout.conv:"), "{msg}");
}

#[test]
fn a_small_cnn_learns_the_digits() {
    // The digits are 1x8x8 images scaled to [0, 1].
    let data = digits::load().unwrap();
    let parts = split::stratified_split(&data.y, &[0.7, 0.3], 0, "split").unwrap();
    let (train, test) = (data.select(&parts[0]), data.select(&parts[1]));
    for kind in [ConvDropoutKind::Spatial, ConvDropoutKind::DropBlock] {
        let cfg = cnn("c8k3-p2-c16k3-p2-f32-10", 0.1, kind);
        let mut model = cfg.build(3).unwrap();
        let train_cfg = TrainConfig {
            epochs: 10,
            batch_size: 32,
            optimizer: OptimizerConfig {
                kind: OptimizerKind::Adam,
                lr: 0.003,
                ..Default::default()
            },
            ..Default::default()
        };
        let threads = Threads::new(Some(2)).unwrap();
        fit(
            &mut model,
            &train,
            FitSpec::new(&train_cfg, &threads).seed(3),
            &mut |_| {},
        )
        .unwrap();
        let m = evaluate(&mut model, &test, &Loss::default(), 256, &threads, Mode::Eval).unwrap();
        let acc = m.correct as f64 / m.count as f64;
        println!("{kind:?}: test accuracy {acc}");
        assert!(acc > 0.93, "{kind:?}: test accuracy {acc}");
    }
}

#[test]
fn torch_specs_give_every_size_pytorch_needs() {
    use droplab::model::{DropoutConfig, ModelConfig};
    let mlp = ModelConfig {
        widths: vec![64, 32, 10],
        dropout: DropoutConfig {
            input: 0.2,
            hidden: vec![0.5],
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        mlp.build(0).unwrap().torch_specs(),
        [
            "Dropout(p=0.2)",
            "Linear(64, 32)",
            "ReLU()",
            "Dropout(p=0.5)",
            "Linear(32, 10)"
        ]
    );
    let mut cnn = ModelConfig::default();
    cnn.set_model_string("cnn:c8k3p1-p2-sd0.1-bn-c4k3s2-g-10")
        .unwrap();
    cnn.input_shape = vec![1, 8, 8];
    let m = cnn.build(0).unwrap();
    assert_eq!(
        m.torch_specs(),
        [
            "Conv2d(1, 8, kernel_size=3, stride=1, padding=1)",
            "ReLU()",
            "MaxPool2d(kernel_size=2, stride=2)",
            "Dropout2d(p=0.1)",
            "BatchNorm2d(8, eps=0.00001)",
            // (padding defaults to k / 2)
            "Conv2d(8, 4, kernel_size=3, stride=2, padding=1)",
            "ReLU()",
            "AdaptiveAvgPool2d(1)",
            "Flatten()",
            "Linear(4, 10)",
        ]
    );
    // One constructor per module of torch_modules (the parameter names count them).
    assert_eq!(m.torch_specs().len(), m.torch_modules().len());
}
