//! A deal's or a member's redemptions: whose they are and the time range, the `/` time
//! filter, the list's keys, flags, and a redemption's timeline.

use super::{Effect, Question, RedemptionsPane, View};
use crate::console::action::Action;
use crate::console::list::PAGE;
use crate::console::msg::{Effect as AppEffect, LoadMode};
use crate::console::pane::fx;
use crate::console::shell::Shell;
use crate::console::view::{local, local_end, local_fmt, local_start};
use crate::domain::redemption::flag_text;
use crate::domain::{FlagKind, Permission};
use crate::service::rows::AuditEntry;
use chrono::{DateTime, TimeDelta, Utc};

/// A time range `[from, to)`; either end may be open.
pub type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Whose redemptions a list shows, and in which time range `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Deal {
        id: i64,
        title: String,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
    Member {
        id: i64,
        handle: String,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
}

impl Scope {
    pub fn range(&self) -> Range {
        match self {
            Scope::Deal { from, to, .. } | Scope::Member { from, to, .. } => (*from, *to),
        }
    }

    /// The same scope over another time range.
    pub fn with_range(self, (from, to): Range) -> Scope {
        match self {
            Scope::Deal { id, title, .. } => Scope::Deal {
                id,
                title,
                from,
                to,
            },
            Scope::Member { id, handle, .. } => Scope::Member {
                id,
                handle,
                from,
                to,
            },
        }
    }
}

/// Parses the time filter `from:YYYY-MM-DD to:YYYY-MM-DD`: days in the zone times are shown
/// in, both included (`to:2026-11-30` reads up to the start of 2026-12-01, exclusive).
pub fn parse_range(text: &str) -> Result<Range, String> {
    let bad = |v: &str, key: &str| format!("{key}: a date like 2026-11-21, not '{v}'");
    let (mut from, mut to) = (None, None);
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("from", v)) => from = Some(local_start(v).map_err(|_| bad(v, "from"))?),
            Some(("to", v)) => to = Some(local_end(v).map_err(|_| bad(v, "to"))?),
            _ => return Err(format!("'{word}': use from:YYYY-MM-DD to:YYYY-MM-DD")),
        }
    }
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        return Err("to: the same day as from or later".into());
    }
    Ok((from, to))
}

/// The range in the filter's own words (`from 2026-11-29 to 2026-11-30`), `None` when open.
pub fn range_label((from, to): &Range) -> Option<String> {
    let day = |t: DateTime<Utc>| local_fmt(t, "%Y-%m-%d");
    match (from, to) {
        (None, None) => None,
        (Some(f), None) => Some(format!("from {}", day(*f))),
        (None, Some(t)) => Some(format!("to {}", day(*t - TimeDelta::seconds(1)))),
        (Some(f), Some(t)) => Some(format!(
            "from {} to {}",
            day(*f),
            day(*t - TimeDelta::seconds(1))
        )),
    }
}

/// Reads `fraud: NOTE` or `dispute: NOTE`; says what is wrong otherwise.
pub fn parse_flag(text: &str) -> Result<(FlagKind, String), String> {
    let usage = "start with fraud: or dispute:, then the note (fraud: code shared on a forum)";
    let (kind, note) = text.split_once(':').ok_or(usage)?;
    let kind = match kind.trim().to_ascii_lowercase().as_str() {
        "fraud" => FlagKind::Fraud,
        "dispute" => FlagKind::Dispute,
        _ => return Err(usage.into()),
    };
    let note = flag_text("note", note).map_err(|e| e.to_string())?;
    Ok((kind, note))
}

impl RedemptionsPane {
    pub fn selected_redemption(&self) -> Option<&crate::service::rows::RedemptionRow> {
        self.list.selected_row()
    }

    pub(super) fn load_list(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        let View::List(scope) = self.view.clone() else {
            return Vec::new();
        };
        let (tag, req) = self.list.request(sh, mode);
        fx(Effect::Redemptions {
            tag,
            scope,
            before: req.after,
            limit: PAGE,
            mode,
        })
    }

    /// Shows `scope`'s redemptions (from the first page).
    pub(super) fn open(&mut self, sh: &mut Shell, scope: Scope) -> Vec<AppEffect> {
        self.view = View::List(scope);
        self.filter_error = None;
        self.list.clear();
        self.load_list(sh, LoadMode::Replace)
    }

    /// Goes to `scope`'s redemptions with the time filter `text`; Esc comes back here.
    pub(super) fn enter(&mut self, sh: &mut Shell, scope: Scope, text: String) -> Vec<AppEffect> {
        let here = std::mem::take(&mut self.filter_text);
        self.back.push((self.view.clone(), here));
        self.filter_text = text;
        self.open(sh, scope)
    }

    /// Back to where the list was entered from (the monitor when there is nothing to go to).
    pub(super) fn go_back(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let (view, text) = self.back.pop().unwrap_or_default();
        self.filter_text = text;
        self.filter_error = None;
        match view {
            View::List(scope) => self.open(sh, scope),
            other => {
                self.view = other;
                Vec::new()
            }
        }
    }

    /// The `/` time filter of a list changed. A filter that does not read empties the list
    /// (older answers are dropped), so no rows of the old range stay on screen looking
    /// filtered; the title and the empty line say what is wrong.
    pub(super) fn filter_list(&mut self, sh: &mut Shell, text: &str) -> Vec<AppEffect> {
        let View::List(scope) = self.view.clone() else {
            return Vec::new();
        };
        self.filter_text = text.to_owned();
        match parse_range(text) {
            Ok(range) => self.open(sh, scope.with_range(range)),
            Err(e) => {
                self.list.clear();
                self.list.tag = sh.next_tag();
                self.list.loading = false;
                self.list.loaded_once = true;
                self.list.at_start = true;
                self.list.at_end = true;
                self.filter_error = Some(e);
                Vec::new()
            }
        }
    }

    pub(super) fn perform_list(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if let Some(mode) = self.list.navigate(a) {
            return self.load_list(sh, mode);
        }
        match a {
            Action::Refresh => match self.filter_error.clone() {
                Some(e) => {
                    sh.toast_error(format!("the time filter does not read: {e}"));
                    Vec::new()
                }
                None => self.load_list(sh, LoadMode::Replace),
            },
            Action::Export => self.export(sh),
            Action::Back => self.go_back(sh),
            Action::Open => match self.selected_redemption() {
                Some(r) => fx(Effect::Timeline { id: r.id }),
                None => Vec::new(),
            },
            Action::MemberHistory => {
                let (Some(r), View::List(current)) = (self.selected_redemption(), &self.view)
                else {
                    return Vec::new();
                };
                if matches!(current, Scope::Member { id, .. } if *id == r.member_id) {
                    return Vec::new();
                }
                // The member's history keeps the time range of the list it was opened from.
                let (from, to) = current.range();
                let scope = Scope::Member {
                    id: r.member_id,
                    handle: r.member_handle.clone(),
                    from,
                    to,
                };
                let text = self.filter_text.clone();
                self.enter(sh, scope, text)
            }
            Action::Copy => match self.selected_redemption() {
                Some(r) => vec![AppEffect::copy_id("redemption", r.id)],
                None => Vec::new(),
            },
            Action::Flag | Action::Unflag => {
                if sh.require(Permission::FlagRedemptions) {
                    self.ask_flag(sh, a);
                }
                Vec::new()
            }
            Action::Refund => {
                if sh.require(Permission::RefundRedemptions) {
                    self.ask_refund(sh);
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn ask_flag(&mut self, sh: &mut Shell, a: Action) {
        let Some(r) = self.selected_redemption() else {
            return;
        };
        let (id, flagged) = (r.id, r.is_flagged());
        match (a, flagged) {
            (Action::Flag, false) => sh.prompt(
                format!("Flag redemption #{id}"),
                "fraud: NOTE or dispute: NOTE (flagged redemptions are left out of settlement)",
                "fraud: ",
                Question::FlagNote { id },
            ),
            (Action::Unflag, true) => sh.prompt(
                format!("Resolve the flag of redemption #{id}"),
                "the reason (it counts in settlement again)",
                "",
                Question::UnflagReason { id },
            ),
            (Action::Flag, true) => sh.toast_error(format!(
                "redemption #{id} is already flagged; F resolves it"
            )),
            _ => sh.toast_error(format!("redemption #{id} is not flagged")),
        }
    }

    fn ask_refund(&mut self, sh: &mut Shell) {
        let Some(r) = self.selected_redemption() else {
            return;
        };
        let id = r.id;
        match (&r.refunded_at, &r.refunded_by) {
            (Some(at), Some(by)) => sh.toast_error(format!(
                "redemption #{id} was refunded on {} by {by}: a refund is final",
                at.date_naive()
            )),
            _ => sh.prompt(
                format!("Refund redemption #{id} ({})", r.value_text()),
                "why (its commission is reversed: left out of a draft, or an adjustment on the next one)",
                "",
                Question::RefundReason { id },
            ),
        }
    }

    /// A prompt's text: a flag note or an unflag reason. Text that does not read keeps the
    /// prompt open with the error beside it.
    pub(super) fn answer_text(
        &mut self,
        sh: &mut Shell,
        q: Question,
        text: String,
    ) -> Vec<AppEffect> {
        match q {
            Question::FlagNote { id } => match parse_flag(&text) {
                Ok((kind, note)) => fx(Effect::Flag { id, kind, note }),
                Err(e) => {
                    sh.ask_again(e);
                    Vec::new()
                }
            },
            Question::UnflagReason { id } => match flag_text("reason", &text) {
                Ok(reason) => fx(Effect::Unflag { id, reason }),
                Err(e) => {
                    sh.ask_again(e.to_string());
                    Vec::new()
                }
            },
            Question::RefundReason { id } => match flag_text("reason", &text) {
                Ok(reason) => fx(Effect::Refund { id, reason }),
                Err(e) => {
                    sh.ask_again(e.to_string());
                    Vec::new()
                }
            },
        }
    }

    pub(super) fn timeline(&mut self, sh: &mut Shell, id: i64, entries: Vec<AuditEntry>) {
        let mut lines: Vec<String> = Vec::new();
        if let Some(r) = self.list.rows.iter().find(|r| r.id == id) {
            lines.push(format!(
                "deal #{} {} · member #{} {}",
                r.deal_id, r.deal_title, r.member_id, r.member_handle
            ));
            lines.push(format!(
                "{} at {}{}",
                r.source,
                local_fmt(r.redeemed_at, "%Y-%m-%d %H:%M:%S"),
                r.coupon_code
                    .as_ref()
                    .map(|c| format!(" with code {c}"))
                    .unwrap_or_default()
            ));
            lines.push(match r.value_minor {
                Some(_) => format!("order value {}", r.value_text()),
                None => "no order value reported".into(),
            });
            if let Some(k) = r.flag_kind {
                lines.push(format!(
                    "flagged {k} by {}: {}",
                    r.flagged_by.clone().unwrap_or_default(),
                    r.flag_note.clone().unwrap_or_default()
                ));
            }
            lines.push(String::new());
        }
        if entries.is_empty() {
            lines.push("Nothing was done to it since it was recorded.".into());
        }
        lines.extend(entries.iter().map(|e| {
            format!(
                "{} {:<10} {}{}",
                local(e.at),
                e.actor,
                e.action,
                e.reason
                    .as_ref()
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default()
            )
        }));
        sh.inform(format!("Redemption #{id}"), lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::view::pin_display_zone;

    #[test]
    fn time_range_words_take_whole_days() {
        pin_display_zone(Some(chrono::FixedOffset::east_opt(0).unwrap()));
        let (from, to) = parse_range("from:2026-11-01 to:2026-11-08").unwrap();
        assert_eq!(from.unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(to.unwrap().to_rfc3339(), "2026-11-09T00:00:00+00:00");
        assert_eq!(
            range_label(&(from, to)).unwrap(),
            "from 2026-11-01 to 2026-11-08"
        );
        let one = parse_range("from:2026-11-30 to:2026-11-30").unwrap();
        assert_eq!(range_label(&one).unwrap(), "from 2026-11-30 to 2026-11-30");
        assert_eq!(parse_range("").unwrap(), (None, None));
        assert_eq!(
            parse_range("from:monday").unwrap_err(),
            "from: a date like 2026-11-21, not 'monday'"
        );
        assert!(parse_range("yesterday").is_err());
        assert!(parse_range("from:2026-11-02 to:2026-11-01").is_err());
        // Days are the zone's the times are shown in.
        pin_display_zone(Some(chrono::FixedOffset::east_opt(3600).unwrap()));
        let (from, _) = parse_range("from:2026-11-01").unwrap();
        assert_eq!(from.unwrap().to_rfc3339(), "2026-10-31T23:00:00+00:00");
        pin_display_zone(None);
    }

    #[test]
    fn flag_notes_start_with_their_kind() {
        assert_eq!(
            parse_flag("Fraud: shared code"),
            Ok((FlagKind::Fraud, "shared code".into()))
        );
        assert_eq!(
            parse_flag("dispute:late"),
            Ok((FlagKind::Dispute, "late".into()))
        );
        assert!(
            parse_flag("shared code")
                .unwrap_err()
                .starts_with("start with fraud:")
        );
        assert!(parse_flag("spam: x").is_err());
        assert_eq!(parse_flag("fraud:  ").unwrap_err(), "note: required");
    }
}
