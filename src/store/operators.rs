//! Operators: the people who use the console.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Operator {
    pub login: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

macro_rules! cols {
    () => {
        "login, display_name, roles, created_at, updated_at, updated_by, version"
    };
}

pub async fn get(conn: &mut PgConnection, login: &str) -> sqlx::Result<Option<Operator>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM operators WHERE login = $1"
    ))
    .bind(login)
    .fetch_optional(conn)
    .await
}

pub async fn get_for_update(
    conn: &mut PgConnection,
    login: &str,
) -> sqlx::Result<Option<Operator>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM operators WHERE login = $1 FOR UPDATE"
    ))
    .bind(login)
    .fetch_optional(conn)
    .await
}

pub async fn list(conn: &mut PgConnection) -> sqlx::Result<Vec<Operator>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM operators ORDER BY login"
    ))
    .fetch_all(conn)
    .await
}

pub async fn count(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM operators")
        .fetch_one(conn)
        .await
}

/// Inserts; `None` when the login exists already.
pub async fn insert(
    conn: &mut PgConnection,
    login: &str,
    display_name: &str,
    roles: &[String],
    by: &str,
) -> sqlx::Result<Option<Operator>> {
    sqlx::query_as(concat!(
        "INSERT INTO operators (login, display_name, roles, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (login) DO NOTHING RETURNING ",
        cols!(),
        ""
    ))
    .bind(login)
    .bind(display_name)
    .bind(roles)
    .bind(by)
    .fetch_optional(conn)
    .await
}

pub async fn set_roles(
    conn: &mut PgConnection,
    login: &str,
    roles: &[String],
    by: &str,
) -> sqlx::Result<Operator> {
    sqlx::query_as(concat!("UPDATE operators SET roles = $2, updated_by = $3, updated_at = now(), version = version + 1
          WHERE login = $1 RETURNING ", cols!(), ""))
    .bind(login)
    .bind(roles)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Who the connected database user is, as far as partnerdesk's roles go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbIdentity {
    /// `current_user`.
    pub user: String,
    pub superuser: bool,
    /// The application roles (`curator`, …, `readonly`) the user is a direct member of
    /// (pg_auth_members): non-empty for a person's database login.
    pub roles: Vec<String>,
    /// Does this database have its group roles (app_roles filled by `migrate`)?
    pub roles_set_up: bool,
}

impl DbIdentity {
    /// A person's own database login: the session acts as this user and no other.
    pub fn is_person_login(&self) -> bool {
        !self.superuser && !self.roles.is_empty()
    }
}

pub async fn db_identity(conn: &mut PgConnection) -> sqlx::Result<DbIdentity> {
    let (user, superuser, roles_set_up): (String, bool, bool) = sqlx::query_as(
        "SELECT current_user::text, r.rolsuper, EXISTS (SELECT FROM app_roles)
           FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await?;
    let roles = db_login_roles(conn, &user).await?;
    Ok(DbIdentity {
        user,
        superuser,
        roles,
        roles_set_up,
    })
}

/// The application roles whose group `login` is a direct member of, in app_roles order.
pub async fn db_login_roles(conn: &mut PgConnection, login: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT a.role FROM app_roles a
           JOIN pg_roles g ON g.rolname = a.pg_role
           JOIN pg_auth_members m ON m.roleid = g.oid
           JOIN pg_roles u ON u.oid = m.member
          WHERE u.rolname = $1
          ORDER BY array_position(ARRAY['curator','support','finance','admin','readonly'], a.role)",
    )
    .bind(login)
    .fetch_all(conn)
    .await
}

/// Creates `login` as a database LOGIN role if missing and makes it a member of exactly the
/// groups of `roles` (the owner's `db_login_set_roles`; only the admin group may call it).
pub async fn set_db_login_roles(
    conn: &mut PgConnection,
    login: &str,
    roles: &[String],
) -> sqlx::Result<()> {
    sqlx::query("SELECT db_login_set_roles($1, $2)")
        .bind(login)
        .bind(roles)
        .execute(conn)
        .await?;
    Ok(())
}

/// Registered admins other than `login`.
pub async fn other_admins(conn: &mut PgConnection, login: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM operators WHERE 'admin' = ANY (roles) AND login <> $1")
        .bind(login)
        .fetch_one(conn)
        .await
}
