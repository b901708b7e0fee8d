//! Tabs, banner, status bar, filter line and toasts.

use super::super::app::App;
use super::super::panes::PaneId;
use super::super::shell::ConnState;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub fn tabs(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    // Below ~96 columns the product name gives way so that all six tabs fit.
    let mut spans = if area.width >= 96 {
        vec![Span::styled(" partnerdesk ", t.title), Span::raw(" ")]
    } else {
        Vec::new()
    };
    for (i, p) in PaneId::ALL.iter().enumerate() {
        let style = if *p == app.pane { t.tab_active } else { t.tab };
        spans.push(Span::styled(format!(" {} {} ", i + 1, p.title()), style));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn banner(f: &mut Frame, area: Rect, app: &App) {
    let text = if !app.session.registered {
        format!(
            " READ-ONLY: operator '{}' is not registered; ask an admin: partnerdesk operators add {} --role curator ",
            app.session.operator, app.session.operator
        )
    } else {
        " READ-ONLY session (--read-only): changes are not available ".to_owned()
    };
    f.render_widget(
        Paragraph::new(Span::styled(text, app.theme.status_warn)),
        area,
    );
}

pub fn status(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let (conn, conn_style) = match &app.conn {
        ConnState::Connecting => ("○ connecting".to_owned(), t.status_warn),
        ConnState::Connected => ("● connected".to_owned(), t.status_ok),
        ConnState::Reconnecting => ("◌ reconnecting".to_owned(), t.status_warn),
        ConnState::Failed(reason) => (
            format!("✕ {}", failure_text(reason, &app.session.database)),
            t.status_error,
        ),
    };
    let roles = if app.session.roles.is_empty() {
        "…".to_owned()
    } else {
        app.session.roles.clone()
    };
    let mut spans = vec![
        Span::styled(format!(" {} ({roles}) ", app.session.operator), t.status),
        Span::styled("│ ", t.status),
        Span::styled(format!("{} ", app.session.database), t.status),
        Span::styled("│ ", t.status),
        Span::styled(format!("{conn} "), t.status.patch(conn_style)),
    ];
    if !app.busy.is_empty() {
        let work: Vec<&str> = app.busy.iter().map(|(_, l)| l.as_str()).collect();
        spans.push(Span::styled("│ ⟳ ", t.status));
        spans.push(Span::styled(format!("{} ", work.join(", ")), t.status));
    }
    let hint = format!(
        " {} help ",
        app.keymap.keys_text(crate::console::action::Action::Help)
    );
    let mut used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    // A long database target must not push the connection state off the bar (80 columns):
    // keep its end (host, port, database) behind an ellipsis.
    let over = (used + hint.chars().count()).saturating_sub(area.width as usize);
    let db_len = spans[2].content.chars().count();
    if over > 0 && db_len > over + 12 {
        let tail: String = spans[2].content.chars().skip(over + 1).collect();
        spans[2] = Span::styled(format!("…{tail}"), t.status);
        used -= over;
    }
    // Why the connection failed is worth more than the target's start, then it is cut at the
    // bar's end (the whole text is in the messages and the log).
    if matches!(app.conn, ConnState::Failed(_)) {
        let over = (used + hint.chars().count()).saturating_sub(area.width as usize);
        let db_len = spans[2].content.chars().count();
        if over > 0 && db_len > 13 {
            let cut = over.min(db_len - 13);
            let tail: String = spans[2].content.chars().skip(cut + 1).collect();
            spans[2] = Span::styled(format!("…{tail}"), t.status);
            used -= cut;
        }
        let over = (used + hint.chars().count()).saturating_sub(area.width as usize);
        if over > 0 {
            let text: String = spans[4].content.chars().collect();
            let keep = text.chars().count().saturating_sub(over + 2);
            let short: String = text.chars().take(keep).collect();
            spans[4] = Span::styled(format!("{short}… "), spans[4].style);
            used = spans.iter().map(|s| s.content.chars().count()).sum();
        }
    }
    let pad = (area.width as usize).saturating_sub(used + hint.chars().count());
    spans.push(Span::styled(" ".repeat(pad), t.status));
    spans.push(Span::styled(hint, t.status.patch(t.key)));
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.status), area);
}

/// A connection failure for the status bar: without the target (shown beside it already).
fn failure_text(reason: &str, target: &str) -> String {
    let r = reason
        .replace(&format!(" at {target}"), "")
        .replace(&format!(" with {target}"), "")
        .replace(&format!("{target}: "), "");
    // The reason first: "✕ connection refused", not "✕ cannot reach PostgreSQL: conn…".
    let r = r.trim().trim_start_matches("cannot reach PostgreSQL: ");
    if r.is_empty() {
        "no connection".to_owned()
    } else {
        r.to_owned()
    }
}

pub fn filter(f: &mut Frame, area: Rect, app: &App) {
    let text = app.filter_input.as_deref().unwrap_or("");
    // What did not read takes the hint's place, beside the text.
    let after = match app.current().filter_error() {
        Some(e) => Span::styled(format!("   {e}"), app.theme.error),
        None => Span::styled(app.current().filter_hint(), app.theme.muted),
    };
    let line = Line::from(vec![
        Span::styled(" / ", app.theme.key),
        Span::styled(text.to_owned(), app.theme.input_focus),
        Span::styled("█", app.theme.input_focus),
        after,
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// The current pane's main keys, as k9s and lazygit show them: `Enter open  / filter …`.
pub fn footer(f: &mut Frame, area: Rect, app: &App) {
    use crate::console::action::Action;
    let t = &app.theme;
    let pane = app.current();
    let form = [Action::Save, Action::NextField, Action::Cancel];
    let main: &[Action] = if app.form_open() {
        &form
    } else {
        pane.main_actions()
    };
    let mut spans = Vec::new();
    let mut used = 0;
    let shown = main
        .iter()
        .copied()
        .filter(|a| app.available(*a) && (app.form_open() || pane.offers(*a)))
        .filter(|a| app.needs(*a).is_none_or(|p| app.may(p)))
        .chain([Action::Palette, Action::Help]);
    for a in shown {
        let Some(key) = app
            .keymap
            .keys_in(a, app.pane.key())
            .first()
            .map(|k| k.to_string())
        else {
            continue;
        };
        let name = a.name().replace('_', " ");
        let width = key.chars().count() + name.chars().count() + 3;
        if used + width > area.width as usize {
            break;
        }
        used += width;
        spans.push(Span::styled(format!(" {key}"), t.key));
        spans.push(Span::styled(format!(" {name} "), t.muted));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The toasts as lines of `width`, newest last: each wrapped, its following lines indented,
/// with its style; `M` shows the messages whole.
pub fn toast_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let w = (width as usize).saturating_sub(2).max(10);
    let mut out = Vec::new();
    for toast in &app.toasts {
        let style = if toast.error { t.toast_error } else { t.toast };
        for (i, piece) in wrap(&toast.text, w).into_iter().enumerate() {
            let indent = if i == 0 { " " } else { "   " };
            out.push(Line::from(Span::styled(format!("{indent}{piece} "), style)));
        }
    }
    out
}

/// Words of `text` in lines of at most `width` characters (the first line full width, the
/// others two narrower for their indent); a word longer than a line is cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let room = if lines.is_empty() { width } else { width - 2 };
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn toasts(f: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    if area.height == 0 {
        return;
    }
    let skip = lines.len().saturating_sub(area.height as usize);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines), area);
}
