//! A partner's payout details (`partner_payout_details`, migration 0029): read whole (finance
//! and admin), read masked (everyone), written whole.

use crate::domain::payout::PayoutDetails;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

/// Payout details as the reader may see them: the holder, IBAN and BIC only when read whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PayoutRow {
    pub partner_id: i64,
    pub holder: Option<String>,
    pub iban: Option<String>,
    pub iban_masked: String,
    pub bic: Option<String>,
    pub currency: String,
    /// The partner's own minimum payout in `currency` (else the currency's applies).
    pub minimum_minor: Option<i64>,
    pub changed_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

impl PayoutRow {
    /// The row as the audit log keeps it: the IBAN masked, no holder, no BIC.
    pub fn masked(&self) -> serde_json::Value {
        serde_json::json!({
            "partner_id": self.partner_id,
            "iban": self.iban_masked,
            "currency": self.currency,
            "minimum_minor": self.minimum_minor,
            "changed_at": self.changed_at,
        })
    }
}

const WHOLE: &str = "partner_id, holder, iban, iban_masked, bic, currency, minimum_minor, \
     changed_at, updated_by, version";
const MASKED: &str = "partner_id, NULL::text AS holder, NULL::text AS iban, iban_masked, \
     NULL::text AS bic, currency, minimum_minor, changed_at, updated_by, version";

/// The partner's details; `whole` reads the columns only finance and admin may read.
pub async fn get(
    conn: &mut PgConnection,
    partner_id: i64,
    whole: bool,
) -> sqlx::Result<Option<PayoutRow>> {
    let cols = if whole { WHOLE } else { MASKED };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {cols} FROM partner_payout_details WHERE partner_id = $1"
    )))
    .bind(partner_id)
    .fetch_optional(conn)
    .await
}

/// The partner's details, whole, locked for a change.
pub async fn lock(conn: &mut PgConnection, partner_id: i64) -> sqlx::Result<Option<PayoutRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WHOLE} FROM partner_payout_details WHERE partner_id = $1 FOR UPDATE"
    )))
    .bind(partner_id)
    .fetch_optional(conn)
    .await
}

/// Sets the partner's details (a new row, or the row changed and its version moved on).
pub async fn set(
    conn: &mut PgConnection,
    partner_id: i64,
    d: &PayoutDetails,
    by: &str,
) -> sqlx::Result<PayoutRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO partner_payout_details (partner_id, holder, iban, bic, currency, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (partner_id) DO UPDATE SET holder = EXCLUDED.holder, iban = EXCLUDED.iban,
                bic = EXCLUDED.bic, currency = EXCLUDED.currency,
                updated_by = EXCLUDED.updated_by,
                version = partner_payout_details.version + 1
         RETURNING {WHOLE}"
    )))
    .bind(partner_id)
    .bind(&d.holder)
    .bind(&d.iban)
    .bind(&d.bic)
    .bind(&d.currency)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Sets (or clears) the partner's own minimum payout; `None` when it has no payout details.
pub async fn set_minimum(
    conn: &mut PgConnection,
    partner_id: i64,
    minimum_minor: Option<i64>,
    by: &str,
) -> sqlx::Result<Option<PayoutRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE partner_payout_details SET minimum_minor = $2, updated_by = $3,
                version = version + 1
          WHERE partner_id = $1
         RETURNING {WHOLE}"
    )))
    .bind(partner_id)
    .bind(minimum_minor)
    .bind(by)
    .fetch_optional(conn)
    .await
}
