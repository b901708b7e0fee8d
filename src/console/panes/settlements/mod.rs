//! The Settlements pane, for finance (curators read): statements newest period first with `/`
//! filters; a statement's detail with its totals, the partner's tally beside ours, the payout
//! ledger, the partner's commission over the last periods as a chart, and its lines paged from
//! the database (a statement may have a million) with each line's redemption a key away;
//! computing, sending to review, approving, disputing, marking paid and entering the partner's
//! tally, each confirmed with what it will do. The payout batches have a view of their own
//! (`batches*.rs`).

mod actions;
mod batches;
mod batches_effects;
mod batches_view;
mod effects;
mod lines;
mod list_view;
mod view;

pub use batches::{BatchQuestion, Batches, parse_file, parse_new, plan_body};

pub use actions::{Act, parse_compute, parse_payment, parse_tally, recompute_body};
pub use effects::{Effect, Msg, Opened, Step};

use crate::console::action::Action;
use crate::console::bulk::{Build, BulkOffer, MARK_PAGE, MarkQuery, in_focus, optional};
use crate::console::detail::Detail;
use crate::console::export::{EXPORT_PAGE, ExportPlan, ListExport};
use crate::console::list::{KeysetList, ListFilter, ListRow, Markable, PAGE};
use crate::console::msg::{Changed, Effect as AppEffect, LoadMode, Notice};
use crate::console::pane::{Answer, Pane, fx};
use crate::console::shell::{Latest, Shell};
use crate::console::view::registry::export_columns_from;
use crate::domain::Permission;
use crate::domain::settlement::Period;
use crate::service::bulk::BulkAction;
use crate::service::rows::{Line, SettlementFilter, SettlementRow};
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::Rect;

impl ListRow for SettlementRow {
    type Cursor = (NaiveDate, i64);
    fn id(&self) -> i64 {
        self.settlement.id
    }
    fn cursor(&self) -> Self::Cursor {
        SettlementRow::cursor(self)
    }
    fn version(&self) -> Option<i32> {
        Some(self.settlement.version)
    }
}

/// What the Settlements pane asks.
#[derive(Debug, Clone)]
pub enum Question {
    /// What to compute: `PERIOD`, or `#AGREEMENT PERIOD` (a prompt).
    ComputeWhat,
    /// The text a move needs: a note, a reason, a payment's reference, a tally (a prompt).
    Text { act: Act, s: Box<SettlementRow> },
    /// The step, confirmed (`id`: the settlement it moves; none for a computation).
    Go { id: Option<i64>, step: Step },
    /// What the batches view asks.
    Batch(BatchQuestion),
}

pub struct SettlementsPane {
    pub list: KeysetList<SettlementRow>,
    pub filter: ListFilter<SettlementFilter>,
    pub detail: Detail<Opened>,
    /// The settlement the detail is open on (known before its detail loads).
    pub open_id: Option<i64>,
    /// The open settlement's lines: a window of pages, read by line number.
    pub lines: KeysetList<Line>,
    /// What a computation would reset, read before asking.
    pub asking: Latest,
    /// The payout batches view.
    pub batches: Batches,
}

impl Default for SettlementsPane {
    fn default() -> Self {
        Self {
            list: KeysetList::forward_only(),
            filter: ListFilter::default(),
            detail: Detail::default(),
            open_id: None,
            lines: KeysetList::default(),
            asking: Latest::default(),
            batches: Batches::default(),
        }
    }
}

/// Parses the filter: `status:S`, `partner:NAME` or `partner:#ID`, `period:2026-10` (or
/// `2026-Q4`, `2026`: every statement of a period inside it), `agreement:ID`; other words are
/// more of the partner's name.
pub fn parse_filter(text: &str) -> Result<SettlementFilter, String> {
    let mut f = SettlementFilter::default();
    let mut name = Vec::new();
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("status", v)) => f.status = Some(v.parse().map_err(|e| format!("status: {e}"))?),
            Some(("partner", v)) => {
                let id = v.strip_prefix('#').unwrap_or(v);
                if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
                    f.partner_id = Some(id.parse().map_err(|_| "partner: #ID too large")?);
                } else if v.starts_with('#') {
                    return Err("partner: #ID is a partner's number, like #12".into());
                } else if !v.is_empty() {
                    name.push(v);
                }
            }
            Some(("period", v)) => {
                let p = Period::parse(v).map_err(|e| format!("period: {e}"))?;
                f.within = Some((p.start, p.end));
            }
            Some(("agreement", v)) => {
                let id = v.strip_prefix('#').unwrap_or(v);
                f.agreement_id = Some(
                    id.parse()
                        .map_err(|_| "agreement: an agreement's number, like 7".to_owned())?,
                );
            }
            Some((key, _)) if !key.is_empty() => {
                return Err(format!(
                    "unknown filter '{key}:' (status:, partner:, period:, agreement:)"
                ));
            }
            _ => name.push(word),
        }
    }
    if !name.is_empty() {
        f.partner_name = Some(name.join(" "));
    }
    Ok(f)
}

impl SettlementsPane {
    pub(super) fn load(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        let (tag, req) = self.list.request(sh, mode);
        fx(Effect::Load {
            tag,
            filter: self.filter.query.clone(),
            before: req.after,
            limit: PAGE,
            mode,
        })
    }

    pub(super) fn load_detail(&mut self, sh: &mut Shell, id: i64) -> Vec<AppEffect> {
        let tag = self.detail.begin(sh);
        fx(Effect::LoadDetail { tag, id })
    }

    /// Opens settlement `id`: its detail and the first page of its lines.
    pub fn open(&mut self, sh: &mut Shell, id: i64) -> Vec<AppEffect> {
        self.detail.open = true;
        if self.open_id != Some(id) {
            self.detail.data = None;
            self.lines.clear();
        }
        self.open_id = Some(id);
        let mut out = self.load_detail(sh, id);
        out.extend(self.load_lines(sh, LoadMode::Replace));
        out
    }

    fn close(&mut self) {
        self.detail.open = false;
        self.detail.data = None;
        self.open_id = None;
        self.lines.clear();
    }

    /// The settlement actions apply to: the open one, else the selected row.
    pub fn current(&self) -> Option<&SettlementRow> {
        if self.detail.open {
            self.detail.shown().map(|o| &o.view.row)
        } else {
            self.list.selected_row()
        }
    }
}

impl crate::console::shell::Asked for Question {}

impl Pane for SettlementsPane {
    type Effect = Effect;
    type Question = Question;
    const TITLE: &'static str = "Settlements";
    const KEY: &'static str = "settlements";

    fn offers(&self, a: Action) -> bool {
        use Action::*;
        if self.batches.open {
            return a.moves_in_list()
                || matches!(
                    a,
                    Open | Back
                        | Refresh
                        | Copy
                        | Batches
                        | New
                        | MarkPaid
                        | CancelBatch
                        | WriteBatchFile
                );
        }
        a.moves_in_list()
            || a.marks()
            || a == Export
            || matches!(
                a,
                Open | Back
                    | Filter
                    | Refresh
                    | Copy
                    | Compute
                    | SendToReview
                    | Approve
                    | Dispute
                    | MarkPaid
                    | Tally
                    | Batches
            )
    }

    fn needs(&self, a: Action) -> Option<Permission> {
        use Action::*;
        let batch = self.batches.open && matches!(a, New | CancelBatch | WriteBatchFile);
        (batch
            || matches!(
                a,
                Compute | SendToReview | Approve | Dispute | MarkPaid | Tally
            ))
        .then_some(Permission::ManageSettlements)
    }

    fn main_actions(&self) -> &'static [Action] {
        use Action::*;
        if self.batches.open {
            return &[Open, New, MarkPaid, CancelBatch, WriteBatchFile, Back];
        }
        &[
            Open,
            Filter,
            Compute,
            SendToReview,
            Approve,
            Dispute,
            MarkPaid,
            Tally,
            Batches,
        ]
    }

    fn needs_load(&self) -> bool {
        if self.batches.open {
            return !self.batches.list.loaded_once;
        }
        self.list.rows.is_empty()
    }

    fn reload(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if self.batches.open {
            return self.reload_batches(sh);
        }
        let mut out = self.load(sh, LoadMode::Replace);
        if let Some(id) = self.open_id.filter(|_| self.detail.open) {
            out.extend(self.load_detail(sh, id));
        }
        out
    }

    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if self.batches.open {
            return self.batches_perform(sh, a);
        }
        if a == Action::Batches {
            return self.open_batches(sh);
        }
        if self.detail.open {
            if let Some(mode) = self.lines.navigate(a) {
                return self.load_lines(sh, mode);
            }
        } else if let Some(mode) = self.list.navigate(a) {
            return self.load(sh, mode);
        }
        match a {
            Action::Open if self.detail.open => self.open_line(sh),
            Action::Open => match self.list.selected_row().map(|r| r.settlement.id) {
                Some(id) => self.open(sh, id),
                None => Vec::new(),
            },
            Action::Back if self.detail.open => {
                self.close();
                Vec::new()
            }
            Action::Back if !self.filter.text.is_empty() => self.filter_changed(sh, ""),
            Action::Refresh => {
                let mut out = self.reload(sh);
                if self.detail.open {
                    out.extend(self.load_lines(sh, LoadMode::Replace));
                }
                out
            }
            Action::Copy => {
                let id = self
                    .open_id
                    .or(self.list.selected_row().map(|r| r.settlement.id));
                id.map(|id| vec![AppEffect::copy_id("settlement", id)])
                    .unwrap_or_default()
            }
            Action::Compute => self.ask_compute(sh),
            Action::SendToReview
            | Action::Approve
            | Action::Dispute
            | Action::MarkPaid
            | Action::Tally => self.ask(sh, a),
            _ => Vec::new(),
        }
    }

    fn on_msg(&mut self, sh: &mut Shell, msg: Msg) -> Vec<AppEffect> {
        match msg {
            Msg::Batches(m) => self.batches_msg(sh, m),
            Msg::Page { tag, mode, result } => {
                self.list.receive(sh, tag, mode, result);
                Vec::new()
            }
            Msg::Detail { tag, result } => {
                if !self.detail.accept(tag) {
                    return Vec::new();
                }
                match result {
                    Ok(o) => {
                        // Computed again meanwhile: its lines are new too.
                        let recomputed = self.detail.data.as_ref().is_some_and(|old| {
                            old.view.row.settlement.id == o.view.row.settlement.id
                                && old.view.row.settlement.computed_at
                                    != o.view.row.settlement.computed_at
                        });
                        self.detail.data = Some(*o);
                        if recomputed && self.detail.open {
                            return self.load_lines(sh, LoadMode::Replace);
                        }
                    }
                    Err(e) => {
                        self.close();
                        sh.toast_error(e.to_string());
                    }
                }
                Vec::new()
            }
            Msg::Lines {
                tag,
                id,
                mode,
                result,
            } => {
                if self.open_id == Some(id) {
                    self.lines_loaded(sh, tag, mode, result);
                }
                Vec::new()
            }
            Msg::Redemption {
                settlement,
                line,
                result,
            } => {
                match result {
                    Ok(r) => {
                        let (title, text) = lines::redemption_info(settlement, &line, &r);
                        sh.inform(title, text);
                    }
                    Err(e) => sh.toast_error(e.to_string()),
                }
                Vec::new()
            }
            Msg::Done { busy, result } => {
                sh.finish(busy, result);
                self.reload(sh)
            }
            Msg::DisputedDue {
                tag,
                period,
                result,
            } => {
                if self.asking.accept(tag) {
                    match result {
                        Ok(resets) => self.confirm_compute(sh, None, period, &resets),
                        Err(e) => sh.toast_error(e.to_string()),
                    }
                }
                Vec::new()
            }
        }
    }

    fn check_answer(&self, q: &Question, text: &str) -> Option<String> {
        match q {
            Question::Text { act, s } => Self::step_of(*act, text, s).err(),
            Question::ComputeWhat => parse_compute(text).err(),
            Question::Batch(q) => Self::check_batch_answer(q, text),
            _ => None,
        }
    }

    fn answered(&mut self, sh: &mut Shell, q: Question, a: Answer) -> Vec<AppEffect> {
        match q {
            Question::Batch(q) => self.batch_answered(sh, q, a),
            q => self.answer(sh, q, a),
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
        if self.batches.open {
            batches_view::draw(&mut self.batches, f, area, sh)
        } else {
            view::draw(self, f, area, sh)
        }
    }

    fn filter_text(&self) -> Option<String> {
        (!self.detail.open && !self.batches.open).then(|| self.filter.text.clone())
    }

    fn filter_changed(&mut self, sh: &mut Shell, text: &str) -> Vec<AppEffect> {
        if !self.filter.set(text, |t, _| parse_filter(t)) {
            return Vec::new();
        }
        self.list.selected = 0;
        self.load(sh, LoadMode::Replace)
    }

    fn filter_hint(&self) -> &'static str {
        "   status:S partner:NAME|#ID period:2026-10 · Enter keeps · Esc restores"
    }

    fn filter_error(&self) -> Option<String> {
        self.filter.error.clone()
    }

    /// A settlement changed (here or in another session): the list and the open detail
    /// reload; the lines too when it was computed again.
    fn marking(&mut self) -> Option<&mut dyn Markable> {
        in_focus(&mut self.list, !self.detail.open && !self.batches.open)
    }

    fn bulk(&self, a: Action) -> Option<BulkOffer> {
        let (verb, build) = match a {
            Action::SendToReview => (
                "Send to review",
                Build::Text {
                    hint: "a note for all (optional; Enter with none sends them as they are)",
                    make: |t| Ok(BulkAction::SettlementReview { note: optional(t) }),
                },
            ),
            Action::Approve => (
                "Approve",
                Build::Text {
                    hint: "a note for all (optional; Enter with none approves them)",
                    make: |t| Ok(BulkAction::SettlementApprove { note: optional(t) }),
                },
            ),
            Action::MarkPaid => (
                "Mark paid",
                Build::Text {
                    hint: "the payment reference for all, and the day paid (YYYY-MM-DD; default today)",
                    make: |t| {
                        let (reference, paid_on) = parse_payment(t)?;
                        Ok(BulkAction::SettlementPay { reference, paid_on })
                    },
                },
            ),
            _ => return None,
        };
        Some(BulkOffer {
            verb,
            noun: "statements",
            permission: Permission::ManageSettlements,
            build,
        })
    }

    fn mark_query(&self) -> Option<MarkQuery> {
        let filter = self.filter.query.clone();
        Some(MarkQuery::pages(
            move |desk: crate::service::Desk, before| {
                let filter = filter.clone();
                async move { desk.settlements_page(&filter, before, MARK_PAGE).await }
            },
        ))
    }

    fn list_export(&self, sh: &Shell) -> Option<ExportPlan> {
        if self.detail.open || self.batches.open {
            return None;
        }
        let width = sh.size.map_or(120, |s| s.0);
        let chosen = sh.columns.get(Self::KEY);
        let columns = export_columns_from(list_view::COLUMNS, chosen, width, list_view::WIDE);
        let filter = self.filter.query.clone();
        Some(ExportPlan {
            noun: "settlements",
            make: Box::new(move |path| {
                ListExport::pages(path, columns, move |desk, before| {
                    let filter = filter.clone();
                    async move { desk.settlements_page(&filter, before, EXPORT_PAGE).await }
                })
            }),
        })
    }

    fn column_keys(&self) -> Vec<&'static str> {
        crate::console::view::registry::keys(list_view::COLUMNS)
    }

    fn notice(&mut self, sh: &mut Shell, n: Notice) -> Vec<AppEffect> {
        if n != Notice::Changed(Changed::Settlement) {
            return Vec::new();
        }
        if self.batches.open {
            return self.reload_batches(sh);
        }
        let mut out = if self.list.changed() {
            self.load(sh, LoadMode::Replace)
        } else {
            Vec::new()
        };
        if let Some(id) = self.open_id.filter(|_| self.detail.open) {
            out.extend(self.load_detail(sh, id));
        }
        out
    }

    /// Another pane sent the operator to settlement `id`.
    fn show(&mut self, sh: &mut Shell, id: i64) -> Vec<AppEffect> {
        let mut out = self.open(sh, id);
        if self.list.rows.is_empty() {
            out.extend(self.load(sh, LoadMode::Replace));
        }
        out
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
