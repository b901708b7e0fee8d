//! The Audit pane: the log as a table, or one entry with what it changed.

use super::AuditPane;
use crate::console::shell::Shell;
use crate::console::view::{ListTable, draw_list, local};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Wrap};

pub fn draw(pane: &mut AuditPane, f: &mut Frame, area: Rect, sh: &Shell) {
    let t = &sh.theme;
    let mut title = format!(
        " Audit log · {} loaded{} ",
        pane.list.rows.len(),
        if pane.list.at_end { "" } else { ", more below" }
    );
    if !pane.filter_text.trim().is_empty() {
        title.push_str(&format!("· filter “{}” ", pane.filter_text.trim()));
    }
    if let Some(e) = &pane.filter_error {
        title.push_str(&format!("· {e} "));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title.clone(), t.title));
    if let Some(e) = pane.detail.shown() {
        let mut lines = vec![
            Line::from(vec![
                Span::styled("when    ", t.label),
                Span::raw(local(e.at)),
            ]),
            Line::from(vec![
                Span::styled("actor   ", t.label),
                Span::raw(e.actor.clone()),
            ]),
            Line::from(vec![
                Span::styled("action  ", t.label),
                Span::raw(e.action.clone()),
            ]),
            Line::from(vec![
                Span::styled("entity  ", t.label),
                Span::raw(format!("{} {}", e.entity_type, e.entity_id)),
            ]),
            Line::from(vec![
                Span::styled("reason  ", t.label),
                Span::raw(e.reason.clone().unwrap_or_default()),
            ]),
        ];
        for (label, v) in [("before", &e.before), ("after", &e.after)] {
            lines.push(Line::from(Span::styled(label, t.header)));
            let text = v
                .as_ref()
                .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
                .unwrap_or_else(|| "—".into());
            lines.extend(text.lines().map(|l| Line::from(l.to_owned())));
        }
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    let rows = pane
        .list
        .rows
        .iter()
        .map(|e| {
            Row::new(vec![
                local(e.at),
                e.actor.clone(),
                e.action.clone(),
                format!("{} {}", e.entity_type, e.entity_id),
                e.reason.clone().unwrap_or_default(),
            ])
        })
        .collect();
    let table = ListTable {
        title,
        header: Row::new(["When", "Actor", "Action", "Entity", "Reason"]),
        widths: vec![
            Constraint::Length(16),
            Constraint::Length(10),
            Constraint::Length(22),
            Constraint::Length(16),
            Constraint::Fill(1),
        ],
        empty: if pane.filter_text.trim().is_empty() {
            "the audit log is empty"
        } else {
            "no audit entry matches the filter (Esc clears it)"
        },
    };
    draw_list(f, area, sh, &mut pane.list, table, rows);
}
