//! Subcommands that call services and print their outcome.

use super::csv_list::{CsvColumn, instant, write_pages};
use super::output::{errln, outln};
use super::{Context, OperatorsCommand, RedeemArgs, SeedArgs};
use crate::domain::{OrderValue, Role};
use crate::error::{Error, Result};
use crate::seed::{self, Plan};
use crate::store;
use crate::store::operators::Operator;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;

pub async fn migrate(ctx: &Context) -> Result<ExitCode> {
    let settings = ctx.settings()?;
    let pool = settings.connect(2).await?;
    if !store::migrate::may_migrate(&pool).await? {
        // Not the schema owner (or a read-only connection): say where the schema stands.
        let (total, pending, _) = store::migrate::status(&pool).await?;
        if !pending.is_empty() {
            let user: String = sqlx::query_scalar("SELECT current_user::text")
                .fetch_one(&pool)
                .await
                .map_err(crate::error::DbError::from)?;
            return Err(Error::Database(crate::error::DbError::new(
                crate::error::DbErrorKind::Migration,
                format!(
                    "{}: {} migration{} pending, and {user} does not own the schema: run partnerdesk migrate as the schema owner",
                    settings.target(),
                    pending.len(),
                    if pending.len() == 1 { "" } else { "s" }
                ),
            )));
        }
        store::migrate::check_current(&pool).await?;
        outln!(
            "{}: schema is current ({total} migrations); only the schema owner applies migrations",
            settings.target()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let applied = store::migrate::run(&pool).await?;
    let (total, _, _) = store::migrate::status(&pool).await?;
    if applied == 0 {
        outln!(
            "{}: schema is current ({total} migrations)",
            settings.target()
        );
    } else {
        outln!(
            "{}: applied {applied} migration(s); {total} in all",
            settings.target()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn operators(ctx: &Context, cmd: OperatorsCommand) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    match cmd {
        OperatorsCommand::Add {
            login,
            roles,
            name,
            db_login,
        } => {
            let op = desk
                .add_operator_with(&login, name.as_deref().unwrap_or(&login), &roles, db_login)
                .await?;
            outln!(
                "registered {} ({}) as {}{}",
                op.login,
                op.display_name,
                op.roles.join(", "),
                if db_login {
                    format!("; database login {} may connect as itself", op.login)
                } else {
                    String::new()
                }
            );
        }
        OperatorsCommand::SetRoles {
            login,
            roles,
            db_login,
        } => {
            let op = desk
                .set_operator_roles_with(&login, &roles, None, db_login)
                .await?;
            outln!("{} is now {}", op.login, op.roles.join(", "));
        }
        OperatorsCommand::List { csv, .. } if csv.csv => {
            // Every operator comes in one page: there are few.
            let all = desk.list_operators().await?;
            let mut pages = Some(all);
            let cursor = |o: &Operator| o.login.clone();
            return write_pages(&csv, "operators", OPERATOR_COLUMNS, cursor, |_| {
                let rows = pages.take().unwrap_or_default();
                async move { Ok(rows) }
            })
            .await;
        }
        OperatorsCommand::List { print, .. } => {
            let ops = desk.list_operators().await?;
            if print.json {
                super::output::json(&ops)?;
            } else if ops.is_empty() {
                outln!(
                    "no operators registered; the first one may be added by anyone: partnerdesk operators add LOGIN --role admin"
                );
            } else {
                // A name stored before control characters were refused prints without them.
                let name =
                    |o: &crate::store::operators::Operator| super::table::one_line(&o.display_name);
                let w = ops.iter().map(|o| o.login.len()).max().unwrap_or(5).max(5);
                let n = ops
                    .iter()
                    .map(|o| name(o).chars().count())
                    .max()
                    .unwrap_or(4)
                    .max(4);
                outln!("{:<w$}  {:<n$}  ROLES", "LOGIN", "NAME");
                for o in ops {
                    outln!("{:<w$}  {:<n$}  {}", o.login, name(&o), o.roles.join(","));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `operators list --csv`.
const OPERATOR_COLUMNS: &[CsvColumn<Operator>] = &[
    ("login", |o| o.login.clone()),
    ("name", |o| o.display_name.clone()),
    ("roles", |o| o.roles.join(",")),
    ("version", |o| o.version.to_string()),
    ("updated_by", |o| o.updated_by.clone()),
    ("updated", |o| instant(o.updated_at)),
];

pub async fn seed(ctx: &Context, args: SeedArgs) -> Result<ExitCode> {
    let settings = ctx.settings()?;
    let desk = ctx.desk(4).await?;
    let pool = desk.pool().clone();
    if !store::migrate::may_migrate(&pool).await? {
        return Err(Error::Refused(format!(
            "seed loads tables directly: run it as the schema owner, not as {}",
            desk.db_identity().await?.user
        )));
    }
    let (partners, deals) = seed::existing_rows(&pool).await?;
    if partners + deals > 0 {
        if !args.reset {
            outln!(
                "{}: already holds data ({partners} partners, {deals} deals); nothing seeded (use --reset to wipe and seed again)",
                settings.target()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let actor = desk.actor();
        if !(actor.registered && !actor.read_only && actor.roles.contains(&Role::Admin)) {
            return Err(Error::Refused(format!(
                "seed --reset wipes every partner, deal, member and redemption: it needs an admin, and {} is {}",
                actor.login,
                if !actor.registered {
                    "not a registered operator".to_owned()
                } else if actor.read_only {
                    "in a read-only session".to_owned()
                } else {
                    format!("{} only", actor.roles_text())
                }
            )));
        }
        if !args.force && !seed::only_demo_data(&pool).await? {
            return Err(Error::Refused(format!(
                "{}: holds data not made by seed --demo (or changed since); --reset would wipe it: add --force to wipe it anyway",
                settings.target()
            )));
        }
        if !args.yes {
            confirm(&format!(
                "{}: wipe {partners} partners, {deals} deals and every member and redemption, then seed again? [y/N] ",
                settings.target()
            ))?;
        }
        seed::reset(&pool, &actor.login).await?;
    }
    let plan = Plan::for_deals(args.scale.unwrap_or(Plan::DEMO_DEALS));
    let started = std::time::Instant::now();
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Some(b)
    } else {
        None
    };
    let mut last_phase = String::new();
    let mut progress = |phase: &str, done: u64, total: u64| {
        if let Some(b) = &bar {
            if phase != last_phase {
                b.set_prefix(phase.to_owned());
                b.set_length(total);
            }
            b.set_position(done);
        } else if phase != last_phase {
            errln!("seeding {phase} ({total})");
        }
        if phase != last_phase {
            last_phase = phase.to_owned();
        }
    };
    // The OS user becomes the admin only of a database with no operators yet.
    let admin = (seed::operator_count(&pool).await? == 0).then(|| whoami_login(ctx));
    let report = seed::run(&pool, plan, admin.as_deref(), &mut progress).await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    outln!(
        "{}: seeded {} partners, {} members, {} deals, {} redemptions, {} negotiations, {} settlements, {} operators in {:.1}s",
        settings.target(),
        report.partners,
        report.members,
        report.deals,
        report.redemptions,
        report.negotiations,
        report.settlements,
        report.operators,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// `--read-only` records nothing, not even as the platform.
pub(super) fn refuse_read_only(ctx: &Context) -> Result<()> {
    if ctx.global.read_only {
        return Err(Error::ReadOnly {
            action: "recording redemptions",
        });
    }
    Ok(())
}

/// Asks on the terminal; no terminal on standard input is a refusal (pass --yes).
fn confirm(question: &str) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::Refused(
            "seed --reset asks for confirmation and standard input is not a terminal: add --yes to wipe without asking".into(),
        ));
    }
    super::output::err_flush(question);
    let mut answer = String::new();
    stdin.read_line(&mut answer).map_err(|source| Error::Io {
        context: "cannot read the answer".into(),
        source,
    })?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::Cancelled {
            what: "seed --reset",
        })
    }
}

/// The OS user, registered as admin by the demo seed.
fn whoami_login(ctx: &Context) -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| whoami::username().ok())
        .unwrap_or_else(|| ctx.operator_login())
}

pub async fn expire(ctx: &Context) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let now = chrono::Utc::now();
    let n = desk.expire_due_deals(now).await?;
    let t = desk.expire_due_negotiations(now).await?;
    outln!("expired {n} deal{}", if n == 1 { "" } else { "s" });
    // Threads past their deadline: a line only when there were some (scripts read the first).
    if t > 0 {
        outln!("expired {t} negotiation{}", if t == 1 { "" } else { "s" });
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn redeem(ctx: &Context, args: RedeemArgs) -> Result<ExitCode> {
    refuse_read_only(ctx)?;
    // A value that does not read is refused before anything is asked of the database.
    let value = OrderValue::parse(args.value.as_deref(), args.currency.as_deref())?;
    let desk = ctx.desk(2).await?;
    match desk.record_redemption(args.deal, args.member, value).await {
        Ok(r) => {
            outln!(
                "redeemed: redemption {} of deal {} by member {} at {}{}{}",
                r.id,
                r.deal_id,
                r.member_id,
                r.redeemed_at.format("%Y-%m-%d %H:%M:%S%.3f UTC"),
                r.coupon_code
                    .as_deref()
                    .map(|c| format!(" with code {c}"))
                    .unwrap_or_default(),
                r.value()
                    .map(|v| format!(", value {v}"))
                    .unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        // What the platform would answer, on standard output; exit 3 (4 for a deal the
        // member cannot find).
        Err(e @ Error::Redemption(_)) => {
            outln!("refused: {e}");
            Ok(ExitCode::from(e.exit_code()))
        }
        Err(e) => Err(e),
    }
}
