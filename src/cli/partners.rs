//! `partnerdesk partners …`: every partner use case the console has, for scripts and cron,
//! over the same services (permission checks, audit rows, outbox events, conflicts).

use super::Context;
use super::args::{Guard, Print, done};
use super::bulk::{self, DryRun};
use super::csv_list::{CSV_PAGE, CsvArgs, CsvColumn, instant, write_pages};
use super::output::{self, out, outln};
use super::table::{Table, or_dash, record, time};
use crate::domain::list_text::vetted;
use crate::domain::{PartnerDraft, VerificationState};
use crate::error::{Error, Result};
use crate::service::bulk::BulkAction;
use crate::service::partners::OffboardReport;
use crate::service::rows::{Partner, PartnerFilter, PartnerListRow, PartnerSort};
use clap::{Args, Subcommand};
use serde_json::json;
use std::process::ExitCode;

/// The most rows one `list` prints.
pub const LIST_LIMIT_MAX: i64 = 10_000;

#[derive(Debug, Subcommand)]
pub enum PartnersCommand {
    /// Create a partner (pending until vetted); needs the curator or admin role.
    #[command(long_about = ADD_HELP)]
    Add {
        #[command(flatten)]
        fields: PartnerFields,
        #[command(flatten)]
        print: Print,
    },
    /// Change the fields given, and only those.
    #[command(long_about = EDIT_HELP)]
    Edit {
        /// The partner's id.
        id: i64,
        #[command(flatten)]
        fields: PartnerFields,
        #[command(flatten)]
        guard: Guard,
        #[command(flatten)]
        print: Print,
    },
    /// Mark a pending partner vetted (verified): its deals may then become active.
    Vet(Many),
    /// Disable a verified partner; its active deals are paused in the same step.
    Disable(ManyWithReason),
    /// Send a disabled partner back to pending, to vet it again.
    Revet(Change),
    /// Delete a partner none of whose deals is still live (draft, active or paused).
    Delete(ChangeWithReason),
    /// Off-board: pause every active deal of the partner at once and say what is left.
    Offboard {
        /// The partner's id.
        id: i64,
        /// Why (kept in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        #[command(flatten)]
        print: Print,
    },
    /// List partners, by name (a table, --json: an array of rows, or --csv: every match).
    List(ListArgs),
    /// Show one partner and its deals by state (a record, or --json).
    Show {
        /// The partner's id.
        id: i64,
        #[command(flatten)]
        print: Print,
    },
    /// Where the marketplace pays the partner: with --holder, --iban and --bic, set them
    /// (finance or admin; audited with the IBAN masked); without, show them (whole to
    /// finance and admin, the IBAN masked to everyone else).
    Payout {
        /// The partner's id.
        id: i64,
        /// The account holder's name, as the bank has it (at most 70 characters).
        #[arg(long, value_name = "NAME", requires_all = ["iban", "bic"])]
        holder: Option<String>,
        /// The IBAN, with or without spaces (checked by its ISO 13616 mod-97 checksum).
        #[arg(long, value_name = "IBAN", requires_all = ["holder", "bic"])]
        iban: Option<String>,
        /// The bank's BIC: 8 or 11 letters and digits (COBADEFFXXX).
        #[arg(long, value_name = "BIC", requires_all = ["holder", "iban"])]
        bic: Option<String>,
        /// The payout currency, ISO 4217 (default EUR).
        #[arg(long, value_name = "CODE", requires = "iban")]
        currency: Option<String>,
        /// The partner's own minimum payout in its payout currency (25.00), or none for the
        /// currency's (`settings show`).
        #[arg(long, value_name = "AMOUNT")]
        minimum: Option<String>,
        #[command(flatten)]
        print: Print,
    },
}

const ADD_HELP: &str = "Create a partner (pending until vetted); needs the curator or admin role.\n\n\
--legal-name and --display-name are required. Every problem is printed on a line of its own \
as 'partnerdesk: FIELD: RULE' (exit code 3). A website whose domain belongs to another partner \
is refused, naming it. Prints the new partner's id (or the whole record with --json).";

const EDIT_HELP: &str = "Change the fields given, and only those; the others keep their values.\n\n\
An empty value clears an optional field (--logo-url ''); --category replaces the whole list. \
With --version N the change is refused (exit code 3) if the partner is no longer at version N, \
naming who changed it and when.";

/// The partner's fields, named after them. Every one is optional here: `add` needs the names,
/// `edit` changes only what is given.
#[derive(Debug, Args)]
pub struct PartnerFields {
    /// Legal name (required for add; at most 255 characters).
    #[arg(long, value_name = "TEXT")]
    pub legal_name: Option<String>,
    /// The name members see (required for add; at most 255 characters).
    #[arg(long, value_name = "TEXT")]
    pub display_name: Option<String>,
    /// Website, an http(s) URL (the website_url field); its domain must be no other partner's.
    #[arg(long = "website", value_name = "URL")]
    pub website: Option<String>,
    /// Logo, an http(s) URL.
    #[arg(long, value_name = "URL")]
    pub logo_url: Option<String>,
    /// Contact e-mail address.
    #[arg(long, value_name = "EMAIL")]
    pub contact_email: Option<String>,
    /// A category; repeat the flag or separate with commas (at most 20; the categories field).
    #[arg(long = "category", value_name = "NAME", value_delimiter = ',')]
    pub categories: Option<Vec<String>>,
    /// Region (at most 64 characters).
    #[arg(long, value_name = "TEXT")]
    pub region: Option<String>,
    /// Free notes for operators.
    #[arg(long, value_name = "TEXT")]
    pub notes: Option<String>,
}

impl PartnerFields {
    /// Writes the fields given into `d`; false if none was given.
    fn apply(self, d: &mut PartnerDraft) -> bool {
        let given = self.legal_name.is_some()
            || self.display_name.is_some()
            || self.website.is_some()
            || self.logo_url.is_some()
            || self.contact_email.is_some()
            || self.categories.is_some()
            || self.region.is_some()
            || self.notes.is_some();
        if let Some(v) = self.legal_name {
            d.legal_name = v;
        }
        if let Some(v) = self.display_name {
            d.display_name = v;
        }
        for (slot, v) in [
            (&mut d.website_url, self.website),
            (&mut d.logo_url, self.logo_url),
            (&mut d.contact_email, self.contact_email),
            (&mut d.region, self.region),
            (&mut d.notes, self.notes),
        ] {
            if v.is_some() {
                *slot = v;
            }
        }
        if let Some(c) = self.categories {
            d.categories = c;
        }
        given
    }
}

/// A verification step: the partner's id and an optional expected version.
#[derive(Debug, Args)]
pub struct Change {
    /// The partner's id.
    pub id: i64,
    #[command(flatten)]
    pub guard: Guard,
    #[command(flatten)]
    pub print: Print,
}

/// A step over one partner or several (each in its own step, then a summary).
#[derive(Debug, Args)]
pub struct Many {
    /// The partner's id, or several: each is changed in its own step and a summary is printed
    /// (exit code 3 if any was refused).
    #[arg(required = true, num_args = 1.., value_name = "ID")]
    pub ids: Vec<i64>,
    #[command(flatten)]
    pub guard: Guard,
    #[command(flatten)]
    pub dry_run: DryRun,
    #[command(flatten)]
    pub print: Print,
}

/// [`Many`], recording why.
#[derive(Debug, Args)]
pub struct ManyWithReason {
    #[command(flatten)]
    pub many: Many,
    /// Why (kept in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// A step that records why.
#[derive(Debug, Args)]
pub struct ChangeWithReason {
    /// The partner's id.
    pub id: i64,
    /// Why (kept in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub guard: Guard,
    #[command(flatten)]
    pub print: Print,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only partners whose name, domain or category matches (forgiving a typo).
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// Only partners in this verification state: pending, verified or disabled.
    #[arg(long, value_name = "STATE")]
    pub state: Option<VerificationState>,
    /// Sort by name, domain, state, deals or vetted.
    #[arg(long, value_name = "KEY", default_value = "name", value_parser = parse_sort)]
    pub sort: PartnerSort,
    /// Reverse the order.
    #[arg(long)]
    pub reverse: bool,
    /// At most this many rows (not with --csv: it prints every match).
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(i64).range(1..=LIST_LIMIT_MAX))]
    pub limit: i64,
    #[command(flatten)]
    pub print: Print,
    #[command(flatten)]
    pub csv: CsvArgs,
}

/// `partners list --csv`: the console's wide columns, in its order.
const CSV_COLUMNS: &[CsvColumn<PartnerListRow>] = &[
    ("name", |r| r.display_name.clone()),
    ("domain", |r| r.domain.clone().unwrap_or_default()),
    ("state", |r| r.verification.to_string()),
    ("categories", |r| r.categories.join(", ")),
    ("deals", |r| r.deal_count.to_string()),
    ("vetted_by", |r| vetted(r.verification, r.vetted_by.clone())),
    ("vetted_at", |r| {
        vetted(r.verification, r.vetted_at.map(instant))
    }),
    ("id", |r| r.id.to_string()),
];

fn parse_sort(s: &str) -> std::result::Result<PartnerSort, String> {
    let t = s.trim().to_ascii_lowercase();
    PartnerSort::ALL
        .into_iter()
        .find(|k| k.label() == t)
        .ok_or_else(|| "must be name, domain, state, deals or vetted".into())
}

pub async fn run(ctx: &Context, cmd: PartnersCommand) -> Result<ExitCode> {
    if let PartnersCommand::List(a) = &cmd {
        a.csv.check()?;
    }
    let desk = ctx.desk(2).await?;
    match cmd {
        PartnersCommand::Add { fields, print } => {
            let mut draft = PartnerDraft::default();
            fields.apply(&mut draft);
            let p = desk.create_partner(&draft).await?;
            done(&print, &p, || format!("created partner {}", about(&p)))
        }
        PartnersCommand::Edit {
            id,
            fields,
            guard,
            print,
        } => {
            let current = desk.get_partner(id).await?;
            let mut draft = current.draft();
            if !fields.apply(&mut draft) {
                return Err(Error::Usage(
                    "partners edit: nothing to change; give at least one field flag (see partnerdesk partners edit --help)".into(),
                ));
            }
            let version = guard.version.unwrap_or(current.version);
            let p = desk.update_partner(id, version, &draft).await?;
            done(&print, &p, || format!("updated partner {}", about(&p)))
        }
        PartnersCommand::Vet(c) => {
            let version = bulk::one_version(&c.ids, c.guard.version)?;
            match c.ids[..] {
                [id] if !c.dry_run.dry_run => {
                    let p = desk.mark_vetted(id, version).await?;
                    done(&c.print, &p, || moved(&p))
                }
                _ => {
                    let targets = bulk::targets(&c.ids, version);
                    let action = BulkAction::PartnerVet;
                    bulk::run(&desk, &action, &targets, c.dry_run.dry_run, &c.print).await
                }
            }
        }
        PartnersCommand::Disable(ManyWithReason { many: c, reason }) => {
            let version = bulk::one_version(&c.ids, c.guard.version)?;
            match c.ids[..] {
                [id] if !c.dry_run.dry_run => {
                    let p = desk.disable_partner(id, version, reason.as_deref()).await?;
                    done(&c.print, &p, || {
                        format!("{}; its active deals are paused", moved(&p))
                    })
                }
                _ => {
                    let targets = bulk::targets(&c.ids, version);
                    let action = BulkAction::PartnerDisable {
                        reason: reason.unwrap_or_default(),
                    };
                    bulk::run(&desk, &action, &targets, c.dry_run.dry_run, &c.print).await
                }
            }
        }
        PartnersCommand::Revet(c) => {
            let p = desk.revet_partner(c.id, c.guard.version).await?;
            done(&c.print, &p, || moved(&p))
        }
        PartnersCommand::Delete(c) => {
            desk.delete_partner(c.id, c.guard.version, c.reason.as_deref())
                .await?;
            let v = json!({ "id": c.id, "deleted": true });
            done(&c.print, &v, || format!("deleted partner {}", c.id))
        }
        PartnersCommand::Offboard { id, reason, print } => {
            let r = desk.offboard_partner(id, reason.as_deref()).await?;
            done(&print, &r, || offboard_text(&r))
        }
        PartnersCommand::List(a) => list(&desk, a).await,
        PartnersCommand::Show { id, print } => {
            let p = desk.get_partner(id).await?;
            let deals = desk.partner_deal_counts(id).await?;
            if print.json {
                let deals: serde_json::Map<String, serde_json::Value> =
                    deals.into_iter().map(|(s, n)| (s, json!(n))).collect();
                let mut v = serde_json::to_value(&p).unwrap_or_default();
                v["deals"] = json!(deals);
                output::json(&v)?;
            } else {
                let payout = desk.payout_details(id).await?;
                let owed = if desk.actor().may(crate::domain::Permission::ViewSettlements) {
                    desk.owed_waiting(id).await?
                } else {
                    Vec::new()
                };
                out!("{}", show_text(&p, &deals, payout.as_ref(), &owed));
            }
            Ok(ExitCode::SUCCESS)
        }
        PartnersCommand::Payout {
            id,
            holder,
            iban,
            bic,
            currency,
            minimum,
            print,
        } => {
            let mut row = match (holder, iban, bic) {
                (Some(holder), Some(iban), Some(bic)) => {
                    let draft = crate::domain::payout::PayoutDetailsDraft {
                        holder,
                        iban,
                        bic,
                        currency: currency.unwrap_or_default(),
                    };
                    Some(desk.set_payout_details(id, &draft).await?)
                }
                _ => None,
            };
            if let Some(m) = &minimum {
                row = Some(desk.set_partner_minimum(id, m).await?);
            }
            if row.is_none() {
                row = desk.payout_details(id).await?;
            }
            if print.json {
                output::json(&row)?;
                return Ok(ExitCode::SUCCESS);
            }
            match &row {
                Some(r) => outln!("partner {id}: {}", payout_text(r)),
                None => outln!("partner {id}: no payout details yet"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// "DE89 3704 0044 0532 0130 00 (COBADEFFXXX), Aster Books GmbH, EUR; changed 2026-12-07
/// 10:14 UTC by fin" (whole), or "DE89 •••• •••• 3000, EUR; changed …" (masked).
fn payout_text(r: &crate::store::payouts::PayoutRow) -> String {
    let account = match (&r.iban, &r.bic, &r.holder) {
        (Some(iban), Some(bic), Some(holder)) => {
            format!(
                "{} ({bic}), {holder}",
                crate::domain::payout::grouped_iban(iban)
            )
        }
        _ => r.iban_masked.clone(),
    };
    payout_line(&account, r)
}

/// "ACCOUNT, EUR (minimum 25.00 EUR); changed 2026-12-07 10:14 UTC by fin".
fn payout_line(account: &str, r: &crate::store::payouts::PayoutRow) -> String {
    format!(
        "{account}, {}{}; changed {} by {}",
        r.currency,
        r.minimum_minor
            .map(|m| format!(
                " (minimum {})",
                crate::domain::money::format_amount(m, &r.currency)
            ))
            .unwrap_or_default(),
        time(r.changed_at),
        r.updated_by
    )
}

/// `12 Bean There (pending, version 1)`.
fn about(p: &Partner) -> String {
    format!(
        "{} {} ({}, version {})",
        p.id, p.display_name, p.verification, p.version
    )
}

fn moved(p: &Partner) -> String {
    format!(
        "partner {} {} is now {} (version {})",
        p.id, p.display_name, p.verification, p.version
    )
}

fn offboard_text(r: &OffboardReport) -> String {
    let paused: Vec<String> = r.paused.iter().map(|d| d.id.to_string()).collect();
    let left: Vec<String> = r
        .remaining
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    format!(
        "off-boarded partner {} {}: paused {} deal{}{}; deals left: {}{}",
        r.partner.id,
        r.partner.display_name,
        r.paused.len(),
        if r.paused.len() == 1 { "" } else { "s" },
        if paused.is_empty() {
            String::new()
        } else {
            format!(
                " ({} {})",
                if paused.len() == 1 { "id" } else { "ids" },
                paused.join(", ")
            )
        },
        if left.is_empty() {
            "none".to_owned()
        } else {
            left.join(", ")
        },
        match r.blocking() {
            0 => "; it can be deleted now".to_owned(),
            n => format!("; expire the {n} not expired before deleting it"),
        }
    )
}

async fn list(desk: &crate::service::Desk, a: ListArgs) -> Result<ExitCode> {
    let filter = PartnerFilter {
        text: a.text,
        verification: a.state,
        sort: a.sort,
        descending: a.reverse,
        after: None,
    };
    if a.csv.csv {
        let cursor = |r: &PartnerListRow| (r.sort_key.clone(), r.id);
        return write_pages(&a.csv, "partners", CSV_COLUMNS, cursor, |after| {
            let filter = PartnerFilter {
                after,
                ..filter.clone()
            };
            async move { desk.list_partners(&filter, CSV_PAGE).await }
        })
        .await;
    }
    let rows = desk.list_partners(&filter, a.limit).await?;
    if a.print.json {
        output::json(&rows)?;
    } else if rows.is_empty() {
        outln!("no partner matches");
    } else {
        out!("{}", list_table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

fn list_table(rows: &[PartnerListRow]) -> String {
    let mut t = Table::new(&[
        "ID",
        "NAME",
        "DOMAIN",
        "STATE",
        "DEALS",
        "CATEGORIES",
        "VERSION",
    ])
    .right(&[0, 4, 6]);
    for r in rows {
        t.row(vec![
            r.id.to_string(),
            r.display_name.clone(),
            or_dash(r.domain.as_deref()),
            r.verification.to_string(),
            r.deal_count.to_string(),
            or_dash(Some(&r.categories.join(","))),
            r.version.to_string(),
        ]);
    }
    t.render()
}

fn show_text(
    p: &Partner,
    deals: &[(String, i64)],
    payout: Option<&crate::store::payouts::PayoutRow>,
    owed: &[crate::store::batches::Waiting],
) -> String {
    let vetted = match (&p.vetted_by, p.vetted_at) {
        (Some(by), Some(at)) if p.verification == VerificationState::Verified => {
            format!(", vetted by {by} at {}", time(at))
        }
        _ => String::new(),
    };
    let deals = if deals.is_empty() {
        "none".to_owned()
    } else {
        deals
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut fields = vec![
        ("partner", format!("{} {}", p.id, p.display_name)),
        ("legal name", p.legal_name.clone()),
        ("state", format!("{}{vetted}", p.verification)),
        ("website", or_dash(p.website_url.as_deref())),
        ("domain", or_dash(p.domain.as_deref())),
        ("logo", or_dash(p.logo_url.as_deref())),
        ("contact", or_dash(p.contact_email.as_deref())),
        ("categories", or_dash(Some(&p.categories.join(", ")))),
        ("region", or_dash(p.region.as_deref())),
        ("notes", or_dash(p.notes.as_deref())),
        ("deals", deals),
        (
            "payout",
            payout
                .map(|r| payout_line(&r.iban_masked, r))
                .unwrap_or_else(|| "none yet".into()),
        ),
        (
            "version",
            format!(
                "{}, changed by {} at {}",
                p.version,
                p.updated_by,
                time(p.updated_at)
            ),
        ),
        (
            "created",
            format!("by {} at {}", p.created_by, time(p.created_at)),
        ),
    ];
    for w in owed {
        fields.insert(fields.len() - 2, ("owed", w.text()));
    }
    record(&fields)
}
