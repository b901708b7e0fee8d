//! Logs go to a file in the state directory, never to the screen.

use std::path::Path;
use tracing_subscriber::EnvFilter;

/// Starts file logging; returns the guard that flushes on drop. Failure to log is not fatal.
pub fn init(log_dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    // The folder is 0700 and the log files 0600: they name operators and records. The
    // appender creates each day's file itself, so the day's file is made first, 0600, and
    // older files are narrowed.
    crate::files::private_dir(log_dir).ok()?;
    let today = log_dir.join(format!(
        "partnerdesk.log.{}",
        chrono::Utc::now().format("%Y-%m-%d")
    ));
    let _ = crate::files::create_new_private(&today);
    narrow_log_files(log_dir);
    let appender = tracing_appender::rolling::daily(log_dir, "partnerdesk.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter =
        EnvFilter::try_from_env("PARTNERDESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

/// Makes every `partnerdesk.log*` file in `log_dir` 0600.
fn narrow_log_files(log_dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(log_dir) else {
        return;
    };
    for e in entries.flatten() {
        let is_log = e
            .file_name()
            .to_string_lossy()
            .starts_with("partnerdesk.log");
        if let Ok(meta) = e.path().symlink_metadata()
            && is_log
            && meta.file_type().is_file()
            && meta.permissions().mode() & 0o077 != 0
        {
            let perms = std::fs::Permissions::from_mode(crate::files::FILE_MODE);
            let _ = std::fs::set_permissions(e.path(), perms);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_log_folder_and_files_are_private() {
        let dir = std::env::temp_dir().join(format!("pd-logs-{}", std::process::id()));
        let logs = dir.join("state").join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).unwrap();
        let old = logs.join("partnerdesk.log.2020-01-01");
        std::fs::write(&old, "old\n").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let guard = super::init(&logs);
        tracing::info!("hello");
        drop(guard);
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&logs), 0o700);
        for e in std::fs::read_dir(&logs).unwrap() {
            let p = e.unwrap().path();
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
        assert!(std::fs::read_dir(&logs).unwrap().count() >= 2);
        std::fs::remove_dir_all(&dir).ok();
    }
}
