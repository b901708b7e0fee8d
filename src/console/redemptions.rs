//! The Redemptions pane (support's monitor): active deals with live counts and the last hour
//! per minute, updated by LISTEN/NOTIFY without a keypress; the signals worth a look; a deal's
//! redemptions (newest first, paged, filtered by time), a member's history across deals, each
//! redemption's audit timeline; flags; and streaming CSV export with progress.

use super::action::Action;
use super::app::{App, Overlay, PromptFor};
use super::msg::{Effect, Gen, Msg};
use crate::domain::FlagKind;
use crate::service::monitor::Signals;
use crate::store::monitor::MonitorRow;
use crate::store::redemptions::{ExportFilter, RedemptionRow};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

pub const PAGE: i64 = 100;

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

#[derive(Default)]
pub struct RedemptionsPane {
    pub rows: Vec<MonitorRow>,
    pub selected: usize,
    pub tag: Gen,
    pub loading: bool,
    pub at_end: bool,
    pub loaded_once: bool,
    pub view: View,
    pub signals: Option<Signals>,
    pub signals_tag: Gen,
    pub signals_loading: bool,
    pub visible_rows: usize,
    /// The list of a deal's or a member's redemptions.
    pub list: Vec<RedemptionRow>,
    pub list_selected: usize,
    pub list_tag: Gen,
    pub list_loading: bool,
    pub list_at_end: bool,
    /// The `/` text of the time filter, and what was not understood.
    pub filter_text: String,
    pub filter_error: Option<String>,
    /// Where to go back to from a member's history.
    pub back_to: Option<Scope>,
    pub exporting: Option<Exporting>,
}

impl RedemptionsPane {
    pub fn selected_row(&self) -> Option<&MonitorRow> {
        self.rows.get(self.selected)
    }

    pub fn selected_redemption(&self) -> Option<&RedemptionRow> {
        self.list.get(self.list_selected)
    }
}

fn load(app: &mut App, append: bool) -> Vec<Effect> {
    let tag = app.next_tag();
    let p = &mut app.redemptions;
    p.tag = tag;
    p.loading = true;
    let before_id = if append {
        p.rows.last().map(|r| r.id)
    } else {
        None
    };
    vec![Effect::LoadMonitor {
        tag,
        before_id,
        limit: PAGE,
        append,
    }]
}

fn load_signals(app: &mut App) -> Vec<Effect> {
    let tag = app.next_tag();
    app.redemptions.signals_tag = tag;
    app.redemptions.signals_loading = true;
    vec![Effect::LoadSignals { tag }]
}

fn load_list(app: &mut App, append: bool) -> Vec<Effect> {
    let View::List(scope) = app.redemptions.view.clone() else {
        return Vec::new();
    };
    let tag = app.next_tag();
    let p = &mut app.redemptions;
    p.list_tag = tag;
    p.list_loading = true;
    let before = if append {
        p.list.last().map(RedemptionRow::cursor)
    } else {
        None
    };
    vec![Effect::LoadRedemptions {
        tag,
        scope,
        before,
        limit: PAGE,
        append,
    }]
}

fn open(app: &mut App, scope: Scope) -> Vec<Effect> {
    let p = &mut app.redemptions;
    p.view = View::List(scope);
    p.list.clear();
    p.list_selected = 0;
    load_list(app, false)
}

pub fn reload(app: &mut App) -> Vec<Effect> {
    match app.redemptions.view {
        View::Monitor => load(app, false),
        View::Signals => load_signals(app),
        View::List(_) => load_list(app, false),
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

pub fn filter_changed(app: &mut App) -> Vec<Effect> {
    let text = app.filter_input.clone().unwrap_or_default();
    app.redemptions.filter_text = text.clone();
    let View::List(Scope::Deal { id, title, .. }) = app.redemptions.view.clone() else {
        app.redemptions.filter_error =
            Some("the time filter applies to a deal's redemptions (Enter on a deal)".into());
        return Vec::new();
    };
    match parse_range(&text) {
        Ok((from, to)) => {
            app.redemptions.filter_error = None;
            open(
                app,
                Scope::Deal {
                    id,
                    title,
                    from,
                    to,
                },
            )
        }
        Err(e) => {
            app.redemptions.filter_error = Some(e);
            Vec::new()
        }
    }
}

fn require_flag(app: &mut App) -> bool {
    use crate::domain::Permission;
    if app.may(Permission::FlagRedemptions) {
        return true;
    }
    let who = app.session.operator.clone();
    app.toast_error(format!(
        "{who} may not flag redemptions: it needs the {} role",
        Permission::FlagRedemptions.needed_roles_text()
    ));
    false
}

/// The deal an export or a list applies to: the open list's deal, else the selected row.
fn current_deal(app: &App) -> Option<ExportFilter> {
    match &app.redemptions.view {
        View::List(Scope::Deal { id, from, to, .. }) => Some(ExportFilter {
            deal_id: *id,
            from: *from,
            to: *to,
        }),
        View::Monitor => app
            .redemptions
            .selected_row()
            .map(|r| ExportFilter::deal(r.id)),
        _ => None,
    }
}

fn export(app: &mut App) -> Vec<Effect> {
    if let Some(e) = app.redemptions.exporting.take() {
        let _ = e.cancel.send(true);
        app.toast(format!("cancelling the export to {}", e.path));
        return Vec::new();
    }
    let Some(filter) = current_deal(app) else {
        app.toast_error("select a deal to export its redemptions");
        return Vec::new();
    };
    let path = format!(
        "redemptions-deal-{}-{}.csv",
        filter.deal_id,
        Utc::now().format("%Y%m%d-%H%M%S")
    );
    let (tx, rx) = tokio::sync::watch::channel(false);
    app.redemptions.exporting = Some(Exporting {
        path: path.clone(),
        rows: 0,
        total: 0,
        cancel: tx,
    });
    vec![Effect::Export {
        filter,
        path,
        cancel: rx,
    }]
}

pub fn perform(app: &mut App, a: Action) -> Vec<Effect> {
    if matches!(app.redemptions.view, View::List(_)) {
        return perform_list(app, a);
    }
    let p = &mut app.redemptions;
    let last = p.rows.len().saturating_sub(1);
    let page = p.visible_rows.max(5);
    match a {
        Action::Down => p.selected = (p.selected + 1).min(last),
        Action::Up => p.selected = p.selected.saturating_sub(1),
        Action::PageDown => p.selected = (p.selected + page).min(last),
        Action::PageUp => p.selected = p.selected.saturating_sub(page),
        Action::Top => p.selected = 0,
        Action::Bottom => p.selected = last,
        Action::Refresh => return reload(app),
        Action::Export => return export(app),
        Action::Signals => {
            p.view = if p.view == View::Signals {
                View::Monitor
            } else {
                View::Signals
            };
            return if p.view == View::Signals {
                load_signals(app)
            } else {
                Vec::new()
            };
        }
        Action::Back if p.view == View::Signals => p.view = View::Monitor,
        Action::Open if p.view == View::Monitor => {
            if let Some(r) = p.selected_row() {
                let scope = Scope::Deal {
                    id: r.id,
                    title: r.title.clone(),
                    from: None,
                    to: None,
                };
                p.filter_text.clear();
                return open(app, scope);
            }
        }
        Action::Filter => {
            app.toast("open a deal (Enter) to filter its redemptions by time");
            return Vec::new();
        }
        Action::Copy => {
            return match p.selected_row() {
                Some(r) => vec![Effect::Copy(r.id.to_string())],
                None => Vec::new(),
            };
        }
        _ => {}
    }
    let p = &app.redemptions;
    if p.view == View::Monitor
        && !p.loading
        && !p.at_end
        && !p.rows.is_empty()
        && p.selected + 20 >= p.rows.len()
    {
        return load(app, true);
    }
    Vec::new()
}

fn perform_list(app: &mut App, a: Action) -> Vec<Effect> {
    let p = &mut app.redemptions;
    let last = p.list.len().saturating_sub(1);
    let page = p.visible_rows.max(5);
    match a {
        Action::Down => p.list_selected = (p.list_selected + 1).min(last),
        Action::Up => p.list_selected = p.list_selected.saturating_sub(1),
        Action::PageDown => p.list_selected = (p.list_selected + page).min(last),
        Action::PageUp => p.list_selected = p.list_selected.saturating_sub(page),
        Action::Top => p.list_selected = 0,
        Action::Bottom => p.list_selected = last,
        Action::Refresh => return load_list(app, false),
        Action::Export => return export(app),
        Action::Back => {
            return match p.back_to.take() {
                Some(scope) => open(app, scope),
                None => {
                    p.view = View::Monitor;
                    p.filter_text.clear();
                    Vec::new()
                }
            };
        }
        Action::Filter => {
            app.filter_before = Some(p.filter_text.clone());
            app.filter_input = Some(p.filter_text.clone());
            return Vec::new();
        }
        Action::Open => {
            return match p.selected_redemption() {
                Some(r) => vec![Effect::LoadRedemptionTimeline { id: r.id }],
                None => Vec::new(),
            };
        }
        Action::MemberHistory => {
            let Some(r) = p.selected_redemption() else {
                return Vec::new();
            };
            let scope = Scope::Member {
                id: r.member_id,
                handle: r.member_handle.clone(),
            };
            if let View::List(current @ Scope::Deal { .. }) = &p.view {
                p.back_to = Some(current.clone());
            }
            return open(app, scope);
        }
        Action::Copy => {
            return match p.selected_redemption() {
                Some(r) => vec![Effect::Copy(r.id.to_string())],
                None => Vec::new(),
            };
        }
        Action::Flag | Action::Unflag => {
            if !require_flag(app) {
                return Vec::new();
            }
            let Some(r) = app.redemptions.selected_redemption() else {
                return Vec::new();
            };
            let (id, flagged) = (r.id, r.is_flagged());
            app.overlay = match (a, flagged) {
                (Action::Flag, false) => Overlay::Prompt {
                    title: format!("Flag redemption #{id}"),
                    hint: "fraud: NOTE or dispute: NOTE (flagged redemptions are left out of settlement)".into(),
                    input: "fraud: ".into(),
                    purpose: PromptFor::FlagNote { id },
                },
                (Action::Unflag, true) => Overlay::Prompt {
                    title: format!("Resolve the flag of redemption #{id}"),
                    hint: "the reason (it counts in settlement again)".into(),
                    input: String::new(),
                    purpose: PromptFor::UnflagReason { id },
                },
                (Action::Flag, true) => {
                    app.toast_error(format!("redemption #{id} is already flagged; F resolves it"));
                    return Vec::new();
                }
                _ => {
                    app.toast_error(format!("redemption #{id} is not flagged"));
                    return Vec::new();
                }
            };
            return Vec::new();
        }
        _ => {}
    }
    let p = &app.redemptions;
    if !p.list_loading
        && !p.list_at_end
        && !p.list.is_empty()
        && p.list_selected + 20 >= p.list.len()
    {
        return load_list(app, true);
    }
    Vec::new()
}

/// A prompt of this pane was answered.
pub fn answered(app: &mut App, purpose: PromptFor, text: String) -> Vec<Effect> {
    match purpose {
        PromptFor::FlagNote { id } => {
            let (kind, note) = match text.split_once(':') {
                Some((k, n)) => (k.trim().to_ascii_lowercase(), n.trim().to_owned()),
                None => (String::new(), text.clone()),
            };
            let kind = match kind.as_str() {
                "fraud" => FlagKind::Fraud,
                "dispute" => FlagKind::Dispute,
                _ => {
                    app.toast_error("start the note with fraud: or dispute:");
                    return Vec::new();
                }
            };
            vec![Effect::Flag { id, kind, note }]
        }
        PromptFor::UnflagReason { id } => vec![Effect::Unflag { id, reason: text }],
        PromptFor::ImportPath => Vec::new(),
    }
}

pub fn on_msg(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Monitor {
            tag,
            append,
            result,
        } => {
            let p = &mut app.redemptions;
            if tag != p.tag {
                return Vec::new();
            }
            p.loading = false;
            match result {
                Ok(rows) => {
                    p.at_end = (rows.len() as i64) < PAGE;
                    if append {
                        p.rows.extend(rows);
                    } else {
                        p.rows = rows;
                        p.selected = p.selected.min(p.rows.len().saturating_sub(1));
                    }
                    p.loaded_once = true;
                }
                Err(e) => app.toast_error(e.to_string()),
            }
        }
        Msg::Signals { tag, result } => {
            if tag != app.redemptions.signals_tag {
                return Vec::new();
            }
            app.redemptions.signals_loading = false;
            match result {
                Ok(s) => app.redemptions.signals = Some(s),
                Err(e) => app.toast_error(e.to_string()),
            }
        }
        Msg::Redemptions {
            tag,
            append,
            result,
        } => {
            let p = &mut app.redemptions;
            if tag != p.list_tag {
                return Vec::new();
            }
            p.list_loading = false;
            match result {
                Ok(rows) => {
                    p.list_at_end = (rows.len() as i64) < PAGE;
                    if append {
                        p.list.extend(rows);
                    } else {
                        p.list = rows;
                        p.list_selected = p.list_selected.min(p.list.len().saturating_sub(1));
                    }
                }
                Err(e) => app.toast_error(e.to_string()),
            }
        }
        Msg::RedemptionTimeline { id, result } => match result {
            Ok(entries) => {
                let mut lines: Vec<String> = Vec::new();
                if let Some(r) = app.redemptions.list.iter().find(|r| r.id == id) {
                    lines.push(format!(
                        "deal #{} {} · member #{} {}",
                        r.deal_id, r.deal_title, r.member_id, r.member_handle
                    ));
                    lines.push(format!(
                        "{} at {}{}",
                        r.source,
                        super::view::local(r.redeemed_at),
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
                        super::view::local(e.at),
                        e.actor,
                        e.action,
                        e.reason
                            .as_ref()
                            .map(|r| format!(" — {r}"))
                            .unwrap_or_default()
                    )
                }));
                app.overlay = Overlay::Info {
                    title: format!("Redemption #{id}"),
                    lines,
                };
            }
            Err(e) => app.toast_error(e.to_string()),
        },
        Msg::FlagDone { result } => {
            match result {
                Ok(r) => match r.flag_kind {
                    Some(k) => app.toast(format!(
                        "redemption #{} flagged {k}: left out of settlement until resolved",
                        r.id
                    )),
                    None => app.toast(format!(
                        "redemption #{} resolved: it counts in settlement again",
                        r.id
                    )),
                },
                Err(e) => app.toast_error(e.to_string()),
            }
            return load_list(app, false);
        }
        Msg::ExportProgress { rows, total } => {
            if let Some(e) = app.redemptions.exporting.as_mut() {
                e.rows = rows;
                e.total = total;
            }
        }
        Msg::ExportDone { path, result } => {
            app.redemptions.exporting = None;
            match result {
                Ok(r) => app.toast(format!(
                    "exported {} redemptions ({} bytes) to {path}",
                    r.rows, r.bytes
                )),
                Err(crate::Error::Cancelled { .. }) => {
                    app.toast(format!("export cancelled; {path} removed"))
                }
                Err(e) => app.toast_error(format!("export to {path} failed: {e}")),
            }
        }
        _ => {}
    }
    Vec::new()
}

/// A redemption count announced by another session: the count and this minute's bar move.
pub fn count_changed(app: &mut App, deal_id: i64, count: i32) {
    if let Some(r) = app.redemptions.rows.iter_mut().find(|r| r.id == deal_id) {
        let delta = count - r.redemption_count;
        r.redemption_count = count;
        if delta > 0
            && let Some(last) = r.per_minute.last_mut()
        {
            *last += delta as u64;
        }
    }
}

/// Bars for a sparkline of `width` characters (each the sum of its share of minutes).
pub fn sparkline(per_minute: &[u64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if per_minute.is_empty() || width == 0 {
        return String::new();
    }
    let per = per_minute.len().div_ceil(width);
    let sums: Vec<u64> = per_minute.chunks(per).map(|c| c.iter().sum()).collect();
    let max = sums.iter().copied().max().unwrap_or(0);
    sums.iter()
        .map(|&v| match (v * 7).checked_div(max) {
            _ if v == 0 => ' ',
            Some(level) => BARS[level as usize],
            None => BARS[0],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_busiest_slot() {
        let mut m = vec![0u64; 60];
        m[59] = 8;
        m[0] = 1;
        let s = sparkline(&m, 30);
        assert_eq!(s.chars().count(), 30);
        assert_eq!(s.chars().last(), Some('█'));
        assert_eq!(s.chars().next(), Some('▁'));
        assert_eq!(sparkline(&[0; 60], 30).trim(), "");
    }

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
}
