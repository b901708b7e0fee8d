//! How the command line lays out what it prints for people: aligned tables, `label  value`
//! records, times. Scripts use `--json` instead.

use crate::domain::validation::{Lines, escape_control};
use chrono::{DateTime, Utc};

/// An aligned table: a header line, then one line per row, columns two spaces apart.
pub struct Table {
    header: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            right: vec![false; header.len()],
            rows: Vec::new(),
        }
    }

    /// These columns (numbers) align right; the others left.
    pub fn right(mut self, columns: &[usize]) -> Self {
        for &c in columns {
            if let Some(r) = self.right.get_mut(c) {
                *r = true;
            }
        }
        self
    }

    /// Adds a row; control characters (a line break in a title) become spaces.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(|c| one_line(&c)).collect());
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut l = String::new();
            for (i, c) in cells.enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                if i > 0 {
                    l.push_str("  ");
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    l.push_str(&format!("{c:>w$}"));
                } else {
                    l.push_str(&format!("{c:<w$}"));
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(&mut self.header.iter().copied());
        for r in &self.rows {
            line(&mut r.iter().map(String::as_str));
        }
        out
    }
}

/// `label  value` lines, labels padded to one width; a value of several lines is indented
/// under its first.
pub fn record(fields: &[(&str, String)]) -> String {
    let w = fields
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (label, value) in fields {
        let mut lines = value.lines();
        out.push_str(format!("{label:<w$}  {}", lines.next().unwrap_or("")).trim_end());
        out.push('\n');
        for more in lines {
            out.push_str(format!("{:<w$}  {more}", "").trim_end());
            out.push('\n');
        }
    }
    out
}

/// Control characters would break a table or drive the terminal: a line break or a tab (in a
/// title) becomes a space, any other is written escaped (`\x1b`).
pub fn one_line(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    escape_control(&spaced, Lines::One).into_owned()
}

/// A time as the tables show it: `2026-03-01 09:00 UTC`.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `-` for nothing.
pub fn or_dash(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or("-").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_numbers_align_right() {
        let mut t = Table::new(&["ID", "TITLE", "USED"]).right(&[0, 2]);
        t.row(vec!["7".into(), "Espresso\nbar".into(), "12".into()]);
        t.row(vec!["123".into(), "Tea\u{1b}[2J".into(), "3".into()]);
        assert_eq!(
            t.render(),
            " ID  TITLE         USED\n  7  Espresso bar    12\n123  Tea\\x1b[2J       3\n"
        );
    }

    #[test]
    fn records_pad_labels_and_indent_more_lines() {
        let r = record(&[("id", "7".into()), ("description", "one\ntwo".into())]);
        assert_eq!(r, "id           7\ndescription  one\n             two\n");
    }
}
