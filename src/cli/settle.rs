//! `partnerdesk settle …`: settlements for finance — compute, list, show, review, approve,
//! dispute, pay, the partner's tally, and the statement as a CSV file.
//! Showing one settlement (`show`) has a file of its own.
mod moves;
mod show;

use super::Context;
use super::args::{Print, done};
use super::csv_list::{CSV_PAGE, CsvArgs, CsvColumn, instant, write_pages};
use super::output::{self, out, outln};
use super::table::{Table, time};
use crate::domain::money::{decimal_string, format_amount};
use crate::domain::settlement::{self, Period, SettlementStatus};
use crate::error::{Error, Result};
use crate::files::{self, PartialFile};
use crate::service::Desk;
use crate::service::bulk::BulkAction;
use crate::service::rows::{Settlement, SettlementFilter, SettlementRow};
use crate::service::settlements::ComputeReport;
use crate::service::statement::StatementFormat;
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use moves::Select;
use show::show;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum SettleCommand {
    /// Compute (or recompute, in draft or disputed) the statement of one agreement for one
    /// period, or of every agreement due at the close of a period with --all.
    Compute(ComputeArgs),
    /// List settlements, newest period first (a table, --json, or --csv).
    List {
        /// Only this status: draft, in_review, approved, paid or disputed.
        #[arg(long, value_name = "STATUS")]
        status: Option<SettlementStatus>,
        /// Only this partner's (its id).
        #[arg(long, value_name = "ID")]
        partner: Option<i64>,
        /// Only statements of periods inside this one: a month 2026-10, a quarter 2026-Q4 (its
        /// months' statements and its own) or a year 2026.
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// At most this many rows (not with --csv: it prints every match).
        #[arg(long, value_name = "N", default_value_t = 50,
              value_parser = clap::value_parser!(i64).range(1..=5000))]
        limit: i64,
        #[command(flatten)]
        print: Print,
        #[command(flatten)]
        csv: CsvArgs,
    },
    /// Show a settlement: terms, totals, exceptions, the partner's tally, the ledger and the
    /// first lines (--json: everything, with every line, amounts as decimal strings).
    Show {
        /// The settlement's id.
        id: i64,
        /// How many lines to print for people (--json prints them all).
        #[arg(long, value_name = "N", default_value_t = 20)]
        lines: i64,
        #[command(flatten)]
        print: Print,
    },
    /// Send a draft to the partner for review: opens the 7-day review window. Several ids, or
    /// --period (and --status, default draft), send each in its own step.
    Review {
        #[command(flatten)]
        select: Select,
        /// A note (one for every statement); required when the statement has exceptions, to
        /// say how they are handled.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[command(flatten)]
        print: Print,
    },
    /// Approve a settlement in review, writing its payout-ledger entry. Several ids, or
    /// --period (and --status, default in_review), approve each in its own step.
    Approve {
        #[command(flatten)]
        select: Select,
        /// A note (one for every statement); required when the partner's tally differs from
        /// ours.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[command(flatten)]
        print: Print,
    },
    /// Dispute a settlement in review or approved (an approval's ledger entry is reversed).
    Dispute {
        /// The settlement's id.
        id: i64,
        /// Why (required).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        print: Print,
    },
    /// Mark an approved settlement paid, with the payment's reference. Several ids, or
    /// --period (and --status, default approved), pay each in its own step with the same
    /// reference.
    Pay {
        #[command(flatten)]
        select: Select,
        /// The payment's reference (bank transfer id, …).
        #[arg(long, value_name = "TEXT")]
        reference: String,
        /// The day it was paid, YYYY-MM-DD (default today, UTC).
        #[arg(long, value_name = "DATE")]
        paid_on: Option<NaiveDate>,
        #[command(flatten)]
        print: Print,
    },
    /// Enter the partner's own tally: their redemption count and amount.
    Tally {
        /// The settlement's id.
        id: i64,
        /// The partner's count of redemptions.
        #[arg(long, value_name = "N")]
        count: i64,
        /// The partner's amount, in the settlement's currency (12.50).
        #[arg(long, value_name = "AMOUNT")]
        amount: String,
        #[command(flatten)]
        print: Print,
    },
    /// Write the statement as CSV, one row per line, for the partner to check.
    Export {
        /// The settlement's id.
        id: i64,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "which")]
pub struct Which {
    /// The agreement to settle.
    #[arg(long, value_name = "ID", group = "which")]
    pub agreement: Option<i64>,
    /// Every agreement due at the close of the period.
    #[arg(long, group = "which")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ComputeArgs {
    #[command(flatten)]
    pub which: Which,
    /// The period: 2026-10 (monthly), 2026-Q4 (quarterly) or 2026 (annual).
    #[arg(long, value_name = "PERIOD")]
    pub period: String,
    #[command(flatten)]
    pub print: Print,
}

pub async fn run(ctx: &Context, cmd: SettleCommand) -> Result<ExitCode> {
    if let SettleCommand::List { csv, .. } = &cmd {
        csv.check()?;
    }
    let desk = ctx.desk(4).await?;
    match cmd {
        SettleCommand::Compute(a) => compute(&desk, a).await,
        SettleCommand::List {
            status,
            partner,
            period,
            limit,
            print,
            csv,
        } => {
            let within = period
                .map(|p| Period::parse(&p).map(|p| (p.start, p.end)))
                .transpose()
                .map_err(|r| Error::Usage(format!("--period {r}")))?;
            let filter = SettlementFilter {
                status,
                partner_id: partner,
                within,
                ..Default::default()
            };
            if csv.csv {
                let cursor = |r: &SettlementRow| (r.settlement.period_start, r.settlement.id);
                return write_pages(&csv, "settlements", CSV_COLUMNS, cursor, |before| {
                    let (desk, filter) = (&desk, &filter);
                    async move { desk.settlements_page(filter, before, CSV_PAGE).await }
                })
                .await;
            }
            let rows = desk.settlements_page(&filter, None, limit).await?;
            if print.json {
                let rows: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| {
                        let mut v = settlement_json(&r.settlement);
                        v["period"] = period_label(r).into();
                        v["partner"] =
                            serde_json::json!({ "id": r.settlement.partner_id, "name": r.partner_name });
                        v["agreement_version"] = r.agreement_version.into();
                        v["payout"] = payout_json(r);
                        v
                    })
                    .collect();
                output::json(&rows)?;
            } else {
                list_table(&rows);
            }
            Ok(ExitCode::SUCCESS)
        }
        SettleCommand::Show { id, lines, print } => show(&desk, id, lines, &print).await,
        SettleCommand::Review {
            select,
            note,
            print,
        } => match select.single() {
            Some(id) => {
                let s = desk.review_settlement(id, note.as_deref()).await?;
                moved(&print, &s, "sent to review")
            }
            None => {
                let action = BulkAction::SettlementReview { note };
                moves::run_many(&desk, "review", &select, action, &print).await
            }
        },
        SettleCommand::Approve {
            select,
            note,
            print,
        } => match select.single() {
            Some(id) => {
                let s = desk.approve_settlement(id, note.as_deref()).await?;
                moved(&print, &s, "approved")
            }
            None => {
                let action = BulkAction::SettlementApprove { note };
                moves::run_many(&desk, "approve", &select, action, &print).await
            }
        },
        SettleCommand::Dispute { id, reason, print } => {
            let s = desk.dispute_settlement(id, &reason).await?;
            moved(&print, &s, "disputed")
        }
        SettleCommand::Pay {
            select,
            reference,
            paid_on,
            print,
        } => match select.single() {
            Some(id) => {
                let s = desk.pay_settlement(id, &reference, paid_on).await?;
                moved(&print, &s, "paid")
            }
            None => {
                let action = BulkAction::SettlementPay { reference, paid_on };
                moves::run_many(&desk, "pay", &select, action, &print).await
            }
        },
        SettleCommand::Tally {
            id,
            count,
            amount,
            print,
        } => {
            let s = desk.enter_tally(id, count, &amount).await?;
            done(&print, &s, || {
                format!(
                    "settlement {id}: partner's tally {} redemptions, {}; ours {} redemptions, {}",
                    count,
                    format_amount(s.tally_amount_minor.unwrap_or(0), &s.currency),
                    s.redemption_count,
                    format_amount(s.commission_minor, &s.currency)
                )
            })
        }
        SettleCommand::Export { id, out, force } => export(&desk, id, &out, force).await,
    }
}

async fn compute(desk: &Desk, a: ComputeArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let report = match a.which.agreement {
        Some(agreement) => ComputeReport {
            computed: vec![desk.compute_settlement(agreement, &a.period).await?],
            ..ComputeReport::default()
        },
        None => desk.compute_due(&a.period).await?,
    };
    if a.print.json {
        output::json(&serde_json::json!({
            "computed": report.computed.iter().map(settlement_json).collect::<Vec<_>>(),
            "skipped": report.skipped,
            "reset": report.reset,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if a.which.agreement.is_some()
        && let Some(s) = report.computed.first()
    {
        outln!("computed {}", summary(s));
        return Ok(ExitCode::SUCCESS);
    }
    let lines: i64 = report
        .computed
        .iter()
        .map(|s| i64::from(s.line_count))
        .sum();
    outln!(
        "computed {} settlement{} due at the close of {} ({} lines) in {:.1}s",
        report.computed.len(),
        if report.computed.len() == 1 { "" } else { "s" },
        a.period.trim(),
        lines,
        started.elapsed().as_secs_f64()
    );
    for r in &report.reset {
        outln!("reset to draft and computed again: {}", r.text());
    }
    for s in &report.skipped {
        outln!(
            "left alone: settlement {} (agreement {}, {}) is {}",
            s.settlement_id,
            s.agreement_id,
            s.period,
            s.status
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// "settlement 12 (agreement 3, 2026-10-01…2026-11-01): 1234 lines, 3 exceptions, commission …".
fn summary(s: &Settlement) -> String {
    format!(
        "settlement {} (agreement {}, {} to {}): {} line{}, {} exception{}, commission {}, take {}, net {} ({})",
        s.id,
        s.agreement_id,
        s.period_start,
        s.period_end,
        s.line_count,
        if s.line_count == 1 { "" } else { "s" },
        s.exception_count,
        if s.exception_count == 1 { "" } else { "s" },
        format_amount(s.commission_minor, &s.currency),
        format_amount(s.take_minor, &s.currency),
        format_amount(s.net_minor, &s.currency),
        s.status
    )
}

fn moved(print: &Print, s: &Settlement, what: &str) -> Result<ExitCode> {
    done(print, &settlement_json(s), || {
        let extra = match s.status {
            SettlementStatus::InReview => s
                .review_deadline
                .map(|d| format!("; the partner reviews until {}", time(d)))
                .unwrap_or_default(),
            SettlementStatus::Approved => format!(
                "; ledger: {}",
                crate::domain::settlement::net_due_text(s.net_minor, &s.currency)
            ),
            SettlementStatus::Paid => format!(
                "; reference {} on {}",
                s.payment_reference.as_deref().unwrap_or("-"),
                s.paid_on.map(|d| d.to_string()).unwrap_or_default()
            ),
            _ => String::new(),
        };
        format!("settlement {} {what}{extra}", s.id)
    })
}

/// `settle list --csv`: amounts as decimals in the currency's units.
const CSV_COLUMNS: &[CsvColumn<SettlementRow>] = &[
    ("id", |r| r.settlement.id.to_string()),
    ("partner", |r| r.partner_name.clone()),
    ("partner_id", |r| r.settlement.partner_id.to_string()),
    ("agreement_version", |r| r.agreement_version.to_string()),
    ("period", period_label),
    ("status", |r| r.settlement.status.to_string()),
    ("lines", |r| r.settlement.line_count.to_string()),
    ("exceptions", |r| r.settlement.exception_count.to_string()),
    ("currency", |r| r.settlement.currency.clone()),
    ("commission", |r| {
        decimal_string(r.settlement.commission_minor, &r.settlement.currency)
    }),
    ("net", |r| {
        decimal_string(r.settlement.net_minor, &r.settlement.currency)
    }),
    ("review_deadline", |r| {
        r.settlement
            .review_deadline
            .map(instant)
            .unwrap_or_default()
    }),
    ("payout", |r| r.payout_text().unwrap_or_default()),
];

fn list_table(rows: &[SettlementRow]) {
    if rows.is_empty() {
        outln!("no settlement matches");
        return;
    }
    let now = Utc::now();
    let mut t = Table::new(&[
        "ID",
        "PARTNER",
        "PERIOD",
        "STATUS",
        "LINES",
        "EXC",
        "COMMISSION",
        "NET",
        "REVIEW BY",
        "DISCREPANCY",
    ])
    .right(&[0, 4, 5, 6, 7]);
    for r in rows {
        let s = &r.settlement;
        t.row(vec![
            s.id.to_string(),
            format!(
                "{} (#{}) v{}",
                r.partner_name, s.partner_id, r.agreement_version
            ),
            period_label(r),
            match (r.batch_id, r.carried_since) {
                (Some(b), _) => format!("{} · batch {b}", s.status),
                (None, Some(since)) => {
                    format!("{} · carried since {}", s.status, since.format("%Y-%m"))
                }
                _ => s.status.to_string(),
            },
            s.line_count.to_string(),
            s.exception_count.to_string(),
            format_amount(s.commission_minor, &s.currency),
            format_amount(s.net_minor, &s.currency),
            review_by(s, now),
            discrepancy_text(s),
        ]);
    }
    out!("{}", t.render());
}

fn period_label(r: &SettlementRow) -> String {
    settlement::period_label(&r.frequency, r.settlement.period_start)
}

fn review_by(s: &Settlement, now: chrono::DateTime<Utc>) -> String {
    settlement::review_by(s.status, s.review_deadline, now)
}

fn discrepancy_text(s: &Settlement) -> String {
    settlement::discrepancy_text(
        s.tally_count.zip(s.tally_amount_minor),
        s.redemption_count,
        s.commission_minor,
        &s.currency,
    )
}

async fn export(desk: &Desk, id: i64, out: &std::path::Path, force: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let total = desk.statement_len(id).await?;
    let (partial, file) = PartialFile::create(out, force)?;
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template(
                "exporting [{bar:30}] {human_pos}/{human_len} lines  {elapsed}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let result = desk
        .write_statement(
            id,
            StatementFormat::Csv,
            tokio::fs::File::from_std(file),
            |n| bar.set_position(n),
        )
        .await;
    bar.finish_and_clear();
    let n = match result {
        Ok(n) => n,
        Err(Error::Io { source, .. }) => return Err(files::cannot_write(out, source)),
        Err(e) => return Err(e),
    };
    partial.commit()?;
    outln!(
        "exported the statement of settlement {id}: {n} line{} to {} in {:.1}s",
        if n == 1 { "" } else { "s" },
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// A settlement as every JSON output of `settle` gives it: amounts as decimal strings in the
/// currency's units, beside the currency (never minor-unit integers).
/// Where an approved statement's money stands: its payout batch, or what it waits for.
pub fn payout_json(r: &SettlementRow) -> serde_json::Value {
    let cur = &r.settlement.currency;
    let m = |x: i64| crate::domain::money::decimal_string(x, cur);
    match (r.batch_id, &r.batch_status, r.carried_since) {
        (Some(b), Some(st), _) => serde_json::json!({ "batch": { "id": b, "status": st } }),
        (_, _, Some(since)) => serde_json::json!({ "carried": {
            "since": since,
            "owed": r.carried_minor.map(m),
            "minimum": r.minimum_minor.map(m),
        } }),
        _ => serde_json::Value::Null,
    }
}

pub fn settlement_json(s: &Settlement) -> serde_json::Value {
    let m = |x: i64| crate::domain::money::decimal_string(x, &s.currency);
    serde_json::json!({
        "id": s.id,
        "agreement_id": s.agreement_id,
        "partner_id": s.partner_id,
        "status": s.status,
        "period_start": s.period_start,
        "period_end": s.period_end,
        "currency": s.currency,
        "totals": {
            "commission": m(s.commission_minor),
            "payouts": m(s.payouts_minor),
            "take": m(s.take_minor),
            "net": m(s.net_minor),
        },
        "line_count": s.line_count,
        "redemption_count": s.redemption_count,
        "exception_count": s.exception_count,
        "computed_at": s.computed_at,
        "computed_by": s.computed_by,
        "review_deadline": s.review_deadline,
        "review_note": s.review_note,
        "approved_at": s.approved_at,
        "approved_by": s.approved_by,
        "dispute_reason": s.dispute_reason,
        "paid_on": s.paid_on,
        "payment_reference": s.payment_reference,
        "tally": s.tally_count.zip(s.tally_amount_minor)
            .map(|(c, a)| serde_json::json!({ "count": c, "amount": m(a) })),
        "version": s.version,
    })
}
