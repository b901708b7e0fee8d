//! What every pane shares, once: who is acting and may they, the connection, toasts, work in
//! progress keyed by a typed id, overlays (help, palette, confirmations, prompts, information),
//! the `/` filter being typed, and request generations.

use super::keymap::Keymap;
use super::palette::Palette;
use super::recovery::FormSnapshot;
use super::tag::Gen;
use super::theme::Theme;
use crate::domain::Permission;
use crate::service::Actor;
use std::any::Any;
use std::time::{Duration, Instant};

/// How many past messages are kept to be read whole.
pub const KEEP_MESSAGES: usize = 50;

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

/// The type of one pane's questions (`Pane::Question`), implemented by each pane's question
/// type: it is carried by a confirmation or prompt as a [`PaneQuestion`] and handed back to
/// the pane whose question type it is.
pub trait Asked: std::fmt::Debug + Clone + Send + 'static {}

/// A question of one pane, whichever pane it is of.
#[derive(Debug)]
pub struct PaneQuestion(Box<dyn ErasedQuestion>);

trait ErasedQuestion: std::fmt::Debug + Send {
    fn cloned(&self) -> Box<dyn ErasedQuestion>;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<Q: Asked> ErasedQuestion for Q {
    fn cloned(&self) -> Box<dyn ErasedQuestion> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

impl Clone for PaneQuestion {
    fn clone(&self) -> Self {
        PaneQuestion(self.0.cloned())
    }
}

impl PaneQuestion {
    /// The question, when it is of type `Q`; itself back otherwise.
    pub fn take<Q: Asked>(self) -> Result<Q, PaneQuestion> {
        if self.0.as_any().is::<Q>() {
            match self.0.into_any().downcast::<Q>() {
                Ok(q) => Ok(*q),
                Err(_) => unreachable!("the type was checked"),
            }
        } else {
            Err(self)
        }
    }

    /// The question, when it is of type `Q`.
    pub fn get<Q: Asked>(&self) -> Option<&Q> {
        self.0.as_any().downcast_ref::<Q>()
    }
}

impl<Q: Asked> From<Q> for PaneQuestion {
    fn from(q: Q) -> PaneQuestion {
        PaneQuestion(Box::new(q))
    }
}

impl<Q: Asked> From<Q> for Pending {
    fn from(q: Q) -> Pending {
        Pending::Pane(q.into())
    }
}

/// What a confirmation does when answered with the second (non-default) choice.
#[derive(Debug, Clone)]
pub enum Pending {
    /// Close the form without saving; `quit` when the operator was quitting.
    DiscardForm { quit: bool },
    /// An unsaved form from an earlier session: "yes" discards it, "no" restores it.
    RestoreForm(Box<FormSnapshot>),
    /// A question of one pane, answered by that pane.
    Pane(PaneQuestion),
}

/// A line of text to type (a file name, a note), answered with Enter.
pub struct Prompt {
    pub title: String,
    pub hint: String,
    pub input: String,
    /// Why the last answer was not taken (the prompt was asked again).
    pub error: Option<String>,
    /// The pane question the text answers.
    pub purpose: PaneQuestion,
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
    Prompt(Prompt),
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

/// Background work shown in the status bar until its answer comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BusyId(u64);

/// The newest request of one kind (a detail, a save): older answers are dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latest {
    pub tag: Gen,
    pub pending: bool,
}

impl Latest {
    /// Starts a request; answers to earlier ones will be refused.
    pub fn begin(&mut self, sh: &mut Shell) -> Gen {
        self.tag = sh.next_tag();
        self.pending = true;
        self.tag
    }

    /// Takes an answer; `false` when it was stale and is dropped.
    pub fn accept(&mut self, tag: Gen) -> bool {
        if tag != self.tag {
            return false;
        }
        self.pending = false;
        true
    }
}

pub struct Shell {
    pub keymap: Keymap,
    pub full_keymap: Keymap,
    pub theme: Theme,
    pub session: Session,
    pub actor: Option<Actor>,
    pub conn: ConnState,
    pub overlay: Overlay,
    pub toasts: Vec<Toast>,
    /// Every message toasted, newest last (at most `KEEP_MESSAGES`), to be read whole.
    pub messages: Vec<(chrono::DateTime<chrono::Utc>, bool, String)>,
    /// Background work in progress, for the status bar.
    pub busy: Vec<(BusyId, String)>,
    /// Text being typed into the `/` filter, when filtering.
    pub filter_input: Option<String>,
    /// The filter before `/` started editing (Esc restores it).
    pub filter_before: Option<String>,
    /// The last filter kept that read: what `Esc` restores when the one kept does not read.
    pub filter_good: Option<String>,
    /// The footer line of the pane's main keys is shown (config `footer = false` hides it).
    pub footer: bool,
    /// Set while a prompt's answer is handled: ask again, with this error beside the text.
    pub reask: Option<String>,
    /// A pane asked to show a record of another pane (`goto`, by the other pane's `KEY`): the
    /// app switches there.
    pub goto: Option<(&'static str, i64)>,
    /// The columns chosen per list in the config file (`[columns.PANE]`).
    pub columns: std::collections::BTreeMap<String, crate::config::ColumnConfig>,
    /// The saved views per list (`[views.PANE.NAME]`), and the config file they are saved to.
    pub views: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, crate::config::ViewConfig>,
    >,
    pub config_file: Option<std::path::PathBuf>,
    /// Where the list the keys move in was last drawn, and the first row shown (for the mouse).
    pub list_at: std::cell::Cell<Option<(ratatui::layout::Rect, usize)>>,
    /// The `Ctrl-a` on its way: the pane's key and the request's tag (a newer one wins).
    pub marking_all: Option<(&'static str, Gen)>,
    /// The terminal's size as last drawn or resized (columns, rows); `None` before either.
    pub size: Option<(u16, u16)>,
    next_gen: u64,
}

impl Shell {
    pub fn new(keymap: Keymap, theme: Theme, session: Session) -> Self {
        let full_keymap = keymap.clone();
        let keymap = if session.read_only {
            keymap.read_only()
        } else {
            keymap
        };
        Self {
            keymap,
            full_keymap,
            theme,
            session,
            actor: None,
            conn: ConnState::Connecting,
            overlay: Overlay::None,
            toasts: Vec::new(),
            messages: Vec::new(),
            busy: Vec::new(),
            filter_input: None,
            filter_before: None,
            filter_good: None,
            footer: true,
            reask: None,
            goto: None,
            marking_all: None,
            columns: Default::default(),
            views: Default::default(),
            config_file: None,
            list_at: std::cell::Cell::new(None),
            size: None,
            next_gen: 1,
        }
    }

    /// The terminal is smaller than the console can draw: only "terminal too small" shows, so
    /// keys must not act on what is hidden.
    pub fn too_small(&self) -> bool {
        self.size
            .is_some_and(|(w, h)| w < super::view::MIN_WIDTH || h < super::view::MIN_HEIGHT)
    }

    pub fn next_tag(&mut self) -> Gen {
        self.next_gen += 1;
        self.next_gen
    }

    pub fn toast(&mut self, text: impl Into<String>) {
        self.push_toast(text.into(), false, Duration::from_secs(5));
    }

    pub fn toast_error(&mut self, text: impl Into<String>) {
        self.push_toast(text.into(), true, Duration::from_secs(8));
    }

    fn push_toast(&mut self, text: String, error: bool, ttl: Duration) {
        // A message may quote data (a name, a reason): its control characters are shown.
        let text = super::view::shown(&text, true);
        self.messages
            .push((chrono::Utc::now(), error, text.clone()));
        if self.messages.len() > KEEP_MESSAGES {
            self.messages.remove(0);
        }
        self.toasts.push(Toast {
            text,
            error,
            until: Instant::now() + ttl,
        });
        let n = self.toasts.len();
        if n > 3 {
            self.toasts.drain(..n - 3);
        }
    }

    /// When the next toast expires (the loop wakes then to redraw).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.toasts.iter().map(|t| t.until).min()
    }

    pub fn start_busy(&mut self, label: impl Into<String>) -> BusyId {
        let id = BusyId(self.next_tag());
        self.busy.push((id, label.into()));
        id
    }

    /// Changes what the status bar says of work in progress (progress of the vetting checks).
    pub fn relabel_busy(&mut self, id: BusyId, label: impl Into<String>) {
        if let Some(b) = self.busy.iter_mut().find(|(i, _)| *i == id) {
            b.1 = label.into();
        }
    }

    pub fn end_busy(&mut self, id: BusyId) {
        self.busy.retain(|(i, _)| *i != id);
    }

    /// Background work `id` answered: it leaves the status bar, and what it did (or why it
    /// could not) is toasted.
    pub fn finish(&mut self, id: BusyId, result: Result<String, crate::error::Error>) {
        self.end_busy(id);
        match result {
            Ok(text) => self.toast(text),
            Err(e) => self.toast_error(e.to_string()),
        }
    }

    /// May the current operator do this, in this session (a read-only one changes nothing)?
    pub fn may(&self, p: Permission) -> bool {
        !(self.session.read_only && p.changes_data())
            && self.actor.as_ref().is_some_and(|a| a.may(p))
    }

    /// May the operator do this? When not, says who may, and returns false.
    pub fn require(&mut self, p: Permission) -> bool {
        if self.may(p) {
            return true;
        }
        let who = self.session.operator.clone();
        self.toast_error(format!(
            "{who} may not {}: it needs the {} role",
            p.describe(),
            p.needed_roles_text()
        ));
        false
    }

    /// Asks a question with the safe answer (`choices[0]`) selected.
    pub fn confirm(
        &mut self,
        title: impl Into<String>,
        body: Vec<String>,
        choices: [&'static str; 2],
        on_yes: impl Into<Pending>,
    ) {
        // Titles and bodies quote data: control characters are shown, not sent.
        self.overlay = Overlay::Confirm(Confirm {
            title: super::view::shown(&title.into(), false),
            body: body.iter().map(|b| super::view::shown(b, true)).collect(),
            choices,
            selected: 0,
            on_yes: on_yes.into(),
        });
    }

    /// Asks for a line of text.
    pub fn prompt(
        &mut self,
        title: impl Into<String>,
        hint: impl Into<String>,
        input: impl Into<String>,
        purpose: impl Into<PaneQuestion>,
    ) {
        self.overlay = Overlay::Prompt(Prompt {
            title: title.into(),
            hint: hint.into(),
            input: input.into(),
            error: None,
            purpose: purpose.into(),
        });
    }

    /// Answering a prompt: the text was not taken; the prompt stays open with the text as
    /// typed and `error` beside it.
    pub fn ask_again(&mut self, error: impl Into<String>) {
        self.reask = Some(error.into());
    }

    /// Shows something to read until a key is pressed.
    pub fn inform(&mut self, title: impl Into<String>, lines: Vec<String>) {
        self.overlay = Overlay::Info {
            title: super::view::shown(&title.into(), false),
            lines: lines.iter().map(|l| super::view::shown(l, true)).collect(),
        };
    }

    /// Shows the recent messages whole, newest first.
    pub fn show_messages(&mut self) {
        let lines = if self.messages.is_empty() {
            vec!["No messages yet.".to_owned()]
        } else {
            self.messages
                .iter()
                .rev()
                .map(|(at, error, text)| {
                    format!(
                        "{} {}{text}",
                        super::view::local(*at),
                        if *error { "✕ " } else { "" }
                    )
                })
                .collect()
        };
        self.inform("Messages", lines);
    }

    /// Asks before throwing away a form's unsaved changes.
    pub fn ask_discard(&mut self, then_quit: bool) {
        self.confirm(
            "Discard changes?",
            vec!["The form has unsaved changes.".into()],
            ["Keep editing", "Discard"],
            Pending::DiscardForm { quit: then_quit },
        );
    }
}
