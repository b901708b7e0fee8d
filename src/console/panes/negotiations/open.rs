//! Opening a negotiation from the console: `n` asks for the partner (picked by name), the
//! subject, the deadline and a first message; the first offer follows with `o` on the thread.

use super::{Effect, NegotiationsPane};
use crate::console::form::{Editing, Field, Form, fields_to_fix};
use crate::console::msg::Effect as AppEffect;
use crate::console::pane::fx;
use crate::console::panes::deals::form::{parse_local_end, show_local};
use crate::console::picker::{FIELD, partner_id_of};
use crate::console::shell::Shell;
use crate::domain::ValidationErrors;
use crate::domain::negotiation::{Side, check_body, check_thread};
use crate::service::negotiations::NewThread;
use chrono::Utc;

/// The new-thread form, the deadline a week from now.
pub fn form() -> Form {
    let deadline = show_local(Utc::now() + chrono::Duration::days(7));
    Form::new(
        "New negotiation",
        vec![
            Field::new(
                FIELD,
                "Partner",
                "a name, then Tab to complete; or an id",
                false,
                "",
            ),
            Field::new("subject", "Subject", "required, ≤ 255", false, ""),
            Field::new(
                "deadline",
                "Deadline",
                "future; a date is the whole day",
                false,
                &deadline,
            ),
            Field::new(
                "message",
                "Message",
                "optional, the marketplace's first words",
                true,
                "",
            ),
        ],
    )
}

/// The form as a new thread, or every field's error.
pub fn read(form: &Form) -> Result<NewThread, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let partner_id = partner_id_of(&form.value(FIELD)).unwrap_or_else(|| {
        e.push(
            FIELD,
            "pick a partner: type a name and press Tab, or type its id",
        );
        0
    });
    let deadline_text = form.value("deadline");
    let deadline = parse_local_end(&deadline_text);
    if deadline.is_none() && !deadline_text.trim().is_empty() {
        e.push(
            "deadline",
            "a local time like 2026-12-01 09:00, or a date (2026-12-01)",
        );
    }
    let subject = form.value("subject");
    if let Err(rules) = check_thread(&subject, deadline, Utc::now()) {
        for r in rules.0 {
            if e.for_field(r.field).is_none() {
                e.0.push(r);
            }
        }
    }
    let message = Some(form.value("message")).filter(|m| !m.trim().is_empty());
    if let Some(m) = &message
        && let Err(rules) = check_body(m)
    {
        for mut r in rules.0 {
            r.field = "message";
            e.0.push(r);
        }
    }
    e.into_result(NewThread {
        partner_id,
        deal_id: None,
        subject: subject.trim().to_owned(),
        deadline,
        side: Side::Marketplace,
        message,
        offer: None,
    })
}

impl NegotiationsPane {
    pub(super) fn new_thread(&mut self) -> Vec<AppEffect> {
        self.form = Some(Editing {
            form: form(),
            id: None,
            version: None,
        });
        self.thread_form = true;
        Vec::new()
    }

    pub(super) fn save_thread(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let Some(ed) = self.form.as_mut() else {
            return Vec::new();
        };
        match read(&ed.form) {
            Err(errors) => {
                ed.form.errors = errors;
                self.picker.show(&mut ed.form);
                fields_to_fix(sh, &ed.form.errors);
                Vec::new()
            }
            Ok(new) => {
                ed.form.saving = true;
                let tag = self.save.begin(sh);
                fx(Effect::Open {
                    tag,
                    new: Box::new(new),
                })
            }
        }
    }
}
