//! The harness the command-line test crates share: the real binary, run with a fresh
//! `PARTNERDESK_HOME`, a known `USER`, no `DATABASE_URL`, and only the PG* settings of the
//! test's own database; what it printed and how it exited.
//!
//! Included with `#[path = "../support/cli.rs"] mod cli;` next to `mod common;`.

use crate::common::TestDb;
use std::fmt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_partnerdesk");

/// Every variable that could point the child at some other database.
pub const CONNECTION_VARS: &[&str] = &[
    "DATABASE_URL",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSSLMODE",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGAPPNAME",
];

/// Text that must never reach a user: panics, backtraces, raw debug dumps.
pub const DEBUG_NOISE: &[&str] = &[
    "panicked",
    "stack backtrace",
    "RUST_BACKTRACE",
    "Error {",
    "Error(",
    "Os {",
    "kind: ",
];

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let p = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        Self(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `name` in this directory and returns its path as text.
    pub fn file(&self, name: &str, contents: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write file");
        p.display().to_string()
    }

    /// The names of the files in this directory, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read temp dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run printed and how it exited.
pub struct Out {
    pub args: String,
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stdout = String::from_utf8_lossy(&self.stdout);
        let stdout: String = stdout.chars().take(2000).collect();
        write!(
            f,
            "\n$ partnerdesk {}\nexit code {}\n--- stdout\n{stdout}--- stderr\n{}---",
            self.args, self.code, self.stderr
        )
    }
}

impl Out {
    /// No panic, backtrace or debug dump on either stream.
    pub fn assert_clean(&self) -> &Self {
        let stdout = String::from_utf8_lossy(&self.stdout);
        for noise in DEBUG_NOISE {
            assert!(
                !stdout.contains(noise) && !self.stderr.contains(noise),
                "output contains {noise:?}:{self}"
            );
        }
        self
    }

    /// Exit 0, clean output, nothing on standard error.
    pub fn success(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success:{self}");
        assert_eq!(self.stderr, "", "nothing on standard error:{self}");
        self.assert_clean()
    }

    /// A failure: exit code `code`, nothing on standard output, exactly one line on standard
    /// error, starting with `partnerdesk: `. Returns that line without the prefix.
    pub fn error_line(&self, code: i32) -> String {
        assert_eq!(self.code, code, "expected exit code {code}:{self}");
        self.assert_clean();
        assert!(self.stdout.is_empty(), "nothing on standard output:{self}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "exactly one line on standard error:{self}");
        lines[0]
            .strip_prefix("partnerdesk: ")
            .unwrap_or_else(|| panic!("the line starts with 'partnerdesk: ':{self}"))
            .to_owned()
    }

    /// Standard output, which must be UTF-8.
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone())
            .unwrap_or_else(|_| panic!("standard output is UTF-8:{self}"))
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout_text().lines().map(str::to_owned).collect()
    }
}

/// `partnerdesk ARGS…` as OS user `user` against `db` (no database settings when `None`),
/// with `home` as its home.
pub fn command(db: Option<&TestDb>, user: &str, args: &[&str], home: &TempDir) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for v in CONNECTION_VARS {
        cmd.env_remove(v);
    }
    cmd.env("PARTNERDESK_HOME", &home.0)
        .env("USER", user)
        .env("RUST_BACKTRACE", "1")
        .env("TERM", "dumb")
        .env_remove("COLORTERM")
        .env_remove("NO_COLOR")
        .env_remove("PARTNERDESK_LOG");
    if let Some(db) = db {
        cmd.envs(db.pg_env());
    }
    cmd
}

/// Runs `cmd` (no standard input) to completion.
pub fn output(cmd: &mut Command, args: &[&str]) -> Out {
    let o = cmd
        .stdin(Stdio::null())
        .output()
        .expect("start partnerdesk");
    Out {
        args: args.join(" "),
        code: o
            .status
            .code()
            .expect("partnerdesk exited (not killed by a signal)"),
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `partnerdesk ARGS…` as `user` against `db`, with a fresh home, to completion.
pub fn pd(db: Option<&TestDb>, user: &str, args: &[&str]) -> Out {
    let home = TempDir::new("pd-cli-home");
    output(&mut command(db, user, args, &home), args)
}
