//! `partnerdesk export …`: streaming CSV exports.

use super::Context;
use super::output::{errln, outln};
use crate::error::{Error, Result, exit};
use crate::service::export::{ExportFilter, ExportReport};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
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
a temporary name first). When standard error is a terminal a progress bar shows rows and \
bytes. Ctrl-C cancels: a partial file is removed and 'export cancelled' is printed (exit \
code 130).";

#[derive(Debug, Args)]
pub struct RedemptionsArgs {
    /// The deal whose redemptions to export.
    #[arg(long, value_name = "ID")]
    pub deal: i64,
    /// Only redemptions at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,
    /// Only redemptions before this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// RFC 3339 (any offset, converted to UTC) or `YYYY-MM-DD` (midnight UTC).
pub fn parse_time(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(format!(
        "'{s}' is not a time: use RFC 3339 (2026-03-01T09:00:00Z) or a date (2026-03-01, UTC)"
    ))
}

pub async fn run(ctx: &Context, cmd: ExportCommand) -> Result<ExitCode> {
    match cmd {
        ExportCommand::Redemptions(args) => redemptions(ctx, args).await,
    }
}

async fn redemptions(ctx: &Context, args: RedemptionsArgs) -> Result<ExitCode> {
    let filter = ExportFilter {
        deal_id: args.deal,
        from: args.from,
        to: args.to,
    };
    let desk = ctx.desk(2).await?;

    // Ctrl-C from here on cancels the export instead of killing the process.
    let (cancel_tx, cancel) = watch::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = cancel_tx.send(true);
        }
    });

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
        Some(path) => export_to_file(&desk, &filter, path, on_progress, cancel).await,
        None => {
            desk.export_redemptions(&filter, tokio::io::stdout(), on_progress, cancel)
                .await
        }
    };
    ctrl_c.abort();
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
            Ok(ExitCode::from(e.exit_code()))
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

/// Writes into a temporary file beside `path` and renames it into place when complete; on
/// cancel or failure the temporary file is removed. A failure names `path`, the file the user
/// asked for, never the temporary one.
async fn export_to_file(
    desk: &crate::service::Desk,
    filter: &ExportFilter,
    path: &Path,
    on_progress: impl FnMut(u64, u64),
    cancel: watch::Receiver<bool>,
) -> Result<ExportReport> {
    let partial = partial_path(path);
    let cannot_write = |e: std::io::Error| {
        let reason = match e.kind() {
            // Creating a file fails this way when its folder does not exist.
            std::io::ErrorKind::NotFound => "no such directory".to_owned(),
            _ => super::io_reason(&e),
        };
        Error::Io {
            context: format!("cannot write {}", path.display()),
            source: std::io::Error::new(e.kind(), reason),
        }
    };
    let file = tokio::fs::File::create(&partial)
        .await
        .map_err(cannot_write)?;
    let result = desk
        .export_redemptions(filter, file, on_progress, cancel)
        .await;
    match result {
        Ok(report) => match tokio::fs::rename(&partial, path).await {
            Ok(()) => Ok(report),
            Err(e) => {
                let _ = tokio::fs::remove_file(&partial).await;
                Err(cannot_write(e))
            }
        },
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            Err(match e {
                Error::Io { source, .. } => cannot_write(source),
                e => e,
            })
        }
    }
}

/// `dir/.name.partial-PID`: beside the target, so that the rename stays on one file system.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export.csv".into());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_rfc3339_or_dates_in_utc() {
        assert_eq!(
            parse_time("2026-03-01T09:00:00Z").unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
        );
        assert_eq!(
            parse_time("2026-03-01T10:00:00+01:00").unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
        );
        assert_eq!(
            parse_time("2026-03-01").unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
        );
        let e = parse_time("yesterday").unwrap_err();
        assert!(e.contains("'yesterday' is not a time"), "{e}");
        assert!(parse_time("2026-02-30").is_err());
    }

    #[test]
    fn the_partial_file_sits_beside_the_target() {
        let p = partial_path(Path::new("/tmp/out/x.csv"));
        assert_eq!(p.parent(), Some(Path::new("/tmp/out")));
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".x.csv.partial-"), "{name}");
    }
}
