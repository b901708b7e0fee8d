//! The append-only audit log (SPEC §1.2).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<&'a str>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<String>,
}

pub async fn insert(conn: &mut PgConnection, a: NewAudit<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO audit_log (actor, action, entity_type, entity_id, before, after, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(a.actor)
    .bind(a.action)
    .bind(a.entity_type)
    .bind(a.entity_id)
    .bind(a.before)
    .bind(a.after)
    .bind(a.reason)
    .fetch_one(conn)
    .await
}

/// Filter for the audit view; `before_id` pages backwards (newest first).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub before_id: Option<i64>,
}

pub async fn list(
    conn: &mut PgConnection,
    f: &AuditFilter,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    sqlx::query_as(
        "SELECT id, at, actor, action, entity_type, entity_id, before, after, reason
           FROM audit_log
          WHERE ($1::text IS NULL OR entity_type = $1)
            AND ($2::text IS NULL OR entity_id = $2)
            AND ($3::text IS NULL OR actor = $3)
            AND ($4::timestamptz IS NULL OR at >= $4)
            AND ($5::timestamptz IS NULL OR at < $5)
            AND ($6::bigint IS NULL OR id < $6)
          ORDER BY id DESC
          LIMIT $7",
    )
    .bind(&f.entity_type)
    .bind(&f.entity_id)
    .bind(&f.actor)
    .bind(f.from)
    .bind(f.to)
    .bind(f.before_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}
