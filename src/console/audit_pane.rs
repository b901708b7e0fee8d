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
    /// What `/` typed, parsed into `filter`.
    pub filter_text: String,
    pub filter: AuditFilter,
    /// A word of the filter that was not understood.
    pub filter_error: Option<String>,
}

/// Parses the Audit filter: `actor:LOGIN`, `entity:TYPE` or `entity:TYPE:ID`,
/// `from:YYYY-MM-DD`, `to:YYYY-MM-DD` (dates in UTC, `to` exclusive); a bare word is an actor.
pub fn parse_filter(text: &str) -> Result<AuditFilter, String> {
    use chrono::{NaiveDate, TimeZone, Utc};
    let mut f = AuditFilter::default();
    let date = |v: &str, key: &str| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| Utc.from_utc_datetime(&d))
            .ok_or_else(|| format!("{key}: a date like 2026-11-21"))
    };
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("actor", v)) => f.actor = Some(v.to_owned()),
            Some(("entity", v)) => match v.split_once(':') {
                Some((t, id)) => {
                    f.entity_type = Some(t.to_owned());
                    f.entity_id = Some(id.to_owned());
                }
                None => f.entity_type = Some(v.to_owned()),
            },
            Some(("from", v)) => f.from = Some(date(v, "from")?),
            Some(("to", v)) => f.to = Some(date(v, "to")?),
            Some((k, _)) => {
                return Err(format!(
                    "unknown filter '{k}:' (actor:, entity:, from:, to:)"
                ));
            }
            None => f.actor = Some(word.to_owned()),
        }
    }
    Ok(f)
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

    /// A new `/` filter: reload from the newest row.
    pub fn set_filter(&mut self, text: &str, tag: Gen) -> Vec<Effect> {
        self.filter_text = text.to_owned();
        match parse_filter(text) {
            Ok(f) => {
                self.filter = f;
                self.filter_error = None;
                self.request(tag, false)
            }
            Err(e) => {
                self.filter_error = Some(e);
                Vec::new()
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_words() {
        let f = parse_filter("actor:cara entity:partner:12 from:2026-01-01 to:2026-02-01").unwrap();
        assert_eq!(f.actor.as_deref(), Some("cara"));
        assert_eq!(f.entity_type.as_deref(), Some("partner"));
        assert_eq!(f.entity_id.as_deref(), Some("12"));
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(parse_filter("sam").unwrap().actor.as_deref(), Some("sam"));
        assert_eq!(
            parse_filter("from:yesterday").unwrap_err(),
            "from: a date like 2026-11-21"
        );
        assert_eq!(
            parse_filter("who:me").unwrap_err(),
            "unknown filter 'who:' (actor:, entity:, from:, to:)"
        );
    }
}
