//! Payout batches (migration 0030): the approved statements the marketplace owes, gathered
//! by currency; their items keep each partner's bank details as they stood. Paying a batch's
//! statements is `settlements::pay_batch`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Batch {
    pub id: i64,
    pub currency: String,
    pub status: String,
    pub statement_count: i32,
    pub total_minor: i64,
    pub changed_accounts: i32,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub paid_on: Option<NaiveDate>,
    pub payment_reference: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub paid_by: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

const BATCH_COLS: &str = "id, currency, status, statement_count, total_minor, changed_accounts, \
     note, created_at, created_by, paid_on, payment_reference, paid_at, paid_by, cancelled_at, \
     cancelled_by, updated_at, updated_by, version";

/// An approved statement the marketplace owes its partner, not in any batch, with what
/// decides whether it goes into one: the partner's payout details and minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Candidate {
    pub settlement_id: i64,
    pub partner_id: i64,
    pub partner_name: String,
    pub period_start: NaiveDate,
    pub frequency: String,
    /// What the marketplace owes: the opposite of the statement's net.
    pub owed_minor: i64,
    /// The partner's payout currency, when it has payout details.
    pub details_currency: Option<String>,
    pub holder: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub account_changed_at: Option<DateTime<Utc>>,
    /// The partner's minimum in this currency: its own, else the currency's, else 0.
    pub minimum_minor: i64,
    /// Whether that minimum is the partner's own.
    pub own_minimum: bool,
}

/// Every statement that could go into a batch of `currency`, by partner and period.
/// Reads bank details: finance and admin only.
pub async fn candidates(conn: &mut PgConnection, currency: &str) -> sqlx::Result<Vec<Candidate>> {
    sqlx::query_as(
        "SELECT s.id AS settlement_id, s.partner_id, p.display_name AS partner_name,
                s.period_start, a.frequency, -s.net_minor AS owed_minor,
                d.currency AS details_currency, d.holder, d.iban, d.bic,
                d.changed_at AS account_changed_at,
                coalesce(CASE WHEN d.currency = s.currency THEN d.minimum_minor END,
                         m.amount_minor, 0) AS minimum_minor,
                (d.currency = s.currency AND d.minimum_minor IS NOT NULL) IS TRUE AS own_minimum
           FROM settlements s
           JOIN partners p ON p.id = s.partner_id
           JOIN agreements a ON a.id = s.agreement_id
           LEFT JOIN partner_payout_details d ON d.partner_id = s.partner_id
           LEFT JOIN minimum_payouts m ON m.currency = s.currency
          WHERE s.status = 'approved' AND s.currency = $1 AND s.net_minor < 0
            AND NOT EXISTS (SELECT FROM payout_batch_items i
                             WHERE i.settlement_id = s.id AND NOT i.released)
          ORDER BY s.partner_id, s.period_start, s.id",
    )
    .bind(currency)
    .fetch_all(conn)
    .await
}

/// What a partner is owed and waits for, by currency: approved statements owed to it that
/// are in no batch — their sum, since when, and the minimum it waits for. Reads no bank
/// detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Waiting {
    pub currency: String,
    pub statements: i64,
    pub owed_minor: i64,
    pub since: NaiveDate,
    pub minimum_minor: i64,
}

impl Waiting {
    /// "8.00 EUR on 1 approved statement, carried since 2026-10 (minimum 25.00 EUR)", or
    /// "… not in a payout batch yet" when no minimum holds it back.
    pub fn text(&self) -> String {
        let fmt = |m| crate::domain::money::format_amount(m, &self.currency);
        let head = format!(
            "{} on {} approved statement{}",
            fmt(self.owed_minor),
            self.statements,
            if self.statements == 1 { "" } else { "s" }
        );
        if self.owed_minor < self.minimum_minor {
            format!(
                "{head}, carried since {} (minimum {})",
                self.since.format("%Y-%m"),
                fmt(self.minimum_minor)
            )
        } else {
            format!("{head}, not in a payout batch yet")
        }
    }
}

pub async fn waiting(conn: &mut PgConnection, partner_id: i64) -> sqlx::Result<Vec<Waiting>> {
    sqlx::query_as(
        "SELECT s.currency, count(*) AS statements, sum(-s.net_minor)::bigint AS owed_minor,
                min(s.period_start) AS since,
                coalesce(max(CASE WHEN d.currency = s.currency THEN d.minimum_minor END),
                         max(m.amount_minor), 0)::bigint AS minimum_minor
           FROM settlements s
           LEFT JOIN partner_payout_details d ON d.partner_id = s.partner_id
           LEFT JOIN minimum_payouts m ON m.currency = s.currency
          WHERE s.partner_id = $1 AND s.status = 'approved' AND s.net_minor < 0
            AND NOT EXISTS (SELECT FROM payout_batch_items i
                             WHERE i.settlement_id = s.id AND NOT i.released)
          GROUP BY s.currency ORDER BY s.currency",
    )
    .bind(partner_id)
    .fetch_all(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    currency: &str,
    note: Option<&str>,
    by: &str,
) -> sqlx::Result<Batch> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO payout_batches (currency, note, created_by, updated_by) VALUES ($1, $2, $3, $3)
         RETURNING {BATCH_COLS}"
    )))
    .bind(currency)
    .bind(note)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Puts the statements into the batch, in one statement (the database counts its totals).
pub async fn add_items(
    conn: &mut PgConnection,
    batch_id: i64,
    items: &[&Candidate],
) -> sqlx::Result<u64> {
    let col = |f: fn(&Candidate) -> String| items.iter().map(|c| f(c)).collect::<Vec<_>>();
    let settlements: Vec<i64> = items.iter().map(|c| c.settlement_id).collect();
    let partners: Vec<i64> = items.iter().map(|c| c.partner_id).collect();
    let amounts: Vec<i64> = items.iter().map(|c| c.owed_minor).collect();
    let changed: Vec<Option<DateTime<Utc>>> = items.iter().map(|c| c.account_changed_at).collect();
    let r = sqlx::query(
        "INSERT INTO payout_batch_items (batch_id, settlement_id, partner_id, amount_minor, holder,
                iban, bic, account_changed_at)
         SELECT $1, s, p, a, h, i, b, c
           FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
                       $7::text[], $8::timestamptz[]) AS x(s, p, a, h, i, b, c)",
    )
    .bind(batch_id)
    .bind(&settlements)
    .bind(&partners)
    .bind(&amounts)
    .bind(col(|c| c.holder.clone().unwrap_or_default()))
    .bind(col(|c| c.iban.clone().unwrap_or_default()))
    .bind(col(|c| c.bic.clone().unwrap_or_default()))
    .bind(&changed)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

pub async fn get(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Batch>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH_COLS} FROM payout_batches WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn lock(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Batch>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH_COLS} FROM payout_batches WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Batches, newest first, before the id `before`, optionally of one status.
pub async fn list(
    conn: &mut PgConnection,
    status: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<Batch>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH_COLS} FROM payout_batches
          WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR id < $2)
          ORDER BY id DESC LIMIT $3"
    )))
    .bind(status)
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// One statement of a batch, as its detail and its files show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Item {
    pub settlement_id: i64,
    pub partner_id: i64,
    pub partner_name: String,
    pub period_start: NaiveDate,
    pub frequency: String,
    pub amount_minor: i64,
    pub holder: Option<String>,
    pub iban: Option<String>,
    pub iban_masked: String,
    pub bic: Option<String>,
    pub account_changed_at: DateTime<Utc>,
}

fn items_sql(whole: bool) -> String {
    let bank = if whole {
        "i.holder, i.iban, i.bic"
    } else {
        "NULL::text AS holder, NULL::text AS iban, NULL::text AS bic"
    };
    format!(
        "SELECT i.settlement_id, i.partner_id, p.display_name AS partner_name, s.period_start,
                a.frequency, i.amount_minor, {bank}, i.iban_masked, i.account_changed_at
           FROM payout_batch_items i
           JOIN settlements s ON s.id = i.settlement_id
           JOIN agreements a ON a.id = s.agreement_id
           JOIN partners p ON p.id = i.partner_id
          WHERE i.batch_id = $1 AND i.settlement_id > $2
          ORDER BY i.settlement_id LIMIT $3"
    )
}

/// A page of a batch's statements after settlement `after`; `whole` reads the bank details
/// (finance and admin).
pub async fn items(
    conn: &mut PgConnection,
    batch_id: i64,
    whole: bool,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<Item>> {
    sqlx::query_as(sqlx::AssertSqlSafe(items_sql(whole)))
        .bind(batch_id)
        .bind(after)
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// Open: `open → paid`, with its reference and date, exactly once (one conditional
/// statement).
pub async fn mark_paid(
    conn: &mut PgConnection,
    id: i64,
    paid_on: NaiveDate,
    reference: &str,
    by: &str,
) -> sqlx::Result<Option<Batch>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE payout_batches SET status = 'paid', paid_on = $2, payment_reference = $3,
                paid_by = $4, updated_at = now(), updated_by = $4, version = version + 1
          WHERE id = $1 AND status = 'open'
         RETURNING {BATCH_COLS}"
    )))
    .bind(id)
    .bind(paid_on)
    .bind(reference)
    .bind(by)
    .fetch_optional(conn)
    .await
}

/// `open → cancelled` (the database frees its statements).
pub async fn cancel(conn: &mut PgConnection, id: i64, by: &str) -> sqlx::Result<Option<Batch>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE payout_batches SET status = 'cancelled', cancelled_by = $2, updated_at = now(),
                updated_by = $2, version = version + 1
          WHERE id = $1 AND status = 'open'
         RETURNING {BATCH_COLS}"
    )))
    .bind(id)
    .bind(by)
    .fetch_optional(conn)
    .await
}

/// The open batch a statement is in, if any.
pub async fn open_batch_of(
    conn: &mut PgConnection,
    settlement_id: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT i.batch_id FROM payout_batch_items i JOIN payout_batches b ON b.id = i.batch_id
          WHERE i.settlement_id = $1 AND NOT i.released AND b.status = 'open'",
    )
    .bind(settlement_id)
    .fetch_optional(conn)
    .await
}

/// The latest approval among a batch's statements (a payment is on or after it).
pub async fn last_approval(
    conn: &mut PgConnection,
    batch_id: i64,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "SELECT max(s.approved_at) FROM payout_batch_items i JOIN settlements s ON s.id = i.settlement_id
          WHERE i.batch_id = $1",
    )
    .bind(batch_id)
    .fetch_one(conn)
    .await
}

/// The first statement of a batch paid more than `max_minor` (SEPA's largest transfer).
pub async fn first_over(
    conn: &mut PgConnection,
    batch_id: i64,
    max_minor: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT settlement_id FROM payout_batch_items WHERE batch_id = $1 AND amount_minor > $2
          ORDER BY settlement_id LIMIT 1",
    )
    .bind(batch_id)
    .bind(max_minor)
    .fetch_optional(conn)
    .await
}
