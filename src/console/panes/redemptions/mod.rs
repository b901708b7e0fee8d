//! The Redemptions pane (support's monitor): active deals with live counts and the last hour
//! per clock minute, kept right by LISTEN/NOTIFY and the clock without a keypress (`monitor`);
//! the signals worth a look, each opening what is behind it (`signals`); a deal's redemptions
//! and a member's history, newest first, paged, in a time range (`list`); each redemption's
//! audit timeline; flags; and streaming CSV export with progress.

mod effects;
mod list;
mod monitor;
mod signals;
mod view;

pub use effects::{Effect, Msg};
pub use list::{Range, Scope, parse_flag, parse_range, range_label};
pub use monitor::{MonitorSort, shift_to};
pub use signals::SignalsView;
pub use view::sparkline;

use crate::console::action::Action;
use crate::console::bulk::{Build, BulkOffer, MARK_PAGE, MarkQuery, in_focus, required};
use crate::console::list::{KeysetList, Markable};
use crate::console::msg::{Effect as AppEffect, LoadMode, Notice};
use crate::console::pane::{Answer, Pane, fx};
use crate::console::shell::Shell;
use crate::domain::Permission;
use crate::service::bulk::BulkAction;
use crate::service::export::ExportOf;
use crate::service::rows::{ExportFilter, MonitorRow, RedemptionRow};
use chrono::Utc;
use ratatui::Frame;
use ratatui::layout::Rect;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Monitor,
    Signals,
    /// A deal's or a member's redemptions.
    List(Scope),
}

/// An export on its way.
pub struct Exporting {
    pub path: String,
    pub rows: u64,
    pub total: u64,
    pub cancel: tokio::sync::watch::Sender<bool>,
}

/// What the Redemptions pane asks.
#[derive(Debug, Clone)]
pub enum Question {
    /// `fraud: NOTE` or `dispute: NOTE` for a redemption (a prompt).
    FlagNote { id: i64 },
    /// The reason a flag is resolved (a prompt).
    UnflagReason { id: i64 },
    /// Why a redemption is refunded (a prompt).
    RefundReason { id: i64 },
}

pub struct RedemptionsPane {
    /// The monitor: active deals.
    pub monitor: KeysetList<MonitorRow>,
    /// The monitor's `/` text: deals whose title or partner has it.
    pub find: String,
    pub sort: MonitorSort,
    pub view: View,
    pub signals: SignalsView,
    /// The list of a deal's or a member's redemptions.
    pub list: KeysetList<RedemptionRow>,
    /// The list's `/` time filter as typed, and what did not read.
    pub filter_text: String,
    pub filter_error: Option<String>,
    /// Where Esc goes back to: the views this one was opened from, with their time filter.
    pub back: Vec<(View, String)>,
    pub exporting: Option<Exporting>,
}

impl Default for RedemptionsPane {
    fn default() -> Self {
        Self {
            monitor: KeysetList::forward_only(),
            find: String::new(),
            sort: MonitorSort::default(),
            view: View::default(),
            signals: SignalsView::default(),
            list: KeysetList::forward_only(),
            filter_text: String::new(),
            filter_error: None,
            back: Vec::new(),
            exporting: None,
        }
    }
}

impl RedemptionsPane {
    /// What an export holds: the open list's deal or member in its range, else the monitor's
    /// selected deal.
    fn current_export(&self) -> Option<ExportFilter> {
        match &self.view {
            View::List(Scope::Deal { id, from, to, .. }) => Some(ExportFilter {
                of: ExportOf::Deal(*id),
                from: *from,
                to: *to,
            }),
            View::List(Scope::Member { id, from, to, .. }) => Some(ExportFilter {
                of: ExportOf::Member(*id),
                from: *from,
                to: *to,
            }),
            View::Monitor => self.selected_row().map(|r| ExportFilter::deal(r.id)),
            _ => None,
        }
    }

    fn export(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if let Some(e) = self.exporting.take() {
            let _ = e.cancel.send(true);
            sh.toast(format!("cancelling the export to {}", e.path));
            return Vec::new();
        }
        if let Some(e) = &self.filter_error {
            sh.toast_error(format!("the time filter does not read ({e}): fix it first"));
            return Vec::new();
        }
        let Some(filter) = self.current_export() else {
            sh.toast_error("select a deal to export its redemptions");
            return Vec::new();
        };
        let path = format!(
            "redemptions-{}-{}.csv",
            filter.subject(),
            Utc::now().format("%Y%m%d-%H%M%S")
        );
        let (tx, rx) = tokio::sync::watch::channel(false);
        self.exporting = Some(Exporting {
            path: path.clone(),
            rows: 0,
            total: 0,
            cancel: tx,
        });
        fx(Effect::Export {
            filter,
            path,
            cancel: rx,
        })
    }
}

impl crate::console::shell::Asked for Question {}

impl Pane for RedemptionsPane {
    type Effect = Effect;
    type Question = Question;
    const TITLE: &'static str = "Redemptions";
    const KEY: &'static str = "redemptions";

    fn offers(&self, a: Action) -> bool {
        use Action::*;
        let everywhere = a.moves_in_list() || matches!(a, Open | Refresh | Copy);
        everywhere
            || match self.view {
                View::Monitor => matches!(a, Filter | Sort | Export | Signals),
                View::Signals => matches!(a, Back | Signals),
                View::List(_) => {
                    a.marks()
                        || matches!(
                            a,
                            Back | Filter | Export | Flag | Unflag | Refund | MemberHistory
                        )
                }
            }
    }

    fn needs(&self, a: Action) -> Option<Permission> {
        use Action::*;
        match a {
            Flag | Unflag => Some(Permission::FlagRedemptions),
            Refund => Some(Permission::RefundRedemptions),
            _ => None,
        }
    }

    fn main_actions(&self) -> &'static [Action] {
        use Action::*;
        &[Open, Filter, Signals, MemberHistory, Flag, Export]
    }

    fn needs_load(&self) -> bool {
        self.monitor.rows.is_empty()
    }

    fn reload(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        match self.view {
            View::Monitor => self.load_monitor(sh, LoadMode::Replace),
            View::Signals => self.load_signals(sh),
            View::List(_) => self.load_list(sh, LoadMode::Replace),
        }
    }

    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        match self.view {
            View::Monitor => self.perform_monitor(sh, a),
            View::Signals => self.perform_signals(sh, a),
            View::List(_) => self.perform_list(sh, a),
        }
    }

    fn on_msg(&mut self, sh: &mut Shell, msg: Msg) -> Vec<AppEffect> {
        match msg {
            Msg::Monitor { tag, mode, result } => {
                self.monitor.receive(sh, tag, mode, result);
                return self.monitor_loaded(sh);
            }
            Msg::MonitorDeal { deal_id, result } => match result {
                Ok(rows) => self.monitor_deal(deal_id, rows),
                Err(e) => tracing::warn!(error = %e, deal_id, "monitor row"),
            },
            Msg::Signals { tag, result } => {
                if self.signals.req.accept(tag) {
                    match result {
                        Ok(s) => self.signals_loaded(s),
                        Err(e) => sh.toast_error(e.to_string()),
                    }
                }
            }
            Msg::Redemptions { tag, mode, result } => self.list.receive(sh, tag, mode, result),
            Msg::Timeline { id, result } => match result {
                Ok(entries) => self.timeline(sh, id, entries),
                Err(e) => sh.toast_error(e.to_string()),
            },
            Msg::Flagged { result } => {
                match result {
                    Ok(r) => match r.flag_kind {
                        Some(k) => sh.toast(format!(
                            "redemption #{} flagged {k}: left out of settlement until resolved",
                            r.id
                        )),
                        None => sh.toast(format!(
                            "redemption #{} resolved: it counts in settlement again",
                            r.id
                        )),
                    },
                    Err(e) => sh.toast_error(e.to_string()),
                }
                return self.load_list(sh, LoadMode::Replace);
            }
            Msg::Refunded { result } => {
                match result {
                    Ok((r, lands)) => sh.toast(format!("redemption #{} refunded: {lands}", r.id)),
                    Err(e) => sh.toast_error(e.to_string()),
                }
                return self.load_list(sh, LoadMode::Replace);
            }
            Msg::ExportProgress { rows, total } => {
                if let Some(e) = self.exporting.as_mut() {
                    e.rows = rows;
                    e.total = total;
                }
            }
            Msg::ExportDone { path, result } => {
                self.exporting = None;
                match result {
                    // The screen lists newest first; the file is in time order: say so.
                    Ok(r) => sh.toast(format!(
                        "exported {} redemptions, oldest first ({} bytes), to {path}",
                        r.rows, r.bytes
                    )),
                    Err(crate::Error::Cancelled { .. }) => {
                        sh.toast(format!("export cancelled; {path} removed"))
                    }
                    Err(e) => sh.toast_error(format!("export to {path} failed: {e}")),
                }
            }
        }
        Vec::new()
    }

    fn check_answer(&self, q: &Question, text: &str) -> Option<String> {
        match q {
            Question::FlagNote { .. } => parse_flag(text).err(),
            Question::UnflagReason { .. } | Question::RefundReason { .. } => {
                crate::domain::redemption::flag_text("reason", text)
                    .err()
                    .map(|e| e.to_string())
            }
        }
    }

    fn answered(&mut self, sh: &mut Shell, q: Question, a: Answer) -> Vec<AppEffect> {
        match a {
            Answer::Text(text) => self.answer_text(sh, q, text),
            Answer::Yes => Vec::new(),
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
        view::draw(self, f, area, sh)
    }

    /// The monitor finds deals by title or partner; a list filters by time.
    fn filter_text(&self) -> Option<String> {
        match self.view {
            View::Monitor => Some(self.find.clone()),
            View::Signals => None,
            View::List(_) => Some(self.filter_text.clone()),
        }
    }

    fn filter_changed(&mut self, sh: &mut Shell, text: &str) -> Vec<AppEffect> {
        match self.view {
            View::Monitor => self.find_changed(sh, text),
            View::Signals => Vec::new(),
            View::List(_) => self.filter_list(sh, text),
        }
    }

    fn filter_error(&self) -> Option<String> {
        match self.view {
            View::List(_) => self.filter_error.clone(),
            _ => None,
        }
    }

    fn filter_hint(&self) -> &'static str {
        match self.view {
            View::List(_) => {
                "   from:YYYY-MM-DD to:YYYY-MM-DD (whole days) · Enter keeps · Esc restores"
            }
            _ => "   text in a deal's title or partner · Enter keeps · Esc restores",
        }
    }

    /// What the database or the clock announced: counts, deals entering or leaving the active
    /// set, a new minute.
    /// A deal's or a member's redemptions can be marked (flag, unflag in bulk).
    fn marking(&mut self) -> Option<&mut dyn Markable> {
        in_focus(&mut self.list, matches!(self.view, View::List(_)))
    }

    /// The redemption list's columns (`x` keeps its own export: no `list_export` here).
    fn column_keys(&self) -> Vec<&'static str> {
        crate::console::view::registry::keys(view::COLUMNS)
    }

    fn bulk(&self, a: Action) -> Option<BulkOffer> {
        let (verb, build) = match a {
            Action::Flag => (
                "Flag",
                Build::Text {
                    hint: "fraud: or dispute:, then the note kept with each (fraud: code shared on a forum)",
                    make: |t| {
                        let (kind, note) = parse_flag(t)?;
                        Ok(BulkAction::RedemptionFlag { kind, note })
                    },
                },
            ),
            Action::Unflag => (
                "Resolve the flag of",
                Build::Text {
                    hint: "the reason (required), kept with each",
                    make: |t| {
                        required(t, "reason").map(|reason| BulkAction::RedemptionUnflag { reason })
                    },
                },
            ),
            Action::Refund => (
                "Refund",
                Build::Text {
                    hint: "the reason (required), kept with each; a refund is final and reverses its commission",
                    make: |t| {
                        required(t, "reason").map(|reason| BulkAction::RedemptionRefund { reason })
                    },
                },
            ),
            _ => return None,
        };
        let permission = if a == Action::Refund {
            Permission::RefundRedemptions
        } else {
            Permission::FlagRedemptions
        };
        Some(BulkOffer {
            verb,
            noun: "redemptions",
            permission,
            build,
        })
    }

    fn mark_query(&self) -> Option<MarkQuery> {
        let View::List(scope) = &self.view else {
            return None;
        };
        let scope = scope.clone();
        Some(MarkQuery::pages(
            move |desk: crate::service::Desk, before| {
                let scope = scope.clone();
                async move {
                    match scope {
                        Scope::Deal { id, from, to, .. } => {
                            desk.redemptions_of_deal(id, from, to, before, MARK_PAGE)
                                .await
                        }
                        Scope::Member { id, from, to, .. } => {
                            desk.redemptions_of_member(id, from, to, before, MARK_PAGE)
                                .await
                        }
                    }
                }
            },
        ))
    }

    fn notice(&mut self, sh: &mut Shell, n: Notice) -> Vec<AppEffect> {
        match n {
            Notice::DealCount { deal_id, count } => self.count_changed(deal_id, count, Utc::now()),
            Notice::DealState {
                deal_id,
                active: false,
            } => self.remove_deal(deal_id),
            Notice::DealState {
                deal_id,
                active: true,
            } if self.monitor.loaded_once => {
                return fx(Effect::MonitorDeal {
                    deal_id,
                    filter: crate::service::rows::MonitorFilter {
                        text: self.find.trim().to_owned(),
                        deal_id: Some(deal_id),
                    },
                });
            }
            Notice::DealState { .. } => {}
            Notice::Minute { now } => self.minute_passed(now),
            // A flag set or resolved elsewhere: the open list of redemptions reloads.
            Notice::Changed(crate::console::msg::Changed::Redemption)
                if matches!(self.view, View::List(_)) && self.list.changed() =>
            {
                return self.reload(sh);
            }
            Notice::Changed(_) => {}
        }
        Vec::new()
    }
}
