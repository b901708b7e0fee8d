//! Authoring in the Deals pane: the form opened new, for edit or as a duplicate (the
//! record loaded first when needed), and its partner named.

use super::form::{self, form_for, show_local, values_of};
use super::{DealsPane, Then};
use crate::console::form::Editing;
use crate::console::msg::Effect as AppEffect;
use crate::console::pane::Pane;
use crate::console::shell::Shell;
use crate::service::rows::Deal;
use chrono::Utc;

impl DealsPane {
    pub(super) fn open_form(
        &mut self,
        id: Option<i64>,
        version: Option<i32>,
        title: String,
        values: &[(&'static str, String)],
    ) -> Vec<AppEffect> {
        let form = form_for(title, values);
        self.form = Some(Editing { form, id, version });
        vec![AppEffect::TrackForm(self.snapshot())]
    }

    pub(super) fn open_from(
        &mut self,
        sh: &mut Shell,
        deal: &Deal,
        duplicate: bool,
    ) -> Vec<AppEffect> {
        let values = values_of(deal);
        if duplicate {
            let mut out = self.open_form(
                None,
                None,
                format!("New draft from deal #{}", deal.id),
                &values,
            );
            out.extend(self.name_partner(sh, deal));
            out.extend(self.form_changed(sh));
            if let Some(df) = self.form.as_mut() {
                df.form.dirty = true;
            }
            out
        } else {
            let mut out = self.open_form(
                Some(deal.id),
                Some(deal.version),
                format!("Edit deal #{}", deal.id),
                &values,
            );
            if let Some(df) = self.form.as_mut() {
                df.form.original = values;
            }
            out.extend(self.name_partner(sh, deal));
            out
        }
    }

    /// The partner field of a deal's form names its partner (`Aster Books #7`).
    pub(super) fn name_partner(&mut self, sh: &mut Shell, deal: &Deal) -> Vec<AppEffect> {
        let name = self
            .detail
            .data
            .as_ref()
            .filter(|d| d.deal.id == deal.id)
            .map(|d| d.partner_name.clone());
        if let (Some(name), Some(df)) = (name, self.form.as_mut()) {
            let dirty = df.form.dirty;
            df.form
                .set_value("partner", &form::partner_text(&name, deal.partner_id));
            df.form.dirty = dirty;
        }
        self.find_partner(sh)
    }

    pub(super) fn new_form(&mut self) -> Vec<AppEffect> {
        let now = Utc::now();
        let from = show_local(now);
        let until = show_local(now + chrono::Duration::days(30));
        let partner = self
            .filter
            .query
            .partner_id
            .map(|p| p.to_string())
            .unwrap_or_default();
        let out = self.open_form(
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
        if let Some(df) = self.form.as_mut() {
            df.form.focus = if df.form.value("partner").is_empty() {
                0
            } else {
                1
            };
        }
        out
    }

    /// Edit or duplicate the target deal, loading it first when needed.
    pub(super) fn edit(&mut self, sh: &mut Shell, then: Then) -> Vec<AppEffect> {
        let Some((id, ..)) = self.target() else {
            return Vec::new();
        };
        match self.detail.data.as_ref().filter(|d| d.deal.id == id) {
            Some(d) => {
                let deal = d.deal.clone();
                self.open_from(sh, &deal, then == Then::Duplicate)
            }
            None => {
                self.then = Some(then);
                self.detail.open = then == Then::Edit;
                self.load_detail(sh, id)
            }
        }
    }
}
