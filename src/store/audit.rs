//! The append-only audit log (SPEC §1.2).

use super::outbox::NewEvent;
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

/// Appends audit rows and outbox events through the database's one writer of both,
/// `record_changes` (migration 0024): each set in one statement, in the order given, with the
/// session's login recorded beside every audit row. On a person's own login the database
/// refuses an actor other than that login (or `system` / `platform`) and an event whose
/// entity this transaction did not change. Called only by `service::record`.
pub(crate) async fn record(
    conn: &mut PgConnection,
    rows: Vec<NewAudit<'_>>,
    events: Vec<NewEvent<'_>>,
) -> sqlx::Result<()> {
    if rows.is_empty() && events.is_empty() {
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
    let m = events.len();
    let (mut event_type, mut event_entity_type, mut event_entity_id, mut payload) = (
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
        Vec::with_capacity(m),
    );
    for e in events {
        event_type.push(e.event_type);
        event_entity_type.push(e.entity_type);
        event_entity_id.push(e.entity_id);
        payload.push(e.payload);
    }
    sqlx::query(
        "SELECT record_changes($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[],
                               $6::jsonb[], $7::text[], $8::text[], $9::text[], $10::text[],
                               $11::jsonb[])",
    )
    .bind(actor)
    .bind(action)
    .bind(entity_type)
    .bind(entity_id)
    .bind(before)
    .bind(after)
    .bind(reason)
    .bind(event_type)
    .bind(event_entity_type)
    .bind(event_entity_id)
    .bind(payload)
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
    /// An action, and those under it: `deal` (or `deal.`) is every `deal.…` action.
    pub action: Option<String>,
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
            AND ($8::text IS NULL OR action = $8
                 OR starts_with(action, CASE WHEN right($8, 1) = '.' THEN $8 ELSE $8 || '.' END))
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
    .bind(&f.action)
    .fetch_all(conn)
    .await
}
