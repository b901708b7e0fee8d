//! Picking a partner by name in a form's `partner` field, the same in every pane: as you type,
//! the partners whose name matches are looked up; Tab completes to the first (`Aster Books
//! #7`), and the field shows the partner's name and state beside it. A bare name names no one,
//! so a typo cannot quietly pick another partner; `#7` or `7` names one by id.

use super::form::Form;
use super::shell::{Latest, Shell};
use super::tag::Gen;
use crate::domain::VerificationState;
use crate::error::Error;
use crate::service::Desk;
use crate::service::rows::PartnerFilter;

/// The form field the picker works on.
pub const FIELD: &str = "partner";

/// A partner a field may name, as the completion shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerChoice {
    pub id: i64,
    pub name: String,
    pub state: VerificationState,
}

/// The partner a field's text names: `Aster Books #7` (as completion writes it), `#7` or `7`.
pub fn partner_id_of(text: &str) -> Option<i64> {
    let t = text.trim();
    let id = match t.rsplit_once('#') {
        Some((_, id)) => id,
        None => t,
    };
    id.trim().parse().ok().filter(|id: &i64| *id > 0)
}

/// How the field shows a partner.
pub fn partner_text(name: &str, id: i64) -> String {
    format!("{name} #{id}")
}

/// The partner of an id, or the first five whose name matches (forgiving a typo).
pub async fn find_partners(desk: &Desk, text: &str) -> Result<Vec<PartnerChoice>, Error> {
    if let Some(id) = partner_id_of(text) {
        return match desk.get_partner(id).await {
            Ok(p) => Ok(vec![PartnerChoice {
                id: p.id,
                name: p.display_name,
                state: p.verification,
            }]),
            Err(Error::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        };
    }
    let filter = PartnerFilter {
        text: Some(text.trim().to_owned()),
        ..Default::default()
    };
    Ok(desk
        .list_partners(&filter, 5)
        .await?
        .into_iter()
        .map(|r| PartnerChoice {
            id: r.id,
            name: r.display_name,
            state: r.verification,
        })
        .collect())
}

/// What the field's text was looked up as.
#[derive(Default)]
pub struct Picker {
    /// The text last looked up.
    pub query: String,
    pub req: Latest,
    /// The answer for `query` (`None` until it arrives).
    pub found: Option<Vec<PartnerChoice>>,
    /// Tab was pressed before the answer came: complete when it does (if nothing was typed
    /// since).
    pub tab_waiting: bool,
}

impl Picker {
    /// The field's text changed: the lookup to make (its tag and text), if any.
    pub fn changed(&mut self, sh: &mut Shell, form: &mut Form) -> Option<(Gen, String)> {
        let text = form.value(FIELD).trim().to_owned();
        // The same text: its answer is here or on its way.
        if text == self.query && (self.found.is_some() || self.req.pending) {
            self.show(form);
            return None;
        }
        self.tab_waiting = false;
        self.query = text.clone();
        self.found = None;
        self.show(form);
        if text.is_empty() {
            return None;
        }
        Some((self.req.begin(sh), text))
    }

    /// A lookup's answer (a stale one is dropped). `true` when it completed the field for a
    /// Tab pressed before it came (the form changed).
    pub fn found(
        &mut self,
        sh: &mut Shell,
        tag: Gen,
        result: Result<Vec<PartnerChoice>, Error>,
        form: Option<&mut Form>,
    ) -> bool {
        if !self.req.accept(tag) {
            return false;
        }
        match result {
            Ok(mut found) => {
                // The partner whose name is exactly what was typed comes first.
                let typed = self.query.to_lowercase();
                found.sort_by_key(|p| p.name.to_lowercase() != typed);
                self.found = Some(found);
            }
            Err(e) => sh.toast_error(format!("looking up the partner: {e}")),
        }
        let Some(form) = form else {
            return false;
        };
        if std::mem::take(&mut self.tab_waiting) && self.complete(form) {
            return true;
        }
        self.show(form);
        false
    }

    /// Tab on the field completes a name to the first partner that matches; before the
    /// answer to what was typed has come, Tab waits for it (it stays on the field and
    /// completes then), so a fast Tab is never lost.
    pub fn complete(&mut self, form: &mut Form) -> bool {
        if form.focused() != Some(FIELD) || partner_id_of(&form.value(FIELD)).is_some() {
            return false;
        }
        if self.found.is_none() && self.req.pending && form.value(FIELD).trim() == self.query {
            self.tab_waiting = true;
            return true;
        }
        let Some(first) = self.found.as_ref().and_then(|f| f.first()).cloned() else {
            return false;
        };
        let text = partner_text(&first.name, first.id);
        form.set_value(FIELD, &text);
        self.query = text.trim().to_owned();
        self.found = Some(vec![first]);
        true
    }

    /// Says beside the field who the text names, or what Tab would pick.
    pub fn show(&self, form: &mut Form) {
        form.info.remove(FIELD);
        let text = form.value(FIELD);
        let Some(found) = self.found.as_ref() else {
            return;
        };
        let refuse = |form: &mut Form, rule: String| {
            form.errors.0.retain(|e| e.field != FIELD);
            form.errors.push(FIELD, rule);
        };
        match (partner_id_of(&text), found.as_slice()) {
            (Some(id), [p]) if p.id == id => {
                form.info.insert(FIELD, format!("{} ({})", p.name, p.state));
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_names_a_partner_by_its_id_only() {
        assert_eq!(partner_id_of("Aster Books #7"), Some(7));
        assert_eq!(partner_id_of("#7"), Some(7));
        assert_eq!(partner_id_of(" 7 "), Some(7));
        assert_eq!(partner_id_of("Aster Books"), None);
        assert_eq!(partner_id_of("Aster #Books"), None);
        assert_eq!(partner_id_of("#0"), None);
        assert_eq!(partner_text("Aster Books", 7), "Aster Books #7");
    }
}
