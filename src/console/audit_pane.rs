//! The Audit pane: the append-only log, newest first, paged by id.

use super::action::Action;
use super::msg::{Effect, Gen};
use crate::error::Error;
use crate::store::audit::{AuditEntry, AuditFilter};

pub const PAGE: i64 = 100;

#[derive(Default)]
pub struct AuditPane {
    pub rows: Vec<AuditEntry>,
    pub selected: usize,
    pub tag: Gen,
    pub loading: bool,
    pub at_end: bool,
    pub open: bool,
}

impl AuditPane {
    pub fn request(&mut self, tag: Gen, append: bool) -> Vec<Effect> {
        self.tag = tag;
        self.loading = true;
        let filter = AuditFilter {
            before_id: if append {
                self.rows.last().map(|r| r.id)
            } else {
                None
            },
            ..Default::default()
        };
        vec![Effect::LoadAudit {
            tag,
            filter,
            limit: PAGE,
            append,
        }]
    }

    pub fn loaded(
        &mut self,
        tag: Gen,
        append: bool,
        result: Result<Vec<AuditEntry>, Error>,
    ) -> Result<(), String> {
        if tag != self.tag {
            return Ok(());
        }
        self.loading = false;
        let rows = result.map_err(|e| e.to_string())?;
        self.at_end = (rows.len() as i64) < PAGE;
        if append {
            self.rows.extend(rows);
        } else {
            self.rows = rows;
            self.selected = 0;
        }
        Ok(())
    }

    pub fn perform(&mut self, a: Action, tag: Gen) -> Vec<Effect> {
        let last = self.rows.len().saturating_sub(1);
        match a {
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => self.selected = (self.selected + 20).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(20),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::Open => self.open = !self.rows.is_empty(),
            Action::Back => self.open = false,
            Action::Refresh => return self.request(tag, false),
            _ => {}
        }
        if !self.loading
            && !self.at_end
            && self.selected + 20 >= self.rows.len()
            && !self.rows.is_empty()
        {
            return self.request(tag, true);
        }
        Vec::new()
    }
}
