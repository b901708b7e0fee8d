//! A keyset list drawn as a table, the same on every pane: its block and title, the selected
//! row, the rows visible (for the paging keys), and a line saying why it is empty.

use crate::console::list::{KeysetList, ListRow, Markable};
use crate::console::shell::Shell;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

/// A list's title: `NAME · sort LABEL ↑ · filter “TEXT” · PROBLEM · COUNT[+] [· N marked
/// (M not shown)] [· loading…]`.
pub fn list_title<R: ListRow>(
    name: &str,
    sort: (&str, bool),
    filter: Option<&str>,
    problem: Option<&str>,
    list: &KeysetList<R>,
) -> String {
    let (label, descending) = sort;
    let arrow = if descending { "↓" } else { "↑" };
    let mut title = format!(" {name} · sort {label} {arrow}");
    if let Some(text) = filter.filter(|t| !t.trim().is_empty()) {
        title.push_str(&format!(" · filter “{}”", text.trim()));
    }
    if let Some(e) = problem {
        title.push_str(&format!(" · {e}"));
    }
    // `100+`: more below; `last 100`: the end was reached from elsewhere than the top.
    let n = list.rows.len();
    title.push_str(&match (list.at_start, list.at_end) {
        (_, false) => format!(" · {n}+ "),
        (false, true) => format!(" · last {n} "),
        (true, true) => format!(" · {n} "),
    });
    if !list.marks.is_empty() {
        title.push_str(&format!("· {} marked ", list.marks.len()));
        let hidden = list.not_shown();
        if hidden > 0 {
            title.push_str(&format!("({hidden} not shown) "));
        }
    }
    if list.stale {
        title.push_str("· changed elsewhere: r reloads ");
    }
    if list.loading {
        title.push_str("· loading… ");
    }
    title
}

/// Widths for a table whose text columns (`needs`: the longest cell of each, header
/// included) share what the fixed columns (`fixed`) leave of `width` (borders and spacing
/// counted): each text column gets what it needs (and a space) when all fit (what is left over stays at
/// the right); otherwise the room is shared in proportion to the needs, at least 6 each.
/// `order` says where each column goes: `Ok(i)` the i-th text column, `Err(w)` a fixed one.
pub fn column_widths(width: u16, order: &[Result<usize, u16>], needs: &[usize]) -> Vec<Constraint> {
    let fixed: u16 = order.iter().filter_map(|c| c.err()).sum();
    let spacing = order.len().saturating_sub(1) as u16;
    let room = width.saturating_sub(2 + fixed + spacing) as usize;
    // Each cell its own width and one more so that columns stand apart, or exactly its
    // width, or a share of the room in proportion to the needs.
    let total: usize = needs.iter().sum();
    let pad = usize::from(total + needs.len() <= room);
    let text: Vec<Constraint> = if total <= room {
        needs
            .iter()
            .map(|n| Constraint::Length((n + pad) as u16))
            .collect()
    } else {
        needs
            .iter()
            .map(|n| Constraint::Length(((room * n / total.max(1)) as u16).max(6)))
            .collect()
    };
    order
        .iter()
        .map(|c| match c {
            Ok(i) => text[*i],
            Err(w) => Constraint::Length(*w),
        })
        .collect()
}

/// The longest of `cells` and `header`, in characters.
pub fn need<'a>(header: &str, cells: impl Iterator<Item = &'a str>) -> usize {
    cells
        .map(|c| c.chars().count())
        .chain([header.chars().count()])
        .max()
        .unwrap_or(0)
}

/// What a list table shows besides its rows.
pub struct ListTable<'a> {
    pub title: String,
    pub header: Row<'a>,
    pub widths: Vec<Constraint>,
    /// Said inside the table when the list loaded empty.
    pub empty: &'a str,
}

/// Draws `rows` of `list` as a table.
pub fn draw_list<'a, R: ListRow>(
    f: &mut Frame,
    area: Rect,
    sh: &Shell,
    list: &mut KeysetList<R>,
    table: ListTable<'a>,
    rows: Vec<Row<'a>>,
) {
    draw_list_focus(f, area, sh, list, table, rows, true)
}

/// Draws `rows` of `list` as a table, its frame marked when the keys move in it (`focused`)
/// among other lists on screen.
pub fn draw_list_focus<'a, R: ListRow>(
    f: &mut Frame,
    area: Rect,
    sh: &Shell,
    list: &mut KeysetList<R>,
    table: ListTable<'a>,
    rows: Vec<Row<'a>>,
    focused: bool,
) {
    let t = &sh.theme;
    // A title wider than the box ends in … (the whole of what it says is in the footer's and
    // the help's keys, the filter line, or `M`'s messages).
    let room = area.width.saturating_sub(2) as usize;
    let title = if table.title.trim_end().chars().count() > room && room > 1 {
        let mut cut: String = table.title.chars().take(room - 1).collect();
        cut.push('…');
        cut
    } else {
        table.title
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { t.border_focus } else { t.border })
        .title(Span::styled(title, t.title));
    // Marked rows stand out (the selected row keeps its own style on top).
    let rows: Vec<Row<'a>> = if list.marks.is_empty() {
        rows
    } else {
        rows.into_iter()
            .enumerate()
            .map(|(i, row)| match list.rows.get(i) {
                Some(r) if list.marks.contains(r.id()) => row.style(t.marked),
                _ => row,
            })
            .collect()
    };
    let widget = Table::new(rows, table.widths)
        .header(table.header.style(t.header))
        .row_highlight_style(if focused { t.selected } else { t.header })
        .block(block);
    let mut state =
        TableState::default().with_selected((!list.rows.is_empty()).then_some(list.selected));
    list.visible_rows = area.height.saturating_sub(3) as usize;
    f.render_stateful_widget(widget, area, &mut state);
    if focused {
        sh.list_at.set(Some((area, state.offset())));
    }
    if list.is_empty_loaded() && !table.empty.is_empty() {
        let r = Rect {
            x: area.x + 2,
            y: area.y + 2,
            width: area.width.saturating_sub(4),
            height: 1,
        };
        f.render_widget(Paragraph::new(Span::styled(table.empty, t.muted)), r);
    }
}
