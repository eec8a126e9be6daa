//! Tables in the terminal: ids in the order a person expects (`COMSCI-31` before
//! `COMSCI-111`), and columns as wide as their widest cell, so long titles keep the
//! rows in line.

pub use murphy_core::natural_cmp;

/// Titles longer than this many characters are cut with an ellipsis, so one long
/// title cannot push the columns after it off a terminal.
pub const TITLE_CHARS_MAX: usize = 40;

/// `text` padded with spaces to `width` characters, or cut to it with an ellipsis.
pub fn fit(text: &str, width: usize) -> String {
    let chars = text.chars().count();
    if chars <= width {
        return format!("{text}{}", " ".repeat(width - chars));
    }
    let cut: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// Rows of cells as lines, each column as wide as its widest cell (the last column
/// is not padded). Widths count characters, which is right for the ids, titles and
/// numbers murphy prints.
pub fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c + 1 == row.len() {
                    cell.clone()
                } else {
                    fit(cell, widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn numbers_in_ids_sort_as_numbers() {
        let mut ids = vec![
            "COMSCI-111-1",
            "COMSCI-31-2",
            "COMSCI-35L-1",
            "COMSCI-31-1",
            "COMSCI-33-1",
            "MATH-31A-1",
            "MATH-3-1",
            "COMSCI-31-10",
        ];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            ids,
            [
                "COMSCI-31-1",
                "COMSCI-31-2",
                "COMSCI-31-10",
                "COMSCI-33-1",
                "COMSCI-35L-1",
                "COMSCI-111-1",
                "MATH-3-1",
                "MATH-31A-1"
            ]
        );
        assert_eq!(
            natural_cmp("A-07", "A-7"),
            "A-07".cmp("A-7"),
            "a tie falls back to text"
        );
        assert_eq!(natural_cmp("A", "A-1"), Ordering::Less);
    }

    #[test]
    fn columns_line_up_and_long_cells_are_cut() {
        let rows = vec![
            vec!["ID".into(), "TITLE".into(), "UNITS".into()],
            vec!["A-1".into(), fit("Short", 12), "4".into()],
            vec!["B-100".into(), fit("A title far too long to fit", 12), "5".into()],
        ];
        let text = render(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID     TITLE         UNITS");
        assert_eq!(lines[1], "A-1    Short         4");
        assert_eq!(lines[2], "B-100  A title far…  5");
    }
}
