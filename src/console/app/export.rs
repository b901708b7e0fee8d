//! `x` on a list that exports this way: the path is asked (a name with the date offered), then
//! every row the filter matches is written on a task, with progress in the status line.

use super::App;
use crate::console::export::default_name;
use crate::console::msg::Effect;
use crate::console::panes::PaneId;
use crate::console::shell::{Asked, BusyId, PaneQuestion};
use crate::error::Error;
use std::path::PathBuf;

/// The question `x` asks: where to write the pane's list.
#[derive(Debug, Clone)]
pub struct ExportAsk {
    pane: &'static str,
}

impl Asked for ExportAsk {}

/// An export on its way.
pub struct Exporting {
    busy: BusyId,
    noun: &'static str,
}

impl App {
    /// `x` where the pane's list exports this way: asks where.
    pub(super) fn export_action(&mut self) -> Option<Vec<Effect>> {
        let plan = self.current().list_export(&self.shell)?;
        if self.exporting.is_some() {
            self.shell
                .toast_error("an export is running; wait for it to finish");
            return Some(Vec::new());
        }
        let name = default_name(plan.noun, crate::console::view::now());
        self.shell.prompt(
            format!("Export every {} the filter matches", plan.noun.trim_end_matches('s')),
            "a new CSV file (an existing file is never overwritten); the visible columns, in the list's order",
            name,
            ExportAsk {
                pane: self.pane.key(),
            },
        );
        Some(Vec::new())
    }

    /// The path was given: the export starts (`Err`: another question).
    pub(super) fn export_answered(
        &mut self,
        q: PaneQuestion,
        text: &str,
    ) -> Result<Vec<Effect>, PaneQuestion> {
        let ask = q.take::<ExportAsk>()?;
        if text.trim().is_empty() {
            self.shell.ask_again("path: required");
            return Ok(Vec::new());
        }
        let path = PathBuf::from(text.trim());
        let Some(id) = PaneId::of_key(ask.pane) else {
            return Ok(Vec::new());
        };
        let Some(plan) = self.panes.get(id).list_export(&self.shell) else {
            return Ok(Vec::new());
        };
        let busy = self
            .shell
            .start_busy(format!("exporting {}: 0 rows", plan.noun));
        self.exporting = Some(Exporting {
            busy,
            noun: plan.noun,
        });
        Ok(vec![Effect::ExportList {
            pane: ask.pane,
            path: path.clone(),
            export: (plan.make)(path),
        }])
    }

    pub(super) fn export_progress(&mut self, rows: u64) -> Vec<Effect> {
        if let Some(e) = &self.exporting {
            let (busy, text) = (e.busy, format!("exporting {}: {rows} rows", e.noun));
            self.shell.relabel_busy(busy, text);
        }
        Vec::new()
    }

    pub(super) fn list_exported(
        &mut self,
        path: PathBuf,
        result: Result<u64, Error>,
    ) -> Vec<Effect> {
        let Some(e) = self.exporting.take() else {
            return Vec::new();
        };
        self.shell.end_busy(e.busy);
        match result {
            Ok(n) => self.shell.toast(format!(
                "wrote {n} {} to {}",
                if n == 1 {
                    e.noun.trim_end_matches('s')
                } else {
                    e.noun
                },
                path.display()
            )),
            Err(err) => self.shell.toast_error(format!("export failed: {err}")),
        }
        Vec::new()
    }
}
