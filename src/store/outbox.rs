//! The outbox (SPEC §1.8): state changes written in the same transaction as the change.

use serde_json::Value;
use sqlx::PgConnection;

pub async fn publish(
    conn: &mut PgConnection,
    event_type: &str,
    entity_type: &str,
    entity_id: impl ToString,
    payload: Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO outbox_events (event_type, entity_type, entity_id, payload) VALUES ($1, $2, $3, $4)",
    )
    .bind(event_type)
    .bind(entity_type)
    .bind(entity_id.to_string())
    .bind(payload)
    .execute(conn)
    .await?;
    Ok(())
}
