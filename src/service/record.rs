//! The record of a mutation: its audit row (SPEC §1.2) and, when it is a state change of a
//! partner or a deal (SPEC §1.8), its outbox event, written together in the caller's
//! transaction. This is the only way anything writes an audit row or an outbox event
//! (`store::audit::record`, which calls the database's `record_changes`, is called from here
//! alone; no database role but the owner may insert into either table directly).
//!
//! ```ignore
//! Change::new(self.actor(), "partner.update", "partner", id)
//!     .changed(&before, &after)
//!     .event("partner.updated", json!({ "partner": after }))
//!     .commit(tx)
//!     .await?;
//! ```
//!
//! A [`Change`] is written only once it has said whether it publishes: [`Change::event`] for
//! a state change of a partner or a deal, [`Change::no_event`] for the rest (operators,
//! redemptions and their flags, vetting results, confirmed conversions, an off-boarding's own
//! row beside the events of the deals it paused, the seed), so a new use case cannot forget
//! either half.

use super::Actor;
use crate::error::Result;
use crate::store::{self, audit::NewAudit, outbox::NewEvent};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, Postgres, Transaction};

/// What a mutation did: who, which action on which entity, before and after, and why.
#[must_use = "a change is written by .event(…) or .no_event(), then .write(…)"]
#[derive(Debug, Clone)]
pub(crate) struct Change<'a> {
    actor: &'a str,
    action: &'a str,
    entity_type: &'a str,
    entity_id: String,
    before: Option<Value>,
    after: Option<Value>,
    reason: Option<&'a str>,
}

impl<'a> Change<'a> {
    pub(crate) fn new(
        actor: &'a Actor,
        action: &'a str,
        entity_type: &'a str,
        entity_id: impl ToString,
    ) -> Self {
        Self::by_login(&actor.login, action, entity_type, entity_id)
    }

    /// A change made by a login that is not an operator's session (the seed).
    pub(crate) fn by_login(
        login: &'a str,
        action: &'a str,
        entity_type: &'a str,
        entity_id: impl ToString,
    ) -> Self {
        Self {
            actor: login,
            action,
            entity_type,
            entity_id: entity_id.to_string(),
            before: None,
            after: None,
            reason: None,
        }
    }

    /// The record before and after an edit (JSON).
    pub(crate) fn changed<B, A>(self, before: &B, after: &A) -> Self
    where
        B: Serialize + ?Sized,
        A: Serialize + ?Sized,
    {
        self.before(before).after(after)
    }

    /// The record as it was (JSON).
    pub(crate) fn before<T: Serialize + ?Sized>(mut self, v: &T) -> Self {
        self.before = Some(json(v));
        self
    }

    /// The record as it is now (JSON).
    pub(crate) fn after<T: Serialize + ?Sized>(mut self, v: &T) -> Self {
        self.after = Some(json(v));
        self
    }

    pub(crate) fn reason(mut self, reason: Option<&'a str>) -> Self {
        self.reason = reason;
        self
    }

    /// A state change of a partner or a deal: its event, about the same entity, is published
    /// with the audit row.
    pub(crate) fn event(self, event_type: &'a str, payload: Value) -> Record<'a> {
        Record {
            change: self,
            event: Some((event_type, payload)),
        }
    }

    /// Not a state change that SPEC §1.8 publishes: the audit row alone.
    pub(crate) fn no_event(self) -> Record<'a> {
        Record {
            change: self,
            event: None,
        }
    }
}

/// A change that has said whether it publishes: ready to write.
#[must_use = "a record is written by .write(…) or write_all(…)"]
#[derive(Debug, Clone)]
pub(crate) struct Record<'a> {
    change: Change<'a>,
    event: Option<(&'a str, Value)>,
}

impl Record<'_> {
    /// Writes the audit row and the event in the caller's transaction.
    pub(crate) async fn write(self, conn: &mut PgConnection) -> Result<()> {
        write_all(conn, vec![self]).await
    }

    /// The use case's last write: the audit row and the event, then the commit.
    pub(crate) async fn commit(self, mut tx: Transaction<'_, Postgres>) -> Result<()> {
        self.write(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Writes many records in the caller's transaction: every audit row in one statement, then
/// every event in another, each in the order given (a bulk import of N deals is two
/// statements, not 2N).
pub(crate) async fn write_all(conn: &mut PgConnection, records: Vec<Record<'_>>) -> Result<()> {
    let mut audits = Vec::with_capacity(records.len());
    let mut events = Vec::new();
    for Record { change: c, event } in records {
        if let Some((event_type, payload)) = event {
            events.push(NewEvent {
                event_type,
                entity_type: c.entity_type,
                entity_id: c.entity_id.clone(),
                payload,
            });
        }
        audits.push(NewAudit {
            actor: c.actor,
            action: c.action,
            entity_type: c.entity_type,
            entity_id: c.entity_id,
            before: c.before,
            after: c.after,
            reason: c.reason,
        });
    }
    store::audit::record(conn, audits, events).await?;
    Ok(())
}

/// JSON of a record for the audit log.
fn json<T: Serialize + ?Sized>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
