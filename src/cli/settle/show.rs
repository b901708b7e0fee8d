//! `partnerdesk settle show`: one settlement's record and first lines for people, or, with
//! --json, everything about it with every line streamed.

use super::{discrepancy_text, review_by};
use crate::cli::agreements;
use crate::cli::args::Print;
use crate::cli::output::{out, outln};
use crate::cli::table::{Table, or_dash, record, time};
use crate::domain::money::{decimal_string, format_amount};
use crate::error::{Error, Result};
use crate::service::Desk;
use crate::service::settlements::SettlementView;
use crate::service::statement::{StatementFormat, StatementLine};
use chrono::Utc;
use serde_json::json;
use std::process::ExitCode;
use tokio::io::AsyncWriteExt;

pub(super) async fn show(desk: &Desk, id: i64, lines: i64, print: &Print) -> Result<ExitCode> {
    let v = desk.settlement(id).await?;
    if print.json {
        return show_json(desk, &v).await;
    }
    out!("{}", settlement_record(&v));
    let s = v.settlement();
    let page = desk.settlement_lines(id, None, false, lines.max(1)).await?;
    if page.is_empty() {
        outln!("\nno lines");
        return Ok(ExitCode::SUCCESS);
    }
    outln!("");
    let mut t = Table::new(&["LINE", "KIND", "SOURCE", "AT", "VALUE", "RATE", "AMOUNT"])
        .right(&[0, 4, 5, 6]);
    for l in &page {
        let sl = StatementLine::of(l, &s.currency);
        t.row(vec![
            l.line_no.to_string(),
            match l.exception.0 {
                Some(e) => format!("exception: {}", e.describe()),
                None => l.kind.to_string(),
            },
            match (l.redemption_id, l.payout_id) {
                (Some(r), _) => format!("redemption {r}"),
                (None, Some(p)) => format!("payout {p}"),
                _ => "-".into(),
            },
            time(l.at),
            sl.value
                .map(|v| format!("{v} {}", sl.value_currency.unwrap_or_default()))
                .unwrap_or_else(|| "-".into()),
            l.rate_bps
                .map(|b| format!("{b} bps"))
                .unwrap_or_else(|| "-".into()),
            sl.amount.unwrap_or_else(|| "-".into()),
        ]);
    }
    out!("{}", t.render());
    let total = i64::from(s.line_count + s.exception_count);
    if total > page.len() as i64 {
        outln!(
            "… {} more line(s): settle show {id} --json, or settle export {id} --out FILE.csv",
            total - page.len() as i64
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn settlement_record(v: &SettlementView) -> String {
    let s = v.settlement();
    let money = |m: i64| format_amount(m, &s.currency);
    let mut f = vec![
        ("settlement", s.id.to_string()),
        (
            "partner",
            format!("{} (#{})", v.row.partner_name, s.partner_id),
        ),
        (
            "agreement",
            format!(
                "{} (version {}): {}",
                s.agreement_id,
                v.agreement.version,
                agreements::terms_text(&v.agreement)
            ),
        ),
        (
            "period",
            format!("{} ({} to {})", v.period, s.period_start, s.period_end),
        ),
        ("status", s.status.to_string()),
    ];
    if let Some(c) = &v.adjustments_only {
        f.push((
            "adjustments alone",
            format!(
                "version {} is no longer in effect for {}: version {} in {} is (agreement {})",
                v.agreement.version, v.period, c.version, c.currency, c.id
            ),
        ));
    }
    f.extend([
        (
            "lines",
            format!("{} ({} redemptions)", s.line_count, s.redemption_count),
        ),
        (
            "exceptions",
            if s.exception_count == 0 {
                "none".into()
            } else {
                format!("{} (not in the totals)", s.exception_count)
            },
        ),
        ("commission", money(s.commission_minor)),
        ("payouts", money(s.payouts_minor)),
        ("platform take", money(s.take_minor)),
        (
            "net",
            if s.net_minor < 0 {
                format!("{} (negative: the marketplace pays)", money(s.net_minor))
            } else {
                format!("{} (positive: the partner pays)", money(s.net_minor))
            },
        ),
        (
            "computed",
            format!("{} by {}", time(s.computed_at), s.computed_by),
        ),
        ("review by", review_by(s, Utc::now())),
    ]);
    for h in &v.held {
        f.push((
            "held",
            format!(
                "referral payout {} of {} converted {}: on the statement of {}",
                h.payout.payout_id,
                format_amount(h.payout.amount_minor, &h.payout.currency),
                h.payout.converted_at.format("%Y-%m-%d"),
                h.lands
            ),
        ));
    }
    if let Some(n) = &s.review_note {
        f.push(("review note", n.clone()));
    }
    if let (Some(c), Some(a)) = (s.tally_count, s.tally_amount_minor) {
        f.push((
            "partner's tally",
            format!("{c} redemptions, {} — {}", money(a), discrepancy_text(s)),
        ));
    }
    if let Some(at) = s.approved_at {
        f.push((
            "approved",
            format!("{} by {}", time(at), or_dash(s.approved_by.as_deref())),
        ));
    }
    if let Some(n) = v.approval_note() {
        f.push(("approval note", n.to_owned()));
    }
    if let Some(r) = &s.dispute_reason {
        f.push(("disputed", r.clone()));
    }
    if let (Some(d), Some(r)) = (s.paid_on, &s.payment_reference) {
        f.push(("paid", format!("{d}, reference {r}")));
    }
    if let Some(p) = v.row.payout_text() {
        f.push(("payout", p));
    }
    for e in &v.ledger {
        f.push((
            "ledger",
            format!(
                "#{} {} {} {}{}",
                e.id,
                e.kind,
                format_amount(e.amount_minor, &e.currency),
                time(e.at),
                e.reverses_id
                    .map(|r| format!(" (reverses #{r})"))
                    .unwrap_or_default()
            ),
        ));
    }
    record(&f)
}

/// Everything about the settlement, then every line, streamed: the lines are never held.
async fn show_json(desk: &Desk, v: &SettlementView) -> Result<ExitCode> {
    let s = v.settlement();
    let m = |x: i64| decimal_string(x, &s.currency);
    let mut head = super::settlement_json(s);
    head["period"] = v.period.clone().into();
    head["partner"] = json!({ "id": s.partner_id, "name": v.row.partner_name });
    head["terms"] = serde_json::to_value(&v.agreement).unwrap_or_default();
    head["approval_note"] = v.approval_note().into();
    head["payout"] = super::payout_json(&v.row);
    head["adjustments_only"] = json!(v.adjustments_only.as_ref().map(|c| json!({
        "in_effect": { "agreement": c.id, "version": c.version, "currency": c.currency }
    })));
    head["held"] = v
        .held
        .iter()
        .map(|h| {
            json!({
                "payout": h.payout.payout_id, "converted_at": h.payout.converted_at,
                "amount": decimal_string(h.payout.amount_minor, &h.payout.currency),
                "currency": h.payout.currency, "lands": h.lands,
            })
        })
        .collect();
    head["discrepancy"] = json!(
        v.discrepancy
            .map(|d| json!({ "count": d.count, "amount": m(d.amount_minor) }))
    );
    head["ledger"] = v
        .ledger
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "kind": e.kind, "amount": decimal_string(e.amount_minor, &e.currency),
                "currency": e.currency, "reverses": e.reverses_id, "reference": e.reference,
                "note": e.note, "at": e.at, "by": e.by_login,
            })
        })
        .collect();
    let mut head = serde_json::to_string_pretty(&head).unwrap_or_default();
    head.pop(); // the closing brace: the lines follow
    let mut stdout = tokio::io::stdout();
    let io = |source| Error::Io {
        context: "cannot write to standard output".into(),
        source,
    };
    let written = async {
        stdout
            .write_all(format!("{}  ,\"lines\": [\n", head.trim_end()).as_bytes())
            .await
            .map_err(io)?;
        desk.write_statement(s.id, StatementFormat::JsonItems, &mut stdout, |_| {})
            .await?;
        stdout.write_all(b"\n]}\n").await.map_err(io)?;
        stdout.flush().await.map_err(io)
    };
    match written.await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (`… | head`): nothing more to say.
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(e),
    }
}
