//! The Redemptions pane (support's monitor): active deals with live counts and the last hour
//! per minute, updated by LISTEN/NOTIFY without a keypress; and the signals worth a look.

use super::action::Action;
use super::app::App;
use super::msg::{Effect, Gen, Msg};
use crate::service::monitor::Signals;
use crate::store::monitor::MonitorRow;

pub const PAGE: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Monitor,
    Signals,
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
}

impl RedemptionsPane {
    pub fn selected_row(&self) -> Option<&MonitorRow> {
        self.rows.get(self.selected)
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

pub fn reload(app: &mut App) -> Vec<Effect> {
    match app.redemptions.view {
        View::Monitor => load(app, false),
        View::Signals => load_signals(app),
    }
}

pub fn perform(app: &mut App, a: Action) -> Vec<Effect> {
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
        Action::Signals => {
            p.view = if p.view == View::Signals {
                View::Monitor
            } else {
                View::Signals
            };
            return if p.view == View::Signals && p.signals.is_none() {
                load_signals(app)
            } else {
                Vec::new()
            };
        }
        Action::Back if p.view == View::Signals => p.view = View::Monitor,
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
}
