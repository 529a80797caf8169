//! A training checkpoint (`.NAME.checkpoint.safetensors`): read, then checked against a model
//! as `train --resume` does before continuing.
#![no_main]

use std::path::Path;

use droplab::tensor::Threads;
use droplab::train::{FitSpec, fit};
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let r = droplab_lab::checkpoint::parse(Path::new(".run.checkpoint.safetensors"), data);
    one_line(&r);
    let Ok(stored) = r else { return };
    // Resuming it on a tiny model and data: refused with an error or trained, never a panic.
    let mut cfg = droplab::model::ModelConfig::default();
    cfg.set_model_string("mlp:4-3-2").expect("a valid model string");
    let Ok(mut model) = cfg.build(0) else { return };
    let x = droplab::tensor::Tensor::from_vec(&[2, 4], vec![0.5; 8]).expect("shape");
    let Ok(train) = droplab::data::Dataset::new(x, droplab::nn::Targets::Classes(vec![0, 1]), 2) else {
        return;
    };
    let mut tc = stored.config.train.clone();
    tc.epochs = tc
        .epochs
        .clamp(1, stored.checkpoint.state.epochs_done.saturating_add(1).min(3));
    tc.batch_size = tc.batch_size.clamp(1, 2);
    let Ok(threads) = Threads::new(Some(1)) else {
        return;
    };
    let spec = FitSpec::new(&tc, &threads).resume(&stored.checkpoint);
    one_line(&fit(&mut model, &train, spec, &mut |_| {}));
});
