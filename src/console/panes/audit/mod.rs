//! The Audit pane: the append-only log, newest first, paged by id, filtered by actor, entity
//! and time; and the webhook view (`W`): where the outbox's events went.

mod hooks;
mod hooks_effects;
mod hooks_view;
mod view;

pub use hooks::{Focus, Hooks};
pub use hooks_effects::Op;

use crate::console::action::Action;
use crate::console::detail::Detail;
use crate::console::list::{KeysetList, ListFilter, PAGE};
use crate::console::msg::{
    Changed, Effect as AppEffect, Gen, LoadMode, Notice, Reply, TaskCtx, failure_of,
};
use crate::console::pane::{Answer, Pane, Task, fx};
use crate::console::shell::Shell;
use crate::domain::Permission;
use crate::error::Error;
use crate::service::Desk;
use crate::service::rows::{AuditEntry, AuditFilter};
use ratatui::Frame;
use ratatui::layout::Rect;

#[derive(Debug)]
pub enum Effect {
    /// A page of the log, newest first; `filter.before_id` is the page's cursor.
    Load {
        tag: Gen,
        filter: AuditFilter,
        limit: i64,
        mode: LoadMode,
    },
    /// The webhook view's work.
    Hooks(hooks_effects::Effect),
}

#[derive(Debug)]
pub enum Msg {
    Page {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<AuditEntry>, Error>,
    },
    Hooks(hooks_effects::Msg),
}

impl Reply for Msg {
    fn failure(&self) -> Option<&Error> {
        match self {
            Msg::Page { result, .. } => failure_of(result),
            Msg::Hooks(m) => m.failure(),
        }
    }
}

impl crate::console::msg::PaneReply for Msg {}

impl Task for Effect {
    type Msg = Msg;

    async fn run(self, desk: Desk, _ctx: TaskCtx) -> Msg {
        match self {
            Effect::Load {
                tag,
                filter,
                limit,
                mode,
            } => Msg::Page {
                tag,
                mode,
                result: desk.audit(&filter, limit).await,
            },
            Effect::Hooks(e) => Msg::Hooks(e.run(desk).await),
        }
    }
}

/// What the webhook view asks.
#[derive(Debug, Clone)]
pub enum Question {
    /// A change, confirmed.
    Go(Op),
    /// Why endpoint `id` is disabled (a prompt).
    DisableReason { id: i64 },
}

pub struct AuditPane {
    pub list: KeysetList<AuditEntry>,
    /// The entry whose detail is open.
    pub detail: Detail<AuditEntry>,
    /// What `/` typed, what it read as, and a word that was not understood.
    pub filter: ListFilter<AuditFilter>,
    /// The webhook view.
    pub hooks: Hooks,
}

impl Default for AuditPane {
    fn default() -> Self {
        Self {
            list: KeysetList::forward_only(),
            detail: Detail::default(),
            filter: ListFilter::default(),
            hooks: Hooks::default(),
        }
    }
}

/// Parses the Audit filter: `actor:LOGIN`, `action:NAME` (a name ending in `.` is a prefix:
/// `action:deal.`), `entity:TYPE` or `entity:TYPE:ID`, `from:DATE`, `to:DATE` (in the
/// operator's zone: `from` a day's 00:00, `to` the whole day); a bare word is an actor.
pub fn parse_filter(text: &str) -> Result<AuditFilter, String> {
    use crate::console::view::{local_end, local_start};
    let mut f = AuditFilter::default();
    let bad = |v: &str, key: &str| format!("{key}: a date like 2026-11-21, not '{v}'");
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("actor", v)) => f.actor = Some(v.to_owned()),
            Some(("entity", v)) => match v.split_once(':') {
                Some((t, id)) => {
                    f.entity_type = Some(t.to_owned());
                    f.entity_id = Some(id.to_owned());
                }
                None => f.entity_type = Some(v.to_owned()),
            },
            Some(("action", v)) => f.action = Some(v.to_owned()),
            Some(("from", v)) => f.from = Some(local_start(v).map_err(|_| bad(v, "from"))?),
            Some(("to", v)) => f.to = Some(local_end(v).map_err(|_| bad(v, "to"))?),
            Some((k, _)) => {
                return Err(format!(
                    "unknown filter '{k}:' (actor:, action:, entity:, from:, to:)"
                ));
            }
            None => f.actor = Some(word.to_owned()),
        }
    }
    Ok(f)
}

impl AuditPane {
    /// The request for a page: the operator's filter, continued after the cursor.
    pub fn request(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        let (tag, req) = self.list.request(sh, mode);
        let filter = AuditFilter {
            before_id: req.after,
            ..self.filter.query.clone()
        };
        fx(Effect::Load {
            tag,
            filter,
            limit: PAGE,
            mode,
        })
    }
}

impl crate::console::shell::Asked for Question {}

impl Pane for AuditPane {
    type Effect = Effect;
    type Question = Question;
    const TITLE: &'static str = "Audit";
    const KEY: &'static str = "audit";

    fn offers(&self, a: Action) -> bool {
        use Action::*;
        let hooks =
            self.hooks.open && matches!(a, Copy | ReplayDelivery | ReplayEvent | ToggleEndpoint);
        hooks
            || a.moves_in_list()
            || matches!(a, Open | Back | Refresh)
            || (matches!(a, Filter | Webhooks) && !self.hooks.open)
    }

    fn column_keys(&self) -> Vec<&'static str> {
        crate::console::view::registry::keys(view::COLUMNS)
    }

    fn needs(&self, a: Action) -> Option<Permission> {
        use Action::*;
        matches!(a, ReplayDelivery | ReplayEvent | ToggleEndpoint)
            .then_some(Permission::ManageWebhooks)
    }

    fn main_actions(&self) -> &'static [Action] {
        use Action::*;
        if self.hooks.open {
            &[Open, ReplayDelivery, ReplayEvent, ToggleEndpoint, Back]
        } else {
            &[Open, Filter, Refresh, Webhooks]
        }
    }

    fn needs_load(&self) -> bool {
        if self.hooks.open {
            !self.hooks.endpoints.loaded_once
        } else {
            self.list.rows.is_empty()
        }
    }

    fn reload(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if self.hooks.open {
            return self.reload_hooks(sh);
        }
        self.request(sh, LoadMode::Replace)
    }

    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if self.hooks.open {
            return self.hooks_perform(sh, a);
        }
        let page = self.list.navigate(a);
        // An open entry follows the selection.
        if self.detail.open {
            self.detail.data = self.list.selected_row().cloned();
        }
        if let Some(mode) = page {
            return self.request(sh, mode);
        }
        match a {
            Action::Open => {
                self.detail.data = self.list.selected_row().cloned();
                self.detail.open = self.detail.data.is_some();
                Vec::new()
            }
            Action::Back if self.detail.open => {
                self.detail.open = false;
                Vec::new()
            }
            Action::Back if !self.filter.text.is_empty() => self.filter_changed(sh, ""),
            Action::Refresh => self.reload(sh),
            _ => Vec::new(),
        }
    }

    fn on_msg(&mut self, sh: &mut Shell, msg: Msg) -> Vec<AppEffect> {
        match msg {
            Msg::Page { tag, mode, result } => {
                self.list.receive(sh, tag, mode, result);
                Vec::new()
            }
            Msg::Hooks(m) => self.hooks_msg(sh, m),
        }
    }

    fn answered(&mut self, sh: &mut Shell, q: Question, a: Answer) -> Vec<AppEffect> {
        self.hooks_answered(sh, q, a)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
        if self.hooks.open {
            hooks_view::draw(&mut self.hooks, f, area, sh)
        } else {
            view::draw(self, f, area, sh)
        }
    }

    fn filter_text(&self) -> Option<String> {
        (!self.hooks.open).then(|| self.filter.text.clone())
    }

    /// A new `/` filter: reload from the newest row.
    fn filter_changed(&mut self, sh: &mut Shell, text: &str) -> Vec<AppEffect> {
        if !self.filter.set(text, |t, _| parse_filter(t)) {
            return Vec::new();
        }
        self.list.selected = 0;
        self.request(sh, LoadMode::Replace)
    }

    fn filter_hint(&self) -> &'static str {
        "   actor:LOGIN action:NAME[.] entity:TYPE[:ID] from:DATE to:DATE · Enter keeps · Esc restores"
    }

    /// Every change writes an audit row: the log grows on screen. The webhook view reads
    /// again when endpoints or deliveries change (their entity types are among `Other`), and
    /// each minute (the relay's attempts announce nothing); a stream of redemptions, which
    /// write no event, does not make it read.
    fn notice(&mut self, sh: &mut Shell, n: Notice) -> Vec<AppEffect> {
        match n {
            Notice::Changed(Changed::Other) | Notice::Minute { .. }
                if self.hooks.open && self.hooks.endpoints.loaded_once =>
            {
                self.hooks_changed(sh)
            }
            Notice::Changed(_) if self.list.changed() => self.request(sh, LoadMode::Replace),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_words() {
        crate::console::view::pin_display_zone(chrono::FixedOffset::east_opt(0));
        let f = parse_filter("actor:cara entity:partner:12 from:2026-01-01 to:2026-02-01").unwrap();
        assert_eq!(f.actor.as_deref(), Some("cara"));
        assert_eq!(f.entity_type.as_deref(), Some("partner"));
        assert_eq!(f.entity_id.as_deref(), Some("12"));
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(parse_filter("sam").unwrap().actor.as_deref(), Some("sam"));
        // `to:` of a day is that whole day (the filter's `to` is exclusive).
        assert_eq!(f.to.unwrap().to_rfc3339(), "2026-02-02T00:00:00+00:00");
        assert_eq!(
            parse_filter("action:commission_rule.set")
                .unwrap()
                .action
                .as_deref(),
            Some("commission_rule.set")
        );
        assert_eq!(
            parse_filter("from:yesterday").unwrap_err(),
            "from: a date like 2026-11-21, not 'yesterday'"
        );
        assert_eq!(
            parse_filter("who:me").unwrap_err(),
            "unknown filter 'who:' (actor:, action:, entity:, from:, to:)"
        );
    }
}
