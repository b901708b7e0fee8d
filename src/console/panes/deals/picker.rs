//! The deal form's partner field picks a partner by name: as you type, the partners whose
//! name matches are looked up; Tab completes to the first (`Aster Books #7`), and the field
//! shows the partner's name and state beside it. A bare name names no one, so a typo cannot
//! quietly pick another partner.

use super::effects::PartnerChoice;
use super::form::partner_id_of;
use super::{DealsPane, Effect};
use crate::console::form::Form;
use crate::console::msg::{Effect as AppEffect, Gen};
use crate::console::panes::fx;
use crate::console::shell::{Latest, Shell};
use crate::error::Error;

/// What the partner field's text was looked up as.
#[derive(Default)]
pub struct Picker {
    /// The text last looked up.
    pub query: String,
    pub req: Latest,
    /// The answer for `query` (`None` until it arrives).
    pub found: Option<Vec<PartnerChoice>>,
}

impl DealsPane {
    /// The partner text changed: look it up (older answers are dropped).
    pub(super) fn find_partner(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let Some(text) = self.form.as_ref().map(|f| f.form.value("partner")) else {
            return Vec::new();
        };
        let text = text.trim().to_owned();
        if text == self.picker.query && self.picker.found.is_some() {
            self.show_partner();
            return Vec::new();
        }
        self.picker.query = text.clone();
        self.picker.found = None;
        self.show_partner();
        if text.is_empty() {
            return Vec::new();
        }
        let tag = self.picker.req.begin(sh);
        fx(Effect::FindPartners { tag, text })
    }

    pub(super) fn partners_found(
        &mut self,
        sh: &mut Shell,
        tag: Gen,
        result: Result<Vec<PartnerChoice>, Error>,
    ) {
        if !self.picker.req.accept(tag) {
            return;
        }
        match result {
            Ok(mut found) => {
                // The partner whose name is exactly what was typed comes first.
                let typed = self.picker.query.to_lowercase();
                found.sort_by_key(|p| p.name.to_lowercase() != typed);
                self.picker.found = Some(found);
            }
            Err(e) => sh.toast_error(format!("looking up the partner: {e}")),
        }
        self.show_partner();
    }

    /// Tab on the partner field completes a name to the first partner that matches.
    pub(super) fn complete_partner(&mut self) -> bool {
        let Some(df) = self.form.as_mut() else {
            return false;
        };
        if df.form.focused() != Some("partner")
            || partner_id_of(&df.form.value("partner")).is_some()
        {
            return false;
        }
        let Some(first) = self.picker.found.as_ref().and_then(|f| f.first()) else {
            return false;
        };
        let text = super::form::partner_text(&first.name, first.id);
        df.form.set_value("partner", &text);
        self.picker.query = text.trim().to_owned();
        self.picker.found = Some(vec![first.clone()]);
        true
    }

    /// Says beside the field who the text names, or what Tab would pick.
    pub(super) fn show_partner(&mut self) {
        let Some(df) = self.form.as_mut() else {
            return;
        };
        show(&mut df.form, &self.picker);
    }
}

/// Puts `rule` beside the partner field in place of what the form's check said.
fn refuse(form: &mut Form, rule: String) {
    form.errors.0.retain(|e| e.field != "partner");
    form.errors.push("partner", rule);
}

fn show(form: &mut Form, picker: &Picker) {
    form.info.remove("partner");
    let text = form.value("partner");
    let Some(found) = picker.found.as_ref() else {
        return;
    };
    match (partner_id_of(&text), found.as_slice()) {
        (Some(id), [p]) if p.id == id => {
            form.info
                .insert("partner", format!("{} ({})", p.name, p.state));
        }
        (Some(id), _) => refuse(form, format!("there is no partner #{id}")),
        (None, []) => refuse(form, format!("no partner's name matches “{}”", text.trim())),
        (None, [first, rest @ ..]) => {
            let more = match rest.len() {
                0 => String::new(),
                n => format!("; {n} more"),
            };
            refuse(
                form,
                format!(
                    "Tab picks {} #{} ({}){more}",
                    first.name, first.id, first.state
                ),
            );
        }
    }
}
