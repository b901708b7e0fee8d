//! The marketplace's settings (migration 0030): one row of `marketplace_settings` and the
//! minimum payouts by currency.

use crate::domain::settings::BankAccount;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

/// The settings row. The bank account's columns are read only by finance and admin
/// (`whole`); for everyone else they read as none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SettingsRow {
    pub holding_days: i32,
    pub bank_holder: Option<String>,
    pub bank_iban: Option<String>,
    pub bank_bic: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

impl SettingsRow {
    pub fn bank(&self) -> Option<BankAccount> {
        Some(BankAccount {
            holder: self.bank_holder.clone()?,
            iban: self.bank_iban.clone()?,
            bic: self.bank_bic.clone()?,
        })
    }
}

/// A currency's minimum payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Minimum {
    pub currency: String,
    pub amount_minor: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

const WHOLE: &str =
    "holding_days, bank_holder, bank_iban, bank_bic, updated_at, updated_by, version";
const PLAIN: &str = "holding_days, NULL::text AS bank_holder, NULL::text AS bank_iban, \
     NULL::text AS bank_bic, updated_at, updated_by, version";

pub async fn get(conn: &mut PgConnection, whole: bool) -> sqlx::Result<SettingsRow> {
    let cols = if whole { WHOLE } else { PLAIN };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {cols} FROM marketplace_settings"
    )))
    .fetch_one(conn)
    .await
}

/// The row locked for a change (its "before").
pub async fn lock(conn: &mut PgConnection) -> sqlx::Result<SettingsRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WHOLE} FROM marketplace_settings FOR UPDATE"
    )))
    .fetch_one(conn)
    .await
}

pub async fn set_holding_days(
    conn: &mut PgConnection,
    days: i32,
    by: &str,
) -> sqlx::Result<SettingsRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE marketplace_settings SET holding_days = $1, updated_at = now(), updated_by = $2,
                version = version + 1
         RETURNING {WHOLE}"
    )))
    .bind(days)
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn set_bank(
    conn: &mut PgConnection,
    bank: Option<&BankAccount>,
    by: &str,
) -> sqlx::Result<SettingsRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE marketplace_settings SET bank_holder = $1, bank_iban = $2, bank_bic = $3,
                updated_at = now(), updated_by = $4, version = version + 1
         RETURNING {WHOLE}"
    )))
    .bind(bank.map(|b| &b.holder))
    .bind(bank.map(|b| &b.iban))
    .bind(bank.map(|b| &b.bic))
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn minimums(conn: &mut PgConnection) -> sqlx::Result<Vec<Minimum>> {
    sqlx::query_as(
        "SELECT currency, amount_minor, updated_at, updated_by FROM minimum_payouts
          ORDER BY currency",
    )
    .fetch_all(conn)
    .await
}

/// One currency's minimum, locked for a change.
pub async fn lock_minimum(
    conn: &mut PgConnection,
    currency: &str,
) -> sqlx::Result<Option<Minimum>> {
    sqlx::query_as(
        "SELECT currency, amount_minor, updated_at, updated_by FROM minimum_payouts
          WHERE currency = $1 FOR UPDATE",
    )
    .bind(currency)
    .fetch_optional(conn)
    .await
}

/// Sets (or, with `None`, removes) a currency's minimum.
pub async fn set_minimum(
    conn: &mut PgConnection,
    currency: &str,
    amount_minor: Option<i64>,
    by: &str,
) -> sqlx::Result<Option<Minimum>> {
    match amount_minor {
        Some(a) => sqlx::query_as(
            "INSERT INTO minimum_payouts (currency, amount_minor, updated_by) VALUES ($1, $2, $3)
             ON CONFLICT (currency) DO UPDATE SET amount_minor = EXCLUDED.amount_minor,
                    updated_at = now(), updated_by = EXCLUDED.updated_by
             RETURNING currency, amount_minor, updated_at, updated_by",
        )
        .bind(currency)
        .bind(a)
        .bind(by)
        .fetch_optional(conn)
        .await,
        None => {
            sqlx::query("DELETE FROM minimum_payouts WHERE currency = $1")
                .bind(currency)
                .execute(conn)
                .await?;
            Ok(None)
        }
    }
}
