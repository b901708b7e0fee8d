//! Issue 21: the database holds its own rules, whoever connects. Every attack here runs as a
//! real person's login of the role named (made by `db_login_set_roles`, as `operators add
//! --db-login` does), against a fresh database, and the same logins then run the real flows.
//!
//! Roles are cluster-wide: every login made here has a unique name and is dropped at the end.

#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../support/owed.rs"]
mod owed;

mod audit;
mod batches;
mod changes;
mod grants;
mod money;
mod payouts;
mod refunds;

pub use common::percentage;
use common::{TestDb, active_deal, member};

/// The refusal of one of the schema's own rules (SQLSTATE PDR01), its message.
pub fn rule(got: Result<(), String>) -> String {
    match got {
        Err(e) if e.starts_with("PDR01 ") => e["PDR01 ".len()..].to_owned(),
        other => panic!("expected a rule's refusal (PDR01), got {other:?}"),
    }
}

/// A refusal for want of a privilege (SQLSTATE 42501).
pub fn denied(got: Result<(), String>) -> String {
    match got {
        Err(e) if e.starts_with("42501 ") => e,
        other => panic!("expected permission denied (42501), got {other:?}"),
    }
}

/// A partner with an active deal and a member, made by the owner's admin session.
pub async fn partner_with_deal(db: &TestDb, code: &str) -> (i64, i64, i64) {
    let admin = db.admin().await;
    let deal = active_deal(&admin, code).await;
    let m = member(
        db,
        &format!("m-{}", code.to_lowercase()),
        "public",
        false,
        None,
        &[],
    )
    .await;
    (deal.partner_id, deal.id, m)
}

/// A redemption of `deal` at `at` worth `value` EUR cents, as the platform reported it.
pub async fn redemption(db: &TestDb, deal: i64, member: i64, at: &str, value: i64) -> i64 {
    let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    sqlx::query_scalar(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at,
                value_minor, currency)
         VALUES ($1, $2, 'outbound_click', NULL, $3, $4, 'EUR') RETURNING id",
    )
    .bind(deal)
    .bind(member)
    .bind(at)
    .bind(value)
    .fetch_one(&db.pool)
    .await
    .expect("insert redemption")
}
