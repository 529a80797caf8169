//! IDX files (MNIST's format): the header, its dimensions and the data length.
#![no_main]

use droplab::data::idx::parse_idx;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let r = parse_idx("fuzz-idx3-ubyte", data);
    one_line(&r);
});
