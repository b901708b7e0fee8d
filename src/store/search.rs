//! Member search over `deal_search_documents` (one document per active deal, kept by
//! [`super::deals::index_for_search`] and [`super::deals::remove_from_search`]).

use crate::domain::{AudienceScope, DealKind, Member};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

/// One deal a member's search found.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq)]
pub struct DealHit {
    pub id: i64,
    pub title: String,
    /// The partner's display name.
    pub partner: String,
    #[sqlx(try_from = "String")]
    pub kind: DealKind,
    #[sqlx(try_from = "String")]
    pub audience_scope: AudienceScope,
    pub audience_scope_value: Option<String>,
    pub valid_until: DateTime<Utc>,
    /// `ts_rank_cd` of the document against the query: higher is more relevant.
    pub rank: f32,
}

/// Active deals whose document matches `text` (websearch syntax, english configuration) and
/// whose audience `member` belongs to, best first, ties by id.
///
/// The audience filter is [`Member::can_see`] in SQL:
/// - `public`: everyone;
/// - `institute`: institute-verified members;
/// - `alumni`: role alumni;
/// - `batch`: alumni whose batch year is the scope value (the deals table only admits a
///   four-digit year there, so comparing the text of the year is comparing the years);
/// - `chapter`: one of the member's chapters is the scope value, ignoring ASCII case (lower()
///   under the "C" collation folds ASCII letters only, as `eq_ignore_ascii_case` does).
pub async fn search_deals(
    conn: &mut PgConnection,
    member: &Member,
    text: &str,
    limit: i64,
) -> sqlx::Result<Vec<DealHit>> {
    sqlx::query_as(
        r#"WITH q AS (SELECT websearch_to_tsquery('english', $1) AS query)
        SELECT d.id, d.title, p.display_name AS partner, d.kind,
               s.audience_scope, s.audience_scope_value, d.valid_until,
               ts_rank_cd(s.document, q.query) AS rank
          FROM q
          JOIN deal_search_documents s ON s.document @@ q.query
          JOIN deals d ON d.id = s.deal_id
          JOIN partners p ON p.id = d.partner_id
         WHERE d.state = 'active'
           AND d.valid_until > now()
           AND (s.audience_scope = 'public'
                OR (s.audience_scope = 'institute' AND $2::boolean)
                OR (s.audience_scope = 'alumni' AND $3::text = 'alumni')
                OR (s.audience_scope = 'batch' AND $3::text = 'alumni'
                    AND $4::integer IS NOT NULL
                    AND s.audience_scope_value = $4::integer::text)
                OR (s.audience_scope = 'chapter' AND EXISTS (
                        SELECT 1 FROM unnest($5::text[]) AS c(name)
                         WHERE lower(c.name COLLATE "C")
                             = lower(s.audience_scope_value COLLATE "C"))))
         ORDER BY rank DESC, d.id
         LIMIT $6"#,
    )
    .bind(text)
    .bind(member.institute_verified)
    .bind(member.role.as_str())
    .bind(member.batch_year)
    .bind(&member.chapters)
    .bind(limit)
    .fetch_all(conn)
    .await
}
