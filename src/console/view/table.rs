//! A keyset list drawn as a table, the same on every pane: its block and title, the selected
//! row, the rows visible (for the paging keys), and a line saying why it is empty.

use crate::console::list::KeysetList;
use crate::console::shell::Shell;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

/// A list's title: `NAME · sort LABEL ↑ · filter “TEXT” · PROBLEM · COUNT[+] [· loading…]`.
pub fn list_title<R>(
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
    let whole = list.at_end && list.at_start;
    title.push_str(&format!(
        " · {}{} ",
        list.rows.len(),
        if whole { "" } else { "+" }
    ));
    if list.loading {
        title.push_str("· loading… ");
    }
    title
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
pub fn draw_list<'a, R>(
    f: &mut Frame,
    area: Rect,
    sh: &Shell,
    list: &mut KeysetList<R>,
    table: ListTable<'a>,
    rows: Vec<Row<'a>>,
) {
    let t = &sh.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(table.title, t.title));
    let widget = Table::new(rows, table.widths)
        .header(table.header.style(t.header))
        .row_highlight_style(t.selected)
        .block(block);
    let mut state =
        TableState::default().with_selected((!list.rows.is_empty()).then_some(list.selected));
    list.visible_rows = area.height.saturating_sub(3) as usize;
    f.render_stateful_widget(widget, area, &mut state);
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
