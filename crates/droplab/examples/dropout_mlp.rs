//! Trains the same MLP on 300 of the embedded digits with and without dropout and prints the
//! overfitting gap (training accuracy minus validation accuracy) and the test accuracy of each.
//! One seed and one length decide nothing: `droplab claims` tests the claim over seeds with
//! intervals (claim 1).
//!
//! `cargo run --release -p droplab --example dropout_mlp`

use droplab::data::{digits, split};
use droplab::model::{DropoutConfig, ModelConfig};
use droplab::nn::Mode;
use droplab::optim::OptimizerConfig;
use droplab::tensor::Threads;
use droplab::train::{FitSpec, TrainConfig, evaluate, fit};

fn main() -> droplab::Result<()> {
    let data = digits::load()?;
    let parts = split::stratified_split(&data.y, &[0.6, 0.2, 0.2], 0, "split")?;
    let (val, test) = (data.select(&parts[1]), data.select(&parts[2]));
    // A small training set, where a wide network overfits.
    let train = data.select(&parts[0][..300]);
    let threads = Threads::new(None)?;
    let optimizer = OptimizerConfig {
        lr: 0.05,
        momentum: 0.9,
        ..Default::default()
    };
    let cfg = TrainConfig {
        epochs: 40,
        batch_size: 32,
        optimizer,
        ..Default::default()
    };
    for (name, input, hidden) in [("no dropout", 0.0, 0.0), ("dropout 0.2 / 0.5", 0.2, 0.5)] {
        let dropout = DropoutConfig {
            input,
            hidden: vec![hidden],
            ..Default::default()
        };
        let mut model = ModelConfig {
            widths: vec![64, 800, 800, 10],
            dropout,
            ..Default::default()
        }
        .build(1)?;
        let report = fit(
            &mut model,
            &train,
            FitSpec::new(&cfg, &threads).seed(1).validation(&val),
            &mut |_| {},
        )?;
        let last = report.history.last().expect("at least one epoch");
        let tested = evaluate(&mut model, &test, &cfg.loss, 256, &threads, Mode::Eval)?;
        println!(
            "{name:>18}: gap {:+.3} (train {:.3}, validation {:.3}), test accuracy {:.3}",
            last.gap,
            last.train_accuracy,
            last.val_accuracy,
            tested.accuracy()
        );
    }
    Ok(())
}
