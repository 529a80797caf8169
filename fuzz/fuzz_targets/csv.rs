//! CSV text: the first byte picks the options (label column, header mode, delimiter,
//! regression), the rest is the file.
#![no_main]

use droplab::data::csv::{CsvOptions, HeaderMode, LabelColumn, parse_csv};
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Some((&opts, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let o = CsvOptions {
        label: match opts & 3 {
            0 => LabelColumn::Last,
            1 => LabelColumn::Index((opts >> 4) as usize),
            2 => LabelColumn::Name("label".into()),
            _ => LabelColumn::Index(0),
        },
        header: match (opts >> 2) & 3 {
            0 => HeaderMode::Auto,
            1 => HeaderMode::Yes,
            _ => HeaderMode::No,
        },
        delimiter: if opts & 0x40 != 0 { b' ' } else { b',' },
        regression: opts & 0x80 != 0,
    };
    let r = parse_csv("fuzz.csv", text, &o);
    one_line(&r);
    if let Ok(d) = r {
        // What came back is a consistent dataset.
        assert_eq!(d.x.rows(), d.len());
        assert!(
            d.x.data().iter().all(|v| v.is_finite()),
            "a non-finite feature was accepted"
        );
    }
});
