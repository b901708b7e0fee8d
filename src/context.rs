//! What the command line and the console both start from: the global flags, the config file,
//! the directories and the connection settings. It sits below both, so neither imports the
//! other for it.

use crate::config::{Config, Dirs};
use crate::error::{Error, Result};
use crate::service::Desk;
use crate::service::operators::{Claim, ClaimSource};
pub use crate::store::DbSettings;
use crate::store::{self, ConnectRequest};
use clap::Args;
use sqlx::PgPool;
use std::path::PathBuf;

#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// PostgreSQL URL (postgres://user@host:port/db); wins over every other setting.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// A named connection profile from the config file.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// Act as this operator (default: the config file's operator, then $USER).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "LOGIN"
    )]
    pub operator: Option<String>,
    /// Use another config file instead of the one in the config directory.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// Open the console read-only: no mutating action is available (given before a
    /// subcommand, that command may change nothing either).
    #[arg(long)]
    pub read_only: bool,
    /// Theme name for the console (default, mono, or a file in the config directory's themes/).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
}

/// Everything a subcommand needs: config, directories, connection settings.
pub struct Context {
    pub global: GlobalArgs,
    pub dirs: Dirs,
    pub config_path: PathBuf,
    pub config: Config,
}

impl Context {
    /// Reads the config file. The default one may be missing (every key is optional); a file
    /// named by `--config` must exist. A missing or bad file is an error naming it.
    pub fn load(global: GlobalArgs) -> Result<Self> {
        match Self::load_lenient(global) {
            (ctx, None) => Ok(ctx),
            (_, Some(e)) => Err(e),
        }
    }

    /// Like [`Context::load`], but a missing or bad config file is handed back beside a
    /// context with the default config, for `doctor` to report as one failed step.
    pub fn load_lenient(global: GlobalArgs) -> (Self, Option<Error>) {
        let dirs = Dirs::discover();
        let config_path = global.config.clone().unwrap_or_else(|| dirs.config_file());
        let loaded = if global.config.is_some() && !config_path.exists() {
            Err(Error::Config(format!(
                "--config {}: no such file",
                config_path.display()
            )))
        } else {
            Config::load(&config_path)
        };
        let (config, error) = match loaded {
            Ok(c) => (c, None),
            Err(e) => (Config::default(), Some(e)),
        };
        let ctx = Self {
            global,
            dirs,
            config_path,
            config,
        };
        (ctx, error)
    }

    pub fn settings(&self) -> Result<DbSettings> {
        DbSettings::resolve(
            &ConnectRequest {
                database_url: self.global.database_url.clone(),
                profile: self.global.profile.clone(),
            },
            &self.config,
            &self.config_path,
        )
    }

    /// The operator login: `--operator`, the config file, then the OS user.
    pub fn operator_login(&self) -> String {
        self.operator_claim().login
    }

    /// The operator login and where it came from (a session on a person's own database
    /// login refuses an explicit other name; see [`Desk::identify`]).
    pub fn operator_claim(&self) -> Claim {
        let (login, source) = if let Some(l) = self.global.operator.clone() {
            (l, ClaimSource::Flag)
        } else if let Some(l) = self.config.operator.clone() {
            (l, ClaimSource::Config)
        } else {
            let os = std::env::var("USER")
                .ok()
                .filter(|u| !u.is_empty())
                .or_else(|| whoami::username().ok())
                .unwrap_or_else(|| "unknown".into());
            (os, ClaimSource::OsUser)
        };
        Claim { login, source }
    }

    /// Connects; migrates where the connected user owns the schema, else checks that the
    /// schema is current, read-only.
    pub async fn pool(&self, max_connections: u32) -> Result<PgPool> {
        let settings = self.settings()?;
        let pool = settings.connect(max_connections).await?;
        store::migrate::ensure_current(&pool).await?;
        tracing::info!(target = %settings.target(), source = %settings.source, "connected");
        Ok(pool)
    }

    pub async fn desk(&self, max_connections: u32) -> Result<Desk> {
        let pool = self.pool(max_connections).await?;
        Desk::identify(pool, &self.operator_claim(), self.global.read_only).await
    }
}
