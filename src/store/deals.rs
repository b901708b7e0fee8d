//! Deals, their coupon-code history and their member-search documents.

use crate::domain::{AudienceScope, DealDraft, DealKind, DealState, ValidDeal};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Deal {
    pub id: i64,
    pub partner_id: i64,
    pub title: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub kind: DealKind,
    pub coupon_code: Option<String>,
    pub redemption_url: Option<String>,
    pub categories: Vec<String>,
    #[sqlx(try_from = "String")]
    pub audience_scope: AudienceScope,
    pub audience_scope_value: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub redemption_cap: Option<i32>,
    pub redemption_count: i32,
    #[sqlx(try_from = "String")]
    pub state: DealState,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

impl Deal {
    /// The deal as an operator would type it again: the draft an edit starts from (the state
    /// is left out: it changes only through activate, pause and expire).
    pub fn draft(&self) -> DealDraft {
        DealDraft {
            partner_id: Some(self.partner_id),
            title: self.title.clone(),
            description: self.description.clone(),
            kind: self.kind.as_str().to_owned(),
            coupon_code: self.coupon_code.clone(),
            redemption_url: self.redemption_url.clone(),
            categories: self.categories.clone(),
            audience_scope: self.audience_scope.as_str().to_owned(),
            audience_scope_value: self.audience_scope_value.clone(),
            valid_from: Some(self.valid_from),
            valid_until: Some(self.valid_until),
            redemption_cap: self.redemption_cap.map(i64::from),
            state: None,
        }
    }
}

macro_rules! cols {
    () => {
        "id, partner_id, title, description, kind, coupon_code, redemption_url, \
    categories, audience_scope, audience_scope_value, valid_from, valid_until, redemption_cap, \
    redemption_count, state, published_at, created_at, created_by, updated_at, updated_by, version"
    };
}

pub async fn get(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Deal>> {
    sqlx::query_as(concat!("SELECT ", cols!(), " FROM deals WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn get_for_update(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Deal>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM deals WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The deals among `ids` that exist, in id order, not locked (a bulk check reads them first,
/// then locks them with [`get_many_for_update`]).
pub async fn get_many(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<Vec<Deal>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM deals WHERE id = ANY($1) ORDER BY id"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Reads and locks the deals among `ids`, in id order: the order in which every statement
/// that locks several deals takes them, so that two of them never wait for each other. The
/// lock is the one [`get_for_update`] takes for a single redemption.
pub async fn get_many_for_update(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<Vec<Deal>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM deals WHERE id = ANY($1) ORDER BY id FOR UPDATE"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Takes `n` ids from the deals' sequence, in ascending order, for [`insert`].
pub async fn reserve_ids(conn: &mut PgConnection, n: usize) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('deals', 'id')) AS id
           FROM generate_series(1, $1) ORDER BY id",
    )
    .bind(i64::try_from(n).unwrap_or(i64::MAX))
    .fetch_all(conn)
    .await
}

/// Writes new deals with the given ids (from [`reserve_ids`]) in one statement, so that the
/// partners' deal counts (a statement trigger) move once per partner, not once per deal.
/// Returns the deals in the order given.
pub async fn insert(
    conn: &mut PgConnection,
    ids: &[i64],
    deals: &[&ValidDeal],
    by: &str,
) -> sqlx::Result<Vec<Deal>> {
    let text = |f: fn(&ValidDeal) -> &str| deals.iter().map(|d| f(d)).collect::<Vec<_>>();
    let maybe = |f: fn(&ValidDeal) -> Option<&str>| deals.iter().map(|d| f(d)).collect::<Vec<_>>();
    // An array of arrays must be rectangular: each deal's categories go as one JSON array.
    let categories: Vec<serde_json::Value> = deals
        .iter()
        .map(|d| serde_json::Value::from(d.categories.as_slice()))
        .collect();
    let mut written: Vec<Deal> = sqlx::query_as(concat!(
        "INSERT INTO deals (id, partner_id, title, description, kind, coupon_code, redemption_url,
                            categories, audience_scope, audience_scope_value, valid_from,
                            valid_until, redemption_cap, state, published_at, created_by, updated_by)
         SELECT r.id, r.partner_id, r.title, r.description, r.kind, r.coupon_code,
                r.redemption_url, ARRAY(SELECT jsonb_array_elements_text(r.categories)),
                r.audience_scope, r.audience_scope_value, r.valid_from, r.valid_until,
                r.redemption_cap, r.state, CASE WHEN r.state = 'active' THEN now() END, $15, $15
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                       $6::text[], $7::text[], $8::jsonb[], $9::text[], $10::text[],
                       $11::timestamptz[], $12::timestamptz[], $13::integer[], $14::text[])
                AS r(id, partner_id, title, description, kind, coupon_code, redemption_url,
                     categories, audience_scope, audience_scope_value, valid_from, valid_until,
                     redemption_cap, state)
          ORDER BY r.id
         RETURNING ",
        cols!(),
        ""
    ))
    .bind(ids)
    .bind(deals.iter().map(|d| d.partner_id).collect::<Vec<_>>())
    .bind(text(|d| &d.title))
    .bind(text(|d| &d.description))
    .bind(text(|d| d.kind.as_str()))
    .bind(maybe(|d| d.coupon_code.as_deref()))
    .bind(maybe(|d| d.redemption_url.as_deref()))
    .bind(categories)
    .bind(text(|d| d.audience_scope.as_str()))
    .bind(maybe(|d| d.audience_scope_value.as_deref()))
    .bind(deals.iter().map(|d| d.valid_from).collect::<Vec<_>>())
    .bind(deals.iter().map(|d| d.valid_until).collect::<Vec<_>>())
    .bind(deals.iter().map(|d| d.redemption_cap).collect::<Vec<_>>())
    .bind(text(|d| d.state.as_str()))
    .bind(by)
    .fetch_all(conn)
    .await?;
    // RETURNING follows the insert; sorting by id restores the order given whatever it is.
    written.sort_by_key(|d| d.id);
    Ok(written)
}

/// Writes every editable field (not the state).
pub async fn update(
    conn: &mut PgConnection,
    id: i64,
    d: &ValidDeal,
    by: &str,
) -> sqlx::Result<Deal> {
    sqlx::query_as(concat!("UPDATE deals SET partner_id = $2, title = $3, description = $4, kind = $5, coupon_code = $6,
                redemption_url = $7, categories = $8, audience_scope = $9, audience_scope_value = $10,
                valid_from = $11, valid_until = $12, redemption_cap = $13,
                updated_by = $14, updated_at = now(), version = version + 1
          WHERE id = $1 RETURNING ", cols!(), ""))
    .bind(id)
    .bind(d.partner_id)
    .bind(&d.title)
    .bind(&d.description)
    .bind(d.kind.as_str())
    .bind(&d.coupon_code)
    .bind(&d.redemption_url)
    .bind(&d.categories)
    .bind(d.audience_scope.as_str())
    .bind(&d.audience_scope_value)
    .bind(d.valid_from)
    .bind(d.valid_until)
    .bind(d.redemption_cap)
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn set_state(
    conn: &mut PgConnection,
    id: i64,
    to: DealState,
    by: &str,
) -> sqlx::Result<Deal> {
    sqlx::query_as(concat!("UPDATE deals SET state = $2,
                published_at = CASE WHEN $2 = 'active' THEN coalesce(published_at, now()) ELSE published_at END,
                updated_by = $3, updated_at = now(), version = version + 1
          WHERE id = $1 RETURNING ", cols!(), ""))
    .bind(id)
    .bind(to.as_str())
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Active deals of a partner, locked.
pub async fn active_of_partner_for_update(
    conn: &mut PgConnection,
    partner_id: i64,
) -> sqlx::Result<Vec<Deal>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM deals WHERE partner_id = $1 AND state = 'active' ORDER BY id FOR UPDATE"
    ))
    .bind(partner_id)
    .fetch_all(conn)
    .await
}

/// Active deals whose window has closed, locked; rows another job holds are skipped.
pub async fn due_for_expiry(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Deal>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM deals WHERE state = 'active' AND valid_until <= $1
          ORDER BY valid_until, id LIMIT $2 FOR UPDATE SKIP LOCKED"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

// Coupon codes --------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct CouponCodeChange {
    pub code: String,
    pub set_at: DateTime<Utc>,
    pub set_by: String,
}

pub async fn record_code(
    conn: &mut PgConnection,
    deal_id: i64,
    code: &str,
    by: &str,
) -> sqlx::Result<()> {
    record_codes(conn, &[deal_id], &[code], by).await
}

/// Records a code for each deal, in one statement, in the order given.
pub async fn record_codes(
    conn: &mut PgConnection,
    deal_ids: &[i64],
    codes: &[&str],
    by: &str,
) -> sqlx::Result<()> {
    if deal_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO deal_coupon_codes (deal_id, code, set_by)
         SELECT r.deal_id, r.code, $3
           FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS r(deal_id, code, n)
          ORDER BY r.n",
    )
    .bind(deal_ids)
    .bind(codes)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn code_history(
    conn: &mut PgConnection,
    deal_id: i64,
) -> sqlx::Result<Vec<CouponCodeChange>> {
    sqlx::query_as(
        "SELECT code, set_at, set_by FROM deal_coupon_codes WHERE deal_id = $1 ORDER BY id",
    )
    .bind(deal_id)
    .fetch_all(conn)
    .await
}

/// Every coupon code of these deals, as `(deal_id, code, set_at)`, each deal's in the order
/// they were set.
pub async fn code_histories(
    conn: &mut PgConnection,
    deal_ids: &[i64],
) -> sqlx::Result<Vec<(i64, String, DateTime<Utc>)>> {
    if deal_ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT deal_id, code, set_at FROM deal_coupon_codes WHERE deal_id = ANY($1)
          ORDER BY deal_id, id",
    )
    .bind(deal_ids)
    .fetch_all(conn)
    .await
}

// Member search -------------------------------------------------------------------------------

/// Adds or refreshes the search document of a deal (called only while it is active).
pub async fn index_for_search(conn: &mut PgConnection, deal_id: i64) -> sqlx::Result<()> {
    index_many_for_search(conn, &[deal_id]).await
}

/// [`index_for_search`] for many deals in one statement.
pub async fn index_many_for_search(conn: &mut PgConnection, deal_ids: &[i64]) -> sqlx::Result<()> {
    if deal_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO deal_search_documents (deal_id, audience_scope, audience_scope_value, document)
         SELECT d.id, d.audience_scope, d.audience_scope_value,
                setweight(to_tsvector('english', d.title), 'A')
                || setweight(to_tsvector('english', p.display_name), 'B')
                || setweight(to_tsvector('english', array_to_string(d.categories, ' ')), 'B')
                || setweight(to_tsvector('english', d.description), 'C')
           FROM deals d JOIN partners p ON p.id = d.partner_id
          WHERE d.id = ANY($1)
          ORDER BY d.id
         ON CONFLICT (deal_id) DO UPDATE
            SET audience_scope = EXCLUDED.audience_scope,
                audience_scope_value = EXCLUDED.audience_scope_value,
                document = EXCLUDED.document,
                indexed_at = now()",
    )
    .bind(deal_ids)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_from_search(conn: &mut PgConnection, deal_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM deal_search_documents WHERE deal_id = $1")
        .bind(deal_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Is the deal in the search index?
pub async fn is_indexed(conn: &mut PgConnection, deal_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deal_search_documents WHERE deal_id = $1)")
        .bind(deal_id)
        .fetch_one(conn)
        .await
}

/// A deal's redemption rows and its `redemption_count`, read together (`None`: no such deal).
pub async fn redemption_tally(
    conn: &mut PgConnection,
    deal_id: i64,
) -> sqlx::Result<Option<(i64, i32)>> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM redemptions r WHERE r.deal_id = d.id), d.redemption_count
           FROM deals d WHERE d.id = $1",
    )
    .bind(deal_id)
    .fetch_optional(conn)
    .await
}
