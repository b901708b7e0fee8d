//! Bulk commands (`deals pause 12 13 14`, `settle approve --period 2026-11 --note …`): one
//! action over many records through [`Desk::bulk`], each row in its own transaction, ending
//! with the summary line (or `--json`: the done and refused lists).
//!
//! Exit code: 0 when every row was done, 3 (refused) when any was refused, 130 when Ctrl-C
//! stopped the run before some rows (they are listed as not tried).

use super::args::Print;
use super::output::{self, outln};
use crate::domain::bulk::BulkReport;
use crate::error::{Error, Result, exit};
use crate::service::Desk;
use crate::service::bulk::{BulkAction, Target};
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `--dry-run`: check every row as the real run would, and write nothing.
#[derive(Debug, Args)]
pub struct DryRun {
    /// Check every row as the real run would (versions, states, notes) and write nothing;
    /// prints what would be done.
    #[arg(long)]
    pub dry_run: bool,
}

/// Refuses `--version` with several ids: it names the version of one record.
pub fn one_version(ids: &[i64], version: Option<i32>) -> Result<Option<i32>> {
    if ids.len() > 1 && version.is_some() {
        return Err(Error::field(
            "version",
            "names the version of one record; give one id, or leave --version out",
        ));
    }
    Ok(version)
}

/// Runs `action` over `targets` with Ctrl-C as the cancel, and prints the report.
pub async fn run(
    desk: &Desk,
    action: &BulkAction,
    targets: &[Target],
    dry_run: bool,
    print: &Print,
) -> Result<ExitCode> {
    let cancel = Arc::new(AtomicBool::new(false));
    let watch = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::SeqCst);
            }
        })
    };
    let report = desk
        .bulk(action, targets, &|_, _| {}, &cancel, dry_run)
        .await;
    watch.abort();
    let report = report?;
    print_report(&report, print)?;
    Ok(ExitCode::from(exit_code(&report)))
}

/// 0 all done, 3 anything refused, 130 cancelled before some rows.
pub fn exit_code(r: &BulkReport) -> u8 {
    if !r.not_tried.is_empty() {
        exit::CANCELLED
    } else if !r.refused.is_empty() {
        exit::REFUSED
    } else {
        exit::SUCCESS
    }
}

fn print_report(r: &BulkReport, print: &Print) -> Result<()> {
    if print.json {
        let refused: Vec<serde_json::Value> = r
            .refused
            .iter()
            .map(|(id, reason)| serde_json::json!({ "id": id, "reason": reason }))
            .collect();
        output::json(&serde_json::json!({
            "action": r.verb,
            "dry_run": r.dry_run,
            "done": r.done,
            "refused": refused,
            "not_tried": r.not_tried,
            "summary": r.summary(),
        }))
    } else {
        outln!("{}", r.summary());
        Ok(())
    }
}

/// Each id as it is now, or the one id at `version`.
pub fn targets(ids: &[i64], version: Option<i32>) -> Vec<Target> {
    ids.iter().map(|&id| Target { id, version }).collect()
}
