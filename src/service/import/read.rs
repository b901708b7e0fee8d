//! Reading an import file: the header checked as a whole, then each row with the line it
//! starts on and its cells by column.

use super::{COLUMNS, REQUIRED_COLUMNS, RowProblem};
use crate::domain::ValidationErrors;
use crate::error::{Error, Result};
use std::io::Read;

/// One data row: its line and its cells by [`COLUMNS`] index (`None`: no such column).
pub(super) struct Row {
    pub(super) line: u64,
    cells: Vec<Option<String>>,
    /// Problems found while reading (cell count, encoding); the row is not checked further.
    pub(super) problems: Vec<RowProblem>,
}

impl Row {
    pub(super) fn cell(&self, column: &str) -> &str {
        COLUMNS
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.cells[i].as_deref())
            .unwrap_or("")
    }

    pub(super) fn optional(&self, column: &str) -> Option<String> {
        Some(self.cell(column).to_owned()).filter(|s| !s.trim().is_empty())
    }
}

fn header_error(rule: impl Into<String>) -> Error {
    let mut e = ValidationErrors::new();
    e.push("header", rule);
    e.into()
}

fn read_error(e: csv::Error) -> Error {
    let mut v = ValidationErrors::new();
    v.push("file", format!("cannot read it as CSV: {e}"));
    v.into()
}

fn list(names: &[String]) -> String {
    names.join(", ")
}

/// Reads the header and every row; header problems are an error, row problems are kept.
pub(super) fn read_rows<R: Read>(mut reader: R) -> Result<Vec<Row>> {
    // Import files are small; having the bytes at hand gives exact line numbers.
    let mut input = Vec::new();
    reader.read_to_end(&mut input).map_err(|e| {
        let mut v = ValidationErrors::new();
        v.push("file", format!("cannot read it: {e}"));
        Error::from(v)
    })?;
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&input);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let header = rdr.byte_headers().map_err(read_error)?.clone();
    if header.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
        return Err(header_error(format!(
            "the file is empty or has no header row; the first line names the columns: {}",
            COLUMNS.join(", ")
        )));
    }
    // Which column each cell of a row belongs to.
    let mut positions: Vec<usize> = Vec::with_capacity(header.len());
    let (mut unknown, mut repeated, mut unnamed) = (Vec::new(), Vec::new(), Vec::new());
    for (i, raw) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(raw).trim().to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == name) {
            _ if name.is_empty() => unnamed.push((i + 1).to_string()),
            Some(p) if positions.contains(&p) => {
                if !repeated.contains(&name) {
                    repeated.push(name);
                }
            }
            Some(p) => positions.push(p),
            None => unknown.push(name),
        }
    }
    let missing: Vec<String> = REQUIRED_COLUMNS
        .iter()
        .filter(|c| !positions.iter().any(|p| COLUMNS[*p] == **c))
        .map(|c| c.to_string())
        .collect();
    let mut faults = Vec::new();
    if !unknown.is_empty() {
        let s = if unknown.len() == 1 { "" } else { "s" };
        faults.push(format!("unknown column{s} {}", list(&unknown)));
    }
    if !repeated.is_empty() {
        let s = if repeated.len() == 1 { "" } else { "s" };
        faults.push(format!("repeated column{s} {}", list(&repeated)));
    }
    if !unnamed.is_empty() {
        let s = if unnamed.len() == 1 { "" } else { "s" };
        faults.push(format!("column{s} {} without a name", list(&unnamed)));
    }
    if !missing.is_empty() {
        let s = if missing.len() == 1 { "" } else { "s" };
        faults.push(format!("missing column{s} {}", list(&missing)));
    }
    if !faults.is_empty() {
        return Err(header_error(format!(
            "{} (the columns are {}; {} are required)",
            faults.join("; "),
            COLUMNS.join(", "),
            REQUIRED_COLUMNS.join(", ")
        )));
    }

    let mut rows = Vec::new();
    for record in rdr.byte_records() {
        let record = record.map_err(read_error)?;
        let line = start_line(input, record.position());
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let mut row = Row {
            line,
            cells: vec![None; COLUMNS.len()],
            problems: Vec::new(),
        };
        if record.len() != header.len() {
            row.problems.push(RowProblem {
                line,
                field: "row",
                rule: format!(
                    "has {} cells but the header has {} columns (a cell with a comma, a quote or a line break must be in double quotes)",
                    record.len(),
                    header.len()
                ),
            });
        } else {
            for (cell, &p) in record.iter().zip(&positions) {
                match std::str::from_utf8(cell) {
                    Ok(s) => row.cells[p] = Some(s.to_owned()),
                    Err(_) => row.problems.push(RowProblem {
                        line,
                        field: COLUMNS[p],
                        rule: "is not valid UTF-8 text (save the file as UTF-8)".into(),
                    }),
                }
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The line where a record starts. The reader reports where it began reading, right after
/// the previous record: blank lines it skipped before this one still need counting.
fn start_line(input: &[u8], pos: Option<&csv::Position>) -> u64 {
    let Some(pos) = pos else { return 0 };
    let from = usize::try_from(pos.byte()).unwrap_or(usize::MAX);
    let skipped = input
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    pos.line() + skipped as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(csv: &str) -> Result<Vec<Row>> {
        read_rows(csv.as_bytes())
    }

    fn header_message(csv: &str) -> String {
        match rows(csv) {
            Err(Error::Validation(e)) => e.to_string(),
            Err(e) => panic!("not a header error: {e}"),
            Ok(_) => panic!("header accepted"),
        }
    }

    const HEADER: &str = "partner,title,kind,audience_scope,valid_from,valid_until";

    #[test]
    fn lines_are_as_in_the_file_and_blank_rows_are_skipped() {
        let csv = format!(
            "{HEADER}\n1,A,coupon,public,x,y\n\n1,\"two\nlines\",link,public,x,y\n,,,,,\n1,C,coupon,public,x,y\n"
        );
        let r = rows(&csv).unwrap();
        let lines: Vec<u64> = r.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 7]);
        assert_eq!(r[1].cell("title"), "two\nlines");
        assert_eq!(r[0].cell("description"), "", "absent column reads empty");
    }

    #[test]
    fn lines_count_with_crlf_and_leading_blank_lines() {
        let csv = format!("{HEADER}\r\n\r\n\r\n1,A,coupon,public,x,y\r\n1,B,coupon,public,x,y");
        let lines: Vec<u64> = rows(&csv).unwrap().iter().map(|r| r.line).collect();
        assert_eq!(lines, [4, 5]);
    }

    #[test]
    fn header_is_case_insensitive_in_any_order_with_a_bom() {
        let csv = "\u{feff}Valid_Until, TITLE ,partner,kind,audience_scope,valid_from\n";
        assert!(rows(csv).unwrap().is_empty());
    }

    #[test]
    fn bad_headers_name_the_columns() {
        let m = header_message(&format!("{HEADER},colour,size\n"));
        assert!(
            m.starts_with("header: unknown columns colour, size (the columns are partner, title,"),
            "{m}"
        );
        let m = header_message("partner,title,title,kind\n");
        assert!(
            m.starts_with(
                "header: repeated column title; missing columns audience_scope, valid_from, valid_until ("
            ),
            "{m}"
        );
        assert!(header_message("").contains("no header row"));
    }

    #[test]
    fn a_row_with_the_wrong_number_of_cells_is_one_problem() {
        let r = rows(&format!("{HEADER}\n1,a,b\n")).unwrap();
        assert_eq!(r[0].problems.len(), 1);
        assert_eq!(r[0].problems[0].field, "row");
        assert!(
            r[0].problems[0]
                .rule
                .starts_with("has 3 cells but the header has 6 columns")
        );
    }
}
