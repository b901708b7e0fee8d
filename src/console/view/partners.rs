//! The Partners pane: list, detail, form.

use super::super::app::App;
use super::super::partners::View;
use super::local;
use crate::domain::VerificationState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState, Wrap};

pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    if app.partners.form.is_some() {
        form(f, area, app);
    } else if app.partners.view == View::Detail {
        detail(f, area, app);
    } else {
        list(f, area, app);
    }
}

fn state_style(app: &App, s: VerificationState) -> Style {
    match s {
        VerificationState::Verified => app.theme.ok,
        VerificationState::Pending => app.theme.warn,
        VerificationState::Disabled => app.theme.error,
    }
}

fn list(f: &mut Frame, area: Rect, app: &mut App) {
    let t = app.theme.clone();
    let p = &app.partners;
    let arrow = if p.filter.descending { "↓" } else { "↑" };
    let mut title = format!(" Partners · sort {} {arrow}", p.filter.sort.label());
    if let Some(text) = &p.filter.text {
        title.push_str(&format!(" · filter “{text}”"));
    }
    title.push_str(&format!(
        " · {}{} ",
        p.rows.len(),
        if p.at_end && p.at_start { "" } else { "+" }
    ));
    if p.loading {
        title.push_str("· loading… ");
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title, t.title));
    let wide = area.width >= 110;
    let mut header = vec!["Name", "Domain", "State", "Deals", "Vetted by"];
    let mut widths = vec![
        Constraint::Fill(3),
        Constraint::Fill(3),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(10),
    ];
    if wide {
        header.insert(3, "Categories");
        widths.insert(3, Constraint::Fill(2));
        header.push("Vetted at");
        widths.push(Constraint::Length(16));
    }
    let rows = p.rows.iter().map(|r| {
        let mut cells = vec![
            Span::raw(r.display_name.clone()),
            Span::raw(r.domain.clone().unwrap_or_default()),
            Span::styled(r.verification.to_string(), state_style(app, r.verification)),
            Span::raw(format!("{:>5}", r.deal_count)),
            Span::raw(r.vetted_by.clone().unwrap_or_default()),
        ];
        if wide {
            cells.insert(3, Span::raw(r.categories.join(", ")));
            cells.push(Span::raw(r.vetted_at.map(local).unwrap_or_default()));
        }
        Row::new(cells)
    });
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header))
        .row_highlight_style(t.selected)
        .block(block);
    let empty = p.rows.is_empty() && p.loaded_once && !p.loading;
    let mut state = TableState::default().with_selected(if p.rows.is_empty() {
        None
    } else {
        Some(p.selected)
    });
    app.partners.visible_rows = area.height.saturating_sub(3) as usize;
    f.render_stateful_widget(table, area, &mut state);
    if empty {
        let msg = if app.partners.filter.text.is_some() {
            "no partner matches the filter (Esc clears it)"
        } else {
            "no partners yet (n creates one)"
        };
        let r = Rect {
            x: area.x + 2,
            y: area.y + 2,
            width: area.width.saturating_sub(4),
            height: 1,
        };
        f.render_widget(Paragraph::new(Span::styled(msg, t.muted)), r);
    }
}

fn kv<'a>(t: &crate::console::theme::Theme, k: &'a str, v: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{k:<15}"), t.label),
        Span::raw(v),
    ])
}

fn detail(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let Some(d) = &app.partners.detail else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(" Partner ");
        f.render_widget(Paragraph::new("loading…").block(block), area);
        return;
    };
    let p = &d.partner;
    let title = format!(
        " {} · #{} · v{}{} ",
        p.display_name,
        p.id,
        p.version,
        if app.partners.detail_loading {
            " · refreshing…"
        } else {
            ""
        }
    );
    let [left, right] = if area.width >= 110 {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area)
    } else {
        Layout::vertical([Constraint::Length(15), Constraint::Min(3)]).areas(area)
    };
    let o = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let deals: Vec<String> = d
        .deals_by_state
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let fields = vec![
        kv(t, "Display name", p.display_name.clone()),
        kv(t, "Legal name", p.legal_name.clone()),
        Line::from(vec![
            Span::styled(format!("{:<15}", "State"), t.label),
            Span::styled(p.verification.to_string(), state_style(app, p.verification)),
        ]),
        kv(
            t,
            "Vetted",
            match (&p.vetted_by, p.vetted_at) {
                (Some(b), Some(a)) => format!("by {b} at {}", local(a)),
                _ => "not yet".into(),
            },
        ),
        kv(t, "Website", o(&p.website_url)),
        kv(t, "Domain", o(&p.domain)),
        kv(t, "Logo", o(&p.logo_url)),
        kv(t, "Contact", o(&p.contact_email)),
        kv(
            t,
            "Categories",
            if p.categories.is_empty() {
                "—".into()
            } else {
                p.categories.join(", ")
            },
        ),
        kv(t, "Region", o(&p.region)),
        kv(
            t,
            "Deals",
            if deals.is_empty() {
                "none".into()
            } else {
                deals.join(", ")
            },
        ),
        kv(t, "Notes", o(&p.notes)),
        kv(
            t,
            "Updated",
            format!("by {} at {}", p.updated_by, local(p.updated_at)),
        ),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title, t.title));
    f.render_widget(
        Paragraph::new(fields)
            .block(block)
            .wrap(Wrap { trim: false }),
        left,
    );

    let mut lines = vec![Line::from(Span::styled("Vetting checks", t.header))];
    if d.checks.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "  never run ({} runs them)",
                app.keymap
                    .keys_text(crate::console::action::Action::RunChecks)
            ),
            t.muted,
        )));
    }
    for c in &d.checks {
        let style = match c.outcome.as_str() {
            "pass" => t.ok,
            "warn" => t.warn,
            _ => t.error,
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<5}", c.outcome), style),
            Span::styled(format!("{:<17}", c.check_name), t.label),
            Span::raw(c.detail.clone()),
        ]));
        lines.push(Line::from(Span::styled(
            format!("         {} by {}", local(c.checked_at), c.checked_by),
            t.muted,
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Timeline", t.header)));
    for e in &d.timeline {
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", local(e.at)), t.muted),
            Span::styled(format!("{:<10} ", e.actor), t.label),
            Span::raw(e.action.clone()),
            Span::styled(
                e.reason
                    .as_ref()
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default(),
                t.muted,
            ),
        ]));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        right,
    );
}

fn form(f: &mut Frame, area: Rect, app: &mut App) {
    let t = app.theme.clone();
    let save_keys = app.keymap.keys_text(crate::console::action::Action::Save);
    let cancel_keys = app.keymap.keys_text(crate::console::action::Action::Cancel);
    let Some(pf) = app.partners.form.as_mut() else {
        return;
    };
    let form = &mut pf.form;
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
        .map(|fl| Constraint::Length(if fl.multiline { 4 } else { 1 }))
        .collect();
    constraints.push(Constraint::Length(1));
    constraints.push(Constraint::Min(0));
    let rows = Layout::vertical(constraints).spacing(0).split(inner);
    let focus = form.focus;
    let label_w = 16u16;
    let err_w = (inner.width * 2 / 5).min(48);
    for (i, field) in form.fields.iter_mut().enumerate() {
        let r = rows[i];
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
        field
            .area
            .set_style(if focused { t.input_focus } else { t.input });
        field.area.set_cursor_line_style(Style::default());
        field.area.set_cursor_style(if focused {
            Style::default().add_modifier(ratatui::style::Modifier::REVERSED)
        } else {
            Style::default()
        });
        f.render_widget(&field.area, input);
        let msg = match form.errors.for_field(field.name) {
            Some(rule) => Span::styled(format!("✕ {rule}"), t.error),
            None if focused => Span::styled(field.hint.to_owned(), t.muted),
            None => Span::raw(""),
        };
        f.render_widget(Paragraph::new(msg), e);
    }
    let n = form.fields.len();
    let footer = match (&form.notice, form.errors.0.len()) {
        (Some(notice), _) => Span::styled(format!("  {notice}"), t.error),
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
