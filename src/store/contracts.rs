//! Contracts, their signatures and their benefits.

use crate::domain::contract::{BenefitStatus, ContractStatus};
use crate::domain::negotiation::{Benefit, Side};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq)]
pub struct Contract {
    pub id: i64,
    pub thread_id: i64,
    pub offer_id: i64,
    pub partner_id: i64,
    pub agreement_id: i64,
    pub deal_id: i64,
    pub snapshot: Value,
    pub snapshot_hash: String,
    #[sqlx(try_from = "String")]
    pub status: ContractStatus,
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

const CONTRACT_COLS: &str = "id, thread_id, offer_id, partner_id, agreement_id, deal_id, snapshot, snapshot_hash, \
     status, status_reason, created_at, created_by, updated_at, updated_by, version";

pub struct NewContract<'a> {
    pub thread_id: i64,
    pub offer_id: i64,
    pub partner_id: i64,
    pub agreement_id: i64,
    pub deal_id: i64,
    pub snapshot: &'a Value,
    pub snapshot_hash: &'a str,
}

pub async fn insert_contract(
    conn: &mut PgConnection,
    c: &NewContract<'_>,
    benefits: &[Benefit],
    by: &str,
) -> sqlx::Result<Contract> {
    let sql = format!(
        "INSERT INTO contracts (thread_id, offer_id, partner_id, agreement_id, deal_id, snapshot,
                snapshot_hash, created_by, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {CONTRACT_COLS}"
    );
    let contract: Contract = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(c.thread_id)
        .bind(c.offer_id)
        .bind(c.partner_id)
        .bind(c.agreement_id)
        .bind(c.deal_id)
        .bind(c.snapshot)
        .bind(c.snapshot_hash)
        .bind(by)
        .fetch_one(&mut *conn)
        .await?;
    let names: Vec<&str> = benefits.iter().map(|b| b.name.as_str()).collect();
    let dues: Vec<Option<NaiveDate>> = benefits.iter().map(|b| b.due).collect();
    sqlx::query(
        "INSERT INTO contract_benefits (contract_id, position, name, due_date, updated_by)
         SELECT $1, n.ord, n.name, n.due, $4
           FROM unnest($2::text[], $3::date[]) WITH ORDINALITY AS n(name, due, ord)",
    )
    .bind(contract.id)
    .bind(&names)
    .bind(&dues)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(contract)
}

async fn contract_where(
    conn: &mut PgConnection,
    cond: &str,
    id: i64,
    lock: bool,
) -> sqlx::Result<Option<Contract>> {
    let sql = format!(
        "SELECT {CONTRACT_COLS} FROM contracts WHERE {cond} = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn get_contract(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Contract>> {
    contract_where(conn, "id", id, false).await
}

pub async fn lock_contract(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Contract>> {
    contract_where(conn, "id", id, true).await
}

pub async fn contract_of_thread(
    conn: &mut PgConnection,
    thread_id: i64,
) -> sqlx::Result<Option<Contract>> {
    contract_where(conn, "thread_id", thread_id, false).await
}

pub async fn set_contract_status(
    conn: &mut PgConnection,
    id: i64,
    to: ContractStatus,
    reason: Option<&str>,
    by: &str,
) -> sqlx::Result<Contract> {
    let sql = format!(
        "UPDATE contracts SET status = $2, status_reason = coalesce($3, status_reason),
                updated_at = now(), updated_by = $4, version = version + 1
          WHERE id = $1 RETURNING {CONTRACT_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(to.as_str())
        .bind(reason)
        .bind(by)
        .fetch_one(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Signature {
    #[sqlx(try_from = "String")]
    pub side: Side,
    pub operator: String,
    pub signed_at: DateTime<Utc>,
}

/// Records a side's signature; `None` when that side had signed already.
pub async fn insert_signature(
    conn: &mut PgConnection,
    contract_id: i64,
    side: Side,
    operator: &str,
) -> sqlx::Result<Option<Signature>> {
    sqlx::query_as(
        "INSERT INTO contract_signatures (contract_id, side, operator) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING side, operator, signed_at",
    )
    .bind(contract_id)
    .bind(side.as_str())
    .bind(operator)
    .fetch_optional(conn)
    .await
}

pub async fn signatures(conn: &mut PgConnection, contract_id: i64) -> sqlx::Result<Vec<Signature>> {
    sqlx::query_as(
        "SELECT side, operator, signed_at FROM contract_signatures WHERE contract_id = $1
          ORDER BY signed_at, side",
    )
    .bind(contract_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct ContractBenefit {
    pub id: i64,
    pub contract_id: i64,
    pub position: i32,
    pub name: String,
    pub due_date: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    pub status: BenefitStatus,
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// When and by whom it was delivered: set by the database on the move (0027).
    pub delivered_at: Option<DateTime<Utc>>,
    pub delivered_by: Option<String>,
}

impl ContractBenefit {
    /// When and by whom a delivered benefit was delivered.
    pub fn delivery(&self) -> Option<(DateTime<Utc>, &str)> {
        Some((self.delivered_at?, self.delivered_by.as_deref()?))
    }

    /// Pending past its due date.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status == BenefitStatus::Pending && self.due_date.is_some_and(|d| d < today)
    }
}

const BENEFIT_COLS: &str = "id, contract_id, position, name, due_date, status, note, updated_at, \
     updated_by, delivered_at, delivered_by";

pub async fn benefits(
    conn: &mut PgConnection,
    contract_id: i64,
) -> sqlx::Result<Vec<ContractBenefit>> {
    let sql = format!(
        "SELECT {BENEFIT_COLS} FROM contract_benefits WHERE contract_id = $1 ORDER BY position"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(contract_id)
        .fetch_all(conn)
        .await
}

pub async fn lock_benefit(
    conn: &mut PgConnection,
    contract_id: i64,
    position: i32,
) -> sqlx::Result<Option<ContractBenefit>> {
    let sql = format!(
        "SELECT {BENEFIT_COLS} FROM contract_benefits WHERE contract_id = $1 AND position = $2 FOR UPDATE"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(contract_id)
        .bind(position)
        .fetch_optional(conn)
        .await
}

pub async fn set_benefit(
    conn: &mut PgConnection,
    id: i64,
    status: BenefitStatus,
    note: &str,
    by: &str,
) -> sqlx::Result<ContractBenefit> {
    let sql = format!(
        "UPDATE contract_benefits SET status = $2, note = $3, updated_at = now(), updated_by = $4
          WHERE id = $1 RETURNING {BENEFIT_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(status.as_str())
        .bind(note)
        .bind(by)
        .fetch_one(conn)
        .await
}
