//! The one shape of a pane: the [`Pane`] trait a pane folder under `panes/` implements, the
//! object-safe [`AnyPane`] the app holds every pane as, and [`Task`], a pane's background work.
//! This is framework: it knows no pane (the app's registry in `panes/mod.rs` lists them).

use super::action::Action;
use super::bulk::{BulkOffer, MarkQuery};
use super::export::ExportPlan;
use super::form::Form;
use super::list::Markable;
pub use super::msg::Task;
use super::msg::{Effect, Notice};
use super::recovery::FormSnapshot;
use super::shell::{Asked, Shell};
use crate::domain::Permission;
use ratatui::Frame;
use ratatui::layout::Rect;

/// How a pane's question was answered: the confirming choice of a confirmation, or the text
/// typed into a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Yes,
    Text(String),
}

/// The answers of a pane's background work.
pub type MsgOf<P> = <<P as Pane>::Effect as Task>::Msg;

/// A pane of the console.
pub trait Pane: Default {
    /// Its background work.
    type Effect: Task;
    /// What its confirmations and prompts ask.
    type Question: Asked;

    /// The tab's title.
    const TITLE: &'static str;
    /// The keymap section `[pane.KEY]` whose bindings win over `[list]` on this pane.
    const KEY: &'static str;

    /// Does this pane do something with a list, form or popup action? (The palette and the
    /// help offer only those; global actions are the app's.)
    fn offers(&self, a: Action) -> bool;

    /// The actions the footer line shows the keys of, in the list or detail.
    fn main_actions(&self) -> &'static [Action] {
        &[]
    }

    /// The permission an action needs on this pane, if any (help marks it, the palette hides
    /// it, from operators whose roles lack it).
    fn needs(&self, _a: Action) -> Option<Permission> {
        None
    }

    /// Nothing loaded yet (switching to the pane loads it).
    fn needs_load(&self) -> bool;

    /// Reloads what the pane shows.
    fn reload(&mut self, sh: &mut Shell) -> Vec<Effect>;

    /// Does what an action means here.
    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<Effect>;

    /// Takes the answer of its background work (stale answers are dropped here).
    fn on_msg(&mut self, sh: &mut Shell, msg: MsgOf<Self>) -> Vec<Effect>;

    /// One of its questions was answered (only the non-default answer reaches it).
    fn answered(&mut self, sh: &mut Shell, q: Self::Question, a: Answer) -> Vec<Effect>;

    /// What is wrong with `text` as the answer to a prompt, said beside it as it is typed
    /// (`None`: it would be taken).
    fn check_answer(&self, _q: &Self::Question, _text: &str) -> Option<String> {
        None
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell);

    /// The `/` filter's current text, or `None` when this view has no filter.
    fn filter_text(&self) -> Option<String> {
        None
    }

    /// The `/` text changed: ask the server again (older answers will be dropped).
    fn filter_changed(&mut self, _sh: &mut Shell, _text: &str) -> Vec<Effect> {
        Vec::new()
    }

    /// What the filter line says can be typed.
    fn filter_hint(&self) -> &'static str {
        ""
    }

    /// What in the `/` text did not read (shown beside it while it is typed).
    fn filter_error(&self) -> Option<String> {
        None
    }

    fn form(&self) -> Option<&Form> {
        None
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        None
    }

    /// A field of the form changed: validate it and keep it for recovery.
    fn form_changed(&mut self, _sh: &mut Shell) -> Vec<Effect> {
        Vec::new()
    }

    /// Closes the form without saving.
    fn close_form(&mut self, _sh: &mut Shell) -> Vec<Effect> {
        Vec::new()
    }

    /// Tab in the form: completes the focused field when it can (`Some`), else the focus moves.
    fn complete(&mut self, _sh: &mut Shell) -> Option<Vec<Effect>> {
        None
    }

    /// Opens a form saved by an earlier session, when it is this pane's (`None` otherwise).
    fn restore(&mut self, _sh: &mut Shell, _snap: &FormSnapshot) -> Option<Vec<Effect>> {
        None
    }

    /// Something announced by the database.
    fn notice(&mut self, _sh: &mut Shell, _n: Notice) -> Vec<Effect> {
        Vec::new()
    }

    /// Another pane sent the operator here to see record `id` (e.g. the draft deal of an
    /// accepted negotiation).
    fn show(&mut self, _sh: &mut Shell, _id: i64) -> Vec<Effect> {
        Vec::new()
    }

    /// The list the keys move in, when its rows can be marked (`None`: a detail is open, or
    /// this view has no bulk action).
    fn marking(&mut self) -> Option<&mut dyn Markable> {
        None
    }

    /// How to ask the server for every row the filter matches (`Ctrl-a`).
    fn mark_query(&self) -> Option<MarkQuery> {
        None
    }

    /// The keys of its list's columns (`[columns.KEY] show` may name them); none: its columns
    /// cannot be chosen.
    fn column_keys(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// What `x` exports here (every row the filter matches, in the visible columns), when the
    /// list exports this way (`None`: no list on screen, or the pane exports its own way).
    fn list_export(&self, _sh: &Shell) -> Option<ExportPlan> {
        None
    }

    /// The list's sort, as its title says it, and whether it runs backwards (`None`: this
    /// view has no saved views).
    fn sort(&self) -> Option<(&'static str, bool)> {
        None
    }

    /// The names of the sorts `sort_by` takes.
    fn sorts(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Sorts by the sort named `name` (the list reloads when its filter is set next).
    fn sort_by(&mut self, _name: &str, _descending: bool) -> Result<(), String> {
        Err("this list has no sorts".into())
    }

    /// What is wrong with `text` as this list's `/` filter (`None`: it reads).
    fn check_filter(&self, _text: &str) -> Option<String> {
        None
    }

    /// What action `a` does to every marked row, when it runs in bulk here.
    fn bulk(&self, _a: Action) -> Option<BulkOffer> {
        None
    }
}

/// The part of [`Pane`] that needs none of its types, so that the app can hold any pane.
/// Implemented for every pane; nobody implements it by hand.
pub trait AnyPane {
    fn title(&self) -> &'static str;
    fn key(&self) -> &'static str;
    fn offers(&self, a: Action) -> bool;
    fn needs(&self, a: Action) -> Option<Permission>;
    fn main_actions(&self) -> &'static [Action];
    fn needs_load(&self) -> bool;
    fn reload(&mut self, sh: &mut Shell) -> Vec<Effect>;
    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<Effect>;
    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell);
    fn filter_text(&self) -> Option<String>;
    fn filter_changed(&mut self, sh: &mut Shell, text: &str) -> Vec<Effect>;
    fn filter_hint(&self) -> &'static str;
    fn filter_error(&self) -> Option<String>;
    fn form(&self) -> Option<&Form>;
    fn form_mut(&mut self) -> Option<&mut Form>;
    fn form_changed(&mut self, sh: &mut Shell) -> Vec<Effect>;
    fn close_form(&mut self, sh: &mut Shell) -> Vec<Effect>;
    fn complete(&mut self, sh: &mut Shell) -> Option<Vec<Effect>>;
    fn restore(&mut self, sh: &mut Shell, snap: &FormSnapshot) -> Option<Vec<Effect>>;
    fn notice(&mut self, sh: &mut Shell, n: Notice) -> Vec<Effect>;
    fn show(&mut self, sh: &mut Shell, id: i64) -> Vec<Effect>;
    fn marking(&mut self) -> Option<&mut dyn Markable>;
    fn mark_query(&self) -> Option<MarkQuery>;
    fn bulk(&self, a: Action) -> Option<BulkOffer>;
    fn column_keys(&self) -> Vec<&'static str>;
    fn list_export(&self, sh: &Shell) -> Option<ExportPlan>;
    fn sort(&self) -> Option<(&'static str, bool)>;
    fn sorts(&self) -> Vec<&'static str>;
    fn sort_by(&mut self, name: &str, descending: bool) -> Result<(), String>;
    fn check_filter(&self, text: &str) -> Option<String>;
}

impl<P: Pane> AnyPane for P {
    fn title(&self) -> &'static str {
        P::TITLE
    }
    fn key(&self) -> &'static str {
        P::KEY
    }
    fn offers(&self, a: Action) -> bool {
        Pane::offers(self, a)
    }
    fn needs(&self, a: Action) -> Option<Permission> {
        Pane::needs(self, a)
    }
    fn main_actions(&self) -> &'static [Action] {
        Pane::main_actions(self)
    }
    fn needs_load(&self) -> bool {
        Pane::needs_load(self)
    }
    fn reload(&mut self, sh: &mut Shell) -> Vec<Effect> {
        Pane::reload(self, sh)
    }
    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<Effect> {
        Pane::perform(self, sh, a)
    }
    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
        Pane::draw(self, f, area, sh)
    }
    fn filter_text(&self) -> Option<String> {
        Pane::filter_text(self)
    }
    fn filter_changed(&mut self, sh: &mut Shell, text: &str) -> Vec<Effect> {
        Pane::filter_changed(self, sh, text)
    }
    fn filter_hint(&self) -> &'static str {
        Pane::filter_hint(self)
    }
    fn filter_error(&self) -> Option<String> {
        Pane::filter_error(self)
    }
    fn form(&self) -> Option<&Form> {
        Pane::form(self)
    }
    fn form_mut(&mut self) -> Option<&mut Form> {
        Pane::form_mut(self)
    }
    fn form_changed(&mut self, sh: &mut Shell) -> Vec<Effect> {
        Pane::form_changed(self, sh)
    }
    fn close_form(&mut self, sh: &mut Shell) -> Vec<Effect> {
        Pane::close_form(self, sh)
    }
    fn complete(&mut self, sh: &mut Shell) -> Option<Vec<Effect>> {
        Pane::complete(self, sh)
    }
    fn restore(&mut self, sh: &mut Shell, snap: &FormSnapshot) -> Option<Vec<Effect>> {
        Pane::restore(self, sh, snap)
    }
    fn notice(&mut self, sh: &mut Shell, n: Notice) -> Vec<Effect> {
        Pane::notice(self, sh, n)
    }
    fn show(&mut self, sh: &mut Shell, id: i64) -> Vec<Effect> {
        Pane::show(self, sh, id)
    }
    fn marking(&mut self) -> Option<&mut dyn Markable> {
        Pane::marking(self)
    }
    fn mark_query(&self) -> Option<MarkQuery> {
        Pane::mark_query(self)
    }
    fn bulk(&self, a: Action) -> Option<BulkOffer> {
        Pane::bulk(self, a)
    }
    fn column_keys(&self) -> Vec<&'static str> {
        Pane::column_keys(self)
    }
    fn list_export(&self, sh: &Shell) -> Option<ExportPlan> {
        Pane::list_export(self, sh)
    }
    fn sort(&self) -> Option<(&'static str, bool)> {
        Pane::sort(self)
    }
    fn sorts(&self) -> Vec<&'static str> {
        Pane::sorts(self)
    }
    fn sort_by(&mut self, name: &str, descending: bool) -> Result<(), String> {
        Pane::sort_by(self, name, descending)
    }
    fn check_filter(&self, text: &str) -> Option<String> {
        Pane::check_filter(self, text)
    }
}

/// One effect of a pane, as the list of effects a pane method returns.
pub fn fx(e: impl Into<Effect>) -> Vec<Effect> {
    vec![e.into()]
}
