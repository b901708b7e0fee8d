//! The Audit pane's webhook view (`W`, or `webhooks` in the palette): the endpoints with
//! their deliveries counted and why one is disabled; the selected endpoint's deliveries,
//! newest first and paged, with status and attempts; a delivery's event and every attempt;
//! replaying a delivery or an event, and disabling or enabling an endpoint, each confirmed.
//! The admin's: others are told who may; a read-only session sees and changes nothing.

use super::hooks_effects::{Effect, Msg, Op};
use super::{AuditPane, Question};
use crate::console::action::Action;
use crate::console::detail::Detail;
use crate::console::list::{KeysetList, ListRow, PAGE};
use crate::console::msg::{Effect as AppEffect, LoadMode};
use crate::console::pane::{Answer, fx};
use crate::console::shell::Shell;
use crate::domain::Permission;
use crate::service::rows::{Delivery, EndpointRow};
use crate::service::webhooks::DeliveryDetail;

impl ListRow for EndpointRow {
    type Cursor = i64;
    fn id(&self) -> i64 {
        self.endpoint.id
    }
    fn cursor(&self) -> i64 {
        self.endpoint.id
    }
}

impl ListRow for Delivery {
    type Cursor = i64;
    fn id(&self) -> i64 {
        self.id
    }
    fn cursor(&self) -> i64 {
        self.id
    }
}

/// Which list the keys move in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Focus {
    #[default]
    Endpoints,
    Deliveries,
}

/// What the webhook view holds.
pub struct Hooks {
    /// The view is on screen (instead of the log).
    pub open: bool,
    pub focus: Focus,
    /// Every endpoint (they are few: one query).
    pub endpoints: KeysetList<EndpointRow>,
    /// The endpoint whose deliveries are listed.
    pub endpoint_id: Option<i64>,
    /// Its deliveries, newest first, paged downwards.
    pub deliveries: KeysetList<Delivery>,
    /// The delivery opened with its event and attempts.
    pub delivery: Detail<DeliveryDetail>,
    /// The open delivery's event payload as indented JSON (made once, when it loads).
    pub payload: String,
}

impl Default for Hooks {
    fn default() -> Self {
        Self {
            open: false,
            focus: Focus::Endpoints,
            endpoints: KeysetList::forward_only(),
            endpoint_id: None,
            deliveries: KeysetList::forward_only(),
            delivery: Detail::default(),
            payload: String::new(),
        }
    }
}

impl Hooks {
    pub fn selected_endpoint(&self) -> Option<&EndpointRow> {
        self.endpoints.selected_row()
    }

    /// The delivery the replay keys act on: the open one, else the selected row.
    pub fn current_delivery(&self) -> Option<&Delivery> {
        match self.delivery.shown() {
            Some(d) => Some(&d.delivery),
            None if self.focus == Focus::Deliveries => self.deliveries.selected_row(),
            None => None,
        }
    }
}

fn wrap(e: Effect) -> Vec<AppEffect> {
    fx(super::Effect::Hooks(e))
}

impl AuditPane {
    /// Opens the webhook view (from the palette or `W`), on the endpoints.
    pub fn open_hooks(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        self.hooks.open = true;
        self.hooks.focus = Focus::Endpoints;
        self.hooks.delivery.open = false;
        self.load_endpoints(sh)
    }

    fn close_hooks(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        self.hooks.open = false;
        self.hooks.delivery.open = false;
        if self.list.rows.is_empty() {
            self.request(sh, LoadMode::Replace)
        } else {
            Vec::new()
        }
    }

    pub(super) fn load_endpoints(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let (tag, _) = self.hooks.endpoints.request(sh, LoadMode::Replace);
        wrap(Effect::Endpoints { tag })
    }

    fn load_deliveries(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        let Some(endpoint_id) = self.hooks.endpoint_id else {
            return Vec::new();
        };
        let (tag, req) = self.hooks.deliveries.request(sh, mode);
        wrap(Effect::Deliveries {
            tag,
            endpoint_id,
            before: req.after,
            limit: PAGE,
            mode,
        })
    }

    fn load_delivery(&mut self, sh: &mut Shell, id: i64) -> Vec<AppEffect> {
        let tag = self.hooks.delivery.begin(sh);
        wrap(Effect::Delivery { tag, id })
    }

    /// The selected endpoint changed: its deliveries are listed.
    fn follow_endpoint(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let id = self.hooks.selected_endpoint().map(|e| e.endpoint.id);
        if id == self.hooks.endpoint_id && self.hooks.deliveries.loaded_once {
            return Vec::new();
        }
        self.hooks.endpoint_id = id;
        self.hooks.deliveries.clear();
        self.load_deliveries(sh, LoadMode::Replace)
    }

    /// Reloads the endpoints, the deliveries shown and the open delivery.
    pub(super) fn reload_hooks(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let mut out = self.load_endpoints(sh);
        out.extend(self.load_deliveries(sh, LoadMode::Replace));
        if let Some(id) = self.hooks.delivery.shown().map(|d| d.delivery.id) {
            out.extend(self.load_delivery(sh, id));
        }
        out
    }

    /// Something changed (or a minute passed): the endpoints and the open delivery read
    /// again, the deliveries too when the list is at its top (else `r` reloads them).
    pub(super) fn hooks_changed(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let mut out = self.load_endpoints(sh);
        if self.hooks.deliveries.changed() {
            out.extend(self.load_deliveries(sh, LoadMode::Replace));
        }
        if let Some(id) = self.hooks.delivery.shown().map(|d| d.delivery.id) {
            out.extend(self.load_delivery(sh, id));
        }
        out
    }

    pub(super) fn hooks_perform(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        let h = &mut self.hooks;
        match (h.focus, a) {
            (_, Action::Refresh) => return self.reload_hooks(sh),
            (_, Action::ReplayDelivery | Action::ReplayEvent) => return self.ask_replay(sh, a),
            (_, Action::ToggleEndpoint) => return self.ask_toggle(sh),
            (_, Action::Back) if h.delivery.open => {
                h.delivery.open = false;
                return Vec::new();
            }
            // The open delivery scrolls.
            _ if h.delivery.navigate(a) => return Vec::new(),
            (Focus::Deliveries, Action::Back) => {
                h.focus = Focus::Endpoints;
                return Vec::new();
            }
            (Focus::Endpoints, Action::Back) => return self.close_hooks(sh),
            _ => {}
        }
        match h.focus {
            Focus::Endpoints => {
                // Every endpoint is loaded: the list moves and never pages.
                let _ = h.endpoints.navigate(a);
                match a {
                    Action::Open if h.selected_endpoint().is_some() => {
                        h.focus = Focus::Deliveries;
                        self.follow_endpoint(sh)
                    }
                    Action::Copy => h
                        .selected_endpoint()
                        .map(|e| AppEffect::Copy {
                            text: e.endpoint.url.clone(),
                            what: format!("endpoint {}'s URL", e.endpoint.id),
                        })
                        .into_iter()
                        .collect(),
                    _ => self.follow_endpoint(sh),
                }
            }
            Focus::Deliveries => {
                if let Some(mode) = h.deliveries.navigate(a) {
                    return self.load_deliveries(sh, mode);
                }
                match a {
                    Action::Open => match h.deliveries.selected_row().map(|d| d.id) {
                        Some(id) => {
                            h.delivery.open_new();
                            h.delivery.data = None;
                            self.load_delivery(sh, id)
                        }
                        None => Vec::new(),
                    },
                    Action::Copy => h
                        .current_delivery()
                        .map(|d| AppEffect::copy_id("event", d.event_id))
                        .into_iter()
                        .collect(),
                    _ => Vec::new(),
                }
            }
        }
    }

    fn ask_replay(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageWebhooks) {
            return Vec::new();
        }
        let Some(d) = self.hooks.current_delivery() else {
            sh.toast_error("select a delivery first (Enter on an endpoint lists them)");
            return Vec::new();
        };
        let (title, body, op) = if a == Action::ReplayDelivery {
            (
                format!("Send delivery {} again?", d.id),
                vec![
                    format!(
                        "Event {} ({}) to endpoint {}, {} so far after {} attempt{}.",
                        d.event_id,
                        d.event_type,
                        d.endpoint_id,
                        d.status,
                        d.attempts,
                        if d.attempts == 1 { "" } else { "s" }
                    ),
                    "It starts the retry schedule again; the receiver sees the same webhook-id."
                        .into(),
                ],
                Op::ReplayDelivery { id: d.id },
            )
        } else {
            (
                format!("Send event {} again?", d.event_id),
                vec![
                    format!(
                        "Event {} ({}) goes again to every endpoint that takes {} events,",
                        d.event_id, d.event_type, d.event_type
                    ),
                    "endpoints added since included; each receiver sees the same webhook-id."
                        .into(),
                ],
                Op::ReplayEvent {
                    event_id: d.event_id,
                },
            )
        };
        sh.confirm(title, body, ["Cancel", "Send again"], Question::Go(op));
        Vec::new()
    }

    fn ask_toggle(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageWebhooks) {
            return Vec::new();
        }
        let Some(e) = self.hooks.selected_endpoint().map(|r| r.endpoint.clone()) else {
            return Vec::new();
        };
        if e.enabled {
            sh.prompt(
                format!("Disable endpoint {} ({})", e.id, e.url),
                "why (kept with the endpoint and in the audit log; empty: disabled by you)",
                "",
                Question::DisableReason { id: e.id },
            );
        } else {
            sh.confirm(
                format!("Enable endpoint {}?", e.id),
                vec![
                    e.url.clone(),
                    format!(
                        "Disabled: {}.",
                        e.disabled_reason.as_deref().unwrap_or("no reason kept")
                    ),
                    "What queued for it meanwhile is sent.".into(),
                ],
                ["Cancel", "Enable"],
                Question::Go(Op::Enable { id: e.id }),
            );
        }
        Vec::new()
    }

    pub(super) fn hooks_answered(
        &mut self,
        sh: &mut Shell,
        q: Question,
        a: Answer,
    ) -> Vec<AppEffect> {
        let op = match (q, a) {
            (Question::Go(op), Answer::Yes) => op,
            (Question::DisableReason { id }, Answer::Text(reason)) => Op::Disable {
                id,
                reason: reason.trim().to_owned(),
            },
            _ => return Vec::new(),
        };
        let label = match &op {
            Op::ReplayDelivery { id } => format!("replaying delivery {id}"),
            Op::ReplayEvent { event_id } => format!("replaying event {event_id}"),
            Op::Disable { id, .. } => format!("disabling endpoint {id}"),
            Op::Enable { id } => format!("enabling endpoint {id}"),
        };
        let busy = sh.start_busy(label);
        wrap(Effect::Act { busy, op })
    }

    pub(super) fn hooks_msg(&mut self, sh: &mut Shell, msg: Msg) -> Vec<AppEffect> {
        let h = &mut self.hooks;
        match msg {
            Msg::Endpoints { tag, result } => {
                h.endpoints.receive(sh, tag, LoadMode::Replace, result);
                h.endpoints.at_end = true;
                self.follow_endpoint(sh)
            }
            Msg::Deliveries {
                tag,
                endpoint_id,
                mode,
                result,
            } => {
                if h.endpoint_id == Some(endpoint_id) {
                    h.deliveries.receive(sh, tag, mode, result);
                }
                Vec::new()
            }
            Msg::Delivery { tag, result } => {
                if h.delivery.accept(tag) {
                    match result {
                        Ok(d) => {
                            h.payload =
                                serde_json::to_string_pretty(&d.event.payload).unwrap_or_default();
                            h.delivery.data = Some(*d);
                        }
                        Err(e) => {
                            h.delivery.open = false;
                            sh.toast_error(e.to_string());
                        }
                    }
                }
                Vec::new()
            }
            Msg::Done { busy, result } => {
                sh.finish(busy, result);
                self.reload_hooks(sh)
            }
        }
    }
}
