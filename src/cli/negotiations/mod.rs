//! `partnerdesk negotiations …` and `partnerdesk contracts …`: the negotiation workflow for
//! scripts, over the same services as the console.

mod contracts;
mod offer;
mod view;

use super::Context;
use super::args::Print;
use super::bulk::{self, DryRun};
use super::output::outln;
use crate::domain::negotiation::{OfferDraft, Side, ThreadStatus};
use crate::error::{Error, Result};
use crate::service::bulk::BulkAction;
use crate::service::negotiations::NewThread;
use crate::service::rows::ThreadFilter;
use clap::{Args, Subcommand};
pub use contracts::ContractsCommand;
use offer::{OFFER_HELP, OfferFields};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum NegotiationsCommand {
    /// Open a thread with a partner (optionally with a first message and a first offer).
    Open {
        /// The partner's id.
        #[arg(long, value_name = "ID")]
        partner: i64,
        /// An existing deal of that partner the thread is about.
        #[arg(long, value_name = "ID")]
        deal: Option<i64>,
        /// What the thread is about.
        #[arg(long, value_name = "TEXT")]
        subject: String,
        /// When it expires if nobody accepts: YYYY-MM-DD HH:MM (UTC), RFC 3339, or a date
        /// YYYY-MM-DD (the whole day: up to the next day's 00:00 UTC).
        #[arg(long, value_name = "TIME", value_parser = crate::domain::moment::utc_end)]
        deadline: DateTimeArg,
        /// A first message.
        #[arg(long, value_name = "TEXT")]
        message: Option<String>,
        #[command(flatten)]
        side: SideArg,
        #[command(flatten)]
        offer: OfferFields,
        #[command(flatten)]
        print: Print,
    },
    /// List threads, most recently updated first (a table, --json, or --csv: every match).
    List {
        /// Only threads in this status: pending, negotiating, accepted, rejected, withdrawn or expired.
        #[arg(long, value_name = "STATUS")]
        status: Option<ThreadStatus>,
        /// Only the threads of this partner (its id).
        #[arg(long, value_name = "ID")]
        partner: Option<i64>,
        /// Only threads whose subject or partner name contains this text.
        #[arg(long, value_name = "TEXT")]
        text: Option<String>,
        /// At most this many rows (not with --csv: it prints every match).
        #[arg(long, value_name = "N", default_value_t = 50,
              value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
        #[command(flatten)]
        print: Print,
        #[command(flatten)]
        csv: crate::cli::csv_list::CsvArgs,
    },
    /// Show a thread: its messages and offers in order, each revision's difference from the
    /// previous one, whose turn it is (a record, or --json).
    Show {
        /// The thread's id.
        id: i64,
        #[command(flatten)]
        print: Print,
    },
    /// Post a message on a thread.
    Message {
        /// The thread's id.
        id: i64,
        /// The message (at most 10,000 characters).
        #[arg(long, value_name = "TEXT")]
        body: String,
        #[command(flatten)]
        side: SideArg,
    },
    #[command(long_about = OFFER_HELP)]
    /// Make an offer revision (a counter-offer starts from the latest revision's terms).
    Offer {
        /// The thread's id.
        id: i64,
        #[command(flatten)]
        side: SideArg,
        /// A note with the offer.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Refuse unless the latest revision is still this one.
        #[arg(long, value_name = "N")]
        after_revision: Option<i32>,
        #[command(flatten)]
        fields: OfferFields,
        #[command(flatten)]
        print: Print,
    },
    /// Accept the latest revision for the side that did not make it (recorded on the
    /// partner's behalf when the marketplace made it): creates the partner's agreement version,
    /// a contract and a draft deal.
    Accept {
        /// The thread's id.
        id: i64,
        /// Refuse unless this revision is still the latest.
        #[arg(long, value_name = "N")]
        revision: Option<i32>,
        #[command(flatten)]
        print: Print,
    },
    /// Reject the thread (final).
    Reject(CloseArgs),
    /// Withdraw from the thread (final). Several ids withdraw each in its own step, then print
    /// a summary (exit code 3 if any was refused).
    Withdraw(WithdrawArgs),
}

type DateTimeArg = chrono::DateTime<chrono::Utc>;

/// `--as marketplace|partner`: who speaks (partner-side entries are recorded on its behalf).
#[derive(Debug, Args)]
pub struct SideArg {
    /// Speak for the marketplace (default) or, recorded on its behalf, for the partner.
    #[arg(long = "as", value_name = "SIDE", default_value = "marketplace")]
    pub side: Side,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    /// The thread's id.
    pub id: i64,
    /// Why (required; kept on the thread and in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub side: SideArg,
}

#[derive(Debug, Args)]
pub struct WithdrawArgs {
    /// The thread's id, or several.
    #[arg(required = true, num_args = 1.., value_name = "ID")]
    pub ids: Vec<i64>,
    /// Why (required; one reason for every thread, kept on it and in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub side: SideArg,
    #[command(flatten)]
    pub dry_run: DryRun,
    #[command(flatten)]
    pub print: Print,
}

pub async fn run(ctx: &Context, cmd: NegotiationsCommand) -> Result<ExitCode> {
    match cmd {
        NegotiationsCommand::Open {
            partner,
            deal,
            subject,
            deadline,
            message,
            side,
            offer,
            print,
        } => {
            let desk = ctx.desk(2).await?;
            let offer = if offer.any() {
                Some(offer.draft(OfferDraft::default())?)
            } else {
                None
            };
            let t = desk
                .open_negotiation(&NewThread {
                    partner_id: partner,
                    deal_id: deal,
                    subject,
                    deadline: Some(deadline),
                    side: side.side,
                    message,
                    offer,
                })
                .await?;
            super::args::done(&print, &t, || {
                format!(
                    "opened negotiation {} with partner #{}: {}",
                    t.id, t.partner_id, t.subject
                )
            })
        }
        NegotiationsCommand::List {
            status,
            partner,
            text,
            limit,
            print,
            csv,
        } => {
            let filter = ThreadFilter {
                status,
                partner_id: partner,
                text,
                after: None,
            };
            view::list(ctx, filter, limit, &print, &csv).await
        }
        NegotiationsCommand::Show { id, print } => view::show(ctx, id, &print).await,
        NegotiationsCommand::Message { id, body, side } => {
            let desk = ctx.desk(2).await?;
            let m = desk.post_negotiation_message(id, side.side, &body).await?;
            outln!(
                "message {} posted on negotiation {id} for the {}{}",
                m.id,
                m.side,
                behalf(m.side)
            );
            Ok(ExitCode::SUCCESS)
        }
        NegotiationsCommand::Offer {
            id,
            side,
            note,
            after_revision,
            fields,
            print,
        } => {
            let desk = ctx.desk(2).await?;
            let view = desk.get_negotiation(id).await?;
            let base = view
                .offers
                .last()
                .map(|o| o.offer.terms.draft())
                .unwrap_or_default();
            if !fields.any() && view.offers.is_empty() {
                return Err(Error::Usage(
                    "give the terms: --file PATH or flags such as --model, --currency (see negotiations offer --help)".into(),
                ));
            }
            let draft = fields.draft(base)?;
            let o = desk
                .make_offer(id, side.side, &draft, note.as_deref(), after_revision)
                .await?;
            super::args::done(&print, &o, || {
                format!(
                    "revision {} of negotiation {id} made for the {}{}",
                    o.revision,
                    o.side,
                    behalf(o.side)
                )
            })
        }
        NegotiationsCommand::Accept {
            id,
            revision,
            print,
        } => {
            let desk = ctx.desk(2).await?;
            let a = desk.accept_offer(id, revision, None).await?;
            super::args::done(&print, &a, || {
                format!(
                    "negotiation {id}: revision {} accepted for the {}{}; agreement version {} of partner #{} effective from {}, contract {} (hash {}), draft deal {}",
                    a.revision,
                    a.side,
                    behalf(a.side),
                    a.agreement.version,
                    a.agreement.partner_id,
                    a.agreement.effective_from,
                    a.contract.id,
                    a.contract.snapshot_hash,
                    a.deal.id
                )
            })
        }
        NegotiationsCommand::Reject(a) => close(ctx, a, true).await,
        NegotiationsCommand::Withdraw(a) => withdraw(ctx, a).await,
    }
}

async fn withdraw(ctx: &Context, a: WithdrawArgs) -> Result<ExitCode> {
    match a.ids[..] {
        [id] if !a.dry_run.dry_run => {
            let one = CloseArgs {
                id,
                reason: a.reason,
                side: a.side,
            };
            close(ctx, one, false).await
        }
        _ => {
            let desk = ctx.desk(2).await?;
            let action = BulkAction::NegotiationWithdraw {
                side: a.side.side,
                reason: a.reason,
            };
            let targets = bulk::targets(&a.ids, None);
            bulk::run(&desk, &action, &targets, a.dry_run.dry_run, &a.print).await
        }
    }
}

async fn close(ctx: &Context, a: CloseArgs, reject: bool) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let t = if reject {
        desk.reject_negotiation(a.id, a.side.side, &a.reason)
            .await?
    } else {
        desk.withdraw_negotiation(a.id, a.side.side, &a.reason)
            .await?
    };
    outln!(
        "negotiation {} {} by the {}{}",
        t.id,
        t.status,
        a.side.side,
        behalf(a.side.side)
    );
    Ok(ExitCode::SUCCESS)
}

/// " (recorded on the partner's behalf)" for the partner side.
pub(crate) fn behalf(side: Side) -> &'static str {
    match side {
        Side::Partner => " (recorded on the partner's behalf)",
        Side::Marketplace => "",
    }
}

pub async fn run_contracts(ctx: &Context, cmd: ContractsCommand) -> Result<ExitCode> {
    contracts::run(ctx, cmd).await
}
