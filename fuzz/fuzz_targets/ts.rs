//! The sktime / UEA `.ts` format, read alone and as a test file against a training file's labels.
#![no_main]

use droplab::data::ts;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let r = ts::parse("fuzz.ts", text, None);
    one_line(&r);
    if let Ok((d, labels)) = &r {
        assert!(
            d.x.data().iter().all(|v| v.is_finite()),
            "a non-finite value was accepted"
        );
        let again = ts::parse("fuzz-test.ts", text, Some(labels));
        one_line(&again);
    }
});
