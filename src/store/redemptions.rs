//! Redemptions.

use crate::domain::DealKind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Redemption {
    pub id: i64,
    pub deal_id: i64,
    pub member_id: i64,
    pub source: String,
    pub coupon_code: Option<String>,
    pub redeemed_at: DateTime<Utc>,
}

macro_rules! cols {
    () => {
        "id, deal_id, member_id, source, coupon_code, redeemed_at"
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
) -> sqlx::Result<Redemption> {
    sqlx::query_as(concat!(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, one_per_member)
         VALUES ($1, $2, $3, $4, $5) RETURNING ",
        cols!(),
        ""
    ))
    .bind(deal_id)
    .bind(member_id)
    .bind(source_for(kind))
    .bind(coupon_code)
    .bind(one_per_member)
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

pub async fn of_deal(
    conn: &mut PgConnection,
    deal_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<Redemption>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM redemptions WHERE deal_id = $1 ORDER BY redeemed_at DESC, id DESC LIMIT $2"
    ))
    .bind(deal_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}
