//! A form: labelled text fields (ratatui-textarea), one focused, each with its validation
//! message shown beside it as you type.

use super::recovery::FormSnapshot;
use super::shell::{Confirm, Overlay, Pending, Shell};
use crate::domain::ValidationErrors;
use crate::error::Error;
use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;
use std::collections::BTreeMap;

pub struct Field {
    /// The name validation errors use (`display_name`, `website_url`, …).
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub multiline: bool,
    /// Fields that do not apply (a coupon code on a link deal) are hidden and skipped.
    pub hidden: bool,
    /// The only values the field takes (a picker: ←/→ or Space step through them, a letter
    /// picks the first that starts with it); empty for free text.
    pub choices: &'static [&'static str],
    pub area: TextArea<'static>,
}

impl Field {
    pub fn new(
        name: &'static str,
        label: &'static str,
        hint: &'static str,
        multiline: bool,
        value: &str,
    ) -> Self {
        let lines: Vec<String> = if value.is_empty() {
            vec![String::new()]
        } else {
            value.lines().map(str::to_owned).collect()
        };
        let mut area = TextArea::new(lines);
        area.move_cursor(ratatui_textarea::CursorMove::Bottom);
        area.move_cursor(ratatui_textarea::CursorMove::End);
        Self {
            name,
            label,
            hint,
            multiline,
            hidden: false,
            choices: &[],
            area,
        }
    }

    /// The field as a picker of `choices`.
    pub fn choices(mut self, choices: &'static [&'static str]) -> Self {
        self.choices = choices;
        self
    }

    pub fn value(&self) -> String {
        self.area.lines().join("\n")
    }

    /// A picker's next (`step` 1) or previous (-1) value, or the first starting with `c`.
    fn pick(&mut self, step: isize, letter: Option<char>) -> bool {
        let n = self.choices.len() as isize;
        let current = self.value();
        let at = self.choices.iter().position(|c| *c == current.trim());
        let next = match letter {
            Some(l) => match self.choices.iter().position(|c| c.starts_with(l)) {
                Some(i) => i,
                None => return false,
            },
            None => match at {
                Some(i) => (i as isize + step).rem_euclid(n) as usize,
                None => 0,
            },
        };
        if at == Some(next) {
            return false;
        }
        let choices = self.choices;
        *self = Field::new(
            self.name,
            self.label,
            self.hint,
            self.multiline,
            self.choices[next],
        );
        self.choices = choices;
        true
    }
}

pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub errors: ValidationErrors,
    /// What a field's text names, shown beside it when it has no error ("Aster Books,
    /// verified").
    pub info: BTreeMap<&'static str, String>,
    /// A message from the last save attempt that is not about one field.
    pub notice: Option<String>,
    pub dirty: bool,
    pub saving: bool,
    /// The record's values when an edit opened (what a conflict is told against).
    pub original: Vec<(&'static str, String)>,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: Vec<Field>) -> Self {
        Self {
            title: title.into(),
            fields,
            focus: 0,
            errors: ValidationErrors::new(),
            info: BTreeMap::new(),
            notice: None,
            dirty: false,
            saving: false,
            original: Vec::new(),
        }
    }

    pub fn value(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(Field::value)
            .unwrap_or_default()
    }

    /// Every field's text by name (what recovery keeps).
    pub fn values(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|f| (f.name.to_owned(), f.value()))
            .collect()
    }

    /// Puts saved text back into the fields of the same names (recovery).
    pub fn fill(&mut self, values: &BTreeMap<String, String>) {
        for f in &mut self.fields {
            if let Some(v) = values.get(f.name) {
                let (choices, hidden) = (f.choices, f.hidden);
                *f = Field::new(f.name, f.label, f.hint, f.multiline, v).choices(choices);
                f.hidden = hidden;
            }
        }
        self.dirty = true;
    }

    /// Replaces a field's text (a completion), the cursor at its end.
    pub fn set_value(&mut self, name: &str, value: &str) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name) {
            let (choices, hidden) = (f.choices, f.hidden);
            *f = Field::new(f.name, f.label, f.hint, f.multiline, value).choices(choices);
            f.hidden = hidden;
            self.dirty = true;
        }
    }

    /// The name of the focused field.
    pub fn focused(&self) -> Option<&'static str> {
        self.fields.get(self.focus).map(|f| f.name)
    }

    pub fn set_hidden(&mut self, name: &str, hidden: bool) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name) {
            f.hidden = hidden;
        }
        if self.fields.get(self.focus).is_some_and(|f| f.hidden) {
            self.next();
        }
    }

    /// Moves the focus to the next (or previous) field that applies.
    pub fn step(&mut self, forward: bool) {
        let n = self.fields.len();
        for _ in 0..n {
            self.focus = if forward {
                (self.focus + 1) % n
            } else {
                (self.focus + n - 1) % n
            };
            if !self.fields[self.focus].hidden {
                return;
            }
        }
    }

    pub fn next(&mut self) {
        self.step(true);
    }

    pub fn prev(&mut self) {
        self.step(false);
    }

    /// Types into the focused field; returns true when the text changed. Enter adds a line
    /// only in multi-line fields (elsewhere it moves on).
    pub fn input(&mut self, key: KeyEvent) -> bool {
        use crossterm::event::KeyCode;
        let Some(field) = self.fields.get_mut(self.focus) else {
            return false;
        };
        if key.code == KeyCode::Enter && !field.multiline {
            self.next();
            return false;
        }
        // A picker takes no free text: it steps through its values.
        if !field.choices.is_empty() {
            let changed = match key.code {
                KeyCode::Right | KeyCode::Char(' ') => field.pick(1, None),
                KeyCode::Left => field.pick(-1, None),
                KeyCode::Char(c) => field.pick(0, Some(c.to_ascii_lowercase())),
                _ => false,
            };
            self.dirty |= changed;
            return changed;
        }
        let changed = field.area.input(key);
        if changed {
            self.dirty = true;
        }
        changed
    }

    pub fn error_for(&self, name: &str) -> Option<&str> {
        self.errors.for_field(name)
    }

    /// Takes a refused save into the form: field errors beside their fields, anything else as
    /// the form's notice. Returns who changed the record and when, for a stale version.
    pub fn absorb(&mut self, e: Error) -> Absorbed {
        self.saving = false;
        match e {
            Error::Validation(errs) => {
                self.errors = errs;
                Absorbed::Fields
            }
            Error::DuplicateDomain {
                domain,
                existing_id,
                existing_name,
            } => {
                self.errors.push(
                    "website_url",
                    format!("{domain} already belongs to {existing_name} (#{existing_id})"),
                );
                Absorbed::Fields
            }
            Error::Conflict {
                changed_by,
                changed_at,
                ..
            } => {
                let when = super::view::local(changed_at);
                self.notice = Some(format!("changed by {changed_by} at {when}"));
                Absorbed::Conflict { changed_by, when }
            }
            other => {
                let text = other.to_string();
                self.notice = Some(text.clone());
                Absorbed::Other(text)
            }
        }
    }
}

/// What a refused save meant for the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Absorbed {
    Fields,
    Conflict { changed_by: String, when: String },
    Other(String),
}

/// What the other side changed since the form opened, beside what this form has: one line per
/// field whose stored value moved (`theirs`: the record as it is now, as the form's values).
/// `same(field, a, b)` says whether two texts of a field mean the same value.
pub fn conflict_lines(
    form: &Form,
    theirs: &[(&'static str, String)],
    same: impl Fn(&str, &str, &str) -> bool,
) -> Vec<String> {
    let show = |t: &str| {
        let t = t.trim();
        if t.is_empty() {
            "(empty)".to_owned()
        } else {
            let one = super::view::shown(&t.replace('\n', " ⏎ "), false);
            format!("“{}”", super::view::columns::cut(&one, 40))
        }
    };
    let mut out = Vec::new();
    for (name, now) in theirs {
        let Some((_, before)) = form.original.iter().find(|(n, _)| n == name) else {
            continue;
        };
        if same(name, before, now) {
            continue;
        }
        let Some(field) = form.fields.iter().find(|f| f.name == *name) else {
            continue;
        };
        let yours = field.value();
        let mine = if same(name, before, &yours) {
            "yours unchanged".to_owned()
        } else {
            format!("yours {}", show(&yours))
        };
        out.push(format!(
            "{}: theirs {} (was {}) · {mine}",
            field.label,
            show(now),
            show(before)
        ));
    }
    if out.is_empty() {
        out.push("No field you can edit here changed (only its version moved).".into());
    }
    out
}

/// The question asked when a save meets a newer version.
pub fn conflict_question(entity: &str, changed_by: &str, when: &str, reload: Pending) -> Confirm {
    Confirm {
        title: "Changed by someone else".into(),
        body: vec![
            format!("{changed_by} saved this {entity} at {when}, after you opened it."),
            "Reload it (your edits here are lost) or keep editing and copy what you need.".into(),
        ],
        choices: ["Keep editing", "Reload"],
        selected: 0,
        on_yes: reload,
    }
}

/// A form open on a record (`id` and `version` when editing one, `None` for a new record).
pub struct Editing {
    pub form: Form,
    pub id: Option<i64>,
    pub version: Option<i32>,
}

impl Editing {
    /// What recovery keeps of it: `entity` names the pane's record, `label` the field that
    /// names the record for the operator.
    pub fn snapshot(&self, entity: &str, label: &str) -> FormSnapshot {
        FormSnapshot {
            entity: entity.into(),
            record_id: self.id,
            version: self.version,
            label: self.form.value(label),
            fields: self.form.values(),
            saved_at: chrono::Utc::now(),
        }
    }
}

/// Says how many fields a save must fix first.
pub fn fields_to_fix(sh: &mut Shell, errors: &ValidationErrors) {
    let n = errors.0.len();
    sh.toast_error(format!(
        "{n} field{} to fix before saving",
        if n == 1 { "" } else { "s" }
    ));
}

/// A refused save, told to the operator: field errors stand in the form, a stale version asks
/// whether to reload (`reload` is the pane's question for that), anything else is a toast.
pub fn refused(sh: &mut Shell, form: &mut Form, e: Error, entity: &str, reload: Pending) {
    // A taken domain is told as the server put it; other field errors point at the form.
    let said = matches!(e, Error::DuplicateDomain { .. }).then(|| e.to_string());
    match form.absorb(e) {
        Absorbed::Fields => sh.toast_error(
            said.unwrap_or_else(|| "the server refused some fields; see the form".into()),
        ),
        Absorbed::Conflict { changed_by, when } => {
            sh.overlay = Overlay::Confirm(conflict_question(entity, &changed_by, &when, reload));
        }
        Absorbed::Other(text) => sh.toast_error(text),
    }
}
