//! Monte Carlo dropout (Gal & Ghahramani 2016): T forward passes with dropout left on give a
//! predictive distribution whose entropy splits into what the data leaves uncertain and what
//! the model does not know (BALD, the mutual information). Wrong predictions should carry
//! more of both than right ones.
//!
//! `cargo run --release -p droplab --example mc_uncertainty`

use droplab::analysis::uncertainty::{McSamples, uncertainties};
use droplab::data::{digits, split};
use droplab::model::{DropoutConfig, ModelConfig};
use droplab::nn::{Mode, Targets};
use droplab::optim::OptimizerConfig;
use droplab::tensor::Threads;
use droplab::train::{FitSpec, TrainConfig, fit};

fn main() -> droplab::Result<()> {
    let data = digits::load()?;
    let parts = split::stratified_split(&data.y, &[0.6, 0.2, 0.2], 0, "split")?;
    let (train, val, test) = (
        data.select(&parts[0]),
        data.select(&parts[1]),
        data.select(&parts[2]),
    );
    let dropout = DropoutConfig {
        input: 0.1,
        hidden: vec![0.5],
        ..Default::default()
    };
    let mut model = ModelConfig {
        widths: vec![64, 256, 10],
        dropout,
        ..Default::default()
    }
    .build(1)?;
    let optimizer = OptimizerConfig {
        lr: 0.05,
        momentum: 0.9,
        ..Default::default()
    };
    let cfg = TrainConfig {
        epochs: 15,
        batch_size: 32,
        optimizer,
        ..Default::default()
    };
    let threads = Threads::new(None)?;
    fit(
        &mut model,
        &train,
        FitSpec::new(&cfg, &threads).seed(1).validation(&val),
        &mut |_| {},
    )?;

    // 100 passes with dropout on, softmax applied to each.
    let mc = McSamples::collect(&mut model, &test, Mode::MonteCarlo, 100, 256, true, &threads)?;
    let Targets::Classes(labels) = &test.y else {
        unreachable!("the digits are classes")
    };
    let (mut right, mut wrong) = ((0.0, 0.0, 0usize), (0.0, 0.0, 0usize));
    for (u, &label) in uncertainties(&mc).iter().zip(labels) {
        let side = if u.predicted == label as usize {
            &mut right
        } else {
            &mut wrong
        };
        side.0 += u.entropy;
        side.1 += u.mutual_information;
        side.2 += 1;
    }
    for (name, (h, mi, n)) in [("right", right), ("wrong", wrong)] {
        let n1 = n.max(1) as f64;
        println!(
            "{name}: {n} predictions, mean predictive entropy {:.3} nats, mean BALD {:.3} nats",
            h / n1,
            mi / n1
        );
    }
    Ok(())
}
