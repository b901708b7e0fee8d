//! Streaming CSV export of a deal's redemptions (SPEC §1.5): PostgreSQL `COPY … TO STDOUT`
//! chunks go to the writer as they arrive, so the whole result is never held in memory. The
//! command line and the console both call [`Desk::export_redemptions`].

use super::Desk;
use crate::domain::Permission;
use crate::error::{Error, Result};
use crate::store;
use futures::TryStreamExt;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::watch;

pub use crate::store::redemptions::{EXPORT_COLUMNS, ExportFilter, ExportOf};

/// The writer's buffer: rows arrive one per COPY message, and are written in blocks this big.
const WRITE_BUFFER: usize = 1 << 20;
/// Progress is reported after at least this many bytes, or this many chunks, since the last
/// report (and once at the end).
const PROGRESS_BYTES: u64 = 64 * 1024;
const PROGRESS_CHUNKS: u32 = 256;
/// How long a cancelled export tries to stop the server's COPY before it just hangs up.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(2);

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Data rows, without the header.
    pub rows: u64,
    /// Bytes, with the header.
    pub bytes: u64,
}

impl Desk {
    /// How many rows an export of `filter` will write (the total of a progress bar). Counted
    /// apart from the export itself, so rows recorded in between may make the export longer.
    pub async fn export_redemptions_count(&self, filter: &ExportFilter) -> Result<u64> {
        self.actor().require(Permission::ViewRedemptions)?;
        check_filter(filter)?;
        let mut conn = self.pool().acquire().await?;
        let n = store::redemptions::export_count(&mut conn, filter).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Streams the redemptions of `filter.of`, a deal or a member (in `[from, to)` when given) as CSV with a
    /// header line, oldest first, into `writer` (see [`EXPORT_COLUMNS`]).
    ///
    /// `progress(rows, bytes)` is called as the data flows (every 64 KiB or so, and at the
    /// end). Setting `cancel` to `true` stops the export: the server is asked to cancel the
    /// COPY, the connection is closed rather than returned to the pool, and the result is
    /// [`Error::Cancelled`]. What was written before stays in the writer (the last block is
    /// not flushed); removing a partial file is the caller's business.
    pub async fn export_redemptions<W, P>(
        &self,
        filter: &ExportFilter,
        writer: W,
        mut progress: P,
        cancel: watch::Receiver<bool>,
    ) -> Result<ExportReport>
    where
        W: AsyncWrite + Unpin,
        P: FnMut(u64, u64),
    {
        self.actor().require(Permission::ViewRedemptions)?;
        check_filter(filter)?;
        let cancelled = || Error::Cancelled { what: "export" };
        if *cancel.borrow() {
            return Err(cancelled());
        }
        let mut conn = self.pool().acquire().await?;
        let (exists, backend) = store::redemptions::export_start(&mut conn, filter.of).await?;
        if !exists {
            return Err(match filter.of {
                ExportOf::Deal(id) => Error::not_found("deal", id),
                ExportOf::Member(id) => Error::not_found("member", id),
            });
        }
        let statement = store::redemptions::export_copy_statement(filter);
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, writer);
        let mut watcher = cancel.clone();
        let result = {
            let conn = &mut *conn;
            let out = &mut out;
            let progress = &mut progress;
            let cancel = &cancel;
            let work = async move {
                let mut stream = conn.copy_out_raw(&statement).await?;
                let mut records = CsvRecords::default();
                let mut bytes = 0u64;
                let mut reported = 0u64;
                let mut chunks = 0u32;
                while let Some(chunk) = stream.try_next().await? {
                    // Checked here too, so that a fast stream that never waits still stops.
                    if *cancel.borrow() {
                        return Err(cancelled());
                    }
                    out.write_all(&chunk).await.map_err(write_error)?;
                    records.feed(&chunk);
                    bytes += chunk.len() as u64;
                    chunks += 1;
                    if bytes - reported >= PROGRESS_BYTES || chunks >= PROGRESS_CHUNKS {
                        progress(records.data_rows(), bytes);
                        reported = bytes;
                        chunks = 0;
                    }
                }
                out.flush().await.map_err(write_error)?;
                let report = ExportReport {
                    rows: records.data_rows(),
                    bytes,
                };
                progress(report.rows, report.bytes);
                Ok(report)
            };
            tokio::select! {
                biased;
                () = wait_for_cancel(&mut watcher) => Err(cancelled()),
                r = work => r,
            }
        };
        if result.is_err() {
            // The server may still be working on the COPY (sorting, waiting for a lock, or
            // sending): ask it to stop, from another connection. Then close this one rather
            // than hand it back to the pool, which would first have to read the rest.
            let pool = self.pool().clone();
            let _ = tokio::time::timeout(CANCEL_TIMEOUT, async move {
                let mut other = pool.acquire().await?;
                store::redemptions::cancel_backend(&mut other, backend).await
            })
            .await;
            let _ = conn.close().await;
        }
        result
    }
}

fn check_filter(f: &ExportFilter) -> Result<()> {
    if let (Some(from), Some(to)) = (f.from, f.to)
        && to <= from
    {
        let mut errs = crate::domain::ValidationErrors::new();
        errs.push("to", "must be after from");
        return Err(errs.into());
    }
    Ok(())
}

fn write_error(e: std::io::Error) -> Error {
    Error::Io {
        context: "writing the export failed".into(),
        source: e,
    }
}

/// Resolves once `cancel` holds `true`; never, if the sender is gone without cancelling.
async fn wait_for_cancel(cancel: &mut watch::Receiver<bool>) {
    loop {
        if *cancel.borrow_and_update() {
            return;
        }
        if cancel.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Counts CSV records by their line ends, across chunk boundaries: a newline inside a quoted
/// field (a note may have one) does not end a record. In CSV a quote inside a quoted field is
/// doubled, so toggling on every `"` keeps the state right.
#[derive(Debug, Default, Clone, Copy)]
pub struct CsvRecords {
    in_quotes: bool,
    records: u64,
}

impl CsvRecords {
    pub fn feed(&mut self, chunk: &[u8]) {
        if !self.in_quotes && !chunk.contains(&b'"') {
            self.records += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            return;
        }
        for &b in chunk {
            match b {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.records += 1,
                _ => {}
            }
        }
    }

    /// Complete records, the header included.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Complete records after the header.
    pub fn data_rows(&self) -> u64 {
        self.records.saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The console runs an export on a task of its own: the future must be `Send`.
    #[allow(dead_code)]
    fn the_export_future_is_send(desk: &Desk, f: &ExportFilter, cancel: watch::Receiver<bool>) {
        fn send<T: Send>(_: &T) {}
        let mut rows = 0;
        let fut = desk.export_redemptions(f, tokio::io::sink(), |r, _| rows = r, cancel);
        send(&fut);
    }

    #[test]
    fn records_are_counted_by_line_ends_outside_quotes() {
        let csv = b"a,b\n1,\"x\ny\"\n2,\"say \"\"hi\"\"\nthere\"\n3,plain\n";
        let mut whole = CsvRecords::default();
        whole.feed(csv);
        assert_eq!(whole.records(), 4);
        assert_eq!(whole.data_rows(), 3);
        // Any split into chunks gives the same count.
        for cut in 0..csv.len() {
            let mut c = CsvRecords::default();
            c.feed(&csv[..cut]);
            c.feed(&csv[cut..]);
            assert_eq!(c.records(), 4, "cut at {cut}");
        }
    }

    #[test]
    fn no_rows_before_the_header_ends() {
        let mut c = CsvRecords::default();
        c.feed(b"redemption_id,deal_id");
        assert_eq!(c.data_rows(), 0);
        c.feed(b"\n");
        assert_eq!(c.data_rows(), 0);
        c.feed(b"1,2\n");
        assert_eq!(c.data_rows(), 1);
    }
}
