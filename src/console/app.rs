//! The console's state and how it changes. `App::update` takes a message and returns the
//! background work to start; it never awaits anything, so the UI never blocks.

use super::action::{Action, Context};
use super::audit_pane::AuditPane;
use super::deals::DealsPane;
use super::form::Form;
use super::keymap::{Key, Keymap};
use super::msg::{Effect, Msg};
use super::palette::Palette;
use super::partners::PartnersPane;
use super::recovery::FormSnapshot;
use super::redemptions::RedemptionsPane;
use super::theme::Theme;
use crate::domain::Permission;
use crate::service::Actor;
use crossterm::event::{Event, KeyEvent, KeyEventKind};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Partners,
    Deals,
    Redemptions,
    Negotiations,
    Settlements,
    Audit,
}

impl Pane {
    pub const ALL: [Pane; 6] = [
        Pane::Partners,
        Pane::Deals,
        Pane::Redemptions,
        Pane::Negotiations,
        Pane::Settlements,
        Pane::Audit,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Partners => "Partners",
            Pane::Deals => "Deals",
            Pane::Redemptions => "Redemptions",
            Pane::Negotiations => "Negotiations",
            Pane::Settlements => "Settlements",
            Pane::Audit => "Audit",
        }
    }

    /// Does this pane do something with the action? (The palette offers only those.)
    pub fn offers(self, a: Action) -> bool {
        use Action::*;
        match a {
            RunChecks | MarkVetted | Disable | Revet | Delete | Offboard => self == Pane::Partners,
            Activate | Pause | Expire | Duplicate | Import => self == Pane::Deals,
            Signals | Flag | Unflag | MemberHistory => self == Pane::Redemptions,
            New | Edit | Sort | SortReverse | Copy | Export | Save | NextField | PrevField
            | Cancel => {
                matches!(self, Pane::Partners | Pane::Deals)
            }
            Down | Up | Top | Bottom | PageDown | PageUp | Back | Refresh => {
                matches!(
                    self,
                    Pane::Partners | Pane::Deals | Pane::Redemptions | Pane::Audit
                )
            }
            Open | Filter => matches!(
                self,
                Pane::Partners | Pane::Deals | Pane::Redemptions | Pane::Audit
            ),
            _ => true,
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// The database connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Connected,
    Reconnecting,
    Failed(String),
}

/// A short message that does not take focus.
#[derive(Debug, Clone)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: Instant,
}

/// A question with a safe default.
pub struct Confirm {
    pub title: String,
    pub body: Vec<String>,
    /// Answers, left to right; index 0 is the safe one and is selected first.
    pub choices: [&'static str; 2],
    pub selected: usize,
    pub on_yes: Pending,
}

/// What a confirmation does when answered with the second (non-default) choice.
#[derive(Debug, Clone)]
pub enum Pending {
    PartnerOp {
        id: i64,
        version: i32,
        op: super::msg::PartnerOp,
    },
    /// Close the form without saving; `quit` when the operator was quitting.
    DiscardForm {
        quit: bool,
    },
    ReloadForm,
    RestoreForm(Box<FormSnapshot>),
    DealState {
        id: i64,
        version: i32,
        to: crate::domain::DealState,
    },
    Import {
        path: String,
    },
}

/// What a prompt's answer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptFor {
    ImportPath,
    FlagNote { id: i64 },
    UnflagReason { id: i64 },
}

pub enum Overlay {
    None,
    /// Something to read, closed by any key.
    Info {
        title: String,
        lines: Vec<String>,
    },
    Help {
        scroll: u16,
    },
    Palette(Palette),
    Confirm(Confirm),
    /// A line of text to type (a file name), answered with Enter.
    Prompt {
        title: String,
        hint: String,
        input: String,
        purpose: PromptFor,
    },
}

/// Who is using the console and on which database (for the status bar).
#[derive(Debug, Clone)]
pub struct Session {
    pub operator: String,
    pub roles: String,
    pub registered: bool,
    pub read_only: bool,
    pub database: String,
}

pub struct App {
    pub pane: Pane,
    pub keymap: Keymap,
    full_keymap: Keymap,
    pub theme: Theme,
    pub session: Session,
    pub actor: Option<Actor>,
    pub conn: ConnState,
    pub overlay: Overlay,
    pub toasts: Vec<Toast>,
    /// Background work in progress, for the status bar.
    pub busy: Vec<(u64, String)>,
    pub partners: PartnersPane,
    pub deals: DealsPane,
    pub redemptions: RedemptionsPane,
    pub audit: AuditPane,
    /// Text being typed into the `/` filter, when filtering.
    pub filter_input: Option<String>,
    /// The filter before `/` started editing (Esc restores it).
    pub filter_before: Option<String>,
    pub should_quit: bool,
    next_gen: u64,
    /// A form offered back from an earlier session, shown once connected.
    pub recovered: Option<FormSnapshot>,
}

impl App {
    pub fn new(keymap: Keymap, theme: Theme, session: Session) -> Self {
        let full_keymap = keymap.clone();
        let keymap = if session.read_only {
            keymap.read_only()
        } else {
            keymap
        };
        Self {
            pane: Pane::Partners,
            keymap,
            full_keymap,
            theme,
            session,
            actor: None,
            conn: ConnState::Connecting,
            overlay: Overlay::None,
            toasts: Vec::new(),
            busy: Vec::new(),
            partners: PartnersPane::default(),
            deals: DealsPane::default(),
            redemptions: RedemptionsPane::default(),
            audit: AuditPane::default(),
            filter_input: None,
            filter_before: None,
            should_quit: false,
            next_gen: 1,
            recovered: None,
        }
    }

    pub fn next_tag(&mut self) -> u64 {
        self.next_gen += 1;
        self.next_gen
    }

    pub fn toast(&mut self, text: impl Into<String>) {
        self.toasts.push(Toast {
            text: text.into(),
            error: false,
            until: Instant::now() + Duration::from_secs(5),
        });
        self.trim_toasts();
    }

    pub fn toast_error(&mut self, text: impl Into<String>) {
        self.toasts.push(Toast {
            text: text.into(),
            error: true,
            until: Instant::now() + Duration::from_secs(8),
        });
        self.trim_toasts();
    }

    fn trim_toasts(&mut self) {
        let n = self.toasts.len();
        if n > 3 {
            self.toasts.drain(..n - 3);
        }
    }

    /// When the next toast expires (the loop wakes then to redraw).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.toasts.iter().map(|t| t.until).min()
    }

    pub fn start_busy(&mut self, label: impl Into<String>) -> u64 {
        let id = self.next_tag();
        self.busy.push((id, label.into()));
        id
    }

    pub fn end_busy(&mut self, id: u64) {
        self.busy.retain(|(i, _)| *i != id);
    }

    /// May the current operator do this, in this session?
    pub fn may(&self, p: Permission) -> bool {
        !self.session.read_only && self.actor.as_ref().is_some_and(|a| a.may(p))
    }

    /// Is an action offered here (keymap, palette, help)?
    pub fn available(&self, a: Action) -> bool {
        if a.is_mutating() && self.session.read_only {
            return false;
        }
        match a.context() {
            Context::Global => true,
            Context::List => !self.form_open(),
            Context::Form => self.form_open(),
            Context::Popup => matches!(self.overlay, Overlay::Confirm(_)),
        }
    }

    pub fn form_open(&self) -> bool {
        match self.pane {
            Pane::Partners => self.partners.form.is_some(),
            Pane::Deals => self.deals.form.is_some(),
            _ => false,
        }
    }

    /// The form being edited on this pane, if any.
    pub fn form_mut(&mut self) -> Option<&mut Form> {
        match self.pane {
            Pane::Partners => self.partners.form.as_mut().map(|f| &mut f.form),
            Pane::Deals => self.deals.form.as_mut().map(|f| &mut f.form),
            _ => None,
        }
    }

    /// A field of this pane's form changed: validate it and keep it for recovery.
    fn form_changed(&mut self) -> Vec<Effect> {
        match self.pane {
            Pane::Deals => super::deals::form_changed(self),
            _ => super::partners::form_changed(self),
        }
    }

    /// Closes this pane's form without saving.
    pub fn close_form(&mut self) -> Vec<Effect> {
        match self.pane {
            Pane::Deals => super::deals::close_form(self),
            _ => super::partners::close_form(self),
        }
    }

    /// The keymap context in force.
    pub fn context(&self) -> Context {
        match self.overlay {
            Overlay::Confirm(_) => Context::Popup,
            _ if self.form_open() => Context::Form,
            _ => Context::List,
        }
    }

    /// Actions for the palette: available here and bound or not.
    pub fn palette_actions(&self) -> Vec<Action> {
        let ctx = self.context();
        Action::ALL
            .iter()
            .copied()
            .filter(|a| !(a.is_mutating() && self.session.read_only))
            .filter(|a| self.pane.offers(*a))
            .filter(|a| a.context() == Context::Global || a.context() == ctx)
            .filter(|a| *a != Action::Palette)
            .collect()
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let now = Instant::now();
        self.toasts.retain(|t| t.until > now);
        match msg {
            Msg::Terminal(Event::Key(k)) if k.kind != KeyEventKind::Release => self.on_key(k),
            Msg::Terminal(Event::Paste(text)) => self.on_paste(&text),
            Msg::Terminal(_) => Vec::new(),
            Msg::Tick => Vec::new(),
            Msg::Connected(desk) => {
                let actor = desk.actor().clone();
                self.session.operator = actor.login.clone();
                self.session.roles = actor.roles_text();
                self.session.registered = actor.registered;
                if actor.read_only && !self.session.read_only {
                    self.session.read_only = true;
                    self.keymap = self.full_keymap.read_only();
                }
                self.actor = Some(actor);
                self.conn = ConnState::Connected;
                let mut fx = self.refresh_pane();
                if let Some(snap) = self.recovered.take() {
                    if self.session.read_only {
                        self.toast_error("an unsaved form from an earlier session is kept; it can be restored in a session that may edit");
                    } else {
                        self.overlay = Overlay::Confirm(Confirm {
                            title: "Unsaved form found".into(),
                            body: vec![
                                format!(
                                    "A {} form ({}) was left unsaved at {}.",
                                    snap.entity,
                                    if snap.label.trim().is_empty() {
                                        "untitled"
                                    } else {
                                        &snap.label
                                    },
                                    super::view::local(snap.saved_at)
                                ),
                                "Restore it to keep editing, or discard it.".into(),
                            ],
                            choices: ["Restore", "Discard"],
                            selected: 0,
                            on_yes: Pending::RestoreForm(Box::new(snap)),
                        });
                    }
                }
                fx.push(Effect::ExpiryJob);
                fx
            }
            Msg::ConnectFailed(e) => {
                self.conn = ConnState::Failed(e.to_string());
                Vec::new()
            }
            Msg::ConnectionLost => {
                if self.conn != ConnState::Reconnecting {
                    self.conn = ConnState::Reconnecting;
                    self.toast_error("lost the database connection; reconnecting…");
                }
                Vec::new()
            }
            Msg::Reconnected => {
                self.conn = ConnState::Connected;
                self.toast("reconnected to the database");
                self.refresh_pane()
            }
            Msg::ExpiryDone(Ok(n)) => {
                if n > 0 {
                    self.toast(format!(
                        "expiry job: {n} deal{} expired",
                        if n == 1 { "" } else { "s" }
                    ));
                }
                Vec::new()
            }
            Msg::ExpiryDone(Err(e)) => {
                tracing::warn!(error = %e, "expiry job failed");
                Vec::new()
            }
            Msg::Copied(Ok(n)) => {
                self.toast(format!(
                    "copied {n} byte{} to the clipboard",
                    if n == 1 { "" } else { "s" }
                ));
                Vec::new()
            }
            Msg::Copied(Err(e)) => {
                self.toast_error(e);
                Vec::new()
            }
            Msg::Audit {
                tag,
                append,
                result,
            } => {
                if let Err(e) = self.audit.loaded(tag, append, result) {
                    self.toast_error(e);
                }
                Vec::new()
            }
            msg @ (Msg::Deals { .. }
            | Msg::DealDetail { .. }
            | Msg::DealSaved { .. }
            | Msg::DealStateDone { .. }
            | Msg::Imported { .. }) => super::deals::on_msg(self, msg),
            Msg::DealCount { deal_id, count } => {
                super::redemptions::count_changed(self, deal_id, count);
                super::deals::on_msg(self, Msg::DealCount { deal_id, count })
            }
            msg @ (Msg::Monitor { .. }
            | Msg::Signals { .. }
            | Msg::Redemptions { .. }
            | Msg::RedemptionTimeline { .. }
            | Msg::FlagDone { .. }
            | Msg::ExportProgress { .. }
            | Msg::ExportDone { .. }) => super::redemptions::on_msg(self, msg),
            other => super::partners::on_msg(self, other),
        }
    }

    /// Reloads what the current pane shows.
    pub fn refresh_pane(&mut self) -> Vec<Effect> {
        match self.pane {
            Pane::Partners => super::partners::reload(self),
            Pane::Deals => super::deals::reload(self),
            Pane::Redemptions => super::redemptions::reload(self),
            Pane::Audit => {
                let tag = self.next_tag();
                self.audit.request(tag, false)
            }
            _ => Vec::new(),
        }
    }

    fn switch(&mut self, pane: Pane) -> Vec<Effect> {
        if self.pane == pane {
            return Vec::new();
        }
        self.pane = pane;
        self.filter_input = None;
        let needs_load = match pane {
            Pane::Partners => self.partners.list.rows.is_empty(),
            Pane::Deals => self.deals.list.rows.is_empty(),
            Pane::Redemptions => self.redemptions.rows.is_empty(),
            Pane::Audit => self.audit.rows.is_empty(),
            _ => false,
        };
        if needs_load && self.conn == ConnState::Connected {
            self.refresh_pane()
        } else {
            Vec::new()
        }
    }

    /// The `/` filter text changed: ask the server again (older answers are dropped).
    fn filter_changed(&mut self) -> Vec<Effect> {
        match self.pane {
            Pane::Partners => super::partners::filter_changed(self),
            Pane::Deals => super::deals::filter_changed(self),
            Pane::Redemptions => super::redemptions::filter_changed(self),
            Pane::Audit => {
                let text = self.filter_input.clone().unwrap_or_default();
                let tag = self.next_tag();
                self.audit.set_filter(&text, tag)
            }
            _ => Vec::new(),
        }
    }

    fn filter_key(&mut self, ev: KeyEvent) -> Vec<Effect> {
        use crossterm::event::{KeyCode, KeyModifiers};
        let Some(input) = self.filter_input.as_mut() else {
            return Vec::new();
        };
        match ev.code {
            KeyCode::Enter => {
                self.filter_input = None;
                self.filter_before = None;
                Vec::new()
            }
            KeyCode::Esc => {
                self.filter_input = self.filter_before.take();
                let fx = self.filter_changed();
                self.filter_input = None;
                fx
            }
            KeyCode::Backspace => {
                input.pop();
                self.filter_changed()
            }
            KeyCode::Char(c) if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
                input.push(c);
                self.filter_changed()
            }
            _ => Vec::new(),
        }
    }

    fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        if let Some(f) = &mut self.filter_input {
            f.push_str(text.lines().next().unwrap_or(""));
            return self.filter_changed();
        }
        if let Some(form) = self.form_mut() {
            if let Some(field) = form.fields.get_mut(form.focus) {
                field.area.insert_str(text);
                form.dirty = true;
            }
            return self.form_changed();
        }
        Vec::new()
    }

    fn on_key(&mut self, ev: KeyEvent) -> Vec<Effect> {
        let Some(key) = Key::from_event(&ev) else {
            return Vec::new();
        };
        // Overlays first.
        match &mut self.overlay {
            Overlay::Help { scroll } => {
                match self.keymap.resolve(Context::List, key) {
                    Some(Action::Down) => *scroll = scroll.saturating_add(1),
                    Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                    Some(Action::Quit) => self.should_quit = true,
                    _ => self.overlay = Overlay::None,
                }
                return Vec::new();
            }
            Overlay::Info { .. } => {
                self.overlay = Overlay::None;
                return Vec::new();
            }
            Overlay::Prompt { input, purpose, .. } => {
                use crossterm::event::KeyCode;
                match ev.code {
                    KeyCode::Esc => self.overlay = Overlay::None,
                    KeyCode::Enter => {
                        let text = input.trim().to_owned();
                        let purpose = purpose.clone();
                        self.overlay = Overlay::None;
                        return match purpose {
                            PromptFor::ImportPath => super::deals::import_preview(self, text),
                            other => super::redemptions::answered(self, other, text),
                        };
                    }
                    KeyCode::Backspace => {
                        input.pop();
                    }
                    KeyCode::Char(c) if !key.ctrl => input.push(c),
                    _ => {}
                }
                return Vec::new();
            }
            Overlay::Palette(p) => {
                use crossterm::event::KeyCode;
                match ev.code {
                    KeyCode::Esc => self.overlay = Overlay::None,
                    KeyCode::Enter => {
                        let chosen = p.chosen();
                        self.overlay = Overlay::None;
                        if let Some(a) = chosen {
                            return self.perform(a);
                        }
                    }
                    KeyCode::Down | KeyCode::Tab => {
                        p.selected = (p.selected + 1).min(p.matches.len().saturating_sub(1))
                    }
                    KeyCode::Up | KeyCode::BackTab => p.selected = p.selected.saturating_sub(1),
                    KeyCode::Backspace => {
                        p.query.pop();
                        p.refilter();
                    }
                    KeyCode::Char(c) if !key.ctrl => {
                        p.query.push(c);
                        p.selected = 0;
                        p.refilter();
                    }
                    _ => {}
                }
                return Vec::new();
            }
            Overlay::Confirm(_) => {
                return match self.keymap.resolve(Context::Popup, key) {
                    Some(a) => self.perform(a),
                    None => {
                        // y/n answer directly, as people expect.
                        match key.code {
                            super::keymap::KeyCodeOrd::Char('y') => self.answer(true),
                            super::keymap::KeyCodeOrd::Char('n') => self.answer(false),
                            _ => Vec::new(),
                        }
                    }
                };
            }
            Overlay::None => {}
        }
        if self.filter_input.is_some() {
            return self.filter_key(ev);
        }
        if self.form_open() {
            if let Some(a) = self.keymap.resolve(Context::Form, key).or_else(|| {
                self.keymap
                    .resolve_global_non_text(key)
                    .filter(|a| matches!(a, Action::Quit | Action::Help | Action::Palette))
            }) {
                return self.perform(a);
            }
            if let Some(form) = self.form_mut()
                && form.input(ev)
            {
                return self.form_changed();
            }
            return Vec::new();
        }
        match self.keymap.resolve(Context::List, key) {
            Some(a) => self.perform(a),
            None => Vec::new(),
        }
    }

    fn answer(&mut self, yes: bool) -> Vec<Effect> {
        let Overlay::Confirm(c) = std::mem::replace(&mut self.overlay, Overlay::None) else {
            return Vec::new();
        };
        match (yes, c.on_yes) {
            (true, Pending::DiscardForm { quit }) => {
                self.should_quit = quit;
                self.close_form()
            }
            // The non-default answer to "restore?" is "discard".
            (true, Pending::RestoreForm(_)) => {
                self.toast("unsaved form discarded");
                vec![Effect::TrackForm(None)]
            }
            (false, Pending::RestoreForm(snap)) => {
                self.toast("unsaved form restored; Ctrl-s saves it");
                if snap.entity == "deal" {
                    self.pane = Pane::Deals;
                    super::deals::restore(self, &snap)
                } else {
                    self.pane = Pane::Partners;
                    super::partners::restore(self, &snap)
                }
            }
            (true, p @ (Pending::DealState { .. } | Pending::Import { .. })) => {
                super::deals::confirmed(self, p)
            }
            (true, Pending::ReloadForm) if self.pane == Pane::Deals => {
                super::deals::confirmed(self, Pending::ReloadForm)
            }
            (true, p) => super::partners::confirmed(self, p),
            (false, _) => Vec::new(),
        }
    }

    /// Does what an action means here. Unavailable actions are refused with the reason.
    pub fn perform(&mut self, a: Action) -> Vec<Effect> {
        if a.is_mutating() && self.session.read_only {
            self.toast_error(format!("{a} is not available: read-only session"));
            return Vec::new();
        }
        match a {
            Action::Quit => {
                if self.form_mut().is_some_and(|f| f.dirty) {
                    return super::partners::ask_discard(self, true);
                }
                self.should_quit = true;
                Vec::new()
            }
            Action::Help => {
                self.overlay = match self.overlay {
                    Overlay::Help { .. } => Overlay::None,
                    _ => Overlay::Help { scroll: 0 },
                };
                Vec::new()
            }
            Action::Palette => {
                self.overlay = Overlay::Palette(Palette::new(self.palette_actions()));
                Vec::new()
            }
            Action::NextPane => self.switch(Pane::ALL[(self.pane.index() + 1) % Pane::ALL.len()]),
            Action::PrevPane => {
                self.switch(Pane::ALL[(self.pane.index() + Pane::ALL.len() - 1) % Pane::ALL.len()])
            }
            Action::PanePartners => self.switch(Pane::Partners),
            Action::PaneDeals => self.switch(Pane::Deals),
            Action::PaneRedemptions => self.switch(Pane::Redemptions),
            Action::PaneNegotiations => self.switch(Pane::Negotiations),
            Action::PaneSettlements => self.switch(Pane::Settlements),
            Action::PaneAudit => self.switch(Pane::Audit),
            Action::Confirm => {
                let yes = matches!(&self.overlay, Overlay::Confirm(c) if c.selected == 1);
                self.answer(yes)
            }
            Action::Dismiss => self.answer(false),
            Action::ToggleChoice => {
                if let Overlay::Confirm(c) = &mut self.overlay {
                    c.selected = 1 - c.selected;
                }
                Vec::new()
            }
            Action::Filter if self.pane == Pane::Audit => {
                self.filter_before = Some(self.audit.filter_text.clone());
                self.filter_input = Some(self.audit.filter_text.clone());
                Vec::new()
            }
            _ => match self.pane {
                Pane::Partners => super::partners::perform(self, a),
                Pane::Deals => super::deals::perform(self, a),
                Pane::Redemptions => super::redemptions::perform(self, a),
                Pane::Audit => {
                    let tag = self.next_tag();
                    self.audit.perform(a, tag)
                }
                _ => Vec::new(),
            },
        }
    }
}
