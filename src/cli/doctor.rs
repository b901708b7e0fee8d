//! `partnerdesk doctor`: each step, its outcome, and what to do about a failure.

use super::Context;
use super::output::outln;
use crate::error::{Error, Result, exit};
use crate::service::Desk;
use crate::store;
use std::io::IsTerminal;
use std::process::ExitCode;

struct Report {
    failed: bool,
}

impl Report {
    fn ok(&self, step: &str, detail: impl AsRef<str>) {
        outln!("  ok    {step:<12} {}", detail.as_ref());
    }
    fn warn(&self, step: &str, detail: impl AsRef<str>) {
        outln!("  warn  {step:<12} {}", detail.as_ref());
    }
    fn fail(&mut self, step: &str, detail: impl AsRef<str>) {
        self.failed = true;
        outln!("  FAIL  {step:<12} {}", detail.as_ref());
    }
}

/// Runs every step; `config_error` is why the config file could not be used (the other steps
/// then run with the defaults).
pub async fn run(ctx: &Context, config_error: Option<Error>) -> Result<ExitCode> {
    let mut r = Report { failed: false };
    outln!("partnerdesk {} doctor", env!("CARGO_PKG_VERSION"));
    match config_error {
        Some(e) => r.fail("config", format!("{e} (the other steps use the defaults)")),
        None if ctx.config_path.exists() => r.ok("config", ctx.config_path.display().to_string()),
        None => r.ok(
            "config",
            format!("{} (none; defaults in use)", ctx.config_path.display()),
        ),
    }
    r.ok("logs", ctx.dirs.log_dir().display().to_string());

    let pool = match ctx.settings() {
        Err(e) => {
            r.fail("connection", e.to_string());
            None
        }
        Ok(settings) => match settings.connect(2).await {
            Ok(pool) => {
                r.ok(
                    "connection",
                    format!("{} (from {})", settings.target(), settings.source),
                );
                Some(pool)
            }
            Err(e) => {
                r.fail("connection", e.to_string());
                None
            }
        },
    };

    if let Some(pool) = &pool {
        match sqlx::query_scalar::<_, String>("SELECT current_setting('server_version')")
            .fetch_one(pool)
            .await
        {
            Ok(v) => {
                let major: u32 = v
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(0);
                if major >= 13 {
                    r.ok("server", format!("PostgreSQL {v}"));
                } else {
                    r.fail(
                        "server",
                        format!("PostgreSQL {v}; partnerdesk needs 13 or newer"),
                    );
                }
            }
            Err(e) => r.fail("server", crate::error::DbError::from(e).to_string()),
        }
        let mut schema_ok = false;
        // Suggestions name only commands this session may run; else who may.
        let may_migrate = store::migrate::may_migrate(pool).await.unwrap_or(false);
        let migrate_hint = if may_migrate {
            "run: partnerdesk migrate"
        } else {
            "this connection may not migrate: ask the schema owner to run partnerdesk migrate"
        };
        match store::migrate::status(pool).await {
            Ok((n, _, unknown)) if !unknown.is_empty() => r.fail(
                "migrations",
                format!("{n} applied, but the database also has {unknown:?} which this binary does not know; upgrade partnerdesk"),
            ),
            Ok((n, pending, _)) if pending.is_empty() => {
                schema_ok = true;
                r.ok("migrations", format!("current ({n} applied)"));
            }
            Ok((n, pending, _)) => r.fail(
                "migrations",
                format!("{n} applied, {} pending; {migrate_hint}", pending.len()),
            ),
            Err(e) => r.fail("migrations", e.to_string()),
        }
        let claim = ctx.operator_claim();
        let login = claim.login.clone();
        if schema_ok {
            let mut admin = false;
            match Desk::identify(pool.clone(), &claim, ctx.global.read_only).await {
                Ok(desk) if desk.actor().registered => {
                    let a = desk.actor();
                    admin = !a.read_only && a.may(crate::domain::Permission::ManageOperators);
                    r.ok(
                        "operator",
                        format!(
                            "{} ({}) as {}{}",
                            a.login,
                            a.display_name,
                            a.roles_text(),
                            if a.read_only { ", read-only" } else { "" }
                        ),
                    );
                }
                Ok(desk) => {
                    let login = &desk.actor().login;
                    let first = desk
                        .list_operators()
                        .await
                        .map(|o| o.is_empty())
                        .unwrap_or(false);
                    r.warn(
                        "operator",
                        if first {
                            format!("{login} is not registered and there are no operators yet: the console opens read-only; the first operator must be an admin: partnerdesk operators add {login} --role admin")
                        } else {
                            format!("{login} is not registered: the console opens read-only; an admin can run: partnerdesk operators add {login} --role curator")
                        },
                    )
                }
                Err(e) => r.fail("operator", e.to_string()),
            }
            match Desk::new(pool.clone(), crate::service::Actor::operator(&login, &[])).db_identity().await {
                Ok(id) if id.is_person_login() => r.ok(
                    "identity",
                    format!("database login {}: the operator is that user, with the roles the database grants it ({})", id.user, id.roles.join(", ")),
                ),
                Ok(id) => r.warn(
                    "identity",
                    format!(
                        "self-declared: every operator shares the database user {}{}, so --operator, the config file or $USER can name anyone; \
                         for enforced roles {}",
                        id.user,
                        if id.superuser { " (a superuser)" } else { "" },
                        people_hint(admin, id.roles_set_up, may_migrate),
                    ),
                ),
                Err(e) => r.fail("identity", e.to_string()),
            }
        } else {
            r.warn(
                "operator",
                format!("{login}: not checked until the schema is current"),
            );
        }
    } else {
        r.warn("server", "skipped: no connection");
    }

    let colours = colour_support();
    if std::io::stdout().is_terminal() {
        match crossterm::terminal::size() {
            Ok((w, h)) if w >= 80 && h >= 24 => r.ok("terminal", format!("{w}×{h}, {colours}")),
            Ok((w, h)) => r.warn(
                "terminal",
                format!("{w}×{h} is below 80×24; the console needs at least that, {colours}"),
            ),
            Err(e) => r.warn("terminal", format!("size unknown ({e}), {colours}")),
        }
    } else {
        r.warn(
            "terminal",
            format!("standard output is not a terminal; {colours}"),
        );
    }

    if r.failed {
        outln!("some checks failed");
        Ok(ExitCode::from(exit::FAILURE))
    } else {
        outln!("all checks passed");
        Ok(ExitCode::SUCCESS)
    }
}

/// How to move from self-declared identity to a login per person, in words this session can
/// act on: the command for an admin, who to ask for anyone else.
fn people_hint(admin: bool, roles_set_up: bool, may_migrate: bool) -> String {
    let add = if admin {
        "give each person a login (partnerdesk operators add LOGIN --role ROLE --db-login)"
    } else {
        "an admin gives each person a login (operators add … --db-login)"
    };
    let roles = match (roles_set_up, may_migrate) {
        (true, _) => "",
        (false, true) => {
            "; this database has no roles yet: run partnerdesk migrate (with CREATEROLE) first"
        }
        (false, false) => {
            "; this database has no roles yet: the schema owner needs CREATEROLE and runs partnerdesk migrate"
        }
    };
    format!("{add}{roles}")
}

/// What colours the terminal offers, as far as the environment says.
pub fn colour_support() -> String {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return "no colour (NO_COLOR is set)".into();
    }
    let term = std::env::var("TERM").unwrap_or_default();
    let colorterm = std::env::var("COLORTERM").unwrap_or_default();
    if colorterm.contains("truecolor") || colorterm.contains("24bit") {
        "24-bit colour".into()
    } else if term.contains("256color") {
        "256 colours".into()
    } else if term.is_empty() || term == "dumb" {
        format!(
            "TERM={}: no colour",
            if term.is_empty() { "(unset)" } else { &term }
        )
    } else {
        "16 colours".into()
    }
}
