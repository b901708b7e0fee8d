//! The Deals pane: a keyset-paged list with filters, a detail view, the authoring form (fields
//! that only apply to one kind or scope come and go with it), the state actions with their
//! confirmations, duplicating a deal into a new draft, and importing deals from CSV.

mod authoring;
mod effects;
pub mod form;
mod import;
mod list;
mod picker;
mod view;

pub use crate::console::picker::PartnerChoice;
pub use effects::{DealDetail, Effect, Msg};
pub use form::{DATE_FORMAT, draft_of, form_for, parse_local, show_local};

use crate::console::action::Action;
use crate::console::browse;
use crate::console::bulk::{BulkOffer, in_focus};
use crate::console::detail::Detail;
use crate::console::export::ExportPlan;
use crate::console::form::{Editing, Form, conflict_lines, fields_to_fix, refused};
use crate::console::list::{KeysetList, ListFilter, Markable, PAGE};
use crate::console::msg::{Changed, Effect as AppEffect, LoadMode, Notice};
use crate::console::pane::{Answer, Pane, fx};
use crate::console::picker::partner_id_of;
use crate::console::recovery::FormSnapshot;
use crate::console::shell::{Latest, Shell};
use crate::console::shell::{Overlay, Pending};
use crate::domain::{DealState, Permission};
use crate::error::Error;
use crate::service::rows::{DealFilter, DealListRow};
use form::values_of;
use form::{check, show_applicable};
use ratatui::Frame;
use ratatui::layout::Rect;

/// What the recovery file calls this pane's form.
const ENTITY: &str = "deal";

/// What the Deals pane asks.
#[derive(Debug, Clone)]
pub enum Question {
    ChangeState {
        id: i64,
        version: i32,
        to: DealState,
    },
    /// The path of a CSV file to check (a prompt).
    ImportPath,
    /// Import the checked file.
    Import { path: String },
    /// The deal changed under the form: reload it (the edits are lost).
    ReloadForm,
}

/// What to open once the detail has loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Edit,
    Duplicate,
}

#[derive(Default)]
pub struct DealsPane {
    pub list: KeysetList<DealListRow>,
    /// The `/` text, the query it read as (with the sort), and what was not understood.
    pub filter: ListFilter<DealFilter>,
    pub detail: Detail<DealDetail>,
    pub form: Option<Editing>,
    pub save: Latest,
    /// The activation check read before asking.
    pub asking: Latest,
    then: Option<Then>,
    /// The partner field's lookups.
    pub picker: picker::Picker,
}

/// Parses the Deals filter: `state:S`, `partner:ID`, `scope:S`, `cat:NAME`; other words are
/// matched against titles, partner names and coupon codes.
pub fn parse_filter(text: &str, base: &DealFilter) -> Result<DealFilter, String> {
    let mut f = DealFilter {
        sort: base.sort,
        descending: base.descending,
        ..Default::default()
    };
    f.text = crate::console::list::filter_words(text, |k, v| match k {
        "state" => Some(
            v.parse()
                .map(|s| f.state = Some(s))
                .map_err(|e| format!("state: {e}")),
        ),
        "scope" => Some(
            v.parse()
                .map(|s| f.scope = Some(s))
                .map_err(|e| format!("scope: {e}")),
        ),
        "partner" => Some(
            v.parse()
                .map(|p| f.partner_id = Some(p))
                .map_err(|_| "partner: a partner id".to_owned()),
        ),
        "cat" | "category" => {
            f.category = Some(v.to_owned());
            Some(Ok(()))
        }
        _ => None,
    })?;
    Ok(f)
}

impl DealsPane {
    /// The deal the actions apply to: the open detail's, else the selected row's.
    fn target(&self) -> Option<(i64, i32, String, DealState)> {
        match self.detail.shown() {
            Some(d) => Some((
                d.deal.id,
                d.deal.version,
                d.deal.title.clone(),
                d.deal.state,
            )),
            None => self
                .list
                .selected_row()
                .map(|r| (r.id, r.version, r.title.clone(), r.state)),
        }
    }

    pub fn snapshot(&self) -> Option<FormSnapshot> {
        Some(self.form.as_ref()?.snapshot(ENTITY, "title"))
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

    fn ask_state(&mut self, sh: &mut Shell, to: DealState) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageDeals) {
            return Vec::new();
        }
        let Some((id, version, title, from)) = self.target() else {
            sh.toast_error("select a deal first");
            return Vec::new();
        };
        // Refused moves are explained before asking anything.
        if let Err(reason) = from.check_transition(to, crate::domain::StateTrigger::Operator) {
            sh.toast_error(format!(
                "cannot move deal #{id} from {from} to {to}: {reason}"
            ));
            return Vec::new();
        }
        if to == DealState::Active {
            // Its partner and agreements are read first: a refusal is said before asking,
            // and what its statements will make of the window is said in the question.
            let tag = self.asking.begin(sh);
            return fx(Effect::CheckActivation {
                tag,
                id,
                version,
                title,
                from,
            });
        }
        confirm_state(sh, id, version, &title, from, to, None);
        Vec::new()
    }

    fn save(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageDeals) {
            return Vec::new();
        }
        let Some(df) = self.form.as_mut() else {
            return Vec::new();
        };
        df.form.errors = check(&df.form);
        if !df.form.errors.is_empty() {
            fields_to_fix(sh, &df.form.errors);
            return Vec::new();
        }
        let (draft, _) = draft_of(&df.form);
        df.form.saving = true;
        let (id, version) = (df.id, df.version);
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

impl Pane for DealsPane {
    type Effect = Effect;
    type Question = Question;
    const TITLE: &'static str = "Deals";
    const KEY: &'static str = "deals";

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
                    | Activate
                    | Pause
                    | Expire
                    | Duplicate
                    | Import
                    | Save
                    | NextField
                    | PrevField
                    | Cancel
            )
    }

    fn needs(&self, a: Action) -> Option<Permission> {
        use Action::*;
        matches!(
            a,
            New | Edit | Activate | Pause | Expire | Duplicate | Import | Save
        )
        .then_some(Permission::ManageDeals)
    }

    fn main_actions(&self) -> &'static [Action] {
        use Action::*;
        &[Open, Filter, New, Edit, Activate, Pause, Duplicate, Import]
    }

    fn needs_load(&self) -> bool {
        self.list.rows.is_empty()
    }

    fn reload(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if self.list.tag == 0 {
            // First visit: newest deals first.
            self.filter.query.descending = true;
        }
        let mut out = self.load(sh, LoadMode::Replace);
        if self.detail.open
            && let Some(id) = self.detail.data.as_ref().map(|d| d.deal.id)
        {
            out.extend(self.load_detail(sh, id));
        }
        out
    }

    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        // The open detail's timeline scrolls with the list keys.
        if self.detail.navigate(a) {
            return Vec::new();
        }
        if let Some(mode) = self.list.navigate(a) {
            return self.load(sh, mode);
        }
        let manage = |sh: &mut Shell| sh.require(Permission::ManageDeals);
        match a {
            Action::Open => match self.list.selected_row().map(|r| r.id) {
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
                Some((id, ..)) => vec![AppEffect::copy_id("deal", id)],
                None => Vec::new(),
            },
            Action::New if manage(sh) => self.new_form(),
            Action::Edit if manage(sh) => self.edit(sh, Then::Edit),
            Action::Duplicate if manage(sh) => self.edit(sh, Then::Duplicate),
            Action::Activate => self.ask_state(sh, DealState::Active),
            Action::Pause => self.ask_state(sh, DealState::Paused),
            Action::Expire => self.ask_state(sh, DealState::Expired),
            Action::Save => self.save(sh),
            Action::Import if manage(sh) => {
                sh.prompt(
                    "Import deals from CSV",
                    "a CSV file path (times without a zone are UTC); every row is checked and shown first",
                    "",
                    Question::ImportPath,
                );
                Vec::new()
            }
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
                if !self.detail.accept(tag) {
                    return Vec::new();
                }
                match result {
                    Ok(d) => {
                        let then = self.then.take();
                        let deal = d.deal.clone();
                        self.detail.data = Some(d);
                        match then {
                            Some(then) => self.open_from(sh, &deal, then == Then::Duplicate),
                            None => Vec::new(),
                        }
                    }
                    Err(e) => {
                        self.then = None;
                        sh.toast_error(e.to_string());
                        Vec::new()
                    }
                }
            }
            Msg::ActivationChecked {
                tag,
                id,
                version,
                title,
                from,
                result,
            } => {
                if !self.asking.accept(tag) {
                    return Vec::new();
                }
                match result {
                    Ok(c) => match c.refusal {
                        // The refusal names the deal's partner, why, and what to do.
                        Some(why) => sh.toast_error(why),
                        None => confirm_state(
                            sh,
                            id,
                            version,
                            &title,
                            from,
                            DealState::Active,
                            c.warning,
                        ),
                    },
                    Err(e) => sh.toast_error(e.to_string()),
                }
                Vec::new()
            }
            Msg::Saved { tag, result } => {
                if !self.save.accept(tag) {
                    return Vec::new();
                }
                match result {
                    Ok(d) => {
                        sh.toast(format!("saved deal #{} “{}” ({})", d.id, d.title, d.state));
                        let mut out = self.close_form(sh);
                        self.detail.open_new();
                        out.extend(self.load_detail(sh, d.id));
                        out.extend(self.load(sh, LoadMode::Replace));
                        out
                    }
                    Err(e) => {
                        let conflict = matches!(e, Error::Conflict { .. });
                        if let Some(df) = self.form.as_mut() {
                            refused(sh, &mut df.form, e, ENTITY, Question::ReloadForm.into());
                            // Ask what they changed, for the dialog to say it field by field.
                            if let (true, Some(id)) = (conflict, df.id) {
                                return fx(Effect::Theirs { id });
                            }
                        }
                        Vec::new()
                    }
                }
            }
            Msg::StateChanged { busy, to, result } => {
                sh.end_busy(busy);
                match result {
                    Ok(d) => sh.toast(format!(
                        "deal #{} is now {}: {}",
                        d.id,
                        d.state,
                        to.member_effect()
                    )),
                    Err(e) => sh.toast_error(e.to_string()),
                }
                self.reload(sh)
            }
            Msg::Imported { busy, path, result } => {
                sh.end_busy(busy);
                self.imported(sh, path, result)
            }
            Msg::Theirs { result } => {
                if let (Ok(deal), Some(df), Overlay::Confirm(c)) =
                    (result, self.form.as_ref(), &mut sh.overlay)
                    && matches!(
                        &c.on_yes,
                        Pending::Pane(q) if matches!(q.get::<Question>(), Some(Question::ReloadForm))
                    )
                {
                    let same = |field: &str, a: &str, b: &str| match field {
                        "partner" => partner_id_of(a) == partner_id_of(b),
                        _ => a.trim() == b.trim(),
                    };
                    let lines = conflict_lines(&df.form, &values_of(&deal), same);
                    c.body.splice(1..1, lines);
                }
                Vec::new()
            }
            // A Tab pressed before the answer came completes now: the form changed.
            Msg::PartnersFound { tag, result } => match self.partners_found(sh, tag, result) {
                true => self.form_changed(sh),
                false => Vec::new(),
            },
        }
    }

    fn answered(&mut self, sh: &mut Shell, q: Question, a: Answer) -> Vec<AppEffect> {
        match (q, a) {
            (Question::ChangeState { id, version, to }, _) => {
                let busy = sh.start_busy(format!("deal #{id} → {to}"));
                fx(Effect::ChangeState {
                    busy,
                    id,
                    version,
                    to,
                })
            }
            (Question::ImportPath, Answer::Text(path)) => self.import_preview(sh, path),
            (Question::ImportPath, Answer::Yes) => Vec::new(),
            (Question::Import { path }, _) => self.import(sh, path),
            (Question::ReloadForm, _) => {
                let id = self.form.as_ref().and_then(|f| f.id);
                self.form = None;
                match id {
                    Some(id) => {
                        self.then = Some(Then::Edit);
                        self.load_detail(sh, id)
                    }
                    None => Vec::new(),
                }
            }
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
        view::draw(self, f, area, sh)
    }

    fn filter_text(&self) -> Option<String> {
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
        "   state:S partner:ID scope:S cat:NAME and words · Enter keeps · Esc restores"
    }

    fn form(&self) -> Option<&Form> {
        self.form.as_ref().map(|f| &f.form)
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        self.form.as_mut().map(|f| &mut f.form)
    }

    fn form_changed(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let Some(df) = self.form.as_mut() else {
            return Vec::new();
        };
        show_applicable(&mut df.form);
        df.form.errors = check(&df.form);
        df.form.notice = None;
        let mut out = vec![AppEffect::TrackForm(self.snapshot())];
        out.extend(self.find_partner(sh));
        out
    }

    fn complete(&mut self, sh: &mut Shell) -> Option<Vec<AppEffect>> {
        self.complete_partner().then(|| self.form_changed(sh))
    }

    fn close_form(&mut self, _sh: &mut Shell) -> Vec<AppEffect> {
        self.form = None;
        vec![AppEffect::TrackForm(None)]
    }

    fn restore(&mut self, sh: &mut Shell, snap: &FormSnapshot) -> Option<Vec<AppEffect>> {
        if snap.entity != ENTITY {
            return None;
        }
        let mut out = self.open_form(snap.record_id, snap.version, "Restored deal".into(), &[]);
        if let Some(df) = self.form.as_mut() {
            df.form.fill(&snap.fields);
        }
        out.extend(self.form_changed(sh));
        Some(out)
    }

    fn marking(&mut self) -> Option<&mut dyn Markable> {
        in_focus(&mut self.list, !self.detail.open && self.form.is_none())
    }

    browse::browsed_methods!(DealFilter, view::COLUMNS);

    fn list_export(&self, sh: &Shell) -> Option<ExportPlan> {
        let in_list = !self.detail.open && self.form.is_none();
        in_list
            .then(|| browse::list_export(&self.filter.query, sh, Self::KEY, "deals", view::COLUMNS))
    }

    fn check_filter(&self, text: &str) -> Option<String> {
        parse_filter(text, &DealFilter::default()).err()
    }

    fn bulk(&self, a: Action) -> Option<BulkOffer> {
        list::bulk_offer(a)
    }

    /// Opens deal `id`'s detail (sent here from an accepted negotiation's contract).
    fn show(&mut self, sh: &mut Shell, id: i64) -> Vec<AppEffect> {
        self.detail.open_new();
        let mut out = self.load_detail(sh, id);
        if self.list.rows.is_empty() {
            out.extend(self.reload(sh));
        }
        out
    }

    /// A redemption count announced by another session moves the row and the detail.
    fn notice(&mut self, sh: &mut Shell, n: Notice) -> Vec<AppEffect> {
        if let Notice::Changed(Changed::Deal | Changed::Partner) = n {
            return if self.list.changed() {
                self.reload(sh)
            } else {
                Vec::new()
            };
        }
        let Notice::DealCount { deal_id, count } = n else {
            return Vec::new();
        };
        if let Some(r) = self.list.rows.iter_mut().find(|r| r.id == deal_id) {
            r.redemption_count = count;
        }
        if let Some(d) = self.detail.data.as_mut().filter(|d| d.deal.id == deal_id) {
            d.deal.redemption_count = count;
        }
        Vec::new()
    }
}

/// Asks to move deal `id` from `from` to `to`, saying what it means for members (and, for an
/// activation, for its statements).
fn confirm_state(
    sh: &mut Shell,
    id: i64,
    version: i32,
    title: &str,
    from: DealState,
    to: DealState,
    warning: Option<String>,
) {
    let verb = match (from, to) {
        (DealState::Paused, DealState::Active) => "Resume",
        (_, DealState::Active) => "Activate",
        (_, DealState::Paused) => "Pause",
        _ => "Expire",
    };
    let mut lines = vec![format!("{from} → {to}: {}.", to.member_effect())];
    lines.extend(warning);
    sh.confirm(
        format!("{verb} “{title}”?"),
        lines,
        ["Cancel", verb],
        Question::ChangeState { id, version, to },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AudienceScope;

    #[test]
    fn filter_words() {
        let f = parse_filter(
            "state:active scope:batch partner:7 cat:food spring sale",
            &DealFilter::default(),
        )
        .unwrap();
        assert_eq!(f.state, Some(DealState::Active));
        assert_eq!(f.scope, Some(AudienceScope::Batch));
        assert_eq!(f.partner_id, Some(7));
        assert_eq!(f.category.as_deref(), Some("food"));
        assert_eq!(f.text.as_deref(), Some("spring sale"));
        assert_eq!(
            parse_filter("state:live", &DealFilter::default()).unwrap_err(),
            "state: must be draft, active, paused or expired"
        );
    }
}
