//! `partnerdesk export …`: streaming CSV exports.

use super::Context;
use super::output::{errln, outln};
use crate::domain::moment::{utc_end, utc_start};
use crate::error::{Error, Result, exit};
use crate::files::{self, PartialFile};
use crate::service::export::{ExportFilter, ExportOf, ExportReport};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export a deal's redemptions as CSV, oldest first, streamed from PostgreSQL (COPY).
    #[command(long_about = REDEMPTIONS_HELP)]
    Redemptions(RedemptionsArgs),
}

const REDEMPTIONS_HELP: &str = "Export a deal's redemptions as CSV, oldest first, streamed from PostgreSQL (COPY).\n\n\
Columns, after a header line: redemption_id, deal_id, deal_title, member_id, member_handle, \
source, coupon_code, redeemed_at (RFC 3339, UTC), flag_kind, flag_note. The rows are written \
as they arrive and never held in memory, so any number of them can be exported.\n\n\
--from and --to take RFC 3339 (2026-03-01T09:00:00Z, or with an offset) or a date \
(2026-03-01, meaning 00:00 UTC that day); --from is inclusive and --to exclusive, so \
--from 2026-03-01 --to 2026-04-01 is the whole of March.\n\n\
With --out the file appears only when the export is complete (it is written beside it under \
a temporary name first, readable only by you: mode 0600). An existing file is replaced only \
with --force, and never a symbolic link, a FIFO or a device. When standard error is a \
terminal a progress bar shows rows and bytes. Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT) cancels: \
the partial file is removed and 'export cancelled' is printed (exit code 128 + the signal's \
number: 130 for Ctrl-C). Partial files that a killed export left beside the same file are \
removed when the next export to it starts.";

#[derive(Debug, Args)]
pub struct RedemptionsArgs {
    /// The deal whose redemptions to export.
    #[arg(long, value_name = "ID")]
    pub deal: i64,
    /// Only redemptions at or after this time: YYYY-MM-DD HH:MM (UTC), RFC 3339, or a date
    /// YYYY-MM-DD (from 00:00 UTC that day).
    #[arg(long, value_name = "T", value_parser = utc_start)]
    pub from: Option<DateTime<Utc>>,
    /// Only redemptions before this time: YYYY-MM-DD HH:MM (UTC), RFC 3339, or a date
    /// YYYY-MM-DD (the whole day: up to the next day's 00:00 UTC).
    #[arg(long, value_name = "T", value_parser = utc_end)]
    pub to: Option<DateTime<Utc>>,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace the --out file if it exists (a regular file only; the new one is mode 0600).
    #[arg(long, requires = "out")]
    pub force: bool,
}

pub async fn run(ctx: &Context, cmd: ExportCommand) -> Result<ExitCode> {
    match cmd {
        ExportCommand::Redemptions(args) => redemptions(ctx, args).await,
    }
}

async fn redemptions(ctx: &Context, args: RedemptionsArgs) -> Result<ExitCode> {
    let filter = ExportFilter {
        of: ExportOf::Deal(args.deal),
        from: args.from,
        to: args.to,
    };
    // A file that may not be written is refused before anything else happens.
    if let Some(out) = &args.out
        && let Some(why) = files::refusal(out, args.force)
    {
        let hint = if why == files::EXISTS {
            " (add --force to replace it)"
        } else {
            ""
        };
        return Err(Error::Refused(format!(
            "cannot write {}: {why}{hint}",
            out.display()
        )));
    }
    let desk = ctx.desk(2).await?;

    // Ctrl-C, SIGTERM, SIGHUP and SIGQUIT from here on cancel the export (the partial file is
    // removed) instead of killing the process.
    let (cancel_tx, cancel) = watch::channel(false);
    let stopped_by = cancel_on_signals(cancel_tx)?;

    let to_terminal = args.out.is_none() && std::io::stdout().is_terminal();
    let bar = if std::io::stderr().is_terminal() && !to_terminal {
        let total = desk.export_redemptions_count(&filter).await?;
        Some(progress_bar(total))
    } else {
        None
    };
    let on_progress = |rows: u64, bytes: u64| {
        if let Some(b) = &bar {
            b.set_position(rows);
            b.set_message(HumanBytes(bytes).to_string());
        }
    };

    let started = Instant::now();
    let outcome = match &args.out {
        Some(path) => export_to_file(&desk, &filter, path, args.force, on_progress, cancel).await,
        None => {
            desk.export_redemptions(&filter, tokio::io::stdout(), on_progress, cancel)
                .await
        }
    };
    stopped_by.abort();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match outcome {
        Ok(report) => {
            let line = summary(&report, args.out.as_deref(), started);
            if args.out.is_some() {
                outln!("{line}");
            } else if std::io::stderr().is_terminal() {
                errln!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ Error::Cancelled { .. }) => {
            errln!("{e}");
            let code = match stopped_by.signal() {
                0 => e.exit_code(),
                n => 128 + n,
            };
            Ok(ExitCode::from(code))
        }
        // The reader went away (`… | head`): nothing more to say.
        Err(Error::Io { source, .. })
            if args.out.is_none() && source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Ok(ExitCode::from(exit::SUCCESS))
        }
        Err(e) => Err(e),
    }
}

/// Writes into a temporary file beside `path` (see [`PartialFile`]) and moves it into place
/// when complete; on cancel or failure the temporary file is removed. A failure names `path`,
/// the file the user asked for, never the temporary one.
async fn export_to_file(
    desk: &crate::service::Desk,
    filter: &ExportFilter,
    path: &Path,
    force: bool,
    on_progress: impl FnMut(u64, u64),
    cancel: watch::Receiver<bool>,
) -> Result<ExportReport> {
    let (partial, file) = PartialFile::create(path, force)?;
    let result = desk
        .export_redemptions(filter, tokio::fs::File::from_std(file), on_progress, cancel)
        .await;
    match result {
        Ok(report) => partial.commit().map(|()| report),
        Err(Error::Io { source, .. }) => Err(files::cannot_write(path, source)),
        Err(e) => Err(e),
    }
}

/// The signals that cancel an export, watched on a task of their own.
struct SignalWatch {
    task: tokio::task::JoinHandle<()>,
    received: Arc<AtomicU8>,
}

impl SignalWatch {
    /// The number of the signal that cancelled the export; 0 if none did.
    fn signal(&self) -> u8 {
        self.received.load(Ordering::SeqCst)
    }

    fn abort(&self) {
        self.task.abort();
    }
}

/// SIGINT (2), SIGTERM (15), SIGHUP (1) and SIGQUIT (3) set `cancel`.
fn cancel_on_signals(cancel_tx: watch::Sender<bool>) -> Result<SignalWatch> {
    let kinds = [
        (SignalKind::interrupt(), 2u8),
        (SignalKind::terminate(), 15),
        (SignalKind::hangup(), 1),
        (SignalKind::quit(), 3),
    ];
    let mut streams = Vec::with_capacity(kinds.len());
    for (kind, n) in kinds {
        let s = signal(kind).map_err(|source| Error::Io {
            context: "cannot watch signals".into(),
            source,
        })?;
        streams.push((s, n));
    }
    let received = Arc::new(AtomicU8::new(0));
    let task = {
        let received = received.clone();
        tokio::spawn(async move {
            let waits = streams.iter_mut().map(|(s, n)| {
                let n = *n;
                Box::pin(async move {
                    s.recv().await;
                    n
                })
            });
            let (n, _, _) = futures::future::select_all(waits).await;
            received.store(n, Ordering::SeqCst);
            let _ = cancel_tx.send(true);
        })
    };
    Ok(SignalWatch { task, received })
}

fn progress_bar(total: u64) -> ProgressBar {
    let b = ProgressBar::new(total);
    b.set_style(
        ProgressStyle::with_template(
            "exporting [{bar:30}] {human_pos}/{human_len} rows  {msg}  {elapsed}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    b.set_message(HumanBytes(0).to_string());
    b
}

fn summary(report: &ExportReport, out: Option<&Path>, started: Instant) -> String {
    format!(
        "exported {} redemption{} ({}) {}in {:.1}s",
        report.rows,
        if report.rows == 1 { "" } else { "s" },
        HumanBytes(report.bytes),
        out.map(|p| format!("to {} ", p.display()))
            .unwrap_or_default(),
        started.elapsed().as_secs_f64()
    )
}
