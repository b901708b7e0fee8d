//! The Settlements pane: the list of statements, and one statement's detail — its summary
//! beside the partner's commission chart, and its lines below.

use super::lines::kind_text;
use super::list_view::{self, WIDE, tally};
use super::{Opened, SettlementsPane};
use crate::console::shell::Shell;
use crate::console::view::columns::{Col, cut_line, fitted, styled};
use crate::console::view::{ListTable, draw_list, local, local_fmt, now};
use crate::domain::money::{format_amount, format_bps};
use crate::domain::settlement::{SettlementStatus, days_left, period_label};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Paragraph};

pub fn draw(p: &mut SettlementsPane, f: &mut Frame, area: Rect, sh: &Shell) {
    if p.detail.open {
        detail(f, area, p, sh);
    } else {
        list_view::list(f, area, p, sh);
    }
}

fn status_style(s: SettlementStatus, sh: &Shell) -> Style {
    list_view::status_style(&sh.theme, s)
}

/// The summary's lines: terms, period, status, totals, lines, the partner's tally, the ledger.
fn summary(o: &Opened, sh: &Shell, now: DateTime<Utc>) -> Vec<Line<'static>> {
    let t = &sh.theme;
    let v = &o.view;
    let s = v.settlement();
    let a = &v.agreement;
    let money = |m: i64| format_amount(m, &s.currency);
    let label = |k: &str| Span::styled(format!("{k:<11}"), t.label);
    let mut status = vec![
        label("Status"),
        Span::styled(s.status.to_string(), status_style(s.status, sh)),
    ];
    status.push(Span::raw(match s.status {
        SettlementStatus::Draft => {
            format!(" · computed {} by {}", local(s.computed_at), s.computed_by)
        }
        SettlementStatus::InReview => s
            .review_deadline
            .map(|d| format!(" · by {} ({})", d.format("%Y-%m-%d"), days_left(d, now)))
            .unwrap_or_default(),
        SettlementStatus::Approved => s
            .approved_at
            .map(|at| {
                format!(
                    " · {} by {}",
                    local(at),
                    s.approved_by.as_deref().unwrap_or("-")
                )
            })
            .unwrap_or_default(),
        SettlementStatus::Paid => format!(
            " {} · ref {}",
            s.paid_on.map(|d| d.to_string()).unwrap_or_default(),
            s.payment_reference.as_deref().unwrap_or("-")
        ),
        SettlementStatus::Disputed => format!(": {}", s.dispute_reason.as_deref().unwrap_or("")),
    }));
    let mut lines = vec![
        Line::from(vec![
            label("Terms"),
            Span::raw(format!(
                "v{} · {} · {}",
                a.version,
                a.commission().text(&a.currency),
                a.frequency,
            )),
        ]),
        Line::from(vec![
            label("Period"),
            Span::raw(format!(
                "{} · {} to {}",
                v.period, s.period_start, s.period_end
            )),
        ]),
        Line::from(status),
    ];
    if let Some(n) = &s.review_note {
        lines.push(Line::from(vec![label("Review"), Span::raw(n.clone())]));
    }
    if let Some(n) = v.approval_note() {
        lines.push(Line::from(vec![label("Approval"), Span::raw(n.to_owned())]));
    }
    if let Some(p) = v.row.payout_text() {
        lines.push(Line::from(vec![label("Payment"), Span::raw(p)]));
    }
    if let Some(c) = &v.adjustments_only {
        lines.push(Line::from(vec![
            label("Alone"),
            Span::raw(format!(
                "adjustments only: v{} in {} is in effect for {}",
                c.version, c.currency, v.period
            )),
        ]));
    }
    if let (Some(first), Some(last)) = (v.held.first(), v.held.last()) {
        let n = v.held.len();
        let one_currency = v
            .held
            .iter()
            .all(|h| h.payout.currency == first.payout.currency);
        let sum: i64 = v.held.iter().map(|h| h.payout.amount_minor).sum();
        lines.push(Line::from(vec![
            label("Held"),
            Span::raw(format!(
                "{n} referral payout{}{} (holding period): {}",
                if n == 1 { "" } else { "s" },
                if one_currency {
                    format!(" of {}", format_amount(sum, &first.payout.currency))
                } else {
                    String::new()
                },
                if first.lands == last.lands {
                    format!("on the {} statement", first.lands)
                } else {
                    format!("on the {} to {} statements", first.lands, last.lands)
                }
            )),
        ]));
    }
    let net = if s.net_minor >= 0 {
        format!("{} due from the partner", money(s.net_minor))
    } else {
        format!("{} due to the partner", money(-s.net_minor))
    };
    lines.extend([
        Line::from(vec![
            label("Commission"),
            Span::raw(format!(
                "{} · platform take {} ({})",
                money(s.commission_minor),
                money(s.take_minor),
                format_bps(a.take_rate_bps.into())
            )),
        ]),
        Line::from(vec![label("Payouts"), Span::raw(money(s.payouts_minor))]),
        Line::from(vec![label("Net"), Span::raw(net)]),
        Line::from(vec![
            label("Lines"),
            Span::raw(if s.redemption_count == s.line_count {
                format!("{} · ", s.line_count)
            } else {
                format!("{} ({} redemptions) · ", s.line_count, s.redemption_count)
            }),
            if s.exception_count > 0 {
                Span::styled(
                    format!("{} exceptions, not in the totals", s.exception_count),
                    t.warn,
                )
            } else {
                Span::styled("no exceptions", t.muted)
            },
        ]),
    ]);
    match (tally(s), v.discrepancy) {
        (Some((c, amt)), Some(d)) => lines.extend([
            Line::from(vec![
                label("Tally"),
                Span::raw(format!(
                    "{c} · {} (ours {} · {})",
                    money(amt),
                    s.redemption_count,
                    money(s.commission_minor)
                )),
            ]),
            Line::from(vec![
                label("Difference"),
                Span::styled(d.text(&s.currency), if d.is_zero() { t.ok } else { t.warn }),
            ]),
        ]),
        _ => lines.push(Line::from(vec![
            label("Tally"),
            Span::styled("the partner's not entered", t.muted),
        ])),
    }
    if v.ledger.is_empty() {
        lines.push(Line::from(vec![
            label("Ledger"),
            Span::styled("no entries", t.muted),
        ]));
    }
    for (i, e) in v.ledger.iter().enumerate() {
        lines.push(Line::from(vec![
            label(if i == 0 { "Ledger" } else { "" }),
            Span::raw(format!(
                "#{} {} {} · {} by {}{}",
                e.id,
                e.kind,
                format_amount(e.amount_minor, &e.currency),
                local_fmt(e.at, "%Y-%m-%d"),
                e.by_login,
                e.reverses_id
                    .map(|r| format!(" · reverses #{r}"))
                    .unwrap_or_default()
            )),
        ]));
    }
    lines
}

/// The partner's commission over its last periods in the settlement's currency, oldest first,
/// the settlement's own period marked; amounts under the bars.
fn chart(f: &mut Frame, area: Rect, o: &Opened, sh: &Shell) {
    let t = &sh.theme;
    let s = o.view.settlement();
    let block = Block::default()
        .borders(Borders::LEFT)
        .border_style(t.border);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 4 || inner.width < 12 {
        return;
    }
    let mut points: Vec<(String, i64, bool)> = o
        .history
        .iter()
        .filter(|(_, c, _)| *c == s.currency)
        .map(|(start, _, minor)| {
            let label = period_label(&o.view.row.frequency, *start);
            (label, *minor, *start == s.period_start)
        })
        .collect();
    points.reverse();
    let [head, bars, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(2),
    ])
    .areas(inner);
    f.render_widget(
        Paragraph::new(Span::styled(
            format!(" Commission by {}", unit(&o.view.row.frequency)),
            t.label,
        )),
        head,
    );
    let n = points.len().max(1) as u16;
    // Bars as wide as fit with a gap of one; labels under them when two columns fit.
    let bar_width = ((inner.width.saturating_sub(1) + 1) / n)
        .saturating_sub(1)
        .clamp(1, 5);
    let short = |label: &str| match label.rsplit_once('-') {
        Some((_, tail)) => tail.to_owned(),
        None => label.chars().skip(2).collect(),
    };
    let data: Vec<Bar> = points
        .iter()
        .map(|(label, minor, this)| {
            let bar = Bar::default()
                .value((*minor).max(0) as u64)
                .text_value(String::new())
                .style(if *this { t.warn } else { t.ok });
            if bar_width >= 2 {
                bar.label(Line::from(short(label)))
            } else {
                bar
            }
        })
        .collect();
    let max = points.iter().map(|p| p.1).max().unwrap_or(0);
    f.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&data))
            .bar_width(bar_width)
            .bar_gap(1)
            .label_style(t.muted),
        Rect {
            x: bars.x + 1,
            width: bars.width.saturating_sub(1),
            ..bars
        },
    );
    let range = match (points.first(), points.last()) {
        (Some(a), Some(b)) if points.len() > 1 => format!(" {} … {}", a.0, b.0),
        (Some(a), _) => format!(" {}", a.0),
        _ => " nothing computed yet".to_owned(),
    };
    f.render_widget(
        Paragraph::new(vec![
            Line::styled(range, t.muted),
            Line::styled(format!(" max {}", format_amount(max, &s.currency)), t.muted),
        ]),
        foot,
    );
}

/// "month", "quarter", "year": what one bar is.
fn unit(frequency: &str) -> &'static str {
    match frequency {
        "quarterly" => "quarter",
        "annual" => "year",
        _ => "month",
    }
}

fn detail(f: &mut Frame, area: Rect, pane: &mut SettlementsPane, sh: &Shell) {
    let t = &sh.theme;
    let Some(o) = pane.detail.data.as_ref() else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(" Settlement ");
        f.render_widget(Paragraph::new("loading…").block(block), area);
        return;
    };
    let now = now();
    let s = o.view.settlement();
    let text = summary(o, sh, now);
    // The lines keep room for a few rows whatever the summary's length.
    let top_h = (text.len() as u16 + 2)
        .min(area.height.saturating_sub(8))
        .max(3);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_h), Constraint::Min(0)]).areas(area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(
            format!(
                " Settlement #{} · {} v{} · {} · {} ",
                s.id, o.view.row.partner_name, o.view.agreement.version, o.view.period, s.status
            ),
            t.title,
        ));
    let inner = block.inner(top);
    f.render_widget(block, top);
    let chart_w = if area.width >= WIDE { 50 } else { 26 };
    let [text_area, chart_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(chart_w)]).areas(inner);
    // A line longer than its box ends in … rather than mid-word.
    let room = text_area.width as usize;
    let text: Vec<Line> = text.into_iter().map(|l| cut_line(l, room)).collect();
    f.render_widget(Paragraph::new(text), text_area);
    chart(f, chart_area, o, sh);
    lines_table(f, bottom, pane, sh);
}

fn lines_table(f: &mut Frame, area: Rect, pane: &mut SettlementsPane, sh: &Shell) {
    let t = &sh.theme;
    let total = pane.total_lines().unwrap_or(0);
    // The same counts as the summary and the list: lines, and exceptions beside them.
    let what = match pane.detail.data.as_ref().map(|o| &o.view.row.settlement) {
        Some(s) if s.exception_count > 0 => format!(
            "{} lines + {} exception{}",
            s.line_count,
            s.exception_count,
            if s.exception_count == 1 { "" } else { "s" }
        ),
        Some(s) => format!("{} lines", s.line_count),
        None => "Lines".into(),
    };
    let l = &pane.lines;
    let mut title = match (l.rows.first(), l.rows.last()) {
        (Some(a), Some(b)) => format!(" {what} · {}–{} of {total}", a.line_no, b.line_no),
        _ => format!(" {what}"),
    };
    if l.loading {
        title.push_str(" · loading…");
    }
    title.push_str(" · Enter: the line's redemption ");
    let statement_currency = pane
        .detail
        .data
        .as_ref()
        .map(|o| o.view.settlement().currency.clone());
    // Numbers are never cut; the kind (an exception says why) gives way.
    let cols = [
        Col::num("Line"),
        Col::text("Kind", 1),
        Col::num("Redemption"),
        Col::keep("At"),
        Col::num("Value"),
        Col::num("Rate"),
        Col::num("Amount"),
    ];
    let cells = l
        .rows
        .iter()
        .map(|line| {
            let currency = line.currency.as_deref().unwrap_or("");
            let style = if line.exception.0.is_some() {
                t.warn
            } else {
                Style::default()
            };
            let dash = || "-".to_owned();
            [
                line.line_no.to_string(),
                kind_text(line).to_owned(),
                line.redemption_id
                    .map(|r| r.to_string())
                    .or_else(|| line.payout_id.map(|p| format!("p{p}")))
                    .unwrap_or_else(dash),
                local(line.at),
                line.value_minor
                    .map(|v| format_amount(v, currency))
                    .unwrap_or_else(dash),
                line.rate_bps
                    .map(|b| format_bps(b.into()))
                    .unwrap_or_else(dash),
                line.amount_minor
                    .map(|a| format_amount(a, statement_currency.as_deref().unwrap_or(currency)))
                    .unwrap_or_else(dash),
            ]
            .into_iter()
            .map(|text| styled(text, style))
            .collect()
        })
        .collect();
    let (header, rows, widths) = fitted(area.width, &cols, cells);
    let table = ListTable {
        title,
        header,
        widths,
        empty: "no lines: nothing was redeemed in the period",
    };
    draw_list(f, area, sh, &mut pane.lines, table, rows);
}
