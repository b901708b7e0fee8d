//! The Redemptions pane: the live monitor and the signals.

use super::{RedemptionsPane, Scope, View};
use crate::console::action::Action;
use crate::console::shell::Shell;
use crate::console::view::{ListTable, draw_list, local};
use ratatui::Frame;
use ratatui::layout::Layout;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Row, Wrap};

pub fn draw(p: &mut RedemptionsPane, f: &mut Frame, area: Rect, sh: &Shell) {
    let area = match &p.exporting {
        Some(e) => {
            let [main, gauge] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
            let ratio = if e.total == 0 {
                0.0
            } else {
                (e.rows as f64 / e.total as f64).min(1.0)
            };
            let label = format!(
                "exporting to {} · {} of {} rows · {} cancels",
                e.path,
                e.rows,
                e.total,
                sh.keymap.keys_text(Action::Export)
            );
            f.render_widget(
                Gauge::default()
                    .gauge_style(sh.theme.ok)
                    .ratio(ratio)
                    .label(label),
                gauge,
            );
            main
        }
        None => area,
    };
    match p.view.clone() {
        View::Monitor => monitor(f, area, p, sh),
        View::Signals => signals(f, area, p, sh),
        View::List(scope) => list(f, area, p, sh, &scope),
    }
}

fn list(f: &mut Frame, area: Rect, pane: &mut RedemptionsPane, sh: &Shell, scope: &Scope) {
    let t = &sh.theme;
    let p = &*pane;
    let mut title = match scope {
        Scope::Deal { id, title, .. } => format!(" Redemptions of deal #{id} {title}"),
        Scope::Member { id, handle } => format!(" History of member #{id} {handle}, every deal"),
    };
    if !p.filter_text.trim().is_empty() {
        title.push_str(&format!(" · {}", p.filter_text.trim()));
    }
    if let Some(e) = &p.filter_error {
        title.push_str(&format!(" · {e}"));
    }
    title.push_str(&format!(
        " · {}{} · newest first ",
        p.list.rows.len(),
        if p.list.at_end { "" } else { "+" }
    ));
    let member = matches!(scope, Scope::Member { .. });
    let rows = p
        .list
        .rows
        .iter()
        .map(|r| {
            let flag = match r.flag_kind {
                Some(k) => Span::styled(format!("⚑ {k}"), t.error),
                None => Span::raw(""),
            };
            Row::new(vec![
                Span::raw(local(r.redeemed_at)),
                Span::raw(format!("#{} {}", r.member_id, r.member_handle)),
                Span::raw(if member {
                    r.deal_title.clone()
                } else {
                    r.source.clone()
                }),
                Span::raw(r.coupon_code.clone().unwrap_or_default()),
                flag,
            ])
        })
        .collect();
    let table = ListTable {
        title,
        header: Row::new(vec![
            "When",
            "Member",
            if member { "Deal" } else { "Source" },
            "Code",
            "Flag",
        ]),
        widths: vec![
            Constraint::Length(16),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Length(12),
            Constraint::Length(10),
        ],
        empty: if member {
            "no redemptions by this member"
        } else {
            "no redemptions in this time range (/ changes it)"
        },
    };
    draw_list(f, area, sh, &mut pane.list, table, rows);
}

fn monitor(f: &mut Frame, area: Rect, pane: &mut RedemptionsPane, sh: &Shell) {
    let t = &sh.theme;
    let p = &pane.monitor;
    let title = format!(
        " Redemption monitor · {} active deal{}{} · live · {} signals ",
        p.rows.len(),
        if p.rows.len() == 1 { "" } else { "s" },
        if p.at_end { "" } else { "+" },
        sh.keymap.keys_text(Action::Signals),
    );
    let spark_w: u16 = if area.width >= 110 { 60 } else { 20 };
    let rows = p
        .rows
        .iter()
        .map(|r| {
            let used = match r.redemption_cap {
                Some(1) => format!("{} (1/mbr)", r.redemption_count),
                Some(c) => format!("{}/{c}", r.redemption_count),
                None => r.redemption_count.to_string(),
            };
            Row::new(vec![
                Span::raw(r.title.clone()),
                Span::raw(r.partner_name.clone()),
                Span::raw(used),
                Span::styled(sparkline(&r.per_minute, spark_w as usize), t.ok),
            ])
        })
        .collect();
    let table = ListTable {
        title,
        header: Row::new(vec![
            "Deal".to_owned(),
            "Partner".to_owned(),
            "Redemptions".to_owned(),
            format!("last hour ({} min/bar)", 60 / spark_w.max(1) as usize),
        ]),
        widths: vec![
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Length(12),
            Constraint::Length(spark_w),
        ],
        empty: "no active deals",
    };
    draw_list(f, area, sh, &mut pane.monitor, table, rows);
}

fn signals(f: &mut Frame, area: Rect, p: &RedemptionsPane, sh: &Shell) {
    let t = &sh.theme;
    let mut lines: Vec<Line> = Vec::new();
    match &p.signals {
        None => lines.push(Line::from(Span::styled("looking…", t.muted))),
        Some(s) => {
            lines.push(Line::from(Span::styled(
                format!(
                    "One member redeeming in a burst (possible coupon sharing): {}",
                    s.bursts.len()
                ),
                t.header,
            )));
            for b in s.bursts.iter().take(8) {
                lines.push(Line::from(format!(
                    "  member #{} {:<20} {} redemptions between {} and {} · deals {:?}",
                    b.member_id,
                    b.handle,
                    b.redemptions,
                    local(b.first_at),
                    local(b.last_at),
                    b.deals
                )));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                format!(
                    "Cap exhausted soon after publishing (cap too low?): {}",
                    s.quick_caps.len()
                ),
                t.header,
            )));
            for q in s.quick_caps.iter().take(8) {
                let mins = (q.exhausted_at - q.published_at).num_minutes();
                lines.push(Line::from(format!(
                    "  deal #{} {} · cap {} reached {mins} min after publishing",
                    q.deal_id, q.title, q.redemption_cap
                )));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                format!(
                    "Many outbound clicks, few confirmed conversions: {}",
                    s.low_conversions.len()
                ),
                t.header,
            )));
            for c in s.low_conversions.iter().take(8) {
                let confirmed = c
                    .confirmed
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "none entered".into());
                lines.push(Line::from(format!(
                    "  deal #{} {} · {} clicks · confirmed {confirmed}",
                    c.deal_id, c.title, c.clicks
                )));
            }
        }
    }
    let title = format!(
        " Signals{} · {} back to the monitor ",
        if p.signals_req.pending {
            " · refreshing…"
        } else {
            ""
        },
        sh.keymap.keys_text(Action::Signals)
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title, t.title));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
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
