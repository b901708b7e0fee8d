//! Finding and opening the database (SPEC §4).
//!
//! Order: `--database-url`, `DATABASE_URL`, a named profile from the config file, the libpq
//! `PG*` variables, then the local server's default socket with a database named
//! `partnerdesk`, created if missing when the role may.

use crate::config::Config;
use crate::error::{DbError, DbErrorKind, Error, Result};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub const DEFAULT_DATABASE: &str = "partnerdesk";
/// How long a first connection may take before it is reported as timed out.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A pooled connection idle this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Where the connection settings came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    EnvUrl,
    Profile(String),
    PgEnv,
    DefaultSocket,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("--database-url"),
            Source::EnvUrl => f.write_str("DATABASE_URL"),
            Source::Profile(p) => write!(f, "profile '{p}'"),
            Source::PgEnv => f.write_str("PG* environment variables"),
            Source::DefaultSocket => f.write_str("local default socket"),
        }
    }
}

/// Connection settings, resolved.
#[derive(Debug, Clone)]
pub struct DbSettings {
    pub options: PgConnectOptions,
    pub source: Source,
    /// Create the database when it does not exist (the local default only).
    pub create_if_missing: bool,
}

/// What the caller asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct ConnectRequest {
    pub database_url: Option<String>,
    pub profile: Option<String>,
}

const PG_VARS: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSSLMODE",
];

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_url(url: &str, what: &str) -> Result<PgConnectOptions> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Error::Config(format!(
            "{what} must be a postgres:// URL, like postgres://user@host:5432/partnerdesk"
        )));
    }
    // The parser's own message may quote the URL; say what is wrong without echoing it.
    PgConnectOptions::from_str(url).map_err(|e| {
        let reason = match e {
            sqlx::Error::Configuration(c) => {
                let c = c.to_string();
                if c.contains(url) {
                    "it does not parse".to_owned()
                } else {
                    c
                }
            }
            _ => "it does not parse".to_owned(),
        };
        Error::Config(format!("{what} is not a valid PostgreSQL URL: {reason}"))
    })
}

impl DbSettings {
    /// Applies the connection rules of SPEC §4.
    pub fn resolve(req: &ConnectRequest, config: &Config, config_path: &Path) -> Result<Self> {
        if let Some(url) = req.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
            return Ok(Self::explicit(
                parse_url(url, "--database-url")?,
                Source::Flag,
            ));
        }
        if let Some(url) = env_nonempty("DATABASE_URL") {
            return Ok(Self::explicit(
                parse_url(&url, "DATABASE_URL")?,
                Source::EnvUrl,
            ));
        }
        let profile = req.profile.clone().or_else(|| config.profile.clone());
        if let Some(name) = profile {
            let Some(p) = config.profiles.get(&name) else {
                let known: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
                return Err(Error::Config(format!(
                    "no profile '{name}' in {} (profiles there: {})",
                    config_path.display(),
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            };
            let what = format!("profile '{name}' url in {}", config_path.display());
            return Ok(Self::explicit(
                parse_url(&p.url, &what)?,
                Source::Profile(name),
            ));
        }
        if PG_VARS.iter().any(|v| env_nonempty(v).is_some()) {
            let mut options = PgConnectOptions::new();
            if env_nonempty("PGDATABASE").is_none() {
                options = options.database(DEFAULT_DATABASE);
            }
            return Ok(Self {
                options: options.application_name("partnerdesk"),
                source: Source::PgEnv,
                create_if_missing: env_nonempty("PGDATABASE").is_none(),
            });
        }
        Self::local_default()
    }

    fn explicit(options: PgConnectOptions, source: Source) -> Self {
        Self {
            options: options.application_name("partnerdesk"),
            source,
            create_if_missing: false,
        }
    }

    /// The local server's default socket, as the OS user, database `partnerdesk`.
    pub fn local_default() -> Result<Self> {
        let dir = ["/var/run/postgresql", "/run/postgresql", "/private/tmp", "/tmp"]
            .into_iter()
            .find(|d| Path::new(d).join(".s.PGSQL.5432").exists())
            .ok_or_else(|| {
                Error::Database(DbError::new(
                    DbErrorKind::Unreachable,
                    "no connection settings given and no local PostgreSQL socket found (looked in /var/run/postgresql and /tmp); start the local server or pass --database-url",
                ))
            })?;
        let user = whoami::username().unwrap_or_else(|_| "postgres".to_owned());
        Ok(Self {
            options: PgConnectOptions::new_without_pgpass()
                .socket(dir)
                .port(5432)
                .username(&user)
                .database(DEFAULT_DATABASE)
                .application_name("partnerdesk"),
            source: Source::DefaultSocket,
            create_if_missing: true,
        })
    }

    /// `user@host:port/db`, never with a password.
    pub fn target(&self) -> String {
        display_target(&self.options)
    }

    pub fn database(&self) -> &str {
        self.options
            .get_database()
            .unwrap_or(self.options.get_username())
    }

    /// Opens a pool, creating the database first when allowed and missing. One direct
    /// connection is made first so that a failure is reported as itself (refused, wrong
    /// password, TLS, …) rather than as a pool time-out.
    pub async fn connect(&self, max_connections: u32) -> Result<PgPool> {
        let options = self.quiet_options();
        match self.probe(&options).await {
            Ok(()) => {}
            Err(e) if is_missing_database(&e) && self.create_if_missing => {
                self.create_database().await?;
            }
            Err(e) if is_missing_database(&e) => {
                return Err(Error::Database(DbError::new(
                    DbErrorKind::MissingDatabase,
                    format!(
                        "{}: database \"{}\" does not exist; create it with: createdb {}",
                        self.target(),
                        self.database(),
                        self.database()
                    ),
                )));
            }
            Err(e) => return Err(Error::Database(DbError::at(&e, &self.target()))),
        }
        PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx tests every connection when it is released; testing it again on acquire
            // costs a round trip per transaction. Only a connection that has sat idle since
            // may have been lost meanwhile: ping those (sqlx's documented pattern).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| Error::Database(DbError::at(&e, &self.target())))
    }

    async fn probe(&self, options: &PgConnectOptions) -> std::result::Result<(), sqlx::Error> {
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Options with statement logging turned down (logs are for us, not the driver's noise).
    pub fn quiet_options(&self) -> PgConnectOptions {
        self.options.clone().disable_statement_logging()
    }

    async fn create_database(&self) -> Result<()> {
        let db = self.database().to_owned();
        let admin = self.quiet_options().database("postgres");
        let mut conn = match PgConnection::connect_with(&admin).await {
            Ok(c) => c,
            Err(_) => PgConnection::connect_with(&admin.clone().database("template1"))
                .await
                .map_err(|e| Error::Database(DbError::at(&e, &self.target())))?,
        };
        let sql = format!("CREATE DATABASE \"{}\"", db.replace('"', "\"\""));
        match sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            Ok(_) => {
                tracing::info!(database = %db, "created database");
                Ok(())
            }
            // Somebody else created it in the meantime.
            Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("42P04") => Ok(()),
            Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("42501") => {
                Err(Error::Database(DbError::new(
                    DbErrorKind::Privilege,
                    format!(
                        "{}: database \"{db}\" does not exist and role \"{}\" may not create it; ask an administrator to run: createdb -O {} {db}",
                        self.target(),
                        self.options.get_username(),
                        self.options.get_username()
                    ),
                )))
            }
            Err(e) => Err(Error::Database(DbError::at(&e, &self.target()))),
        }
    }
}

/// The server's `max_connections` less its reserved slots, and how many connections are open
/// now: how many more a client may open (roughly: others come and go).
pub async fn connection_room(conn: &mut PgConnection) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT current_setting('max_connections')::bigint
                - current_setting('superuser_reserved_connections')::bigint,
                (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')",
    )
    .fetch_one(conn)
    .await
}

fn is_missing_database(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000"))
}

/// `user@host:port/db` for any options; a socket shows its directory as the host.
pub fn display_target(o: &PgConnectOptions) -> String {
    let host = match o.get_socket() {
        Some(dir) => dir.display().to_string(),
        None => o.get_host().to_owned(),
    };
    let db = o.get_database().unwrap_or(o.get_username());
    format!("{}@{}:{}/{}", o.get_username(), host, o.get_port(), db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_never_shows_the_password() {
        let o = parse_url(
            "postgres://alice:s3cret@db.example:6432/pd?sslmode=require",
            "x",
        )
        .unwrap();
        let t = display_target(&o);
        assert_eq!(t, "alice@db.example:6432/pd");
        assert!(!t.contains("s3cret"));
    }

    #[test]
    fn bad_urls_are_one_clear_line_without_the_secret() {
        let e = parse_url("mysql://root:pw@h/db", "--database-url")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--database-url must be a postgres:// URL, like postgres://user@host:5432/partnerdesk"
        );
        let e = parse_url("postgres://u:pw@h:notaport/db", "DATABASE_URL")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("DATABASE_URL is not a valid PostgreSQL URL"),
            "{e}"
        );
        assert!(!e.contains("pw@"), "{e}");
    }

    #[test]
    fn unknown_profile_lists_the_known_ones() {
        let cfg = Config::parse(
            "[profiles.stage]\nurl = \"postgres://a@h/db\"\n",
            Path::new("c.toml"),
        )
        .unwrap();
        let req = ConnectRequest {
            database_url: None,
            profile: Some("prod".into()),
        };
        // DATABASE_URL would win over a profile; this test only runs the profile branch when unset.
        if std::env::var_os("DATABASE_URL").is_none() {
            let e = DbSettings::resolve(&req, &cfg, Path::new("c.toml"))
                .unwrap_err()
                .to_string();
            assert_eq!(e, "no profile 'prod' in c.toml (profiles there: stage)");
        }
    }

    #[test]
    fn flag_wins() {
        let cfg = Config::default();
        let req = ConnectRequest {
            database_url: Some("postgres://x@h1:1/one".into()),
            profile: Some("nope".into()),
        };
        let s = DbSettings::resolve(&req, &cfg, Path::new("c.toml")).unwrap();
        assert_eq!(s.source, Source::Flag);
        assert_eq!(s.target(), "x@h1:1/one");
    }
}
