//! The Settlements list: its columns declared once (drawn, chosen in `[columns.settlements]`,
//! exported), and the list drawn from them.

use super::SettlementsPane;
use crate::console::shell::Shell;
use crate::console::theme::Theme;
use crate::console::view::columns::Col;
use crate::console::view::registry::{Column, On, shown_from, table};
use crate::console::view::{ListTable, draw_list, list_title, now};
use crate::domain::money::format_amount;
use crate::domain::settlement::{
    Discrepancy, SettlementStatus, discrepancy_text, period_label, review_by,
};
use crate::service::rows::{Settlement, SettlementRow};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;

/// Below this width the list shows its short columns (its `Wide` columns start here).
pub(super) const WIDE: u16 = 120;

pub(super) fn status_style(t: &Theme, s: SettlementStatus) -> Style {
    match s {
        SettlementStatus::Draft => t.muted,
        SettlementStatus::InReview => t.warn,
        SettlementStatus::Approved => t.ok,
        SettlementStatus::Paid => Style::default(),
        SettlementStatus::Disputed => t.error,
    }
}

/// "3d left", "today", "closed", or "-" when not in review.
fn days_short(s: &Settlement, now: DateTime<Utc>) -> String {
    match (s.status, s.review_deadline) {
        (SettlementStatus::InReview, Some(d)) if d <= now => "closed".into(),
        (SettlementStatus::InReview, Some(d)) if (d - now).num_days() == 0 => "today".into(),
        (SettlementStatus::InReview, Some(d)) => format!("{}d left", (d - now).num_days()),
        _ => "-".into(),
    }
}

pub(super) fn tally(s: &Settlement) -> Option<(i32, i64)> {
    s.tally_count.zip(s.tally_amount_minor)
}

fn money(r: &SettlementRow, minor: i64) -> String {
    format_amount(minor, &r.settlement.currency)
}

/// Exceptions warn.
fn exceptions_style(r: &SettlementRow, t: &Theme) -> Style {
    if r.settlement.exception_count > 0 {
        t.warn
    } else {
        Style::default()
    }
}

/// A review window that has closed is an error. (It depends on the present too: the views'
/// [`now`], pinned in render tests.)
fn review_style(r: &SettlementRow, t: &Theme) -> Style {
    let s = &r.settlement;
    let closed =
        s.status == SettlementStatus::InReview && s.review_deadline.is_some_and(|d| d <= now());
    if closed { t.error } else { Style::default() }
}

/// A partner's tally that differs from ours warns.
fn tally_style(r: &SettlementRow, t: &Theme) -> Style {
    let s = &r.settlement;
    match tally(s) {
        Some(tl) if !Discrepancy::of(tl, s.redemption_count, s.commission_minor).is_zero() => {
            t.warn
        }
        _ => Style::default(),
    }
}

/// The Settlements list's columns. Ids, periods, states, counts, amounts and differences are
/// never cut; the partner's name gives way. Below [`WIDE`] the lines carry their exceptions,
/// the review its days left and the tally whether it matches.
pub const COLUMNS: &[Column<SettlementRow>] = &[
    Column::new("id", Col::num("Id"), On::Always, |r| {
        r.settlement.id.to_string()
    }),
    Column::new("partner", Col::text("Partner", 1), On::Always, |r| {
        format!("{} v{}", r.partner_name, r.agreement_version)
    }),
    Column::new("period", Col::keep("Period"), On::Always, |r| {
        period_label(&r.frequency, r.settlement.period_start)
    }),
    Column::new(
        "status",
        Col::keep("Status"),
        On::Always,
        |r: &SettlementRow| {
            let s = &r.settlement;
            match (r.batch_id, r.carried_since) {
                (Some(b), _) => format!("{} · batch {b}", s.status),
                (None, Some(_)) => format!("{} · carried", s.status),
                _ => s.status.to_string(),
            }
        },
    )
    .painted(|r, t| status_style(t, r.settlement.status)),
    Column::new("lines", Col::num("Lines"), On::Wide, |r| {
        r.settlement.line_count.to_string()
    }),
    Column::new(
        "exceptions",
        Col::num("Exc"),
        On::Wide,
        |r: &SettlementRow| r.settlement.exception_count.to_string(),
    )
    .painted(exceptions_style),
    Column::new(
        "lines_exceptions",
        Col::num("Lines"),
        On::Narrow,
        |r: &SettlementRow| {
            let s = &r.settlement;
            if s.exception_count > 0 {
                format!("{} ({})", s.line_count, s.exception_count)
            } else {
                s.line_count.to_string()
            }
        },
    )
    .painted(exceptions_style),
    Column::new("commission", Col::num("Commission"), On::Wide, |r| {
        money(r, r.settlement.commission_minor)
    }),
    Column::new("net", Col::num("Net"), On::Always, |r| {
        money(r, r.settlement.net_minor)
    }),
    Column::new(
        "review_by",
        Col::keep("Review by"),
        On::Wide,
        |r: &SettlementRow| review_by(r.settlement.status, r.settlement.review_deadline, now()),
    )
    .painted(review_style),
    Column::new(
        "review",
        Col::keep("Review"),
        On::Narrow,
        |r: &SettlementRow| days_short(&r.settlement, now()),
    )
    .painted(review_style),
    Column::new(
        "discrepancy",
        Col::keep("Discrepancy"),
        On::Wide,
        |r: &SettlementRow| {
            let s = &r.settlement;
            discrepancy_text(
                tally(s),
                s.redemption_count,
                s.commission_minor,
                &s.currency,
            )
        },
    )
    .painted(tally_style),
    Column::new(
        "tally",
        Col::keep("Tally"),
        On::Narrow,
        |r: &SettlementRow| {
            let s = &r.settlement;
            match tally(s) {
                Some(tl) => {
                    let d = Discrepancy::of(tl, s.redemption_count, s.commission_minor);
                    if d.is_zero() { "matches" } else { "differs" }.into()
                }
                None => discrepancy_text(None, s.redemption_count, s.commission_minor, &s.currency),
            }
        },
    )
    .painted(tally_style),
    Column::new("currency", Col::keep("Currency"), On::Chosen, |r| {
        r.settlement.currency.clone()
    }),
    Column::new("redemptions", Col::num("Redemptions"), On::Chosen, |r| {
        r.settlement.redemption_count.to_string()
    }),
    Column::new("payouts", Col::num("Payouts"), On::Chosen, |r| {
        money(r, r.settlement.payouts_minor)
    }),
    Column::new("take", Col::num("Take"), On::Chosen, |r| {
        money(r, r.settlement.take_minor)
    }),
];

pub(super) fn list(f: &mut Frame, area: Rect, pane: &mut SettlementsPane, sh: &Shell) {
    let p = &*pane;
    let title = list_title(
        "Settlements",
        ("period", true),
        Some(&p.filter.text),
        p.filter.error.as_deref(),
        &p.list,
    );
    let chosen = sh
        .columns
        .get(<SettlementsPane as crate::console::pane::Pane>::KEY);
    let cols = shown_from(COLUMNS, chosen, area.width, WIDE);
    let (header, rows, widths) = table(area.width, &cols, &p.list.rows, &sh.theme, chosen);
    let table = ListTable {
        title,
        header,
        widths,
        empty: if p.filter.text.trim().is_empty() {
            "no settlements yet: c computes a period"
        } else {
            "no settlement matches the filter (Esc clears it)"
        },
    };
    draw_list(f, area, sh, &mut pane.list, table, rows);
}
