//! `partnerdesk deals …`: author, edit and publish deals, list and show them, search as a
//! member, and bulk import; over the same services as the console.

mod author;
mod import;
mod search;
mod view;

use super::Context;
use super::args::{Guard, Print};
use super::bulk::DryRun;
use crate::domain::{AudienceScope, DealState};
use crate::error::Result;
use crate::service::search::SEARCH_LIMIT_MAX;
use author::DealFields;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use view::ListArgs;

#[derive(Debug, Subcommand)]
pub enum DealsCommand {
    /// Author a deal as a draft; needs the curator or admin role.
    #[command(long_about = author::ADD_HELP)]
    Add {
        #[command(flatten)]
        fields: DealFields,
        #[command(flatten)]
        print: Print,
    },
    /// Change the fields given, and only those.
    #[command(long_about = author::EDIT_HELP)]
    Edit {
        /// The deal's id.
        id: i64,
        #[command(flatten)]
        fields: DealFields,
        #[command(flatten)]
        guard: Guard,
        #[command(flatten)]
        print: Print,
    },
    /// Publish a draft, or resume a paused deal: members can find and redeem it.
    Activate(StateArgs),
    /// Pause an active deal: it leaves search and stops accepting redemptions.
    Pause(StateArgs),
    /// Expire a paused deal for good (an active deal expires by itself when its window ends).
    Expire(StateArgs),
    /// List deals, newest first (a table, --json: an array of rows, or --csv: every match).
    List(ListArgs),
    /// Show one deal, its partner and the coupon codes it has had (a record, or --json).
    Show {
        /// The deal's id.
        id: i64,
        #[command(flatten)]
        print: Print,
    },
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
        #[command(flatten)]
        print: Print,
    },
    /// Import deals from a CSV file: every row is checked, and all are written or none.
    #[command(long_about = import::HELP)]
    Import {
        /// The CSV file (UTF-8, comma-separated, with a header row).
        file: PathBuf,
        /// Check every row (partners included) and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// A state change: the deals, why, and an optional expected version (of one deal).
#[derive(Debug, Args)]
pub struct StateArgs {
    /// The deal's id, or several: each is changed in its own step and a summary is printed
    /// (exit code 3 if any was refused).
    #[arg(required = true, num_args = 1.., value_name = "ID")]
    pub ids: Vec<i64>,
    /// Why (kept in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub guard: Guard,
    #[command(flatten)]
    pub dry_run: DryRun,
    #[command(flatten)]
    pub print: Print,
}

pub async fn run(ctx: &Context, cmd: DealsCommand) -> Result<ExitCode> {
    match cmd {
        DealsCommand::Add { fields, print } => author::add(ctx, fields, &print).await,
        DealsCommand::Edit {
            id,
            fields,
            guard,
            print,
        } => author::edit(ctx, id, fields, &guard, &print).await,
        DealsCommand::Activate(a) => author::change_state(ctx, a, DealState::Active).await,
        DealsCommand::Pause(a) => author::change_state(ctx, a, DealState::Paused).await,
        DealsCommand::Expire(a) => author::change_state(ctx, a, DealState::Expired).await,
        DealsCommand::List(a) => view::list(ctx, a).await,
        DealsCommand::Show { id, print } => view::show(ctx, id, &print).await,
        DealsCommand::Search {
            text,
            member,
            limit,
            print,
        } => search::search(ctx, &text, member, limit, print.json).await,
        DealsCommand::Import { file, dry_run } => import::import(ctx, &file, dry_run).await,
    }
}

/// `public`, or `batch 2019` / `chapter Pune` with its value.
fn scope_text(scope: AudienceScope, value: Option<&str>) -> String {
    match (scope, value) {
        (AudienceScope::Batch | AudienceScope::Chapter, Some(v)) => format!("{scope} {v}"),
        (s, _) => s.to_string(),
    }
}
