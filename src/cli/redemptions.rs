//! `partnerdesk redemptions …`: past redemptions the platform reports in a batch.

use super::Context;
use super::args::Print;
use super::commands::refuse_read_only;
use super::output::{self, errln, outln};
use crate::error::{Result, exit};
use crate::service::import::redemptions::{PROBLEM_LIMIT, RedemptionImportReport};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

const IMPORT_HELP: &str = "Import past redemptions from a CSV file, as the platform reports them: every row is judged at its own time, and all are written or none.\n\n\
The first line names the columns, in any order: deal_id, member_id, redeemed_at, value, \
currency, source. deal_id, member_id, redeemed_at and source are required; value and currency \
may be left out or empty, but go together. Any other column name is an error.\n\n\
redeemed_at is RFC 3339 (2026-03-01T09:00:00Z or with an offset) or YYYY-MM-DD HH:MM, taken \
as UTC, and not in the future. value is what the member spent, in the currency's units \
(12.50 EUR, 500 JPY, 1.250 KWD): 0 or more, with no more decimals than the currency has. \
source is copy_code for a coupon deal and outbound_click for a link deal. Blank rows are \
skipped.\n\n\
Each row is judged as a redemption recorded at its redeemed_at: the deal exists and is \
active, the member exists and can see it, redeemed_at is inside the deal's window, and the \
cap allows it (a cap of 1: one per member, counting recorded redemptions and earlier rows of \
the file; a cap of N: the recorded ones and the file's rows together at most N, checked with \
the deals locked against live redemptions). If any row breaks a rule, each problem is printed \
as 'line N: field: rule' (the header is line 1; at most 100,000, then how many more), nothing is \
written and the exit code is 3 (refused). Otherwise every row is written in one transaction, \
each deal's count moves, and the import is audited once (redemption.import).";

#[derive(Debug, Subcommand)]
pub enum RedemptionsCommand {
    /// Import past redemptions from a CSV file: every row is checked, and all are written or none.
    #[command(long_about = IMPORT_HELP)]
    Import {
        /// The CSV file (UTF-8, comma-separated, with a header row).
        file: PathBuf,
        /// Check every row, the caps too, and write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        print: Print,
    },
    /// Refund a redemption, once (support, finance, admin): its commission is reversed — left
    /// out of a statement still in draft, or by an adjustment line on the partner's next draft.
    Refund {
        /// The redemptions' ids (several: each in its own transaction, one summary).
        #[arg(required = true, num_args = 1..)]
        ids: Vec<i64>,
        /// Why (kept with each redemption and in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        dry_run: super::bulk::DryRun,
        #[command(flatten)]
        print: Print,
    },
}

pub async fn run(ctx: &Context, cmd: RedemptionsCommand) -> Result<ExitCode> {
    match cmd {
        RedemptionsCommand::Refund {
            ids,
            reason,
            dry_run,
            print,
        } if ids.len() > 1 || dry_run.dry_run => {
            let desk = ctx.desk(2).await?;
            let action = crate::service::bulk::BulkAction::RedemptionRefund { reason };
            let targets = super::bulk::targets(&ids, None);
            super::bulk::run(&desk, &action, &targets, dry_run.dry_run, &print).await
        }
        RedemptionsCommand::Refund {
            ids, reason, print, ..
        } => {
            let id = ids[0];
            let desk = ctx.desk(2).await?;
            let (r, lands) = desk.refund_redemption(id, &reason).await?;
            if print.json {
                output::json(&serde_json::json!({ "redemption": r, "lands": lands }))?;
            } else {
                outln!(
                    "refunded: redemption {id} (by {}: {})",
                    r.refunded_by.as_deref().unwrap_or_default(),
                    r.refund_reason.as_deref().unwrap_or_default()
                );
                outln!("{lands}");
            }
            Ok(ExitCode::SUCCESS)
        }
        RedemptionsCommand::Import {
            file,
            dry_run,
            print,
        } => import(ctx, &file, dry_run, &print).await,
    }
}

async fn import(
    ctx: &Context,
    file: &std::path::Path,
    dry_run: bool,
    print: &Print,
) -> Result<ExitCode> {
    refuse_read_only(ctx)?;
    let name = file.display().to_string();
    let reader = match std::fs::File::open(file) {
        Ok(_) if file.is_dir() => {
            errln!("partnerdesk: cannot read {name}: it is a directory");
            return Ok(ExitCode::from(exit::FAILURE));
        }
        Ok(f) => std::io::BufReader::with_capacity(256 * 1024, f),
        Err(e) => {
            errln!(
                "partnerdesk: cannot read {name}: {}",
                crate::cli::io_reason(&e)
            );
            return Ok(ExitCode::from(exit::FAILURE));
        }
    };
    let desk = ctx.desk(2).await?;
    let report = match desk.import_redemptions(&name, reader, dry_run).await {
        Ok(r) => r,
        Err(e @ crate::Error::Validation(_)) => {
            errln!("partnerdesk: {name}: {e}");
            return Ok(ExitCode::from(e.exit_code()));
        }
        Err(e) => return Err(e),
    };
    if print.json {
        output::json(&report)?;
    } else {
        print_report(&report);
    }
    if report.is_valid() {
        Ok(ExitCode::SUCCESS)
    } else {
        errln!(
            "partnerdesk: {}: {} of {} {} a problem; nothing imported",
            report.source,
            thousands(report.bad_rows),
            rows(report.rows),
            if report.bad_rows == 1 { "has" } else { "have" }
        );
        Ok(ExitCode::from(exit::REFUSED))
    }
}

fn rows(n: u64) -> String {
    format!("{} row{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// What the import did, on standard output.
fn print_report(r: &RedemptionImportReport) {
    if !r.is_valid() {
        for p in &r.problems {
            outln!("{p}");
        }
        let more = r.unlisted_problems();
        if more > 0 {
            outln!(
                "… and {} more problem{} (only the first {} are listed)",
                thousands(more),
                if more == 1 { "" } else { "s" },
                thousands(PROBLEM_LIMIT as u64)
            );
        }
        return;
    }
    let valid = format!("{} valid", rows(r.rows));
    let deals = r.deals.len();
    let of_deals = format!("{deals} deal{}", if deals == 1 { "" } else { "s" });
    if r.dry_run {
        outln!("{valid} (for {of_deals}); dry run: nothing imported");
    } else {
        outln!(
            "{valid}; imported {} redemption{} of {of_deals}",
            thousands(r.imported),
            if r.imported == 1 { "" } else { "s" }
        );
    }
    for l in &r.late {
        outln!("{}: {}", rows(l.rows as u64), l.lands);
    }
}

/// 1234567 → "1,234,567".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
