//! The command line (SPEC §3). Every subcommand calls services; errors print one line.
//! Output goes through [`output`], which never panics on a closed stream.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod agreements;
mod args;
mod bulk;
mod commands;
mod csv_list;
mod deals;
mod doctor;
mod export;
mod negotiations;
pub mod output;
mod partners;
mod payouts;
mod redemptions;
mod referrals;
mod settings;
mod settle;
pub mod simulate;
mod table;
mod webhooks;

pub use crate::context::{Context, GlobalArgs};
use crate::domain::Role;
use crate::error::{Result, exit};
use clap::{Args, Parser, Subcommand};
use output::errln;
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
    /// Past redemptions the platform reports in a batch: import a CSV file.
    #[command(subcommand)]
    Redemptions(redemptions::RedemptionsCommand),
    /// Create, vet, disable, re-vet, delete, off-board, list and show partners.
    #[command(subcommand)]
    Partners(partners::PartnersCommand),
    /// Author, edit, publish, pause, expire, list and show deals; search as a member; import CSV.
    #[command(subcommand)]
    Deals(deals::DealsCommand),
    /// Negotiate terms with partners: open, list, show, message, offer, accept, reject, withdraw.
    #[command(subcommand)]
    Negotiations(Box<negotiations::NegotiationsCommand>),
    /// Contracts from accepted negotiations: show, sign, mark benefits, change status.
    #[command(subcommand)]
    Contracts(negotiations::ContractsCommand),
    /// Agreements: a partner's commercial terms by version (add, list, show).
    #[command(subcommand)]
    Agreements(agreements::AgreementsCommand),
    /// Settlements for finance: compute, list, show, review, approve, dispute, pay, tally, export.
    #[command(subcommand)]
    Settle(settle::SettleCommand),
    /// Payout batches for finance: create (or --dry-run), list, show, write as SEPA or CSV,
    /// pay, cancel.
    #[command(subcommand)]
    Payouts(payouts::PayoutsCommand),
    /// The marketplace's settings: holding period, minimum payouts, its bank account
    /// (show: finance and admin; set: admin).
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// Subscription plans the platform sells (the referral program's prices).
    #[command(subcommand)]
    Plans(referrals::PlansCommand),
    /// The referral program: codes, claim tokens, attribution, commission rules, conversions.
    #[command(subcommand)]
    Referrals(referrals::ReferralsCommand),
    /// Export data as CSV (redemptions of a deal), streamed from the database.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Fire concurrent redemption attempts at a deal (creating a partner, a deal and members)
    /// and report outcomes, throughput and latency.
    #[command(long_about = simulate::LONG_ABOUT)]
    Simulate(simulate::SimulateArgs),
    /// Webhook endpoints (admin): add, list, disable, enable, rotate a secret, replay,
    /// list deliveries.
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// Deliver outbox events to the webhook endpoints, signed, with retries (admin); runs
    /// until SIGINT or SIGTERM, or with --once until nothing is due.
    Relay(webhooks::RelayArgs),
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
        /// Also give the person a PostgreSQL LOGIN role of that name (created if missing), a
        /// member of this database's groups for the roles: connected as it, the operator is
        /// that user and the database enforces the roles.
        #[arg(long)]
        db_login: bool,
    },
    /// List operators and their roles (a table, --json: an array of the records, or --csv).
    List {
        #[command(flatten)]
        print: args::Print,
        #[command(flatten)]
        csv: csv_list::CsvArgs,
    },
    /// Replace an operator's roles (admin).
    SetRoles {
        /// The operator's login.
        login: String,
        /// The new roles, replacing the old: curator, support, finance, admin.
        #[arg(long = "role", value_name = "ROLE", required = true, num_args = 1.., value_parser = parse_role)]
        roles: Vec<Role>,
        /// Give the operator a PostgreSQL LOGIN role too (one that has it is always updated).
        #[arg(long)]
        db_login: bool,
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
    /// Wipe the seeded tables first (the audit log is kept: it is append-only). Needs an
    /// admin; asks first (or --yes); refuses data not made by the demo seed (or --force).
    #[arg(long)]
    pub reset: bool,
    /// With --reset: wipe without asking.
    #[arg(long, requires = "reset")]
    pub yes: bool,
    /// With --reset: wipe even data not made by the demo seed.
    #[arg(long, requires = "reset")]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Expire every active deal whose valid_until has passed, and every open negotiation
    /// past its deadline.
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
    /// With --currency: what the member spent, in the currency's units, e.g. 12.50 (0 or
    /// more, and no more decimals than the currency has: JPY 0, EUR 2, KWD 3).
    #[arg(
        long,
        value_name = "AMOUNT",
        requires = "currency",
        allow_hyphen_values = true
    )]
    pub value: Option<String>,
    /// With --value: the value's ISO 4217 currency code (EUR, JPY, KWD…).
    #[arg(long, value_name = "CODE", requires = "value")]
    pub currency: Option<String>,
}

fn parse_role(s: &str) -> std::result::Result<Role, String> {
    s.parse()
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
                    // A closed standard output (`--help | head`) is no error: print ignores it.
                    let _ = e.print();
                    Err(ExitCode::from(
                        if e.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
                            exit::USAGE
                        } else {
                            exit::SUCCESS
                        },
                    ))
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
                    let args: Vec<String> = std::env::args_os()
                        .skip(1)
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect();
                    errln!("partnerdesk: {line} (see {} --help)", usage_command(&args));
                    Err(ExitCode::from(exit::USAGE))
                }
            }
        }
    }
}

/// The (sub)command a usage error is about, from the words of the command line that name
/// subcommands (`partnerdesk referrals claim pdc_… --acount 5` → `partnerdesk referrals
/// claim`): its own `--help` says what it takes. A flag's value is never taken for one.
fn usage_command(args: &[String]) -> String {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    cmd.build();
    let mut path = vec!["partnerdesk".to_owned()];
    let mut words = args.iter();
    while let Some(w) = words.next() {
        if w == "--" {
            break;
        }
        if let Some(flag) = w.strip_prefix("--") {
            let takes_value = !flag.contains('=')
                && cmd
                    .get_arguments()
                    .find(|a| a.get_long() == Some(flag))
                    .is_some_and(|a| a.get_action().takes_values());
            if takes_value {
                words.next();
            }
            continue;
        }
        if w.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(w).cloned() {
            Some(sub) if sub.get_name() != "help" => {
                path.push(sub.get_name().to_owned());
                cmd = sub;
            }
            _ => {
                if !cmd.has_subcommands() {
                    break;
                }
            }
        }
    }
    path.join(" ")
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(Command::Doctor) = cli.command {
        // A missing or bad config file is one failed step of the health check, not its end.
        let (ctx, config_error) = Context::load_lenient(cli.global);
        return doctor::run(&ctx, config_error).await;
    }
    let ctx = Context::load(cli.global)?;
    match cli.command {
        None => crate::console::runtime::run(&ctx).await,
        Some(Command::Migrate) => commands::migrate(&ctx).await,
        Some(Command::Doctor) => doctor::run(&ctx, None).await,
        Some(Command::Operators(c)) => commands::operators(&ctx, c).await,
        Some(Command::Seed(a)) => commands::seed(&ctx, a).await,
        Some(Command::Jobs(JobsCommand::Expire)) => commands::expire(&ctx).await,
        Some(Command::Redeem(a)) => commands::redeem(&ctx, a).await,
        Some(Command::Redemptions(c)) => redemptions::run(&ctx, c).await,
        Some(Command::Partners(c)) => partners::run(&ctx, c).await,
        Some(Command::Deals(c)) => deals::run(&ctx, c).await,
        Some(Command::Negotiations(c)) => negotiations::run(&ctx, *c).await,
        Some(Command::Contracts(c)) => negotiations::run_contracts(&ctx, c).await,
        Some(Command::Export(c)) => export::run(&ctx, c).await,
        Some(Command::Agreements(c)) => agreements::run(&ctx, c).await,
        Some(Command::Settle(c)) => settle::run(&ctx, c).await,
        Some(Command::Payouts(c)) => payouts::run(&ctx, c).await,
        Some(Command::Settings(c)) => settings::run(&ctx, c).await,
        Some(Command::Plans(c)) => referrals::run_plans(&ctx, c).await,
        Some(Command::Referrals(c)) => referrals::run(&ctx, c).await,
        Some(Command::Simulate(a)) => simulate::run(&ctx, a).await,
        Some(Command::Webhooks(c)) => webhooks::run(&ctx, c).await,
        Some(Command::Relay(a)) => webhooks::relay(&ctx, a).await,
    }
}

/// An I/O error without the "(os error 2)" suffix.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_owned(),
                None => s,
            }
        }
    }
}
