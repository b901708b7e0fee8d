//! Operators: who a session is, registering them and changing their roles (admin only; the
//! very first operator bootstraps and must be an admin).
//!
//! Two set-ups. A person's own database login (a member of this database's group roles, made
//! by `operators add --db-login`): the session *is* that user, its roles come from the
//! database (pg_auth_members) and the database refuses whatever they do not allow. A shared
//! login (a laptop, trust auth as the owner): the operator is self-declared (`--operator`, the
//! config file, `$USER`) and looked up in the operators table.

use super::{Actor, Desk, record::Change};
use crate::domain::operator::validate_login;
use crate::domain::{Permission, Role, ValidationErrors};
use crate::error::{Error, Result};
use crate::store::{
    self,
    operators::{DbIdentity, Operator},
};
use sqlx::PgPool;

/// Where the operator's name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimSource {
    /// `--operator`
    Flag,
    /// The config file's `operator`.
    Config,
    /// The OS user (`$USER`): a default, not a claim.
    OsUser,
}

/// The operator a session says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub login: String,
    pub source: ClaimSource,
}

impl Claim {
    /// A name given explicitly (as `--operator` does).
    pub fn named(login: &str) -> Self {
        Self {
            login: login.into(),
            source: ClaimSource::Flag,
        }
    }

    fn source_name(&self) -> Option<&'static str> {
        match self.source {
            ClaimSource::Flag => Some("--operator"),
            ClaimSource::Config => Some("the config file's operator"),
            ClaimSource::OsUser => None,
        }
    }
}

fn role_names(roles: &[Role]) -> Vec<String> {
    let mut r: Vec<Role> = roles.to_vec();
    r.sort();
    r.dedup();
    r.iter().map(|r| r.as_str().to_owned()).collect()
}

fn check(login: &str, display_name: &str, roles: &[Role]) -> Result<()> {
    let mut e = ValidationErrors::new();
    if let Err(rule) = validate_login(login) {
        e.push("login", rule);
    }
    let n = display_name.trim().chars().count();
    use crate::domain::validation::{Lines, no_control};
    no_control(&mut e, "display_name", display_name, Lines::One);
    if n == 0 {
        e.push("display_name", "required");
    } else if n > 255 {
        e.push("display_name", format!("at most 255 characters (got {n})"));
    }
    if roles.is_empty() {
        e.push("roles", "at least one of curator, support, finance, admin");
    }
    Ok(e.into_result(())?)
}

impl Desk {
    /// Who this session is. On a person's database login the operator is that user (another
    /// name given explicitly is refused) with the roles the database grants it; otherwise the
    /// claimed operator is looked up, and an unknown one gets a read-only actor with no roles.
    /// Connects with `settings`, makes sure the schema is current (migrating only where the
    /// connected user owns it) and identifies the operator: what the console and every command
    /// start with.
    pub async fn open(
        settings: &crate::store::DbSettings,
        max_connections: u32,
        claim: &Claim,
        read_only: bool,
    ) -> Result<Self> {
        let pool = settings.connect(max_connections).await?;
        store::migrate::ensure_current(&pool).await?;
        Self::identify(pool, claim, read_only).await
    }

    pub async fn identify(pool: PgPool, claim: &Claim, read_only: bool) -> Result<Self> {
        let mut conn = pool.acquire().await?;
        let id = store::operators::db_identity(&mut conn).await?;
        let actor = if id.is_person_login() {
            if claim.login != id.user
                && let Some(source_name) = claim.source_name()
            {
                return Err(Error::Impersonation {
                    claimed: claim.login.clone(),
                    db_user: id.user,
                    source_name,
                });
            }
            let op = store::operators::get(&mut conn, &id.user).await?;
            let roles: Vec<Role> = id.roles.iter().filter_map(|r| r.parse().ok()).collect();
            let any = !roles.is_empty();
            Actor {
                display_name: op
                    .map(|o| o.display_name)
                    .unwrap_or_else(|| id.user.clone()),
                login: id.user,
                roles,
                registered: any,
                read_only: read_only || !any,
            }
        } else {
            match store::operators::get(&mut conn, &claim.login).await? {
                Some(op) => Actor {
                    login: op.login,
                    display_name: op.display_name,
                    roles: op.roles.iter().filter_map(|r| r.parse().ok()).collect(),
                    registered: true,
                    read_only,
                },
                None => Actor {
                    login: claim.login.clone(),
                    display_name: claim.login.clone(),
                    roles: Vec::new(),
                    registered: false,
                    read_only: true,
                },
            }
        };
        drop(conn);
        Ok(Desk::new(pool, actor))
    }

    /// The connected database user and the roles the database gives it.
    pub async fn db_identity(&self) -> Result<DbIdentity> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::operators::db_identity(&mut conn).await?)
    }

    /// Registers an operator. Needs admin, except for the very first operator of a database,
    /// who must be an admin.
    pub async fn add_operator(
        &self,
        login: &str,
        display_name: &str,
        roles: &[Role],
    ) -> Result<Operator> {
        self.add_operator_with(login, display_name, roles, false)
            .await
    }

    /// Registers an operator; with `db_login`, also gives the person a database LOGIN role
    /// that is a member of the groups of `roles` (created if missing), in the same transaction.
    pub async fn add_operator_with(
        &self,
        login: &str,
        display_name: &str,
        roles: &[Role],
        db_login: bool,
    ) -> Result<Operator> {
        check(login, display_name, roles)?;
        if self.actor().registered {
            // Only an empty table lets an unregistered session bootstrap; a registered one is
            // refused before it locks anything (the database would refuse the lock, too).
            self.actor().require(Permission::ManageOperators)?;
        }
        let mut tx = self.pool().begin().await?;
        // Serialize bootstrap checks so two first operators cannot both skip the admin check.
        sqlx::query("LOCK TABLE operators IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let bootstrap = store::operators::count(&mut tx).await? == 0;
        if !bootstrap {
            self.actor().require(Permission::ManageOperators)?;
        } else if self.actor().read_only && self.actor().registered {
            return Err(Error::ReadOnly {
                action: Permission::ManageOperators.describe(),
            });
        }
        if bootstrap && !roles.contains(&Role::Admin) {
            let mut e = ValidationErrors::new();
            e.push(
                "roles",
                "the first operator of a database must be an admin (add --role admin)",
            );
            return Err(e.into());
        }
        let names = role_names(roles);
        let op = store::operators::insert(
            &mut tx,
            login,
            display_name.trim(),
            &names,
            &self.actor().login,
        )
        .await?
        .ok_or_else(|| Error::AlreadyExists(format!("operator {login} is already registered")))?;
        if db_login {
            store::operators::set_db_login_roles(&mut tx, login, &names).await?;
        }
        Change::new(self.actor(), "operator.register", "operator", login)
            .after(&op)
            .reason(db_login.then_some("with a database login"))
            .no_event()
            .commit(tx)
            .await?;
        Ok(op)
    }

    /// Replaces an operator's roles (admin).
    pub async fn set_operator_roles(
        &self,
        login: &str,
        roles: &[Role],
        expected_version: Option<i32>,
    ) -> Result<Operator> {
        self.set_operator_roles_with(login, roles, expected_version, false)
            .await
    }

    /// Replaces an operator's roles (admin), and the groups of its database login when it has
    /// one (or, with `db_login`, gives it one). The last admin keeps the admin role; the same
    /// roles again write nothing.
    pub async fn set_operator_roles_with(
        &self,
        login: &str,
        roles: &[Role],
        expected_version: Option<i32>,
        db_login: bool,
    ) -> Result<Operator> {
        self.actor().require(Permission::ManageOperators)?;
        if roles.is_empty() {
            let mut e = ValidationErrors::new();
            e.push("roles", "at least one of curator, support, finance, admin");
            return Err(e.into());
        }
        let mut tx = self.pool().begin().await?;
        // Serialize with other role changes, so two admins cannot demote each other at once.
        sqlx::query("LOCK TABLE operators IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let before = store::operators::get_for_update(&mut tx, login)
            .await?
            .ok_or_else(|| Error::not_found("operator", login))?;
        super::check_version(
            "operator",
            login,
            expected_version,
            before.version,
            &before.updated_by,
            before.updated_at,
        )?;
        let names = role_names(roles);
        let mut had: Vec<String> = before.roles.clone();
        had.sort_by_key(|r| r.parse::<Role>().ok());
        had.dedup();
        let mut in_db = store::operators::db_login_roles(&mut tx, login).await?;
        in_db.sort_by_key(|r| r.parse::<Role>().ok());
        let sync_db = db_login || !in_db.is_empty();
        if had == names && (!sync_db || in_db == names) {
            // Nothing to change: no write, no audit row.
            return Ok(before);
        }
        if had.iter().any(|r| r == "admin")
            && !names.iter().any(|r| r == "admin")
            && store::operators::other_admins(&mut tx, login).await? == 0
        {
            return Err(Error::Refused(format!(
                "{login} is the last admin and keeps the admin role: give another operator the admin role first"
            )));
        }
        let after = if had == names {
            before.clone()
        } else {
            store::operators::set_roles(&mut tx, login, &names, &self.actor().login).await?
        };
        if sync_db {
            store::operators::set_db_login_roles(&mut tx, login, &names).await?;
        }
        Change::new(self.actor(), "operator.set_roles", "operator", login)
            .changed(&before, &after)
            .reason(sync_db.then_some("with its database login"))
            .no_event()
            .commit(tx)
            .await?;
        Ok(after)
    }

    pub async fn list_operators(&self) -> Result<Vec<Operator>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::operators::list(&mut conn).await?)
    }

    pub async fn get_operator(&self, login: &str) -> Result<Option<Operator>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::operators::get(&mut conn, login).await?)
    }
}
