//! The Deals pane: list, detail, form.

use super::{DealsPane, show_local};
use crate::console::pane::Pane;
use crate::console::shell::Shell;
use crate::console::theme::Theme;
use crate::console::view::columns::Col;
use crate::console::view::registry::{Column, On, shown, table};
use crate::console::view::{FormKeys, ListTable, draw_form, draw_list, list_title, local};
use crate::domain::DealState;
use crate::domain::list_text::{audience, used, window};
use crate::service::rows::DealListRow;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

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
    state_style_in(&sh.theme, s)
}

fn state_style_in(t: &Theme, s: DealState) -> Style {
    match s {
        DealState::Active => t.ok,
        DealState::Draft => t.muted,
        DealState::Paused => t.warn,
        DealState::Expired => t.error,
    }
}

/// The Deals list's columns. The title gives way first, then the audience, then the partner;
/// states, counts, dates and ids are never cut.
pub const COLUMNS: &[Column<DealListRow>] = &[
    Column::new("title", Col::text("Title", 1), On::Always, |r| {
        r.title.clone()
    }),
    Column::new("partner", Col::text("Partner", 3), On::Always, |r| {
        r.partner_name.clone()
    }),
    Column::new("kind", Col::keep("Kind"), On::Wide, |r| r.kind.to_string()),
    Column::new("audience", Col::text("Audience", 2), On::Wide, |r| {
        audience(r.audience_scope, r.audience_scope_value.as_deref())
    }),
    Column::new(
        "state",
        Col::keep("State"),
        On::Always,
        |r: &DealListRow| r.state.to_string(),
    )
    .painted(|r, t| state_style_in(t, r.state)),
    Column::new("redeemed", Col::num("Used"), On::Always, |r| {
        used(r.redemption_count, r.redemption_cap)
    }),
    Column::new("ends", Col::keep("Ends"), On::Narrow, |r| {
        show_local(r.valid_until)[..10].to_owned()
    }),
    Column::new("window", Col::keep("Window"), On::Wide, |r| {
        window(r.valid_from, r.valid_until, |t| {
            show_local(t)[..10].to_owned()
        })
    }),
    Column::new("id", Col::num("ID"), On::Always, |r: &DealListRow| {
        r.id.to_string()
    })
    .muted(),
    Column::new("starts", Col::keep("Starts"), On::Chosen, |r| {
        show_local(r.valid_from)[..10].to_owned()
    }),
    Column::new("cap", Col::num("Cap"), On::Chosen, |r| {
        r.redemption_cap
            .map_or_else(|| "-".to_owned(), |c| c.to_string())
    }),
];

fn list(f: &mut Frame, area: Rect, pane: &mut DealsPane, sh: &Shell) {
    let d = &*pane;
    let title = list_title(
        "Deals",
        (d.filter.query.sort.label(), d.filter.query.descending),
        Some(&d.filter.text),
        d.filter.error.as_deref(),
        &d.list,
    );
    let chosen = sh.columns.get(DealsPane::KEY);
    let cols = shown(COLUMNS, chosen, area.width);
    let (header, rows, widths) = table(area.width, &cols, &d.list.rows, &sh.theme, chosen);
    let empty = if d.filter.text.is_empty() {
        "no deals yet (n authors one)"
    } else {
        "no deal matches the filter (Esc clears it)"
    };
    let table = ListTable {
        title,
        header,
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
            Span::raw(crate::console::view::shown(&v, false)),
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
    ];
    let mut fields = fields;
    // The description as it was typed: each line break starts a line under the label.
    if deal.description.is_empty() {
        fields.push(kv("Description", "—".into()));
    }
    for (i, line) in deal.description.lines().enumerate() {
        fields.push(kv(
            if i == 0 { "Description" } else { "" },
            line.to_string(),
        ));
    }
    fields.push(kv("URL", o(&deal.redemption_url)));
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
