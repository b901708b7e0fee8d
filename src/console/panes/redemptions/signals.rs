//! The signals worth a look, with a cursor: Enter on a burst opens the member's history, on a
//! quick cap or a low conversion the deal's redemptions.

use super::{Effect, RedemptionsPane, Scope, View};
use crate::console::action::Action;
use crate::console::msg::Effect as AppEffect;
use crate::console::pane::fx;
use crate::console::shell::{Latest, Shell};
use crate::console::view::local;
use crate::service::monitor::Signals;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// The signals as loaded, and the one selected.
#[derive(Debug, Default)]
pub struct SignalsView {
    pub data: Option<Signals>,
    pub req: Latest,
    /// Index into [`SignalsView::targets`].
    pub selected: usize,
    /// Lines visible on screen (set by the view), for paging keys.
    pub visible: usize,
}

impl SignalsView {
    /// What Enter opens for each signal, in the order they are listed.
    pub fn targets(&self) -> Vec<Scope> {
        let Some(s) = &self.data else {
            return Vec::new();
        };
        let deal = |id: i64, title: &str| Scope::Deal {
            id,
            title: title.to_owned(),
            from: None,
            to: None,
        };
        let members = s.bursts.iter().map(|b| Scope::Member {
            id: b.member_id,
            handle: b.handle.clone(),
            from: None,
            to: None,
        });
        let caps = s.quick_caps.iter().map(|q| deal(q.deal_id, &q.title));
        let convs = s.low_conversions.iter().map(|c| deal(c.deal_id, &c.title));
        members.chain(caps).chain(convs).collect()
    }

    /// Moves the cursor; `true` when the action was a movement.
    fn navigate(&mut self, a: Action) -> bool {
        let last = self.targets().len().saturating_sub(1);
        let page = self.visible.max(5);
        self.selected = match a {
            Action::Down => self.selected + 1,
            Action::Up => self.selected.saturating_sub(1),
            Action::PageDown => self.selected + page,
            Action::PageUp => self.selected.saturating_sub(page),
            Action::Top => 0,
            Action::Bottom => last,
            _ => return false,
        }
        .min(last);
        true
    }
}

impl RedemptionsPane {
    pub(super) fn load_signals(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let tag = self.signals.req.begin(sh);
        fx(Effect::Signals { tag })
    }

    pub(super) fn signals_loaded(&mut self, s: Signals) {
        self.signals.data = Some(s);
        let n = self.signals.targets().len();
        self.signals.selected = self.signals.selected.min(n.saturating_sub(1));
    }

    pub(super) fn perform_signals(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if self.signals.navigate(a) {
            return Vec::new();
        }
        match a {
            Action::Refresh => self.load_signals(sh),
            Action::Signals | Action::Back => {
                self.view = View::Monitor;
                Vec::new()
            }
            Action::Open => match self
                .signals
                .targets()
                .into_iter()
                .nth(self.signals.selected)
            {
                Some(scope) => self.enter(sh, scope, String::new()),
                None => Vec::new(),
            },
            Action::Copy => match self
                .signals
                .targets()
                .into_iter()
                .nth(self.signals.selected)
            {
                Some(Scope::Deal { id, .. }) => vec![AppEffect::copy_id("deal", id)],
                Some(Scope::Member { id, .. }) => vec![AppEffect::copy_id("member", id)],
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

pub fn draw(f: &mut Frame, area: Rect, p: &mut RedemptionsPane, sh: &Shell) {
    let t = &sh.theme;
    let mut lines: Vec<Line> = Vec::new();
    // The line of each selectable signal, in order.
    let mut at: Vec<usize> = Vec::new();
    let sel = p.signals.selected;
    let mut item = |lines: &mut Vec<Line>, text: String| {
        let style = if at.len() == sel {
            t.selected
        } else {
            ratatui::style::Style::default()
        };
        at.push(lines.len());
        lines.push(Line::from(Span::styled(text, style)));
    };
    match &p.signals.data {
        None => lines.push(Line::from(Span::styled("looking…", t.muted))),
        Some(s) => {
            let heading = |text: String| Line::from(Span::styled(text, t.header));
            lines.push(heading(format!(
                "One member redeeming in a burst (possible coupon sharing): {}",
                s.bursts.len()
            )));
            for b in &s.bursts {
                let deals: Vec<String> = b.deals.iter().map(|d| format!("#{d}")).collect();
                item(
                    &mut lines,
                    format!(
                        "  member #{} {:<16} {} redemptions between {} and {} · deals {}",
                        b.member_id,
                        b.handle,
                        b.redemptions,
                        local(b.first_at),
                        local(b.last_at),
                        deals.join(" ")
                    ),
                );
            }
            lines.push(Line::from(""));
            lines.push(heading(format!(
                "Cap exhausted soon after publishing (cap too low?): {}",
                s.quick_caps.len()
            )));
            for q in &s.quick_caps {
                let mins = (q.exhausted_at - q.published_at).num_minutes();
                item(
                    &mut lines,
                    format!(
                        "  deal #{} {} · cap {} reached {mins} min after publishing",
                        q.deal_id, q.title, q.redemption_cap
                    ),
                );
            }
            lines.push(Line::from(""));
            lines.push(heading(format!(
                "Many outbound clicks, few confirmed conversions: {}",
                s.low_conversions.len()
            )));
            for c in &s.low_conversions {
                let confirmed = c
                    .confirmed
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "none entered".into());
                item(
                    &mut lines,
                    format!(
                        "  deal #{} {} · {} clicks · confirmed {confirmed}",
                        c.deal_id, c.title, c.clicks
                    ),
                );
            }
        }
    }
    let inner = usize::from(area.height.saturating_sub(2));
    p.signals.visible = inner;
    // Keep the selected signal on screen.
    let line = at.get(sel).copied().unwrap_or(0);
    let scroll = (line + 1).saturating_sub(inner);
    let title = format!(
        " Signals{} · {} opens · {} back to the monitor ",
        if p.signals.req.pending {
            " · refreshing…"
        } else {
            ""
        },
        sh.keymap.keys_text(Action::Open),
        sh.keymap.keys_text(Action::Signals)
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title, t.title));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll as u16, 0)),
        area,
    );
}
