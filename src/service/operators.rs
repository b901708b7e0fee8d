//! Operators: register and change roles (admin only; the very first operator bootstraps).

use super::{Desk, record::Change};
use crate::domain::operator::validate_login;
use crate::domain::{Permission, Role, ValidationErrors};
use crate::error::{Error, Result};
use crate::store::{self, operators::Operator};

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
    /// Registers an operator. Needs admin, except for the very first operator of a database.
    pub async fn add_operator(
        &self,
        login: &str,
        display_name: &str,
        roles: &[Role],
    ) -> Result<Operator> {
        check(login, display_name, roles)?;
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
        Change::new(self.actor(), "operator.register", "operator", login)
            .after(&op)
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
        self.actor().require(Permission::ManageOperators)?;
        if roles.is_empty() {
            let mut e = ValidationErrors::new();
            e.push("roles", "at least one of curator, support, finance, admin");
            return Err(e.into());
        }
        let mut tx = self.pool().begin().await?;
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
        let after =
            store::operators::set_roles(&mut tx, login, &role_names(roles), &self.actor().login)
                .await?;
        Change::new(self.actor(), "operator.set_roles", "operator", login)
            .changed(&before, &after)
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
