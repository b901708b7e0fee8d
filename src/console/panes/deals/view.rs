//! The Deals pane: list, detail, form.

use super::{DealsPane, show_local};
use crate::console::shell::Shell;
use crate::console::view::{
    FormKeys, ListTable, column_widths, draw_form, draw_list, list_title, local, need,
};
use crate::domain::DealState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Wrap};

pub fn draw(p: &mut DealsPane, f: &mut Frame, area: Rect, sh: &Shell) {
    if let Some(df) = p.form.as_mut() {
        draw_form(f, area, &sh.theme, &FormKeys::of(sh), &mut df.form);
    } else if p.detail.open {
        detail(f, area, p, sh);
    } else {
        list(f, area, p, sh);
    }
}

pub fn state_style(sh: &Shell, s: DealState) -> Style {
    match s {
        DealState::Active => sh.theme.ok,
        DealState::Draft => sh.theme.muted,
        DealState::Paused => sh.theme.warn,
        DealState::Expired => sh.theme.error,
    }
}

fn used(count: i32, cap: Option<i32>) -> String {
    match cap {
        Some(1) => format!("{count} (1/member)"),
        Some(c) => format!("{count}/{c}"),
        None => count.to_string(),
    }
}

fn list(f: &mut Frame, area: Rect, pane: &mut DealsPane, sh: &Shell) {
    let d = &*pane;
    let title = list_title(
        "Deals",
        (d.filter.query.sort.label(), d.filter.query.descending),
        Some(&d.filter.text),
        d.filter.error.as_deref(),
        &d.list,
    );
    let wide = area.width >= 110;
    let ids: Vec<String> = d.list.rows.iter().map(|r| r.id.to_string()).collect();
    let id_w = need("ID", ids.iter().map(|s| s.as_str())) as u16 + 1;
    let mut header = vec!["Title", "Partner", "State", "Used", "Ends", "ID"];
    let mut order = vec![Ok(0), Ok(1), Err(8), Err(13), Err(10), Err(id_w)];
    if wide {
        header.splice(2..2, ["Kind", "Audience"]);
        order.splice(2..2, [Err(6), Err(14)]);
        header[6] = "Window";
        order[6] = Err(23);
    }
    let needs = [
        need("Title", d.list.rows.iter().map(|r| r.title.as_str())),
        need(
            "Partner",
            d.list.rows.iter().map(|r| r.partner_name.as_str()),
        ),
    ];
    let widths = column_widths(area.width, &order, &needs);
    let rows: Vec<Row> = d
        .list
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                Span::raw(r.title.clone()),
                Span::raw(r.partner_name.clone()),
                Span::styled(r.state.to_string(), state_style(sh, r.state)),
                Span::raw(used(r.redemption_count, r.redemption_cap)),
                Span::raw(show_local(r.valid_until)[..10].to_owned()),
            ];
            if wide {
                let scope = match &r.audience_scope_value {
                    Some(v) => format!("{} {v}", r.audience_scope),
                    None => r.audience_scope.to_string(),
                };
                cells.splice(2..2, [Span::raw(r.kind.to_string()), Span::raw(scope)]);
                cells[6] = Span::raw(format!(
                    "{} – {}",
                    &show_local(r.valid_from)[..10],
                    &show_local(r.valid_until)[..10]
                ));
            }
            cells.push(Span::styled(
                format!("{:>w$}", r.id, w = id_w as usize - 1),
                sh.theme.muted,
            ));
            Row::new(cells)
        })
        .collect();
    let empty = if d.filter.text.is_empty() {
        "no deals yet (n authors one)"
    } else {
        "no deal matches the filter (Esc clears it)"
    };
    let table = ListTable {
        title,
        header: Row::new(header),
        widths,
        empty,
    };
    draw_list(f, area, sh, &mut pane.list, table, rows);
}

fn detail(f: &mut Frame, area: Rect, pane: &mut DealsPane, sh: &Shell) {
    let t = &sh.theme;
    let Some(d) = &pane.detail.data else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(" Deal ");
        f.render_widget(Paragraph::new("loading…").block(block), area);
        return;
    };
    let deal = &d.deal;
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<15}"), t.label),
            Span::raw(v),
        ])
    };
    let o = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let [left, right] = if area.width >= 110 {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
    } else {
        Layout::vertical([Constraint::Length(16), Constraint::Min(3)]).areas(area)
    };
    let scope = match &deal.audience_scope_value {
        Some(v) => format!("{} {v}", deal.audience_scope),
        None => deal.audience_scope.to_string(),
    };
    let fields = vec![
        kv("Title", deal.title.clone()),
        kv(
            "Partner",
            format!("{} (#{})", d.partner_name, deal.partner_id),
        ),
        Line::from(vec![
            Span::styled(format!("{:<15}", "State"), t.label),
            Span::styled(deal.state.to_string(), state_style(sh, deal.state)),
        ]),
        kv("Kind", deal.kind.to_string()),
        kv(
            if deal.coupon_code.is_some() {
                "Coupon code"
            } else {
                "Link"
            },
            deal.coupon_code
                .clone()
                .or(deal.redemption_url.clone())
                .unwrap_or_default(),
        ),
        kv("Audience", scope),
        kv(
            "Window",
            format!(
                "{} – {}",
                show_local(deal.valid_from),
                show_local(deal.valid_until)
            ),
        ),
        kv(
            "Redemptions",
            used(deal.redemption_count, deal.redemption_cap),
        ),
        kv(
            "Categories",
            if deal.categories.is_empty() {
                "—".into()
            } else {
                deal.categories.join(", ")
            },
        ),
        kv(
            "Published",
            deal.published_at
                .map(local)
                .unwrap_or_else(|| "never".into()),
        ),
        kv(
            "Updated",
            format!(
                "by {} at {} (v{})",
                deal.updated_by,
                local(deal.updated_at),
                deal.version
            ),
        ),
        kv(
            "Description",
            if deal.description.is_empty() {
                "—".into()
            } else {
                deal.description.clone()
            },
        ),
        kv("URL", o(&deal.redemption_url)),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(format!(" Deal #{} ", deal.id), t.title));
    f.render_widget(
        Paragraph::new(fields)
            .block(block)
            .wrap(Wrap { trim: false }),
        left,
    );

    let mut lines = vec![Line::from(Span::styled("Coupon codes", t.header))];
    if d.codes.is_empty() {
        lines.push(Line::from(Span::styled("  none (a link deal)", t.muted)));
    }
    for c in &d.codes {
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", local(c.set_at)), t.muted),
            Span::raw(format!("{:<16}", c.code)),
            Span::styled(format!("by {}", c.set_by), t.label),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Timeline", t.header)));
    if d.timeline.is_empty() {
        lines.push(Line::from(Span::styled("  nothing recorded yet", t.muted)));
    }
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
    pane.detail.scroll.draw(f, right, block, lines);
}
