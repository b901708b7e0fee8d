//! The monitor's lists of redemptions: each row with its deal's title and its member's
//! handle, one at a time or a page of a deal's or a member's, newest first.

use crate::domain::FlagKind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// A redemption as the monitor lists it: with its deal's title and its member's handle.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct RedemptionRow {
    pub id: i64,
    pub deal_id: i64,
    pub deal_title: String,
    pub member_id: i64,
    pub member_handle: String,
    pub source: String,
    pub coupon_code: Option<String>,
    pub redeemed_at: DateTime<Utc>,
    /// The order value the platform reported, in minor units of `currency` (both or neither).
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    pub flag_kind: Option<FlagKind>,
    pub flag_note: Option<String>,
    pub flagged_by: Option<String>,
    pub flagged_at: Option<DateTime<Utc>>,
    pub refunded_at: Option<DateTime<Utc>>,
    pub refunded_by: Option<String>,
    pub refund_reason: Option<String>,
}

impl RedemptionRow {
    /// The keyset cursor of this row: pass the last row's as `before` for the next page.
    pub fn cursor(&self) -> (DateTime<Utc>, i64) {
        (self.redeemed_at, self.id)
    }

    /// The order value as people read it (`12.50 EUR`), or `—` when none was reported.
    pub fn value_text(&self) -> String {
        match (self.value_minor, &self.currency) {
            (Some(m), Some(c)) => crate::domain::money::format_amount(m, c),
            _ => "—".into(),
        }
    }

    pub fn is_flagged(&self) -> bool {
        self.flag_kind.is_some()
    }
}

const ROW_SELECT: &str = "SELECT r.id, r.deal_id, d.title AS deal_title, r.member_id, \
    m.handle AS member_handle, r.source, r.coupon_code, r.redeemed_at, r.value_minor, r.currency, r.flag_kind, \
    r.flag_note, \
    r.flagged_by, r.flagged_at, r.refunded_at, r.refunded_by, r.refund_reason \
    FROM redemptions r JOIN deals d ON d.id = r.deal_id JOIN members m ON m.id = r.member_id \
    WHERE ";

/// `redeemed_at` in `[from, to)`, either end open when `None`.
fn range(q: &mut QueryBuilder<Postgres>, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) {
    if let Some(from) = from {
        q.push(" AND r.redeemed_at >= ").push_bind(from);
    }
    if let Some(to) = to {
        q.push(" AND r.redeemed_at < ").push_bind(to);
    }
}

/// Newest first, strictly older than `before` (the last row of the previous page).
fn page_tail(q: &mut QueryBuilder<Postgres>, before: Option<(DateTime<Utc>, i64)>, limit: i64) {
    if let Some((at, id)) = before {
        q.push(" AND (r.redeemed_at, r.id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY r.redeemed_at DESC, r.id DESC LIMIT ")
        .push_bind(limit);
}

/// One redemption as the monitor lists it (a settlement line's redemption, opened).
pub async fn get_row(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<RedemptionRow>> {
    let mut q = QueryBuilder::<Postgres>::new(ROW_SELECT);
    q.push("r.id = ").push_bind(id);
    q.build_query_as().fetch_optional(conn).await
}

/// One page of a deal's redemptions in `[from, to)` (either end open when `None`), newest
/// first. The conditions are only those given, so each shape of the query has its own plan
/// on the `(deal_id, redeemed_at DESC, id DESC)` index.
pub async fn page_of_deal(
    conn: &mut PgConnection,
    deal_id: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    before: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<RedemptionRow>> {
    let mut q = QueryBuilder::<Postgres>::new(ROW_SELECT);
    q.push("r.deal_id = ").push_bind(deal_id);
    range(&mut q, from, to);
    page_tail(&mut q, before, limit);
    q.build_query_as().fetch_all(conn).await
}

/// One page of a member's redemptions across every deal in `[from, to)`, newest first.
pub async fn page_of_member(
    conn: &mut PgConnection,
    member_id: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    before: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<RedemptionRow>> {
    let mut q = QueryBuilder::<Postgres>::new(ROW_SELECT);
    q.push("r.member_id = ").push_bind(member_id);
    range(&mut q, from, to);
    page_tail(&mut q, before, limit);
    q.build_query_as().fetch_all(conn).await
}
