//! End-to-end training on the embedded digits: learning, determinism, early stopping,
//! divergence and invalid configs.

use droplab::data::{Dataset, digits, split};
use droplab::model::{DropoutConfig, ModelConfig, RegularizationConfig};
use droplab::nn::{Activation, Loss, Mode};
use droplab::optim::{LrSchedule, MomentumSchedule, OptimizerConfig, OptimizerKind};
use droplab::regularize::{Convention, DropoutKind};
use droplab::tensor::Threads;
use droplab::train::{EarlyStoppingConfig, FitSpec, Monitor, TrainConfig, evaluate, fit};
use droplab::{Error, Sequential};

fn splits(train_fraction: f64) -> (Dataset, Dataset, Dataset) {
    let d = digits::load().unwrap();
    let parts = split::stratified_split(&d.y, &[train_fraction, 0.2, 0.2], 0, "split").unwrap();
    (d.select(&parts[0]), d.select(&parts[1]), d.select(&parts[2]))
}

fn mlp(hidden: f32) -> ModelConfig {
    ModelConfig {
        widths: vec![64, 128, 128, 10],
        activation: Activation::Relu,
        dropout: DropoutConfig {
            input: 0.1,
            hidden: vec![hidden],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn cfg(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 32,
        optimizer: OptimizerConfig {
            lr: 0.05,
            momentum: 0.9,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn train(
    model_cfg: &ModelConfig,
    cfg: &TrainConfig,
    seed: u64,
    threads: usize,
) -> (Sequential, droplab::train::FitReport, Dataset) {
    let (tr, va, te) = splits(0.6);
    let mut model = model_cfg.build(seed).unwrap();
    let t = Threads::new(Some(threads)).unwrap();
    let report = fit(
        &mut model,
        &tr,
        FitSpec::new(cfg, &t).seed(seed).validation(&va),
        &mut |_| {},
    )
    .unwrap();
    (model, report, te)
}

#[test]
fn a_small_mlp_learns_the_digits() {
    let (mut model, report, test) = train(&mlp(0.3), &cfg(25), 1, 2);
    let t = Threads::new(Some(2)).unwrap();
    let acc = evaluate(&mut model, &test, &Loss::default(), 256, &t, Mode::Eval)
        .unwrap()
        .accuracy();
    assert!(acc >= 0.95, "test accuracy {acc}");
    assert_eq!(report.history.len(), 25);
    assert!(report.diverged.is_none());
}

#[test]
fn every_optimizer_schedule_and_dropout_kind_trains() {
    let (tr, va, _) = splits(0.3);
    let t = Threads::new(Some(2)).unwrap();
    let variants: Vec<(ModelConfig, TrainConfig)> = vec![
        (
            mlp(0.5),
            TrainConfig {
                schedule: LrSchedule::Inverse { t0: 100.0 },
                momentum_schedule: MomentumSchedule::Rise {
                    start: 0.5,
                    end: 0.99,
                    t0: 200.0,
                },
                ..cfg(8)
            },
        ),
        (
            mlp(0.5),
            TrainConfig {
                optimizer: OptimizerConfig {
                    kind: OptimizerKind::Nesterov,
                    lr: 0.05,
                    ..Default::default()
                },
                schedule: LrSchedule::Cosine {
                    total: 0,
                    min_lr: 0.0,
                },
                ..cfg(8)
            },
        ),
        (
            mlp(0.2),
            TrainConfig {
                optimizer: OptimizerConfig {
                    kind: OptimizerKind::Adam,
                    lr: 0.002,
                    ..Default::default()
                },
                ..cfg(8)
            },
        ),
        (
            mlp(0.2),
            TrainConfig {
                optimizer: OptimizerConfig {
                    kind: OptimizerKind::Adamw,
                    lr: 0.002,
                    ..Default::default()
                },
                schedule: LrSchedule::Step { every: 3, gamma: 0.5 },
                ..cfg(8)
            },
        ),
        (
            mlp(0.2),
            TrainConfig {
                optimizer: OptimizerConfig {
                    kind: OptimizerKind::Rmsprop,
                    lr: 0.001,
                    beta2: 0.9,
                    ..Default::default()
                },
                schedule: LrSchedule::Exponential { gamma: 0.9 },
                ..cfg(8)
            },
        ),
        (
            ModelConfig {
                dropout: DropoutConfig {
                    convention: Convention::Standard,
                    ..mlp(0.5).dropout
                },
                regularization: RegularizationConfig {
                    max_norm: Some(3.0),
                    l2: 1e-4,
                    ..Default::default()
                },
                ..mlp(0.5)
            },
            cfg(8),
        ),
        (
            ModelConfig {
                dropout: DropoutConfig {
                    kind: DropoutKind::Gaussian,
                    ..mlp(0.3).dropout
                },
                regularization: RegularizationConfig {
                    l1: 1e-5,
                    l2: 1e-4,
                    ..Default::default()
                },
                ..mlp(0.3)
            },
            cfg(8),
        ),
        (
            ModelConfig {
                activation: Activation::Selu,
                dropout: DropoutConfig {
                    kind: DropoutKind::Alpha,
                    input: 0.0,
                    hidden: vec![0.05],
                    ..Default::default()
                },
                ..mlp(0.0)
            },
            TrainConfig {
                clip_grad_norm: Some(5.0),
                ..cfg(8)
            },
        ),
        (
            ModelConfig {
                activation: Activation::Tanh,
                ..mlp(0.2)
            },
            TrainConfig {
                loss: Loss::SoftmaxCrossEntropy { label_smoothing: 0.1 },
                ..cfg(8)
            },
        ),
    ];
    for (i, (m, c)) in variants.iter().enumerate() {
        let mut model = m.build(7).unwrap();
        let r = fit(
            &mut model,
            &tr,
            FitSpec::new(c, &t).seed(7).validation(&va),
            &mut |_| {},
        )
        .unwrap();
        let last = r.history.last().unwrap();
        assert!(r.diverged.is_none(), "variant {i} diverged");
        assert!(
            last.val_accuracy > 0.85,
            "variant {i}: val accuracy {}",
            last.val_accuracy
        );
    }
}

#[test]
fn same_seed_and_config_give_bit_identical_weights() {
    for threads in [1, 2] {
        let (a, ra, _) = train(&mlp(0.5), &cfg(2), 11, threads);
        let (b, rb, _) = train(&mlp(0.5), &cfg(2), 11, threads);
        for (p, q) in a.params().iter().zip(b.params()) {
            assert_eq!(p.value.data(), q.value.data(), "{threads} threads");
        }
        assert_eq!(
            ra.history.last().unwrap().train_loss,
            rb.history.last().unwrap().train_loss
        );
    }
    let (a, _, _) = train(&mlp(0.5), &cfg(2), 11, 2);
    let (c, _, _) = train(&mlp(0.5), &cfg(2), 12, 2);
    assert_ne!(a.params()[0].value.data(), c.params()[0].value.data());
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    // A wide unregularized net on little data overfits: validation loss turns up early.
    let (tr, va, _) = splits(0.1);
    let t = Threads::new(Some(2)).unwrap();
    let m = ModelConfig {
        widths: vec![64, 512, 512, 10],
        dropout: DropoutConfig::default(),
        ..Default::default()
    };
    let c = TrainConfig {
        early_stopping: Some(EarlyStoppingConfig {
            monitor: Monitor::ValLoss,
            patience: 3,
            min_delta: 0.0,
            start_from_epoch: 0,
        }),
        ..cfg(60)
    };
    let mut model = m.build(3).unwrap();
    let r = fit(
        &mut model,
        &tr,
        FitSpec::new(&c, &t).seed(3).validation(&va),
        &mut |_| {},
    )
    .unwrap();
    assert!(
        r.stopped_early,
        "expected an early stop, ran {} epochs",
        r.history.len()
    );
    assert_eq!(
        r.history.len(),
        r.best_epoch + 3,
        "stops after `patience` epochs without improvement"
    );
    let best = &r.history[r.best_epoch - 1];
    let min = r.history.iter().map(|h| h.val_loss).fold(f64::INFINITY, f64::min);
    assert_eq!(best.val_loss, min);
    let now = evaluate(&mut model, &va, &c.loss, 256, &t, Mode::Eval)
        .unwrap()
        .mean_loss();
    assert!(
        (now - best.val_loss).abs() < 1e-9,
        "restored weights give val loss {now}, best epoch had {}",
        best.val_loss
    );
}

#[test]
fn a_diverging_run_reports_divergence() {
    let c = TrainConfig {
        optimizer: OptimizerConfig {
            lr: 1e30,
            ..Default::default()
        },
        ..cfg(20)
    };
    let (_, r, _) = train(&mlp(0.0), &c, 1, 2);
    let e = r.diverged.expect("a learning rate of 1e30 overflows the logits");
    assert!(matches!(e, Error::Diverged { .. }));
    assert!(e.to_string().contains("diverged"), "{e}");
    assert!(r.history.len() < 20);
}

#[test]
fn invalid_configs_return_typed_errors_naming_the_field() {
    let bad_rate = ModelConfig {
        dropout: DropoutConfig {
            input: 1.5,
            ..Default::default()
        },
        ..mlp(0.0)
    };
    let e = bad_rate.build(0).unwrap_err();
    assert!(
        matches!(e, Error::InvalidRate { .. }) && e.to_string().contains("dropout.input"),
        "{e}"
    );
    let neg = ModelConfig {
        dropout: DropoutConfig {
            hidden: vec![-0.1],
            ..Default::default()
        },
        ..mlp(0.0)
    };
    assert!(
        neg.build(0)
            .unwrap_err()
            .to_string()
            .contains("dropout.hidden[0]")
    );
    let gauss_one = ModelConfig {
        dropout: DropoutConfig {
            kind: DropoutKind::Gaussian,
            hidden: vec![1.0],
            ..Default::default()
        },
        ..mlp(0.0)
    };
    assert!(matches!(
        gauss_one.build(0).unwrap_err(),
        Error::InvalidRate { .. }
    ));
    let zero = ModelConfig {
        widths: vec![64, 0, 10],
        ..mlp(0.0)
    };
    let e = zero.build(0).unwrap_err();
    assert!(
        matches!(e, Error::ZeroWidth { .. }) && e.to_string().contains("model.widths[1]"),
        "{e}"
    );
    let counts = ModelConfig {
        dropout: DropoutConfig {
            hidden: vec![0.1, 0.2, 0.3],
            ..Default::default()
        },
        ..mlp(0.0)
    };
    assert!(
        counts
            .build(0)
            .unwrap_err()
            .to_string()
            .contains("dropout.hidden")
    );
    let negative_l2 = ModelConfig {
        regularization: RegularizationConfig {
            l2: -1.0,
            ..Default::default()
        },
        ..mlp(0.0)
    };
    assert!(
        negative_l2
            .build(0)
            .unwrap_err()
            .to_string()
            .contains("regularization.l2")
    );

    let (tr, va, _) = splits(0.2);
    let t = Threads::new(Some(1)).unwrap();
    let mut model = mlp(0.0).build(0).unwrap();
    let neg_lr = TrainConfig {
        optimizer: OptimizerConfig {
            lr: -0.1,
            ..Default::default()
        },
        ..cfg(1)
    };
    let e = fit(
        &mut model,
        &tr,
        FitSpec::new(&neg_lr, &t).seed(0).validation(&va),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::NotPositive { .. }) && e.to_string().contains("optimizer.lr"),
        "{e}"
    );
    let zero_batch = TrainConfig {
        batch_size: 0,
        ..cfg(1)
    };
    assert!(
        fit(
            &mut model,
            &tr,
            FitSpec::new(&zero_batch, &t).seed(0),
            &mut |_| {}
        )
        .unwrap_err()
        .to_string()
        .contains("train.batch_size")
    );
    let mut wrong = ModelConfig {
        widths: vec![32, 16, 10],
        ..mlp(0.0)
    }
    .build(0)
    .unwrap();
    let e = fit(&mut wrong, &tr, FitSpec::new(&cfg(1), &t).seed(0), &mut |_| {}).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e}");
    assert!(
        ModelConfig::parse_widths("mlp:64-x-10")
            .unwrap_err()
            .to_string()
            .contains("'x'")
    );
    assert!(ModelConfig::parse_widths("cnn:64").is_err());
}

// Regression: with min_delta > 0 the restored epoch was the best by any margin while the
// stopper counted only improvements of more than min_delta (Keras restores the last epoch
// that improved by more than min_delta, and a stopped run then has best + patience epochs).
#[test]
fn early_stopping_restores_the_epoch_its_own_min_delta_rule_picks() {
    // A run whose validation loss keeps creeping down by less than min_delta after its last
    // clear improvement (by any margin the best epoch would be 11, by Keras's rule 6).
    let (min_delta, patience) = (0.01, 5);
    let c = TrainConfig {
        early_stopping: Some(EarlyStoppingConfig {
            monitor: Monitor::ValLoss,
            min_delta,
            patience,
            start_from_epoch: 0,
        }),
        ..cfg(60)
    };
    let (_, r, _) = train(&mlp(0.5), &c, 5, 2);
    assert!(
        r.stopped_early,
        "expected an early stop, ran {} epochs",
        r.history.len()
    );
    // Keras's rule, written out: the best so far moves only on an improvement > min_delta.
    let mut best = (f64::INFINITY, 0usize);
    for m in &r.history {
        if best.1 == 0 || best.0 - m.val_loss > min_delta {
            best = (m.val_loss, m.epoch);
        }
    }
    assert_eq!(r.best_epoch, best.1);
    assert_eq!(r.history.len(), r.best_epoch + patience);
}

#[test]
fn a_fit_resumed_from_any_epochs_checkpoint_ends_with_the_uninterrupted_weights() {
    // Momentum SGD with a cosine schedule, max-norm, L2, dropout and early stopping that
    // restores its best epoch; and Adam (two moments, bias corrections keyed by its step).
    let (tr, va, _) = splits(0.4);
    let mut model_cfg = mlp(0.5);
    model_cfg.regularization.max_norm = Some(3.0);
    model_cfg.regularization.l2 = 1e-4;
    let mut sgd = cfg(6);
    sgd.schedule = LrSchedule::Cosine {
        total: 0,
        min_lr: 0.001,
    };
    sgd.early_stopping = Some(EarlyStoppingConfig {
        patience: 3,
        ..Default::default()
    });
    let mut adam = cfg(6);
    adam.optimizer = OptimizerConfig {
        kind: OptimizerKind::Adam,
        lr: 0.003,
        ..Default::default()
    };
    let t = Threads::new(Some(2)).unwrap();
    for train_cfg in [&sgd, &adam] {
        let spec = FitSpec::new(train_cfg, &t).seed(5).validation(&va);
        let mut whole = model_cfg.build(5).unwrap();
        let mut saved = Vec::new();
        let full = fit(&mut whole, &tr, spec.checkpoints(true), &mut |p| {
            if let droplab::train::Progress::Checkpoint(c) = p {
                saved.push(c.clone());
            }
        })
        .unwrap();
        // A checkpoint after every epoch but the last one run.
        assert_eq!(saved.len(), full.history.len() - 1);
        for ck in &saved {
            let mut resumed = model_cfg.build(5).unwrap();
            let rest = fit(&mut resumed, &tr, spec.resume(ck), &mut |_| {}).unwrap();
            let at = ck.state.epochs_done;
            for (p, q) in whole.params().iter().zip(resumed.params()) {
                assert_eq!(p.value.data(), q.value.data(), "resumed after epoch {at}");
            }
            assert_eq!((rest.best_epoch, rest.steps), (full.best_epoch, full.steps));
            let losses = |r: &droplab::train::FitReport| -> Vec<(f64, f64)> {
                r.history.iter().map(|m| (m.train_loss, m.val_loss)).collect()
            };
            assert_eq!(losses(&rest), losses(&full), "resumed after epoch {at}");
        }
    }
    // A checkpoint of another model is refused, naming the tensor.
    let mut other = mlp(0.5);
    other.widths = vec![64, 32, 128, 10];
    let spec = FitSpec::new(&adam, &t).seed(5);
    let mut ck = None;
    fit(
        &mut model_cfg.build(5).unwrap(),
        &tr,
        spec.checkpoints(true),
        &mut |p| {
            if let droplab::train::Progress::Checkpoint(c) = p {
                ck.get_or_insert_with(|| c.clone());
            }
        },
    )
    .unwrap();
    let err = fit(
        &mut other.build(5).unwrap(),
        &tr,
        spec.resume(ck.as_ref()),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("model.0"), "{err}");
}
