//! The Deals pane: a keyset-paged list with filters, a detail view, the authoring form (fields
//! that only apply to one kind or scope come and go with it), the state actions with their
//! confirmations, and duplicating a deal into a new draft.

use super::action::Action;
use super::app::{App, Confirm, Overlay, Pending};
use super::form::{Absorbed, Field, Form, conflict_question};
use super::list::{KeysetList, PAGE};
use super::msg::{DealDetail, Effect, LoadMode, Msg};
use super::recovery::FormSnapshot;
use crate::domain::validation::split_list;
use crate::domain::{AudienceScope, DealDraft, DealState, Permission, ValidationErrors};
use crate::store::deals::{Deal, DealFilter, DealListRow};
use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// How dates are typed and shown in the deal form (the operator's local time).
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M";

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

/// A time typed in the operator's zone, as UTC.
pub fn parse_local(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let naive = NaiveDateTime::parse_from_str(s, DATE_FORMAT)
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    match super::view::pinned_zone() {
        Some(zone) => zone
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
        None => Local
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// A time in the operator's zone, as the form shows and reads it.
pub fn show_local(t: DateTime<Utc>) -> String {
    super::view::local(t)
}

/// The form's text as a draft, plus the fields whose text could not even be read.
pub fn draft_of(form: &Form) -> (DealDraft, ValidationErrors) {
    let mut errs = ValidationErrors::new();
    let opt = |n: &str| {
        let v = form.value(n);
        let t = v.trim();
        if t.is_empty() {
            None
        } else {
            Some(t.to_owned())
        }
    };
    let partner_id = opt("partner").map(|p| {
        p.parse::<i64>().map_err(|_| {
            errs.push(
                "partner",
                "a partner id (a number; y on the Partners pane copies one)",
            )
        })
    });
    let partner_id = match partner_id {
        Some(Ok(id)) => Some(id),
        Some(Err(())) => Some(0),
        None => None,
    };
    let mut date = |n: &'static str| match opt(n) {
        None => None,
        Some(v) => match parse_local(&v) {
            Some(t) => Some(t),
            None => {
                errs.push(n, "a local time like 2026-12-01 09:00");
                None
            }
        },
    };
    let valid_from = date("valid_from");
    let valid_until = date("valid_until");
    let redemption_cap = match opt("redemption_cap") {
        None => None,
        Some(c) => match c.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push("redemption_cap", "a whole number, or empty for no cap");
                None
            }
        },
    };
    let draft = DealDraft {
        partner_id,
        title: form.value("title"),
        description: form.value("description"),
        kind: form.value("kind").trim().to_owned(),
        coupon_code: opt("coupon_code"),
        redemption_url: opt("redemption_url"),
        categories: split_list(&form.value("categories")),
        audience_scope: form.value("audience_scope").trim().to_owned(),
        audience_scope_value: opt("audience_scope_value"),
        valid_from,
        valid_until,
        redemption_cap,
        state: None,
    };
    (draft, errs)
}

/// Every message for the form: what could not be read, then the rules (one per field).
fn check(form: &Form) -> ValidationErrors {
    let (draft, mut errs) = draft_of(form);
    if let Err(rules) = draft.validate() {
        for e in rules.0 {
            let unreadable = errs.for_field(e.field).is_some();
            let missing_because_unreadable = e.rule == "required" && unreadable;
            if !unreadable && !missing_because_unreadable {
                errs.0.push(e);
            }
        }
    }
    errs
}

fn values_of(d: &Deal) -> Vec<(&'static str, String)> {
    vec![
        ("partner", d.partner_id.to_string()),
        ("title", d.title.clone()),
        ("description", d.description.clone()),
        ("kind", d.kind.to_string()),
        ("coupon_code", d.coupon_code.clone().unwrap_or_default()),
        (
            "redemption_url",
            d.redemption_url.clone().unwrap_or_default(),
        ),
        ("categories", d.categories.join(", ")),
        ("audience_scope", d.audience_scope.to_string()),
        (
            "audience_scope_value",
            d.audience_scope_value.clone().unwrap_or_default(),
        ),
        ("valid_from", show_local(d.valid_from)),
        ("valid_until", show_local(d.valid_until)),
        (
            "redemption_cap",
            d.redemption_cap.map(|c| c.to_string()).unwrap_or_default(),
        ),
    ]
}

pub fn form_for(title: String, values: &[(&'static str, String)]) -> Form {
    let v = |n: &str| {
        values
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut form = Form::new(
        title,
        vec![
            Field::new(
                "partner",
                "Partner id",
                "the partner's id (Partners pane: y copies it)",
                false,
                &v("partner"),
            ),
            Field::new("title", "Title", "required, ≤ 255", false, &v("title")),
            Field::new(
                "description",
                "Description",
                "≤ 4,000; Enter for a new line",
                true,
                &v("description"),
            ),
            Field::new("kind", "Kind", "coupon or link", false, &v("kind")),
            Field::new(
                "coupon_code",
                "Coupon code",
                "required for coupons, ≤ 64",
                false,
                &v("coupon_code"),
            ),
            Field::new(
                "redemption_url",
                "Redemption URL",
                "required for links: https://…",
                false,
                &v("redemption_url"),
            ),
            Field::new(
                "categories",
                "Categories",
                "comma-separated",
                false,
                &v("categories"),
            ),
            Field::new(
                "audience_scope",
                "Audience",
                "public, institute, alumni, batch or chapter",
                false,
                &v("audience_scope"),
            ),
            Field::new(
                "audience_scope_value",
                "Batch/chapter",
                "a batch year, or a chapter name",
                false,
                &v("audience_scope_value"),
            ),
            Field::new(
                "valid_from",
                "Valid from",
                "YYYY-MM-DD HH:MM, your local time",
                false,
                &v("valid_from"),
            ),
            Field::new(
                "valid_until",
                "Valid until",
                "YYYY-MM-DD HH:MM, after valid from",
                false,
                &v("valid_until"),
            ),
            Field::new(
                "redemption_cap",
                "Redemption cap",
                "1 = once per member; N = first N; empty = none",
                false,
                &v("redemption_cap"),
            ),
        ],
    );
    show_applicable(&mut form);
    form
}

/// Fields that apply only to one kind or scope appear and disappear with it.
fn show_applicable(form: &mut Form) {
    let kind = form.value("kind").trim().to_ascii_lowercase();
    let scope = form
        .value("audience_scope")
        .trim()
        .parse::<AudienceScope>()
        .ok();
    form.set_hidden("coupon_code", kind == "link");
    form.set_hidden("redemption_url", kind == "coupon");
    form.set_hidden(
        "audience_scope_value",
        !matches!(
            scope,
            Some(AudienceScope::Batch | AudienceScope::Chapter) | None
        ),
    );
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
            let now = Local::now();
            let from = now.format(DATE_FORMAT).to_string();
            let until = (now + chrono::Duration::days(30))
                .format(DATE_FORMAT)
                .to_string();
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

    #[test]
    fn local_times_round_trip() {
        let t = parse_local("2026-12-01 09:30").unwrap();
        assert_eq!(show_local(t), "2026-12-01 09:30");
        assert!(parse_local("2026-12-01").is_some());
        assert!(parse_local("tomorrow").is_none());
    }

    #[test]
    fn fields_follow_kind_and_scope() {
        let mut f = form_for(
            "t".into(),
            &[("kind", "link".into()), ("audience_scope", "public".into())],
        );
        let hidden = |f: &Form, n: &str| f.fields.iter().find(|x| x.name == n).unwrap().hidden;
        assert!(hidden(&f, "coupon_code"));
        assert!(!hidden(&f, "redemption_url"));
        assert!(hidden(&f, "audience_scope_value"));
        f = form_for(
            "t".into(),
            &[
                ("kind", "coupon".into()),
                ("audience_scope", "chapter".into()),
            ],
        );
        assert!(!hidden(&f, "coupon_code"));
        assert!(hidden(&f, "redemption_url"));
        assert!(!hidden(&f, "audience_scope_value"));
    }

    #[test]
    fn unreadable_text_is_reported_once_per_field() {
        let f = form_for(
            "t".into(),
            &[
                ("partner", "abc".into()),
                ("title", "T".into()),
                ("kind", "coupon".into()),
                ("coupon_code", "C".into()),
                ("audience_scope", "public".into()),
                ("valid_from", "soon".into()),
                ("valid_until", "2026-12-01 09:00".into()),
                ("redemption_cap", "many".into()),
            ],
        );
        let e = check(&f);
        assert_eq!(
            e.for_field("partner"),
            Some("a partner id (a number; y on the Partners pane copies one)")
        );
        assert_eq!(
            e.for_field("valid_from"),
            Some("a local time like 2026-12-01 09:00")
        );
        assert_eq!(
            e.for_field("redemption_cap"),
            Some("a whole number, or empty for no cap")
        );
        assert_eq!(e.0.iter().filter(|x| x.field == "valid_from").count(), 1);
    }
}
