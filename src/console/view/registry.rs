//! A list's columns declared once (k9s's renderers): each with its key (the config file's
//! `[columns.PANE]` and an export's header), how it is drawn, and its cell. The same
//! declaration draws the table, chooses and sizes the columns from the config file, and writes
//! the export of what is shown.

use super::columns::{Col, Text, fitted, styled};
use crate::config::ColumnConfig;
use crate::console::theme::Theme;
use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::widgets::Row;

/// Where a default column is shown (a chosen set of columns shows exactly its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Always,
    /// Only at [`WIDE`] columns and more (or the list's own width, [`shown_from`]).
    Wide,
    /// Only below that width.
    Narrow,
    /// Only when chosen in the config file.
    Chosen,
}

/// The width from which the `Wide` columns are shown.
pub const WIDE: u16 = 110;

/// How a cell is styled.
pub enum Paint<R> {
    Plain,
    Muted,
    By(fn(&R, &Theme) -> Style),
}

/// One column of a list.
pub struct Column<R> {
    pub key: &'static str,
    pub col: Col,
    pub on: On,
    pub text: fn(&R) -> String,
    pub paint: Paint<R>,
}

impl<R> Column<R> {
    pub const fn new(key: &'static str, col: Col, on: On, text: fn(&R) -> String) -> Self {
        Self {
            key,
            col,
            on,
            text,
            paint: Paint::Plain,
        }
    }

    pub const fn muted(mut self) -> Self {
        self.paint = Paint::Muted;
        self
    }

    pub const fn painted(mut self, by: fn(&R, &Theme) -> Style) -> Self {
        self.paint = Paint::By(by);
        self
    }

    fn cell(&self, r: &R, t: &Theme) -> Text {
        let text = (self.text)(r);
        match &self.paint {
            Paint::Plain => Text::from(text),
            Paint::Muted => styled(text, t.muted),
            Paint::By(f) => styled(text, f(r, t)),
        }
    }
}

/// The columns shown: those the config file chooses, in its order, or the defaults for the
/// width.
pub fn shown<'c, R>(
    all: &'c [Column<R>],
    chosen: Option<&ColumnConfig>,
    width: u16,
) -> Vec<&'c Column<R>> {
    shown_from(all, chosen, width, WIDE)
}

/// [`shown`] for a list whose `Wide` columns start at `wide_from` columns rather than
/// [`WIDE`] (the Settlements list at 120, the Negotiations list at 140).
pub fn shown_from<'c, R>(
    all: &'c [Column<R>],
    chosen: Option<&ColumnConfig>,
    width: u16,
    wide_from: u16,
) -> Vec<&'c Column<R>> {
    if let Some(keys) = chosen.and_then(|c| c.show.as_ref()) {
        return keys
            .iter()
            .filter_map(|k| all.iter().find(|c| c.key == k))
            .collect();
    }
    let wide = width >= wide_from;
    all.iter()
        .filter(|c| match c.on {
            On::Always => true,
            On::Wide => wide,
            On::Narrow => !wide,
            On::Chosen => false,
        })
        .collect()
}

/// The header, rows and widths of `rows` in the columns shown, fitted to `width` (a column
/// sized in the config file is cut at its size).
pub fn table<'a, R>(
    width: u16,
    cols: &[&Column<R>],
    rows: &[R],
    theme: &Theme,
    chosen: Option<&ColumnConfig>,
) -> (Row<'a>, Vec<Row<'a>>, Vec<Constraint>) {
    let sized = |key: &str| chosen.and_then(|c| c.width.get(key)).copied();
    let heads: Vec<Col> = cols.iter().map(|c| c.col).collect();
    let cells = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| {
                    let mut t = c.cell(r, theme);
                    if let Some(w) = sized(c.key) {
                        t.text = super::columns::cut(&t.text, w.max(1));
                    }
                    t
                })
                .collect()
        })
        .collect();
    fitted(width, &heads, cells)
}

/// The visible columns as an export's columns (key and cell), for a screen `width` wide.
pub fn export_columns<R>(
    all: &[Column<R>],
    chosen: Option<&ColumnConfig>,
    width: u16,
) -> Vec<crate::console::export::ExportColumn<R>> {
    export_columns_from(all, chosen, width, WIDE)
}

/// [`export_columns`] for a list whose `Wide` columns start at `wide_from` columns.
pub fn export_columns_from<R>(
    all: &[Column<R>],
    chosen: Option<&ColumnConfig>,
    width: u16,
    wide_from: u16,
) -> Vec<crate::console::export::ExportColumn<R>> {
    shown_from(all, chosen, width, wide_from)
        .into_iter()
        .map(|c| (c.key, c.text))
        .collect()
}

/// The keys of a list's columns (what `[columns.PANE] show` may name).
pub fn keys<R>(all: &[Column<R>]) -> Vec<&'static str> {
    all.iter().map(|c| c.key).collect()
}
