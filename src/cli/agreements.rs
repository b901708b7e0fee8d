//! `partnerdesk agreements add|list|show`: a partner's commercial terms by version.

use super::Context;
use super::args::{Print, done};
use super::output::{self, out, outln};
use super::table::{Table, record, time};
use crate::domain::money::format_bps;
use crate::domain::terms::{Commission, TermsDraft};
use crate::domain::validation::ValidationErrors;
use crate::error::{Error, Result};
use crate::service::rows::{Agreement, AgreementRow};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AgreementsCommand {
    /// Add the partner's next agreement version, effective from the first day of a period.
    Add(AddArgs),
    /// List agreement versions, newest first (a table, or --json).
    List {
        /// Only this partner's (its id).
        #[arg(long, value_name = "ID")]
        partner: Option<i64>,
        /// At most this many rows.
        #[arg(long, value_name = "N", default_value_t = 50,
              value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
        #[command(flatten)]
        print: Print,
    },
    /// Show one agreement version (a record, or --json).
    Show {
        /// The agreement's id.
        id: i64,
        #[command(flatten)]
        print: Print,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The partner's id.
    #[arg(long, value_name = "ID")]
    pub partner: i64,
    /// ISO 4217 currency (EUR, JPY, KWD, …).
    #[arg(long, value_name = "CODE")]
    pub currency: String,
    /// How often it is settled: monthly, quarterly or annual.
    #[arg(long, value_name = "FREQUENCY")]
    pub frequency: String,
    /// percentage, fixed_fee, hybrid, flat_fee or referral_only (no commission: referral
    /// payouts only).
    #[arg(long, value_name = "MODEL")]
    pub model: String,
    /// percentage: basis points of each redemption's value (500 = 5%).
    #[arg(long, value_name = "BPS")]
    pub bps: Option<i64>,
    /// fixed_fee: the fee per redemption; flat_fee: the fee per period (in the currency's units, 12.50).
    #[arg(long, value_name = "AMOUNT")]
    pub fee: Option<String>,
    /// hybrid: basis points up to the threshold.
    #[arg(long, value_name = "BPS")]
    pub base_bps: Option<i64>,
    /// hybrid: basis points added after the threshold.
    #[arg(long, value_name = "BPS")]
    pub bonus_bps: Option<i64>,
    /// hybrid: how many redemptions in a period are priced at the base rate.
    #[arg(long, value_name = "N")]
    pub threshold: Option<i64>,
    /// The platform's take in basis points (default 1500 = 15%).
    #[arg(long, value_name = "BPS")]
    pub take_bps: Option<i64>,
    /// The first day it applies: the first day of a period (2026-10-01).
    #[arg(long, value_name = "DATE")]
    pub from: NaiveDate,
    #[command(flatten)]
    pub print: Print,
}

pub async fn run(ctx: &Context, cmd: AgreementsCommand) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    match cmd {
        AgreementsCommand::Add(a) => {
            let draft = TermsDraft {
                model: a.model,
                rate_bps: a.bps,
                amount: a.fee,
                base_bps: a.base_bps,
                bonus_bps: a.bonus_bps,
                bonus_threshold: a.threshold,
                currency: a.currency,
                frequency: a.frequency,
                take_rate_bps: a.take_bps,
            };
            let mut unused = ValidationErrors::new();
            draft.check_unused(&mut unused);
            if !unused.is_empty() {
                return Err(flag_names(unused.into()));
            }
            let ag = desk
                .add_agreement(a.partner, &draft, a.from)
                .await
                .map_err(flag_names)?;
            done(&a.print, &ag, || {
                format!(
                    "agreement {}: version {} of partner #{} from {}: {}",
                    ag.id,
                    ag.version,
                    ag.partner_id,
                    ag.effective_from,
                    terms_text(&ag)
                )
            })
        }
        AgreementsCommand::List {
            partner,
            limit,
            print,
        } => {
            let rows = desk.agreements_page(partner, None, limit).await?;
            if print.json {
                output::json(&rows)?;
                return Ok(ExitCode::SUCCESS);
            }
            if rows.is_empty() {
                outln!("no agreement matches");
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&["ID", "PARTNER", "VERSION", "FROM", "TERMS"]).right(&[0, 2]);
            for r in &rows {
                let a = &r.agreement;
                t.row(vec![
                    a.id.to_string(),
                    format!("{} (#{})", r.partner_name, a.partner_id),
                    a.version.to_string(),
                    a.effective_from.to_string(),
                    terms_text(a),
                ]);
            }
            out!("{}", t.render());
            Ok(ExitCode::SUCCESS)
        }
        AgreementsCommand::Show { id, print } => {
            let r = desk.agreement(id).await?;
            if print.json {
                output::json(&r)?;
                return Ok(ExitCode::SUCCESS);
            }
            out!("{}", agreement_record(&r));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Field errors named by the flags that set them (`--fee`, not the terms' `amount`).
fn flag_names(e: Error) -> Error {
    match e {
        Error::Validation(mut v) => {
            for f in &mut v.0 {
                f.field = match f.field {
                    "amount" => "fee",
                    "rate_bps" => "bps",
                    "bonus_threshold" => "threshold",
                    "base_bps" => "base-bps",
                    "bonus_bps" => "bonus-bps",
                    "take_rate_bps" => "take-bps",
                    other => other,
                };
            }
            Error::Validation(v)
        }
        other => other,
    }
}

/// "percentage 5% · EUR monthly · take 15%"; "referral only (no commission) · EUR monthly"
/// (no commission, so no take).
pub fn terms_text(a: &Agreement) -> String {
    if a.commission() == Commission::ReferralOnly {
        return format!("{} · {} {}", model_text(a), a.currency, a.frequency);
    }
    format!(
        "{} · {} {} · take {}",
        model_text(a),
        a.currency,
        a.frequency,
        format_bps(a.take_rate_bps.into())
    )
}

/// The model with its parameters: "hybrid 5% + 2.5% after 100".
pub fn model_text(a: &Agreement) -> String {
    a.commission().text(&a.currency)
}

fn agreement_record(r: &AgreementRow) -> String {
    let a = &r.agreement;
    record(&[
        ("agreement", a.id.to_string()),
        ("partner", format!("{} (#{})", r.partner_name, a.partner_id)),
        ("version", a.version.to_string()),
        ("effective from", a.effective_from.to_string()),
        ("model", model_text(a)),
        ("currency", a.currency.clone()),
        ("frequency", a.frequency.to_string()),
        (
            "take rate",
            if matches!(a.commission(), Commission::ReferralOnly) {
                "none: a referral-only agreement has no commission to take from".into()
            } else {
                format_bps(a.take_rate_bps.into())
            },
        ),
        (
            "from offer",
            a.source_offer_id
                .map(|o| format!("offer {o}"))
                .unwrap_or_else(|| "added directly".into()),
        ),
        (
            "created",
            format!("{} by {}", time(a.created_at), a.created_by),
        ),
    ])
}
