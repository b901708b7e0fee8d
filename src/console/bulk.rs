//! Marks and bulk actions, the part every list shares: asking the server for every row a
//! filter matches (`Ctrl-a`), and running one action over the marked rows. A pane says only
//! how its rows are asked for and which of its actions run in bulk; the app does the rest.

use super::list::{KeysetList, ListRow, Markable, Marked};
use crate::error::Result;
use crate::service::Desk;
use crate::service::bulk::{BulkAction, Target};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// At most this many rows are marked by `Ctrl-a` (a bigger selection is refused, not cut).
pub const MARK_ALL_LIMIT: usize = 100_000;

type Asking = Pin<Box<dyn Future<Output = Result<Vec<Marked>>> + Send>>;

/// How a pane asks for every row its filter matches, as they are now (ids and versions).
pub struct MarkQuery(Box<dyn FnOnce(Desk) -> Asking + Send>);

impl MarkQuery {
    pub fn new<F, Fut>(f: F) -> MarkQuery
    where
        F: FnOnce(Desk) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<Marked>>> + Send + 'static,
    {
        MarkQuery(Box::new(move |desk| Box::pin(f(desk))))
    }

    pub async fn run(self, desk: Desk) -> Result<Vec<Marked>> {
        (self.0)(desk).await
    }
}

impl MarkQuery {
    /// Every row of a keyset query, page after page (`page(desk, after)` asks for at most
    /// [`MARK_PAGE`] rows after the cursor, with the pane's filter and sort).
    pub fn pages<R, F, Fut>(page: F) -> MarkQuery
    where
        R: ListRow + Send + 'static,
        R::Cursor: Send,
        F: Fn(Desk, Option<R::Cursor>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<R>>> + Send + 'static,
    {
        MarkQuery::new(move |desk: Desk| async move {
            every_row(MARK_PAGE, |after| page(desk.clone(), after)).await
        })
    }
}

/// Rows per page when every row of a filter is asked for.
pub const MARK_PAGE: i64 = 1_000;

/// The list, when the keys move in it (`in_list`), as a list that can be marked.
pub fn in_focus<R: ListRow>(list: &mut KeysetList<R>, in_list: bool) -> Option<&mut dyn Markable> {
    if in_list { Some(list) } else { None }
}

impl std::fmt::Debug for MarkQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MarkQuery")
    }
}

/// Pages through a keyset query until its end: `page(after)` returns a page of at most `size`
/// rows after the cursor, in the list's order. Refuses more than [`MARK_ALL_LIMIT`] rows.
pub async fn every_row<R, F, Fut>(size: i64, mut page: F) -> Result<Vec<Marked>>
where
    R: ListRow,
    F: FnMut(Option<R::Cursor>) -> Fut,
    Fut: Future<Output = Result<Vec<R>>>,
{
    let mut out = Vec::new();
    let mut after: Option<R::Cursor> = None;
    loop {
        let rows = page(after.take()).await?;
        let full = rows.len() as i64 >= size;
        for r in &rows {
            out.push(Marked {
                id: r.id(),
                version: r.version(),
            });
        }
        after = rows.last().map(ListRow::cursor);
        if out.len() > MARK_ALL_LIMIT {
            let mut e = crate::domain::ValidationErrors::new();
            e.push(
                "marks",
                format!("more than {MARK_ALL_LIMIT} rows match; narrow the filter first"),
            );
            return Err(e.into());
        }
        if !full || after.is_none() {
            return Ok(out);
        }
    }
}

/// A pane's action that runs on the marks: the service's bulk action, or how to make one from
/// the text asked once for every row (a note, a reason, a payment reference).
#[derive(Debug, Clone)]
pub struct BulkOffer {
    /// The verb and the rows, for the question: "Pause", "deals".
    pub verb: &'static str,
    pub noun: &'static str,
    pub permission: crate::domain::Permission,
    pub build: Build,
}

#[derive(Debug, Clone)]
pub enum Build {
    /// Asks only to confirm.
    Now(BulkAction),
    /// Asks for one text for every row (the prompt is the confirmation); `make` reads it, or
    /// says what is wrong with it.
    Text {
        hint: &'static str,
        make: fn(&str) -> std::result::Result<BulkAction, String>,
    },
}

/// The question a bulk action asks (answered by the app, not the pane): run `build` over
/// `targets` of the pane `pane`.
#[derive(Debug, Clone)]
pub struct BulkAsk {
    pub pane: &'static str,
    pub offer: BulkOffer,
    pub targets: Vec<Target>,
}

impl super::shell::Asked for BulkAsk {}

/// A bulk run on its way, shown in the status line until it ends.
#[derive(Debug, Clone)]
pub struct BulkRunning {
    pub pane: &'static str,
    pub busy: super::shell::BusyId,
    pub label: String,
    pub total: usize,
    pub cancel: Arc<AtomicBool>,
}

/// The work of a bulk run: each row through the service, progress sent as it goes.
#[derive(Debug)]
pub struct BulkJob {
    pub pane: &'static str,
    pub action: BulkAction,
    pub targets: Vec<Target>,
    pub cancel: Arc<AtomicBool>,
}

/// The marks as the service's targets (their versions as marked).
pub fn targets(marks: &[Marked]) -> Vec<Target> {
    marks
        .iter()
        .map(|m| Target {
            id: m.id,
            version: m.version,
        })
        .collect()
}

/// `n deal(s)`: the noun is plural; one row drops its `s`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {}", noun.strip_suffix('s').unwrap_or(noun))
    } else {
        format!("{n} {noun}")
    }
}

/// A required text of a bulk prompt: trimmed, not empty.
pub fn required(text: &str, what: &str) -> std::result::Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        Err(format!("{what}: required"))
    } else {
        Ok(t.to_owned())
    }
}

/// An optional text of a bulk prompt: `None` when empty.
pub fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}
