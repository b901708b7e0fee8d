//! The Redemptions pane: the live monitor and a deal's or a member's redemptions (the
//! signals draw in `signals.rs`).

use super::list::range_label;
use super::{RedemptionsPane, Scope, View};
use crate::console::action::Action;
use crate::console::pane::Pane;
use crate::console::shell::Shell;
use crate::console::view::columns::{Col, cut};
use crate::console::view::registry::{Column, On, shown, table};
use crate::console::view::{ListTable, column_widths, draw_list, local_secs, need};
use crate::service::rows::RedemptionRow;
use ratatui::Frame;
use ratatui::layout::Layout;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Gauge, Row};

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
                "exporting to {} (oldest first) · {} of {} rows · {} cancels",
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
        View::Signals => super::signals::draw(f, area, p, sh),
        View::List(scope) => list(f, area, p, sh, &scope),
    }
}

/// The redemption list's columns (a deal's or a member's: the source or the deal stands in the
/// fourth place). Ids, times, values and flags are never cut; the code gives way first, then
/// the deal or source, then the member. (`x` here writes its own export, not these columns.)
pub const COLUMNS: &[Column<RedemptionRow>] = &[
    Column::new("id", Col::num("Id"), On::Always, |r| format!("#{}", r.id)),
    Column::new("when", Col::keep("When"), On::Always, |r| {
        local_secs(r.redeemed_at)
    }),
    Column::new("member", Col::text("Member", 3), On::Always, |r| {
        format!("#{} {}", r.member_id, r.member_handle)
    }),
    Column::new("deal", Col::text("Deal", 2), On::Always, |r| {
        format!("#{} {}", r.deal_id, r.deal_title)
    }),
    Column::new("source", Col::text("Source", 2), On::Always, |r| {
        r.source.clone()
    }),
    Column::new("code", Col::text("Code", 1), On::Always, |r| {
        r.coupon_code.clone().unwrap_or_default()
    }),
    Column::new("value", Col::num("Value"), On::Always, |r| r.value_text()),
    Column::new(
        "flag",
        Col::keep("Flag"),
        On::Always,
        |r: &RedemptionRow| match r.flag_kind {
            Some(k) => format!("⚑ {k}"),
            None => String::new(),
        },
    )
    .painted(|r, t| {
        if r.flag_kind.is_some() {
            t.error
        } else {
            Style::default()
        }
    }),
    Column::new("flag_note", Col::text("Note", 0), On::Chosen, |r| {
        r.flag_note.clone().unwrap_or_default()
    }),
    Column::new("refunded", Col::keep("Refunded"), On::Chosen, |r| {
        r.refunded_at.map(local_secs).unwrap_or_default()
    }),
];

fn list(f: &mut Frame, area: Rect, pane: &mut RedemptionsPane, sh: &Shell, scope: &Scope) {
    let p = &*pane;
    // What changes comes first, the deal's title last (cut first when the line is short).
    let (mut title, tail) = match scope {
        Scope::Deal { id, title, .. } => (format!(" Redemptions of deal #{id}"), title.clone()),
        Scope::Member { id, handle, .. } => (
            format!(" History of member #{id} {handle}"),
            "every deal".to_owned(),
        ),
    };
    // The title names the range the rows are in (not the text being typed).
    if let Some(range) = range_label(&scope.range()) {
        title.push_str(&format!(" · {range}"));
    }
    // What did not read is said in full beside the filter and inside the table.
    if p.filter_error.is_some() {
        title.push_str(&format!(" · filter “{}” not read", p.filter_text.trim()));
    }
    title.push_str(&format!(
        " · {}{} · newest first · {tail} ",
        p.list.rows.len(),
        if p.list.at_end { "" } else { "+" }
    ));
    let member = matches!(scope, Scope::Member { .. });
    let chosen = sh.columns.get(RedemptionsPane::KEY);
    let choosing = chosen.is_some_and(|c| c.show.is_some());
    // Unless the config file chooses, a deal's list shows the source, a member's the deal.
    let other = if member { "source" } else { "deal" };
    let cols: Vec<_> = shown(COLUMNS, chosen, area.width)
        .into_iter()
        .filter(|c| choosing || c.key != other)
        .collect();
    let (header, rows, widths) = table(area.width, &cols, &p.list.rows, &sh.theme, chosen);
    let empty = match (&p.filter_error, member, scope.range()) {
        (Some(e), _, _) => format!("nothing shown: {e} (/ fixes it)"),
        (None, true, (None, None)) => "no redemptions by this member".into(),
        (None, true, _) => "no redemptions by this member in this time range (/ changes it)".into(),
        (None, false, (None, None)) => "no redemptions of this deal yet".into(),
        (None, false, _) => "no redemptions in this time range (/ changes it)".into(),
    };
    let table = ListTable {
        title,
        header,
        widths,
        empty: &empty,
    };
    draw_list(f, area, sh, &mut pane.list, table, rows);
}

fn monitor(f: &mut Frame, area: Rect, pane: &mut RedemptionsPane, sh: &Shell) {
    let t = &sh.theme;
    let p = &pane.monitor;
    let find = pane.find.trim();
    let title = format!(
        " Redemption monitor · {} active deal{}{}{} · sort {} · live · {} signals ",
        p.rows.len(),
        if p.rows.len() == 1 { "" } else { "s" },
        if p.at_end { "" } else { "+" },
        if find.is_empty() {
            String::new()
        } else {
            format!(" matching “{find}”")
        },
        pane.sort.label(),
        sh.keymap.keys_text(Action::Signals),
    );
    // The titles and partners get the width they need first; the last hour gets the rest, at
    // the widest bar count that divides the hour evenly.
    let needs = [
        need("Deal", p.rows.iter().map(|r| r.title.as_str())),
        need("Partner", p.rows.iter().map(|r| r.partner_name.as_str())),
    ];
    let ids: Vec<String> = p.rows.iter().map(|r| r.id.to_string()).collect();
    let id_w = need("Id", ids.iter().map(String::as_str)) as u16;
    let text_room = |spark: u16| area.width.saturating_sub(2 + id_w + 1 + 14 + spark + 3) as usize;
    let spark_w: u16 = [60, 30, 20, 15, 12]
        .into_iter()
        .find(|w| needs.iter().map(|n| n + 1).sum::<usize>() <= text_room(*w))
        .unwrap_or(12);
    let mut widths = column_widths(
        area.width,
        &[Err(id_w), Ok(0), Ok(1), Err(14), Err(spark_w)],
        &needs,
    );
    // A title or a name cut to its column ends in ….
    let room = |c: Constraint| match c {
        Constraint::Length(n) => n as usize,
        _ => usize::MAX,
    };
    let (title_w, partner_w) = (room(widths[1]), room(widths[2]));
    if needs.iter().map(|n| n + 1).sum::<usize>() <= text_room(spark_w) {
        // What is left over widens the titles, so the last hour ends at the right edge.
        widths[1] = Constraint::Fill(1);
    }
    let rows = p
        .rows
        .iter()
        .zip(ids)
        .map(|(r, id)| {
            let used = match r.redemption_cap {
                Some(1) => format!("{} (1/member)", r.redemption_count),
                Some(c) => format!("{}/{c}", r.redemption_count),
                None => r.redemption_count.to_string(),
            };
            Row::new(vec![
                Line::from(id).right_aligned(),
                Line::from(cut(&r.title, title_w)),
                Line::from(cut(&r.partner_name, partner_w)),
                Line::from(used),
                Line::styled(sparkline(&r.per_minute, spark_w as usize), t.ok),
            ])
        })
        .collect();
    let empty = if find.is_empty() {
        "no active deals".to_owned()
    } else {
        format!("no active deal has “{find}” in its title or partner (/ changes it)")
    };
    let table = ListTable {
        title,
        header: Row::new(vec![
            Line::from("Id").right_aligned(),
            "Deal".into(),
            "Partner".into(),
            "Redemptions".into(),
            if spark_w >= 21 {
                format!("last hour ({} min/bar)", 60 / spark_w.max(1) as usize).into()
            } else {
                format!("{} min/bar", 60 / spark_w.max(1) as usize).into()
            },
        ]),
        widths,
        empty: &empty,
    };
    draw_list(f, area, sh, &mut pane.monitor, table, rows);
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
