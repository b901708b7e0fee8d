//! The console's state and how it changes. `App::update` takes a message and returns the
//! background work to start; it never awaits anything, so the UI never blocks. What is common
//! to every pane is the `Shell`; what a pane does is its own (`panes/`).

use crate::console::action::{Action, Context};
use crate::console::form::Form;
use crate::console::keymap::{Key, KeyCodeOrd, Keymap};
use crate::console::msg::{Effect, Msg};
use crate::console::palette::Palette;
use crate::console::pane::{Answer, AnyPane};
use crate::console::panes::{PaneId, Panes};
use crate::console::recovery::FormSnapshot;
use crate::console::shell::Shell;
use crate::console::theme::Theme;
use crate::domain::Permission;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::ops::{Deref, DerefMut};
use std::time::Instant;

mod bulk;
mod export;
mod marks;
mod mouse;
pub mod views;

pub use crate::console::shell::{Confirm, ConnState, Overlay, Pending, Session, Toast};

pub struct App {
    pub shell: Shell,
    /// The pane on screen.
    pub pane: PaneId,
    pub panes: Panes,
    pub should_quit: bool,
    /// A form offered back from an earlier session, shown once connected.
    pub recovered: Option<FormSnapshot>,
    /// The bulk run on its way (one at a time).
    pub bulk: Option<crate::console::bulk::BulkRunning>,
    /// The list export on its way (one at a time).
    pub exporting: Option<export::Exporting>,
}

/// The shell's fields read as the app's own (`app.overlay`, `app.theme`, …).
impl Deref for App {
    type Target = Shell;
    fn deref(&self) -> &Shell {
        &self.shell
    }
}

impl DerefMut for App {
    fn deref_mut(&mut self) -> &mut Shell {
        &mut self.shell
    }
}

impl App {
    pub fn new(keymap: Keymap, theme: Theme, session: Session) -> Self {
        Self {
            shell: Shell::new(keymap, theme, session),
            pane: PaneId::Partners,
            panes: Panes::default(),
            should_quit: false,
            recovered: None,
            exporting: None,
            bulk: None,
        }
    }

    /// The pane on screen.
    pub fn current(&self) -> &dyn AnyPane {
        self.panes.get(self.pane)
    }

    /// The pane on screen and the shell, borrowed together.
    fn split(&mut self) -> (&mut dyn AnyPane, &mut Shell) {
        (self.panes.get_mut(self.pane), &mut self.shell)
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
        self.current().form().is_some()
    }

    /// The form being edited on this pane, if any.
    pub fn form_mut(&mut self) -> Option<&mut Form> {
        self.panes.get_mut(self.pane).form_mut()
    }

    /// A field of this pane's form changed: the pane validates it and keeps it for recovery.
    pub fn form_changed(&mut self) -> Vec<Effect> {
        let (pane, sh) = self.split();
        pane.form_changed(sh)
    }

    /// Closes this pane's form without saving.
    pub fn close_form(&mut self) -> Vec<Effect> {
        let (pane, sh) = self.split();
        pane.close_form(sh)
    }

    /// The keymap context in force.
    pub fn context(&self) -> Context {
        match self.overlay {
            Overlay::Confirm(_) => Context::Popup,
            _ if self.form_open() => Context::Form,
            _ => Context::List,
        }
    }

    /// What a key does here: the current pane's own bindings win over the `[list]` section.
    pub fn resolve(&self, ctx: Context, key: Key) -> Option<Action> {
        self.keymap.resolve_in(ctx, key, self.pane.key())
    }

    /// The permission an action needs here: a global action's own, else the pane's.
    pub fn needs(&self, a: Action) -> Option<Permission> {
        match a {
            Action::Webhooks => Some(Permission::ViewWebhooks),
            _ => self.current().needs(a),
        }
    }

    /// Actions for the palette: available here and bound or not.
    pub fn palette_actions(&self) -> Vec<Action> {
        let ctx = self.context();
        let pane = self.current();
        let mut actions: Vec<Action> = Action::ALL
            .iter()
            .copied()
            .filter(|a| !(a.is_mutating() && self.session.read_only))
            .filter(|a| a.context() == Context::Global || (a.context() == ctx && pane.offers(*a)))
            .filter(|a| self.needs(*a).is_none_or(|p| self.may(p)))
            .filter(|a| *a != Action::Palette)
            .collect();
        // This pane's own actions first, then the global ones, the list moves after them and
        // quitting last: `:` `Enter` never quits.
        let rank = |a: &Action| match a {
            Action::Quit => 3,
            a if a.moves_in_list() => 2,
            a if a.context() == ctx && ctx != Context::Global => 0,
            _ => 1,
        };
        actions.sort_by_key(rank);
        actions
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let now = Instant::now();
        self.toasts.retain(|t| t.until > now);
        match msg {
            Msg::Terminal(Event::Key(k)) if k.kind != KeyEventKind::Release => self.on_key(k),
            Msg::Terminal(Event::Mouse(m)) => self.on_mouse(m),
            Msg::Terminal(Event::Paste(_)) if self.too_small() => Vec::new(),
            Msg::Terminal(Event::Paste(text)) => self.on_paste(&text),
            Msg::Terminal(Event::Resize(w, h)) => {
                self.shell.size = Some((w, h));
                Vec::new()
            }
            Msg::Terminal(_) | Msg::Tick => Vec::new(),
            Msg::Connected(desk) => {
                let actor = desk.actor().clone();
                self.session.operator = actor.login.clone();
                self.session.roles = actor.roles_text();
                self.session.registered = actor.registered;
                if actor.read_only && !self.session.read_only {
                    self.session.read_only = true;
                    self.shell.keymap = self.shell.full_keymap.read_only();
                }
                self.actor = Some(actor);
                self.conn = ConnState::Connected;
                let mut fx = self.refresh_pane();
                if let Some(snap) = self.recovered.take() {
                    self.offer_recovered(snap);
                }
                fx.push(Effect::ExpiryJob);
                fx
            }
            Msg::ConnectFailed(e) => {
                // The status bar says why; a new reason is also kept among the messages, whole.
                let failed = ConnState::Failed(e.to_string());
                if self.conn != failed {
                    self.toast_error(format!("cannot connect: {e}"));
                }
                self.conn = failed;
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
            Msg::Copied(Ok(what)) => {
                self.toast(format!("copied {what}"));
                Vec::new()
            }
            Msg::Copied(Err(e)) => {
                self.toast_error(e);
                Vec::new()
            }
            // Every pane may show what the database announced.
            Msg::Notice(n) => {
                let mut fx = Vec::new();
                for id in PaneId::ALL {
                    fx.extend(self.panes.get_mut(*id).notice(&mut self.shell, n));
                }
                fx
            }
            Msg::Pane(m) => self.panes.on_msg(&mut self.shell, m),
            Msg::MarkedAll { pane, tag, result } => self.marked_all(pane, tag, result),
            Msg::BulkProgress { done, total } => self.bulk_progress(done, total),
            Msg::ExportProgress { rows } => self.export_progress(rows),
            Msg::ListExported { path, result, .. } => self.list_exported(path, result),
            Msg::BulkDone { pane, result } => self.bulk_done(pane, result),
        }
    }

    fn offer_recovered(&mut self, snap: FormSnapshot) {
        if self.session.read_only {
            self.toast_error("an unsaved form from an earlier session is kept; it can be restored in a session that may edit");
            return;
        }
        let body = vec![
            format!(
                "A {} form ({}) was left unsaved at {}.",
                snap.entity,
                if snap.label.trim().is_empty() {
                    "untitled"
                } else {
                    &snap.label
                },
                crate::console::view::local(snap.saved_at)
            ),
            "Restore it to keep editing, or discard it.".into(),
        ];
        self.shell.confirm(
            "Unsaved form found",
            body,
            ["Restore", "Discard"],
            Pending::RestoreForm(Box::new(snap)),
        );
    }

    /// Reloads what the current pane shows.
    pub fn refresh_pane(&mut self) -> Vec<Effect> {
        let (pane, sh) = self.split();
        pane.reload(sh)
    }

    fn switch(&mut self, pane: PaneId) -> Vec<Effect> {
        if self.pane == pane {
            return Vec::new();
        }
        self.pane = pane;
        self.filter_input = None;
        self.shell.filter_good = None;
        if self.current().needs_load() && self.conn == ConnState::Connected {
            self.refresh_pane()
        } else {
            Vec::new()
        }
    }

    /// The `/` filter text changed: the pane asks the server again.
    fn filter_changed(&mut self) -> Vec<Effect> {
        let text = self.filter_input.clone().unwrap_or_default();
        let (pane, sh) = self.split();
        pane.filter_changed(sh, &text)
    }

    fn filter_key(&mut self, ev: KeyEvent) -> Vec<Effect> {
        let Some(input) = self.shell.filter_input.as_mut() else {
            return Vec::new();
        };
        match ev.code {
            KeyCode::Enter => {
                let kept = self.filter_input.take();
                if self.current().filter_error().is_none() {
                    self.shell.filter_good = kept;
                }
                self.filter_before = None;
                Vec::new()
            }
            KeyCode::Esc => {
                self.shell.filter_input = self.shell.filter_before.take();
                let fx = self.filter_changed();
                self.filter_input = None;
                fx
            }
            KeyCode::Backspace => {
                input.pop();
                self.filter_changed()
            }
            // As in a shell: Ctrl-u clears the line, Ctrl-w the last word.
            KeyCode::Char('u') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                input.clear();
                self.filter_changed()
            }
            KeyCode::Char('w') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                let kept = input.trim_end().rfind(' ').map_or(0, |i| i + 1);
                input.truncate(kept);
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
        if let Some(f) = &mut self.shell.filter_input {
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

    /// A key while an overlay is open; `None` when no overlay took it.
    fn overlay_key(&mut self, ev: KeyEvent, key: Key) -> Option<Vec<Effect>> {
        match &mut self.shell.overlay {
            Overlay::None => None,
            Overlay::Help { scroll } => {
                match self.shell.keymap.resolve(Context::List, key) {
                    Some(Action::Down) => *scroll = scroll.saturating_add(1),
                    Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                    Some(Action::Quit) => self.should_quit = true,
                    _ => self.shell.overlay = Overlay::None,
                }
                Some(Vec::new())
            }
            Overlay::Info { .. } => {
                self.shell.overlay = Overlay::None;
                Some(Vec::new())
            }
            Overlay::Prompt(p) => {
                match ev.code {
                    KeyCode::Esc => self.shell.overlay = Overlay::None,
                    KeyCode::Enter => {
                        let text = p.input.trim().to_owned();
                        let purpose = p.purpose.clone();
                        let asked = std::mem::replace(&mut self.shell.overlay, Overlay::None);
                        self.shell.reask = None;
                        let fx = self.answer_pane(purpose, Answer::Text(text));
                        // The pane did not take the text: ask again, the error beside it.
                        if let (Some(error), Overlay::Prompt(mut p)) =
                            (self.shell.reask.take(), asked)
                        {
                            p.error = Some(error);
                            self.shell.overlay = Overlay::Prompt(p);
                        }
                        return Some(fx);
                    }
                    KeyCode::Backspace => {
                        p.input.pop();
                    }
                    KeyCode::Char('u') if key.ctrl => p.input.clear(),
                    KeyCode::Char(c) if !key.ctrl => p.input.push(c),
                    _ => return Some(Vec::new()),
                }
                // What would be refused is said beside the text as it is typed.
                if let Overlay::Prompt(p) = &mut self.shell.overlay {
                    p.error = App::bulk_check(&p.purpose, p.input.trim())
                        .unwrap_or_else(|| self.panes.check_answer(&p.purpose, p.input.trim()));
                }
                Some(Vec::new())
            }
            Overlay::Palette(p) => {
                match ev.code {
                    KeyCode::Esc => self.shell.overlay = Overlay::None,
                    KeyCode::Enter => {
                        // `view save NAME`, `view NAME`: a command, not an action to find.
                        if let Some(cmd) = views::parse_command(&p.query) {
                            self.shell.overlay = Overlay::None;
                            return Some(match cmd {
                                Ok(cmd) => self.view_command(cmd),
                                Err(e) => {
                                    self.shell.toast_error(e);
                                    Vec::new()
                                }
                            });
                        }
                        let chosen = p.chosen();
                        self.shell.overlay = Overlay::None;
                        if let Some(a) = chosen {
                            return Some(self.perform(a));
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
                Some(Vec::new())
            }
            Overlay::Confirm(_) => Some(match self.shell.keymap.resolve(Context::Popup, key) {
                Some(a) => self.perform(a),
                // y/n answer directly, as people expect.
                None => match key.code {
                    KeyCodeOrd::Char('y') => self.answer(true),
                    KeyCodeOrd::Char('n') => self.answer(false),
                    _ => Vec::new(),
                },
            }),
        }
    }

    fn on_key(&mut self, ev: KeyEvent) -> Vec<Effect> {
        let Some(key) = Key::from_event(&ev) else {
            return Vec::new();
        };
        // Only "terminal too small" shows: a key must not edit or act on what is hidden.
        // Quitting and help still work.
        if self.too_small() {
            // In a form a letter is text, so only a non-text key (Ctrl-c, F1) quits or helps.
            let action = if self.form_open() {
                self.keymap.resolve_global_non_text(key)
            } else {
                self.resolve(Context::List, key)
            };
            return match action {
                Some(a @ (Action::Quit | Action::Help))
                    if matches!(self.overlay, Overlay::None) =>
                {
                    self.perform(a)
                }
                _ => Vec::new(),
            };
        }
        if let Some(fx) = self.overlay_key(ev, key) {
            return fx;
        }
        if self.filter_input.is_some() {
            return self.filter_key(ev);
        }
        if self.form_open() {
            if let Some(a) = self.resolve(Context::Form, key).or_else(|| {
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
        if let Some(fx) = self.view_key(key) {
            return fx;
        }
        match self.resolve(Context::List, key) {
            Some(a) => self.perform(a),
            None => Vec::new(),
        }
    }

    /// A pane's question was answered: the pane that asked it acts.
    fn answer_pane(&mut self, q: crate::console::shell::PaneQuestion, a: Answer) -> Vec<Effect> {
        let q = match self.bulk_answered(q, &a) {
            Ok(fx) => return fx,
            Err(q) => q,
        };
        let q = match (&a, q) {
            (Answer::Text(text), q) => match self.export_answered(q, text) {
                Ok(fx) => return fx,
                Err(q) => q,
            },
            (_, q) => q,
        };
        self.panes.answered(&mut self.shell, q, a)
    }

    fn answer(&mut self, yes: bool) -> Vec<Effect> {
        let Overlay::Confirm(c) = std::mem::replace(&mut self.shell.overlay, Overlay::None) else {
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
                for id in PaneId::ALL {
                    if let Some(fx) = self.panes.get_mut(*id).restore(&mut self.shell, &snap) {
                        self.pane = *id;
                        return fx;
                    }
                }
                self.toast_error(format!("no pane edits a {} form", snap.entity));
                Vec::new()
            }
            (true, Pending::Pane(q)) => self.answer_pane(q, Answer::Yes),
            (false, _) => Vec::new(),
        }
    }

    /// Does what an action means here. Unavailable actions are refused with the reason.
    pub fn perform(&mut self, a: Action) -> Vec<Effect> {
        if a.is_mutating() && self.session.read_only {
            self.toast_error(format!("{a} is not available: read-only session"));
            return Vec::new();
        }
        let n = PaneId::ALL.len();
        if let Some(fx) = self.bulk_action(a) {
            return fx;
        }
        if a == Action::Export
            && let Some(fx) = self.export_action()
        {
            return fx;
        }
        if let Some(fx) = self.marking_action(a) {
            return fx;
        }
        match a {
            Action::Quit => {
                if self.form_mut().is_some_and(|f| f.dirty) {
                    self.shell.ask_discard(true);
                    return Vec::new();
                }
                self.should_quit = true;
                Vec::new()
            }
            Action::Help => {
                self.shell.overlay = match self.overlay {
                    Overlay::Help { .. } => Overlay::None,
                    _ => Overlay::Help { scroll: 0 },
                };
                Vec::new()
            }
            Action::Palette => {
                self.shell.overlay = Overlay::Palette(Palette::new(self.palette_actions()));
                Vec::new()
            }
            Action::NextPane => self.switch(PaneId::ALL[(self.pane.index() + 1) % n]),
            Action::PrevPane => self.switch(PaneId::ALL[(self.pane.index() + n - 1) % n]),
            Action::PanePartners => self.switch(PaneId::Partners),
            Action::PaneDeals => self.switch(PaneId::Deals),
            Action::PaneRedemptions => self.switch(PaneId::Redemptions),
            Action::PaneNegotiations => self.switch(PaneId::Negotiations),
            Action::PaneSettlements => self.switch(PaneId::Settlements),
            Action::PaneAudit => self.switch(PaneId::Audit),
            Action::Messages => {
                self.shell.show_messages();
                Vec::new()
            }
            Action::Webhooks => {
                if !self.shell.require(Permission::ViewWebhooks) {
                    return Vec::new();
                }
                self.pane = PaneId::Audit;
                self.filter_input = None;
                self.panes.audit.open_hooks(&mut self.shell)
            }
            Action::Confirm => {
                let yes = matches!(&self.overlay, Overlay::Confirm(c) if c.selected == 1);
                self.answer(yes)
            }
            Action::Dismiss => self.answer(false),
            Action::ToggleChoice => {
                if let Overlay::Confirm(c) = &mut self.shell.overlay {
                    c.selected = 1 - c.selected;
                }
                Vec::new()
            }
            // A form moves between its fields and closes the same way on every pane.
            Action::NextField | Action::PrevField => {
                if a == Action::NextField {
                    let (pane, sh) = self.split();
                    if let Some(fx) = pane.complete(sh) {
                        return fx;
                    }
                }
                if let Some(form) = self.form_mut() {
                    form.step(a == Action::NextField);
                }
                Vec::new()
            }
            Action::Cancel => match self.form_mut().map(|f| f.dirty) {
                Some(true) => {
                    self.shell.ask_discard(false);
                    Vec::new()
                }
                Some(false) => self.close_form(),
                None => Vec::new(),
            },
            // `/` edits the pane's filter where it has one; elsewhere the pane says why not.
            // A filter kept that does not read: Esc restores the last one that did, in the
            // same list (Esc again goes back).
            Action::Back if self.current().filter_error().is_some() => {
                let good = self.shell.filter_good.clone().unwrap_or_default();
                self.shell.toast(if good.trim().is_empty() {
                    "filter cleared".to_owned()
                } else {
                    format!("filter restored to “{}”", good.trim())
                });
                let (pane, sh) = self.split();
                pane.filter_changed(sh, &good)
            }
            Action::Filter if self.current().filter_text().is_some() => {
                let current = self.current().filter_text().unwrap_or_default();
                if self.current().filter_error().is_none() {
                    self.shell.filter_good = Some(current.clone());
                }
                self.filter_before = Some(current.clone());
                self.filter_input = Some(current);
                Vec::new()
            }
            _ => {
                let (pane, sh) = self.split();
                let mut fx = pane.perform(sh, a);
                // The pane sent the operator to a record of another pane.
                if let Some((to, id)) = self.shell.goto.take()
                    && let Some(to) = PaneId::of_key(to)
                {
                    self.pane = to;
                    self.filter_input = None;
                    let (pane, sh) = self.split();
                    fx.extend(pane.show(sh, id));
                }
                fx
            }
        }
    }
}
