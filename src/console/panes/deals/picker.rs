//! The deal form's partner field, picked by name (the shared [`Picker`]).

use super::{DealsPane, Effect};
use crate::console::msg::{Effect as AppEffect, Gen};
use crate::console::pane::fx;
use crate::console::picker::PartnerChoice;
use crate::console::shell::Shell;
use crate::error::Error;

pub use crate::console::picker::Picker;

impl DealsPane {
    /// The partner text changed: look it up (older answers are dropped).
    pub(super) fn find_partner(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let Some(ed) = self.form.as_mut() else {
            return Vec::new();
        };
        match self.picker.changed(sh, &mut ed.form) {
            Some((tag, text)) => fx(Effect::FindPartners { tag, text }),
            None => Vec::new(),
        }
    }

    pub(super) fn partners_found(
        &mut self,
        sh: &mut Shell,
        tag: Gen,
        result: Result<Vec<PartnerChoice>, Error>,
    ) -> bool {
        let form = self.form.as_mut().map(|ed| &mut ed.form);
        self.picker.found(sh, tag, result, form)
    }

    /// Tab on the partner field completes a name to the first partner that matches.
    pub(super) fn complete_partner(&mut self) -> bool {
        match self.form.as_mut() {
            Some(ed) => self.picker.complete(&mut ed.form),
            None => false,
        }
    }
}
