//! `settle review|approve|pay` over one statement, several ids, or every statement of a period
//! in a status (`--period 2026-11 --status in_review`): several go through [`Desk::bulk`],
//! each in its own step, and end with the summary.

use crate::cli::args::Print;
use crate::cli::bulk::{self, DryRun};
use crate::domain::settlement::{Move, Period, SettlementStatus};
use crate::error::{Error, Result};
use crate::service::Desk;
use crate::service::bulk::{BulkAction, Target};
use crate::service::rows::SettlementFilter;
use clap::Args;

/// Which statements a move goes through: ids, or a period and a status.
#[derive(Debug, Args)]
pub struct Select {
    /// The settlement's id, or several: each moves in its own step and a summary is printed
    /// (exit code 3 if any was refused).
    #[arg(value_name = "ID")]
    pub ids: Vec<i64>,
    /// Instead of ids: every statement of a period inside this one (a month 2026-11, a
    /// quarter 2026-Q4 or a year 2026).
    #[arg(long, value_name = "PERIOD", conflicts_with = "ids")]
    pub period: Option<String>,
    /// With --period: only statements in this status (default: the one the move needs —
    /// draft for review, in_review for approve, approved for pay).
    #[arg(long, value_name = "STATUS", requires = "period")]
    pub status: Option<SettlementStatus>,
    #[command(flatten)]
    pub dry_run: DryRun,
}

impl Select {
    /// The one id of a plain single move (no period, no dry run): said as it always was.
    pub fn single(&self) -> Option<i64> {
        match self.ids[..] {
            [id] if self.period.is_none() && !self.dry_run.dry_run => Some(id),
            _ => None,
        }
    }
}

/// Runs a move over the selected statements and prints the summary.
pub async fn run_many(
    desk: &Desk,
    command: &str,
    select: &Select,
    action: BulkAction,
    print: &Print,
) -> Result<std::process::ExitCode> {
    let targets = targets(desk, command, select, needs(&action)).await?;
    bulk::run(desk, &action, &targets, select.dry_run.dry_run, print).await
}

/// The status a move starts from, the default of `--status`.
fn needs(action: &BulkAction) -> SettlementStatus {
    let m = match action {
        BulkAction::SettlementReview { .. } => Move::Review,
        BulkAction::SettlementPay { .. } => Move::Pay,
        _ => Move::Approve,
    };
    m.from()
        .first()
        .copied()
        .unwrap_or(SettlementStatus::InReview)
}

async fn targets(
    desk: &Desk,
    command: &str,
    select: &Select,
    default_status: SettlementStatus,
) -> Result<Vec<Target>> {
    let Some(period) = &select.period else {
        if select.ids.is_empty() {
            return Err(Error::Usage(format!(
                "settle {command}: give one or more settlement ids, or --period PERIOD (with --status) to select them"
            )));
        }
        return Ok(bulk::targets(&select.ids, None));
    };
    let p = Period::parse(period).map_err(|r| Error::Usage(format!("--period {r}")))?;
    let filter = SettlementFilter {
        status: Some(select.status.unwrap_or(default_status)),
        within: Some((p.start, p.end)),
        ..Default::default()
    };
    desk.settlement_targets(&filter).await
}
