//! The outbox (SPEC §1.8): state changes written in the same transaction as the change.

use serde_json::Value;

/// One event to publish. Written only through `service::record`, with its audit row, by
/// `store::audit::record`.
#[derive(Debug, Clone)]
pub(crate) struct NewEvent<'a> {
    pub event_type: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub payload: Value,
}
