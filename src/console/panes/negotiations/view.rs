//! The Negotiations pane: the thread list, and one thread's timeline with each revision's
//! difference from the previous one.

use super::{NegotiationsPane, overdue};
use crate::console::pane::Pane;
use crate::console::shell::Shell;
use crate::console::theme::Theme;
use crate::console::view::columns::Col;
use crate::console::view::registry::{Column, On, shown_from, table};
use crate::console::view::{FormKeys, ListTable, draw_form, draw_list, list_title, local};
use crate::domain::money::{format_amount, format_bps};
use crate::domain::negotiation::{Commission, Side, ThreadStatus};
use crate::service::contracts::ContractView;
use crate::service::negotiations::NegotiationView;
use crate::service::rows::ThreadRow;
use chrono::Utc;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn draw(p: &mut NegotiationsPane, f: &mut Frame, area: Rect, sh: &Shell) {
    if let Some(ed) = p.form.as_mut() {
        draw_form(f, area, &sh.theme, &FormKeys::of(sh), &mut ed.form);
    } else if p.detail.open {
        detail(f, area, p, sh);
    } else {
        list(f, area, p, sh);
    }
}

/// From this width the list shows when each thread was last active.
pub(super) const WIDE: u16 = 140;

/// A deadline passed on a thread still open is an error (against the clock).
fn deadline_style(r: &ThreadRow, t: &Theme) -> Style {
    if overdue(r.status, r.deadline, Utc::now()) {
        t.error
    } else {
        Style::default()
    }
}

/// The Negotiations list's columns. The last activity is shown when there is room for it
/// beside whole subjects ([`WIDE`]). The id, status, turn and times are never cut; the latest
/// revision gives way first, then the subject, then the partner.
pub const COLUMNS: &[Column<ThreadRow>] = &[
    Column::new("id", Col::num("Id"), On::Always, |r| r.id.to_string()),
    Column::new("subject", Col::text("Subject", 2), On::Always, |r| {
        r.subject.clone()
    }),
    Column::new("partner", Col::text("Partner", 3), On::Always, |r| {
        r.partner_name.clone()
    }),
    Column::new("status", Col::keep("Status"), On::Always, |r| {
        r.status.to_string()
    }),
    Column::new("latest", Col::text("Latest", 1), On::Always, |r| {
        match (r.latest_revision, &r.latest_side) {
            (Some(n), Some(side)) => format!("r{n} by {side}"),
            _ => "no offer".into(),
        }
    }),
    // Whose turn: the side that did not make the latest revision (the opener first).
    Column::new("turn", Col::keep("Turn"), On::Always, |r| {
        r.turn.clone().unwrap_or_else(|| "—".to_owned())
    }),
    Column::new(
        "deadline",
        Col::keep("Deadline"),
        On::Always,
        |r: &ThreadRow| {
            let late = overdue(r.status, r.deadline, Utc::now());
            format!("{}{}", local(r.deadline), if late { " !" } else { "" })
        },
    )
    .painted(deadline_style),
    Column::new("updated", Col::keep("Updated"), On::Wide, |r| {
        local(r.updated_at)
    }),
    Column::new("partner_id", Col::num("Partner id"), On::Chosen, |r| {
        r.partner_id.to_string()
    }),
    Column::new("revision", Col::num("Revision"), On::Chosen, |r| {
        r.latest_revision
            .map_or_else(|| "-".to_owned(), |n| n.to_string())
    }),
];

fn list(f: &mut Frame, area: Rect, pane: &mut NegotiationsPane, sh: &Shell) {
    let p = &*pane;
    let title = list_title(
        "Negotiations",
        ("last activity", true),
        Some(&p.filter.text),
        p.filter.error.as_deref(),
        &p.list,
    );
    let chosen = sh.columns.get(NegotiationsPane::KEY);
    let cols = shown_from(COLUMNS, chosen, area.width, WIDE);
    let (header, rows, widths) = table(area.width, &cols, &p.list.rows, &sh.theme, chosen);
    let table = ListTable {
        title,
        header,
        widths,
        empty: if p.filter.text.trim().is_empty() {
            "no negotiations yet"
        } else {
            "no negotiation matches the filter (Esc clears it)"
        },
    };
    draw_list(f, area, sh, &mut pane.list, table, rows);
}

/// The timeline: messages and revisions in time order, each revision after the first as what
/// changed (old → new).
pub fn timeline(v: &NegotiationView) -> Vec<(chrono::DateTime<Utc>, Side, String, Vec<String>)> {
    let mut items: Vec<(chrono::DateTime<Utc>, Side, String, Vec<String>)> = Vec::new();
    for m in &v.messages {
        items.push((
            m.created_at,
            m.side,
            format!("{} wrote{}", m.author, on_behalf(m.side)),
            m.body.lines().map(str::to_owned).collect(),
        ));
    }
    for (i, o) in v.offers.iter().enumerate() {
        let head = format!(
            "{} made revision {}{}",
            o.offer.author,
            o.offer.revision,
            on_behalf(o.offer.side)
        );
        let mut lines: Vec<String> = if i == 0 {
            let terms = &o.offer.terms;
            vec![
                format!(
                    "{} · settled {} · take rate {}",
                    commission(&terms.commission, &terms.currency),
                    terms.frequency,
                    format_bps(terms.take_rate_bps as i64)
                ),
                format!("deal “{}”", terms.deal.title),
            ]
        } else if o.changes.is_empty() {
            vec!["the same terms".into()]
        } else {
            o.changes.iter().map(|c| c.to_string()).collect()
        };
        if let Some(note) = &o.offer.note {
            lines.push(format!("note: {note}"));
        }
        items.push((o.offer.created_at, o.offer.side, head, lines));
    }
    // The acceptance closes the timeline: who accepted which revision, for which side.
    if v.thread.status == ThreadStatus::Accepted
        && let Some(o) = v.offers.last()
    {
        let side = o.offer.side.other();
        items.push((
            v.thread.updated_at,
            side,
            format!(
                "{} accepted revision {}{}",
                v.thread.updated_by,
                o.offer.revision,
                on_behalf(side)
            ),
            vec!["the agreement version, the contract and the draft deal were made".into()],
        ));
    }
    items.sort_by_key(|(at, ..)| *at);
    items
}

/// A commission model as a person reads it: `percentage 5%`, `fixed fee 2.50 EUR`, …
fn commission(c: &Commission, currency: &str) -> String {
    match c {
        Commission::Percentage { rate_bps } => {
            format!("percentage {}", format_bps(*rate_bps as i64))
        }
        Commission::FixedFee { amount_minor } => {
            format!(
                "fixed fee {} per redemption",
                format_amount(*amount_minor, currency)
            )
        }
        Commission::Hybrid {
            base_bps,
            bonus_bps,
            bonus_threshold,
        } => format!(
            "hybrid {} + {} after {bonus_threshold} redemptions",
            format_bps(*base_bps as i64),
            format_bps(*bonus_bps as i64)
        ),
        Commission::FlatFee { amount_minor } => {
            format!(
                "flat fee {} per period",
                format_amount(*amount_minor, currency)
            )
        }
        Commission::ReferralOnly => c.text(currency),
    }
}

/// The contract: status, hash, signatures, the draft deal and the benefits with their state.
fn contract(cv: &ContractView, sh: &Shell) -> Vec<Line<'static>> {
    let t = &sh.theme;
    let c = &cv.contract;
    let label = |k: &str| Span::styled(format!("{k:<10}"), t.label);
    let mut lines = vec![
        Line::from(vec![
            label("Contract"),
            Span::raw(format!("#{} · {}", c.id, c.status)),
            Span::styled(
                c.status_reason
                    .as_ref()
                    .map(|r| format!(" · {r}"))
                    .unwrap_or_default(),
                t.muted,
            ),
        ]),
        Line::from(vec![
            label("SHA-256"),
            Span::styled(c.snapshot_hash.clone(), t.muted),
        ]),
    ];
    let signed = |side: Side| {
        cv.signatures
            .iter()
            .find(|s| s.side == side)
            .map(|s| format!("{side} by {} at {}", s.operator, local(s.signed_at)))
            .unwrap_or_else(|| format!("{side}: not yet"))
    };
    lines.push(Line::from(vec![
        label("Signed"),
        Span::raw(format!(
            "{} · {}",
            signed(Side::Marketplace),
            signed(Side::Partner)
        )),
    ]));
    lines.push(Line::from(vec![
        label("Deal"),
        Span::raw(format!(
            "draft #{} ({} opens it on the Deals pane)",
            c.deal_id,
            sh.keymap
                .keys_text_in(crate::console::action::Action::OpenDeal, "negotiations")
        )),
    ]));
    if cv.benefits.is_empty() {
        lines.push(Line::from(vec![
            label("Benefits"),
            Span::styled("none", t.muted),
        ]));
    }
    for b in &cv.benefits {
        let overdue = cv.overdue.contains(&b.position);
        lines.push(Line::from(vec![
            label(if b.position == 1 { "Benefits" } else { "" }),
            Span::raw(format!("{}. {} ", b.position, b.name)),
            Span::styled(
                format!(
                    "{}{}{}{}",
                    b.status,
                    b.delivery()
                        .map(|(at, by)| format!(" by {by} at {}", local(at)))
                        .unwrap_or_default(),
                    b.due_date.map(|d| format!(", due {d}")).unwrap_or_default(),
                    b.note
                        .as_ref()
                        .map(|n| format!(" · {n}"))
                        .unwrap_or_default()
                ),
                if overdue { t.error } else { t.muted },
            ),
            Span::styled(if overdue { " · overdue" } else { "" }, t.error),
        ]));
    }
    lines
}

fn on_behalf(side: Side) -> &'static str {
    match side {
        Side::Partner => " for the partner (on its behalf)",
        Side::Marketplace => "",
    }
}

fn detail(f: &mut Frame, area: Rect, pane: &mut NegotiationsPane, sh: &Shell) {
    let t = &sh.theme;
    let Some(v) = &pane.detail.data else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(" Negotiation ");
        f.render_widget(Paragraph::new("loading…").block(block), area);
        return;
    };
    let th = &v.thread;
    let now = Utc::now();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<10}", "Partner"), t.label),
            Span::raw(format!("{} (#{})", v.partner_name, th.partner_id)),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<10}", "Status"), t.label),
            Span::raw(th.status.to_string()),
            Span::styled(
                match (v.turn, th.status.is_final()) {
                    (Some(side), false) => format!(" · the {side}'s turn"),
                    _ => String::new(),
                },
                t.muted,
            ),
            Span::styled(
                th.closed_reason
                    .as_ref()
                    .map(|r| format!(" · {r}"))
                    .unwrap_or_default(),
                t.muted,
            ),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<10}", "Deadline"), t.label),
            Span::styled(
                local(th.deadline),
                if overdue(th.status, th.deadline, now) {
                    t.error
                } else {
                    Style::default()
                },
            ),
        ]),
    ];
    match (&pane.contract, v.contract_id) {
        (Some(cv), Some(id)) if cv.contract.id == id => lines.extend(contract(cv, sh)),
        (_, Some(id)) => lines.push(Line::from(vec![
            Span::styled(format!("{:<10}", "Contract"), t.label),
            Span::raw(format!("#{id} · loading…")),
        ])),
        _ => {}
    }
    lines.push(Line::from(""));
    let items = timeline(v);
    if items.is_empty() {
        lines.push(Line::from(Span::styled(
            "nothing said or offered yet",
            t.muted,
        )));
    }
    for (at, side, head, body) in items {
        let style = match side {
            Side::Partner => t.warn,
            Side::Marketplace => t.ok,
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", local(at)), t.muted),
            Span::styled(format!("{side:<11} "), style),
            Span::styled(head, t.header),
        ]));
        lines.extend(body.into_iter().map(|l| Line::from(format!("      {l}"))));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(
            format!(" Negotiation #{} · {} ", th.id, th.subject),
            t.title,
        ));
    pane.detail.scroll.draw(f, area, block, lines);
}
