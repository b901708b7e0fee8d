//! The Deals pane: a keyset-paged list with filters, a detail view, the authoring form (fields
//! that only apply to one kind or scope come and go with it), the state actions with their
//! confirmations, and duplicating a deal into a new draft.

use super::action::Action;
use super::app::{App, Confirm, Overlay, Pending};
pub use super::deal_form::{DATE_FORMAT, draft_of, form_for, parse_local, show_local};
use super::deal_form::{check, show_applicable, values_of};
use super::form::{Absorbed, Form, conflict_question};
use super::list::{KeysetList, PAGE};
use super::msg::{DealDetail, Effect, LoadMode, Msg};
use super::recovery::FormSnapshot;
use crate::domain::{DealState, Permission};
use crate::store::deal_list::{DealFilter, DealListRow};
use crate::store::deals::Deal;
use chrono::Utc;

pub struct DealForm {
    pub form: Form,
    pub id: Option<i64>,
    pub version: Option<i32>,
}

#[derive(Default)]
pub struct DealsPane {
    pub list: KeysetList<DealListRow>,
    pub filter: DealFilter,
    /// The `/` text the filter was parsed from, and what was not understood.
    pub filter_text: String,
    pub filter_error: Option<String>,
    pub detail: Option<DealDetail>,
    pub detail_tag: u64,
    pub detail_open: bool,
    pub form: Option<DealForm>,
    pub save_tag: u64,
    edit_after_load: bool,
    duplicate_after_load: bool,
}

impl DealsPane {
    /// The deal the actions apply to: the open detail's, else the selected row's.
    fn target(&self) -> Option<(i64, i32, String, DealState)> {
        match (&self.detail, self.detail_open) {
            (Some(d), true) => Some((
                d.deal.id,
                d.deal.version,
                d.deal.title.clone(),
                d.deal.state,
            )),
            _ => self
                .list
                .selected_row()
                .map(|r| (r.id, r.version, r.title.clone(), r.state)),
        }
    }

    pub fn snapshot(&self) -> Option<FormSnapshot> {
        let f = self.form.as_ref()?;
        Some(FormSnapshot {
            entity: "deal".into(),
            record_id: f.id,
            version: f.version,
            label: f.form.value("title"),
            fields: f.form.values(),
            saved_at: Utc::now(),
        })
    }
}

/// Parses the Deals filter: `state:S`, `partner:ID`, `scope:S`, `cat:NAME`; other words are
/// matched against titles, partner names and coupon codes.
pub fn parse_filter(text: &str, base: &DealFilter) -> Result<DealFilter, String> {
    let mut f = DealFilter {
        sort: base.sort,
        descending: base.descending,
        ..Default::default()
    };
    let mut words = Vec::new();
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("state", v)) => f.state = Some(v.parse().map_err(|e| format!("state: {e}"))?),
            Some(("scope", v)) => f.scope = Some(v.parse().map_err(|e| format!("scope: {e}"))?),
            Some(("partner", v)) => {
                f.partner_id = Some(v.parse().map_err(|_| "partner: a partner id".to_owned())?)
            }
            Some(("cat", v)) | Some(("category", v)) => f.category = Some(v.to_owned()),
            _ => words.push(word),
        }
    }
    if !words.is_empty() {
        f.text = Some(words.join(" "));
    }
    Ok(f)
}

pub fn form_changed(app: &mut App) -> Vec<Effect> {
    let Some(df) = app.deals.form.as_mut() else {
        return Vec::new();
    };
    show_applicable(&mut df.form);
    df.form.errors = check(&df.form);
    df.form.notice = None;
    vec![Effect::TrackForm(app.deals.snapshot())]
}

fn open_form(
    app: &mut App,
    id: Option<i64>,
    version: Option<i32>,
    title: String,
    values: &[(&'static str, String)],
) -> Vec<Effect> {
    let form = form_for(title, values);
    app.deals.form = Some(DealForm { form, id, version });
    vec![Effect::TrackForm(app.deals.snapshot())]
}

pub fn close_form(app: &mut App) -> Vec<Effect> {
    app.deals.form = None;
    vec![Effect::TrackForm(None)]
}

/// Opens a saved form again (recovery).
pub fn restore(app: &mut App, snap: &FormSnapshot) -> Vec<Effect> {
    let mut fx = open_form(
        app,
        snap.record_id,
        snap.version,
        "Restored deal".into(),
        &[],
    );
    if let Some(df) = app.deals.form.as_mut() {
        df.form.fill(&snap.fields);
    }
    fx.extend(form_changed(app));
    fx
}

fn load(app: &mut App, mode: LoadMode) -> Vec<Effect> {
    let tag = app.next_tag();
    let req = app.deals.list.begin(tag, mode);
    let mut filter = app.deals.filter.clone();
    filter.after = req.after;
    filter.descending ^= req.flip;
    vec![Effect::LoadDeals {
        tag,
        filter,
        limit: PAGE,
        mode,
    }]
}

fn load_detail(app: &mut App, id: i64) -> Vec<Effect> {
    let tag = app.next_tag();
    app.deals.detail_tag = tag;
    vec![Effect::LoadDealDetail { tag, id }]
}

pub fn reload(app: &mut App) -> Vec<Effect> {
    if app.deals.list.tag == 0 {
        // First visit: newest deals first.
        app.deals.filter.descending = true;
    }
    let mut fx = load(app, LoadMode::Replace);
    if app.deals.detail_open
        && let Some(id) = app.deals.detail.as_ref().map(|d| d.deal.id)
    {
        fx.extend(load_detail(app, id));
    }
    fx
}

pub fn filter_changed(app: &mut App) -> Vec<Effect> {
    let text = app.filter_input.clone().unwrap_or_default();
    app.deals.filter_text = text.clone();
    match parse_filter(&text, &app.deals.filter) {
        Ok(f) => {
            app.deals.filter = f;
            app.deals.filter_error = None;
            app.deals.list.selected = 0;
            load(app, LoadMode::Replace)
        }
        Err(e) => {
            app.deals.filter_error = Some(e);
            Vec::new()
        }
    }
}

fn require(app: &mut App) -> bool {
    if app.may(Permission::ManageDeals) {
        return true;
    }
    let who = app.session.operator.clone();
    app.toast_error(format!(
        "{who} may not author and change deals: it needs the {} role",
        Permission::ManageDeals.needed_roles_text()
    ));
    false
}

fn ask_state(app: &mut App, to: DealState) -> Vec<Effect> {
    if !require(app) {
        return Vec::new();
    }
    let Some((id, version, title, from)) = app.deals.target() else {
        app.toast_error("select a deal first");
        return Vec::new();
    };
    // Refused moves are explained before asking anything.
    if let Err(reason) = from.check_transition(to, crate::domain::StateTrigger::Operator) {
        app.toast_error(format!(
            "cannot move deal #{id} from {from} to {to}: {reason}"
        ));
        return Vec::new();
    }
    let verb = match (from, to) {
        (DealState::Paused, DealState::Active) => "Resume",
        (_, DealState::Active) => "Activate",
        (_, DealState::Paused) => "Pause",
        _ => "Expire",
    };
    app.overlay = Overlay::Confirm(Confirm {
        title: format!("{verb} “{title}”?"),
        body: vec![format!("{from} → {to}: {}.", to.member_effect())],
        choices: ["Cancel", verb],
        selected: 0,
        on_yes: Pending::DealState { id, version, to },
    });
    Vec::new()
}

pub fn perform(app: &mut App, a: Action) -> Vec<Effect> {
    if let Some(mode) = app.deals.list.navigate(a) {
        return load(app, mode);
    }
    match a {
        Action::Open => match app.deals.list.selected_row().map(|r| r.id) {
            Some(id) => {
                app.deals.detail_open = true;
                load_detail(app, id)
            }
            None => Vec::new(),
        },
        Action::Back => {
            if app.deals.detail_open {
                app.deals.detail_open = false;
                Vec::new()
            } else if !app.deals.filter_text.is_empty() {
                app.filter_input = Some(String::new());
                let fx = filter_changed(app);
                app.filter_input = None;
                fx
            } else {
                Vec::new()
            }
        }
        Action::Filter => {
            app.filter_before = Some(app.deals.filter_text.clone());
            app.filter_input = Some(app.deals.filter_text.clone());
            Vec::new()
        }
        Action::Refresh => reload(app),
        Action::Sort => {
            app.deals.filter.sort = app.deals.filter.sort.next();
            app.deals.list.selected = 0;
            load(app, LoadMode::Replace)
        }
        Action::SortReverse => {
            app.deals.filter.descending = !app.deals.filter.descending;
            app.deals.list.selected = 0;
            load(app, LoadMode::Replace)
        }
        Action::Copy => match app.deals.target() {
            Some((id, ..)) => vec![Effect::Copy(id.to_string())],
            None => Vec::new(),
        },
        Action::New => {
            if !require(app) {
                return Vec::new();
            }
            let now = Utc::now();
            let from = show_local(now);
            let until = show_local(now + chrono::Duration::days(30));
            let partner = app
                .deals
                .filter
                .partner_id
                .map(|p| p.to_string())
                .unwrap_or_default();
            let fx = open_form(
                app,
                None,
                None,
                "New deal".into(),
                &[
                    ("partner", partner),
                    ("kind", "coupon".into()),
                    ("audience_scope", "public".into()),
                    ("valid_from", from),
                    ("valid_until", until),
                ],
            );
            if let Some(df) = app.deals.form.as_mut() {
                df.form.focus = if df.form.value("partner").is_empty() {
                    0
                } else {
                    1
                };
            }
            fx
        }
        Action::Edit | Action::Duplicate => {
            if !require(app) {
                return Vec::new();
            }
            let Some((id, ..)) = app.deals.target() else {
                return Vec::new();
            };
            match app.deals.detail.as_ref().filter(|d| d.deal.id == id) {
                Some(d) => {
                    let deal = d.deal.clone();
                    open_from(app, &deal, a == Action::Duplicate)
                }
                None => {
                    app.deals.edit_after_load = true;
                    app.deals.detail_open = a == Action::Edit;
                    if a == Action::Duplicate {
                        app.deals.detail_open = false;
                    }
                    let fx = load_detail(app, id);
                    app.deals.duplicate_after_load = a == Action::Duplicate;
                    fx
                }
            }
        }
        Action::Activate => ask_state(app, DealState::Active),
        Action::Pause => ask_state(app, DealState::Paused),
        Action::Expire => ask_state(app, DealState::Expired),
        Action::Save => save(app),
        Action::Import => {
            if !require(app) {
                return Vec::new();
            }
            app.overlay = Overlay::Prompt {
                title: "Import deals from CSV".into(),
                hint:
                    "a file path; every row is checked first and shown before anything is written"
                        .into(),
                input: String::new(),
                purpose: super::app::PromptFor::ImportPath,
            };
            Vec::new()
        }
        Action::NextField => {
            if let Some(df) = app.deals.form.as_mut() {
                df.form.next();
            }
            Vec::new()
        }
        Action::PrevField => {
            if let Some(df) = app.deals.form.as_mut() {
                df.form.prev();
            }
            Vec::new()
        }
        Action::Cancel => match app.deals.form.as_ref() {
            Some(df) if df.form.dirty => super::partners::ask_discard(app, false),
            Some(_) => close_form(app),
            None => Vec::new(),
        },
        Action::Export => {
            app.toast("export: deals have no CSV export; redemptions do");
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn open_from(app: &mut App, deal: &Deal, duplicate: bool) -> Vec<Effect> {
    let values = values_of(deal);
    if duplicate {
        let mut fx = open_form(
            app,
            None,
            None,
            format!("New draft from deal #{}", deal.id),
            &values,
        );
        fx.extend(form_changed(app));
        if let Some(df) = app.deals.form.as_mut() {
            df.form.dirty = true;
        }
        fx
    } else {
        open_form(
            app,
            Some(deal.id),
            Some(deal.version),
            format!("Edit deal #{}", deal.id),
            &values,
        )
    }
}

fn save(app: &mut App) -> Vec<Effect> {
    if !require(app) {
        return Vec::new();
    }
    let tag = app.next_tag();
    let Some(df) = app.deals.form.as_mut() else {
        return Vec::new();
    };
    df.form.errors = check(&df.form);
    if !df.form.errors.is_empty() {
        let n = df.form.errors.0.len();
        app.toast_error(format!(
            "{n} field{} to fix before saving",
            if n == 1 { "" } else { "s" }
        ));
        return Vec::new();
    }
    let (draft, _) = draft_of(&df.form);
    df.form.saving = true;
    let (id, version) = (df.id, df.version);
    app.deals.save_tag = tag;
    vec![Effect::SaveDeal {
        tag,
        id,
        version,
        draft,
    }]
}

/// Checks a CSV file without writing anything, for the preview.
pub fn import_preview(app: &mut App, path: String) -> Vec<Effect> {
    if path.is_empty() {
        return Vec::new();
    }
    let tag = app.next_tag();
    app.start_busy(format!("checking {path}"));
    vec![Effect::ImportDeals {
        tag,
        path,
        dry_run: true,
    }]
}

fn import_done(
    app: &mut App,
    path: String,
    result: Result<crate::service::import::ImportReport, crate::Error>,
) -> Vec<Effect> {
    if let Some(i) = app.busy.iter().position(|(_, l)| l.ends_with(&path)) {
        app.busy.remove(i);
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            app.toast_error(format!("{path}: {e}"));
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
        app.overlay = Overlay::Info {
            title: format!("Import {path}"),
            lines,
        };
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
        app.overlay = Overlay::Confirm(Confirm {
            title: format!("Import {path}?"),
            body,
            choices: ["Cancel", "Import"],
            selected: 0,
            on_yes: Pending::Import { path },
        });
        return Vec::new();
    }
    let n = report.imported.len();
    app.toast(format!(
        "imported {n} deal{} from {path}",
        if n == 1 { "" } else { "s" }
    ));
    load(app, LoadMode::Replace)
}

/// Answers to the Deals pane's questions.
pub fn confirmed(app: &mut App, p: Pending) -> Vec<Effect> {
    match p {
        Pending::DealState { id, version, to } => {
            let tag = app.next_tag();
            app.start_busy(format!("deal #{id} → {to}"));
            vec![Effect::DealState {
                tag,
                id,
                version,
                to,
            }]
        }
        Pending::Import { path } => {
            let tag = app.next_tag();
            app.start_busy(format!("importing {path}"));
            vec![Effect::ImportDeals {
                tag,
                path,
                dry_run: false,
            }]
        }
        Pending::ReloadForm => {
            let id = app.deals.form.as_ref().and_then(|f| f.id);
            app.deals.form = None;
            match id {
                Some(id) => {
                    app.deals.edit_after_load = true;
                    load_detail(app, id)
                }
                None => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

pub fn on_msg(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Deals { tag, mode, result } => {
            if !app.deals.list.accept(tag) {
                return Vec::new();
            }
            match result {
                Ok(rows) => app.deals.list.merge(mode, rows),
                Err(e) => app.toast_error(e.to_string()),
            }
            Vec::new()
        }
        Msg::DealDetail { tag, result } => {
            if tag != app.deals.detail_tag {
                return Vec::new();
            }
            match result {
                Ok(d) => {
                    let edit = std::mem::take(&mut app.deals.edit_after_load);
                    let dup = std::mem::take(&mut app.deals.duplicate_after_load);
                    let deal = d.deal.clone();
                    app.deals.detail = Some(d);
                    if edit {
                        open_from(app, &deal, dup)
                    } else {
                        Vec::new()
                    }
                }
                Err(e) => {
                    app.deals.edit_after_load = false;
                    app.toast_error(e.to_string());
                    Vec::new()
                }
            }
        }
        Msg::DealSaved { tag, result } => {
            if tag != app.deals.save_tag {
                return Vec::new();
            }
            match result {
                Ok(d) => {
                    app.toast(format!("saved deal #{} “{}” ({})", d.id, d.title, d.state));
                    let mut fx = close_form(app);
                    app.deals.detail_open = true;
                    fx.extend(load_detail(app, d.id));
                    fx.extend(load(app, LoadMode::Replace));
                    fx
                }
                Err(e) => {
                    let Some(df) = app.deals.form.as_mut() else {
                        return Vec::new();
                    };
                    match df.form.absorb(e) {
                        Absorbed::Fields => {
                            app.toast_error("the server refused some fields; see the form")
                        }
                        Absorbed::Conflict { changed_by, when } => {
                            app.overlay =
                                Overlay::Confirm(conflict_question("deal", &changed_by, &when));
                        }
                        Absorbed::Other(text) => app.toast_error(text),
                    }
                    Vec::new()
                }
            }
        }
        Msg::DealStateDone { tag: _, to, result } => {
            if let Some(i) = app.busy.iter().position(|(_, l)| l.starts_with("deal #")) {
                app.busy.remove(i);
            }
            match result {
                Ok(d) => app.toast(format!(
                    "deal #{} is now {}: {}",
                    d.id,
                    d.state,
                    to.member_effect()
                )),
                Err(e) => app.toast_error(e.to_string()),
            }
            reload(app)
        }
        Msg::Imported {
            tag: _,
            path,
            result,
        } => import_done(app, path, result),
        Msg::DealCount { deal_id, count } => {
            if let Some(r) = app.deals.list.rows.iter_mut().find(|r| r.id == deal_id) {
                r.redemption_count = count;
            }
            if let Some(d) = app.deals.detail.as_mut().filter(|d| d.deal.id == deal_id) {
                d.deal.redemption_count = count;
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
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
