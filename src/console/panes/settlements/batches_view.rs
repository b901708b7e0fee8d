//! The batches view: the settings above, the batches below; or one batch with its
//! statements.

use super::batches::Batches;
use super::batches_effects::OpenBatch;
use crate::console::action::Action;
use crate::console::shell::Shell;
use crate::console::view::{ListTable, draw_list, local};
use crate::domain::money::format_amount;
use crate::domain::payout::mask_iban;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row};

pub fn draw(b: &mut Batches, f: &mut Frame, area: Rect, sh: &Shell) {
    if let Some(o) = b.detail.shown() {
        let (block, lines) = batch_text(o, sh);
        b.detail.scroll.draw(f, area, block, lines);
        return;
    }
    let [top, bottom] = Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(area);
    let t = &sh.theme;
    let settings = match &b.settings {
        Some(s) => {
            let minimums: Vec<String> = s
                .minimum_payouts
                .iter()
                .map(|m| format_amount(m.amount_minor, &m.currency))
                .collect();
            format!(
                "holding {} days · minimum {} · debtor {}",
                s.holding_days,
                if minimums.is_empty() {
                    "none".to_owned()
                } else {
                    minimums.join(", ")
                },
                s.bank_iban
                    .as_deref()
                    .map(mask_iban)
                    .unwrap_or_else(|| "not set (an admin sets bank_account)".into())
            )
        }
        None => "the settings are finance's and admins' to read".into(),
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("Settings  ", t.label),
            Span::raw(settings),
        ]))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border),
        ),
        top,
    );
    let key = |a: Action| sh.keymap.keys_text_in(a, "settlements");
    let rows = b
        .list
        .rows
        .iter()
        .map(|x| {
            Row::new(vec![
                x.id.to_string(),
                x.status.clone(),
                x.currency.clone(),
                x.statement_count.to_string(),
                format_amount(x.total_minor, &x.currency),
                local(x.created_at),
                match (&x.payment_reference, x.paid_on) {
                    (Some(r), Some(on)) => format!("{r} on {on}"),
                    _ => "-".into(),
                },
            ])
        })
        .collect();
    let table = ListTable {
        title: format!(
            " Payout batches · {} · {}: new · {}: pay · {}: write · {}: statements ",
            b.list.rows.len(),
            key(Action::New),
            key(Action::MarkPaid),
            key(Action::WriteBatchFile),
            key(Action::Back),
        ),
        header: Row::new(["#", "Status", "Cur", "Stmts", "Total", "Created", "Paid"]),
        widths: vec![
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(4),
            Constraint::Length(6),
            Constraint::Length(18),
            Constraint::Length(17),
            Constraint::Fill(1),
        ],
        empty: "no payout batch yet (n makes one of what is owed)",
    };
    draw_list(f, bottom, sh, &mut b.list, table, rows);
}

fn batch_text(o: &OpenBatch, sh: &Shell) -> (Block<'static>, Vec<Line<'static>>) {
    let t = &sh.theme;
    let b = &o.batch;
    let field = |label: &'static str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:<11}"), t.label),
            Span::raw(value),
        ])
    };
    let money = |m: i64| format_amount(m, &b.currency);
    let mut lines = vec![
        field("status", b.status.clone()),
        field(
            "statements",
            format!("{}, {}", b.statement_count, money(b.total_minor)),
        ),
        field(
            "created",
            format!("{} by {}", local(b.created_at), b.created_by),
        ),
    ];
    if b.changed_accounts > 0 {
        lines.push(field(
            "changed",
            format!(
                "{} partner account(s) changed within 14 days of the batch",
                b.changed_accounts
            ),
        ));
    }
    if let Some(n) = &b.note {
        lines.push(field("note", n.clone()));
    }
    if let (Some(r), Some(on), Some(by)) = (&b.payment_reference, b.paid_on, &b.paid_by) {
        lines.push(field("paid", format!("{on}, reference {r}, by {by}")));
    }
    if let (Some(at), Some(by)) = (b.cancelled_at, &b.cancelled_by) {
        lines.push(field("cancelled", format!("{} by {by}", local(at))));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            "{:>10}  {:<28} {:<8} {:>16}  Account",
            "Settlement", "Partner", "Period", "Amount"
        ),
        t.header,
    ));
    for i in &o.items {
        let name: String = i.partner_name.chars().take(28).collect();
        lines.push(Line::raw(format!(
            "{:>10}  {:<28} {:<8} {:>16}  {}",
            i.settlement_id,
            name,
            i.period_start.format("%Y-%m"),
            money(i.amount_minor),
            i.iban_masked
        )));
    }
    if (o.items.len() as i64) < i64::from(b.statement_count) {
        lines.push(Line::raw(format!(
            "… {} more (payouts batch show {} --json)",
            i64::from(b.statement_count) - o.items.len() as i64,
            b.id
        )));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(
            format!(" Payout batch {} · {} ", b.id, b.currency),
            t.title,
        ));
    (block, lines)
}
