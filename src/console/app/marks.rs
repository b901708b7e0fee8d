//! Marks on any list, once for every pane: `Space` marks the row and moves down, `V` marks a
//! range from the last mark, `Ctrl-a` marks every row the filter matches (asked of the
//! server), `Esc` clears them first.

use super::App;
use crate::console::action::Action;
use crate::console::list::{Marked, mark_selected};
use crate::console::msg::{Effect, Gen};
use crate::console::panes::PaneId;
use crate::error::Error;

impl App {
    /// A marking key on this pane, or `Esc` with marks: `Some(effects)` when it was one.
    pub(super) fn marking_action(&mut self, a: Action) -> Option<Vec<Effect>> {
        let key = self.pane.key();
        let (pane, sh) = self.split();
        match a {
            Action::Mark | Action::MarkRange => {
                let Some(list) = pane.marking() else {
                    sh.toast_error("nothing to mark here");
                    return Some(Vec::new());
                };
                if !mark_selected(list, a == Action::MarkRange) {
                    return Some(Vec::new());
                }
                Some(if a == Action::Mark {
                    pane.perform(sh, Action::Down)
                } else {
                    Vec::new()
                })
            }
            Action::MarkAll => {
                let here = pane.marking().is_some();
                let (true, Some(query)) = (here, pane.mark_query()) else {
                    sh.toast_error("nothing to mark here");
                    return Some(Vec::new());
                };
                let tag = sh.next_tag();
                sh.marking_all = Some((key, tag));
                sh.toast("marking every row the filter matches…");
                Some(vec![Effect::MarkAll {
                    pane: key,
                    tag,
                    query,
                }])
            }
            Action::Back => {
                let list = pane.marking()?;
                if list.marks().is_empty() {
                    return None;
                }
                let n = list.marks().len();
                list.marks_mut().clear();
                sh.toast(format!("{n} mark{} cleared", if n == 1 { "" } else { "s" }));
                Some(Vec::new())
            }
            _ => None,
        }
    }

    /// The rows of a `Ctrl-a` came back: they become the pane's marks (an older request's
    /// answer is dropped).
    pub(super) fn marked_all(
        &mut self,
        pane: &'static str,
        tag: Gen,
        result: Result<Vec<Marked>, Error>,
    ) -> Vec<Effect> {
        if self.shell.marking_all != Some((pane, tag)) {
            return Vec::new();
        }
        self.shell.marking_all = None;
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                self.shell
                    .toast_error(format!("cannot mark every row: {e}"));
                return Vec::new();
            }
        };
        let Some(id) = PaneId::of_key(pane) else {
            return Vec::new();
        };
        let Some(list) = self.panes.get_mut(id).marking() else {
            return Vec::new();
        };
        let n = rows.len();
        list.marks_mut().set_all(rows);
        self.shell.toast(format!(
            "{n} row{} marked (every row the filter matches)",
            if n == 1 { "" } else { "s" }
        ));
        Vec::new()
    }
}
