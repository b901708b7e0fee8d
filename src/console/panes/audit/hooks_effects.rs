//! The webhook view's background work: endpoints, a page of deliveries, one delivery with its
//! event and attempts, and the confirmed changes (replays, disabling, enabling).

use crate::console::msg::{Gen, LoadMode, Reply, failure_of};
use crate::console::shell::BusyId;
use crate::error::Error;
use crate::service::Desk;
use crate::service::rows::{Delivery, DeliveryFilter, EndpointRow};
use crate::service::webhooks::DeliveryDetail;

/// A confirmed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Send delivery `id` again, from the start of the schedule.
    ReplayDelivery {
        id: i64,
    },
    /// Send event `event_id` again to every endpoint that takes its type.
    ReplayEvent {
        event_id: i64,
    },
    Disable {
        id: i64,
        reason: String,
    },
    Enable {
        id: i64,
    },
}

#[derive(Debug)]
pub enum Effect {
    /// Every endpoint with its deliveries counted.
    Endpoints {
        tag: Gen,
    },
    /// A page of an endpoint's deliveries, newest first, before a delivery id.
    Deliveries {
        tag: Gen,
        endpoint_id: i64,
        before: Option<i64>,
        limit: i64,
        mode: LoadMode,
    },
    /// One delivery with its event and attempts.
    Delivery {
        tag: Gen,
        id: i64,
    },
    Act {
        busy: BusyId,
        op: Op,
    },
}

#[derive(Debug)]
pub enum Msg {
    Endpoints {
        tag: Gen,
        result: Result<Vec<EndpointRow>, Error>,
    },
    Deliveries {
        tag: Gen,
        endpoint_id: i64,
        mode: LoadMode,
        result: Result<Vec<Delivery>, Error>,
    },
    Delivery {
        tag: Gen,
        result: Result<Box<DeliveryDetail>, Error>,
    },
    /// A change is done: what to say.
    Done {
        busy: BusyId,
        result: Result<String, Error>,
    },
}

impl Reply for Msg {
    fn failure(&self) -> Option<&Error> {
        match self {
            Msg::Endpoints { result, .. } => failure_of(result),
            Msg::Deliveries { result, .. } => failure_of(result),
            Msg::Delivery { result, .. } => failure_of(result),
            Msg::Done { result, .. } => failure_of(result),
        }
    }
}

/// "1 endpoint" / "endpoints 1, 3".
fn endpoints_text(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!(
        "endpoint{} {}",
        if ids.len() == 1 { "" } else { "s" },
        list.join(", ")
    )
}

async fn act(desk: &Desk, op: Op) -> Result<String, Error> {
    Ok(match op {
        Op::ReplayDelivery { id } => {
            let d = desk.replay_delivery(id).await?;
            format!(
                "delivery {id} queued again: event {} ({}) to endpoint {}",
                d.event_id, d.event_type, d.endpoint_id
            )
        }
        Op::ReplayEvent { event_id } => {
            let ds = desk.replay_event(event_id, None).await?;
            let mut ids: Vec<i64> = ds.iter().map(|d| d.endpoint_id).collect();
            ids.sort_unstable();
            format!("event {event_id} queued again for {}", endpoints_text(&ids))
        }
        Op::Disable { id, reason } => {
            let e = desk.disable_webhook(id, Some(&reason)).await?;
            format!(
                "endpoint {id} disabled: {}",
                e.disabled_reason.unwrap_or_default()
            )
        }
        Op::Enable { id } => {
            desk.enable_webhook(id).await?;
            format!("endpoint {id} enabled: what waited for it is sent now")
        }
    })
}

impl Effect {
    pub async fn run(self, desk: Desk) -> Msg {
        match self {
            Effect::Endpoints { tag } => Msg::Endpoints {
                tag,
                result: desk.webhooks().await,
            },
            Effect::Deliveries {
                tag,
                endpoint_id,
                before,
                limit,
                mode,
            } => {
                let filter = DeliveryFilter {
                    endpoint_id: Some(endpoint_id),
                    event_id: None,
                    before_id: before,
                };
                Msg::Deliveries {
                    tag,
                    endpoint_id,
                    mode,
                    result: desk.webhook_deliveries(filter, limit).await,
                }
            }
            Effect::Delivery { tag, id } => Msg::Delivery {
                tag,
                result: desk.webhook_delivery(id).await.map(Box::new),
            },
            Effect::Act { busy, op } => Msg::Done {
                busy,
                result: act(&desk, op).await,
            },
        }
    }
}
