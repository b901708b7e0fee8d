//! Embedded migrations (`migrations/`), applied by `partnerdesk migrate`, and at start-up only
//! where the connected user owns the schema; everyone else checks the version read-only.

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

/// May the connected user apply migrations? A superuser, or a member of the role that owns
/// `_sqlx_migrations` (or, before the first migration, of the owner of schema `public`), on a
/// connection that may write (not a hot standby, not `default_transaction_read_only`).
pub async fn may_migrate(pool: &PgPool) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT current_setting('transaction_read_only') = 'off' AND (r.rolsuper OR pg_has_role(current_user, coalesce(
                    (SELECT relowner FROM pg_class WHERE oid = to_regclass('_sqlx_migrations')),
                    (SELECT nspowner FROM pg_namespace WHERE nspname = 'public')), 'USAGE'))
           FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(pool)
    .await?)
}

/// Refuses a schema that differs from this binary's migrations, read-only: one line saying
/// what to run.
pub async fn check_current(pool: &PgPool) -> Result<()> {
    let (_, pending, unknown) = match status(pool).await {
        Err(Error::Database(d)) if d.kind == DbErrorKind::Privilege => {
            return Err(no_role(pool).await);
        }
        other => other?,
    };
    let fail = |m: String| Err(Error::Database(DbError::new(DbErrorKind::Migration, m)));
    if !unknown.is_empty() {
        return fail(format!(
            "the database has migration {} which this partnerdesk does not know; upgrade partnerdesk",
            unknown[0]
        ));
    }
    if !pending.is_empty() {
        return fail(format!(
            "the database schema is behind this partnerdesk ({} migration{} pending): the schema owner runs partnerdesk migrate",
            pending.len(),
            if pending.len() == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

/// A login that may not even read the schema's version is in none of this database's groups:
/// say so, and how an admin gives it a role.
async fn no_role(pool: &PgPool) -> Error {
    let who: std::result::Result<(String, String), _> =
        sqlx::query_as("SELECT current_user::text, current_database()::text")
            .fetch_one(pool)
            .await;
    match who {
        Ok((user, db)) => Error::Refused(format!(
            "database login {user} has no partnerdesk role in database {db}: an admin gives it one with `partnerdesk operators add {user} --role ROLE --db-login`"
        )),
        Err(e) => e.into(),
    }
}

/// At start-up: migrates where the connected user owns the schema, else checks read-only.
pub async fn ensure_current(pool: &PgPool) -> Result<()> {
    if may_migrate(pool).await? {
        run(pool).await?;
        Ok(())
    } else {
        check_current(pool).await
    }
}
