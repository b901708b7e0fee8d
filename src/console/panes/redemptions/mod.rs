//! The Redemptions pane (support's monitor): active deals with live counts and the last hour
//! per minute, updated by LISTEN/NOTIFY without a keypress; the signals worth a look; a deal's
//! redemptions (newest first, paged, filtered by time), a member's history across deals, each
//! redemption's audit timeline; flags; and streaming CSV export with progress.

mod effects;
mod view;

pub use effects::{Effect, Msg};
pub use view::sparkline;

use super::{Answer, Pane, fx};
use crate::console::action::Action;
use crate::console::list::{KeysetList, PAGE};
use crate::console::msg::{Effect as AppEffect, LoadMode, Notice};
use crate::console::shell::{Latest, Shell};
use crate::domain::{FlagKind, Permission};
use crate::service::monitor::Signals;
use crate::service::rows::{AuditEntry, ExportFilter, MonitorRow, RedemptionRow};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;

/// A time range `[from, to)`; either end may be open.
pub type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Whose redemptions a list shows.
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
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Monitor,
    Signals,
    /// A deal's or a member's redemptions.
    List(Scope),
}

/// An export on its way.
pub struct Exporting {
    pub path: String,
    pub rows: u64,
    pub total: u64,
    pub cancel: tokio::sync::watch::Sender<bool>,
}

/// What the Redemptions pane asks.
#[derive(Debug, Clone)]
pub enum Question {
    /// `fraud: NOTE` or `dispute: NOTE` for a redemption (a prompt).
    FlagNote { id: i64 },
    /// The reason a flag is resolved (a prompt).
    UnflagReason { id: i64 },
}

pub struct RedemptionsPane {
    /// The monitor: active deals.
    pub monitor: KeysetList<MonitorRow>,
    pub view: View,
    pub signals: Option<Signals>,
    pub signals_req: Latest,
    /// The list of a deal's or a member's redemptions.
    pub list: KeysetList<RedemptionRow>,
    /// The `/` text of the time filter, and what was not understood.
    pub filter_text: String,
    pub filter_error: Option<String>,
    /// Where to go back to from a member's history.
    pub back_to: Option<Scope>,
    pub exporting: Option<Exporting>,
}

impl Default for RedemptionsPane {
    fn default() -> Self {
        Self {
            monitor: KeysetList::forward_only(),
            view: View::default(),
            signals: None,
            signals_req: Latest::default(),
            list: KeysetList::forward_only(),
            filter_text: String::new(),
            filter_error: None,
            back_to: None,
            exporting: None,
        }
    }
}

/// Parses the time filter: `from:YYYY-MM-DD to:YYYY-MM-DD` (UTC days, `to` exclusive).
pub fn parse_range(text: &str) -> Result<Range, String> {
    let day = |v: &str, key: &str| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| Utc.from_utc_datetime(&d))
            .ok_or_else(|| format!("{key}: a date like 2026-11-21"))
    };
    let (mut from, mut to) = (None, None);
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("from", v)) => from = Some(day(v, "from")?),
            Some(("to", v)) => to = Some(day(v, "to")?),
            _ => return Err(format!("'{word}': use from:YYYY-MM-DD to:YYYY-MM-DD")),
        }
    }
    Ok((from, to))
}

/// Reads `fraud: NOTE` or `dispute: NOTE`.
fn parse_flag(text: &str) -> Option<(FlagKind, String)> {
    let (kind, note) = text.split_once(':')?;
    let kind = match kind.trim().to_ascii_lowercase().as_str() {
        "fraud" => FlagKind::Fraud,
        "dispute" => FlagKind::Dispute,
        _ => return None,
    };
    Some((kind, note.trim().to_owned()))
}

impl RedemptionsPane {
    pub fn selected_row(&self) -> Option<&MonitorRow> {
        self.monitor.selected_row()
    }

    pub fn selected_redemption(&self) -> Option<&RedemptionRow> {
        self.list.selected_row()
    }

    fn load_monitor(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        let (tag, req) = self.monitor.request(sh, mode);
        fx(Effect::Monitor {
            tag,
            before: req.after,
            limit: PAGE,
            mode,
        })
    }

    fn load_signals(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let tag = self.signals_req.begin(sh);
        fx(Effect::Signals { tag })
    }

    fn load_list(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
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

    fn open(&mut self, sh: &mut Shell, scope: Scope) -> Vec<AppEffect> {
        self.view = View::List(scope);
        self.list.clear();
        self.load_list(sh, LoadMode::Replace)
    }

    /// The deal an export or a list applies to: the open list's deal, else the selected row.
    fn current_deal(&self) -> Option<ExportFilter> {
        match &self.view {
            View::List(Scope::Deal { id, from, to, .. }) => Some(ExportFilter {
                deal_id: *id,
                from: *from,
                to: *to,
            }),
            View::Monitor => self.selected_row().map(|r| ExportFilter::deal(r.id)),
            _ => None,
        }
    }

    fn export(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if let Some(e) = self.exporting.take() {
            let _ = e.cancel.send(true);
            sh.toast(format!("cancelling the export to {}", e.path));
            return Vec::new();
        }
        let Some(filter) = self.current_deal() else {
            sh.toast_error("select a deal to export its redemptions");
            return Vec::new();
        };
        let path = format!(
            "redemptions-deal-{}-{}.csv",
            filter.deal_id,
            Utc::now().format("%Y%m%d-%H%M%S")
        );
        let (tx, rx) = tokio::sync::watch::channel(false);
        self.exporting = Some(Exporting {
            path: path.clone(),
            rows: 0,
            total: 0,
            cancel: tx,
        });
        fx(Effect::Export {
            filter,
            path,
            cancel: rx,
        })
    }

    fn perform_monitor(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if self.view == View::Monitor
            && let Some(mode) = self.monitor.navigate(a)
        {
            return self.load_monitor(sh, mode);
        }
        match a {
            Action::Refresh => self.reload(sh),
            Action::Export => self.export(sh),
            Action::Signals if self.view == View::Signals => {
                self.view = View::Monitor;
                Vec::new()
            }
            Action::Signals => {
                self.view = View::Signals;
                self.load_signals(sh)
            }
            Action::Back if self.view == View::Signals => {
                self.view = View::Monitor;
                Vec::new()
            }
            Action::Open if self.view == View::Monitor => match self.selected_row() {
                Some(r) => {
                    let scope = Scope::Deal {
                        id: r.id,
                        title: r.title.clone(),
                        from: None,
                        to: None,
                    };
                    self.filter_text.clear();
                    self.open(sh, scope)
                }
                None => Vec::new(),
            },
            Action::Filter => {
                sh.toast("open a deal (Enter) to filter its redemptions by time");
                Vec::new()
            }
            Action::Copy => match self.selected_row() {
                Some(r) => vec![AppEffect::copy_id("deal", r.id)],
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn perform_list(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if let Some(mode) = self.list.navigate(a) {
            return self.load_list(sh, mode);
        }
        match a {
            Action::Refresh => self.load_list(sh, LoadMode::Replace),
            Action::Export => self.export(sh),
            Action::Back => match self.back_to.take() {
                Some(scope) => self.open(sh, scope),
                None => {
                    self.view = View::Monitor;
                    self.filter_text.clear();
                    Vec::new()
                }
            },
            Action::Open => match self.selected_redemption() {
                Some(r) => fx(Effect::Timeline { id: r.id }),
                None => Vec::new(),
            },
            Action::MemberHistory => {
                let Some(r) = self.selected_redemption() else {
                    return Vec::new();
                };
                let scope = Scope::Member {
                    id: r.member_id,
                    handle: r.member_handle.clone(),
                };
                if let View::List(current @ Scope::Deal { .. }) = &self.view {
                    self.back_to = Some(current.clone());
                }
                self.open(sh, scope)
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

    fn timeline(&mut self, sh: &mut Shell, id: i64, entries: Vec<AuditEntry>) {
        use crate::console::view::local;
        let mut lines: Vec<String> = Vec::new();
        if let Some(r) = self.list.rows.iter().find(|r| r.id == id) {
            lines.push(format!(
                "deal #{} {} · member #{} {}",
                r.deal_id, r.deal_title, r.member_id, r.member_handle
            ));
            lines.push(format!(
                "{} at {}{}",
                r.source,
                local(r.redeemed_at),
                r.coupon_code
                    .as_ref()
                    .map(|c| format!(" with code {c}"))
                    .unwrap_or_default()
            ));
            if let Some(k) = r.flag_kind {
                lines.push(format!(
                    "flagged {k} by {}: {}",
                    r.flagged_by.clone().unwrap_or_default(),
                    r.flag_note.clone().unwrap_or_default()
                ));
            }
            lines.push(String::new());
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

impl Pane for RedemptionsPane {
    type Effect = Effect;
    type Question = Question;
    const TITLE: &'static str = "Redemptions";
    const KEY: &'static str = "redemptions";

    fn offers(&self, a: Action) -> bool {
        use Action::*;
        matches!(
            a,
            Down | Up
                | Top
                | Bottom
                | PageDown
                | PageUp
                | Open
                | Back
                | Filter
                | Refresh
                | Copy
                | Export
                | Signals
                | Flag
                | Unflag
                | MemberHistory
        )
    }

    fn needs(&self, a: Action) -> Option<Permission> {
        use Action::*;
        matches!(a, Flag | Unflag).then_some(Permission::FlagRedemptions)
    }

    fn main_actions(&self) -> &'static [Action] {
        use Action::*;
        &[Open, Filter, Signals, MemberHistory, Flag, Export]
    }

    fn needs_load(&self) -> bool {
        self.monitor.rows.is_empty()
    }

    fn reload(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        match self.view {
            View::Monitor => self.load_monitor(sh, LoadMode::Replace),
            View::Signals => self.load_signals(sh),
            View::List(_) => self.load_list(sh, LoadMode::Replace),
        }
    }

    fn perform(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if matches!(self.view, View::List(_)) {
            self.perform_list(sh, a)
        } else {
            self.perform_monitor(sh, a)
        }
    }

    fn on_msg(&mut self, sh: &mut Shell, msg: Msg) -> Vec<AppEffect> {
        match msg {
            Msg::Monitor { tag, mode, result } => self.monitor.receive(sh, tag, mode, result),
            Msg::Signals { tag, result } => {
                if self.signals_req.accept(tag) {
                    match result {
                        Ok(s) => self.signals = Some(s),
                        Err(e) => sh.toast_error(e.to_string()),
                    }
                }
            }
            Msg::Redemptions { tag, mode, result } => self.list.receive(sh, tag, mode, result),
            Msg::Timeline { id, result } => match result {
                Ok(entries) => self.timeline(sh, id, entries),
                Err(e) => sh.toast_error(e.to_string()),
            },
            Msg::Flagged { result } => {
                match result {
                    Ok(r) => match r.flag_kind {
                        Some(k) => sh.toast(format!(
                            "redemption #{} flagged {k}: left out of settlement until resolved",
                            r.id
                        )),
                        None => sh.toast(format!(
                            "redemption #{} resolved: it counts in settlement again",
                            r.id
                        )),
                    },
                    Err(e) => sh.toast_error(e.to_string()),
                }
                return self.load_list(sh, LoadMode::Replace);
            }
            Msg::ExportProgress { rows, total } => {
                if let Some(e) = self.exporting.as_mut() {
                    e.rows = rows;
                    e.total = total;
                }
            }
            Msg::ExportDone { path, result } => {
                self.exporting = None;
                match result {
                    Ok(r) => sh.toast(format!(
                        "exported {} redemptions ({} bytes) to {path}",
                        r.rows, r.bytes
                    )),
                    Err(crate::Error::Cancelled { .. }) => {
                        sh.toast(format!("export cancelled; {path} removed"))
                    }
                    Err(e) => sh.toast_error(format!("export to {path} failed: {e}")),
                }
            }
        }
        Vec::new()
    }

    fn answered(&mut self, sh: &mut Shell, q: Question, a: Answer) -> Vec<AppEffect> {
        let Answer::Text(text) = a else {
            return Vec::new();
        };
        match q {
            Question::FlagNote { id } => match parse_flag(&text) {
                Some((kind, note)) => fx(Effect::Flag { id, kind, note }),
                None => {
                    sh.toast_error("start the note with fraud: or dispute:");
                    Vec::new()
                }
            },
            Question::UnflagReason { id } => fx(Effect::Unflag { id, reason: text }),
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
        view::draw(self, f, area, sh)
    }

    /// The time filter applies to a deal's redemptions.
    fn filter_text(&self) -> Option<String> {
        matches!(self.view, View::List(_)).then(|| self.filter_text.clone())
    }

    fn filter_changed(&mut self, sh: &mut Shell, text: &str) -> Vec<AppEffect> {
        self.filter_text = text.to_owned();
        let View::List(Scope::Deal { id, title, .. }) = self.view.clone() else {
            self.filter_error =
                Some("the time filter applies to a deal's redemptions (Enter on a deal)".into());
            return Vec::new();
        };
        match parse_range(text) {
            Ok((from, to)) => {
                self.filter_error = None;
                self.open(
                    sh,
                    Scope::Deal {
                        id,
                        title,
                        from,
                        to,
                    },
                )
            }
            Err(e) => {
                self.filter_error = Some(e);
                Vec::new()
            }
        }
    }

    fn filter_hint(&self) -> &'static str {
        "   from:YYYY-MM-DD to:YYYY-MM-DD · Enter keeps · Esc restores"
    }

    /// A redemption count announced by another session: the count and this minute's bar move.
    fn notice(&mut self, _sh: &mut Shell, n: Notice) -> Vec<AppEffect> {
        let Notice::DealCount { deal_id, count } = n;
        if let Some(r) = self.monitor.rows.iter_mut().find(|r| r.id == deal_id) {
            let delta = count - r.redemption_count;
            r.redemption_count = count;
            if delta > 0
                && let Some(last) = r.per_minute.last_mut()
            {
                *last += delta as u64;
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_range_words() {
        let (from, to) = parse_range("from:2026-11-01 to:2026-11-08").unwrap();
        assert_eq!(from.unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(to.unwrap().to_rfc3339(), "2026-11-08T00:00:00+00:00");
        assert_eq!(parse_range("").unwrap(), (None, None));
        assert_eq!(
            parse_range("from:monday").unwrap_err(),
            "from: a date like 2026-11-21"
        );
        assert!(parse_range("yesterday").is_err());
    }

    #[test]
    fn flag_notes_start_with_their_kind() {
        assert_eq!(
            parse_flag("Fraud: shared code"),
            Some((FlagKind::Fraud, "shared code".into()))
        );
        assert_eq!(
            parse_flag("dispute:late"),
            Some((FlagKind::Dispute, "late".into()))
        );
        assert_eq!(parse_flag("shared code"), None);
        assert_eq!(parse_flag("spam: x"), None);
    }
}
