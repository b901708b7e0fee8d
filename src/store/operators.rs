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
