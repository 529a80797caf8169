//! Where one training step of a benchmark network spends its time, layer by layer (forward
//! and backward), at batch 128 on 2 threads (or as many as given). A diagnostic, not a benchmark of record.
//! Usage: `layer_profile [cnn|mlp] [THREADS]`.
use std::time::Instant;

use droplab::model::{DropoutConfig, ModelConfig};
use droplab::nn::{Ctx, Mode};
use droplab::rng::Stream;
use droplab::tensor::{Tensor, Threads};

fn main() {
    let task = std::env::args().nth(1).unwrap_or_else(|| "cnn".into());
    let cfg = match task.as_str() {
        "mlp" => ModelConfig {
            widths: vec![784, 1024, 1024, 10],
            dropout: DropoutConfig {
                input: 0.2,
                hidden: vec![0.5],
                ..Default::default()
            },
            ..Default::default()
        },
        _ => ModelConfig {
            layers: Some("c32k5-p2-c64k5-p2-f1024-10".into()),
            input_shape: vec![1, 28, 28],
            dropout: DropoutConfig {
                hidden: vec![0.5],
                ..Default::default()
            },
            ..Default::default()
        },
    };
    let threads = std::env::args().nth(2).and_then(|t| t.parse().ok()).unwrap_or(2);
    let t = Threads::new(Some(threads)).expect("threads");
    let mut model = cfg.build(0).expect("model");
    let mut shape = vec![128];
    shape.extend(cfg.input_shape());
    let n: usize = shape.iter().product();
    let mut r = Stream::new(1, "x").seq();
    let x = Tensor::from_vec(&shape, (0..n).map(|_| r.uniform()).collect()).expect("x");
    let layers = model.layers_mut();
    let k = layers.len();
    let mut acts = vec![Tensor::default(); k];
    let mut grads = vec![Tensor::default(); k + 1];
    let (mut fwd, mut bwd) = (vec![0.0f64; k], vec![0.0f64; k]);
    let steps = 10;
    t.install(|| {
        for s in 0..steps + 2 {
            let ctx = Ctx::new(Mode::Train, s as u64).with_par(t.par());
            for i in 0..k {
                let (prev, rest) = acts.split_at_mut(i);
                let input = if i == 0 { &x } else { &prev[i - 1] };
                let t0 = Instant::now();
                layers[i].forward(&ctx, input, &mut rest[0]).expect("forward");
                if s >= 2 {
                    fwd[i] += t0.elapsed().as_secs_f64() * 1e3 / steps as f64;
                }
            }
            grads[k] = acts[k - 1].clone();
            for i in (0..k).rev() {
                let input = if i == 0 { &x } else { &acts[i - 1] };
                let (gl, gr) = grads.split_at_mut(i + 1);
                let dx = if i > 0 { Some(&mut gl[i]) } else { None };
                let t0 = Instant::now();
                layers[i]
                    .backward(&ctx, input, &acts[i], &mut gr[gr.len() - 1 - (k - 1 - i)], dx)
                    .expect("backward");
                if s >= 2 {
                    bwd[i] += t0.elapsed().as_secs_f64() * 1e3 / steps as f64;
                }
            }
        }
    });
    for i in 0..k {
        println!(
            "{:<45} forward {:7.2} ms  backward {:7.2} ms",
            layers[i].describe(),
            fwd[i],
            bwd[i]
        );
    }
    println!(
        "total forward {:.2} ms, backward {:.2} ms",
        fwd.iter().sum::<f64>(),
        bwd.iter().sum::<f64>()
    );
}
