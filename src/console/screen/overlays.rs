//! Help, palette, confirmation and information popups.

use super::super::action::{Action, Context};
use super::super::app::{App, Confirm};
use super::super::keymap::Key;
use super::super::palette::Palette;
use super::super::shell::Prompt;
use crate::console::view::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// A description as a sentence: its first letter capitalised.
fn human(desc: &str) -> String {
    let mut c = desc.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `text` in at most `width` characters, cut with … when longer.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Help lines generated from the active keymap, so they cannot drift from the keys: the
/// current pane's keys first (with its own `[pane.NAME]` bindings), then the global ones, then
/// its form's and the popups'. Actions the pane does not offer are not listed.
pub fn help_lines(app: &App) -> Vec<(Context, String, &'static str)> {
    help_entries(app)
        .into_iter()
        .map(|(ctx, keys, a)| (ctx, keys, a.description()))
        .collect()
}

/// The help's entries: context, keys, action.
fn help_entries(app: &App) -> Vec<(Context, String, Action)> {
    let pane = app.current();
    let order = [
        Context::List,
        Context::Global,
        Context::Form,
        Context::Popup,
    ];
    let mut out = Vec::new();
    for ctx in order {
        let actions = Action::ALL.iter().copied().filter(|a| a.context() == ctx);
        for a in
            actions.filter(|a| ctx == Context::Global || pane.offers(*a) || ctx == Context::Popup)
        {
            let keys = app.keymap.keys_text_in(a, app.pane.key());
            if keys.is_empty() {
                continue;
            }
            out.push((ctx, keys, a));
        }
    }
    out
}

pub fn help(f: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let t = &app.theme;
    let r = centered(area, 76, area.height.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    let mut last = None;
    for (ctx, keys, a) in help_entries(app) {
        if last != Some(ctx) {
            if last.is_some() {
                lines.push(Line::from(""));
            }
            let heading = match ctx {
                Context::List => format!("{} keys", app.pane.title()),
                other => format!("{} keys", other.name()),
            };
            lines.push(Line::from(Span::styled(heading, t.header)));
            last = Some(ctx);
        }
        // What the operator's roles cannot do here is marked, with the role that may; when
        // the line is too long, the description is cut (with …), never the role.
        let needs = app
            .needs(a)
            .filter(|p| !app.may(*p))
            .map(|p| format!(" (needs {})", p.needed_roles_text()))
            .unwrap_or_default();
        let keys = format!("  {keys:<22}");
        let room =
            (r.width as usize).saturating_sub(2 + keys.chars().count() + needs.chars().count());
        let mut line = vec![
            Span::styled(keys, t.key),
            Span::raw(fit(a.description(), room)),
        ];
        if !needs.is_empty() {
            line.push(Span::styled(needs, t.muted));
        }
        lines.push(Line::from(line));
    }
    let views = app.views_here();
    if !views.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "Saved views (: view NAME opens one, : view save NAME keeps this one)",
            t.header,
        )));
        for (name, v) in views {
            let key = v.key.as_deref().and_then(|k| Key::parse(k).ok());
            let keys = format!("  {:<22}", key.map(|k| k.to_string()).unwrap_or_default());
            let room = (r.width as usize).saturating_sub(2 + keys.chars().count());
            lines.push(Line::from(vec![
                Span::styled(keys, t.key),
                Span::raw(fit(&format!("{name}: {}", view_text(v)), room)),
            ]));
        }
    }
    let title = if app.session.read_only {
        " Help · read-only: changes are not available "
    } else {
        " Help "
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title, t.title))
        .title_bottom(" j/k scroll · any other key closes ");
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), r);
}

pub fn palette(f: &mut Frame, area: Rect, app: &App, p: &Palette) {
    let t = &app.theme;
    let viewing = p.query.trim_start().starts_with("view");
    let rows = if viewing {
        app.views_here().len() + 1
    } else {
        p.matches.len()
    };
    let h = (rows as u16 + 4).clamp(6, area.height.saturating_sub(4));
    let r = Rect {
        y: area.y + 2,
        ..centered(area, 70, h)
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(": ", t.key),
            Span::styled(format!("{}█", p.query), t.input_focus),
        ]),
        Line::from(""),
    ];
    // `view …`: the saved views of this list and how to keep one, not actions.
    if viewing {
        lines.push(Line::from(vec![
            Span::styled("  view save NAME", t.key),
            Span::raw("  keep this list's filter, sort and columns"),
        ]));
        for (name, v) in app.views_here() {
            lines.push(Line::from(vec![
                Span::styled(format!("  view {name}"), t.key),
                Span::raw(format!("  {}", view_text(v))),
            ]));
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focus)
            .title(Span::styled(" Command palette · Enter runs ", t.title));
        f.render_widget(Clear, r);
        f.render_widget(Paragraph::new(lines).block(block), r);
        return;
    }
    if p.matches.is_empty() {
        lines.push(Line::from(Span::styled("  no action matches", t.muted)));
    }
    let room = r.height.saturating_sub(4) as usize;
    let start = p.selected.saturating_sub(room.saturating_sub(1));
    for (i, a) in p.matches.iter().enumerate().skip(start).take(room) {
        let style = if i == p.selected {
            t.selected
        } else {
            ratatui::style::Style::default()
        };
        // The action as a person says it, and its keys whole at the right.
        let keys = app.keymap.keys_text_in(*a, app.pane.key());
        let room = (r.width as usize).saturating_sub(5 + keys.chars().count());
        let name = fit(&human(a.description()), room);
        lines.push(Line::from(vec![
            Span::styled(format!(" {name:<room$} "), style),
            Span::styled(format!("{keys} "), style.patch(t.key)),
        ]));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(" Command palette ", t.title));
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(block), r);
}

pub fn confirm(f: &mut Frame, area: Rect, app: &App, c: &Confirm) {
    let t = &app.theme;
    let r = centered(area, 64, wrapped_height(&c.body, 64) + 6);
    let mut lines: Vec<Line> = vec![Line::from("")];
    lines.extend(c.body.iter().map(|b| Line::from(format!(" {b}"))));
    lines.push(Line::from(""));
    let mut buttons = vec![Span::raw(" ")];
    for (i, choice) in c.choices.iter().enumerate() {
        let style = if i == c.selected { t.selected } else { t.muted };
        buttons.push(Span::styled(format!(" {choice} "), style));
        buttons.push(Span::raw("   "));
    }
    lines.push(Line::from(buttons));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.warn)
        .title(Span::styled(format!(" {} ", c.title), t.header))
        .title_bottom(" ←/→ choose · Enter answers · Esc cancels ");
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}

pub fn info(f: &mut Frame, area: Rect, app: &App, title: &str, body: &[String]) {
    let t = &app.theme;
    let r = centered(area, 70, wrapped_height(body, 70) + 3);
    let lines: Vec<Line> = body.iter().map(|l| Line::from(format!(" {l}"))).collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(format!(" {title} "), t.title))
        .title_bottom(" any key closes ");
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}

/// Rows that `lines` take in a box `width` wide (borders and a leading space included).
fn wrapped_height(lines: &[String], width: u16) -> u16 {
    let inner = usize::from(width.saturating_sub(3)).max(1);
    lines
        .iter()
        .map(|l| l.chars().count().div_ceil(inner).max(1) as u16)
        .sum()
}

pub fn prompt(f: &mut Frame, area: Rect, app: &App, p: &Prompt) {
    let t = &app.theme;
    let error = p.error.as_deref().map(|e| format!(" {e}"));
    let error_rows = error
        .as_ref()
        .map_or(0, |e| wrapped_height(std::slice::from_ref(e), 70));
    let r = centered(area, 70, 6 + error_rows);
    let mut lines = vec![
        Line::from(""),
        Line::from(vec![
            Span::raw(" "),
            Span::styled(format!("{}█", p.input), t.input_focus),
        ]),
    ];
    if let Some(e) = error {
        lines.push(Line::from(Span::styled(e, t.error)));
    }
    lines.push(Line::from(Span::styled(format!(" {}", p.hint), t.muted)));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(format!(" {} ", p.title), t.title))
        .title_bottom(" Enter continues · Esc cancels ");
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}

/// What a saved view shows, in a line: `filter “state:active” · sort title ↑ · 5 columns`.
fn view_text(v: &crate::config::ViewConfig) -> String {
    let mut parts = Vec::new();
    if let Some(f) = v.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        parts.push(format!("filter “{f}”"));
    }
    if let Some(s) = &v.sort {
        let arrow = if v.descending.unwrap_or(false) {
            "↓"
        } else {
            "↑"
        };
        parts.push(format!("sort {s} {arrow}"));
    }
    if let Some(c) = &v.columns {
        parts.push(format!("columns {}", c.join(", ")));
    }
    if parts.is_empty() {
        "as the list opens".into()
    } else {
        parts.join(" · ")
    }
}
