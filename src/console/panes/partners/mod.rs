//! The Partners pane: a keyset-paged list, a detail view, the new/edit form and the partner
//! actions (vetting checks, mark vetted, disable, re-vet, delete, off-board), and a partner's
//! referral tab (`referral`).

mod effects;
pub mod form;
mod list;
mod ops;
mod payout;
pub mod referral;
mod view;

pub use effects::{Effect, Msg, OpOutcome, PartnerDetail, PartnerOp};
pub use form::{draft_of, form_for};

use crate::console::action::Action;
use crate::console::browse;
use crate::console::bulk::{BulkOffer, in_focus};
use crate::console::detail::Detail;
use crate::console::export::ExportPlan;
use crate::console::form::{Editing, Form, conflict_lines, fields_to_fix, refused};
use crate::console::list::{KeysetList, ListFilter, Markable, PAGE};
use crate::console::msg::{Changed, Effect as AppEffect, LoadMode, Notice};
use crate::console::pane::{Answer, Pane, fx};
use crate::console::recovery::FormSnapshot;
use crate::console::shell::{Latest, Shell};
use crate::console::shell::{Overlay, Pending};
use crate::domain::{PartnerDraft, Permission};
use crate::error::Error;
use crate::service::rows::{PartnerFilter, PartnerListRow};
use form::draft_from;
use ratatui::Frame;
use ratatui::layout::Rect;

/// What the recovery file calls this pane's form.
const ENTITY: &str = "partner";

/// What the Partners pane asks.
#[derive(Debug, Clone)]
pub enum Question {
    Op {
        id: i64,
        version: i32,
        op: PartnerOp,
    },
    /// The partner changed under the form: reload it (the edits are lost).
    ReloadForm,
    /// Where the marketplace pays the partner (a prompt), then its confirmation.
    Payout {
        partner_id: i64,
        name: String,
    },
    PayoutGo {
        partner_id: i64,
        draft: crate::domain::payout::PayoutDetailsDraft,
    },
    /// The referral tab's questions: a new code (a prompt), disabling one, a new claim token
    /// (plan, e-mail, expiry: a prompt), revoking one, and the token shown once (the other
    /// answer copies it). Commission rules have their form (`referral::RuleEditing`).
    NewCode {
        partner_id: i64,
    },
    DisableCode {
        partner_id: i64,
        code: String,
    },
    NewToken {
        partner_id: i64,
        plans: Vec<String>,
    },
    RevokeToken {
        partner_id: i64,
        id: i64,
    },
    CopyToken {
        token: String,
    },
}

#[derive(Default)]
pub struct PartnersPane {
    pub list: KeysetList<PartnerListRow>,
    /// What `/` typed, what it read as, and what in it did not read.
    pub filter: ListFilter<PartnerFilter>,
    pub detail: Detail<PartnerDetail>,
    /// Open the form once the detail has loaded.
    pub edit_after_load: bool,
    /// Ask for this change once the detail (its checks, its deals) has loaded.
    ask_after_load: Option<PartnerOp>,
    pub form: Option<Editing>,
    pub save: Latest,
    /// The referral tab, when open (it covers the list and the detail).
    pub referral: Option<referral::ReferralTab>,
}

/// Parses the Partners filter: `state:S` (pending, verified or disabled, as the command line's
/// `--state`), and words matching a name, domain or category. The sort in force is kept.
pub fn parse_filter(text: &str, base: &PartnerFilter) -> Result<PartnerFilter, String> {
    use crate::domain::VerificationState;
    let mut f = PartnerFilter {
        sort: base.sort,
        descending: base.descending,
        ..Default::default()
    };
    f.text = crate::console::list::filter_words(text, |k, v| match k {
        "state" => Some(
            v.parse::<VerificationState>()
                .map(|s| f.verification = Some(s))
                .map_err(|_| {
                    let all: Vec<&str> =
                        VerificationState::ALL.iter().map(|s| s.as_str()).collect();
                    format!("state: '{v}' is not a partner state ({})", all.join(", "))
                }),
        ),
        k if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphabetic()) => Some(Err(format!(
            "unknown filter '{k}:' (state:, or words of a name, domain or category)"
        ))),
        _ => None,
    })?;
    Ok(f)
}

impl PartnersPane {
    pub fn selected_row(&self) -> Option<&PartnerListRow> {
        self.list.selected_row()
    }

    /// The partner the actions apply to: the detail's, else the selected row's.
    fn target(&self) -> Option<(i64, i32, String)> {
        match self.detail.shown() {
            Some(d) => Some((
                d.partner.id,
                d.partner.version,
                d.partner.display_name.clone(),
            )),
            None => self
                .selected_row()
                .map(|r| (r.id, r.version, r.display_name.clone())),
        }
    }

    pub fn snapshot(&self) -> Option<FormSnapshot> {
        match &self.form {
            Some(f) => Some(f.snapshot(ENTITY, "display_name")),
            None => self.rule_snapshot(),
        }
    }

    fn load(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        let (tag, req) = self.list.request(sh, mode);
        let mut filter = self.filter.query.clone();
        filter.after = req.after;
        filter.descending ^= req.flip;
        fx(Effect::Load {
            tag,
            filter,
            limit: PAGE,
            mode,
        })
    }

    fn load_detail(&mut self, sh: &mut Shell, id: i64) -> Vec<AppEffect> {
        let tag = self.detail.begin(sh);
        fx(Effect::LoadDetail { tag, id })
    }

    fn open_form(
        &mut self,
        id: Option<i64>,
        version: Option<i32>,
        draft: &PartnerDraft,
    ) -> Vec<AppEffect> {
        let title = match id {
            Some(_) => format!("Edit partner {}", draft.display_name),
            None => "New partner".to_owned(),
        };
        let mut form = form_for(title, draft);
        // What a conflict is told against: the record as the edit opened it.
        if id.is_some() {
            form.original = form.fields.iter().map(|f| (f.name, f.value())).collect();
        }
        // A brand-new form shows no errors until something is typed.
        if id.is_none() && draft == &PartnerDraft::default() {
            form.errors = Default::default();
        }
        self.form = Some(Editing { form, id, version });
        vec![AppEffect::TrackForm(self.snapshot())]
    }

    fn edit(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let Some((id, _, _)) = self.target() else {
            return Vec::new();
        };
        let loaded = self
            .detail
            .data
            .as_ref()
            .filter(|d| d.partner.id == id && !self.detail.loading())
            .map(|d| (d.partner.version, draft_from(&d.partner)));
        match loaded {
            Some((v, draft)) => self.open_form(Some(id), Some(v), &draft),
            None => {
                self.edit_after_load = true;
                self.load_detail(sh, id)
            }
        }
    }

    fn save(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if !sh.require(Permission::ManagePartners) {
            return Vec::new();
        }
        let Some(pf) = self.form.as_mut() else {
            return Vec::new();
        };
        let draft = draft_of(&pf.form);
        if let Err(e) = draft.validate() {
            pf.form.errors = e;
            fields_to_fix(sh, &pf.form.errors);
            return Vec::new();
        }
        pf.form.saving = true;
        let (id, version) = (pf.id, pf.version);
        let tag = self.save.begin(sh);
        fx(Effect::Save {
            tag,
            id,
            version,
            draft,
        })
    }
}

impl crate::console::shell::Asked for Question {}

impl Pane for PartnersPane {
    type Effect = Effect;
    type Question = Question;
    const TITLE: &'static str = "Partners";
    const KEY: &'static str = "partners";

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
                    | Sort
                    | SortReverse
                    | Copy
                    | New
                    | Edit
                    | RunChecks
                    | SetPayout
                    | MarkVetted
                    | Disable
                    | Revet
                    | Delete
                    | Offboard
                    | Save
                    | NextField
                    | PrevField
                    | Cancel
                    | Referrals
            )
            || (self.referral.is_some()
                && matches!(
                    a,
                    NewCode | DisableCode | CopyLink | NewToken | RevokeToken | SetRule
                ))
    }

    fn needs(&self, a: Action) -> Option<Permission> {
        use Action::*;
        matches!(
            a,
            New | Edit
                | RunChecks
                | MarkVetted
                | Disable
                | Revet
                | Delete
                | Offboard
                | Save
                | NewCode
                | DisableCode
                | NewToken
                | RevokeToken
                | SetRule
        )
        .then_some(Permission::ManagePartners)
        .or((a == SetPayout).then_some(Permission::ManageSettlements))
    }

    fn main_actions(&self) -> &'static [Action] {
        use Action::*;
        if self.referral.is_some() {
            return &[
                Referrals,
                NewCode,
                DisableCode,
                CopyLink,
                NewToken,
                RevokeToken,
                SetRule,
            ];
        }
        &[
            Open, Filter, Sort, New, Edit, RunChecks, MarkVetted, Referrals,
        ]
    }

    fn needs_load(&self) -> bool {
        self.list.rows.is_empty()
    }

    /// Reloads the list from the top (and the detail, when open).
    fn reload(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let mut out = self.load(sh, LoadMode::Replace);
        if self.detail.open
            && let Some(id) = self.detail.data.as_ref().map(|d| d.partner.id)
        {
            out.extend(self.load_detail(sh, id));
        }
        out.extend(self.load_referrals(sh));
        out
    }

    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if let Some(out) = self.referral_action(sh, a) {
            return out;
        }
        // The open detail's timeline scrolls with the list keys.
        if self.detail.navigate(a) {
            return Vec::new();
        }
        if let Some(mode) = self.list.navigate(a) {
            return self.load(sh, mode);
        }
        let manage = |sh: &mut Shell| sh.require(Permission::ManagePartners);
        match a {
            Action::Open => match self.selected_row().map(|r| r.id) {
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
            Action::Back if !self.filter.text.trim().is_empty() => self.filter_changed(sh, ""),
            Action::Refresh => self.reload(sh),
            Action::Sort => {
                self.filter.query.sort = self.filter.query.sort.next();
                self.list.selected = 0;
                self.load(sh, LoadMode::Replace)
            }
            Action::SortReverse => {
                self.filter.query.descending = !self.filter.query.descending;
                self.list.selected = 0;
                self.load(sh, LoadMode::Replace)
            }
            Action::Copy => match self.target() {
                Some((id, _, _)) => vec![AppEffect::copy_id("partner", id)],
                None => Vec::new(),
            },
            Action::New if manage(sh) => self.open_form(None, None, &PartnerDraft::default()),
            Action::Edit if manage(sh) => self.edit(sh),
            Action::RunChecks if manage(sh) => match self.target() {
                Some((id, _, name)) => {
                    let busy = sh.start_busy(format!("vetting {name}"));
                    fx(Effect::RunChecks { busy, id, name })
                }
                None => Vec::new(),
            },
            Action::MarkVetted => self.ask_op(sh, PartnerOp::MarkVetted),
            Action::Disable => self.ask_op(sh, PartnerOp::Disable),
            Action::Revet => self.ask_op(sh, PartnerOp::Revet),
            Action::Delete => self.ask_op(sh, PartnerOp::Delete),
            Action::Offboard => self.ask_op(sh, PartnerOp::Offboard),
            Action::Save => self.save(sh),
            Action::Referrals => self.toggle_referrals(sh),
            Action::SetPayout => self.ask_payout(sh),
            _ => Vec::new(),
        }
    }

    fn on_msg(&mut self, sh: &mut Shell, msg: Msg) -> Vec<AppEffect> {
        match msg {
            Msg::Page { tag, mode, result } => {
                self.list.receive(sh, tag, mode, result);
                Vec::new()
            }
            Msg::Theirs { result } => {
                if let (Ok(p), Some(pf), Overlay::Confirm(c)) =
                    (result, self.form.as_ref(), &mut sh.overlay)
                    && matches!(
                        &c.on_yes,
                        Pending::Pane(q) if matches!(q.get::<Question>(), Some(Question::ReloadForm))
                    )
                {
                    let theirs = form_for(String::new(), &draft_from(&p));
                    let values: Vec<(&'static str, String)> =
                        theirs.fields.iter().map(|f| (f.name, f.value())).collect();
                    let lines = conflict_lines(&pf.form, &values, |_, a, b| a.trim() == b.trim());
                    c.body.splice(1..1, lines);
                }
                Vec::new()
            }
            Msg::Detail { tag, result } => {
                if !self.detail.accept(tag) {
                    return Vec::new();
                }
                match result {
                    Ok(d) => {
                        let edit = std::mem::take(&mut self.edit_after_load);
                        let (id, v, draft) =
                            (d.partner.id, d.partner.version, draft_from(&d.partner));
                        self.detail.data = Some(d);
                        if let Some(op) = self.ask_after_load.take() {
                            self.ask_op(sh, op)
                        } else if edit {
                            self.open_form(Some(id), Some(v), &draft)
                        } else {
                            Vec::new()
                        }
                    }
                    Err(e) => {
                        self.edit_after_load = false;
                        self.ask_after_load = None;
                        if matches!(e, Error::NotFound { .. }) {
                            self.detail.open = false;
                        }
                        sh.toast_error(e.to_string());
                        Vec::new()
                    }
                }
            }
            Msg::Saved { tag, result } => {
                if !self.save.accept(tag) {
                    return Vec::new();
                }
                if let Some(pf) = self.form.as_mut() {
                    pf.form.saving = false;
                }
                match result {
                    Ok(p) => {
                        sh.toast(format!("saved {}", p.display_name));
                        let mut out = self.close_form(sh);
                        self.detail.open_new();
                        out.extend(self.load_detail(sh, p.id));
                        out.extend(self.load(sh, LoadMode::Replace));
                        out
                    }
                    Err(e) => {
                        let conflict = matches!(e, Error::Conflict { .. });
                        if let Some(pf) = self.form.as_mut() {
                            refused(sh, &mut pf.form, e, ENTITY, Question::ReloadForm.into());
                            // Ask what they changed, for the dialog to say it field by field.
                            if let (true, Some(id)) = (conflict, pf.id) {
                                return fx(Effect::Theirs { id });
                            }
                        }
                        Vec::new()
                    }
                }
            }
            Msg::OpDone { busy, op, result } => {
                sh.end_busy(busy);
                self.op_done(sh, op, result);
                self.reload(sh)
            }
            Msg::ChecksProgress {
                busy,
                name,
                done,
                total,
                check,
            } => {
                sh.relabel_busy(busy, format!("vetting {name} ({done}/{total}: {check})"));
                Vec::new()
            }
            Msg::ChecksDone {
                busy,
                id,
                name,
                result,
            } => {
                sh.end_busy(busy);
                match result {
                    Ok(results) => {
                        let count = |o: &str| results.iter().filter(|r| r.outcome == o).count();
                        let text = format!(
                            "vetting {name}: {} pass, {} warn, {} fail",
                            count("pass"),
                            count("warn"),
                            count("fail")
                        );
                        if count("fail") > 0 {
                            sh.toast_error(text)
                        } else {
                            sh.toast(text)
                        }
                    }
                    Err(e) => sh.toast_error(format!("vetting {name} failed: {e}")),
                }
                if self.detail.shown().is_some_and(|d| d.partner.id == id) {
                    self.load_detail(sh, id)
                } else {
                    Vec::new()
                }
            }
            Msg::Referrals { tag, id, result } => {
                self.referrals_loaded(sh, tag, id, result);
                Vec::new()
            }
            Msg::ReferralDone {
                busy,
                partner_id,
                result,
            } => {
                sh.end_busy(busy);
                self.referral_done(sh, partner_id, result)
            }
            Msg::PayoutSet {
                busy,
                partner_id,
                result,
            } => {
                sh.end_busy(busy);
                match result {
                    Ok(r) => {
                        sh.toast(format!(
                            "partner {partner_id} is paid at {} ({})",
                            r.iban_masked, r.currency
                        ));
                        if self.detail.open {
                            return self.load_detail(sh, partner_id);
                        }
                    }
                    Err(e) => sh.toast_error(e.to_string()),
                }
                Vec::new()
            }
        }
    }

    fn answered(&mut self, sh: &mut Shell, q: Question, a: Answer) -> Vec<AppEffect> {
        match q {
            Question::Op { id, version, op } => {
                let busy = sh.start_busy(format!("{}…", op.verb()));
                fx(Effect::Op {
                    busy,
                    id,
                    version,
                    op,
                })
            }
            Question::ReloadForm => match self.form.as_ref().and_then(|f| f.id) {
                Some(id) => {
                    self.edit_after_load = true;
                    self.form = None;
                    self.load_detail(sh, id)
                }
                None => Vec::new(),
            },
            q @ (Question::Payout { .. } | Question::PayoutGo { .. }) => {
                let text = match a {
                    Answer::Text(t) => Some(t),
                    _ => None,
                };
                self.payout_answered(sh, q, text)
            }
            q => self.referral_answered(sh, q, a),
        }
    }

    fn check_answer(&self, q: &Question, text: &str) -> Option<String> {
        match q {
            Question::Payout { .. } => payout::parse_payout(text).err(),
            _ => None,
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
        view::draw(self, f, area, sh)
    }

    fn filter_text(&self) -> Option<String> {
        if self.referral.is_some() {
            return None;
        }
        Some(self.filter.text.clone())
    }

    fn filter_changed(&mut self, sh: &mut Shell, text: &str) -> Vec<AppEffect> {
        if !self.filter.set(text, parse_filter) {
            return Vec::new();
        }
        self.list.selected = 0;
        self.load(sh, LoadMode::Replace)
    }

    fn filter_hint(&self) -> &'static str {
        "   state:S and words of a name, domain or category · Enter keeps · Esc restores"
    }

    /// The partner form, else the referral tab's rule form.
    fn form(&self) -> Option<&Form> {
        match &self.form {
            Some(f) => Some(&f.form),
            None => Some(&self.referral.as_ref()?.rule.as_ref()?.form),
        }
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        if self.form.is_some() {
            return self.form.as_mut().map(|f| &mut f.form);
        }
        Some(&mut self.rule_form()?.form)
    }

    fn complete(&mut self, _sh: &mut Shell) -> Option<Vec<AppEffect>> {
        self.complete_rule()
    }

    /// A field changed: validate as you type, and keep the form safe for recovery.
    fn form_changed(&mut self, _sh: &mut Shell) -> Vec<AppEffect> {
        let Some(pf) = self.form.as_mut() else {
            return self.rule_form_changed();
        };
        let draft = draft_of(&pf.form);
        pf.form.errors = draft.validate().err().unwrap_or_default();
        pf.form.notice = None;
        vec![AppEffect::TrackForm(self.snapshot())]
    }

    fn close_form(&mut self, _sh: &mut Shell) -> Vec<AppEffect> {
        if self.form.take().is_some() {
            return vec![AppEffect::TrackForm(None)];
        }
        self.close_rule_form()
    }

    /// Partners or their deals (the counts) changed: the list and the open detail reload. The
    /// referral program changed (here or in another session): the open referral tab reloads.
    fn marking(&mut self) -> Option<&mut dyn Markable> {
        in_focus(&mut self.list, !self.detail.open && self.form.is_none())
    }

    browse::browsed_methods!(PartnerFilter, view::COLUMNS);

    fn list_export(&self, sh: &Shell) -> Option<ExportPlan> {
        let in_list = !self.detail.open && self.form.is_none();
        in_list.then(|| {
            browse::list_export(&self.filter.query, sh, Self::KEY, "partners", view::COLUMNS)
        })
    }

    fn check_filter(&self, text: &str) -> Option<String> {
        parse_filter(text, &PartnerFilter::default()).err()
    }

    fn bulk(&self, a: Action) -> Option<BulkOffer> {
        list::bulk_offer(a)
    }

    fn notice(&mut self, sh: &mut Shell, n: Notice) -> Vec<AppEffect> {
        match n {
            Notice::Changed(Changed::Referral) => self.load_referrals(sh),
            Notice::Changed(Changed::Partner | Changed::Deal) if self.list.changed() => {
                self.reload(sh)
            }
            _ => Vec::new(),
        }
    }

    fn restore(&mut self, sh: &mut Shell, snap: &FormSnapshot) -> Option<Vec<AppEffect>> {
        if snap.entity == referral::RULE_ENTITY {
            return Some(self.restore_rule(sh, snap));
        }
        if snap.entity != ENTITY {
            return None;
        }
        let mut out = self.open_form(snap.record_id, snap.version, &PartnerDraft::default());
        if let Some(pf) = self.form.as_mut() {
            pf.form.fill(&snap.fields);
        }
        out.extend(self.form_changed(sh));
        Some(out)
    }
}
