//! The append-only audit log (SPEC §1.2).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

/// One audit row to write. Written only through `service::record`, with its outbox event.
#[derive(Debug, Clone)]
pub(crate) struct NewAudit<'a> {
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

/// Appends audit rows in one statement, their ids in the order given. Called only by
/// `service::record`, the one place that writes a mutation's audit row and its event.
pub(crate) async fn insert(conn: &mut PgConnection, rows: Vec<NewAudit<'_>>) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let (mut actor, mut action, mut entity_type, mut entity_id) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut before, mut after, mut reason) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for a in rows {
        actor.push(a.actor);
        action.push(a.action);
        entity_type.push(a.entity_type);
        entity_id.push(a.entity_id);
        before.push(a.before);
        after.push(a.after);
        reason.push(a.reason);
    }
    sqlx::query(
        "INSERT INTO audit_log (actor, action, entity_type, entity_id, before, after, reason)
         SELECT r.actor, r.action, r.entity_type, r.entity_id, r.before, r.after, r.reason
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[],
                       $7::text[])
                WITH ORDINALITY AS r(actor, action, entity_type, entity_id, before, after, reason, n)
          ORDER BY r.n",
    )
    .bind(actor)
    .bind(action)
    .bind(entity_type)
    .bind(entity_id)
    .bind(before)
    .bind(after)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
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
