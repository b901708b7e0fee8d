//! The marketplace's settings (SPEC §1.1): read by finance and admin, set by admins, every
//! change audited (the bank account's IBAN masked, no event: no bank detail leaves through
//! the outbox). A partner's own minimum payout is set by finance beside its payout details.

use super::Desk;
use super::record::Change;
use crate::domain::Permission;
use crate::domain::payout::mask_iban;
use crate::domain::settings::{SettingChange, parse_partner_minimum};
use crate::error::{Error, Result};
use crate::store::{
    self,
    payouts::PayoutRow,
    settings::{Minimum, SettingsRow},
};
use serde::Serialize;
use serde_json::json;

/// The settings as `settings show` and the console show them.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub holding_days: i32,
    /// The marketplace's bank account (the debtor of SEPA files), when set.
    pub bank_holder: Option<String>,
    pub bank_iban: Option<String>,
    pub bank_iban_masked: Option<String>,
    pub bank_bic: Option<String>,
    pub minimum_payouts: Vec<Minimum>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub updated_by: String,
    pub version: i32,
}

impl Settings {
    fn of(row: SettingsRow, minimum_payouts: Vec<Minimum>) -> Settings {
        Settings {
            holding_days: row.holding_days,
            bank_iban_masked: row.bank_iban.as_deref().map(mask_iban),
            bank_holder: row.bank_holder,
            bank_iban: row.bank_iban,
            bank_bic: row.bank_bic,
            minimum_payouts,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
            version: row.version,
        }
    }

    /// The minimum payout of a currency, when one is set.
    pub fn minimum(&self, currency: &str) -> Option<i64> {
        self.minimum_payouts
            .iter()
            .find(|m| m.currency == currency)
            .map(|m| m.amount_minor)
    }
}

/// What the audit log keeps of the settings row: the IBAN masked, no holder, no BIC.
fn audited(row: &SettingsRow) -> serde_json::Value {
    json!({
        "holding_days": row.holding_days,
        "bank_account": row.bank_iban.as_deref().map(mask_iban),
        "version": row.version,
    })
}

impl Desk {
    pub async fn settings(&self) -> Result<Settings> {
        self.actor().require(Permission::ViewSettings)?;
        let mut conn = self.pool().acquire().await?;
        let row = store::settings::get(&mut conn, true).await?;
        let minimums = store::settings::minimums(&mut conn).await?;
        Ok(Settings::of(row, minimums))
    }

    /// Changes one setting; admins only. Returns the settings as they now are.
    pub async fn set_setting(&self, change: &SettingChange) -> Result<Settings> {
        self.actor().require(Permission::ManageSettings)?;
        let login = &self.actor().login;
        let key = change.key();
        let mut tx = self.pool().begin().await?;
        let before = store::settings::lock(&mut tx).await?;
        let c = Change::new(self.actor(), "settings.set", "settings", &key);
        let c = match change {
            SettingChange::HoldingDays(d) => {
                let after = store::settings::set_holding_days(&mut tx, *d, login).await?;
                c.changed(&audited(&before), &audited(&after))
            }
            SettingChange::BankAccount(bank) => {
                let after = store::settings::set_bank(&mut tx, bank.as_ref(), login).await?;
                c.changed(&audited(&before), &audited(&after))
            }
            SettingChange::MinimumPayout {
                currency,
                amount_minor,
            } => {
                let old = store::settings::lock_minimum(&mut tx, currency).await?;
                let new =
                    store::settings::set_minimum(&mut tx, currency, *amount_minor, login).await?;
                c.changed(
                    &json!({ "currency": currency, "minimum_minor": old.map(|m| m.amount_minor) }),
                    &json!({ "currency": currency, "minimum_minor": new.map(|m| m.amount_minor) }),
                )
            }
        };
        c.no_event().commit(tx).await?;
        self.settings().await
    }

    /// Sets (or with `none` clears) a partner's own minimum payout, in its payout currency;
    /// finance and admin. The partner needs payout details first.
    pub async fn set_partner_minimum(&self, partner_id: i64, value: &str) -> Result<PayoutRow> {
        self.actor().require(Permission::ManageSettlements)?;
        let mut tx = self.pool().begin().await?;
        let Some(before) = store::payouts::lock(&mut tx, partner_id).await? else {
            store::partners::get(&mut tx, partner_id)
                .await?
                .ok_or_else(|| Error::not_found("partner", partner_id))?;
            return Err(Error::field(
                "minimum",
                format!(
                    "partner {partner_id} has no payout details yet: set them first (its minimum is in its payout currency)"
                ),
            ));
        };
        let minimum = parse_partner_minimum(value, &before.currency)
            .map_err(|why| Error::field("minimum", why))?;
        let after = store::payouts::set_minimum(&mut tx, partner_id, minimum, &self.actor().login)
            .await?
            .ok_or_else(|| Error::not_found("partner", partner_id))?;
        Change::new(
            self.actor(),
            "partner.minimum_payout",
            "partner",
            partner_id,
        )
        .changed(&before.masked(), &after.masked())
        .no_event()
        .commit(tx)
        .await?;
        Ok(after)
    }
}
