//! Numeric CSV: every column but one is a feature; one column is the label.
//!
//! Written by hand because the format needed is small: one record per line, cells split
//! on a single-byte delimiter, whitespace around cells trimmed, cells optionally in double
//! quotes (a quoted cell may contain the delimiter; `""` inside quotes is a literal quote).
//! Quoted cells spanning lines are not supported. Blank lines are skipped; a UTF-8 byte-order
//! mark and `\r\n` line ends are accepted. A gzipped file is decompressed transparently.
//!
//! Every feature cell must be a finite number: there is no imputation, because a silently
//! filled value would change results without a trace. Errors name the file, the 1-based
//! line, the column and what would be valid.

use std::collections::BTreeMap;
use std::path::Path;

use super::Dataset;
use crate::error::{Error, Result};
use crate::nn::Targets;
use crate::tensor::Tensor;

/// Class labels above this are refused: a label such as 4000000000 is almost certainly a
/// regression target or an identifier, and `max + 1` classes would not fit in memory.
const MAX_CLASSES: usize = 1 << 16;

/// Which column holds the label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    /// The column with this header name (requires a header).
    Name(String),
    /// The column at this 0-based index.
    Index(usize),
    /// The last column.
    Last,
}

/// Whether the first non-blank line is a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderMode {
    /// Detect it: see [`CsvOptions::header`].
    Auto,
    /// The first line is a header.
    Yes,
    /// There is no header; the first line is data.
    No,
}

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The label column (default: the last).
    pub label: LabelColumn,
    /// Header handling (default: auto). In auto mode the first line is a header when one of
    /// its feature cells is not a number, or when only its label cell is not a number while
    /// the next line's label cell is one (so that data with string labels such as
    /// `5.1,3.5,1.4,0.2,setosa` is not mistaken for a header). Selecting the label by name
    /// always implies a header.
    pub header: HeaderMode,
    /// The delimiter, an ASCII byte (default `b','`). When it is whitespace (space or tab),
    /// runs of it count as one and leading or trailing runs are ignored.
    pub delimiter: u8,
    /// Real-valued labels (targets `[n, 1]`, 0 classes) instead of class labels.
    pub regression: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            label: LabelColumn::Last,
            header: HeaderMode::Auto,
            delimiter: b',',
            regression: false,
        }
    }
}

/// Reads a numeric CSV file (raw or gzipped) into a dataset with features `[n, d]`.
pub fn read_csv(path: &Path, opts: &CsvOptions) -> Result<Dataset> {
    let name = path.display().to_string();
    let bytes = super::idx::read_maybe_gzip(path)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::data(
            &name,
            Some(line),
            "the file is not valid UTF-8 text; save it as UTF-8 CSV",
        )
    })?;
    parse_csv(&name, &text, opts)
}

/// Parses CSV text held in memory; `name` labels errors.
///
/// Class labels: when every label cell is a non-negative integer (`3` or `3.0`) it is used
/// as the class index and the class count is the largest plus one. Otherwise the distinct
/// labels are numbered in sorted order (numeric order when all are integers, such as
/// `-1, 1`; byte order for strings). Non-integer numeric labels are refused as class labels.
pub fn parse_csv(name: &str, text: &str, opts: &CsvOptions) -> Result<Dataset> {
    let d = opts.delimiter;
    if !d.is_ascii() || matches!(d, b'"' | b'\n' | b'\r') {
        return Err(Error::config(
            "csv.delimiter",
            format!(
                "byte 0x{d:02x} cannot be a delimiter; use an ASCII byte other than a quote or \
                 a line end"
            ),
        ));
    }
    let rows = read_rows(name, text, d)?;
    let (first_line, first) = &rows[0];
    let width = first.len();
    let label_col = match &opts.label {
        LabelColumn::Last => width - 1,
        LabelColumn::Index(i) if *i < width => *i,
        LabelColumn::Index(i) => {
            return Err(Error::data(
                name,
                Some(*first_line),
                format!(
                    "label column index {i} is out of range: rows have {width} columns \
                     (valid 0-based indices 0..={})",
                    width - 1
                ),
            ));
        }
        LabelColumn::Name(n) => {
            if opts.header == HeaderMode::No {
                return Err(Error::config(
                    "csv.label",
                    format!("the label column \"{n}\" is given by name but header is off"),
                ));
            }
            match first.iter().position(|c| c == n) {
                Some(i) => i,
                None => {
                    return Err(Error::data(
                        name,
                        Some(*first_line),
                        format!(
                            "no column named \"{n}\" in the header; available: {}",
                            first.join(", ")
                        ),
                    ));
                }
            }
        }
    };
    if width < 2 {
        return Err(Error::data(
            name,
            Some(*first_line),
            "only one column: expected at least one feature column besides the label",
        ));
    }
    let has_header = match (opts.header, &opts.label) {
        (HeaderMode::Yes, _) | (_, LabelColumn::Name(_)) => true,
        (HeaderMode::No, _) => false,
        (HeaderMode::Auto, _) => looks_like_header(&rows, label_col, opts.regression),
    };
    let header: Option<&[String]> = has_header.then_some(first.as_slice());
    let data = if has_header { &rows[1..] } else { &rows[..] };
    if data.is_empty() {
        return Err(Error::data(
            name,
            None,
            "no data rows after the header; expected at least one",
        ));
    }
    let col_name = |c: usize| column_name(header, c);

    let n = data.len();
    let mut x = Vec::with_capacity(n * (width - 1));
    let mut labels = Vec::with_capacity(n);
    for (line, cells) in data {
        check_width(name, *line, cells.len(), width, *first_line)?;
        for (c, cell) in cells.iter().enumerate() {
            if c == label_col {
                // An empty label is missing data, not a class of its own (a trailing comma on
                // every row would otherwise make an empty last column the label).
                if cell.is_empty() {
                    return Err(Error::data(
                        name,
                        Some(*line),
                        format!(
                            "{} (the label) is empty; fill it, or if every row ends with the \
                             delimiter remove the trailing one",
                            col_name(c)
                        ),
                    ));
                }
                labels.push((*line, cell.as_str()));
            } else {
                x.push(number(name, *line, &col_name(c), cell)?);
            }
        }
    }
    let x = Tensor::from_vec(&[n, width - 1], x)?;
    let label_name = col_name(label_col);
    if opts.regression {
        let y = labels
            .iter()
            .map(|&(line, cell)| number(name, line, &label_name, cell))
            .collect::<Result<Vec<f32>>>()?;
        return Dataset::new(x, Targets::Values(Tensor::from_vec(&[n, 1], y)?), 0);
    }
    let (y, classes) = class_labels(name, &label_name, &labels)?;
    Dataset::new(x, Targets::Classes(y), classes)
}

/// Parses CSV text of features only (no label column), for prediction on new data: every
/// column is a feature. The first line is a header when one of its cells is not a number.
/// Returns the features `[n, columns]` and the header, if any; `name` labels errors.
pub fn parse_features(name: &str, text: &str, delimiter: u8) -> Result<(Tensor, Option<Vec<String>>)> {
    let rows = read_rows(name, text, delimiter)?;
    let (first_line, first) = &rows[0];
    let (first_line, width) = (*first_line, first.len());
    let has_header = first.iter().any(|c| c.parse::<f32>().is_err());
    let header = has_header.then(|| first.clone());
    let data = if has_header { &rows[1..] } else { &rows[..] };
    if data.is_empty() {
        return Err(Error::data(
            name,
            None,
            "no data rows after the header; expected at least one",
        ));
    }
    let col_name = |c: usize| column_name(header.as_deref(), c);
    let mut x = Vec::with_capacity(data.len() * width);
    for (line, cells) in data {
        check_width(name, *line, cells.len(), width, first_line)?;
        for (c, cell) in cells.iter().enumerate() {
            x.push(number(name, *line, &col_name(c), cell)?);
        }
    }
    Ok((Tensor::from_vec(&[data.len(), width], x)?, header))
}

/// The non-blank lines of `text` (a leading byte-order mark dropped) as `(line number, cells)`;
/// an empty file is an error.
fn read_rows(name: &str, text: &str, delim: u8) -> Result<Vec<(usize, Vec<String>)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if !line.trim().is_empty() {
            rows.push((i + 1, split_line(name, i + 1, line, delim)?));
        }
    }
    if rows.is_empty() {
        return Err(Error::data(name, None, "the file is empty; expected CSV rows"));
    }
    Ok(rows)
}

/// A row of `got` cells where every row has `width` (as the first, on `first_line`).
fn check_width(name: &str, line: usize, got: usize, width: usize, first_line: usize) -> Result<()> {
    if got == width {
        return Ok(());
    }
    Err(Error::data(
        name,
        Some(line),
        format!(
            "expected {width} fields (as on line {first_line}), got {got}; every row needs the same columns"
        ),
    ))
}

/// Column `c` for messages: by its header name when there is one.
fn column_name(header: Option<&[String]>, c: usize) -> String {
    match header {
        Some(h) => format!("column \"{}\" ({})", h[c], c + 1),
        None => format!("column {}", c + 1),
    }
}

/// Splits one line into trimmed, unquoted cells.
fn split_line(name: &str, line_no: usize, line: &str, delim: u8) -> Result<Vec<String>> {
    let delim = delim as char;
    let collapse = delim.is_ascii_whitespace();
    let line = if collapse { line.trim_matches(delim) } else { line };
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false; // inside a quoted section
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delim && !quoted => {
                cells.push(finish(&cell));
                cell.clear();
                if collapse {
                    while chars.peek() == Some(&delim) {
                        chars.next();
                    }
                }
            }
            c => cell.push(c),
        }
    }
    if quoted {
        return Err(Error::data(
            name,
            Some(line_no),
            "unterminated double quote; close it on the same line (quoted cells cannot span \
             lines)",
        ));
    }
    cells.push(finish(&cell));
    Ok(cells)
}

/// A cell with surrounding whitespace removed.
fn finish(cell: &str) -> String {
    cell.trim().to_string()
}

/// A finite f32 from a cell, or an error quoting it.
fn number(name: &str, line: usize, col: &str, cell: &str) -> Result<f32> {
    if cell.is_empty() {
        return Err(Error::data(
            name,
            Some(line),
            format!("{col} is empty; fill or remove missing values before training"),
        ));
    }
    match cell.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(Error::data(
            name,
            Some(line),
            format!("{col} holds \"{cell}\", which is not a finite f32; use finite numbers"),
        )),
        Err(_) => Err(Error::data(
            name,
            Some(line),
            format!("{col} holds \"{cell}\", which is not a number; features must be numeric"),
        )),
    }
}

/// Auto header detection (see [`CsvOptions::header`]).
fn looks_like_header(rows: &[(usize, Vec<String>)], label_col: usize, regression: bool) -> bool {
    let is_num = |s: &str| s.parse::<f32>().is_ok();
    let first = &rows[0].1;
    let feature_text = first
        .iter()
        .enumerate()
        .any(|(c, s)| c != label_col && !is_num(s));
    if feature_text {
        return true;
    }
    let label_text = first.get(label_col).is_some_and(|s| !is_num(s));
    if !label_text {
        return false;
    }
    if regression {
        return true;
    }
    // Only the label is text: a header if the next row's label is a number.
    rows.get(1)
        .and_then(|(_, r)| r.get(label_col))
        .is_some_and(|s| is_num(s))
}

/// Class indices and the class count from label cells.
fn class_labels(name: &str, col: &str, labels: &[(usize, &str)]) -> Result<(Vec<u32>, usize)> {
    // Integers (accepting `3.0`, as written by tools that store labels as floats).
    let ints: Option<Vec<i64>> = labels
        .iter()
        .map(|&(_, s)| {
            let v = s.parse::<f64>().ok()?;
            (v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15).then_some(v as i64)
        })
        .collect();
    if let Some(ints) = &ints {
        if ints.iter().all(|&v| v >= 0) {
            let max = ints.iter().copied().max().unwrap_or(0);
            if max as usize >= MAX_CLASSES {
                let line = labels[ints.iter().position(|&v| v == max).unwrap_or(0)].0;
                return Err(Error::data(
                    name,
                    Some(line),
                    format!(
                        "{col} holds class {max}, above the limit {}; for real-valued \
                         targets train a regression (--task regression)",
                        MAX_CLASSES - 1
                    ),
                ));
            }
            let y = ints.iter().map(|&v| v as u32).collect();
            return Ok((y, max as usize + 1));
        }
        // Negative integer labels (such as -1 / 1): number them in numeric order.
        let index: BTreeMap<i64, u32> = ints
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .zip(0..)
            .collect();
        let y = ints.iter().map(|v| index[v]).collect();
        return Ok((y, index.len()));
    }
    if let Some(&(line, cell)) = labels
        .iter()
        .find(|(_, s)| s.parse::<f64>().is_ok_and(|v| v.fract() != 0.0 || !v.is_finite()))
    {
        return Err(Error::data(
            name,
            Some(line),
            format!(
                "{col} holds \"{cell}\", not an integer class label; for real-valued \
                 targets train a regression (--task regression)"
            ),
        ));
    }
    // String labels: numbered in sorted order so the mapping does not depend on row order.
    let index: BTreeMap<&str, u32> = labels
        .iter()
        .map(|&(_, s)| s)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .zip(0..)
        .collect();
    if index.len() > MAX_CLASSES {
        return Err(Error::data(
            name,
            None,
            format!(
                "{col} has {} distinct labels, above the limit {MAX_CLASSES}",
                index.len()
            ),
        ));
    }
    let y = labels.iter().map(|(_, s)| index[s]).collect();
    Ok((y, index.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> CsvOptions {
        CsvOptions::default()
    }

    fn err(text: &str, o: &CsvOptions) -> String {
        parse_csv("t.csv", text, o).unwrap_err().to_string()
    }

    #[test]
    fn header_auto_detected_and_label_last() {
        let d = parse_csv("t.csv", "a,b,y\n1,2,0\n3,4,2\n", &opts()).unwrap();
        assert_eq!(d.x.shape(), &[2, 2]);
        assert_eq!(d.x.data(), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(d.y, Targets::Classes(vec![0, 2]));
        assert_eq!(d.classes, 3);
        // No header: the first line is data.
        let d = parse_csv("t.csv", "1,2,0\n3,4,1\n", &opts()).unwrap();
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn features_only_files_have_every_column_as_a_feature() {
        let (x, h) = parse_features("n.csv", "p0,p1,p2\n1,2,3\n4,5,6\n", b',').unwrap();
        assert_eq!(
            (x.shape(), x.data()),
            (&[2usize, 3][..], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0][..])
        );
        assert_eq!(h.unwrap(), ["p0", "p1", "p2"]);
        let (x, h) = parse_features("n.csv", "1,2\n\n-3,4e1\n", b',').unwrap();
        assert_eq!((x.data(), h), (&[1.0, 2.0, -3.0, 40.0][..], None));
        let e = parse_features("n.csv", "1,2\n3\n", b',').unwrap_err().to_string();
        assert!(e.contains("n.csv:2:") && e.contains("expected 2 fields"), "{e}");
        let e = parse_features("n.csv", "a,b\n1,x\n", b',')
            .unwrap_err()
            .to_string();
        assert!(e.contains("n.csv:2:") && e.contains("column \"b\" (2)"), "{e}");
        assert!(parse_features("n.csv", "a,b\n", b',').is_err());
    }

    #[test]
    fn string_labels_without_header_are_data() {
        let text = "5.1,3.5,setosa\n6.0,2.9,versicolor\n5.0,3.4,setosa\n";
        let d = parse_csv("iris.csv", text, &opts()).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.y, Targets::Classes(vec![0, 1, 0]));
        assert_eq!(d.classes, 2);
        // Numeric feature names with a text label name are a header.
        let d = parse_csv("t.csv", "0,1,label\n1,2,3\n", &opts()).unwrap();
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn header_modes_forced() {
        let no = CsvOptions {
            header: HeaderMode::No,
            ..opts()
        };
        let e = err("a,b,y\n1,2,0\n", &no);
        assert!(e.starts_with("t.csv:1: column 1 holds \"a\""), "{e}");
        let yes = CsvOptions {
            header: HeaderMode::Yes,
            ..opts()
        };
        let d = parse_csv("t.csv", "1,2,0\n3,4,1\n", &yes).unwrap();
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn label_by_name_and_index() {
        let text = "y,a,b\n1,0.5,2\n0,1.5,3\n";
        let by_name = CsvOptions {
            label: LabelColumn::Name("y".into()),
            ..opts()
        };
        let by_index = CsvOptions {
            label: LabelColumn::Index(0),
            ..opts()
        };
        let a = parse_csv("t.csv", text, &by_name).unwrap();
        let b = parse_csv("t.csv", text, &by_index).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.x.data(), &[0.5, 2.0, 1.5, 3.0]);
        assert_eq!(a.y, Targets::Classes(vec![1, 0]));
    }

    #[test]
    fn regression_quotes_whitespace_and_delimiters() {
        let o = CsvOptions {
            regression: true,
            delimiter: b';',
            ..opts()
        };
        let text = "\u{feff}\"x 1\" ; \"x;2\" ; target\r\n 1 ; 2 ; 0.25\r\n\r\n3;4;-1.5\r\n";
        let d = parse_csv("t.csv", text, &o).unwrap();
        assert_eq!(d.classes, 0);
        assert_eq!(
            d.y,
            Targets::Values(Tensor::from_vec(&[2, 1], vec![0.25, -1.5]).unwrap())
        );
        let ws = CsvOptions {
            delimiter: b' ',
            ..opts()
        };
        let d = parse_csv("t.txt", "  1   2  0\n3 4 1  \n", &ws).unwrap();
        assert_eq!(d.x.data(), &[1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn ragged_row_is_rejected() {
        let e = err("a,b,y\n1,2,0\n\n3,0\n", &opts());
        assert!(e.starts_with("t.csv:4: expected 3 fields"), "{e}");
        assert!(e.contains("got 2"), "{e}");
    }

    #[test]
    fn non_numeric_and_non_finite_cells_are_rejected() {
        let e = err("a,b,y\n1,2,0\n1,x7,1\n", &opts());
        assert!(e.starts_with("t.csv:3: column \"b\" (2) holds \"x7\""), "{e}");
        let e = err("a,b,y\n1,NaN,0\n", &opts());
        assert!(e.contains("\"NaN\", which is not a finite f32"), "{e}");
        let e = err("a,b,y\n1,inf,0\n", &opts());
        assert!(e.contains("not a finite"), "{e}");
        let e = err("a,b,y\n1,,0\n", &opts());
        assert!(e.contains("column \"b\" (2) is empty"), "{e}");
        let e = err("a,b,y\n1,\"2,0\n", &opts());
        assert!(e.contains("unterminated double quote"), "{e}");
        let e = err("a,b,y\n1,2,0.5\n", &opts());
        assert!(e.contains("not an integer class label"), "{e}");
    }

    #[test]
    fn missing_label_column_is_rejected() {
        let o = CsvOptions {
            label: LabelColumn::Name("label".into()),
            ..opts()
        };
        let e = err("a,b,y\n1,2,0\n", &o);
        assert!(e.contains("no column named \"label\""), "{e}");
        assert!(e.contains("available: a, b, y"), "{e}");
        let o = CsvOptions {
            label: LabelColumn::Index(3),
            ..opts()
        };
        let e = err("1,2,0\n", &o);
        assert!(e.contains("index 3 is out of range"), "{e}");
    }

    #[test]
    fn an_empty_label_is_an_error_naming_line_and_column() {
        // Regression: a trailing comma on every row made the empty last column the label and
        // the real label a feature.
        let e = err("1,2,0,\n3,4,1,\n", &opts());
        assert!(
            e.contains(":1") && e.contains("column 4") && e.contains("label"),
            "{e}"
        );
    }

    #[test]
    fn empty_inputs_are_rejected() {
        assert!(err("", &opts()).contains("empty"));
        assert!(err("\n \n", &opts()).contains("empty"));
        assert!(err("a,b,y\n", &opts()).contains("no data rows"));
        assert!(err("1\n2\n", &opts()).contains("only one column"));
    }

    #[test]
    fn negative_integer_labels_are_renumbered() {
        let d = parse_csv("t.csv", "1,-1\n2,1\n3,-1\n", &opts()).unwrap();
        assert_eq!(d.y, Targets::Classes(vec![0, 1, 0]));
        assert_eq!(d.classes, 2);
        let d = parse_csv("t.csv", "1,2.0\n2,0\n", &opts()).unwrap();
        assert_eq!(d.y, Targets::Classes(vec![2, 0]));
    }

    #[test]
    fn reads_gzipped_file() {
        use flate2::Compression;
        use flate2::write::GzEncoder;
        use std::io::Write;
        let path = std::env::temp_dir().join(format!("droplab-csv-{}.csv.gz", std::process::id()));
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(b"a,y\n1,0\n2,1\n").unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        let d = read_csv(&path, &opts());
        let _ = std::fs::remove_file(&path);
        assert_eq!(d.unwrap().x.data(), &[1.0, 2.0]);
    }
}
