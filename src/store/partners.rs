//! Partners.

use crate::domain::{PartnerDraft, ValidPartner, VerificationState};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Partner {
    pub id: i64,
    pub legal_name: String,
    pub display_name: String,
    pub logo_url: Option<String>,
    pub website_url: Option<String>,
    pub domain: Option<String>,
    pub contact_email: Option<String>,
    pub categories: Vec<String>,
    pub region: Option<String>,
    pub notes: Option<String>,
    #[sqlx(try_from = "String")]
    pub verification: VerificationState,
    pub vetted_by: Option<String>,
    pub vetted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

impl Partner {
    /// The partner as an operator would type it again: the draft an edit starts from.
    pub fn draft(&self) -> PartnerDraft {
        PartnerDraft {
            legal_name: self.legal_name.clone(),
            display_name: self.display_name.clone(),
            logo_url: self.logo_url.clone(),
            website_url: self.website_url.clone(),
            contact_email: self.contact_email.clone(),
            categories: self.categories.clone(),
            region: self.region.clone(),
            notes: self.notes.clone(),
        }
    }
}

macro_rules! cols {
    () => {
        "id, legal_name, display_name, logo_url, website_url, domain, contact_email, \
    categories, region, notes, verification, vetted_by, vetted_at, created_at, created_by, \
    updated_at, updated_by, version"
    };
}

pub async fn get(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Partner>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM partners WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Locks the row for the rest of the transaction.
pub async fn get_for_update(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Partner>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM partners WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A lock that lets others read but not change the partner (used while creating its deals).
pub async fn get_for_share(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Partner>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM partners WHERE id = $1 AND deleted_at IS NULL FOR SHARE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The live partner that owns a normalized domain, other than `except`.
pub async fn find_by_domain(
    conn: &mut PgConnection,
    domain: &str,
    except: Option<i64>,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, display_name FROM partners
          WHERE domain = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR id <> $2)",
    )
    .bind(domain)
    .bind(except)
    .fetch_optional(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, p: &ValidPartner, by: &str) -> sqlx::Result<Partner> {
    sqlx::query_as(concat!("INSERT INTO partners (legal_name, display_name, logo_url, website_url, domain, contact_email,
                               categories, region, notes, created_by, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING ", cols!(), ""))
    .bind(&p.legal_name)
    .bind(&p.display_name)
    .bind(&p.logo_url)
    .bind(&p.website_url)
    .bind(&p.domain)
    .bind(&p.contact_email)
    .bind(&p.categories)
    .bind(&p.region)
    .bind(&p.notes)
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn update(
    conn: &mut PgConnection,
    id: i64,
    p: &ValidPartner,
    by: &str,
) -> sqlx::Result<Partner> {
    sqlx::query_as(concat!(
        "UPDATE partners SET legal_name = $2, display_name = $3, logo_url = $4, website_url = $5,
                domain = $6, contact_email = $7, categories = $8, region = $9, notes = $10,
                updated_by = $11, updated_at = now(), version = version + 1
          WHERE id = $1 RETURNING ",
        cols!(),
        ""
    ))
    .bind(id)
    .bind(&p.legal_name)
    .bind(&p.display_name)
    .bind(&p.logo_url)
    .bind(&p.website_url)
    .bind(&p.domain)
    .bind(&p.contact_email)
    .bind(&p.categories)
    .bind(&p.region)
    .bind(&p.notes)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Moves the verification state; `verified` records who and when.
pub async fn set_verification(
    conn: &mut PgConnection,
    id: i64,
    to: VerificationState,
    by: &str,
) -> sqlx::Result<Partner> {
    sqlx::query_as(concat!(
        "UPDATE partners SET verification = $2,
                vetted_by = CASE WHEN $2 = 'verified' THEN $3 ELSE vetted_by END,
                vetted_at = CASE WHEN $2 = 'verified' THEN now() ELSE vetted_at END,
                updated_by = $3, updated_at = now(), version = version + 1
          WHERE id = $1 RETURNING ",
        cols!(),
        ""
    ))
    .bind(id)
    .bind(to.as_str())
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn soft_delete(conn: &mut PgConnection, id: i64, by: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE partners SET deleted_at = now(), deleted_by = $2, updated_by = $2, updated_at = now(),
                version = version + 1
          WHERE id = $1",
    )
    .bind(id)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deals of a partner by state: `[(state, count)]`.
pub async fn deal_counts(conn: &mut PgConnection, id: i64) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT state, count(*) FROM deals WHERE partner_id = $1 GROUP BY state ORDER BY state",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// Columns the Partners list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartnerSort {
    #[default]
    Name,
    Domain,
    State,
    Deals,
    VettedAt,
}

impl PartnerSort {
    pub const ALL: [PartnerSort; 5] = [
        Self::Name,
        Self::Domain,
        Self::State,
        Self::Deals,
        Self::VettedAt,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Domain => "domain",
            Self::State => "state",
            Self::Deals => "deals",
            Self::VettedAt => "vetted",
        }
    }

    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// The SQL sort expression (a fixed whitelist; never user text) and its type.
    fn expr(self) -> (&'static str, &'static str) {
        match self {
            Self::Name => ("lower(p.display_name)", "text"),
            Self::Domain => ("coalesce(p.domain, '')", "text"),
            Self::State => ("p.verification", "text"),
            Self::Deals => ("p.deal_count", "integer"),
            Self::VettedAt => (
                "coalesce(p.vetted_at, '-infinity'::timestamptz)",
                "timestamptz",
            ),
        }
    }
}

/// A page of partners for lists (keyset pagination on the sort key, then id).
#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    /// Matches display name, legal name, domain or a category: substring, or close enough
    /// to forgive a typo (trigram word similarity).
    pub text: Option<String>,
    pub verification: Option<VerificationState>,
    pub sort: PartnerSort,
    pub descending: bool,
    /// Continue after this row: its `sort_key` and id.
    pub after: Option<(String, i64)>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct PartnerListRow {
    pub id: i64,
    pub display_name: String,
    pub domain: Option<String>,
    #[sqlx(try_from = "String")]
    pub verification: VerificationState,
    pub categories: Vec<String>,
    pub deal_count: i32,
    pub vetted_by: Option<String>,
    pub vetted_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// The sort key as text, for the next page's cursor (not part of the row's JSON).
    #[serde(skip_serializing)]
    pub sort_key: String,
}

pub async fn list(
    conn: &mut PgConnection,
    f: &PartnerFilter,
    limit: i64,
) -> sqlx::Result<Vec<PartnerListRow>> {
    let (key, ty) = f.sort.expr();
    let (cmp, dir) = if f.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let sql = format!(
        "SELECT p.id, p.display_name, p.domain, p.verification, p.categories, p.deal_count,
                p.vetted_by, p.vetted_at, p.version, ({key})::text AS sort_key
           FROM partners p
          WHERE p.deleted_at IS NULL
            AND ($1::text IS NULL OR p.search_text LIKE $2 OR $1 <% p.name_text)
            AND ($3::text IS NULL OR p.verification = $3)
            AND ($4::text IS NULL OR ({key}, p.id) {cmp} ($4::{ty}, $5))
          ORDER BY {key} {dir}, p.id {dir}
          LIMIT $6"
    );
    let text = f
        .text
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    if text.is_some() {
        // Forgive a letter missing or mistyped (the default 0.6 only forgives a missing one).
        sqlx::query("SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', false)")
            .execute(&mut *conn)
            .await?;
    }
    let pattern = text.as_deref().map(|t| format!("%{}%", escape_like(t)));
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(text)
        .bind(pattern)
        .bind(f.verification.map(|v| v.as_str()))
        .bind(f.after.as_ref().map(|a| a.0.clone()))
        .bind(f.after.as_ref().map(|a| a.1))
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// Escapes `%`, `_` and `\` for LIKE.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
