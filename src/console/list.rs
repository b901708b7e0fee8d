//! A keyset-paged list window shared by every list of every pane: it holds at most `WINDOW`
//! rows, asks for the next page when the selection nears an edge, and drops the far end as you
//! scroll, so a list is never loaded whole whatever the table's size. Lists whose query only
//! reads forwards (newest first, before a cursor) keep what they loaded and page on downwards.

use super::shell::Shell;
use super::tag::{Gen, LoadMode};
use crate::service::rows::{AuditEntry, DealListRow, MonitorRow, PartnerListRow, RedemptionRow};
use chrono::{DateTime, Utc};

/// Rows per page loaded from the database.
pub const PAGE: i64 = 100;
/// At most this many rows are held.
pub const WINDOW: usize = 400;
/// Load the next page when the selection is this close to the edge.
const MARGIN: usize = 20;

/// A row of a keyset-paged list: its id and the cursor the next page continues after.
pub trait ListRow {
    type Cursor: Clone;
    fn id(&self) -> i64;
    fn cursor(&self) -> Self::Cursor;
    /// The record's version as loaded, when it has one: a bulk action on a marked row is
    /// refused when the record changed since (`None`: no version check).
    fn version(&self) -> Option<i32> {
        None
    }
}

/// A marked row: its id and the version it had when it was marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marked {
    pub id: i64,
    pub version: Option<i32>,
}

/// A list's marks (`Space`, `V`, `Ctrl-a`): kept by id, so that they survive paging, a new
/// sort or filter, and a reload; a bulk action runs on them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    ids: std::collections::BTreeMap<i64, Option<i32>>,
    /// The last row marked one at a time: `V` marks from there.
    anchor: Option<i64>,
}

impl Marks {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn contains(&self, id: i64) -> bool {
        self.ids.contains_key(&id)
    }

    /// Marks or unmarks a row; `true` when it is marked now.
    pub fn toggle(&mut self, row: Marked) -> bool {
        self.anchor = Some(row.id);
        if self.ids.remove(&row.id).is_some() {
            false
        } else {
            self.ids.insert(row.id, row.version);
            true
        }
    }

    pub fn mark(&mut self, row: Marked) {
        self.ids.insert(row.id, row.version);
    }

    /// Replaces the marks by `rows` (every row a filter matches).
    pub fn set_all(&mut self, rows: impl IntoIterator<Item = Marked>) {
        self.ids = rows.into_iter().map(|r| (r.id, r.version)).collect();
        self.anchor = None;
    }

    pub fn clear(&mut self) {
        self.ids.clear();
        self.anchor = None;
    }

    pub fn anchor(&self) -> Option<i64> {
        self.anchor
    }

    /// Unmarks these (done by a bulk action); the others stay marked.
    pub fn unmark(&mut self, ids: &[i64]) {
        for id in ids {
            self.ids.remove(id);
        }
    }

    /// The marked rows, by id.
    pub fn rows(&self) -> Vec<Marked> {
        self.ids
            .iter()
            .map(|(id, version)| Marked {
                id: *id,
                version: *version,
            })
            .collect()
    }
}

/// A list that can be marked: what the app needs to mark rows on any pane (the pane says which
/// list, if any, the keys move in).
pub trait Markable {
    fn marks(&self) -> &Marks;
    fn marks_mut(&mut self) -> &mut Marks;
    /// The loaded rows in display order, and the selected one's index.
    fn loaded(&self) -> (Vec<Marked>, usize);
    /// Marked rows that are not among the loaded rows (hidden by the filter, or not loaded).
    fn not_shown(&self) -> usize {
        let (rows, _) = self.loaded();
        let marks = self.marks();
        let shown: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.id).collect();
        marks
            .len()
            .saturating_sub(shown.iter().filter(|id| marks.contains(**id)).count())
    }
}

impl<R: ListRow> Markable for KeysetList<R> {
    fn marks(&self) -> &Marks {
        &self.marks
    }
    fn marks_mut(&mut self) -> &mut Marks {
        &mut self.marks
    }
    fn loaded(&self) -> (Vec<Marked>, usize) {
        let rows = self
            .rows
            .iter()
            .map(|r| Marked {
                id: r.id(),
                version: r.version(),
            })
            .collect();
        (rows, self.selected)
    }
}

/// `Space`: marks or unmarks the selected row. `V`: marks every loaded row from the last row
/// marked to the selected one (or the selected one alone when that row is not loaded).
pub fn mark_selected(list: &mut dyn Markable, range: bool) -> bool {
    let (rows, selected) = list.loaded();
    let Some(row) = rows.get(selected).copied() else {
        return false;
    };
    if !range {
        list.marks_mut().toggle(row);
        return true;
    }
    let from = list
        .marks()
        .anchor()
        .and_then(|a| rows.iter().position(|r| r.id == a))
        .unwrap_or(selected);
    let (lo, hi) = (from.min(selected), from.max(selected));
    for r in &rows[lo..=hi] {
        list.marks_mut().mark(*r);
    }
    true
}

impl ListRow for PartnerListRow {
    type Cursor = (String, i64);
    fn id(&self) -> i64 {
        self.id
    }
    fn cursor(&self) -> Self::Cursor {
        (self.sort_key.clone(), self.id)
    }
    fn version(&self) -> Option<i32> {
        Some(self.version)
    }
}

impl ListRow for DealListRow {
    type Cursor = (String, i64);
    fn id(&self) -> i64 {
        self.id
    }
    fn cursor(&self) -> Self::Cursor {
        (self.sort_key.clone(), self.id)
    }
    fn version(&self) -> Option<i32> {
        Some(self.version)
    }
}

impl ListRow for MonitorRow {
    type Cursor = i64;
    fn id(&self) -> i64 {
        self.id
    }
    fn cursor(&self) -> i64 {
        self.id
    }
}

impl ListRow for RedemptionRow {
    type Cursor = (DateTime<Utc>, i64);
    fn id(&self) -> i64 {
        self.id
    }
    fn cursor(&self) -> Self::Cursor {
        RedemptionRow::cursor(self)
    }
}

impl ListRow for AuditEntry {
    type Cursor = i64;
    fn id(&self) -> i64 {
        self.id
    }
    fn cursor(&self) -> i64 {
        self.id
    }
}

/// A list's `/` filter: the text as typed, the query it last read as, and what in the text did
/// not read (shown beside it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter<Q> {
    pub text: String,
    pub query: Q,
    pub error: Option<String>,
}

impl<Q> ListFilter<Q> {
    /// New text, read by `parse` (which may start from the query in force: a sort it keeps).
    /// When it reads, the query is replaced and the error cleared: `true`, ask the server
    /// again. Otherwise the error is kept beside the text and the last query stays: `false`.
    pub fn set(&mut self, text: &str, parse: impl FnOnce(&str, &Q) -> Result<Q, String>) -> bool {
        self.text = text.to_owned();
        match parse(text, &self.query) {
            Ok(q) => {
                self.query = q;
                self.error = None;
                true
            }
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }
}

/// Reads the words of a `/` filter: each `key:value` word goes to `key`, which answers
/// `Some(Ok(()))` when it took it, `Some(Err(why))` when it refused it, and `None` when the
/// word is no key of this list (it is then a free word). Returns the free words joined, if
/// any.
pub fn filter_words<'a>(
    text: &'a str,
    mut key: impl FnMut(&'a str, &'a str) -> Option<Result<(), String>>,
) -> Result<Option<String>, String> {
    let mut words = Vec::new();
    for word in text.split_whitespace() {
        let taken = match word.split_once(':') {
            Some((k, v)) => key(k, v),
            None => None,
        };
        match taken {
            Some(r) => r?,
            None => words.push(word),
        }
    }
    Ok((!words.is_empty()).then(|| words.join(" ")))
}

/// The cursor and direction of a page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<C> {
    /// Continue after this cursor.
    pub after: Option<C>,
    /// Run the sort backwards (the answer is reversed back into display order).
    pub flip: bool,
}

pub struct KeysetList<R> {
    pub rows: Vec<R>,
    pub selected: usize,
    /// The newest request; answers to older ones are dropped.
    pub tag: Gen,
    pub loading: bool,
    pub at_start: bool,
    pub at_end: bool,
    pub loaded_once: bool,
    /// Rows visible on screen (set by the view), for paging keys.
    pub visible_rows: usize,
    /// The query reads forwards only: rows are kept as they load, `G` goes to the last row
    /// loaded, and nothing is ever asked backwards.
    pub forward_only: bool,
    /// Rows of this list changed elsewhere while it was scrolled away from the top.
    pub stale: bool,
    /// The marked rows (a bulk action's rows).
    pub marks: Marks,
}

impl<R> Default for KeysetList<R> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            selected: 0,
            tag: 0,
            loading: false,
            at_start: false,
            at_end: false,
            loaded_once: false,
            visible_rows: 0,
            forward_only: false,
            stale: false,
            marks: Marks::default(),
        }
    }
}

impl<R> KeysetList<R> {
    /// A list whose query reads forwards only (newest first, before a cursor).
    pub fn forward_only() -> Self {
        Self {
            forward_only: true,
            ..Self::default()
        }
    }

    /// Empties the list (another scope is about to load).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.selected = 0;
        self.at_start = false;
        self.at_end = false;
        self.loaded_once = false;
    }

    /// Nothing to show yet, nothing on its way, and it was loaded: the empty state.
    pub fn is_empty_loaded(&self) -> bool {
        self.rows.is_empty() && self.loaded_once && !self.loading
    }
}

/// A page as the query returned it, in display order: pages read backwards (`Prepend`,
/// `Last`) come back reversed.
pub fn in_display_order<R, E>(mode: LoadMode, mut page: Result<Vec<R>, E>) -> Result<Vec<R>, E> {
    if matches!(mode, LoadMode::Prepend | LoadMode::Last)
        && let Ok(rows) = &mut page
    {
        rows.reverse();
    }
    page
}

impl<R: ListRow> KeysetList<R> {
    pub fn selected_row(&self) -> Option<&R> {
        self.rows.get(self.selected)
    }

    /// Its rows changed in the database: reload the first page when the window is at the top
    /// (the selection stays where it was), else mark the list as changed (`r` reloads).
    /// Returns whether to reload now.
    pub fn changed(&mut self) -> bool {
        if !self.loaded_once {
            return false;
        }
        if self.at_start && self.selected < PAGE as usize {
            true
        } else {
            self.stale = true;
            false
        }
    }

    /// Starts a page request under a new tag: the tag and the cursor to continue after.
    pub fn request(&mut self, sh: &mut Shell, mode: LoadMode) -> (Gen, PageRequest<R::Cursor>) {
        let tag = sh.next_tag();
        (tag, self.begin(tag, mode))
    }

    /// Takes a page: a stale one is dropped, a failure is told.
    pub fn receive<E: std::fmt::Display>(
        &mut self,
        sh: &mut Shell,
        tag: Gen,
        mode: LoadMode,
        page: Result<Vec<R>, E>,
    ) {
        if !self.accept(tag) {
            return; // a newer request is on its way
        }
        match page {
            Ok(rows) => self.merge(mode, rows),
            Err(e) => sh.toast_error(e.to_string()),
        }
    }

    /// Starts a page request tagged `tag`.
    pub fn begin(&mut self, tag: Gen, mode: LoadMode) -> PageRequest<R::Cursor> {
        self.tag = tag;
        self.loading = true;
        let cursor = |r: &R| r.cursor();
        if matches!(mode, LoadMode::Replace | LoadMode::Last) {
            self.stale = false;
        }
        match mode {
            LoadMode::Replace => PageRequest {
                after: None,
                flip: false,
            },
            LoadMode::Append => PageRequest {
                after: self.rows.last().map(cursor),
                flip: false,
            },
            LoadMode::Prepend => PageRequest {
                after: self.rows.first().map(cursor),
                flip: true,
            },
            LoadMode::Last => PageRequest {
                after: None,
                flip: true,
            },
        }
    }

    /// Takes an answer; `false` when it was stale and dropped.
    pub fn accept(&mut self, tag: Gen) -> bool {
        if tag != self.tag {
            return false;
        }
        self.loading = false;
        true
    }

    /// Joins a page (already in display order) to the window.
    pub fn merge(&mut self, mode: LoadMode, rows: Vec<R>) {
        let full = rows.len() as i64 >= PAGE;
        let keep_id = self.selected_row().map(|r| r.id());
        match mode {
            LoadMode::Replace => {
                self.rows = rows;
                self.at_start = true;
                self.at_end = !full;
                self.selected = self.selected.min(self.rows.len().saturating_sub(1));
            }
            LoadMode::Last => {
                self.rows = rows;
                self.at_end = true;
                self.at_start = !full;
                self.selected = self.rows.len().saturating_sub(1);
            }
            LoadMode::Append => {
                self.at_end = !full;
                self.rows.extend(rows);
                if self.rows.len() > WINDOW && !self.forward_only {
                    let drop = self.rows.len() - WINDOW;
                    self.rows.drain(..drop);
                    self.selected = self.selected.saturating_sub(drop);
                    self.at_start = false;
                }
            }
            LoadMode::Prepend => {
                self.at_start = !full;
                let added = rows.len();
                let mut new_rows = rows;
                new_rows.append(&mut self.rows);
                self.rows = new_rows;
                self.selected += added;
                if self.rows.len() > WINDOW {
                    self.rows.truncate(WINDOW);
                    self.at_end = false;
                }
            }
        }
        if matches!(mode, LoadMode::Append | LoadMode::Prepend)
            && let Some(id) = keep_id
            && let Some(i) = self.rows.iter().position(|r| r.id() == id)
        {
            self.selected = i;
        }
        self.loaded_once = true;
    }

    /// Moves the selection; returns the page to load when it nears an edge.
    pub fn move_to(&mut self, index: usize) -> Option<LoadMode> {
        if self.rows.is_empty() {
            return None;
        }
        self.selected = index.min(self.rows.len() - 1);
        if self.loading {
            None
        } else if !self.at_end && self.selected + MARGIN >= self.rows.len() {
            Some(LoadMode::Append)
        } else if !self.at_start && self.selected < MARGIN {
            Some(LoadMode::Prepend)
        } else {
            None
        }
    }

    /// The list movement actions; returns the page to load, if any.
    pub fn navigate(&mut self, a: super::action::Action) -> Option<LoadMode> {
        use super::action::Action;
        let page = self.visible_rows.max(5);
        let sel = self.selected;
        match a {
            Action::Down => self.move_to(sel + 1),
            Action::Up => self.move_to(sel.saturating_sub(1)),
            Action::PageDown => self.move_to(sel + page),
            Action::PageUp => self.move_to(sel.saturating_sub(page)),
            Action::Top if self.at_start => self.move_to(0),
            Action::Top => {
                self.selected = 0;
                Some(LoadMode::Replace)
            }
            Action::Bottom if self.at_end || self.forward_only => self.move_to(usize::MAX),
            Action::Bottom => Some(LoadMode::Last),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct R(i64);
    impl ListRow for R {
        type Cursor = i64;
        fn id(&self) -> i64 {
            self.0
        }
        fn cursor(&self) -> i64 {
            self.0
        }
    }

    fn page(from: i64) -> Vec<R> {
        (from..from + PAGE).map(R).collect()
    }

    #[test]
    fn marks_toggle_range_from_the_last_mark_and_count_what_is_not_shown() {
        let mut l = KeysetList::<R>::default();
        l.merge(LoadMode::Replace, (1..=10).map(R).collect());
        l.selected = 2;
        assert!(mark_selected(&mut l, false));
        l.selected = 5;
        assert!(mark_selected(&mut l, true));
        let ids: Vec<i64> = l.marks.rows().iter().map(|m| m.id).collect();
        assert_eq!(ids, vec![3, 4, 5, 6]);
        // Space on a marked row unmarks it.
        l.selected = 3;
        mark_selected(&mut l, false);
        assert_eq!(l.marks.len(), 3);
        // Marks outside the loaded rows are counted as not shown, a row loaded twice once.
        l.marks.mark(Marked {
            id: 99,
            version: None,
        });
        l.rows.push(R(3));
        assert_eq!(l.not_shown(), 1);
        l.marks.unmark(&[3, 99]);
        assert_eq!(
            l.marks.rows().iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![5, 6]
        );
    }

    #[test]
    fn the_window_never_holds_more_than_its_size() {
        let mut l = KeysetList::<R>::default();
        l.merge(LoadMode::Replace, page(0));
        for i in 1..10 {
            l.merge(LoadMode::Append, page(i * PAGE));
            assert!(l.rows.len() <= WINDOW);
        }
        assert!(!l.at_start);
        assert_eq!(l.rows.last(), Some(&R(10 * PAGE - 1)));
        l.merge(LoadMode::Prepend, page(5 * PAGE));
        assert!(l.rows.len() <= WINDOW);
    }

    #[test]
    fn stale_answers_are_refused() {
        let mut l = KeysetList::<R>::default();
        l.begin(1, LoadMode::Replace);
        l.begin(2, LoadMode::Replace);
        assert!(!l.accept(1));
        assert!(l.accept(2));
    }

    #[test]
    fn nearing_the_end_asks_for_the_next_page() {
        let mut l = KeysetList::<R>::default();
        l.merge(LoadMode::Replace, page(0));
        assert_eq!(l.move_to(10), None);
        assert_eq!(l.move_to(85), Some(LoadMode::Append));
        assert_eq!(
            l.navigate(super::super::action::Action::Bottom),
            Some(LoadMode::Last)
        );
    }

    #[test]
    fn forward_only_lists_keep_their_rows_and_never_page_backwards() {
        let mut l = KeysetList::<R>::forward_only();
        l.merge(LoadMode::Replace, page(0));
        for i in 1..6 {
            l.merge(LoadMode::Append, page(i * PAGE));
        }
        assert_eq!(l.rows.len(), 6 * PAGE as usize);
        assert!(l.at_start);
        let req = l.begin(9, LoadMode::Append);
        assert_eq!(req.after, Some(6 * PAGE - 1));
        l.accept(9);
        // G goes to the last row loaded and asks for the page after it.
        assert_eq!(
            l.navigate(super::super::action::Action::Bottom),
            Some(LoadMode::Append)
        );
        assert_eq!(l.selected, 6 * PAGE as usize - 1);
    }
}
