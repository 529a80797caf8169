//! A run's `model.safetensors`, loaded into the model its config describes (a small MLP).
#![no_main]

use std::sync::LazyLock;

use droplab::model::ModelConfig;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

static MODEL: LazyLock<ModelConfig> = LazyLock::new(|| {
    let mut cfg = ModelConfig::default();
    cfg.set_model_string("mlp:4-3-2").expect("a valid model string");
    cfg
});

fuzz_target!(|data: &[u8]| {
    let mut model = MODEL.build(0).expect("the model builds");
    let r =
        droplab_lab::weights::load_bytes_into(&mut model, std::path::Path::new("model.safetensors"), data);
    one_line(&r);
});
