//! Redemptions: recording, flags, the monitor's lists, the settlement query and the export.
//! The bulk import's staging (`import`), the monitor's lists (`lists`) and the export
//! (`export`) have files of their own; their items are re-exported here.

mod export;
mod import;
mod lists;

use crate::domain::{DealKind, FlagKind, OrderValue};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::{Decode, PgConnection, Postgres, Type};

pub use export::{
    EXPORT_COLUMNS, ExportFilter, ExportOf, cancel_backend, export_copy_statement, export_count,
    export_select, export_start,
};
pub use import::{
    StagedRedemption, add_counts, copy_staged, create_import_staging, insert_staged, staged_late,
    staged_over_cap, staged_repeats, write_staged,
};
pub use lists::{RedemptionRow, get_row, page_of_deal, page_of_member};

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Redemption {
    pub id: i64,
    pub deal_id: i64,
    pub member_id: i64,
    pub source: String,
    pub coupon_code: Option<String>,
    pub redeemed_at: DateTime<Utc>,
    /// What the member spent, in minor units of `currency`, when the platform reported it
    /// (both or neither).
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    /// Set, with the three fields after it, while the redemption is flagged.
    pub flag_kind: Option<FlagKind>,
    pub flag_note: Option<String>,
    pub flagged_by: Option<String>,
    pub flagged_at: Option<DateTime<Utc>>,
    /// Set, with who and why, once it is refunded (final).
    pub refunded_at: Option<DateTime<Utc>>,
    pub refunded_by: Option<String>,
    pub refund_reason: Option<String>,
}

impl Redemption {
    pub fn is_flagged(&self) -> bool {
        self.flag_kind.is_some()
    }

    /// The order value, when the platform reported one.
    pub fn value(&self) -> Option<OrderValue> {
        match (self.value_minor, &self.currency) {
            (Some(minor), Some(currency)) => Some(OrderValue {
                minor,
                currency: currency.clone(),
            }),
            _ => None,
        }
    }
}

impl Type<Postgres> for FlagKind {
    fn type_info() -> PgTypeInfo {
        <&str as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for FlagKind {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <&str as Decode<Postgres>>::decode(value)?;
        Ok(s.parse::<FlagKind>()?)
    }
}

macro_rules! cols {
    () => {
        "id, deal_id, member_id, source, coupon_code, redeemed_at, value_minor, currency, \
         flag_kind, flag_note, flagged_by, flagged_at, refunded_at, refunded_by, refund_reason"
    };
}

macro_rules! r_cols {
    () => {
        "r.id, r.deal_id, r.member_id, r.source, r.coupon_code, r.redeemed_at, r.value_minor, \
         r.currency, r.flag_kind, r.flag_note, r.flagged_by, r.flagged_at, r.refunded_at, \
         r.refunded_by, r.refund_reason"
    };
}

pub fn source_for(kind: DealKind) -> &'static str {
    match kind {
        DealKind::Coupon => "copy_code",
        DealKind::Link => "outbound_click",
    }
}

/// When the member first redeemed a one-per-member deal.
pub async fn one_per_member_at(
    conn: &mut PgConnection,
    deal_id: i64,
    member_id: i64,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "SELECT redeemed_at FROM redemptions WHERE deal_id = $1 AND member_id = $2 AND one_per_member",
    )
    .bind(deal_id)
    .bind(member_id)
    .fetch_optional(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    deal_id: i64,
    member_id: i64,
    kind: DealKind,
    coupon_code: Option<&str>,
    one_per_member: bool,
    value: Option<&OrderValue>,
) -> sqlx::Result<Redemption> {
    sqlx::query_as(concat!(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, one_per_member,
                                  value_minor, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
        cols!(),
        ""
    ))
    .bind(deal_id)
    .bind(member_id)
    .bind(source_for(kind))
    .bind(coupon_code)
    .bind(one_per_member)
    .bind(value.map(|v| v.minor))
    .bind(value.map(|v| v.currency.as_str()))
    .fetch_one(conn)
    .await
}

pub async fn bump_count(conn: &mut PgConnection, deal_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE deals SET redemption_count = redemption_count + 1 WHERE id = $1")
        .bind(deal_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Redemption>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM redemptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Reads and locks one redemption for a flag change.
pub async fn get_for_update(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Redemption>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM redemptions WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

// Flags ----------------------------------------------------------------------------------------

pub async fn set_flag(
    conn: &mut PgConnection,
    id: i64,
    kind: FlagKind,
    note: &str,
    by: &str,
) -> sqlx::Result<Redemption> {
    sqlx::query_as(concat!(
        "UPDATE redemptions
            SET flag_kind = $2, flag_note = $3, flagged_by = $4, flagged_at = now()
          WHERE id = $1
      RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(kind.as_str())
    .bind(note)
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn clear_flag(conn: &mut PgConnection, id: i64) -> sqlx::Result<Redemption> {
    sqlx::query_as(concat!(
        "UPDATE redemptions
            SET flag_kind = NULL, flag_note = NULL, flagged_by = NULL, flagged_at = NULL
          WHERE id = $1
      RETURNING ",
        cols!()
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Refunds it (once: the database refuses a second), dated by the database.
pub async fn set_refund(
    conn: &mut PgConnection,
    id: i64,
    reason: &str,
    by: &str,
) -> sqlx::Result<Redemption> {
    sqlx::query_as(concat!(
        "UPDATE redemptions SET refunded_at = now(), refunded_by = $3, refund_reason = $2
          WHERE id = $1
      RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(reason)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Where a source is counted: each line that charges, reverses or restores it, with its
/// statement's status and period (oldest first).
#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct Counted {
    pub settlement_id: i64,
    pub status: String,
    pub period_start: chrono::NaiveDate,
    pub frequency: String,
    pub partner_id: i64,
    pub currency: String,
    pub counts: String,
    pub amount_minor: i64,
}

/// The lines counting redemption `id` (`payout` false) or referral payout `id` (`payout`
/// true).
pub async fn counted(conn: &mut PgConnection, id: i64, payout: bool) -> sqlx::Result<Vec<Counted>> {
    // Each read through its own index (the source's unique key per kind).
    let which = if payout {
        "l.payout_id = $1 AND l.kind IN ('referral', 'adjustment')"
    } else {
        "l.redemption_id = $1 AND l.kind IN ('redemption', 'adjustment')"
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.id AS settlement_id, s.status, s.period_start, a.frequency, s.partner_id,
                s.currency, coalesce(l.counts, 'charge') AS counts, l.amount_minor
           FROM settlement_lines l
           JOIN settlements s ON s.id = l.settlement_id
           JOIN agreements a ON a.id = s.agreement_id
          WHERE {which}
          ORDER BY s.period_start, s.id"
    )))
    .bind(id)
    .fetch_all(conn)
    .await
}

/// The partner's statement whose period holds `at`: (id, status, period start, frequency).
pub async fn statement_at(
    conn: &mut PgConnection,
    partner_id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<(i64, String, chrono::NaiveDate, String)>> {
    sqlx::query_as(
        "SELECT s.id, s.status, s.period_start, a.frequency FROM settlements s
           JOIN agreements a ON a.id = s.agreement_id
          WHERE s.partner_id = $1 AND s.period_start <= ($2 AT TIME ZONE 'UTC')::date
            AND s.period_end > ($2 AT TIME ZONE 'UTC')::date
          ORDER BY s.period_start DESC LIMIT 1",
    )
    .bind(partner_id)
    .bind(at)
    .fetch_optional(conn)
    .await
}

/// The partner's earliest statement still in draft in `currency` whose period starts after
/// `after`: where an adjustment of a statement of `after`'s period lands.
pub async fn next_draft(
    conn: &mut PgConnection,
    partner_id: i64,
    currency: &str,
    after: chrono::NaiveDate,
) -> sqlx::Result<Option<(i64, chrono::NaiveDate, String)>> {
    sqlx::query_as(
        "SELECT s.id, s.period_start, a.frequency FROM settlements s
           JOIN agreements a ON a.id = s.agreement_id
          WHERE s.partner_id = $1 AND s.currency = $2 AND s.period_start > $3
            AND s.status = 'draft'
          ORDER BY s.period_start LIMIT 1",
    )
    .bind(partner_id)
    .bind(currency)
    .bind(after)
    .fetch_optional(conn)
    .await
}

// Settlement -----------------------------------------------------------------------------------

/// The redemptions that count for a partner's settlement of `[from, to)`: every redemption of
/// the partner's deals in that time, except the flagged ones (SPEC §1.5: excluded until
/// resolved). Oldest first.
pub async fn settleable(
    conn: &mut PgConnection,
    partner_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<Redemption>> {
    sqlx::query_as(concat!(
        "SELECT ",
        r_cols!(),
        " FROM redemptions r JOIN deals d ON d.id = r.deal_id
          WHERE d.partner_id = $1
            AND r.redeemed_at >= $2 AND r.redeemed_at < $3
            AND r.flag_kind IS NULL
          ORDER BY r.redeemed_at, r.id"
    ))
    .bind(partner_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}
