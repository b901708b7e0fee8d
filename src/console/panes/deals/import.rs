//! Importing deals from a CSV file in the console: every row is checked first and shown, and
//! nothing is written unless all are valid and the operator confirms.

use super::{DealsPane, Effect, Question};
use crate::console::msg::{Effect as AppEffect, LoadMode};
use crate::console::pane::fx;
use crate::console::shell::Shell;
use crate::service::import::ImportReport;

impl DealsPane {
    /// Checks a CSV file without writing anything, for the preview.
    pub(super) fn import_preview(&mut self, sh: &mut Shell, path: String) -> Vec<AppEffect> {
        if path.is_empty() {
            return Vec::new();
        }
        let busy = sh.start_busy(format!("checking {path}"));
        fx(Effect::Import {
            busy,
            path,
            dry_run: true,
        })
    }

    /// The preview was confirmed: import for real.
    pub(super) fn import(&mut self, sh: &mut Shell, path: String) -> Vec<AppEffect> {
        let busy = sh.start_busy(format!("importing {path}"));
        fx(Effect::Import {
            busy,
            path,
            dry_run: false,
        })
    }

    pub(super) fn imported(
        &mut self,
        sh: &mut Shell,
        path: String,
        result: Result<ImportReport, crate::Error>,
    ) -> Vec<AppEffect> {
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                sh.toast_error(format!("{path}: {e}"));
                return Vec::new();
            }
        };
        if !report.is_valid() {
            let mut lines = vec![format!(
                "{} of {} rows have a problem; nothing will be imported:",
                report.bad_rows(),
                report.rows
            )];
            lines.extend(report.problems.iter().take(16).map(|p| format!("  {p}")));
            if report.problems.len() > 16 {
                lines.push(format!(
                    "  … and {} more (partnerdesk deals import {path} --dry-run lists all)",
                    report.problems.len() - 16
                ));
            }
            sh.inform(format!("Import {path}"), lines);
            return Vec::new();
        }
        if report.dry_run {
            let n = report.valid_rows.len();
            let mut body = vec![format!(
                "{n} row{} valid. They will be created:",
                if n == 1 { "" } else { "s" }
            )];
            body.extend(report.valid_rows.iter().take(8).map(|r| {
                format!(
                    "  line {}: {} ({}, {})",
                    r.line, r.deal.title, r.deal.kind, r.deal.state
                )
            }));
            if n > 8 {
                body.push(format!("  … and {} more", n - 8));
            }
            // The form takes local times; the file's times without a zone are UTC.
            body.push(format!(
                "Times in the file without a zone are UTC (now {} UTC is {} here).",
                chrono::Utc::now().format("%H:%M"),
                crate::console::view::local(chrono::Utc::now())
                    .split(' ')
                    .nth(1)
                    .unwrap_or("")
            ));
            sh.confirm(
                format!("Import {path}?"),
                body,
                ["Cancel", "Import"],
                Question::Import { path },
            );
            return Vec::new();
        }
        let n = report.imported.len();
        sh.toast(format!(
            "imported {n} deal{} from {path}",
            if n == 1 { "" } else { "s" }
        ));
        self.load(sh, LoadMode::Replace)
    }
}
