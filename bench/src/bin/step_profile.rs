//! Where one training step of the MLP benchmark spends its time (forward, loss, backward,
//! optimizer), with dropout on and off. A diagnostic, not a benchmark of record.
use std::time::Instant;

use droplab::model::{DropoutConfig, ModelConfig};
use droplab::nn::{Ctx, Loss, Mode, Targets};
use droplab::optim::OptimizerConfig;
use droplab::rng::Stream;
use droplab::tensor::{Tensor, Threads};

fn main() {
    let t = Threads::new(Some(2)).expect("threads");
    let par = t.par();
    let mut r = Stream::new(1, "x").seq();
    let x = Tensor::from_vec(&[128, 784], (0..128 * 784).map(|_| r.uniform()).collect()).expect("x");
    let y = Targets::Classes((0..128).map(|i| (i % 10) as u32).collect());
    for dropout in [true, false] {
        let cfg = ModelConfig {
            widths: vec![784, 1024, 1024, 10],
            dropout: if dropout {
                DropoutConfig {
                    input: 0.2,
                    hidden: vec![0.5],
                    ..Default::default()
                }
            } else {
                DropoutConfig::default()
            },
            ..Default::default()
        };
        let mut model = cfg.build(0).expect("model");
        let mut opt = OptimizerConfig::default().init().expect("opt");
        let loss = Loss::default();
        let mut dout = Tensor::default();
        let mut times = [0.0f64; 4];
        let steps = 60;
        t.install(|| {
            for s in 0..steps + 5 {
                let ctx = Ctx::new(Mode::Train, s as u64).with_par(par);
                let t0 = Instant::now();
                let out = model.forward(&ctx, &x).expect("fwd");
                let t1 = Instant::now();
                loss.compute(out, &y, Some(&mut dout)).expect("loss");
                let t2 = Instant::now();
                model.backward(&ctx, &x, &mut dout, None).expect("bwd");
                let t3 = Instant::now();
                opt.step(&mut model.params_mut(), 0.01, 0.9);
                let t4 = Instant::now();
                if s >= 5 {
                    for (i, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3].iter().enumerate() {
                        times[i] += d.as_secs_f64() * 1e3 / steps as f64;
                    }
                }
            }
        });
        println!(
            "dropout={dropout}: forward {:.2} ms, loss {:.2} ms, backward {:.2} ms, optimizer {:.2} ms, total {:.2} ms",
            times[0],
            times[1],
            times[2],
            times[3],
            times.iter().sum::<f64>()
        );
    }
}
