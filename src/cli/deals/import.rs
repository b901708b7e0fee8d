//! `partnerdesk deals import`: bulk import from CSV, all or nothing.

use crate::cli::Context;
use crate::cli::output::{errln, outln};
use crate::error::{Result, exit};
use crate::service::import::ImportReport;
use std::process::ExitCode;

pub(super) const HELP: &str = "Import deals from a CSV file: every row is checked, and all are written or none.\n\n\
The first line names the columns, in any order: partner, title, description, kind, \
coupon_code, redemption_url, categories, audience_scope, audience_scope_value, valid_from, \
valid_until, redemption_cap, state. partner, title, kind, audience_scope, valid_from and \
valid_until are required; any other column name is an error.\n\n\
partner is a partner id or the partner's domain (example.com). categories are separated by \
';' or ','. valid_from and valid_until are RFC 3339 (2026-03-01T09:00:00Z or with an offset) \
or YYYY-MM-DD HH:MM, taken as UTC. redemption_cap is empty for no cap. state is draft unless \
given (draft, active or paused; active needs a verified partner). Blank rows are skipped.\n\n\
Each row is checked with the same rules as a deal entered in the console. If any row breaks \
one, each problem is printed as 'line N: field: rule' (the header is line 1), nothing is \
written and the exit code is 3 (refused). Otherwise every deal is written in one transaction, each \
audited as 'import FILE'.";

pub(super) async fn import(
    ctx: &Context,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<ExitCode> {
    let name = file.display().to_string();
    let reader = match std::fs::File::open(file) {
        Ok(_) if file.is_dir() => {
            errln!("partnerdesk: cannot read {name}: it is a directory");
            return Ok(ExitCode::from(exit::FAILURE));
        }
        Ok(f) => std::io::BufReader::new(f),
        Err(e) => {
            errln!(
                "partnerdesk: cannot read {name}: {}",
                crate::cli::io_reason(&e)
            );
            return Ok(ExitCode::from(exit::FAILURE));
        }
    };
    let desk = ctx.desk(2).await?;
    let report = match desk.import_deals(&name, reader, dry_run).await {
        Ok(r) => r,
        Err(e @ crate::Error::Validation(_)) => {
            errln!("partnerdesk: {name}: {e}");
            return Ok(ExitCode::from(e.exit_code()));
        }
        Err(e) => return Err(e),
    };
    Ok(print_report(&report))
}

/// What the import did, on standard output; problems end with one line on standard error.
fn print_report(r: &ImportReport) -> ExitCode {
    let rows = |n: usize| format!("{n} row{}", if n == 1 { "" } else { "s" });
    if !r.is_valid() {
        for p in &r.problems {
            outln!("{p}");
        }
        errln!(
            "partnerdesk: {}: {} of {} {} a problem; nothing imported",
            r.source,
            r.bad_rows(),
            rows(r.rows),
            if r.bad_rows() == 1 { "has" } else { "have" }
        );
        return ExitCode::from(exit::REFUSED);
    }
    let valid = format!("{} valid", rows(r.rows));
    if r.dry_run {
        outln!("{valid}; dry run: nothing imported");
    } else {
        match (r.imported.first(), r.imported.last()) {
            (Some(a), Some(b)) if r.imported.len() == 1 && a == b => {
                outln!("{valid}; imported 1 deal (id {a})")
            }
            (Some(a), Some(b)) => outln!(
                "{valid}; imported {} deals (ids {}–{})",
                r.imported.len(),
                a.min(b),
                a.max(b)
            ),
            _ => outln!("{valid}; imported 0 deals"),
        }
    }
    ExitCode::SUCCESS
}
