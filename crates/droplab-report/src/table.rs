//! Aligned tables: GitHub-flavoured markdown and plain text for the terminal.
//!
//! Widths are counted in `char`s, which is right for ASCII and most Latin text (wide CJK glyphs
//! and emoji would need a display-width table). Rows shorter than the widest row or the header
//! are padded with empty cells; the table has as many columns as its widest line.

/// Whether a cell reads as a number: anything `f64` parses, optionally followed by `%`.
fn is_number(cell: &str) -> bool {
    let s = cell.trim();
    let s = s.strip_suffix('%').unwrap_or(s).trim_end();
    !s.is_empty() && s.parse::<f64>().is_ok()
}

/// The number of columns: the widest of the header and the rows.
fn column_count(headers: &[&str], rows: &[Vec<String>]) -> usize {
    rows.iter()
        .map(Vec::len)
        .chain([headers.len()])
        .max()
        .unwrap_or(0)
}

/// A column is numeric when it has a non-empty body cell and all of them are numbers.
fn numeric_columns(ncols: usize, rows: &[Vec<String>]) -> Vec<bool> {
    (0..ncols)
        .map(|c| {
            let mut cells = rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .peekable();
            cells.peek().is_some() && cells.all(is_number)
        })
        .collect()
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad(s: &str, w: usize, right: bool) -> String {
    let fill = " ".repeat(w.saturating_sub(width(s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// A markdown cell: one line, pipes escaped.
fn md_cell(s: &str) -> String {
    s.trim().replace(['\r', '\n'], " ").replace('|', "\\|")
}

/// An aligned GitHub-flavoured markdown table; numeric columns are right-aligned (`---:`).
///
/// Pipes in cells are escaped and line breaks become spaces. Returns an empty string for a
/// table without columns. Each line ends with `\n`.
pub fn markdown_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let ncols = column_count(headers, rows);
    if ncols == 0 {
        return String::new();
    }
    let numeric = numeric_columns(ncols, rows);
    let header: Vec<String> = (0..ncols)
        .map(|c| md_cell(headers.get(c).unwrap_or(&"")))
        .collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| (0..ncols).map(|c| md_cell(r.get(c).map_or("", |s| s))).collect())
        .collect();
    let widths: Vec<usize> = (0..ncols)
        .map(|c| {
            body.iter()
                .map(|r| width(&r[c]))
                .chain([width(&header[c]), 3])
                .max()
                .unwrap_or(3)
        })
        .collect();

    let line = |cells: &[String]| {
        let cells: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(c, s)| pad(s, widths[c], numeric[c]))
            .collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut out = line(&header);
    let rule: Vec<String> = (0..ncols)
        .map(|c| {
            if numeric[c] {
                format!("{}:", "-".repeat(widths[c] - 1))
            } else {
                "-".repeat(widths[c])
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for r in &body {
        out.push_str(&line(r));
    }
    out
}

/// A plain aligned table for the terminal: a header, a rule of dashes, then the rows; columns
/// separated by two spaces, cells that parse as numbers right-aligned (as are the headers of
/// numeric columns), trailing spaces trimmed. Each line ends with `\n`.
pub fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let ncols = column_count(headers, rows);
    if ncols == 0 {
        return String::new();
    }
    let numeric = numeric_columns(ncols, rows);
    let cell = |r: &Vec<String>, c: usize| r.get(c).map_or("", |s| s.trim()).replace(['\r', '\n'], " ");
    let header: Vec<String> = (0..ncols)
        .map(|c| headers.get(c).unwrap_or(&"").trim().to_owned())
        .collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| (0..ncols).map(|c| cell(r, c)).collect())
        .collect();
    let widths: Vec<usize> = (0..ncols)
        .map(|c| {
            body.iter()
                .map(|r| width(&r[c]))
                .chain([width(&header[c])])
                .max()
                .unwrap_or(0)
        })
        .collect();

    let mut out = String::new();
    let mut push = |cells: Vec<String>| {
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    };
    push(
        (0..ncols)
            .map(|c| pad(&header[c], widths[c], numeric[c]))
            .collect(),
    );
    push((0..ncols).map(|c| "-".repeat(widths[c])).collect());
    for r in &body {
        push(
            (0..ncols)
                .map(|c| pad(&r[c], widths[c], is_number(&r[c])))
                .collect(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec!["dropout".into(), "0.9812".into(), "37".into(), "1.2%".into()],
            vec!["no dropout".into(), "0.97".into(), "12".into(), "n/a".into()],
            vec![
                "max-norm | p=0.5".into(),
                "0.9".into(),
                "101".into(),
                "-0.5%".into(),
            ],
        ]
    }

    const HEADERS: [&str; 4] = ["run", "val acc", "best", "gap"];

    /// Splits a markdown row at unescaped pipes.
    fn md_cells(line: &str) -> Vec<String> {
        let mut cells = vec![String::new()];
        let mut prev = ' ';
        for ch in line.chars() {
            if ch == '|' && prev != '\\' {
                cells.push(String::new());
            } else {
                cells.last_mut().unwrap().push(ch);
            }
            prev = ch;
        }
        cells
    }

    #[test]
    fn markdown_has_separator_and_consistent_columns() {
        let t = markdown_table(&HEADERS, &rows());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2 + 3);
        // Every line: leading and trailing pipe, four columns, same length.
        for l in &lines {
            let cells = md_cells(l);
            assert_eq!(cells.len(), 4 + 2, "{l}");
            assert!(cells[0].is_empty() && cells[5].is_empty());
            assert_eq!(width(l), width(lines[0]), "{t}");
        }
        // The separator row: dashes, numeric columns right-aligned.
        let sep = md_cells(lines[1]);
        assert!(sep[1].trim().chars().all(|c| c == '-'));
        assert!(sep[2].trim().ends_with("-:"));
        assert!(sep[3].trim().ends_with("-:"));
        assert!(
            sep[4].trim().chars().all(|c| c == '-'),
            "mixed column is left-aligned"
        );
        assert!(t.contains("max-norm \\| p=0.5"));
        assert!(lines[0].starts_with("| run "));
        assert!(lines[2].contains("|  0.9812 |"));
        assert!(lines[4].contains("|     0.9 |"));
    }

    #[test]
    fn markdown_pads_ragged_rows() {
        let rows = vec![
            vec!["a".to_string()],
            vec!["b".into(), "2".into(), "extra".into()],
        ];
        let t = markdown_table(&["x", "y"], &rows);
        for l in t.lines() {
            assert_eq!(md_cells(l).len(), 3 + 2, "{t}");
        }
        assert_eq!(markdown_table(&[], &[]), "");
        // Header only.
        let t = markdown_table(&["a", "b"], &[]);
        assert_eq!(t, "| a   | b   |\n| --- | --- |\n");
    }

    #[test]
    fn text_table_aligns() {
        let t = text_table(&HEADERS, &rows());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2 + 3);
        assert!(lines[1].chars().all(|c| c == '-' || c == ' '));
        // Column starts from the rule line.
        let starts: Vec<usize> = std::iter::once(0)
            .chain(lines[1].match_indices("  -").map(|(i, _)| i + 2))
            .collect();
        assert_eq!(starts.len(), 4);
        let rule_ends: Vec<usize> = lines[1]
            .match_indices("-  ")
            .map(|(i, _)| i + 1)
            .chain([lines[1].len()])
            .collect();
        // Text left-aligned at the column start.
        for l in &lines[2..] {
            assert_ne!(l.as_bytes()[0], b' ');
        }
        // Numbers right-aligned at the column end: "val acc" and "best" columns.
        for l in &lines[2..] {
            for c in [1, 2] {
                let cell = &l[starts[c]..rule_ends[c]];
                assert!(!cell.ends_with(' ') && is_number(cell), "{cell:?} in {l:?}");
            }
        }
        // The header of a numeric column is right-aligned too.
        assert_eq!(&lines[0][starts[1]..rule_ends[1]], "val acc");
        assert_eq!(&lines[0][starts[2]..rule_ends[2]], "best");
        // In the mixed column, numbers go right and text left.
        assert!(lines[2].ends_with(" 1.2%"));
        assert!(lines[3].ends_with("n/a"));
        assert_eq!(&lines[3][starts[3]..], "n/a");
        assert!(!t.lines().any(|l| l.ends_with(' ')));
        assert_eq!(text_table(&[], &[]), "");
    }

    #[test]
    fn numbers() {
        for s in ["1", "-0.5", "1e-3", "12.5%", " 3 ", "inf", "NaN"] {
            assert!(is_number(s), "{s}");
        }
        for s in ["", "%", "n/a", "1.2.3", "0x10", "37 epochs"] {
            assert!(!is_number(s), "{s}");
        }
    }
}
