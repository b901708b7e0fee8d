//! `partnerdesk negotiations list|show`.

use super::behalf;
use crate::cli::Context;
use crate::cli::args::Print;
use crate::cli::csv_list::{CSV_PAGE, CsvArgs, CsvColumn, instant, write_pages};
use crate::cli::output::{self, out, outln};
use crate::cli::table::{Table, record, time};
use crate::domain::negotiation::term_fields;
use crate::error::Result;
use crate::service::negotiations::NegotiationView;
use crate::service::rows::{ThreadFilter, ThreadRow};
use std::process::ExitCode;

/// `negotiations list --csv`.
const CSV_COLUMNS: &[CsvColumn<ThreadRow>] = &[
    ("id", |r| r.id.to_string()),
    ("subject", |r| r.subject.clone()),
    ("partner", |r| r.partner_name.clone()),
    ("partner_id", |r| r.partner_id.to_string()),
    ("status", |r| r.status.to_string()),
    ("latest_revision", |r| {
        r.latest_revision.map(|n| n.to_string()).unwrap_or_default()
    }),
    ("latest_side", |r| r.latest_side.clone().unwrap_or_default()),
    ("turn", |r| r.turn.clone().unwrap_or_default()),
    ("deadline", |r| instant(r.deadline)),
    ("updated", |r| instant(r.updated_at)),
];

pub async fn list(
    ctx: &Context,
    filter: ThreadFilter,
    limit: i64,
    print: &Print,
    csv: &CsvArgs,
) -> Result<ExitCode> {
    csv.check()?;
    let desk = ctx.desk(2).await?;
    if csv.csv {
        let cursor = |r: &ThreadRow| (r.updated_at, r.id);
        return write_pages(csv, "negotiations", CSV_COLUMNS, cursor, |after| {
            let filter = ThreadFilter {
                after,
                ..filter.clone()
            };
            let desk = &desk;
            async move { desk.list_negotiations(&filter, CSV_PAGE).await }
        })
        .await;
    }
    let rows = desk.list_negotiations(&filter, limit).await?;
    if print.json {
        output::json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        outln!("no negotiation matches");
        return Ok(ExitCode::SUCCESS);
    }
    let now = chrono::Utc::now();
    let mut t = Table::new(&[
        "ID", "SUBJECT", "PARTNER", "STATUS", "LATEST", "TURN", "DEADLINE", "UPDATED",
    ])
    .right(&[0]);
    for r in &rows {
        let overdue = !r.status.is_final() && r.deadline <= now;
        t.row(vec![
            r.id.to_string(),
            r.subject.clone(),
            format!("{} (#{})", r.partner_name, r.partner_id),
            r.status.to_string(),
            match (r.latest_revision, &r.latest_side) {
                (Some(n), Some(s)) => format!("r{n} by {s}"),
                _ => "—".into(),
            },
            r.turn.clone().unwrap_or_else(|| "—".into()),
            format!(
                "{}{}",
                time(r.deadline),
                if overdue { " (overdue)" } else { "" }
            ),
            time(r.updated_at),
        ]);
    }
    out!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

pub async fn show(ctx: &Context, id: i64, print: &Print) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let v = desk.get_negotiation(id).await?;
    if print.json {
        output::json(&v)?;
    } else {
        out!("{}", show_text(&v));
    }
    Ok(ExitCode::SUCCESS)
}

/// The thread's record, then one timeline of messages and offers by time.
fn show_text(v: &NegotiationView) -> String {
    let t = &v.thread;
    let mut head = vec![
        ("negotiation", format!("{} {}", t.id, t.subject)),
        ("partner", format!("{} (#{})", v.partner_name, t.partner_id)),
        (
            "status",
            match &t.closed_reason {
                Some(r) => format!("{} ({r})", t.status),
                None => t.status.to_string(),
            },
        ),
        ("deadline", time(t.deadline)),
        (
            "turn",
            v.turn
                .map(|s| format!("the {s} side"))
                .unwrap_or_else(|| "—".into()),
        ),
    ];
    if let Some(d) = t.deal_id {
        head.push(("deal", format!("#{d}")));
    }
    if let Some(c) = v.contract_id {
        head.push(("contract", format!("#{c} (partnerdesk contracts show {c})")));
    }
    let mut out = record(&head);
    enum Item<'a> {
        Msg(&'a crate::service::rows::Message),
        Offer(&'a crate::service::negotiations::OfferWithDiff),
    }
    let mut items: Vec<(chrono::DateTime<chrono::Utc>, Item<'_>)> = v
        .messages
        .iter()
        .map(|m| (m.created_at, Item::Msg(m)))
        .chain(
            v.offers
                .iter()
                .map(|o| (o.offer.created_at, Item::Offer(o))),
        )
        .collect();
    items.sort_by_key(|(at, _)| *at);
    out.push('\n');
    for (at, item) in items {
        match item {
            Item::Msg(m) => {
                out.push_str(&format!(
                    "{} message from the {}{} by {}:\n    {}\n",
                    time(at),
                    m.side,
                    behalf(m.side),
                    m.author,
                    m.body.replace('\n', "\n    ")
                ));
            }
            Item::Offer(o) => {
                let r = &o.offer;
                out.push_str(&format!(
                    "{} revision {} from the {}{} by {}{}\n",
                    time(at),
                    r.revision,
                    r.side,
                    behalf(r.side),
                    r.author,
                    r.note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                ));
                if r.revision == 1 {
                    for (k, val) in term_fields(&r.terms) {
                        out.push_str(&format!("    {k}: {val}\n"));
                    }
                    for b in &r.terms.benefits {
                        let due = b.due.map(|d| format!(" (due {d})")).unwrap_or_default();
                        out.push_str(&format!("    benefit: {}{due}\n", b.name));
                    }
                } else if o.changes.is_empty() {
                    out.push_str("    (same terms as the previous revision)\n");
                } else {
                    for c in &o.changes {
                        out.push_str(&format!("    {c}\n"));
                    }
                }
            }
        }
    }
    out
}
