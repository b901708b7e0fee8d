//! The Partners pane: a keyset-paged list, a detail view, the new/edit form and the partner
//! actions (vetting checks, mark vetted, disable, re-vet, delete, off-board).

use super::action::Action;
use super::app::{App, Confirm, Overlay, Pending};
use super::form::{Field, Form};
use super::list::{KeysetList, PAGE};
use super::msg::{Effect, Gen, LoadMode, Msg, OpOutcome, PartnerDetail, PartnerOp};
use super::recovery::FormSnapshot;
use crate::domain::validation::split_list;
use crate::domain::{PartnerDraft, Permission};
use crate::error::Error;
use crate::store::partners::{Partner, PartnerFilter, PartnerListRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    List,
    Detail,
}

pub struct PartnerForm {
    pub form: Form,
    pub id: Option<i64>,
    pub version: Option<i32>,
}

#[derive(Default)]
pub struct PartnersPane {
    pub list: KeysetList<PartnerListRow>,
    pub filter: PartnerFilter,
    pub view: View,
    pub detail: Option<PartnerDetail>,
    pub detail_gen: Gen,
    pub detail_loading: bool,
    pub edit_after_load: bool,
    pub form: Option<PartnerForm>,
    pub save_gen: Gen,
}

impl PartnersPane {
    pub fn selected_row(&self) -> Option<&PartnerListRow> {
        self.list.selected_row()
    }

    /// The partner the actions apply to: the detail's, else the selected row's.
    fn target(&self) -> Option<(i64, i32, String)> {
        match (self.view, &self.detail) {
            (View::Detail, Some(d)) => Some((
                d.partner.id,
                d.partner.version,
                d.partner.display_name.clone(),
            )),
            _ => self
                .selected_row()
                .map(|r| (r.id, r.version, r.display_name.clone())),
        }
    }

    pub fn snapshot(&self) -> Option<FormSnapshot> {
        let f = self.form.as_ref()?;
        Some(FormSnapshot {
            entity: "partner".into(),
            record_id: f.id,
            version: f.version,
            label: f.form.value("display_name"),
            fields: f.form.values(),
            saved_at: chrono::Utc::now(),
        })
    }
}

fn opt(s: String) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_owned())
    }
}

pub fn draft_of(form: &Form) -> PartnerDraft {
    PartnerDraft {
        legal_name: form.value("legal_name"),
        display_name: form.value("display_name"),
        logo_url: opt(form.value("logo_url")),
        website_url: opt(form.value("website_url")),
        contact_email: opt(form.value("contact_email")),
        categories: split_list(&form.value("categories")),
        region: opt(form.value("region")),
        notes: opt(form.value("notes")),
    }
}

pub fn form_for(title: String, d: &PartnerDraft) -> Form {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut form = Form::new(
        title,
        vec![
            Field::new(
                "display_name",
                "Display name",
                "required, ≤ 255",
                false,
                &d.display_name,
            ),
            Field::new(
                "legal_name",
                "Legal name",
                "required, ≤ 255",
                false,
                &d.legal_name,
            ),
            Field::new(
                "website_url",
                "Website",
                "https://…; its domain must be unique",
                false,
                &o(&d.website_url),
            ),
            Field::new(
                "logo_url",
                "Logo URL",
                "https://… PNG or SVG",
                false,
                &o(&d.logo_url),
            ),
            Field::new(
                "contact_email",
                "Contact e-mail",
                "name@domain",
                false,
                &o(&d.contact_email),
            ),
            Field::new(
                "categories",
                "Categories",
                "comma-separated",
                false,
                &d.categories.join(", "),
            ),
            Field::new("region", "Region", "≤ 64", false, &o(&d.region)),
            Field::new(
                "notes",
                "Notes",
                "free text; Enter for a new line",
                true,
                &o(&d.notes),
            ),
        ],
    );
    form.errors = d.validate().err().unwrap_or_default();
    form
}

fn draft_from(p: &Partner) -> PartnerDraft {
    PartnerDraft {
        legal_name: p.legal_name.clone(),
        display_name: p.display_name.clone(),
        logo_url: p.logo_url.clone(),
        website_url: p.website_url.clone(),
        contact_email: p.contact_email.clone(),
        categories: p.categories.clone(),
        region: p.region.clone(),
        notes: p.notes.clone(),
    }
}

fn load(app: &mut App, mode: LoadMode) -> Vec<Effect> {
    let tag = app.next_tag();
    let req = app.partners.list.begin(tag, mode);
    let mut filter = app.partners.filter.clone();
    filter.after = req.after;
    filter.descending ^= req.flip;
    vec![Effect::LoadPartners {
        tag,
        filter,
        limit: PAGE,
        mode,
    }]
}

fn load_detail(app: &mut App, id: i64) -> Vec<Effect> {
    let tag = app.next_tag();
    app.partners.detail_gen = tag;
    app.partners.detail_loading = true;
    vec![Effect::LoadPartnerDetail { tag, id }]
}

/// Reloads the list from the top (and the detail, when open).
pub fn reload(app: &mut App) -> Vec<Effect> {
    let mut fx = load(app, LoadMode::Replace);
    if app.partners.view == View::Detail
        && let Some(id) = app.partners.detail.as_ref().map(|d| d.partner.id)
    {
        fx.extend(load_detail(app, id));
    }
    fx
}

/// The `/` filter changed: ask the server again; older answers will be dropped.
pub fn filter_changed(app: &mut App) -> Vec<Effect> {
    let text = app.filter_input.clone().unwrap_or_default();
    app.partners.filter.text = if text.trim().is_empty() {
        None
    } else {
        Some(text)
    };
    app.partners.list.selected = 0;
    load(app, LoadMode::Replace)
}

/// A field changed: validate as you type, and keep the form safe for recovery.
pub fn form_changed(app: &mut App) -> Vec<Effect> {
    let Some(pf) = app.partners.form.as_mut() else {
        return Vec::new();
    };
    let draft = draft_of(&pf.form);
    pf.form.errors = draft.validate().err().unwrap_or_default();
    pf.form.notice = None;
    vec![Effect::TrackForm(app.partners.snapshot())]
}

fn open_form(
    app: &mut App,
    id: Option<i64>,
    version: Option<i32>,
    draft: &PartnerDraft,
) -> Vec<Effect> {
    let title = match id {
        Some(_) => format!("Edit partner {}", draft.display_name),
        None => "New partner".to_owned(),
    };
    let mut form = form_for(title, draft);
    // A brand-new form shows no errors until something is typed.
    if id.is_none() && draft == &PartnerDraft::default() {
        form.errors = Default::default();
    }
    app.partners.form = Some(PartnerForm { form, id, version });
    vec![Effect::TrackForm(app.partners.snapshot())]
}

pub fn close_form(app: &mut App) -> Vec<Effect> {
    app.partners.form = None;
    vec![Effect::TrackForm(None)]
}

pub fn ask_discard(app: &mut App, then_quit: bool) -> Vec<Effect> {
    app.overlay = Overlay::Confirm(Confirm {
        title: "Discard changes?".into(),
        body: vec!["The form has unsaved changes.".into()],
        choices: ["Keep editing", "Discard"],
        selected: 0,
        on_yes: Pending::DiscardForm { quit: then_quit },
    });
    Vec::new()
}

fn require(app: &mut App) -> bool {
    if app.may(Permission::ManagePartners) {
        return true;
    }
    let who = app.session.operator.clone();
    app.toast_error(format!(
        "{who} may not manage partners: it needs the {} role",
        Permission::ManagePartners.needed_roles_text()
    ));
    false
}

fn ask_op(app: &mut App, op: PartnerOp) -> Vec<Effect> {
    if !require(app) {
        return Vec::new();
    }
    let Some((id, version, name)) = app.partners.target() else {
        app.toast_error("select a partner first");
        return Vec::new();
    };
    let active = app
        .partners
        .detail
        .as_ref()
        .filter(|d| d.partner.id == id)
        .map(|d| {
            d.deals_by_state
                .iter()
                .filter(|(s, _)| s == "active")
                .map(|(_, n)| *n)
                .sum::<i64>()
        });
    let active_text = match active {
        Some(n) => format!("{n} active deal{}", if n == 1 { "" } else { "s" }),
        None => "every active deal".into(),
    };
    let (title, body, yes): (String, Vec<String>, &'static str) = match op {
        PartnerOp::MarkVetted => (
            format!("Mark {name} vetted?"),
            vec![
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
                "Refused while the partner has deals that are not expired.".into(),
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
    app.overlay = Overlay::Confirm(Confirm {
        title,
        body,
        choices: ["Cancel", yes],
        selected: 0,
        on_yes: Pending::PartnerOp { id, version, op },
    });
    Vec::new()
}

pub fn confirmed(app: &mut App, p: Pending) -> Vec<Effect> {
    match p {
        Pending::PartnerOp { id, version, op } => {
            let tag = app.next_tag();
            let busy = app.start_busy(format!("{}…", op.verb()));
            app.partners.save_gen = busy;
            vec![Effect::PartnerOp {
                tag,
                id,
                version,
                op,
            }]
        }
        Pending::ReloadForm => {
            let id = app.partners.form.as_ref().and_then(|f| f.id);
            match id {
                Some(id) => {
                    app.partners.edit_after_load = true;
                    app.partners.form = None;
                    load_detail(app, id)
                }
                None => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// Opens a saved form again (recovery).
pub fn restore(app: &mut App, snap: &FormSnapshot) -> Vec<Effect> {
    let mut fx = open_form(app, snap.record_id, snap.version, &PartnerDraft::default());
    if let Some(pf) = app.partners.form.as_mut() {
        pf.form.fill(&snap.fields);
    }
    fx.extend(form_changed(app));
    fx
}

pub fn perform(app: &mut App, a: Action) -> Vec<Effect> {
    if let Some(mode) = app.partners.list.navigate(a) {
        return load(app, mode);
    }
    match a {
        Action::Open => match app.partners.selected_row().map(|r| r.id) {
            Some(id) => {
                app.partners.view = View::Detail;
                load_detail(app, id)
            }
            None => Vec::new(),
        },
        Action::Back => {
            if app.partners.view == View::Detail {
                app.partners.view = View::List;
                Vec::new()
            } else if app.partners.filter.text.is_some() {
                app.filter_input = Some(String::new());
                let fx = filter_changed(app);
                app.filter_input = None;
                fx
            } else {
                Vec::new()
            }
        }
        Action::Filter => {
            let current = app.partners.filter.text.clone().unwrap_or_default();
            app.filter_before = Some(current.clone());
            app.filter_input = Some(current);
            Vec::new()
        }
        Action::Refresh => reload(app),
        Action::Sort => {
            app.partners.filter.sort = app.partners.filter.sort.next();
            app.partners.list.selected = 0;
            load(app, LoadMode::Replace)
        }
        Action::SortReverse => {
            app.partners.filter.descending = !app.partners.filter.descending;
            app.partners.list.selected = 0;
            load(app, LoadMode::Replace)
        }
        Action::Copy => match app.partners.target() {
            Some((id, _, _)) => vec![Effect::Copy(id.to_string())],
            None => Vec::new(),
        },
        Action::Export => {
            app.toast("export: partners have no CSV export; redemptions do");
            Vec::new()
        }
        Action::New => {
            if !require(app) {
                return Vec::new();
            }
            open_form(app, None, None, &PartnerDraft::default())
        }
        Action::Edit => {
            if !require(app) {
                return Vec::new();
            }
            let Some((id, _, _)) = app.partners.target() else {
                return Vec::new();
            };
            match app
                .partners
                .detail
                .as_ref()
                .filter(|d| d.partner.id == id && !app.partners.detail_loading)
            {
                Some(d) => {
                    let (v, draft) = (d.partner.version, draft_from(&d.partner));
                    open_form(app, Some(id), Some(v), &draft)
                }
                None => {
                    app.partners.edit_after_load = true;
                    load_detail(app, id)
                }
            }
        }
        Action::RunChecks => {
            if !require(app) {
                return Vec::new();
            }
            match app.partners.target() {
                Some((id, _, name)) => {
                    app.start_busy(format!("vetting {name}"));
                    vec![Effect::RunChecks { id, name }]
                }
                None => Vec::new(),
            }
        }
        Action::MarkVetted => ask_op(app, PartnerOp::MarkVetted),
        Action::Disable => ask_op(app, PartnerOp::Disable),
        Action::Revet => ask_op(app, PartnerOp::Revet),
        Action::Delete => ask_op(app, PartnerOp::Delete),
        Action::Offboard => ask_op(app, PartnerOp::Offboard),
        Action::Save => save(app),
        Action::NextField => {
            if let Some(pf) = app.partners.form.as_mut() {
                pf.form.next();
            }
            Vec::new()
        }
        Action::PrevField => {
            if let Some(pf) = app.partners.form.as_mut() {
                pf.form.prev();
            }
            Vec::new()
        }
        Action::Cancel => match app.partners.form.as_ref() {
            Some(pf) if pf.form.dirty => ask_discard(app, false),
            Some(_) => close_form(app),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn save(app: &mut App) -> Vec<Effect> {
    if !require(app) {
        return Vec::new();
    }
    let tag = app.next_tag();
    let Some(pf) = app.partners.form.as_mut() else {
        return Vec::new();
    };
    let draft = draft_of(&pf.form);
    if let Err(e) = draft.validate() {
        pf.form.errors = e;
        let n = pf.form.errors.0.len();
        app.toast_error(format!(
            "{n} field{} to fix before saving",
            if n == 1 { "" } else { "s" }
        ));
        return Vec::new();
    }
    pf.form.saving = true;
    let (id, version) = (pf.id, pf.version);
    app.partners.save_gen = tag;
    vec![Effect::SavePartner {
        tag,
        id,
        version,
        draft,
    }]
}

/// Results for the Partners pane.
pub fn on_msg(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Partners { tag, mode, result } => {
            if !app.partners.list.accept(tag) {
                return Vec::new(); // stale: a newer request is on its way
            }
            match result {
                Ok(rows) => app.partners.list.merge(mode, rows),
                Err(e) => app.toast_error(e.to_string()),
            }
            Vec::new()
        }
        Msg::PartnerDetail { tag, result } => {
            if tag != app.partners.detail_gen {
                return Vec::new();
            }
            app.partners.detail_loading = false;
            match result {
                Ok(d) => {
                    let edit = std::mem::take(&mut app.partners.edit_after_load);
                    let (id, v, draft) = (d.partner.id, d.partner.version, draft_from(&d.partner));
                    app.partners.detail = Some(d);
                    if edit {
                        open_form(app, Some(id), Some(v), &draft)
                    } else {
                        Vec::new()
                    }
                }
                Err(e) => {
                    app.partners.edit_after_load = false;
                    if matches!(e, Error::NotFound { .. }) {
                        app.partners.view = View::List;
                    }
                    app.toast_error(e.to_string());
                    Vec::new()
                }
            }
        }
        Msg::PartnerSaved { tag, result } => {
            if tag != app.partners.save_gen {
                return Vec::new();
            }
            if let Some(pf) = app.partners.form.as_mut() {
                pf.form.saving = false;
            }
            match result {
                Ok(p) => {
                    app.toast(format!("saved {}", p.display_name));
                    let mut fx = close_form(app);
                    app.partners.view = View::Detail;
                    fx.extend(load_detail(app, p.id));
                    fx.extend(load(app, LoadMode::Replace));
                    fx
                }
                Err(e) => {
                    on_save_error(app, e);
                    Vec::new()
                }
            }
        }
        Msg::PartnerOpDone { tag: _, op, result } => {
            let busy = app.partners.save_gen;
            app.end_busy(busy);
            match result {
                Ok(OpOutcome::Partner(p)) => {
                    app.toast(format!("{} is now {}", p.display_name, p.verification))
                }
                Ok(OpOutcome::Deleted) => {
                    app.toast("partner deleted");
                    app.partners.view = View::List;
                    app.partners.detail = None;
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
                    app.overlay = Overlay::Info {
                        title: format!("Off-boarded {}", report.partner.display_name),
                        lines,
                    };
                }
                Err(e) => app.toast_error(format!("{} failed: {e}", op.verb())),
            }
            reload(app)
        }
        Msg::ChecksProgress {
            id: _,
            done,
            total,
            check,
        } => {
            if let Some(b) = app.busy.iter_mut().find(|(_, l)| l.starts_with("vetting")) {
                let name = b.1.split(" (").next().unwrap_or("vetting").to_owned();
                b.1 = format!("{name} ({done}/{total}: {check})");
            }
            Vec::new()
        }
        Msg::ChecksDone { id, name, result } => {
            if let Some(i) = app
                .busy
                .iter()
                .position(|(_, l)| l.starts_with(&format!("vetting {name}")))
            {
                app.busy.remove(i);
            }
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
                        app.toast_error(text)
                    } else {
                        app.toast(text)
                    }
                }
                Err(e) => app.toast_error(format!("vetting {name} failed: {e}")),
            }
            if app
                .partners
                .detail
                .as_ref()
                .is_some_and(|d| d.partner.id == id)
                && app.partners.view == View::Detail
            {
                load_detail(app, id)
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

fn on_save_error(app: &mut App, e: Error) {
    let Some(pf) = app.partners.form.as_mut() else {
        return;
    };
    match e {
        Error::Validation(errs) => {
            pf.form.errors = errs;
            app.toast_error("the server refused some fields; see the form");
        }
        Error::DuplicateDomain {
            ref domain,
            existing_id,
            ref existing_name,
        } => {
            pf.form.errors.push(
                "website_url",
                format!("{domain} already belongs to {existing_name} (#{existing_id})"),
            );
            app.toast_error(e.to_string());
        }
        Error::Conflict {
            ref changed_by,
            changed_at,
            ..
        } => {
            let when = super::view::local(changed_at);
            pf.form.notice = Some(format!("changed by {changed_by} at {when}"));
            app.overlay = Overlay::Confirm(Confirm {
                title: "Changed by someone else".into(),
                body: vec![
                    format!("{changed_by} saved this partner at {when}, after you opened it."),
                    "Reload it (your edits here are lost) or keep editing and copy what you need."
                        .into(),
                ],
                choices: ["Keep editing", "Reload"],
                selected: 0,
                on_yes: Pending::ReloadForm,
            });
        }
        other => {
            pf.form.notice = Some(other.to_string());
            app.toast_error(other.to_string());
        }
    }
}
