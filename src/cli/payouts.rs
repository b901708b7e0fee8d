//! `partnerdesk payouts batch …`: payout batches for finance — create (or a dry run), list,
//! show, write as a SEPA or CSV file, pay, cancel.

use super::Context;
use super::args::{Print, done};
use super::output::{self, out, outln};
use super::table::{Table, record, time};
use crate::domain::money::format_amount;
use crate::error::{Error, Result};
use crate::files::{self, PartialFile};
use crate::service::Desk;
use crate::service::batches::{BatchFormat, BatchPlan};
use crate::store::batches::{Batch, Item};
use chrono::NaiveDate;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum PayoutsCommand {
    /// Payout batches: the approved statements the marketplace owes, paid together.
    #[command(subcommand)]
    Batch(BatchCommand),
}

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Gather every approved statement owed in a currency whose partner has payout details
    /// in it and whose waiting sum reaches its minimum (--dry-run: say what would go in and
    /// what waits, and why; change nothing).
    Create {
        /// The batch's currency (ISO 4217).
        #[arg(long, value_name = "CODE")]
        currency: String,
        /// Print the plan, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// A note (required when a partner's payout account changed in the last 14 days).
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[command(flatten)]
        print: Print,
    },
    /// List batches, newest first.
    List {
        /// Only this status: open, paid or cancelled.
        #[arg(long, value_name = "STATUS", value_parser = ["open", "paid", "cancelled"])]
        status: Option<String>,
        /// At most this many batches.
        #[arg(long, value_name = "N", default_value_t = 50,
              value_parser = clap::value_parser!(i64).range(1..=5000))]
        limit: i64,
        #[command(flatten)]
        print: Print,
    },
    /// Show a batch and its statements (--json: every statement).
    Show {
        /// The batch's id.
        id: i64,
        /// How many statements to print for people.
        #[arg(long, value_name = "N", default_value_t = 50)]
        lines: i64,
        #[command(flatten)]
        print: Print,
    },
    /// Write the batch for the bank: --format sepa (pain.001.001.03, EUR) or csv.
    File {
        /// The batch's id.
        id: i64,
        /// sepa (a pain.001.001.03 credit transfer file, EUR) or csv.
        #[arg(long, value_enum)]
        format: BatchFormat,
        /// The file to write (written whole or not at all).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Mark every statement in an open batch paid, once, with one payment entry each.
    Pay {
        /// The batch's id.
        id: i64,
        /// The bank's reference of the payment.
        #[arg(long, value_name = "TEXT")]
        reference: String,
        /// When it was paid (default today).
        #[arg(long, value_name = "DATE")]
        paid_on: Option<NaiveDate>,
        #[command(flatten)]
        print: Print,
    },
    /// Cancel an open batch: its statements are free again.
    Cancel {
        /// The batch's id.
        id: i64,
        /// Why (kept in the audit log and the event).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        #[command(flatten)]
        print: Print,
    },
}

pub async fn run(ctx: &Context, cmd: PayoutsCommand) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let PayoutsCommand::Batch(cmd) = cmd;
    match cmd {
        BatchCommand::Create {
            currency,
            dry_run: true,
            print,
            ..
        } => {
            let plan = desk.plan_batch(&currency).await?;
            done(&print, &plan, || plan_text(&plan, None))
        }
        BatchCommand::Create {
            currency,
            note,
            print,
            ..
        } => {
            let (batch, plan) = desk.create_batch(&currency, note.as_deref()).await?;
            done(
                &print,
                &serde_json::json!({ "batch": batch, "plan": plan }),
                || plan_text(&plan, Some(&batch)),
            )
        }
        BatchCommand::List {
            status,
            limit,
            print,
        } => {
            let rows = desk.batches(status.as_deref(), None, limit).await?;
            if print.json {
                output::json(&rows)?;
            } else if rows.is_empty() {
                outln!("no payout batch matches");
            } else {
                let mut t = Table::new(&[
                    "ID",
                    "STATUS",
                    "CURRENCY",
                    "STATEMENTS",
                    "TOTAL",
                    "CREATED",
                    "PAID",
                ])
                .right(&[0, 3, 4]);
                for b in &rows {
                    t.row(vec![
                        b.id.to_string(),
                        b.status.clone(),
                        b.currency.clone(),
                        b.statement_count.to_string(),
                        format_amount(b.total_minor, &b.currency),
                        time(b.created_at),
                        paid_text(b),
                    ]);
                }
                out!("{}", t.render());
            }
            Ok(ExitCode::SUCCESS)
        }
        BatchCommand::Show { id, lines, print } => show(&desk, id, lines, &print).await,
        BatchCommand::File {
            id,
            format,
            out,
            force,
        } => file(&desk, id, format, &out, force).await,
        BatchCommand::Pay {
            id,
            reference,
            paid_on,
            print,
        } => {
            let (b, paid) = desk.pay_batch(id, &reference, paid_on).await?;
            done(&print, &b, || {
                format!(
                    "payout batch {id} paid: {} statement{} marked paid, {} ({})",
                    paid.len(),
                    if paid.len() == 1 { "" } else { "s" },
                    format_amount(b.total_minor, &b.currency),
                    paid_text(&b)
                )
            })
        }
        BatchCommand::Cancel { id, reason, print } => {
            let b = desk.cancel_batch(id, reason.as_deref()).await?;
            done(&print, &b, || {
                format!(
                    "payout batch {id} cancelled: its {} statement{} may be batched again",
                    b.statement_count,
                    if b.statement_count == 1 { "" } else { "s" }
                )
            })
        }
    }
}

/// "reference BANK-1 on 2026-12-07", or "-".
fn paid_text(b: &Batch) -> String {
    match (&b.payment_reference, b.paid_on) {
        (Some(r), Some(on)) => format!("reference {r} on {on}"),
        _ => "-".into(),
    }
}

/// The plan (or the batch made from it): what goes in, what waits and why.
pub fn plan_text(plan: &BatchPlan, batch: Option<&Batch>) -> String {
    let cur = &plan.currency;
    let mut out = match batch {
        Some(b) => format!(
            "payout batch {} created: {} statement{}, {}\n",
            b.id,
            b.statement_count,
            if b.statement_count == 1 { "" } else { "s" },
            format_amount(b.total_minor, cur)
        ),
        None => format!(
            "dry run: a {cur} batch would hold {} statement{}, {}\n",
            plan.included.len(),
            if plan.included.len() == 1 { "" } else { "s" },
            format_amount(plan.total_minor, cur)
        ),
    };
    if !plan.included.is_empty() {
        let mut t =
            Table::new(&["SETTLEMENT", "PARTNER", "PERIOD", "AMOUNT", "ACCOUNT"]).right(&[0, 3]);
        for i in &plan.included {
            t.row(vec![
                i.settlement_id.to_string(),
                format!("{} {}", i.partner_id, i.partner_name),
                i.period.clone(),
                format_amount(i.amount_minor, cur),
                i.iban_masked.clone(),
            ]);
        }
        out.push_str(&t.render());
    }
    if let Some(changed) = plan.changed_text() {
        out.push_str(&format!("note: {changed}\n"));
    }
    for w in &plan.waiting {
        out.push_str(&format!(
            "waits: partner {} {} ({} statement{}, {}): {}\n",
            w.partner_id,
            w.partner_name,
            w.statements.len(),
            if w.statements.len() == 1 { "" } else { "s" },
            format_amount(w.owed_minor, cur),
            w.reason
        ));
    }
    out
}

async fn all_items(desk: &Desk, id: i64, most: i64) -> Result<Vec<Item>> {
    let mut items: Vec<Item> = Vec::new();
    loop {
        let after = items.last().map(|i| i.settlement_id).unwrap_or(0);
        let left = most - items.len() as i64;
        if left <= 0 {
            break;
        }
        let page = desk.batch_items(id, after, left.min(5000)).await?;
        if page.is_empty() {
            break;
        }
        items.extend(page);
    }
    Ok(items)
}

async fn show(desk: &Desk, id: i64, lines: i64, print: &Print) -> Result<ExitCode> {
    let b = &desk.batch(id).await?;
    let most = if print.json {
        i64::from(b.statement_count)
    } else {
        lines.max(0)
    };
    let items = all_items(desk, id, most).await?;
    if print.json {
        output::json(&serde_json::json!({ "batch": b, "statements": items }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut fields = vec![
        ("batch", format!("{} ({})", b.id, b.status)),
        ("currency", b.currency.clone()),
        (
            "statements",
            format!(
                "{}, {}",
                b.statement_count,
                format_amount(b.total_minor, &b.currency)
            ),
        ),
        (
            "created",
            format!("{} by {}", time(b.created_at), b.created_by),
        ),
    ];
    if b.changed_accounts > 0 {
        fields.push((
            "changed",
            format!(
                "{} partner account(s) changed within 14 days of the batch",
                b.changed_accounts
            ),
        ));
    }
    if let Some(n) = &b.note {
        fields.push(("note", n.clone()));
    }
    if let (Some(at), Some(by)) = (b.paid_at, &b.paid_by) {
        fields.push((
            "paid",
            format!("{} (by {by} at {})", paid_text(b), time(at)),
        ));
    }
    if let (Some(at), Some(by)) = (b.cancelled_at, &b.cancelled_by) {
        fields.push(("cancelled", format!("{} by {by}", time(at))));
    }
    out!("{}", record(&fields));
    if !items.is_empty() {
        let mut t =
            Table::new(&["SETTLEMENT", "PARTNER", "PERIOD", "AMOUNT", "ACCOUNT"]).right(&[0, 3]);
        for i in &items {
            let account = match (&i.holder, &i.iban, &i.bic) {
                (Some(h), Some(iban), Some(bic)) => {
                    format!("{} ({bic}), {h}", crate::domain::payout::grouped_iban(iban))
                }
                _ => i.iban_masked.clone(),
            };
            t.row(vec![
                i.settlement_id.to_string(),
                format!("{} {}", i.partner_id, i.partner_name),
                i.period_start.format("%Y-%m").to_string(),
                format_amount(i.amount_minor, &b.currency),
                account,
            ]);
        }
        out!("{}", t.render());
        if (items.len() as i64) < i64::from(b.statement_count) {
            outln!(
                "… {} more (--lines N, or --json for all)",
                i64::from(b.statement_count) - items.len() as i64
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn file(
    desk: &Desk,
    id: i64,
    format: BatchFormat,
    out: &std::path::Path,
    force: bool,
) -> Result<ExitCode> {
    let started = Instant::now();
    let (partial, file) = PartialFile::create(out, force)?;
    let n = match desk
        .write_batch_file(id, format, tokio::fs::File::from_std(file))
        .await
    {
        Ok(n) => n,
        Err(Error::Io { source, .. }) => return Err(files::cannot_write(out, source)),
        Err(e) => return Err(e),
    };
    partial.commit()?;
    outln!(
        "wrote payout batch {id} as {}: {n} transfer{} to {} in {:.1}s",
        match format {
            BatchFormat::Sepa => "SEPA (pain.001.001.03)",
            BatchFormat::Csv => "CSV",
        },
        if n == 1 { "" } else { "s" },
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
