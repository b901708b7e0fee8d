//! `list --csv`: every row the list's filters match (not only `--limit` of them), in the list's
//! order, as CSV with a header row of column keys. The rows are fetched page after page with
//! the list's own keyset paging and written as they come, never all held in memory. Cells are
//! written as [`safe_cell`] makes them: one a spreadsheet would read as a formula gets a `'`
//! first. To standard output by default (through [`super::output`]: a reader that goes away,
//! `… | head`, ends the listing quietly), or with `--out FILE` to a file written the way
//! exports are (a partial file beside it, moved into place when complete; an existing file is
//! replaced only with `--force`, and never a link, a FIFO or a device).

use super::output::{out, outln, stdout_gone};
use crate::csv_cell::safe_cell;
use crate::error::{Error, Result};
use crate::files::{self, PartialFile, cannot_write};
use clap::Args;
use std::future::Future;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Rows asked of the server per page while listing as CSV.
pub const CSV_PAGE: i64 = 1_000;

/// A column of a CSV listing: its key (the header) and its cell.
pub type CsvColumn<R> = (&'static str, fn(&R) -> String);

/// `--csv`, `--out FILE` and `--force`, shared by the `list` subcommands.
#[derive(Debug, Args)]
pub struct CsvArgs {
    /// Print every row the filters match as CSV instead of a table (--limit does not apply):
    /// a header row of column keys, then the rows in the list's order, fetched page by page.
    /// A cell beginning with = + - @ (a signed number excepted), a tab or a carriage return
    /// gets a leading '. Times are UTC.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// With --csv (--output is the same): write to this file instead of standard output. It
    /// appears only when complete (mode 0600); an existing file is refused (see --force).
    #[arg(long, value_name = "FILE", requires = "csv", alias = "output")]
    pub out: Option<PathBuf>,
    /// Replace the --out file if it exists (a regular file only, never a link).
    #[arg(long, requires = "out")]
    pub force: bool,
}

impl CsvArgs {
    /// Refuses, before anything else happens, a --out file that may not be written.
    pub fn check(&self) -> Result<()> {
        match &self.out {
            Some(path) => match files::refusal(path, self.force) {
                Some(why) => Err(refused(path, why)),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }
}

fn refused(path: &Path, why: &str) -> Error {
    let hint = if why == files::EXISTS {
        " (add --force to replace it)"
    } else {
        ""
    };
    Error::Refused(format!("cannot write {}: {why}{hint}", path.display()))
}

/// Where the CSV goes.
enum Sink {
    Stdout,
    File {
        path: PathBuf,
        partial: PartialFile,
        file: BufWriter<std::fs::File>,
    },
}

impl Sink {
    fn open(args: &CsvArgs) -> Result<Self> {
        let Some(path) = &args.out else {
            return Ok(Sink::Stdout);
        };
        args.check()?;
        let (partial, file) = PartialFile::create(path, args.force)?;
        Ok(Sink::File {
            path: path.clone(),
            partial,
            file: BufWriter::new(file),
        })
    }

    /// Writes a page's text; false when standard output's reader has gone.
    fn write(&mut self, text: &str) -> Result<bool> {
        match self {
            Sink::Stdout => {
                out!("{text}");
                Ok(!stdout_gone())
            }
            Sink::File { path, file, .. } => {
                file.write_all(text.as_bytes())
                    .map_err(|e| cannot_write(path, e))?;
                Ok(true)
            }
        }
    }

    /// Moves a file into place once complete.
    fn finish(self) -> Result<Option<PathBuf>> {
        match self {
            Sink::Stdout => Ok(None),
            Sink::File {
                path,
                partial,
                file,
            } => {
                let file = file
                    .into_inner()
                    .map_err(|e| cannot_write(&path, e.into_error()))?;
                file.sync_all().map_err(|e| cannot_write(&path, e))?;
                partial.commit()?;
                Ok(Some(path))
            }
        }
    }
}

/// Records as CSV text.
fn records<'a>(rows: impl Iterator<Item = Vec<String>> + 'a) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).map_err(|e| Error::Io {
            context: "cannot write CSV".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Io {
        context: "cannot write CSV".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Writes every row `page(after)` yields, page after page (at most [`CSV_PAGE`] rows after
/// the cursor, in the list's filter and order), in `columns`; a short page is the last. With
/// `--out`, says how many `noun` were written where.
pub async fn write_pages<R, C, F, Fut>(
    args: &CsvArgs,
    noun: &str,
    columns: &[CsvColumn<R>],
    cursor: fn(&R) -> C,
    mut page: F,
) -> Result<ExitCode>
where
    F: FnMut(Option<C>) -> Fut,
    Fut: Future<Output = Result<Vec<R>>>,
{
    let mut sink = Sink::open(args)?;
    let header = records(std::iter::once(
        columns.iter().map(|(k, _)| (*k).to_owned()).collect(),
    ))?;
    let mut reading = sink.write(&header)?;
    let mut after: Option<C> = None;
    let mut n = 0u64;
    while reading {
        let rows = page(after.take()).await?;
        let text = records(
            rows.iter()
                .map(|r| columns.iter().map(|(_, cell)| safe_cell(cell(r))).collect()),
        )?;
        reading = sink.write(&text)?;
        n += rows.len() as u64;
        after = rows.last().map(cursor);
        if (rows.len() as i64) < CSV_PAGE || after.is_none() {
            break;
        }
    }
    if let Some(path) = sink.finish()? {
        outln!("wrote {n} {noun} to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// An instant in a CSV cell: RFC 3339, UTC, to the second.
pub fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A day in a CSV cell: `2026-03-01`, UTC.
pub fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}
