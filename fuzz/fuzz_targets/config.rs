//! A run config in TOML: parsed, validated, its model's size estimated and memory checked.
#![no_main]

use droplab_lab::config::RunConfig;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let r = RunConfig::parse("fuzz.toml", text);
    one_line(&r);
    let Ok(cfg) = r else { return };
    let v = cfg.validate();
    one_line(&v);
    if v.is_ok() {
        one_line(&droplab::model::size::size(&cfg.model));
        one_line(&droplab_lab::limits::check(&cfg));
        one_line(&cfg.model.outputs());
        // What it writes reads back as the same config.
        let again = RunConfig::parse("again.toml", &cfg.to_toml()).expect("its own TOML parses");
        assert_eq!(again, cfg);
    }
});
