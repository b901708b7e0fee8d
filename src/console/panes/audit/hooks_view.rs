//! The webhook view: endpoints above, the selected endpoint's deliveries below; or one
//! delivery with its attempts and the event it sends.

use super::hooks::{Focus, Hooks};
use crate::console::action::Action;
use crate::console::shell::Shell;
use crate::console::view::{ListTable, draw_list_focus, local_fmt, local_secs};
use crate::service::rows::{Delivery, EndpointRow};
use crate::service::webhooks::DeliveryDetail;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Row};

/// Endpoint rows shown at most above the deliveries.
const ENDPOINT_ROWS: u16 = 6;

pub fn draw(h: &mut Hooks, f: &mut Frame, area: Rect, sh: &Shell) {
    if let Some(d) = h.delivery.shown() {
        let (block, lines) = delivery_text(d, &h.payload, sh);
        h.delivery.scroll.draw(f, area, block, lines);
        return;
    }
    let rows = (h.endpoints.rows.len() as u16).clamp(1, ENDPOINT_ROWS);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(rows + 3), Constraint::Fill(1)]).areas(area);
    draw_endpoints(h, f, top, sh);
    draw_deliveries(h, f, bottom, sh);
}

/// "enabled", "failing since 11-28 09:10" ("failing 11-28 09:10" when `narrow`), or
/// "disabled: why".
pub fn endpoint_state(e: &EndpointRow, narrow: bool) -> String {
    let e = &e.endpoint;
    match (&e.enabled, &e.failing_since) {
        (false, _) => format!(
            "disabled: {}",
            e.disabled_reason.as_deref().unwrap_or("no reason kept")
        ),
        (true, Some(t)) => format!(
            "failing {}{}",
            if narrow { "" } else { "since " },
            local_fmt(*t, "%m-%d %H:%M")
        ),
        (true, None) => "enabled".into(),
    }
}

fn draw_endpoints(h: &mut Hooks, f: &mut Frame, area: Rect, sh: &Shell) {
    let narrow = area.width < 100;
    let rows = h
        .endpoints
        .rows
        .iter()
        .map(|r| {
            let e = &r.endpoint;
            Row::new(vec![
                e.id.to_string(),
                e.url.clone(),
                e.event_types
                    .as_ref()
                    .map(|t| t.join(","))
                    .unwrap_or_else(|| "every event".into()),
                endpoint_state(r, narrow),
                r.pending.to_string(),
                r.delivered.to_string(),
                r.failed.to_string(),
            ])
        })
        .collect();
    let n = h.endpoints.rows.len();
    let key = |a: Action| sh.keymap.keys_text_in(a, "audit");
    let table = ListTable {
        title: format!(
            " Webhook endpoints · {n} · {}: its deliveries · {}: the audit log{} ",
            key(Action::Open),
            key(Action::Back),
            if h.endpoints.loading {
                " · loading"
            } else {
                ""
            }
        ),
        header: Row::new(["#", "URL", "Events", "State", "Queued", "Sent", "Failed"]),
        widths: vec![
            Constraint::Length(4),
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Fill(3),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
        ],
        empty: "no webhook endpoint (partnerdesk webhooks add --url URL)",
    };
    let focused = h.focus == Focus::Endpoints;
    draw_list_focus(f, area, sh, &mut h.endpoints, table, rows, focused);
}

/// What the last attempt said: the error, else the HTTP status.
pub fn last_said(d: &Delivery) -> String {
    match (&d.last_error, d.last_status) {
        (Some(e), _) => e.clone(),
        (None, Some(s)) => s.to_string(),
        (None, None) => "—".into(),
    }
}

/// When it was delivered, or when it is tried next.
fn when(d: &Delivery) -> String {
    match (&d.delivered_at, d.status.as_str()) {
        (Some(t), _) => local_fmt(*t, "%m-%d %H:%M:%S"),
        (None, "pending") => format!("next {}", local_fmt(d.next_attempt_at, "%m-%d %H:%M:%S")),
        (None, "delivering") => "sending now".into(),
        _ => "—".into(),
    }
}

fn draw_deliveries(h: &mut Hooks, f: &mut Frame, area: Rect, sh: &Shell) {
    let rows = h
        .deliveries
        .rows
        .iter()
        .map(|d| {
            Row::new(vec![
                d.id.to_string(),
                d.event_id.to_string(),
                d.event_type.clone(),
                d.status.clone(),
                d.attempts.to_string(),
                last_said(d),
                when(d),
            ])
        })
        .collect();
    let of = h
        .endpoint_id
        .map(|id| format!(" to endpoint {id}"))
        .unwrap_or_default();
    let table = ListTable {
        title: format!(
            " Deliveries{of} · {} loaded{} · {}: attempts and event ",
            h.deliveries.rows.len(),
            if h.deliveries.at_end {
                ""
            } else {
                ", more below"
            },
            sh.keymap.keys_text_in(Action::Open, "audit")
        ),
        header: Row::new([
            "ID",
            "Event",
            "Type",
            "Status",
            "Tries",
            "Last",
            "Sent / next",
        ]),
        widths: vec![
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Fill(2),
            Constraint::Length(10),
            Constraint::Length(5),
            Constraint::Fill(1),
            Constraint::Length(19),
        ],
        empty: if h.endpoint_id.is_some() {
            "nothing sent to this endpoint yet"
        } else {
            ""
        },
    };
    let focused = h.focus == Focus::Deliveries;
    draw_list_focus(f, area, sh, &mut h.deliveries, table, rows, focused);
}

/// The open delivery: its box and its lines (drawn by the detail's shared scroll, which keeps
/// it within the text and says where it is).
fn delivery_text(
    d: &DeliveryDetail,
    payload: &str,
    sh: &Shell,
) -> (Block<'static>, Vec<Line<'static>>) {
    let t = &sh.theme;
    let v = &d.delivery;
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<10}"), t.label),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        field(
            "event",
            format!(
                "{} · {} · {} {} · written {}",
                v.event_id,
                v.event_type,
                d.event.entity_type,
                d.event.entity_id,
                local_secs(d.event.at)
            ),
        ),
        field("endpoint", v.endpoint_id.to_string()),
        field(
            "status",
            format!(
                "{} after {} attempt{} · {}",
                v.status,
                v.attempts,
                if v.attempts == 1 { "" } else { "s" },
                when(v)
            ),
        ),
        Line::from(Span::styled("attempts", t.header)),
    ];
    if d.attempts.is_empty() {
        lines.push(Line::from(Span::styled("  none yet", t.muted)));
    }
    for (i, a) in d.attempts.iter().enumerate() {
        let status = a
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "no answer".into());
        let ms = a.duration_ms.map(|m| format!("{m} ms")).unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("  {:>2}. ", i + 1), t.label),
            Span::raw(format!(
                "{}  {status:<9} {ms:>8}  {}",
                local_secs(a.at),
                a.error.as_deref().unwrap_or("")
            )),
        ]));
    }
    lines.push(Line::from(Span::styled("event payload", t.header)));
    lines.extend(payload.lines().map(|l| Line::from(format!("  {l}"))));
    let key = |a: Action| sh.keymap.keys_text_in(a, "audit");
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(
            format!(
                " Delivery {} · {} sends it again · {} sends the event again · {} scroll · {} back ",
                v.id,
                key(Action::ReplayDelivery),
                key(Action::ReplayEvent),
                key(Action::Down),
                key(Action::Back)
            ),
            t.title,
        ));
    (block, lines)
}
