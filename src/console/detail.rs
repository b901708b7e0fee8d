//! The detail view of a list's record, the same for every pane: whether it is open, what was
//! loaded for it, the newest request (older answers are dropped), and how far it is scrolled.

use super::action::Action;
use super::shell::{Latest, Shell};
use super::tag::Gen;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

pub struct Detail<T> {
    pub open: bool,
    pub data: Option<T>,
    pub req: Latest,
    /// Where the detail's long box is scrolled to.
    pub scroll: Scroll,
}

impl<T> Default for Detail<T> {
    fn default() -> Self {
        Self {
            open: false,
            data: None,
            req: Latest::default(),
            scroll: Scroll::default(),
        }
    }
}

impl<T> Detail<T> {
    /// Opens the detail of another record: it starts at its top.
    pub fn open_new(&mut self) {
        self.open = true;
        self.scroll = Scroll::default();
    }

    /// Starts loading the record; returns the request's tag.
    pub fn begin(&mut self, sh: &mut Shell) -> Gen {
        self.req.begin(sh)
    }

    /// Takes an answer; `false` when it was stale and is dropped.
    pub fn accept(&mut self, tag: Gen) -> bool {
        self.req.accept(tag)
    }

    /// A load is on its way.
    pub fn loading(&self) -> bool {
        self.req.pending
    }

    /// What the open detail shows.
    pub fn shown(&self) -> Option<&T> {
        if self.open { self.data.as_ref() } else { None }
    }

    /// The list keys scroll the open detail: `true` when `a` was one of them.
    pub fn navigate(&mut self, a: Action) -> bool {
        self.open && self.scroll.navigate(a)
    }
}

/// How far a box of text that can outgrow its area is scrolled: moved by the list keys (`j`
/// `k`, `Ctrl-d` `Ctrl-u`, `PgDn` `PgUp`, `g` `G`, the arrows), kept within the text when drawn,
/// and shown on the box's border (`12–30 of 58`) whenever the text does not fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    /// The first line shown (0-based, of the wrapped lines).
    pub top: u16,
    /// The lines of room at the last draw (a page).
    room: u16,
}

impl Scroll {
    /// Moves for a list key; `false` (nothing moved) when `a` is not one.
    pub fn navigate(&mut self, a: Action) -> bool {
        let page = self.room.saturating_sub(1).max(1);
        self.top = match a {
            Action::Down => self.top.saturating_add(1),
            Action::Up => self.top.saturating_sub(1),
            Action::PageDown => self.top.saturating_add(page),
            Action::PageUp => self.top.saturating_sub(page),
            Action::Top => 0,
            // Kept within the text when drawn.
            Action::Bottom => u16::MAX,
            _ => return false,
        };
        true
    }

    /// Draws `lines` wrapped in `block` from the scroll position (kept within the text); when
    /// they do not fit, the border says which lines are shown: ` 12–30 of 58 `.
    pub fn draw(&mut self, f: &mut Frame, area: Rect, block: Block<'_>, lines: Vec<Line<'_>>) {
        let text = Paragraph::new(lines).wrap(Wrap { trim: false });
        let room = area.height.saturating_sub(2);
        let total = text.line_count(area.width.saturating_sub(2));
        let most = total.saturating_sub(room as usize);
        self.room = room;
        self.top = self.top.min(u16::try_from(most).unwrap_or(u16::MAX));
        let block = match position(self.top as usize, room as usize, total) {
            Some(at) => block.title_bottom(Line::from(format!(" {at} ")).right_aligned()),
            None => block,
        };
        f.render_widget(text.block(block).scroll((self.top, 0)), area);
    }
}

/// `12–30 of 58` (1-based, inclusive), or `None` when all `total` lines fit in `room`.
pub fn position(top: usize, room: usize, total: usize) -> Option<String> {
    if total <= room {
        return None;
    }
    let last = (top + room).min(total);
    Some(format!("{}–{last} of {total}", top + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_position_names_the_lines_shown() {
        assert_eq!(position(0, 20, 10), None);
        assert_eq!(position(0, 19, 58).as_deref(), Some("1–19 of 58"));
        assert_eq!(position(11, 19, 58).as_deref(), Some("12–30 of 58"));
        assert_eq!(position(39, 19, 58).as_deref(), Some("40–58 of 58"));
    }

    #[test]
    fn the_list_keys_move_it_and_others_do_not() {
        let mut s = Scroll { top: 0, room: 11 };
        assert!(s.navigate(Action::Down));
        assert_eq!(s.top, 1);
        assert!(s.navigate(Action::PageDown));
        assert_eq!(s.top, 11);
        assert!(s.navigate(Action::Bottom));
        assert_eq!(s.top, u16::MAX);
        assert!(s.navigate(Action::Top));
        assert_eq!(s.top, 0);
        assert!(!s.navigate(Action::Open));
    }
}
