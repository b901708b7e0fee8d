//! `partnerdesk contracts show|sign|benefit|status`.

use super::{SideArg, behalf};
use crate::cli::Context;
use crate::cli::args::Print;
use crate::cli::output::{self, out, outln};
use crate::cli::table::{record, time};
use crate::domain::contract::{BenefitStatus, ContractStatus};
use crate::error::{Error, Result};
use crate::service::contracts::ContractView;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// Show a contract: its terms' hash, signatures and benefits (a record, or --json).
    Show {
        /// The contract's id.
        id: i64,
        #[command(flatten)]
        print: Print,
    },
    /// Sign for a side: the first signature makes it pending_signature, the second signed.
    Sign {
        /// The contract's id.
        id: i64,
        #[command(flatten)]
        side: SideArg,
    },
    /// Mark a contracted benefit delivered (with evidence) or missed (with a reason).
    Benefit {
        /// The contract's id.
        id: i64,
        /// The benefit's number, as `contracts show` lists it.
        number: i32,
        /// Delivered, with a note of the evidence.
        #[arg(
            long,
            value_name = "EVIDENCE",
            conflicts_with = "missed",
            required_unless_present = "missed"
        )]
        delivered: Option<String>,
        /// Missed, with the reason.
        #[arg(long, value_name = "REASON")]
        missed: Option<String>,
    },
    /// Complete, cancel or dispute a contract, with a reason.
    Status {
        /// The contract's id.
        id: i64,
        /// completed, cancelled or disputed.
        #[arg(long, value_name = "STATUS")]
        to: ContractStatus,
        /// Why.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
}

pub async fn run(ctx: &Context, cmd: ContractsCommand) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    match cmd {
        ContractsCommand::Show { id, print } => {
            let v = desk.get_contract(id).await?;
            if print.json {
                output::json(&v)?;
            } else {
                out!("{}", show_text(&v));
            }
        }
        ContractsCommand::Sign { id, side } => {
            let c = desk.sign_contract(id, side.side).await?;
            outln!(
                "contract {id} signed for the {}{}; it is {}",
                side.side,
                behalf(side.side),
                c.status
            );
        }
        ContractsCommand::Benefit {
            id,
            number,
            delivered,
            missed,
        } => {
            let (to, note) = match (delivered, missed) {
                (Some(n), None) => (BenefitStatus::Delivered, n),
                (None, Some(n)) => (BenefitStatus::Missed, n),
                _ => {
                    return Err(Error::Usage(
                        "give --delivered EVIDENCE or --missed REASON".into(),
                    ));
                }
            };
            let b = desk.mark_benefit(id, number, to, &note).await?;
            outln!(
                "benefit {number} of contract {id} ({}) is {}",
                b.name,
                b.status
            );
        }
        ContractsCommand::Status { id, to, reason } => {
            let c = desk.change_contract_status(id, to, &reason).await?;
            outln!("contract {id} is {}", c.status);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show_text(v: &ContractView) -> String {
    let c = &v.contract;
    let sigs = if v.signatures.is_empty() {
        "none yet".to_owned()
    } else {
        v.signatures
            .iter()
            .map(|s| format!("{} by {} at {}", s.side, s.operator, time(s.signed_at)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let benefits = if v.benefits.is_empty() {
        "none".to_owned()
    } else {
        v.benefits
            .iter()
            .map(|b| {
                let due = b.due_date.map(|d| format!(", due {d}")).unwrap_or_default();
                let overdue = if v.overdue.contains(&b.position) {
                    " OVERDUE"
                } else {
                    ""
                };
                let note = b
                    .note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default();
                let delivered = b
                    .delivery()
                    .map(|(at, by)| format!(" by {by} at {}", time(at)))
                    .unwrap_or_default();
                format!(
                    "{}. {} — {}{delivered}{note}{due}{overdue}",
                    b.position, b.name, b.status
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let partner = c.snapshot["parties"]["partner"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let revision = c.snapshot["revision"]["number"]
        .as_i64()
        .unwrap_or_default();
    record(&[
        ("contract", c.id.to_string()),
        ("partner", format!("{partner} (#{})", c.partner_id)),
        (
            "negotiation",
            format!("#{} revision {revision}", c.thread_id),
        ),
        (
            "status",
            match &c.status_reason {
                Some(r) => format!("{} ({r})", c.status),
                None => c.status.to_string(),
            },
        ),
        ("agreement", format!("#{}", c.agreement_id)),
        (
            "draft deal",
            format!("#{} (partnerdesk deals show {})", c.deal_id, c.deal_id),
        ),
        ("sha-256", c.snapshot_hash.clone()),
        ("signatures", sigs),
        ("benefits", benefits),
        (
            "created",
            format!("by {} at {}", c.created_by, time(c.created_at)),
        ),
    ])
}
