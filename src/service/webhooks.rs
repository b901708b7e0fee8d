//! Webhook endpoints (SPEC §1.8): add, list, disable, enable, rotate a secret, replay a
//! delivery or an event, list deliveries. The admin's; each change writes its audit row
//! (never a secret) and no outbox event. The relay itself is [`super::relay`].

use super::record::Change;
use super::{Desk, SYSTEM_LOGIN};
use crate::domain::webhook::{self, ROTATION_OVERLAP};
use crate::domain::{Permission, ValidationErrors};
use crate::error::{Error, Result};
use crate::store::{
    self,
    webhooks::{Attempt, Delivery, DeliveryFilter, Endpoint, EndpointRow, Event},
};
use serde::Serialize;

/// The most deliveries one listing returns.
pub const DELIVERIES_LIMIT_MAX: i64 = 10_000;

/// A new or rotated endpoint and its secret, which is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct WithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub secret: String,
}

impl Desk {
    /// Adds an endpoint for these event types (none: every type), with a fresh secret. It
    /// receives the events written from now on. Its host must be public unless `addresses`
    /// (the config file's `[webhooks] allow_private_addresses`) allows others.
    pub async fn add_webhook(
        &self,
        url: &str,
        event_types: &[String],
        addresses: webhook::Addresses,
    ) -> Result<WithSecret> {
        self.actor().require(Permission::ManageWebhooks)?;
        let mut errs = ValidationErrors::new();
        let url = match webhook::validate_url(url, &addresses) {
            Ok(u) => Some(u.to_string()),
            Err(e) => {
                errs.push("url", e);
                None
            }
        };
        let mut types: Vec<String> = Vec::new();
        for t in event_types {
            let t = t.trim().to_owned();
            match webhook::validate_event_type(&t) {
                Ok(()) if !types.contains(&t) => types.push(t),
                Ok(()) => {}
                Err(e) => errs.push("event", e),
            }
        }
        let Some(url) = url.filter(|_| errs.is_empty()) else {
            return Err(errs.into());
        };
        let secret = webhook::new_secret();
        let mut tx = self.pool().begin().await?;
        let types = (!types.is_empty()).then_some(types);
        let e = store::webhooks::insert(
            &mut tx,
            &url,
            types.as_deref(),
            &secret,
            &self.actor().login,
        )
        .await?;
        Change::new(self.actor(), "webhook.add", "webhook_endpoint", e.id)
            .after(&e)
            .no_event()
            .commit(tx)
            .await?;
        Ok(WithSecret {
            endpoint: e,
            secret,
        })
    }

    /// Every endpoint with its deliveries counted.
    pub async fn webhooks(&self) -> Result<Vec<EndpointRow>> {
        self.actor().require(Permission::ViewWebhooks)?;
        let mut conn = self.pool().acquire().await?;
        Ok(store::webhooks::list(&mut conn).await?)
    }

    /// Disables an endpoint: nothing is sent to it until it is enabled again (its
    /// deliveries wait, and new events still queue for it).
    pub async fn disable_webhook(&self, id: i64, reason: Option<&str>) -> Result<Endpoint> {
        self.actor().require(Permission::ManageWebhooks)?;
        let reason = crate::domain::validation::optional_reason("reason", reason, 2_000)?
            .unwrap_or_else(|| format!("disabled by {}", self.actor().login));
        self.set_webhook_enabled(&self.actor().login, id, false, Some(&reason))
            .await?
            .ok_or_else(|| Error::Refused(format!("webhook endpoint {id} is disabled already")))
    }

    /// Enables an endpoint: what waited for it is sent.
    pub async fn enable_webhook(&self, id: i64) -> Result<Endpoint> {
        self.actor().require(Permission::ManageWebhooks)?;
        self.set_webhook_enabled(&self.actor().login, id, true, None)
            .await?
            .ok_or_else(|| Error::Refused(format!("webhook endpoint {id} is enabled already")))
    }

    /// The relay disabling an endpoint (410 Gone, or failing for days), as the system; `None`
    /// when it was disabled already.
    pub(crate) async fn relay_disable_webhook(
        &self,
        id: i64,
        reason: &str,
    ) -> Result<Option<Endpoint>> {
        self.set_webhook_enabled(SYSTEM_LOGIN, id, false, Some(reason))
            .await
    }

    async fn set_webhook_enabled(
        &self,
        login: &str,
        id: i64,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<Option<Endpoint>> {
        let mut tx = self.pool().begin().await?;
        let before = store::webhooks::get_for_update(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("webhook endpoint", id))?;
        if before.enabled == enabled {
            return Ok(None);
        }
        let after = store::webhooks::set_enabled(&mut tx, id, enabled, reason, login).await?;
        if enabled {
            store::webhooks::wake(&mut tx).await?;
        }
        let action = if enabled {
            "webhook.enable"
        } else {
            "webhook.disable"
        };
        Change::by_login(login, action, "webhook_endpoint", id)
            .changed(&before, &after)
            .reason(reason)
            .no_event()
            .commit(tx)
            .await?;
        Ok(Some(after))
    }

    /// A new secret for an endpoint; the old one keeps signing for 24 hours (both signatures
    /// are sent meanwhile).
    pub async fn rotate_webhook(&self, id: i64) -> Result<WithSecret> {
        self.actor().require(Permission::ManageWebhooks)?;
        let mut tx = self.pool().begin().await?;
        let before = store::webhooks::get_for_update(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("webhook endpoint", id))?;
        let secret = webhook::new_secret();
        let until = chrono::Utc::now() + ROTATION_OVERLAP;
        let after =
            store::webhooks::rotate(&mut tx, id, &secret, until, &self.actor().login).await?;
        Change::new(self.actor(), "webhook.rotate", "webhook_endpoint", id)
            .changed(&before, &after)
            .no_event()
            .commit(tx)
            .await?;
        Ok(WithSecret {
            endpoint: after,
            secret,
        })
    }

    /// Sends one delivery again, from the start of the schedule.
    pub async fn replay_delivery(&self, delivery_id: i64) -> Result<Delivery> {
        self.actor().require(Permission::ManageWebhooks)?;
        let mut tx = self.pool().begin().await?;
        let before = store::webhooks::delivery(&mut tx, delivery_id, true)
            .await?
            .ok_or_else(|| Error::not_found("webhook delivery", delivery_id))?;
        if before.status == "delivering" {
            return Err(Error::Refused(format!(
                "webhook delivery {delivery_id} is being sent right now; replay it once the attempt is over"
            )));
        }
        store::webhooks::requeue_delivery(&mut tx, delivery_id).await?;
        let after = store::webhooks::delivery(&mut tx, delivery_id, true)
            .await?
            .ok_or_else(|| Error::not_found("webhook delivery", delivery_id))?;
        Change::new(
            self.actor(),
            "webhook.replay",
            "webhook_delivery",
            delivery_id,
        )
        .changed(&before, &after)
        .no_event()
        .commit(tx)
        .await?;
        Ok(after)
    }

    /// Sends an event again to one endpoint, or to every endpoint that takes its type (also
    /// endpoints added after it); the deliveries queued.
    pub async fn replay_event(
        &self,
        event_id: i64,
        endpoint_id: Option<i64>,
    ) -> Result<Vec<Delivery>> {
        self.actor().require(Permission::ManageWebhooks)?;
        let mut tx = self.pool().begin().await?;
        let event_type = store::webhooks::event_type(&mut tx, event_id)
            .await?
            .ok_or_else(|| Error::not_found("event", event_id))?;
        let targets = match endpoint_id {
            Some(id) => {
                store::webhooks::get_for_update(&mut tx, id)
                    .await?
                    .ok_or_else(|| Error::not_found("webhook endpoint", id))?;
                vec![id]
            }
            None => store::webhooks::subscribed(&mut tx, &event_type).await?,
        };
        if targets.is_empty() {
            return Err(Error::Refused(format!(
                "no webhook endpoint takes {event_type} events; name one with --endpoint"
            )));
        }
        let ids = store::webhooks::requeue_event(&mut tx, event_id, &targets).await?;
        if ids.is_empty() {
            return Err(Error::Refused(format!(
                "event {event_id} is being sent right now; replay it once the attempt is over"
            )));
        }
        let of_event = DeliveryFilter {
            event_id: Some(event_id),
            ..DeliveryFilter::default()
        };
        let all = store::webhooks::deliveries(&mut tx, of_event, 1000).await?;
        let queued: Vec<Delivery> = all.into_iter().filter(|d| ids.contains(&d.id)).collect();
        let mut records = Vec::with_capacity(queued.len());
        for d in &queued {
            records.push(
                Change::new(self.actor(), "webhook.replay", "webhook_delivery", d.id)
                    .after(d)
                    .no_event(),
            );
        }
        super::record::write_all(&mut tx, records).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Deliveries newest first, of one endpoint or one event, before a delivery id.
    pub async fn webhook_deliveries(
        &self,
        filter: DeliveryFilter,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        self.actor().require(Permission::ViewWebhooks)?;
        let mut conn = self.pool().acquire().await?;
        Ok(
            store::webhooks::deliveries(&mut conn, filter, limit.clamp(1, DELIVERIES_LIMIT_MAX))
                .await?,
        )
    }

    /// One delivery with its event and every attempt.
    pub async fn webhook_delivery(&self, delivery_id: i64) -> Result<DeliveryDetail> {
        self.actor().require(Permission::ViewWebhooks)?;
        let mut tx = self.pool().begin().await?;
        let delivery = store::webhooks::delivery(&mut tx, delivery_id, false)
            .await?
            .ok_or_else(|| Error::not_found("webhook delivery", delivery_id))?;
        let event = store::webhooks::event(&mut tx, delivery.event_id)
            .await?
            .ok_or_else(|| Error::not_found("event", delivery.event_id))?;
        let attempts = store::webhooks::attempts(&mut tx, delivery_id).await?;
        tx.commit().await?;
        Ok(DeliveryDetail {
            delivery,
            event,
            attempts,
        })
    }
}

/// A delivery, the event it sends and its attempts (oldest first).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeliveryDetail {
    pub delivery: Delivery,
    pub event: Event,
    pub attempts: Vec<Attempt>,
}
