//! Bulk actions on the marks, once for every pane: the pane's action with rows marked asks one
//! question naming the count and the action (or one text for every row), runs each row through
//! its service call on a task, shows progress in the status line (`Esc` cancels between
//! rows), and ends with the summary; the rows refused stay marked.

use super::App;
use crate::console::action::Action;
use crate::console::bulk::{Build, BulkAsk, BulkJob, BulkRunning, count, targets};
use crate::console::msg::Effect;
use crate::console::pane::Answer;
use crate::console::panes::PaneId;
use crate::console::shell::PaneQuestion;
use crate::domain::bulk::BulkReport;
use crate::error::Error;
use crate::service::bulk::BulkAction;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

impl App {
    /// `a` on a pane with marks, where it runs in bulk: asks first. `None`: not a bulk action.
    pub(super) fn bulk_action(&mut self, a: Action) -> Option<Vec<Effect>> {
        if a == Action::Back
            && let Some(run) = &self.bulk
        {
            run.cancel.store(true, Ordering::SeqCst);
            self.shell
                .toast("cancelling: the row under way finishes, the rest are not tried");
            return Some(Vec::new());
        }
        let key = self.pane.key();
        let running = self.bulk.is_some();
        let (pane, sh) = self.split();
        let offer = pane.bulk(a)?;
        let marks = pane.marking()?.marks().rows();
        if marks.is_empty() {
            return None;
        }
        if !sh.require(offer.permission) {
            return Some(Vec::new());
        }
        if running {
            sh.toast_error("a bulk action is running; wait for it or Esc to cancel it");
            return Some(Vec::new());
        }
        let what = count(marks.len(), offer.noun);
        let ask = BulkAsk {
            pane: key,
            offer: offer.clone(),
            targets: targets(&marks),
        };
        match &offer.build {
            Build::Now(_) => sh.confirm(
                format!("{} {what}?", offer.verb),
                vec![
                    format!(
                        "Each of the {what} goes through its own transaction, with its audit row and event, as one at a time would."
                    ),
                    "A row changed elsewhere since it was marked is refused, and stays marked.".into(),
                    "Esc cancels between rows.".into(),
                ],
                ["Cancel", offer.verb],
                ask,
            ),
            Build::Text { hint, .. } => sh.prompt(
                format!("{} {what}: one text for all", offer.verb),
                *hint,
                "",
                ask,
            ),
        }
        Some(Vec::new())
    }

    /// A question of a bulk action was answered (`Err` gives back any other question).
    pub(super) fn bulk_answered(
        &mut self,
        q: PaneQuestion,
        a: &Answer,
    ) -> Result<Vec<Effect>, PaneQuestion> {
        let ask = q.take::<BulkAsk>()?;
        let action = match (&ask.offer.build, a) {
            (Build::Now(action), _) => action.clone(),
            (Build::Text { make, .. }, Answer::Text(text)) => match make(text) {
                Ok(action) => action,
                Err(e) => {
                    self.shell.ask_again(e);
                    return Ok(Vec::new());
                }
            },
            (Build::Text { .. }, Answer::Yes) => return Ok(Vec::new()),
        };
        Ok(self.run_bulk(ask, action))
    }

    /// What is wrong with a bulk prompt's text, as it is typed (`None` for other questions).
    pub(super) fn bulk_check(q: &PaneQuestion, text: &str) -> Option<Option<String>> {
        let ask = q.get::<BulkAsk>()?;
        Some(match &ask.offer.build {
            Build::Text { make, .. } => make(text).err(),
            Build::Now(_) => None,
        })
    }

    fn run_bulk(&mut self, ask: BulkAsk, action: BulkAction) -> Vec<Effect> {
        let total = ask.targets.len();
        let cancel = Arc::new(AtomicBool::new(false));
        let label = format!(
            "{} {}",
            ask.offer.verb.to_lowercase(),
            count(total, ask.offer.noun)
        );
        let busy = self
            .shell
            .start_busy(format!("{label}: 0/{total} · Esc cancels"));
        self.bulk = Some(BulkRunning {
            pane: ask.pane,
            busy,
            label,
            total,
            cancel: cancel.clone(),
        });
        vec![Effect::Bulk(BulkJob {
            pane: ask.pane,
            action,
            targets: ask.targets,
            cancel,
        })]
    }

    pub(super) fn bulk_progress(&mut self, done: usize, total: usize) -> Vec<Effect> {
        if let Some(run) = &self.bulk {
            let (busy, text) = (
                run.busy,
                format!("{}: {done}/{total} · Esc cancels", run.label),
            );
            self.shell.relabel_busy(busy, text);
        }
        Vec::new()
    }

    /// The run ended: the summary is told, the rows done are unmarked (refused and untried
    /// rows stay marked), and the pane reloads.
    pub(super) fn bulk_done(
        &mut self,
        pane: &'static str,
        result: Result<BulkReport, Error>,
    ) -> Vec<Effect> {
        if let Some(run) = self.bulk.take() {
            self.shell.end_busy(run.busy);
        }
        let Some(id) = PaneId::of_key(pane) else {
            return Vec::new();
        };
        match result {
            Ok(report) => {
                if let Some(list) = self.panes.get_mut(id).marking() {
                    list.marks_mut().unmark(&report.done);
                }
                if report.all_done() {
                    self.shell.toast(report.summary());
                } else {
                    self.shell.toast_error(report.summary());
                }
            }
            Err(e) => self.shell.toast_error(format!("bulk action stopped: {e}")),
        }
        self.panes.get_mut(id).reload(&mut self.shell)
    }
}
