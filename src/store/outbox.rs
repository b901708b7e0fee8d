//! The outbox (SPEC §1.8): state changes written in the same transaction as the change.

use serde_json::Value;
use sqlx::PgConnection;

/// One event to publish. Written only through `service::record`, with its audit row.
#[derive(Debug, Clone)]
pub(crate) struct NewEvent<'a> {
    pub event_type: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub payload: Value,
}

/// Appends events in one statement, their ids in the order given. Called only by
/// `service::record`, the one place that writes a mutation's audit row and its event.
pub(crate) async fn publish(
    conn: &mut PgConnection,
    events: Vec<NewEvent<'_>>,
) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let n = events.len();
    let (mut event_type, mut entity_type, mut entity_id, mut payload) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for e in events {
        event_type.push(e.event_type);
        entity_type.push(e.entity_type);
        entity_id.push(e.entity_id);
        payload.push(e.payload);
    }
    sqlx::query(
        "INSERT INTO outbox_events (event_type, entity_type, entity_id, payload)
         SELECT r.event_type, r.entity_type, r.entity_id, r.payload
           FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
                WITH ORDINALITY AS r(event_type, entity_type, entity_id, payload, n)
          ORDER BY r.n",
    )
    .bind(event_type)
    .bind(entity_type)
    .bind(entity_id)
    .bind(payload)
    .execute(conn)
    .await?;
    Ok(())
}
