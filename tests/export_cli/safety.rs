//! What an export may write, and what it leaves behind when it is stopped: only regular
//! files, never through a link or into a FIFO, an existing file only with --force, 0600;
//! every catchable signal removes the partial file, and a killed export's partial file is
//! removed by the next export to the same file.

use super::cli::{TempDir, command, pd};
use super::common::TestDb;
use super::fixture;
use sqlx::{Connection, PgConnection};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn exports_write_only_regular_files_and_replace_one_only_with_force() {
    let db = TestDb::new().await;
    let deal = fixture(&db, 10).await;
    let id = deal.id.to_string();
    let dir = TempDir::new("pd-export-files");
    let export = |out: &Path, force: bool| {
        let mut args = vec!["export", "redemptions", "--deal", &id, "--out"];
        args.push(out.to_str().unwrap());
        if force {
            args.push("--force");
        }
        pd(Some(&db), "sam", &args)
    };

    // A new file is 0600.
    let fresh = dir.path("fresh.csv");
    export(&fresh, false).success();
    assert_eq!(mode(&fresh), 0o600);

    // An existing file is kept unless --force; then the new one is 0600 even where the old
    // one was 0644.
    let old = dir.path("old.csv");
    std::fs::write(&old, "keep me\n").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(
        export(&old, false).error_line(3),
        format!(
            "cannot write {}: it already exists (add --force to replace it)",
            old.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&old).unwrap(), "keep me\n");
    export(&old, true).success();
    assert!(
        std::fs::read_to_string(&old)
            .unwrap()
            .starts_with("redemption_id,")
    );
    assert_eq!(mode(&old), 0o600);

    // A symbolic link to a file elsewhere: neither the link nor its target is touched, even
    // with --force.
    let elsewhere = TempDir::new("pd-export-elsewhere");
    let target = elsewhere.path("precious.txt");
    std::fs::write(&target, "precious\n").unwrap();
    let link = dir.path("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for force in [false, true] {
        assert_eq!(
            export(&link, force).error_line(3),
            format!(
                "cannot write {}: it is a symbolic link; exports are written only as regular files, never through a link",
                link.display()
            )
        );
    }
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");

    // A FIFO stays a FIFO (a device is refused the same way; not tried here: as root a test
    // must not go near /dev/null).
    let fifo = dir.path("pipe.csv");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for force in [false, true] {
        assert_eq!(
            export(&fifo, force).error_line(3),
            format!(
                "cannot write {}: it is a FIFO (named pipe), not a regular file; exports are written only to regular files",
                fifo.display()
            )
        );
    }
    assert!(fifo.symlink_metadata().unwrap().file_type().is_fifo());

    // Nothing else appeared: no partial files.
    assert_eq!(
        dir.names(),
        vec!["fresh.csv", "link.csv", "old.csv", "pipe.csv"]
    );

    // --force needs --out.
    let out = pd(
        Some(&db),
        "sam",
        &["export", "redemptions", "--deal", &id, "--force"],
    );
    assert_eq!(out.code, 2, "{out}");
}

/// An export whose COPY waits on a locked table, so that it is certainly under way when the
/// test stops it; the lock is released when `locker` rolls back or closes.
struct LockedExport {
    child: Child,
    locker: PgConnection,
    waiting: String,
}

async fn start_locked_export(
    db: &TestDb,
    deal_id: i64,
    out: &Path,
    home: &TempDir,
) -> LockedExport {
    let mut locker = PgConnection::connect_with(&db.options).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE redemptions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let id = deal_id.to_string();
    let mut child = command(
        Some(db),
        "sam",
        &[
            "export",
            "redemptions",
            "--deal",
            &id,
            "--out",
            out.to_str().unwrap(),
        ],
        home,
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start partnerdesk");
    let waiting = format!(
        "SELECT count(*) FROM pg_stat_activity
          WHERE datname = '{}' AND wait_event_type = 'Lock' AND query LIKE 'COPY (SELECT%'",
        db.name
    );
    let started = Instant::now();
    while db.count(&waiting).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the export's COPY never started"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the export ended early"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    LockedExport {
        child,
        locker,
        waiting,
    }
}

fn kill(child: &Child, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
}

async fn wait_exit(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the export did not stop after {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_catchable_signal_cancels_removes_the_partial_file_and_stops_the_server() {
    let db = TestDb::new().await;
    let deal = fixture(&db, 100).await;
    let home = TempDir::new("pd-export-home");
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129), ("QUIT", 131)] {
        let dir = TempDir::new("pd-export-cancel");
        let out_file = dir.path("x.csv");
        let mut run = start_locked_export(&db, deal.id, &out_file, &home).await;
        // The partial file exists while the export runs.
        let names = dir.names();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with(".x.csv.partial-"), "{names:?}");

        kill(&run.child, signal);
        let status = wait_exit(&mut run.child, signal).await;
        let o = run.child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(status.code(), Some(code), "SIG{signal}: {stderr}");
        assert_eq!(stderr, "export cancelled\n", "SIG{signal}");
        assert!(
            o.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        // No file, partial or whole.
        assert!(dir.names().is_empty(), "SIG{signal}: {:?}", dir.names());
        // The server stopped the COPY although the table is still locked.
        let started = Instant::now();
        while db.count(&run.waiting).await != 0 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "SIG{signal}: the COPY still waits on the server"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sqlx::query("ROLLBACK")
            .execute(&mut run.locker)
            .await
            .unwrap();
        run.locker.close().await.unwrap();
    }
}

#[tokio::test]
async fn the_partial_file_of_a_killed_export_is_removed_by_the_next_export() {
    let db = TestDb::new().await;
    let deal = fixture(&db, 100).await;
    let home = TempDir::new("pd-export-home");
    let dir = TempDir::new("pd-export-killed");
    let out_file = dir.path("x.csv");
    // Another file's partial, of a process that is gone too, is not this export's business.
    std::fs::write(dir.path(".y.csv.partial-4194304"), "other\n").unwrap();

    let mut run = start_locked_export(&db, deal.id, &out_file, &home).await;
    kill(&run.child, "KILL");
    let status = wait_exit(&mut run.child, "SIGKILL").await;
    assert_eq!(status.code(), None, "killed");
    let left: Vec<String> = dir
        .names()
        .into_iter()
        .filter(|n| n.starts_with(".x.csv.partial-"))
        .collect();
    assert_eq!(left.len(), 1, "SIGKILL cannot be caught: {:?}", dir.names());
    sqlx::query("ROLLBACK")
        .execute(&mut run.locker)
        .await
        .unwrap();
    run.locker.close().await.unwrap();

    let id = deal.id.to_string();
    pd(
        Some(&db),
        "sam",
        &[
            "export",
            "redemptions",
            "--deal",
            &id,
            "--out",
            out_file.to_str().unwrap(),
        ],
    )
    .success();
    assert_eq!(dir.names(), vec![".y.csv.partial-4194304", "x.csv"]);
}
