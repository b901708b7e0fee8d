//! The Partners pane: list, detail, form.

use super::PartnersPane;
use crate::console::pane::Pane;
use crate::console::shell::Shell;
use crate::console::theme::Theme;
use crate::console::view::columns::Col;
use crate::console::view::registry::{Column, On, shown, table};
use crate::console::view::{FormKeys, ListTable, draw_form, draw_list, list_title, local};
use crate::domain::VerificationState;
use crate::domain::list_text::vetted;
use crate::service::rows::PartnerListRow;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

pub fn draw(p: &mut PartnersPane, f: &mut Frame, area: Rect, sh: &Shell) {
    if let Some(pf) = p.form.as_mut() {
        draw_form(f, area, &sh.theme, &FormKeys::of(sh), &mut pf.form);
    } else if let Some(tab) = p.referral.as_mut() {
        super::referral::draw(f, area, tab, sh);
    } else if p.detail.open {
        detail(f, area, p, sh);
    } else {
        list(f, area, p, sh);
    }
}

fn state_style(sh: &Shell, s: VerificationState) -> Style {
    state_style_in(&sh.theme, s)
}

fn state_style_in(t: &Theme, s: VerificationState) -> Style {
    match s {
        VerificationState::Verified => t.ok,
        VerificationState::Pending => t.warn,
        VerificationState::Disabled => t.error,
    }
}

/// The Partners list's columns. Categories give way first, then the domain, then the name;
/// states, counts, times and ids are never cut.
pub const COLUMNS: &[Column<PartnerListRow>] = &[
    Column::new(
        "name",
        Col::text("Name", 3),
        On::Always,
        |r: &PartnerListRow| r.display_name.clone(),
    ),
    Column::new("domain", Col::text("Domain", 2), On::Always, |r| {
        r.domain.clone().unwrap_or_default()
    }),
    Column::new(
        "state",
        Col::keep("State"),
        On::Always,
        |r: &PartnerListRow| r.verification.to_string(),
    )
    .painted(|r, t| state_style_in(t, r.verification)),
    Column::new("categories", Col::text("Categories", 1), On::Wide, |r| {
        r.categories.join(", ")
    }),
    Column::new("deals", Col::num("Deals"), On::Always, |r| {
        r.deal_count.to_string()
    }),
    Column::new("vetted_by", Col::keep("Vetted by"), On::Always, |r| {
        vetted(r.verification, r.vetted_by.clone())
    }),
    Column::new("vetted_at", Col::keep("Vetted at"), On::Wide, |r| {
        vetted(r.verification, r.vetted_at.map(local))
    }),
    Column::new("id", Col::num("ID"), On::Always, |r: &PartnerListRow| {
        r.id.to_string()
    })
    .muted(),
];

fn list(f: &mut Frame, area: Rect, pane: &mut PartnersPane, sh: &Shell) {
    let p = &*pane;
    let title = list_title(
        "Partners",
        (p.filter.query.sort.label(), p.filter.query.descending),
        Some(p.filter.text.as_str()).filter(|t| !t.trim().is_empty()),
        p.filter.error.as_deref(),
        &p.list,
    );
    let chosen = sh.columns.get(PartnersPane::KEY);
    let cols = shown(COLUMNS, chosen, area.width);
    let (header, rows, widths) = table(area.width, &cols, &p.list.rows, &sh.theme, chosen);
    let empty = if !p.filter.text.trim().is_empty() {
        "no partner matches the filter (Esc clears it)"
    } else {
        "no partners yet (n creates one)"
    };
    let table = ListTable {
        title,
        header,
        widths,
        empty,
    };
    draw_list(f, area, sh, &mut pane.list, table, rows);
}

fn kv<'a>(t: &crate::console::theme::Theme, k: &'a str, v: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{k:<15}"), t.label),
        Span::raw(crate::console::view::shown(&v, false)),
    ])
}

fn detail(f: &mut Frame, area: Rect, pane: &mut PartnersPane, sh: &Shell) {
    let t = &sh.theme;
    let Some(d) = &pane.detail.data else {
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
        if pane.detail.loading() {
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
            Span::styled(p.verification.to_string(), state_style(sh, p.verification)),
        ]),
        kv(
            t,
            "Vetted",
            match (&p.vetted_by, p.vetted_at, p.verification) {
                (Some(b), Some(a), VerificationState::Pending) => {
                    format!(
                        "not now: back to pending (last vetted by {b} at {})",
                        local(a)
                    )
                }
                (Some(b), Some(a), _) => format!("by {b} at {}", local(a)),
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
        kv(
            t,
            "Payout",
            // Masked on screen for everyone, finance too: screens are shared and recorded.
            d.payout
                .as_ref()
                .map(|r| {
                    let day: String = local(r.changed_at).chars().take(10).collect();
                    format!(
                        "{} · {} · {} {day}",
                        r.iban_masked, r.currency, r.updated_by
                    )
                })
                .unwrap_or_else(|| "none yet (partners payout sets it)".into())
                + &d.owed
                    .iter()
                    .map(|w| format!(" · owed {}", w.text()))
                    .collect::<String>(),
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
                sh.keymap
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
