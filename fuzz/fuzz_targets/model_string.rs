//! `--model` strings (mlp:, cnn:, rnn:): parsed, validated and, when small, built.
#![no_main]

use droplab::model::ModelConfig;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    let mut cfg = ModelConfig::default();
    let r = cfg.set_model_string(spec);
    one_line(&r);
    if r.is_err() {
        return;
    }
    // Recurrent networks take their input shape from the data; give them one.
    if cfg.is_rnn() && cfg.input_shape.is_empty() {
        cfg.input_shape = vec![7, 3];
    }
    if cfg.is_cnn() && cfg.input_shape.is_empty() {
        cfg.input_shape = vec![1, 8, 8];
    }
    let v = cfg.validate();
    one_line(&v);
    if v.is_err() {
        return;
    }
    let size = droplab::model::size::size(&cfg);
    one_line(&size);
    if let Ok(s) = size
        && s.params < 20_000
        && s.activations < 20_000
    {
        one_line(&cfg.build(0));
    }
});
