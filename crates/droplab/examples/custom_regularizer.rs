//! Adding a regularizer: additive Gaussian noise on the hidden activations, written as a
//! layer, trained beside dropout on a small slice of the embedded digits.
//!
//! A stochastic regularizer in droplab is a [`Layer`] that reads the call's [`Mode`] and step
//! from its [`Ctx`]: it is on in `Train` and `MonteCarlo` passes, off in `Eval`, and draws its
//! noise from its own keyed stream at `(step, row)`, so a run is reproducible on any thread
//! count and the same noise can be drawn again. Inside the project such a layer goes in
//! `crates/droplab/src/regularize/`, with a gradient check and a statistical test.
//!
//! `cargo run --release -p droplab --example custom_regularizer`

use droplab::data::{digits, split};
use droplab::nn::{Act, Activation, Ctx, DenseConfig, Init, Layer, Mode, Sequential};
use droplab::optim::OptimizerConfig;
use droplab::rng::Stream;
use droplab::tensor::{Tensor, Threads};
use droplab::train::{FitSpec, TrainConfig, evaluate, fit};

/// `y = x + sigma * e`, `e ~ N(0, 1)` per element, in training and Monte Carlo passes.
struct GaussianNoise {
    sigma: f32,
    stream: Stream,
}

impl Layer for GaussianNoise {
    fn kind(&self) -> &'static str {
        "gaussian_noise"
    }

    fn output_shape(&self, input: &[usize]) -> droplab::Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn forward(&mut self, ctx: &Ctx, x: &Tensor, y: &mut Tensor) -> droplab::Result<()> {
        y.resize(x.shape());
        y.data_mut().copy_from_slice(x.data());
        let stream = match ctx.mode {
            Mode::Train => self.stream,
            // Monte Carlo passes draw from a stream of their own, keyed by the pass.
            Mode::MonteCarlo => self.stream.derive("monte-carlo"),
            Mode::Eval | Mode::Frozen(_) => return Ok(()),
        };
        let cols = x.cols();
        for (r, row) in y.data_mut().chunks_exact_mut(cols.max(1)).enumerate() {
            let mut rng = stream.derive_u64(ctx.step).derive_u64(r as u64).seq();
            for v in row {
                *v += self.sigma * rng.normal();
            }
        }
        Ok(())
    }

    fn backward(
        &mut self,
        _ctx: &Ctx,
        _x: &Tensor,
        _y: &Tensor,
        dy: &mut Tensor,
        dx: Option<&mut Tensor>,
    ) -> droplab::Result<()> {
        // Additive noise: dL/dx = dL/dy.
        if let Some(dx) = dx {
            dx.resize(dy.shape());
            dx.data_mut().copy_from_slice(dy.data());
        }
        Ok(())
    }

    fn torch_modules(&self) -> Vec<&'static str> {
        // PyTorch has no such module; it has no parameters, so nothing is exported for it.
        Vec::new()
    }

    fn describe(&self) -> String {
        format!("gaussian noise sigma={}", self.sigma)
    }
}

/// 64-512-512-10, with `sigma` noise after each hidden activation (none when 0).
fn network(sigma: f32, seed: u64) -> droplab::Result<Sequential> {
    let mut layers: Vec<Box<dyn Layer>> = Vec::new();
    let mut fan_in = 64;
    for i in 0..2u64 {
        let mut rng = Stream::new(seed, "init").derive_u64(i).seq();
        let dense = DenseConfig::new(fan_in, 512).with_init(Init::He).init(&mut rng)?;
        layers.push(Box::new(dense));
        layers.push(Box::new(Act(Activation::Relu)));
        if sigma > 0.0 {
            layers.push(Box::new(GaussianNoise {
                sigma,
                stream: Stream::new(seed, "noise").derive_u64(i),
            }));
        }
        fan_in = 512;
    }
    let mut rng = Stream::new(seed, "init").derive_u64(2).seq();
    layers.push(Box::new(DenseConfig::new(fan_in, 10).init(&mut rng)?));
    Sequential::new(&[64], layers)
}

fn main() -> droplab::Result<()> {
    let data = digits::load()?;
    let parts = split::stratified_split(&data.y, &[0.6, 0.2, 0.2], 0, "split")?;
    let (val, test) = (data.select(&parts[1]), data.select(&parts[2]));
    let train = data.select(&parts[0][..200]);
    let threads = Threads::new(None)?;
    let optimizer = OptimizerConfig {
        lr: 0.05,
        momentum: 0.9,
        ..Default::default()
    };
    let cfg = TrainConfig {
        epochs: 60,
        batch_size: 32,
        optimizer,
        ..Default::default()
    };
    for sigma in [0.0, 0.5, 1.0] {
        let mut model = network(sigma, 1)?;
        let spec = FitSpec::new(&cfg, &threads).seed(1).validation(&val);
        let report = fit(&mut model, &train, spec, &mut |_| {})?;
        let last = report.history.last().expect("at least one epoch");
        let tested = evaluate(&mut model, &test, &cfg.loss, 256, &threads, Mode::Eval)?;
        println!(
            "noise sigma {sigma:.1}: train - validation accuracy {:+.3} after {} epochs, test accuracy {:.3}",
            last.gap,
            last.epoch,
            tested.accuracy()
        );
    }
    Ok(())
}
