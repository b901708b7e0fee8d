//! Fitting a list's columns to the screen, the same on every pane: each column takes what its
//! longest cell needs; when they do not all fit, the text columns give way in the order the
//! pane chose (each down to a few characters, then out of the table), a cut always ends in
//! "…", and the columns that must not be cut (numbers, amounts, ids, times) never are.

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

/// How a column behaves when the table is too wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Give {
    /// Never cut: numbers, amounts, ids, times, states.
    Never,
    /// Text that gives way: lower ranks shrink first, down to [`MIN_TEXT`] characters; when
    /// that is not enough, the columns of the highest ranks leave the table.
    Rank(u8),
}

/// The fewest characters a text column is cut to before it leaves the table.
pub const MIN_TEXT: usize = 6;

/// One column: its header, whether it reads right-aligned (numbers), and how it gives way.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub header: &'static str,
    pub right: bool,
    pub give: Give,
}

impl Col {
    /// Text, left-aligned, giving way at `rank`.
    pub const fn text(header: &'static str, rank: u8) -> Self {
        Self {
            header,
            right: false,
            give: Give::Rank(rank),
        }
    }

    /// A value that is never cut, left-aligned (a time, a state, an id).
    pub const fn keep(header: &'static str) -> Self {
        Self {
            header,
            right: false,
            give: Give::Never,
        }
    }

    /// A number or an amount: right-aligned, never cut.
    pub const fn num(header: &'static str) -> Self {
        Self {
            header,
            right: true,
            give: Give::Never,
        }
    }
}

/// One cell: its text and style.
pub struct Text {
    pub text: String,
    pub style: Style,
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        styled(text, Style::default())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text::from(text.to_owned())
    }
}

/// A cell's text in a style (control characters written as `\x1b`).
pub fn styled(text: impl Into<String>, style: Style) -> Text {
    Text {
        text: super::shown(&text.into(), false),
        style,
    }
}

/// `text` in at most `width` characters: whole, or cut with "…" as its last character.
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// `line` in at most `width` characters: whole, or cut with "…" as its last character (each
/// span keeps its style).
pub fn cut_line(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let mut left = width.saturating_sub(1);
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let n = span.content.chars().count();
        if n <= left {
            left -= n;
            spans.push(span);
        } else {
            let text: String = span.content.chars().take(left).collect();
            spans.push(Span::styled(text, span.style));
            left = 0;
        }
    }
    if width > 0 {
        spans.push(Span::raw("…"));
    }
    Line::from(spans).style(line.style)
}

/// The width of each column (`None`: it left the table) for a table `width` wide with
/// borders, where column `i` needs `needs[i]` characters.
pub fn fit(width: u16, cols: &[Col], needs: &[usize]) -> Vec<Option<usize>> {
    let mut widths: Vec<Option<usize>> = needs.iter().map(|n| Some(*n)).collect();
    let room = |w: &[Option<usize>]| {
        let shown = w.iter().filter(|c| c.is_some()).count();
        (width as usize).saturating_sub(2 + shown.saturating_sub(1))
    };
    let total = |w: &[Option<usize>]| w.iter().flatten().sum::<usize>();
    let mut ranked: Vec<(u8, usize)> = cols
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c.give {
            Give::Rank(r) => Some((r, i)),
            Give::Never => None,
        })
        .collect();
    ranked.sort();
    // Shrink in rank order, each down to its floor.
    for &(_, i) in &ranked {
        let over = total(&widths).saturating_sub(room(&widths));
        if over == 0 {
            break;
        }
        let floor = MIN_TEXT.min(needs[i]);
        let w = widths[i].unwrap_or(0);
        widths[i] = Some(w.saturating_sub(over).max(floor));
    }
    // Still too wide: the text columns of the highest ranks leave.
    for &(_, i) in ranked.iter().rev() {
        if total(&widths) <= room(&widths) {
            break;
        }
        widths[i] = None;
    }
    // What is left over goes back to the cut columns, the last to give way first (what is
    // still left stays at the right).
    let mut spare = room(&widths).saturating_sub(total(&widths));
    for &(_, i) in ranked.iter().rev() {
        if let Some(w) = widths[i] {
            let more = needs[i].saturating_sub(w).min(spare);
            widths[i] = Some(w + more);
            spare -= more;
        }
    }
    widths
}

/// A list's header, rows and widths, fitted to `width`: see [`fit`]. Each row has one cell
/// per column.
pub fn fitted<'a>(
    width: u16,
    cols: &[Col],
    rows: Vec<Vec<Text>>,
) -> (Row<'a>, Vec<Row<'a>>, Vec<Constraint>) {
    let needs: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |t| t.text.chars().count()))
                .chain([c.header.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let widths = fit(width, cols, &needs);
    let cell = |text: &str, style: Style, col: &Col, w: usize| -> Cell<'a> {
        let shown = cut(text, w);
        let line = Line::from(Span::styled(shown, style));
        Cell::from(if col.right {
            line.right_aligned()
        } else {
            line
        })
    };
    let header = Row::new(
        cols.iter()
            .zip(&widths)
            .filter_map(|(c, w)| w.map(|w| cell(c.header, Style::default(), c, w)))
            .collect::<Vec<_>>(),
    );
    let body = rows
        .into_iter()
        .map(|r| {
            Row::new(
                r.into_iter()
                    .zip(cols.iter().zip(&widths))
                    .filter_map(|(t, (c, w))| w.map(|w| cell(&t.text, t.style, c, w)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let constraints = widths
        .iter()
        .flatten()
        .map(|w| Constraint::Length(*w as u16))
        .collect();
    (header, body, constraints)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: [Col; 4] = [
        Col::num("Id"),
        Col::text("Partner", 2),
        Col::text("Note", 1),
        Col::num("Net"),
    ];

    #[test]
    fn everything_fits_and_what_is_left_stays_at_the_right() {
        // 2 borders + 3 spaces + 2 + 7 + 4 + 3 = 21 in 30.
        assert_eq!(
            fit(30, &COLS, &[2, 7, 4, 3]),
            vec![Some(2), Some(7), Some(4), Some(3)]
        );
    }

    #[test]
    fn the_lowest_rank_gives_way_first_and_numbers_never() {
        // Needs 2+20+20+12 = 54, room 40-5 = 35: Note (rank 1) gives 19 and stops at 6,
        // then Partner gives what is still over.
        let w = fit(40, &COLS, &[2, 20, 20, 12]);
        assert_eq!(w, vec![Some(2), Some(15), Some(6), Some(12)]);
        // Too narrow for both at their floor: the highest rank (Partner) leaves first, and
        // the room it leaves goes back to Note.
        let w = fit(26, &COLS, &[2, 20, 20, 12]);
        assert_eq!(w, vec![Some(2), None, Some(8), Some(12)]);
    }

    #[test]
    fn a_cut_line_keeps_its_styles_and_ends_in_an_ellipsis() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let line = Line::from(vec![
            Span::styled("Note  ", bold),
            Span::raw("shared on a forum"),
        ]);
        let cut = cut_line(line.clone(), 12);
        assert_eq!(cut.to_string(), "Note  share…");
        assert_eq!(cut.spans[0].style, bold);
        assert_eq!(cut_line(line, 40).to_string(), "Note  shared on a forum");
    }

    #[test]
    fn a_cut_ends_in_an_ellipsis() {
        assert_eq!(cut("Riverstone Bike Rentals v1", 12), "Riverstone …");
        assert_eq!(cut("Riverstone", 12), "Riverstone");
        assert_eq!(cut("abc", 0), "");
    }
}
