//! `partnerdesk deals …`: member search and bulk import.

use super::Context;
use super::output::{errln, out, outln};
use crate::domain::AudienceScope;
use crate::error::{Result, exit};
use crate::service::import::ImportReport;
use crate::service::search::{DealHit, SEARCH_LIMIT_MAX};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum DealsCommand {
    /// Search the active deals a member can see, best match first.
    #[command(
        long_about = "Search the active deals a member can see, best match first.\n\n\
        Only active deals whose audience includes the member are found (public: everyone; \
        institute: institute-verified members; alumni: alumni; batch: alumni of that year; \
        chapter: members of that chapter). Words in the title count most, then the partner's \
        name and the categories, then the description."
    )]
    Search {
        /// Words to search for (web-search syntax: "a phrase", -word to exclude, or).
        text: String,
        /// The member whose view of the marketplace to search (a member id).
        #[arg(long, value_name = "ID")]
        member: i64,
        /// At most this many hits.
        #[arg(long, value_name = "N", default_value_t = 20,
              value_parser = clap::value_parser!(i64).range(1..=SEARCH_LIMIT_MAX))]
        limit: i64,
    },
    /// Import deals from a CSV file: every row is checked, and all are written or none.
    #[command(long_about = IMPORT_HELP)]
    Import {
        /// The CSV file (UTF-8, comma-separated, with a header row).
        file: PathBuf,
        /// Check every row (partners included) and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

const IMPORT_HELP: &str = "Import deals from a CSV file: every row is checked, and all are written or none.\n\n\
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

pub async fn run(ctx: &Context, cmd: DealsCommand) -> Result<ExitCode> {
    match cmd {
        DealsCommand::Search {
            text,
            member,
            limit,
        } => search(ctx, &text, member, limit).await,
        DealsCommand::Import { file, dry_run } => import(ctx, &file, dry_run).await,
    }
}

async fn search(ctx: &Context, text: &str, member: i64, limit: i64) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let hits = desk.search_deals(member, text, limit).await?;
    if hits.is_empty() {
        outln!("no active deal matches");
    } else {
        out!("{}", hits_table(&hits));
    }
    Ok(ExitCode::SUCCESS)
}

fn scope_text(h: &DealHit) -> String {
    match (h.audience_scope, &h.audience_scope_value) {
        (AudienceScope::Batch | AudienceScope::Chapter, Some(v)) => {
            format!("{} {v}", h.audience_scope)
        }
        (s, _) => s.to_string(),
    }
}

/// The hits as an aligned table with a header line.
fn hits_table(hits: &[DealHit]) -> String {
    let header = [
        "ID",
        "TITLE",
        "PARTNER",
        "KIND",
        "SCOPE",
        "VALID UNTIL",
        "RANK",
    ];
    let rows: Vec<[String; 7]> = hits
        .iter()
        .map(|h| {
            [
                h.id.to_string(),
                one_line(&h.title),
                one_line(&h.partner),
                h.kind.to_string(),
                scope_text(h),
                h.valid_until.format("%Y-%m-%d %H:%M UTC").to_string(),
                format!("{:.3}", h.rank),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            // Numbers align right, text left.
            if i == 0 || i == 6 {
                l.push_str(&format!("{c:>w$}"));
            } else {
                l.push_str(&format!("{c:<w$}"));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&header);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&cells);
    }
    out
}

/// Control characters (line breaks in a title) would break the table.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

async fn import(ctx: &Context, file: &std::path::Path, dry_run: bool) -> Result<ExitCode> {
    let name = file.display().to_string();
    let reader = match std::fs::File::open(file) {
        Ok(_) if file.is_dir() => {
            errln!("partnerdesk: cannot read {name}: it is a directory");
            return Ok(ExitCode::from(exit::FAILURE));
        }
        Ok(f) => std::io::BufReader::new(f),
        Err(e) => {
            errln!("partnerdesk: cannot read {name}: {}", super::io_reason(&e));
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
