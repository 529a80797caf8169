// Shared by the fuzz targets (included with `include!`): the checks every reader's result must
// pass whatever the input.

/// An error is one line (the house rule for messages) and names something: never a panic.
#[allow(dead_code)]
fn one_line<T, E: std::fmt::Display>(r: &Result<T, E>) {
    if let Err(e) = r {
        let msg = e.to_string();
        assert!(!msg.is_empty(), "an empty error message");
        assert!(!msg.contains('\n'), "a message of several lines: {msg:?}");
    }
}
