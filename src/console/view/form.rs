//! A form: each field with its label, its text, and its validation message beside it.

use crate::console::action::Action;
use crate::console::form::Form;
use crate::console::shell::Shell;
use crate::console::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// The keys shown in a form's title.
pub struct FormKeys {
    pub save: String,
    pub cancel: String,
}

impl FormKeys {
    pub fn of(sh: &Shell) -> Self {
        Self {
            save: sh.keymap.keys_text(Action::Save),
            cancel: sh.keymap.keys_text(Action::Cancel),
        }
    }
}

/// A field's text as it fits its box when it is not being edited.
fn shown(field: &crate::console::form::Field, area: Rect) -> Vec<ratatui::text::Line<'static>> {
    let w = area.width as usize;
    field
        .area
        .lines()
        .iter()
        .map(|l| {
            if l.chars().count() > w && w > 0 {
                let cut: String = l.chars().take(w - 1).collect();
                ratatui::text::Line::from(format!("{cut}…"))
            } else {
                ratatui::text::Line::from(l.clone())
            }
        })
        .collect()
}

pub fn draw(f: &mut Frame, area: Rect, t: &Theme, keys: &FormKeys, form: &mut Form) {
    let (save_keys, cancel_keys) = (&keys.save, &keys.cancel);
    let title = format!(
        " {}{} · {save_keys} saves · {cancel_keys} closes ",
        form.title,
        if form.saving {
            " · saving…"
        } else if form.dirty {
            " · modified"
        } else {
            ""
        }
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title, t.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut constraints: Vec<Constraint> = form
        .fields
        .iter()
        .map(|fl| {
            Constraint::Length(if fl.hidden {
                0
            } else if fl.multiline {
                4
            } else {
                1
            })
        })
        .collect();
    constraints.push(Constraint::Length(1));
    constraints.push(Constraint::Min(0));
    let rows = Layout::vertical(constraints).spacing(0).split(inner);
    let focus = form.focus;
    let label_w = 16u16;
    let err_w = (inner.width * 2 / 5).min(48);
    for (i, field) in form.fields.iter_mut().enumerate() {
        let r = rows[i];
        if field.hidden {
            continue;
        }
        let [l, input, e] = Layout::horizontal([
            Constraint::Length(label_w),
            Constraint::Fill(1),
            Constraint::Length(err_w),
        ])
        .spacing(1)
        .areas(r);
        let focused = i == focus;
        let label_style = if focused { t.key } else { t.label };
        f.render_widget(
            Paragraph::new(Span::styled(
                format!("{}{}", if focused { "▸ " } else { "  " }, field.label),
                label_style,
            )),
            l,
        );
        if focused {
            field.area.set_style(t.input_focus);
            field.area.set_cursor_line_style(Style::default());
            field.area.set_cursor_style(
                Style::default().add_modifier(ratatui::style::Modifier::REVERSED),
            );
            f.render_widget(&field.area, input);
        } else {
            // Only the field being typed in scrolls to its cursor; the others show their text
            // from the first letter, cut with … when it is wider than the box.
            f.render_widget(Paragraph::new(shown(field, input)).style(t.input), input);
        }
        let msg = match form.errors.for_field(field.name) {
            Some(rule) => Span::styled(format!("✕ {rule}"), t.error),
            None => match form.info.get(field.name) {
                Some(info) => Span::styled(format!("✓ {info}"), t.ok),
                None if focused => Span::styled(field.hint.to_owned(), t.muted),
                None => Span::raw(""),
            },
        };
        f.render_widget(Paragraph::new(msg), e);
    }
    let n = form.fields.len();
    let footer = match (&form.notice, form.errors.0.len()) {
        (Some(notice), _) => Span::styled(format!("  {notice}"), t.error),
        // Nothing typed yet (a new form shows no errors until then): nothing to call valid.
        (None, 0) if !form.dirty => Span::styled("  nothing typed yet", t.muted),
        (None, 0) => Span::styled("  all fields valid", t.ok),
        (None, k) => Span::styled(
            format!("  {k} field{} to fix", if k == 1 { "" } else { "s" }),
            t.warn,
        ),
    };
    f.render_widget(Paragraph::new(footer), rows[n]);
    // The focused field's whole message, in case it was cut beside the field.
    if let Some(field) = form.fields.get(focus)
        && let Some(rule) = form.errors.for_field(field.name)
    {
        let r = rows[n + 1];
        if r.height > 0 {
            f.render_widget(
                Paragraph::new(Span::styled(format!("  {}: {rule}", field.label), t.error))
                    .wrap(Wrap { trim: true }),
                r,
            );
        }
    }
}
