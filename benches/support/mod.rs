//! What the benchmarks share: their start (the server, the runtime, an error's one line), how
//! psql reaches the benchmark's server, dropping a database, and how figures are printed
//! (medians, thousands, the machine and its load). Each benchmark includes this
//! with `#[path = "support/mod.rs"] mod support;` and uses what it needs.

#![allow(dead_code)]

use partnerdesk::config::Config;
use partnerdesk::store::{ConnectRequest, DbSettings};
use sqlx::PgConnection;
use sqlx::postgres::PgConnectOptions;
use std::path::Path;
use std::process::{Command, Stdio};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = Result<T, BoxError>;

/// A benchmark's command line: flags as `--name value` or `--name=value`. Cargo's own
/// `--bench` is skipped, and `-h`/`--help` prints the usage and exits.
pub struct Args {
    args: std::iter::Skip<std::env::Args>,
    usage: &'static str,
    /// The current flag's `=value`, if it had one.
    inline: Option<String>,
}

impl Args {
    pub fn new(usage: &'static str) -> Self {
        Self {
            args: std::env::args().skip(1),
            usage,
            inline: None,
        }
    }

    /// The next flag's name, or `None` at the end.
    pub fn flag(&mut self) -> Option<String> {
        loop {
            let arg = self.args.next()?;
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
                _ => (arg, None),
            };
            match name.as_str() {
                "--bench" => continue,
                "-h" | "--help" => {
                    println!("{}", self.usage);
                    std::process::exit(0);
                }
                _ => {
                    self.inline = inline;
                    return Some(name);
                }
            }
        }
    }

    /// The value of `flag`, as text.
    pub fn text(&mut self, flag: &str) -> Res<String> {
        self.inline
            .take()
            .or_else(|| self.args.next())
            .ok_or_else(|| format!("{flag} needs a value\n{}", self.usage).into())
    }

    /// The value of `flag`, read as a number (`_` may group digits).
    pub fn number<T: std::str::FromStr>(&mut self, flag: &str) -> Res<T>
    where
        T::Err: std::fmt::Display,
    {
        let v = self.text(flag)?;
        v.replace('_', "")
            .parse()
            .map_err(|e| format!("{flag}: {e}").into())
    }

    /// The refusal of a flag this benchmark does not know.
    pub fn unknown(&self, flag: &str) -> BoxError {
        format!("unknown argument {flag:?}\n{}", self.usage).into()
    }
}

/// Runs a benchmark's `main`: an error is one line, `NAME bench: …`, and exit code 1.
pub fn main(name: &str, body: impl FnOnce() -> Res<()>) {
    if let Err(e) = body() {
        eprintln!("{name} bench: {e}");
        std::process::exit(1);
    }
}

/// The benchmark's server: `--database-url` when given, else the usual connection rules
/// without `DATABASE_URL` and `PGDATABASE` (a benchmark makes and names its own databases).
/// Call it before any thread starts.
pub fn settings(database_url: Option<String>) -> Res<DbSettings> {
    // SAFETY: called first thing in `main`: no runtime, no other thread yet.
    unsafe {
        std::env::remove_var("DATABASE_URL");
        std::env::remove_var("PGDATABASE");
    }
    Ok(DbSettings::resolve(
        &ConnectRequest {
            database_url,
            profile: None,
        },
        &Config::default(),
        Path::new("(bench)"),
    )?)
}

/// The runtime benchmarks run on: two workers, as on the 2-CPU machines they are measured on.
pub fn runtime() -> Res<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The server's version (`SHOW server_version`).
pub async fn server_version(admin: &mut PgConnection) -> Res<String> {
    Ok(sqlx::query_scalar("SHOW server_version")
        .fetch_one(admin)
        .await?)
}

/// "  machine   2 CPU(s), load 0.52 0.40 0.31 (1, 5, 15 min) at start".
pub fn machine() -> String {
    format!(
        "  machine   {} CPU(s), load {} (1, 5, 15 min) at start",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        loadavg()
    )
}

/// How psql reaches a database of the benchmark's server: the URL given with
/// `--database-url` (its database name replaced), else the connection's host or socket.
pub struct Server {
    pub options: PgConnectOptions,
    pub url: Option<String>,
}

impl Server {
    pub fn options(&self, database: &str) -> PgConnectOptions {
        self.options.clone().database(database)
    }

    /// `psql -X -q -v ON_ERROR_STOP=1` on `database`, its output discarded, its errors piped.
    pub fn psql(&self, database: &str) -> Res<Command> {
        let mut cmd = Command::new("psql");
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
        for v in ["DATABASE_URL", "PGHOSTADDR", "PGDATABASE", "PGSERVICE"] {
            cmd.env_remove(v);
        }
        match &self.url {
            Some(u) => {
                let mut u = url::Url::parse(u).map_err(|e| format!("--database-url: {e}"))?;
                u.set_path(&format!("/{database}"));
                cmd.arg(u.as_str());
            }
            None => {
                let o = &self.options;
                let host = match o.get_socket() {
                    Some(dir) => dir.display().to_string(),
                    None => o.get_host().to_owned(),
                };
                cmd.env("PGHOST", host)
                    .env("PGPORT", o.get_port().to_string())
                    .env("PGUSER", o.get_username())
                    .env("PGDATABASE", database);
            }
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        Ok(cmd)
    }
}

pub async fn drop_database(admin: &mut PgConnection, name: &str) -> Res<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut *admin)
    .await?;
    Ok(())
}

/// The median (the mean of the middle two for an even count); sorts `v`.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if !n.is_multiple_of(2) {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: impl ToString) -> String {
    let s = n.to_string();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(d) => ("-", d.to_owned()),
        None => ("", s),
    };
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The load averages over 1, 5 and 15 minutes, as the kernel says them.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}
