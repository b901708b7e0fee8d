//! The append-only payout ledger of a settlement: its entries, new ones, and those no later
//! entry reverses.

use super::Settlement;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: i64,
    pub partner_id: i64,
    pub settlement_id: Option<i64>,
    pub kind: String,
    pub currency: String,
    pub amount_minor: i64,
    pub reverses_id: Option<i64>,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    pub by_login: String,
}

const LEDGER_COLS: &str = "id, partner_id, settlement_id, kind, currency, amount_minor, \
     reverses_id, reference, note, at, by_login";

/// A new ledger entry of a settlement.
pub struct NewEntry<'a> {
    pub kind: &'a str,
    pub amount_minor: i64,
    pub reverses_id: Option<i64>,
    pub reference: Option<&'a str>,
    pub note: Option<&'a str>,
}

pub async fn add_entry(
    conn: &mut PgConnection,
    s: &Settlement,
    e: NewEntry<'_>,
    by: &str,
) -> sqlx::Result<LedgerEntry> {
    let sql = format!(
        "INSERT INTO payout_ledger (partner_id, settlement_id, kind, currency, amount_minor,
                reverses_id, reference, note, by_login)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {LEDGER_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(s.partner_id)
        .bind(s.id)
        .bind(e.kind)
        .bind(&s.currency)
        .bind(e.amount_minor)
        .bind(e.reverses_id)
        .bind(e.reference)
        .bind(e.note)
        .bind(by)
        .fetch_one(conn)
        .await
}

/// A settlement's ledger entries, oldest first.
pub async fn entries(
    conn: &mut PgConnection,
    settlement_id: i64,
) -> sqlx::Result<Vec<LedgerEntry>> {
    let sql =
        format!("SELECT {LEDGER_COLS} FROM payout_ledger WHERE settlement_id = $1 ORDER BY id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(settlement_id)
        .fetch_all(conn)
        .await
}

/// The settlement's entries of `kind` that no later entry reverses.
pub async fn unreversed(
    conn: &mut PgConnection,
    settlement_id: i64,
    kind: &str,
) -> sqlx::Result<Vec<LedgerEntry>> {
    let sql = format!(
        "SELECT {LEDGER_COLS} FROM payout_ledger e
          WHERE settlement_id = $1 AND kind = $2
            AND NOT EXISTS (SELECT 1 FROM payout_ledger r WHERE r.reverses_id = e.id)
          ORDER BY id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(settlement_id)
        .bind(kind)
        .fetch_all(conn)
        .await
}
