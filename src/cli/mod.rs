//! The command line (SPEC §3). Every subcommand calls services; errors print one line.

mod commands;
mod deals;
mod doctor;
mod export;
pub mod simulate;

use crate::config::{Config, Dirs};
use crate::domain::Role;
use crate::error::Result;
use crate::service::Desk;
use crate::store::{self, ConnectRequest, DbSettings};
use clap::{Args, Parser, Subcommand};
use sqlx::PgPool;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "partnerdesk",
    version,
    about = "Terminal back-office console for a curated partner marketplace",
    long_about = "Terminal back-office console for a curated partner marketplace.\n\n\
        With no subcommand, opens the console. Connection: --database-url, then DATABASE_URL, \
        then a profile from the config file, then the PG* variables, then the local server's \
        default socket with a database named partnerdesk (created if missing)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// PostgreSQL URL (postgres://user@host:port/db); wins over every other setting.
    #[arg(long, global = true, value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A named connection profile from the config file.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Act as this operator (default: the config file's operator, then $USER).
    #[arg(long, global = true, value_name = "LOGIN")]
    pub operator: Option<String>,
    /// Use another config file instead of the one in the config directory.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Open the console read-only: no mutating action is available.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Theme name for the console (default, mono, or a file in the config directory's themes/).
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations.
    Migrate,
    /// Check the connection, the server, the migrations, the operator and the terminal.
    Doctor,
    /// Register operators and list them.
    #[command(subcommand)]
    Operators(OperatorsCommand),
    /// Fill the database with demo data.
    Seed(SeedArgs),
    /// Run background jobs once (for cron).
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Record one redemption, as the platform would.
    Redeem(RedeemArgs),
    /// Search deals as a member sees them, and import deals from CSV.
    #[command(subcommand)]
    Deals(deals::DealsCommand),
    /// Export data as CSV (redemptions of a deal), streamed from the database.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Fire concurrent redemption attempts at a deal and report outcomes, throughput and latency.
    Simulate(simulate::SimulateArgs),
}

#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// Register an operator (needs admin, except for the first operator).
    Add {
        /// Login: lowercase letters, digits, '.', '_' or '-'.
        login: String,
        /// One or more roles: curator, support, finance, admin.
        #[arg(long = "role", value_name = "ROLE", required = true, num_args = 1.., value_parser = parse_role)]
        roles: Vec<Role>,
        /// Display name (default: the login).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// List operators and their roles.
    List,
    /// Replace an operator's roles (admin).
    SetRoles {
        /// The operator's login.
        login: String,
        /// The new roles, replacing the old: curator, support, finance, admin.
        #[arg(long = "role", value_name = "ROLE", required = true, num_args = 1.., value_parser = parse_role)]
        roles: Vec<Role>,
    },
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Seed the deterministic demo data set.
    #[arg(long, required = true)]
    pub demo: bool,
    /// Number of deals (partners, members and redemptions scale with it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub scale: Option<u64>,
    /// Wipe the seeded tables first (the audit log is kept: it is append-only).
    #[arg(long)]
    pub reset: bool,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Expire every active deal whose valid_until has passed.
    Expire,
}

#[derive(Debug, Args)]
pub struct RedeemArgs {
    /// Deal id.
    #[arg(long, value_name = "ID")]
    pub deal: i64,
    /// Member id.
    #[arg(long, value_name = "ID")]
    pub member: i64,
}

fn parse_role(s: &str) -> std::result::Result<Role, String> {
    s.parse()
}

/// Everything a subcommand needs: config, directories, connection settings.
pub struct Context {
    pub global: GlobalArgs,
    pub dirs: Dirs,
    pub config_path: PathBuf,
    pub config: Config,
}

impl Context {
    pub fn load(global: GlobalArgs) -> Result<Self> {
        let dirs = Dirs::discover();
        let config_path = global.config.clone().unwrap_or_else(|| dirs.config_file());
        let config = Config::load(&config_path)?;
        Ok(Self {
            global,
            dirs,
            config_path,
            config,
        })
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
        self.global
            .operator
            .clone()
            .or_else(|| self.config.operator.clone())
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .or_else(|| whoami::username().ok())
            .unwrap_or_else(|| "unknown".into())
    }

    /// Connects and applies pending migrations.
    pub async fn pool(&self, max_connections: u32) -> Result<PgPool> {
        let settings = self.settings()?;
        let pool = settings.connect(max_connections).await?;
        store::migrate::run(&pool).await?;
        tracing::info!(target = %settings.target(), source = %settings.source, "connected");
        Ok(pool)
    }

    pub async fn desk(&self, max_connections: u32) -> Result<Desk> {
        let pool = self.pool(max_connections).await?;
        Desk::for_operator(pool, &self.operator_login(), self.global.read_only).await
    }
}

/// Parses arguments; usage errors print one line. Help and version print as usual.
pub fn parse() -> std::result::Result<Cli, ExitCode> {
    match Cli::try_parse() {
        Ok(c) => Ok(c),
        Err(e) => {
            use clap::error::ErrorKind as K;
            match e.kind() {
                K::DisplayHelp
                | K::DisplayVersion
                | K::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    Err(if e.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
                        ExitCode::from(2)
                    } else {
                        ExitCode::SUCCESS
                    })
                }
                _ => {
                    // The message up to the usage block, folded onto one line.
                    let text = e.render().to_string();
                    let message: Vec<&str> = text
                        .lines()
                        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
                        .map(str::trim)
                        .collect();
                    let line = message.join(" ");
                    let line = line.strip_prefix("error: ").unwrap_or(&line);
                    eprintln!("partnerdesk: {line} (see partnerdesk --help)");
                    Err(ExitCode::from(2))
                }
            }
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Context::load(cli.global)?;
    match cli.command {
        None => crate::console::runtime::run(&ctx).await,
        Some(Command::Migrate) => commands::migrate(&ctx).await,
        Some(Command::Doctor) => doctor::run(&ctx).await,
        Some(Command::Operators(c)) => commands::operators(&ctx, c).await,
        Some(Command::Seed(a)) => commands::seed(&ctx, a).await,
        Some(Command::Jobs(JobsCommand::Expire)) => commands::expire(&ctx).await,
        Some(Command::Redeem(a)) => commands::redeem(&ctx, a).await,
        Some(Command::Deals(c)) => deals::run(&ctx, c).await,
        Some(Command::Export(c)) => export::run(&ctx, c).await,
        Some(Command::Simulate(a)) => simulate::run(&ctx, a).await,
    }
}
