//! The Partners pane's state changes: the questions asked before them (with what the checks
//! found and what happens to the deals) and what is said when they are done.

use super::{OpOutcome, PartnerOp, PartnersPane, Question};
use crate::console::msg::Effect as AppEffect;
use crate::console::shell::Shell;
use crate::domain::Permission;
use crate::error::Error;

impl PartnersPane {
    pub(super) fn ask_op(&mut self, sh: &mut Shell, op: PartnerOp) -> Vec<AppEffect> {
        if !sh.require(Permission::ManagePartners) {
            return Vec::new();
        }
        let Some((id, version, name)) = self.target() else {
            sh.toast_error("select a partner first");
            return Vec::new();
        };
        // The question says what the checks found and how many deals there are: load them
        // first when the detail is not this partner's.
        let Some(detail) = self
            .detail
            .data
            .as_ref()
            .filter(|d| d.partner.id == id && !self.detail.loading())
        else {
            self.ask_after_load = Some(op);
            return self.load_detail(sh, id);
        };
        let failed: Vec<String> = detail
            .checks
            .iter()
            .filter(|c| c.outcome == "fail")
            .map(|c| format!("  ✕ {}: {}", c.check_name, c.detail))
            .collect();
        let never_checked = detail.checks.is_empty();
        let total_deals: i64 = detail.deals_by_state.iter().map(|(_, n)| n).sum();
        let blocking: i64 = detail
            .deals_by_state
            .iter()
            .filter(|(s, _)| s != "expired")
            .map(|(_, n)| n)
            .sum();
        let active: i64 = detail
            .deals_by_state
            .iter()
            .filter(|(s, _)| s == "active")
            .map(|(_, n)| *n)
            .sum();
        let active_text = format!("{active} active deal{}", if active == 1 { "" } else { "s" });
        // Deleting is refused while deals are not expired: say so and offer no "Delete".
        if op == PartnerOp::Delete && blocking > 0 {
            sh.inform(
                format!("{name} cannot be deleted yet"),
                vec![
                    format!(
                        "It has {total_deals} deal{}, {blocking} not expired; a partner is deleted only once all its deals are expired.",
                        if total_deals == 1 { "" } else { "s" }
                    ),
                    format!(
                        "Expire them on the Deals pane, or off-board the partner ({}), which pauses every active deal in one step.",
                        sh.keymap.keys_text(crate::console::action::Action::Offboard)
                    ),
                ],
            );
            return Vec::new();
        }
        let (title, body, yes): (String, Vec<String>, &'static str) = match op {
            PartnerOp::MarkVetted if !failed.is_empty() => (
                format!("Mark {name} vetted although checks failed?"),
                [
                    vec![format!(
                        "{} of its vetting checks failed when last run:",
                        failed.len()
                    )],
                    failed,
                    vec![
                        "You are recorded as the vetter, now; its deals can then be activated."
                            .into(),
                    ],
                ]
                .concat(),
                "Vet anyway",
            ),
            PartnerOp::MarkVetted => (
                format!("Mark {name} vetted?"),
                vec![
                    if never_checked {
                        "Its vetting checks were never run (c runs them).".into()
                    } else {
                        "Its vetting checks passed when last run.".into()
                    },
                    "You are recorded as the vetter, now.".into(),
                    "Its deals can then be activated.".into(),
                ],
                "Mark vetted",
            ),
            PartnerOp::Disable => (
                format!("Disable {name}?"),
                vec![
                    format!("{active_text} will be paused:"),
                    "members stop seeing them and cannot redeem.".into(),
                ],
                "Disable",
            ),
            PartnerOp::Revet => (
                format!("Re-vet {name}?"),
                vec!["The partner goes back to pending until vetted again.".into()],
                "Re-vet",
            ),
            PartnerOp::Delete => (
                format!("Delete {name}?"),
                vec![
                    format!(
                        "It has {total_deals} deal{}, all expired: nothing blocks it.",
                        if total_deals == 1 { "" } else { "s" }
                    ),
                    "The partner disappears from lists; its history stays in the audit log.".into(),
                ],
                "Delete",
            ),
            PartnerOp::Offboard => (
                format!("Off-board {name}?"),
                vec![
                    format!("{active_text} will be paused now, in one step:"),
                    "members stop seeing them and cannot redeem.".into(),
                ],
                "Off-board",
            ),
        };
        sh.confirm(
            title,
            body,
            ["Cancel", yes],
            Question::Op { id, version, op },
        );
        Vec::new()
    }

    pub(super) fn op_done(
        &mut self,
        sh: &mut Shell,
        op: PartnerOp,
        result: Result<OpOutcome, Error>,
    ) {
        match result {
            Ok(OpOutcome::Partner(p)) => {
                sh.toast(format!("{} is now {}", p.display_name, p.verification))
            }
            Ok(OpOutcome::Deleted) => {
                sh.toast("partner deleted");
                self.detail.open = false;
                self.detail.data = None;
            }
            Ok(OpOutcome::Offboarded(report)) => {
                let mut lines = vec![format!(
                    "Paused {} deal{}:",
                    report.paused.len(),
                    if report.paused.len() == 1 { "" } else { "s" }
                )];
                lines.extend(
                    report
                        .paused
                        .iter()
                        .take(12)
                        .map(|d| format!("  #{} {}", d.id, d.title)),
                );
                if report.paused.len() > 12 {
                    lines.push(format!("  … and {} more", report.paused.len() - 12));
                }
                let left: Vec<String> = report
                    .remaining
                    .iter()
                    .map(|(s, n)| format!("{n} {s}"))
                    .collect();
                lines.push(String::new());
                lines.push(format!(
                    "Left: {}",
                    if left.is_empty() {
                        "no deals".into()
                    } else {
                        left.join(", ")
                    }
                ));
                if report.blocking() > 0 {
                    lines.push(format!(
                        "Before delete: expire the {} deal(s) that are not expired.",
                        report.blocking()
                    ));
                } else {
                    lines.push("Nothing blocks a delete now.".into());
                }
                sh.inform(
                    format!("Off-boarded {}", report.partner.display_name),
                    lines,
                );
            }
            Err(e) => sh.toast_error(format!("{} failed: {e}", op.verb())),
        }
    }
}
