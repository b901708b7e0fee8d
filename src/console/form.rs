//! A form: labelled text fields (ratatui-textarea), one focused, each with its validation
//! message shown beside it as you type.

use crate::domain::ValidationErrors;
use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

pub struct Field {
    /// The name validation errors use (`display_name`, `website_url`, …).
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub multiline: bool,
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
            area,
        }
    }

    pub fn value(&self) -> String {
        self.area.lines().join("\n")
    }
}

pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub errors: ValidationErrors,
    /// A message from the last save attempt that is not about one field.
    pub notice: Option<String>,
    pub dirty: bool,
    pub saving: bool,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: Vec<Field>) -> Self {
        Self {
            title: title.into(),
            fields,
            focus: 0,
            errors: ValidationErrors::new(),
            notice: None,
            dirty: false,
            saving: false,
        }
    }

    pub fn value(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(Field::value)
            .unwrap_or_default()
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len();
    }

    pub fn prev(&mut self) {
        self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
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
        let changed = field.area.input(key);
        if changed {
            self.dirty = true;
        }
        changed
    }

    pub fn error_for(&self, name: &str) -> Option<&str> {
        self.errors.for_field(name)
    }
}
