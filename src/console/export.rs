//! `x` on any list: every row the filter matches (paged from the server, not only the loaded
//! window), in the list's sort and its visible columns, written as CSV the safe way exports
//! are written (a partial file beside the target, never through a link or over a file, moved
//! into place when complete), with progress. Cells are written as [`safe_cell`] makes them:
//! one a spreadsheet would read as a formula gets a `'` before it.

use super::list::ListRow;
use crate::csv_cell::safe_cell;
use crate::error::{Error, Result};
use crate::files::{PartialFile, cannot_write};
use crate::service::Desk;
use std::future::Future;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// Rows per page asked of the server while exporting.
pub const EXPORT_PAGE: i64 = 1_000;

type Running = Pin<Box<dyn Future<Output = Result<u64>> + Send>>;
/// Rows written so far.
pub type Progress = Box<dyn Fn(u64) + Send + Sync>;

/// An export of a list, ready to run against the services.
pub struct ListExport(Box<dyn FnOnce(Desk, Progress) -> Running + Send>);

impl std::fmt::Debug for ListExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListExport")
    }
}

/// What a pane exports: the rows' name, and the export for a path.
pub struct ExportPlan {
    pub noun: &'static str,
    pub make: Box<dyn FnOnce(PathBuf) -> ListExport + Send>,
}

/// A column of an export: its header and its cell.
pub type ExportColumn<R> = (&'static str, fn(&R) -> String);

impl ListExport {
    /// Every row of a keyset query (`page(desk, after)`: at most [`EXPORT_PAGE`] rows after
    /// the cursor, with the pane's filter and sort), in `columns`, to `path`.
    pub fn pages<R, F, Fut>(path: PathBuf, columns: Vec<ExportColumn<R>>, page: F) -> ListExport
    where
        R: ListRow + Send + 'static,
        R::Cursor: Send,
        F: Fn(Desk, Option<R::Cursor>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<R>>> + Send + 'static,
    {
        ListExport(Box::new(move |desk, progress| {
            Box::pin(async move {
                let (partial, file) = PartialFile::create(&path, false)?;
                let mut w = csv::Writer::from_writer(BufWriter::new(file));
                let failed = |e: csv::Error| write_error(&path, e);
                w.write_record(columns.iter().map(|(h, _)| *h))
                    .map_err(failed)?;
                let mut after: Option<R::Cursor> = None;
                let mut n = 0u64;
                loop {
                    let rows = page(desk.clone(), after.take()).await?;
                    let full = rows.len() as i64 >= EXPORT_PAGE;
                    for r in &rows {
                        w.write_record(columns.iter().map(|(_, cell)| safe_cell(cell(r))))
                            .map_err(failed)?;
                        n += 1;
                    }
                    after = rows.last().map(ListRow::cursor);
                    progress(n);
                    if !full || after.is_none() {
                        break;
                    }
                }
                let mut out = w
                    .into_inner()
                    .map_err(|e| cannot_write(&path, e.into_error()))?;
                out.flush().map_err(|e| cannot_write(&path, e))?;
                out.get_ref()
                    .sync_all()
                    .map_err(|e| cannot_write(&path, e))?;
                partial.commit()?;
                Ok(n)
            })
        }))
    }

    pub async fn run(self, desk: Desk, progress: Progress) -> Result<u64> {
        (self.0)(desk, progress).await
    }
}

fn write_error(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => cannot_write(path, io),
        other => Error::Refused(format!("cannot write {}: {other:?}", path.display())),
    }
}

/// The file an export of `noun` is offered as: `deals-2026-12-08-1405.csv`.
pub fn default_name(noun: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{noun}-{}.csv",
        super::view::local_fmt(now, "%Y-%m-%d-%H%M")
    )
}
