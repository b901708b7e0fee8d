//! The Audit pane: the log as a table, or one entry with what it changed.

use super::AuditPane;
use crate::console::pane::Pane;
use crate::console::shell::Shell;
use crate::console::view::columns::Col;
use crate::console::view::registry::{self, Column, On, table};
use crate::console::view::{ListTable, draw_list, local, need};
use crate::service::rows::AuditEntry;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Wrap};

fn entity(e: &AuditEntry) -> String {
    format!("{} {}", e.entity_type, e.entity_id)
}

/// The audit log's columns. By default they keep the log's own widths (the time, the actor at
/// 10, the action and the entity as wide as their longest cell, the reason the rest, cut by
/// the screen); chosen or sized in `[columns.audit]`, they are fitted as every list is (the
/// reason gives way first, then the action, then the actor).
pub const COLUMNS: &[Column<AuditEntry>] = &[
    Column::new("when", Col::keep("When"), On::Always, |e| local(e.at)),
    Column::new("actor", Col::text("Actor", 3), On::Always, |e| {
        e.actor.clone()
    }),
    Column::new("action", Col::text("Action", 2), On::Always, |e| {
        e.action.clone()
    }),
    Column::new("entity", Col::keep("Entity"), On::Always, entity),
    Column::new("reason", Col::text("Reason", 1), On::Always, |e| {
        e.reason.clone().unwrap_or_default()
    }),
    Column::new("id", Col::num("Id"), On::Chosen, |e| e.id.to_string()),
    Column::new("entity_type", Col::keep("Type"), On::Chosen, |e| {
        e.entity_type.clone()
    }),
    Column::new("entity_id", Col::keep("Entity id"), On::Chosen, |e| {
        e.entity_id.clone()
    }),
];

pub fn draw(pane: &mut AuditPane, f: &mut Frame, area: Rect, sh: &Shell) {
    let t = &sh.theme;
    let mut title = format!(
        " Audit log · {} loaded{} ",
        pane.list.rows.len(),
        if pane.list.at_end { "" } else { ", more below" }
    );
    if !pane.filter.text.trim().is_empty() {
        title.push_str(&format!("· filter “{}” ", pane.filter.text.trim()));
    }
    if let Some(e) = &pane.filter.error {
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
        let changes = diff(e.before.as_ref(), e.after.as_ref());
        lines.push(Line::from(Span::styled(
            match (&e.before, &e.after) {
                (None, Some(_)) => "created with",
                (Some(_), None) => "removed; it was",
                (None, None) => "no record kept",
                _ if changes.is_empty() => "nothing changed",
                _ => "what changed",
            },
            t.header,
        )));
        for c in changes {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<18}", c.field), t.label),
                Span::raw(c.text),
            ]));
        }
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    let empty = if pane.filter.text.trim().is_empty() {
        "the audit log is empty"
    } else {
        "no audit entry matches the filter (Esc clears it)"
    };
    // Columns chosen or sized in the config file are fitted as on every list.
    if let Some(chosen) = sh.columns.get(AuditPane::KEY) {
        let cols = registry::shown(COLUMNS, Some(chosen), area.width);
        let (header, rows, widths) =
            table(area.width, &cols, &pane.list.rows, &sh.theme, Some(chosen));
        let table = ListTable {
            title,
            header,
            widths,
            empty,
        };
        draw_list(f, area, sh, &mut pane.list, table, rows);
        return;
    }
    // The entity's type and id, whole: the column is as wide as its longest cell (an id is
    // never cut; the reason gives way).
    let defaults = registry::shown(COLUMNS, None, area.width);
    let entities = pane.list.rows.iter().map(entity).collect::<Vec<_>>();
    let entity_w = need("Entity", entities.iter().map(String::as_str)).min(40) as u16;
    let action_w = need("Action", pane.list.rows.iter().map(|e| e.action.as_str())).min(28) as u16;
    let rows = pane
        .list
        .rows
        .iter()
        .map(|e| Row::new(defaults.iter().map(|c| (c.text)(e)).collect::<Vec<_>>()))
        .collect();
    let table = ListTable {
        title,
        header: Row::new(defaults.iter().map(|c| c.col.header)),
        widths: vec![
            Constraint::Length(16),
            Constraint::Length(10),
            Constraint::Length(action_w.max(16)),
            Constraint::Length(entity_w.max(16)),
            Constraint::Fill(1),
        ],
        empty,
    };
    draw_list(f, area, sh, &mut pane.list, table, rows);
}

/// One field of a record in the audit detail: what it was and what it became.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub text: String,
}

/// A field's value as one short line.
fn shown(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) if s.is_empty() => "“”".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) if a.is_empty() => "none".into(),
        serde_json::Value::Array(a) => a.iter().map(shown).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The fields that differ between `before` and `after` (`old → new`), or every field of a record
/// created or removed. Bookkeeping (`version`, `updated_at`, `updated_by`) is left out of a change.
pub fn diff(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<FieldChange> {
    use serde_json::Value;
    let empty = serde_json::Map::new();
    let fields = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            let mut m = serde_json::Map::new();
            m.insert("value".into(), other.clone());
            m
        }
        None => empty.clone(),
    };
    let (b, a) = (fields(before), fields(after));
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let both = before.is_some() && after.is_some();
    keys.into_iter()
        .filter(|k| !(both && matches!(k.as_str(), "version" | "updated_at" | "updated_by")))
        .filter_map(|k| {
            let (old, new) = (b.get(k), a.get(k));
            let text = match (old, new) {
                (Some(o), Some(n)) if o == n => return None,
                (Some(o), Some(n)) => format!("{} → {}", shown(o), shown(n)),
                (None, Some(n)) if both => format!("— → {}", shown(n)),
                (Some(o), None) if both => format!("{} → —", shown(o)),
                (None, Some(v)) | (Some(v), None) => shown(v),
                (None, None) => return None,
            };
            Some(FieldChange {
                field: k.clone(),
                text,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_lists_the_fields_that_differ() {
        let before = json!({"title": "Spring sale", "cap": 50, "version": 1, "tags": ["a"]});
        let after = json!({"title": "Spring sale!", "cap": 50, "version": 2, "tags": []});
        assert_eq!(
            diff(Some(&before), Some(&after)),
            vec![
                FieldChange {
                    field: "tags".into(),
                    text: "a → none".into()
                },
                FieldChange {
                    field: "title".into(),
                    text: "Spring sale → Spring sale!".into()
                },
            ]
        );
        let created = diff(None, Some(&json!({"title": "New", "cap": null})));
        assert_eq!(
            created,
            vec![
                FieldChange {
                    field: "cap".into(),
                    text: "—".into()
                },
                FieldChange {
                    field: "title".into(),
                    text: "New".into()
                },
            ]
        );
        assert!(diff(Some(&before), Some(&before)).is_empty());
    }
}
