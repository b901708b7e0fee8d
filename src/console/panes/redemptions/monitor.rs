//! The monitor: active deals with live counts and the last hour per clock minute. It stays
//! right by itself: counts and this minute's bar move on each redemption announced by the
//! database, the bars shift as clock minutes pass, and deals entering or leaving the active
//! set (activated, paused or expired anywhere) appear and disappear — all by notification.
//! `/` finds deals by title or partner on the server; `s` sorts the loaded rows (when sorted
//! other than newest first, the pane loads the whole active set so that the order is right).

use super::{Effect, RedemptionsPane, Scope, View};
use crate::console::action::Action;
use crate::console::list::PAGE;
use crate::console::msg::{Effect as AppEffect, LoadMode};
use crate::console::pane::fx;
use crate::console::shell::Shell;
use crate::service::monitor::minute_of;
use crate::service::rows::{MonitorFilter, MonitorRow};
use chrono::{DateTime, Utc};
use std::cmp::Ordering;

/// The monitor's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MonitorSort {
    /// Newest deal first (the server's order).
    #[default]
    Newest,
    /// Most redemptions first.
    Count,
    /// Most redemptions in the last hour first.
    LastHour,
    /// By title, A to Z.
    Title,
}

impl MonitorSort {
    pub fn next(self) -> Self {
        match self {
            Self::Newest => Self::Count,
            Self::Count => Self::LastHour,
            Self::LastHour => Self::Title,
            Self::Title => Self::Newest,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Count => "count",
            Self::LastHour => "last hour",
            Self::Title => "title",
        }
    }

    /// The order of two rows (ties: newest first).
    pub fn cmp(self, a: &MonitorRow, b: &MonitorRow) -> Ordering {
        let hour = |r: &MonitorRow| r.per_minute.iter().sum::<u64>();
        let by = match self {
            Self::Newest => Ordering::Equal,
            Self::Count => b.redemption_count.cmp(&a.redemption_count),
            Self::LastHour => hour(b).cmp(&hour(a)),
            Self::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
        };
        by.then(b.id.cmp(&a.id))
    }
}

/// Moves a row's per-minute counts on to the clock minute `minute`: older minutes drop off
/// the left, empty ones come in on the right.
pub fn shift_to(r: &mut MonitorRow, minute: DateTime<Utc>) {
    let Some(at) = r.minute else {
        return;
    };
    let steps = (minute - at).num_minutes();
    if steps <= 0 {
        return;
    }
    let n = r.per_minute.len();
    let steps = usize::try_from(steps).unwrap_or(n).min(n);
    r.per_minute.drain(..steps);
    r.per_minute.extend(std::iter::repeat_n(0, steps));
    r.minute = Some(minute);
}

impl RedemptionsPane {
    pub fn selected_row(&self) -> Option<&MonitorRow> {
        self.monitor.selected_row()
    }

    fn monitor_filter(&self, deal_id: Option<i64>) -> MonitorFilter {
        MonitorFilter {
            text: self.find.trim().to_owned(),
            deal_id,
        }
    }

    pub(super) fn load_monitor(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        // Rows are shown sorted, so the next page continues after the oldest deal loaded
        // (the server's order), not after the last row on screen.
        let oldest = self.monitor.rows.iter().map(|r| r.id).min();
        let (tag, _) = self.monitor.request(sh, mode);
        fx(Effect::Monitor {
            tag,
            filter: self.monitor_filter(None),
            before: if mode == LoadMode::Append {
                oldest
            } else {
                None
            },
            limit: PAGE,
            mode,
        })
    }

    /// Sorts the rows, keeping the selected deal selected.
    pub(super) fn arrange(&mut self) {
        let keep = self.selected_row().map(|r| r.id);
        let sort = self.sort;
        self.monitor.rows.sort_by(|a, b| sort.cmp(a, b));
        if let Some(i) = keep.and_then(|id| self.monitor.rows.iter().position(|r| r.id == id)) {
            self.monitor.selected = i;
        }
    }

    /// After a page: sorted other than newest first, the rest of the active set is loaded
    /// too, so that the order covers every deal.
    pub(super) fn monitor_loaded(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        self.arrange();
        if self.sort != MonitorSort::Newest && !self.monitor.at_end && !self.monitor.loading {
            return self.load_monitor(sh, LoadMode::Append);
        }
        Vec::new()
    }

    /// A deal that has just become active (or, active, was renamed), as the server sees it
    /// now: shown when it matches `/`, removed otherwise.
    pub(super) fn monitor_deal(&mut self, deal_id: i64, rows: Vec<MonitorRow>) {
        let existing = self.monitor.rows.iter().position(|r| r.id == deal_id);
        match (rows.into_iter().find(|r| r.id == deal_id), existing) {
            (Some(row), Some(i)) => self.monitor.rows[i] = row,
            // Older than every row loaded while more are to come: a later page brings it.
            (Some(row), None) => {
                let oldest = self.monitor.rows.iter().map(|r| r.id).min();
                if self.monitor.loaded_once
                    && (self.monitor.at_end || oldest.is_some_and(|o| row.id > o))
                {
                    self.monitor.rows.push(row);
                }
            }
            (None, Some(_)) => self.remove_deal(deal_id),
            (None, None) => {}
        }
        self.arrange();
    }

    /// A deal left the active set.
    pub(super) fn remove_deal(&mut self, deal_id: i64) {
        let Some(i) = self.monitor.rows.iter().position(|r| r.id == deal_id) else {
            return;
        };
        self.monitor.rows.remove(i);
        if i < self.monitor.selected {
            self.monitor.selected -= 1;
        }
        self.monitor.selected = self
            .monitor
            .selected
            .min(self.monitor.rows.len().saturating_sub(1));
    }

    /// A count announced by the database: the count, and this minute's bar by the difference.
    pub(super) fn count_changed(&mut self, deal_id: i64, count: i32, now: DateTime<Utc>) {
        let minute = minute_of(now);
        if let Some(r) = self.monitor.rows.iter_mut().find(|r| r.id == deal_id) {
            shift_to(r, minute);
            let delta = count - r.redemption_count;
            r.redemption_count = count;
            if delta > 0
                && let Some(last) = r.per_minute.last_mut()
            {
                *last += delta as u64;
            }
        }
        if matches!(self.sort, MonitorSort::Count | MonitorSort::LastHour) {
            self.arrange();
        }
    }

    /// A new clock minute: every row's bars move one to the left.
    pub(super) fn minute_passed(&mut self, now: DateTime<Utc>) {
        let minute = minute_of(now);
        for r in &mut self.monitor.rows {
            shift_to(r, minute);
        }
        if self.sort == MonitorSort::LastHour {
            self.arrange();
        }
    }

    /// `/` on the monitor: finds deals by title or partner name (on the server).
    pub(super) fn find_changed(&mut self, sh: &mut Shell, text: &str) -> Vec<AppEffect> {
        self.find = text.to_owned();
        self.monitor.selected = 0;
        self.load_monitor(sh, LoadMode::Replace)
    }

    pub(super) fn perform_monitor(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if let Some(mode) = self.monitor.navigate(a) {
            return self.load_monitor(sh, mode);
        }
        match a {
            Action::Refresh => self.load_monitor(sh, LoadMode::Replace),
            Action::Export => self.export(sh),
            Action::Signals => {
                self.view = View::Signals;
                self.load_signals(sh)
            }
            Action::Sort => {
                self.sort = self.sort.next();
                self.monitor_loaded(sh)
            }
            Action::Open => match self.selected_row() {
                Some(r) => {
                    let scope = Scope::Deal {
                        id: r.id,
                        title: r.title.clone(),
                        from: None,
                        to: None,
                    };
                    self.enter(sh, scope, String::new())
                }
                None => Vec::new(),
            },
            Action::Copy => match self.selected_row() {
                Some(r) => vec![AppEffect::copy_id("deal", r.id)],
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(id: i64, count: i32, hour: u64, title: &str) -> MonitorRow {
        let mut per_minute = vec![0; 60];
        per_minute[59] = hour;
        MonitorRow {
            id,
            title: title.into(),
            partner_name: "P".into(),
            state: "active".into(),
            kind: "coupon".into(),
            redemption_cap: None,
            redemption_count: count,
            published_at: None,
            per_minute,
            minute: Some(Utc.with_ymd_and_hms(2026, 11, 29, 10, 0, 0).unwrap()),
        }
    }

    #[test]
    fn bars_shift_with_the_clock() {
        let mut r = row(1, 3, 2, "a");
        r.per_minute[0] = 1;
        let at = r.minute.unwrap();
        shift_to(&mut r, at + chrono::TimeDelta::seconds(59));
        assert_eq!(r.per_minute[59], 2, "the same minute moves nothing");
        shift_to(&mut r, minute_of(at + chrono::TimeDelta::seconds(61)));
        assert_eq!((r.per_minute[58], r.per_minute[59]), (2, 0));
        assert_eq!(
            r.per_minute.iter().sum::<u64>(),
            2,
            "the oldest minute dropped off"
        );
        assert_eq!(r.per_minute.len(), 60);
        shift_to(&mut r, at + chrono::TimeDelta::hours(3));
        assert_eq!(r.per_minute, vec![0; 60]);
    }

    #[test]
    fn sorts_by_count_last_hour_and_title() {
        let rows = [
            row(1, 9, 0, "beta"),
            row(2, 1, 5, "Alpha"),
            row(3, 4, 1, "gamma"),
        ];
        let order = |s: MonitorSort| {
            let mut v = rows.to_vec();
            v.sort_by(|a, b| s.cmp(a, b));
            v.iter().map(|r| r.id).collect::<Vec<_>>()
        };
        assert_eq!(order(MonitorSort::Newest), [3, 2, 1]);
        assert_eq!(order(MonitorSort::Count), [1, 3, 2]);
        assert_eq!(order(MonitorSort::LastHour), [2, 3, 1]);
        assert_eq!(order(MonitorSort::Title), [2, 1, 3]);
    }
}
