//! The Deals list: keyset pages in each sort order, filtered by state, partner, scope and
//! category, and by a text (title, coupon code or partner name), in one statement.
//!
//! With a text, the planner either reads deals in sort order until a page of matches is full
//! (quick for a common text spread evenly through that order, slow when the matches sit
//! together far down it: "free" sorted by title is 0.7 s at a million deals) or collects every
//! match through the trigram indexes and sorts them (quick for a rare text, a read of most of
//! the table for a common one). Trying both in bounded steps (collect up to N matches, else
//! walk M deals in order, else collect all) was measured with `cargo bench --bench deals` and
//! was slower: each step is planned on its own (2 to 3 ms each with the statistics of 0012),
//! and the last step, collecting a common text, costs more than the walk it replaces
//! (text p50 14.4 ms against 8.0, max 1.26 s against 0.70 s).

use super::partners::escape_like;
use crate::domain::{AudienceScope, DealKind, DealState};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

/// Columns the Deals list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DealSort {
    /// Newest first by default (`descending`).
    #[default]
    Created,
    Title,
    ValidUntil,
    State,
    Used,
}

impl DealSort {
    pub const ALL: [DealSort; 5] = [
        Self::Created,
        Self::Title,
        Self::ValidUntil,
        Self::State,
        Self::Used,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Title => "title",
            Self::ValidUntil => "ends",
            Self::State => "state",
            Self::Used => "used",
        }
    }

    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// The SQL sort expression (a fixed whitelist, never user text) and its type.
    fn expr(self) -> (&'static str, &'static str) {
        match self {
            Self::Created => ("d.id", "bigint"),
            Self::Title => ("lower(d.title)", "text"),
            Self::ValidUntil => ("d.valid_until", "timestamptz"),
            Self::State => ("d.state", "text"),
            Self::Used => ("d.redemption_count", "integer"),
        }
    }
}

/// What the Deals list shows: filters, sort and the keyset cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealFilter {
    pub state: Option<DealState>,
    pub partner_id: Option<i64>,
    pub scope: Option<AudienceScope>,
    pub category: Option<String>,
    /// Title, partner name or coupon code (case-insensitive substring).
    pub text: Option<String>,
    pub sort: DealSort,
    pub descending: bool,
    pub after: Option<(String, i64)>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct DealListRow {
    pub id: i64,
    pub partner_id: i64,
    pub partner_name: String,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub kind: DealKind,
    #[sqlx(try_from = "String")]
    pub audience_scope: AudienceScope,
    pub audience_scope_value: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub redemption_cap: Option<i32>,
    pub redemption_count: i32,
    #[sqlx(try_from = "String")]
    pub state: DealState,
    pub version: i32,
    /// The sort key as text, for the next page's cursor (not part of the row's JSON).
    #[serde(skip_serializing)]
    pub sort_key: String,
}

/// The statement [`list`] runs for `f`; its binds, in order: state, partner id, scope,
/// category, the `%text%` LIKE pattern, the cursor's sort key and id, the limit.
///
/// The page is chosen from `deals` alone and joined to its partners afterwards (every deal has
/// its partner, a foreign key, so the join drops no row), and the partner-name match is on
/// `deals.partner_id`, the partners whose name matches, rather than on the joined row. So the
/// planner may look a rare text up through the indexes (the trigram ones and, by the `= ANY`,
/// `deals_partner_idx`) instead of reading deals in sort order until a page is full. The `IN`
/// says the same as the `= ANY` but is checked against a hash: reading deals in sort order for
/// a common text, `= ANY` alone would compare each deal with every matching partner in turn
/// (1,666 of them for a common name word: 40 ms a page).
///
/// The cursor is "at or after the last row, but not the last row" rather than "after the last
/// row": the same rows, but the planner estimates a row comparison by its first column alone,
/// and "used < 0" or "state < 'active'" (none) is far from "used <= 0" (half of the deals).
/// Believing the rest of the list nearly empty, it would read it in sort order for a rare text.
pub fn list_sql(f: &DealFilter) -> String {
    let (key, ty) = f.sort.expr();
    let (cmp, dir) = if f.descending {
        ("<=", "DESC")
    } else {
        (">=", "ASC")
    };
    format!(
        "SELECT d.id, d.partner_id, p.display_name AS partner_name, d.title, d.kind, d.audience_scope,
                d.audience_scope_value, d.valid_from, d.valid_until, d.redemption_cap,
                d.redemption_count, d.state, d.version, d.sort_key
           FROM (SELECT d.id, d.partner_id, d.title, d.kind, d.audience_scope,
                        d.audience_scope_value, d.valid_from, d.valid_until, d.redemption_cap,
                        d.redemption_count, d.state, d.version, ({key})::text AS sort_key
                   FROM deals d
                  WHERE ($1::text IS NULL OR d.state = $1)
                    AND ($2::bigint IS NULL OR d.partner_id = $2)
                    AND ($3::text IS NULL OR d.audience_scope = $3)
                    AND ($4::text IS NULL OR d.categories @> ARRAY[$4::text])
                    AND ($5::text IS NULL OR lower(d.title) LIKE $5 OR lower(d.coupon_code) LIKE $5
                         OR (d.partner_id IN (SELECT n.id FROM partners n
                                               WHERE lower(n.display_name) LIKE $5)
                             AND d.partner_id = ANY (ARRAY(SELECT n.id FROM partners n
                                                            WHERE lower(n.display_name) LIKE $5))))
                    AND ($6::text IS NULL OR (({key}, d.id) {cmp} ($6::{ty}, $7)
                                              AND ({key}, d.id) <> ($6::{ty}, $7)))
                  ORDER BY {key} {dir}, d.id {dir}
                  LIMIT $8) d
           JOIN partners p ON p.id = d.partner_id
          ORDER BY {key} {dir}, d.id {dir}"
    )
}

/// The LIKE pattern [`list`] binds for the text filter (`None`: no text filter).
pub fn list_pattern(f: &DealFilter) -> Option<String> {
    f.text
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .map(|t| format!("%{}%", escape_like(&t)))
}

/// A page of at most `limit` deals for `f`.
pub async fn list(
    conn: &mut PgConnection,
    f: &DealFilter,
    limit: i64,
) -> sqlx::Result<Vec<DealListRow>> {
    let sql = list_sql(f);
    let pattern = list_pattern(f);
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(f.state.map(|s| s.as_str()))
        .bind(f.partner_id)
        .bind(f.scope.map(|s| s.as_str()))
        .bind(&f.category)
        .bind(pattern)
        .bind(f.after.as_ref().map(|a| a.0.clone()))
        .bind(f.after.as_ref().map(|a| a.1))
        .bind(limit)
        .fetch_all(conn)
        .await
}
