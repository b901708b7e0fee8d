//! Vetting check results of partners (SPEC §1.3), kept as an append-only history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

/// The checks, in the order they are run and shown.
pub const CHECK_NAMES: [&str; 4] = ["website", "logo", "email_domain", "duplicate_domain"];

/// One stored result of one check.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq)]
pub struct CheckResult {
    /// `website`, `logo`, `email_domain` or `duplicate_domain`.
    pub check_name: String,
    /// `pass`, `warn` or `fail`.
    pub outcome: String,
    /// One line for the operator.
    pub detail: String,
    /// What the check saw (status, final URL, content type, sizes, …).
    pub data: serde_json::Value,
    pub checked_at: DateTime<Utc>,
    pub checked_by: String,
}

/// A result to store; `checked_at` is the transaction's time, the same for one run.
#[derive(Debug, Clone)]
pub struct NewCheck<'a> {
    pub check_name: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
    pub data: &'a serde_json::Value,
}

pub async fn insert(
    conn: &mut PgConnection,
    partner_id: i64,
    c: &NewCheck<'_>,
    by: &str,
) -> sqlx::Result<CheckResult> {
    sqlx::query_as(
        "INSERT INTO partner_checks (partner_id, check_name, outcome, detail, data, checked_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING check_name, outcome, detail, data, checked_at, checked_by",
    )
    .bind(partner_id)
    .bind(c.check_name)
    .bind(c.outcome)
    .bind(c.detail)
    .bind(c.data)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// The most recent result of each check of a partner, in [`CHECK_NAMES`] order.
pub async fn latest(conn: &mut PgConnection, partner_id: i64) -> sqlx::Result<Vec<CheckResult>> {
    sqlx::query_as(
        "SELECT check_name, outcome, detail, data, checked_at, checked_by
           FROM (SELECT DISTINCT ON (check_name)
                        check_name, outcome, detail, data, checked_at, checked_by
                   FROM partner_checks
                  WHERE partner_id = $1
                  ORDER BY check_name, checked_at DESC, id DESC) latest
          ORDER BY array_position($2::text[], check_name), check_name",
    )
    .bind(partner_id)
    .bind(&CHECK_NAMES[..])
    .fetch_all(conn)
    .await
}
