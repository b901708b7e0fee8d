//! The Negotiations pane: threads with partners, newest activity first, with `/` filters; a
//! thread's timeline interleaving messages and offer revisions, each revision after the first
//! shown as its difference from the previous one; replying, accepting (into an agreement
//! version, a contract and a draft deal), rejecting and withdrawing, each confirmed with what
//! it will do. Partner-side entries are recorded by an operator on the partner's behalf and
//! marked so.

mod actions;
use actions::{parse_benefit, side_and_text};
mod effects;
pub mod offer_form;
mod open;
mod view;

pub use effects::{Effect, Msg};

use crate::console::action::Action;
use crate::console::bulk::{Build, BulkOffer, MARK_PAGE, MarkQuery, in_focus, required};
use crate::console::detail::Detail;
use crate::console::export::{EXPORT_PAGE, ExportPlan, ListExport};
use crate::console::form::{Absorbed, Editing, Form};
use crate::console::list::{KeysetList, ListFilter, ListRow, Markable, PAGE};
use crate::console::msg::{Changed, Effect as AppEffect, LoadMode, Notice};
use crate::console::pane::{Answer, Pane, fx};
use crate::console::recovery::FormSnapshot;
use crate::console::shell::{Latest, Shell};
use crate::console::view::registry::export_columns_from;
use crate::domain::Permission;
use crate::domain::contract::ContractStatus;
use crate::domain::negotiation::{OfferDraft, Side, ThreadStatus};
use crate::service::bulk::BulkAction;
use crate::service::contracts::ContractView;
use crate::service::negotiations::NegotiationView;
use crate::service::rows::{ThreadFilter, ThreadRow};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;

impl ListRow for ThreadRow {
    type Cursor = (DateTime<Utc>, i64);
    fn id(&self) -> i64 {
        self.id
    }
    fn cursor(&self) -> Self::Cursor {
        (self.updated_at, self.id)
    }
}

/// What the Negotiations pane asks.
#[derive(Debug, Clone)]
pub enum Question {
    /// A message for the thread (a prompt; `partner: …` records it on the partner's behalf).
    Reply {
        id: i64,
    },
    Accept {
        id: i64,
        revision: i32,
        side: Side,
    },
    /// The reason of a rejection (by `side`) or a withdrawal (a prompt).
    Close {
        id: i64,
        side: Side,
        reject: bool,
    },
    /// The side to sign the contract for (a prompt).
    Sign {
        id: i64,
        contract: i64,
    },
    /// `N delivered: EVIDENCE` or `N missed: REASON` (a prompt).
    Benefit {
        id: i64,
        contract: i64,
    },
    /// The reason of a contract's move to completed, cancelled or disputed (a prompt).
    ContractMove {
        id: i64,
        contract: i64,
        to: ContractStatus,
    },
}

pub struct NegotiationsPane {
    pub list: KeysetList<ThreadRow>,
    pub filter: ListFilter<ThreadFilter>,
    pub detail: Detail<NegotiationView>,
    /// The counter-offer form: `id` is the thread, `version` the revision it answers.
    pub form: Option<Editing>,
    /// The partner of the thread the form is for (the deal rules need it).
    partner_id: i64,
    pub save: Latest,
    /// The accepted thread's contract.
    pub contract: Option<ContractView>,
    pub contract_req: Latest,
    /// The form open is the new-thread form (not a counter-offer).
    pub thread_form: bool,
    /// The new-thread form's partner field.
    pub picker: crate::console::picker::Picker,
}

impl Default for NegotiationsPane {
    fn default() -> Self {
        Self {
            list: KeysetList::forward_only(),
            filter: ListFilter::default(),
            detail: Detail::default(),
            form: None,
            partner_id: 0,
            save: Latest::default(),
            contract: None,
            contract_req: Latest::default(),
            thread_form: false,
            picker: Default::default(),
        }
    }
}

/// What the recovery file calls this pane's form.
const ENTITY: &str = "offer";

/// Parses the filter: `status:S`, `partner:ID`; other words are matched in subjects and
/// partner names.
pub fn parse_filter(text: &str) -> Result<ThreadFilter, String> {
    let mut f = ThreadFilter::default();
    let mut words = Vec::new();
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("status", v)) => f.status = Some(v.parse().map_err(|e| format!("status: {e}"))?),
            Some(("partner", v)) => {
                f.partner_id = Some(v.parse().map_err(|_| "partner: a partner id".to_owned())?)
            }
            _ => words.push(word),
        }
    }
    if !words.is_empty() {
        f.text = Some(words.join(" "));
    }
    Ok(f)
}

impl NegotiationsPane {
    pub(super) fn load(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        let (tag, req) = self.list.request(sh, mode);
        let filter = ThreadFilter {
            after: req.after,
            ..self.filter.query.clone()
        };
        fx(Effect::Load {
            tag,
            filter,
            limit: PAGE,
            mode,
        })
    }

    pub(super) fn load_detail(&mut self, sh: &mut Shell, id: i64) -> Vec<AppEffect> {
        let tag = self.detail.begin(sh);
        fx(Effect::LoadDetail { tag, id })
    }

    /// The open thread, loaded.
    pub(super) fn open_thread(&self) -> Option<&NegotiationView> {
        self.detail.shown()
    }
}

impl crate::console::shell::Asked for Question {}

impl Pane for NegotiationsPane {
    type Effect = Effect;
    type Question = Question;
    const TITLE: &'static str = "Negotiations";
    const KEY: &'static str = "negotiations";

    fn offers(&self, a: Action) -> bool {
        use Action::*;
        a.moves_in_list()
            || a.marks()
            || a == Export
            || matches!(
                a,
                Open | Back
                    | Filter
                    | Refresh
                    | Copy
                    | New
                    | Reply
                    | CounterOffer
                    | Save
                    | NextField
                    | PrevField
                    | Cancel
                    | Accept
                    | Reject
                    | Withdraw
                    | Sign
                    | Benefit
                    | OpenDeal
                    | CompleteContract
                    | CancelContract
                    | DisputeContract
            )
    }

    fn needs(&self, a: Action) -> Option<Permission> {
        use Action::*;
        matches!(
            a,
            New | Reply
                | CounterOffer
                | Save
                | Accept
                | Reject
                | Withdraw
                | Sign
                | Benefit
                | CompleteContract
                | CancelContract
                | DisputeContract
        )
        .then_some(Permission::ManageNegotiations)
    }

    /// What applies where the operator is: the list's keys, an open thread's moves, or an
    /// accepted thread's contract and deal keys (a closed thread has none).
    fn main_actions(&self) -> &'static [Action] {
        use Action::*;
        match self.open_thread().map(|v| (v.thread.status, v.contract_id)) {
            None => &[
                Open,
                Filter,
                New,
                Reply,
                CounterOffer,
                Accept,
                Reject,
                Withdraw,
            ],
            Some((s, _)) if !s.is_final() => &[Back, Reply, CounterOffer, Accept, Reject, Withdraw],
            Some((_, Some(_))) => &[
                Back,
                Sign,
                Benefit,
                OpenDeal,
                CompleteContract,
                CancelContract,
                DisputeContract,
            ],
            Some(_) => &[Back, Copy],
        }
    }

    fn needs_load(&self) -> bool {
        self.list.rows.is_empty()
    }

    fn reload(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let mut out = self.load(sh, LoadMode::Replace);
        if self.detail.open
            && let Some(id) = self.detail.data.as_ref().map(|d| d.thread.id)
        {
            out.extend(self.load_detail(sh, id));
        }
        out
    }

    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if self.detail.open {
            // The open thread's timeline scrolls with the list keys.
            if self.detail.navigate(a) {
                return Vec::new();
            }
        } else if let Some(mode) = self.list.navigate(a) {
            return self.load(sh, mode);
        }
        match a {
            Action::Open if !self.detail.open => match self.list.selected_row().map(|r| r.id) {
                Some(id) => {
                    self.detail.open_new();
                    self.load_detail(sh, id)
                }
                None => Vec::new(),
            },
            Action::Back if self.detail.open => {
                self.detail.open = false;
                Vec::new()
            }
            Action::Back if !self.filter.text.is_empty() => self.filter_changed(sh, ""),
            Action::Refresh => self.reload(sh),
            Action::Copy => {
                let id = match self.open_thread() {
                    Some(v) => Some(v.thread.id),
                    None => self.list.selected_row().map(|r| r.id),
                };
                id.map(|id| vec![AppEffect::copy_id("negotiation", id)])
                    .unwrap_or_default()
            }
            Action::New if sh.require(Permission::ManageNegotiations) => self.new_thread(),
            Action::OpenDeal => {
                match self.contract.as_ref().filter(|_| self.detail.open) {
                    Some(c) => {
                        sh.goto = Some((
                            crate::console::panes::deals::DealsPane::KEY,
                            c.contract.deal_id,
                        ))
                    }
                    None => sh.toast_error("open an accepted negotiation to go to its deal"),
                }
                Vec::new()
            }
            Action::Save if self.thread_form => self.save_thread(sh),
            Action::Save => self.save_offer(sh),
            Action::Reply
            | Action::CounterOffer
            | Action::Accept
            | Action::Reject
            | Action::Withdraw
            | Action::Sign
            | Action::Benefit
            | Action::CompleteContract
            | Action::CancelContract
            | Action::DisputeContract => self.ask(sh, a),
            _ => Vec::new(),
        }
    }

    fn on_msg(&mut self, sh: &mut Shell, msg: Msg) -> Vec<AppEffect> {
        match msg {
            Msg::Page { tag, mode, result } => {
                self.list.receive(sh, tag, mode, result);
                Vec::new()
            }
            Msg::Detail { tag, result } => {
                if self.detail.accept(tag) {
                    match result {
                        Ok(v) => {
                            if self
                                .form
                                .as_ref()
                                .is_some_and(|f| f.id == Some(v.thread.id))
                            {
                                self.partner_id = v.thread.partner_id;
                            }
                            let contract = v.contract_id;
                            self.detail.data = Some(v);
                            if self.contract.as_ref().map(|c| c.contract.id) != contract {
                                self.contract = None;
                            }
                            if let Some(id) = contract {
                                let tag = self.contract_req.begin(sh);
                                return fx(Effect::LoadContract { tag, id });
                            }
                        }
                        Err(e) => {
                            self.detail.open = false;
                            sh.toast_error(e.to_string());
                        }
                    }
                }
                Vec::new()
            }
            Msg::Opened { tag, result } => {
                if !self.save.accept(tag) {
                    return Vec::new();
                }
                match result {
                    Ok(t) => {
                        sh.toast(format!(
                            "negotiation #{} opened: o makes the first offer",
                            t.id
                        ));
                        let mut out = self.close_form(sh);
                        self.detail.open_new();
                        out.extend(self.load_detail(sh, t.id));
                        out.extend(self.load(sh, LoadMode::Replace));
                        out
                    }
                    Err(e) => {
                        if let Some(ed) = self.form.as_mut() {
                            ed.form.saving = false;
                            if let Absorbed::Other(text) = ed.form.absorb(e) {
                                sh.toast_error(text);
                            }
                        }
                        Vec::new()
                    }
                }
            }
            Msg::PartnersFound { tag, result } => {
                let form = self.form.as_mut().map(|ed| &mut ed.form);
                if self.picker.found(sh, tag, result, form) {
                    return Pane::form_changed(self, sh);
                }
                Vec::new()
            }
            Msg::Contract { tag, result } => {
                if self.contract_req.accept(tag) {
                    match result {
                        Ok(c) => self.contract = Some(c),
                        Err(e) => sh.toast_error(e.to_string()),
                    }
                }
                Vec::new()
            }
            Msg::Offered { tag, id, result } => {
                if !self.save.accept(tag) {
                    return Vec::new();
                }
                match result {
                    Ok(o) => {
                        sh.toast(format!(
                            "revision {} made for the {} on negotiation #{id}",
                            o.revision, o.side
                        ));
                        let mut out = self.close_form(sh);
                        self.detail.open = true;
                        // The new revision is the timeline's last entry: show it.
                        self.detail.scroll.navigate(Action::Bottom);
                        out.extend(self.load_detail(sh, id));
                        out.extend(self.load(sh, LoadMode::Replace));
                        out
                    }
                    Err(e) => {
                        if let Some(ed) = self.form.as_mut() {
                            ed.form.saving = false;
                            match ed.form.absorb(e) {
                                Absorbed::Fields => {
                                    sh.toast_error("the server refused some fields; see the form")
                                }
                                Absorbed::Conflict { changed_by, when } => sh.toast_error(format!(
                                    "{changed_by} changed the negotiation at {when}; Esc, then o again"
                                )),
                                Absorbed::Other(text) => sh.toast_error(text),
                            }
                        }
                        Vec::new()
                    }
                }
            }
            Msg::Done { busy, id, result } => {
                sh.finish(busy, result);
                let mut out = self.load(sh, LoadMode::Replace);
                if self.detail.open {
                    out.extend(self.load_detail(sh, id));
                }
                out
            }
        }
    }

    fn answered(&mut self, sh: &mut Shell, q: Question, a: Answer) -> Vec<AppEffect> {
        match (q, a) {
            (Question::Reply { id }, Answer::Text(text)) => {
                let (side, body) = side_and_text(&text);
                if body.is_empty() {
                    sh.ask_again("a message is required");
                    return Vec::new();
                }
                let busy = sh.start_busy(format!("posting on negotiation #{id}"));
                fx(Effect::Message {
                    busy,
                    id,
                    side,
                    body,
                })
            }
            (Question::Accept { id, revision, side }, _) => {
                let busy = sh.start_busy(format!("accepting negotiation #{id}"));
                fx(Effect::Accept {
                    busy,
                    id,
                    revision,
                    side,
                })
            }
            (Question::Close { id, side, reject }, Answer::Text(reason)) => {
                if reason.trim().is_empty() {
                    sh.ask_again("a reason is required");
                    return Vec::new();
                }
                let busy = sh.start_busy(format!("closing negotiation #{id}"));
                fx(Effect::Close {
                    busy,
                    id,
                    side,
                    reason,
                    reject,
                })
            }
            (Question::Sign { id, contract }, Answer::Text(text)) => {
                match text.trim().parse::<Side>() {
                    Ok(side) => {
                        let busy = sh.start_busy(format!("signing contract #{contract}"));
                        fx(Effect::Sign {
                            busy,
                            id,
                            contract,
                            side,
                        })
                    }
                    Err(_) => {
                        sh.ask_again("marketplace or partner");
                        Vec::new()
                    }
                }
            }
            (Question::Benefit { id, contract }, Answer::Text(text)) => {
                match parse_benefit(&text) {
                    Ok((position, to, note)) => {
                        let busy =
                            sh.start_busy(format!("contract #{contract}: benefit {position}"));
                        fx(Effect::Benefit {
                            busy,
                            id,
                            contract,
                            position,
                            to,
                            note,
                        })
                    }
                    Err(e) => {
                        sh.ask_again(e);
                        Vec::new()
                    }
                }
            }
            (Question::ContractMove { id, contract, to }, Answer::Text(reason)) => {
                if reason.trim().is_empty() {
                    sh.ask_again("a reason is required");
                    return Vec::new();
                }
                let busy = sh.start_busy(format!("contract #{contract}: {to}"));
                fx(Effect::ContractMove {
                    busy,
                    id,
                    contract,
                    to,
                    reason,
                })
            }
            (_, Answer::Yes) => Vec::new(),
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
        view::draw(self, f, area, sh)
    }

    fn form(&self) -> Option<&Form> {
        self.form.as_ref().map(|f| &f.form)
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        self.form.as_mut().map(|f| &mut f.form)
    }

    fn form_changed(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let Some(ed) = self.form.as_mut() else {
            return Vec::new();
        };
        if self.thread_form {
            ed.form.errors = open::read(&ed.form).err().unwrap_or_default();
            ed.form.notice = None;
            return match self.picker.changed(sh, &mut ed.form) {
                Some((tag, text)) => fx(Effect::FindPartners { tag, text }),
                None => Vec::new(),
            };
        }
        offer_form::show_terms(&mut ed.form);
        ed.form.errors = offer_form::check(&ed.form, self.partner_id);
        ed.form.notice = None;
        vec![AppEffect::TrackForm(self.snapshot())]
    }

    fn complete(&mut self, sh: &mut Shell) -> Option<Vec<AppEffect>> {
        let ed = self.form.as_mut().filter(|_| self.thread_form)?;
        self.picker
            .complete(&mut ed.form)
            .then(|| self.form_changed(sh))
    }

    fn close_form(&mut self, _sh: &mut Shell) -> Vec<AppEffect> {
        self.thread_form = false;
        self.form = None;
        vec![AppEffect::TrackForm(None)]
    }

    /// An unsaved counter-offer from an earlier session opens again on its thread.
    fn restore(&mut self, sh: &mut Shell, snap: &FormSnapshot) -> Option<Vec<AppEffect>> {
        if snap.entity != ENTITY {
            return None;
        }
        let id = snap.record_id?;
        let mut form = offer_form::form_for(
            format!("Restored counter-offer on negotiation #{id}"),
            &OfferDraft::default(),
            Side::Marketplace,
        );
        form.fill(&snap.fields);
        offer_form::show_terms(&mut form);
        self.form = Some(Editing {
            form,
            id: Some(id),
            version: snap.version,
        });
        // The thread's partner (for the deal rules) comes with its detail.
        self.detail.open_new();
        let mut out = self.load_detail(sh, id);
        out.push(AppEffect::TrackForm(self.snapshot()));
        Some(out)
    }

    fn filter_text(&self) -> Option<String> {
        (!self.detail.open).then(|| self.filter.text.clone())
    }

    fn filter_changed(&mut self, sh: &mut Shell, text: &str) -> Vec<AppEffect> {
        if !self.filter.set(text, |t, _| parse_filter(t)) {
            return Vec::new();
        }
        self.list.selected = 0;
        self.load(sh, LoadMode::Replace)
    }

    fn filter_hint(&self) -> &'static str {
        "   status:S partner:ID and words · Enter keeps · Esc restores"
    }

    fn filter_error(&self) -> Option<String> {
        self.filter.error.clone()
    }

    fn marking(&mut self) -> Option<&mut dyn Markable> {
        let in_list = !self.detail.open && self.form.is_none() && !self.thread_form;
        in_focus(&mut self.list, in_list)
    }

    fn bulk(&self, a: Action) -> Option<BulkOffer> {
        (a == Action::Withdraw).then_some(BulkOffer {
            verb: "Withdraw",
            noun: "negotiations",
            permission: Permission::ManageNegotiations,
            build: Build::Text {
                hint: "the reason (required); each negotiation closes for good, for the marketplace",
                make: |t| {
                    required(t, "reason").map(|reason| BulkAction::NegotiationWithdraw {
                        side: crate::domain::negotiation::Side::Marketplace,
                        reason,
                    })
                },
            },
        })
    }

    fn list_export(&self, sh: &Shell) -> Option<ExportPlan> {
        if self.detail.open || self.form.is_some() || self.thread_form {
            return None;
        }
        let width = sh.size.map_or(120, |s| s.0);
        let chosen = sh.columns.get(Self::KEY);
        let columns = export_columns_from(view::COLUMNS, chosen, width, view::WIDE);
        let filter = self.filter.query.clone();
        Some(ExportPlan {
            noun: "negotiations",
            make: Box::new(move |path| {
                ListExport::pages(path, columns, move |desk, after| {
                    let filter = ThreadFilter {
                        after,
                        ..filter.clone()
                    };
                    async move { desk.list_negotiations(&filter, EXPORT_PAGE).await }
                })
            }),
        })
    }

    fn column_keys(&self) -> Vec<&'static str> {
        crate::console::view::registry::keys(view::COLUMNS)
    }

    fn mark_query(&self) -> Option<MarkQuery> {
        let filter = self.filter.query.clone();
        Some(MarkQuery::pages(move |desk, after| {
            let filter = ThreadFilter {
                after,
                ..filter.clone()
            };
            async move { desk.list_negotiations(&filter, MARK_PAGE).await }
        }))
    }

    fn notice(&mut self, sh: &mut Shell, n: Notice) -> Vec<AppEffect> {
        match n {
            Notice::Changed(Changed::Other) if self.list.changed() => self.reload(sh),
            _ => Vec::new(),
        }
    }
}

/// Whether a thread's deadline has passed while it is still open.
pub fn overdue(status: ThreadStatus, deadline: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    !status.is_final() && deadline < now
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
