//! Reading an import file as a stream: the header checked as a whole against the import's
//! [`Layout`], then each row with the line it starts on and its cells by column. The file is
//! never held whole: rows come one at a time, and only the bytes of the row being read (and
//! the reader's buffer) are kept for finding its line.

use super::RowProblem;
use crate::domain::ValidationErrors;
use crate::error::{Error, Result};
use std::io::{self, Read};

/// The columns one kind of import file has.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Every column the file may have, in the order problems within a row are reported.
    pub(crate) columns: &'static [&'static str],
    /// The columns every file must have (the others may be left out).
    pub(crate) required: &'static [&'static str],
}

/// One data row: its line and its cells by the layout's column index (`None`: no such
/// column in the file).
pub(crate) struct Row {
    pub(crate) line: u64,
    columns: &'static [&'static str],
    cells: Vec<Option<String>>,
    /// Problems found while reading (cell count, encoding); the row is not checked further.
    pub(crate) problems: Vec<RowProblem>,
}

impl Row {
    pub(crate) fn cell(&self, column: &str) -> &str {
        self.columns
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.cells[i].as_deref())
            .unwrap_or("")
    }

    pub(crate) fn optional(&self, column: &str) -> Option<String> {
        Some(self.cell(column).to_owned()).filter(|s| !s.trim().is_empty())
    }
}

fn header_error(rule: impl Into<String>) -> Error {
    let mut e = ValidationErrors::new();
    e.push("header", rule);
    e.into()
}

fn cannot_read(e: &io::Error) -> Error {
    let mut v = ValidationErrors::new();
    v.push("file", format!("cannot read it: {e}"));
    v.into()
}

fn read_error(e: csv::Error) -> Error {
    if let csv::ErrorKind::Io(io) = e.kind() {
        return cannot_read(io);
    }
    let mut v = ValidationErrors::new();
    v.push("file", format!("cannot read it as CSV: {e}"));
    v.into()
}

fn list(names: &[String]) -> String {
    names.join(", ")
}

/// Reads the header and every row at once (for files small enough to hold: deals).
pub(crate) fn read_rows<R: Read>(reader: R, layout: &'static Layout) -> Result<Vec<Row>> {
    let mut rows = Rows::open(reader, layout)?;
    let mut all = Vec::new();
    while let Some(row) = rows.next_row()? {
        all.push(row);
    }
    Ok(all)
}

/// The rows of a file, one at a time. Header problems are an error of [`Rows::open`]; row
/// problems are kept in each [`Row`]; a file that stops being readable is an error of
/// [`Rows::next_row`].
pub(crate) struct Rows<R: Read> {
    rdr: csv::Reader<Tee<BomStripped<R>>>,
    layout: &'static Layout,
    /// Which layout column each cell of a row belongs to.
    positions: Vec<usize>,
    record: csv::ByteRecord,
}

impl<R: Read> Rows<R> {
    /// Reads and checks the header: its columns are the layout's in any order (case and
    /// surrounding blanks ignored), each at most once, the required ones present.
    pub(crate) fn open(reader: R, layout: &'static Layout) -> Result<Self> {
        let input = BomStripped::new(reader).map_err(|e| cannot_read(&e))?;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(Tee::new(input));
        let header = rdr.byte_headers().map_err(read_error)?.clone();
        let columns = layout.columns;
        if header.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            return Err(header_error(format!(
                "the file is empty or has no header row; the first line names the columns: {}",
                columns.join(", ")
            )));
        }
        let mut positions: Vec<usize> = Vec::with_capacity(header.len());
        let (mut unknown, mut repeated, mut unnamed) = (Vec::new(), Vec::new(), Vec::new());
        for (i, raw) in header.iter().enumerate() {
            let name = String::from_utf8_lossy(raw).trim().to_ascii_lowercase();
            match columns.iter().position(|c| *c == name) {
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
        let missing: Vec<String> = layout
            .required
            .iter()
            .filter(|c| !positions.iter().any(|p| columns[*p] == **c))
            .map(|c| c.to_string())
            .collect();
        let mut faults = Vec::new();
        let s = |v: &Vec<String>| if v.len() == 1 { "" } else { "s" };
        if !unknown.is_empty() {
            faults.push(format!("unknown column{} {}", s(&unknown), list(&unknown)));
        }
        if !repeated.is_empty() {
            faults.push(format!(
                "repeated column{} {}",
                s(&repeated),
                list(&repeated)
            ));
        }
        if !unnamed.is_empty() {
            faults.push(format!(
                "column{} {} without a name",
                s(&unnamed),
                list(&unnamed)
            ));
        }
        if !missing.is_empty() {
            faults.push(format!("missing column{} {}", s(&missing), list(&missing)));
        }
        if !faults.is_empty() {
            return Err(header_error(format!(
                "{} (the columns are {}; {} are required)",
                faults.join("; "),
                columns.join(", "),
                layout.required.join(", ")
            )));
        }
        let header_end = rdr.position().byte();
        rdr.get_mut().forget_before(header_end);
        Ok(Self {
            rdr,
            layout,
            positions,
            record: csv::ByteRecord::new(),
        })
    }

    /// The next row that is not blank, or `None` at the end of the file.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row>> {
        loop {
            if !self
                .rdr
                .read_byte_record(&mut self.record)
                .map_err(read_error)?
            {
                return Ok(None);
            }
            let line = match self.record.position() {
                Some(pos) => pos.line() + self.rdr.get_ref().blank_lines_from(pos.byte()),
                None => 0,
            };
            let end = self.rdr.position().byte();
            self.rdr.get_mut().forget_before(end);
            let record = &self.record;
            if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            let columns = self.layout.columns;
            let mut row = Row {
                line,
                columns,
                cells: vec![None; columns.len()],
                problems: Vec::new(),
            };
            if record.len() != self.positions.len() {
                row.problems.push(RowProblem {
                    line,
                    field: "row",
                    rule: format!(
                        "has {} cells but the header has {} columns (a cell with a comma, a quote or a line break must be in double quotes)",
                        record.len(),
                        self.positions.len()
                    ),
                });
            } else {
                for (cell, &p) in record.iter().zip(&self.positions) {
                    match std::str::from_utf8(cell) {
                        Ok(s) => row.cells[p] = Some(s.to_owned()),
                        Err(_) => row.problems.push(RowProblem {
                            line,
                            field: columns[p],
                            rule: "is not valid UTF-8 text (save the file as UTF-8)".into(),
                        }),
                    }
                }
            }
            return Ok(Some(row));
        }
    }
}

/// The input without a UTF-8 byte order mark at its start.
struct BomStripped<R> {
    head: [u8; 3],
    /// The part of `head` still to be handed out.
    at: usize,
    len: usize,
    inner: R,
}

impl<R: Read> BomStripped<R> {
    fn new(mut inner: R) -> io::Result<Self> {
        let mut head = [0u8; 3];
        let mut len = 0;
        while len < head.len() {
            match inner.read(&mut head[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let at = if head[..len] == *b"\xEF\xBB\xBF" {
            3
        } else {
            0
        };
        Ok(Self {
            head,
            at,
            len,
            inner,
        })
    }
}

impl<R: Read> Read for BomStripped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.len {
            let n = (self.len - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// Keeps the bytes the CSV reader has taken and not yet passed, so that the blank lines it
/// skips before a row can be counted (it reports where it began reading, right after the
/// previous row, not where the row starts).
struct Tee<R> {
    inner: R,
    /// The input from byte `start` on.
    window: Vec<u8>,
    start: u64,
}

impl<R> Tee<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            window: Vec::with_capacity(64 * 1024),
            start: 0,
        }
    }

    /// How many line breaks there are in the run of line breaks at byte `from`.
    fn blank_lines_from(&self, from: u64) -> u64 {
        let skip = usize::try_from(from.saturating_sub(self.start)).unwrap_or(usize::MAX);
        self.window
            .get(skip..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .filter(|b| **b == b'\n')
            .count() as u64
    }

    /// The bytes before `offset` are no longer needed (dropped in batches, not row by row).
    fn forget_before(&mut self, offset: u64) {
        let k = usize::try_from(offset.saturating_sub(self.start)).unwrap_or(usize::MAX);
        let k = k.min(self.window.len());
        if k >= 64 * 1024 {
            self.window.drain(..k);
            self.start += k as u64;
        }
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.window.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{COLUMNS, REQUIRED_COLUMNS};
    use super::*;

    static DEALS: Layout = Layout {
        columns: COLUMNS,
        required: REQUIRED_COLUMNS,
    };

    fn rows(csv: &str) -> Result<Vec<Row>> {
        read_rows(csv.as_bytes(), &DEALS)
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

    /// A reader that hands out a few bytes at a time, as a pipe or a slow disk may.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_stay_exact_over_a_long_file_read_in_small_pieces() {
        // Far more than the reader's buffer and the kept window, with blank lines, CRLF
        // and quoted line breaks spread through it.
        let mut csv = format!("\u{feff}{HEADER}\n");
        let mut want = Vec::new();
        let mut line = 2u64;
        for i in 0..20_000u64 {
            match i % 5 {
                0 => {
                    csv.push_str("\n\r\n");
                    line += 2;
                }
                1 => {
                    csv.push_str(&format!("1,\"t{i}\nsecond\",coupon,public,x,y\r\n"));
                    want.push(line);
                    line += 2;
                    continue;
                }
                _ => {}
            }
            csv.push_str(&format!("1,t{i},coupon,public,x,y\n"));
            want.push(line);
            line += 1;
        }
        for piece in [1, 7, 4096, 1 << 20] {
            let mut rows = Rows::open(Trickle(csv.as_bytes(), piece), &DEALS).unwrap();
            let mut got = Vec::new();
            while let Some(r) = rows.next_row().unwrap() {
                assert!(r.problems.is_empty(), "line {}: {:?}", r.line, r.problems);
                got.push(r.line);
            }
            assert_eq!(got, want, "read {piece} bytes at a time");
        }
    }

    #[test]
    fn header_is_case_insensitive_in_any_order_with_a_bom() {
        let csv = "\u{feff}Valid_Until, TITLE ,partner,kind,audience_scope,valid_from\n";
        assert!(rows(csv).unwrap().is_empty());
        // A file shorter than a byte order mark is read as it is.
        assert!(header_message("a").contains("unknown column a"));
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
