//! Settlements: computing statements in bulk (one statement per agreement and period, every
//! line priced by the database in one pass), their status moves, the partner's tally, the
//! lines, and the append-only payout ledger.
//! Computing (`compute`), the status moves (`moves`) and the ledger (`ledger`) have files of
//! their own; their items are re-exported here.

use crate::domain::settlement::{ExceptionKind, LineKind, SettlementStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, QueryBuilder};

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Settlement {
    pub id: i64,
    pub agreement_id: i64,
    pub partner_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub currency: String,
    #[sqlx(try_from = "String")]
    pub status: SettlementStatus,
    pub line_count: i32,
    pub redemption_count: i32,
    pub exception_count: i32,
    pub commission_minor: i64,
    pub payouts_minor: i64,
    pub take_minor: i64,
    pub net_minor: i64,
    pub computed_at: DateTime<Utc>,
    pub computed_by: String,
    pub review_deadline: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub dispute_reason: Option<String>,
    pub paid_on: Option<NaiveDate>,
    pub payment_reference: Option<String>,
    pub tally_count: Option<i32>,
    pub tally_amount_minor: Option<i64>,
    pub tally_by: Option<String>,
    pub tally_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

/// A settlement as lists show it: with its partner's name and its agreement's terms.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct SettlementRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub settlement: Settlement,
    pub partner_name: String,
    pub agreement_version: i32,
    pub frequency: String,
    pub model: String,
    pub take_rate_bps: i32,
    /// The payout batch it is in (not cancelled), and that batch's status.
    pub batch_id: Option<i64>,
    pub batch_status: Option<String>,
    /// An approved statement owed to its partner that waits because the partner's waiting
    /// sum in its currency is below its minimum: since which period, the sum, the minimum.
    pub carried_since: Option<NaiveDate>,
    pub carried_minor: Option<i64>,
    pub minimum_minor: Option<i64>,
}

impl SettlementRow {
    /// "in open payout batch 3", "carried since 2026-10: 8.00 EUR owed of the 10.00 EUR
    /// minimum", or nothing.
    pub fn payout_text(&self) -> Option<String> {
        let cur = &self.settlement.currency;
        if let (Some(b), Some(st)) = (self.batch_id, &self.batch_status) {
            return Some(format!("in {st} payout batch {b}"));
        }
        let (since, owed, min) = (
            self.carried_since?,
            self.carried_minor?,
            self.minimum_minor?,
        );
        Some(format!(
            "carried since {}: {} owed of the {} minimum",
            since.format("%Y-%m"),
            crate::domain::money::format_amount(owed, cur),
            crate::domain::money::format_amount(min, cur)
        ))
    }

    /// The keyset cursor: (`period_start`, `id`), newest first.
    pub fn cursor(&self) -> (NaiveDate, i64) {
        (self.settlement.period_start, self.settlement.id)
    }
}

macro_rules! cols {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "agreement_id, ",
            $p,
            "partner_id, ",
            $p,
            "period_start, ",
            $p,
            "period_end, ",
            $p,
            "currency, ",
            $p,
            "status, ",
            $p,
            "line_count, ",
            $p,
            "redemption_count, ",
            $p,
            "exception_count, ",
            $p,
            "commission_minor, ",
            $p,
            "payouts_minor, ",
            $p,
            "take_minor, ",
            $p,
            "net_minor, ",
            $p,
            "computed_at, ",
            $p,
            "computed_by, ",
            $p,
            "review_deadline, ",
            $p,
            "review_note, ",
            $p,
            "approved_at, ",
            $p,
            "approved_by, ",
            $p,
            "dispute_reason, ",
            $p,
            "paid_on, ",
            $p,
            "payment_reference, ",
            $p,
            "tally_count, ",
            $p,
            "tally_amount_minor, ",
            $p,
            "tally_by, ",
            $p,
            "tally_at, ",
            $p,
            "updated_at, ",
            $p,
            "updated_by, ",
            $p,
            "version"
        )
    };
}

macro_rules! row_select {
    () => {
        concat!(
            "SELECT ",
            cols!("s."),
            ", p.display_name AS partner_name, a.version AS agreement_version, a.frequency, a.model,
               a.take_rate_bps, pb.batch_id, pb.batch_status, w.since AS carried_since,
               w.owed AS carried_minor, w.minimum AS minimum_minor
               FROM settlements s
               JOIN partners p ON p.id = s.partner_id
               JOIN agreements a ON a.id = s.agreement_id
               LEFT JOIN LATERAL (
                   SELECT i.batch_id, b.status AS batch_status
                     FROM payout_batch_items i JOIN payout_batches b ON b.id = i.batch_id
                    WHERE i.settlement_id = s.id AND NOT i.released) pb ON true
               LEFT JOIN LATERAL (
                   SELECT min(o.period_start) AS since, sum(-o.net_minor)::bigint AS owed,
                          coalesce(max(CASE WHEN d.currency = o.currency THEN d.minimum_minor END),
                                   max(m.amount_minor), 0)::bigint AS minimum
                     FROM settlements o
                     LEFT JOIN partner_payout_details d ON d.partner_id = o.partner_id
                     LEFT JOIN minimum_payouts m ON m.currency = o.currency
                    WHERE s.status = 'approved' AND s.net_minor < 0 AND pb.batch_id IS NULL
                      AND o.partner_id = s.partner_id AND o.currency = s.currency
                      AND o.status = 'approved' AND o.net_minor < 0
                      AND NOT EXISTS (SELECT FROM payout_batch_items x
                                       WHERE x.settlement_id = o.id AND NOT x.released)
                   HAVING sum(-o.net_minor) < coalesce(
                              max(CASE WHEN d.currency = o.currency THEN d.minimum_minor END),
                              max(m.amount_minor), 0)) w ON true"
        )
    };
}

// Declared after the column macros above, which they use.
mod batch;
mod compute;
mod ledger;
mod moves;

pub use batch::pay_batch;
pub use compute::{
    Held, held, lock_existing, of_agreements, open_drafts, sort_memory, write_lines,
};
pub use ledger::{LedgerEntry, NewEntry, add_entry, entries, unreversed};
pub use moves::{Update, apply};

/// One line of a statement.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Line {
    pub line_no: i32,
    #[sqlx(try_from = "String")]
    pub kind: LineKind,
    pub redemption_id: Option<i64>,
    /// The referral payout of a `referral` line (or of an exception about one).
    pub payout_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    pub rate_bps: Option<i32>,
    pub amount_minor: Option<i64>,
    #[sqlx(try_from = "Option<String>")]
    pub exception: OptException,
    /// An adjustment's kind (`reversal`, `restore`), the statement it comes from, and why.
    pub counts: Option<String>,
    pub origin_settlement_id: Option<i64>,
    pub reason: Option<String>,
}

/// An optional [`ExceptionKind`] read from a nullable text column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(transparent)]
pub struct OptException(pub Option<ExceptionKind>);

impl TryFrom<Option<String>> for OptException {
    type Error = String;
    fn try_from(v: Option<String>) -> Result<Self, String> {
        v.map(|s| s.parse()).transpose().map(OptException)
    }
}

// Reading --------------------------------------------------------------------------------------

pub async fn get(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<SettlementRow>> {
    sqlx::query_as(concat!(row_select!(), " WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn get_many(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<Vec<Settlement>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(""),
        " FROM settlements WHERE id = ANY($1) ORDER BY id"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Locks one settlement for a status move.
pub async fn lock(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Settlement>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(""),
        " FROM settlements WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// What a settlements list may be narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettlementFilter {
    pub status: Option<SettlementStatus>,
    pub partner_id: Option<i64>,
    /// A word of the partner's name (case-insensitive).
    pub partner_name: Option<String>,
    /// Statements whose period lies inside this range (`start`, `end` exclusive): a month,
    /// a quarter or a year means every statement of a period inside it.
    pub within: Option<(NaiveDate, NaiveDate)>,
    pub agreement_id: Option<i64>,
}

/// One page of settlements, newest period first; `before` is the last row's cursor.
pub async fn page(
    conn: &mut PgConnection,
    filter: &SettlementFilter,
    before: Option<(NaiveDate, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<SettlementRow>> {
    let mut q = QueryBuilder::new(concat!(row_select!(), " WHERE true"));
    push_filter(&mut q, filter);
    if let Some((d, id)) = before {
        q.push(" AND (s.period_start, s.id) < (")
            .push_bind(d)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY s.period_start DESC, s.id DESC LIMIT ")
        .push_bind(limit);
    q.build_query_as().fetch_all(conn).await
}

/// The filter's conditions, after a `WHERE true` over `settlements s JOIN partners p`.
fn push_filter(q: &mut QueryBuilder<sqlx::Postgres>, filter: &SettlementFilter) {
    if let Some(s) = filter.status {
        q.push(" AND s.status = ").push_bind(s.as_str());
    }
    if let Some(p) = filter.partner_id {
        q.push(" AND s.partner_id = ").push_bind(p);
    }
    if let Some(n) = &filter.partner_name {
        q.push(" AND p.display_name ILIKE ")
            .push_bind(format!("%{}%", n.replace(['%', '_', '\\'], "")));
    }
    if let Some((start, end)) = filter.within {
        q.push(" AND s.period_start >= ")
            .push_bind(start)
            .push(" AND s.period_end <= ")
            .push_bind(end);
    }
    if let Some(a) = filter.agreement_id {
        q.push(" AND s.agreement_id = ").push_bind(a);
    }
}

/// Every settlement the filter selects, as (id, version) in id order, without a limit: the
/// rows a bulk move (`settle approve --period … --status …`) goes through.
pub async fn ids_matching(
    conn: &mut PgConnection,
    filter: &SettlementFilter,
) -> sqlx::Result<Vec<(i64, i32)>> {
    let mut q = QueryBuilder::new(
        "SELECT s.id, s.version FROM settlements s JOIN partners p ON p.id = s.partner_id \
         WHERE true",
    );
    push_filter(&mut q, filter);
    q.push(" ORDER BY s.id");
    q.build_query_as().fetch_all(conn).await
}

/// One page of a statement's lines after `after` (a line number), optionally exceptions only.
pub async fn lines(
    conn: &mut PgConnection,
    settlement_id: i64,
    after: Option<i32>,
    exceptions_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<Line>> {
    sqlx::query_as(
        "SELECT line_no, kind, redemption_id, payout_id, at, value_minor, currency, rate_bps,
                amount_minor, exception, counts, origin_settlement_id, reason
           FROM settlement_lines
          WHERE settlement_id = $1 AND line_no > $2 AND ($3 = false OR kind = 'exception')
          ORDER BY line_no LIMIT $4",
    )
    .bind(settlement_id)
    .bind(after.unwrap_or(0))
    .bind(exceptions_only)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Every line of a statement, streamed in order (for exports and `--json`).
pub fn stream_lines(
    conn: &mut PgConnection,
    settlement_id: i64,
) -> futures::stream::BoxStream<'_, sqlx::Result<Line>> {
    sqlx::query_as(
        "SELECT line_no, kind, redemption_id, payout_id, at, value_minor, currency, rate_bps,
                amount_minor, exception, counts, origin_settlement_id, reason
           FROM settlement_lines WHERE settlement_id = $1 ORDER BY line_no",
    )
    .bind(settlement_id)
    .fetch(conn)
}

/// The partner's commission by period (newest first), at most `limit` periods.
pub async fn history(
    conn: &mut PgConnection,
    partner_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<(NaiveDate, String, i64)>> {
    sqlx::query_as(
        "SELECT period_start, currency, sum(commission_minor)::bigint
           FROM settlements WHERE partner_id = $1
          GROUP BY period_start, currency
          ORDER BY period_start DESC LIMIT $2",
    )
    .bind(partner_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The end of the partner's last settlement past draft that ends after `day`: a new
/// agreement version may start there at the earliest (every settlement past draft before it
/// keeps the version it was reviewed under).
pub async fn settled_until(
    conn: &mut PgConnection,
    partner_id: i64,
    day: NaiveDate,
) -> sqlx::Result<Option<NaiveDate>> {
    sqlx::query_scalar(
        "SELECT max(period_end) FROM settlements WHERE partner_id = $1 AND period_end > $2
            AND status IN ('in_review', 'approved', 'paid')",
    )
    .bind(partner_id)
    .bind(day)
    .fetch_one(conn)
    .await
}

/// Later settlements of a partner that are past draft from `day` on (a new agreement version
/// may not start under them).
pub async fn settled_from(
    conn: &mut PgConnection,
    partner_id: i64,
    day: NaiveDate,
) -> sqlx::Result<Option<Settlement>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(""),
        " FROM settlements WHERE partner_id = $1 AND period_end > $2
            AND status IN ('in_review', 'approved', 'paid')
          ORDER BY period_start LIMIT 1"
    ))
    .bind(partner_id)
    .bind(day)
    .fetch_optional(conn)
    .await
}
