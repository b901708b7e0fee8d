//! `partnerdesk settings show|set`: the marketplace's own rules and bank account (finance and
//! admin read them; admins set them, audited).

use super::Context;
use super::args::Print;
use super::output::{self, out};
use super::table::{record, time};
use crate::domain::money::format_amount;
use crate::domain::payout::grouped_iban;
use crate::domain::settings::SettingChange;
use crate::error::Result;
use crate::service::settings::Settings;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show every setting (finance and admin).
    Show {
        #[command(flatten)]
        print: Print,
    },
    /// Change one setting (admin), audited: holding_days N; bank_account "HOLDER | IBAN |
    /// BIC" or none; minimum_payout.CUR AMOUNT or none.
    Set {
        /// holding_days, bank_account or minimum_payout.CUR (minimum_payout.EUR).
        key: String,
        /// The new value (none clears the bank account or a minimum).
        value: String,
        #[command(flatten)]
        print: Print,
    },
}

pub async fn run(ctx: &Context, cmd: SettingsCommand) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let (settings, print) = match cmd {
        SettingsCommand::Show { print } => (desk.settings().await?, print),
        SettingsCommand::Set { key, value, print } => {
            let change = SettingChange::parse(&key, &value)?;
            (desk.set_setting(&change).await?, print)
        }
    };
    if print.json {
        output::json(&settings)?;
    } else {
        out!("{}", show_text(&settings));
    }
    Ok(ExitCode::SUCCESS)
}

/// The settings as `label  value` lines, every key `settings set` knows.
pub fn show_text(s: &Settings) -> String {
    let mut fields = vec![
        ("holding_days", format!("{} days", s.holding_days)),
        (
            "bank_account",
            match (&s.bank_holder, &s.bank_iban, &s.bank_bic) {
                (Some(h), Some(i), Some(b)) => format!("{h}, {} ({b})", grouped_iban(i)),
                _ => "none (SEPA files need it)".into(),
            },
        ),
    ];
    if s.minimum_payouts.is_empty() {
        fields.push(("minimum_payout.CUR", "none in any currency".into()));
    }
    let minimums: Vec<(String, String)> = s
        .minimum_payouts
        .iter()
        .map(|m| {
            (
                format!("minimum_payout.{}", m.currency),
                format_amount(m.amount_minor, &m.currency),
            )
        })
        .collect();
    let mut all: Vec<(&str, String)> = fields;
    for (k, v) in &minimums {
        all.push((k.as_str(), v.clone()));
    }
    let updated = format!(
        "{} by {} (version {})",
        time(s.updated_at),
        s.updated_by,
        s.version
    );
    all.push(("updated", updated));
    record(&all)
}
