//! The mouse, when the config file turns it on (`mouse = true`): a click on a tab goes there,
//! a click on a row selects it, the wheel moves the selection (or scrolls the help).

use super::App;
use crate::console::action::Action;
use crate::console::msg::Effect;
use crate::console::panes::PaneId;
use crate::console::shell::Overlay;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

/// Rows the wheel moves per notch.
const WHEEL: usize = 3;

impl App {
    pub(super) fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        if self.too_small() || self.form_open() || self.filter_input.is_some() {
            return Vec::new();
        }
        match (&mut self.shell.overlay, m.kind) {
            (Overlay::Help { scroll }, MouseEventKind::ScrollDown) => {
                *scroll = scroll.saturating_add(WHEEL as u16);
                return Vec::new();
            }
            (Overlay::Help { scroll }, MouseEventKind::ScrollUp) => {
                *scroll = scroll.saturating_sub(WHEEL as u16);
                return Vec::new();
            }
            (Overlay::None, _) => {}
            _ => return Vec::new(),
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.repeat(Action::Down, WHEEL),
            MouseEventKind::ScrollUp => self.repeat(Action::Up, WHEEL),
            MouseEventKind::Down(MouseButton::Left) if m.row == 0 => match self.tab_at(m.column) {
                Some(p) => self.perform(tab_action(p)),
                None => Vec::new(),
            },
            MouseEventKind::Down(MouseButton::Left) => self.click_row(m.column, m.row),
            _ => Vec::new(),
        }
    }

    fn repeat(&mut self, a: Action, n: usize) -> Vec<Effect> {
        let mut fx = Vec::new();
        for _ in 0..n {
            fx.extend(self.perform(a));
        }
        fx
    }

    /// The tab drawn at column `x` of the top line (as `screen::chrome::tabs` draws them).
    fn tab_at(&self, x: u16) -> Option<PaneId> {
        let width = self.shell.size.map_or(80, |s| s.0);
        let mut at: u16 = if width >= 96 { 14 } else { 0 };
        for (i, p) in PaneId::ALL.iter().enumerate() {
            let w = format!(" {} {} ", i + 1, p.title()).chars().count() as u16;
            if x >= at && x < at + w {
                return Some(*p);
            }
            at += w;
        }
        None
    }

    /// A click inside the list drawn last selects the row under it.
    fn click_row(&mut self, x: u16, y: u16) -> Vec<Effect> {
        let Some((area, offset)) = self.shell.list_at.get() else {
            return Vec::new();
        };
        // Inside the border, below the header row.
        let first = area.y + 2;
        let last = area.y + area.height.saturating_sub(1);
        if x <= area.x || x >= area.x + area.width.saturating_sub(1) || y < first || y >= last {
            return Vec::new();
        }
        let index = offset + (y - first) as usize;
        let Some(list) = self.panes.get_mut(self.pane).marking() else {
            return Vec::new();
        };
        let (rows, selected) = list.loaded();
        if index >= rows.len() {
            return Vec::new();
        }
        // With the list's own keys, so that paging happens as it does from the keyboard.
        if index > selected {
            self.repeat(Action::Down, index - selected)
        } else {
            self.repeat(Action::Up, selected - index)
        }
    }
}

fn tab_action(p: PaneId) -> Action {
    match p {
        PaneId::Partners => Action::PanePartners,
        PaneId::Deals => Action::PaneDeals,
        PaneId::Redemptions => Action::PaneRedemptions,
        PaneId::Negotiations => Action::PaneNegotiations,
        PaneId::Settlements => Action::PaneSettlements,
        PaneId::Audit => Action::PaneAudit,
    }
}
