//! Embedded migrations (`migrations/`), applied by `partnerdesk migrate` and at start-up.

use crate::error::{DbError, DbErrorKind, Error, Result, describe_migrate};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies every pending migration; returns how many were applied now.
pub async fn run(pool: &PgPool) -> Result<usize> {
    let before = applied_versions(pool).await.unwrap_or_default().len();
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| Error::Database(DbError::new(DbErrorKind::Migration, describe_migrate(&e))))?;
    let after = applied_versions(pool).await?.len();
    Ok(after.saturating_sub(before))
}

/// Versions recorded as applied (empty when the table does not exist yet).
pub async fn applied_versions(pool: &PgPool) -> Result<Vec<i64>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(Vec::new());
    }
    Ok(
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?,
    )
}

/// Versions this binary knows.
pub fn known_versions() -> Vec<i64> {
    MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect()
}

/// (applied and known, pending, unknown to this binary).
pub async fn status(pool: &PgPool) -> Result<(usize, Vec<i64>, Vec<i64>)> {
    let applied = applied_versions(pool).await?;
    let known = known_versions();
    let pending: Vec<i64> = known
        .iter()
        .copied()
        .filter(|v| !applied.contains(v))
        .collect();
    let unknown: Vec<i64> = applied
        .iter()
        .copied()
        .filter(|v| !known.contains(v))
        .collect();
    Ok((applied.len() - unknown.len(), pending, unknown))
}
